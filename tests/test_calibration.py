"""Autocalibration: still periods fitted to the unit sphere, applied only when it helps."""

from __future__ import annotations

import json

import numpy as np
import pytest
from click.testing import CliRunner

from pipeline.calibration import CalibrationParams, StillWindows, calibrate_windows, fit_sphere
from pipeline.detector import detect_file
from pipeline.formats import InputOptions
from pipeline.reader import ReaderParams
from pipeline.writer import write_samples_csv
from sim import NightConfig, simulate_night

GAIN = np.array([1.05, 0.96, 1.03])  # raw = GAIN * true + OFFSET
OFFSET = np.array([0.05, -0.04, 0.03])


@pytest.fixture(scope="module")
def night():
    """A calibrated simulated hour (no bias) at 25 Hz with postures all round."""
    return simulate_night(NightConfig(hours=1.0, fs=25.0, seed=2, bias_g=0.0, rate_per_hour=120))


def _detect(path, calibrate: str):
    reader = ReaderParams(input=InputOptions(calibrate=calibrate))
    return detect_file(path, reader_params=reader)


def test_calibrated_night_gives_identical_events(tmp_path, night):
    path = write_samples_csv(tmp_path / "n.csv", night.time, night.acc)
    off, auto = _detect(path, "off"), _detect(path, "auto")
    assert off.quality.calibration is None
    cal = auto.quality.calibration
    assert cal["status"] == "not needed" and cal["error_before_g"] < 0.005
    assert cal["still_windows"] > 50
    assert auto.events == off.events and len(auto.events) > 10
    assert auto.activity == off.activity


def test_gain_and_offset_errors_are_corrected(tmp_path, night):
    raw = np.round(night.acc * GAIN + OFFSET, 5)
    path = write_samples_csv(tmp_path / "raw.csv", night.time, raw)
    clean = write_samples_csv(tmp_path / "clean.csv", night.time, night.acc)
    det = _detect(path, "auto")
    cal = det.quality.calibration
    assert cal["status"] == "applied"
    assert cal["error_before_g"] > 0.02 and cal["error_after_g"] < 0.002
    # calibrated = offset + scale * raw should undo raw = GAIN * true + OFFSET
    np.testing.assert_allclose(cal["scale"], 1.0 / GAIN, rtol=0.005)
    np.testing.assert_allclose(cal["offset_g"], -OFFSET / GAIN, atol=0.005)
    ref = _detect(clean, "off")
    assert [e.time for e in det.events] == [e.time for e in ref.events]
    np.testing.assert_allclose([e.peak_g for e in det.events], [e.peak_g for e in ref.events],
                               rtol=0.01, atol=0.002)  # fmt: skip


def test_fit_is_exact_on_noise_free_sphere_points():
    rng = np.random.default_rng(0)
    u = rng.normal(size=(200, 3))
    u /= np.linalg.norm(u, axis=1, keepdims=True)
    offset, scale = fit_sphere(u * GAIN + OFFSET)
    np.testing.assert_allclose(scale, 1.0 / GAIN, rtol=1e-6)
    np.testing.assert_allclose(offset, -OFFSET / GAIN, atol=1e-6)


def test_one_orientation_is_not_enough():
    means = np.tile([0.02, 0.03, 1.06], (100, 1))
    result = calibrate_windows(means)
    assert result.status == "not enough orientations" and not result.applied
    a = np.ones((5, 3))
    assert result.apply(a) is a
    assert calibrate_windows(means[:3]).status == "not enough still periods"


def test_still_windows_are_bounded_and_streamed():
    fs = 25.0
    t = np.arange(0, 3600 * 3, 1 / fs)
    a = np.tile([0.0, 0.0, 1.0], (t.size, 1))
    whole = StillWindows(fs, CalibrationParams(max_hours=1.0))
    whole.push(t, a)
    parts = StillWindows(fs)
    for s in range(0, t.size, 997):  # any block size gives the same windows
        parts.push(t[s : s + 997], a[s : s + 997])
    assert parts.finish().shape == (1080, 3)
    assert whole.full
    small = StillWindows(fs, CalibrationParams(max_windows=10))
    small.push(t, a)
    assert small.finish().shape == (10, 3)


def test_cli_calibrate_option_is_reported(tmp_path, night):
    from cli import main

    raw = np.round(night.acc * GAIN + OFFSET, 5)
    path = write_samples_csv(tmp_path / "raw.csv", night.time, raw)
    out = tmp_path / "ev.csv"
    res = CliRunner().invoke(main, ["detect", str(path), "--out", str(out), "--tz", "UTC",
                                    "--calibrate", "auto"])  # fmt: skip
    assert res.exit_code == 0, res.output
    quality = json.loads((tmp_path / "ev.json").read_text())["data_quality"]
    assert quality["calibration"]["status"] == "applied"
    res = CliRunner().invoke(main, ["detect", str(path), "--out", str(out), "--tz", "UTC"])
    assert json.loads((tmp_path / "ev.json").read_text())["data_quality"]["calibration"] is None
