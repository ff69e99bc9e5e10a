"""Accuracy on simulated nights: F1 per sample rate, jerk pattern and condition.

Each night (1 hour, confounders on: walking, tremor, roll-over, restless) is written
to canonical CSV and read back by :func:`pipeline.detector.detect_file`, the path a
user's file takes (reader, resampling onto the grid, streaming detector). Detected
onsets are matched one-to-one to the true onsets within the scorer's default
tolerance; TP/FP/FN are pooled over the seeds of a cell before P/R/F1 are computed.

For condition B (small jerks in a noisy sensor) a second table gives the
detectability ceiling: the share of true jerks whose *sampled* peak (the jerk
waveform alone, at the night's actual sample instants, after dropped packets) is
below ``4 x noise_g``, and the share an ideal energy detector finds
(:func:`energy_margin`). Both are computed exactly by simulating the same night twice with
an ideal sensor (no noise, 32-bit, wide range), with and without jerks, and
subtracting: the simulator draws clock, confounders, body and sensor from separate
random streams, so the two differ by the jerks only. The same difference gives each
jerk's matched-filter signal-to-noise ratio (:func:`matched_snr`): the ceiling of any
detector, even one that knew each jerk's shape and direction.
"""

from __future__ import annotations

import collections
import itertools
import logging
import tempfile
from collections.abc import Iterator
from dataclasses import dataclass, field, replace
from pathlib import Path
from statistics import NormalDist

import numpy as np
import pandas as pd

from bench.pooling import PooledScore
from bench.report import Table, fmt, verdict
from pipeline.detector import DetectorParams, detect_file
from pipeline.energy import chi2_quantile, normal_tail
from pipeline.score import match_onsets
from pipeline.writer import write_samples_csv
from sim import NightConfig, SimulatedNight, simulate_night
from sim.waveforms import span_index

log = logging.getLogger(__name__)

RATES_HZ = (50.0, 100.0, 200.0)
PATTERNS = ("random", "periodic", "clustered")
HOURS = 1.0
#: A jerk whose sampled peak is below this many noise standard deviations is
#: taken as undetectable in principle (the detector's own threshold is ~4x background).
CEILING_K = 4.0
#: Recall is also reported for jerks at least this large (true peak, g).
SIZE_FLOOR_G = 0.1
#: Extra nights a cell may take when its nights hold no true jerk at all.
MAX_EXTRA_NIGHTS = 5
#: A false jerk this close (s) to a confounder's span is counted as that confounder's.
FALSE_CONTEXT_S = 5.0
#: False jerks an hour the matched-filter ceiling allows itself.
MATCHED_FALSE_PER_HOUR = 1.0
#: Shapes a matched filter that does not know the jerk's shape must try at each sample
#: (a bank: 3 families x 5 durations), each a test of its own.
MATCHED_BANK = 15


@dataclass(frozen=True)
class Condition:
    """One sensor/jerk-size setting and its F1 target."""

    name: str
    noise_g: float
    jerk_median_g: float
    target_f1: float
    ceiling: bool = False


CONDITIONS = (
    Condition("A", noise_g=0.01, jerk_median_g=0.5, target_f1=0.95),
    Condition("B", noise_g=0.02, jerk_median_g=0.2, target_f1=0.90, ceiling=True),
)


@dataclass
class Cell:
    """Pooled results of one (condition, rate, pattern) cell over its seeds.

    ``true_peak_g``/``sampled_peak_g``/``found`` have one entry per true jerk (the
    sampled peaks only when the condition asks for the ceiling).
    """

    condition: Condition
    fs: float
    pattern: str
    seeds: list[int]
    score: PooledScore = field(default_factory=PooledScore)
    true_peak_g: list[float] = field(default_factory=list)
    sampled_peak_g: list[float] = field(default_factory=list)
    energy_margin: list[float] = field(default_factory=list)
    matched_snr: list[float] = field(default_factory=list)
    found: list[bool] = field(default_factory=list)
    false_by_kind: collections.Counter[str] = field(default_factory=collections.Counter)


def cell_seeds(fs_index: int, pattern_index: int) -> Iterator[int]:
    """Distinct, fixed seeds for a cell (so nights differ across cells, not only patterns)."""
    base = 1 + 100 * fs_index + 10 * pattern_index
    return itertools.count(base)


def night_config(cond: Condition, fs: float, pattern: str, seed: int) -> NightConfig:
    """The simulated night of one cell and seed (confounders on, defaults otherwise)."""
    return NightConfig(
        hours=HOURS,
        fs=fs,
        pattern=pattern,
        seed=seed,
        noise_g=cond.noise_g,
        jerk_median_g=cond.jerk_median_g,
        confounders=True,
    )


def detect_via_csv(night: SimulatedNight, workdir: Path, params: DetectorParams) -> np.ndarray:
    """Write ``night`` as canonical CSV, run :func:`detect_file`; onsets (epoch s)."""
    path = workdir / f"night_{night.config.fs:g}hz_{night.config.seed}.csv"
    write_samples_csv(path, night.time, night.acc, night.metadata())
    try:
        detection = detect_file(path, params)
    finally:
        path.unlink(missing_ok=True)
    return np.array([e.time for e in detection.events], dtype=np.float64)


def false_kinds(detected: np.ndarray, truth: pd.DataFrame, tolerance_s: float) -> list[str]:
    """Where each false detection lies: the kind of the first confounder (truth rows
    whose ``kind`` is not ``jerk``, spans ``time``..``end`` epoch s) within
    :data:`FALSE_CONTEXT_S` of it, else ``"elsewhere"``; one entry per detection of
    ``detected`` (onsets, epoch s) that no true jerk matches."""
    jerks = truth[truth["kind"] == "jerk"]["time"].to_numpy()
    conf = truth[truth["kind"] != "jerk"]
    matched = {i for i, _ in match_onsets(detected, jerks, tolerance_s)}
    start = conf["time"].to_numpy() - FALSE_CONTEXT_S
    end = conf["end"].to_numpy() + FALSE_CONTEXT_S
    kinds = conf["kind"].to_numpy()
    out = []
    for i, t in enumerate(detected):
        if i in matched:
            continue
        near = np.flatnonzero((start <= t) & (t <= end))
        out.append(str(kinds[near[0]]) if near.size else "elsewhere")
    return out


def false_summary(counts: collections.Counter[str]) -> str:
    """``"restless 14, elsewhere 2"``: false jerks by where they lie, most first; ``–``
    without any."""
    return ", ".join(f"{k} {n}" for k, n in counts.most_common()) or "–"


def energy_margin(e2: np.ndarray, noise_g: float, z: float) -> float:
    """How far the jerk waveform alone clears an ideal energy detector: the largest,
    over windows of every length ``L`` inside the jerk, of its energy over the window
    (``e2`` (m,), g² per sample) divided by what white noise of ``noise_g`` per axis
    needs to add to its mean to exceed the chi-squared quantile at ``z``. At 1 such a
    detector finds the jerk half the time; nothing that does not know the waveform
    does better at the same false-alarm rate."""
    if e2.size == 0:
        return 0.0
    tail = normal_tail(z)
    c = np.concatenate(([0.0], np.cumsum(e2)))
    best = 0.0
    for n in range(1, e2.size + 1):
        need = (chi2_quantile(3 * n, tail) - 3 * n) * noise_g**2
        best = max(best, float((c[n:] - c[:-n]).max()) / need)
    return best


def matched_snr(e2: np.ndarray, noise_g: float) -> float:
    """The output signal-to-noise ratio of a matched filter for the jerk waveform whose
    energy per sample is ``e2`` (m,) (g², three axes) in white noise of ``noise_g`` per
    axis: the waveform's norm over the noise's std, ``sqrt(sum e2) / noise_g``. A filter
    that knows the waveform (shape and direction) sees the jerk as a normal of this mean
    and unit variance; no detector does better (Neyman-Pearson)."""
    return float(np.sqrt(e2.sum())) / noise_g if e2.size else 0.0


def matched_threshold(fs: float, tests_per_sample: int = 1, false_per_hour: float = 1.0) -> float:
    """The threshold (noise stds) at which a matched filter tested ``tests_per_sample``
    times at every sample of ``fs`` Hz (it does not know when a jerk comes) has
    ``false_per_hour`` false alarms an hour in white noise."""
    tail = false_per_hour / (fs * 3600.0 * tests_per_sample)
    return NormalDist().inv_cdf(1.0 - tail)


def matched_recall(snr: np.ndarray, z: float) -> float:
    """The expected share of jerks of matched-filter ``snr`` (one per jerk) that pass
    threshold ``z``: the mean of ``Phi(snr - z)``; NaN without jerks."""
    if snr.size == 0:
        return float("nan")
    cdf = NormalDist().cdf
    return float(np.mean([cdf(s - z) for s in snr]))


def expected_f1(recall: float, jerks_per_hour: float, false_per_hour: float = 1.0) -> float:
    """F1 of a detector finding ``recall`` of ``jerks_per_hour`` true jerks with
    ``false_per_hour`` false ones an hour."""
    tp = recall * jerks_per_hour
    fn = jerks_per_hour - tp
    return 2.0 * tp / (2.0 * tp + false_per_hour + fn)


def matched_best_f1(
    snr: np.ndarray, fs: float, jerks_per_hour: float, tests_per_sample: int = 1
) -> float:
    """The matched filter's best expected F1 over its false-alarm rate (0.05 to 50 false
    jerks an hour): fewer false jerks cost recall, more cost precision."""
    best = 0.0
    for false in np.geomspace(0.05, 50.0, 61):
        z = matched_threshold(fs, tests_per_sample, float(false))
        f1 = expected_f1(matched_recall(snr, z), jerks_per_hour, float(false))
        best = max(best, f1)
    return best


def sampled_peaks(
    cfg: NightConfig, z: float
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Sampled peak (g) of every jerk of ``cfg``'s night, waveform alone; true onsets;
    each jerk's :func:`energy_margin` at ``z``; and its :func:`matched_snr`.

    Simulates the night with an ideal sensor with and without jerks; the difference
    is the jerk waveform at the sample instants that reached the host.
    """
    ideal = replace(cfg, noise_g=0.0, bits=32, range_g=64.0)
    with_jerks = simulate_night(ideal)
    without = simulate_night(replace(ideal, pattern="none"))
    if not np.array_equal(with_jerks.time, without.time):
        raise RuntimeError("simulator streams differ between pattern and pattern='none'")
    e2 = ((with_jerks.acc - without.acc) ** 2).sum(axis=1)
    diff = np.sqrt(e2)
    t = with_jerks.time
    jerks = with_jerks.jerks
    onset = jerks["time"].to_numpy()
    end = jerks["end"].to_numpy()
    idx, owner = span_index(t, onset, end)
    peak = np.zeros(onset.size)
    np.maximum.at(peak, owner, diff[idx])
    i0 = np.searchsorted(t, onset, side="left")
    i1 = np.searchsorted(t, end, side="right")
    spans = list(zip(i0, i1, strict=True))
    margin = np.array([energy_margin(e2[a:b], cfg.noise_g, z) for a, b in spans])
    snr = np.array([matched_snr(e2[a:b], cfg.noise_g) for a, b in spans])
    return peak, onset, margin, snr


def run_cell(
    cond: Condition,
    fs: float,
    pattern: str,
    seeds: Iterator[int],
    n_nights: int,
    workdir: Path,
    params: DetectorParams,
) -> Cell:
    """Simulate, detect and score ``n_nights`` nights of one cell.

    When those nights hold no true jerk at all (the periodic pattern can give an empty
    hour), further seeds are added, up to ``MAX_EXTRA_NIGHTS``, until one does; the
    empty nights still count (their detections are false positives).
    """
    cell = Cell(cond, fs, pattern, [])
    while len(cell.seeds) < n_nights or (
        cell.score.n_true == 0 and len(cell.seeds) < n_nights + MAX_EXTRA_NIGHTS
    ):
        seed = next(seeds)
        cell.seeds.append(seed)
        cfg = night_config(cond, fs, pattern, seed)
        night = simulate_night(cfg)
        truth = night.jerks
        onsets = truth["time"].to_numpy()
        detected = detect_via_csv(night, workdir, params)
        found = cell.score.add(detected, onsets)
        cell.false_by_kind.update(false_kinds(detected, night.truth, cell.score.tolerance_s))
        cell.true_peak_g += truth["peak_g"].tolist()
        cell.found += found.tolist()
        if cond.ceiling:
            peak, ideal_onsets, margin, snr = sampled_peaks(cfg, params.energy_z or 5.0)
            if not np.allclose(ideal_onsets, onsets):
                raise RuntimeError("jerk truth differs between the real and the ideal sensor")
            cell.sampled_peak_g += peak.tolist()
            cell.energy_margin += margin.tolist()
            cell.matched_snr += snr.tolist()
        log.info("%s %g Hz %s seed %d: %d jerks", cond.name, fs, pattern, seed, onsets.size)
    return cell


def run_cells(n_seeds: int, params: DetectorParams) -> list[Cell]:
    """All cells: every condition x rate x pattern, ``n_seeds`` nights each."""
    cells = []
    with tempfile.TemporaryDirectory(prefix="jerkcount-bench-") as tmp:
        for cond in CONDITIONS:
            for fi, fs in enumerate(RATES_HZ):
                for pi, pattern in enumerate(PATTERNS):
                    seeds = cell_seeds(fi, pi)
                    cell = run_cell(cond, fs, pattern, seeds, n_seeds, Path(tmp), params)
                    cells.append(cell)
    return cells


def f1_table(cells: list[Cell]) -> Table:
    """The main table: pooled P/R/F1 and onset error per cell, with target and verdict."""
    table = Table(
        "Accuracy on simulated 1-hour nights (confounders on)",
        [
            "condition",
            "fs (Hz)",
            "pattern",
            "nights",
            "true jerks",
            "detected",
            "precision",
            "recall",
            "F1",
            "median onset error (ms)",
            "onsets ≤ 100 ms",
            "false jerks: where",
            "target F1",
            "result",
        ],
    )
    for c in cells:
        s = c.score
        ok = s.f1 >= c.condition.target_f1
        table.add(
            [
                f"{c.condition.name}: noise {c.condition.noise_g:g} g, "
                f"jerks median {c.condition.jerk_median_g:g} g",
                f"{c.fs:g}",
                c.pattern,
                s.recordings,
                s.n_true,
                s.n_detected,
                s.precision,
                s.recall,
                s.f1,
                fmt(s.median_error_ms, 0),
                fmt(100.0 * s.share_within_100ms, 0) + " %",
                false_summary(c.false_by_kind),
                f"≥ {c.condition.target_f1:.2f}",
                verdict(ok),
            ]
        )
    n_nights = min(len(c.seeds) for c in cells)
    table.caption = (
        f"Each cell pools the nights of its *nights* column ({n_nights} fixed seeds each, "
        "the same seeds for A and B): TP, FP and FN are summed over the nights before "
        "precision, recall and F1 are computed. The simulator's periodic pattern gives an "
        "hour with no jerk about one time in four; a cell whose nights hold no jerk at all "
        "takes further seeds until one does (the empty "
        "nights still count: their detections are false positives). "
        "Nights carry walking, tremor, roll-over and restless confounders, sample-clock "
        "jitter, dropped packets and link outages; each is written to canonical CSV and "
        "run through `detect_file`. Matching is one-to-one within ±0.3 s; onset error is "
        "|detected − true| over matched pairs. A false jerk within "
        f"{FALSE_CONTEXT_S:g} s of a confounder's span is counted as that confounder's "
        "(walking, tremor, rollover, restless), else as elsewhere."
    )
    return table


def ceiling_table(cells: list[Cell], z: float) -> Table:
    """Condition B: how many jerks are detectable at all, and recall on the larger ones."""
    table = Table(
        "Condition B: detectability ceiling",
        [
            "fs (Hz)",
            "pattern",
            "true jerks",
            f"sampled peak < {CEILING_K:g}×noise",
            "recall (all)",
            f"recall (sampled peak ≥ {CEILING_K:g}×noise)",
            f"recall (true peak ≥ {SIZE_FLOOR_G:g} g)",
            f"ideal energy detector at z {z:g}: share found",
            "recall (jerks it finds)",
            f"matched filter: expected recall at {MATCHED_FALSE_PER_HOUR:g} false/h",
            "its best F1",
            f"best F1, {MATCHED_BANK} shapes",
        ],
    )
    for c in (c for c in cells if c.condition.ceiling):
        limit = CEILING_K * c.condition.noise_g
        found = np.asarray(c.found, dtype=bool)
        sampled = np.asarray(c.sampled_peak_g)
        true_peak = np.asarray(c.true_peak_g)
        ideal = np.asarray(c.energy_margin) >= 1.0
        snr = np.asarray(c.matched_snr)
        per_hour = found.size / (len(c.seeds) * HOURS)
        oracle = matched_recall(snr, matched_threshold(c.fs, 1, MATCHED_FALSE_PER_HOUR))
        table.add(
            [
                f"{c.fs:g}",
                c.pattern,
                found.size,
                fmt(100.0 * _mean(sampled < limit), 1) + " %",
                c.score.recall,
                _mean(found[sampled >= limit]),
                _mean(found[true_peak >= SIZE_FLOOR_G]),
                _mean(ideal),
                _mean(found[ideal]),
                oracle,
                matched_best_f1(snr, c.fs, per_hour),
                matched_best_f1(snr, c.fs, per_hour, MATCHED_BANK),
            ]
        )
    cond = next(c.condition for c in cells if c.condition.ceiling)
    table.caption = (
        f"Condition B (noise {cond.noise_g:g} g, jerk sizes lognormal with median "
        f"{cond.jerk_median_g:g} g, clipped at 0.05 g). The sampled peak is the largest "
        "vector magnitude of the jerk waveform alone at the samples that reached the host "
        "(exact: the same night simulated with an ideal sensor, with and without jerks, "
        f"subtracted). Jerks below {CEILING_K:g}× the noise std "
        f"({CEILING_K * cond.noise_g:g} g) are at or under any sensible single-sample "
        "threshold: out of a peak trigger's reach. The ideal energy detector knows "
        "where each jerk lies and the noise exactly, and finds a jerk when the "
        "waveform's energy over its best window inside the jerk reaches what white "
        "noise over a window that long must add to its mean to pass the chi-squared "
        "quantile the energy trigger uses (there it finds the jerk half the time): its "
        "share is an upper bound for any energy detector at the trigger's false-alarm "
        "rate per window. Only a detector that knew each jerk's shape and direction "
        "(a matched filter) could do better: the last three columns are that ceiling. "
        "Its expected recall is the mean over the jerks of Phi(d - z), d the waveform's "
        "norm over the noise std, z the threshold at which a filter tested at every "
        f"sample has {MATCHED_FALSE_PER_HOUR:g} false jerk an hour in the sensor's white "
        "noise; its best F1 is the highest over false-alarm rates of 0.05 to 50 an hour "
        "(those false jerks against the cell's true jerks an hour). The last column is "
        f"the same filter not knowing the shape: {MATCHED_BANK} shapes tried at every "
        "sample, so a higher threshold (direction still known). At a given false-alarm "
        "rate no detector finds more than the matched filter (Neyman-Pearson), and this "
        "one is spared the confounders, so its best F1 bounds that of any detector that "
        "judges each jerk on its own (not by when the others came)."
    )
    return table


def _mean(mask: np.ndarray) -> float:
    """Mean of a bool array as a float; NaN when empty."""
    return float(np.mean(mask)) if mask.size else float("nan")


def run(n_seeds: int = 3, params: DetectorParams | None = None) -> list[Table]:
    """Run the accuracy benchmark; returns its tables."""
    cells = run_cells(n_seeds, params or DetectorParams())
    params = params or DetectorParams()
    return [f1_table(cells), ceiling_table(cells, params.energy_z or 5.0)]
