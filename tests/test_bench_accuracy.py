"""The accuracy benchmark's helpers (bench/accuracy.py): the matched-filter ceiling and
where false jerks lie."""

from __future__ import annotations

import collections

import numpy as np
import pandas as pd
import pytest
from scipy.stats import norm

from bench.accuracy import (
    expected_f1,
    false_kinds,
    false_summary,
    matched_best_f1,
    matched_recall,
    matched_snr,
    matched_threshold,
)


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
    # ten false alarms an hour: ten times the tail
    assert norm.sf(matched_threshold(fs, bank, 10.0)) == pytest.approx(10.0 / (fs * 3600.0 * bank))


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
    # 24 of 30 found, 3 false: 48 / (48 + 3 + 6)
    assert expected_f1(0.8, 30.0, 3.0) == pytest.approx(48.0 / 57.0)


def test_best_f1_trades_false_jerks_for_recall() -> None:
    # jerks 2 stds above the 1-false-an-hour threshold at 100 Hz: more false alarms
    # (a lower threshold) find more of them, and the best F1 beats the one at 1 an hour
    z1 = matched_threshold(100.0)
    snr = np.full(30, z1 + 0.5)
    at_one = expected_f1(matched_recall(snr, z1), 30.0)
    best = matched_best_f1(snr, 100.0, 30.0)
    assert at_one == pytest.approx(2 * 30 * 0.6915 / (2 * 30 * 0.6915 + 1 + 30 * 0.3085), abs=1e-3)
    assert at_one < best < 1.0
    # a 15-shape bank needs a higher threshold: never better
    assert matched_best_f1(snr, 100.0, 30.0, 15) < best
    # far above any threshold: nearly every jerk and almost no false one
    assert matched_best_f1(np.full(30, 40.0), 100.0, 30.0) > 0.999


def test_false_kinds_names_the_confounder_each_false_jerk_is_near() -> None:
    truth = pd.DataFrame(
        {
            "kind": ["jerk", "restless", "jerk", "walking"],
            "time": [100.0, 200.0, 300.0, 400.0],
            "end": [100.1, 320.0, 300.1, 460.0],
        }
    )
    # 100.2 and 300.0 match the jerks; 250 is inside the restless stretch, 463 within
    # 5 s after the walk, 470 and 50 far from every span
    detected = np.array([50.0, 100.2, 250.0, 300.0, 463.0, 470.0])
    assert false_kinds(detected, truth, 0.3) == ["elsewhere", "restless", "walking", "elsewhere"]
    # a detection matched to no jerk because the tolerance is tighter
    assert false_kinds(np.array([100.2]), truth, 0.1) == ["elsewhere"]
    assert false_kinds(np.array([100.2]), truth, 0.3) == []


def test_false_summary_lists_most_first() -> None:
    counts = collections.Counter(["restless", "elsewhere", "restless"])
    assert false_summary(counts) == "restless 2, elsewhere 1"
    assert false_summary(collections.Counter()) == "–"
