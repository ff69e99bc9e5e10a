"""The BLE source: one board over Bluetooth Low Energy behind the :class:`Source` interface.

::

    source = BleSource("Polar H10 A1B2C3D4", "polar", rate=200, range_g=8)
    info = await source.open()        # connect, run the profile's start sequence
    batch = await source.read()       # samples decoded from the notifications so far
    await source.close()

The radio is reached through a :class:`~firmware_bridge.ble_client.BleClient` made by
``client_factory(address_or_name, on_disconnect)`` for every ``open`` (default: bleak;
tests pass :meth:`sim.fake_ble.FakeBleBoard.client_factory`). Notifications are queued by
the client's callback with their arrival time (``clock()``, host epoch seconds) and
decoded in :meth:`BleSource.read`, so decoding never runs inside a radio callback.

Errors: ``open``/``read`` raise :class:`LinkLost` when the board cannot be reached, the
link drops, or no notification came for ``stall_s`` seconds (Polar: up to
:data:`~firmware_bridge.polar_pmd.STARTUP_DELAY_S` after a start command); samples that
arrived before a drop are returned first. Problems that retrying cannot fix propagate
as :class:`~firmware_bridge.errors.ProtocolError`: the board refused the settings
(:class:`~firmware_bridge.errors.ControlPointError`), it lacks the profile's service
(:class:`~firmware_bridge.ble_client.CharacteristicNotFound`), no Bluetooth adapter
(:class:`~firmware_bridge.ble_client.NoBluetoothAdapter`), bad options
(:class:`~firmware_bridge.errors.ConfigurationError`, at construction).
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable

from firmware_bridge.ble_client import (
    BleClient,
    BleLinkError,
    ClientFactory,
    bleak_client_factory,
)
from firmware_bridge.ble_profiles import ProfileDriver, make_driver
from firmware_bridge.errors import ControlPointError
from firmware_bridge.host_clock import steady_time
from firmware_bridge.samples import DecodedBatch, DecoderStats
from firmware_bridge.source import LinkLost, Source, SourceInfo

log = logging.getLogger(__name__)

DEFAULT_STALL_S = 5.0
DEFAULT_READ_WAIT_S = 0.5
CLOSE_TIMEOUT_S = 5.0

_Item = tuple[bytes, float] | None  # a notification and its arrival time; None = wake up


class BleSource(Source):
    """Samples from one BLE board (profile ``polar``, ``microbit``, ``witmotion`` or ``nus``).

    address_or_name : the board's address (``AA:BB:CC:DD:EE:FF``, a macOS device UUID)
        or its advertised name (``"Polar H10 A1B2C3D4"``).
    rate, range_g : Hz and ±g asked of the board; ``None`` = the profile default (see
        :func:`~firmware_bridge.ble_profiles.make_driver`).
    client_factory : makes a fresh :class:`BleClient` per ``open``.
    clock : host time of a notification's arrival (epoch seconds; the steady clock of
        :mod:`firmware_bridge.host_clock`, which a step of the computer's clock does not move).
    stall_s : a started stream silent this long (s, loop time) counts as a lost link.
    read_wait_s : how long :meth:`read` waits for the first notification before
        returning an empty batch.
    polar_model, text_format, witmotion_rate_code : profile options (``make_driver``).
    """

    def __init__(
        self,
        address_or_name: str,
        profile: str,
        rate: float | None = None,
        range_g: float | None = None,
        *,
        client_factory: ClientFactory = bleak_client_factory,
        clock: Callable[[], float] = steady_time,
        stall_s: float = DEFAULT_STALL_S,
        read_wait_s: float = DEFAULT_READ_WAIT_S,
        polar_model: str = "auto",
        text_format: str = "auto",
        witmotion_rate_code: int | None = None,
    ) -> None:
        self.target = address_or_name
        self.profile = profile
        self.driver: ProfileDriver = make_driver(
            profile,
            rate,
            range_g,
            polar_model=polar_model,
            text_format=text_format,
            witmotion_rate_code=witmotion_rate_code,
        )
        self.client_factory = client_factory
        self.clock = clock
        self.stall_s = stall_s
        self.read_wait_s = read_wait_s
        self.description = f"ble:{address_or_name} ({profile})"
        self.client: BleClient | None = None
        self.opens = 0
        self.restarts = 0
        self._generation = 0
        self._queue: asyncio.Queue[_Item] = asyncio.Queue()
        self._lost: str | None = None
        self._last_data = 0.0
        self._allow_s = stall_s

    @property
    def startup_s(self) -> float:
        """Seconds a freshly started stream may stay silent (Polar: 30 s; others: 0).

        A consumer with its own no-data watchdog should allow this much after ``open``.
        """
        return self.driver.startup_s

    @property
    def stats(self) -> DecoderStats:
        """The decoder's counters (kept across reconnects)."""
        return self.driver.decoder.stats

    # -- callbacks (run in the client's context: only queue, never decode)
    def _on_data(self, generation: int, data: bytes) -> None:
        if generation == self._generation:
            self._queue.put_nowait((bytes(data), self.clock()))

    def _on_disconnect(self, generation: int) -> None:
        if generation == self._generation and self._lost is None:
            log.warning("%s: link dropped", self.description)
            self._lost = "the board disconnected"
            self._queue.put_nowait(None)

    def _wake(self) -> None:
        self._queue.put_nowait(None)

    def _loop_time(self) -> float:
        return asyncio.get_running_loop().time()

    # -- Source
    async def open(self) -> SourceInfo:
        """Connect and start streaming (re-callable after :meth:`close` or a drop)."""
        await self.close()
        self._generation += 1
        gen = self._generation
        self._queue = asyncio.Queue()
        self._lost = None
        self.opens += 1
        client = self.client_factory(self.target, lambda: self._on_disconnect(gen))
        self.client = client
        try:
            await client.connect()
            self.driver.decoder.reset()
            extra = await self.driver.start(
                client, lambda data: self._on_data(gen, data), self._wake
            )
        except BleLinkError as exc:
            await self.close()
            raise LinkLost(f"{self.description}: {exc}") from exc
        except BaseException:
            await self.close()
            raise
        if self._lost is not None:
            reason = self._lost
            await self.close()
            raise LinkLost(f"{self.description}: {reason} while starting")
        self._last_data = self._loop_time()
        self._allow_s = max(self.stall_s, self.driver.startup_s)
        facts = {"address": client.address, "transport": "ble"}
        if client.name:
            facts["name"] = client.name
        facts.update(extra)
        log.info("%s: streaming at %g Hz (%s)", self.description, self.driver.rate_hz, facts)
        return SourceInfo(
            device=client.name or client.address,
            profile=self.profile,
            rate_hz=self.driver.rate_hz,
            range_g=self.driver.range_g,
            extra=facts,
        )

    async def _restart(self, client: BleClient) -> None:
        self.restarts += 1
        try:
            await self.driver.restart(client)
        except (BleLinkError, ControlPointError) as exc:
            raise LinkLost(f"{self.description}: restarting the stream failed: {exc}") from exc
        self._last_data = self._loop_time()
        self._allow_s = max(self.stall_s, self.driver.startup_s)

    async def read(self) -> DecodedBatch:
        """Samples decoded from the notifications queued so far (waits up to
        ``read_wait_s`` for the first); raises :class:`LinkLost`."""
        client = self.client
        if client is None:
            raise LinkLost(f"{self.description}: not open")
        if self._lost is None and self.driver.restart_needed:
            await self._restart(client)
        items: list[_Item] = []
        if self._queue.empty() and self._lost is None:
            try:
                items.append(await asyncio.wait_for(self._queue.get(), self.read_wait_s))
            except TimeoutError:
                pass
        while not self._queue.empty():
            items.append(self._queue.get_nowait())
        batches = []
        decoder = self.driver.decoder
        for item in items:
            if item is None:
                continue
            data, arrival = item
            self._last_data = self._loop_time()
            self._allow_s = self.stall_s
            batch = decoder.feed(data, arrival)
            if len(batch):
                batches.append(batch)
        if batches:
            return DecodedBatch.concat(batches)
        if self._lost is not None:
            raise LinkLost(f"{self.description}: {self._lost}")
        if self.driver.restart_needed:
            await self._restart(client)
        silent = self._loop_time() - self._last_data
        if silent > self._allow_s:
            self._lost = f"no data for {silent:.1f} s"
            raise LinkLost(f"{self.description}: {self._lost}")
        return DecodedBatch.empty()

    async def close(self) -> None:
        """Stop the stream (best effort) and disconnect; safe to call at any time."""
        client, self.client = self.client, None
        self._generation += 1  # late callbacks of this client are ignored
        if client is None:
            return
        try:
            if client.is_connected:
                await asyncio.wait_for(self.driver.stop(client), CLOSE_TIMEOUT_S)
        except Exception as exc:  # the link may already be gone
            log.debug("%s: stop: %s", self.description, exc)
        try:
            await asyncio.wait_for(client.disconnect(), CLOSE_TIMEOUT_S)
        except Exception as exc:
            log.debug("%s: disconnect: %s", self.description, exc)
