"""Events/activity output files: columns, local times across DST, atomicity."""

from __future__ import annotations

import json
import os
import stat
from datetime import UTC, datetime
from pathlib import Path

import pandas as pd
import pytest

from pipeline import outputs
from pipeline.atomic import atomic_write, private_files, umask_mode
from pipeline.errors import InputError
from pipeline.events import ACTIVITY_COLUMNS, ActivityPeriod, JerkEvent
from pipeline.outputs import (
    EVENT_CSV_COLUMNS,
    activity_frame,
    default_events_path,
    events_frame,
    get_zone,
    local_iso,
    local_zone_name,
    sidecar_paths,
    write_activity_csv,
    write_events_csv,
)


def _epoch(text: str) -> float:
    return datetime.fromisoformat(text).replace(tzinfo=UTC).timestamp()


def _event(t: float) -> JerkEvent:
    return JerkEvent(
        time=t, peak_g=0.4321, duration_ms=85.0, axis="y", peak_time=t + 0.03, background_g=0.012
    )


@pytest.mark.parametrize(
    ("utc", "local"),
    [
        # spring forward 2026-03-29: 02:00 CET jumps to 03:00 CEST (01:00 UTC)
        ("2026-03-29T00:30:00.123", "2026-03-29T01:30:00.123+01:00"),
        ("2026-03-29T00:59:59.999", "2026-03-29T01:59:59.999+01:00"),
        ("2026-03-29T01:00:00.000", "2026-03-29T03:00:00.000+02:00"),
        ("2026-03-29T01:30:00.123", "2026-03-29T03:30:00.123+02:00"),
        # fall back 2026-10-25: 03:00 CEST goes back to 02:00 CET (01:00 UTC)
        ("2026-10-25T00:30:00.500", "2026-10-25T02:30:00.500+02:00"),
        ("2026-10-25T01:30:00.500", "2026-10-25T02:30:00.500+01:00"),
        ("2026-10-25T23:59:59.999", "2026-10-26T00:59:59.999+01:00"),
    ],
)
def test_time_local_across_dst(utc: str, local: str) -> None:
    frame = events_frame([_event(_epoch(utc))], "Europe/Berlin")
    assert frame["time_local"].tolist() == [local]


def test_time_local_rounds_to_milliseconds() -> None:
    t = _epoch("2026-03-29T01:30:00") + 0.1236
    assert local_iso([t], "Europe/Berlin") == ["2026-03-29T03:30:00.124+02:00"]
    assert local_iso([t], "UTC") == ["2026-03-29T01:30:00.124+00:00"]
    assert local_iso([t], "America/New_York") == ["2026-03-28T21:30:00.124-04:00"]


def test_time_local_is_the_written_time_at_half_milliseconds(tmp_path: Path) -> None:
    """Onsets on a 400 Hz grid fall on half milliseconds: ``time_local`` and ``time`` in
    the written CSV name the same millisecond (before 0.4.5 ``time_local`` rounded
    ``t * 1000`` half to even and differed by 1 ms from ``%.3f`` in about half of them)."""
    t0 = _epoch("2026-03-29T01:30:00")
    events = [_event(t0 + k / 400.0) for k in range(2000)]
    path = write_events_csv(tmp_path / "ev.csv", events, "UTC")
    rows = pd.read_csv(path, dtype=str)
    written = rows["time"].str.split(".").str[1]
    local = rows["time_local"].str.slice(20, 23)
    assert len(rows) == 2000 and (written.str.len() == 3).all()
    assert (written == local).all()
    assert rows["time"].iloc[1] == f"{t0 + 1 / 400:.3f}"


def test_events_frame_columns_and_values() -> None:
    t = _epoch("2026-10-25T01:30:00.5")
    frame = events_frame([_event(t)], "Europe/Berlin")
    assert list(frame.columns) == [
        "time",
        "time_local",
        "peak_g",
        "duration_ms",
        "axis",
        "peak_time",
        "background_g",
        "clipped",
    ]
    assert list(frame.columns) == EVENT_CSV_COLUMNS
    row = frame.iloc[0]
    assert row["time"] == t
    assert row["peak_g"] == 0.4321
    assert row["axis"] == "y"
    empty = events_frame([], "UTC")
    assert list(empty.columns) == EVENT_CSV_COLUMNS and len(empty) == 0


def test_write_events_csv_is_plain_csv_with_ms_times(tmp_path: Path) -> None:
    t = _epoch("2026-03-29T01:30:00") + 0.1234
    path = write_events_csv(
        tmp_path / "n.events.csv", [_event(t), _event(t + 5)], "Europe/Berlin", {"a": 1}
    )
    lines = path.read_text(encoding="utf-8").splitlines()
    assert lines[0] == "time,time_local,peak_g,duration_ms,axis,peak_time,background_g,clipped"
    assert lines[1] == (
        f"{t:.3f},2026-03-29T03:30:00.123+02:00,0.4321,85.0,y,{t + 0.03:.3f},0.01200,false"
    )
    back = pd.read_csv(path)
    assert back["time"].tolist() == pytest.approx([t, t + 5], abs=5e-4)
    assert json.loads((tmp_path / "n.events.json").read_text()) == {"a": 1}


def test_write_activity_csv(tmp_path: Path) -> None:
    start = _epoch("2026-10-25T00:59:00")
    periods = [ActivityPeriod(start, start + 150.0, "rhythmic")]
    assert list(activity_frame(periods, "UTC").columns) == ACTIVITY_COLUMNS
    path = write_activity_csv(tmp_path / "a.csv", periods, "Europe/Berlin")
    lines = path.read_text(encoding="utf-8").splitlines()
    assert lines[0] == "start,end,start_local,end_local,minutes,kind"
    assert lines[1] == (
        f"{start:.3f},{start + 150:.3f},2026-10-25T02:59:00.000+02:00,"
        "2026-10-25T02:01:30.000+01:00,2.500,rhythmic"
    )


def test_interrupted_write_leaves_no_file(tmp_path: Path, monkeypatch) -> None:
    real_write_rows = outputs._write_rows

    def half_then_fail(fh, header, rows):
        real_write_rows(fh, header, list(rows)[:1])  # part of the file is already written
        fh.flush()
        raise KeyboardInterrupt

    monkeypatch.setattr(outputs, "_write_rows", half_then_fail)
    target = tmp_path / "out.events.csv"
    with pytest.raises(KeyboardInterrupt):
        write_events_csv(target, [_event(1.0), _event(2.0)], "UTC")
    assert list(tmp_path.iterdir()) == []


def test_interrupted_rewrite_keeps_old_file(tmp_path: Path, monkeypatch) -> None:
    target = tmp_path / "out.events.csv"
    write_events_csv(target, [_event(1.0)], "UTC")
    before = target.read_bytes()

    def fail(*args, **kwargs):
        raise OSError("disk full")

    monkeypatch.setattr(outputs, "_write_rows", fail)
    with pytest.raises(OSError, match="disk full"):
        write_events_csv(target, [_event(2.0), _event(3.0)], "UTC")
    assert target.read_bytes() == before
    assert [p.name for p in tmp_path.iterdir()] == ["out.events.csv"]


def test_events_csv_is_what_pandas_writes(tmp_path: Path) -> None:
    # the CSVs are written without pandas: the same bytes as DataFrame.to_csv gave
    events = [_event(1.0), _event(2.5), _event(1774747800.1234)]
    periods = [ActivityPeriod(10.0, 160.0, "rhythmic, with a comma"),
               ActivityPeriod(200.0, 201.5, 'a "quoted" kind')]  # fmt: skip
    target = tmp_path / "x.events.csv"
    write_events_csv(target, events, "Europe/Berlin")
    write_activity_csv(tmp_path / "x.activity.csv", periods, "Europe/Berlin")
    for path, frame in (
        (target, events_frame(events, "Europe/Berlin")),
        (tmp_path / "x.activity.csv", activity_frame(periods, "Europe/Berlin")),
    ):
        text = frame.copy()
        for column, fmt in outputs.EVENT_FORMATS.items():
            if column in text.columns:
                text[column] = [fmt % v for v in text[column].to_numpy(dtype=float)]
        assert path.read_text(encoding="utf-8") == text.to_csv(index=False, lineterminator="\n")


def test_bad_zone_is_input_error() -> None:
    with pytest.raises(InputError, match="unknown time zone 'Mars/Olympus'"):
        get_zone("Mars/Olympus")
    with pytest.raises(InputError):
        get_zone("../etc/passwd")
    with pytest.raises(InputError):
        events_frame([_event(1.0)], "Not/AZone")


def test_local_zone_name(monkeypatch) -> None:
    monkeypatch.setenv("TZ", "Europe/Berlin")
    assert local_zone_name() == "Europe/Berlin"
    monkeypatch.setenv("TZ", "Nowhere/Special")
    name = local_zone_name()
    get_zone(name)  # whatever it falls back to is a valid zone


def test_paths_beside_events() -> None:
    assert default_events_path(Path("d/night.csv")) == Path("d/night.events.csv")
    assert default_events_path(Path("night")) == Path("night.events.csv")
    # a compression suffix goes with the one before it (was night.csv.events.csv)
    assert default_events_path(Path("d/night.csv.gz")) == Path("d/night.events.csv")
    assert default_events_path(Path("night.cwa.gz")) == Path("night.events.csv")
    assert default_events_path(Path("phyphox.zip")) == Path("phyphox.events.csv")
    activity, sidecar = sidecar_paths(Path("d/night.events.csv"))
    assert activity == Path("d/night.events.activity.csv")
    assert sidecar == Path("d/night.events.json")


@pytest.mark.skipif(not hasattr(os, "fchmod"), reason="POSIX file modes")
@pytest.mark.parametrize(("umask", "mode"), [(0o022, 0o644), (0o027, 0o640), (0o077, 0o600)])
def test_outputs_get_the_mode_of_a_plain_open(tmp_path: Path, umask: int, mode: int) -> None:
    """An atomic output is not left at its temporary file's private 0600: it gets the
    mode ``open`` gives under the umask (group-readable results in a study folder)."""
    old = os.umask(umask)
    umask_mode.cache_clear()
    try:
        with atomic_write(tmp_path / "events.csv") as fh:
            fh.write("time\n")
        plain = tmp_path / "plain.csv"
        plain.write_text("time\n")
        with private_files(), atomic_write(tmp_path / "night.csv") as fh:
            fh.write("time\n")
    finally:
        os.umask(old)
        umask_mode.cache_clear()
    assert stat.S_IMODE((tmp_path / "events.csv").stat().st_mode) == mode
    assert stat.S_IMODE(plain.stat().st_mode) == mode
    assert stat.S_IMODE((tmp_path / "night.csv").stat().st_mode) == 0o600
    assert [p.name for p in tmp_path.iterdir() if p.name.endswith(".tmp")] == []


def test_detect_replaces_its_three_files_as_one_set(tmp_path: Path, monkeypatch) -> None:
    """`detect` run again over earlier results and stopped by a full disk at the sidecar
    (the last of its three files): all three are still the earlier run's, byte for byte,
    no stand-in is left, and the one-line error names the sidecar, not a stand-in."""
    import errno

    from click.testing import CliRunner

    from cli import main
    from pipeline.writer import write_samples_csv
    from sim import NightConfig, simulate_night

    night = simulate_night(NightConfig(hours=0.1, fs=50.0, seed=3, rate_per_hour=120))
    rec = tmp_path / "night.csv"
    write_samples_csv(rec, night.time, night.acc, night.metadata())
    first = CliRunner().invoke(main, ["detect", str(rec), "--tz", "UTC"])
    assert first.exit_code == 0, first.output
    names = ["night.csv", "night.events.activity.csv", "night.events.csv", "night.events.json"]
    assert sorted(p.name for p in tmp_path.iterdir()) == names
    before = {p.name: p.read_bytes() for p in tmp_path.iterdir()}

    def full(path, data):
        raise OSError(errno.ENOSPC, "No space left on device", str(path))

    monkeypatch.setattr(outputs, "write_json", full)
    # another zone: every local time in both CSVs differs from the first run's
    again = CliRunner().invoke(main, ["detect", str(rec), "--tz", "Asia/Tokyo"])
    assert again.exit_code == 1
    assert again.output.strip().splitlines()[-1] == (
        f"jerkcount: error: {tmp_path / 'night.events.json'}: No space left on device"
    )
    assert {p.name: p.read_bytes() for p in tmp_path.iterdir()} == before


def test_file_set_replaces_all_or_none(tmp_path: Path) -> None:
    """`file_set`: every target replaced when the block ends, in the order given; on an
    error none of them, no stand-in left, and an OSError names the target."""
    import errno

    from pipeline.atomic import file_set

    a, b = tmp_path / "a.csv", tmp_path / "b.json"
    a.write_text("old a\n")
    b.write_text("old b\n")
    with pytest.raises(KeyboardInterrupt), file_set([a, b]) as (ta, tb):
        with atomic_write(ta) as fh:
            fh.write("new a\n")
        raise KeyboardInterrupt  # before b is written
    assert (a.read_text(), b.read_text()) == ("old a\n", "old b\n")
    assert sorted(p.name for p in tmp_path.iterdir()) == ["a.csv", "b.json"]
    with pytest.raises(OSError) as err, file_set([a, b]) as (ta, tb):
        raise OSError(errno.ENOSPC, "No space left on device", str(tb))
    assert err.value.filename == str(b) and err.value.errno == errno.ENOSPC
    with file_set([a, b]) as (ta, tb):
        for path, text in ((ta, "new a\n"), (tb, "new b\n")):
            with atomic_write(path) as fh:
                fh.write(text)
        assert (a.read_text(), b.read_text()) == ("old a\n", "old b\n")  # not yet
    assert (a.read_text(), b.read_text()) == ("new a\n", "new b\n")
    assert sorted(p.name for p in tmp_path.iterdir()) == ["a.csv", "b.json"]


def test_system_streams_are_written_into_never_replaced(tmp_path: Path) -> None:
    """/dev/null, /dev/stdout (a link to /proc/self/fd/1, a regular file when the output
    is redirected) and named pipes are the system's: `atomic_write` writes into them
    and leaves them what they are; a set of files refuses them."""
    import errno
    import threading

    from pipeline.atomic import file_set, special_file

    assert special_file("/dev/null") and special_file("/dev/stdout")
    assert special_file("/proc/self/fd/1") and not special_file(tmp_path)
    assert not special_file(tmp_path / "new.csv")
    before = os.lstat("/dev/null")
    with atomic_write("/dev/null") as fh:
        fh.write("nothing\n")
    after = os.lstat("/dev/null")
    assert stat.S_ISCHR(after.st_mode) and after.st_ino == before.st_ino
    assert list(Path("/dev").glob(".null.*")) == []
    fifo = tmp_path / "pipe"
    os.mkfifo(fifo)
    got: list[bytes] = []
    reader = threading.Thread(target=lambda: got.append(fifo.read_bytes()))
    reader.start()
    with atomic_write(fifo) as fh:
        fh.write("through the pipe\n")
    reader.join(10)
    assert got == [b"through the pipe\n"] and stat.S_ISFIFO(os.lstat(fifo).st_mode)
    with pytest.raises(OSError) as err, file_set([tmp_path / "a.csv", fifo]):
        pass
    assert err.value.errno == errno.EINVAL and err.value.filename == str(fifo)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["pipe"]


def test_detect_to_dev_stdout_is_a_one_line_error(tmp_path: Path) -> None:
    """`detect --out /dev/stdout` would put two more files in /dev: exit 2, one line,
    /dev/stdout still what it was."""
    from click.testing import CliRunner

    from cli import main
    from pipeline.writer import write_samples_csv
    from sim import NightConfig, simulate_night

    night = simulate_night(NightConfig(hours=0.05, fs=50.0, seed=3))
    rec = tmp_path / "night.csv"
    write_samples_csv(rec, night.time, night.acc, night.metadata())
    before = os.lstat("/dev/stdout")
    res = CliRunner().invoke(main, ["detect", str(rec), "--out", "/dev/stdout"])
    assert res.exit_code == 2
    assert res.output.strip().splitlines()[-1] == (
        "jerkcount: error: /dev/stdout: not a regular file: detect writes the events CSV "
        "and two files beside it (give a file name)"
    )
    after = os.lstat("/dev/stdout")  # still the link (or device) it was
    assert (after.st_mode, after.st_ino) == (before.st_mode, before.st_ino)
    assert list(Path("/dev").glob("stdout.*")) == []


def test_a_closed_pipe_ends_the_command_quietly(tmp_path: Path) -> None:
    """`jerkcount score ... --matches /dev/stdout | head -1`: the reader leaves after a
    line; the command stops with status 141 and no error line (it said 'Broken pipe')."""
    import subprocess
    import sys

    truth = tmp_path / "t.csv"
    truth.write_text("time\n" + "".join(f"{100 + i}.0\n" for i in range(20000)))
    cmd = [sys.executable, "-m", "cli", "score", str(truth), str(truth), "--matches",
           "/dev/stdout"]  # fmt: skip
    repo = Path(__file__).resolve().parents[1]
    proc = subprocess.Popen(cmd, cwd=repo, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    first = proc.stdout.readline()  # type: ignore[union-attr]
    proc.stdout.close()  # type: ignore[union-attr]
    stderr = proc.stderr.read()  # type: ignore[union-attr]
    assert proc.wait(30) == 141
    assert first.startswith(b"status,truth_time,event_time")
    assert stderr == b""


def test_matches_to_a_redirected_stdout_keeps_the_table_whole(tmp_path: Path) -> None:
    """`jerkcount score T E --matches /dev/stdout > m.csv`: the table, then the score
    line. /dev/stdout was opened anew, which truncated m.csv and wrote the table from
    its start, and the score line, printed at the output's own offset, was written
    over the table's first bytes. The test names /proc/self/fd/1, where /dev/stdout
    points: nothing is written under /dev (the tests may run as root)."""
    import subprocess
    import sys
    import tempfile

    repo = Path(__file__).resolve().parents[1]
    truth, events = tmp_path / "t.csv", tmp_path / "e.csv"
    truth.write_text("time\n10.0\n20.0\n")
    events.write_text("time\n10.02\n30.0\n")
    cmd = [sys.executable, "-m", "cli", "score", str(truth), str(events), "--matches",
           "/proc/self/fd/1"]  # fmt: skip
    with tempfile.TemporaryFile() as out:
        proc = subprocess.run(cmd, cwd=repo, stdout=out, stderr=subprocess.PIPE, timeout=60)
        out.seek(0)
        written = out.read().decode()
    assert proc.returncode == 0, proc.stderr
    assert written.splitlines() == [
        "status,truth_time,event_time,error_ms,truth_peak_g,event_peak_g,"
        "truth_duration_ms,event_duration_ms,truth_detail",
        "tp,10.0000,10.0200,20.0,,,,,",
        "fn,20.0000,,,,,,,",
        "fp,,30.0000,,,,,,",
        "precision 0.500  recall 0.500  F1 0.500  (tp 1, fp 1, fn 1; tolerance 0.3 s)",
    ]


def test_detect_with_a_folder_where_its_sidecar_goes_writes_nothing(tmp_path: Path) -> None:
    """`detect --out x.csv` with a folder `x.json` in the way: one line naming it, and
    the earlier events and activity stay (they were replaced before the sidecar's
    rename failed)."""
    from click.testing import CliRunner

    from cli import main
    from sim import NightConfig, simulate_night, write_night

    rec = tmp_path / "night.csv"
    write_night(simulate_night(NightConfig(hours=0.1, seed=3)), rec, tmp_path / "truth.csv")
    out = tmp_path / "x.csv"
    old = {"x.csv": b"earlier events\n", "x.activity.csv": b"earlier activity\n"}
    for name, data in old.items():
        (tmp_path / name).write_bytes(data)
    (tmp_path / "x.json").mkdir()
    res = CliRunner().invoke(main, ["detect", str(rec), "--out", str(out), "--tz", "UTC"])
    assert res.exit_code == 2
    assert res.output.strip() == f"jerkcount: error: {tmp_path / 'x.json'}: Is a directory"
    assert {n: (tmp_path / n).read_bytes() for n in old} == old
    assert sorted(p.name for p in tmp_path.iterdir()) == sorted(
        ["night.csv", "truth.csv", "x.json", *old]
    )


@pytest.mark.parametrize(
    ("command", "named"),
    [
        (["detect", "{rec}", "--out", "{rec}/x.csv"], "{rec}/x.activity.csv"),
        (["detect", "{rec}", "--out", "{file}/deeper/x.csv"], "{file}/deeper/x.activity.csv"),
        (["process", "{rec}", "--out", "{rec}/o", "--tz", "UTC"], "{rec}/o"),
        (["simulate", "--out", "{file}/a.csv", "--truth", "{tmp}/t.csv", "--hours", "0.01"],
         "{file}/a.csv"),
    ],
)  # fmt: skip
def test_an_output_under_a_file_names_the_file_in_the_way(
    tmp_path: Path, command: list[str], named: str
) -> None:
    """`--out night.csv/x.csv`: one line naming the output and the file in the way, exit
    2, nothing left (it named a hidden stand-in: `.x.activity.csv.7754.set: Not a
    directory`, or said `File exists`)."""
    from click.testing import CliRunner

    from cli import main
    from pipeline.writer import write_samples_csv
    from sim import NightConfig, simulate_night

    rec = tmp_path / "n.csv"
    night = simulate_night(NightConfig(hours=0.05, fs=50, seed=1))
    write_samples_csv(rec, night.time, night.acc, night.metadata())
    other = tmp_path / "notes.txt"
    other.write_text("a file\n")
    fill = {"rec": str(rec), "file": str(other), "tmp": str(tmp_path)}
    args = [a.format(**fill) for a in command]
    before = sorted(p.name for p in tmp_path.iterdir())
    res = CliRunner().invoke(main, args)
    assert res.exit_code == 2, res.output
    blocker = rec if "{rec}/" in command[command.index("--out") + 1] else other
    assert res.output.splitlines()[-1] == (
        f"jerkcount: error: {named.format(**fill)}: cannot be written: {blocker} is a file, "
        "not a folder"
    )
    assert sorted(p.name for p in tmp_path.iterdir()) == before


def test_one_jerk_is_one_jerk_in_the_lines() -> None:
    """`detect`'s line, `simulate`'s, `process`'s and `demo`'s said "1 jerks"."""
    from pipeline.events import jerks_text
    from pipeline.outputs import DetectionSummary

    assert [jerks_text(n) for n in (0, 1, 2)] == ["0 jerks", "1 jerk", "2 jerks"]
    assert jerks_text(1, "true") == "1 true jerk"
    one = DetectionSummary(jerks=1, span_h=0.5, recorded_h=0.5, rate_per_h=2.0,
                           activity_min=0.0, gaps=0, gap_min=0.0)  # fmt: skip
    assert one.line("e.csv") == "1 jerk in 0.50 h (2.0/h), 0.0 activity minutes -> e.csv"
