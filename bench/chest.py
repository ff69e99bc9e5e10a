"""A chest strap sees the heart: false jerks and F1 with a seismocardiogram in the data.

A sensor on the chest (the Polar H10) picks up the heart's own motion, a complex of
~80 ms every beat (:class:`sim.body.Heartbeat`), tens of mg on a still sleeper.
Nights of a quiet board (0.005 g) with beats of ``heartbeat_g``: without jerks (every
detection is false) and with random jerks (60 an hour, the accuracy bench's sizes),
written as canonical CSV and detected as a user's file is. The detector runs with the
given parameters and beside them with the pulse level off (``pulse_s`` 0), the
detector before the rule.
"""

from __future__ import annotations

import tempfile
from dataclasses import replace
from pathlib import Path

from bench.accuracy import detect_via_csv
from bench.pooling import PooledScore
from bench.report import Table
from pipeline.detector import DetectorParams
from sim import NightConfig, simulate_night

RATES_HZ = (50.0, 100.0, 200.0)
BEATS_G = (0.03, 0.05, 0.1, 0.2)
NOISE_G = 0.005
RATE_PER_HOUR = 60.0
SEEDS = (1, 2)


def night(fs: float, beat_g: float, pattern: str, seed: int, hours: float) -> NightConfig:
    """One chest-strap night: no confounders (the beats are the confounder)."""
    return NightConfig(
        hours=hours, fs=fs, pattern=pattern, rate_per_hour=RATE_PER_HOUR, seed=seed,
        noise_g=NOISE_G, heartbeat_g=beat_g, confounders=False,
    )  # fmt: skip


def run(params: DetectorParams | None = None, quick: bool = False) -> list[Table]:
    """The chest-strap table: per rate and beat size, false jerks/h and F1, rule on/off."""
    params = params or DetectorParams()
    off = replace(params, pulse_s=0.0)
    hours = 0.25 if quick else 1.0
    seeds = SEEDS[:1] if quick else SEEDS
    table = Table(
        "A chest strap: the heartbeat (seismocardiogram) under the jerks",
        ["fs (Hz)", "beat (g)", "hours", "false jerks/h, no jerks", "the same, pulse off",
         "F1 with jerks", "the same, pulse off"],
    )  # fmt: skip
    with tempfile.TemporaryDirectory() as tmp:
        work = Path(tmp)
        for fs in RATES_HZ:
            for beat in BEATS_G:
                false_on = false_off = 0
                scores = {"on": PooledScore(), "off": PooledScore()}
                for seed in seeds:
                    still = simulate_night(night(fs, beat, "none", seed, hours))
                    false_on += detect_via_csv(still, work, params).size
                    false_off += detect_via_csv(still, work, off).size
                    jerky = simulate_night(night(fs, beat, "random", seed, hours))
                    truth = jerky.jerks["time"].to_numpy()
                    for name, p in (("on", params), ("off", off)):
                        scores[name].add(detect_via_csv(jerky, work, p), truth)
                total_h = hours * len(seeds)
                table.add([f"{fs:g}", f"{beat:g}", f"{total_h:g}",
                           f"{false_on / total_h:.1f}", f"{false_off / total_h:.1f}",
                           f"{scores['on'].f1:.3f}", f"{scores['off'].f1:.3f}"])  # fmt: skip
    table.caption = (
        f"Beats at 50-75 bpm, {NOISE_G:g} g of sensor noise, no movement; jerks "
        f"{RATE_PER_HOUR:g} an hour at random, median 0.5 g. Without the pulse level a "
        "beat that now and then reaches the trigger is a jerk, and one that reaches it "
        "every time makes the night rhythmic movement, hiding every jerk in it. With it "
        "a jerk must reach twice the beats' level (see pipeline/pulse.py)."
    )
    return [table]
