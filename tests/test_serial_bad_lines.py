"""Corrupted lines over a real pty (read by pyserial) never reach the recording.

A board writes ``csv-ms`` lines at 100 Hz in real time; now and then a corrupted line
goes out instead of (or besides) a sample: a value of 1e308 g, a board time of 1e99 ms
or a negative one, a stray line with an older board time (a line that lost its leading
digits). The recording must read back with :func:`pipeline.reader.read_recording`, the
session file must count the bad lines, and the stamps must stay on the host clock.
"""

from __future__ import annotations

import json
import os
import sys
import threading
import time
import tty
from pathlib import Path

import numpy as np
import pytest
from recording_run import record_until_done

from firmware_bridge.recorder import RecorderParams, RecordResult
from firmware_bridge.serial_source import SerialProtocol, SerialSource, SerialTarget
from pipeline.reader import read_recording

pytestmark = pytest.mark.skipif(sys.platform == "win32", reason="needs a pty")

FS = 100.0
BOARD_T0_MS = 22_000


class LineBoard:
    """A csv-ms board on a pty: sample ``i`` has board time ``BOARD_T0_MS + 10 i`` ms
    and x = ``i * 1e-5`` g (so a recorded row names its sample); ``extra`` maps a
    sample index to raw lines written just before it. ``sent`` holds the host epoch
    time (s) at which each sample was written."""

    def __init__(self, seconds: float, extra: dict[int, bytes]) -> None:
        self.master, self.slave = os.openpty()
        tty.setraw(self.slave)
        self.path = os.ttyname(self.slave)
        self.n = int(seconds * FS)
        self.extra = extra
        self.sent: dict[int, float] = {}
        self.done = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def start(self) -> None:
        """Start writing in a thread."""
        self._thread.start()

    def _run(self) -> None:
        t0 = time.monotonic()
        for i in range(self.n):
            delay = t0 + i / FS - time.monotonic()
            if delay > 0:
                time.sleep(delay)
            line = f"{BOARD_T0_MS + 10 * i},{i * 1e-5:.5f},0.00000,1.00000\n".encode()
            os.write(self.master, self.extra.get(i, b"") + line)
            self.sent[i] = time.time()
        self.done.set()

    def close(self) -> None:
        """Close both ends of the pty."""
        self._thread.join(5)
        for fd in (self.master, self.slave):
            os.close(fd)


def record(
    board: LineBoard,
    out: Path,
    protocol: str = "text:csv-ms",
    stall_s: float = 2.0,
    linger_s: float = 0.5,
    summarise: bool = False,
) -> RecordResult:
    """Record ``board`` read as ``protocol`` until it has written its last line (plus
    ``linger_s``)."""
    source = SerialSource(SerialTarget(board.path), SerialProtocol.parse(protocol), FS, stall_s)
    params = RecorderParams(out_dir=out, stall_s=stall_s, summarise=summarise)

    board.start()
    try:
        return record_until_done(board, params, source, linger_s)
    finally:
        board.close()


def recorded(path: Path) -> tuple[np.ndarray, np.ndarray]:
    """Epoch times (s) and sample indices of a recording's rows."""
    rows = [line.split(",") for line in path.read_text().splitlines() if line and line[0].isdigit()]
    t = np.array([float(r[0]) for r in rows])
    idx = np.array([round(float(r[1]) / 1e-5) for r in rows])
    return t, idx


def session(result: RecordResult) -> dict:
    assert result.session_path is not None
    return json.loads(result.session_path.read_text())


def test_corrupted_values_and_times_are_bad_lines_and_the_file_reads(tmp_path: Path) -> None:
    """1e308 g, a board time of 1e99 ms, a negative board time, inf and nan: each a
    bad line; the recording reads back whole."""
    bad = {
        100: b"22990,1e308,0,1\n",
        150: b"1e99,1,2,3\n",
        200: b"-5,0.5,0.5,0.5\n",
        250: b"24490,inf,0,1\n",
        300: b"24990,0.5,nan,1\n",
        350: b"25490,0,0,-1e6\n",
    }
    result = record(LineBoard(5.0, bad), tmp_path / "out")
    assert result.path is not None
    rec = read_recording(result.path)  # the reader accepts every row the recorder wrote
    assert np.isfinite(rec.acc).all(axis=1).sum() >= 0.9 * 5.0 * FS
    t, idx = recorded(result.path)
    assert (np.diff(idx) > 0).all() and (np.diff(t) > 0).all()
    assert np.abs(np.diff(t)).max() < 0.5  # no sample far out of place
    stats = session(result)["decoder"]
    assert stats["bad"] >= len(bad)
    assert result.clock_resets == 0


def test_a_stray_older_board_time_does_not_move_the_time_base(tmp_path: Path) -> None:
    """A line whose board time lost its leading digits (12030 in a stream at ~23000 ms)
    is a bad line: the stamps after it stay within 0.1 s of the host's send times."""
    board = LineBoard(5.0, {100: b"12030,0.5,0,1\n", 300: b"2030,0.5,0,1\n"})
    result = record(board, tmp_path / "out")
    assert result.path is not None
    t, idx = recorded(result.path)
    assert 0.5 not in set(idx * 1e-5)  # the stray lines' samples are not in the file
    sent = np.array([board.sent[i] for i in idx])
    late = t - sent
    after = idx > 100
    assert after.sum() > 300
    # the offset is fixed at the first batch: what matters is it does not move later
    assert np.abs(late[after] - np.median(late[~after])).max() < 0.1
    assert np.abs(late).max() < 0.5
    assert result.clock_resets == 0
    assert session(result)["decoder"]["bad"] >= 2
    read_recording(result.path)


def record_as(board: LineBoard, out: Path, protocol: str) -> RecordResult:
    """Record ``board`` (which sends csv-ms) read as ``protocol``."""
    return record(board, out, protocol, stall_s=5.0, linger_s=0.0, summarise=True)


@pytest.mark.parametrize(("protocol", "counted"), [("text:puck", "lines"), ("witmotion", "bytes")])
def test_the_wrong_protocol_says_what_arrived(tmp_path: Path, protocol: str, counted: str) -> None:
    """A csv-ms board read as puck JSON or WitMotion packets: the end says that bytes
    (lines) arrived that none could be read as that protocol, quotes a line, names
    --protocol, and says nothing of a live detection on the removed file."""
    result = record_as(LineBoard(2.0, {}), tmp_path / "out", protocol)
    assert result.removed_empty and result.samples == 0
    why = result.summary_error or ""
    profile = "text:puck" if protocol == "text:puck" else "witmotion-serial"
    assert f"arrived from the board but none could be read as {profile}: check --protocol" in why
    assert why.endswith("nothing recorded")
    assert f" {counted}" in why.split("arrived")[0]
    if counted == "lines":
        assert "(the board sent e.g. '22" in why and ",0.00000,1.00000')" in why
    assert result.live.error is None
    stored = session(result)
    assert stored["recording_removed"] is True and stored["summary_error"] == why
    assert stored["live_error"] is None and stored["decoder"]["bytes_in"] > 1000


def test_record_that_recorded_nothing_exits_2(tmp_path: Path) -> None:
    """The command line: a board read with the wrong protocol records nothing, says so,
    and the exit status is 2, as for a board never reached (it was 0)."""
    import subprocess

    board = LineBoard(6.0, {})
    board.start()
    try:
        res = subprocess.run(
            [sys.executable, "-m", "cli", "record", "--source", f"serial:{board.path}",
             "--protocol", "text:puck", "--out", str(tmp_path / "out"), "--duration", "3"],
            capture_output=True, text=True, timeout=90,
            cwd=Path(__file__).resolve().parents[1],
        )  # fmt: skip
    finally:
        board.close()
    assert res.returncode == 2, res.stdout + res.stderr
    text = res.stdout + res.stderr
    assert "recording  none: nothing recorded, so" in text
    assert "none could be read as text:puck: check --protocol" in text
    session_line = [ln for ln in text.splitlines() if ln.startswith("session    ")]
    assert len(session_line) == 1 and ".session.json  (" in session_line[0]
    assert "Traceback" not in text
    assert list((tmp_path / "out").glob("*.csv")) == []
