"""A night over BLE as the recorder lives it: the real Recorder over BleSource over the
fake board (sim/fake_ble.py), with the faults of a real night, and bleak's own errors.

Each test pins what the morning must show: every sample that arrived in the file, in
order, the gaps in the session file, the live count equal to ``detect`` on the file.
"""

from __future__ import annotations

import asyncio
import json
import time
from functools import cache
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from bleak.exc import BleakDBusError, BleakDeviceNotFoundError, BleakError

from cli import _gap_words
from firmware_bridge.ble_client import BleakBleClient, BleLinkError, no_adapter_error
from firmware_bridge.ble_source import BleSource
from firmware_bridge.recorder import (
    STREAM_STOPPED,
    LinkGap,
    Recorder,
    RecorderParams,
    RecordResult,
)
from pipeline.detector import detect_file
from sim import NightConfig, SimulatedNight, simulate_night
from sim.fake_ble import Cue, FakeBleBoard


@cache
def night(fs: float, seconds: float, seed: int = 3) -> SimulatedNight:
    """A short clean simulated night with jerks (no jitter, drops or outages)."""
    cfg = NightConfig(
        hours=seconds / 3600, fs=fs, seed=seed, rate_per_hour=900,
        jitter_s=0.0, drop_prob=0.0, outage_per_hour=0.0,
    )  # fmt: skip
    return simulate_night(cfg)


async def record_until_done(
    board: FakeBleBoard, source: BleSource, params: RecorderParams, limit_s: float = 20.0
) -> tuple[Recorder, RecordResult]:
    """Record until the board has sent its whole night and all of it is written."""
    rec = Recorder(source, params)
    stop = asyncio.Event()
    task = asyncio.create_task(rec.run(stop))
    deadline = time.monotonic() + limit_s
    while not (board.done and rec.samples >= int(board.sent.sum())):
        assert time.monotonic() < deadline, "recording did not finish"
        if task.done():
            task.result()  # raises what ended the recording
            pytest.fail("the recording ended before the board's night did")
        await asyncio.sleep(0.02)
    stop.set()
    return rec, await task


def session(result: RecordResult) -> dict:
    assert result.session_path is not None
    return json.loads(result.session_path.read_text())


# ---------------------------------------------------------------- bleak's own errors

#: What BlueZ answers through bleak when a link attempt fails (bleak wraps D-Bus
#: errors as ``BleakDBusError(name, [details])``, whose text is ``[name] details``).
BLUEZ_LINK_FAILURES = [
    BleakDBusError("org.bluez.Error.Failed", ["le-connection-abort-by-local"]),
    BleakDBusError("org.bluez.Error.Failed", ["Software caused connection abort"]),
    BleakDBusError("org.bluez.Error.InProgress", ["Operation already in progress"]),
    BleakDBusError("org.bluez.Error.NotConnected", ["Not Connected"]),
    BleakDBusError("org.freedesktop.DBus.Error.UnknownObject", ["Method ... doesn't exist"]),
    BleakDeviceNotFoundError(
        "F0:0D:5E:ED:00:01",
        "Device with address F0:0D:5E:ED:00:01 "
        "was not found. It may have been removed from BlueZ when "
        "scanning stopped.",
    ),  # fmt: skip
    BleakError("Not connected"),
]


@pytest.mark.parametrize("exc", BLUEZ_LINK_FAILURES, ids=lambda e: str(e)[:40])
def test_bluez_link_failures_are_not_a_missing_adapter(exc: Exception) -> None:
    """A connection BlueZ aborted is a lost link to retry, not "no usable adapter"."""
    assert no_adapter_error(exc) is None


@pytest.mark.parametrize(
    "exc",
    [
        BleakDBusError("org.freedesktop.DBus.Error.ServiceUnknown", ["org.bluez not found"]),
        BleakDBusError("org.bluez.Error.NotReady", ["Resource Not Ready"]),
    ],
)
def test_bluez_not_running_or_adapter_off_is_a_missing_adapter(exc: Exception) -> None:
    assert no_adapter_error(exc) is not None


def test_bleak_connect_aborted_by_bluez_is_a_lost_link(monkeypatch: pytest.MonkeyPatch) -> None:
    """The Raspberry Pi classic: ``le-connection-abort-by-local`` on connect. Before, the
    recorder took it for a missing adapter and stopped at once (or, mid-night, ended)."""
    import bleak
    from bleak.backends.device import BLEDevice

    async def find(*args: object, **kwargs: object) -> BLEDevice:
        path = "/org/bluez/hci0/dev_F0_0D_5E_ED_00_01"
        return BLEDevice("F0:0D:5E:ED:00:01", "Polar H10 0A1B2C3D", details={"path": path})

    async def connect(self: object, **kwargs: object) -> None:
        raise BleakDBusError("org.bluez.Error.Failed", ["le-connection-abort-by-local"])

    monkeypatch.setattr(bleak.BleakScanner, "find_device_by_name", staticmethod(find))
    monkeypatch.setattr(bleak.BleakClient, "connect", connect)
    client = BleakBleClient("Polar H10 0A1B2C3D")
    with pytest.raises(BleLinkError, match="le-connection-abort-by-local"):
        asyncio.run(client.connect())


# ---------------------------------------------------------------- the recorder's night


def polar_source(board: FakeBleBoard, fs: float, stall_s: float = 5.0) -> BleSource:
    return BleSource(
        board.name, "polar", fs, client_factory=board.client_factory, clock=board.now,
        stall_s=stall_s, read_wait_s=0.02,
    )  # fmt: skip


def test_an_error_status_at_a_reconnection_does_not_end_the_night(tmp_path: Path) -> None:
    """A start command the board refuses once at a reconnection (status 13: it sat in
    its charger a moment) is retried like a lost link. Before, the ControlPointError
    left the recorder: no morning lines, no summary, no end in the session file, exit
    status 2 ("jerkcount: error: device rejected opcode 2 ...")."""
    fs = 200.0
    nt = night(fs, 90.0)
    n = nt.time.size
    board = FakeBleBoard.from_night(
        "polar", nt, cues=[Cue(at=n // 2, kind="drop", lost=400)], start_statuses=[0, 13]
    )
    params = RecorderParams(out_dir=tmp_path, backoff_initial_s=0.01, summarise=False)
    _, result = asyncio.run(record_until_done(board, polar_source(board, fs), params))

    assert board.connects == 3  # refused once, then streaming again
    assert result.stopped_by == "interrupt"
    rows = pd.read_csv(result.path, comment="#")
    assert len(rows) == result.samples == int(board.sent.sum()) == n - 400
    t = rows["time"].to_numpy()
    assert np.all(np.diff(t) > 0)
    [gap] = session(result)["gaps"]
    assert gap["attempts"] == 2 and gap["back_at"] is not None
    assert gap["start"] == t[n // 2 - 1] and gap["end"] == t[n // 2]
    assert result.live.events == detect_file(result.path).events


def test_a_slow_restart_after_an_unprompted_polar_stop_is_waited_for(tmp_path: Path) -> None:
    """A Polar that stops its stream (``01 02``) and takes its start-up time to resume
    after the start command is re-sent keeps its link: the recorder waits, as it does
    after a connection. Before, it dropped the link after ``stall_s`` of the start-up
    silence, reconnected and waited for the start-up again (one more gap, more lost).
    The stop is a gap of the session file."""
    fs = 50.0
    nt = night(fs, 6.0)
    n = nt.time.size
    board = FakeBleBoard.from_night(
        "polar",
        nt,
        speed=1.0,
        cues=[Cue(at=150, kind="stop")],
        start_delay_s=1.5,
        samples_per_frame=10,  # a frame every 0.2 s
    )
    source = polar_source(board, fs, stall_s=0.6)
    source.driver.startup_s = 2.5  # the board's 30 s, scaled down with the delay
    params = RecorderParams(out_dir=tmp_path, stall_s=0.6, backoff_initial_s=0.01, summarise=False)
    _, result = asyncio.run(record_until_done(board, source, params))

    assert board.connects == 1 and source.restarts == 1
    rows = pd.read_csv(result.path, comment="#")
    t = rows["time"].to_numpy()
    assert len(rows) == result.samples == int(board.sent.sum())
    assert (~board.sent).sum() == 75 + 75  # 1.5 s at the start, 1.5 s at the restart
    assert np.all(np.diff(t) > 0)
    k = int(np.flatnonzero(board.sent[75:] == 0)[0])  # samples before the stop
    assert k == 150 - 75
    assert np.flatnonzero(np.diff(t) > 0.5).tolist() == [k - 1]
    [gap] = session(result)["gaps"]
    assert "stopped the stream" in gap["reason"]
    assert gap["start"] == t[k - 1] and gap["end"] == t[k]
    assert session(result)["reconnects"] == 0
    assert _gap_words(result.gaps) == "1 stream stop(s)"  # the morning line: no link dropped
    assert result.live.events == detect_file(result.path).events
    del n


def test_morning_line_tells_link_gaps_from_stream_stops() -> None:
    """``session … (N link gap(s), M stream stop(s))``: a Polar that stopped its stream
    on a link that stayed up is not called a dropped link."""
    lost = LinkGap(1.0, 2.0, "link lost", 0.0, 0.5, attempts=2)
    stop = LinkGap(3.0, 4.0, STREAM_STOPPED, 0.0, 0.5)
    assert _gap_words([]) == "no link gaps"
    assert _gap_words([lost, lost]) == "2 link gap(s)"
    assert _gap_words([lost, stop, stop]) == "1 link gap(s), 2 stream stop(s)"


def test_a_link_lost_again_before_any_sample_is_one_gap(tmp_path: Path) -> None:
    """A link that comes back and drops again before a sample arrived (a flaky link,
    a strap still starting up) leaves one hole in the file: one gap in the session
    file, from the last sample before to the first after, with every attempt counted.
    Before, it was two gaps, the first without an end (as if never back), both from the
    same last sample."""
    fs = 50.0
    nt = night(fs, 6.0)
    # each stream starts 0.5 s after the start command; the second drop comes while the
    # reconnected board is still starting up (before its first sample, 175)
    cues = [Cue(at=100, kind="drop", lost=50), Cue(at=175, kind="drop", lost=50)]
    board = FakeBleBoard.from_night(
        "polar", nt, speed=1.0, cues=cues, start_delay_s=0.5, samples_per_frame=10
    )
    source = polar_source(board, fs, stall_s=0.6)
    source.driver.startup_s = 1.0
    params = RecorderParams(out_dir=tmp_path, stall_s=0.6, backoff_initial_s=0.01, summarise=False)
    _, result = asyncio.run(record_until_done(board, source, params))

    assert board.connects == 3
    rows = pd.read_csv(result.path, comment="#")
    t = rows["time"].to_numpy()
    sent = np.flatnonzero(board.sent)
    assert len(rows) == result.samples == sent.size == 300 - 25 - 50 - 25 - 50 - 25
    assert np.all(np.diff(t) > 0)
    k = int(np.flatnonzero(sent == 99)[0]) + 1  # samples before the first drop
    data = session(result)
    [gap] = data["gaps"]
    assert gap["start"] == t[k - 1] and gap["end"] == t[k]
    tries = board.events().count(("connect", "")) - 1  # all but the first connection
    assert gap["attempts"] == tries >= 2 and gap["back_at"] is not None
    assert "disconnected; then" in gap["reason"]
    assert data["reconnects"] == 1
    assert result.live.error is None


class _SleepLog:
    """Stands in for the recorder module's ``asyncio``: its ``sleep`` notes each delay
    (s) and takes none, so the back-off's delays are exact and the test fast; at the
    ``stop_at``-th delay it sets ``stop`` (Ctrl-C during the back-off) and waits."""

    def __init__(self, stop: asyncio.Event, stop_at: int | None = None) -> None:
        self.delays: list[float] = []
        self.stop = stop
        self.stop_at = stop_at

    def __getattr__(self, name: str) -> object:
        return getattr(asyncio, name)

    async def sleep(self, delay: float) -> None:
        self.delays.append(delay)
        if self.stop_at is not None and len(self.delays) == self.stop_at:
            self.stop.set()
            await asyncio.sleep(3600)
        await asyncio.sleep(0)


def test_backoff_doubles_to_30_s_and_ctrl_c_in_it_ends_the_night_cleanly(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A board gone for good near the end: retries 0.5 s doubling to 30 s; Ctrl-C during
    a back-off ends the recording at once with the night kept, the gap open, and as
    many attempts in the session file as connections were tried. Before, the attempt
    whose back-off was interrupted was counted though never made."""
    import firmware_bridge.recorder as recorder_module

    fs = 200.0
    nt = night(fs, 90.0)
    board = FakeBleBoard.from_night("polar", nt, cues=[Cue(at=6000, kind="drop", refuse=10**6)])
    stop = asyncio.Event()
    sleeps = _SleepLog(stop, stop_at=10)
    monkeypatch.setattr(recorder_module, "asyncio", sleeps)
    rec = Recorder(polar_source(board, fs), RecorderParams(out_dir=tmp_path, summarise=False))

    async def go() -> RecordResult:
        return await asyncio.wait_for(rec.run(stop), 20)

    result = asyncio.run(go())
    assert sleeps.delays == [0.5, 1.0, 2.0, 4.0, 8.0, 16.0, 30.0, 30.0, 30.0, 30.0]
    assert result.stopped_by == "interrupt"
    assert result.samples == int(board.sent.sum()) == 6000
    assert len(pd.read_csv(result.path, comment="#")) == 6000
    data = session(result)
    [gap] = data["gaps"]
    tries = board.events().count(("connect", "")) - 1
    assert tries == 9 and gap["attempts"] == 9
    assert gap["end"] is None and gap["back_at"] is None
    assert data["stopped_by"] == "interrupt" and data["reconnects"] == 0
