"""Score detected jerk onsets against ground truth.

Matching is one-to-one: each detected onset may be paired with at most one true
onset and vice versa, and only when the two lie within ``tolerance_s`` of each
other (``|detected - true| <= tolerance_s``). The number of pairs is maximal.

Of all maximum matchings, the one with the least total ``|detected - true|`` is
taken, so the onset errors (and which detection of two near one jerk is the false
one) do not depend on the order of the sweep: a truth at 10.0 s with detections at
9.8 and 10.02 s pairs 10.02 (20 ms), not the earlier 9.8 (-200 ms). The times are
cut into independent stretches wherever two consecutive onsets (of either file) lie
more than the tolerance apart (no pair can cross such a cut); a stretch with one
truth and one detection is paired directly, a larger one by dynamic programming over
its sorted onsets that puts the number of pairs first and the total error second.
That is exact because on a line some best matching never crosses: for ``d1 < d2``
and ``t2 < t1``, the pairs ``(d1, t2)``, ``(d2, t1)`` lie within tolerance whenever
``(d1, t1)``, ``(d2, t2)`` do, and their total error is no larger. A stretch whose
detections times truths exceed :data:`SOLVER_CELLS` (a dense run of false
detections, a tolerance of seconds) is matched by the two-pointer sweep, which is
maximum too (pair the earliest unmatched truth with the earliest detection that can
still reach it) but not nearest.
``tests/test_score.py`` checks both against brute force on random inputs.

"Within tolerance" allows :data:`MATCH_SLACK_S` (1 µs) of floating-point rounding:
epoch seconds near 1.77e9 are held to about 0.2 µs, so two onsets written exactly
0.3 s apart (``1767302410.1`` and ``1767302410.4``) differ by 0.30000019 s as
floats and were a miss for one pair in five.

The two CSV files are read by :mod:`pipeline.score_io` (every row checked against
its header, bad rows named by line); its readers are importable from here too.

:func:`match_table` lists every truth and every detection with its outcome (``tp``
matched, ``fn`` missed, ``fp`` false), for ``jerkcount score --matches``.

Jerks whose samples were partly lost on the link (the simulator's truth counts them in
``lost_samples``) can be left out (``exclude_lost``, ``score --exclude-lost``): the
detections are first matched to the other jerks as above; then the detections left
over are matched one-to-one, the same way, to the jerks left out, and those pairs count
neither way (not a hit, not a miss, not a false detection). So leaving a jerk out never
takes a detection from a jerk that is kept, and a detection of a jerk left out is not
counted false.

Conventions for empty inputs, chosen so that "nothing to find and nothing found"
is a perfect score and every other empty case is scored honestly:

- ``precision = tp / (tp + fp)``, and 1.0 when nothing was detected (no false claim
  was made);
- ``recall = tp / (tp + fn)``, and 1.0 when the truth holds no jerk (nothing could
  be missed);
- ``f1 = 2 tp / (2 tp + fp + fn)``, and 1.0 when there is no truth and no
  detection. So no truth but detections gives precision 0, recall 1, F1 0; truth
  but no detections gives precision 1, recall 0, F1 0.
"""

from __future__ import annotations

import logging
import math
from dataclasses import asdict, dataclass
from pathlib import Path

import numpy as np

from pipeline.errors import InputError
from pipeline.score_io import Onsets, read_onset_table, read_onsets

__all__ = [
    "DEFAULT_TOLERANCE_S", "MATCH_COLUMNS", "MATCH_FORMATS", "MATCH_SLACK_S", "Onsets",
    "ScoreResult", "SOLVER_CELLS",
    "check_tolerance", "excused_pairs", "match_onsets", "match_table", "onset_errors_ms",
    "read_onset_table", "read_onsets",
    "score_files", "score_onsets", "split_lost",
]  # fmt: skip

log = logging.getLogger(__name__)

DEFAULT_TOLERANCE_S = 0.3
#: Seconds of floating-point rounding allowed on top of the tolerance (epoch seconds
#: as float64 carry ~0.2 µs; the CSVs hold times to 0.1 ms).
MATCH_SLACK_S = 1e-6
#: Largest stretch (detections x truths: the cells of the dynamic programme, about a
#: second in all) matched nearest-first; beyond, the two-pointer sweep.
SOLVER_CELLS = 1_000_000
#: Columns of the matches CSV, in order (``jerkcount score --matches``).
MATCH_COLUMNS = (
    "status", "truth_time", "event_time", "error_ms", "truth_peak_g", "event_peak_g",
    "truth_duration_ms", "event_duration_ms", "truth_detail",
)  # fmt: skip
#: Their numeric formats (times to the millisecond's tenth, sizes as in the events CSV).
MATCH_FORMATS = {
    "truth_time": "%.4f", "event_time": "%.4f", "error_ms": "%.1f", "truth_peak_g": "%.4f",
    "event_peak_g": "%.4f", "truth_duration_ms": "%.1f", "event_duration_ms": "%.1f",
}  # fmt: skip


@dataclass(frozen=True)
class ScoreResult:
    """Counts and rates of one scoring.

    Attributes
    ----------
    tp, fp, fn : matched detections, unmatched detections, unmatched truths.
    precision, recall, f1 : in [0, 1]; see the module docstring for empty inputs.
    tolerance_s : the matching tolerance, seconds.
    mean_onset_error_ms, median_onset_error_ms : mean and median of
        ``|detected - true|`` over the matched pairs, milliseconds (NaN without pairs).
    onset_bias_ms : mean of ``detected - true`` over the matched pairs, milliseconds
        (positive: detections late); NaN without pairs.
    excluded_truths : true jerks left out (``exclude_lost``: samples lost on the link).
    excluded_detections : detections that matched one of them, counted neither way.
    """

    tp: int
    fp: int
    fn: int
    precision: float
    recall: float
    f1: float
    tolerance_s: float
    mean_onset_error_ms: float
    median_onset_error_ms: float
    onset_bias_ms: float
    excluded_truths: int = 0
    excluded_detections: int = 0

    def as_dict(self) -> dict[str, int | float | None]:
        """Plain dict for JSON; NaN becomes ``None``."""
        out: dict[str, int | float | None] = {}
        for key, value in asdict(self).items():
            out[key] = None if isinstance(value, float) and math.isnan(value) else value
        return out


def check_tolerance(tolerance_s: float) -> float:
    """``tolerance_s`` as a float when it is a finite number of seconds >= 0, else
    :class:`ValueError` saying so (NaN would match nothing and infinity everything,
    each silently)."""
    value = float(tolerance_s)
    if not math.isfinite(value) or value < 0:
        raise ValueError(f"tolerance must be a finite number of seconds >= 0, got {tolerance_s}")
    return value


def match_onsets(
    detected: np.ndarray, truth: np.ndarray, tolerance_s: float = DEFAULT_TOLERANCE_S
) -> list[tuple[int, int]]:
    """Maximum one-to-one matching of onsets within ``tolerance_s``, nearest first.

    Parameters
    ----------
    detected, truth : 1-D arrays of onset times in seconds, any order.
    tolerance_s : greatest allowed ``|detected - true|``, seconds (>= 0); up to
        :data:`MATCH_SLACK_S` more is allowed for floating-point rounding.

    Returns
    -------
    Pairs ``(i, j)`` of indices into the *given* ``detected`` and ``truth`` arrays,
    in time order: as many as any one-to-one matching within tolerance has, and of
    those matchings the one with the least total ``|detected - true|`` (see the
    module docstring).
    """
    reach = check_tolerance(tolerance_s) + MATCH_SLACK_S
    d = np.asarray(detected, dtype=np.float64).ravel()
    t = np.asarray(truth, dtype=np.float64).ravel()
    d_order = np.argsort(d, kind="stable")
    t_order = np.argsort(t, kind="stable")
    ds, ts = d[d_order], t[t_order]
    pairs: list[tuple[int, int]] = []
    for (d0, d1), (t0, t1) in _stretches(ds, ts, reach):
        for a, b in _match_stretch(ds[d0:d1], ts[t0:t1], reach):
            pairs.append((int(d_order[d0 + a]), int(t_order[t0 + b])))
    pairs.sort(key=lambda p: (float(t[p[1]]), float(d[p[0]])))
    return pairs


def _stretches(
    ds: np.ndarray, ts: np.ndarray, reach: float
) -> list[tuple[tuple[int, int], tuple[int, int]]]:
    """Index ranges ``((d0, d1), (t0, t1))`` into the sorted ``ds`` and ``ts`` of the
    stretches that hold onsets of both: the union of the times is cut wherever two
    consecutive ones lie more than ``reach`` seconds apart."""
    if ds.size == 0 or ts.size == 0:
        return []
    both = np.concatenate([ds, ts])
    is_d = np.concatenate([np.ones(ds.size, dtype=bool), np.zeros(ts.size, dtype=bool)])
    order = np.argsort(both, kind="stable")
    cut = np.flatnonzero(np.diff(both[order]) > reach) + 1
    bounds = np.concatenate(([0], cut, [both.size]))
    d_count = np.concatenate(([0], np.cumsum(is_d[order])))
    out = []
    for lo, hi in zip(bounds[:-1], bounds[1:], strict=True):
        d0, d1 = int(d_count[lo]), int(d_count[hi])
        t0, t1 = int(lo - d0), int(hi - d1)
        if d1 > d0 and t1 > t0:
            out.append(((d0, d1), (t0, t1)))
    return out


def _match_stretch(ds: np.ndarray, ts: np.ndarray, reach: float) -> list[tuple[int, int]]:
    """The pairs ``(a, b)`` (indices into the sorted stretch ``ds``, ``ts``) of a maximum
    matching within ``reach`` with the least total error (the sweep beyond
    :data:`SOLVER_CELLS`)."""
    if ds.size == 1 and ts.size == 1:
        return [(0, 0)] if abs(ds[0] - ts[0]) <= reach else []
    if ds.size * ts.size > SOLVER_CELLS:
        return _sweep(ds, ts, reach)
    return _nearest(ds.tolist(), ts.tolist(), reach)


def _nearest(ds: list[float], ts: list[float], reach: float) -> list[tuple[int, int]]:
    """Of the non-crossing matchings of the sorted ``ds`` and ``ts`` within ``reach``
    (among which is a best one, see the module docstring), one with the most pairs and,
    of those, the least total error: ``best[i][j]`` is ``(pairs, -error)`` for the
    first ``i`` detections and ``j`` truths."""
    n, m = len(ds), len(ts)
    best = [[(0, 0.0)] * (m + 1) for _ in range(n + 1)]
    for i in range(1, n + 1):
        row, above = best[i], best[i - 1]
        for j in range(1, m + 1):
            pick = max(above[j], row[j - 1])
            err = abs(ds[i - 1] - ts[j - 1])
            if err <= reach:
                count, neg = above[j - 1]
                pick = max(pick, (count + 1, neg - err))
            row[j] = pick
    pairs: list[tuple[int, int]] = []
    i, j = n, m
    while i and j:  # walk back the choices
        if best[i][j] == best[i - 1][j]:
            i -= 1
        elif best[i][j] == best[i][j - 1]:
            j -= 1
        else:
            pairs.append((i - 1, j - 1))
            i, j = i - 1, j - 1
    return pairs[::-1]


def _sweep(ds: np.ndarray, ts: np.ndarray, reach: float) -> list[tuple[int, int]]:
    """Two-pointer maximum matching of the sorted ``ds`` and ``ts`` within ``reach``."""
    pairs: list[tuple[int, int]] = []
    i = j = 0
    dl, tl = ds.tolist(), ts.tolist()
    while i < len(dl) and j < len(tl):
        if tl[j] - dl[i] > reach:  # detection too early for this and every later truth
            i += 1
        elif dl[i] - tl[j] > reach:  # truth too early for this and every later detection
            j += 1
        else:
            pairs.append((i, j))
            i += 1
            j += 1
    return pairs


def onset_errors_ms(detected: np.ndarray | float, truth: np.ndarray | float) -> np.ndarray:
    """``detected - truth`` (paired arrays, or two numbers, of epoch s) in milliseconds,
    same shape, rounded to the microsecond: the float64 difference of two epoch times
    carries ~0.2 µs of rounding (300 ms apart read as 299.99995 ms), far below the
    0.1 ms the CSVs hold."""
    return np.round((np.asarray(detected) - np.asarray(truth)) * 1000.0, 3)


def excused_pairs(
    detected: np.ndarray,
    pairs: list[tuple[int, int]],
    excluded: np.ndarray,
    tolerance_s: float = DEFAULT_TOLERANCE_S,
) -> list[tuple[int, int]]:
    """The detections that ``pairs`` (of :func:`match_onsets`) left unmatched, matched
    one-to-one to the ``excluded`` true onsets (seconds) the same way: pairs ``(i, k)``
    of indices into ``detected`` and ``excluded``, counted neither way."""
    d = np.asarray(detected, dtype=np.float64).ravel()
    x = np.asarray(excluded, dtype=np.float64).ravel()
    if not x.size:
        return []
    paired = {i for i, _ in pairs}
    left = np.array([i for i in range(d.size) if i not in paired], dtype=np.int64)
    return [(int(left[a]), k) for a, k in match_onsets(d[left], x, tolerance_s)]


def score_onsets(
    detected: np.ndarray,
    truth: np.ndarray,
    tolerance_s: float = DEFAULT_TOLERANCE_S,
    excluded: np.ndarray | None = None,
) -> ScoreResult:
    """Score detected onsets (seconds) against true onsets (seconds); the true onsets
    ``excluded`` (seconds) are left out, with the detections that match them (see the
    module docstring)."""
    d = np.asarray(detected, dtype=np.float64).ravel()
    t = np.asarray(truth, dtype=np.float64).ravel()
    x = np.empty(0) if excluded is None else np.asarray(excluded, dtype=np.float64).ravel()
    pairs = match_onsets(d, t, tolerance_s)
    excused = excused_pairs(d, pairs, x, tolerance_s)
    tp = len(pairs)
    fp = d.size - tp - len(excused)
    fn = t.size - tp
    precision = tp / (tp + fp) if tp + fp else 1.0
    recall = tp / (tp + fn) if tp + fn else 1.0
    f1 = 2 * tp / (2 * tp + fp + fn) if tp + fp + fn else 1.0
    if pairs:
        idx_d, idx_t = (np.array(x) for x in zip(*pairs, strict=True))
        err_ms = onset_errors_ms(d[idx_d], t[idx_t])
        mean_err = float(np.mean(np.abs(err_ms)))
        median_err = float(np.median(np.abs(err_ms)))
        bias = float(np.mean(err_ms))
    else:
        mean_err = median_err = bias = math.nan
    return ScoreResult(
        tp=tp,
        fp=fp,
        fn=fn,
        precision=precision,
        recall=recall,
        f1=f1,
        tolerance_s=float(tolerance_s),
        mean_onset_error_ms=mean_err,
        median_onset_error_ms=median_err,
        onset_bias_ms=bias,
        excluded_truths=int(x.size),
        excluded_detections=len(excused),
    )


def score_files(
    truth_csv: str | Path,
    events_csv: str | Path,
    tolerance_s: float = DEFAULT_TOLERANCE_S,
    matches: str | Path | None = None,
    exclude_lost: bool = False,
) -> ScoreResult:
    """Score an events CSV against a truth CSV; with ``matches``, also write there
    (atomically) every truth and detection with its outcome (:func:`match_table`).

    ``truth_csv`` needs a ``time`` column (onset, epoch seconds); when it has a
    ``kind`` column only rows with ``kind == "jerk"`` count (the simulator also lists
    confounders there). ``events_csv`` needs a ``time`` column (epoch seconds), as
    written by ``jerkcount detect``. A header-only file is a valid empty list. With
    ``exclude_lost``, the true jerks with ``lost_samples`` above 0 are left out
    (:func:`split_lost`), and the detections that match them.
    Raises :class:`InputError` naming the file (and line) for bad input, and
    :class:`ValueError` for a tolerance that is negative or not finite, before any
    file is read or written.
    """
    check_tolerance(tolerance_s)
    if matches is not None:
        from pipeline.inputs import check_spares_inputs

        check_spares_inputs([matches], [truth_csv, events_csv])
    truth = read_onset_table(truth_csv, kind="jerk")
    events = read_onset_table(events_csv)
    _check_order(Path(truth_csv), Path(events_csv))
    apart = spans_apart(truth.time, events.time, tolerance_s)
    if apart is not None:
        log.warning("the onsets of %s and of %s %s: a different night, or times in "
                    "another unit?", truth_csv, events_csv, apart)  # fmt: skip
    excluded = None
    if exclude_lost:
        truth, excluded = split_lost(truth, Path(truth_csv))
    if matches is not None:
        from pipeline.outputs import write_columns_csv

        table = match_table(events, truth, tolerance_s, excluded)
        write_columns_csv(matches, table, MATCH_FORMATS)
    return score_onsets(
        events.time, truth.time, tolerance_s, None if excluded is None else excluded.time
    )


def spans_apart(truth: np.ndarray, detected: np.ndarray, tolerance_s: float) -> str | None:
    """When no onset of either list lies within ``tolerance_s`` of the other's span
    (both non-empty; epoch s), what the two spans are, as text; else ``None``. Such
    files cannot have a match: another night's events, or onsets in another unit.
    "Within" allows :data:`MATCH_SLACK_S`, as matching does: onsets written exactly
    ``tolerance_s`` apart (``1767302410.1`` and ``1767302410.4``) match, so they meet."""
    if not truth.size or not detected.size:
        return None
    t0, t1 = float(np.min(truth)), float(np.max(truth))
    d0, d1 = float(np.min(detected)), float(np.max(detected))
    reach = tolerance_s + MATCH_SLACK_S
    if d0 <= t1 + reach and t0 <= d1 + reach:
        return None
    return f"do not overlap (truth {_span(t0, t1)}, events {_span(d0, d1)})"


def _span(a: float, b: float) -> str:
    """``a``..``b`` (epoch s) as UTC times, or as numbers where they are no dates."""
    from datetime import UTC, datetime

    try:
        first, last = (datetime.fromtimestamp(x, UTC) for x in (a, b))
    except (OverflowError, OSError, ValueError):
        return f"{a:g} to {b:g} s"
    return f"{first:%Y-%m-%d %H:%M:%S} to {last:%Y-%m-%d %H:%M:%S} UTC"


def split_lost(truth: Onsets, path: Path) -> tuple[Onsets, Onsets]:
    """``(kept, left out)``: the true jerks without and with samples lost on the link
    (``lost_samples`` 0, and above 0). :class:`InputError` naming ``path`` when it has
    no ``lost_samples`` column, or naming the line of a jerk whose count is not a
    whole number >= 0."""
    if not truth.has_lost:
        raise InputError(
            path, "no lost_samples column, which --exclude-lost needs (simulate writes it "
            "since 0.4.5: simulate the night again)",
        )  # fmt: skip
    bad = np.flatnonzero(np.isnan(truth.lost_samples))
    if bad.size:
        raise InputError(path, "lost_samples is not a whole number >= 0",
                         line=int(truth.lines[bad[0]]))  # fmt: skip
    lost = truth.lost_samples > 0
    return truth.subset(~lost), truth.subset(lost)


def _check_order(truth_csv: Path, events_csv: Path) -> None:
    """:class:`InputError` when the two files are given the wrong way round: an events
    CSV from ``detect`` as the truth and ``simulate``'s ground truth as the events
    (whose confounder rows would count as detections, precision and recall swapped)."""
    from pipeline.inputs import output_table

    if output_table(truth_csv) == "events table" and output_table(events_csv) == (
        "ground-truth table"
    ):
        raise InputError(
            events_csv,
            f"a ground-truth table, and {truth_csv} an events CSV from detect: score takes "
            "TRUTH first, then EVENTS (swapped?)",
        )


def match_table(
    events: Onsets,
    truth: Onsets,
    tolerance_s: float = DEFAULT_TOLERANCE_S,
    excluded: Onsets | None = None,
) -> dict[str, list[object]]:
    """Every truth and every detection with its outcome, in time order (a pair at its
    true onset): columns :data:`MATCH_COLUMNS`, ``status`` ``tp`` (a pair; ``error_ms``
    is detected minus true onset), ``fn`` (a truth no detection matched) or ``fp`` (a
    detection that matched no truth); the other side's cells are NaN (empty). The true
    jerks ``excluded`` (left out: samples lost on the link) are rows ``excluded``, with
    the detection that matched one, if any (:func:`excused_pairs`)."""
    pairs = match_onsets(events.time, truth.time, tolerance_s)
    paired_e = {i for i, _ in pairs}
    paired_t = {j for _, j in pairs}
    rows: list[tuple[float, tuple[str, int | None, int | None]]] = []
    rows += [(float(truth.time[j]), ("tp", i, j)) for i, j in pairs]
    rows += [(float(truth.time[j]), ("fn", None, j)) for j in range(truth.time.size)
             if j not in paired_t]  # fmt: skip
    if excluded is not None and excluded.time.size:
        excused = excused_pairs(events.time, pairs, excluded.time, tolerance_s)
        paired_e |= {i for i, _ in excused}
        by_truth = {k: i for i, k in excused}
        # excluded truths are indexed past the kept ones in one joined table
        offset = truth.time.size
        truth = _joined(truth, excluded)
        rows += [(float(truth.time[offset + k]), ("excluded", by_truth.get(k), offset + k))
                 for k in range(excluded.time.size)]  # fmt: skip
    rows += [(float(events.time[i]), ("fp", i, None)) for i in range(events.time.size)
             if i not in paired_e]  # fmt: skip
    rows.sort(key=lambda r: r[0])
    table: dict[str, list[object]] = {c: [] for c in MATCH_COLUMNS}
    for _, (status, i, j) in rows:
        table["status"].append(status)
        table["truth_time"].append(_at(truth.time, j))
        table["event_time"].append(_at(events.time, i))
        lag_ms = onset_errors_ms(_at(events.time, i), _at(truth.time, j))
        paired = status == "tp" or (status == "excluded" and i is not None)
        table["error_ms"].append(float(lag_ms) if paired else math.nan)
        table["truth_peak_g"].append(_at(truth.peak_g, j))
        table["event_peak_g"].append(_at(events.peak_g, i))
        table["truth_duration_ms"].append(_at(truth.duration_ms, j))
        table["event_duration_ms"].append(_at(events.duration_ms, i))
        table["truth_detail"].append(truth.detail[j] if j is not None else "")
    return table


def _joined(a: Onsets, b: Onsets) -> Onsets:
    """``a``'s onsets followed by ``b``'s, every column alike."""
    return Onsets(
        np.concatenate([a.time, b.time]),
        np.concatenate([a.peak_g, b.peak_g]),
        np.concatenate([a.duration_ms, b.duration_ms]),
        [*a.detail, *b.detail],
        np.concatenate([a.lost_samples, b.lost_samples]),
        np.concatenate([a.lines, b.lines]),
        a.has_lost,
    )


def _at(values: np.ndarray, k: int | None) -> float:
    """``values[k]`` as a float; NaN (an empty cell) without an index."""
    return float(values[k]) if k is not None else math.nan
