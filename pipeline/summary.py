"""Per-window and hourly summaries of one person's recordings, combined in time order.

:func:`combine` puts the processed recordings of one person (several nights, or one
night split into files) in time order, refuses overlapping ones, and drops jerks that
fall inside a non-wear period. :func:`summarise` cuts the combined timeline into
summary windows (:mod:`pipeline.windows`) and, for each window that holds any
recording, counts and measures:

- ``hours_recorded``: time covered by the recordings inside the window, from each
  recording's first to its last sample (gaps included; they are in ``gap_min``);
- ``hours_valid``: recorded time that is not a gap, not activity and not non-wear
  (the union, so overlaps are not subtracted twice);
- ``jerks``: jerk onsets in the window (jerks during activity are never reported by
  the detector; jerks inside non-wear are dropped); ``jerks_per_hour`` = jerks /
  hours_valid (NaN when there is no valid time: no rate can be told, which is not a
  rate of 0);
- amplitude median and 90th percentile (g), activity/non-wear/gap minutes;
- the pattern (:func:`pipeline.pattern.analyse_pattern`) over the window's recorded
  span with gaps, activity and non-wear excluded, and per local clock hour: the
  ``hourly.csv`` label of an hour and its ``segments`` entry in ``summary.json`` are
  one and the same analysis (same bounds, same seed).

Windows are written for windows that hold at least one sample; hourly rows for every hour
of such a window (a 23-hour night has 23 rows), unrecorded hours with zeros and an
empty pattern.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import time
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from pipeline.detector import Detection
from pipeline.errors import InputError
from pipeline.events import DAILY_FIRST_COLUMNS, ActivityPeriod, JerkEvent
from pipeline.pattern import PatternParams, PatternResult, analyse_pattern
from pipeline.windows import DEFAULT_DAY_START, Window, iso_local, windows_between

if TYPE_CHECKING:
    import pandas as pd

log = logging.getLogger(__name__)

#: ``daily_summary.csv`` columns, in order (the first eight are the shared contract).
DAILY_COLUMNS = [
    *DAILY_FIRST_COLUMNS,
    "hours_in_window",
    "recording_start",
    "recording_end",
    "activity_min",
    "nonwear_min",
    "gap_min",
    "amp_median_g",
    "amp_p90_g",
    "rate_per_h",
    "iei_median_s",
    "iei_q1_s",
    "iei_q3_s",
    "cv",
    "lv",
    "burstiness",
    "fano",
    "period_s",
    "period_coverage",
    "plm_series",
    "plm_periodicity_index",
    "bursts",
    "mean_burst_size",
    "pattern_p_value",
    "pattern_min_events",
]
#: ``hourly.csv`` columns, in order.
HOURLY_COLUMNS = [
    "day",
    "hour_start",
    "hour_end",
    "minutes_recorded",
    "minutes_valid",
    "jerks",
    "pattern",
]
#: daily_summary.csv column -> :class:`PatternResult` field it comes from.
PATTERN_COLUMNS = {
    "rate_per_h": "rate_per_h",
    "iei_median_s": "iei_median_s",
    "iei_q1_s": "iei_q1_s",
    "iei_q3_s": "iei_q3_s",
    "cv": "cv",
    "lv": "lv",
    "burstiness": "burstiness",
    "fano": "fano",
    "period_s": "period_s",
    "period_coverage": "period_coverage",
    "plm_series": "plm_series",
    "plm_periodicity_index": "plm_periodicity_index",
    "bursts": "bursts",
    "mean_burst_size": "mean_burst_size",
    "pattern_p_value": "p_value",
    "pattern_min_events": "min_events_needed",
}

Interval = tuple[float, float]


# ------------------------------------------------------------------ intervals
def union(intervals: Sequence[Interval]) -> list[Interval]:
    """Sorted, merged union of ``(start, end)`` intervals (empty ones dropped)."""
    out: list[Interval] = []
    for a, b in sorted((float(a), float(b)) for a, b in intervals if b > a):
        if out and a <= out[-1][1]:
            out[-1] = (out[-1][0], max(out[-1][1], b))
        else:
            out.append((a, b))
    return out


def intersect(a: Sequence[Interval], b: Sequence[Interval]) -> list[Interval]:
    """Intersection of two sorted disjoint interval lists."""
    out: list[Interval] = []
    i = j = 0
    while i < len(a) and j < len(b):
        lo, hi = max(a[i][0], b[j][0]), min(a[i][1], b[j][1])
        if hi > lo:
            out.append((lo, hi))
        if a[i][1] < b[j][1]:
            i += 1
        else:
            j += 1
    return out


def subtract(a: Sequence[Interval], b: Sequence[Interval]) -> list[Interval]:
    """``a`` without ``b`` (both sorted and disjoint)."""
    rest: list[Interval] = []
    prev = -np.inf
    for lo, hi in b:  # the complement of b
        if lo > prev:
            rest.append((prev, lo))
        prev = max(prev, hi)
    rest.append((prev, np.inf))
    return intersect(a, rest)


def measure(intervals: Sequence[Interval], lo: float, hi: float) -> float:
    """Seconds of sorted disjoint ``intervals`` inside ``[lo, hi)``."""
    if not intervals:
        return 0.0
    arr = np.asarray(intervals, dtype=np.float64)
    return float(np.clip(np.minimum(arr[:, 1], hi) - np.maximum(arr[:, 0], lo), 0.0, None).sum())


def clip(intervals: Sequence[Interval], lo: float, hi: float) -> list[Interval]:
    """``intervals`` cut to ``[lo, hi)`` (empty pieces dropped)."""
    return [(max(a, lo), min(b, hi)) for a, b in intervals if min(b, hi) > max(a, lo)]


# ------------------------------------------------------------------ combining
@dataclass(frozen=True)
class FileInfo:
    """Identity of an input file: ``size_bytes``, ``mtime`` epoch s, ``sha256`` hex."""

    size_bytes: int
    mtime: float
    sha256: str


@dataclass
class RecordingResult:
    """One recording processed: its detection, its non-wear periods, its file.

    ``start``/``end`` are epoch seconds UTC of the first grid sample and one sample
    period after the last one.
    """

    path: Path
    detection: Detection
    nonwear: list[ActivityPeriod]
    file: FileInfo | None = None

    @property
    def name(self) -> str:
        """The path as given, used in the ``recording`` column and messages."""
        return str(self.path)

    @property
    def start(self) -> float:
        return float(self.detection.header.t0)

    @property
    def end(self) -> float:
        h = self.detection.header
        return float(h.t0 + self.detection.n_samples / h.fs)

    @property
    def last_sample(self) -> float:
        """Epoch seconds UTC of the last grid sample."""
        h = self.detection.header
        return float(h.t0 + max(self.detection.n_samples - 1, 0) / h.fs)

    def sample_runs(self) -> list[tuple[float, float, float]]:
        """Each stretch of data between gaps: ``(first, last, end)``, epoch s UTC of its
        first and last sample and one sample period after the last."""
        period = 1.0 / self.detection.header.fs
        runs: list[tuple[float, float, float]] = []
        first = self.start
        for g in sorted(self.detection.gaps, key=lambda g: g.start):
            if g.start > first:
                runs.append((first, float(g.start) - period, float(g.start)))
            first = max(first, float(g.end))
        if first < self.end:
            runs.append((first, self.last_sample, self.end))
        return runs


@dataclass
class Combined:
    """Recordings of one person in time order, with everything the summaries need.

    events : counted jerks (inside non-wear dropped), by onset; ``event_source`` the
        recording (path) of each. activity : movement/rhythmic periods; nonwear :
        non-wear periods; gaps : ``(start, end)`` epoch s; spans : each recording's
        ``(start, end)``; samples : every stretch of data between gaps, in time order,
        as ``(first, last, end)`` (:meth:`RecordingResult.sample_runs`).
        ``dropped_nonwear`` jerks were dropped as inside non-wear.
    """

    recordings: list[RecordingResult]
    events: list[JerkEvent]
    event_source: list[str]
    activity: list[ActivityPeriod]
    nonwear: list[ActivityPeriod]
    gaps: list[Interval]
    spans: list[Interval]
    samples: list[tuple[float, float, float]] = field(default_factory=list)
    dropped_nonwear: int = 0

    @property
    def excluded(self) -> list[Interval]:
        """Union of gaps, activity and non-wear, inside the recordings (not valid time)."""
        spans = [(a.start, a.end) for a in (*self.activity, *self.nonwear)]
        return intersect(union([*self.gaps, *spans]), union(self.spans))


def check_order(recordings: Sequence[RecordingResult]) -> list[RecordingResult]:
    """Recordings sorted by start; :class:`InputError` naming both files if two overlap.

    A recording may start up to half a sample period before the previous one ends
    (a night split into files at a sample boundary).
    """
    ordered = sorted(recordings, key=lambda r: r.start)
    for prev, rec in zip(ordered, ordered[1:], strict=False):
        tol = 0.5 / rec.detection.header.fs
        if rec.start < prev.end - tol:
            raise InputError(
                rec.path,
                f"overlaps {prev.path} (starts {iso_local(rec.start, 'UTC')} before "
                f"{prev.path} ends {iso_local(prev.end, 'UTC')}); give each stretch of "
                "time only once",
            )
    return ordered


def combine(recordings: Sequence[RecordingResult]) -> Combined:
    """Combine processed recordings of one person in time order (see module docstring)."""
    ordered = check_order(recordings)
    nonwear = sorted((p for r in ordered for p in r.nonwear), key=lambda p: p.start)
    nw = union([(p.start, p.end) for p in nonwear])
    nw_start = np.asarray([a for a, _ in nw])
    nw_end = np.asarray([b for _, b in nw])
    events: list[JerkEvent] = []
    source: list[str] = []
    dropped = 0
    for r in ordered:
        for e in r.detection.events:
            k = int(np.searchsorted(nw_start, e.time, side="right")) - 1
            if k >= 0 and e.time < nw_end[k]:
                dropped += 1
                continue
            events.append(e)
            source.append(r.name)
    order = sorted(range(len(events)), key=lambda i: events[i].time)
    if dropped:
        log.info("dropped %d jerks inside non-wear periods", dropped)
    return Combined(
        recordings=ordered,
        events=[events[i] for i in order],
        event_source=[source[i] for i in order],
        activity=sorted((a for r in ordered for a in r.detection.activity), key=lambda a: a.start),
        nonwear=nonwear,
        gaps=[(g.start, g.end) for r in ordered for g in r.detection.gaps],
        spans=[(r.start, r.end) for r in ordered],
        samples=sorted(run for r in ordered for run in r.sample_runs()),
        dropped_nonwear=dropped,
    )


# ------------------------------------------------------------------ summaries
@dataclass
class HourRow:
    """One hour of a window: bounds epoch s UTC, minutes, jerks, pattern label.

    ``result`` is the full pattern analysis behind ``pattern`` (``None`` for an hour
    without recorded data, whose label is empty).
    """

    day: str
    start: float
    end: float
    minutes_recorded: float
    minutes_valid: float
    jerks: int
    pattern: str
    result: PatternResult | None = None

    def as_row(self, zone: str) -> dict[str, Any]:
        """The ``hourly.csv`` row (local times with offset)."""
        return {
            "day": self.day,
            "hour_start": iso_local(self.start, zone),
            "hour_end": iso_local(self.end, zone),
            "minutes_recorded": self.minutes_recorded,
            "minutes_valid": self.minutes_valid,
            "jerks": self.jerks,
            "pattern": self.pattern,
        }


@dataclass
class WindowSummary:
    """Everything reported for one window (see the module docstring for definitions).

    Times epoch s UTC; hours, minutes, g as the names say.
    """

    window: Window
    recording_start: float
    recording_end: float
    hours_recorded: float
    hours_valid: float
    activity_min: float
    nonwear_min: float
    gap_min: float
    jerks: int
    jerks_per_hour: float
    amp_median_g: float
    amp_p90_g: float
    pattern: PatternResult
    hourly: list[HourRow] = field(default_factory=list)
    #: the pattern of each recorded clock hour: ``(hour start, hour end, result)``,
    #: epoch s UTC, the hours of :attr:`hourly` that hold recorded data
    segments: list[tuple[float, float, PatternResult]] = field(default_factory=list)

    def as_row(self) -> dict[str, Any]:
        """The ``daily_summary.csv`` row, keys :data:`DAILY_COLUMNS` in order."""
        w = self.window
        row: dict[str, Any] = {
            "day": w.label,
            "window_start": w.start_iso,
            "window_end": w.end_iso,
            "hours_recorded": self.hours_recorded,
            "hours_valid": self.hours_valid,
            "jerks": self.jerks,
            "jerks_per_hour": self.jerks_per_hour,
            "pattern": self.pattern.label,
            "hours_in_window": w.hours,
            "recording_start": iso_local(self.recording_start, w.zone),
            "recording_end": iso_local(self.recording_end, w.zone),
            "activity_min": self.activity_min,
            "nonwear_min": self.nonwear_min,
            "gap_min": self.gap_min,
            "amp_median_g": self.amp_median_g,
            "amp_p90_g": self.amp_p90_g,
        }
        for column, name in PATTERN_COLUMNS.items():
            row[column] = _number(getattr(self.pattern, name, None))
        return row

    def as_dict(self) -> dict[str, Any]:
        """For ``summary.json``: the daily row, the full pattern, hourly rows, segments."""
        zone = self.window.zone
        return {
            **self.as_row(),
            "window_start_utc": self.window.start,
            "window_end_utc": self.window.end,
            "pattern_result": self.pattern.as_dict(),
            "hourly": [h.as_row(zone) for h in self.hourly],
            "segments": [
                {
                    "start": iso_local(a, zone),
                    "end": iso_local(b, zone),
                    **res.as_dict(),
                }
                for a, b, res in self.segments
            ],
        }


def _number(value: Any) -> Any:
    """A pattern statistic for a table: None -> NaN, a list -> its length."""
    if value is None:
        return float("nan")
    if isinstance(value, list | tuple):
        return len(value)
    if isinstance(value, bool):
        return int(value)
    return value


def summarise(
    combined: Combined,
    tz: str,
    day_start: time = DEFAULT_DAY_START,
    pattern_params: PatternParams | None = None,
) -> list[WindowSummary]:
    """Summaries of every window holding any recording, in time order.

    Each window's ``segments`` are the patterns of its recorded clock hours, the
    very analyses behind the ``pattern`` column of its hourly rows.
    """
    if not combined.spans:
        return []
    params = pattern_params or PatternParams()
    spans = union(combined.spans)
    gaps = intersect(union(combined.gaps), spans)
    activity = intersect(union([(a.start, a.end) for a in combined.activity]), spans)
    # a non-wear period may bridge a short gap: those minutes are the gap's, counted once
    nonwear = subtract(intersect(union([(a.start, a.end) for a in combined.nonwear]), spans), gaps)
    excluded = combined.excluded
    onsets = np.asarray([e.time for e in combined.events], dtype=np.float64)
    peaks = np.asarray([e.peak_g for e in combined.events], dtype=np.float64)

    out = []
    for w in windows_between(spans[0][0], spans[-1][1], tz, day_start):
        extent = data_extent(combined.samples, w.start, w.end)
        if extent is None:
            continue  # no sample in this window (it lies in a gap, or a recording ends
            # just past its start)
        lo, hi, last = extent
        inside = clip(spans, lo, hi)
        rec_start, rec_end = inside[0][0], inside[-1][1]
        recorded_s = measure(spans, lo, hi)
        valid_s = recorded_s - measure(excluded, lo, hi)
        sel = (onsets >= w.start) & (onsets < w.end)
        n = int(sel.sum())
        win_peaks = peaks[sel]
        hours_valid = valid_s / 3600.0
        excl = _excluded_for(excluded, inside, rec_start, rec_end)
        pattern = analyse_pattern(onsets[sel], rec_start, rec_end, params, excl)
        summary = WindowSummary(
            window=w,
            recording_start=rec_start,
            recording_end=rec_end,
            hours_recorded=recorded_s / 3600.0,
            hours_valid=hours_valid,
            activity_min=measure(activity, lo, hi) / 60.0,
            nonwear_min=measure(nonwear, lo, hi) / 60.0,
            gap_min=measure(gaps, lo, hi) / 60.0,
            jerks=n,
            jerks_per_hour=n / hours_valid if hours_valid > 0 else float("nan"),
            amp_median_g=float(np.median(win_peaks)) if n else float("nan"),
            amp_p90_g=float(np.percentile(win_peaks, 90)) if n else float("nan"),
            pattern=pattern,
        )
        summary.hourly = _hours(w, inside, intersect(excluded, inside), onsets[sel], params, last)
        summary.segments = [
            (h.start, h.end, h.result) for h in summary.hourly if h.result is not None
        ]
        out.append(summary)
    log.info("%d windows summarised", len(out))
    return out


def data_extent(
    samples: Sequence[tuple[float, float, float]], start: float, end: float
) -> tuple[float, float, float] | None:
    """Where the data of a window ``[start, end)`` (epoch s UTC) begin and end.

    ``samples`` are the stretches of data between gaps, ``(first, last, end)`` each
    (:attr:`Combined.samples`). Returns ``(lo, hi, last)``: the first sample in the
    window (or ``start`` when a stretch runs into it), one sample period after the last
    sample in the window (or ``end``), and that last sample's time (or ``end``); ``None``
    when no sample lies in the window. A gap before the first or after the last sample
    is outside the recorded part of the window.
    """
    runs = [r for r in samples if r[0] < end and r[1] >= start]
    if not runs:
        return None
    lo = max(runs[0][0], start)
    last_run = max(runs, key=lambda r: r[1])
    hi = min(last_run[2], end)
    last = last_run[1] if last_run[1] < end else end
    return lo, hi, last


def _excluded_for(
    excluded: list[Interval], inside: list[Interval], lo: float, hi: float
) -> list[Interval]:
    """Not-valid time of ``[lo, hi)``: ``excluded`` plus the holes between recordings."""
    holes = [(a[1], b[0]) for a, b in zip(inside, inside[1:], strict=False) if b[0] > a[1]]
    return union([*clip(excluded, lo, hi), *holes])


def _hours(
    w: Window,
    spans: list[Interval],
    excluded: list[Interval],
    onsets: np.ndarray,
    params: PatternParams,
    last: float,
) -> list[HourRow]:
    """The hourly rows of window ``w``: ``spans`` the recorded part of the window and
    ``excluded`` the not-valid time inside it, ``last`` the time of its last sample (an
    hour starting after it is not recorded)."""
    rows = []
    for k, (a, b) in enumerate(w.hours_bounds()):
        recorded_spans = spans if a <= last else []
        inside = clip(recorded_spans, a, b)
        recorded = measure(recorded_spans, a, b)
        valid = recorded - measure(excluded, a, b)
        sel = onsets[(onsets >= a) & (onsets < b)]
        result = None
        if inside:
            lo, hi = inside[0][0], inside[-1][1]
            hour_params = PatternParams(**{**params.as_dict(), "seed": params.seed + k})
            result = analyse_pattern(
                sel, lo, hi, hour_params, _excluded_for(excluded, inside, lo, hi)
            )
        label = result.label if result is not None else ""
        rows.append(
            HourRow(w.label, a, b, recorded / 60.0, valid / 60.0, int(sel.size), label, result)
        )
    return rows


# ------------------------------------------------------------------ tables
def _columns(rows: Sequence[dict[str, Any]], names: Sequence[str]) -> dict[str, list[Any]]:
    """Row dicts as columns ``names`` (a key missing from a row: ``None``)."""
    return {name: [r.get(name) for r in rows] for name in names}


def daily_columns(summaries: Sequence[WindowSummary]) -> dict[str, list[Any]]:
    """``daily_summary.csv`` as columns :data:`DAILY_COLUMNS` (name -> values)."""
    return _columns([s.as_row() for s in summaries], DAILY_COLUMNS)


def hourly_columns(summaries: Sequence[WindowSummary]) -> dict[str, list[Any]]:
    """``hourly.csv`` as columns :data:`HOURLY_COLUMNS` (name -> values)."""
    return _columns([h.as_row(s.window.zone) for s in summaries for h in s.hourly], HOURLY_COLUMNS)


def daily_frame(summaries: Sequence[WindowSummary]) -> pd.DataFrame:
    """:func:`daily_columns` as a DataFrame."""
    import pandas as pd

    return pd.DataFrame(daily_columns(summaries), columns=DAILY_COLUMNS)


def hourly_frame(summaries: Sequence[WindowSummary]) -> pd.DataFrame:
    """:func:`hourly_columns` as a DataFrame."""
    import pandas as pd

    return pd.DataFrame(hourly_columns(summaries), columns=HOURLY_COLUMNS)


def _rate_text(rate: float) -> str:
    """Jerks per hour for the terminal, one decimal; ``-`` without valid time (NaN)."""
    return f"{rate:.1f}" if np.isfinite(rate) else "-"


def night_table(summaries: Sequence[WindowSummary]) -> list[str]:
    """A short per-window table for the terminal: day, jerks, per hour, pattern."""
    lines = [f"{'day':<10}  {'jerks':>6}  {'per hour':>8}  {'valid h':>7}  pattern"]
    for s in summaries:
        lines.append(
            f"{s.window.label:<10}  {s.jerks:>6d}  {_rate_text(s.jerks_per_hour):>8}  "
            f"{s.hours_valid:>7.2f}  {s.pattern.label}"
        )
    return lines
