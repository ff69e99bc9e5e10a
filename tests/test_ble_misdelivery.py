"""Notifications delivered twice or out of order (a host stack subscribed twice, a late
notification) through the fake radio, recorded by the real Recorder over BleSource."""

from __future__ import annotations

import asyncio
import json
import time
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from test_ble_night_faults import night, polar_source

from firmware_bridge.polar_pmd import PmdAccDecoder
from firmware_bridge.recorder import Recorder, RecorderParams, RecordResult
from pipeline.detector import detect_file
from sim.encoders import encode_pmd_frames
from sim.fake_ble import FakeBleBoard


def test_a_repeated_or_late_pmd_frame_is_dropped() -> None:
    """Frames 0, 1, 1, 3, 2, 4: the repeat of 1 and the late 2 give no samples."""
    fs = 200.0
    t = 1.7e9 + np.arange(36 * 5) / fs
    acc = np.tile([[0.001, -0.002, 1.0]], (t.size, 1))
    frames = encode_pmd_frames(t, acc)
    dec = PmdAccDecoder(fs)
    got = [dec.feed(frames[i]).t for i in (0, 1, 1, 3, 2, 4)]
    assert [len(x) for x in got] == [36, 36, 0, 36, 0, 36]
    assert dec.stats.stale == 2
    out = np.concatenate(got)
    assert np.all(np.diff(out) > 0)
    keep = np.r_[0:72, 108:180]
    assert out == pytest.approx(t[keep], abs=1e-6)


def test_a_clock_far_back_is_still_a_reset() -> None:
    """A stamp more than ``stale_s`` back is a clock reset, decoded (the recorder
    re-anchors), not dropped for the rest of the night."""
    fs = 200.0
    t = 1.7e9 + np.arange(72) / fs
    frames = encode_pmd_frames(np.r_[t[:36], t[36:] - 3600.0], np.zeros((72, 3)))
    dec = PmdAccDecoder(fs)
    assert [len(dec.feed(f).t) for f in frames] == [36, 36]
    assert dec.stats.stale == 0


async def _record(board: FakeBleBoard, params: RecorderParams, fs: float) -> RecordResult:
    rec = Recorder(polar_source(board, fs), params)
    stop = asyncio.Event()
    task = asyncio.create_task(rec.run(stop))
    deadline = time.monotonic() + 20
    while not board.done:
        assert time.monotonic() < deadline and not task.done()
        await asyncio.sleep(0.02)
    await asyncio.sleep(0.3)
    stop.set()
    return await task


def test_a_polar_night_with_repeated_and_late_notifications(tmp_path: Path) -> None:
    """Every 7th notification twice, every 11th one late: the file holds each sample
    sent once, in order, at its own device time, no board clock reset, the stale frames
    counted in the session file. Before 0.4.5 a repeated frame was recorded a second
    time after itself (36 samples twice, a board clock reset, every later sample moved
    one frame late) and a late frame was written after the newer one."""
    fs = 50.0
    nt = night(fs, 60.0)
    board = FakeBleBoard.from_night(
        "polar", nt, samples_per_frame=10, duplicate_every=7, swap_every=11
    )
    params = RecorderParams(out_dir=tmp_path, tz="UTC")
    result = asyncio.run(_record(board, params, fs))
    assert board.duplicated > 10 and len(board.late) > 10
    keep = board.sent.copy()
    for a, b in board.late:
        keep[a:b] = False
    rows = pd.read_csv(result.path, comment="#")
    assert len(rows) == result.samples == int(keep.sum())
    t = rows["time"].to_numpy()
    offset = t - board.t[keep]
    assert np.ptp(offset) < 2e-4  # each sample at its device time (0.1 ms ticks)
    want = np.round(board.acc[keep] * 1000.0) / 1000.0  # int16 mG on the air
    assert rows[["ax", "ay", "az"]].to_numpy() == pytest.approx(want, abs=1e-9)
    session = json.loads(result.session_path.read_text())  # type: ignore[union-attr]
    assert session["clock_resets"] == 0 and session["gaps"] == []
    assert session["decoder"]["stale"] == board.duplicated + len(board.late)
    assert result.live.events == detect_file(result.path).events
