"""The session file survives a full disk: it holds its space from the start and is
rewritten in place when the disk is full; a failure is one plain warning."""

from __future__ import annotations

import asyncio
import contextlib
import errno
import json
import logging
import subprocess
import sys
from pathlib import Path

import pytest

import firmware_bridge.session_file as session_file
from firmware_bridge.recorder import Recorder, RecorderParams, RecordResult
from firmware_bridge.serial_source import SerialProtocol, SerialSource, SerialTarget
from firmware_bridge.session_file import RESERVE_BYTES, SessionFile
from pipeline.reader import read_recording

sys.path.insert(0, str(Path(__file__).parent))
from test_serial_bad_lines import LineBoard  # noqa: E402

FS = 100.0


@contextlib.contextmanager
def _full_disk(monkeypatch: pytest.MonkeyPatch):
    """Every atomic write fails as on a full disk."""

    @contextlib.contextmanager
    def full(path, *args, **kwargs):
        raise OSError(errno.ENOSPC, "No space left on device", str(path))
        yield  # pragma: no cover

    monkeypatch.setattr(session_file, "atomic_write", full)
    yield


def test_session_file_is_padded_json(tmp_path: Path) -> None:
    f = SessionFile(tmp_path / "s.json")
    assert f.write({"a": 1, "gaps": [float("nan")]})
    raw = (tmp_path / "s.json").read_bytes()
    assert len(raw) == RESERVE_BYTES
    assert json.loads(raw) == {"a": 1, "gaps": [None]}


def test_a_full_disk_rewrites_the_session_in_place(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    f = SessionFile(tmp_path / "s.json")
    f.write({"stopped_by": None})
    with _full_disk(monkeypatch), caplog.at_level(logging.WARNING):
        assert f.write({"stopped_by": "write failed", "gaps": ["x" * 100] * 50})
    assert json.loads((tmp_path / "s.json").read_text())["stopped_by"] == "write failed"
    assert (tmp_path / "s.json").stat().st_size == RESERVE_BYTES
    assert f.in_place == 1 and not caplog.records


def test_a_session_that_cannot_be_written_is_one_plain_warning(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    f = SessionFile(tmp_path / "s.json")
    with _full_disk(monkeypatch), caplog.at_level(logging.WARNING):
        assert not f.write({"a": 1})
        assert not f.write({"a": 2})
    warnings = [r.getMessage() for r in caplog.records if r.levelno >= logging.WARNING]
    assert warnings == [f"cannot write {tmp_path / 's.json'}: the disk is full"]
    assert not (tmp_path / "s.json").exists()


@pytest.fixture
def small_disk(tmp_path: Path):
    """A 1 MiB tmpfs (skipped where mounting is not permitted)."""
    where = tmp_path / "disk"
    where.mkdir()
    try:
        subprocess.run(["mount", "-t", "tmpfs", "-o", "size=1m", "tmpfs", str(where)],
                       check=True, capture_output=True, timeout=10)  # fmt: skip
    except (OSError, subprocess.SubprocessError) as err:
        pytest.skip(f"cannot mount a small tmpfs here: {err}")
    try:
        yield where
    finally:
        subprocess.run(["umount", "-l", str(where)], capture_output=True, timeout=10)


def test_recording_onto_a_disk_that_fills_keeps_its_session_file(
    small_disk: Path, caplog: pytest.LogCaptureFixture
) -> None:
    """A real pty board, the disk filled up (by another file) one second in: the
    recording stops, reads back, and the session file says why."""
    out = small_disk / "nights"
    board = LineBoard(6.0, {})
    source = SerialSource(SerialTarget(board.path), SerialProtocol.parse("text:csv-ms"), FS, 2.0)
    params = RecorderParams(out_dir=out, stall_s=2.0, summarise=True)

    async def main() -> RecordResult:
        stop = asyncio.Event()

        async def fill() -> None:
            while not list(out.glob("*.session.json")):
                await asyncio.sleep(0.05)
            await asyncio.sleep(1.0)
            with contextlib.suppress(OSError), open(small_disk / "filler", "wb") as fh:
                while True:
                    fh.write(b"\0" * 4096)
                    fh.flush()
            while not board.done.is_set():
                await asyncio.sleep(0.05)
            stop.set()

        filler = asyncio.ensure_future(fill())
        try:
            return await Recorder(source, params).run(stop)
        finally:
            filler.cancel()

    board.start()
    try:
        with caplog.at_level(logging.WARNING):
            result = asyncio.run(main())
    finally:
        board.close()
    assert result.stopped_by == "write failed" and result.write_error
    assert result.path is not None and result.samples > 50
    assert len(read_recording(result.path).acc) >= result.samples
    assert result.session_path is not None
    session = json.loads(result.session_path.read_text())
    assert session["stopped_by"] == "write failed"
    assert session["write_error"] == result.write_error
    assert session["samples"] == result.samples
    session_warnings = [r for r in caplog.records if "session.json" in r.getMessage()]
    assert session_warnings == []
