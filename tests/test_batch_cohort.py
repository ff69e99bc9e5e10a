"""A study team's cohort: links to recordings that are gone, and what batch and process
say about them."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
from click.testing import CliRunner

from cli import main
from pipeline.writer import write_samples_csv
from sim import NightConfig, simulate_night

BERLIN = "Europe/Berlin"
START = 1774735200.0  # 2026-03-28T23:00:00+01:00


def _night(path: Path, seed: int) -> Path:
    night = simulate_night(
        NightConfig(hours=0.1, fs=50.0, seed=seed, rate_per_hour=150, start=START)
    )
    path.parent.mkdir(parents=True, exist_ok=True)
    write_samples_csv(path, night.time, night.acc, night.metadata())
    return path


def _run(*args: str | Path):
    result = CliRunner().invoke(main, [str(a) for a in args])
    if result.exception and not isinstance(result.exception, SystemExit):
        raise result.exception
    return result


def _csv(path: Path) -> pd.DataFrame:
    return pd.read_csv(path, dtype=str, keep_default_na=False)


def test_a_link_to_a_recording_that_is_gone_is_a_failed_row(tmp_path: Path) -> None:
    # a night linked from an archive that is not mounted: the batch used to pass it over
    # in silence and say every recording was ok
    nights = tmp_path / "nights"
    _night(nights / "n1.csv", 1)
    gone = tmp_path / "archive" / "n2.csv"
    (nights / "n2.csv").symlink_to(gone)
    line = f"{nights / 'n2.csv'}: is a link to {gone}, which does not exist"
    for name, inputs in (("folder", [nights]), ("glob", [f"{nights}/*.csv"])):
        out = tmp_path / name
        result = _run("batch", *inputs, "--out", out, "--tz", BERLIN, "--jobs", "1")
        assert result.exit_code == 1, result.output
        assert f"jerkcount: error: {line}" in result.output.splitlines()
        rows = _csv(out / "recordings.csv")
        assert rows["recording"].tolist() == [str(nights / "n1.csv"), str(nights / "n2.csv")]
        assert rows["status"].tolist() == ["ok", "failed"]
        assert rows["error"].tolist() == ["", line]
        errors = _csv(out / "errors.csv")
        assert errors.to_dict("list") == {"recording": [str(nights / "n2.csv")], "error": [line]}
        assert sorted(p.name for p in out.iterdir()) == [
            "cohort_daily_summary.csv", "errors.csv", "n1", "recordings.csv",
        ]  # fmt: skip
    # process combines one person's nights: one missing is an error, not a shorter trend
    result = _run("process", nights, "--out", tmp_path / "p", "--tz", BERLIN)
    assert result.exit_code == 2, result.output
    assert result.output.splitlines() == [f"jerkcount: error: {nights / 'n2.csv'}: no such file"]
    assert not (tmp_path / "p").exists()
