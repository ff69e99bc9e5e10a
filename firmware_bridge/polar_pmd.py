"""Polar H10 / Verity Sense PMD (Polar Measurement Data) accelerometer protocol over BLE.

GATT: service :data:`PMD_SERVICE_UUID`, control point :data:`PMD_CONTROL_UUID` (read,
write, indicate), data :data:`PMD_DATA_UUID` (notify). Enable notifications on BOTH
before writing a command. Streams may start 25-30 s after the start command.

Commands (host -> control point)::

    [opcode u8][measurement type u8][settings: (id u8, count u8=1, value LE)...]
    opcode 1 get settings, 2 start, 3 stop; setting ids 0 rate u16 Hz, 1 resolution
    u16 bits, 2 range u16 g, 4 channels u8 (a u16 is rejected by Verity Sense)

Control point messages (device -> host)::

    F0 opcode type status [more u8] [params...]   response; status 0 = success
    01 type ...                                   unprompted: the device stopped the stream
    0F bitmask ...                                 read of the control point: features

Data frame (one notification)::

    byte 0      measurement type (2 = ACC)
    bytes 1-8   u64 LE ns since 2000-01-01T00:00:00Z of the LAST sample in the frame
    byte 9      frame type: bit 7 = delta-compressed, bits 0-6 = type
    bytes 10-   samples; uncompressed type 0/1/2 = 3 x int8/int16/int24 LE mG;
                compressed: reference sample (3 x ceil(resolution/8) bytes signed LE),
                then blocks [bit width u8][count u8][ceil(count*width*3/8) bytes] of
                signed deltas, LSB-first bit stream, channels interleaved.

Compressed values are scaled as in the Polar SDK: type ``0x81`` counts x ``factor`` =
mG, type ``0x80`` counts x ``factor`` = g (``factor`` is the FACTOR setting, id 5, of
the get-settings response; default 1.0).
"""

from __future__ import annotations

import logging
import math
import struct
from dataclasses import dataclass, field
from enum import IntEnum

import numpy as np

from firmware_bridge.errors import ConfigurationError, ControlPointError, FrameError
from firmware_bridge.samples import DecodedBatch, DecoderStats

log = logging.getLogger(__name__)

PMD_SERVICE_UUID = "fb005c80-02e7-f387-1cad-8acd2d8df0c8"
PMD_CONTROL_UUID = "fb005c81-02e7-f387-1cad-8acd2d8df0c8"
PMD_DATA_UUID = "fb005c82-02e7-f387-1cad-8acd2d8df0c8"

POLAR_EPOCH_UNIX = 946_684_800
"""2000-01-01T00:00:00Z in Unix seconds: PMD time stamps count ns from there."""

STARTUP_DELAY_S = 30.0
"""Worst-case delay between the start command and the first data frame."""

MAX_STEP_RATIO = 1.5
"""A frame's per-sample step beyond this factor of nominal (either way) is a lost
frame or a clock jump, not the board's clock: one lost frame of the same size gives 2."""

STALE_S = 5.0
"""A frame stamped at most this many seconds (s) at or before the previous one is a
repeated or late notification (dropped); further back, a clock reset."""

H10_ACC_RATES = (25, 50, 100, 200)
H10_ACC_RANGES_G = (2, 4, 8)


class PmdMeasurement(IntEnum):
    """PMD measurement types."""

    ECG = 0
    PPG = 1
    ACC = 2
    PPI = 3
    GYRO = 5
    MAG = 6


class PmdOpcode(IntEnum):
    """Control point opcodes."""

    GET_SETTINGS = 1
    START = 2
    STOP = 3


class PmdSetting(IntEnum):
    """Setting ids in commands and get-settings responses."""

    SAMPLE_RATE = 0
    RESOLUTION = 1
    RANGE = 2
    RANGE_MILLIUNIT = 3
    CHANNELS = 4
    FACTOR = 5


# value size in bytes per setting id (FACTOR is a float32)
_SETTING_SIZE = {0: 2, 1: 2, 2: 2, 3: 4, 4: 1, 5: 4}

STATUS_NAMES = (
    "SUCCESS",
    "ERROR_INVALID_OP_CODE",
    "ERROR_INVALID_MEASUREMENT_TYPE",
    "ERROR_NOT_SUPPORTED",
    "ERROR_INVALID_LENGTH",
    "ERROR_INVALID_PARAMETER",
    "ERROR_ALREADY_IN_STATE",
    "ERROR_INVALID_RESOLUTION",
    "ERROR_INVALID_SAMPLE_RATE",
    "ERROR_INVALID_RANGE",
    "ERROR_INVALID_MTU",
    "ERROR_INVALID_NUMBER_OF_CHANNELS",
    "ERROR_INVALID_STATE",
    "ERROR_DEVICE_IN_CHARGER",
    "ERROR_DISK_FULL",
)


def status_name(status: int) -> str:
    """Polar's name of a control point status code (``UNKNOWN_<n>`` if not known)."""
    return STATUS_NAMES[status] if 0 <= status < len(STATUS_NAMES) else f"UNKNOWN_{status}"


# ---------------------------------------------------------------------------- commands


@dataclass(frozen=True)
class PmdAccSettings:
    """Accelerometer stream settings sent with the start command.

    sample_rate : Hz (u16). resolution : bits (u16, 16 on H10 and Verity Sense).
    range_g : full scale in g (u16). channels : u8 channel count, ``None`` to omit
    (H10); Verity Sense requires ``3``.
    """

    sample_rate: int = 200
    resolution: int = 16
    range_g: int = 8
    channels: int | None = None

    def __post_init__(self) -> None:
        for name in ("sample_rate", "resolution", "range_g"):
            v = getattr(self, name)
            if not (isinstance(v, int) and 0 < v <= 0xFFFF):
                raise ConfigurationError(f"{name} must be an integer in 1..65535, got {v!r}")
        if self.channels is not None and not (
            isinstance(self.channels, int) and 0 < self.channels <= 0xFF
        ):
            raise ConfigurationError(f"channels must be in 1..255, got {self.channels!r}")

    @classmethod
    def h10(cls, sample_rate: int = 200, range_g: int = 8) -> PmdAccSettings:
        """Polar H10: 25/50/100/200 Hz, 16 bit, +-2/4/8 g."""
        if sample_rate not in H10_ACC_RATES:
            raise ConfigurationError(f"H10 ACC rate must be one of {H10_ACC_RATES} Hz")
        if range_g not in H10_ACC_RANGES_G:
            raise ConfigurationError(f"H10 ACC range must be one of {H10_ACC_RANGES_G} g")
        return cls(sample_rate, 16, range_g, None)

    @classmethod
    def verity_sense(cls, sample_rate: int = 52, range_g: int = 8) -> PmdAccSettings:
        """Polar Verity Sense: 52 Hz, 16 bit, +-8 g, 3 channels (sent as u8)."""
        return cls(sample_rate, 16, range_g, 3)


def pmd_start_command(settings: PmdAccSettings, measurement: int = PmdMeasurement.ACC) -> bytes:
    """Bytes of the start command, e.g. H10 200 Hz 16 bit 8 g:
    ``02 02 00 01 C8 00 01 01 10 00 02 01 08 00``."""
    out = bytearray([PmdOpcode.START, measurement])
    out += struct.pack("<BBH", PmdSetting.SAMPLE_RATE, 1, settings.sample_rate)
    out += struct.pack("<BBH", PmdSetting.RESOLUTION, 1, settings.resolution)
    out += struct.pack("<BBH", PmdSetting.RANGE, 1, settings.range_g)
    if settings.channels is not None:
        out += struct.pack("<BBB", PmdSetting.CHANNELS, 1, settings.channels)
    return bytes(out)


def pmd_stop_command(measurement: int = PmdMeasurement.ACC) -> bytes:
    """Bytes of the stop command: ``03 <type>``."""
    return bytes([PmdOpcode.STOP, measurement])


def pmd_get_settings_command(measurement: int = PmdMeasurement.ACC) -> bytes:
    """Bytes of the get-settings command: ``01 <type>``."""
    return bytes([PmdOpcode.GET_SETTINGS, measurement])


# ------------------------------------------------------------------- control point


@dataclass(frozen=True)
class PmdResponse:
    """A control point response ``F0 opcode type status [more] [params]``."""

    opcode: int
    measurement_type: int
    status: int
    more: bool = False
    params: bytes = b""

    @property
    def ok(self) -> bool:
        return self.status == 0

    @property
    def status_name(self) -> str:
        return status_name(self.status)

    def raise_for_status(self) -> None:
        """Raise :class:`ControlPointError` unless the status is success."""
        if not self.ok:
            raise ControlPointError(
                self.opcode, self.measurement_type, self.status, self.status_name
            )

    def settings(self) -> dict[int, list[float]]:
        """Settings listed in a get-settings response: ``{setting id: [values...]}``."""
        return parse_pmd_settings(self.params)


@dataclass(frozen=True)
class PmdStreamStopped:
    """Unprompted ``01 type ...``: the device stopped streaming ``measurement_type``."""

    measurement_type: int
    params: bytes = b""


@dataclass(frozen=True)
class PmdFeatures:
    """Read of the control point ``0F bitmask ...``: measurement types supported."""

    measurement_types: frozenset[int] = field(default_factory=frozenset)

    @property
    def acc(self) -> bool:
        return PmdMeasurement.ACC in self.measurement_types


PmdControlMessage = PmdResponse | PmdStreamStopped | PmdFeatures


def parse_control_point(data: bytes) -> PmdControlMessage:
    """Parse one control point indication or read; raises :class:`FrameError`."""
    data = bytes(data)
    if not data:
        raise FrameError("empty control point message")
    head = data[0]
    if head == 0xF0:
        if len(data) < 4:
            raise FrameError(f"control point response too short: {data.hex(' ')}")
        return PmdResponse(data[1], data[2], data[3], len(data) > 4 and data[4] != 0, data[5:])
    if head == 0x01:
        if len(data) < 2:
            raise FrameError("stream-stopped message without measurement type")
        return PmdStreamStopped(data[1], data[2:])
    if head == 0x0F:
        if len(data) < 2:
            raise FrameError("features message without bitmask")
        return PmdFeatures(frozenset(i for i in range(8) if data[1] >> i & 1))
    raise FrameError(f"unknown control point message {data[:8].hex(' ')}")


def parse_pmd_settings(params: bytes) -> dict[int, list[float]]:
    """Parse ``(id, count, values...)`` settings; stops at an unknown id or truncation."""
    out: dict[int, list[float]] = {}
    i = 0
    while i + 2 <= len(params):
        sid, count = params[i], params[i + 1]
        size = _SETTING_SIZE.get(sid)
        if size is None or i + 2 + size * count > len(params):
            break
        values: list[float] = []
        for k in range(count):
            raw = params[i + 2 + k * size : i + 2 + (k + 1) * size]
            if sid == PmdSetting.FACTOR:
                values.append(struct.unpack("<f", raw)[0])
            else:
                values.append(int.from_bytes(raw, "little"))
        out[sid] = values
        i += 2 + size * count
    return out


# ----------------------------------------------------------------------- data frames


@dataclass(frozen=True)
class PmdFrame:
    """One decoded data frame.

    timestamp_ns : ns since 2000-01-01 (device clock) of the last sample.
    frame_type : raw frame type byte (bit 7 = compressed).
    mg : ``(n, 3)`` float64 acceleration in mG.
    """

    measurement_type: int
    timestamp_ns: int
    frame_type: int
    mg: np.ndarray

    @property
    def compressed(self) -> bool:
        return bool(self.frame_type & 0x80)


def _signed(values: np.ndarray, bits: int) -> np.ndarray:
    """Sign-extend ``bits``-wide unsigned integers (int64 array)."""
    if bits == 0:
        return values
    half = np.int64(1) << (bits - 1)
    return np.where(values >= half, values - (half << 1), values)


def _ints_le(raw: bytes, size: int) -> np.ndarray:
    """Signed little-endian ``size``-byte integers packed back to back."""
    a = np.frombuffer(raw, dtype=np.uint8).reshape(-1, size).astype(np.int64)
    v = np.zeros(a.shape[0], dtype=np.int64)
    for k in range(size):
        v |= a[:, k] << (8 * k)
    return _signed(v, 8 * size)


def parse_delta_frames(content: bytes, channels: int = 3, resolution: int = 16) -> np.ndarray:
    """Decode a delta-compressed sample block; returns ``(n, channels)`` int64 counts.

    The reference sample is the first row. Raises :class:`FrameError` when truncated,
    when a block declares a width > 32 bits or when bytes are left over.
    """
    size = math.ceil(resolution / 8)
    ref_len = size * channels
    if resolution < 1 or len(content) < ref_len:
        raise FrameError("compressed frame shorter than its reference sample")
    rows = [_ints_le(content[:ref_len], size).reshape(1, channels)]
    i = ref_len
    prev = rows[0][0]
    while i < len(content):
        if i + 2 > len(content):
            raise FrameError("truncated delta block header")
        width, count = content[i], content[i + 1]
        if width > 32:
            raise FrameError(f"delta bit width {width} > 32")
        nbytes = math.ceil(count * width * channels / 8)
        block = content[i + 2 : i + 2 + nbytes]
        if len(block) < nbytes:
            raise FrameError("truncated delta block")
        i += 2 + nbytes
        if count == 0:
            continue
        if width == 0:
            deltas = np.zeros((count, channels), dtype=np.int64)
        else:
            bits = np.unpackbits(np.frombuffer(block, dtype=np.uint8), bitorder="little")
            bits = bits[: count * channels * width].reshape(-1, width).astype(np.int64)
            raw = bits @ (np.int64(1) << np.arange(width, dtype=np.int64))
            deltas = _signed(raw, width).reshape(count, channels)
        samples = prev + np.cumsum(deltas, axis=0)
        rows.append(samples)
        prev = samples[-1]
    return np.concatenate(rows)


_RAW_SIZES = {0: 1, 1: 2, 2: 3}


def parse_pmd_frame(data: bytes, *, resolution: int = 16, factor: float = 1.0) -> PmdFrame:
    """Decode one PMD ACC data notification into mG; raises :class:`FrameError`.

    Verified: ``02 00 94 35 77 00 00 00 00 01 F7 FF FF FF E7 03`` -> timestamp
    2 000 000 000 ns, one sample (-9, -1, 999) mG.
    """
    data = bytes(data)
    if len(data) < 10:
        raise FrameError(f"PMD frame too short ({len(data)} bytes)")
    mtype = data[0]
    ts = int.from_bytes(data[1:9], "little")
    ftype = data[9]
    content = data[10:]
    kind = ftype & 0x7F
    if ftype & 0x80:
        if kind not in (0, 1):
            raise FrameError(f"unsupported compressed ACC frame type {ftype:#04x}")
        counts = parse_delta_frames(content, 3, resolution).astype(np.float64)
        mg = counts * (factor * 1000.0 if kind == 0 else factor)
    else:
        size = _RAW_SIZES.get(kind)
        if size is None:
            raise FrameError(f"unsupported ACC frame type {ftype:#04x}")
        if not content or len(content) % (3 * size):
            raise FrameError(f"ACC frame type {kind}: {len(content)} bytes of samples")
        mg = _ints_le(content, size).reshape(-1, 3).astype(np.float64)
    return PmdFrame(mtype, ts, ftype, mg)


class PmdAccDecoder:
    """Stateful decoder of PMD ACC data notifications (one notification per ``feed``).

    ``t`` is the device clock as Unix seconds (PMD ns since 2000 + :data:`POLAR_EPOCH_UNIX`);
    an H10 clock restarts at 2019-01-01 after power-off, so map it to the host clock
    for absolute time. Per-sample time: the frame stamp is the last sample's; step =
    (this stamp - previous frame's) / samples in this frame, or ``1 / sample_rate`` for
    the first frame. A step outside ``[1/max_step_ratio, max_step_ratio] x`` nominal
    (a lost frame: about 2 x when it held as many samples; a clock reset: negative)
    falls back to the last accepted step (the nominal one before any) and counts a
    resync. The default ratio 1.5 leaves room for a board clock tens of percent off.

    ``arrival_time`` is accepted for interface symmetry and ignored. Notifications that
    are not ACC frames are counted in ``stats.skipped``, malformed ones in ``stats.bad``.

    A frame stamped at or before the previous frame, by less than ``stale_s`` seconds,
    is a notification delivered twice or out of order (a host stack that subscribed
    twice, a retransmission after a late one): it is dropped and counted in
    ``stats.stale``, since its samples are already recorded or their place has passed.
    A stamp further back is a clock reset, decoded as before (the recorder re-anchors).
    """

    def __init__(
        self,
        sample_rate: float,
        *,
        resolution: int = 16,
        factor: float = 1.0,
        max_step_ratio: float = MAX_STEP_RATIO,
        stale_s: float = STALE_S,
    ) -> None:
        if not sample_rate > 0:
            raise ConfigurationError(f"sample_rate must be > 0 Hz, got {sample_rate}")
        self.sample_rate = float(sample_rate)
        self.stale_s = stale_s
        self.resolution = resolution
        self.factor = factor
        self.max_step_ratio = max_step_ratio
        self.stats = DecoderStats()
        self.last_timestamp_ns: int | None = None
        self.last_step_ns: float | None = None

    def reset(self) -> None:
        """Forget the previous frame time stamp (after a reconnect or restart)."""
        self.last_timestamp_ns = None

    def _stale(self, timestamp_ns: int) -> bool:
        """True when a frame stamped ``timestamp_ns`` repeats or comes after a later one."""
        last = self.last_timestamp_ns
        return last is not None and 0 <= last - timestamp_ns < self.stale_s * 1e9

    def _step_ns(self, timestamp_ns: int, n: int) -> float:
        """Spacing (ns) of the ``n`` samples of a frame stamped ``timestamp_ns``."""
        nominal = 1e9 / self.sample_rate
        if self.last_timestamp_ns is None:
            return nominal
        step = (timestamp_ns - self.last_timestamp_ns) / n
        if nominal / self.max_step_ratio <= step <= nominal * self.max_step_ratio:
            self.last_step_ns = step
            return step
        self.stats.resyncs += 1
        return nominal if self.last_step_ns is None else self.last_step_ns

    def feed(self, data: bytes, arrival_time: float | None = None) -> DecodedBatch:
        """Decode one data notification; never raises on bad bytes."""
        self.stats.bytes_in += len(data)
        if len(data) >= 10 and data[0] != PmdMeasurement.ACC:
            self.stats.skipped += 1
            return DecodedBatch.empty()
        try:
            frame = parse_pmd_frame(data, resolution=self.resolution, factor=self.factor)
        except FrameError as exc:
            self.stats.bad += 1
            log.debug("bad PMD frame: %s", exc)
            return DecodedBatch.empty()
        if self._stale(frame.timestamp_ns):
            self.stats.stale += 1
            log.debug("PMD frame stamped %d ns, not after the last: dropped", frame.timestamp_ns)
            return DecodedBatch.empty()
        n = frame.mg.shape[0]
        step = self._step_ns(frame.timestamp_ns, n)
        self.last_timestamp_ns = frame.timestamp_ns
        back = step * np.arange(n - 1, -1, -1, dtype=np.float64)
        t = POLAR_EPOCH_UNIX + (frame.timestamp_ns - back) / 1e9
        self.stats.messages += 1
        self.stats.samples += n
        return DecodedBatch(t, frame.mg / 1000.0)
