"""Non-wear: a sensor lying still on a table is found within 2 min; worn nights never."""

from __future__ import annotations

import numpy as np
import pytest

from pipeline.nonwear import NONWEAR, EpochStats, NonWearParams, NonWearTracker
from pipeline.recording import Recording
from sim import ForcedConfounder, NightConfig, SimulatedNight, simulate_night

OFF_S, DUR_S = 900.0, 2400.0  # taken off 15 min into the night, for 40 min


def _recording(night: SimulatedNight) -> Recording:
    """The simulated samples on their nominal grid (lost samples as NaN gap rows)."""
    fs = night.config.fs
    idx = np.rint((night.time - night.config.start) * fs).astype(np.int64)
    acc = np.full((int(idx[-1]) + 1, 3), np.nan)
    acc[idx] = night.acc
    return Recording(night.config.start, fs, acc)


def _track(rec: Recording, chunk: int = 65_536, **kw) -> tuple[list, list[EpochStats]]:
    epochs: list[EpochStats] = []
    tracker = NonWearTracker(rec.fs, rec.t0, NonWearParams(**kw), on_epoch=epochs.append)
    for c in rec.chunks(chunk):
        tracker.feed(c)
    return tracker.finish(), epochs


@pytest.mark.parametrize(
    "seed, fs, noise",
    [(0, 100.0, 0.01), (1, 100.0, 0.03), (2, 25.0, 0.005)],
)
def test_forced_nonwear_found_within_two_minutes(seed: int, fs: float, noise: float) -> None:
    cfg = NightConfig(
        hours=1.25, fs=fs, noise_g=noise, seed=seed,
        forced_confounders=(ForcedConfounder("nonwear", OFF_S, DUR_S),),
    )  # fmt: skip
    night = simulate_night(cfg)
    truth = night.truth[night.truth["kind"] == "nonwear"].iloc[0]
    assert truth["time"] == cfg.start + OFF_S and truth["end"] == cfg.start + OFF_S + DUR_S
    periods, _ = _track(_recording(night))
    assert len(periods) == 1
    (p,) = periods
    assert p.kind == NONWEAR
    assert abs(p.start - truth["time"]) <= 120.0
    assert abs(p.end - truth["end"]) <= 120.0
    jerks = night.truth[night.truth["kind"] == "jerk"]["time"].to_numpy()
    assert not ((jerks > truth["time"]) & (jerks < truth["end"])).any()


@pytest.mark.parametrize("seed", [3, 4, 5])
def test_worn_nights_have_no_nonwear(seed: int) -> None:
    night = simulate_night(NightConfig(hours=1.0, seed=seed))
    periods, epochs = _track(_recording(night), min_s=600.0)  # even 10 min: none
    assert periods == []
    # worn epochs show micro-motion well above the still limit
    assert np.median([e.excess_g / e.limit_g for e in epochs]) > 3.0


def test_quiet_worn_night_without_movement_or_jerks_is_worn() -> None:
    cfg = NightConfig(hours=1.0, seed=6, pattern="none", confounders=False, outage_per_hour=0)
    periods, epochs = _track(_recording(simulate_night(cfg)), min_s=300.0)
    assert periods == []
    assert sum(e.still for e in epochs) <= 1


def test_chunk_size_does_not_matter() -> None:
    cfg = NightConfig(
        hours=1.0, seed=7, fs=50.0, forced_confounders=(ForcedConfounder("nonwear", 600, 2000),)
    )
    rec = _recording(simulate_night(cfg))
    ref, _ = _track(rec)
    assert len(ref) == 1
    for chunk in (777, 3000, 10**6):
        assert _track(rec, chunk)[0] == ref


def test_short_gap_is_bridged_long_gap_ends_the_period() -> None:
    cfg = NightConfig(
        hours=1.5, seed=8, fs=50.0, outage_per_hour=0,
        forced_confounders=(ForcedConfounder("nonwear", 300, 4800),),
    )  # fmt: skip
    rec = _recording(simulate_night(cfg))
    acc = rec.acc.copy()
    i = int(2400 * rec.fs)
    acc[i : i + int(120 * rec.fs)] = np.nan  # a 2-min link outage while on the table
    periods, _ = _track(Recording(rec.t0, rec.fs, acc))
    assert len(periods) == 1 and periods[0].end - periods[0].start > 4500
    acc[i : i + int(600 * rec.fs)] = np.nan  # a 10-min outage splits it
    periods, _ = _track(Recording(rec.t0, rec.fs, acc))
    assert len(periods) == 2


def test_default_nights_draw_no_nonwear_and_random_nonwear_on_request() -> None:
    plain = simulate_night(NightConfig(hours=1.0, seed=1))
    assert "nonwear" not in set(plain.truth["kind"])
    on = simulate_night(NightConfig(hours=2.0, seed=1, nonwear_per_hour=2.0))
    spans = on.truth[on.truth["kind"] == "nonwear"]
    assert len(spans) >= 1
    assert ((spans["end"] - spans["time"]) >= 1800).all()


def test_params_are_validated() -> None:
    with pytest.raises(ValueError):
        NonWearParams(min_s=10.0)
    with pytest.raises(ValueError):
        NonWearParams(block_s=40.0)
    assert NonWearParams().as_dict()["min_s"] == 1800.0


def test_batched_judging_equals_one_epoch_at_a_time(monkeypatch: pytest.MonkeyPatch) -> None:
    """Epochs are judged an hour at a time, vectorised; judging each alone (batch of 1)
    gives the same verdicts and statistics, so the batching is only a speed-up."""
    cfg = NightConfig(
        hours=2.0, seed=8, fs=50.0, forced_confounders=(ForcedConfounder("nonwear", 900, 2400),)
    )
    rec = _recording(simulate_night(cfg))
    periods, epochs = _track(rec, 5000)
    monkeypatch.setattr(NonWearTracker, "JUDGE_BATCH", 1)
    periods_1, epochs_1 = _track(rec, 5000)
    assert periods_1 == periods and len(periods) == 1
    assert len(epochs) == len(epochs_1) > 100
    for a, b in zip(epochs, epochs_1, strict=True):
        assert (a.start, a.end, a.still) == (b.start, b.end, b.still)
        assert a.excess_g == pytest.approx(b.excess_g, rel=1e-12, abs=1e-15)
        assert a.limit_g == pytest.approx(b.limit_g, rel=1e-12, abs=1e-15)
        np.testing.assert_allclose(a.mean, b.mean, rtol=1e-12)


def test_a_period_spans_the_data_not_whole_minutes_past_it() -> None:
    """A table whose data end at 45.62 min (and resume after a long gap at 60.5 min,
    until 100.75 min): the periods end at the last sample and start at the first one
    after the gap. They ended at 46.0 min and started at 60.0 min, in time with no data."""
    fs, t0 = 50.0, 1_767_225_600.0
    rng = np.random.default_rng(4)
    n = int(100.75 * 60 * fs)
    acc = np.array([0.05, -0.1, 0.99]) + rng.normal(0.0, 0.005, (n, 3))
    acc[int(45.62 * 60 * fs) : int(60.5 * 60 * fs)] = np.nan  # no data: a long gap
    periods, _ = _track(Recording(t0, fs, acc))
    spans = [(round((p.start - t0) / 60.0, 4), round((p.end - t0) / 60.0, 4)) for p in periods]
    assert spans == [(0.0, 45.62), (60.5, 100.75)]
    assert all(p.kind == NONWEAR for p in periods)
