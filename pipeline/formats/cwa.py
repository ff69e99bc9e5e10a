"""Axivity AX3/AX6 ``.cwa`` binary files (the OpenMovement format), read in chunks.

Layout (checked against OpenMovement's ``Docs/ax3/cwa.h``, ``cwa-convert/c/main.c``
and the ``openmovement`` Python package's ``load/cwa_load.py``); little-endian,
tightly packed::

    header block, 1024 bytes at offset 0
      @0 "MD"  @2 packet length 1020  @4 hardware type (0x00/0xff/0x17 AX3, 0x64 AX6)
      @5 device id (low 16 bits)  @7 session id (u32)  @11 device id high 16 bits
         (0xffff: none)  @13 logging start  @17 logging end (packed times)
      @36 rate code  @41 firmware revision  @64 448 bytes of annotation text
    data blocks, 512 bytes each from offset 1024
      @0 "AX"  @2 packet length 508  @4 deviceFractional (top bit set: 15-bit fraction
      of a second of the timestamp)  @6 session id  @10 sequence id  @14 timestamp
      (packed: year-2000 6 bits, month 4, day 5, hours 5, minutes 6, seconds 6)
      @18 light (top 3 bits n: 16-bit accelerometer values are 1/2^(8+n) g)
      @20 temperature  @22 events  @23 battery  @24 rate code (rate 3200 /
      2^(15 - (code & 15)) Hz, range ±16 >> (code >> 6) g)  @25 numAxesBPS (axes in
      the high nibble: 3 Axyz, 6 Gxyz+Axyz, 9 Gxyz+Axyz+Mxyz; low nibble 2: int16 per
      axis, 0: one 32-bit word per sample, 3×10-bit two's complement x, y, z from the
      least significant bit, then a 2-bit exponent, values shifted left by it, 1/256 g)
      @26 timestampOffset (int16: index of the sample the timestamp belongs to)
      @28 sample count  @30 480 bytes of samples  @510 checksum (the 256 16-bit words
      of the block sum to 0 mod 2^16)

Only the accelerometer is read (after the gyroscope in 6- and 9-axis blocks), in g.

Times: the timestamps are the naive local time of the computer that configured the
device; they are read in ``--tz`` (default UTC), with the daylight-saving rules of the
OMGUI CSV export's reader. Each block's timestamp (plus its fraction) is the time of
its sample ``timestampOffset`` (with a fraction, the offset is first corrected by the
whole samples the fraction stands for, as ``cwa_load.py`` does); sample times are
interpolated linearly between the two block timestamps around each (a timestamp
may belong to a sample beyond its own block: real AX3 files put it up to 140
samples into a 120-sample block), and extrapolated at the ends of a run of
consecutive blocks with the spacing of its end pair (the configured rate for a run of
one block). A run ends where the sequence id does not follow on, the session changes,
or the spacing is off the configured rate by more than :data:`RUN_SLACK` (the logger
paused): the reader sees a gap there.

A block with a wrong header or packet length, a bad checksum, an invalid timestamp,
or another format (rate code, axes, packing) than most of the file's first 64 good
blocks (of equally many, the first one's), a timestamp off both its neighbours while
they agree (:func:`~pipeline.formats.binary.lone_times`), or the bytes of the block
before it again (written twice) is skipped and counted (``skipped_blocks``);
blocks that hold no data (unwritten flash ``ff ff``, "UB" and "SI" blocks) are skipped
without counting them as corrupt; a file that ends inside a block drops that partial
block (the reader counts it as a torn last line).
"""

from __future__ import annotations

import logging
import math
from collections import deque
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import parse_qsl

import numpy as np

from pipeline.errors import InputError
from pipeline.formats.base import InputOptions, RawBlock, get_tz, ramp_rows
from pipeline.formats.binary import (
    BinarySource,
    civil_seconds,
    local_to_epoch,
    lone_times,
    read_full,
    repeats,
    torn_row,
)

log = logging.getLogger(__name__)

SECTOR = 512
HEADER_MAGIC = b"MD"
#: the first bytes of a .cwa file: "MD" and the header's packet length 1020
CWA_MAGIC = b"MD\xfc\x03"
BLOCK_MAGIC = 0x5841  # "AX", little-endian
BLOCK_LENGTH = 508
SAMPLE_BYTES = 480
#: a run of blocks ends where their timestamps' spacing is off the rate by more than this
RUN_SLACK = 0.2
#: anchors of the blocks on each side of a chunk that its times take into account (a
#: block's timestamp lies within about a block of its own samples)
CONTEXT = 4
#: first words of blocks that are no data and not corrupt either: unwritten flash, and
#: the "UB" (usage), "SI" (session info) and "MD" blocks some files hold (cwa-convert
#: skips them too)
NOT_DATA = (0xFFFF, 0x4255, 0x4953, 0x444D)
#: blocks read past a chunk to tell whether its last block's timestamp is a lone one
PEEK = 2
#: hardware types of the header (cwa.h)
AX6_TYPE = 0x64
#: the short names of OMGUI's annotation fields (openmovement's cwa_load.py)
ANNOTATION_NAMES = {
    "_c": "study_centre", "_s": "study_code", "_i": "investigator", "_x": "exercise_code",
    "_v": "volunteer_num", "_p": "body_location", "_so": "setup_operator", "_n": "notes",
    "_b": "start_time", "_e": "end_time", "_ro": "recovery_operator",
    "_r": "retrieval_time", "_co": "comments", "_sc": "subject_code", "_se": "sex",
    "_h": "height", "_w": "weight", "_ha": "handedness", "_sn": "subject_notes",
}  # fmt: skip

BLOCK_DTYPE = np.dtype(
    [
        ("magic", "<u2"),
        ("length", "<u2"),
        ("fractional", "<u2"),
        ("session", "<u4"),
        ("sequence", "<u4"),
        ("timestamp", "<u4"),
        ("light", "<u2"),
        ("temperature", "<u2"),
        ("events", "u1"),
        ("battery", "u1"),
        ("rate", "u1"),
        ("axes_bps", "u1"),
        ("offset", "<i2"),
        ("count", "<u2"),
        ("samples", "V480"),
        ("checksum", "<u2"),
    ]
)
assert BLOCK_DTYPE.itemsize == SECTOR


def is_cwa(first: bytes) -> bool:
    """Whether a file's first (decompressed) bytes are a .cwa header block."""
    return first.startswith(CWA_MAGIC)


def rate_hz(code: int) -> float:
    """Sample rate (Hz) of a rate code."""
    return 3200.0 / (1 << (15 - (code & 15)))


def range_g(code: int) -> int:
    """Accelerometer range (±g) of a rate code."""
    return 16 >> (code >> 6)


def unpack_times(packed: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Naive local seconds since 1970 (n,) int64 of packed timestamps (n,) uint32, and
    which are valid dates (0, "unknown", and impossible dates are not)."""
    p = np.asarray(packed, np.int64)
    seconds, valid = civil_seconds(
        2000 + ((p >> 26) & 0x3F), (p >> 22) & 0x0F, (p >> 17) & 0x1F,
        (p >> 12) & 0x1F, (p >> 6) & 0x3F, p & 0x3F,
    )  # fmt: skip
    return seconds, valid & (p != 0)


def _time_text(packed: int) -> str | None:
    """``YYYY-MM-DD hh:mm:ss`` of one packed timestamp; ``None`` for 0 and all ones
    (the header's "always" and "never")."""
    if packed in (0, 0xFFFFFFFF):
        return None
    s, ok = unpack_times(np.array([packed], np.uint32))
    if not ok[0]:
        return None
    return str(np.datetime64(int(s[0]), "s")).replace("T", " ")


@dataclass(frozen=True)
class CwaHeader:
    """The header block: device and session, configured rate (Hz) and range (±g)."""

    device_type: str
    device_id: int
    session_id: int
    rate_hz: float
    range_g: int
    firmware: int
    logging_start: str | None
    logging_end: str | None
    annotation: dict[str, str]
    data_offset: int

    def metadata(self) -> dict[str, str]:
        """The recording's metadata entries."""
        out = {
            "format": "cwa",
            "device": f"Axivity {self.device_type}",
            "device_type": self.device_type,
            "device_id": str(self.device_id),
            "session_id": str(self.session_id),
            "sample_rate_hz": f"{self.rate_hz:g}",
            "range_g": str(self.range_g),
            "firmware_revision": str(self.firmware),
        }
        if self.logging_start:
            out["logging_start"] = self.logging_start
        if self.logging_end:
            out["logging_end"] = self.logging_end
        for key, value in self.annotation.items():
            out[f"cwa_{key}"] = value
        return out


def parse_header(raw: bytes, path: Path) -> CwaHeader:
    """The header block (the first 1024 bytes of the file)."""
    if raw[:2] != HEADER_MAGIC:
        raise InputError(path, "not an Axivity .cwa file (no 'MD' header block)")
    length = int.from_bytes(raw[2:4], "little")
    offset = max(SECTOR, -(-(length + 4) // SECTOR) * SECTOR)
    if len(raw) < SECTOR:
        raise InputError(path, "Axivity .cwa header block is cut short (truncated file)")
    hardware = raw[4]
    kind = "AX6" if hardware == AX6_TYPE else "AX3" if hardware in (0, 0x17, 0xFF) else (
        f"0x{hardware:02x}")  # fmt: skip
    upper = int.from_bytes(raw[11:13], "little")
    device = int.from_bytes(raw[5:7], "little") | ((0 if upper == 0xFFFF else upper) << 16)
    code = raw[36]
    text = raw[64:512].rstrip(b"\x20\x00\xff").decode("ascii", "replace")
    annotation = {
        ANNOTATION_NAMES.get(k.strip(), k.strip().lower().replace(" ", "_")): v.strip()
        for k, v in parse_qsl(text)
        if k.strip()
    }
    return CwaHeader(
        device_type=kind,
        device_id=device,
        session_id=int.from_bytes(raw[7:11], "little"),
        rate_hz=rate_hz(code),
        range_g=range_g(code),
        firmware=raw[41],
        logging_start=_time_text(int.from_bytes(raw[13:17], "little")),
        logging_end=_time_text(int.from_bytes(raw[17:21], "little")),
        annotation=annotation,
        data_offset=offset,
    )


@dataclass(frozen=True)
class BlockFormat:
    """How a file's data blocks hold their samples: ``code`` (rate code), ``axes_bps``
    (numAxesBPS), ``axes`` (3, 6 or 9), ``packed`` (32-bit words), ``capacity``
    (samples a full block holds) and ``accel`` (index of the accelerometer's x axis)."""

    code: int
    axes_bps: int
    axes: int
    packed: bool
    capacity: int
    accel: int

    @property
    def rate_hz(self) -> float:
        return rate_hz(self.code)

    @classmethod
    def of(cls, code: int, axes_bps: int) -> BlockFormat | None:
        """The format of a block's two codes, ``None`` when not a known one."""
        axes, bps = axes_bps >> 4, axes_bps & 15
        if code == 0 or axes not in (3, 6, 9) or bps not in (0, 2) or (bps == 0 and axes != 3):
            return None
        size = 4 if bps == 0 else 2 * axes
        return cls(code, axes_bps, axes, bps == 0, SAMPLE_BYTES // size, 0 if axes == 3 else 3)


@dataclass
class Anchor:
    """A block's timestamp: ``index`` the (global, 0-based, may be fractional or outside
    the block) sample index it belongs to, ``time`` epoch s UTC, its ``sequence`` and
    ``session`` ids."""

    index: float
    time: float
    sequence: int
    session: int


@dataclass
class Chunk:
    """The good blocks of one read: per block (n,) ``start`` (global index of its first
    sample), ``count``, ``anchor`` (global sample index of the timestamp), ``time``
    (epoch s), ``sequence``, ``session``; the samples ``acc`` (sum(count), 3) in g."""

    start: np.ndarray
    count: np.ndarray
    anchor: np.ndarray
    time: np.ndarray
    sequence: np.ndarray
    session: np.ndarray
    acc: np.ndarray

    def anchors(self, which: slice) -> list[Anchor]:
        """The anchors of the blocks ``which`` (e.g. the last four: ``slice(-4, None)``)."""
        return [Anchor(float(i), float(t), int(q), int(s)) for i, t, q, s in zip(
            self.anchor[which], self.time[which], self.sequence[which], self.session[which],
            strict=True)]  # fmt: skip


def checksums_ok(raw: np.ndarray) -> np.ndarray:
    """Whether each 512-byte block of ``raw`` ((n, 512) uint8) has 16-bit words summing
    to 0 mod 2^16."""
    words = raw.view("<u2")
    return (words.sum(axis=1, dtype=np.uint64) & 0xFFFF) == 0


def intact(blocks: np.ndarray, raw: np.ndarray) -> np.ndarray:
    """Which blocks (n,) are data blocks ("AX", packet length 508) with a good checksum;
    ``blocks`` (n,) of :data:`BLOCK_DTYPE` and ``raw`` (n, 512) uint8 are the same bytes."""
    good = (blocks["magic"] == BLOCK_MAGIC) & (blocks["length"] == BLOCK_LENGTH)
    return good & checksums_ok(raw)


def common_format(blocks: np.ndarray, good: np.ndarray) -> BlockFormat | None:
    """The known format most of the ``good`` ones of ``blocks`` have (of equally many,
    the first block's): one corrupt block whose checksum still holds does not set the
    format the file is read in. ``None`` when no good block has a known format."""
    codes = blocks["rate"][good].astype(np.int64) << 8 | blocks["axes_bps"][good]
    if codes.size == 0:
        return None
    values, first, counts = np.unique(codes, return_index=True, return_counts=True)
    for k in np.lexsort((first, -counts)):  # most blocks first, then the earliest
        fmt = BlockFormat.of(int(values[k]) >> 8, int(values[k]) & 0xFF)
        if fmt is not None:
            return fmt
    return None


def decode_samples(raw: np.ndarray, count: np.ndarray, light: np.ndarray,
                   fmt: BlockFormat) -> np.ndarray:  # fmt: skip
    """The accelerometer samples (sum(count), 3) in g of blocks ``raw`` ((n, 512) uint8)
    holding ``count`` (n,) samples each, all in format ``fmt``; ``light`` (n,) carries
    the 16-bit values' scale (top 3 bits n: 1/2^(8+n) g; 1/256 g for packed words)."""
    data = np.ascontiguousarray(raw[:, 30 : 30 + SAMPLE_BYTES])
    keep = np.arange(fmt.capacity)[None, :] < count[:, None]  # (n, capacity)
    if fmt.packed:
        w = data.view("<u4")[keep]  # (m,) packed words
        shift = (w >> 30).astype(np.int32)
        vals = np.empty((w.size, 3), np.float64)
        for k in range(3):  # 10-bit two's complement, shifted left by the exponent
            v = ((w >> (10 * k)) & 0x3FF).astype(np.int32)
            vals[:, k] = ((v ^ 0x200) - 0x200) << shift
    else:
        v = data.view("<i2")[:, : fmt.capacity * fmt.axes].reshape(-1, fmt.capacity, fmt.axes)
        vals = v[:, :, fmt.accel : fmt.accel + 3][keep].astype(np.float64)
    # (n,) g per count: the light word's scale bits are the unpacked values' only
    bits = 0 if fmt.packed else (light.astype(np.int64) >> 13) & 7
    scale = np.broadcast_to(np.ldexp(1.0, -(8 + bits)), count.shape)
    return vals * np.repeat(scale, count)[:, None]


def sample_times(chunk: Chunk, before: Sequence[Anchor], after: Sequence[Anchor],
                 nominal: float) -> np.ndarray:  # fmt: skip
    """Epoch s (sum(count),) of the samples of ``chunk``: each interpolated linearly
    between the two anchors around it within its block's run (a timestamp may belong
    to a sample beyond its own block, so these need not be the block's own anchor and
    a neighbour's), extrapolated past a run's ends with the spacing of its end pair
    (``nominal`` s per sample for a run of one block). ``before``/``after``: the anchors
    of the last blocks before and the first blocks after the chunk (oldest first; up to
    :data:`CONTEXT` each are used: more than the blocks a timestamp lies off its own)."""
    before, after = list(before)[-CONTEXT:], list(after)[:CONTEXT]
    nb = len(before)

    def column(name: str, own: np.ndarray) -> np.ndarray:
        return np.concatenate(([getattr(a, name) for a in before], own,
                               [getattr(a, name) for a in after]))  # fmt: skip

    idx = column("index", chunk.anchor)
    tim = column("time", chunk.time)
    seq = column("sequence", chunk.sequence.astype(np.int64)).astype(np.int64)
    ses = column("session", chunk.session.astype(np.int64)).astype(np.int64)
    di = np.diff(idx)
    with np.errstate(divide="ignore", invalid="ignore"):
        slope = np.diff(tim) / di  # s per sample between consecutive anchors
    linked = (np.diff(seq) == 1) & (np.diff(ses) == 0) & (di > 0)
    linked &= np.abs(slope / nominal - 1.0) <= RUN_SLACK
    # each anchor's run: its first (lo) and last (hi) anchor; within a run idx increases
    run = np.concatenate(([0], np.cumsum(~linked)))
    lo = np.flatnonzero(np.concatenate(([True], ~linked)))[run]
    hi = np.flatnonzero(np.concatenate((~linked, [True])))[run]
    count = chunk.count
    n = int(count.sum())
    k = (chunk.start[0] + np.arange(n)).astype(np.float64)  # global sample index
    j = None
    if (di > 0).all():  # anchors in order (any file without a reset): count them off
        edges = np.clip(np.ceil(idx) - chunk.start[0], 0, n).astype(np.int64)
        between = np.diff(edges, prepend=0, append=n)  # samples after anchor -1, 0, ...
        if linked.all() and idx.size > 1:  # one run: the pair around k, or an end pair
            pair = np.clip(np.arange(-1, idx.size), 0, idx.size - 2)
            at, when, per = (np.repeat(v[pair], between) for v in (idx, tim, slope))
            return when + (k - at) * per
        j = np.repeat(np.arange(-1, idx.size), between)
    own = np.repeat(np.arange(chunk.anchor.size) + nb, count)  # each sample's block anchor
    s_lo, s_hi = lo[own], hi[own] - 1  # the run's first and last pair
    single = s_hi < s_lo  # a run of one block: its anchor and the nominal spacing
    if j is not None:
        j = np.clip(j, s_lo, np.maximum(s_hi, s_lo))
    else:
        j = _search(k, idx, s_lo, s_hi, np.where(k >= idx[own], own, own - 1))
    base = np.where(single, own, j)
    per = np.where(single, nominal, slope[np.minimum(j, slope.size - 1)] if slope.size else
                   nominal)  # fmt: skip
    return tim[base] + (k - idx[base]) * per


def _search(k: np.ndarray, idx: np.ndarray, lo: np.ndarray | int, hi: np.ndarray | int,
            start: np.ndarray | None = None) -> np.ndarray:  # fmt: skip
    """For each sample index ``k`` the pair ``j`` (anchors ``j``, ``j + 1``) around it
    among the pairs ``lo``..``hi`` (an end pair beyond them; ``lo`` when ``hi < lo``),
    stepping from ``start`` (default ``lo``); ``idx`` increases within ``lo``..``hi + 1``."""
    top = np.maximum(hi, lo)
    j = np.clip(np.broadcast_to(lo, k.shape) if start is None else start, lo, top)
    while True:  # a step or two from the block's own anchor
        down = (j > lo) & (k < idx[j])
        up = (j < hi) & (k > idx[np.minimum(j + 1, idx.size - 1)])
        if not (down.any() or up.any()):
            return j
        j = j - down + up


class CwaSource(BinarySource):
    """An Axivity ``.cwa`` file read in chunks of whole data blocks."""

    name = "cwa"
    unit = "data block"
    corrupt = "bad checksum, header, timestamp or format"
    #: (naive time s, sequence id) of the last readable blocks before the next chunk
    _lone_context: tuple[tuple[float, int], ...] = ()
    #: the bytes of the last readable block before the next chunk (a repeat is skipped)
    _last_block: bytes | None = None

    def __init__(self, path: Path, options: InputOptions, member: str | None = None) -> None:
        super().__init__(path, options, member)
        try:
            head = read_full(self.input.stream, 1024)
            if not head:
                raise InputError(path, "empty file")
            self.header = parse_header(head, path)
            rest = self.header.data_offset - len(head)
            if rest > 0:
                head += read_full(self.input.stream, rest)
            self._pending = head[self.header.data_offset :]  # data bytes already read
            self._tz = get_tz(options.tz, path)
            self.metadata.update(self.header.metadata())
            self.metadata["device_time_zone"] = str(self._tz)
            self._format: BlockFormat | None = None
            self.empty_blocks = 0  # blocks that hold no data (unwritten flash, "UB", "SI")
            self._first_format()
        except BaseException:
            self.input.close()
            raise

    def _first_format(self) -> None:
        """Peek at the first 64 data blocks for the file's block format (the one most good
        blocks have: :func:`common_format`), kept for the chunks."""
        more = read_full(self.input.stream, 64 * SECTOR - len(self._pending))
        self._pending += more
        n = len(self._pending) // SECTOR
        if n == 0:
            return
        blocks = np.frombuffer(self._pending, BLOCK_DTYPE, count=n)
        raw = np.frombuffer(self._pending, np.uint8, count=n * SECTOR).reshape(n, SECTOR)
        self._format = common_format(blocks, intact(blocks, raw))
        if self._format is not None:
            f = self._format
            self.metadata["axes"] = str(f.axes)
            self.metadata["packing"] = "packed 10-bit" if f.packed else "16-bit"
            if f.rate_hz != self.header.rate_hz:
                self.metadata["sample_rate_hz"] = f"{f.rate_hz:g}"

    # ----------------------------------------------------------------- reading
    def _raw_chunks(self, rows: int) -> Iterator[tuple[int, bytes, bytes]]:
        """``(first block number, bytes, peek)`` of whole blocks, about ``rows`` samples a
        chunk, and the (up to :data:`PEEK`) whole blocks after them (read again in the
        next chunk); a partial block at the end of the file is noted and dropped."""
        cap = self._format.capacity if self._format is not None else 120
        block_no = 1
        data = self._pending
        self._pending = b""
        for size in ramp_rows(rows):
            want = max(1, math.ceil(size / cap)) * SECTOR
            if len(data) < want + PEEK * SECTOR:
                data += read_full(self.input.stream, want + PEEK * SECTOR - len(data))
            take = min(len(data), want) // SECTOR * SECTOR
            if take:
                peek = data[take : take + PEEK * SECTOR]
                yield block_no, data[:take], peek[: len(peek) // SECTOR * SECTOR]
                block_no += take // SECTOR
            if len(data) < want:  # the end of the file
                self.partial_block_dropped = len(data) > take
                return
            data = data[take:]

    def _readable(self, buf: bytes, fmt: BlockFormat) -> tuple[np.ndarray, np.ndarray]:
        """Which blocks of ``buf`` (whole blocks) are intact, in format ``fmt``, with a
        sample count it allows and a valid timestamp, and the naive time (s) of their
        first sample that their timestamp, fraction and timestampOffset say at the
        nominal rate: ``(good, time)``, both (n,)."""
        n = len(buf) // SECTOR
        blocks = np.frombuffer(buf, BLOCK_DTYPE, count=n)
        good = intact(blocks, np.frombuffer(buf, np.uint8).reshape(n, SECTOR))
        good &= (blocks["rate"] == fmt.code) & (blocks["axes_bps"] == fmt.axes_bps)
        count = blocks["count"].astype(np.int64)
        good &= (count >= 1) & (count <= fmt.capacity)
        local_s, ok = unpack_times(blocks["timestamp"])
        frac = blocks["fractional"].astype(np.int64)
        has_frac = (frac & 0x8000) != 0
        frac16 = (frac & 0x7FFF) << 1
        offset = blocks["offset"].astype(np.int64)
        offset = offset + np.where(has_frac, (frac16 * int(fmt.rate_hz)) >> 16, 0)
        time = local_s + np.where(has_frac, frac16 / 65536.0, 0.0) - offset / fmt.rate_hz
        return good & ok, time

    def _lone(self, buf: bytes, peek: bytes, fmt: BlockFormat) -> np.ndarray:
        """Which blocks (n,) of ``buf`` have a lone timestamp (:func:`lone_times`: off
        what the readable blocks around them say, in this chunk, the last ones before it
        and the ``peek`` blocks after it); the last readable ones are kept for the next."""
        good, time = self._readable(buf + peek, fmt)
        seq = np.frombuffer(buf + peek, BLOCK_DTYPE)["sequence"].astype(np.int64)
        n = len(buf) // SECTOR
        own = np.flatnonzero(good[:n])
        after = np.flatnonzero(good[n:]) + n
        ctx_t = [c[0] for c in self._lone_context]
        ctx_q = [c[1] for c in self._lone_context]
        t = np.concatenate((ctx_t, time[own], time[after[:2]]))
        q = np.concatenate((ctx_q, seq[own], seq[after[:2]]))
        lone = lone_times(t, q, fmt.capacity / fmt.rate_hz, bool(ctx_t), after.size > 0)
        mine = lone[len(ctx_t) : len(ctx_t) + own.size]
        out = np.zeros(n, bool)
        out[own[mine]] = True
        kept = [(float(a), int(b)) for a, b in zip(t, q, strict=True)]
        kept = [c for c, bad in zip(kept[: len(ctx_t) + own.size], lone, strict=False)
                if not bad]  # fmt: skip
        self._lone_context = tuple(kept[-2:])
        return out

    def _decode(self, block_no: int, buf: bytes, start: int, peek: bytes = b"") -> Chunk | None:
        """The good blocks of ``buf`` (whole blocks, the first numbered ``block_no``) whose
        first sample has global index ``start``; ``None`` when none is good. ``peek``: the
        blocks after ``buf``, only to tell a lone timestamp (:meth:`_lone`)."""
        n = len(buf) // SECTOR
        blocks = np.frombuffer(buf, BLOCK_DTYPE, count=n)
        raw = np.frombuffer(buf, np.uint8).reshape(n, SECTOR)
        good = intact(blocks, raw)
        if self._format is None:  # no good block among the first: the first good one here
            self._format = common_format(blocks, good)
        fmt = self._format
        if fmt is None:
            empty = int(np.isin(blocks["magic"], NOT_DATA).sum())
            self.empty_blocks += empty
            self.skipped_blocks += n - empty
            return None
        good &= (blocks["rate"] == fmt.code) & (blocks["axes_bps"] == fmt.axes_bps)
        count = blocks["count"].astype(np.int64)
        good &= (count >= 1) & (count <= fmt.capacity)
        local_s, ok = unpack_times(blocks["timestamp"])
        good &= ok
        twice, self._last_block = repeats(raw, good, self._last_block)
        good &= ~twice & ~self._lone(buf, peek, fmt)
        epoch = local_to_epoch(local_s, good, self._tz, self.path, block_no, self.dst, self.unit)
        good &= np.isfinite(epoch)
        empty = np.isin(blocks["magic"], NOT_DATA)
        self.empty_blocks += int(empty.sum())
        self.skipped_blocks += int((~good & ~empty).sum())
        if not good.any():
            return None
        sel = np.flatnonzero(good)
        b = blocks[sel]
        count = count[sel]
        frac_bits = b["fractional"].astype(np.int64)
        has_frac = (frac_bits & 0x8000) != 0
        frac16 = (frac_bits & 0x7FFF) << 1  # 16-bit fraction of a second
        offset = b["offset"].astype(np.int64)
        # the firmware moved timestampOffset by the whole samples the fraction stands for
        offset = offset + np.where(has_frac, (frac16 * int(fmt.rate_hz)) >> 16, 0)
        time = epoch[sel] + np.where(has_frac, frac16 / 65536.0, 0.0)
        starts = start + np.cumsum(count) - count
        acc = decode_samples(raw[sel], count, b["light"], fmt)
        anchor = (starts + offset).astype(np.float64)
        sequence, session = b["sequence"].astype(np.int64), b["session"].astype(np.int64)
        return Chunk(starts, count, anchor, time, sequence, session, acc)

    def _chunks(self, rows: int) -> Iterator[Chunk]:
        start = 0
        for block_no, buf, peek in self._raw_chunks(rows):
            chunk = self._decode(block_no, buf, start, peek)
            if chunk is not None:
                start = int(chunk.start[-1] + chunk.count[-1])
                yield chunk

    def blocks(self, rows: int) -> Iterator[RawBlock]:
        """Raw blocks of the samples of about ``rows`` samples' worth of data blocks; each
        chunk's times wait for the first timestamps of the chunks after it."""
        chunks = self._chunks(rows)
        current = next(chunks, None)
        ahead: deque[Chunk] = deque()  # the chunks read for their first anchors
        before: list[Anchor] = []
        line = 1
        while current is not None:
            while sum(c.count.size for c in ahead) < CONTEXT:
                following = next(chunks, None)
                if following is None:
                    break
                ahead.append(following)
            after = [a for c in ahead for a in c.anchors(slice(0, CONTEXT))][:CONTEXT]
            assert self._format is not None
            t = sample_times(current, before, after, 1.0 / self._format.rate_hz)
            yield RawBlock(t, current.acc, line)
            line += t.size
            self.samples_read += t.size
            before = (before + current.anchors(slice(-CONTEXT, None)))[-CONTEXT:]
            current = ahead.popleft() if ahead else None
        if self.empty_blocks:
            log.info("%s: %d blocks hold no data (unwritten, or not sample blocks)",
                     self.path, self.empty_blocks)  # fmt: skip
        self._finish()
        if self.partial_block_dropped:
            yield RawBlock(*torn_row(line))
