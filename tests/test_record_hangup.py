"""`jerkcount record` whose terminal closes (SIGHUP: a closed window, a dropped ssh
session): the night is finished or carried on, never cut off without its log.

The recorder runs on a real pseudo-terminal as its controlling terminal; closing the
terminal's master side is what a terminal emulator or sshd does, and the kernel sends
SIGHUP. The board is a virtual serial board on a second pty, read by pyserial.
"""

from __future__ import annotations

import fcntl
import io
import json
import os
import select
import subprocess
import sys
import termios
import time
from pathlib import Path

import numpy as np
import pytest
from test_serial_e2e import align, expected_rows, file_rows, missing_runs

from firmware_bridge.recorder_live import LiveLine, LiveStatus
from pipeline.detector import detect_file
from pipeline.reader import read_recording
from sim.virtual_serial import BoardConfig, VirtualSerialBoard

pytestmark = pytest.mark.skipif(sys.platform == "win32", reason="needs a pty")

JERKCOUNT = [sys.executable, "-m", "cli"]
FS = 50.0


def _env() -> dict[str, str]:
    return {**os.environ, "PYTHONPATH": str(Path(__file__).resolve().parents[1])}


def _own_terminal() -> None:
    """In the child: a session of its own with stdin (the pty's slave) as its
    controlling terminal, as a login shell's command has."""
    os.setsid()
    fcntl.ioctl(0, termios.TIOCSCTTY, 0)


def _drain(master: int, seconds: float) -> bytes:
    """Read what the recorder writes to its terminal for ``seconds``."""
    out = b""
    end = time.monotonic() + seconds
    while time.monotonic() < end:
        ready, _, _ = select.select([master], [], [], 0.1)
        if ready:
            try:
                out += os.read(master, 65536)
            except OSError:
                break
    return out


def _record_and_hang_up(tmp_path: Path, extra: list[str], before_s: float):
    """Record a 50 Hz board on a terminal, close the terminal after ``before_s`` s and
    wait for the recorder to end: (board, return code, what the terminal showed)."""
    link = tmp_path / "board"
    board = VirtualSerialBoard(
        BoardConfig("text:csv-ms", FS, 120 / 3600, rate_per_hour=600, seed=5, link=link),
        keep_samples=True,
    )
    board.open()
    board.start()
    master, slave = os.openpty()
    proc = None
    try:
        proc = subprocess.Popen(
            [*JERKCOUNT, "record", "--source", f"serial:{link}", "--protocol", "text:csv-ms",
             "--out", str(tmp_path / "out"), "--tz", "UTC", *extra],
            stdin=slave, stdout=slave, stderr=slave, env=_env(), preexec_fn=_own_terminal,
        )  # fmt: skip
        os.close(slave)
        shown = _drain(master, before_s)
        os.close(master)  # the terminal closes: the kernel hangs up its session
        master = -1
        code = proc.wait(60)
    finally:
        if master >= 0:
            os.close(master)
        if proc is not None and proc.poll() is None:
            proc.kill()
        board.stop()
    return board, code, shown.decode("utf-8", "replace")


def _session(out: Path) -> dict:
    (path,) = out.glob("recording-*.session.json")
    return json.loads(path.read_text())


def test_a_closed_terminal_ends_the_night_as_ctrl_c_does(tmp_path: Path) -> None:
    """Without --duration, SIGHUP ends the recording cleanly: every sample up to then
    in the file, the session file finished (stopped_by hangup, samples, end) and the
    summary written. Before 0.4.5 SIGHUP killed the recorder: the session file said 0
    samples and no end, and there was no summary."""
    out = tmp_path / "out"
    board, code, shown = _record_and_hang_up(tmp_path, [], before_s=8.0)
    assert "streaming" in shown  # the live line was on that terminal
    assert code == 0
    (path,) = out.glob("recording-*.csv")
    session = _session(out)
    assert session["stopped_by"] == "hangup"
    assert session["terminal_closed"] is not None and session["end"] is not None
    t, vals = file_rows(path)
    assert session["samples"] == session["writer"]["rows"] == len(vals) > 5 * FS
    idx = align(expected_rows(board), vals)
    assert missing_runs(idx) == []  # value by value what the board sent, none lost
    assert session["live_jerks"] == len(detect_file(path).events)
    (summary,) = out.glob("summary-*")
    assert session["summary"] == str(summary)
    assert (summary / "events.csv").exists() and (summary / "report.html").exists()


def test_a_closed_terminal_with_a_duration_records_to_its_end(tmp_path: Path) -> None:
    """With --duration the night goes on after the terminal closed, to its end, without
    a hole, and the session file and the summary are written then."""
    out = tmp_path / "out"
    t_hangup = time.time() + 5.0
    board, code, _ = _record_and_hang_up(tmp_path, ["--duration", "14s"], before_s=5.0)
    assert code == 0
    (path,) = out.glob("recording-*.csv")
    session = _session(out)
    assert session["stopped_by"] == "duration"
    assert session["terminal_closed"] is not None
    assert session["gaps"] == []
    t, vals = file_rows(path)
    assert t[-1] > t_hangup + 6.0  # recorded well past the hang-up
    idx = align(expected_rows(board), vals)
    assert missing_runs(idx) == []
    assert session["samples"] == len(vals) == read_recording(path).n
    assert np.max(np.diff(t)) < 0.5
    assert (next(out.glob("summary-*")) / "summary.json").exists()


def test_nohup_keeps_recording_after_the_terminal_closed(tmp_path: Path) -> None:
    """SIGHUP ignored before the start (``nohup``) stays ignored: without --duration the
    recording goes on after the terminal closed (ended later by SIGTERM, cleanly)."""
    link = tmp_path / "board"
    board = VirtualSerialBoard(
        BoardConfig("text:csv-ms", FS, 120 / 3600, seed=6, link=link), keep_samples=True
    )
    board.open()
    board.start()
    out = tmp_path / "out"
    master, slave = os.openpty()

    def nohup() -> None:
        _own_terminal()
        import signal

        signal.signal(signal.SIGHUP, signal.SIG_IGN)

    proc = subprocess.Popen(
        [*JERKCOUNT, "record", "--source", f"serial:{link}", "--protocol", "text:csv-ms",
         "--out", str(out), "--tz", "UTC"],
        stdin=slave, stdout=slave, stderr=slave, env=_env(), preexec_fn=nohup,
    )  # fmt: skip
    os.close(slave)
    try:
        _drain(master, 4.0)
        os.close(master)
        time.sleep(4.0)
        assert proc.poll() is None, "the recorder ended with its terminal"
        proc.terminate()
        code = proc.wait(60)
    finally:
        if proc.poll() is None:
            proc.kill()
        board.stop()
    assert code == 0
    session = _session(out)
    assert session["stopped_by"] == "interrupt"
    assert session["terminal_closed"] is None
    t, _ = file_rows(next(out.glob("recording-*.csv")))
    assert t[-1] - t[0] > 6.0


class _GoneTerminal(io.StringIO):
    """A terminal that hung up: every write fails with EIO."""

    def isatty(self) -> bool:
        return True

    def write(self, text: str) -> int:
        raise OSError(5, "Input/output error")


def test_the_live_line_turns_off_when_its_terminal_is_gone() -> None:
    """A write to a terminal that is gone (EIO) turns the live line off; before 0.4.5 it
    raised out of the recorder's loop and ended the night without its summary."""
    line = LiveLine(_GoneTerminal(), every_s=0.0)
    assert line.enabled
    line.update(LiveStatus(samples=5), force=True)
    assert not line.enabled
    line.note("writing the summary")
    line.close(LiveStatus())
