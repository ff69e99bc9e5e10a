"""``jerkcount process`` end to end on simulated nights, through the command line."""

from __future__ import annotations

import hashlib
import json
import re
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from click.testing import CliRunner

from cli import main
from pipeline import __version__
from pipeline.summary import DAILY_COLUMNS, HOURLY_COLUMNS
from pipeline.windows import window_of
from pipeline.writer import write_samples_csv
from sim import ForcedConfounder, NightConfig, simulate_night, write_truth_csv

BERLIN = "Europe/Berlin"
EVENTS_COLUMNS = [
    "time", "time_local", "peak_g", "duration_ms", "axis", "peak_time", "background_g",
    "clipped", "recording",
]  # fmt: skip
ACTIVITY_COLUMNS = ["start", "end", "start_local", "end_local", "minutes", "kind"]
FILES = ["events.csv", "daily_summary.csv", "hourly.csv", "activity.csv", "summary.json"]
OFFSET = re.compile(r"[+-]\d{2}:\d{2}$")


def _run(*args: str | Path):
    result = CliRunner().invoke(main, [str(a) for a in args])
    if result.exception and not isinstance(result.exception, SystemExit):
        raise result.exception
    return result


@pytest.fixture(scope="module")
def nights(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    """Two short nights: one across noon (the day start), one before the spring DST night."""
    d = tmp_path_factory.mktemp("nights")
    specs = {
        "a": ("0.75", "1", "2026-03-28T11:40:00+01:00"),
        "b": ("0.5", "2", "2026-03-29T23:30:00+02:00"),
    }
    for name, (hours, seed, start) in specs.items():
        result = _run(
            "simulate", "--out", d / f"{name}.csv", "--truth", d / f"{name}.truth.csv",
            "--hours", hours, "--rate", "60", "--seed", seed, "--start", start,
        )  # fmt: skip
        assert result.exit_code == 0, result.output
    return {"dir": d, "a": d / "a.csv", "b": d / "b.csv"}


def _read(out: Path, name: str) -> pd.DataFrame:
    return pd.read_csv(out / name, keep_default_na=False, na_values=[""])


def test_process_two_nights_end_to_end(nights: dict[str, Path], tmp_path: Path) -> None:
    out = tmp_path / "out"
    result = _run("process", nights["b"], nights["a"], "--out", out, "--tz", BERLIN)
    assert result.exit_code == 0, result.output
    for name in FILES:
        assert (out / name).is_file(), name

    daily = _read(out, "daily_summary.csv")
    assert list(daily.columns) == DAILY_COLUMNS
    assert list(daily.columns[:8]) == [
        "day", "window_start", "window_end", "hours_recorded", "hours_valid", "jerks",
        "jerks_per_hour", "pattern",
    ]  # fmt: skip
    # 11:40-12:00 belongs to the night of the 27th, 12:00-12:25 to the 23-hour DST night
    assert list(daily["day"]) == ["2026-03-27", "2026-03-28", "2026-03-29"]
    assert list(daily["hours_in_window"]) == [24.0, 23.0, 24.0]
    assert list(daily["window_start"]) == [
        "2026-03-27T12:00:00+01:00", "2026-03-28T12:00:00+01:00", "2026-03-29T12:00:00+02:00",
    ]  # fmt: skip
    assert daily["window_end"][1] == "2026-03-29T12:00:00+02:00"
    assert list(daily["hours_recorded"]) == pytest.approx([1 / 3, 5 / 12, 0.5], abs=2e-4)
    assert (daily["hours_valid"] <= daily["hours_recorded"]).all()
    assert set(daily["pattern"]) <= {"periodic", "clustered", "random", "insufficient"}
    rate = daily["jerks"] / daily["hours_valid"]
    assert np.allclose(daily["jerks_per_hour"], rate, rtol=1e-3)

    events = _read(out, "events.csv")
    assert list(events.columns) == EVENTS_COLUMNS
    assert set(events["recording"]) == {str(nights["a"]), str(nights["b"])}
    assert events["time"].is_monotonic_increasing
    assert len(events) == daily["jerks"].sum() > 40
    per_day = events["time"].map(lambda t: window_of(t, BERLIN).label).value_counts()
    assert per_day.reindex(daily["day"]).tolist() == daily["jerks"].tolist()

    hourly = _read(out, "hourly.csv")
    assert list(hourly.columns) == HOURLY_COLUMNS
    assert hourly.groupby("day").size().tolist() == [24, 23, 24]
    assert hourly.groupby("day")["jerks"].sum().tolist() == daily["jerks"].tolist()
    assert hourly["minutes_recorded"].sum() == pytest.approx(75.0, abs=0.05)

    activity = _read(out, "activity.csv")
    assert list(activity.columns) == ACTIVITY_COLUMNS
    assert set(activity["kind"]) <= {"movement", "rhythmic", "nonwear"}

    for column in ("window_start", "window_end", "recording_start", "recording_end"):
        assert daily[column].str.contains(OFFSET).all()
    for frame, columns in (
        (events, ["time_local"]),
        (hourly, ["hour_start", "hour_end"]),
        (activity, ["start_local", "end_local"]),
    ):
        for column in columns:
            assert frame[column].astype(str).str.contains(OFFSET).all()

    summary = json.loads((out / "summary.json").read_text())
    assert summary["jerkcount_version"] == __version__
    assert summary["time_zone"] == BERLIN and summary["day_start"] == "12:00"
    assert set(summary["parameters"]) >= {"detector", "pattern", "nonwear", "reader"}
    assert summary["parameters"]["nonwear"]["min_s"] == 1800.0
    recs = summary["recordings"]
    assert [Path(r["path"]).name for r in recs] == ["a.csv", "b.csv"]  # time order
    assert recs[0]["sha256"] == hashlib.sha256(nights["a"].read_bytes()).hexdigest()
    assert recs[0]["metadata"]["device"] == "jerkcount-sim"
    assert [r["pulse_min"] for r in recs] == [0.0, 0.0]  # a wrist: no heartbeat in the data
    assert [w["jerks"] for w in summary["windows"]] == daily["jerks"].tolist()
    assert [len(w["hourly"]) for w in summary["windows"]] == [24, 23, 24]
    assert all(w["segments"] for w in summary["windows"])
    assert summary["data_quality"]["nonwear_min_total"] == 0.0

    lines = result.stdout.splitlines()
    assert lines[0].split() == ["day", "jerks", "per", "hour", "valid", "h", "pattern"]
    for day, jerks in zip(daily["day"], daily["jerks"], strict=True):
        assert any(line.split()[:2] == [day, str(jerks)] for line in lines)


def test_calendar_days(nights: dict[str, Path], tmp_path: Path) -> None:
    out = tmp_path / "days"
    result = _run(
        "process", nights["a"], nights["b"], "--out", out, "--tz", BERLIN, "--calendar-days"
    )
    assert result.exit_code == 0, result.output
    daily = _read(out, "daily_summary.csv")
    assert list(daily["day"]) == ["2026-03-28", "2026-03-29"]
    assert list(daily["window_start"]) == [
        "2026-03-28T00:00:00+01:00", "2026-03-29T00:00:00+01:00",
    ]  # fmt: skip
    assert list(daily["hours_in_window"]) == [24.0, 23.0]
    assert _read(out, "hourly.csv").groupby("day").size().tolist() == [24, 23]
    assert json.loads((out / "summary.json").read_text())["day_start"] == "00:00"


def test_one_night_split_into_two_files(tmp_path: Path) -> None:
    night = simulate_night(
        NightConfig(hours=1.0, seed=11, rate_per_hour=90, start=1774730400.0, confounders=False)
    )  # 21:40 CET; the detector restarts at a file's start, so split in a quiet stretch
    jerks = night.jerks["time"].to_numpy()
    cut_t = night.config.start + 1500.0
    while np.min(np.abs(jerks - cut_t)) < 60.0:  # split far from any jerk
        cut_t += 30.0
    cut = int(np.searchsorted(night.time, cut_t))
    whole, first, second = tmp_path / "whole.csv", tmp_path / "p1.csv", tmp_path / "p2.csv"
    meta = night.metadata()
    write_samples_csv(whole, night.time, night.acc, meta)
    write_samples_csv(first, night.time[:cut], night.acc[:cut], meta)
    write_samples_csv(second, night.time[cut:], night.acc[cut:], meta)
    for args in ((whole, "--out", tmp_path / "one"), (second, first, "--out", tmp_path / "two")):
        result = _run("process", *args, "--tz", BERLIN)
        assert result.exit_code == 0, result.output
    one = _read(tmp_path / "one", "daily_summary.csv")
    two = _read(tmp_path / "two", "daily_summary.csv")
    assert len(one) == len(two) == 1
    for column in ("day", "window_start", "window_end", "jerks", "pattern", "recording_start"):
        assert one[column].tolist() == two[column].tolist(), column
    assert two["hours_recorded"][0] == pytest.approx(one["hours_recorded"][0], abs=1e-3)
    assert two["hours_valid"][0] == pytest.approx(one["hours_valid"][0], abs=0.01)
    h1, h2 = _read(tmp_path / "one", "hourly.csv"), _read(tmp_path / "two", "hourly.csv")
    assert h1["jerks"].tolist() == h2["jerks"].tolist()
    ev2 = _read(tmp_path / "two", "events.csv")
    assert set(ev2["recording"]) == {str(first), str(second)}


def test_nonwear_reported_and_excluded(tmp_path: Path) -> None:
    cfg = NightConfig(
        hours=1.0, seed=12, rate_per_hour=60, start=1774733400.0,  # 22:30 CET
        forced_confounders=(ForcedConfounder("nonwear", 600.0, 2000.0),),
    )  # fmt: skip
    night = simulate_night(cfg)
    rec = tmp_path / "nw.csv"
    write_samples_csv(rec, night.time, night.acc, night.metadata())
    write_truth_csv(tmp_path / "nw.truth.csv", night.truth)
    result = _run("process", rec, "--out", tmp_path / "out", "--tz", BERLIN)
    assert result.exit_code == 0, result.output
    activity = _read(tmp_path / "out", "activity.csv")
    nw = activity[activity["kind"] == "nonwear"]
    assert len(nw) == 1
    t0, t1 = cfg.start + 600.0, cfg.start + 2600.0
    assert abs(nw["start"].iloc[0] - t0) <= 120 and abs(nw["end"].iloc[0] - t1) <= 120
    daily = _read(tmp_path / "out", "daily_summary.csv")
    summary = json.loads((tmp_path / "out" / "summary.json").read_text())
    a, b = nw["start"].iloc[0], nw["end"].iloc[0]
    gaps_inside = sum(
        max(0.0, min(g["end"], b) - max(g["start"], a)) for g in summary["data_quality"]["gaps"]
    )
    assert gaps_inside > 0  # the night's link gaps: counted in gap_min, not in nonwear_min too
    assert daily["nonwear_min"][0] == pytest.approx(
        nw["minutes"].iloc[0] - gaps_inside / 60.0, abs=0.01
    )
    assert summary["data_quality"]["nonwear_min_total"] == pytest.approx(
        daily["nonwear_min"].sum(), abs=0.01
    )
    assert daily["hours_valid"][0] <= 1.0 - nw["minutes"].iloc[0] / 60.0 + 1e-3
    events = _read(tmp_path / "out", "events.csv")
    inside = (events["time"] >= nw["start"].iloc[0]) & (events["time"] < nw["end"].iloc[0])
    assert not inside.any()
    assert len(events) == daily["jerks"][0]
    assert len(summary["data_quality"]["nonwear"]) == 1


def test_night_without_jerks(tmp_path: Path) -> None:
    rec = tmp_path / "quiet.csv"
    result = _run(
        "simulate", "--out", rec, "--truth", tmp_path / "q.truth.csv", "--hours", "0.5",
        "--pattern", "none", "--no-confounders", "--seed", "5",
        "--start", "2026-10-24T23:00:00+02:00",
    )  # fmt: skip
    assert result.exit_code == 0
    result = _run("process", rec, "--out", tmp_path / "out", "--tz", BERLIN)
    assert result.exit_code == 0, result.output
    daily = _read(tmp_path / "out", "daily_summary.csv")
    assert daily[["day", "jerks", "jerks_per_hour", "pattern"]].values.tolist() == [
        ["2026-10-24", 0, 0.0, "insufficient"]
    ]
    assert daily["hours_in_window"][0] == 25.0
    assert len(_read(tmp_path / "out", "hourly.csv")) == 25
    assert len(_read(tmp_path / "out", "events.csv")) == 0


def test_overlapping_recordings_exit_2_naming_both(nights: dict[str, Path], tmp_path: Path) -> None:
    copy = tmp_path / "copy.csv"
    copy.write_bytes(nights["a"].read_bytes())
    out = tmp_path / "out"
    result = _run("process", nights["a"], copy, "--out", out)
    assert result.exit_code == 2
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("jerkcount: error: ")
    assert "a.csv" in lines[0] and "copy.csv" in lines[0] and "overlaps" in lines[0]
    assert not out.exists()  # nothing written


@pytest.mark.parametrize(
    "extra, message",
    [
        (["--tz", "Mars/Olympus"], "--tz: unknown time zone"),
        (["--day-start", "25:00"], "--day-start: not a time of day"),
        (["--calendar-days", "--day-start", "06:00"], "--calendar-days: conflicts"),
    ],
)
def test_bad_options_exit_2(
    nights: dict[str, Path], tmp_path: Path, extra: list[str], message: str
) -> None:
    result = _run("process", nights["a"], "--out", tmp_path / "out", *extra)
    assert result.exit_code == 2
    assert result.stderr.strip() == result.stderr.strip().splitlines()[0]
    assert message in result.stderr


def test_bad_file_exit_2_naming_file_and_line(nights: dict[str, Path], tmp_path: Path) -> None:
    bad = tmp_path / "bad.csv"
    bad.write_text("time,ax,ay,az\n1.0,0,0,1\n1.01,0,0,1\n1.02,zero,0,1\n")
    result = _run("process", nights["a"], bad, "--out", tmp_path / "out")
    assert result.exit_code == 2
    assert result.stderr.strip() == f"jerkcount: error: {bad}:4: ax is not a number: 'zero'"
    result = _run("process", tmp_path / "missing.csv", "--out", tmp_path / "out")
    assert result.exit_code == 2 and "missing.csv" in result.stderr


def test_write_csv_is_pandas_text_with_formats(tmp_path: Path) -> None:
    """write_csv (csv module) writes exactly what pandas' to_csv wrote for the same
    frame after formatting: minimal quoting, NaN/None empty, bools and ints as text."""
    from pipeline.process import FORMATS, write_csv

    frame = pd.DataFrame(
        {
            "day": ["2026-03-28", 'a "quoted", text', None],
            "jerks": [3, 0, 12],
            "cv": [0.123456, np.nan, 2.0],
            "peak_g": ["0.5", "", "x"],  # text in a formatted column: coerced, bad -> empty
            "clipped": [True, False, True],
            "plm_series": [1.0, np.nan, 2.5],  # float, not formatted: repr
        }
    )
    path = write_csv(tmp_path / "t.csv", {c: frame[c].tolist() for c in frame.columns})
    assert path.read_text(encoding="utf-8") == (
        "day,jerks,cv,peak_g,clipped,plm_series\n"
        "2026-03-28,3,0.1235,0.5000,True,1.0\n"
        '"a ""quoted"", text",0,,,False,\n'
        ",12,2,,True,2.5\n"
    )
    reference = frame.copy()
    for column, fmt in FORMATS.items():
        if column in reference.columns:
            values = pd.to_numeric(reference[column], errors="coerce").to_numpy(dtype=float)
            reference[column] = ["" if not np.isfinite(v) else fmt % v for v in values]
    expected = reference.to_csv(index=False, lineterminator="\n")
    assert path.read_text(encoding="utf-8") == expected
    empty = write_csv(tmp_path / "e.csv", {c: [] for c in frame.columns})
    assert empty.read_text(encoding="utf-8") == "day,jerks,cv,peak_g,clipped,plm_series\n"


def test_file_info_hash_and_stop(tmp_path: Path) -> None:
    """sha256 of a file over several 1 MiB blocks; a set ``stop`` abandons it."""
    import threading

    from pipeline.process import file_info

    data = bytes(range(256)) * 9000  # 2.3 MB: three blocks
    f = tmp_path / "r.csv"
    f.write_bytes(data)
    info = file_info(f)
    assert info.size_bytes == len(data)
    assert info.sha256 == hashlib.sha256(data).hexdigest()
    assert file_info(f, with_hash=False).sha256 == ""
    stop = threading.Event()
    stop.set()
    assert file_info(f, stop=stop).sha256 == ""


def test_without_helper_threads_same_result_and_no_thread(
    nights: dict[str, Path], monkeypatch: pytest.MonkeyPatch
) -> None:
    """With helper threads off (``JERKCOUNT_THREADS=0``, batch workers) ``process_file``
    starts no thread at all and finds the same events, activity, non-wear and sha256."""
    import threading

    from pipeline import readahead
    from pipeline.process import ProcessParams, process_file

    path = nights["a"]
    with_threads = process_file(path, ProcessParams())
    started: list[str] = []
    real_start = threading.Thread.start

    def start(self: threading.Thread) -> None:
        started.append(self.name)
        real_start(self)

    monkeypatch.setattr(threading.Thread, "start", start)
    monkeypatch.setattr(readahead, "_helper_threads", True)
    process_file(path, ProcessParams())
    assert {"jerkcount-read", "jerkcount-features"} <= set(started)
    started.clear()
    readahead.allow_helper_threads(False)
    alone = process_file(path, ProcessParams())
    assert started == []
    assert alone.detection.events == with_threads.detection.events
    assert alone.detection.activity == with_threads.detection.activity
    assert alone.nonwear == with_threads.nonwear
    assert alone.file == with_threads.file and len(alone.file.sha256) == 64


def test_write_csv_upcasts_like_pandas(tmp_path: Path) -> None:
    """Columns of mixed python/numpy values (as summary rows hold them) give the text
    pandas gave for a DataFrame of the same columns: ints with a missing cell or a
    float become floats, bools and text stay as they are, NaN/None empty."""
    from pipeline.process import write_csv

    columns = {
        "ints": [3, 0, 12],
        "ints_missing": [3, None, 12],
        "ints_and_float": [np.int64(3), 1.5, 2],
        "floats_nan": [np.float64(0.25), float("nan"), 1e-7],
        "bools_missing": [True, None, False],
        "text_missing": ["random", None, "periodic"],
        "all_missing": [None, None, None],
        "mixed": ["x", 2, 1.5],
    }
    path = write_csv(tmp_path / "m.csv", columns, formats={})
    expected = pd.DataFrame(columns).to_csv(index=False, lineterminator="\n")
    assert path.read_text(encoding="utf-8") == expected
    assert path.read_text(encoding="utf-8").splitlines()[2] == "0,,1.5,,,,,2"


def test_process_imports_neither_pandas_nor_scipy(nights: dict[str, Path], tmp_path: Path) -> None:
    """`process` (outputs and report included) runs without importing pandas or scipy:
    their imports (0.3-0.5 s each) were a third of it on an 8-hour night."""
    import subprocess
    import sys

    code = (
        "import sys, cli\n"
        "try:\n"
        "    cli.main(sys.argv[1:], standalone_mode=False)\n"
        "finally:\n"
        "    print(sorted({m.split('.')[0] for m in sys.modules} & {'pandas', 'scipy'}))\n"
    )
    out = tmp_path / "out"
    done = subprocess.run(
        [sys.executable, "-c", code, "process", str(nights["a"]), "--out", str(out)],
        capture_output=True, text=True, check=True,
    )  # fmt: skip
    assert done.stdout.strip().splitlines()[-1] == "[]"
    assert (out / "report.html").is_file() and (out / "daily_summary.csv").is_file()


def test_a_run_stopped_part_way_leaves_the_earlier_outputs_whole(
    nights: dict[str, Path], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """`process` into a folder an earlier run filled, stopped while writing (Ctrl-C
    here, as the report is written): every file is still the earlier run's, byte for
    byte, and nothing of the stopped run is left; a whole run then replaces them all
    and leaves no staging folder. The report names the folder it is in."""
    import pipeline.report

    out = tmp_path / "trend"
    first = _run("process", nights["a"], "--out", out, "--tz", BERLIN)
    assert first.exit_code == 0, first.output
    names = sorted(p.name for p in out.iterdir())
    assert names == sorted([*FILES, "report.html"])
    before = {n: (out / n).read_bytes() for n in names}
    assert f"Folder: {out.name}." in before["report.html"].decode()

    def interrupted(folder: Path, night: str | None = None) -> Path:
        assert (folder / "events.csv").exists()  # this run's CSVs are written by now
        raise KeyboardInterrupt

    monkeypatch.setattr(pipeline.report, "write_report", interrupted)
    args = ["process", str(nights["a"]), str(nights["b"]), "--out", str(out), "--tz", BERLIN]
    stopped = CliRunner().invoke(main, args)
    assert stopped.exit_code == 130  # (0.4.2 and before: click's "Aborted!", status 1)
    assert stopped.output.strip().endswith("jerkcount: interrupted (the outputs of this run "
                                           "were not put in place)")  # fmt: skip
    assert {p.name: p.read_bytes() for p in out.iterdir()} == before
    monkeypatch.undo()

    second = _run("process", nights["a"], nights["b"], "--out", out, "--tz", BERLIN)
    assert second.exit_code == 0, second.output
    assert sorted(p.name for p in out.iterdir()) == names
    assert (out / "events.csv").read_bytes() != before["events.csv"]  # two nights now
    assert len(json.loads((out / "summary.json").read_text())["recordings"]) == 2


def test_a_killed_runs_staging_folder_is_cleared_by_the_next(
    nights: dict[str, Path], tmp_path: Path
) -> None:
    """SIGKILL leaves a run's hidden staging folder; the next run into the folder removes
    it (its process is gone) but not that of a run still writing (this process)."""
    import os
    import subprocess
    import sys

    out = tmp_path / "trend"
    done = subprocess.run([sys.executable, "-c", "import os; print(os.getpid())"],
                          capture_output=True, text=True, check=True)  # fmt: skip
    dead = out / f".jerkcount-writing-{int(done.stdout)}-abc123"
    live = out / f".jerkcount-writing-{os.getpid()}-def456"
    for folder in (dead, live):
        (folder / "trend").mkdir(parents=True)
        (folder / "trend" / "events.csv").write_text("time\n")
    res = _run("process", nights["a"], "--out", out, "--tz", BERLIN)
    assert res.exit_code == 0, res.output
    assert not dead.exists() and (live / "trend" / "events.csv").exists()
    assert sorted(p.name for p in out.iterdir()) == sorted([*FILES, "report.html", live.name])


SIGTERM_WHILE_WRITING = """
import os, signal, sys, time
import pipeline.process as proc
real = proc.write_csv
def write_then_term(path, frame):
    real(path, frame)
    os.kill(os.getpid(), signal.SIGTERM)
    time.sleep(20)  # the handler raises here
proc.write_csv = write_then_term
import cli
sys.argv = ["jerkcount", "process", sys.argv[1], "--out", sys.argv[2], "--tz", "UTC"]
cli.main()
"""


def test_sigterm_while_writing_leaves_the_earlier_outputs_and_no_staging(
    nights: dict[str, Path], tmp_path: Path
) -> None:
    """SIGTERM (a job scheduler's) used to kill `process` outright: the hidden staging
    folder stayed, and nothing was printed; Ctrl-C printed click's "Aborted!", status 1."""
    import subprocess
    import sys

    out = tmp_path / "out"
    assert _run("process", nights["a"], "--out", out, "--tz", "UTC").exit_code == 0
    before = {n: (out / n).read_bytes() for n in FILES}
    res = subprocess.run(
        [sys.executable, "-c", SIGTERM_WHILE_WRITING, str(nights["b"]), str(out)],
        capture_output=True, text=True, timeout=120,
    )  # fmt: skip
    assert res.returncode == 130, res.stderr
    assert res.stderr.strip().splitlines()[-1] == (
        "jerkcount: interrupted (the outputs of this run were not put in place)"
    )
    assert "Traceback" not in res.stderr
    assert sorted(p.name for p in out.iterdir()) == sorted([*FILES, "report.html"])
    assert {n: (out / n).read_bytes() for n in FILES} == before


@pytest.mark.parametrize("command", ["process", "detect"])
def test_a_named_pipe_is_refused_at_once(tmp_path: Path, command: str) -> None:
    """A FIFO (or `<(zcat night.csv.gz)`) is read more than once (its first bytes, its
    rows, its sha256): `process` blocked for good in its hashing thread."""
    import os
    import subprocess
    import sys

    fifo = tmp_path / "night.csv"
    os.mkfifo(fifo)
    out = ["--out", str(tmp_path / ("o" if command == "process" else "e.csv"))]
    res = subprocess.run(
        [sys.executable, "-m", "cli", command, str(fifo), *out],
        capture_output=True, text=True, timeout=60, cwd=Path(__file__).resolve().parents[1],
    )  # fmt: skip
    assert res.returncode == 2
    assert res.stderr.strip() == (
        f"jerkcount: error: {fifo}: is not a regular file (a pipe or a device): jerkcount "
        "reads a recording more than once, so save it to a file first"
    )
    assert not (tmp_path / "o").exists()


def test_a_recording_given_twice_is_one_line(tmp_path: Path) -> None:
    """`process n.csv n.csv` (or a folder and a file in it) said that n.csv overlaps
    n.csv; it says it was given twice, and nothing is written."""
    night = simulate_night(NightConfig(hours=0.05, fs=50, seed=2))
    rec = tmp_path / "in" / "n.csv"
    rec.parent.mkdir()
    write_samples_csv(rec, night.time, night.acc, night.metadata())
    link = tmp_path / "same.csv"
    link.symlink_to(rec)
    cases = [
        ([rec, rec], f"{rec}: given twice: give each recording once"),
        ([rec, link], f"{link}: given twice (also as {rec}): give each recording once"),
        ([rec.parent, rec], f"{rec}: given twice: give each recording once"),
    ]
    for given, message in cases:
        out = tmp_path / "out"
        res = CliRunner().invoke(main, ["process", *map(str, given), "--out", str(out)])
        assert res.exit_code == 2, res.output
        assert res.output == f"jerkcount: error: {message}\n"
        assert not out.exists()
