"""The recordings' folder (or the recording) removed during the night, while a virtual
serial board on a real pty streams to the recorder through pyserial."""

from __future__ import annotations

import json
import shutil
import stat
import sys
import threading
from pathlib import Path

import pytest
from recording_run import record_until_done
from test_serial_e2e import align, expected_rows, file_rows, missing_runs

from firmware_bridge.recorder import RecorderParams
from firmware_bridge.serial_source import SerialProtocol, SerialSource, SerialTarget
from pipeline.detector import detect_file
from sim.virtual_serial import BoardConfig, VirtualSerialBoard

pytestmark = pytest.mark.skipif(sys.platform == "win32", reason="needs a pty")

FS = 50.0


@pytest.mark.parametrize("what", ["folder", "file"])
def test_a_recording_removed_during_the_night_is_put_back_whole(tmp_path: Path, what: str) -> None:
    """``rm -rf`` of the folder (or ``rm`` of the recording) 4 s into a 12 s night: the
    recording is put back under its name with every sample from the start, the folder
    private again, and the night goes on into it; the session file and the summary are
    there in the morning. Before 0.4.5 the rest of the night went into the removed file:
    the morning line named a recording that did not exist and there was no summary."""
    link = tmp_path / "board"
    out = tmp_path / "out"
    board = VirtualSerialBoard(
        BoardConfig("text:csv-ms", FS, 12 / 3600, rate_per_hour=900, seed=8, link=link),
        keep_samples=True,
    )

    def remove() -> None:
        if what == "folder":
            shutil.rmtree(out)
        else:
            for path in out.glob("recording-*.csv"):
                path.unlink()

    remover = threading.Timer(4.0, remove)
    board.open()
    board.start()
    remover.start()
    source = SerialSource(SerialTarget(str(link)), SerialProtocol.parse("text:csv-ms"), FS, 2.0)
    params = RecorderParams(out_dir=out, stall_s=2.0, tz="UTC")
    try:
        res = record_until_done(board, params, source, tail_s=0.5)
    finally:
        remover.cancel()
        board.stop()
    assert res.path is not None and res.path.exists()
    assert stat.S_IMODE(out.stat().st_mode) == 0o700
    assert stat.S_IMODE(res.path.stat().st_mode) == 0o600
    t, vals = file_rows(res.path)
    idx = align(expected_rows(board), vals)
    assert missing_runs(idx) == []  # from the first sample to the last, none lost
    assert len(vals) == res.samples > 0.8 * FS * 12
    session = json.loads(res.session_path.read_text())  # type: ignore[union-attr]
    assert len(session["recording_restored"]) == 1
    assert session["samples"] == session["writer"]["rows"] == len(vals)
    assert session["writer"]["bytes"] == res.path.stat().st_size
    assert session["stopped_by"] == "interrupt" and session["write_error"] is None
    assert res.summary_dir is not None and (res.summary_dir / "report.html").exists()
    assert session["live_jerks"] == len(detect_file(res.path).events)


def test_the_session_file_is_kept_current_during_the_night(tmp_path: Path) -> None:
    """Read in the middle of the night (as after a crash or a power cut), the session
    file tells the samples recorded up to about ``session_s`` before. Before 0.4.5 it
    was written only at the start, at reconnections and at the end: after a crash it
    said 0 samples."""
    link = tmp_path / "board"
    out = tmp_path / "out"
    board = VirtualSerialBoard(
        BoardConfig("text:csv-ms", FS, 10 / 3600, seed=9, link=link), keep_samples=True
    )
    seen: list[tuple[int, int]] = []

    def snapshot() -> None:
        (session,) = out.glob("recording-*.session.json")
        (path,) = out.glob("recording-*.csv")
        rows = len(file_rows(path)[0])
        seen.append((json.loads(session.read_text())["samples"], rows))

    peek = threading.Timer(6.0, snapshot)
    board.open()
    board.start()
    peek.start()
    source = SerialSource(SerialTarget(str(link)), SerialProtocol.parse("text:csv-ms"), FS, 2.0)
    params = RecorderParams(out_dir=out, stall_s=2.0, session_s=1.0, summarise=False)
    try:
        res = record_until_done(board, params, source, tail_s=0.5)
    finally:
        peek.cancel()
        board.stop()
    ((samples, rows),) = seen
    assert rows > 4 * FS
    assert rows - 2 * FS <= samples <= rows  # at most ~1 s (plus a read) behind
    assert json.loads(res.session_path.read_text())["samples"] == res.samples  # type: ignore[union-attr]
