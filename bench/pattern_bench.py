"""Benchmark of the pattern label on the simulator's nights.

``python -m bench.pattern_bench [--nights N] [--quick] [--sweep] [--seed S]`` prints
markdown tables:

1. Label accuracy per simulated pattern (random, periodic, clustered) x rate drift
   (end rate / start rate: 1, 2, 3 and 0.5) on nights of 4-8 h (uniform) with a rate
   log-uniform in 10-120 jerks/h and at least 30 jerks (a night with fewer is
   redrawn with the next seed), confounders on. The analysis sees the simulator's
   true jerk onsets, so this measures the analysis, not the detector.
2. ``--sweep``: accuracy by jerk count in shorter windows, the evidence behind
   ``PatternParams.min_events``.
3. A mixed night (3 h random, 3 h periodic, 3 h clustered, concatenated) labelled
   per hour by :func:`pipeline.pattern.segment_patterns`.

Onsets come from :func:`truth_onsets`, which runs exactly the first steps of
:func:`sim.simulate_night` (same random streams, clock outages, confounders, free
time, :func:`sim.timing.generate_onsets`): the same onsets as the night's truth,
without rendering the accelerometer signal.
"""

from __future__ import annotations

import argparse
import logging
import time
from collections import Counter

import numpy as np

from pipeline.pattern import PatternParams, analyse_pattern, segment_patterns
from sim import NightConfig
from sim.confounders import plan_confounders
from sim.night import _free_time
from sim.sensor import sample_clock
from sim.timing import generate_onsets

log = logging.getLogger(__name__)

PATTERNS = ("random", "periodic", "clustered")
DRIFTS = (1.0, 2.0, 3.0, 0.5)
TARGET = 0.95
#: Simulator sample rate for the bench nights (only the sensor clock depends on it).
FS = 25.0


def truth_onsets(cfg: NightConfig) -> np.ndarray:
    """The true jerk onsets (epoch s) of ``simulate_night(cfg)``, without the signal."""
    streams = [np.random.default_rng(s) for s in np.random.SeedSequence(cfg.seed).spawn(6)]
    r_clock, r_conf, r_timing = streams[:3]
    clock = sample_clock(cfg, r_clock)
    _, confs = plan_confounders(cfg, r_conf)
    free = _free_time(cfg, confs, clock.outages)
    return cfg.start + generate_onsets(cfg, r_timing, free).time


def draw_night(
    pattern: str, drift: float, seed: int, min_jerks: int = 30
) -> tuple[NightConfig, np.ndarray]:
    """A 4-8 h night of ``pattern`` with ≥ ``min_jerks`` jerks (redrawn with seed+1e6 k)."""
    for k in range(1000):
        s = seed + 1_000_000 * k
        rng = np.random.default_rng([s, 7])
        hours = float(rng.uniform(4.0, 8.0))
        rate = float(np.exp(rng.uniform(np.log(10.0), np.log(120.0))))
        cfg = NightConfig(
            hours=hours, fs=FS, pattern=pattern, rate_per_hour=rate, rate_drift=drift, seed=s
        )
        t = truth_onsets(cfg)
        if t.size >= min_jerks:
            return cfg, t
    raise RuntimeError("could not draw a night with enough jerks")


def _md(title: str, columns: list[str], rows: list[list[str]], caption: str = "") -> str:
    lines = [f"### {title}", "", "| " + " | ".join(columns) + " |"]
    lines.append("|" + "|".join(" --- " for _ in columns) + "|")
    lines += ["| " + " | ".join(r) + " |" for r in rows]
    if caption:
        lines += ["", caption]
    return "\n".join(lines) + "\n"


def accuracy_table(nights: int, params: PatternParams, seed: int) -> tuple[str, bool]:
    """Markdown table of label accuracy per pattern x drift, and whether all meet 95 %."""
    rows, ok_all = [], True
    per_pattern: dict[str, list[int]] = {p: [0, 0] for p in PATTERNS}
    for pattern in PATTERNS:
        for drift in DRIFTS:
            labels: Counter[str] = Counter()
            counts = []
            for i in range(nights):
                cfg, t = draw_night(pattern, drift, seed + i)
                r = analyse_pattern(t, cfg.start, cfg.start + cfg.duration_s, params)
                labels[r.label] += 1
                counts.append(r.n)
            right = labels[pattern]
            per_pattern[pattern][0] += right
            per_pattern[pattern][1] += nights
            acc = right / nights
            ok_all &= acc >= TARGET
            wrong = ", ".join(f"{k} {v}" for k, v in sorted(labels.items()) if k != pattern)
            rows.append(
                [
                    pattern,
                    f"{drift:g}",
                    str(nights),
                    f"{int(np.min(counts))}-{int(np.median(counts))}-{int(np.max(counts))}",
                    f"{acc:.1%}",
                    wrong or "-",
                    "pass" if acc >= TARGET else "FAIL",
                ]
            )
    for pattern in PATTERNS:
        r, n = per_pattern[pattern]
        rows.append([f"**{pattern} (all drifts)**", "", str(n), "", f"**{r / n:.1%}**", "", ""])
    caption = (
        "Nights of 4-8 h, rate log-uniform 10-120 jerks/h, >= 30 jerks, confounders on; "
        "true onsets of the simulator. jerks = min-median-max per night. drift = rate at "
        f"the end / rate at the start; each drift row reuses the seeds (hours, rate) of the "
        f"others. Target: >= {TARGET:.0%} right per pattern."
    )
    cols = ["pattern", "drift", "nights", "jerks", "right", "wrong labels", "target"]
    return _md("Pattern label on simulated nights", cols, rows, caption), ok_all


BUCKETS = ((4, 7), (8, 11), (12, 15), (16, 19), (20, 24), (25, 29), (30, 40))


def sweep_table(windows: int, seed: int) -> str:
    """Accuracy by jerk count: windows of 0.5-8 h with about 4-40 jerks, any label allowed.

    ``min_events`` is set to 3 so every window gets a real label.
    """
    params = PatternParams(min_events=3)
    hits = {(p, b): [0, 0] for p in PATTERNS for b in BUCKETS}
    for pattern in PATTERNS:
        for i in range(windows):
            rng = np.random.default_rng([seed + i, 11])
            hours = float(rng.uniform(0.5, 8.0))
            target = float(rng.uniform(4, 40))
            drift = float(rng.choice([1.0, 2.0, 3.0]))
            cfg = NightConfig(
                hours=hours,
                fs=FS,
                pattern=pattern,
                rate_per_hour=target / hours,
                rate_drift=drift,
                seed=seed + 10_000 + i,
            )
            t = truth_onsets(cfg)
            b = next((b for b in BUCKETS if b[0] <= t.size <= b[1]), None)
            if b is None:
                continue
            r = analyse_pattern(t, cfg.start, cfg.start + cfg.duration_s, params)
            hits[(pattern, b)][0] += r.label == pattern
            hits[(pattern, b)][1] += 1
    rows = []
    for b in BUCKETS:
        cells = [f"{b[0]}-{b[1]}"]
        for pattern in PATTERNS:
            h, n = hits[(pattern, b)]
            cells.append(f"{h / n:.0%} ({n})" if n else "-")
        rows.append(cells)
    caption = (
        "Windows of 0.5-8 h, drift 1-3, label forced (min_events=3); cells: share right "
        "(windows). Periodic windows with few jerks often hold one partial train."
    )
    return _md("Label accuracy by jerk count", ["jerks", *PATTERNS], rows, caption)


def mixed_night(params: PatternParams, seed: int) -> str:
    """Markdown table: per-hour labels of a 9 h night made of three 3 h simulated parts."""
    parts, onsets = [], []
    t0 = None
    for k, pattern in enumerate(PATTERNS):
        cfg = NightConfig(
            hours=3.0, fs=FS, pattern=pattern, rate_per_hour=60.0, rate_drift=1.5, seed=seed + k
        )
        t = truth_onsets(cfg) - cfg.start
        onsets.append(t + 3 * 3600.0 * k)
        parts += [pattern] * 3
        t0 = cfg.start
    assert t0 is not None
    x = t0 + np.concatenate(onsets)
    res = segment_patterns(x, t0, t0 + 9 * 3600.0, params)
    rows = []
    for h, (truth, r) in enumerate(zip(parts, res, strict=True)):
        p = "-" if r.p_value is None else f"{r.p_value:.3g}"
        per = "-" if r.period_s is None else f"{r.period_s:.1f}"
        rows.append(
            [
                f"{h}-{h + 1}",
                truth,
                r.label,
                str(r.n),
                f"{r.lv:.2f}",
                per,
                p,
                "ok" if r.label == truth else ("too few" if r.label == "insufficient" else "WRONG"),
            ]
        )
    whole = analyse_pattern(x, t0, t0 + 9 * 3600.0, params)
    caption = (
        "3 h random, 3 h periodic, 3 h clustered (60 jerks/h, drift 1.5 within each part), "
        f"true onsets concatenated. Whole night: {whole.label} ({whole.why})."
    )
    cols = ["hour", "simulated", "label", "jerks", "LV", "period s", "p", ""]
    return _md("Mixed night, per hour", cols, rows, caption)


def main(argv: list[str] | None = None) -> int:
    """Run the benchmark and print markdown tables; exit 1 if a target is missed."""
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--nights", type=int, default=40, help="nights per pattern x drift")
    ap.add_argument("--quick", action="store_true", help="10 nights per cell")
    ap.add_argument("--sweep", action="store_true", help="also the accuracy-by-count sweep")
    ap.add_argument("--seed", type=int, default=1, help="first night seed")
    a = ap.parse_args(argv)
    logging.basicConfig(level=logging.WARNING)
    nights = 10 if a.quick else a.nights
    params = PatternParams()
    t = time.perf_counter()
    table, ok = accuracy_table(nights, params, a.seed)
    print(table)
    if a.sweep:
        print(sweep_table(150 if a.quick else 600, a.seed))
    print(mixed_night(params, a.seed))
    print(f"params: {params.as_dict()}")
    print(f"elapsed {time.perf_counter() - t:.1f} s; targets {'met' if ok else 'MISSED'}")
    return 0 if ok else 1


if __name__ == "__main__":
    raise SystemExit(main())
