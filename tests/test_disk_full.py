"""A full disk: the recording stops with whole lines on disk and says so in one line;
``process`` names the file it could not write and leaves no half file.

The disk is filled for real by the kernel: a child process whose file-size limit
(``RLIMIT_FSIZE``) is reached gets ``EFBIG`` from ``write``, as a full disk gives
``ENOSPC`` (``SIGXFSZ`` ignored, as a shell would have it for such a test).
"""

from __future__ import annotations

import json
import os
import resource
import signal
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from firmware_bridge.recorder_writer import RecordingWriter, WriteFailed
from pipeline.reader import open_recording, read_recording

ROOT = Path(__file__).resolve().parents[1]
JERKCOUNT = [sys.executable, "-m", "cli"]
NIGHT = ROOT / "tests" / "data" / "formats" / "night.csv"


def _limit(size: int):  # noqa: ANN202 - a preexec_fn
    def apply() -> None:
        signal.signal(signal.SIGXFSZ, signal.SIG_IGN)
        resource.setrlimit(resource.RLIMIT_FSIZE, (size, size))

    return apply


def _env() -> dict[str, str]:
    return {**os.environ, "PYTHONPATH": str(ROOT)}


def test_writer_cuts_back_to_the_last_whole_write(tmp_path: Path) -> None:
    """In a child with a 4 000-byte limit: the failed write leaves the file as it was
    before it (the kernel wrote part of it), and the error names the file."""
    path = tmp_path / "rec.csv"
    code = (
        "import sys, numpy as np\n"
        "from pathlib import Path\n"
        "from firmware_bridge.recorder_writer import RecordingWriter, WriteFailed\n"
        "w = RecordingWriter(Path(sys.argv[1]), {'device': 'x'})\n"
        "t = (1767302400 + np.arange(40) / 100) * 10000\n"
        "a = np.tile([0.1, 0.2, 0.9], (40, 1))\n"
        "sizes = []\n"
        "try:\n"
        "    for k in range(100):\n"
        "        w.append(t.astype(np.int64) + k * 4000, a)\n"
        "        sizes.append(w.stats.bytes)\n"
        "except WriteFailed as err:\n"
        "    print(sizes[-1], err.errno, err)\n"
        "w.close()\n"
    )
    out = subprocess.run([sys.executable, "-c", code, str(path)], env=_env(), check=True,
                         capture_output=True, text=True, preexec_fn=_limit(4000))  # fmt: skip
    size, errno, message = out.stdout.split(" ", 2)
    assert int(errno) == 27  # EFBIG
    assert message.strip() == f"cannot write {path}: File too large"
    assert path.stat().st_size == int(size) < 4000
    text = path.read_text()
    assert text.endswith("\n")
    rows = [s for s in text.splitlines() if s and not s.startswith("#")][1:]
    assert len(rows) % 40 == 0 and all(s.endswith(",0.10000,0.20000,0.90000") for s in rows)


def test_writer_error_is_raised_as_write_failed(tmp_path: Path) -> None:
    """``WriteFailed`` carries the file, errno and reason (a closed descriptor: EBADF)."""
    w = RecordingWriter(tmp_path / "r.csv", {})
    assert w._fd is not None
    os.close(w._fd)
    with pytest.raises(WriteFailed, match=r"r\.csv: Bad file descriptor") as info:
        w.append(np.array([17673024000000]), np.zeros((1, 3)))
    assert info.value.errno == 9
    w._fd = None


def _record_with_limit(
    tmp_path: Path, limit: int, fs: str, duration: str, speed: str = "1"
) -> subprocess.CompletedProcess[str]:
    """`jerkcount record` from a `sim-device` board over a pseudo-terminal into
    ``tmp_path/out``, in a child whose files may not grow past ``limit`` bytes."""
    link = tmp_path / "dev"
    dev = subprocess.Popen(
        [*JERKCOUNT, "sim-device", "--protocol", "text:csv-ms", "--fs", fs, "--hours", "1",
         "--speed", speed, "--link", str(link)],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=_env(), text=True,
    )  # fmt: skip
    try:
        assert dev.stdout is not None
        assert dev.stdout.readline().strip() == str(link)
        return subprocess.run(
            [*JERKCOUNT, "record", "--source", f"serial:{link}", "--protocol", "text:csv-ms",
             "--out", str(tmp_path / "out"), "--tz", "UTC", "--duration", duration],
            capture_output=True, text=True, env=_env(), timeout=120, preexec_fn=_limit(limit),
        )  # fmt: skip
    finally:
        dev.send_signal(signal.SIGINT)
        dev.wait(10)


def test_record_stops_on_a_full_disk_and_keeps_the_night(tmp_path: Path) -> None:
    """`sim-device` + `record` with a 200 kB file limit: exit 1, one error line naming
    the recording, every sample before it readable, the session says why."""
    out = tmp_path / "out"
    rec = _record_with_limit(tmp_path, 200_000, fs="100", duration="10m", speed="20")
    assert rec.returncode == 1, rec.stderr
    assert "Traceback" not in rec.stderr
    (path,) = out.glob("recording-*.csv")
    errors = [s for s in rec.stderr.splitlines() if s.startswith("jerkcount: error:")]
    assert errors == [s for s in rec.stderr.splitlines() if "error" in s.lower()]
    assert len(errors) == 1
    assert errors[0].startswith(f"jerkcount: error: cannot write {path}: File too large: the "
                                "recording stopped after ")  # fmt: skip
    assert errors[0].endswith(" h; what came before is kept")
    assert path.stat().st_size <= 200_000 and path.read_bytes().endswith(b"\n")
    session = json.loads(next(out.glob("recording-*.session.json")).read_text())
    assert session["stopped_by"] == "write failed"
    assert session["write_error"] == f"cannot write {path}: File too large"
    assert session["writer"]["bytes"] == path.stat().st_size
    assert len(read_recording(path).acc) >= session["samples"] == session["writer"]["rows"]
    with open_recording(path) as stream:
        rows = sum(len(c.acc) for c in stream.chunks())
        assert stream.stats.torn_last_line_dropped == 0  # whole lines: cut back, not torn
    assert rows >= session["samples"] > 1000


def test_process_names_the_file_it_cannot_write(tmp_path: Path) -> None:
    """`process` with a 3 000-byte limit: summary.json does not fit; one line, exit 1,
    and no file of it (nor a temporary one, nor the empty --out it made) left behind."""
    out = tmp_path / "p"
    res = subprocess.run([*JERKCOUNT, "process", str(NIGHT), "--out", str(out), "--tz", "UTC"],
                         capture_output=True, text=True, env=_env(),
                         preexec_fn=_limit(3000))  # fmt: skip
    assert res.returncode == 1
    lines = res.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("jerkcount: error: ")
    assert lines[0].endswith(": File too large")
    failed = Path(lines[0].removeprefix("jerkcount: error: ").removesuffix(": File too large"))
    assert failed.parent == out
    assert not failed.exists()
    assert not out.exists()  # made by this run, nothing landed in it: removed again
    out.mkdir()  # a folder that was there before stays, empty as it was
    res = subprocess.run([*JERKCOUNT, "process", str(NIGHT), "--out", str(out), "--tz", "UTC"],
                         capture_output=True, text=True, env=_env(),
                         preexec_fn=_limit(3000))  # fmt: skip
    assert res.returncode == 1
    assert out.is_dir() and list(out.iterdir()) == []


def test_record_on_a_full_disk_from_the_start(tmp_path: Path) -> None:
    """A 100-byte file limit: the header does not fit; one line, exit 2, no file left."""
    out = tmp_path / "out"
    rec = _record_with_limit(tmp_path, 100, fs="50", duration="1m")
    assert rec.returncode == 2, rec.stderr
    lines = rec.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith(f"jerkcount: error: cannot write {out}/")
    assert lines[0].endswith(".csv: File too large: nothing recorded")
    assert list(out.glob("recording-*.csv")) == []
