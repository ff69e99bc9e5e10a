"""Recordings named on the command line: a folder's recordings, not jerkcount's outputs."""

from __future__ import annotations

from pathlib import Path

from click.testing import CliRunner

from cli import main
from pipeline.inputs import expand_folders, find_inputs, is_output_summary
from pipeline.writer import write_samples_csv
from sim import NightConfig, simulate_night

START = 1772402400.0  # 2026-03-01T22:00:00Z


def _night(path: Path, seed: int, day: int) -> Path:
    night = simulate_night(NightConfig(hours=0.1, fs=50.0, seed=seed, start=START + 86400 * day))
    path.parent.mkdir(parents=True, exist_ok=True)
    write_samples_csv(path, night.time, night.acc, night.metadata())
    return path


def _run(*args: str | Path):
    return CliRunner().invoke(main, [str(a) for a in args])


def test_a_record_folder_gives_its_recordings_not_its_summaries(tmp_path: Path) -> None:
    """A folder as `record` leaves it (recordings, a summary folder per night), plus an
    earlier `process` output and a folder of someone's own notes with a summary.json."""
    nights = tmp_path / "nights"
    first = _night(nights / "recording-1.csv", 1, 0)
    second = _night(nights / "recording-2.csv", 2, 1)
    res = _run("process", first, "--out", nights / "summary-1", "--tz", "UTC")
    assert res.exit_code == 0, res.output
    assert is_output_summary(nights / "summary-1" / "summary.json")
    notes = nights / "notes"
    notes.mkdir()
    (notes / "summary.json").write_text('{"mine": 1}\n')
    (notes / "extra.csv").write_text("time,ax,ay,az\n")
    assert not is_output_summary(notes / "summary.json")
    assert find_inputs([nights]) == [notes / "extra.csv", first, second]
    assert expand_folders([Path("x.csv"), nights / "notes"]) == [Path("x.csv"), notes / "extra.csv"]


def test_process_takes_a_folder(tmp_path: Path) -> None:
    """`process FOLDER` = `process` of the recordings in it; its own --out inside the
    folder (a trend next to the nights) is not read back on the next run."""
    nights = tmp_path / "nights"
    first = _night(nights / "recording-1.csv", 1, 0)
    second = _night(nights / "recording-2.csv", 2, 1)
    by_name = _run("process", first, second, "--out", tmp_path / "by_name", "--tz", "UTC")
    assert by_name.exit_code == 0, by_name.output
    for _ in range(2):  # the second run finds trend/ inside the folder and skips it
        res = _run("process", nights, "--out", nights / "trend", "--tz", "UTC")
        assert res.exit_code == 0, res.output
        assert res.output.splitlines()[:-1] == by_name.output.splitlines()[:-1]
    trend = (nights / "trend" / "events.csv").read_bytes()
    assert trend == (tmp_path / "by_name" / "events.csv").read_bytes()
    empty = tmp_path / "empty"
    empty.mkdir()
    res = _run("process", empty, "--out", tmp_path / "o")
    assert res.exit_code == 2
    assert res.output == f"jerkcount: error: no recordings (.csv, .csv.gz, .parquet) in {empty}\n"
