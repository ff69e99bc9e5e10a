"""End to end: a virtual board on a real pty, read by pyserial, recorded with faults."""

from __future__ import annotations

import asyncio
import json
import os
import signal
import stat
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from recording_run import record_until_done

from firmware_bridge.recorder import RecorderParams, RecordResult
from firmware_bridge.serial_source import PORT_CLOSED, SerialProtocol, SerialSource, SerialTarget
from firmware_bridge.serial_text import SerialTextDecoder
from firmware_bridge.witmotion import WitmotionSerialDecoder
from pipeline.detector import detect_file
from pipeline.reader import read_recording
from sim.encoders import encode_text_lines
from sim.virtual_serial import BoardConfig, VirtualSerialBoard, parse_faults

pytestmark = pytest.mark.skipif(sys.platform == "win32", reason="needs a pty")

JERKCOUNT = [sys.executable, "-m", "cli"]


# ----------------------------------------------------------------------- helpers
def expected_rows(board: VirtualSerialBoard) -> np.ndarray:
    """What the decoder makes of every sample the board generated, as ``%.5f`` text."""
    acc = np.concatenate(board.samples)
    fmt = board.cfg.text_format
    if fmt is None:
        dec = WitmotionSerialDecoder(board.cfg.fs)
        data = board.encode(0, acc)
    else:
        # one increasing board clock (the board's own restarts at each reset: fed
        # whole, those times would be out of sequence and negative, i.e. bad lines)
        dec = SerialTextDecoder(board.cfg.fs, fmt)
        data = encode_text_lines(acc, fmt, t=np.arange(len(acc)) / board.cfg.fs + 1.0)
    out = dec.feed(data).acc
    assert out.shape == acc.shape
    return np.char.mod("%.5f", out)


def file_rows(path: Path) -> tuple[np.ndarray, np.ndarray]:
    """Times (float) and ``(n, 3)`` value text of a recording (a torn last line dropped)."""
    frame = pd.read_csv(path, comment="#", dtype=str)
    frame = frame.dropna()
    return frame["time"].astype(float).to_numpy(), frame[["ax", "ay", "az"]].to_numpy(str)


def align(expected: np.ndarray, got: np.ndarray, k: int = 5) -> np.ndarray:
    """Index into ``expected`` of every row of ``got`` (a subsequence; runs matched by k rows)."""
    exp_keys = [",".join(r) for r in expected]
    got_keys = [",".join(r) for r in got]
    idx = np.empty(len(got_keys), dtype=np.int64)
    j = 0
    i = 0
    while i < len(got_keys):
        if j < len(exp_keys) and exp_keys[j] == got_keys[i] and (i == 0 or idx[i - 1] == j - 1):
            idx[i] = j
            i += 1
            j += 1
            continue
        window = got_keys[i : i + k]
        start = j if i == 0 else j
        found = -1
        for jj in range(start, len(exp_keys) - len(window) + 1):
            if exp_keys[jj : jj + len(window)] == window:
                found = jj
                break
        assert found >= 0, f"row {i} of the file ({got_keys[i]}) is not a simulated sample"
        idx[i] = found
        j = found + 1
        i += 1
    return idx


def missing_runs(idx: np.ndarray) -> list[tuple[int, int]]:
    """Runs ``[a, b)`` of expected indices absent between the first and last matched row."""
    d = np.diff(idx)
    assert (d > 0).all(), "samples out of order"
    return [(int(idx[k] + 1), int(idx[k + 1])) for k in np.flatnonzero(d > 1)]


def run_recorder(board: VirtualSerialBoard, params: RecorderParams, source: SerialSource,
                 tail_s: float = 1.0) -> RecordResult:  # fmt: skip
    """Record until the board's night is over (plus ``tail_s``)."""
    return record_until_done(board, params, source, tail_s)


# ----------------------------------------------------------------------- tests
def test_record_text_board_with_faults(tmp_path: Path) -> None:
    """csv-ms board at 25x: garbage, reset, short pause, long pause, unplug."""
    fs, night_s, speed = 100.0, 330.0, 25.0
    faults = parse_faults(
        "garbage@40+200,reset@80+2,pause@120+20,pause@170+60,unplug@250+10", night_s
    )
    link = tmp_path / "board"
    out = tmp_path / "night"
    board = VirtualSerialBoard(
        BoardConfig(
            "text:csv-ms",
            fs,
            night_s / 3600,
            rate_per_hour=900,
            seed=3,
            speed=speed,
            faults=faults,
            link=link,
        ),  # fmt: skip
        keep_samples=True,
    )
    board.open()
    board.start()
    source = SerialSource(SerialTarget(str(link)), SerialProtocol.parse("text:csv-ms"), fs, 1.5)
    params = RecorderParams(
        out_dir=out, stall_s=1.5, backoff_initial_s=0.1, backoff_max_s=0.5,
        far_forward_s=night_s, tz="Europe/Berlin",
    )  # fmt: skip
    try:
        res = run_recorder(board, params, source)
    finally:
        board.stop()
    assert board.error is None
    path = res.path
    assert path is not None and path.name.startswith("recording-") and path.suffix == ".csv"

    # files readable by the owner only
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert stat.S_IMODE(out.stat().st_mode) == 0o700
    assert res.summary_dir is not None
    for f in [res.session_path, *res.summary_dir.iterdir()]:
        assert f is not None and stat.S_IMODE(f.stat().st_mode) == 0o600, f
    assert {"events.csv", "summary.json", "report.html"} <= {
        f.name for f in res.summary_dir.iterdir()
    }

    # every simulated sample is in the file, in order, outside the injected gaps
    t, vals = file_rows(path)
    assert len(t) == res.samples > 15_000
    assert (np.diff(t) > 0).all(), "timestamps must increase strictly"
    idx = align(expected_rows(board), vals)
    runs = missing_runs(idx)
    lossy = [f for f in board.faults_log if f.kind != "garbage"]
    assert len(runs) <= len(lossy)
    for a, b in runs:
        # every hole starts where a fault cut the stream (an unplug also loses the bytes
        # in flight in the pty: up to 50 ms of host time), and ends no earlier than the
        # board came back (later only while the recorder was reconnecting)
        in_flight = int(0.05 * speed * fs)
        f = next(
            (f for f in lossy
             if f.lost_from - (in_flight if f.kind == "unplug" else 1) <= a <= f.lost_from + 1),
            None,
        )  # fmt: skip
        assert f is not None, f"samples {a}-{b} lost outside any fault: {board.faults_log}"
        assert b >= f.lost_to - 1
        reconnect_slack = 3.0 * speed * fs  # a few host seconds of back-off at 25x
        assert b - f.lost_to <= reconnect_slack, (a, b, f)
    # the reset (no reconnect needed) costs exactly its boot time
    reset = next(f for f in board.faults_log if f.kind == "reset")
    assert (reset.lost_from, reset.lost_to) in runs
    # the short pause is a 20 s time jump in the file, spaced by the device clock
    short = next(f for f in board.faults_log if f.kind == "pause")
    k = int(np.searchsorted(idx, short.lost_to))
    assert idx[k] == short.lost_to and idx[k - 1] == short.lost_from - 1
    assert t[k] - t[k - 1] == pytest.approx(20.0 + 1 / fs, abs=2e-3)
    # the recorder saw the link drop and come back; the session log says so
    session = json.loads(res.session_path.read_text())  # type: ignore[union-attr]
    assert session["reconnects"] >= 2 and session["clock_resets"] >= 1  # the reset

    # between consecutive samples the device clock gives the spacing; only where the
    # recorder re-anchored on the host clock (a reconnect or a clock reset that lost no
    # sample) may one step carry the host's arrival latency instead
    steps = np.diff(t)[np.diff(idx) == 1]
    off = np.abs(steps - 1 / fs) > 1.5e-4
    assert off.sum() <= session["reconnects"] + session["clock_resets"], steps[off]
    assert np.all(np.abs(steps[off] - 1 / fs) < 0.5), steps[off]
    assert session["stopped_by"] == "interrupt"
    # the unplug's gap says so in plain words (before 0.4.5 pyserial's "device reports
    # readiness to read but returned no data (device disconnected or multiple access on
    # port?)"); the pauses are a board gone silent
    reasons = [g["reason"].removeprefix(f"{link}: ") for g in session["gaps"]]
    assert PORT_CLOSED in reasons, reasons
    assert all(r == PORT_CLOSED or r.startswith("no data for ") for r in reasons), reasons

    # live events == detect on the written file; the summary holds the same
    det = detect_file(path)
    assert res.live.error is None
    assert len(det.events) > 10
    assert res.live.events == det.events
    assert res.live.activity == det.activity
    events = pd.read_csv(res.summary_dir / "events.csv")
    counted = res.process_result.combined.events
    assert len(events) == len(counted)


def test_record_witmotion_real_time(tmp_path: Path) -> None:
    """WitMotion packets at real time (arrival-stamped): garbage costs no sample."""
    fs = 50.0
    link = tmp_path / "wt"
    board = VirtualSerialBoard(
        BoardConfig("witmotion", fs, 8 / 3600, speed=1.0, seed=5,
                    faults=parse_faults("garbage@2+100,garbage@4+300", 8), link=link),
        keep_samples=True,
    )  # fmt: skip
    board.open()
    board.start()
    source = SerialSource(SerialTarget(str(link)), SerialProtocol.parse("witmotion"), fs, 2.0)
    params = RecorderParams(out_dir=tmp_path / "out", stall_s=2.0, summarise=False)
    try:
        res = run_recorder(board, params, source, tail_s=0.5)
    finally:
        board.stop()
    assert res.path is not None
    t, vals = file_rows(res.path)
    assert (np.diff(t) > 0).all()
    idx = align(expected_rows(board), vals)
    assert missing_runs(idx) == []
    assert len(idx) >= 0.8 * board.cfg.n_samples
    # arrival stamps: host time, spaced by the nominal period on average
    assert abs(t[-1] - time.time()) < 5
    assert np.median(np.diff(t)) == pytest.approx(1 / fs, rel=0.05)


def test_sigkill_leaves_readable_file(tmp_path: Path) -> None:
    """kill -9 of `jerkcount record`: the file reads back, at most ~1 s missing."""
    fs = 100.0
    link = tmp_path / "board"
    board = VirtualSerialBoard(
        BoardConfig("text:csv-ms", fs, 60 / 3600, speed=1.0, seed=9, link=link),
        keep_samples=True,
    )
    board.open()
    board.start()
    out = tmp_path / "out"
    env = {**os.environ, "PYTHONPATH": str(Path(__file__).resolve().parents[1])}
    proc = subprocess.Popen(
        [*JERKCOUNT, "record", "--source", f"serial:{link}", "--protocol", "text:csv-ms",
         "--out", str(out)],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=env,
    )  # fmt: skip
    try:
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            files = list(out.glob("recording-*.csv")) if out.exists() else []
            if files and files[0].stat().st_size > 6 * 100 * 30:
                break
            time.sleep(0.1)
        else:
            pytest.fail(f"no recording: {proc.stderr.read1().decode() if proc.stderr else ''}")
        time.sleep(1.5)
        sent = board.sent
        os.kill(proc.pid, signal.SIGKILL)
        proc.wait(10)
    finally:
        if proc.poll() is None:
            proc.kill()
        board.stop()
    path = files[0]
    rec = read_recording(path)  # a torn last line is tolerated
    assert rec.n > 300
    t, vals = file_rows(path)
    idx = align(expected_rows(board), vals)
    assert missing_runs(idx) == []
    missing_s = (sent - 1 - idx[-1]) / fs
    assert missing_s <= 1.0, f"{missing_s:.2f} s of samples were lost at the kill"
    assert stat.S_IMODE(path.stat().st_mode) == 0o600


def test_cli_sim_device_and_record_sigint(tmp_path: Path) -> None:
    """`jerkcount sim-device` + `jerkcount record`, ended by Ctrl-C: a clean summary."""
    link = tmp_path / "dev"
    out = tmp_path / "out"
    env = {**os.environ, "PYTHONPATH": str(Path(__file__).resolve().parents[1])}
    dev = subprocess.Popen(
        [*JERKCOUNT, "sim-device", "--protocol", "text:csv-ms", "--fs", "50", "--hours", "1",
         "--speed", "20", "--rate", "600", "--faults", "reset@60", "--link", str(link)],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=env, text=True,
    )  # fmt: skip
    rec = None
    try:
        assert dev.stdout is not None
        first = dev.stdout.readline().strip()
        assert first == str(link) and link.is_symlink()
        rec = subprocess.Popen(
            [*JERKCOUNT, "record", "--source", f"serial:{link}", "--protocol", "text:csv-ms",
             "--out", str(out), "--tz", "UTC", "--duration", "1h"],
            stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=env, text=True,
        )  # fmt: skip
        time.sleep(8)
        rec.send_signal(signal.SIGINT)
        stdout, stderr = rec.communicate(timeout=60)
    finally:
        dev.send_signal(signal.SIGINT)
        dev.wait(10)
        if rec is not None and rec.poll() is None:
            rec.kill()
    assert rec.returncode == 0, stderr
    assert "Traceback" not in stderr
    assert "\r" not in stderr  # no live line in a pipe
    assert "recording  " in stdout and "summary    " in stdout
    (path,) = out.glob("recording-*.csv")
    head = path.read_text().splitlines()[:10]
    assert any(line.startswith("# device: serial:") for line in head)
    assert any(line.startswith("# jerkcount_version:") for line in head)
    assert "time,ax,ay,az" in head
    (summary,) = out.glob("summary-*")
    assert (summary / "events.csv").exists() and (summary / "report.html").exists()


def _ignore_sigint() -> None:
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # as in a background job of a script


@pytest.mark.parametrize("sig", [signal.SIGINT, signal.SIGTERM])
def test_sim_device_stops_on_a_signal_even_started_with_sigint_ignored(
    tmp_path: Path, sig: signal.Signals
) -> None:
    link = tmp_path / "dev"
    env = {**os.environ, "PYTHONPATH": str(Path(__file__).resolve().parents[1])}
    dev = subprocess.Popen(
        [*JERKCOUNT, "sim-device", "--protocol", "text:csv-ms", "--fs", "50", "--hours", "1",
         "--speed", "20", "--link", str(link)],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=env, text=True,
        preexec_fn=_ignore_sigint,
    )  # fmt: skip
    try:
        assert dev.stdout is not None
        assert dev.stdout.readline().strip() == str(link)
        assert link.is_symlink()
        dev.send_signal(sig)
        _, stderr = dev.communicate(timeout=20)
    finally:
        if dev.poll() is None:
            dev.kill()
    assert dev.returncode == 0, stderr
    assert "Traceback" not in stderr
    assert not link.exists() and not link.is_symlink(), "the link is removed on the way out"


def test_cli_record_bad_options(tmp_path: Path) -> None:
    """Bad --source/--protocol/port: one line, exit 2, no traceback."""
    env = {**os.environ, "PYTHONPATH": str(Path(__file__).resolve().parents[1])}
    cases = [
        ["--source", "usb:/dev/x", "--protocol", "text"],
        ["--source", "serial:/dev/x", "--protocol", "morse"],
        ["--source", "serial:/dev/x"],
        ["--source", "serial:/dev/x", "--protocol", "text", "--duration", "soon"],
    ]
    for extra in cases:
        r = subprocess.run([*JERKCOUNT, "record", *extra, "--out", str(tmp_path)],
                           capture_output=True, text=True, env=env, timeout=60)  # fmt: skip
        assert r.returncode == 2, (extra, r.stderr)
        lines = r.stderr.strip().splitlines()
        assert len(lines) == 1 and lines[0].startswith("jerkcount: error:"), r.stderr


def test_a_port_that_cannot_be_opened_says_why_plainly(tmp_path) -> None:
    """A missing port (real pyserial open), a permission and a busy port: one short
    reason each, not pyserial's doubled errno text; anything else as pyserial says it."""
    import errno

    import serial

    from firmware_bridge.recorder_setup import make_source
    from firmware_bridge.serial_source import open_problem
    from firmware_bridge.source import LinkLost

    missing = tmp_path / "ttyUSB9"
    src = make_source(f"serial:{missing}", "text:csv-ms")
    with pytest.raises(LinkLost) as err:
        asyncio.run(src.open())
    assert str(err.value) == (
        f"cannot open {missing}: no such port (is the board plugged in? `jerkcount scan` "
        "lists the ports)"
    )
    denied = serial.SerialException(errno.EACCES, "could not open port x: [Errno 13] ...")
    assert open_problem(denied) == (
        "permission denied (on Linux: add yourself to the dialout group, log in again)"
    )
    busy = serial.SerialException(errno.EBUSY, "could not open port x: [Errno 16] ...")
    assert open_problem(busy) == "the port is busy (another program has it open)"
    other = serial.SerialException("could not configure port: baud rate not supported")
    assert open_problem(other) == "could not configure port: baud rate not supported"
