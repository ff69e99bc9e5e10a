"""The held-out jerk shapes (bench/heldout_shapes.py) and the detector on them in a
real recording: shapes the simulator does not make, in a still stretch of a SisFall
trial."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from bench.heldout_shapes import (
    HELDOUT_FAMILIES,
    HeldoutJerks,
    draw_heldout,
    render_heldout,
    unit_shape,
)
from bench.sisfall_inject import as_sensor, still_intervals
from pipeline.detector import detect_recording
from pipeline.sisfall import find_trials, read_sisfall

DATA = Path(__file__).resolve().parent / "data" / "sisfall"
FINE = np.linspace(0.0, 1.0, 100_001)


@pytest.mark.parametrize("family", HELDOUT_FAMILIES)
def test_unit_peak_and_zero_outside(family: str) -> None:
    w = unit_shape(family, FINE)
    assert np.abs(w).max() == pytest.approx(1.0, abs=1e-6)
    assert np.all(unit_shape(family, np.array([-0.5, -1e-9, 1.0 + 1e-9, 2.0])) == 0.0)


def test_shape_features() -> None:
    twitch = unit_shape("twitch", FINE)
    assert FINE[np.argmax(twitch)] == pytest.approx(0.15, abs=1e-3)  # fast rise, slow decay
    assert twitch[-1] == pytest.approx(0.0, abs=1e-12)
    plateau = unit_shape("plateau", FINE)
    assert plateau[(FINE >= 0.1) & (FINE <= 0.9)] == pytest.approx(1.0, abs=1e-12)
    assert plateau[0] == 0.0 and plateau[-1] == 0.0
    tri = unit_shape("triphasic", FINE)
    assert tri[50_000] == pytest.approx(1.0)  # the main lobe at the centre
    assert tri.min() == pytest.approx(
        (-2 * np.exp(-1.5) + 15 * np.exp(-8)) / (1 + 15 * np.exp(-8)), abs=1e-6
    )  # side lobes
    impact = unit_shape("impact", FINE)
    assert impact[0] == 1.0  # a step at the onset
    assert impact[20_000] == pytest.approx(np.exp(-1.0) * 0.8, rel=1e-9)


def _one(family: str, onset: float, duration: float, amp: float, d1, d2) -> HeldoutJerks:
    return HeldoutJerks(
        family, np.array([onset]), np.array([duration]), np.array([amp]),
        np.array([d1], dtype=float), np.array([d2], dtype=float),
    )  # fmt: skip


def test_render_swing_turns_and_others_keep_direction() -> None:
    t = np.arange(0, 1.0, 1e-4)
    acc = np.zeros((t.size, 3))
    render_heldout(t, _one("swing", 0.2, 0.2, 0.5, (1, 0, 0), (0, 1, 0)), acc)
    mag = np.linalg.norm(acc, axis=1)
    assert mag.max() == pytest.approx(0.5, abs=1e-6)
    assert np.all(acc[(t < 0.2) | (t > 0.4)] == 0.0)
    first, last = np.flatnonzero(mag > 1e-3)[[0, -1]]
    assert acc[first] / mag[first] == pytest.approx([1, 0, 0], abs=1e-2)  # starts along d1
    assert acc[last] / mag[last] == pytest.approx([0, 1, 0], abs=1e-2)  # ends turned 90°
    acc = np.zeros((t.size, 3))
    render_heldout(t, _one("impact", 0.5, 0.1, 0.3, (0, 0, 1), (1, 0, 0)), acc)
    assert acc[:, :2].max() == 0.0 and acc[:, 2].max() == pytest.approx(0.3)
    assert acc[np.searchsorted(t, 0.5), 2] == pytest.approx(0.3)  # the step at the onset


def test_draw_sizes_directions() -> None:
    rng = np.random.default_rng(5)
    j = draw_heldout("twitch", np.arange(2000.0), 0.5, rng)
    assert np.median(j.amplitude) == pytest.approx(0.5, rel=0.1)
    assert j.duration.min() >= 0.02 and j.duration.max() <= 0.3
    assert np.allclose(np.linalg.norm(j.direction, axis=1), 1.0)
    assert np.allclose((j.direction * j.turn_to).sum(axis=1), 0.0, atol=1e-12)
    with pytest.raises(ValueError, match="unknown held-out family"):
        draw_heldout("halfsine", np.arange(3.0), 0.5, rng)


def _still_trial():
    """The first fixture trial (MMA8451Q) with a still stretch of 3 s or more."""
    for path in find_trials(DATA):
        rec = read_sisfall(path, "mma8451q")
        for a, b in still_intervals(rec):
            if b - a >= 3.0:
                return rec, a
    raise AssertionError("no still stretch in the SisFall fixtures")


@pytest.mark.parametrize(
    ("family", "duration"),
    [("twitch", 0.1), ("plateau", 0.08), ("triphasic", 0.2), ("swing", 0.15)],
)
def test_detector_finds_heldout_shape_in_real_still_stretch(family: str, duration: float) -> None:
    rec, start = _still_trial()
    assert detect_recording(rec).events == []  # nothing there before
    onset = rec.t0 + start + 1.0
    acc = rec.acc.copy()
    render_heldout(rec.time, _one(family, onset, duration, 0.5, (0.6, 0, 0.8), (0, 1, 0)), acc)
    events = detect_recording(as_sensor(rec, acc, "mma8451q", 1)).events
    assert len(events) == 1
    assert abs(events[0].time - onset) <= 0.1
    assert events[0].peak_g == pytest.approx(0.5, abs=0.1)
