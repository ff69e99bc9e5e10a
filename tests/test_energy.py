"""The energy trigger: window lengths, thresholds, exact windowed sums, quiet jerks."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from scipy import stats

from pipeline.detector import DetectorParams, JerkDetector, detect_recording
from pipeline.energy import (
    INFLATION_STEP,
    NONE,
    SCALE,
    EnergyTrigger,
    chi2_quantile,
    chi2_tail,
    normal_tail,
    triggered,
    window_lengths,
)
from pipeline.features import FeatureStream
from pipeline.filters import lowpass_taps
from pipeline.noisefloor import FrameTracker
from pipeline.recording import Chunk, Recording

T0 = 1_767_300_000.0
P = DetectorParams()


def test_window_lengths_span_a_jerks_duration() -> None:
    assert window_lengths(100.0, P).tolist() == [2, 3, 4, 6, 9, 14, 20, 30]
    assert window_lengths(50.0, P).tolist() == [1, 2, 3, 5, 7, 10, 15]
    assert window_lengths(200.0, P).tolist() == [4, 6, 9, 13, 19, 28, 41, 60]
    assert window_lengths(25.0, P).tolist() == [1, 2, 3, 4, 6, 8]


@pytest.mark.parametrize("z", [4.0, 5.0, 6.0])
def test_chi2_quantile_matches_scipy(z: float) -> None:
    tail = normal_tail(z)
    assert tail == pytest.approx(stats.norm.sf(z), rel=1e-12)
    for dof in (3, 3.6, 6, 9, 12.5, 30, 90, 180, 3000):
        assert chi2_quantile(dof, tail) == pytest.approx(stats.chi2.isf(tail, dof), rel=1e-9)


@pytest.mark.parametrize(("x", "dof"), [(0.5, 3), (3.0, 3), (50.0, 30), (300.0, 180), (1.0, 180)])
def test_chi2_tail_matches_scipy(x: float, dof: int) -> None:
    assert chi2_tail(x, dof) == pytest.approx(stats.chi2.sf(x, dof), rel=1e-9, abs=1e-15)


def _reference(
    energy: np.ndarray, background: np.ndarray, inflation: float, trig: EnergyTrigger
) -> np.ndarray:
    """Shortest triggering window at every sample, by plain loops."""
    q = np.rint(energy * SCALE).astype(np.int64)
    level = int(np.ceil(np.log(inflation) / np.log(INFLATION_STEP) - 1e-9))
    out = np.full(energy.size, NONE, dtype=np.int64)
    for i in range(energy.size):
        for length, factor in zip(trig.lengths, trig.factors(level), strict=True):
            s = int(q[max(0, i - length + 1) : i + 1].sum()) / SCALE
            if s > background[i] * (length * factor):
                out[i] = length
                break
    return out


def _energies(n: int, seed: int) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed)
    dev = rng.normal(0.0, 0.02, (n, 3))
    dev[n // 3 : n // 3 + 12] += 0.06  # a quiet bump
    dev[n // 2 : n // 2 + 2] += 0.15  # a short sharp one
    return np.einsum("ij,ij->i", dev, dev), np.full(n, 3 * 0.02**2)


def test_shortest_window_equals_a_plain_loop() -> None:
    energy, bg = _energies(400, 1)
    trig = EnergyTrigger(100.0, P)
    everywhere = np.ones(energy.size, dtype=bool)
    got = trig.push(energy, bg, np.ones(energy.size), everywhere)
    assert np.array_equal(got, _reference(energy, bg, 1.0, trig))
    assert (got != NONE).sum() > 0, "the bumps must trigger"
    assert (got[:100] == NONE).all(), "white noise alone must not"
    where = np.arange(energy.size) % 3 == 0  # only where asked, the sums unchanged
    part = EnergyTrigger(100.0, P).push(energy, bg, np.ones(energy.size), where)
    assert np.array_equal(part[where], got[where])
    assert (part[~where] == NONE).all()


def test_white_noise_factors_are_the_chi2_quantile_of_3_l() -> None:
    trig = EnergyTrigger(100.0, P)
    tail = stats.norm.sf(P.energy_z)
    dof = 3 * trig.lengths
    assert trig.factors(0) == pytest.approx(stats.chi2.isf(tail, dof) / dof, rel=1e-9)
    # inflation 1.2 ** 3: fewer degrees of freedom, never under one sample's three
    inflated = np.maximum(3.0, dof / INFLATION_STEP**3)
    assert trig.factors(3) == pytest.approx(stats.chi2.isf(tail, inflated) / inflated, rel=1e-9)


def test_inflated_noise_needs_more_energy() -> None:
    energy, bg = _energies(400, 1)
    everywhere = np.ones(energy.size, dtype=bool)
    white = EnergyTrigger(100.0, P).push(energy, bg, np.ones(energy.size), everywhere)
    for inflation in (1.1, 1.6, 3.0, 7.0):
        trig = EnergyTrigger(100.0, P)
        got = trig.push(energy, bg, np.full(energy.size, inflation), everywhere)
        assert np.array_equal(got, _reference(energy, bg, inflation, trig))
        assert (got != NONE).sum() <= (white != NONE).sum()
    assert (got != NONE).sum() < (white != NONE).sum()


@settings(max_examples=25, deadline=None)
@given(sizes=st.lists(st.integers(min_value=1, max_value=90), min_size=1, max_size=6))
def test_any_chunking_gives_the_same_windows(sizes: list[int]) -> None:
    energy, bg = _energies(400, 2)
    where = np.ones(energy.size, dtype=bool)
    infl = np.where(np.arange(energy.size) < 200, 1.0, 2.0)
    whole = EnergyTrigger(100.0, P).push(energy, bg, infl, where)
    trig = EnergyTrigger(100.0, P)
    parts, s, k = [], 0, 0
    while s < energy.size:
        e = min(energy.size, s + sizes[k % len(sizes)])
        parts.append(trig.push(energy[s:e], bg[s:e], infl[s:e], where[s:e]))
        s, k = e, k + 1
    assert np.array_equal(np.concatenate(parts), whole)


def test_a_run_triggers_only_with_a_window_inside_it() -> None:
    shortest = np.full(20, NONE, dtype=np.int64)
    shortest[5] = 3  # window 3..5
    shortest[15] = 6  # window 10..15
    starts, ends = np.array([3, 12]), np.array([8, 17])
    assert triggered(shortest, starts, ends, slack=0).tolist() == [True, False]
    assert triggered(shortest, starts, ends, slack=2).tolist() == [True, True]


def _still(fs: float, seconds: float, noise: float, seed: int) -> np.ndarray:
    rng = np.random.default_rng(seed)
    acc = rng.normal(0.0, noise, (int(seconds * fs), 3))
    acc[:, 2] += 1.0
    return acc


def _bump(acc: np.ndarray, fs: float, at_s: float, dur_s: float, amp: float) -> None:
    t = np.arange(acc.shape[0]) / fs - at_s
    inside = (t >= 0) & (t < dur_s)
    acc[inside, 0] += amp * np.sin(np.pi * t[inside] / dur_s)


def test_a_long_small_jerk_in_noise_is_found_only_by_its_energy() -> None:
    fs = 100.0
    acc = _still(fs, 60.0, 0.02, seed=3)
    _bump(acc, fs, 30.0, 0.25, 0.06)  # under 4x the background at any one sample
    rec = Recording(T0, fs, acc)
    assert detect_recording(rec, DetectorParams(energy_z=0.0)).events == []
    found = detect_recording(rec).events
    assert len(found) == 1
    assert found[0].time - T0 == pytest.approx(30.0, abs=0.1)
    assert found[0].peak_g == pytest.approx(0.06, abs=0.03)


def test_a_quiet_candidate_next_to_another_segment_is_not_a_jerk() -> None:
    fs = 100.0
    acc = _still(fs, 60.0, 0.02, seed=3)
    _bump(acc, fs, 30.0, 0.25, 0.06)
    _bump(acc, fs, 31.0, 0.08, 0.6)  # a clear jerk 1 s later: not alone
    found = detect_recording(Recording(T0, fs, acc)).events
    assert [e.time - T0 for e in found] == [pytest.approx(31.0, abs=0.05)]


def test_quiet_jerks_are_the_same_whatever_the_chunking() -> None:
    fs = 100.0
    acc = _still(fs, 90.0, 0.02, seed=4)
    for at in (20.0, 40.0, 60.0):
        _bump(acc, fs, at, 0.2, 0.07)
    rec = Recording(T0, fs, acc)
    whole = detect_recording(rec, chunk_samples=rec.n).events
    assert len(whole) == 3
    for size in (1, 7, 100, 4096):
        det = JerkDetector(fs, T0)
        events = []
        for s in range(0, rec.n, size):
            events += det.feed(Chunk(s, acc[s : s + size])).events
        events += det.finish().events
        assert events == whole


@pytest.mark.parametrize("fs", [50.0, 100.0, 200.0])
def test_white_noise_gives_no_jerks(fs: float) -> None:
    acc = _still(fs, 600.0, 0.02, seed=5)
    assert detect_recording(Recording(T0, fs, acc)).events == []


def _band_limited(fs: float, seconds: float, noise: float, band: float, seed: int) -> np.ndarray:
    """Gaussian noise low-passed at ``band`` x ``fs`` (a sensor's own filter), std ``noise``."""
    rng = np.random.default_rng(seed)
    n = int(seconds * fs)
    taps = lowpass_taps(fs, band * fs)
    white = rng.normal(0.0, 1.0, (n + taps.size, 3))
    acc = np.stack([np.convolve(white[:, k], taps, mode="valid")[:n] for k in range(3)], axis=1)
    acc *= noise / acc.std()
    acc[:, 2] += 1.0
    return acc


def _inflations(acc: np.ndarray, fs: float) -> np.ndarray:
    """The frame tracker's inflation for every frame of ``acc``."""
    feats = FeatureStream(fs, P)
    frames = FrameTracker(fs, P)
    feat, levels = frames.push(feats.push(acc, final=True), final=True)
    return levels[:, 3]


def test_inflation_is_1_for_white_noise_and_grows_with_its_correlation() -> None:
    fs = 100.0
    white = np.median(_inflations(_still(fs, 300.0, 0.02, seed=6), fs))
    quarter = np.median(_inflations(_band_limited(fs, 300.0, 0.02, 0.25, seed=6), fs))
    tenth = np.median(_inflations(_band_limited(fs, 300.0, 0.02, 0.1, seed=6), fs))
    assert 1.0 <= white < 1.15
    assert 1.4 < quarter < tenth
    assert tenth > 2.5


@pytest.mark.parametrize("band", [0.25, 0.1])
def test_band_limited_noise_gives_no_jerks(band: float) -> None:
    fs = 100.0
    acc = _band_limited(fs, 600.0, 0.02, band, seed=7)
    assert detect_recording(Recording(T0, fs, acc)).events == []


def test_energies_beyond_int64_sums_still_trigger() -> None:
    """A deviation of 100 000 g (the reader's bound; 1e10 g² a sample) is clipped, never
    cast past int64's range: the windows over it trigger, noise alone still does not."""
    energy, bg = _energies(400, 1)
    energy[150] = 1e10
    everywhere = np.ones(energy.size, dtype=bool)
    with np.errstate(all="raise"):
        got = EnergyTrigger(100.0, P).push(energy, bg, np.ones(energy.size), everywhere)
    assert got[150] == EnergyTrigger(100.0, P).lengths[0]
    assert (got[:100] == NONE).all()
