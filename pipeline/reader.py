"""The chunked reader: any raw source, validated and resampled onto a uniform grid.

Raw sources (:mod:`pipeline.formats`: canonical CSV and Parquet, phyphox, Polar Sensor
Logger, MetaBase, ActiLife, Axivity, GENEActiv and any CSV through explicit options)
yield blocks of raw rows — epoch seconds UTC and (m, 3) g with the file line of the
first row. This module checks them the same way for every dialect (missing fields, a
torn last line, timestamps going backwards, exact duplicates) and resamples them onto
the uniform grid ``t0 + i / fs``.

The reader never holds the whole file: it reads blocks of rows and resamples each
block. Samples are linearly interpolated between neighbouring raw samples; across an
interval longer than ``max_gap_s`` nothing is interpolated and the grid indices inside
it form a gap (the stream jumps). The grid value at index ``i`` depends only on the two
raw samples around it, so the result does not depend on the block size.
"""

from __future__ import annotations

import logging
import math
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from pipeline.errors import InputError
from pipeline.formats import InputOptions, RawSource, open_source
from pipeline.formats.base import RawBlock
from pipeline.formats.canonical import CANONICAL_COLUMNS
from pipeline.recording import Chunk, Gap, Recording, RecordingHeader

log = logging.getLogger(__name__)

__all__ = [
    "CANONICAL_COLUMNS",
    "InputOptions",
    "ReaderParams",
    "RecordingStream",
    "estimate_fs",
    "open_recording",
    "read_recording",
]

MIN_FS, MAX_FS = 1.0, 10_000.0


@dataclass(frozen=True)
class ReaderParams:
    """Reader settings.

    max_gap_s : raw intervals longer than this (seconds) are gaps, never interpolated.
    read_rows : raw rows parsed per block (peak memory ~ 300 bytes a row).
    probe_rows : rows used to estimate the sample rate.
    input : how to read the file (dialect, columns, start, zone); ``None``: recognise it.
        Carried here so that every caller that passes reader parameters (``detect_file``,
        ``process``) passes the input options too.
    """

    max_gap_s: float = 1.0
    read_rows: int = 262_144
    probe_rows: int = 20_000
    input: InputOptions | None = None


@dataclass
class ReadStats:
    """What the reader saw and repaired, for the outputs' data-quality section."""

    rows: int = 0
    duplicate_timestamps_dropped: int = 0
    torn_last_line_dropped: int = 0
    samples_out: int = 0


_Raw = RawBlock  # a block of raw rows (kept under its old name)


def estimate_fs(t: np.ndarray, max_gap_s: float = 1.0) -> float:
    """Sample rate (Hz) from timestamps ``t`` (s), robust to jitter, drops and gaps.

    A rough period is the median of the positive intervals no longer than
    ``max_gap_s``. Dropped samples bias that median (5 % drops with 20 % jitter: 1 %
    low), and timestamp rounding quantises it, so the period is refined: the mean of
    the one-period intervals, then total time over total whole periods for intervals
    of an unambiguous 1-4 periods (jitter telescopes away). A rate within 0.5 % of a
    whole number of Hz is snapped to it.
    """
    d = np.diff(np.asarray(t, dtype=np.float64))
    d = d[(d > 0) & (d <= max_gap_s)]
    if d.size == 0:
        raise ValueError("no two samples closer than the maximum gap")
    period = float(np.median(d))
    period = float(np.mean(d[np.abs(d - period) < 0.5 * period]))
    k = np.rint(d / period)
    sel = (k >= 1) & (k <= 4) & (np.abs(d / period - k) < 0.45)  # unambiguous counts
    fs = float(k[sel].sum() / d[sel].sum())
    whole = round(fs)
    if whole > 0 and abs(fs - whole) / fs < 0.005:
        return float(whole)
    return round(fs, 3)


class RecordingStream:
    """A recording file of any dialect opened for chunked reading.

    Use as a context manager. ``header`` is available right after opening (the rate
    is estimated from the first ``probe_rows`` rows); ``chunks()`` yields the grid
    samples as :class:`Chunk` objects; ``gaps`` and ``stats`` are complete once
    ``chunks()`` is exhausted. ``format`` names the dialect read.
    """

    def __init__(
        self,
        path: str | Path,
        params: ReaderParams | None = None,
        options: InputOptions | None = None,
    ) -> None:
        self.path = Path(path)
        self.params = params or ReaderParams()
        self.gaps: list[Gap] = []
        self.stats = ReadStats()
        self.options = options if options is not None else self.params.input
        self._source: RawSource = open_source(self.path, self.options)
        try:
            self._start()
        except BaseException:
            self._source.close()
            raise

    def _start(self) -> None:
        self.format = self._source.name
        self.size = self._source.size
        self._metadata = self._source.metadata
        self._data_line = self._source.data_line
        self._rows = self._source.blocks(self.params.read_rows)
        self._pending: list[_Raw] = []
        first = self._first_block()
        try:
            fs = estimate_fs(first.t[: self.params.probe_rows], self.params.max_gap_s)
        except ValueError as err:
            raise InputError(self.path, f"cannot estimate the sample rate: {err}") from None
        if not MIN_FS <= fs <= MAX_FS:
            raise InputError(
                self.path, f"sample rate {fs:g} Hz is outside {MIN_FS:g}-{MAX_FS:g} Hz"
            )
        self.header = RecordingHeader(
            float(first.t[0]), fs, dict(self._metadata), source=str(self.path)
        )
        self._pending.append(first)

    def _first_block(self) -> _Raw:
        try:
            first = next(self._rows)
        except StopIteration:
            raise InputError(self.path, "header only, no samples", self._data_line) from None
        while first.t.size < self.params.probe_rows:
            more = next(self._rows, None)
            if more is None:
                break
            first = _Raw(
                np.concatenate([first.t, more.t]), np.vstack([first.a, more.a]), first.first_line
            )
        if first.t.size == 0:
            raise InputError(self.path, "header only, no samples", self._data_line)
        # A bad row other than the last is an error now; a bad last row may be a torn
        # last line, which _checked_blocks drops once it knows no block follows.
        bad = np.isnan(first.t) | np.isnan(first.a).any(axis=1)
        if bad[:-1].any():
            self._check_block(first, is_last=False)
        if int((~bad).sum()) < 2:
            raise InputError(self.path, "fewer than 2 samples", self._data_line)
        return first

    # ----------------------------------------------------------------- checks
    def _check_block(self, raw: _Raw, is_last: bool) -> _Raw:
        """Reject NaN fields (a torn last line is dropped and counted)."""
        bad = np.isnan(raw.t) | np.isnan(raw.a).any(axis=1)
        if bad.any():
            idx = np.flatnonzero(bad)
            if idx.size == 1 and idx[0] == raw.t.size - 1 and is_last:
                log.warning("%s: dropped a torn last line %d", self.path, raw.first_line + idx[0])
                self.stats.torn_last_line_dropped += 1
                raw = _Raw(raw.t[:-1], raw.a[:-1], raw.first_line)
            else:
                line = raw.first_line + int(idx[0])
                why = self._source.explain_line(line) or "empty or missing field"
                raise InputError(self.path, why, line)
        return raw

    def _check_order(self, prev_t: float | None, raw: _Raw) -> _Raw:
        """Timestamps must increase: backwards is an error, exact duplicates are dropped."""
        t = raw.t
        if t.size == 0:
            return raw
        full = t if prev_t is None else np.concatenate(([prev_t], t))
        d = np.diff(full)
        back = np.flatnonzero(d < 0)
        if back.size:
            k = int(back[0]) + (0 if prev_t is None else -1) + 1
            raise InputError(self.path, "timestamp goes backwards", raw.first_line + k)
        dup = np.flatnonzero(d == 0)
        if dup.size:
            keep = np.ones(t.size, dtype=bool)
            keep[dup + (1 if prev_t is None else 0)] = False
            self.stats.duplicate_timestamps_dropped += int((~keep).sum())
            raw = _Raw(t[keep], raw.a[keep], raw.first_line)
        return raw

    # ----------------------------------------------------------------- blocks
    def _checked_blocks(self) -> Iterator[_Raw]:
        """Raw blocks in order, validated; knows which block is the last one."""
        blocks = iter(self._pending)
        self._pending = []
        source = _chain(blocks, self._rows)
        current = next(source, None)
        prev_t: float | None = None
        while current is not None:
            nxt = next(source, None)
            raw = self._check_block(current, is_last=nxt is None)
            raw = self._check_order(prev_t, raw)
            self.stats.rows += raw.t.size
            if raw.t.size:
                prev_t = float(raw.t[-1])
                yield raw
            current = nxt

    @property
    def bytes_read(self) -> int:
        """Approximate input bytes consumed so far (for progress bars)."""
        return min(self._source.bytes_read(), self.size)

    def chunks(self, chunk_samples: int = 65_536) -> Iterator[Chunk]:
        """Yield grid samples as contiguous :class:`Chunk` objects of at most ``chunk_samples``.

        A gap (a raw interval longer than ``max_gap_s``) appears as a jump in
        ``Chunk.start`` and is recorded in ``self.gaps``.
        """
        t0, fs, max_gap = self.header.t0, self.header.fs, self.params.max_gap_s
        next_index = 0
        prev_t: float | None = None
        prev_a: np.ndarray | None = None
        blocks = self._checked_blocks()
        raw = next(blocks, None)
        while raw is not None:
            following = next(blocks, None)
            at_end = following is None
            if prev_t is None:
                t, a = raw.t, raw.a
            else:
                t = np.concatenate(([prev_t], raw.t))
                a = np.vstack([prev_a, raw.a])
            p = (t - t0) * fs
            # A decimal timestamp parses to the nearest double (within ~1.2e-7 s at
            # epoch 1.7e9), so an on-grid sample lands a hair off its grid index and
            # picked up its neighbour's value (7e-4 g at 1000 Hz): snap those back.
            on_grid = np.rint(p)
            tol = 4.0 * float(np.spacing(max(abs(t0), float(np.abs(t).max())))) * fs
            p = np.where(np.abs(p - on_grid) <= tol, on_grid, p)
            breaks = np.flatnonzero(np.diff(t) > max_gap) + 1
            seg_bounds = np.concatenate(([0], breaks, [t.size]))
            for si in range(seg_bounds.size - 1):
                s, e = int(seg_bounds[si]), int(seg_bounds[si + 1])
                first = max(next_index, math.ceil(p[s] - 0.5))
                last_seg = si == seg_bounds.size - 2
                end_p = p[e - 1] + 0.5 if (at_end or not last_seg) else p[e - 1]
                last = math.floor(end_p)
                if last < first:
                    continue
                if first > next_index:
                    self._add_gap(next_index, first)
                idx = np.arange(first, last + 1, dtype=np.float64)
                seg_p = p[s:e]
                out = np.empty((idx.size, 3), dtype=np.float64)
                for k in range(3):
                    out[:, k] = np.interp(idx, seg_p, a[s:e, k])
                next_index = last + 1
                self.stats.samples_out += idx.size
                for c in range(0, idx.size, chunk_samples):
                    yield Chunk(first + c, out[c : c + chunk_samples])
            prev_t, prev_a = float(t[-1]), a[-1:].copy()
            raw = following

    def _add_gap(self, start_index: int, end_index: int) -> None:
        t0, fs = self.header.t0, self.header.fs
        self.gaps.append(Gap(t0 + start_index / fs, t0 + end_index / fs, start_index, end_index))

    def close(self) -> None:
        self._source.close()

    def __enter__(self) -> RecordingStream:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def _chain(first: Iterator[_Raw], rest: Iterator[_Raw]) -> Iterator[_Raw]:
    yield from first
    yield from rest


def open_recording(
    path: str | Path,
    reader_params: ReaderParams | None = None,
    options: InputOptions | None = None,
) -> RecordingStream:
    """Open a recording of any dialect for chunked reading (see :class:`RecordingStream`).

    ``options`` (default: ``reader_params.input``, else recognise everything) force the
    dialect or describe the columns; see :class:`~pipeline.formats.base.InputOptions`.
    """
    return RecordingStream(path, reader_params, options)


def read_recording(
    path: str | Path,
    params: ReaderParams | None = None,
    options: InputOptions | None = None,
) -> Recording:
    """Read a whole recording into memory as a :class:`Recording`.

    Gap samples are NaN rows. For long files prefer :func:`open_recording`.
    """
    with open_recording(path, params, options) as stream:
        parts = list(stream.chunks())
        header = stream.header
    n = parts[-1].start + len(parts[-1]) if parts else 0
    acc = np.full((n, 3), np.nan)
    for c in parts:
        acc[c.start : c.start + len(c)] = c.acc
    return Recording(header.t0, header.fs, acc, header.metadata, header.source)
