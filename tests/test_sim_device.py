"""The virtual serial board never waits for a reader: like a UART it drops what nobody
reads, and its night ends on time."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from pathlib import Path

import pytest

from sim.virtual_serial import BoardConfig, VirtualSerialBoard

pytestmark = pytest.mark.skipif(sys.platform == "win32", reason="needs a pty")

JERKCOUNT = [sys.executable, "-m", "cli"]


def test_cli_sim_device_without_a_reader_ends_with_its_night(tmp_path: Path) -> None:
    """`jerkcount sim-device --hours 0.002 --speed 1` (7.2 s) with nobody reading the
    pty exits by itself within the night's length plus 5 s."""
    link = tmp_path / "dev"
    env = {**os.environ, "PYTHONPATH": str(Path(__file__).resolve().parents[1])}
    night_s = 0.002 * 3600
    start = time.monotonic()
    proc = subprocess.run(
        [*JERKCOUNT, "sim-device", "--hours", "0.002", "--speed", "1", "--fs", "200",
         "--link", str(link)],
        capture_output=True, text=True, env=env, timeout=night_s + 30,
    )  # fmt: skip
    took = time.monotonic() - start
    assert proc.returncode == 0, proc.stderr
    assert took < night_s + 5, f"took {took:.1f} s for a {night_s:.1f} s night"
    assert proc.stdout.splitlines()[0] == str(link)
    assert not link.exists()


def test_board_drops_what_does_not_fit_and_counts_it() -> None:
    """No reader, a 4 kB hold-back: the board runs its 3 s night in about 3 s and counts
    the bytes the pty had no room for."""
    board = VirtualSerialBoard(BoardConfig(fs=1000.0, hours=3 / 3600, tx_buffer_bytes=4096))
    board.open()
    start = time.monotonic()
    try:
        board.run()
    finally:
        board.close()
    took = time.monotonic() - start
    assert took < 3.0 + 1.5
    assert board.bytes_dropped > 0 and board.bytes_sent > 0
    assert board.sent == board.cfg.n_samples
