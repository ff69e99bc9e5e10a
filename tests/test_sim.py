"""Tests of the night simulator: its truth, timing statistics and sensor model."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from pipeline.writer import write_samples_csv
from sim import (
    TRUTH_COLUMNS,
    ForcedConfounder,
    NightConfig,
    read_truth_csv,
    simulate_night,
    write_truth_csv,
)
from sim.config import DEFAULT_START, MIN_JERK_SPACING_S
from sim.sensor import quantisation_step
from sim.timing import FreeTime, generate_onsets

CLEAN = {"drop_prob": 0.0, "outage_per_hour": 0.0}


def _onsets(pattern: str, hours: float, seed: int = 0, **kw) -> tuple[np.ndarray, np.ndarray]:
    cfg = NightConfig(hours=hours, pattern=pattern, seed=seed, **kw)
    free = FreeTime.from_exclusions(3.0, cfg.duration_s - 3.5, [])
    o = generate_onsets(cfg, np.random.default_rng(seed), free)
    return o.time, o.group


def _cv(x: np.ndarray) -> float:
    return float(np.std(x) / np.mean(x))


# --- determinism, shapes, clock -------------------------------------------------------


def test_same_seed_same_night_other_seed_other_night():
    cfg = NightConfig(hours=0.2, fs=50, seed=11, rate_per_hour=200)
    a, b = (
        simulate_night(cfg),
        simulate_night(NightConfig(hours=0.2, fs=50, seed=11, rate_per_hour=200)),
    )
    np.testing.assert_array_equal(a.time, b.time)
    np.testing.assert_array_equal(a.acc, b.acc)
    pd.testing.assert_frame_equal(a.truth, b.truth)
    c = simulate_night(NightConfig(hours=0.2, fs=50, seed=12, rate_per_hour=200))
    assert not np.array_equal(a.truth["time"].to_numpy()[:5], c.truth["time"].to_numpy()[:5])


def test_shapes_monotonic_times_and_bounded_jitter():
    cfg = NightConfig(hours=0.1, fs=100, seed=2, jitter_s=0.002, **CLEAN)
    night = simulate_night(cfg)
    n = 360 * 100
    assert night.time.shape == (n,) and night.acc.shape == (n, 3)
    assert night.time.dtype == np.float64 and night.acc.dtype == np.float64
    assert np.all(np.diff(night.time) > 0)
    dev = night.time - (DEFAULT_START + np.arange(n) / 100.0)
    assert np.abs(dev).max() <= 0.002 + 1e-6
    assert np.abs(dev).max() > 0.0015  # the jitter is really there
    assert list(night.truth.columns) == TRUTH_COLUMNS
    assert night.truth["time"].is_monotonic_increasing


def test_dropped_packets_and_outages():
    cfg = NightConfig(hours=1.0, fs=100, seed=4, drop_prob=0.01, outage_per_hour=4.0)
    night = simulate_night(cfg)
    assert np.all(np.diff(night.time) > 0)
    grid = np.rint((night.time - cfg.start) * cfg.fs).astype(int)
    assert np.unique(grid).size == grid.size  # each sample keeps its own grid slot
    lost = 360000 - night.time.size
    assert lost > 0
    missing = np.diff(grid) - 1
    runs = missing[missing > 0]
    assert np.all(runs[runs < 100] % 4 == 0)  # lost packets of 4 samples (0.04 s) each
    assert (runs >= 100).any()  # at least one gap > 1 s
    assert len(night.gaps) == runs.size
    assert ((night.gaps["end"] - night.gaps["start"]) > 1.0).any()
    # jerks keep clear of outages
    big = night.gaps[(night.gaps["end"] - night.gaps["start"]) > 1.0]
    for t in night.jerks["time"]:
        assert not ((t > big["start"] - 2.3) & (t < big["end"] + 2.0)).any()


# --- body and sensor -------------------------------------------------------------------


def test_gravity_is_one_g_in_still_stretches():
    cfg = NightConfig(hours=0.25, fs=50, pattern="none", confounders=False, bias_g=0.0, **CLEAN)
    night = simulate_night(cfg)
    mag = np.linalg.norm(night.acc.reshape(-1, 50, 3).mean(axis=1), axis=1)  # 1 s means
    assert abs(np.median(mag) - 1.0) < 0.005
    assert np.abs(mag - 1.0).max() < 0.02
    # with the default bias of up to 30 mg per axis the magnitude stays near 1 g
    biased = simulate_night(NightConfig(hours=0.05, pattern="none", confounders=False))
    assert np.abs(biased.bias).max() <= 0.03
    assert abs(np.median(np.linalg.norm(biased.acc, axis=1)) - 1.0) < 0.06


def test_quantisation_step_and_clipping():
    cfg = NightConfig(
        hours=0.2, fs=100, bits=8, range_g=2.0, jerk_median_g=4.0, rate_per_hour=300, seed=3
    )
    lsb = quantisation_step(cfg)
    assert lsb == pytest.approx(4.0 / 256)
    night = simulate_night(cfg)
    codes = night.acc / lsb
    np.testing.assert_allclose(codes, np.rint(codes), atol=1e-9)
    assert night.acc.max() == pytest.approx(2.0 - lsb)
    assert night.acc.min() == pytest.approx(-2.0)
    assert (night.acc == 2.0 - lsb).sum() + (night.acc == -2.0).sum() > 10  # really clipped


# --- jerks: waveforms and truth ----------------------------------------------------------


def test_peak_g_onset_and_end_match_the_added_waveform():
    """With noise, bias and quantisation off, night minus the same night without jerks is
    exactly the jerk waveforms (all random streams are independent)."""
    kw = dict(
        hours=0.1,
        fs=1000,
        seed=8,
        noise_g=0.0,
        bias_g=0.0,
        bits=32,
        jitter_s=0.0,
        rate_per_hour=400,
        **CLEAN,
    )
    with_j = simulate_night(NightConfig(pattern="random", **kw))
    without = simulate_night(NightConfig(pattern="none", **kw))
    diff = np.linalg.norm(with_j.acc - without.acc, axis=1)
    jerks = with_j.jerks
    assert len(jerks) > 20
    inside = np.zeros(diff.size, dtype=bool)
    for row in jerks.itertuples():
        m = (with_j.time >= row.time) & (with_j.time <= row.end)
        inside |= m
        assert diff[m].max() == pytest.approx(row.peak_g, rel=0.03)
        assert row.duration_ms == pytest.approx((row.end - row.time) * 1000, abs=1e-3)
        assert 20 <= row.duration_ms <= 300
        assert row.detail in {"halfsine", "gaussian", "biphasic", "ringing"}
    assert diff[~inside].max() < 1e-6  # nothing outside the truth spans
    sizes = jerks["peak_g"]
    assert sizes.min() >= 0.05 and sizes.max() <= 6.0


# --- timing ---------------------------------------------------------------------------


@pytest.mark.parametrize("pattern", ["random", "clustered", "periodic"])
def test_jerk_count_matches_rate(pattern):
    # 200 h of onsets (timing only, cheap); expected 6000 jerks
    times, _ = _onsets(pattern, hours=200.0, seed=1)
    sd = {"random": 1.0, "clustered": 2.6, "periodic": 6.0}[pattern] * np.sqrt(6000)
    assert abs(times.size - 6000) < 4 * sd


@pytest.mark.parametrize("drift", [1.0, 3.0])
def test_short_periodic_nights_hold_the_rate(drift):
    """Trains last up to 45 min; those already running when a 1-hour night starts are
    in it too, so 400 such nights average ``rate_per_hour`` (cut trains at the end
    alone left about 60 % of it)."""
    counts = [_onsets("periodic", hours=1.0, seed=s, rate_drift=drift)[0].size for s in range(400)]
    mean = float(np.mean(counts))
    sem = float(np.std(counts)) / np.sqrt(len(counts))
    assert abs(mean - 30.0 * (1.0 - 6.5 / 3600.0)) < 4 * sem, (mean, sem)


def test_night_jerk_count_and_none_pattern():
    night = simulate_night(NightConfig(hours=8.0, fs=25, seed=5))
    n = (night.truth["kind"] == "jerk").sum()
    assert abs(n - 240) < 4 * np.sqrt(240)
    none = simulate_night(NightConfig(hours=1.0, fs=25, pattern="none"))
    assert (none.truth["kind"] == "jerk").sum() == 0
    assert len(none.truth) > 0  # confounders are still there


@pytest.mark.parametrize("pattern", ["random", "clustered", "periodic"])
def test_min_spacing(pattern):
    times, _ = _onsets(pattern, hours=20.0, seed=2, rate_per_hour=2000)
    assert times.size > 1000
    assert np.diff(times).min() >= MIN_JERK_SPACING_S - 1e-9


def test_periodic_trains_are_regular():
    night = simulate_night(
        NightConfig(hours=6.0, fs=25, pattern="periodic", seed=7, confounders=False, **CLEAN)
    )
    t = night.jerks["time"].to_numpy()
    g = night.jerk_group
    assert g.size == t.size and np.unique(g).size >= 3
    last = g.max()
    for k in np.unique(g):
        tk = t[g == k]
        if k != last:
            assert tk.size >= 10
        assert _cv(np.diff(tk)) < 0.1
        interval = np.median(np.diff(tk))
        assert 2.0 * 0.9 <= interval <= 90.0 * 1.1


def test_clustered_intervals_are_bursty():
    times, group = _onsets("clustered", hours=50.0, seed=3)
    iv = np.diff(times)
    assert _cv(iv) > 1.0
    sizes = np.bincount(group)
    assert sizes.min() >= 2 and sizes.max() <= 8
    inside = iv[group[1:] == group[:-1]]
    assert inside.min() >= 0.35 and inside.max() <= 3.0 + 1e-9


def test_random_intervals_are_poisson_like():
    times, _ = _onsets("random", hours=200.0, seed=4)
    assert 0.9 < _cv(np.diff(times)) < 1.1


def test_rate_drift():
    night = simulate_night(NightConfig(hours=9.0, fs=25, seed=9, rate_per_hour=60, rate_drift=3.0))
    rel = night.jerks["time"].to_numpy() - night.config.start
    third = night.config.duration_s / 3
    first, last = (rel < third).sum(), (rel >= 2 * third).sum()
    # expected ratio 2 (first third 0.44, last 0.89 of the base rate)
    assert last > 1.5 * first
    times, _ = _onsets("random", hours=200.0, seed=5, rate_drift=3.0)
    h = np.histogram(times, bins=4, range=(0, 200 * 3600))[0]
    # rate grows linearly 1 -> 3: quarter means 1.25, 1.75, 2.25, 2.75
    np.testing.assert_allclose(h / h.sum(), np.array([1.25, 1.75, 2.25, 2.75]) / 8, atol=0.02)


# --- confounders ---------------------------------------------------------------------


def test_no_jerk_near_a_confounder():
    night = simulate_night(NightConfig(hours=4.0, fs=25, seed=6, rate_per_hour=400))
    truth = night.truth
    conf = truth[truth["kind"] != "jerk"]
    assert set(conf["kind"]) == {"walking", "tremor", "rollover", "restless"}
    j = night.jerks
    for c in conf.itertuples():
        near = (j["end"] > c.time - 3.0) & (j["time"] < c.end + 3.0)
        assert not near.any()
    assert len(j) > 1000


def test_forced_and_selected_confounders():
    cfg = NightConfig(
        hours=0.5,
        fs=50,
        seed=1,
        confounder_kinds=("walking",),
        walking_per_hour=4.0,
        forced_confounders=(ForcedConfounder("tremor", 100.0, 30.0),),
    )
    night = simulate_night(cfg)
    conf = night.truth[night.truth["kind"] != "jerk"]
    assert set(conf["kind"]) == {"walking", "tremor"}
    tremor = conf[conf["kind"] == "tremor"].iloc[0]
    assert tremor["time"] == pytest.approx(cfg.start + 100.0)
    assert tremor["end"] == pytest.approx(cfg.start + 130.0)
    # walking heel strikes are visible: sharp, rhythmic peaks well above the noise
    walk = conf[conf["kind"] == "walking"].iloc[0]
    m = (night.time > walk["time"] + 5) & (night.time < walk["end"] - 5)
    d = np.linalg.norm(np.diff(night.acc[m], axis=0), axis=1)
    assert d.max() > 0.3
    only = simulate_night(NightConfig(hours=0.5, fs=25, confounders=False))
    assert set(only.truth["kind"]) <= {"jerk"}


def test_tremor_is_a_steady_oscillation():
    cfg = NightConfig(
        hours=0.05,
        fs=200,
        seed=2,
        pattern="none",
        confounders=False,
        noise_g=0.0,
        forced_confounders=(("tremor", 30.0, 40.0),),
        **CLEAN,
    )
    night = simulate_night(cfg)
    row = night.truth.iloc[0]
    freq = float(row["detail"].split()[1])
    m = (night.time > row["time"] + 5) & (night.time < row["end"] - 5)
    x = night.acc[m] - night.acc[m].mean(axis=0)
    spec = np.abs(np.fft.rfft(x, axis=0)).sum(axis=1)
    f = np.fft.rfftfreq(x.shape[0], 1 / 200)
    assert f[np.argmax(spec)] == pytest.approx(freq, rel=0.05)
    assert 3.0 <= freq <= 12.0 and 0.02 <= row["peak_g"] <= 0.2


# --- sample rates, files ------------------------------------------------------------


@pytest.mark.parametrize("fs", [25.0, 100.0, 1000.0])
def test_every_sample_rate_works(fs):
    night = simulate_night(NightConfig(hours=0.05, fs=fs, seed=1, rate_per_hour=600, **CLEAN))
    assert night.time.size == int(round(180 * fs))
    assert np.all(np.diff(night.time) > 0)
    assert np.isfinite(night.acc).all()
    assert (night.truth["kind"] == "jerk").sum() > 5
    assert night.metadata()["fs"] == f"{fs:g}"


def test_truth_csv_and_recording_csv(tmp_path):
    night = simulate_night(NightConfig(hours=0.1, fs=25, seed=3, rate_per_hour=120))
    path = write_truth_csv(tmp_path / "truth.csv", night.truth)
    header = path.read_text().splitlines()[0]
    assert header.split(",") == TRUTH_COLUMNS
    back = read_truth_csv(path)
    assert list(back.columns) == TRUTH_COLUMNS
    assert len(back) == len(night.truth)
    np.testing.assert_allclose(back["time"], night.truth["time"], atol=1e-4)
    assert (back["kind"] == night.truth["kind"]).all()
    rec = write_samples_csv(tmp_path / "rec.csv", night.time, night.acc, night.metadata())
    text = rec.read_text()
    assert "# device: jerkcount-sim" in text and "# fs: 25" in text
    assert not list(tmp_path.glob("*.tmp"))


def test_config_validation():
    with pytest.raises(ValueError):
        NightConfig(pattern="sometimes")
    with pytest.raises(ValueError):
        NightConfig(fs=1000, jitter_s=0.001)
    with pytest.raises(ValueError):
        NightConfig(rate_drift=0)


@settings(max_examples=50, deadline=None)
@given(
    st.lists(st.tuples(st.floats(0, 1000), st.floats(0, 50)), max_size=8),
    st.floats(0, 1),
)
def test_free_time_round_trip(excl, frac):
    free = FreeTime.from_exclusions(0.0, 1000.0, [(a, a + d) for a, d in excl])
    if free.total <= 0:
        return
    s = np.array([frac * free.total * 0.999])
    t = free.to_real(s)
    assert not any(a < t[0] < a + d for a, d in excl)
    np.testing.assert_allclose(free.to_free(t), s, atol=1e-9)


def test_write_night_writes_recording_and_truth_as_one_set(tmp_path, monkeypatch) -> None:
    """`simulate` over an earlier night stopped while writing the recording (the larger
    file, written last): both files are still the earlier night's, no stand-in left; a
    whole run writes both."""
    import pipeline.writer
    from sim import write_night

    rec, truth = tmp_path / "n.csv", tmp_path / "n.truth.csv"
    write_night(simulate_night(NightConfig(hours=0.05, seed=1)), rec, truth)
    before = {p.name: p.read_bytes() for p in tmp_path.iterdir()}
    assert sorted(before) == ["n.csv", "n.truth.csv"]

    def stopped(*args, **kwargs):
        raise KeyboardInterrupt

    monkeypatch.setattr(pipeline.writer, "write_samples_csv", stopped)
    with pytest.raises(KeyboardInterrupt):
        write_night(simulate_night(NightConfig(hours=0.05, seed=2)), rec, truth)
    assert {p.name: p.read_bytes() for p in tmp_path.iterdir()} == before
    monkeypatch.undo()
    write_night(simulate_night(NightConfig(hours=0.05, seed=2)), rec, truth)
    assert rec.read_bytes() != before["n.csv"] and truth.read_bytes() != before["n.truth.csv"]
    assert sorted(p.name for p in tmp_path.iterdir()) == ["n.csv", "n.truth.csv"]
