"""The virtual serial board never waits for a reader: like a UART it drops what nobody
reads, and its night ends on time."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from pathlib import Path

import pytest

from sim.virtual_serial import BoardConfig, Fault, VirtualSerialBoard, night_segments, parse_faults

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


# ------------------------------------------------------------- settings up front
def sim_device(*args: str, timeout: float = 60) -> subprocess.CompletedProcess:
    """`jerkcount sim-device ARGS` in a subprocess."""
    env = {**os.environ, "PYTHONPATH": str(Path(__file__).resolve().parents[1])}
    return subprocess.run([*JERKCOUNT, "sim-device", *args], capture_output=True, text=True,
                          env=env, timeout=timeout)  # fmt: skip


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--protocol", "text:bogus"], "unknown text format 'bogus'; presets: csv, csv-ms, "
         "tsv, tsv-ms, adafruit, mpu6050-raw, puck or auto"),
        (["--protocol", "text:auto"], "cannot encode 'auto': choose a text format"),
        (["--protocol", "textual"], "protocol must be witmotion or text[:FORMAT], got "
         "'textual'"),
        (["--seed", "-1"], "seed must be a whole number >= 0, got -1"),
        (["--hours", "0.0001", "--fs", "1"], "a night of 0.0001 h at 1 Hz holds fewer than 2 "
         "samples (at least 0.000556 h)"),
        (["--faults", "reset@nan"], "fault 'reset@nan': its time must be a finite number of "
         "seconds, got nan"),
        (["--faults", "reset@inf"], "fault 'reset@inf': its time must be a finite number of "
         "seconds, got inf"),
        (["--faults", "pause@1+inf"], "fault 'pause@1+inf': its duration must be a finite "
         "number, got inf"),
        (["--faults", "reset@99999"], "fault 'reset@99999': at 99999 s it would never happen: "
         "the night ends at 3.6 s"),
        (["--faults", "reset@soon"], "fault 'reset@soon': 'soon' is not a number of seconds"),
        (["--faults", "garbage@1+1e9"], "fault 'garbage@1+1e9': at most 1048576 bytes of "
         "garbage, got 1e+09"),
    ],
)  # fmt: skip
def test_cli_sim_device_refuses_bad_settings_before_the_port(args: list[str], message: str) -> None:
    """One line, exit 2, and no port printed (a script waiting for the port would
    otherwise start a recorder on a board about to fail). Before, text:bogus, text:auto,
    --seed -1 and reset@nan failed once the board ran (reset@nan as "cannot convert float
    NaN to integer"), reset@inf and pause+inf in an OverflowError traceback; reset@99999
    on a 3.6 s night and a night with no sample ran without a word."""
    r = sim_device("--hours", "0.001", "--speed", "10", *args)
    assert r.returncode == 2, r.stderr
    assert r.stdout == ""
    assert r.stderr == f"jerkcount: error: {message}\n"


def test_board_config_checks_its_numbers_itself() -> None:
    for kwargs, message in [
        ({"fs": float("nan")}, "fs must be a finite number, got nan"),
        ({"hours": float("inf")}, "hours must be a finite number, got inf"),
        ({"speed": float("inf")}, "speed must be a finite number, got inf"),
        ({"start": 1e300}, "start must be a time the readers take (within 1e+11 s of "
         "1970, about the year 5000), got 1e+300"),
        ({"faults": (Fault("reset", 4.0, 2.0),), "hours": 0.001},
         "fault reset@4+2: at 4 s it would never happen: the night ends at 3.6 s"),
    ]:  # fmt: skip
        with pytest.raises(ValueError) as err:
            BoardConfig(**kwargs)
        assert str(err.value) == message
    with pytest.raises(ValueError) as err:
        Fault("reset", float("nan"), 2.0)
    assert (
        str(err.value) == "fault reset@nan+2: its time must be a finite number of seconds, got nan"
    )
    # at the very end of the night a fault still happens (after the last sample)
    assert BoardConfig(hours=0.001, faults=parse_faults("reset@3.6", 3.6)).faults[0].at_s == 3.6


def test_a_night_one_sample_past_a_whole_segment_is_streamed_whole() -> None:
    """3601 samples at 1 Hz: the second segment held 1 sample, which the simulator
    refused ("holds fewer than 2 samples") an hour into the night."""
    cfg = BoardConfig(fs=1.0, hours=3601 / 3600)
    segs = list(night_segments(cfg, 1.7e9))
    assert sum(len(s) for s in segs) == cfg.n_samples == 3601
    assert all(len(s) >= 2 for s in segs)


# ------------------------------------------------------------------ the link
def test_board_refuses_a_link_that_is_a_regular_file(tmp_path: Path) -> None:
    """The class itself (not only the CLI): before, open() replaced the file with the
    link and close() then deleted it."""
    link = tmp_path / "notes.txt"
    link.write_text("mine\n")
    board = VirtualSerialBoard(BoardConfig(hours=0.001, link=link))
    with pytest.raises(FileExistsError) as err:
        board.open()
    assert str(err.value) == (
        f"[Errno 17] exists and is not a link: the link needs a name of its own (it is "
        f"replaced by the link, and removed at the end): '{link}'"
    )
    board.close()
    assert link.read_text() == "mine\n"


def test_board_removes_only_its_own_link(tmp_path: Path) -> None:
    """close() removes the link it made; a file put in its place meanwhile stays."""
    import serial

    link = tmp_path / "dev"
    board = VirtualSerialBoard(BoardConfig(hours=0.001, link=link))
    board.open()
    port = serial.Serial(str(link), 115200, timeout=0.5)  # a real reader on the link
    port.close()
    link.unlink()
    link.write_text("someone else's\n")
    board.close()
    assert link.read_text() == "someone else's\n"
    other = VirtualSerialBoard(BoardConfig(hours=0.001, link=tmp_path / "dev2"))
    other.open()
    other.close()
    assert not (tmp_path / "dev2").exists() and not (tmp_path / "dev2").is_symlink()


def test_cli_sim_device_keeps_its_link_message(tmp_path: Path) -> None:
    link = tmp_path / "notes.txt"
    link.write_text("mine\n")
    r = sim_device("--hours", "0.001", "--link", str(link))
    assert r.returncode == 2 and r.stdout == ""
    assert r.stderr == (
        f"jerkcount: error: {link}: exists and is not a link: --link needs a name of its "
        "own (it is replaced by the link, and removed at the end)\n"
    )
    assert link.read_text() == "mine\n"
