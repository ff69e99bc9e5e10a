"""End to end: the recorder over BleSource over the fake BLE board, with faults injected.

The recorded file must hold every sample the board sent (every sample outside the
injected gaps), exact to the format's resolution and in order, and the jerks found live
must equal ``detect`` on the written file.
"""

from __future__ import annotations

import asyncio
import time
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from firmware_bridge.ble_source import BleSource
from firmware_bridge.recorder import Recorder, RecorderParams, RecordResult
from pipeline.detector import detect_file
from sim import NightConfig, simulate_night
from sim.fake_ble import Cue, FakeBleBoard


async def record_board(board: FakeBleBoard, source: BleSource, out: Path) -> RecordResult:
    """Record until the board has sent its whole night and every sample is written."""
    params = RecorderParams(out_dir=out, backoff_initial_s=0.01, summarise=False)
    rec = Recorder(source, params)
    stop = asyncio.Event()
    task = asyncio.create_task(rec.run(stop))
    deadline = time.monotonic() + 60
    while not (board.done and rec.samples >= int(board.sent.sum())):
        assert time.monotonic() < deadline, "recording did not finish"
        assert not task.done(), task.result()
        await asyncio.sleep(0.05)
    stop.set()
    return await task


def read_rows(path: Path) -> pd.DataFrame:
    return pd.read_csv(path, comment="#")


@pytest.mark.parametrize(
    ("profile", "fs", "options", "quantum"),
    [
        ("polar", 200.0, {"frame_type": 0x81, "samples_per_frame": 70}, 1e-3),
        ("witmotion", 100.0, {"notification_size": 16}, 16.0 / 32768.0),
    ],
)
def test_record_ble_night_with_a_drop_and_a_stop(
    tmp_path: Path, profile: str, fs: float, options: dict, quantum: float
) -> None:
    cfg = NightConfig(
        hours=0.06, fs=fs, seed=11, rate_per_hour=900,
        jitter_s=0.0, drop_prob=0.0, outage_per_hour=0.0,
    )  # fmt: skip
    night = simulate_night(cfg)
    n = night.time.size
    cues = [Cue(at=n // 2, kind="drop", lost=int(3 * fs), refuse=1)]
    if profile == "polar":
        cues.append(Cue(at=3 * n // 4, kind="stop"))
    board = FakeBleBoard.from_night(profile, night, cues=cues, **options)
    source = BleSource(
        board.name, profile, fs, client_factory=board.client_factory, clock=board.now,
        read_wait_s=0.05,
    )  # fmt: skip
    result = asyncio.run(record_board(board, source, tmp_path))

    # one link gap, recorded as such; the start sequence re-sent on the new connection;
    # the Polar's stop a gap too, without a reconnection
    assert len(result.gaps) == (2 if profile == "polar" else 1)
    assert result.gaps[0].back_at is not None and result.gaps[0].attempts >= 1
    assert "disconnected" in result.gaps[0].reason
    if profile == "polar":
        assert "stopped the stream" in result.gaps[1].reason and result.gaps[1].attempts == 0
    assert board.connects == 2
    assert result.info.profile == profile and result.info.extra["transport"] == "ble"

    # every sample the board sent is in the file, in order, exact to the resolution
    rows = read_rows(result.path)
    want = np.round(night.acc[board.sent] / quantum) * quantum
    assert len(rows) == int(board.sent.sum()) == result.samples
    assert (~board.sent).sum() == 3 * fs  # only the injected gap is missing
    np.testing.assert_allclose(rows[["ax", "ay", "az"]].to_numpy(), want, rtol=0, atol=6e-6)
    assert np.all(np.diff(rows["time"].to_numpy()) > 0)
    header = Path(result.path).read_text().split("time,ax")[0]
    assert f"# profile: {profile}" in header and f"# device: {board.name}" in header

    # the live events are exactly those of detect on the written file
    offline = detect_file(result.path)
    assert result.live.error is None
    assert len(offline.events) > 5
    assert result.live.events == offline.events


def test_real_time_drop_leaves_a_time_gap_of_its_length(tmp_path: Path) -> None:
    """At speed 1 the board is out of reach for the gap's duration: the recording shows
    a time jump of about that length where the samples are missing, nothing else."""
    cfg = NightConfig(
        hours=3 / 3600, fs=200, seed=5, jitter_s=0.0, drop_prob=0.0, outage_per_hour=0.0
    )
    night = simulate_night(cfg)
    board = FakeBleBoard.from_night(
        "polar", night, speed=1.0, cues=[Cue(at=200, kind="drop", lost=200)]
    )
    source = BleSource(
        board.name, "polar", 200, client_factory=board.client_factory, read_wait_s=0.05
    )
    params = RecorderParams(
        out_dir=tmp_path, backoff_initial_s=0.02, backoff_max_s=0.05, summarise=False
    )

    async def go() -> RecordResult:
        rec = Recorder(source, params)
        stop = asyncio.Event()
        task = asyncio.create_task(rec.run(stop))
        while not (board.done and rec.samples >= int(board.sent.sum())):
            assert not task.done(), task.result()
            await asyncio.sleep(0.05)
        stop.set()
        return await task

    result = asyncio.run(asyncio.wait_for(go(), 30))
    t = read_rows(result.path)["time"].to_numpy()
    assert len(t) == int(board.sent.sum()) == night.time.size - 200
    jumps = np.flatnonzero(np.diff(t) > 0.1)
    assert jumps.tolist() == [199]  # after the last sample before the drop
    assert 0.95 < t[200] - t[199] < 1.5  # 1 s out of reach + reconnecting
    assert result.gaps[0].duration_s == pytest.approx(t[200] - t[199], abs=1e-4)
