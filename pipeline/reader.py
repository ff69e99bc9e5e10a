"""The chunked reader: any raw source, validated and resampled onto a uniform grid.

Raw sources (:mod:`pipeline.formats`: canonical CSV and Parquet, phyphox, Polar Sensor
Logger, MetaBase, ActiLife, Axivity, GENEActiv and any CSV through explicit options)
yield blocks of raw rows — epoch seconds UTC and (m, 3) g with the file line of the
first row. This module checks and repairs them the same way for every dialect — rows
with missing values, a torn last line, rows arriving a little late, repeated
timestamps; a clock going back, a broken row: an error naming the line — finds rate
changes, clipping and stuck axes (:mod:`pipeline.watches`), times and values in the
wrong unit (:mod:`pipeline.timescale`), optionally calibrates
(:mod:`pipeline.calibration`), and resamples them onto the uniform grid
``t0 + i / fs`` (:mod:`pipeline.resample`). Every repair and finding is counted in the
:class:`~pipeline.quality.DataQuality` record (``RecordingStream.quality``).

The reader never holds the whole file: it reads blocks of rows and resamples each
block. Samples are linearly interpolated between neighbouring raw samples; across an
interval longer than ``max_gap_s`` nothing is interpolated and the grid indices inside
it form a gap (the stream jumps). The grid value at index ``i`` depends only on the two
raw samples around it, so the result does not depend on the block size. Raw times
already on the grid give their rows as the grid samples (exactly what interpolation
would give, without computing it).

Speed: a background thread (:mod:`pipeline.readahead`, ``ReaderParams.read_ahead``
blocks ahead) parses and checks the next block while the caller resamples and uses the
current one; errors still surface in file order, naming file and line. The checks take
cheap exact shortcuts for the common case (every value finite, no new clip level, every
rate window within tolerance, no run long enough to be stuck) and fall back to the full
computation otherwise.
"""

from __future__ import annotations

import logging
import math
from collections.abc import Iterator
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

import numpy as np

from pipeline.calibration import CALIBRATE_MODES, Calibration, calibrate_file
from pipeline.errors import InputError
from pipeline.events import JerkEvent
from pipeline.formats import InputOptions, RawSource, open_source
from pipeline.formats.base import RawBlock
from pipeline.formats.canonical import CANONICAL_COLUMNS
from pipeline.quality import AXES, DataQuality, RateChange, clipped_flags
from pipeline.rate import estimate_fs
from pipeline.readahead import ReadAhead, helper_threads
from pipeline.recording import Chunk, Gap, Recording, RecordingHeader
from pipeline.resample import Prev, resample
from pipeline.timescale import (
    MAX_EPOCH_S,
    MAX_JUMP_S,
    later_time_problem,
    relative_time_warning,
    seconds_text,
    time_unit_problem,
)
from pipeline.watches import WATCH_ROWS, ClipWatch, RateWatch, Rows, StuckWatch

log = logging.getLogger(__name__)

__all__ = [
    "CANONICAL_COLUMNS",
    "DataQuality",
    "InputOptions",
    "ReadStats",
    "ReaderParams",
    "RecordingStream",
    "estimate_fs",
    "open_recording",
    "read_recording",
]

MIN_FS, MAX_FS = 1.0, 10_000.0
#: Below this rate (Hz) a recording is read, with a warning: its shortest jerks fall
#: between samples (issue 2's range is 25-1000 Hz).
LOW_FS = 25.0
#: No accelerometer measures more than this (g); a larger value is a wrong column or
#: unit, an error naming its line (raw counts and mg stay below it).
MAX_ABS_G = 1e5


@dataclass(frozen=True)
class ReaderParams:
    """Reader settings.

    max_gap_s : raw intervals longer than this (seconds) are gaps, never interpolated.
    read_rows : raw rows parsed per block (peak memory ~ 300 bytes a row).
    probe_rows : rows used to estimate the sample rate.
    input : how to read the file (dialect, columns, start, zone); ``None``: recognise it.
        Carried here so that every caller that passes reader parameters (``detect_file``,
        ``process``) passes the input options too.
    reorder_s : rows arriving up to this late (s behind the latest time seen) are put
        back in order and counted; a larger backward step is an error (clock reset).
    rate_tolerance : a change of the raw sample interval by more than this share
        (0.05: 5 %) is reported as a rate change.
    rate_window : raw intervals per window of the rate-change check.
    stuck_axis_s : an axis constant this long (s) while another moves is reported.
    read_ahead : blocks parsed and checked ahead in a background thread while the
        caller resamples and works on the current one (0: all in the caller's thread);
        see :mod:`pipeline.readahead`.
    clip_min_g, clip_min_samples : a value piling up at an axis' extreme is a clip
        level when it is at least ``clip_min_g`` (g) and held by at least
        ``clip_min_samples`` samples (and twice as many as the next lower value).
    """

    max_gap_s: float = 1.0
    read_rows: int = 262_144
    probe_rows: int = 20_000
    input: InputOptions | None = None
    reorder_s: float = 0.25
    rate_tolerance: float = 0.05
    rate_window: int = 64
    stuck_axis_s: float = 60.0
    clip_min_g: float = 1.5
    clip_min_samples: int = 3
    read_ahead: int = 1


#: The reader's statistics are the data-quality record (kept under its old name).
ReadStats = DataQuality

_Raw = RawBlock  # a block of raw rows (kept under its old name)


class RecordingStream:
    """A recording file of any dialect opened for chunked reading.

    Use as a context manager. ``header`` is available right after opening (the rate
    is estimated from the first ``probe_rows`` rows); ``chunks()`` yields the grid
    samples as :class:`Chunk` objects; ``gaps`` and ``stats`` (the
    :class:`~pipeline.quality.DataQuality` record, also ``quality``) are complete once
    ``chunks()`` is exhausted. ``format`` names the dialect read.

    Repairs and checks, in order, for every dialect (see :mod:`pipeline.quality`):
    rows with missing values are dropped (a broken row is an error naming its line);
    rows up to ``reorder_s`` late are put back in order (further back: an error);
    repeated timestamps are dropped (the first kept); rate changes, clipping and stuck
    axes are found on the raw values; the optional calibration is applied; then the
    rows are resampled onto the grid.
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

    @property
    def quality(self) -> DataQuality:
        """The data-quality record (the same object as ``stats``)."""
        return self.stats

    def _start(self) -> None:
        """Read the source's header and first block (subclasses over other sources call
        this after setting ``path``, ``params``, ``gaps``, ``stats``, ``options``)."""
        self._aheads: list[ReadAhead[Any]] = []  # read-ahead threads, stopped by close()
        self.format = self._source.name
        self.size = self._source.size
        self._metadata = self._source.metadata
        self._data_line = self._source.data_line
        self._rows = self._source.blocks(self.params.read_rows)
        self._pending: list[_Raw] = []
        self._last_t = math.nan  # the latest time checked (:meth:`_check_times`)
        first = self._first_block()
        good = ~(np.isnan(first.t) | np.isnan(first.a).any(axis=1))
        self._check_time_unit(first, good)
        self._check_times(Rows.of(first).take(good))  # before the rate probe uses them
        try:
            fs = self._probe_rate(first, good)
        except ValueError as err:
            raise InputError(self.path, f"cannot estimate the sample rate: {err}") from None
        if not MIN_FS <= fs <= MAX_FS:
            raise InputError(
                self.path, f"sample rate {fs:g} Hz is outside {MIN_FS:g}-{MAX_FS:g} Hz"
            )
        self.header = RecordingHeader(
            float(first.t[good][0]), fs, dict(self._metadata), source=str(self.path)
        )
        if fs < LOW_FS:
            text = low_rate_warning(fs)
            self._warn("%s: %s", self.path, text)
            self.stats.warn(text)
        self._check_magnitude(Rows.of(first))
        self._check_units(first.a[good])
        self._calibration: Calibration | None = None
        self._calibrate = getattr(self.options, "calibrate", None) or "off"
        if self._calibrate not in CALIBRATE_MODES:
            raise InputError(self.path, f"unknown --calibrate '{self._calibrate}' (auto or off)")
        self._pending.append(first)

    def _calibrate_first(self) -> None:
        """With ``calibrate`` ``auto``: the calibration's first pass (only when samples are
        read, so opening a file for its header stays cheap)."""
        if getattr(self, "_calibrate", "off") != "auto" or self._calibration is not None:
            return
        self._calibration = calibrate_file(
            self.path, self.options, self.header.fs, self.params.read_rows
        )
        self.stats.calibration = self._calibration.as_dict()
        if self._calibration.applied:
            log.info("%s: calibrated (%s)", self.path, self._calibration.as_dict())

    def _probe_rate(self, first: _Raw, good: np.ndarray) -> float:
        """The grid rate (Hz): from the probe rows, or from the rows before a rate change
        inside the probe (the grid rate is the file's first rate)."""
        p = self.params
        probe = first.t[good][: p.probe_rows]
        fs = estimate_fs(probe, p.max_gap_s)
        head = probe[: 4 * p.rate_window + 1]
        try:
            fs_head = estimate_fs(head, p.max_gap_s)
        except ValueError:
            return fs
        if abs(fs_head / fs - 1.0) <= p.rate_tolerance:
            return fs
        watch = RateWatch(fs_head, p)
        lines = np.arange(probe.size, dtype=np.int64)
        changes = watch.push(Rows(probe, np.zeros((probe.size, 3)), lines))
        stop = changes[0].line if changes else probe.size
        try:
            return estimate_fs(probe[:stop], p.max_gap_s)
        except ValueError:  # a change within the first rows: too few before it
            return fs_head

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
        columns = np.column_stack([first.t, first.a])
        empty = np.isnan(columns).all(axis=0)
        if first.t.size > 2 and empty.any():  # a column with no value in any row
            lines = [first.first_line]
            why = self._source.row_problems(lines)[0]
            if why is None:
                name = ("time", "axis x", "axis y", "axis z")[int(np.flatnonzero(empty)[0])]
                why = f"{name} has no values (empty or NaN in every row)"
            raise InputError(self.path, why, first.first_line)
        bad = np.isnan(columns).any(axis=1)
        if int((~bad).sum()) < 2:
            if bad[:-1].any():  # a broken row, not just missing values: say which
                self._clean(Rows.of(first), is_last=False)
            why = "fewer than 2 samples"
            if bad[-1]:  # the last row broken too: a torn line, or the file's only row
                last = first.first_line + first.t.size - 1
                problem = self._source.row_problems([last])[0]
                if problem is not None:
                    why += f" (line {last}: {problem})"
            raise InputError(self.path, why, self._data_line)
        return first

    def _check_time_unit(self, first: _Raw, good: np.ndarray) -> None:
        """An error when the first timestamp is not Unix seconds (milliseconds, say);
        a warning when it dates the recording before 1973 (relative times)."""
        k = int(np.argmax(good))
        if not good[k]:
            return  # no complete row: the checks after this one say so
        t0 = float(first.t[k])
        problem = time_unit_problem(t0)
        if problem is not None:
            raise InputError(self.path, problem, first.first_line + k)
        warning = relative_time_warning(t0)
        if warning is not None:
            self._warn("%s: %s", self.path, warning)
            self.stats.warn(warning)

    def _check_units(self, a: np.ndarray) -> None:
        """Warn (once, one line) when the values look like m/s², mg or raw counts rather
        than g."""
        a = a[np.isfinite(a).all(axis=1)]  # an infinite value is an error of its own
        if a.shape[0] == 0:
            return
        norm = float(np.median(np.linalg.norm(a, axis=1)))
        text = None
        if 7.0 < norm < 13.0:
            text = (f"values look like m/s² (median |a| {norm:.2f}, expected about 1 g): "
                    "use --units m/s2")  # fmt: skip
        elif 700.0 < norm < 1300.0:
            text = (f"values look like mg (median |a| {norm:.0f}, expected about 1 g): "
                    "use --units mg")  # fmt: skip
        elif norm >= 13.0:  # neither g, m/s² nor mg: raw counts of the sensor's ADC
            scale = 2 ** round(math.log2(norm))
            text = (f"values look like raw counts (median |a| {norm:.0f}, expected about 1 g): "
                    f"use --units counts --scale COUNTS_PER_G (here likely {scale})")  # fmt: skip
        if text:
            self._warn("%s: %s", self.path, text)
            self.stats.warn(text)

    # ----------------------------------------------------------------- checks
    def _check_magnitude(self, rows: Rows) -> None:
        """An error naming the first row with a finite value beyond :data:`MAX_ABS_G`
        (NaN is a missing value; an infinity is :meth:`_clean`'s own error). One pass
        over finite rows within the bound (the common case)."""
        if _within(rows.a, MAX_ABS_G):
            return
        with np.errstate(invalid="ignore"):
            over = (np.abs(rows.a) > MAX_ABS_G) & np.isfinite(rows.a)
        if not over.any():
            return
        i, k = (int(x) for x in np.argwhere(over)[0])
        raise InputError(self.path, f"axis {AXES[k]} value {rows.a[i, k]:.6g} g is beyond "
                         f"any accelerometer's range (±{MAX_ABS_G:g} g): a wrong column, or "
                         "a unit to give with --units", int(rows.line[i]))  # fmt: skip

    def _check_times(self, rows: Rows) -> None:
        """An error naming the first row (in file order) whose time is corrupted: past
        :data:`~pipeline.timescale.MAX_EPOCH_S` s, or more than
        :data:`~pipeline.timescale.MAX_JUMP_S` s after every row before it (the latest
        time before it, ``_last_t``, is carried across blocks; so a corrupted time far
        back is the clock check's error on its own line, not a jump on the next one).
        One min/max pass when every time is near the others."""
        t = rows.t
        if t.size == 0:
            return
        prev = self._last_t
        lo, hi = float(t.min()), float(t.max())
        if not math.isnan(prev):
            lo, hi = min(lo, prev), max(hi, prev)
        self._last_t = hi
        if hi <= MAX_EPOCH_S and lo >= -MAX_EPOCH_S and hi - lo <= MAX_JUMP_S:
            return
        before = np.fmax.accumulate(np.concatenate(([prev], t[:-1])))  # NaN: none yet
        with np.errstate(invalid="ignore"):
            bad = (np.abs(t) > MAX_EPOCH_S) | (t - before > MAX_JUMP_S)
        if bad.any():
            k = int(np.flatnonzero(bad)[0])
            why = later_time_problem(float(t[k]), float(before[k]))
            raise InputError(self.path, why or "corrupted time", int(rows.line[k]))

    def _clean(self, rows: Rows, is_last: bool) -> Rows:
        """Drop rows with missing values (counted); a broken row is an error naming it;
        so are a value beyond :data:`MAX_ABS_G` and a corrupted time
        (:meth:`_check_times`)."""
        rows = self._drop_missing(rows, is_last)
        self._check_times(rows)
        return rows

    def _drop_missing(self, rows: Rows, is_last: bool) -> Rows:
        """:meth:`_clean` without the time check."""
        if _all_finite(rows.t, rows.a):  # the common case: one cheap pass
            self._check_magnitude(rows)
            return rows
        inf = np.isinf(rows.t) | np.isinf(rows.a).any(axis=1)
        if inf.any():
            i = int(np.flatnonzero(inf)[0])
            k = int(np.flatnonzero(np.isinf(np.concatenate(([rows.t[i]], rows.a[i]))))[0])
            name = ("time", "axis x", "axis y", "axis z")[k]
            raise InputError(self.path, f"{name} value is not finite (too large)",
                             int(rows.line[i]))  # fmt: skip
        self._check_magnitude(rows)
        bad = np.isnan(rows.t) | np.isnan(rows.a).any(axis=1)
        if not bad.any():
            return rows
        idx = np.flatnonzero(bad)
        if is_last and idx[-1] == rows.t.size - 1:
            self._warn("%s: dropped a torn last line %d", self.path, int(rows.line[-1]))
            self.stats.torn_last_line_dropped += 1
            idx = idx[:-1]
        if idx.size:
            lines = [int(x) for x in rows.line[idx]]
            for line, why in zip(lines, self._source.row_problems(lines), strict=True):
                if why is not None:
                    raise InputError(self.path, why, line)
            self.stats.nan_rows_dropped += idx.size
        return rows.take(~bad)

    def _order(self, rows: Rows, final: bool) -> list[Rows]:
        """Rows in time order: late rows (up to ``reorder_s``) sorted in, repeats dropped.

        Rows are held back until no later row may still land before them (``reorder_s``
        behind the latest time seen); ``final`` releases everything. Returns pieces
        in time order (the common, already ordered case copies nothing big).
        """
        p = self.params
        held = self._held
        t = rows.t
        if t.size and t[0] > self._max_t and (t.size == 1 or bool((np.diff(t) > 0).all())):
            self._max_t = float(t[-1])
            limit = math.inf if final else self._max_t - p.reorder_s
            hc = int(np.searchsorted(held.t, limit))
            c = int(np.searchsorted(t, limit))
            rest = (held.take(slice(hc, None)), rows.take(slice(c, None)))
            self._held = Rows(
                np.concatenate([r.t for r in rest]),
                np.vstack([r.a for r in rest]),
                np.concatenate([r.line for r in rest]),
            )
            return [held.take(slice(0, hc)), rows.take(slice(0, c))]
        late = np.zeros(t.size, dtype=bool)
        if t.size:
            prior = np.maximum.accumulate(np.concatenate(([self._max_t], t[:-1])))
            back = prior - t
            big = np.flatnonzero(back > p.reorder_s)
            if big.size:
                k = int(big[0])
                raise InputError(
                    self.path, f"timestamp goes backwards by {seconds_text(back[k])} (a device "
                    "clock reset?): split the file there, or fix its clock", int(rows.line[k]),
                )  # fmt: skip
            late = back > 0
            self._max_t = max(self._max_t, float(t.max()))
        both = Rows(
            np.concatenate((held.t, t)),
            np.vstack((held.a, rows.a)),
            np.concatenate((held.line, rows.line)),
        )
        was_late = np.concatenate((np.zeros(held.t.size, dtype=bool), late))
        if late.any():
            order = np.argsort(both.t, kind="stable")
            both, was_late = both.take(order), was_late[order]
        same = np.flatnonzero(both.t[1:] == both.t[:-1]) + 1
        if same.size:
            clash = was_late[same] | was_late[same - 1]
            if clash.any():
                i = int(same[np.flatnonzero(clash)[0]])
                k = i if was_late[i] else i - 1
                raise InputError(
                    self.path, "timestamp goes backwards (repeats an earlier time)",
                    int(both.line[k]),
                )  # fmt: skip
            keep = np.ones(both.t.size, dtype=bool)
            keep[same] = False
            first_of_run = np.maximum.accumulate(np.where(keep, np.arange(keep.size), 0))
            differs = (both.a[same] != both.a[first_of_run[same]]).any(axis=1)
            self.stats.duplicate_timestamps_dropped += int(same.size)
            self.stats.conflicting_duplicates += int(differs.sum())
            both, was_late = both.take(keep), was_late[keep]
        self.stats.out_of_order_rows += int(late.sum())
        cut = both.t.size if final else int(np.searchsorted(both.t, self._max_t - p.reorder_s))
        self._held = both.take(slice(cut, None))
        return [both.take(slice(0, cut))]

    # ----------------------------------------------------------------- blocks
    def _checked_blocks(self) -> Iterator[_Raw]:
        """Raw blocks in order, validated and repaired; knows which block is the last one."""
        self._calibrate_first()
        blocks = iter(self._pending)
        self._pending = []
        yield from self._checks(_chain(blocks, self._rows))

    def _stop_ahead(self) -> None:
        """Stop the read-ahead threads, if any run (idempotent)."""
        aheads, self._aheads = self._aheads, []
        for ahead in aheads:
            ahead.close()

    def _checks(self, source: Iterator[_Raw]) -> Iterator[_Raw]:
        """The raw blocks of ``source`` validated and repaired (see :meth:`_checked_blocks`)."""
        current = next(source, None)
        self._held = Rows(np.empty(0), np.empty((0, 3)), np.empty(0, dtype=np.int64))
        self._max_t = -math.inf
        self._last_t = math.nan
        p = self.params
        rate = RateWatch(self.header.fs, p)
        clip = ClipWatch(self._metadata.get("range_g"), p)
        stuck = StuckWatch(p.stuck_axis_s)
        self._clip = clip
        while current is not None:
            nxt = next(source, None)
            rows = self._clean(Rows.of(current), is_last=nxt is None)
            for piece in self._order(rows, final=nxt is None):
                self.stats.rows += piece.t.size
                if piece.t.size == 0:
                    continue
                for i in range(0, piece.t.size, WATCH_ROWS):  # bounded temporaries
                    part = piece.take(slice(i, i + WATCH_ROWS))
                    for change in rate.push(part):
                        self._rate_changed(change)
                    clip.push(part.t, part.a)
                    stuck.push(part)
                a = piece.a if self._calibration is None else self._calibration.apply(piece.a)
                yield _Raw(piece.t, a, int(piece.line[0]))
            current = nxt
        self.stats.dst_repeated_rows = self._source.dst_repeated_rows
        self.stats.compressed_data_truncated = self._source.truncated
        skipped = self._source.skipped_blocks
        self.stats.corrupt_blocks_skipped = skipped
        if skipped:  # the source has logged it; the outputs' quality record says it too
            self.stats.warn(f"skipped {skipped} corrupt {self._source.unit}(s)")
        stuck.finish()
        self.stats.stuck_axes = stuck.found
        for s in stuck.found:
            self._warn(
                "%s: axis %s stuck at %g g for %.0f s from line %d",
                self.path, s.axis, s.value_g, s.duration_s, s.line,
            )  # fmt: skip
        clip.finish(self.stats)
        if self.stats.clipped_samples:
            self._warn("%s: %d samples at the sensor's range %s: events there are flagged "
                        "clipped", self.path, self.stats.clipped_samples,
                        self.stats.clip_levels_g)  # fmt: skip
        if self.stats.nan_rows_dropped:
            self._warn("%s: dropped %d rows with missing values", self.path,
                        self.stats.nan_rows_dropped)  # fmt: skip

    def _rate_changed(self, change: RateChange) -> None:
        self.stats.rate_changes.append(change)
        msg = (f"sample rate changes from {change.from_hz:g} to {change.to_hz:g} Hz at line "
               f"{change.line}; resampled onto the {self.header.fs:g} Hz grid")  # fmt: skip
        self._warn("%s: %s", self.path, msg)

    #: the level of what the checks find; the live path of a replay lowers it (the
    #: replayed file's own reader has said it already, naming the file's lines)
    warn_level: int = logging.WARNING

    def _warn(self, fmt: str, *args: object) -> None:
        """Log a finding of the checks (``fmt % args``) at :attr:`warn_level`."""
        log.log(self.warn_level, fmt, *args)

    def flag_clipped(self, events: list[JerkEvent]) -> list[JerkEvent]:
        """``events`` with ``clipped`` set where a raw sample of the event (onset to end,
        one grid sample either side) is at a clip level; counted in the quality record.
        Call after ``chunks()`` is exhausted."""
        clip = getattr(self, "_clip", None)
        if clip is None or not events:
            return events
        times = clip.times()
        starts = np.array([e.time for e in events])
        ends = starts + np.array([e.duration_ms for e in events]) / 1000.0
        flags = clipped_flags(starts, ends, times, 1.0 / self.header.fs)
        self.stats.clipped_events = int(flags.sum())
        return [replace(e, clipped=True) if f else e for e, f in zip(events, flags, strict=True)]

    @property
    def bytes_read(self) -> int:
        """Approximate input bytes consumed so far (for progress bars)."""
        return min(self._source.bytes_read(), self.size)

    def chunks(self, chunk_samples: int = 65_536) -> Iterator[Chunk]:
        """Yield grid samples as contiguous :class:`Chunk` objects of at most ``chunk_samples``.

        A gap (a raw interval longer than ``max_gap_s``) appears as a jump in
        ``Chunk.start`` and is recorded in ``self.gaps``.
        """
        checked = self._checked_blocks()
        blocks: Iterator[_Raw] = checked
        ahead: ReadAhead[_Raw] | None = None
        if self.params.read_ahead > 0 and helper_threads():  # parse the next blocks meanwhile
            blocks = ahead = ReadAhead(checked, self.params.read_ahead, "jerkcount-read")
            self._aheads.append(ahead)
        try:
            yield from self._grid(blocks, chunk_samples)
        finally:  # also when the caller stops early
            if ahead is not None:
                ahead.close()  # the thread stops (and closes ``checked`` itself)
            checked.close()

    def _grid(self, blocks: Iterator[_Raw], chunk_samples: int) -> Iterator[Chunk]:
        """The checked raw ``blocks`` resampled onto the grid (see :meth:`chunks`).

        Each block is resampled together with the last raw row of the block before it
        (``prev``), which is handled on its own instead of being copied in front of the
        block. Where every raw time of a stretch lies on the grid, the grid samples are
        the raw rows themselves (no interpolation; a view when none is missing).
        """
        t0, fs, max_gap = self.header.t0, self.header.fs, self.params.max_gap_s
        next_index = 0
        prev: Prev | None = None
        raw = next(blocks, None)
        while raw is not None:
            following = next(blocks, None)
            at_end = following is None
            t, a = raw.t, raw.a
            # A decimal timestamp parses to the nearest double (within ~1.2e-7 s at
            # epoch 1.7e9), so an on-grid sample lands a hair off its grid index and
            # picked up its neighbour's value (7e-4 g at 1000 Hz): snap those back.
            # (t is increasing: its largest magnitude is at one end.)
            t_abs = max(abs(float(t[0])), abs(float(t[-1])))
            if prev is not None:
                t_abs = max(t_abs, abs(prev.t))
            tol = 4.0 * float(np.spacing(max(abs(t0), t_abs))) * fs
            p = (t - t0) * fs
            on_grid = np.rint(p)
            near = np.abs(p - on_grid) <= tol
            p = np.where(near, on_grid, p)
            # segments: [s, e) of raw rows, s = -1 standing for ``prev``
            starts = np.flatnonzero(np.diff(t) > max_gap) + 1
            if prev is not None:
                prev.snap(t0, fs, tol)
                split = float(t[0]) - prev.t > max_gap
                seg_starts = [-1, *([0] if split else []), *starts.tolist()]
            else:
                seg_starts = [0, *starts.tolist()]
            seg_ends = [*seg_starts[1:], t.size]
            for si, (s, e) in enumerate(zip(seg_starts, seg_ends, strict=True)):
                p_first = prev.p if s < 0 and prev is not None else float(p[s])
                p_last = prev.p if e == 0 and prev is not None else float(p[e - 1])
                first = max(next_index, math.ceil(p_first - 0.5))
                last_seg = si == len(seg_starts) - 1
                end_p = p_last + 0.5 if (at_end or not last_seg) else p_last
                last = math.floor(end_p)
                if last < first:
                    continue
                if first > next_index:
                    self._add_gap(next_index, first)
                lo = max(s, 0)
                out = resample(
                    first, last, p[lo:e], a[lo:e], bool(near[lo:e].all()),
                    prev if s < 0 else None,
                )  # fmt: skip
                next_index = last + 1
                self.stats.samples_out += out.shape[0]
                for c in range(0, out.shape[0], chunk_samples):
                    yield Chunk(first + c, out[c : c + chunk_samples])
            prev = Prev(float(t[-1]), a[-1].copy())
            raw = following

    def _add_gap(self, start_index: int, end_index: int) -> None:
        t0, fs = self.header.t0, self.header.fs
        self.gaps.append(Gap(t0 + start_index / fs, t0 + end_index / fs, start_index, end_index))

    def close(self) -> None:
        """Stop reading ahead and release the file."""
        self._stop_ahead()
        self._source.close()

    def __enter__(self) -> RecordingStream:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def _within(a: np.ndarray, bound: float) -> bool:
    """True when every value of ``a`` lies within ``[-bound, bound]`` (False with a NaN)."""
    return a.size == 0 or (float(a.max()) <= bound and float(a.min()) >= -bound)


def low_rate_warning(fs: float) -> str:
    """The data-quality warning for a recording at ``fs`` Hz, below :data:`LOW_FS`."""
    return (f"sample rate {fs:g} Hz is below {LOW_FS:g} Hz: a jerk shorter than "
            f"{2000.0 / fs:.0f} ms spans fewer than two samples and may be missed, so the "
            "count is a lower bound")  # fmt: skip


def _all_finite(t: np.ndarray, a: np.ndarray) -> bool:
    """True when ``t`` (m,) and ``a`` (m, 3) hold no NaN and no infinity.

    A sum is finite only when every term is (NaN and infinities propagate); a sum that
    overflows says ``False`` and the caller looks closer, so the answer is exact.
    """
    return math.isfinite(float(np.add.reduce(t)) + float(np.add.reduce(a, axis=None)))


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
