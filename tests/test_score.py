"""Onset matching and scoring."""

from __future__ import annotations

import itertools
import math
from pathlib import Path
from unittest.mock import patch

import numpy as np
import pytest
from click.testing import CliRunner
from hypothesis import given, settings
from hypothesis import strategies as st
from scipy.optimize import linear_sum_assignment

from cli import main
from pipeline.errors import InputError
from pipeline.score import (
    MATCH_COLUMNS,
    MATCH_SLACK_S,
    match_onsets,
    read_onsets,
    score_files,
    score_onsets,
)


def _max_matching_lsa(d: list[float], t: list[float], tol: float) -> int:
    """Maximum one-to-one matching size by an assignment solver (reference)."""
    if not d or not t:
        return 0
    allowed = np.array([[abs(a - b) <= tol + MATCH_SLACK_S for b in t] for a in d])
    rows, cols = linear_sum_assignment(-allowed.astype(float))
    return int(allowed[rows, cols].sum())


def _best_matching_brute(d: list[float], t: list[float], tol: float) -> tuple[int, float]:
    """``(pairs, least total |error|)`` of a maximum matching within ``tol`` (and the
    rounding slack), by trying every injection of the smaller side (tiny inputs)."""
    small, large = (d, t) if len(d) <= len(t) else (t, d)
    best = (0, 0.0)
    for perm in itertools.permutations(range(len(large)), len(small)):
        errs = [abs(small[i] - large[j]) for i, j in enumerate(perm)]
        errs = [e for e in errs if e <= tol + MATCH_SLACK_S]
        if (len(errs), -sum(errs)) > (best[0], -best[1]):
            best = (len(errs), sum(errs))
    return best


def _max_matching_brute(d: list[float], t: list[float], tol: float) -> int:
    """Maximum matching by trying every injection of the smaller side (tiny inputs)."""
    return _best_matching_brute(d, t, tol)[0]


# Times on a coarse grid make ties at exactly the tolerance common.
_times = st.lists(st.integers(0, 40).map(lambda k: k * 0.1), max_size=9)


@settings(max_examples=400, deadline=None)
@given(d=_times, t=_times, tol=st.sampled_from([0.0, 0.1, 0.25, 0.3, 0.5, 1.0]))
def test_greedy_matching_is_maximum(d: list[float], t: list[float], tol: float) -> None:
    pairs = match_onsets(np.array(d), np.array(t), tol)
    # a valid one-to-one matching within tolerance ...
    assert len({i for i, _ in pairs}) == len(pairs)
    assert len({j for _, j in pairs}) == len(pairs)
    assert all(abs(d[i] - t[j]) <= tol + MATCH_SLACK_S for i, j in pairs)
    # ... of maximum size
    assert len(pairs) == _max_matching_lsa(d, t, tol)


@settings(max_examples=150, deadline=None)
@given(
    d=st.lists(st.floats(0, 5, allow_nan=False), max_size=6),
    t=st.lists(st.floats(0, 5, allow_nan=False), max_size=6),
    tol=st.floats(0, 1.5, allow_nan=False),
)
def test_greedy_matches_brute_force_on_real_times(
    d: list[float], t: list[float], tol: float
) -> None:
    assert len(match_onsets(np.array(d), np.array(t), tol)) == _max_matching_brute(d, t, tol)


@settings(max_examples=200, deadline=None)
@given(
    d=st.lists(st.integers(0, 30).map(lambda k: k * 0.05), max_size=6),
    t=st.lists(st.integers(0, 30).map(lambda k: k * 0.05), max_size=6),
    tol=st.sampled_from([0.0, 0.1, 0.25, 0.3]),
)
def test_matching_has_the_least_total_error_of_the_maximum_ones(
    d: list[float], t: list[float], tol: float
) -> None:
    pairs = match_onsets(np.array(d), np.array(t), tol)
    count, error = _best_matching_brute(d, t, tol)
    assert len(pairs) == count
    assert sum(abs(d[i] - t[j]) for i, j in pairs) == pytest.approx(error, abs=1e-9)


def test_the_nearest_of_two_detections_is_the_match() -> None:
    """A truth at 10.0 s, detections at 9.8 and 10.02 s: the pair is 10.02 (+20 ms) and
    9.8 is the false one (the sweep paired the earlier 9.8, -200 ms, and called the
    near one false); with two truths the count stays maximal and the error least."""
    assert match_onsets(np.array([9.8, 10.02]), np.array([10.0])) == [(1, 0)]
    r = score_onsets(np.array([9.8, 10.02]), np.array([10.0]))
    assert (r.tp, r.fp, r.fn) == (1, 1, 0)
    assert r.mean_onset_error_ms == pytest.approx(20.0)
    assert r.onset_bias_ms == pytest.approx(20.0)
    two = score_onsets(np.array([0.25, 0.3, 0.55]), np.array([0.0, 0.5]))
    assert (two.tp, two.fp, two.fn) == (2, 1, 0)
    assert two.mean_onset_error_ms == pytest.approx((250 + 50) / 2)  # the sweep: (250+200)/2
    assert sorted(match_onsets(np.array([0.25, 0.3, 0.55]), np.array([0.0, 0.5]))) == [
        (0, 0), (2, 1),
    ]  # fmt: skip


def test_onsets_exactly_the_tolerance_apart_match_as_written() -> None:
    """Epoch seconds written 0.3 s apart differ by 0.30000019 s as floats for one pair
    in five (1767302410.1 and 1767302410.4): they match, as 1.0 and 1.3 do (0.3 +
    4e-17); 0.3001 s apart does not."""
    truth = np.round(1767302400.0 + np.arange(1000) * 10.1, 4)
    late = np.round(truth + 0.3, 4)
    early = np.round(truth - 0.3, 4)
    assert score_onsets(late, truth, 0.3).tp == 1000
    assert score_onsets(early, truth, 0.3).tp == 1000
    assert score_onsets(np.array([1767302410.4]), np.array([1767302410.1]), 0.3).tp == 1
    assert score_onsets(np.array([1.3]), np.array([1.0]), 0.3).tp == 1
    assert score_onsets(np.array([3.6]), np.array([3.5]), 0.1).tp == 1
    assert score_onsets(np.round(truth + 0.3001, 4), truth, 0.3).tp == 0
    assert score_onsets(np.array([1767302410.1]), np.array([1767302410.1]), 0.0).tp == 1


@pytest.mark.parametrize(("n_truth", "n_det"), [(1500, 1500), (20, 60_000)])
def test_a_stretch_beyond_the_solver_is_still_a_maximum_matching(n_truth: int, n_det: int) -> None:
    """A dense run (1500 truths and detections every 0.2 s; 20 truths in 60 000
    detections every 0.1 s) is one stretch too large for the assignment solver's
    matrix: the sweep matches as many as can be, quickly and in little memory."""
    t = np.arange(n_truth) * (0.2 if n_truth == n_det else 300.0)
    d = np.arange(n_det) * 0.1 + 0.05 if n_det > n_truth else t + 0.1
    pairs = match_onsets(d, t, 0.3)
    assert len(pairs) == n_truth
    assert all(abs(d[i] - t[j]) <= 0.3 for i, j in pairs)


def test_greedy_beats_nearest_neighbour_trap() -> None:
    # nearest-first would pair 1.0 with 1.2 and leave 0.8 and 1.45 unmatched
    pairs = match_onsets(np.array([1.0, 1.2]), np.array([0.8, 1.45]), 0.3)
    assert sorted(pairs) == [(0, 0), (1, 1)]


def test_score_counts_and_errors() -> None:
    truth = np.array([10.0, 20.0, 30.0, 40.0])
    detected = np.array([10.05, 19.9, 33.0, 50.0, 30.02])
    r = score_onsets(detected, truth, 0.3)
    assert (r.tp, r.fp, r.fn) == (3, 2, 1)
    assert r.precision == pytest.approx(3 / 5)
    assert r.recall == pytest.approx(3 / 4)
    assert r.f1 == pytest.approx(2 * 3 / (2 * 3 + 2 + 1))
    assert r.mean_onset_error_ms == pytest.approx((50 + 100 + 20) / 3)
    assert r.median_onset_error_ms == pytest.approx(50)
    assert r.onset_bias_ms == pytest.approx((50 - 100 + 20) / 3)
    assert r.tolerance_s == 0.3


def test_tolerance_boundary_is_inclusive() -> None:
    r = score_onsets(np.array([1.5]), np.array([1.0]), 0.5)
    assert r.tp == 1
    assert score_onsets(np.array([1.5001]), np.array([1.0]), 0.5).tp == 0
    assert score_onsets(np.array([1.500002]), np.array([1.0]), 0.5).tp == 0


def test_empty_cases_are_defined() -> None:
    none = score_onsets(np.array([]), np.array([]))
    assert (none.tp, none.fp, none.fn) == (0, 0, 0)
    assert (none.precision, none.recall, none.f1) == (1.0, 1.0, 1.0)
    assert math.isnan(none.mean_onset_error_ms)
    assert none.as_dict()["mean_onset_error_ms"] is None

    missed = score_onsets(np.array([]), np.array([1.0, 2.0]))
    assert (missed.precision, missed.recall, missed.f1) == (1.0, 0.0, 0.0)
    assert missed.fn == 2

    spurious = score_onsets(np.array([1.0]), np.array([]))
    assert (spurious.precision, spurious.recall, spurious.f1) == (0.0, 1.0, 0.0)
    assert spurious.fp == 1


def test_negative_tolerance_rejected() -> None:
    with pytest.raises(ValueError):
        match_onsets(np.array([1.0]), np.array([1.0]), -0.1)


def _write(path: Path, text: str) -> Path:
    path.write_text(text, encoding="utf-8")
    return path


def test_score_files_uses_jerk_rows_only(tmp_path: Path) -> None:
    truth = _write(
        tmp_path / "truth.csv",
        "kind,time,end,peak_g,duration_ms,detail\n"
        "jerk,100.0,100.1,0.5,80,biphasic\n"
        "walking,200.0,260.0,,,\n"
        "jerk,300.0,300.05,0.3,50,pulse\n",
    )
    events = _write(
        tmp_path / "events.csv",
        "time,time_local,peak_g,duration_ms,axis\n"
        "100.050,1970-01-01T00:01:40.050+00:00,0.5,80,x\n"
        "210.000,1970-01-01T00:03:30.000+00:00,0.9,40,z\n",
    )
    r = score_files(truth, events, 0.3)
    assert (r.tp, r.fp, r.fn) == (1, 1, 1)
    assert r.mean_onset_error_ms == pytest.approx(50.0)


def test_score_files_refuses_truth_and_events_swapped(tmp_path: Path) -> None:
    """detect's events first and simulate's truth second would count the walk as a
    detection and swap precision and recall: a one-line error instead (exit 2); two
    events files (one detector against another) are scored as given."""
    truth = _write(
        tmp_path / "night.truth.csv",
        "kind,time,end,peak_g,duration_ms,detail\n"
        "jerk,100.0,100.1,0.5,80,biphasic\n"
        "walking,200.0,260.0,,,\n",
    )
    events = _write(
        tmp_path / "night.events.csv",
        "# device: simulated\n"
        "time,time_local,peak_g,duration_ms,axis,peak_time,background_g,clipped\n"
        "100.050,1970-01-01T00:01:40.050+00:00,0.5,80,x,100.06,0.01,False\n",
    )
    with pytest.raises(InputError) as err:
        score_files(events, truth)
    assert str(err.value) == (
        f"{truth}: a ground-truth table, and {events} an events CSV from detect: score "
        "takes TRUTH first, then EVENTS (swapped?)"
    )
    r = score_files(truth, events)
    assert (r.tp, r.fp, r.fn) == (1, 0, 0)
    assert (score_files(events, events).tp, score_files(truth, truth).tp) == (1, 1)
    res = CliRunner().invoke(main, ["score", str(events), str(truth)])
    assert res.exit_code == 2
    assert res.output == f"jerkcount: error: {err.value}\n"


def test_matches_csv_lists_every_truth_and_detection(tmp_path: Path) -> None:
    """``--matches``: a pair at its true onset, the miss and the false one, exact bytes;
    an onset list with no sizes leaves those cells empty."""
    truth = _write(
        tmp_path / "truth.csv",
        "kind,time,end,peak_g,duration_ms,detail\n"
        "jerk,300.0,300.05,0.3,50,pulse\n"
        "walking,200.0,260.0,,,\n"
        "jerk,100.0,100.1,0.5,80,biphasic\n",
    )
    events = _write(
        tmp_path / "events.csv",
        "time,time_local,peak_g,duration_ms,axis\n"
        "100.050,1970-01-01T00:01:40.050+00:00,0.48,70,x\n"
        "210.000,1970-01-01T00:03:30.000+00:00,0.9,40,z\n",
    )
    out = tmp_path / "matches.csv"
    r = score_files(truth, events, 0.3, matches=out)
    assert (r.tp, r.fp, r.fn) == (1, 1, 1)
    assert out.read_text() == (
        ",".join(MATCH_COLUMNS) + "\n"
        "tp,100.0000,100.0500,50.0,0.5000,0.4800,80.0,70.0,biphasic\n"
        "fp,,210.0000,,,0.9000,,40.0,\n"
        "fn,300.0000,,,0.3000,,50.0,,pulse\n"
    )
    plain = _write(tmp_path / "onsets.csv", "time\n99.9\n")
    score_files(plain, events, 0.3, matches=out)
    assert out.read_text().splitlines()[1:] == [
        "tp,99.9000,100.0500,150.0,,0.4800,,70.0,",
        "fp,,210.0000,,,0.9000,,40.0,",
    ]
    assert MATCH_COLUMNS == (
        "status", "truth_time", "event_time", "error_ms", "truth_peak_g", "event_peak_g",
        "truth_duration_ms", "event_duration_ms", "truth_detail",
    )  # fmt: skip


def test_read_onsets_skips_comments_and_allows_header_only(tmp_path: Path) -> None:
    p = _write(tmp_path / "e.csv", "# source: x\n# fs: 100\ntime,peak_g\n1.5,0.2\n2.5,0.3\n")
    assert read_onsets(p).tolist() == [1.5, 2.5]
    h = _write(tmp_path / "h.csv", "time,time_local,peak_g,duration_ms,axis\n")
    assert read_onsets(h).size == 0


@pytest.mark.parametrize(
    ("content", "line", "fragment"),
    [
        (b"", None, "empty file"),
        (b"# only: comments\n", None, "empty file"),
        (b"onset,peak\n1.0,2.0\n", 1, "missing column 'time'"),
        (b"# a: b\ntime,peak_g\n1.0,0.1\nabc,0.2\n", 4, "not a number: 'abc'"),
        (b"time,peak_g\n1.0,0.1\n,0.2\n", 3, "time is missing"),
        (b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR", None, "binary"),
        (b"time\n\xff\xfe1.0\n", 2, "not UTF-8"),
        (b"# fs: 100\ntime,ax,ay,az\n1767302400.0,0,0,1\n", 2, "a recording (columns ax,ay,az)"),
    ],
)
def test_bad_files_raise_input_error(
    tmp_path: Path, content: bytes, line: int | None, fragment: str
) -> None:
    p = tmp_path / "bad.csv"
    p.write_bytes(content)
    with pytest.raises(InputError) as info:
        read_onsets(p)
    err = info.value
    assert err.path == str(p)
    assert err.line == line
    assert fragment in str(err)
    assert "\n" not in str(err)


def test_missing_file_and_directory(tmp_path: Path) -> None:
    with pytest.raises(InputError, match="no such file"):
        read_onsets(tmp_path / "nope.csv")
    with pytest.raises(InputError, match="is a directory"):
        read_onsets(tmp_path)


def test_a_long_header_without_time_is_named_in_short(tmp_path: Path) -> None:
    """A file whose first line is all of it (its line ends lost): the one-line error
    quotes the start of that line, not 200 kB of it."""
    bad = _write(tmp_path / "one_line.csv", "\\\\n".join(["onset", *map(str, range(20000))]))
    with pytest.raises(InputError) as err:
        score_files(bad, bad)
    text = str(err.value)
    assert text.startswith(f"{bad}:1: missing column 'time' (header is: onset\\\\n0\\\\n1\\\\n")
    assert text.endswith("...)") and len(text) < len(str(bad)) + 140


def test_matches_csv_pairs_the_nearest_detection(tmp_path: Path) -> None:
    """--matches: of two detections near one jerk the nearer is the pair, the other the
    false one (the earlier 9.8 was paired, -200 ms, and 10.02 listed as false)."""
    truth = _write(tmp_path / "truth.csv", "kind,time,end,peak_g,duration_ms,detail\n"
                   "jerk,10.0,10.1,0.5,80,biphasic\n")  # fmt: skip
    events = _write(tmp_path / "events.csv", "time,peak_g,duration_ms\n9.8,0.2,30\n10.02,0.5,70\n")
    out = tmp_path / "matches.csv"
    r = score_files(truth, events, 0.3, matches=out)
    assert (r.tp, r.fp, r.fn, r.median_onset_error_ms) == (1, 1, 0, pytest.approx(20.0))
    assert out.read_text().splitlines()[1:] == [
        "fp,,9.8000,,,0.2000,,30.0,",
        "tp,10.0000,10.0200,20.0,0.5000,0.5000,80.0,70.0,biphasic",
    ]


def test_onset_errors_are_those_written_not_float_noise(tmp_path: Path) -> None:
    """Epoch onsets 300 and 23.15 ms apart gave errors of 299.99995 and 23.14997 ms
    (the float64 difference of two epoch seconds): the errors are the written ones."""
    truth = _write(tmp_path / "truth.csv", "time\n1767302400.0000\n1767302410.1000\n")
    events = _write(tmp_path / "events.csv", "time\n1767302400.3000\n1767302410.12315\n")
    r = score_files(truth, events, 0.3)
    assert (r.tp, r.mean_onset_error_ms, r.median_onset_error_ms) == (2, 161.575, 161.575)
    assert r.as_dict()["onset_bias_ms"] == 161.575
    pairs = sorted(match_onsets(read_onsets(events), read_onsets(truth)))
    assert pairs == [(0, 0), (1, 1)]
    out = tmp_path / "m.csv"
    score_files(truth, events, 0.3, matches=out)
    assert [ln.split(",")[3] for ln in out.read_text().splitlines()[1:]][0] == "300.0"
    assert score_onsets(np.array([1767302410.4]), np.array([1767302410.1])).onset_bias_ms == 300.0


@settings(max_examples=200, deadline=None)
@given(d=_times, t=_times, tol=st.sampled_from([0.0, 0.1, 0.25, 0.3, 0.5, 1.0]))
def test_the_sweep_for_large_stretches_is_maximum(
    d: list[float], t: list[float], tol: float
) -> None:
    """With the solver off (every stretch 'too large'), the sweep still pairs as many."""
    with patch("pipeline.score.SOLVER_CELLS", 0):
        pairs = match_onsets(np.array(d), np.array(t), tol)
    assert len({i for i, _ in pairs}) == len({j for _, j in pairs}) == len(pairs)
    assert all(abs(d[i] - t[j]) <= tol + MATCH_SLACK_S for i, j in pairs)
    assert len(pairs) == _max_matching_lsa(d, t, tol)
