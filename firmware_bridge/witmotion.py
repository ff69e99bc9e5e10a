"""WitMotion WT901 / BWT901CL (serial) and WT901BLE (BLE) IMU protocols.

Serial packet, 11 bytes::

    55 TT d0 d1 d2 d3 d4 d5 d6 d7 SUM      SUM = (sum of the first 10 bytes) & 0xFF
    TT 0x51 acceleration: ax ay az int16 LE, g = v / 32768 * 16; temperature int16 LE / 100 C
    TT 0x52 gyro, 0x53 angle, 0x50 time, 0x54 magnetometer, 0x59 quaternion ... skipped

``0x55`` occurs inside data too: the decoder resynchronises byte by byte on the
checksum. A packet is ``55``, a type ``0x50``-``0x5F`` and a matching checksum. The
checksum alone passes 1 window in 256: a byte lost inside a packet, or garbage holding
``55 51``, would give a bogus sample (up to ±16 g) that swallows the start of the
real packet after it. So a packet not followed by ``55`` is dropped when a real
packet starts inside it (bytes were lost), and while resynchronising (after bytes
were discarded) a packet is decoded only once the packet after it has arrived and is
one too. Garbage or a corrupt packet costs only the packets it overlaps.

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


def _serial_packet_at(buf: bytes | bytearray, i: int) -> bool:
    """True when the 11 bytes of ``buf`` from ``i`` are a serial packet: ``55``, a type
    ``0x50``-``0x5F`` and the checksum of the first 10 bytes (caller checks the length)."""
    return (
        buf[i] == 0x55 and 0x50 <= buf[i + 1] <= 0x5F and sum(buf[i : i + 10]) & 0xFF == buf[i + 10]
    )


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
    temperature of the last acceleration packet. While resynchronising (after bytes
    were discarded) a packet is decoded once the packet after it has arrived and
    confirms it (see the module doc).
    """

    def __init__(self, sample_rate: float = 10.0, *, resync_s: float = 1.0) -> None:
        super().__init__(sample_rate, resync_s)
        self.last_temperature_c: float | None = None
        self._synced = True  # the next byte is expected to start a packet

    def reset(self) -> None:
        """As :meth:`_ArrivalStamped.reset`. A (re)opened port starts anywhere in the
        stream, so the first packet after a reset waits for the next to confirm it."""
        super().reset()
        self._synced = False

    def _skip(self, buf: bytearray, i: int) -> int:
        """Index of the next ``0x55`` after ``i`` (or the end); counts what is skipped."""
        j = buf.find(b"\x55", i + 1)
        j = len(buf) if j < 0 else j
        self.stats.discarded_bytes += j - i
        self._synced = False
        return j

    def _confirmed(self, buf: bytearray, i: int) -> bool | None:
        """Whether the checksum-valid packet at ``i`` is a real one (``None``: the bytes
        that decide have not arrived yet).

        Resynchronising: the packet after it must be one too. In step: it must be
        followed by ``55``, or else (garbage after a real packet, or a window shifted
        by bytes lost inside it) no real packet may start inside it.
        """
        nxt = i + SERIAL_PACKET_SIZE
        n = len(buf)
        if not self._synced:
            return None if n - nxt < SERIAL_PACKET_SIZE else _serial_packet_at(buf, nxt)
        if n == nxt or buf[nxt] == 0x55:
            return True
        for j in range(i + 1, nxt):
            if buf[j] == 0x55:
                if n - j < SERIAL_PACKET_SIZE:
                    return None
                if _serial_packet_at(buf, j):
                    return False
        return True

    def feed(self, data: bytes, arrival_time: float | None = None) -> DecodedBatch:
        self.stats.bytes_in += len(data)
        buf = self._buf
        buf += data
        rows: list[tuple[int, int, int]] = []
        i = 0
        n = len(buf)
        while n - i >= SERIAL_PACKET_SIZE:
            if not _serial_packet_at(buf, i):
                i = self._skip(buf, i)
                continue
            confirmed = self._confirmed(buf, i)
            if confirmed is None:
                break  # wait for the bytes that decide
            if not confirmed:
                i = self._skip(buf, i)
                continue
            self._synced = True
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
