"""Jerks in the still pauses of movement (the classifier's pause rule, the floor extent).

In the SisFall trials a still moment of 1-4 s sits between voluntary movements; the
30-s background there still carries the movement, so a jerk in it used to fall under
the raised (restless) trigger or within the margin of the movement. A lone transient
that stands ``k_restless`` x above the envelope of the pause on both sides is a jerk.
These tests add one half-sine pulse (0.4 g, 100 ms, z axis) to two real recordings
(MMA8451Q) in a still stretch found without the detector, and check the count with
and without the rule, that two pulses in the same pause stay uncounted by it (not
alone), that the floor extent lets the ordinary rules see them, and that chunking does
not change the result; and, on a simulated night, a jerk seconds after a walk.
"""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

import numpy as np
import pytest

from pipeline.detector import DetectorParams, JerkDetector, detect_recording
from pipeline.recording import Chunk, Recording
from pipeline.sisfall import read_sisfall

DATA = Path(__file__).resolve().parent / "data" / "sisfall"
#: (trial, onset in s from the first sample): a still stretch that follows movement
#: (getting out of a car; walking down stairs; 1.5 s after rolling onto the side, where
#: the roll's own last bumps lie within 1.5 s: they belong to that movement, so the
#: pulse is still alone).
CASES = [
    ("SA01/D17_SA01_R01.txt.gz", 21.5),
    ("SE01/D05_SE01_R01.txt.gz", 22.45),
    ("SA01/D14_SA01_R01.txt.gz", 7.0),
]
PULSE_G, PULSE_S = 0.4, 0.1
#: neither the pause rule nor the floor extent (the rules before either)
WITHOUT = DetectorParams(pause_s=0.0, floor_extent=False)


def _with_pulses(rec: Recording, onsets_s: list[float]) -> Recording:
    """``rec`` with a half-sine pulse on z at each onset (s from the first sample)."""
    acc = rec.acc.copy()
    n = int(PULSE_S * rec.fs)
    for t in onsets_s:
        i = int(round(t * rec.fs))
        acc[i : i + n, 2] += PULSE_G * np.sin(np.pi * np.arange(n) / n)
    return replace(rec, acc=acc)


def _onsets(rec: Recording, params: DetectorParams | None = None) -> list[float]:
    return [e.time - rec.t0 for e in detect_recording(rec, params).events]


@pytest.mark.parametrize(("trial", "onset"), CASES, ids=[c[0].split("/")[1][:8] for c in CASES])
def test_a_jerk_in_a_pause_after_movement_is_counted(trial: str, onset: float) -> None:
    rec = read_sisfall(DATA / trial, "mma8451q")
    assert _onsets(rec) == []  # the real recording alone has no jerk
    found = _onsets(_with_pulses(rec, [onset]))
    assert len(found) == 1
    assert found[0] == pytest.approx(onset, abs=0.05)
    # without the pause rule (and the floor extent) the movement's raised background hides it
    assert _onsets(_with_pulses(rec, [onset]), WITHOUT) == []


@pytest.mark.parametrize(
    ("trial", "onset"), CASES[:2], ids=[c[0].split("/")[1][:8] for c in CASES[:2]]
)
def test_two_pulses_in_one_pause_are_not_alone(trial: str, onset: float) -> None:
    # (in these two pauses both pulses are hidden by the movement's raised background,
    # so only the pause rule could count them)
    rec = read_sisfall(DATA / trial, "mma8451q")
    early = _with_pulses(rec, [onset - 0.4])
    assert _onsets(early, WITHOUT) == []  # hidden without the rules
    assert len(_onsets(early)) == 1  # each alone is counted
    # the pause rule counts a lone candidate only
    pause_only = DetectorParams(floor_extent=False)
    assert _onsets(_with_pulses(rec, [onset - 0.4, onset]), pause_only) == []


def test_floor_extent_separates_jerks_from_the_movement_before() -> None:
    """In the still moment 2.5 s after getting out of a car (D17) the 30-s background
    still carries the movement. Measured against it, the movement's extent is cut
    short and the pulses are hidden; measured against the quiet floor, the movement
    ends where it ends and one pulse, or two 0.4 s apart, are jerks by the ordinary
    rules, without the pause rule."""
    trial, onset = CASES[0]
    rec = read_sisfall(DATA / trial, "mma8451q")
    no_pause = DetectorParams(pause_s=0.0)
    assert _onsets(_with_pulses(rec, [onset]), no_pause) == pytest.approx([onset], abs=0.05)
    two = _onsets(_with_pulses(rec, [onset - 0.4, onset]), no_pause)
    assert two == pytest.approx([onset - 0.4, onset], abs=0.05)
    assert _onsets(_with_pulses(rec, [onset - 0.4, onset]), WITHOUT) == []
    assert _onsets(rec, no_pause) == []  # and the recording alone still has none


@pytest.mark.parametrize("size", [1, 7, 200, 10**6])
def test_pause_decisions_do_not_depend_on_chunking(size: int) -> None:
    trial, onset = CASES[0]
    rec = _with_pulses(read_sisfall(DATA / trial, "mma8451q"), [onset])
    det = JerkDetector(rec.fs, rec.t0)
    events = []
    for s in range(0, rec.n, size):
        events += det.feed(Chunk(s, rec.acc[s : s + size])).events
    events += det.finish().events
    assert events == detect_recording(rec).events
    assert len(events) == 1


@pytest.fixture(scope="module")
def after_walking(tmp_path_factory: pytest.TempPathFactory) -> Recording:
    """10 simulated minutes, 100 Hz, still but for a 60-s walk from 120 s to 180 s."""
    from pipeline.reader import read_recording
    from pipeline.writer import write_samples_csv
    from sim import ForcedConfounder, NightConfig, simulate_night

    cfg = NightConfig(
        hours=600 / 3600, fs=100.0, pattern="none", seed=4, confounders=False,
        forced_confounders=(ForcedConfounder("walking", 120.0, 60.0),),
        outage_per_hour=0.0, drop_prob=0.0,
    )  # fmt: skip
    night = simulate_night(cfg)
    path = tmp_path_factory.mktemp("walk") / "walk.csv"
    write_samples_csv(path, night.time, night.acc, night.metadata())
    return read_recording(path)


def _with_x_pulse(rec: Recording, t: float, g: float = 0.3, dur_s: float = 0.06) -> Recording:
    acc = rec.acc.copy()
    n, i = int(dur_s * rec.fs), int(round(t * rec.fs))
    acc[i : i + n, 0] += g * np.sin(np.pi * np.arange(n) / n)
    return replace(rec, acc=acc)


@pytest.mark.parametrize("onset", [185.0, 190.0])
def test_a_jerk_seconds_after_walking_is_counted(after_walking: Recording, onset: float) -> None:
    """5-10 s after a walk the 30-s background still carries it: the jerk (0.3 g, 60 ms)
    forms a run only against the quiet floor, and is then counted as a lone jerk in
    that still moment; without the floor extent it is lost."""
    rec = after_walking
    assert _onsets(rec) == []  # the walk itself gives no jerk
    assert _onsets(_with_x_pulse(rec, onset)) == pytest.approx([onset], abs=0.05)
    assert _onsets(_with_x_pulse(rec, onset), DetectorParams(floor_extent=False)) == []
    # 2 minutes later the background has settled: found by either rule
    late = _with_x_pulse(rec, 300.0)
    assert _onsets(late) == _onsets(late, DetectorParams(floor_extent=False))
    assert _onsets(late) == pytest.approx([300.0], abs=0.05)


@pytest.mark.parametrize(
    ("fs", "seed", "chunk"),
    [
        (100.0, 25, 65_536),
        (50.0, 25, 65_536),
        (50.0, 11, 65_536),
        (50.0, 23, 65_536),
        (100.0, 25, 997),
    ],
)
def test_no_counted_jerk_lies_inside_an_activity_period(
    tmp_path: Path, fs: float, seed: int, chunk: int
) -> None:
    """A jerk in a pause between two movements under 3 s apart (``activity_join_s``) used
    to be counted while the joined period covered it: `process` counted it and its
    pattern analysis did not (nights the tester and a scan of 60 found). The period is
    now cut around it, and every event lies in valid time."""
    from pipeline.reader import read_recording
    from pipeline.writer import write_samples_csv
    from sim import NightConfig, simulate_night

    night = simulate_night(NightConfig(hours=1.5, fs=fs, seed=seed))
    path = tmp_path / "night.csv"
    write_samples_csv(path, night.time, night.acc, night.metadata())
    det = detect_recording(read_recording(path), chunk_samples=chunk)
    assert det.events and det.activity
    inside = [e.time for e in det.events for a in det.activity if a.start <= e.time <= a.end]
    assert inside == []
    assert all(a.end >= a.start for a in det.activity)
