"""Pattern analysis: exact statistics on hand-made onsets, labels on simulated nights."""

from __future__ import annotations

import math

import numpy as np
import pytest

from pipeline.pattern import PatternParams, analyse_pattern, segment_patterns
from pipeline.pattern_stats import local_variation, qualifying_runs
from sim import NightConfig, simulate_night

T0 = 1_700_000_000.0  # an epoch start, s


def _night(pattern: str, seed: int, hours: float = 6.0, rate: float = 30.0, drift: float = 1.0):
    """True jerk onsets (epoch s) and the window of a simulated night (fast: 10 Hz)."""
    cfg = NightConfig(
        hours=hours, fs=10.0, pattern=pattern, rate_per_hour=rate, rate_drift=drift, seed=seed
    )
    night = simulate_night(cfg)
    t = night.truth[night.truth.kind == "jerk"].time.to_numpy()
    return t, cfg.start, cfg.start + cfg.duration_s


# ---------------------------------------------------------------- exact statistics


def test_regular_20s_series_exact() -> None:
    onsets = T0 + 20.0 * np.arange(30)  # 29 intervals of 20 s, window 600 s
    r = analyse_pattern(onsets, T0, T0 + 600.0)
    assert r.n == 30
    assert r.duration_h == pytest.approx(600 / 3600)
    assert r.rate_per_h == pytest.approx(180.0)
    assert (r.iei_q1_s, r.iei_median_s, r.iei_q3_s) == pytest.approx((20.0, 20.0, 20.0))
    assert r.cv == pytest.approx(0.0, abs=1e-9)
    assert r.lv == pytest.approx(0.0, abs=1e-9)
    assert r.burstiness == pytest.approx(-1.0)
    assert r.fano == pytest.approx(0.0)  # 3 onsets in each of the ten 60 s windows
    assert r.label == "periodic" and r.periodic
    assert r.period_s == pytest.approx(20.0)
    assert r.regular_share == 1.0
    assert r.period_coverage == pytest.approx(580.0 / 600.0)
    assert r.plm_series == 1
    assert r.plm_periodicity_index == 1.0
    assert r.bursts == 0 and math.isnan(r.mean_burst_size) and r.burst_share == 0.0
    assert r.p_value is not None and r.p_value == pytest.approx(2 / 1000)  # 2 x 1/(999+1)


def test_known_sequence_by_hand() -> None:
    onsets = T0 + np.array([0.0, 1.0, 3.0, 6.0, 10.0, 20.0])  # intervals 1, 2, 3, 4, 10
    r = analyse_pattern(onsets[::-1], T0, T0 + 30.0)  # order does not matter
    assert (r.iei_q1_s, r.iei_median_s, r.iei_q3_s) == (2.0, 3.0, 4.0)
    lv = 3 / 4 * ((1 / 3) ** 2 + (1 / 5) ** 2 + (1 / 7) ** 2 + (6 / 14) ** 2)
    assert r.lv == pytest.approx(lv)
    assert r.cv == pytest.approx(math.sqrt(10) / 4)  # mean 4, population sd sqrt(10)
    assert r.burstiness == pytest.approx((math.sqrt(10) - 4) / (math.sqrt(10) + 4))
    assert r.bursts == 1 and r.mean_burst_size == 3.0  # 0, 1, 3 (gaps < 3 s)
    assert r.burst_share == pytest.approx(0.5)
    assert r.plm_series == 0 and r.plm_periodicity_index == 0.0
    assert math.isnan(r.fano)  # fewer than two whole 60 s windows
    # 6 < 12 onsets: insufficient, stating the number needed
    assert r.label == "insufficient" and r.min_events_needed == 12
    assert r.p_value is None and r.p_periodic is None and r.period_s is None
    assert "6 jerks" in r.why and "12" in r.why


def test_plm_series_and_periodicity_index() -> None:
    iv = [20, 20, 20, 20, 200, 30, 30, 30, 100, 10, 10, 10, 10, 10]
    onsets = T0 + np.concatenate(([0.0], np.cumsum(iv)))
    end = T0 + sum(iv) + 1.0
    r = analyse_pattern(onsets, T0, end)
    # runs of intervals in 5-90 s: 4 (counts), 3 (too short for 4), 5 (counts)
    assert r.plm_series == 2
    assert r.plm_periodicity_index == pytest.approx(9 / 14)
    aasm = analyse_pattern(onsets, T0, end, PatternParams(plm_min_series=3))  # >= 4 movements
    assert aasm.plm_series == 3
    assert aasm.plm_periodicity_index == pytest.approx(12 / 14)
    wasm = analyse_pattern(onsets, T0, end, PatternParams(plm_min_interval_s=10.0))
    assert wasm.plm_series == 2 and wasm.plm_periodicity_index == pytest.approx(9 / 14)


def test_fano_factor_exact() -> None:
    # counts 0, 4, 0, 4 in four 60 s windows: mean 2, variance 4 -> Fano 2
    onsets = T0 + np.array([61.0, 70, 80, 90, 181, 190, 200, 210])
    r = analyse_pattern(onsets, T0, T0 + 240.0)
    assert r.fano == pytest.approx(2.0)


def test_local_variation_and_runs_helpers() -> None:
    assert local_variation(np.array([1.0, 3.0])) == pytest.approx(3 * 0.25)
    assert math.isnan(local_variation(np.array([5.0])))
    row, first, length = qualifying_runs(np.array([[1, 1, 0, 1, 1, 1], [0, 1, 1, 1, 0, 0]]), 3)
    assert row.tolist() == [0, 1] and first.tolist() == [3, 1] and length.tolist() == [3, 3]


def test_empty_and_single() -> None:
    r = analyse_pattern(np.array([]), T0, T0 + 3600.0)
    assert r.n == 0 and r.rate_per_h == 0.0 and r.label == "insufficient"
    assert all(math.isnan(v) for v in (r.iei_median_s, r.cv, r.lv, r.burstiness, r.fano))
    assert r.bursts == 0 and r.plm_series == 0 and math.isnan(r.plm_periodicity_index)
    assert "0 jerks" in r.why
    one = analyse_pattern(np.array([T0 + 5.0]), T0, T0 + 3600.0)
    assert one.n == 1 and math.isnan(one.iei_median_s) and one.fano > 0


def test_window_and_exclusions() -> None:
    onsets = T0 + np.array([-5.0, 10.0, 100.0, 150.0, 3599.0, 3600.0])
    r = analyse_pattern(onsets, T0, T0 + 3600.0, excluded=[(T0 + 90.0, T0 + 1890.0)])
    assert r.n == 2  # before start, the two inside the exclusion and the one at the end go
    assert r.duration_h == pytest.approx(0.5)
    assert r.rate_per_h == pytest.approx(4.0)
    assert r.iei_median_s == pytest.approx(3599.0 - 10.0 - 1800.0)  # excluded span cut out
    with pytest.raises(ValueError):
        analyse_pattern(onsets, T0, T0)
    with pytest.raises(ValueError):
        analyse_pattern(np.array([T0, np.nan]), T0, T0 + 10.0)


def test_params_as_dict_and_validation() -> None:
    p = PatternParams()
    d = p.as_dict()
    assert d["plm_min_series"] == 4 and d["min_events"] == 12 and d["alpha"] == 0.05
    assert PatternParams(**d) == p
    with pytest.raises(ValueError):
        PatternParams(plm_min_interval_s=100.0)
    r = analyse_pattern(T0 + 20.0 * np.arange(30), T0, T0 + 600.0)
    assert set(r.as_dict()) >= {"n", "label", "p_value", "period_s", "why", "lv", "fano"}


# ---------------------------------------------------------------- labels


@pytest.mark.parametrize(
    ("pattern", "seed", "drift"),
    [
        ("random", 1, 1.0),
        ("random", 2, 3.0),
        ("periodic", 3, 1.0),
        ("periodic", 4, 2.5),
        ("clustered", 5, 1.0),
        ("clustered", 6, 3.0),
    ],
)
def test_labels_on_simulated_nights(pattern: str, seed: int, drift: float) -> None:
    t, a, b = _night(pattern, seed, drift=drift)
    assert t.size >= 30
    r = analyse_pattern(t, a, b)
    assert r.label == pattern, r.why
    assert r.p_value is not None
    if pattern == "random":
        assert r.p_value >= 0.05 and 0.6 < r.lv < 1.4
    else:
        assert r.p_value < 0.05
    if pattern == "periodic":
        assert r.period_s is not None and 2.0 <= r.period_s <= 90.0
        assert r.regular_share > 0.5 and 0 < r.period_coverage < 1
        assert r.lv < 0.5
    if pattern == "clustered":
        assert r.bursts > 5 and 2.0 <= r.mean_burst_size <= 8.0 and r.lv > 1.0


@pytest.mark.parametrize("seed", range(10))
def test_poisson_with_rate_tripling_stays_random(seed: int) -> None:
    """Inhomogeneous Poisson (thinning), 8 h, rate 20/h in the evening -> 60/h at dawn."""
    rng = np.random.default_rng(seed)
    dur = 8 * 3600.0
    cand = np.sort(rng.uniform(0, dur, rng.poisson(60 * 8)))
    keep = rng.random(cand.size) < (1 + 2 * cand / dur) / 3  # rate 20 -> 60 per hour
    r = analyse_pattern(T0 + cand[keep], T0, T0 + dur)
    assert r.label == "random", r.why
    assert r.p_value is not None and r.p_value >= 0.05


def test_mixed_night_per_hour() -> None:
    rnd, a, _ = _night("random", 11, hours=2.0, rate=60.0)
    per, a2, _ = _night("periodic", 12, hours=2.0, rate=60.0)
    x = np.concatenate((rnd - a, per - a2 + 7200.0)) + T0
    res = segment_patterns(x, T0, T0 + 4 * 3600.0, PatternParams())
    assert [r.label for r in res] == ["random", "random", "periodic", "periodic"]
    assert sum(r.n for r in res) == x.size
    short = segment_patterns(x, T0, T0 + 5400.0, segment_s=3600.0)
    assert len(short) == 2 and short[1].duration_h == pytest.approx(0.5)


def test_deterministic() -> None:
    t, a, b = _night("random", 7)
    r1 = analyse_pattern(t, a, b, PatternParams(seed=3))
    r2 = analyse_pattern(t.copy(), a, b, PatternParams(seed=3))
    assert repr(r1) == repr(r2)  # (NaN fields make == False even for equal results)
    r3 = analyse_pattern(t, a, b, PatternParams(seed=4))
    assert r3.label == r1.label and r3.lv == r1.lv
