"""Reading score's two onset files: every row checked against its header, and the
tolerance checked before anything is read."""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np
import pytest
from click.testing import CliRunner

from cli import main
from pipeline.errors import InputError
from pipeline.score import match_onsets, score_files, score_onsets
from pipeline.score_io import read_onset_table, read_onsets

TRUTH = (
    "kind,time,end,peak_g,duration_ms,detail\n"
    "jerk,1767302400.0,1767302400.1,0.5,80,biphasic\n"
    'walking,1767302410.0,1767302470.0,0.3,60000,"step 1.53 Hz, 78 steps"\n'
    "jerk,1767302401.0,1767302401.1,0.4,60,pulse\n"
)
EVENTS = (
    "time,time_local,peak_g,duration_ms,axis,peak_time,background_g,clipped\n"
    "1767302400.050,2026-01-01T21:20:00.050+00:00,0.48,70,x,1767302400.06,0.01,false\n"
)


def _write(path: Path, text: str | bytes) -> Path:
    if isinstance(text, str):
        path.write_bytes(text.encode("utf-8"))
    else:
        path.write_bytes(text)
    return path


def test_the_reported_extra_field_is_an_error_not_a_shifted_column(tmp_path: Path) -> None:
    """The defect: a truth row with one field too many made pandas take the first
    column as the index, so the truth times became 0.4 and 0.5 (tp 0, fp 1, fn 2)
    and the matches file was written. Now a one-line error naming line 2, exit 2,
    and no matches file."""
    truth = _write(tmp_path / "tm2.csv", "time,peak_g\n1767302400.0,0.5,extra\n1767302401.0,0.4\n")
    events = _write(tmp_path / "e3.csv", "time\n1767302400.3\n")
    matches = tmp_path / "mt2.csv"
    with pytest.raises(InputError) as err:
        score_files(truth, events, matches=matches)
    assert str(err.value) == (
        f"{truth}:2: expected 2 fields as in the header (time,peak_g), found 3"
    )
    assert not matches.exists()
    res = CliRunner().invoke(main, ["score", str(truth), str(events), "--matches", str(matches)])
    assert res.exit_code == 2
    assert res.output == f"jerkcount: error: {err.value}\n"
    assert not matches.exists()


@pytest.mark.parametrize("which", ["truth", "events"])
@pytest.mark.parametrize(
    ("row", "message"),
    [
        ("1767302402.0,0.5,extra", "expected 2 fields as in the header (time,peak_g), found 3"),
        ("1767302402.0", "expected 2 fields as in the header (time,peak_g), found 1"),
        ("1767302402.0,0.5,", "expected 2 fields as in the header (time,peak_g), found 3"),
        ("abc,0.5", "time is not a number: 'abc'"),
        ("1_767_302_402,0.5", "time is not a number: '1_767_302_402'"),
        ("0x10,0.5", "time is not a number: '0x10'"),
        ("NA,0.5", "time is not a number: 'NA'"),
        ("nan,0.5", "time is not finite: 'nan'"),
        ("-inf,0.5", "time is not finite: '-inf'"),
        ("Infinity,0.5", "time is not finite: 'Infinity'"),
        ("1e999,0.5", "time is too large to be finite: '1e999'"),
        (" ,0.5", "time is missing"),
        ('1767302402.0,"0.5', "not a valid CSV row (unexpected end of data)"),
        ('1767302402.0,"0.5"x', "not a valid CSV row"),
    ],
)
def test_a_bad_row_in_either_file_names_its_line(
    tmp_path: Path, which: str, row: str, message: str
) -> None:
    """Too many or too few fields, a time that is not a number or not finite, broken
    quoting: in the truth or in the events, an error at the row's 1-based line of the
    file (after two comment lines and a good row: line 5)."""
    bad = _write(tmp_path / "bad.csv", f"# a: b\n# c: d\ntime,peak_g\n1767302400.0,0.1\n{row}\n")
    good = _write(tmp_path / "good.csv", "time\n1767302400.0\n")
    truth, events = (bad, good) if which == "truth" else (good, bad)
    with pytest.raises(InputError) as err:
        score_files(truth, events)
    assert err.value.path == str(bad)
    assert err.value.line == 5
    assert message in err.value.message
    assert "\n" not in str(err.value)


def test_a_bad_row_of_another_kind_is_still_an_error(tmp_path: Path) -> None:
    """Rows the truth leaves out (confounders) are checked too: a short walking row
    means the file is not what its header says."""
    truth = _write(tmp_path / "t.csv", TRUTH + "walking,1767302500.0\n")
    with pytest.raises(InputError, match=r":5: expected 6 fields .* found 2"):
        read_onsets(truth, kind="jerk")


def test_line_numbers_count_crlf_blank_lines_and_quoted_line_breaks(tmp_path: Path) -> None:
    """A quoted field across two lines and blank lines are counted, so the line named
    is the file's (as an editor shows it), with CRLF line ends too."""
    text = (
        "# device: x\r\n\r\nkind,time,detail\r\n"
        'jerk,1.0,"two\r\nlines"\r\n'
        "\r\n"
        "jerk,2.0,ok\r\n"
        "jerk,oops,x\r\n"
    )
    with pytest.raises(InputError) as err:
        read_onsets(_write(tmp_path / "t.csv", text))
    assert (err.value.line, err.value.message) == (8, "time is not a number: 'oops'")


def test_what_is_accepted(tmp_path: Path) -> None:
    """BOM, CRLF and lone-CR line ends, comment and blank lines before the header,
    blank lines between rows and at the end, quoted fields (commas inside), ``time``
    not the first column: all read as the plain file."""
    plain = read_onset_table(_write(tmp_path / "plain.csv", TRUTH), kind="jerk")
    assert plain.time.tolist() == [1767302400.0, 1767302401.0]
    assert plain.peak_g.tolist() == [0.5, 0.4]
    assert plain.duration_ms.tolist() == [80.0, 60.0]
    assert plain.detail == ["biphasic", "pulse"]
    variants = {
        "bom": b"\xef\xbb\xbf" + TRUTH.encode(),
        "crlf": TRUTH.replace("\n", "\r\n").encode(),
        "cr": TRUTH.replace("\n", "\r").encode(),
        "comments": ("# device: simulated\n# fs: 100\n\n" + TRUTH).encode(),
        "bom_comments": b"\xef\xbb\xbf# fs: 100\r\n" + TRUTH.replace("\n", "\r\n").encode(),
        "blank_lines": TRUTH.replace("\njerk,1767302401", "\n\n  \njerk,1767302401").encode()
        + b"\n\n",
        "quoted": TRUTH.replace("jerk,1767302400.0,", '"jerk","1767302400.0",').encode(),
        "no_final_newline": TRUTH.rstrip("\n").encode(),
    }
    for name, content in variants.items():
        got = read_onset_table(_write(tmp_path / f"{name}.csv", content), kind="jerk")
        assert got.time.tolist() == plain.time.tolist(), name
        assert got.peak_g.tolist() == plain.peak_g.tolist(), name
        assert got.detail == plain.detail, name
    moved = _write(tmp_path / "moved.csv", 'peak_g,detail,time\n0.2,"a, b",1767302400.5\n')
    table = read_onset_table(moved)
    assert (table.time.tolist(), table.peak_g.tolist(), table.detail) == (
        [1767302400.5], [0.2], ["a, b"]
    )  # fmt: skip


def test_sizes_that_are_not_numbers_are_left_empty(tmp_path: Path) -> None:
    """As documented: only ``time`` must be a number; a size that is not is NaN."""
    p = _write(tmp_path / "t.csv", "time,peak_g,duration_ms\n1.0,big,inf\n2.0,,1_0\n")
    table = read_onset_table(p)
    assert table.time.tolist() == [1.0, 2.0]
    assert np.isnan(table.peak_g).all() and np.isnan(table.duration_ms).all()


def test_a_column_read_twice_in_the_header_is_an_error(tmp_path: Path) -> None:
    p = _write(tmp_path / "t.csv", "# x: y\ntime,peak_g,time\n1.0,0.1,2.0\n")
    with pytest.raises(InputError) as err:
        read_onsets(p)
    assert str(err.value) == f"{p}:2: column 'time' appears 2 times in the header"


@pytest.mark.parametrize(
    ("content", "fragment"),
    [(b"", "empty file"), (b"\xef\xbb\xbf", "empty file"), (b"\n\n", "empty file"),
     (b"# fs: 100\n\n", "empty file")],
)  # fmt: skip
def test_an_empty_file_is_an_error(tmp_path: Path, content: bytes, fragment: str) -> None:
    with pytest.raises(InputError, match=fragment) as err:
        read_onsets(_write(tmp_path / "e.csv", content))
    assert err.value.line is None


def test_header_only_events_keep_the_documented_scores(tmp_path: Path) -> None:
    """Zero detections is valid: precision 1 (no false claim), recall 0; zero truth
    too: recall 1; both empty: 1, 1, 1 — as the README and the module say."""
    truth = _write(tmp_path / "t.csv", TRUTH)
    none_found = _write(tmp_path / "e.csv", EVENTS.splitlines()[0] + "\r\n")
    none_true = _write(tmp_path / "t0.csv", TRUTH.splitlines()[0] + "\n")
    r = score_files(truth, none_found)
    assert (r.tp, r.fp, r.fn, r.precision, r.recall, r.f1) == (0, 0, 2, 1.0, 0.0, 0.0)
    res = CliRunner().invoke(main, ["score", str(truth), str(none_found)])
    assert res.exit_code == 0
    assert res.output == (
        "precision 1.000  recall 0.000  F1 0.000  (tp 0, fp 0, fn 2; tolerance 0.3 s)\n"
    )
    r = score_files(none_true, _write(tmp_path / "e1.csv", EVENTS))
    assert (r.precision, r.recall, r.f1) == (0.0, 1.0, 0.0)
    r = score_files(none_true, none_found)
    assert (r.precision, r.recall, r.f1) == (1.0, 1.0, 1.0)


def test_real_simulate_and_detect_files_still_score(tmp_path: Path) -> None:
    """simulate's quoted details (commas inside) and detect's columns, end to end."""
    truth = _write(tmp_path / "t.csv", TRUTH)
    events = _write(tmp_path / "e.csv", EVENTS)
    r = score_files(truth, events)
    assert (r.tp, r.fp, r.fn) == (1, 0, 1)
    assert r.mean_onset_error_ms == pytest.approx(50.0)


@pytest.mark.parametrize("tolerance", [math.nan, math.inf, -math.inf, -0.1])
def test_a_tolerance_that_is_not_finite_and_positive_is_a_clear_value_error(
    tmp_path: Path, tolerance: float
) -> None:
    """NaN would match nothing and infinity everything; each is refused by every
    entry point, before any file is read or the matches file written."""
    pattern = "tolerance must be a finite number of seconds >= 0"
    with pytest.raises(ValueError, match=pattern):
        match_onsets(np.array([1.0]), np.array([1.0]), tolerance)
    with pytest.raises(ValueError, match=pattern):
        score_onsets(np.array([1.0]), np.array([1.0]), tolerance)
    matches = tmp_path / "m.csv"
    with pytest.raises(ValueError, match=pattern):
        score_files(tmp_path / "missing.csv", tmp_path / "e.csv", tolerance, matches)
    assert not matches.exists()
    assert match_onsets(np.array([1.0]), np.array([1.0]), 0.0) == [(0, 0)]


def test_a_truths_kinds_are_the_simulators(tmp_path: Path) -> None:
    from pipeline.score_io import OTHER_KINDS
    from sim.config import CONFOUNDER_KINDS

    assert OTHER_KINDS == CONFOUNDER_KINDS


@pytest.mark.parametrize(
    ("rows", "message"),
    [
        ("1767302400.0,Jerk\n1767302401.0,Jerk\n",
         ":2: kind 'Jerk' is not 'jerk': score counts the rows whose kind is jerk (lower case)"),
        ("1767302400.0,jerk\n1767302401.0, JERK \n",
         ":3: kind 'JERK' is not 'jerk': score counts the rows whose kind is jerk (lower case)"),
        ("1767302400.0,myoclonus\n1767302401.0,artifact\n",
         ":2: no row of kind 'jerk' (kinds here: artifact, myoclonus): score counts the rows "
         "whose kind is jerk"),
    ],
)  # fmt: skip
def test_a_truth_whose_jerks_are_not_of_kind_jerk_is_an_error(
    tmp_path: Path, rows: str, message: str
) -> None:
    """Rows of kind 'Jerk' or 'myoclonus' were left out without a word: a truth of such
    rows scored as no truth at all (recall 1, every detection false; before 0.4.5)."""
    truth = _write(tmp_path / "truth.csv", "time,kind\n" + rows)
    events = _write(tmp_path / "events.csv", EVENTS)
    res = CliRunner().invoke(main, ["score", str(truth), str(events)])
    assert res.exit_code == 2
    assert res.output == f"jerkcount: error: {truth}{message}\n"


def test_a_truth_of_confounders_only_is_an_empty_truth(tmp_path: Path) -> None:
    """simulate --pattern none: only confounder rows, no jerk; scored as no truth."""
    truth = _write(tmp_path / "truth.csv", "kind,time\nwalking,1767302410.0\nnonwear,1.0\n")
    r = score_files(truth, _write(tmp_path / "events.csv", EVENTS))
    assert (r.tp, r.fp, r.fn) == (0, 1, 0)


def test_onsets_that_cannot_overlap_are_warned_about(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    """A truth in seconds from the start scored against epoch events (or another night's
    events) gave precision 0 and recall 0 without a hint why (before 0.4.5)."""
    truth = _write(tmp_path / "truth.csv", "time\n10.0\n20.0\n")
    events = _write(tmp_path / "events.csv", EVENTS)
    res = CliRunner().invoke(main, ["score", str(truth), str(events), "--json"])
    assert res.exit_code == 0
    assert caplog.messages == [
        f"the onsets of {truth} and of {events} do not overlap (truth 1970-01-01 00:00:10 to "
        "1970-01-01 00:00:20 UTC, events 2026-01-01 21:20:00 to 2026-01-01 21:20:00 UTC): a "
        "different night, or times in another unit?"
    ]
    assert '"tp": 0' in res.stdout and '"fn": 2' in res.stdout
    # overlapping files, or one within the tolerance of the other's span: no warning
    caplog.clear()
    near = _write(tmp_path / "near.csv", "time\n1767302399.8\n")
    assert score_files(near, events).tp == 1
    assert score_files(_write(tmp_path / "t.csv", TRUTH), events).tp == 1
    assert caplog.messages == []


@pytest.mark.parametrize(
    ("truth_time", "event_time", "tolerance"),
    [("1767302410.1", "1767302410.4", 0.3), ("3.5", "3.6", 0.1)],
)
def test_onsets_exactly_the_tolerance_apart_meet_and_are_not_warned_about(
    tmp_path: Path,
    caplog: pytest.LogCaptureFixture,
    truth_time: str,
    event_time: str,
    tolerance: float,
) -> None:
    """A pair written exactly --tolerance apart matches (1 µs of rounding is allowed),
    but the spans' check allowed none: it warned that the onsets 'do not overlap' beside
    tp 1."""
    truth = _write(tmp_path / "truth.csv", f"time\n{truth_time}\n")
    events = _write(tmp_path / "events.csv", f"time\n{event_time}\n")
    r = score_files(truth, events, tolerance)
    assert (r.tp, r.fp, r.fn) == (1, 0, 0)
    assert caplog.messages == []
