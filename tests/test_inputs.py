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
    assert res.output == (
        "jerkcount: error: no recordings (.csv, .csv.gz, .parquet, .cwa, .cwa.gz, .bin, "
        f".bin.gz) in {empty}\n"
    )


def test_output_headers_are_the_writers_columns() -> None:
    """The headers `find_inputs` skips are those the writers write (one source each)."""
    from pipeline.batch import ERRORS_COLUMNS, RECORDINGS_COLUMNS
    from pipeline.events import ACTIVITY_COLUMNS, EVENT_COLUMNS
    from pipeline.inputs import OUTPUT_HEADERS
    from pipeline.score import MATCH_COLUMNS
    from pipeline.summary import DAILY_COLUMNS, HOURLY_COLUMNS
    from sim.night import TRUTH_COLUMNS

    by_kind = {kind: list(prefix) for prefix, kind in OUTPUT_HEADERS.items()}
    # a truth is known by its first six columns (before 0.4.5 it had no lost_samples)
    assert by_kind == {
        "events table": EVENT_COLUMNS,
        "activity table": ACTIVITY_COLUMNS,
        "ground-truth table": TRUTH_COLUMNS[:6],
        "score matches table": list(MATCH_COLUMNS[:3]),
        "daily summary": DAILY_COLUMNS[:3],
        "hourly table": HOURLY_COLUMNS[:3],
        "cohort daily summary": ["recording", *DAILY_COLUMNS[:2]],
        "cohort recordings table": RECORDINGS_COLUMNS[:3],
        "cohort errors table": ERRORS_COLUMNS,
    }


def test_a_folder_skips_the_tables_jerkcount_wrote_beside_its_recordings(
    tmp_path: Path,
) -> None:
    """A researcher's folder after `simulate`, `detect`, `score --matches` and a `batch`
    whose --out was elsewhere then moved in: `batch FOLDER` takes the recordings only and
    every one of them succeeds; a glob skips the tables too, a name does not."""
    import gzip
    import shutil

    from pipeline.inputs import output_table

    data = tmp_path / "study"
    rec = data / "P01-night3.csv"
    res = _run("simulate", "--out", rec, "--truth", data / "P01-night3.truth.csv",
               "--hours", "0.1", "--fs", "50", "--seed", "3")  # fmt: skip
    assert res.exit_code == 0, res.output
    events = data / "results" / "P01-night3.events.csv"
    assert _run("detect", rec, "--out", events, "--tz", "UTC").exit_code == 0
    truth = data / "P01-night3.truth.csv"
    matches = data / "P01-night3.matches.csv"
    assert _run("score", truth, events, "--matches", matches).exit_code == 0
    gz = data / "results" / "P01-night3.events.csv.gz"
    gz.write_bytes(gzip.compress(events.read_bytes()))
    cohort = tmp_path / "cohort"
    res = _run("batch", rec, "--out", cohort, "--jobs", "1", "--tz", "UTC")
    assert res.exit_code == 0, res.output
    for name in ("cohort_daily_summary.csv", "recordings.csv", "errors.csv"):
        shutil.copy(cohort / name, data / name)
    (data / "P01-night3").mkdir()
    shutil.copy(cohort / "P01-night3" / "hourly.csv", data / "P01-night3" / "hourly.csv")
    shutil.copy(cohort / "P01-night3" / "daily_summary.csv", data / "P01-night3" / "d.csv")
    own = _night(data / "own" / "night.csv", 4, 1)

    assert {p.name: output_table(p) for p in sorted(data.rglob("*.csv*"))} == {
        "P01-night3.csv": None,
        "P01-night3.matches.csv": "score matches table",
        "P01-night3.truth.csv": "ground-truth table",
        "d.csv": "daily summary",
        "hourly.csv": "hourly table",
        "cohort_daily_summary.csv": "cohort daily summary",
        "errors.csv": "cohort errors table",
        "night.csv": None,
        "recordings.csv": "cohort recordings table",
        "P01-night3.events.activity.csv": "activity table",
        "P01-night3.events.csv": "events table",
        "P01-night3.events.csv.gz": "events table",
    }
    assert find_inputs([data]) == [rec, own]
    assert find_inputs([str(data / "*.csv")]) == [rec]
    assert find_inputs([events]) == [events]  # named: the reader says what is wrong

    res = _run("batch", data, "--out", tmp_path / "again", "--jobs", "1", "--tz", "UTC")
    assert res.exit_code == 0, res.output
    assert "2 recording(s): 2 ok, 0 skipped (up to date), 0 failed" in res.output
    res = _run("batch", events, "--out", tmp_path / "named", "--jobs", "1")
    assert res.exit_code == 1
    only = tmp_path / "only-tables"
    only.mkdir()
    shutil.copy(truth, only / "t.csv")
    res = _run("process", only, "--out", tmp_path / "o")
    assert res.exit_code == 2
    assert res.output == (
        "jerkcount: error: no recordings (.csv, .csv.gz, .parquet, .cwa, .cwa.gz, .bin, "
        f".bin.gz) in {only} (1 jerkcount output table(s) skipped)\n"
    )


def test_out_that_holds_the_recordings_is_a_usage_error(tmp_path: Path) -> None:
    """`process nights --out nights` (or `batch`): the folder of the recordings would
    become an output folder, and every later run would find no recording in it. One
    line, exit 2, nothing written; --out below it is fine."""
    nights = tmp_path / "nights"
    _night(nights / "n1.csv", 1, 0)
    for cmd in ("process", "batch"):
        res = _run(cmd, nights, "--out", nights, "--tz", "UTC")
        assert res.exit_code == 2, res.output
        assert res.output.strip().splitlines()[-1] == (
            f"jerkcount: error: --out {nights if cmd == 'process' else nights.resolve()} "
            f"holds the recordings given ({nights}): the outputs need a folder of their own, "
            f"such as {nights / 'summary'}"
        )
        assert sorted(p.name for p in nights.iterdir()) == ["n1.csv"]
    assert _run("process", nights, "--out", nights / "summary", "--tz", "UTC").exit_code == 0


def test_no_command_writes_over_its_own_input(tmp_path: Path) -> None:
    """An output named like an input (or two outputs alike) is a one-line error, exit 2,
    before anything is read or written: `detect night.csv --out night.csv` replaced
    the recording with its events, `score T E --matches T` the truth with the matches."""
    import hashlib

    rec = _night(tmp_path / "night.csv", 1, 0)
    truth = tmp_path / "night.truth.csv"
    truth.write_text(
        "kind,time,end,peak_g,duration_ms,detail\njerk,1772402500.0,1772402500.1,0.5,80,x\n"
    )
    events = tmp_path / "night.events.csv"
    assert _run("detect", rec, "--out", events, "--tz", "UTC").exit_code == 0
    folder = tmp_path / "p"
    folder.mkdir()
    inside = folder / "events.csv"
    inside.write_bytes(rec.read_bytes())

    def digests() -> dict[str, str]:
        return {
            p.name: hashlib.sha256(p.read_bytes()).hexdigest()
            for p in tmp_path.rglob("*")
            if p.is_file()
        }

    before = digests()
    cases = [
        (["detect", rec, "--out", rec], f"{rec}: would be written over the input {rec}"),
        (["detect", events, "--out", tmp_path / "night.csv"], None),
        (["score", truth, events, "--matches", truth],
         f"{truth}: would be written over the input {truth}"),
        (["simulate", "--out", tmp_path / "s.csv", "--truth", tmp_path / "s.csv",
          "--hours", "0.01"],
         f"{tmp_path / 's.csv'}: named twice as an output (also as {tmp_path / 's.csv'})"),
        (["process", inside, "--out", folder, "--tz", "UTC"],
         f"{inside}: would be written over the input {inside}"),
    ]  # fmt: skip
    for args, message in cases:
        res = _run(*args)
        assert res.exit_code == 2, (args, res.output)
        if message is not None:
            assert res.output.strip().splitlines()[-1] == (
                f"jerkcount: error: {message}: give the output another name"
                if "written over" in message
                else f"jerkcount: error: {message}: give each its own name"
            )
    assert digests() == before


def test_a_folder_names_its_recordings_as_a_file_would(tmp_path: Path, monkeypatch) -> None:
    """`process nights` and `process nights/a.csv` write the same `recording` column
    (it was absolute after a folder, relative after a file)."""
    import json

    import pandas as pd

    monkeypatch.chdir(tmp_path)
    _night(tmp_path / "nights" / "a.csv", 3, 0)
    assert expand_folders([Path("nights")]) == [Path("nights/a.csv")]
    assert expand_folders([tmp_path / "nights"]) == [tmp_path / "nights" / "a.csv"]
    for given, out in (("nights", "by_folder"), ("nights/a.csv", "by_file")):
        res = _run("process", given, "--out", out, "--tz", "UTC")
        assert res.exit_code == 0, res.output
    for out in ("by_folder", "by_file"):
        events = pd.read_csv(tmp_path / out / "events.csv", dtype=str)
        assert set(events["recording"]) == {"nights/a.csv"}
        summary = json.loads((tmp_path / out / "summary.json").read_text())
        assert [r["path"] for r in summary["recordings"]] == ["nights/a.csv"]


def test_a_folder_gives_its_device_binaries(tmp_path: Path) -> None:
    """`.cwa` and GENEActiv `.bin` files in a folder are recordings (a folder of device
    downloads found nothing); a `.bin` that is not a GENEActiv one is passed over."""
    import gzip
    import shutil

    formats = Path(__file__).parent / "data" / "formats"
    folder = tmp_path / "downloads"
    folder.mkdir()
    shutil.copy(formats / "ax3_night.cwa", folder / "P01.cwa")
    shutil.copy(formats / "geneactiv_night.bin", folder / "P02.bin")
    (folder / "P03.bin.gz").write_bytes(
        gzip.compress((formats / "geneactiv_night.bin").read_bytes())
    )
    (folder / "firmware.bin").write_bytes(bytes(range(256)) * 4)
    (folder / "notes.bin").write_text("Device Identity is on the label\n")
    assert find_inputs([folder]) == [folder / "P01.cwa", folder / "P02.bin", folder / "P03.bin.gz"]
    res = _run("batch", folder, "--out", tmp_path / "out", "--jobs", "1", "--tz", "UTC")
    assert res.exit_code == 0, res.output
    assert sorted(p.name for p in (tmp_path / "out").iterdir() if p.is_dir()) == [
        "P01", "P02", "P03"
    ]  # fmt: skip
