"""The command line: simulate -> detect -> score, outputs, and bad input."""

from __future__ import annotations

import io
import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pandas as pd
import pytest
from click.testing import CliRunner

from cli import _night_config, main
from pipeline import __version__
from pipeline.errors import InputError
from pipeline.progress import progress_bar

START = "2026-03-29T00:40:00+00:00"  # the night crosses the Berlin DST change at 01:00 UTC


def _run(*args: str | Path):
    result = CliRunner().invoke(main, [str(a) for a in args])
    if result.exception and not isinstance(result.exception, SystemExit):
        raise result.exception
    return result


def _console_script() -> str:
    """The installed ``jerkcount`` script of the running interpreter's environment."""
    found = shutil.which("jerkcount", path=str(Path(sys.executable).parent))
    if found is None:
        pytest.skip("jerkcount console script not installed (pip install -e .)")
    return found


@pytest.fixture(scope="module")
def night(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    """A simulated half-hour night, written by ``jerkcount simulate``."""
    d = tmp_path_factory.mktemp("night")
    rec, truth = d / "night.csv", d / "night.truth.csv"
    result = _run(
        "simulate", "--out", rec, "--truth", truth, "--hours", "0.5", "--rate", "60",
        "--seed", "3", "--start", START,
    )  # fmt: skip
    assert result.exit_code == 0, result.output
    assert "night.csv" in result.stdout
    return {"dir": d, "rec": rec, "truth": truth}


def test_version() -> None:
    result = _run("--version")
    assert result.exit_code == 0
    assert result.stdout.strip() == f"jerkcount, version {__version__}"


def test_simulate_writes_recording_and_truth(night: dict[str, Path]) -> None:
    lines = night["rec"].read_text(encoding="utf-8").splitlines()
    header_at = next(i for i, line in enumerate(lines) if not line.startswith("#"))
    assert all(line.startswith("# ") and ": " in line for line in lines[:header_at])
    assert lines[header_at] == "time,ax,ay,az"
    first_t = float(lines[header_at + 1].split(",")[0])
    assert first_t == pytest.approx(1774744800.0, abs=0.05)  # --start, epoch s UTC
    truth = pd.read_csv(night["truth"])
    assert list(truth.columns) == [
        "kind", "time", "end", "peak_g", "duration_ms", "detail", "lost_samples",
    ]  # fmt: skip
    n_jerks = int((truth["kind"] == "jerk").sum())
    assert 10 <= n_jerks <= 60  # 60/h for 0.5 h


def test_detect_and_score_in_process(night: dict[str, Path]) -> None:
    out = night["dir"] / "inproc" / "ev.csv"
    result = _run("detect", night["rec"], "--out", out, "--tz", "Europe/Berlin")
    assert result.exit_code == 0, result.output
    assert result.stderr == ""
    line = result.stdout.strip()
    assert "\n" not in line
    assert line.endswith(f"-> {out}")
    assert " jerks in 0.50 h (" in line and "activity minutes" in line

    events = pd.read_csv(out)
    assert list(events.columns)[:5] == ["time", "time_local", "peak_g", "duration_ms", "axis"]
    assert list(events.columns) == [
        "time", "time_local", "peak_g", "duration_ms", "axis", "peak_time", "background_g",
        "clipped",
    ]  # fmt: skip
    assert int(line.split()[0]) == len(events)
    assert set(events["axis"]) <= {"x", "y", "z"}
    assert (events["peak_g"] > 0).all() and (events["duration_ms"] > 0).all()
    # local times follow the DST change (01:00 UTC: +01:00 -> +02:00)
    before = events["time"] < 1774746000.0
    assert events.loc[before, "time_local"].str.endswith("+01:00").all()
    assert events.loc[~before, "time_local"].str.endswith("+02:00").all()
    assert events["time_local"].str.match(r"^2026-03-29T\d\d:\d\d:\d\d\.\d{3}[+-]\d\d:\d\d$").all()

    activity = pd.read_csv(out.with_name("ev.activity.csv"))
    assert list(activity.columns) == ["start", "end", "start_local", "end_local", "minutes", "kind"]
    sidecar = json.loads(out.with_name("ev.json").read_text(encoding="utf-8"))
    assert sidecar["jerkcount_version"] == __version__
    assert sidecar["time_zone"] == "Europe/Berlin"
    assert sidecar["recording"]["fs_hz"] == pytest.approx(100.0)
    assert sidecar["counts"]["jerks"] == len(events)
    assert sidecar["counts"]["pulse_min"] == 0.0
    assert "k_high" in sidecar["detector_params"]

    matches = night["dir"] / "matches.csv"
    result = _run("score", night["truth"], out, "--json", "--matches", matches)
    assert result.exit_code == 0, result.output
    score = json.loads(result.stdout)
    assert score["f1"] >= 0.9, score
    assert score["tolerance_s"] == 0.3
    assert score["tp"] + score["fn"] == int((pd.read_csv(night["truth"])["kind"] == "jerk").sum())
    table = pd.read_csv(matches)
    counts = table["status"].value_counts().to_dict()
    assert {k: counts.get(k, 0) for k in ("tp", "fp", "fn")} == {
        k: score[k] for k in ("tp", "fp", "fn")
    }
    pairs = table[table["status"] == "tp"]
    lag_ms = 1000.0 * (pairs["event_time"] - pairs["truth_time"])
    assert (pairs["error_ms"] - lag_ms).abs().max() < 0.2
    median_ms = pairs["error_ms"].abs().median()
    assert median_ms == pytest.approx(score["median_onset_error_ms"], abs=0.1)
    assert len(table) == len(events) + score["fn"]


def test_detect_default_output_beside_recording(night: dict[str, Path]) -> None:
    result = _run("detect", night["rec"], "--tz", "UTC")
    assert result.exit_code == 0, result.output
    out = night["dir"] / "night.events.csv"
    assert out.exists()
    assert (night["dir"] / "night.events.activity.csv").exists()
    assert (night["dir"] / "night.events.json").exists()
    assert pd.read_csv(out)["time_local"].str.endswith("+00:00").all()


def test_console_script_end_to_end(tmp_path: Path) -> None:
    """Run the installed script as a user would, in a pipe (so no progress bar)."""
    exe = _console_script()
    env = {**os.environ, "TZ": "UTC"}

    def run(*args: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [exe, *args], cwd=tmp_path, env=env, capture_output=True, text=True, timeout=600
        )

    sim = run("simulate", "--out", "r.csv", "--truth", "t.csv", "--hours", "0.25",
              "--rate", "80", "--seed", "11")  # fmt: skip
    assert sim.returncode == 0, sim.stderr
    det = run("detect", "r.csv")
    assert det.returncode == 0, det.stderr
    assert det.stderr == ""  # no progress bar in a pipe
    assert det.stdout.strip().endswith("-> r.events.csv")
    sc = run("score", "t.csv", "r.events.csv")
    assert sc.returncode == 0, sc.stderr
    assert sc.stdout.startswith("precision ")
    f1 = float(sc.stdout.split("F1 ")[1].split()[0])
    assert f1 >= 0.9, sc.stdout
    bad = run("detect", "nope.csv")
    assert bad.returncode == 2
    assert bad.stderr == "jerkcount: error: nope.csv: no such file\n"


def test_demo_small(tmp_path: Path) -> None:
    out = tmp_path / "demo"
    result = _run("demo", "--out", out, "--hours", "0.25", "--tz", "UTC")
    assert result.exit_code == 0, result.output
    for name in ("night.csv", "night.truth.csv", "events.csv", "activity.csv",
                 "daily_summary.csv", "hourly.csv", "summary.json", "report.html"):  # fmt: skip
        assert (out / name).exists(), name
    assert str(out / "night.csv") in result.stdout
    assert f"open the report: {out / 'report.html'}" in result.stdout
    truth = pd.read_csv(out / "night.truth.csv")
    events = pd.read_csv(out / "events.csv")
    daily = pd.read_csv(out / "daily_summary.csv")
    n_true = int((truth["kind"] == "jerk").sum())
    assert f"{n_true} true jerks" in result.stdout
    assert f"{len(events)} jerks -> {out}/" in result.stdout
    assert int(daily["jerks"].sum()) == len(events)
    assert "precision " in result.stdout and "F1 " in result.stdout


def test_simulate_options(tmp_path: Path) -> None:
    rec, truth = tmp_path / "r.csv", tmp_path / "t.csv"
    result = _run(
        "simulate", "--out", rec, "--truth", truth, "--hours", "0.1", "--fs", "50",
        "--pattern", "none", "--no-confounders", "--noise", "0.02", "--jerk-size", "0.2",
    )  # fmt: skip
    assert result.exit_code == 0, result.output
    assert pd.read_csv(truth).empty  # no jerks, no confounders
    data = pd.read_csv(rec, comment="#")
    assert len(data) == pytest.approx(0.1 * 3600 * 50, rel=0.02)
    assert data["time"].diff().median() == pytest.approx(0.02, abs=1e-3)


def test_simulate_a_chest_strap_night_and_detect_no_beat(tmp_path: Path) -> None:
    rec, truth, events = tmp_path / "r.csv", tmp_path / "t.csv", tmp_path / "e.csv"
    result = _run(
        "simulate", "--out", rec, "--truth", truth, "--hours", "0.1", "--fs", "200",
        "--pattern", "none", "--no-confounders", "--noise", "0.005", "--heartbeat", "0.05",
    )  # fmt: skip
    assert result.exit_code == 0, result.output
    assert "# heartbeat_g: 0.05\n" in rec.read_text()[:2000]
    data = pd.read_csv(rec, comment="#")
    assert (data[["ax", "ay", "az"]] - data[["ax", "ay", "az"]].median()).abs().max().max() > 0.03
    result = _run("detect", rec, "--out", events, "--tz", "UTC")
    assert result.exit_code == 0, result.output
    assert pd.read_csv(events).empty  # 360 seconds of beats, none a jerk
    counts = json.loads(events.with_suffix(".json").read_text(encoding="utf-8"))["counts"]
    assert 5.0 < counts["pulse_min"] <= 6.0  # the pulse level held the triggers throughout


def test_simulate_bad_settings_one_line(tmp_path: Path) -> None:
    args = ["simulate", "--out", tmp_path / "r.csv", "--truth", tmp_path / "t.csv"]
    result = _run(*args, "--start", "yesterday")
    assert result.exit_code == 2
    assert "not an ISO 8601 time" in result.stderr
    assert not list(tmp_path.iterdir())
    result = _run(*args, "--heartbeat", "-0.1")
    assert result.exit_code == 2
    assert "Invalid value for '--heartbeat'" in result.stderr
    assert "Traceback" not in result.stderr
    assert not list(tmp_path.iterdir())
    # settings the simulator itself rejects become an InputError (one line, exit 2)
    from sim import NightConfig

    with pytest.raises(InputError, match="simulate: bad settings: hours must be > 0"):
        _night_config(
            NightConfig, hours=-1.0, fs=100.0, pattern="random", rate=30.0, seed=0,
            start=None, noise=None, jerk_size=None, confounders=True,
        )  # fmt: skip


# ------------------------------------------------------------------ bad input
RECORDING_OK = "time,ax,ay,az\n" + "".join(
    f"{1000 + i / 100:.2f},0.0,0.0,1.0\n" for i in range(200)
)


def _lines_with(text: str, bad_line: int, replacement: str) -> str:
    lines = text.splitlines(keepends=True)
    lines[bad_line - 1] = replacement
    return "".join(lines)


BAD_RECORDINGS = {
    "missing": (None, None, "no such file"),
    "directory": (None, None, "directory"),
    "binary": (bytes(range(256)) * 4, 1, "not a text CSV"),
    "empty": (b"", None, "empty"),
    "header_only": (b"# device: x\ntime,ax,ay,az\n", 3, "sample"),  # no line 3
    "missing_columns": (b"time,ax,ay\n1000.0,0,0\n1000.01,0,0\n", 1, "missing column"),
    "non_numeric": (
        _lines_with(RECORDING_OK, 151, "1001.49,0.0,abc,1.0\n").encode(),
        151,
        "not a number",
    ),
    "backwards": (
        _lines_with(RECORDING_OK, 120, "1000.50,0.0,0.0,1.0\n").encode(),
        120,
        "backwards",
    ),
}


@pytest.mark.parametrize("case", sorted(BAD_RECORDINGS))
def test_detect_bad_input_one_line_exit_2(tmp_path: Path, case: str) -> None:
    content, line, fragment = BAD_RECORDINGS[case]
    path = tmp_path / f"{case}.csv"
    if case == "directory":
        path.mkdir()
    elif content is not None:
        path.write_bytes(content)
    result = _run("detect", path, "--out", tmp_path / "out.csv")
    assert result.exit_code == 2
    assert result.stdout == ""
    err = result.stderr
    assert err.count("\n") == 1 and err.endswith("\n"), err
    assert "Traceback" not in err
    where = f"{path}:{line}: " if line is not None else f"{path}: "
    assert err.startswith(f"jerkcount: error: {where}"), err
    assert fragment in err
    assert not (tmp_path / "out.csv").exists()


@pytest.mark.parametrize(
    ("truth_text", "line", "fragment"),
    [
        ("kind,onset\njerk,1.0\n", 1, "missing column 'time'"),
        ("kind,time\njerk,1.0\njerk,1.5\njerk,two\n", 4, "not a number: 'two'"),
        ("", None, "empty file"),
    ],
)
def test_score_bad_truth(tmp_path: Path, truth_text: str, line: int | None, fragment: str) -> None:
    truth = tmp_path / "truth.csv"
    truth.write_text(truth_text, encoding="utf-8")
    events = tmp_path / "events.csv"
    events.write_text("time,time_local,peak_g,duration_ms,axis\n", encoding="utf-8")
    result = _run("score", truth, events)
    assert result.exit_code == 2
    where = f"{truth}:{line}" if line is not None else f"{truth}"
    assert result.stderr.startswith(f"jerkcount: error: {where}: ")
    assert fragment in result.stderr
    assert result.stderr.count("\n") == 1 and result.stderr.endswith("\n")


def test_score_missing_events_and_directory(tmp_path: Path) -> None:
    truth = tmp_path / "truth.csv"
    truth.write_text("kind,time\njerk,1.0\n", encoding="utf-8")
    result = _run("score", truth, tmp_path / "none.csv")
    assert result.exit_code == 2
    assert result.stderr == f"jerkcount: error: {tmp_path / 'none.csv'}: no such file\n"
    result = _run("score", tmp_path, truth)
    assert result.exit_code == 2
    assert result.stderr.startswith(f"jerkcount: error: {tmp_path}: is a directory")


def test_score_empty_lists_is_perfect(tmp_path: Path) -> None:
    truth = tmp_path / "truth.csv"
    truth.write_text("kind,time,end,peak_g,duration_ms,detail\n", encoding="utf-8")
    events = tmp_path / "events.csv"
    events.write_text("time,time_local,peak_g,duration_ms,axis\n", encoding="utf-8")
    result = _run("score", truth, events)
    assert result.exit_code == 0
    assert result.stdout.startswith("precision 1.000  recall 1.000  F1 1.000  (tp 0, fp 0, fn 0")


def test_bad_time_zone(tmp_path: Path) -> None:
    rec = tmp_path / "r.csv"
    rec.write_text(RECORDING_OK, encoding="utf-8")
    result = _run("detect", rec, "--tz", "Mars/Olympus_Mons")
    assert result.exit_code == 2
    assert result.stderr == (
        "jerkcount: error: --tz: unknown time zone 'Mars/Olympus_Mons' "
        "(use an IANA name such as Europe/Berlin)\n"
    )
    assert not (tmp_path / "r.events.csv").exists()


def test_detect_quiet_recording_finds_nothing(tmp_path: Path) -> None:
    rec = tmp_path / "still.csv"
    rec.write_text(RECORDING_OK, encoding="utf-8")
    result = _run("detect", rec, "--tz", "UTC")
    assert result.exit_code == 0, result.output
    assert result.stdout.startswith("0 jerks in 0.00 h (0.0/h), 0.0 activity minutes -> ")
    assert pd.read_csv(tmp_path / "still.events.csv").empty


# ------------------------------------------------------------------ progress bar
class _FakeTerminal(io.StringIO):
    def isatty(self) -> bool:
        return True


def test_progress_bar_only_on_a_terminal() -> None:
    pipe = io.StringIO()
    with progress_bar(1000, "detecting x", stream=pipe) as advance:
        advance(400)
        advance(600)
    assert pipe.getvalue() == ""

    tty = _FakeTerminal()
    with progress_bar(1000, "detecting x", stream=tty) as advance:
        advance(400)
    drawn = tty.getvalue()
    assert "detecting x" in drawn
    assert "100%" in drawn  # completed on exit


@pytest.mark.parametrize("value", ["nan", "inf", "-inf"])
def test_score_tolerance_must_be_finite(tmp_path: Path, value: str) -> None:
    res = _run("score", tmp_path / "t.csv", tmp_path / "e.csv", "--tolerance", value)
    assert res.exit_code == 2
    assert "Invalid value for '--tolerance'" in res.output
    assert "Traceback" not in res.output


def test_detect_out_ending_in_a_slash_is_a_usage_error(tmp_path: Path) -> None:
    """`--out results/` used to write a file named `results` (and `results.json`)."""
    res = _run("detect", tmp_path / "night.csv", "--out", f"{tmp_path / 'results'}/")
    assert res.exit_code == 2
    assert "names a folder: give the events file's name" in res.output
    assert list(tmp_path.iterdir()) == []
