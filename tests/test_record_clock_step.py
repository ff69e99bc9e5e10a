"""The computer's clock stepped (NTP, a Raspberry Pi learning the time) during a night
recorded from a virtual serial board on a real pty, read by pyserial.

A step moves no sample: there is no hole (forward) and no false board clock reset
(back) in the recording, and the session file notes the step (``host_clock_steps``).
"""

from __future__ import annotations

import json
import sys
import threading
import time
from pathlib import Path

import numpy as np
import pytest
from recording_run import record_until_done
from test_serial_e2e import align, expected_rows, file_rows, missing_runs

from firmware_bridge.host_clock import SteadyClock
from firmware_bridge.recorder import RecorderParams
from firmware_bridge.serial_source import SerialProtocol, SerialSource, SerialTarget
from pipeline.detector import detect_file
from sim.virtual_serial import BoardConfig, VirtualSerialBoard

pytestmark = pytest.mark.skipif(sys.platform == "win32", reason="needs a pty")

FS = 50.0
NIGHT_S = 14.0
STEP_AT_S = 6.0  # host seconds into the night


class _SteppedClock:
    """``time.time`` that jumps by ``step_s`` once ``step()`` is called."""

    def __init__(self, real) -> None:
        self.real = real
        self.offset = 0.0

    def __call__(self) -> float:
        return self.real() + self.offset


@pytest.mark.parametrize(
    ("protocol", "step_s"),
    [("text:csv", 60.0), ("text:csv", -60.0), ("witmotion", 3600.0), ("text:csv-ms", 60.0)],
)
def test_a_host_clock_step_moves_no_sample(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, protocol: str, step_s: float
) -> None:
    """Boards stamped on arrival (text without a time column, WitMotion) and one with
    its own clock (csv-ms): the host clock set ``step_s`` during the night leaves the
    recording whole and evenly spaced, the session file says when and by how much.
    Before 0.4.5 a step forward left a hole of ``step_s`` in an arrival-stamped
    recording with no gap in the session file, and a step back counted as a board
    clock reset."""
    link = tmp_path / "board"
    board = VirtualSerialBoard(
        BoardConfig(protocol, FS, NIGHT_S / 3600, rate_per_hour=900, seed=4, link=link),
        keep_samples=True,
    )
    clock = _SteppedClock(time.time)
    monkeypatch.setattr(time, "time", clock)
    stepper = threading.Timer(STEP_AT_S, lambda: setattr(clock, "offset", step_s))
    board.open()
    board.start()
    stepper.start()
    source = SerialSource(SerialTarget(str(link)), SerialProtocol.parse(protocol), FS, 2.0)
    params = RecorderParams(out_dir=tmp_path / "out", stall_s=2.0, tz="UTC")
    start = clock()
    try:
        res = record_until_done(board, params, source, tail_s=0.5)
    finally:
        stepper.cancel()
        board.stop()
    assert res.path is not None and res.session_path is not None
    session = json.loads(res.session_path.read_text())
    t, vals = file_rows(res.path)
    idx = align(expected_rows(board), vals)
    assert missing_runs(idx) == []  # value by value, none lost
    assert len(vals) == session["samples"] > 0.8 * FS * NIGHT_S
    steps = np.diff(t)
    assert steps.min() > 0 and steps.max() < 0.5, steps.max()  # no hole, no overlap
    assert t[-1] - t[0] == pytest.approx((idx[-1] - idx[0]) / FS, abs=1.0)
    assert abs(t[0] - start) < 2.0  # absolute time from the host clock at the start
    assert session["gaps"] == [] and session["clock_resets"] == 0
    (noted,) = session["host_clock_steps"]
    assert noted["step_s"] == pytest.approx(step_s, abs=0.5)
    assert session["live_jerks"] == len(detect_file(res.path).events)


def test_the_steady_clock_follows_the_host_clock_until_it_steps(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    clock = _SteppedClock(time.time)
    monkeypatch.setattr(time, "time", clock)
    steady = SteadyClock(wall0=clock(), steady0=time.monotonic())
    monkeypatch.setattr("firmware_bridge.host_clock._boot_seconds", time.monotonic)
    assert abs(steady() - clock()) < 0.01 and abs(steady.step_s()) < 0.01
    clock.offset = -90.0
    assert abs(steady() - (clock() + 90.0)) < 0.01
    assert steady.step_s() == pytest.approx(-90.0, abs=0.01)
