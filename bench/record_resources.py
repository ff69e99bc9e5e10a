"""Resource use of ``jerkcount record`` at 200 Hz over a simulated night, sped up.

A virtual serial board (text ``csv-ms``: the board stamps its own clock, so the night
can run faster than real time) streams ``--hours`` of a 200 Hz night at ``--speed``
times real time through a pty into a ``jerkcount record`` subprocess. Every simulated
hour the recorder's CPU time (user + system, from ``/proc/PID/stat``) and resident
memory (``VmRSS``) are sampled.

Reported: CPU share at real time = recorder CPU seconds per simulated second (what the
recorder would take of one core during a real night), and RSS after each hour — it
must not grow with the night (the recorder keeps no samples: the file is appended,
live detection holds a bounded window).

Usage: ``python -m bench.record_resources [--hours 8] [--speed 100] [--fs 200]``
(Linux only). The summary at the end is skipped (``--no-summary``): ``process`` on the
finished file is the batch path, measured elsewhere.
"""

from __future__ import annotations

import argparse
import json
import logging
import os
import signal
import subprocess
import sys
import tempfile
import time
from dataclasses import asdict, dataclass
from pathlib import Path

from sim.virtual_serial import BoardConfig, VirtualSerialBoard

log = logging.getLogger(__name__)
CLK_TCK = os.sysconf("SC_CLK_TCK")


@dataclass
class Probe:
    """One sample of the recorder: simulated hours streamed, CPU s, RSS MB, host s."""

    sim_hours: float
    cpu_s: float
    rss_mb: float
    host_s: float


def cpu_seconds(pid: int) -> float:
    """User + system CPU seconds of a process."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / CLK_TCK


def rss_mb(pid: int) -> float:
    """Resident set size of a process, MB."""
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return float("nan")


def run(hours: float, speed: float, fs: float, out: Path) -> dict:
    """Stream the night into a recorder subprocess; returns the probes and figures."""
    link = out / "board"
    board = VirtualSerialBoard(
        BoardConfig("text:csv-ms", fs, hours, rate_per_hour=30, seed=1, speed=speed, link=link)
    )
    board.open()
    env = {**os.environ, "PYTHONPATH": str(Path(__file__).resolve().parents[1])}
    rec = subprocess.Popen(
        [sys.executable, "-m", "cli", "record", "--source", f"serial:{link}", "--protocol",
         "text:csv-ms", "--rate", str(fs), "--out", str(out / "rec"), "--no-summary",
         "--stall", "30"],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=env, text=True,
    )  # fmt: skip
    time.sleep(3.0)  # let the recorder import and open the port
    board.start()
    t0 = time.monotonic()
    probes: list[Probe] = []
    next_hour = 1
    try:
        while not board.done.is_set():
            time.sleep(0.2)
            sim_h = board.sent / fs / 3600
            if sim_h >= next_hour:
                probes.append(Probe(sim_h, cpu_seconds(rec.pid), rss_mb(rec.pid),
                                    time.monotonic() - t0))  # fmt: skip
                log.info("%s", probes[-1])
                next_hour += 1
        time.sleep(3.0)
        final = Probe(board.sent / fs / 3600, cpu_seconds(rec.pid), rss_mb(rec.pid),
                      time.monotonic() - t0)  # fmt: skip
    finally:
        rec.send_signal(signal.SIGINT)
        stdout, stderr = rec.communicate(timeout=120)
        board.stop()
    with next((out / "rec").glob("recording-*.csv")).open() as fh:
        rows = sum(1 for line in fh if not line.startswith(("#", "time,")))
    first, last = (probes[0], probes[-1]) if probes else (final, final)
    span_h = max(last.sim_hours - first.sim_hours, 1e-9)
    result = {
        "fs_hz": fs,
        "speed": speed,
        "sim_hours": final.sim_hours,
        "rows_written": rows,
        "samples_sent": board.sent,
        "host_s": final.host_s,
        "cpu_s": final.cpu_s,
        "cpu_share_real_time": final.cpu_s / (final.sim_hours * 3600),
        "cpu_share_steady": (last.cpu_s - first.cpu_s) / (span_h * 3600),
        "rss_mb_after_1h": first.rss_mb,
        "rss_mb_after_last_hour": last.rss_mb,
        "rss_growth_mb": last.rss_mb - first.rss_mb,
        "probes": [asdict(p) for p in probes],
        "recorder_stdout": stdout.strip().splitlines()[-4:],
        "recorder_exit": rec.returncode,
    }
    if rec.returncode != 0:
        result["recorder_stderr"] = stderr.strip().splitlines()[-5:]
    return result


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--hours", type=float, default=8.0)
    ap.add_argument("--speed", type=float, default=100.0)
    ap.add_argument("--fs", type=float, default=200.0)
    ap.add_argument("--out", type=Path, default=None, help="keep the files here")
    args = ap.parse_args()
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(message)s")
    if args.out is not None:
        args.out.mkdir(parents=True, exist_ok=True)
        res = run(args.hours, args.speed, args.fs, args.out)
    else:
        with tempfile.TemporaryDirectory() as tmp:
            res = run(args.hours, args.speed, args.fs, Path(tmp))
    print(json.dumps(res, indent=2))


if __name__ == "__main__":
    main()
