"""Detector parameters from a file: ``--params`` of detect, process and batch."""

from __future__ import annotations

import json
import math
import os
import subprocess
import sys
from dataclasses import fields
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from click.testing import CliRunner

from cli import main
from pipeline.errors import InputError
from pipeline.params import BOUNDS, DetectorParams, range_problems, read_params_file
from pipeline.writer import write_samples_csv

T0 = 1_767_300_000.0


def _run(*args: str | Path):
    result = CliRunner().invoke(main, [str(a) for a in args])
    if result.exception and not isinstance(result.exception, SystemExit):
        raise result.exception
    return result


def _write(path: Path, data: object) -> Path:
    path.write_text(json.dumps(data), encoding="utf-8")
    return path


def test_a_partial_object_keeps_the_other_defaults(tmp_path: Path) -> None:
    p = read_params_file(_write(tmp_path / "p.json", {"energy_z": 0, "k_high": 3.5}))
    assert p == DetectorParams(energy_z=0.0, k_high=3.5)


def test_the_parameters_of_an_events_sidecar_or_a_summary_are_reused(tmp_path: Path) -> None:
    chosen = DetectorParams(k_low=1.5, pause_s=0.0).as_dict()
    sidecar = _write(
        tmp_path / "EVENTS.json", {"jerkcount_version": "x", "detector_params": chosen}
    )
    summary = _write(tmp_path / "summary.json", {"parameters": {"detector": chosen, "pattern": {}}})
    assert read_params_file(sidecar) == DetectorParams(k_low=1.5, pause_s=0.0)
    assert read_params_file(summary) == DetectorParams(k_low=1.5, pause_s=0.0)


@pytest.mark.parametrize(
    ("text", "message", "line"),
    [
        ('{"k_high": 4,\n "k_low": }', "not JSON", 2),
        ("[1, 2]", "expected a JSON object of detector parameters", None),
        ('{"k_hi": 4}', "unknown detector parameter(s): k_hi", None),
        ('{"k_high": "4"}', 'k_high must be a number, not "4"', None),
        ('{"k_high": true}', "k_high must be a number, not true", None),
        ('{"k_high": NaN}', "k_high must be a number, not NaN", None),
        ('{"rhythm_min_any": 2.5}', "rhythm_min_any must be a whole number, not 2.5", None),
        ('{"floor_extent": 1}', "floor_extent must be true or false, not 1", None),
        ('{"pulse_share": 1}', "pulse_share must be above 0 and below 1, not 1", None),
        ('{"lp_hz": 0}', "lp_hz must be at least 2 Hz and at most 10000 Hz, not 0", None),
        ('{"frame_s": 0}', "frame_s must be at least 0.01 s and at most 10 s, not 0", None),
        ('{"frame_s": 1e-9}', "frame_s must be at least 0.01 s and at most 10 s, not 1e-09", None),
        (
            '{"energy_z": 40}',
            "energy_z must be at least 1 and at most 20 (or 0 for off), not 40",
            None,
        ),
        (
            '{"rhythm_min_any": 1}',
            "rhythm_min_any must be at least 2 and at most 1e+06, not 1",
            None,
        ),
        ('{"energy_min_s": 0.5}', "energy_min_s (0.5) must not exceed energy_max_s (0.3)", None),
        ('{"pulse_share": "x"}', 'pulse_share must be a number, not "x"', None),
        ('{"parameters": {"pattern": {}}}', "expected a JSON object of detector parameters", None),
    ],
)
def test_bad_files_are_one_error_naming_the_file(
    tmp_path: Path, text: str, message: str, line: int | None
) -> None:
    path = tmp_path / "params.json"
    path.write_text(text, encoding="utf-8")
    with pytest.raises(InputError) as err:
        read_params_file(path)
    assert err.value.path == str(path)
    assert err.value.line == line
    assert message in err.value.message


@pytest.fixture(scope="module")
def quiet_jerk(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A minute of 0.02 g noise at 100 Hz with one 250 ms, 0.06 g jerk at 30 s that only
    the energy trigger finds."""
    fs = 100.0
    rng = np.random.default_rng(3)
    acc = rng.normal(0.0, 0.02, (int(60 * fs), 3))
    acc[:, 2] += 1.0
    t = np.arange(acc.shape[0]) / fs
    inside = (t >= 30.0) & (t < 30.25)
    acc[inside, 0] += 0.06 * np.sin(np.pi * (t[inside] - 30.0) / 0.25)
    path = tmp_path_factory.mktemp("quiet") / "night.csv"
    write_samples_csv(path, T0 + t, acc, {"device": "test"})
    return path


def _events(path: Path) -> pd.DataFrame:
    return pd.read_csv(path)


def test_detect_with_params_and_with_the_sidecar_of_a_run(quiet_jerk: Path, tmp_path: Path) -> None:
    default = _run("detect", quiet_jerk, "--out", tmp_path / "a.csv", "--tz", "UTC")
    assert default.exit_code == 0, default.output
    assert len(_events(tmp_path / "a.csv")) == 1
    off = _write(tmp_path / "off.json", {"energy_z": 0})
    res = _run("detect", quiet_jerk, "--out", tmp_path / "b.csv", "--tz", "UTC", "--params", off)
    assert res.exit_code == 0, res.output
    assert len(_events(tmp_path / "b.csv")) == 0
    sidecar = json.loads((tmp_path / "b.json").read_text())
    assert sidecar["detector_params"] == DetectorParams(energy_z=0.0).as_dict()
    again = _run(
        "detect", quiet_jerk, "--out", tmp_path / "c.csv", "--tz", "UTC",
        "--params", tmp_path / "b.json",
    )  # fmt: skip
    assert again.exit_code == 0, again.output
    assert (tmp_path / "c.csv").read_bytes() == (tmp_path / "b.csv").read_bytes()


def test_a_bad_params_file_is_one_line_and_exit_2(quiet_jerk: Path, tmp_path: Path) -> None:
    bad = _write(tmp_path / "bad.json", {"k_hi": 3})
    out = tmp_path / "e.csv"
    res = _run("detect", quiet_jerk, "--out", out, "--params", bad)
    assert res.exit_code == 2
    assert res.stderr.strip() == f"jerkcount: error: {bad}: unknown detector parameter(s): k_hi"
    assert not out.exists()
    missing = _run("detect", quiet_jerk, "--out", out, "--params", tmp_path / "none.json")
    assert missing.exit_code == 2
    assert str(tmp_path / "none.json") in missing.stderr
    assert len(missing.stderr.strip().splitlines()) == 1


def test_process_records_the_params_it_was_given(quiet_jerk: Path, tmp_path: Path) -> None:
    off = _write(tmp_path / "off.json", {"energy_z": 0})
    res = _run("process", quiet_jerk, "--out", tmp_path / "out", "--tz", "UTC", "--params", off)
    assert res.exit_code == 0, res.output
    summary = json.loads((tmp_path / "out" / "summary.json").read_text())
    assert summary["parameters"]["detector"]["energy_z"] == 0
    assert len(_events(tmp_path / "out" / "events.csv")) == 0


def test_batch_redoes_a_recording_when_the_params_change(quiet_jerk: Path, tmp_path: Path) -> None:
    out = tmp_path / "cohort"
    first = _run("batch", quiet_jerk, "--out", out, "--tz", "UTC", "--jobs", "1")
    assert first.exit_code == 0, first.output
    assert "1 ok, 0 skipped" in first.stdout
    same = _run("batch", quiet_jerk, "--out", out, "--tz", "UTC", "--jobs", "1")
    assert "0 ok, 1 skipped" in same.stdout
    off = _write(tmp_path / "off.json", {"energy_z": 0})
    changed = _run("batch", quiet_jerk, "--out", out, "--tz", "UTC", "--jobs", "1", "--params", off)
    assert changed.exit_code == 0, changed.output
    assert "1 ok, 0 skipped" in changed.stdout
    rows = pd.read_csv(out / "cohort_daily_summary.csv")
    assert rows["jerks"].sum() == 0


def test_replay_takes_params_for_the_live_count_and_the_summary(
    quiet_jerk: Path, tmp_path: Path
) -> None:
    env = {**os.environ, "PYTHONPATH": str(Path(__file__).resolve().parents[1])}
    counts = {}
    for name, params in (("default", None), ("off", {"energy_z": 0})):
        extra = ["--params", str(_write(tmp_path / f"{name}.json", params))] if params else []
        out = tmp_path / name
        r = subprocess.run(
            [sys.executable, "-m", "cli", "replay", str(quiet_jerk), "--speed", "max",
             "--out", str(out), "--tz", "UTC", *extra],
            capture_output=True, text=True, env=env, timeout=120,
        )  # fmt: skip
        assert r.returncode == 0, r.stderr
        counts[name] = int(r.stdout.split("jerks      ")[1].split()[0])
        summary = json.loads((out / "summary.json").read_text())
        assert summary["parameters"]["detector"]["energy_z"] == (0 if params else 5)
    assert counts == {"default": 1, "off": 0}


def test_every_numeric_field_has_a_range_and_the_defaults_are_in_it() -> None:
    numeric = {f.name for f in fields(DetectorParams) if f.type != "bool"}
    assert numeric == set(BOUNDS)
    assert range_problems(DetectorParams()) == []


@pytest.mark.parametrize("name", sorted(BOUNDS))
def test_each_range_refuses_what_lies_outside_it(name: str) -> None:
    bound = BOUNDS[name]
    below = bound.low - 1.0 if bound.low_ok else bound.low
    for bad in (below, bound.high * 2.0 + 1.0, float("nan"), float("inf")):
        if bound.off is not None and bad == bound.off:
            continue
        with pytest.raises(ValueError, match=f"^{name} must be "):
            DetectorParams(
                **{name: type(getattr(DetectorParams(), name))(bad) if math.isfinite(bad) else bad}
            )


def test_a_bad_value_on_the_command_line_is_one_line_and_status_2(
    quiet_jerk: Path, tmp_path: Path
) -> None:
    bad = _write(tmp_path / "bad.json", {"frame_s": 0})
    res = _run("detect", quiet_jerk, "--out", tmp_path / "x.csv", "--params", bad)
    assert res.exit_code == 2
    assert res.output.strip().splitlines() == [
        f"jerkcount: error: {bad}: frame_s must be at least 0.01 s and at most 10 s, not 0"
    ]
    assert not (tmp_path / "x.csv").exists()


def test_a_missing_params_file_says_no_such_file_as_a_recording_does(tmp_path: Path) -> None:
    """It said `No such file or directory` (errno's text) where a missing recording says
    `no such file`; a binary file and JSON nested too deeply are named too."""
    with pytest.raises(InputError) as err:
        read_params_file(tmp_path / "nope.json")
    assert (err.value.path, err.value.message) == (str(tmp_path / "nope.json"), "no such file")
    binary = tmp_path / "b.json"
    binary.write_bytes(b"\xff\xfe\x00{")
    with pytest.raises(InputError, match="not a text file"):
        read_params_file(binary)
    deep = tmp_path / "deep.json"
    deep.write_text("[" * 100_000 + "]" * 100_000)
    with pytest.raises(InputError, match="nested too deeply"):
        read_params_file(deep)


def test_a_params_file_with_a_byte_order_mark_is_read(tmp_path: Path) -> None:
    """A Windows editor's 'UTF-8 with BOM' was 'not JSON: Unexpected UTF-8 BOM' (before
    0.4.5); the recordings' readers take a BOM, so the parameters do too."""
    path = tmp_path / "params.json"
    path.write_bytes(b'\xef\xbb\xbf{"energy_z": 0, "frame_s": 0.5}\r\n')
    assert read_params_file(path) == DetectorParams(energy_z=0.0, frame_s=0.5)


@pytest.mark.parametrize("damage", ["null", "missing"])
def test_an_output_without_its_parameters_says_so(tmp_path: Path, damage: str) -> None:
    """An EVENTS.json whose detector_params was null or removed listed every top-level
    key as an 'unknown detector parameter(s): counts, created_utc, ...' (before 0.4.5)."""
    sidecar = {"jerkcount_version": "0.4.4", "recording": {}, "counts": {}}
    if damage == "null":
        sidecar["detector_params"] = None
    with pytest.raises(InputError) as err:
        read_params_file(_write(tmp_path / "EVENTS.json", sidecar))
    assert str(err.value) == (
        f"{tmp_path / 'EVENTS.json'}: a jerkcount output without its detector parameters "
        "(no 'detector_params' or 'parameters.detector' object): give an EVENTS.json or "
        "summary.json as written"
    )
