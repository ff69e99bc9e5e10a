"""``python -m bench [--quick] [--only PART] [--out DIR]``.

Parts: accuracy, sisfall, heldout, noise, chest, speed, batch.

Prints markdown tables and writes each part's tables to ``DIR/<part>.md`` (with the
detector parameters and the run's context), plus ``DIR/params.json``.
"""

from __future__ import annotations

import argparse
import json
import logging
import platform
import subprocess
import sys
import time
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path

from bench import (
    DEFAULT_OUT,
    REPO_ROOT,
    SISFALL_ROOT,
    accuracy,
    batch_speed,
    chest,
    heldout,
    noise,
    sisfall,
    speed,
)
from bench.report import Table
from pipeline import __version__
from pipeline.detector import DetectorParams

PARTS = ("accuracy", "sisfall", "heldout", "noise", "chest", "speed", "batch")


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    """Command-line options of the benchmark."""
    p = argparse.ArgumentParser(
        prog="python -m bench",
        description="jerkcount benchmarks: prints markdown tables, writes them to --out.",
    )
    p.add_argument(
        "--quick",
        action="store_true",
        help="1 seed per accuracy cell; skip speed and batch unless --only",
    )
    p.add_argument("--only", choices=PARTS, help="run just this part")
    p.add_argument(
        "--out",
        type=Path,
        default=DEFAULT_OUT,
        help="output folder (default: bench/out, gitignored)",
    )
    p.add_argument(
        "--seeds", type=int, default=None, help="nights per accuracy cell (default 6, --quick 1)"
    )
    p.add_argument(
        "--sisfall-root",
        type=Path,
        default=SISFALL_ROOT,
        help="folder with SisFall trials (default: tests/data/sisfall)",
    )
    p.add_argument("-v", "--verbose", action="store_true", help="log progress to stderr")
    return p.parse_args(argv)


def selected_parts(args: argparse.Namespace) -> list[str]:
    """The parts to run: ``--only``, else all (without speed under ``--quick``)."""
    if args.only:
        return [args.only]
    return [p for p in PARTS if not (args.quick and p in ("speed", "batch"))]


def part_runner(name: str, args: argparse.Namespace) -> Callable[[DetectorParams], list[Table]]:
    """A function running one part with the options of this invocation."""
    if name == "accuracy":
        seeds = args.seeds or (1 if args.quick else 6)
        return lambda params: accuracy.run(seeds, params)
    if name == "sisfall":
        return lambda params: sisfall.run(args.sisfall_root, params)
    if name == "heldout":
        reps = 3 if args.quick else heldout.REPLICATES
        seeds = heldout.NIGHT_SEEDS[:1] if args.quick else heldout.NIGHT_SEEDS
        return lambda params: heldout.run(args.sisfall_root, params, reps, seeds)
    if name == "noise":
        return lambda params: noise.run(params, quick=args.quick)
    if name == "chest":
        return lambda params: chest.run(params, quick=args.quick)
    if name == "batch":
        return lambda params: batch_speed.run(args.out, params)
    return lambda params: speed.run(args.out, params)


def git_revision() -> str:
    """Short commit of the repository, with ``+dirty`` for uncommitted changes; or ``?``."""
    try:
        rev = subprocess.run(
            ["git", "-C", str(REPO_ROOT), "rev-parse", "--short", "HEAD"],
            capture_output=True,
            text=True,
            check=True,
        ).stdout.strip()
        dirty = subprocess.run(
            ["git", "-C", str(REPO_ROOT), "status", "--porcelain"],
            capture_output=True,
            text=True,
            check=True,
        ).stdout.strip()
    except (OSError, subprocess.CalledProcessError):
        return "?"
    return rev + ("+dirty" if dirty else "")


def context_line(args: argparse.Namespace) -> str:
    """One line saying when, on what and with which code the tables were made."""
    now = datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC")
    mode = "quick" if args.quick else "full"
    return (
        f"_jerkcount {__version__} (git {git_revision()}), {mode} run, {now}, "
        f"Python {platform.python_version()} on {platform.machine()}._"
    )


def write_part(out: Path, name: str, tables: list[Table], context: str, seconds: float) -> Path:
    """Write one part's tables as ``out/<name>.md``."""
    path = out / f"{name}.md"
    body = "\n".join(t.markdown() for t in tables)
    path.write_text(f"{context}\n\n{body}\n_{name}: {seconds:.0f} s._\n", encoding="utf-8")
    return path


def main(argv: list[str] | None = None) -> int:
    """Run the selected parts, print their tables and write them to ``--out``."""
    args = parse_args(argv)
    logging.basicConfig(
        level=logging.INFO if args.verbose else logging.WARNING,
        format="bench: %(levelname)s: %(message)s",
    )
    params = DetectorParams()
    out: Path = args.out
    out.mkdir(parents=True, exist_ok=True)
    (out / "params.json").write_text(json.dumps(params.as_dict(), indent=2) + "\n")
    context = context_line(args)
    print(context + "\n")
    for name in selected_parts(args):
        start = time.perf_counter()
        tables = part_runner(name, args)(params)
        seconds = time.perf_counter() - start
        for t in tables:
            print(t.markdown())
        path = write_part(out, name, tables, context, seconds)
        print(f"_{name}: {seconds:.0f} s, written to {path}_\n", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
