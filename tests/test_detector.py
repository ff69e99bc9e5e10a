"""The streaming detector: chunk invariance, ground truth, confounders, gaps, rates."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from pipeline.detector import DetectorParams, JerkDetector, detect_file, detect_recording
from pipeline.reader import read_recording
from pipeline.recording import Chunk, Recording
from pipeline.score import score_onsets
from pipeline.writer import write_samples_csv
from sim import ForcedConfounder, NightConfig, simulate_night

T0 = 1_767_300_000.0


def _sim_recording(tmp: Path, **kw: object) -> tuple[Recording, object]:
    """Simulate a night, write it as canonical CSV and read it back (the user's path)."""
    night = simulate_night(NightConfig(**kw))
    path = tmp / "night.csv"
    write_samples_csv(path, night.time, night.acc, night.metadata())
    return read_recording(path), night


def _quiet(fs: float, seconds: float, noise: float = 0.005, seed: int = 0) -> np.ndarray:
    rng = np.random.default_rng(seed)
    acc = rng.normal(0.0, noise, (int(seconds * fs), 3))
    acc[:, 2] += 1.0
    return acc


def _pulse(acc: np.ndarray, fs: float, at_s: float, dur_s: float, amp: float, axis: int) -> None:
    """Add a half-sine pulse of ``amp`` g along ``axis`` starting at ``at_s``."""
    t = np.arange(acc.shape[0]) / fs - at_s
    inside = (t >= 0) & (t < dur_s)
    acc[inside, axis] += amp * np.sin(np.pi * t[inside] / dur_s)


def _feed(rec: Recording, sizes: list[int], params: DetectorParams | None = None):
    """Feed ``rec`` to one detector in chunks of the given sizes (cycled)."""
    det = JerkDetector(rec.fs, rec.t0, params)
    events, activity = [], []
    k = 0
    for a, b in _valid_runs(rec):
        s = a
        while s < b:
            size = sizes[k % len(sizes)]
            k += 1
            out = det.feed(Chunk(s, rec.acc[s : min(s + size, b)]))
            events += out.events
            activity += out.activity
            s += size
    out = det.finish()
    return events + out.events, activity + out.activity


def _valid_runs(rec: Recording) -> list[tuple[int, int]]:
    from pipeline.recording import runs

    return runs(rec.valid)


@pytest.fixture(scope="module")
def busy_night(tmp_path_factory: pytest.TempPathFactory) -> Recording:
    """Six minutes at 100 Hz: clustered jerks, walking, a roll-over, dropped packets."""
    tmp = tmp_path_factory.mktemp("busy")
    rec, _ = _sim_recording(
        tmp,
        hours=0.1,
        fs=100.0,
        pattern="clustered",
        rate_per_hour=300.0,
        seed=11,
        confounders=False,
        forced_confounders=(
            ForcedConfounder("walking", 60.0, 40.0),
            ForcedConfounder("rollover", 200.0, 4.0),
        ),
        drop_prob=0.01,
    )
    return rec


def test_events_identical_for_chunks_of_1_7_one_second_and_whole(busy_night: Recording) -> None:
    rec = busy_night
    whole = _feed(rec, [rec.n])
    assert len(whole[0]) >= 10 and whole[1], "the night must have jerks and activity"
    for sizes in ([1], [7], [int(rec.fs)]):
        assert _feed(rec, sizes) == whole


@settings(
    max_examples=12, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(sizes=st.lists(st.integers(min_value=1, max_value=4000), min_size=1, max_size=8))
def test_events_identical_for_any_chunking(busy_night: Recording, sizes: list[int]) -> None:
    assert _feed(busy_night, sizes) == _feed(busy_night, [busy_night.n])


def test_detect_recording_matches_ground_truth(tmp_path: Path) -> None:
    rec, night = _sim_recording(
        tmp_path, hours=0.5, fs=100.0, pattern="random", rate_per_hour=120.0, seed=3
    )
    det = detect_recording(rec)
    truth = night.truth[night.truth.kind == "jerk"].time.to_numpy()
    onsets = np.array([e.time for e in det.events])
    score = score_onsets(onsets, truth, 0.3)
    assert truth.size >= 40
    assert score.f1 >= 0.9, score
    # onset within 100 ms of the true onset for every matched jerk
    tight = score_onsets(onsets, truth, 0.1)
    assert tight.tp == score.tp


def test_pulse_measurements_axis_size_duration_onset() -> None:
    fs = 200.0
    acc = _quiet(fs, 30.0)
    _pulse(acc, fs, 10.0, 0.1, 0.4, axis=1)
    _pulse(acc, fs, 20.0, 0.05, 1.5, axis=0)
    det = detect_recording(Recording(T0, fs, acc))
    assert [e.axis for e in det.events] == ["y", "x"]
    first, second = det.events
    assert first.time - T0 == pytest.approx(10.0, abs=0.05)
    assert second.time - T0 == pytest.approx(20.0, abs=0.05)
    assert first.peak_g == pytest.approx(0.4, rel=0.1)
    assert second.peak_g == pytest.approx(1.5, rel=0.1)
    assert first.duration_ms == pytest.approx(100.0, abs=40.0)
    assert second.duration_ms == pytest.approx(50.0, abs=40.0)
    assert det.activity == []


def test_two_jerks_350_ms_apart_are_two_events() -> None:
    fs = 100.0
    acc = _quiet(fs, 20.0)
    _pulse(acc, fs, 8.0, 0.06, 0.5, axis=2)
    _pulse(acc, fs, 8.35, 0.06, 0.5, axis=2)
    det = detect_recording(Recording(T0, fs, acc))
    assert [e.time - T0 for e in det.events] == pytest.approx([8.0, 8.35], abs=0.05)


def test_heel_strikes_at_2_hz_are_rhythmic_activity_not_jerks() -> None:
    fs = 100.0
    acc = _quiet(fs, 60.0)
    for k in range(40):  # 20 s of sharp 2 Hz strikes
        _pulse(acc, fs, 20.0 + 0.5 * k, 0.06, 0.8, axis=2)
    det = detect_recording(Recording(T0, fs, acc))
    assert det.events == []
    assert len(det.activity) == 1
    period = det.activity[0]
    assert period.kind == "rhythmic"
    assert period.start - T0 == pytest.approx(20.0, abs=0.5)
    assert period.end - T0 == pytest.approx(39.6, abs=0.5)


@pytest.mark.parametrize("kind", ["walking", "tremor", "rollover", "restless"])
def test_confounders_alone_give_no_jerks_and_are_activity(tmp_path: Path, kind: str) -> None:
    rec, night = _sim_recording(
        tmp_path,
        hours=0.05,
        fs=100.0,
        pattern="none",
        seed=5,
        confounders=False,
        forced_confounders=(ForcedConfounder(kind, 40.0, 60.0 if kind != "rollover" else 5.0),),
    )
    det = detect_recording(rec)
    assert det.events == [], [(e.time - rec.t0, e.peak_g) for e in det.events]
    span = night.truth[night.truth.kind == kind].iloc[0]
    covered = sum(max(0.0, min(a.end, span.end) - max(a.start, span.time)) for a in det.activity)
    assert covered >= 0.5 * (span.end - span.time)


def test_noisy_board_does_not_flood_the_count() -> None:
    fs = 100.0
    acc = _quiet(fs, 1800.0, noise=0.05, seed=2)  # 5x the usual noise, 30 min
    det = detect_recording(Recording(T0, fs, acc))
    assert len(det.events) <= 1
    assert det.activity_minutes < 1.0


def test_no_event_inside_or_at_the_edge_of_a_gap() -> None:
    fs = 100.0
    acc = _quiet(fs, 60.0)
    _pulse(acc, fs, 10.0, 0.1, 0.5, axis=0)  # a jerk well before the gap
    _pulse(acc, fs, 29.8, 0.1, 0.5, axis=0)  # cut by the gap
    _pulse(acc, fs, 31.0, 0.1, 0.5, axis=0)  # inside the gap
    _pulse(acc, fs, 45.0, 0.1, 0.5, axis=0)  # a jerk after the gap
    acc[int(29.9 * fs) : int(35.0 * fs)] = np.nan
    rec = Recording(T0, fs, acc)
    det = detect_recording(rec)
    assert [round(e.time - T0, 1) for e in det.events] == [10.0, 45.0]


@pytest.mark.parametrize(("fs", "min_recall"), [(25.0, 0.7), (1000.0, 0.9)])
def test_low_and_high_sample_rates_work(tmp_path: Path, fs: float, min_recall: float) -> None:
    hours = 0.25 if fs < 500 else 0.05
    rec, night = _sim_recording(
        tmp_path,
        hours=hours,
        fs=fs,
        pattern="random",
        rate_per_hour=240.0,
        seed=4,
        confounders=False,
    )
    assert rec.fs == fs
    det = detect_recording(rec)
    truth = night.truth[night.truth.kind == "jerk"].time.to_numpy()
    score = score_onsets(np.array([e.time for e in det.events]), truth, 0.3)
    assert truth.size >= 10
    assert score.recall >= min_recall, score
    assert score.precision >= 0.9, score


def test_detect_file_equals_detect_recording(tmp_path: Path) -> None:
    night = simulate_night(NightConfig(hours=0.05, fs=50.0, rate_per_hour=400.0, seed=8))
    path = tmp_path / "n.csv"
    write_samples_csv(path, night.time, night.acc, night.metadata())
    from_file = detect_file(path, chunk_samples=333)
    in_memory = detect_recording(read_recording(path))
    assert from_file.events == in_memory.events
    assert from_file.activity == in_memory.activity
    assert from_file.events, "the night must have jerks"


def test_overlapping_chunk_is_refused() -> None:
    det = JerkDetector(100.0, T0)
    det.feed(Chunk(0, _quiet(100.0, 1.0)))
    with pytest.raises(ValueError, match="overlaps"):
        det.feed(Chunk(50, _quiet(100.0, 1.0)))


def test_two_thread_detection_equals_one_thread_and_sees_every_chunk(
    busy_night: Recording,
) -> None:
    """``detect_chunks`` with the feature stage in a second thread gives the events and
    activity of the one-thread run, over several runs (split by gaps), and
    calls ``on_chunk`` with every chunk, in order, in the calling thread."""
    import threading
    from dataclasses import replace

    from pipeline.detector import detect_chunks

    acc = busy_night.acc.copy()
    acc[20_000:20_500] = np.nan  # two 5-s gaps: three runs
    acc[30_000:30_500] = np.nan
    rec = replace(busy_night, acc=acc)
    assert len(_valid_runs(rec)) == 3
    seen: list[tuple[int, int, str]] = []

    def on_chunk(chunk: Chunk) -> None:
        seen.append((chunk.start, len(chunk), threading.current_thread().name))

    one = detect_chunks(rec.header, rec.chunks(1000), threaded=False)
    two = detect_chunks(rec.header, rec.chunks(1000), threaded=True, on_chunk=on_chunk)
    assert one == two
    assert len(one.events) >= 10
    expected = [(c.start, len(c)) for c in rec.chunks(1000)]
    assert [(s, n) for s, n, _ in seen] == expected
    assert {name for _, _, name in seen} == {threading.current_thread().name}


def test_two_thread_detection_raises_the_readers_error_and_stops() -> None:
    """An error raised while the second thread reads the chunks reaches the caller,
    after the chunks before it, and the thread ends."""
    import threading

    from pipeline.detector import detect_chunks
    from pipeline.recording import RecordingHeader

    def chunks():
        yield Chunk(0, _quiet(100.0, 5.0))
        raise ValueError("bad block at line 42")

    before = {t.name for t in threading.enumerate()}
    header = RecordingHeader(t0=T0, fs=100.0)
    with pytest.raises(ValueError, match="line 42"):
        detect_chunks(header, chunks(), threaded=True)
    assert "jerkcount-features" not in {t.name for t in threading.enumerate()} - before


def test_params_round_trip_and_unknown_key() -> None:
    p = DetectorParams(k_high=5.0)
    assert DetectorParams.from_dict(p.as_dict()) == p
    with pytest.raises(ValueError, match="unknown"):
        DetectorParams.from_dict({"nope": 1})


def _stream_peak_memory(hours: float) -> int:
    """tracemalloc peak (bytes) of detecting ``hours`` of noise fed in 1-minute chunks."""
    import tracemalloc

    fs, minute = 100.0, 6000
    rng = np.random.default_rng(0)
    det = JerkDetector(fs, T0)
    tracemalloc.start()
    for k in range(int(hours * 60)):
        acc = rng.normal(0.0, 0.01, (minute, 3))
        acc[:, 2] += 1.0
        det.feed(Chunk(k * minute, acc))
    det.finish()
    peak = tracemalloc.get_traced_memory()[1]
    tracemalloc.stop()
    return peak


def test_detector_memory_does_not_grow_with_length() -> None:
    short, long = _stream_peak_memory(0.5), _stream_peak_memory(3.0)
    assert long < 1.3 * short, (short, long)
