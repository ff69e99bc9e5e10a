"""The accuracy benchmark's matched-filter ceiling (bench/accuracy.py)."""

from __future__ import annotations

import numpy as np
import pytest
from scipy.stats import norm

from bench.accuracy import expected_f1, matched_recall, matched_snr, matched_threshold


def test_matched_snr_is_the_waveform_norm_over_the_noise() -> None:
    # three samples of a jerk along x then y: energies 0.04 + 0.09 + 0.0144 g² = 0.1444
    e2 = np.array([0.2**2, 0.3**2, 0.12**2])
    assert matched_snr(e2, 0.02) == pytest.approx(np.sqrt(0.1444) / 0.02)  # 19.0
    assert matched_snr(np.empty(0), 0.02) == 0.0


@pytest.mark.parametrize(
    ("fs", "bank", "z"),
    # one false alarm an hour in fs * 3600 * bank tests: the normal's upper quantile
    [(50.0, 1, 4.3943), (100.0, 1, 4.5426), (200.0, 1, 4.6866), (100.0, 15, 5.0836)],
)
def test_matched_threshold_gives_one_false_alarm_an_hour(fs: float, bank: int, z: float) -> None:
    assert matched_threshold(fs, bank) == pytest.approx(z, abs=1e-4)
    assert norm.sf(matched_threshold(fs, bank)) == pytest.approx(1.0 / (fs * 3600.0 * bank))


def test_matched_recall_is_the_mean_detection_probability() -> None:
    z = 4.5
    # at the threshold half are found; 3 stds above it 99.865 %; far below it none
    assert matched_recall(np.array([z]), z) == pytest.approx(0.5)
    got = matched_recall(np.array([z, z + 3.0, 0.0]), z)
    assert got == pytest.approx((0.5 + 0.998650 + 0.0) / 3, abs=1e-5)
    assert np.isnan(matched_recall(np.empty(0), z))


def test_expected_f1_counts_one_false_jerk_an_hour() -> None:
    # all of 30 jerks an hour and 1 false: F1 = 60 / 61
    assert expected_f1(1.0, 30.0) == pytest.approx(60.0 / 61.0)
    # 24 of 30 found, 1 false: 2*24 / (48 + 1 + 6)
    assert expected_f1(0.8, 30.0) == pytest.approx(48.0 / 55.0)
