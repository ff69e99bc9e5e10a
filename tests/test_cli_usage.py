"""Usage errors of every command: one line on stderr, ``jerkcount: error: ...``, exit
status 2, never a traceback nor click's four-line form; run as real processes."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from click.testing import CliRunner

from cli import main


def _jerkcount(*args: str | Path, cwd: Path) -> subprocess.CompletedProcess[str]:
    found = shutil.which("jerkcount", path=str(Path(sys.executable).parent))
    if found is None:
        pytest.skip("jerkcount console script not installed (pip install -e .)")
    return subprocess.run(
        [found, *map(str, args)], cwd=cwd, capture_output=True, text=True, timeout=120,
        env={**os.environ, "TZ": "UTC"},
    )  # fmt: skip


RECORD = ["record", "--source", "serial:/nonexistent/port", "--out", "nights"]


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["batch", "x.csv", "--out", "o", "--jobs", "0"],
         "Invalid value for '-j' / '--jobs': 0 is not in the range x>=1."),
        (["batch", "x.csv", "--out", "o", "--jobs", "-1"],
         "Invalid value for '-j' / '--jobs': -1 is not in the range x>=1."),
        (["simulate", "--out", "a.csv", "--truth", "b.csv", "--hours", "-1"],
         "Invalid value for '--hours': -1.0 is not in the range x>0."),
        (["detect", "x.csv", "--rate", "nan"],
         "Invalid value for '--rate': 'nan' is not a finite number."),
        (["process", "x.csv", "--out", "o", "--scale", "inf"],
         "Invalid value for '--scale': 'inf' is not a finite number."),
        (["scan", "--no-ble", "--timeout", "nan"],
         "Invalid value for '--timeout': 'nan' is not a finite number."),
        ([*RECORD, "--stall", "nan"], "Invalid value for '--stall': 'nan' is not a finite number."),
        ([*RECORD, "--rate", "inf"], "Invalid value for '--rate': 'inf' is not a finite number."),
        # an arrival-stamped board at --rate 0.001 had its samples stamped 1000 s apart
        ([*RECORD, "--rate", "0.001"],
         "Invalid value for '--rate': 0.001 is not in the range 1.0<=x<=5000.0."),
        ([*RECORD, "--rate", "1e308"],
         "Invalid value for '--rate': 1e+308 is not in the range 1.0<=x<=5000.0."),
        ([*RECORD, "--duration", "inf"], "duration must be a finite time, got 'inf'"),
        ([*RECORD, "--duration", "1e400"], "duration must be a finite time, got '1e400'"),
        ([*RECORD, "--duration", ""],
         "duration must look like 8h, 90m, 1h30m or 45s, got ''"),
        ([*RECORD, "--tz", "", "--duration", "1"],
         "--tz: unknown time zone '' (use an IANA name such as Europe/Berlin)"),
        (["detect", "x.csv", "--tz", ""],
         "--tz: unknown time zone '' (use an IANA name such as Europe/Berlin)"),
        (["sim-device", "--hours", "inf"],
         "Invalid value for '--hours': 'inf' is not a finite number."),
        (["sim-device", "--fs", "nan"], "Invalid value for '--fs': 'nan' is not a finite number."),
        (["sim-device", "--speed", "inf"],
         "Invalid value for '--speed': 'inf' is not a finite number."),
        (["demo", "--hours", "nan"], "Invalid value for '--hours': 'nan' is not a finite number."),
        (["replay", "x.csv", "--speed", "junk"],
         "Invalid value for --speed: 'junk' is not a number or max"),
        (["replay", "x.csv", "--speed", "1e-300"],  # waited for ever
         "Invalid value for --speed: must be a number from 0.01 up (or max)"),
        (["replay", "x.csv", "--speed", "inf"],
         "Invalid value for --speed: must be a number from 0.01 up (or max)"),
        (["batch", "x.csv", "--out", "o", "--scheduler", ""],  # ran locally without a word
         "Invalid value for --scheduler: give the scheduler's address, e.g. tcp://host:8786"),
        (["detect"], "Missing argument 'REC'."),
        (["nosuchcommand"], "No such command 'nosuchcommand'."),
    ],
)  # fmt: skip
def test_a_bad_value_is_one_line_and_status_2(
    tmp_path: Path, args: list[str], message: str
) -> None:
    """Before, click's usage errors took four lines (usage, hint, blank, error); NaN and
    infinity passed every FloatRange (sim-device --hours inf and --fs nan ended in int()
    tracebacks, record --stall nan was taken, --duration inf recorded for ever); an
    empty --tz quietly meant the machine's zone."""
    res = _jerkcount(*args, cwd=tmp_path)
    assert res.returncode == 2
    assert res.stderr == f"jerkcount: error: {message}\n"
    assert res.stdout == ""
    assert sorted(p.name for p in tmp_path.iterdir()) == []


def test_sim_device_does_not_replace_a_file_with_its_link(tmp_path: Path) -> None:
    """--link naming a regular file replaced it with the link, then removed the link at
    the end: the file was gone."""
    keep = tmp_path / "notes.txt"
    keep.write_text("precious\n", encoding="utf-8")
    res = _jerkcount("sim-device", "--hours", "0.0005", "--link", "notes.txt", cwd=tmp_path)
    assert res.returncode == 2
    assert res.stderr == (
        "jerkcount: error: notes.txt: exists and is not a link: --link needs a name of its "
        "own (it is replaced by the link, and removed at the end)\n"
    )
    assert res.stdout == ""
    assert keep.read_text(encoding="utf-8") == "precious\n"


def test_sim_device_link_in_a_missing_folder_names_the_link(tmp_path: Path) -> None:
    """The error named the pty (/dev/pts/N: No such file or directory), not the link."""
    res = _jerkcount("sim-device", "--hours", "0.0005", "--link", "no/board", cwd=tmp_path)
    assert res.returncode == 2
    assert (
        res.stderr
        == "jerkcount: error: no/board: cannot make the link: No such file or directory\n"
    )
    assert res.stdout == ""


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--seed", "-1"], "seed must be a whole number >= 0, got -1"),
        (["--rate", "nan"], "rate_per_hour must be a finite number, got nan"),
        (["--protocol", "text:junk"],
         "unknown text format 'junk'; presets: csv, csv-ms, tsv, tsv-ms, adafruit, "
         "mpu6050-raw, puck or auto"),
    ],
)  # fmt: skip
def test_sim_device_settings_checked_as_the_night_starts_are_one_line(
    tmp_path: Path, args: list[str], message: str
) -> None:
    """These were checked only once the board ran (after it printed its port) and ended
    in tracebacks, exit status 1; they are one line now, before the port is printed."""
    res = _jerkcount("sim-device", "--hours", "0.0005", *args, cwd=tmp_path)
    assert res.returncode == 2
    assert res.stderr == f"jerkcount: error: {message}\n"
    assert res.stdout == ""  # no port printed: nothing to connect to


def test_demo_refuses_a_bad_tz_before_simulating(tmp_path: Path) -> None:
    """A bad --tz was found only after the night was simulated and written to --out."""
    res = _jerkcount("demo", "--out", "d", "--hours", "0.01", "--tz", "Bad/Zone", cwd=tmp_path)
    assert res.returncode == 2
    assert res.stderr == (
        "jerkcount: error: --tz: unknown time zone 'Bad/Zone' (use an IANA name such as "
        "Europe/Berlin)\n"
    )
    assert res.stdout == ""
    assert not (tmp_path / "d").exists()


def test_out_of_memory_is_one_line(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """simulate --hours 1e6 ended in numpy's _ArrayMemoryError traceback."""
    import sim

    def no_memory(config: object) -> None:
        raise MemoryError("Unable to allocate 2.62 TiB for an array with shape (360000000000,)")

    monkeypatch.setattr(sim, "simulate_night", no_memory)
    res = CliRunner().invoke(
        main, ["simulate", "--out", str(tmp_path / "a.csv"), "--truth", str(tmp_path / "b.csv")]
    )
    assert res.exit_code == 1
    assert res.stderr == (
        "jerkcount: error: out of memory: Unable to allocate 2.62 TiB for an array with "
        "shape (360000000000,)\n"
    )
    assert res.stdout == ""


def test_a_file_where_an_outputs_folder_goes_is_status_2(tmp_path: Path) -> None:
    """score --matches FILE/m.csv ended with status 1, as for a disk that filled part-way;
    an output that cannot be made at all (a file in the way) is status 2."""
    truth, events = tmp_path / "t.csv", tmp_path / "e.csv"
    truth.write_text("kind,time,end,peak_g,duration_ms,detail\njerk,100.0,,0.5,50,x\n")
    events.write_text("time,peak_g,duration_ms\n100.01,0.5,50\n")
    res = _jerkcount("score", "t.csv", "e.csv", "--matches", "t.csv/m.csv", cwd=tmp_path)
    assert res.returncode == 2
    assert res.stdout == ""
    lines = res.stderr.splitlines()
    assert len(lines) == 1 and lines[0].startswith("jerkcount: error: ") and "t.csv" in lines[0]


@pytest.mark.parametrize(
    ("command", "start", "message"),
    [
        (["detect", "x.csv", "--time-unit", "relative"], "0001-01-01T00:00:00+14:00",
         "'0001-01-01T00:00:00+14:00' lies outside the years 1 to 9999 in UTC"),
        (["simulate", "--out", "a.csv", "--truth", "b.csv"], "0001-01-01T00:00:00+14:00",
         "'0001-01-01T00:00:00+14:00' lies outside the years 1 to 9999 in UTC"),
        (["detect", "x.csv", "--time-unit", "relative"], "9999-12-31T23:59:59",
         "'9999-12-31T23:59:59' is past the year 5000, which no reader takes"),
    ],
)  # fmt: skip
def test_a_start_no_reader_can_place_is_a_usage_error(
    tmp_path: Path, command: list[str], start: str, message: str
) -> None:
    """--start 0001-01-01T00:00:00+14:00 (before the year 1 in UTC) ended in 'year 0 is
    out of range' tracebacks (simulate wrote a night detect then crashed on); a --start
    past the year 5000 was said to look like milliseconds, though the file's times were
    relative seconds as told."""
    res = _jerkcount(*command, "--start", start, cwd=tmp_path)
    assert res.returncode == 2
    assert res.stderr == f"jerkcount: error: Invalid value for '--start': {message}\n"
    assert res.stdout == ""
    assert sorted(p.name for p in tmp_path.iterdir()) == []


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["detect", "x.csv", "--out", "-"],
         "Invalid value for '--out': '-' is no file name here: detect writes three files, "
         "give the events file's name"),
        (["score", "t.csv", "e.csv", "--matches", "-"],
         "Invalid value for '--matches': '-' is no file name here: /dev/stdout prints the "
         "table"),
    ],
)  # fmt: skip
def test_a_dash_is_no_output_file(tmp_path: Path, args: list[str], message: str) -> None:
    """'-' (stdout to many tools) wrote files named '-', '-.activity.csv' and '-.json',
    and score --matches - wrote over a file named '-'."""
    res = _jerkcount(*args, cwd=tmp_path)
    assert res.returncode == 2
    assert res.stderr == f"jerkcount: error: {message}\n"
    assert sorted(p.name for p in tmp_path.iterdir()) == []


@pytest.mark.parametrize(
    ("content", "message"),
    [
        (b"\xff\xfe\x00binary", "not a text file (not UTF-8): give a JSON file"),
        (b"[" * 100_000 + b"]" * 100_000, "not JSON: nested too deeply"),
    ],
)
def test_a_params_file_that_is_not_json_text_names_the_file(
    tmp_path: Path, content: bytes, message: str
) -> None:
    """A binary --params file was named '<input>'; one nested too deeply for json ended in
    a RecursionError traceback."""
    (tmp_path / "p.json").write_bytes(content)
    res = _jerkcount("detect", "x.csv", "--params", "p.json", cwd=tmp_path)
    assert res.returncode == 2
    assert res.stderr == f"jerkcount: error: p.json: {message}\n"
    assert res.stdout == ""
