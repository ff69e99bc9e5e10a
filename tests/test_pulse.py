"""Beats that come again and again (the heart on a chest strap) are not jerks.

The simulator's ``heartbeat_g`` adds a seismocardiogram (:class:`sim.body.Heartbeat`);
the detector's pulse level (:mod:`pipeline.pulse`) raises the trigger above it.
"""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from pipeline.detector import DetectorParams, detect_file, detect_recording
from pipeline.features import Features, FeatureStream
from pipeline.noisefloor import FrameTracker
from pipeline.pulse import beats_warning
from pipeline.score import score_onsets
from pipeline.sisfall import read_sisfall
from sim import NightConfig, simulate_night
from sim.body import Heartbeat
from tests.test_detector import _feed, _sim_recording

OFF = DetectorParams(pulse_s=0.0)
SISFALL = Path(__file__).resolve().parent / "data" / "sisfall"


def chest_night(tmp: Path, **kw: object):
    """A still night on a chest strap: 200 Hz (the Polar H10's rate), a quiet board,
    as canonical CSV read back; ``(night, recording)``."""
    base = dict(fs=200.0, noise_g=0.005, confounders=False, heartbeat_g=0.05, seed=1)
    base.update(kw)
    rec, night = _sim_recording(tmp, **base)
    return night, rec


def onsets(det) -> np.ndarray:
    return np.array([e.time for e in det.events])


# --------------------------------------------------------------------------- simulator
def test_heartbeat_model_rate_and_size() -> None:
    rng = np.random.default_rng(4)
    h = Heartbeat.draw(rng, 0.05, 3600.0)
    rr = np.diff(h.beats)
    assert 3000 <= h.beats.size <= 4500 * 1.1  # 50-75 bpm, +-8 % wander
    assert 0.7 < rr.min() and rr.max() < 1.4
    t = np.arange(0.0, 60.0, 1 / 1000)
    wave = np.linalg.norm(h.at(t), axis=1)
    peaks = [wave[(t >= b) & (t < b + 0.15)].max() for b in h.beats[h.beats < 59.5]]
    assert 0.03 < np.median(peaks) < 0.07  # the complex peaks near heartbeat_g
    assert Heartbeat.draw(rng, 0.0, 3600.0).beats.size == 0


def test_heartbeat_0_leaves_the_night_as_it_was() -> None:
    cfg = NightConfig(hours=0.05, seed=3)
    a, b = simulate_night(cfg), simulate_night(NightConfig(hours=0.05, seed=3, heartbeat_g=0.0))
    assert np.array_equal(a.acc, b.acc)
    with_heart = simulate_night(NightConfig(hours=0.05, seed=3, heartbeat_g=0.05))
    assert np.array_equal(a.time, with_heart.time)  # the same clock, confounders, jerks
    assert with_heart.metadata()["heartbeat_g"] == "0.05"
    assert "heartbeat_g" not in a.metadata()
    assert a.truth.equals(with_heart.truth)


# --------------------------------------------------------------------------- detector
def test_heartbeat_alone_gives_no_jerks(tmp_path: Path) -> None:
    night, rec = chest_night(tmp_path, hours=0.5, pattern="none")
    assert len(detect_recording(rec, OFF).events) > 100  # what the guard is for
    det = detect_recording(rec)
    assert len(det.events) == 0
    assert det.activity_minutes == 0.0


def test_jerks_above_the_beats_are_found(tmp_path: Path) -> None:
    night, rec = chest_night(
        tmp_path, hours=1.0, pattern="random", rate_per_hour=60, heartbeat_g=0.1
    )
    truth = night.jerks["time"].to_numpy()
    before = score_onsets(onsets(detect_recording(rec, OFF)), truth)
    after = score_onsets(onsets(detect_recording(rec)), truth)
    assert before.recall < 0.1  # the night was taken for rhythmic movement
    assert after.tp == 49 and after.fp == 2 and truth.size == 53


def test_hiccups_every_two_seconds_are_not_taken_for_beats(tmp_path: Path) -> None:
    cfg = dict(
        hours=0.5, fs=100.0, pattern="periodic", rate_per_hour=300, plm_share=0.0,
        hiccup_interval_s=(2.0, 2.5), train_size=(20, 30), noise_g=0.01,
        jerk_median_g=0.2, confounders=False, seed=5,
    )  # fmt: skip
    rec, night = _sim_recording(tmp_path, **cfg)
    on, off = detect_recording(rec), detect_recording(rec, OFF)
    assert on.events == off.events
    assert score_onsets(onsets(on), night.jerks["time"].to_numpy()).recall > 0.9


def test_chunking_does_not_change_events_under_beats(tmp_path: Path) -> None:
    night, rec = chest_night(
        tmp_path, hours=120 / 3600, fs=100.0, pattern="random", rate_per_hour=600
    )
    whole = _feed(rec, [rec.n])
    assert whole[0] and whole == _feed(rec, [1]) == _feed(rec, [7, 100, 3])


def test_a_jerk_in_a_pause_after_jumping_is_measured_against_the_pause() -> None:
    """Real movement (SisFall D19: jumping to reach something high): its blocks are left
    out of the pulse level, which would otherwise be the jumps' size."""
    rec = read_sisfall(SISFALL / "SA01" / "D19_SA01_R01.txt.gz", "mma8451q")
    assert detect_recording(rec).events == []
    acc = rec.acc.copy()
    n, i = int(0.1 * rec.fs), int(7.0 * rec.fs)
    acc[i : i + n, 2] += 0.4 * np.sin(np.pi * np.arange(n) / n)  # 0.4 g, 100 ms
    jerk = replace(rec, acc=acc)
    found = [e.time - rec.t0 for e in detect_recording(jerk).events]
    assert found == [pytest.approx(7.0, abs=0.05)]
    p = DetectorParams()
    feat, levels = FrameTracker(rec.fs, p).push(
        FeatureStream(rec.fs, p).push(jerk.acc, final=True), final=True
    )
    frame = round(p.frame_s * rec.fs)
    assert feat.fast[int(1.25 * rec.fs) : int(6.25 * rec.fs)].max() > 1.0  # the jumps
    assert levels[i // frame, 4] == 0.0  # too few still blocks before it: no pulse level


# --------------------------------------------------------------------------- the level
def reference_pulse(fast: np.ndarray, energy: np.ndarray, tr: FrameTracker) -> np.ndarray:
    """The pulse levels of every whole frame, straight from the definition."""
    f, m, n, w = tr.frame, tr.pulse.block, tr.pulse.window, tr.pulse.warm
    share = 1.0 - tr.p.pulse_share
    k = fast.size // f
    whole = k // m * m * f
    blocks = np.column_stack([x[:whole].reshape(-1, m * f).max(axis=1) for x in (fast, energy)])
    moving = fast[:whole].reshape(-1, m * f).mean(axis=1) > tr.p.sustained_g
    out = np.zeros((k, 2))
    for j in range(k):
        b = j // m
        lo, hi = max(0, b - n), max(b, w)
        if hi <= blocks.shape[0]:
            still = blocks[lo:hi][~moving[lo:hi]]
            if still.shape[0] >= w:
                rank = round(share * still.shape[0] * 1e6) // 1_000_000  # exact: 0.2 x 5 is 1
                out[j] = np.sort(still, axis=0)[rank]
    out[:, 1] = np.sqrt(out[:, 1])
    return out


@settings(max_examples=25, deadline=None)
@given(
    seed=st.integers(0, 10_000),
    seconds=st.floats(3.0, 90.0),
    sizes=st.lists(st.integers(1, 900), min_size=1, max_size=5),
    params=st.sampled_from(
        [  # the defaults; then windows of fewer blocks than the warm-up shares (2 < 5, 2 < 2)
            DetectorParams(),
            DetectorParams(pulse_s=5.0, background_s=10.0),
            DetectorParams(pulse_s=1.0, pulse_share=0.4, background_s=2.0),
        ]
    ),
)
def test_pulse_level_is_its_definition_whatever_the_chunks(seed, seconds, sizes, params) -> None:
    rng = np.random.default_rng(seed)
    fs = 40.0
    r = int(seconds * fs)
    fast = rng.gamma(2.0, 0.01, r)
    energy = rng.gamma(2.0, 0.0001, r)
    for start in rng.integers(0, r, 3):  # movement: blocks that are left out
        fast[start : start + rng.integers(10, 400)] += 0.1
    feat = Features(fast, np.zeros((r, 3)), np.zeros((r, 3)), energy, np.zeros(r, dtype=bool))
    tr = FrameTracker(fs, params)
    got, i, k = [], 0, 0
    while i < r:
        step = sizes[k % len(sizes)]
        _, lv = tr.push(feat.tail(i).head(step), final=i + step >= r)
        got.append(lv[:, 4:])
        i, k = i + step, k + 1
    levels = np.vstack(got)
    whole = r // tr.frame
    np.testing.assert_array_equal(levels[:whole], reference_pulse(fast, energy, tr))


# --------------------------------------------------------------------- low-rate warning
def test_beats_warning_thresholds() -> None:
    advice = (
        ": below 100 Hz beats are hard to tell from jerks (a simulated chest strap at 50 Hz "
        "gave dozens to hundreds of false jerks an hour); record at 100-200 Hz"
    )
    assert beats_warning(50.0, 0.19) == "a heartbeat was in 19% of the recording at 50 Hz" + advice
    assert beats_warning(50.0, 0.04) is None  # beats in under 5 % of it
    assert beats_warning(100.0, 1.0) is None  # 100 Hz and above: told apart
    assert beats_warning(0.0, 1.0) is None and beats_warning(50.0, 0.0) is None
    # a chest strap is named by its device, whether or not the beats took hold
    h10 = {"device": "Polar H10 8C4D2A1B", "profile": "polar"}
    assert beats_warning(50.0, 0.0, h10) == (
        "recorded by a chest strap (Polar H10 8C4D2A1B) at 50 Hz" + advice
    )
    assert beats_warning(200.0, 0.0, h10) is None
    assert beats_warning(52.0, 0.0, {"device": "Polar Sense 1A2B3C4D"}) is None  # arm band


@pytest.mark.parametrize(("fs", "warned"), [(50.0, True), (200.0, False)])
def test_a_chest_strap_below_100_hz_is_warned_of(tmp_path: Path, fs: float, warned: bool) -> None:
    night, rec = chest_night(tmp_path, hours=0.1, pattern="none", fs=fs)
    det = detect_file(tmp_path / "night.csv")
    assert det.pulse_samples > 0.5 * det.n_samples  # beats nearly all night, either rate
    texts = [w for w in det.quality.warnings if "heartbeat" in w]
    assert texts == ([beats_warning(fs, det.pulse_samples / det.n_samples)] if warned else [])
