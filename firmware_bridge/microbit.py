"""BBC micro:bit accelerometer service over BLE.

GATT: service :data:`MICROBIT_ACC_SERVICE_UUID`; data :data:`MICROBIT_ACC_DATA_UUID`
(read, notify); period :data:`MICROBIT_ACC_PERIOD_UUID` (read/write u16 LE ms, one of
:data:`MICROBIT_PERIODS_MS`; read it back after writing: the board may round it).
The service exists only if the micro:bit program enables it; pairing may be required.

Data notification, 6 bytes::

    x int16 LE | y int16 LE | z int16 LE      milli-g

Frames carry no time stamp or sequence number: samples are stamped on arrival with
the period as spacing (:class:`~firmware_bridge.samples.ArrivalClock`).
"""

from __future__ import annotations

import logging
import struct

import numpy as np

from firmware_bridge.errors import ConfigurationError, FrameError
from firmware_bridge.samples import ArrivalClock, DecodedBatch, DecoderStats

log = logging.getLogger(__name__)

MICROBIT_ACC_SERVICE_UUID = "e95d0753-251d-470a-a062-fa1922dfa9a8"
MICROBIT_ACC_DATA_UUID = "e95dca4b-251d-470a-a062-fa1922dfa9a8"
MICROBIT_ACC_PERIOD_UUID = "e95dfb24-251d-470a-a062-fa1922dfa9a8"
MICROBIT_PERIODS_MS = (1, 2, 5, 10, 20, 80, 160, 640)
FRAME_SIZE = 6


def encode_period(period_ms: int) -> bytes:
    """Bytes to write to the period characteristic (u16 LE ms)."""
    if period_ms not in MICROBIT_PERIODS_MS:
        raise ConfigurationError(
            f"micro:bit accelerometer period must be one of {MICROBIT_PERIODS_MS} ms, "
            f"got {period_ms!r}"
        )
    return struct.pack("<H", period_ms)


def decode_period(data: bytes) -> int:
    """Period in ms read from the period characteristic; raises :class:`FrameError`."""
    if len(data) != 2:
        raise FrameError(f"period characteristic must be 2 bytes, got {len(data)}")
    return int(struct.unpack("<H", bytes(data))[0])


def parse_microbit_frame(data: bytes) -> tuple[int, int, int]:
    """``(x, y, z)`` milli-g of one 6-byte notification; raises :class:`FrameError`.

    Verified: ``00 00 00 00 00 FC`` -> (0, 0, -1024) mg.
    """
    if len(data) != FRAME_SIZE:
        raise FrameError(f"micro:bit accelerometer frame must be 6 bytes, got {len(data)}")
    x, y, z = struct.unpack("<hhh", bytes(data))
    return x, y, z


class MicrobitAccDecoder:
    """Decoder of accelerometer data notifications (one 6-byte frame per ``feed``).

    Needs ``arrival_time`` (host seconds when the notification arrived) for real
    time stamps; without it samples are numbered on the nominal grid from ``0``.
    Notifications of another length count as ``stats.bad``.
    """

    def __init__(self, period_ms: int = 20, *, resync_s: float = 1.0) -> None:
        encode_period(period_ms)  # validates
        self.period_ms = period_ms
        self.clock = ArrivalClock(period_ms / 1000.0, resync_s=resync_s)
        self.stats = DecoderStats()

    def set_period(self, period_ms: int) -> None:
        """Use the period read back from the board (ms); validates it."""
        encode_period(period_ms)
        self.period_ms = period_ms
        self.clock.period_s = period_ms / 1000.0

    def reset(self) -> None:
        """Re-anchor the arrival clock on the next notification."""
        self.clock.reset()

    def feed(self, data: bytes, arrival_time: float | None = None) -> DecodedBatch:
        """Decode one notification; never raises on bad bytes."""
        self.stats.bytes_in += len(data)
        try:
            xyz = parse_microbit_frame(data)
        except FrameError as exc:
            self.stats.bad += 1
            log.debug("bad micro:bit frame: %s", exc)
            return DecodedBatch.empty()
        before = self.clock.resyncs
        t = self.clock.stamp(1, arrival_time)
        self.stats.resyncs += self.clock.resyncs - before
        self.stats.messages += 1
        self.stats.samples += 1
        return DecodedBatch(t, np.array([xyz], dtype=np.float64) / 1000.0)
