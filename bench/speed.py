"""Speed and memory: ``detect`` and ``process`` against pandas' C parser reading the file.

An 8-hour 100 Hz simulated night is written once as canonical CSV (~120 MB) and as
canonical Parquet, both cached in the output folder. Then, in one run and alternating
so that disk cache and machine load affect all alike, each of these runs once untimed
(warm-up) and then ``REPEATS`` times in a fresh subprocess (with bytecode caching on,
see :func:`child_env`):

(a) ``pandas.read_csv(path, comment="#")`` and nothing else;
(b) ``jerkcount detect path --out ...``, the whole command line (read, resample,
    detect, write events and activity);
(c) ``import pandas`` only (context: interpreter start and imports);
(d) ``jerkcount process path --out DIR`` on the CSV (detect, non-wear, summaries,
    pattern analysis, report);
(e) the same ``process`` on the Parquet copy;
(f) ``jerkcount replay path --speed max --out DIR``: the live path (recorder loop,
    live reader and detector, then the summaries), as fast as it goes;
(g) jerkcount's reader alone over the Parquet copy (open, check, resample onto the
    grid; no detection): the floor under (e), since ``process`` must read the file.

Wall time is that of the whole child process (interpreter start and imports
included, for all); peak memory is the child's own ``ru_maxrss`` from
:func:`os.wait4`, taken by a small launcher process (see :func:`run_child`). The
ratios of the medians are the figures of merit: b/a (issue 2: goal ≤ 2), d/a (issue
6: goal ≤ 1.5) and e/d (issue 6: goal ≤ 0.5); b/a net of (c), a child that only
starts Python and imports pandas, is shown beside them, and so is f/b, what the live
path costs over ``detect`` on the same file, and g/d, the lowest e/d any detector could
give. Detector-only throughput is measured in
this process on an in-memory recording.
"""

from __future__ import annotations

import logging
import os
import shutil
import statistics
import subprocess
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path

from bench.report import Table, fmt, verdict
from pipeline.detector import DetectorParams, detect_recording
from pipeline.formats.parquet import write_samples_parquet
from pipeline.reader import read_recording
from pipeline.writer import write_samples_csv
from sim import NightConfig, simulate_night

log = logging.getLogger(__name__)

HOURS = 8.0
FS = 100.0
SEED = 7
REPEATS = 5
GOAL_RATIO = 2.0
GOAL_PROCESS = 1.5
GOAL_PARQUET = 0.5
READ_ONLY = "import sys, pandas; pandas.read_csv(sys.argv[1], comment='#')"
IMPORT_ONLY = "import pandas"
READER_ONLY = (
    "import sys\nfrom pipeline.reader import open_recording\n"
    "with open_recording(sys.argv[1]) as stream:\n    for _ in stream.chunks(65_536): pass"
)
#: Runs argv[1:] from a small process; prints its wall time (s) and ru_maxrss.
LAUNCHER = """
import os, subprocess, sys, time
start = time.perf_counter()
child = subprocess.Popen(sys.argv[1:], stdout=subprocess.DEVNULL)
_, status, usage = os.wait4(child.pid, 0)
wall = time.perf_counter() - start
print(wall, usage.ru_maxrss)
sys.exit(os.waitstatus_to_exitcode(status))
"""


@dataclass
class Runs:
    """Wall times (s) and peak resident memory (MB) of repeated child processes."""

    label: str
    wall_s: list[float] = field(default_factory=list)
    peak_mb: list[float] = field(default_factory=list)

    @property
    def median_s(self) -> float:
        return statistics.median(self.wall_s)

    @property
    def max_peak_mb(self) -> float:
        return max(self.peak_mb) if self.peak_mb else float("nan")


def night_path(out: Path) -> Path:
    """Where the cached speed-test night lives in ``out``."""
    return out / f"speed_night_{HOURS:g}h_{FS:g}hz_seed{SEED}.csv"


def cached_night(out: Path) -> Path:
    """The 8-hour canonical CSV, simulated and written only when not already cached."""
    path = night_path(out)
    if path.is_file():
        return path
    out.mkdir(parents=True, exist_ok=True)
    log.warning("writing the %g-hour speed-test night to %s (once)", HOURS, path)
    night = simulate_night(NightConfig(hours=HOURS, fs=FS, seed=SEED))
    write_samples_csv(path, night.time, night.acc, night.metadata())
    return path


def cached_parquet(out: Path, night: Path) -> Path:
    """The cached night as canonical Parquet (written once from the CSV)."""
    path = night.with_suffix(".parquet")
    if not path.is_file():
        rec = read_recording(night)
        write_samples_parquet(path, rec.time, rec.acc, rec.metadata)
    return path


def jerkcount_command() -> list[str]:
    """The installed ``jerkcount`` console script of this interpreter's environment."""
    here = Path(sys.executable).parent
    for name in ("jerkcount", "jerkcount.exe"):
        if (here / name).is_file():
            return [str(here / name)]
    found = shutil.which("jerkcount")
    if found:
        return [found]
    return [sys.executable, "-c", "import cli; cli.main()"]


def child_env() -> dict[str, str]:
    """The environment of the timed children: this one, with bytecode caching on.

    An installed tool runs from cached bytecode; a shell that sets
    ``PYTHONDONTWRITEBYTECODE`` (some sandboxes and CI images do) would make every child
    compile jerkcount's ~100 modules again (about 0.15 s a run) while pandas, compiled
    at install time, pays nothing: not a property of either program.
    """
    env = dict(os.environ)
    env.pop("PYTHONDONTWRITEBYTECODE", None)
    return env


def run_child(cmd: list[str], log_path: Path) -> tuple[float, float]:
    """Run ``cmd`` to completion; its wall time (s) and own peak RSS (MB).

    The command is started by a small launcher process (:data:`LAUNCHER`): on Linux a
    child's ``ru_maxrss`` starts from the memory of the process that forked it, so
    forking straight from this (large) process would inflate every figure. Raises
    :class:`RuntimeError` with the stderr tail when the command fails.
    """
    with open(log_path, "wb") as err:
        done = subprocess.run(
            [sys.executable, "-c", LAUNCHER, *cmd],
            stdout=subprocess.PIPE,
            stderr=err,
            env=child_env(),
        )
    if done.returncode != 0:
        tail = log_path.read_text(errors="replace")[-2000:]
        raise RuntimeError(f"{cmd[0]} exited with {done.returncode}:\n{tail}")
    wall, maxrss = (float(x) for x in done.stdout.split())
    scale = 1.0 if sys.platform == "darwin" else 1024.0  # bytes on macOS, KiB on Linux
    return wall, maxrss * scale / 1e6


def measure(path: Path, out: Path, repeats: int = REPEATS) -> list[Runs]:
    """Alternate the seven children (a)-(g) ``repeats`` times each."""
    events = out / "speed_night.events.csv"
    parquet = cached_parquet(out, path)
    jc = jerkcount_command()
    commands = {
        "(a) pandas.read_csv only": [sys.executable, "-c", READ_ONLY, str(path)],
        "(b) jerkcount detect (read + resample + detect + write)": [
            *jerkcount_command(),
            "detect",
            str(path),
            "--out",
            str(events),
            "--tz",
            "UTC",
        ],
        "(c) python + import pandas (context)": [sys.executable, "-c", IMPORT_ONLY],
        "(d) jerkcount process, CSV (detect, non-wear, summaries, patterns, report)": [
            *jc, "process", str(path), "--out", str(out / "speed_process_csv"), "--tz", "UTC",
        ],
        "(e) jerkcount process, the same night as Parquet": [
            *jc, "process", str(parquet), "--out", str(out / "speed_process_parquet"),
            "--tz", "UTC",
        ],
        "(f) jerkcount replay --speed max (the live path, then the summaries)": [
            *jc, "replay", str(path), "--speed", "max", "--out", str(out / "speed_replay"),
            "--tz", "UTC",
        ],
        "(g) jerkcount's reader alone over the Parquet (context: the floor under e)": [
            sys.executable, "-c", READER_ONLY, str(parquet),
        ],
    }  # fmt: skip
    results = {label: Runs(label) for label in commands}
    for cmd in commands.values():  # untimed: bytecode caches written, file in page cache
        run_child(cmd, out / "speed_child.log")
    for k in range(repeats):
        for label, cmd in commands.items():
            wall, peak = run_child(cmd, out / "speed_child.log")
            results[label].wall_s.append(wall)
            results[label].peak_mb.append(peak)
            log.info("run %d %s: %.2f s, %.0f MB", k + 1, label, wall, peak)
    return list(results.values())


def detector_throughput(path: Path, params: DetectorParams, repeats: int = REPEATS) -> float:
    """Median samples per second of :func:`detect_recording` on the in-memory night."""
    rec = read_recording(path)
    rates = []
    for _ in range(repeats):
        start = time.perf_counter()
        detect_recording(rec, params)
        rates.append(rec.n / (time.perf_counter() - start))
    return statistics.median(rates)


def round_ratios(num: Runs, den: Runs) -> list[float]:
    """``num``'s time over ``den``'s in each round of :func:`measure` (the two ran within
    seconds of each other, so the machine's drift cancels better than across rounds)."""
    return [a / b for a, b in zip(num.wall_s, den.wall_s, strict=True)]


def speed_table(path: Path, runs: list[Runs], throughput: float) -> Table:
    """The side-by-side table, the ratio b/a and the detector-only throughput."""
    table = Table(
        f"Speed: {HOURS:g}-hour {FS:g} Hz night, canonical CSV "
        f"({path.stat().st_size / 1e6:.0f} MB)",
        ["process", "median wall (s)", "runs (s)", "peak memory (MB)"],
    )
    for r in runs:
        table.add(
            [
                r.label,
                fmt(r.median_s, 2),
                ", ".join(fmt(w, 2) for w in r.wall_s),
                fmt(r.max_peak_mb, 0),
            ]
        )
    read, detect, base, process, parquet, replay, reader = (r.median_s for r in runs)
    for label, (num, den), goal in (
        ("**ratio b / a**: detect vs read", (1, 0), GOAL_RATIO),
        ("**ratio d / a**: process vs read", (3, 0), GOAL_PROCESS),
        ("**ratio e / d**: process Parquet vs CSV", (4, 3), GOAL_PARQUET),
    ):
        ratio = runs[num].median_s / runs[den].median_s
        rounds = round_ratios(runs[num], runs[den])
        table.add(
            [
                f"{label} (goal ≤ {goal:g}×)",
                f"{ratio:.2f}×",
                verdict(ratio <= goal),
                f"rounds {min(rounds):.2f}-{max(rounds):.2f}×",
            ]
        )
    net = (detect - base) / max(read - base, 1e-9)
    table.add(["b / a net of interpreter start + `import pandas` (c)", f"{net:.2f}×", "", ""])
    table.add(
        [
            "f / b: replay at full speed vs detect (context)",
            f"{replay / detect:.2f}×",
            f"{HOURS * 3600.0 / replay:.0f}× real time",
            "",
        ]
    )
    table.add(
        [
            "g / d: reading the Parquet alone vs process of the CSV (the floor of e / d)",
            f"{reader / process:.2f}×",
            "",
            "",
        ]
    )
    hours_per_s = throughput / FS / 3600.0
    table.add(
        [
            "detector only (in-memory Recording, this process)",
            f"{throughput / 1e6:.2f} M samples/s",
            f"{hours_per_s:.1f} h of {FS:g} Hz per s",
            "",
        ]
    )
    table.caption = (
        f"Each child process runs {len(runs[0].wall_s)} times, alternating (a) to (g); "
        "wall time covers the whole process (interpreter start and imports included for "
        "every row), peak memory is the child's own maximum resident set size. Absolute "
        "times depend on the machine and are context only; the ratio is the figure of merit: "
        "the ratio of the medians, judged against the goal, and the range of the ratios "
        "within each round (the two commands a few seconds apart)."
    )
    return table


def run(out: Path, params: DetectorParams | None = None, repeats: int = REPEATS) -> list[Table]:
    """Run the speed benchmark (the night is cached in ``out``); returns its table."""
    path = cached_night(out)
    runs = measure(path, out, repeats)
    throughput = detector_throughput(path, params or DetectorParams(), repeats)
    return [speed_table(path, runs, throughput)]
