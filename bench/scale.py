"""Scaling: time and peak memory of ``jerkcount detect`` on 1-day and 7-day files.

The long files repeat the cached 8-hour 100 Hz night end to end (times shifted by 8 h
per copy), written once as canonical CSV into the output folder (~0.36 GB a day); the
7-day file also as Parquet (its memory must not grow with length either).
Each measurement is a fresh ``jerkcount detect`` process; wall time and the child's
own peak resident memory come from :func:`bench.speed.run_child`. Goals: peak memory
≤ 1 GB whatever the length, time linear in length. (Parquet against CSV is measured
side by side in :mod:`bench.speed`.)
"""

from __future__ import annotations

import logging
import statistics
from pathlib import Path

import pandas as pd

from bench.report import Table, fmt, verdict
from bench.speed import HOURS, cached_night, jerkcount_command, run_child
from pipeline.formats.parquet import write_samples_parquet
from pipeline.reader import read_recording

log = logging.getLogger(__name__)

REPEATS = 3
MEMORY_GOAL_MB = 1024.0


def long_file(out: Path, night: Path, days: int) -> Path:
    """A canonical CSV of ``days`` days: the 8-hour night repeated (cached)."""
    path = out / f"speed_long_{days}d.csv"
    if path.exists():
        return path
    frame = pd.read_csv(night, comment="#")
    copies = int(round(days * 24 / HOURS))
    tmp = path.with_name(path.name + ".tmp")
    with open(tmp, "w", encoding="utf-8", newline="") as fh:
        fh.write(f"# device: jerkcount-bench\n# days: {days}\n")
        fh.write("time,ax,ay,az\n")
        for k in range(copies):
            block = frame.copy()
            block["time"] = block["time"] + k * HOURS * 3600.0
            block.to_csv(fh, header=False, index=False, float_format="%.5f")
            log.info("%s: %d/%d copies", path.name, k + 1, copies)
    tmp.replace(path)
    return path


def long_parquet(out: Path, csv: Path, days: int) -> Path:
    """The ``days``-day CSV as canonical Parquet (cached; needs the samples in memory once)."""
    path = out / f"speed_long_{days}d.parquet"
    if not path.exists():
        rec = read_recording(csv)
        write_samples_parquet(path, rec.time, rec.acc, rec.metadata)
    return path


def detect_runs(path: Path, out: Path, repeats: int) -> tuple[float, float]:
    """Median wall time (s) and largest peak memory (MB) of ``jerkcount detect path``."""
    walls, peaks = [], []
    for k in range(repeats):
        cmd = jerkcount_command() + ["detect", str(path), "--out", str(out / f"scale_{k}.csv")]
        wall, rss = run_child(cmd, out / "scale_child.log")
        walls.append(wall)
        peaks.append(rss)
    return statistics.median(walls), max(peaks)


def run(out: Path, repeats: int = REPEATS) -> list[Table]:
    """Measure and return the scaling table."""
    out.mkdir(parents=True, exist_ok=True)
    night = cached_night(out)
    scale = Table(
        "Scaling: `jerkcount detect` on long 100 Hz files (one process each)",
        [
            "file",
            "samples (M)",
            "size (GB)",
            "median wall (s)",
            "s per day",
            "peak memory (MB)",
            "memory goal",
        ],  # fmt: skip
    )
    per_day = {}
    for days in (1, 7):
        path = long_file(out, night, days)
        wall, peak = detect_runs(path, out, 1 if days == 7 else repeats)
        per_day[days] = wall / days
        scale.rows.append([
            f"{days} day(s), CSV", fmt(days * 24 * 3600 * 100 / 1e6, 1),
            fmt(path.stat().st_size / 1e9, 2), fmt(wall, 1), fmt(wall / days, 1), fmt(peak, 0),
            verdict(peak <= MEMORY_GOAL_MB),
        ])  # fmt: skip
    parquet = long_parquet(out, long_file(out, night, 7), 7)
    wall, peak = detect_runs(parquet, out, 1)
    scale.rows.append([
        "7 days, Parquet", fmt(7 * 24 * 3600 * 100 / 1e6, 1),
        fmt(parquet.stat().st_size / 1e9, 2), fmt(wall, 1), fmt(wall / 7, 1), fmt(peak, 0),
        verdict(peak <= MEMORY_GOAL_MB),
    ])  # fmt: skip
    scale.caption = (
        f"Time per day, 7-day file / 1-day file: {per_day[7] / per_day[1]:.2f} "
        "(1.0 = linear). Peak memory is the process's maximum resident set size."
    )
    return [scale]


def main() -> None:
    """``python -m bench.scale [--out DIR]``: print the scaling and Parquet tables."""
    import argparse

    from bench import DEFAULT_OUT

    p = argparse.ArgumentParser(prog="python -m bench.scale", description=__doc__)
    p.add_argument("--out", type=Path, default=DEFAULT_OUT, help="output folder (cache)")
    p.add_argument("--repeats", type=int, default=REPEATS, help="runs per measurement")
    args = p.parse_args()
    logging.basicConfig(level=logging.INFO, format="bench: %(message)s")
    tables = run(args.out, args.repeats)
    text = "\n".join(t.markdown() for t in tables)
    (args.out / "scale.md").write_text(text, encoding="utf-8")
    print(text)


if __name__ == "__main__":
    main()
