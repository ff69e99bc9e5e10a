"""Replay: a recorded file through the live path gives exactly `detect`'s events."""

from __future__ import annotations

import asyncio
import itertools
import logging
import os
import subprocess
import sys
import time
from pathlib import Path

import pandas as pd
import pytest

from firmware_bridge.recorder import Recorder, RecorderParams, RecordResult
from firmware_bridge.replay_source import ReplaySource
from pipeline.detector import detect_file
from pipeline.writer import write_samples_csv
from sim import NightConfig, simulate_night


@pytest.fixture(scope="module")
def night_csv(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A 0.3 h 100 Hz night with jerks, confounders, drops and outages (gaps)."""
    night = simulate_night(
        NightConfig(hours=0.3, fs=100, rate_per_hour=300, seed=11, outage_per_hour=6)
    )
    path = tmp_path_factory.mktemp("replay") / "night.csv"
    write_samples_csv(path, night.time, night.acc, night.metadata(), time_decimals=6,
                      acc_decimals=6)  # fmt: skip
    return path


def _replay(path: Path, speed: float | None, **source: float) -> RecordResult:
    params = RecorderParams(write=False, summarise=False, stall_s=1e9)
    return asyncio.run(Recorder(ReplaySource(path, speed, **source), params).run())


@pytest.mark.parametrize("unpaced_batch_s", [30.0, 0.5])
def test_replay_equals_detect(night_csv: Path, unpaced_batch_s: float) -> None:
    """At full speed (30-s batches) and in a board's half-second packets alike."""
    res = _replay(night_csv, None, unpaced_batch_s=unpaced_batch_s)
    det = detect_file(night_csv)
    assert res.stopped_by == "end of input"
    assert len(det.events) > 30 and det.gaps
    assert res.live.error is None
    assert res.live.events == det.events
    assert res.live.activity == det.activity
    assert [(g.start_index, g.end_index) for g in res.live.gaps] == [
        (g.start_index, g.end_index) for g in det.gaps
    ]


@pytest.mark.parametrize(
    ("speed", "batch_s", "rows"),
    [(None, 30.0, 3000), (1.0, 0.5, 50), (10.0, 0.5, 50), (100.0, 5.0, 500)],
)
def test_replay_batch_sizes(
    night_csv: Path, speed: float | None, batch_s: float, rows: int
) -> None:
    """Half a second of recording per batch, at least 50 ms of host time when paced,
    30 s unpaced: each of the first batches of the 100 Hz night spans less than
    ``batch_s`` and the next starts ``batch_s`` or more after it, about ``rows`` rows
    (fewer where packets were dropped)."""
    source = ReplaySource(night_csv, speed)
    assert source.batch_s == batch_s
    asyncio.run(source.open())
    try:
        batches = [source._next_batch().t for _ in range(4)]
    finally:
        asyncio.run(source.close())
    for this, after in itertools.pairwise(batches):
        assert this[-1] - this[0] < batch_s <= after[0] - this[0]
        assert 0.95 * rows <= this.size <= rows + 1


def test_replay_paced(night_csv: Path, tmp_path: Path) -> None:
    """--speed paces the replay: 60 s of a file at 30x takes about 2 s."""
    head = tmp_path / "head.csv"
    lines = night_csv.read_text().splitlines(keepends=True)
    n_meta = sum(1 for ln in lines if ln.startswith("#")) + 1
    head.write_text("".join(lines[: n_meta + 6000]))
    t0 = time.monotonic()
    res = _replay(head, 30.0)
    t1 = time.monotonic()
    assert res.samples == 6000
    assert 1.5 <= t1 - t0 <= 6.0


def test_replay_torn_last_line(night_csv: Path, tmp_path: Path) -> None:
    """A file cut mid-line (a killed recorder) replays like detect reads it."""
    torn = tmp_path / "torn.csv"
    data = night_csv.read_bytes()
    torn.write_bytes(data[: len(data) // 2 - 7])
    assert _replay(torn, None).live.events == detect_file(torn).events


def test_cli_replay_out_matches_detect(night_csv: Path, tmp_path: Path) -> None:
    env = {**os.environ, "PYTHONPATH": str(Path(__file__).resolve().parents[1])}
    out = tmp_path / "out"
    r = subprocess.run(
        [sys.executable, "-m", "cli", "replay", str(night_csv), "--speed", "max", "--out",
         str(out), "--tz", "UTC"],
        capture_output=True, text=True, env=env, timeout=120,
    )  # fmt: skip
    assert r.returncode == 0, r.stderr
    events = pd.read_csv(out / "events.csv")
    det = detect_file(night_csv)
    live_n = int(r.stdout.split("jerks      ")[1].split()[0])
    assert live_n == len(det.events)
    # process counts jerks outside activity/non-wear: a subset of detect's events
    assert set(events["time"].round(3)) <= {round(e.time, 3) for e in det.events}
    assert (out / "summary.json").exists() and (out / "report.html").exists()
    bad = subprocess.run([sys.executable, "-m", "cli", "replay", str(tmp_path / "nope.csv")],
                         capture_output=True, text=True, env=env, timeout=60)  # fmt: skip
    assert bad.returncode == 2 and bad.stderr.startswith("jerkcount: error:")


def test_replay_flags_clipped_jerks_as_detect_does() -> None:
    """A jerk at the sensor's range: `clipped` in the live events as in `detect`'s
    (the live path never set it)."""
    path = Path(__file__).parent / "data" / "bad" / "clipped_jerk.csv"
    res = _replay(path, None)
    det = detect_file(path)
    assert [e.clipped for e in det.events] == [True, False]
    assert res.live.events == det.events


def test_replay_says_what_the_file_holds_once(caplog: pytest.LogCaptureFixture) -> None:
    """A rate change in the replayed file: one warning naming the file's line (the live
    detector said it again, as `replay:NAME` with a sample number for a line)."""
    path = Path(__file__).parent / "data" / "bad" / "rate_change.csv"
    with caplog.at_level(logging.INFO):
        res = _replay(path, None)
    assert res.live.error is None
    warnings = [r.getMessage() for r in caplog.records if r.levelno >= logging.WARNING]
    assert warnings == [
        f"{path}: sample rate changes from 25 to 12.5 Hz at line 302; resampled onto the 25 Hz grid"
    ]
