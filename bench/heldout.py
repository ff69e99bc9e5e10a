"""Held-out check: jerk shapes the simulator does not make, in real recordings.

The same still stretches of the SisFall recordings and the same jerk places as the
SisFall injection (:mod:`bench.sisfall_inject`: same seed, trials, sensors and
replicates), but the jerks take the shapes of :mod:`bench.heldout_shapes` (twitch,
plateau, triphasic, impact, swing), which no parameter was chosen on. Beside them, at
the same places, the simulator's own families: the difference is what the detector
owes to having been developed on those.

Run alone: ``python -m bench --only heldout``.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from bench.heldout_shapes import HELDOUT_FAMILIES, draw_heldout, render_heldout
from bench.pooling import PooledScore
from bench.report import Table, fmt, verdict
from bench.sisfall_inject import (
    JERK_MEDIANS_G,
    REPLICATES,
    SENSOR_NAMES,
    TARGET_F1,
    _rng,
    as_sensor,
    inject,
    place_onsets,
    still_intervals,
)
from pipeline.detector import DetectorParams, detect_recording
from pipeline.sisfall import find_trials, read_sisfall
from sim import NightConfig

log = logging.getLogger(__name__)

#: The simulator's four families together, as the reference row.
SIM_FAMILIES = "simulator's families"
#: Shapes are drawn from this stream (per file, sensor, replicate and family), apart
#: from the placements' (which :func:`bench.sisfall_inject._rng` gives).
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
                place = _rng(fi, sensor, rep)
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


def run(
    root: Path, params: DetectorParams | None = None, replicates: int = REPLICATES
) -> list[Table]:
    """The held-out table for the SisFall trials below ``root``."""
    return [heldout_table(run_heldout(root, params, replicates))]
