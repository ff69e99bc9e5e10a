"""WitMotion WT901 / BWT901CL (serial) and WT901BLE (BLE) IMU protocols.

Serial packet, 11 bytes::

    55 TT d0 d1 d2 d3 d4 d5 d6 d7 SUM      SUM = (sum of the first 10 bytes) & 0xFF
    TT 0x51 acceleration: ax ay az int16 LE, g = v / 32768 * 16; temperature int16 LE / 100 C
    TT 0x52 gyro, 0x53 angle, 0x50 time, 0x54 magnetometer, 0x59 quaternion ... skipped

``0x55`` occurs inside data too: the decoder resynchronises byte by byte on the
checksum, so a corrupt packet or garbage costs at most the packets it overlaps.

BLE packet (service :data:`WITMOTION_BLE_SERVICE_UUID`, notify
:data:`WITMOTION_BLE_NOTIFY_UUID`, write :data:`WITMOTION_BLE_WRITE_UUID`; the UUID base
ends ``9a34fb``, not the standard ``9b34fb``), 20 bytes, no checksum::

    55 61 | ax ay az | gx gy gz | roll pitch yaw     9 x int16 LE
    acc * 16 / 32768 g, gyro * 2000 / 32768 deg/s, angle * 180 / 32768 deg

A packet may span notifications: bytes are buffered and the decoder resyncs on
``55 61`` (``55 71`` register-read replies are skipped whole). Without a checksum,
garbage that happens to contain ``55 61`` cannot be told from a packet.

Neither carries a time stamp: samples are stamped on arrival with ``1 / sample_rate``
spacing (:class:`~firmware_bridge.samples.ArrivalClock`).
"""

from __future__ import annotations

import logging

import numpy as np

from firmware_bridge.errors import ConfigurationError
from firmware_bridge.samples import ArrivalClock, DecodedBatch, DecoderStats

log = logging.getLogger(__name__)

WITMOTION_BLE_SERVICE_UUID = "0000ffe5-0000-1000-8000-00805f9a34fb"
WITMOTION_BLE_NOTIFY_UUID = "0000ffe4-0000-1000-8000-00805f9a34fb"
WITMOTION_BLE_WRITE_UUID = "0000ffe9-0000-1000-8000-00805f9a34fb"

SERIAL_PACKET_SIZE = 11
BLE_PACKET_SIZE = 20
ACC_TYPE = 0x51
BLE_ACC_TYPE = 0x61
BLE_REGISTER_TYPE = 0x71
ACC_SCALE_G = 16.0 / 32768.0

UNLOCK_COMMAND = bytes.fromhex("FFAA6988B5")
SAVE_COMMAND = bytes.fromhex("FFAA000000")


def witmotion_command(register: int, value: int) -> bytes:
    """``FF AA reg lo hi``: write a 16-bit register (unlock first, save after)."""
    if not (0 <= register <= 0xFF and 0 <= value <= 0xFFFF):
        raise ConfigurationError(f"bad WitMotion register write {register:#x}={value:#x}")
    return bytes([0xFF, 0xAA, register, value & 0xFF, value >> 8])


def rate_command(rate_code: int) -> bytes:
    """``FF AA 03 r 00``: output rate (rate codes differ by model; see its manual)."""
    return witmotion_command(0x03, rate_code)


def checksum(data: bytes) -> int:
    """Low byte of the sum of ``data`` (the first 10 bytes of a serial packet)."""
    return sum(data) & 0xFF


class _ArrivalStamped:
    """Shared state of the arrival-stamped WitMotion decoders."""

    def __init__(self, sample_rate: float, resync_s: float) -> None:
        if not sample_rate > 0:
            raise ConfigurationError(f"sample_rate must be > 0 Hz, got {sample_rate}")
        self.sample_rate = float(sample_rate)
        self.clock = ArrivalClock(1.0 / sample_rate, resync_s=resync_s)
        self.stats = DecoderStats()
        self._buf = bytearray()

    def reset(self) -> None:
        """Drop buffered bytes and re-anchor the arrival clock (after a reconnect)."""
        self.stats.discarded_bytes += len(self._buf)
        self._buf.clear()
        self.clock.reset()

    def _batch(self, rows: list[tuple[int, int, int]], arrival: float | None) -> DecodedBatch:
        if not rows:
            return DecodedBatch.empty()
        before = self.clock.resyncs
        t = self.clock.stamp(len(rows), arrival)
        self.stats.resyncs += self.clock.resyncs - before
        self.stats.samples += len(rows)
        return DecodedBatch(t, np.array(rows, dtype=np.float64) * ACC_SCALE_G)


def _i16(b: bytes | bytearray, i: int) -> int:
    return int.from_bytes(b[i : i + 2], "little", signed=True)


class WitmotionSerialDecoder(_ArrivalStamped):
    """Byte-stream decoder of 11-byte serial packets; never raises on bad bytes.

    ``feed(data, arrival_time)``: ``arrival_time`` host seconds of the read (else
    samples are numbered on the nominal grid). ``last_temperature_c`` holds the
    temperature of the last acceleration packet.
    """

    def __init__(self, sample_rate: float = 10.0, *, resync_s: float = 1.0) -> None:
        super().__init__(sample_rate, resync_s)
        self.last_temperature_c: float | None = None

    def feed(self, data: bytes, arrival_time: float | None = None) -> DecodedBatch:
        self.stats.bytes_in += len(data)
        buf = self._buf
        buf += data
        rows: list[tuple[int, int, int]] = []
        i = 0
        n = len(buf)
        while n - i >= SERIAL_PACKET_SIZE:
            if buf[i] != 0x55 or sum(buf[i : i + 10]) & 0xFF != buf[i + 10]:
                j = buf.find(b"\x55", i + 1)
                j = n if j < 0 else j
                self.stats.discarded_bytes += j - i
                i = j
                continue
            kind = buf[i + 1]
            if kind == ACC_TYPE:
                rows.append((_i16(buf, i + 2), _i16(buf, i + 4), _i16(buf, i + 6)))
                self.last_temperature_c = _i16(buf, i + 8) / 100.0
                self.stats.messages += 1
            else:
                self.stats.skipped += 1
            i += SERIAL_PACKET_SIZE
        del buf[:i]
        return self._batch(rows, arrival_time)


class WitmotionBleDecoder(_ArrivalStamped):
    """Byte-stream decoder of 20-byte BLE packets split across notifications.

    ``feed(notification, arrival_time)``; never raises on bad bytes. Gyro and angle
    values of the last packet are kept in ``last_gyro_dps`` / ``last_angle_deg``.
    """

    def __init__(self, sample_rate: float = 10.0, *, resync_s: float = 1.0) -> None:
        super().__init__(sample_rate, resync_s)
        self.last_gyro_dps: tuple[float, float, float] | None = None
        self.last_angle_deg: tuple[float, float, float] | None = None

    def feed(self, data: bytes, arrival_time: float | None = None) -> DecodedBatch:
        self.stats.bytes_in += len(data)
        buf = self._buf
        buf += data
        rows: list[tuple[int, int, int]] = []
        i = 0
        n = len(buf)
        while n - i >= 2:
            if buf[i] != 0x55 or buf[i + 1] not in (BLE_ACC_TYPE, BLE_REGISTER_TYPE):
                j = buf.find(b"\x55", i + 1)
                j = n if j < 0 else j
                self.stats.discarded_bytes += j - i
                i = j
                continue
            if n - i < BLE_PACKET_SIZE:
                break
            if buf[i + 1] == BLE_ACC_TYPE:
                v = [_i16(buf, i + 2 + 2 * k) for k in range(9)]
                rows.append((v[0], v[1], v[2]))
                self.last_gyro_dps = tuple(x * 2000.0 / 32768.0 for x in v[3:6])
                self.last_angle_deg = tuple(x * 180.0 / 32768.0 for x in v[6:9])
                self.stats.messages += 1
            else:
                self.stats.skipped += 1
            i += BLE_PACKET_SIZE
        del buf[:i]
        return self._batch(rows, arrival_time)
