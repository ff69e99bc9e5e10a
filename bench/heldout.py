"""Held-out check: jerk shapes the simulator does not make, in real recordings.

The same still stretches of the SisFall recordings and the same jerk places as the
SisFall injection (:mod:`bench.sisfall_inject`: same seed, trials, sensors and
replicates), but the jerks take the shapes of :mod:`bench.heldout_shapes` (twitch,
plateau, triphasic, impact, swing), which no parameter was chosen on. Beside them, at
the same places, the simulator's own families: the difference is what the detector
owes to having been developed on those.

A second table does the same on simulated nights of condition A (50, 100 and 200 Hz,
confounders on): each night is simulated with its jerks and again without them (the
simulator's streams are separate, so the two differ by the jerks only), and each
held-out shape is added to the night without them at the true jerks' onsets, with
their sizes and durations, then quantised like the night's sensor.

Run alone: ``python -m bench --only heldout``.
"""

from __future__ import annotations

import logging
import tempfile
from dataclasses import dataclass, field, replace
from pathlib import Path

import numpy as np

from bench.accuracy import detect_via_csv
from bench.heldout_shapes import HELDOUT_FAMILIES, draw_heldout, render_heldout
from bench.pooling import PooledScore
from bench.report import Table, fmt, verdict
from bench.sisfall_inject import (
    JERK_MEDIANS_G,
    REPLICATES,
    SENSOR_NAMES,
    TARGET_F1,
    as_sensor,
    inject,
    place_onsets,
    placement_rng,
    quantise,
    still_intervals,
)
from pipeline.detector import DetectorParams, detect_recording
from pipeline.sisfall import find_trials, read_sisfall
from sim import NightConfig, simulate_night
from sim.sensor import quantisation_step

log = logging.getLogger(__name__)

#: The simulator's four families together, as the reference row.
SIM_FAMILIES = "simulator's families"
#: Shapes are drawn from this stream (per file, sensor, replicate and family), apart
#: from the placements' (which :func:`bench.sisfall_inject.placement_rng` gives).
SHAPE_SEED = 20261203


@dataclass
class FamilyRow:
    """Pooled score of one shape family at one jerk size, over both sensors."""

    family: str
    median_g: float
    score: PooledScore = field(default_factory=PooledScore)


def _shape_rng(fi: int, sensor: str, rep: int, family: str) -> np.random.Generator:
    k = HELDOUT_FAMILIES.index(family)
    return np.random.default_rng([SHAPE_SEED, fi, SENSOR_NAMES.index(sensor), rep, k])


def run_heldout(
    root: Path, params: DetectorParams | None = None, replicates: int = REPLICATES
) -> list[FamilyRow]:
    """Inject each family into every trial below ``root`` (both sensors, ``replicates``
    placements each), detect and score; one row per family and size."""
    params = params or DetectorParams()
    families = (*HELDOUT_FAMILIES, SIM_FAMILIES)
    rows = {(f, m): FamilyRow(f, m) for f in families for m in JERK_MEDIANS_G}
    longest = NightConfig().jerk_max_ms / 1000.0
    for fi, path in enumerate(find_trials(root)):
        for sensor in SENSOR_NAMES:
            rec = read_sisfall(path, sensor)
            intervals = still_intervals(rec)
            for rep in range(replicates):
                place = placement_rng(fi, sensor, rep)
                onsets = rec.t0 + place_onsets(intervals, longest, place)
                state = place.bit_generator.state  # the simulator's shapes follow on
                for median in JERK_MEDIANS_G:
                    for family in families:
                        if family == SIM_FAMILIES:
                            place.bit_generator.state = state
                            made = inject(rec, onsets, median, sensor, place)
                        else:
                            jerks = draw_heldout(
                                family, onsets, median, _shape_rng(fi, sensor, rep, family)
                            )
                            acc = rec.acc.copy()
                            render_heldout(rec.time, jerks, acc)
                            made = as_sensor(rec, acc, sensor, onsets.size)
                        det = detect_recording(made, params)
                        found = np.array([e.time for e in det.events])
                        rows[(family, median)].score.add(found, onsets)
        log.info("held-out shapes: %s done", path.name)
    return list(rows.values())


def heldout_table(rows: list[FamilyRow]) -> Table:
    """Pooled P/R/F1 and onset error per shape family and size."""
    table = Table(
        "Held-out jerk shapes injected into still stretches of the SisFall recordings",
        ["shape", "jerk median (g)", "injected", "TP", "FP", "FN", "precision", "recall",
         "F1", "median onset error (ms)", "onsets ≤ 100 ms", "target F1", "result"],
    )  # fmt: skip
    for r in rows:
        s = r.score
        table.add(
            [
                r.family,
                f"{r.median_g:g}",
                s.n_true,
                s.tp,
                s.fp,
                s.fn,
                s.precision,
                s.recall,
                s.f1,
                fmt(s.median_error_ms, 0),
                f"{100 * s.share_within_100ms:.0f} %" if s.errors_ms else "–",
                f"≥ {TARGET_F1:.2f}",
                verdict(s.f1 >= TARGET_F1),
            ]
        )
    table.caption = (
        "Shapes from `bench/heldout_shapes.py`, never used to choose a parameter: twitch "
        "(alpha function, peak at 15 % of the duration), plateau (flat top, 10 % ramps), "
        "triphasic (Ricker wavelet), impact (a step to the peak, then exponential decay), "
        "swing (half-sine magnitude, direction turning 90°); 20–300 ms, lognormal sizes as "
        "the simulator draws them. The places are those of the SisFall injection (same "
        "seed, both sensors, every trial, the same replicates); the last rows put the "
        "simulator's own families at the same places. Every detection counts; matching "
        "one-to-one within ±0.3 s of the shape's start."
    )
    return table


#: Simulated nights per rate for the second table (condition A, 1 hour, random).
NIGHT_SEEDS = (901, 902, 903)
NIGHT_RATES_HZ = (50.0, 100.0, 200.0)


@dataclass
class NightRow:
    """Pooled score of one shape family at one sample rate, over the simulated nights."""

    family: str
    fs: float
    score: PooledScore = field(default_factory=PooledScore)


def run_nights(
    params: DetectorParams | None = None, seeds: tuple[int, ...] = NIGHT_SEEDS
) -> list[NightRow]:
    """Held-out shapes (and the simulator's own) on simulated condition-A nights."""
    params = params or DetectorParams()
    families = (*HELDOUT_FAMILIES, SIM_FAMILIES)
    rows = {(f, fs): NightRow(f, fs) for fs in NIGHT_RATES_HZ for f in families}
    with tempfile.TemporaryDirectory(prefix="jerkcount-heldout-") as tmp:
        work = Path(tmp)
        for fs in NIGHT_RATES_HZ:
            for seed in seeds:
                cfg = NightConfig(
                    hours=1.0, fs=fs, pattern="random", seed=seed, noise_g=0.01,
                    jerk_median_g=0.5, confounders=True,
                )  # fmt: skip
                with_jerks = simulate_night(cfg)
                without = simulate_night(replace(cfg, pattern="none"))
                if not np.array_equal(with_jerks.time, without.time):
                    raise RuntimeError("simulator streams differ between pattern and 'none'")
                truth = with_jerks.jerks
                onsets = truth["time"].to_numpy()
                lsb, top = quantisation_step(cfg), cfg.range_g
                for k, family in enumerate(families):
                    if family == SIM_FAMILIES:
                        night = with_jerks
                    else:
                        drawn = draw_heldout(
                            family, onsets, cfg.jerk_median_g,
                            np.random.default_rng([SHAPE_SEED, int(fs), seed, k]),
                        )  # fmt: skip
                        jerks = replace(
                            drawn,
                            duration=truth["duration_ms"].to_numpy() / 1000.0,
                            amplitude=truth["peak_g"].to_numpy(),
                        )
                        acc = without.acc.copy()
                        render_heldout(without.time, jerks, acc)
                        night = replace(without, acc=quantise(acc, lsb, top))
                    found = detect_via_csv(night, work, params)
                    rows[(family, fs)].score.add(found, onsets)
                log.info("held-out shapes: %g Hz seed %d done", fs, seed)
    return list(rows.values())


def nights_table(rows: list[NightRow], n_nights: int) -> Table:
    """F1 (precision / recall) per shape family and sample rate on simulated nights."""
    rates = sorted({r.fs for r in rows})
    families = list(dict.fromkeys(r.family for r in rows))
    by = {(r.family, r.fs): r.score for r in rows}
    table = Table(
        "Held-out jerk shapes on simulated nights (condition A: noise 0.01 g, jerks median "
        "0.5 g, confounders on)",
        ["shape", *[f"F1 at {fs:g} Hz (P / R)" for fs in rates]],
    )
    for f in families:
        cells = []
        for fs in rates:
            s = by[(f, fs)]
            cells.append(f"{s.f1:.3f} ({s.precision:.3f} / {s.recall:.3f})")
        table.add([f, *cells])
    table.caption = (
        f"One-hour nights, {n_nights} per rate (random pattern), each simulated with its "
        "jerks and again without them; each held-out shape added at the true onsets with "
        "the true sizes and durations and quantised like the night's sensor, then written "
        "to canonical CSV and read by `detect_file`. The last row is the nights with the "
        "simulator's own jerks. Matching one-to-one within ±0.3 s."
    )
    return table


def run(
    root: Path,
    params: DetectorParams | None = None,
    replicates: int = REPLICATES,
    seeds: tuple[int, ...] = NIGHT_SEEDS,
) -> list[Table]:
    """The held-out tables: SisFall trials below ``root``, then simulated nights."""
    tables = [heldout_table(run_heldout(root, params, replicates))]
    tables.append(nights_table(run_nights(params, seeds), len(seeds)))
    return tables
