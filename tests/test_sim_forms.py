"""``simulate --out`` writes the form its name promises.

Before 0.4.5 ``simulate --out night.csv.gz`` wrote plain text under a ``.gz`` name (and
``--out night.parquet`` CSV text under a Parquet name): jerkcount read them by their
first bytes, but gzip, pandas and pyarrow could not.
"""

from __future__ import annotations

import gzip
from pathlib import Path

import numpy as np
import pyarrow.parquet as pq
import pytest
from click.testing import CliRunner

from cli import main
from sim import NightConfig, simulate_night, write_night

NIGHT = ["--hours", "0.02", "--fs", "50", "--seed", "4"]


def _simulate(out: Path, truth: Path) -> tuple[int, str]:
    res = CliRunner().invoke(main, ["simulate", "--out", str(out), "--truth", str(truth), *NIGHT])
    return res.exit_code, res.output


def test_a_gz_name_is_written_gzip_compressed_with_the_csvs_text(tmp_path: Path) -> None:
    assert _simulate(tmp_path / "n.csv", tmp_path / "n.truth.csv")[0] == 0
    code, output = _simulate(tmp_path / "z.csv.gz", tmp_path / "z.truth.csv")
    assert code == 0, output
    packed = (tmp_path / "z.csv.gz").read_bytes()
    assert packed[:2] == b"\x1f\x8b"
    assert gzip.decompress(packed) == (tmp_path / "n.csv").read_bytes()
    assert (tmp_path / "z.truth.csv").read_bytes() == (tmp_path / "n.truth.csv").read_bytes()
    # no time or name in the gzip header: the same night gives the same bytes
    assert _simulate(tmp_path / "again.csv.gz", tmp_path / "again.truth.csv")[0] == 0
    assert (tmp_path / "again.csv.gz").read_bytes() == packed
    events = tmp_path / "z.events.csv"
    res = CliRunner().invoke(main, ["detect", str(tmp_path / "z.csv.gz"), "--tz", "UTC"])
    assert res.exit_code == 0, res.output
    plain = CliRunner().invoke(main, ["detect", str(tmp_path / "n.csv"), "--tz", "UTC"])
    assert plain.exit_code == 0, plain.output
    assert events.read_bytes() == (tmp_path / "n.events.csv").read_bytes()


def test_a_parquet_name_is_written_as_canonical_parquet(tmp_path: Path) -> None:
    night = simulate_night(NightConfig(hours=0.02, fs=50, seed=4))
    write_night(night, tmp_path / "n.parquet", tmp_path / "n.truth.csv")
    path = tmp_path / "n.parquet"
    assert path.read_bytes()[:4] == b"PAR1"
    table = pq.read_table(path)
    assert table.column_names == ["time", "ax", "ay", "az"]
    np.testing.assert_array_equal(table.column("time").to_numpy(), night.time)
    got = np.column_stack([table.column(c).to_numpy() for c in ("ax", "ay", "az")])
    np.testing.assert_array_equal(got, night.acc)
    meta = {k.decode(): v.decode() for k, v in table.schema.metadata.items()}
    assert meta == night.metadata()
    assert sorted(p.name for p in tmp_path.iterdir()) == ["n.parquet", "n.truth.csv"]


@pytest.mark.parametrize(
    ("out", "truth", "message"),
    [
        ("n.csv.bz2", "n.truth.csv",
         "n.csv.bz2: a recording is written as .csv, .csv.gz or .parquet, not .bz2"),
        ("n.csv.xz", "n.truth.csv",
         "n.csv.xz: a recording is written as .csv, .csv.gz or .parquet, not .xz"),
        ("n.cwa", "n.truth.csv",
         "n.cwa: a recording is written as .csv, .csv.gz or .parquet, not .cwa"),
        ("n.csv", "n.truth.csv.gz",
         "n.truth.csv.gz: the truth is written as plain CSV: give it a name ending in .csv"),
        ("n.csv", "n.truth.parquet",
         "n.truth.parquet: the truth is written as plain CSV: give it a name ending in .csv"),
    ],
)  # fmt: skip
def test_a_name_promising_a_form_not_written_is_refused_before_anything_is_written(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, out: str, truth: str, message: str
) -> None:
    monkeypatch.chdir(tmp_path)
    res = CliRunner().invoke(main, ["simulate", "--out", out, "--truth", truth, *NIGHT],
                             catch_exceptions=False)  # fmt: skip
    assert res.exit_code == 2
    assert res.output == f"jerkcount: error: {message}\n"
    assert list(tmp_path.iterdir()) == []


@pytest.mark.parametrize("suffix", [".csv.gz", ".csv.bz2", ".xz", ".zip", ".parquet"])
def test_detect_out_and_score_matches_named_as_compressed_are_usage_errors(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, suffix: str
) -> None:
    """detect --out ev.csv.gz wrote plain CSV text as ev.csv.gz (and ev.csv.activity.csv,
    ev.csv.json beside it); score --matches m.csv.gz plain text too (before 0.4.5)."""
    monkeypatch.chdir(tmp_path)
    assert _simulate(Path("n.csv"), Path("n.truth.csv"))[0] == 0
    assert CliRunner().invoke(main, ["detect", "n.csv", "--tz", "UTC"]).exit_code == 0
    before = sorted(p.name for p in tmp_path.iterdir())
    ending = next(s for s in (".gz", ".bz2", ".xz", ".zip", ".parquet") if suffix.endswith(s))
    res = CliRunner().invoke(main, ["detect", "n.csv", "--out", f"ev{suffix}"])
    assert res.exit_code == 2
    assert res.output == (
        f"jerkcount: error: Invalid value for '--out': ev{suffix}: the events are written as "
        f"plain CSV, not {ending}: give a name ending in .csv\n"
    )
    res = CliRunner().invoke(main, ["score", "n.truth.csv", "n.events.csv", "--matches",
                                    f"m{suffix}"])  # fmt: skip
    assert res.exit_code == 2
    assert res.output == (
        f"jerkcount: error: Invalid value for '--matches': m{suffix}: the matches are written "
        f"as plain CSV, not {ending}: give a name ending in .csv\n"
    )
    assert sorted(p.name for p in tmp_path.iterdir()) == before
