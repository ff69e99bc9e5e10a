"""BLE board profiles: GATT UUIDs, the start sequence and the decoder of each board family.

==============  =================================  ===========================================
profile         boards                             start sequence (after connecting)
==============  =================================  ===========================================
``polar``       Polar H10, Verity Sense (PMD)      notify control point, notify data, write
                                                   the start command, check the ``F0``
                                                   response status; an unprompted ``01 02``
                                                   (stream stopped) re-sends the start
``microbit``    BBC micro:bit accelerometer svc    write the period, read it back, notify data
``witmotion``   WitMotion WT901BLE / BLE 5.0       (rate given: unlock + rate command), notify
``nus``         any board sending text lines over  notify TX
                Nordic UART (Puck.js, Bluefruit,
                ESP32/nRF sketches)
==============  =================================  ===========================================

A :class:`ProfileDriver` is made per :class:`~firmware_bridge.ble_source.BleSource`
(:func:`make_driver`) and keeps its decoder across reconnects (``decoder.reset()`` is
called on every ``open``). Bytes and facts come from ``PROTOCOLS.md``.
"""

from __future__ import annotations

import asyncio
import logging
import math
from abc import ABC, abstractmethod
from collections.abc import Callable
from dataclasses import dataclass
from typing import Protocol

from firmware_bridge.ble_client import BleClient, BleLinkError, NotifyCallback
from firmware_bridge.errors import ConfigurationError, FrameError
from firmware_bridge.microbit import (
    MICROBIT_ACC_DATA_UUID,
    MICROBIT_ACC_PERIOD_UUID,
    MICROBIT_ACC_SERVICE_UUID,
    MICROBIT_PERIODS_MS,
    MicrobitAccDecoder,
    decode_period,
    encode_period,
)
from firmware_bridge.nus import NUS_RX_UUID, NUS_SERVICE_UUID, NUS_TX_UUID, NusDecoder
from firmware_bridge.polar_pmd import (
    H10_ACC_RANGES_G,
    H10_ACC_RATES,
    PMD_CONTROL_UUID,
    PMD_DATA_UUID,
    PMD_SERVICE_UUID,
    STARTUP_DELAY_S,
    PmdAccDecoder,
    PmdAccSettings,
    PmdMeasurement,
    PmdResponse,
    PmdSetting,
    PmdStreamStopped,
    parse_control_point,
    parse_pmd_settings,
    pmd_start_command,
    pmd_stop_command,
)
from firmware_bridge.samples import DecodedBatch, DecoderStats
from firmware_bridge.witmotion import (
    UNLOCK_COMMAND,
    WITMOTION_BLE_NOTIFY_UUID,
    WITMOTION_BLE_SERVICE_UUID,
    WITMOTION_BLE_WRITE_UUID,
    WitmotionBleDecoder,
    rate_command,
)

log = logging.getLogger(__name__)

PROFILE_NAMES = ("polar", "microbit", "witmotion", "nus")

#: WitMotion BLE 5.0 family (WT901BLECL, BWT901BLE5.0) rate codes of
#: register 0x03, Hz -> code. Other models differ: pass ``witmotion_rate_code``.
WITMOTION_BLE_RATE_CODES: dict[float, int] = {
    0.1: 0x01,
    0.5: 0x02,
    1.0: 0x03,
    2.0: 0x04,
    5.0: 0x05,
    10.0: 0x06,
    20.0: 0x07,
    50.0: 0x08,
    100.0: 0x09,
    200.0: 0x0A,
}
WITMOTION_DEFAULT_RATE_HZ = 10.0
WITMOTION_RANGE_G = 16.0
MICROBIT_DEFAULT_PERIOD_MS = 20
NUS_DEFAULT_RATE_HZ = 50.0
POLAR_RESPONSE_TIMEOUT_S = 10.0
POLAR_ALREADY_IN_STATE = 6


class Decoder(Protocol):
    """What every :mod:`firmware_bridge` decoder offers."""

    stats: DecoderStats

    def feed(self, data: bytes, arrival_time: float | None = None) -> DecodedBatch:
        """Decode bytes (one notification)."""
        ...

    def reset(self) -> None:
        """Forget partial frames and clocks."""
        ...


@dataclass(frozen=True)
class ProfileSpec:
    """Static facts of a profile.

    service_uuid : the GATT service (also what some boards advertise).
    data_uuid : the characteristic the samples arrive on.
    name_prefixes : advertised-name prefixes recognised by ``jerkcount scan``.
    title : human-readable board family.
    not_prefixes : advertised-name prefixes of boards that share the service but send
        no acceleration (never recognised, whatever they advertise).
    """

    name: str
    title: str
    service_uuid: str
    data_uuid: str
    name_prefixes: tuple[str, ...]
    not_prefixes: tuple[str, ...] = ()


PROFILES: dict[str, ProfileSpec] = {
    "polar": ProfileSpec(
        "polar",
        "Polar H10 / Verity Sense",
        PMD_SERVICE_UUID,
        PMD_DATA_UUID,
        ("Polar H10", "Polar Sense", "Polar Verity", "Polar OH1"),
    ),
    "microbit": ProfileSpec(
        "microbit",
        "BBC micro:bit",
        MICROBIT_ACC_SERVICE_UUID,
        MICROBIT_ACC_DATA_UUID,
        ("BBC micro:bit",),
    ),
    "witmotion": ProfileSpec(
        "witmotion",
        "WitMotion WT901BLE",
        WITMOTION_BLE_SERVICE_UUID,
        WITMOTION_BLE_NOTIFY_UUID,
        ("WT901BLE", "WT9011", "BWT901", "WT5"),
        # WTVB01-BT50 and kin: vibration sensors whose 28-byte 55 61 packets carry
        # vibration speed (mm/s), angle, displacement and frequency, not acceleration
        ("WTVB",),
    ),
    "nus": ProfileSpec(
        "nus",
        "Nordic UART text (Puck.js, Bluefruit, ESP32/nRF)",
        NUS_SERVICE_UUID,
        NUS_TX_UUID,
        ("Puck.js", "Bangle.js", "Pixl.js", "MDBT42Q", "Adafruit Bluefruit", "CIRCUITPY"),
    ),
}


def profile_spec(name: str) -> ProfileSpec:
    """The :class:`ProfileSpec` of ``name``; raises :class:`ConfigurationError`."""
    try:
        return PROFILES[name]
    except KeyError:
        raise ConfigurationError(
            f"unknown BLE profile {name!r}: choose one of {', '.join(PROFILE_NAMES)}"
        ) from None


class ProfileDriver(ABC):
    """Start sequence and decoder of one profile (one per :class:`BleSource`).

    ``rate_hz``/``range_g`` are the nominal settings (updated by ``start`` from what the
    board reports); ``startup_s`` is how long a freshly started stream may stay silent
    before that counts as a stall; ``restart_needed`` is set when the board stopped the
    stream on its own and :meth:`restart` must be awaited.
    """

    spec: ProfileSpec
    decoder: Decoder
    rate_hz: float
    range_g: float | None = None
    startup_s: float = 0.0
    restart_needed: bool = False

    @abstractmethod
    async def start(
        self, client: BleClient, on_data: NotifyCallback, wake: Callable[[], None]
    ) -> dict[str, str]:
        """Configure the connected board and start streaming to ``on_data``.

        ``wake()`` is called when the driver needs the source's attention (a
        :attr:`restart_needed`). Returns ``key -> value`` facts for the recording
        metadata. Raises :class:`BleLinkError` (link), :class:`ProtocolError` (board
        refused: not worth retrying).
        """

    async def restart(self, client: BleClient) -> None:
        """Resume a stream the board stopped on its own (default: nothing to do)."""
        self.restart_needed = False

    async def stop(self, client: BleClient) -> None:
        """Ask the board to stop streaming (best effort, before disconnecting).

        Default: nothing to send (the stream ends with the connection)."""
        del client


# --------------------------------------------------------------------------- Polar


class PolarDriver(ProfileDriver):
    """Polar PMD accelerometer: H10 (25/50/100/200 Hz, ±2/4/8 g) or Verity Sense (52 Hz).

    ``model``: ``"h10"``, ``"verity"`` or ``"auto"`` (Verity Sense when the rate is 52 Hz
    or the board's name contains "Sense", else H10).
    """

    spec = PROFILES["polar"]

    def __init__(
        self,
        rate: float | None = None,
        range_g: float | None = None,
        *,
        model: str = "auto",
        response_timeout_s: float = POLAR_RESPONSE_TIMEOUT_S,
    ) -> None:
        if model not in ("auto", "h10", "verity"):
            raise ConfigurationError(f"Polar model must be auto, h10 or verity, got {model!r}")
        self.model = model
        self.requested_rate = rate
        self.requested_range = range_g
        self.response_timeout_s = response_timeout_s
        self.startup_s = STARTUP_DELAY_S
        self.settings = self._settings(None)
        self.rate_hz = float(self.settings.sample_rate)
        self.range_g = float(self.settings.range_g)
        self.decoder: PmdAccDecoder = PmdAccDecoder(self.rate_hz)
        self._responses: asyncio.Queue[PmdResponse] = asyncio.Queue()
        self._wake: Callable[[], None] = lambda: None

    def _settings(self, board_name: str | None) -> PmdAccSettings:
        verity = self.model == "verity" or (
            self.model == "auto"
            and (self.requested_rate == 52 or "sense" in (board_name or "").lower())
        )
        rng = 8 if self.requested_range is None else _as_int(self.requested_range, "range")
        if verity:
            rate = 52 if self.requested_rate is None else _as_int(self.requested_rate, "rate")
            return PmdAccSettings.verity_sense(rate, rng)
        rate = 200 if self.requested_rate is None else _as_int(self.requested_rate, "rate")
        if rate not in H10_ACC_RATES or rng not in H10_ACC_RANGES_G:
            raise ConfigurationError(
                f"Polar H10 accelerometer: rate one of {H10_ACC_RATES} Hz and range one of "
                f"{H10_ACC_RANGES_G} g, got {rate} Hz ±{rng} g"
            )
        return PmdAccSettings.h10(rate, rng)

    @property
    def start_command(self) -> bytes:
        """The start command for the current settings."""
        return pmd_start_command(self.settings)

    def _on_control(self, data: bytes) -> None:
        try:
            msg = parse_control_point(data)
        except FrameError as exc:
            log.warning("Polar control point: %s", exc)
            return
        if isinstance(msg, PmdResponse):
            self._responses.put_nowait(msg)
        elif isinstance(msg, PmdStreamStopped):
            if msg.measurement_type == PmdMeasurement.ACC:
                log.warning("Polar stopped the accelerometer stream on its own: restarting")
                self.restart_needed = True
                self._wake()
        else:
            log.debug("Polar control point message ignored: %r", msg)

    async def _command(self, client: BleClient, command: bytes) -> PmdResponse:
        """Write a command and wait for its ``F0`` response (status not checked)."""
        while not self._responses.empty():  # a late reply to an earlier command
            self._responses.get_nowait()
        await client.write(PMD_CONTROL_UUID, command, response=True)
        deadline = asyncio.get_running_loop().time() + self.response_timeout_s
        while True:
            left = deadline - asyncio.get_running_loop().time()
            if left <= 0 or not client.is_connected:
                raise BleLinkError(
                    f"no reply from the Polar control point to {command.hex(' ')} "
                    f"within {self.response_timeout_s:g} s"
                )
            try:
                resp = await asyncio.wait_for(self._responses.get(), min(left, 0.5))
            except TimeoutError:
                continue
            if resp.opcode == command[0]:
                return resp

    async def _start_stream(self, client: BleClient) -> PmdResponse:
        resp = await self._command(client, self.start_command)
        if resp.status == POLAR_ALREADY_IN_STATE:
            log.info("Polar stream already running: stopping and starting it again")
            await self._command(client, pmd_stop_command())
            resp = await self._command(client, self.start_command)
        resp.raise_for_status()
        factor = parse_pmd_settings(resp.params).get(PmdSetting.FACTOR)
        if factor:
            self.decoder.factor = float(factor[0])
        return resp

    async def start(
        self, client: BleClient, on_data: NotifyCallback, wake: Callable[[], None]
    ) -> dict[str, str]:
        self._wake = wake
        self._responses = asyncio.Queue()
        self.restart_needed = False
        self.settings = self._settings(client.name)
        self.rate_hz = float(self.settings.sample_rate)
        self.range_g = float(self.settings.range_g)
        self.decoder.sample_rate = self.rate_hz
        # Both before the command, or the board never answers.
        await client.start_notify(PMD_CONTROL_UUID, self._on_control)
        await client.start_notify(PMD_DATA_UUID, on_data)
        await self._start_stream(client)
        return {
            "model": "verity_sense" if self.settings.channels else "h10",
            "start_command": self.start_command.hex(" "),
            "resolution_bits": str(self.settings.resolution),
        }

    async def restart(self, client: BleClient) -> None:
        self.restart_needed = False
        await self._start_stream(client)

    async def stop(self, client: BleClient) -> None:
        if client.is_connected:
            await client.write(PMD_CONTROL_UUID, pmd_stop_command(), response=True)


# ------------------------------------------------------------------------- micro:bit


class MicrobitDriver(ProfileDriver):
    """micro:bit accelerometer service: period = round(1000 / rate) ms (1, 2, 5, 10, 20,
    80, 160 or 640), written then read back (the board's value wins)."""

    spec = PROFILES["microbit"]

    def __init__(self, rate: float | None = None, range_g: float | None = None) -> None:
        if rate is None:
            period = MICROBIT_DEFAULT_PERIOD_MS
        else:
            if not rate > 0:
                raise ConfigurationError(f"rate must be > 0 Hz, got {rate}")
            period = round(1000.0 / rate)
            if period not in MICROBIT_PERIODS_MS:
                rates = ", ".join(f"{1000 / p:g}" for p in MICROBIT_PERIODS_MS)
                raise ConfigurationError(
                    f"micro:bit accelerometer rates are {rates} Hz, got {rate:g} Hz"
                )
        if range_g is not None:
            log.warning("the micro:bit accelerometer service cannot set the range: ignored")
        self.period_ms = period
        self.rate_hz = 1000.0 / period
        self.range_g = None
        self.decoder: MicrobitAccDecoder = MicrobitAccDecoder(period)

    async def start(
        self, client: BleClient, on_data: NotifyCallback, wake: Callable[[], None]
    ) -> dict[str, str]:
        await client.write(MICROBIT_ACC_PERIOD_UUID, encode_period(self.period_ms), True)
        try:
            actual = decode_period(await client.read(MICROBIT_ACC_PERIOD_UUID))
            self.decoder.set_period(actual)
        except (FrameError, ConfigurationError) as exc:
            raise FrameError(f"micro:bit reported an invalid period: {exc}") from exc
        if actual != self.period_ms:
            log.warning("micro:bit runs at %d ms, not the %d ms asked for", actual, self.period_ms)
        self.rate_hz = 1000.0 / actual
        await client.start_notify(MICROBIT_ACC_DATA_UUID, on_data)
        return {"period_ms": str(actual)}


# ------------------------------------------------------------------------- WitMotion


class WitmotionDriver(ProfileDriver):
    """WitMotion BLE: 20-byte ``55 61`` packets on ``ffe4``. When a rate is given, sends
    unlock + ``FF AA 03 code 00`` (BLE 5.0 family codes, or ``rate_code``) to ``ffe9``
    first (not saved to flash: re-sent on every connect). Range fixed at ±16 g."""

    spec = PROFILES["witmotion"]

    def __init__(
        self,
        rate: float | None = None,
        range_g: float | None = None,
        *,
        rate_code: int | None = None,
    ) -> None:
        if range_g is not None and range_g != WITMOTION_RANGE_G:
            log.warning("WitMotion BLE packets always scale to ±16 g: range ignored")
        self.rate_code = rate_code
        if rate is not None and rate_code is None:
            code = WITMOTION_BLE_RATE_CODES.get(float(rate))
            if code is None:
                raise ConfigurationError(
                    f"WitMotion BLE rates are {sorted(WITMOTION_BLE_RATE_CODES)} Hz, got {rate:g}"
                    " (or pass the model's rate code)"
                )
            self.rate_code = code
        self.rate_hz = float(WITMOTION_DEFAULT_RATE_HZ if rate is None else rate)
        self.range_g = WITMOTION_RANGE_G
        self.decoder: WitmotionBleDecoder = WitmotionBleDecoder(self.rate_hz)

    async def start(
        self, client: BleClient, on_data: NotifyCallback, wake: Callable[[], None]
    ) -> dict[str, str]:
        name = client.name or ""
        if any(name.startswith(p) for p in self.spec.not_prefixes):
            log.warning(
                "%s is a WitMotion vibration sensor: it sends vibration speed, not "
                "acceleration, and its samples will be wrong",
                name,
            )
        if self.rate_code is not None:
            await client.write(WITMOTION_BLE_WRITE_UUID, UNLOCK_COMMAND, response=False)
            await client.write(WITMOTION_BLE_WRITE_UUID, rate_command(self.rate_code), False)
        await client.start_notify(WITMOTION_BLE_NOTIFY_UUID, on_data)
        return {} if self.rate_code is None else {"rate_code": f"0x{self.rate_code:02x}"}


# ------------------------------------------------------------------------------- NUS


class NusDriver(ProfileDriver):
    """Nordic UART Service text lines: just notifications on TX. ``rate`` is the rate the
    board sends at (spacing of arrival stamps when the lines carry no time column);
    ``text_format`` as in :mod:`firmware_bridge.serial_text` (default ``auto``)."""

    spec = PROFILES["nus"]
    rx_uuid = NUS_RX_UUID

    def __init__(
        self, rate: float | None = None, range_g: float | None = None, *, text_format: str = "auto"
    ) -> None:
        self.rate_hz = float(NUS_DEFAULT_RATE_HZ if rate is None else rate)
        if not (self.rate_hz > 0 and math.isfinite(self.rate_hz)):
            raise ConfigurationError(f"rate must be > 0 Hz, got {rate}")
        self.range_g = None if range_g is None else float(range_g)
        self.text_format = text_format
        self.decoder: NusDecoder = NusDecoder(self.rate_hz, text_format)

    async def start(
        self, client: BleClient, on_data: NotifyCallback, wake: Callable[[], None]
    ) -> dict[str, str]:
        await client.start_notify(NUS_TX_UUID, on_data)
        return {"text_format": self.text_format}


def _as_int(value: float, what: str) -> int:
    if float(value) != int(value):
        raise ConfigurationError(f"Polar {what} must be a whole number, got {value}")
    return int(value)


def make_driver(
    profile: str,
    rate: float | None = None,
    range_g: float | None = None,
    *,
    polar_model: str = "auto",
    text_format: str = "auto",
    witmotion_rate_code: int | None = None,
) -> ProfileDriver:
    """A fresh :class:`ProfileDriver` for ``profile`` (see the module table).

    rate : Hz, ``None`` for the profile default (Polar H10 200, Verity 52, micro:bit 50,
        WitMotion 10 = leave the board as it is, NUS 50). range_g : ±g (Polar only).
    Raises :class:`ConfigurationError` on an unknown profile or unsupported setting.
    """
    profile_spec(profile)
    if profile == "polar":
        return PolarDriver(rate, range_g, model=polar_model)
    if profile == "microbit":
        return MicrobitDriver(rate, range_g)
    if profile == "witmotion":
        return WitmotionDriver(rate, range_g, rate_code=witmotion_rate_code)
    return NusDriver(rate, range_g, text_format=text_format)


__all__ = [
    "PROFILES",
    "PROFILE_NAMES",
    "WITMOTION_BLE_RATE_CODES",
    "Decoder",
    "MicrobitDriver",
    "NusDriver",
    "PolarDriver",
    "ProfileDriver",
    "ProfileSpec",
    "WitmotionDriver",
    "make_driver",
    "profile_spec",
]
