"""Parallel speed-up of ``jerkcount batch``: ``--jobs 2`` against ``--jobs 1``, side by side.

``NIGHTS`` simulated nights (``HOURS`` h at ``FS`` Hz each, canonical CSV, cached in
``OUT/batch_nights/``) are processed by the whole command line in a fresh subprocess,
``jerkcount batch NIGHTS --out ... --jobs J --force``, alternating ``--jobs 1`` and
``--jobs 2`` ``REPEATS`` times so that disk cache and machine load affect both alike.
The figure of merit is the ratio of the median wall times (goal: near 2 on two
cores); absolute times are context only. The outputs of the two are compared too
(every file but the run's timestamps), since a speed-up must not change a number.

Run alone: ``python -m bench.batch_speed [--nights 20] [--hours 1] [--repeats 2]``.
"""

from __future__ import annotations

import argparse
import json
import logging
import os
import shutil
import statistics
import subprocess
import sys
import time
from pathlib import Path

from bench import DEFAULT_OUT, REPO_ROOT
from bench.report import Table, fmt, verdict
from pipeline.detector import DetectorParams
from pipeline.readahead import THREADS_ENV
from pipeline.writer import write_samples_csv
from sim import NightConfig, simulate_night

log = logging.getLogger(__name__)

NIGHTS = 20
HOURS = 1.0
FS = 100.0
REPEATS = 2
GOAL_RATIO = 1.8
#: The fixed cost of every run: interpreter start and the imports of ``batch``.
IMPORT_ONLY = "import cli, pipeline.batch, pipeline.batch_progress"
START = 1774738800.0  # 2026-03-29T01:00:00+02:00 (23:00 UTC)


def make_nights(folder: Path, nights: int = NIGHTS, hours: float = HOURS) -> list[Path]:
    """Simulated nights ``night-XX.csv`` in ``folder`` (made once, then reused)."""
    folder.mkdir(parents=True, exist_ok=True)
    paths = []
    for k in range(nights):
        path = folder / f"night-{k:02d}.csv"
        if not path.exists():
            night = simulate_night(
                NightConfig(hours=hours, fs=FS, seed=100 + k, start=START + 86400 * k)
            )
            write_samples_csv(path, night.time, night.acc, night.metadata())
            log.info("wrote %s", path)
        paths.append(path)
    return paths


def run_batch(nights: Path, out: Path, jobs: int) -> float:
    """Wall time (s) of ``jerkcount batch nights --out out --jobs N --force`` in a subprocess."""
    return _timed(["batch", str(nights), "--out", str(out), "--jobs", str(jobs),
                   "--tz", "Europe/Berlin", "--force"], out)  # fmt: skip


def run_process(paths: list[Path], out: Path) -> float:
    """Wall time (s) of ``jerkcount process NIGHTS... --out out``: one recording after the
    other in one process with its helper threads (context for ``--jobs 1``, one thread)."""
    return _timed(["process", *map(str, paths), "--out", str(out), "--tz", "Europe/Berlin"], out)


def _timed(args: list[str], out: Path) -> float:
    shutil.rmtree(out, ignore_errors=True)
    env = {**os.environ, THREADS_ENV: "1"}
    start = time.perf_counter()
    subprocess.run([sys.executable, "-m", "cli", *args], cwd=REPO_ROOT, check=True,
                   stdout=subprocess.DEVNULL, env=env)  # fmt: skip
    return time.perf_counter() - start


def run_imports() -> float:
    """Wall time (s) of a child that only starts Python and imports what ``batch`` imports."""
    start = time.perf_counter()
    subprocess.run([sys.executable, "-c", IMPORT_ONLY], cwd=REPO_ROOT, check=True)
    return time.perf_counter() - start


def _tree(out: Path) -> dict[str, object]:
    """Output files of a batch, without the per-run fields (created_utc, seconds)."""
    files: dict[str, object] = {}
    for p in sorted(out.rglob("*")):
        rel = p.relative_to(out).as_posix()
        if not p.is_file() or rel.startswith("."):
            continue
        if p.name == "summary.json":
            data = json.loads(p.read_text())
            data.pop("created_utc", None)
            files[rel] = data
        elif p.name == "recordings.csv":
            lines = p.read_text().splitlines()
            col = lines[0].split(",").index("seconds")
            files[rel] = [",".join(c for i, c in enumerate(r.split(",")) if i != col)
                          for r in lines]  # fmt: skip
        else:
            files[rel] = p.read_bytes()
    return files


def run(
    out: Path, params: DetectorParams | None = None, nights: int = NIGHTS,
    hours: float = HOURS, repeats: int = REPEATS,
) -> list[Table]:  # fmt: skip
    """Measure ``--jobs 1`` and ``--jobs 2`` alternately; one table with the ratio.

    ``params`` is accepted for the benchmark runner's interface (batch uses the defaults).
    """
    del params
    folder = out / f"batch_nights_{nights}x{hours:g}h"
    paths = make_nights(folder, nights, hours)
    total_mb = sum(p.stat().st_size for p in paths) / 1e6
    # 0: start only; 1, 2: --jobs; -1: `process` of all the nights (helper threads on)
    times: dict[int, list[float]] = {0: [], 1: [], 2: [], -1: []}
    load_before = os.getloadavg()[0] if hasattr(os, "getloadavg") else float("nan")
    for r in range(repeats):
        for jobs in (1, 2, -1) if r % 2 == 0 else (-1, 2, 1):
            if jobs < 0:
                t = run_process(paths, out / "batch_out_process")
            else:
                t = run_batch(folder, out / f"batch_out_j{jobs}", jobs)
            times[jobs].append(t)
            log.info("%s: %.1f s", f"batch --jobs {jobs}" if jobs > 0 else "process", t)
        times[0].append(run_imports())
    load_after = os.getloadavg()[0] if hasattr(os, "getloadavg") else float("nan")
    identical = _tree(out / "batch_out_j1") == _tree(out / "batch_out_j2")
    med = {j: statistics.median(ts) for j, ts in times.items()}
    ratio = med[1] / med[2]
    net = (med[1] - med[0]) / (med[2] - med[0])
    best = min(times[1]) / min(times[2])
    threaded = med[-1] / med[2]
    cores = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count()
    samples = nights * hours * 3600 * FS
    table = Table(
        f"`batch` of {nights} nights ({hours:g} h at {FS:g} Hz, {total_mb:.0f} MB of CSV), "
        f"{cores} cores",
        ["", "wall time (median)", "runs", "throughput"],
        caption=(
            f"Ratio jobs-1 / jobs-2 **{ratio:.2f}x** (goal ≥ {GOAL_RATIO:g}, near 2 on two "
            f"cores: {verdict(ratio >= GOAL_RATIO)}); {net:.2f}x net of the fixed start "
            f"({med[0]:.1f} s: Python and imports, paid once per run); best run against "
            f"best run {best:.2f}x (the least disturbed by other work). `--jobs N` is the "
            f"cores to use: N worker processes of one thread each, and `--jobs 1` one "
            f"recording after the other in one thread. One process with its helper threads "
            f"(reading ahead, the detector's feature stage, hashing) already uses part of "
            f"the second core: `jerkcount process` of the same nights in one command, one "
            f"after the other so, takes {threaded:.2f}x the time of `--jobs 2` (context). "
            f"Outputs of `--jobs 1` and `--jobs 2` identical: "
            f"{'yes' if identical else 'NO'}. Each run is the whole command in a fresh "
            "process (start, spawning workers, reading, detection, summaries, reports, "
            f"cohort tables), alternating, {repeats} each; load average {load_before:.1f} "
            f"before, {load_after:.1f} after (other work on the machine skews the ratio). "
            "Reproduce: "
            f"`python -m bench.batch_speed --nights {nights} --hours {hours:g}`."
        ),
    )
    table.add(["start and imports only", f"{fmt(med[0], 1)} s",
               ", ".join(f"{t:.1f}" for t in times[0]), ""])  # fmt: skip
    for jobs in (1, 2, -1):
        label = "`jerkcount process` of the nights (helper threads on)" if jobs < 0 else ""
        table.add(
            [
                label or f"`jerkcount batch --jobs {jobs}`",
                f"{fmt(med[jobs], 1)} s",
                ", ".join(f"{t:.1f}" for t in times[jobs]),
                f"{samples / med[jobs] / 1e6:.2f} M samples/s",
            ]
        )
    return [table]


def main(argv: list[str] | None = None) -> int:
    """Command line: print the table, write it to ``OUT/batch.md``."""
    p = argparse.ArgumentParser(prog="python -m bench.batch_speed", description=__doc__)
    p.add_argument("--nights", type=int, default=NIGHTS)
    p.add_argument("--hours", type=float, default=HOURS)
    p.add_argument("--repeats", type=int, default=REPEATS)
    p.add_argument("--out", type=Path, default=DEFAULT_OUT)
    p.add_argument("-v", "--verbose", action="store_true")
    args = p.parse_args(argv)
    logging.basicConfig(level=logging.INFO if args.verbose else logging.WARNING)
    args.out.mkdir(parents=True, exist_ok=True)
    tables = run(args.out, nights=args.nights, hours=args.hours, repeats=args.repeats)
    text = "\n".join(t.markdown() for t in tables)
    print(text)
    (args.out / "batch.md").write_text(text, encoding="utf-8")
    return 0


if __name__ == "__main__":
    sys.exit(main())
