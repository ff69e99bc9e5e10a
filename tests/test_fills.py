"""Interpolated stretches (dropped packets filled in by a reader): marks and triggers."""

from __future__ import annotations

from pathlib import Path

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st

from pipeline.detector import DetectorParams, detect_file
from pipeline.features import FeatureStream
from pipeline.fills import FillTracker
from pipeline.filters import filter_support, lowpass_taps
from pipeline.writer import write_samples_csv
from sim import simulate_night
from sim.config import NightConfig

SUPPORT = 5


def noisy(n: int, seed: int = 0, noise_g: float = 0.02) -> np.ndarray:
    """``(n, 3)`` g: gravity on z plus white noise (never three samples in a line)."""
    rng = np.random.default_rng(seed)
    return np.array([0.0, 0.0, 1.0]) + rng.normal(0.0, noise_g, (n, 3))


def with_line(x: np.ndarray, a: int, b: int) -> np.ndarray:
    """``x`` with samples ``a+1 .. b-1`` drawn on the line from sample ``a`` to ``b``."""
    y = x.copy()
    idx = np.arange(a + 1, b)
    for k in range(3):
        y[a + 1 : b, k] = np.interp(idx, [a, b], [x[a, k], x[b, k]])
    return y


def marks(x: np.ndarray, sizes: list[int] | None = None) -> np.ndarray:
    tracker = FillTracker(SUPPORT)
    if sizes is None:
        return tracker.push(x)
    out, i = [], 0
    for s in sizes:
        out.append(tracker.push(x[i : i + s]))
        i += s
    out.append(tracker.push(x[i:]))
    return np.concatenate(out)


def test_noise_alone_is_never_filled() -> None:
    assert not marks(noisy(5000)).any()


def test_a_line_marks_from_its_first_triple_to_support_after_its_end() -> None:
    # samples 41..48 interpolated between 40 and 49: triples end at 42..49
    got = np.flatnonzero(marks(with_line(noisy(200), 40, 49)))
    assert got.tolist() == list(range(42, 49 + SUPPORT + 1))


def test_a_held_sample_is_a_line_too() -> None:
    x = noisy(100)
    x[20:26] = x[19]  # a firmware repeating its last sample
    assert np.flatnonzero(marks(x)).tolist() == list(range(21, 25 + SUPPORT + 1))


def test_one_missing_sample_makes_one_triple() -> None:
    # one sample on the line of its neighbours: the one triple ending at 32
    got = np.flatnonzero(marks(with_line(noisy(100), 30, 32)))
    assert got.tolist() == list(range(32, 32 + SUPPORT + 1))


def test_rounding_of_an_export_still_shows_the_line() -> None:
    x = np.round(with_line(noisy(120), 60, 70), 6)  # written with 6 decimals
    assert np.flatnonzero(marks(x)).tolist() == list(range(62, 70 + SUPPORT + 1))


@settings(max_examples=40, deadline=None)
@given(sizes=st.lists(st.integers(min_value=1, max_value=40), min_size=1, max_size=8))
def test_marks_do_not_depend_on_the_chunking(sizes: list[int]) -> None:
    x = with_line(with_line(noisy(240, seed=3), 10, 14), 100, 130)
    x[200:204] = x[199]
    assert np.array_equal(marks(x, sizes), marks(x))


def test_support_is_where_the_low_pass_still_carries_an_input() -> None:
    assert filter_support(None) == 0
    taps = lowpass_taps(1000.0, 20.0)
    s = filter_support(taps)
    assert np.abs(taps[: s + 1]).sum() >= 0.99 * np.abs(taps).sum()
    assert np.abs(taps[:s]).sum() < 0.99 * np.abs(taps).sum()
    assert 20 < s < taps.size


def test_features_carry_the_marks_aligned_with_their_samples() -> None:
    fs = 200.0
    x = with_line(noisy(20_000, seed=4), 12_000, 12_009)
    stream = FeatureStream(fs, DetectorParams())
    feats = [stream.push(x[i : i + 777]) for i in range(0, x.shape[0], 777)]
    feats.append(stream.push(np.empty((0, 3)), final=True))
    filled = np.concatenate([f.filled for f in feats])
    support = filter_support(lowpass_taps(fs, DetectorParams().lp_hz))
    assert filled.size == x.shape[0]
    assert np.flatnonzero(filled).tolist() == list(range(12_002, 12_009 + support + 1))


def dropped_night(tmp_path: Path, fs: float, pattern: str) -> tuple[Path, np.ndarray]:
    """A quarter hour of 0.02 g noise with 1 % of its 40-ms packets lost, as CSV."""
    cfg = NightConfig(
        hours=0.25,
        fs=fs,
        pattern=pattern,
        seed=5,
        noise_g=0.02,
        jerk_median_g=0.2,
        confounders=False,
        drop_prob=0.01,
        outage_per_hour=0.0,
    )
    night = simulate_night(cfg)
    path = tmp_path / f"{pattern}.csv"
    write_samples_csv(path, night.time, night.acc, night.metadata())
    return path, night.jerks["time"].to_numpy()


def test_dropped_packets_at_1000_hz_give_no_false_jerks(tmp_path: Path) -> None:
    path, truth = dropped_night(tmp_path, 1000.0, "none")
    assert truth.size == 0
    assert detect_file(path, DetectorParams()).events == []
    # without the guard (as before it): 52 false jerks in this quarter hour
    assert len(detect_file(path, DetectorParams(fill_guard=False)).events) == 52


def test_jerks_among_dropped_packets_are_all_found(tmp_path: Path) -> None:
    # before: the same 10 jerks and 52 false ones
    path, truth = dropped_night(tmp_path, 1000.0, "random")
    found = np.array([e.time for e in detect_file(path, DetectorParams()).events])
    assert truth.size == 10
    assert found.size == 10
    assert np.all(np.abs(found - truth) <= 0.1)
