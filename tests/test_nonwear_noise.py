"""Non-wear statistics on pure sensor noise and on still sleep (known answers).

A sensor on a table gives block means whose variance is exactly what its white noise
predicts, so the excess micro-motion is zero on average: half the epochs above zero,
half below, at any rate. A still sleeper's breathing is a small but persistent excess.
"""

from __future__ import annotations

import numpy as np

from pipeline.nonwear import EpochStats, NonWearParams, NonWearTracker
from pipeline.recording import Recording

T0 = 1_774_738_800.0  # 2026-03-28T23:00Z


def _unit(v: list[float]) -> np.ndarray:
    u = np.asarray(v, dtype=np.float64)
    return u / np.linalg.norm(u)


def _quantise(a: np.ndarray, bits: int = 12, range_g: float = 8.0) -> np.ndarray:
    """Two's-complement codes over ``±range_g`` (12 bits, ±8 g: 3.9 mg steps)."""
    lsb = 2.0 * range_g / 2**bits
    return np.clip(np.rint(a / lsb), -(2 ** (bits - 1)), 2 ** (bits - 1) - 1) * lsb


def _table(fs: float, minutes: float, noise_g: float, seed: int) -> np.ndarray:
    """``(n, 3)`` g: a sensor lying still (one orientation), white noise, quantised."""
    rng = np.random.default_rng(seed)
    n = int(round(minutes * 60.0 * fs))
    a = _unit([0.98, 0.1, -0.15]) + rng.normal(0.0, noise_g, (n, 3))
    return _quantise(a)


def _track(fs: float, acc: np.ndarray, **kw: float) -> tuple[list, list[EpochStats]]:
    epochs: list[EpochStats] = []
    tracker = NonWearTracker(fs, T0, NonWearParams(**kw), on_epoch=epochs.append)
    for chunk in Recording(T0, fs, acc).chunks(65_536):
        tracker.feed(chunk)
    return tracker.finish(), epochs


def test_pure_noise_excess_is_centred_at_25_hz() -> None:
    """Before, the noise variance was the plain median over the blocks of mean(diff²)/2,
    which lies ~4 % below the truth at 25 Hz (24 differences a block): pure noise then
    showed micro-motion in 63 % of the epochs and passed the 4-SE still limit in 0.1 %
    of them (0.003 % expected)."""
    positive, beyond = 0, 0
    epochs_total = 0
    for seed in range(4):
        _, epochs = _track(25.0, _table(25.0, 300.0, 0.005, seed), still_g=0.0)
        positive += sum(e.excess_g > 0 for e in epochs)
        beyond += sum(not e.still for e in epochs)
        epochs_total += len(epochs)
    assert epochs_total == 1200
    # binomial(1200, 0.5): sd 0.0144; the old estimate gave 0.63
    assert abs(positive / epochs_total - 0.5) < 0.045
    assert beyond <= 2


def test_table_for_45_minutes_at_25_hz_is_one_period() -> None:
    """One noise epoch taken for micro-motion split this table into 21 + 24 minutes,
    both under 30: no non-wear at all before."""
    acc = _table(25.0, 45.0, 0.005, seed=3)
    periods, epochs = _track(25.0, acc)
    assert all(e.still for e in epochs) and len(epochs) == 45
    assert [(p.start - T0, p.end - T0) for p in periods] == [(0.0, 2700.0)]


def _still_sleeper(fs: float, minutes: float, noise_g: float, breath_g: float, seed: int):
    """``(n, 3)`` g: a wrist that keeps one posture, breathing at 0.25 Hz along a fixed
    direction (``breath_g`` peak), white noise, quantised."""
    rng = np.random.default_rng(seed)
    n = int(round(minutes * 60.0 * fs))
    t = np.arange(n) / fs
    g = np.tile(_unit([0.3, -0.2, 0.93]), (n, 1))
    g += breath_g * np.sin(2 * np.pi * 0.25 * t)[:, None] * _unit([0.2, 0.9, -0.4])
    return _quantise(g + rng.normal(0.0, noise_g, (n, 3)))


def test_still_sleeper_on_a_noisy_25_hz_sensor_is_worn() -> None:
    """2 mg of breathing under 10 mg of noise at 25 Hz: 58-60 of the 60 epochs pass the
    still limit on their own (one epoch cannot tell it from noise), but the excess is
    ~1.8e-6 g² every minute, 10-11 standard errors of the hour's mean. Before, an hour
    without a posture change (seed 2) was non-wear from its first minute to its last;
    the run's pooled excess now says worn."""
    found = []
    for seed in range(3):
        periods, epochs = _track(25.0, _still_sleeper(25.0, 60.0, 0.01, 0.002, seed))
        found += periods
        assert sum(e.still for e in epochs) >= 58
        excess = np.array([e.excess_g2 for e in epochs])
        se = np.array([e.se_g2 for e in epochs])
        assert np.mean(excess) / (np.sqrt(np.sum(se**2)) / excess.size) > 9.0
    assert found == []
    # the same sensor lying still is non-wear from its first minute to its last
    periods, _ = _track(25.0, _table(25.0, 60.0, 0.01, seed=9))
    assert [(p.start - T0, p.end - T0) for p in periods] == [(0.0, 3600.0)]


def test_breathing_below_the_floor_is_still() -> None:
    """The floor ``still_g`` (1 mg rms) is the physics: 0.8 mg of motion on a quiet
    100 Hz sensor is below it, epoch by epoch and pooled (non-wear as before)."""
    periods, _ = _track(100.0, _still_sleeper(100.0, 40.0, 0.002, 0.0008, seed=1))
    assert [(p.start - T0, p.end - T0) for p in periods] == [(0.0, 2400.0)]
