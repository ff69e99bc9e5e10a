"""USB serial source (pyserial): a port (or pty) -> a byte decoder -> :class:`DecodedBatch`.

``--source serial:PORT[@BAUD]`` with ``--protocol witmotion`` or ``text[:OPTIONS]``
(OPTIONS: a :mod:`firmware_bridge.serial_text` format, e.g. ``csv-ms`` or
``delim=tab,cols=ax/ay/az,unit=4096``; ``text`` alone recognises the format).

Blocking reads run in a worker thread (:func:`asyncio.to_thread`) with a short timeout;
bytes are fed to the decoder with ``arrival_time = time.time()``. An unplugged port
(``SerialException``/``OSError``, a pty whose board side closed) or no bytes at all for
``stall_s`` seconds raises :class:`~firmware_bridge.source.LinkLost`. ``open`` re-opens
the port by path each time (follow a symlink that a board re-appears under), resets
the decoder and sends ``start_command`` if any.
"""

from __future__ import annotations

import asyncio
import errno
import logging
import time
from dataclasses import dataclass

import serial

from firmware_bridge.errors import ConfigurationError
from firmware_bridge.samples import DecodedBatch, DecoderStats
from firmware_bridge.serial_text import SerialTextDecoder, parse_text_format
from firmware_bridge.source import LinkLost, Source, SourceInfo
from firmware_bridge.witmotion import WitmotionSerialDecoder

log = logging.getLogger(__name__)

DEFAULT_BAUD = {"witmotion": 9600, "text": 115200}
DEFAULT_RATE_HZ = {"witmotion": 10.0, "text": 100.0}
WITMOTION_RANGE_G = 16.0


#: What a failed open means to the person at the board, by errno.
_OPEN_PROBLEMS = {
    errno.ENOENT: "no such port (is the board plugged in? `jerkcount scan` lists the ports)",
    errno.EACCES: "permission denied (on Linux: add yourself to the dialout group, log in again)",
    errno.EBUSY: "the port is busy (another program has it open)",
}


def open_problem(err: BaseException) -> str:
    """Why opening a serial port failed, in one short phrase: the plain reason for a
    missing port, a permission or a busy port, else pyserial's own message."""
    code = getattr(err, "errno", None)
    if code in _OPEN_PROBLEMS:
        return _OPEN_PROBLEMS[code]
    return str(err)


@dataclass(frozen=True)
class SerialTarget:
    """``serial:PORT[@BAUD]`` parsed: port path, baud (``None``: the protocol's default)."""

    port: str
    baud: int | None = None

    @classmethod
    def parse(cls, text: str) -> SerialTarget:
        """Parse ``PORT[@BAUD]`` (without the ``serial:`` prefix)."""
        port, sep, baud = text.rpartition("@")
        if not sep:
            port, baud = text, ""
        if not port:
            raise ConfigurationError(f"no serial port in {text!r} (serial:/dev/ttyUSB0@115200)")
        if baud and not baud.isdigit():
            raise ConfigurationError(f"baud must be a whole number, got {baud!r}")
        return cls(port, int(baud) if baud else None)


@dataclass(frozen=True)
class SerialProtocol:
    """``--protocol`` parsed: ``witmotion`` or ``text`` with text-format options."""

    name: str
    text_format: str = "auto"

    @classmethod
    def parse(cls, text: str) -> SerialProtocol:
        name, _, opts = text.partition(":")
        name = name.strip().lower()
        if name == "witmotion":
            if opts:
                raise ConfigurationError("the witmotion protocol takes no options")
            return cls("witmotion")
        if name == "text":
            fmt = opts.strip() or "auto"
            parse_text_format(fmt)  # validates
            return cls("text", fmt)
        raise ConfigurationError(f"unknown serial protocol {text!r}: witmotion or text[:OPTIONS]")

    def decoder(self, rate_hz: float) -> WitmotionSerialDecoder | SerialTextDecoder:
        if self.name == "witmotion":
            return WitmotionSerialDecoder(rate_hz)
        return SerialTextDecoder(rate_hz, self.text_format)

    @property
    def profile(self) -> str:
        return "witmotion-serial" if self.name == "witmotion" else f"text:{self.text_format}"


class SerialSource(Source):
    """A serial port read through a byte decoder (see the module docstring).

    rate_hz : nominal sample rate (Hz): the arrival-stamp spacing of protocols without a
        time column, and the rate written to the metadata.
    stall_s : no bytes for this long (s) -> :class:`LinkLost`.
    read_timeout_s : longest blocking read (s); ``read`` returns at least this often.
    start_command : bytes written after opening (``None``: nothing).
    """

    def __init__(
        self,
        target: SerialTarget,
        protocol: SerialProtocol,
        rate_hz: float | None = None,
        stall_s: float = 5.0,
        read_timeout_s: float = 0.2,
        start_command: bytes | None = None,
    ) -> None:
        self.target = target
        self.protocol = protocol
        self.baud = target.baud or DEFAULT_BAUD[protocol.name]
        self.rate_hz = float(rate_hz or DEFAULT_RATE_HZ[protocol.name])
        self.stall_s = stall_s
        self.read_timeout_s = read_timeout_s
        self.start_command = start_command
        self.decoder = protocol.decoder(self.rate_hz)
        self.description = f"serial port {target.port}"
        self._port: serial.Serial | None = None
        self._last_bytes = 0.0

    @property
    def stats(self) -> DecoderStats:
        """The decoder's counters (bytes, samples, bad and skipped messages...)."""
        return self.decoder.stats

    def _open_blocking(self) -> serial.Serial:
        port = serial.Serial(self.target.port, self.baud, timeout=self.read_timeout_s)
        if self.start_command:
            port.write(self.start_command)
            port.flush()
        return port

    async def open(self) -> SourceInfo:
        await self.close()
        try:
            self._port = await asyncio.to_thread(self._open_blocking)
        except (serial.SerialException, OSError) as err:
            raise LinkLost(f"cannot open {self.target.port}: {open_problem(err)}") from err
        self.decoder.reset()
        self._last_bytes = time.monotonic()
        log.info("opened %s at %d baud (%s)", self.target.port, self.baud, self.protocol.profile)
        range_g = WITMOTION_RANGE_G if self.protocol.name == "witmotion" else None
        return SourceInfo(
            device=f"serial:{self.target.port}",
            profile=self.protocol.profile,
            rate_hz=self.rate_hz,
            range_g=range_g,
            extra={"baud": str(self.baud)},
        )

    def _read_blocking(self) -> bytes:
        port = self._port
        if port is None:
            raise LinkLost("port not open")
        waiting = port.in_waiting
        return bytes(port.read(max(1, min(waiting, 65536))))

    async def read(self) -> DecodedBatch:
        if self._port is None:
            raise LinkLost("port not open")
        try:
            data = await asyncio.to_thread(self._read_blocking)
        except (serial.SerialException, OSError) as err:
            raise LinkLost(f"{self.target.port}: {err}") from err
        now = time.monotonic()
        if not data:
            if now - self._last_bytes >= self.stall_s:
                raise LinkLost(f"{self.target.port}: no data for {now - self._last_bytes:.1f} s")
            return DecodedBatch.empty()
        self._last_bytes = now
        return self.decoder.feed(data, time.time())

    async def close(self) -> None:
        port, self._port = self._port, None
        if port is not None:
            try:
                await asyncio.to_thread(port.close)
            except (serial.SerialException, OSError) as err:
                log.debug("closing %s: %s", self.target.port, err)
