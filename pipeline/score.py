"""Score detected jerk onsets against ground truth.

Matching is one-to-one: each detected onset may be paired with at most one true
onset and vice versa, and only when the two lie within ``tolerance_s`` of each
other (``|detected - true| <= tolerance_s``). The number of pairs is maximal.

On a line with one tolerance for every point, a two-pointer sweep over the sorted
times finds a maximum matching: pair the earliest unmatched truth with the earliest
detection that can still reach it. (Exchange argument: if the earliest detection
``d`` that reaches the earliest truth ``t`` is paired elsewhere in some maximum
matching, swapping its partner for ``t`` keeps every pair within tolerance because
all later points lie to the right of both.) ``tests/test_score.py`` checks this
against an assignment solver on random inputs.

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

import io
import math
from dataclasses import asdict, dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from pipeline.errors import InputError

DEFAULT_TOLERANCE_S = 0.3


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

    def as_dict(self) -> dict[str, int | float | None]:
        """Plain dict for JSON; NaN becomes ``None``."""
        out: dict[str, int | float | None] = {}
        for key, value in asdict(self).items():
            out[key] = None if isinstance(value, float) and math.isnan(value) else value
        return out


def match_onsets(
    detected: np.ndarray, truth: np.ndarray, tolerance_s: float = DEFAULT_TOLERANCE_S
) -> list[tuple[int, int]]:
    """Maximum one-to-one matching of onsets within ``tolerance_s``.

    Parameters
    ----------
    detected, truth : 1-D arrays of onset times in seconds, any order.
    tolerance_s : greatest allowed ``|detected - true|``, seconds (>= 0).

    Returns
    -------
    Pairs ``(i, j)`` of indices into the *given* ``detected`` and ``truth`` arrays,
    in time order.
    """
    if tolerance_s < 0 or math.isnan(tolerance_s):
        raise ValueError(f"tolerance must be >= 0, got {tolerance_s}")
    d = np.asarray(detected, dtype=np.float64).ravel()
    t = np.asarray(truth, dtype=np.float64).ravel()
    d_order = np.argsort(d, kind="stable")
    t_order = np.argsort(t, kind="stable")
    ds = d[d_order].tolist()
    ts = t[t_order].tolist()
    pairs: list[tuple[int, int]] = []
    i = j = 0
    while i < len(ds) and j < len(ts):
        if ts[j] - ds[i] > tolerance_s:  # detection too early for this and every later truth
            i += 1
        elif ds[i] - ts[j] > tolerance_s:  # truth too early for this and every later detection
            j += 1
        else:
            pairs.append((int(d_order[i]), int(t_order[j])))
            i += 1
            j += 1
    return pairs


def score_onsets(
    detected: np.ndarray, truth: np.ndarray, tolerance_s: float = DEFAULT_TOLERANCE_S
) -> ScoreResult:
    """Score detected onsets (seconds) against true onsets (seconds)."""
    d = np.asarray(detected, dtype=np.float64).ravel()
    t = np.asarray(truth, dtype=np.float64).ravel()
    pairs = match_onsets(d, t, tolerance_s)
    tp = len(pairs)
    fp = d.size - tp
    fn = t.size - tp
    precision = tp / (tp + fp) if tp + fp else 1.0
    recall = tp / (tp + fn) if tp + fn else 1.0
    f1 = 2 * tp / (2 * tp + fp + fn) if tp + fp + fn else 1.0
    if pairs:
        idx_d, idx_t = (np.array(x) for x in zip(*pairs, strict=True))
        err_ms = (d[idx_d] - t[idx_t]) * 1000.0
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
    )


def score_files(
    truth_csv: str | Path, events_csv: str | Path, tolerance_s: float = DEFAULT_TOLERANCE_S
) -> ScoreResult:
    """Score an events CSV against a truth CSV.

    ``truth_csv`` needs a ``time`` column (onset, epoch seconds); when it has a
    ``kind`` column only rows with ``kind == "jerk"`` count (the simulator also lists
    confounders there). ``events_csv`` needs a ``time`` column (epoch seconds), as
    written by ``jerkcount detect``. A header-only file is a valid empty list.
    Raises :class:`InputError` naming the file (and line) for bad input.
    """
    truth = read_onsets(truth_csv, kind="jerk")
    events = read_onsets(events_csv)
    return score_onsets(events, truth, tolerance_s)


def read_onsets(path: str | Path, kind: str | None = None) -> np.ndarray:
    """Read the ``time`` column of a CSV as float seconds.

    Leading ``#`` lines are skipped. With ``kind`` given and a ``kind`` column
    present, only rows of that kind are kept. Raises :class:`InputError` for a
    missing, unreadable, empty, non-CSV or malformed file, naming the line of the
    first bad value.
    """
    path = Path(path)
    text = _read_text(path)
    lines = text.splitlines()
    n_comments = 0
    while n_comments < len(lines) and lines[n_comments].startswith("#"):
        n_comments += 1
    if n_comments == len(lines) or not lines[n_comments].strip():
        raise InputError(path, "empty file: no CSV header")
    header_line = n_comments + 1
    try:
        frame = pd.read_csv(
            io.StringIO(text),
            skiprows=n_comments,
            dtype=str,
            keep_default_na=False,
            skip_blank_lines=False,
            encoding="utf-8",
        )
    except (pd.errors.ParserError, pd.errors.EmptyDataError, ValueError) as err:
        first = str(err).strip().splitlines()[0] if str(err).strip() else type(err).__name__
        raise InputError(path, f"not a valid CSV file ({first})") from None
    frame.columns = [str(c).strip() for c in frame.columns]
    if "time" not in frame.columns:
        found = ",".join(frame.columns) or "nothing"
        raise InputError(path, f"missing column 'time' (header is: {found})", line=header_line)
    if {"ax", "ay", "az"} <= {c.lower() for c in frame.columns}:
        raise InputError(path, "a recording (columns ax,ay,az), not onsets: score takes the "
                         "ground truth (or your annotations) and an events CSV from detect",
                         line=header_line)  # fmt: skip
    times = frame["time"].str.strip()
    numeric = pd.to_numeric(times, errors="coerce").to_numpy(dtype=np.float64)
    bad = np.flatnonzero(~np.isfinite(numeric))
    if bad.size:
        row = int(bad[0])
        value = times.iloc[row]
        what = (
            "time is missing"
            if pd.isna(value) or value == ""
            else f"time is not a number: {value!r}"
        )
        raise InputError(path, what, line=header_line + 1 + row)
    if kind is not None and "kind" in frame.columns:
        numeric = numeric[(frame["kind"].str.strip() == kind).to_numpy()]
    return numeric


def _read_text(path: Path) -> str:
    """The file as UTF-8 text, or :class:`InputError` for anything unreadable."""
    try:
        data = path.read_bytes()
    except FileNotFoundError:
        raise InputError(path, "no such file") from None
    except IsADirectoryError:
        raise InputError(path, "is a directory, not a CSV file") from None
    except PermissionError:
        raise InputError(path, "permission denied") from None
    except OSError as err:
        raise InputError(path, f"cannot read ({err.strerror or err})") from None
    if b"\x00" in data:
        raise InputError(path, "not a CSV text file (binary data)")
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError as err:
        line = data[: err.start].count(b"\n") + 1
        raise InputError(path, "not a CSV text file (not UTF-8)", line=line) from None
