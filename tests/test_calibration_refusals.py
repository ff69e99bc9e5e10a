"""Autocalibration refusals say why, with their numbers, in the data-quality record."""

from __future__ import annotations

import json

import numpy as np
from click.testing import CliRunner

from pipeline.calibration import StillWindows, calibrate_windows
from pipeline.writer import write_samples_csv
from sim import NightConfig, simulate_night

FS = 25.0


def _windows(t: np.ndarray, a: np.ndarray) -> StillWindows:
    still = StillWindows(FS)
    still.push(t, a)
    return still


def _result(still: StillWindows, hours: float):
    return calibrate_windows(still.finish(), None, hours, still.windows_seen, still.quietest_sd_g)


def test_noisy_sensor_is_refused_naming_its_noise() -> None:
    """30 mg of white noise: no 10-s window can have every axis' SD below 13 mg."""
    night = simulate_night(NightConfig(hours=1.0, fs=FS, seed=4, bias_g=0.0, noise_g=0.03))
    still = _windows(night.time, night.acc)
    result = _result(still, 1.0)
    assert result.status == "not enough still periods" and not result.applied
    assert still.windows_seen >= 355 and result.still_windows == 0
    assert 0.025 < still.quietest_sd_g < 0.031  # the quietest of ~360 windows of 30 mg noise
    assert result.reason.startswith(f"0 of {still.windows_seen} 10-s windows in 1.00 h were still")
    assert f"the quietest window's SD is {still.quietest_sd_g * 1000:.1f} mg" in result.reason
    assert "sensor's noise alone is above the still criterion" in result.reason


def test_device_on_a_table_names_the_sides_it_lacks() -> None:
    """An hour at one orientation (z up, tilted): five sides of the sphere are empty."""
    rng = np.random.default_rng(0)
    t = np.arange(0, 3600.0, 1 / FS)
    up = np.array([0.05, -0.1, 1.0]) / np.linalg.norm([0.05, -0.1, 1.0])
    a = up * 1.03 + 0.02 + rng.normal(0, 0.004, (t.size, 3))
    result = _result(_windows(t, a), 1.0)
    assert result.status == "not enough orientations" and result.still_windows == 360
    assert result.reason == (
        "360 still windows, none with x above +0.3 g, x below -0.3 g, y above +0.3 g, "
        "y below -0.3 g, z below -0.3 g: the sphere is not covered, so offset and scale "
        "cannot be told apart"
    )
    assert result.offset_g == [0.0, 0.0, 0.0] and result.scale == [1.0, 1.0, 1.0]


def test_too_short_a_recording_says_how_many_windows_it_had() -> None:
    t = np.arange(0, 60.0, 1 / FS)
    a = np.tile([0.0, 0.0, 1.0], (t.size, 1))
    result = _result(_windows(t, a), 60.0 / 3600.0)
    assert result.status == "not enough still periods"
    assert result.reason == (
        "6 of 6 10-s windows in 0.02 h were still (every axis' SD below 13 mg); 10 are needed"
    )


def test_reason_reaches_the_quality_record(tmp_path) -> None:
    """`detect --calibrate auto` writes the reason next to the status."""
    from cli import main

    night = simulate_night(NightConfig(hours=0.5, fs=FS, seed=2, bias_g=0.0))
    raw = np.round(night.acc * np.array([1.04, 0.97, 1.02]) + [0.04, -0.03, 0.02], 5)
    path = write_samples_csv(tmp_path / "raw.csv", night.time, raw)
    out = tmp_path / "ev.csv"
    res = CliRunner().invoke(
        main, ["detect", str(path), "--out", str(out), "--tz", "UTC", "--calibrate", "auto"]
    )
    assert res.exit_code == 0, res.output
    cal = json.loads((tmp_path / "ev.json").read_text())["data_quality"]["calibration"]
    assert cal["status"] == "applied"
    before, after = cal["error_before_g"] * 1000, cal["error_after_g"] * 1000
    assert cal["reason"] == (
        f"still vectors {before:.1f} mg RMS from 1 g before, {after:.1f} mg after, "
        f"over {cal['still_windows']} windows"
    )
