"""What `record --source serial:...` says, and how soon, when the port cannot be one.

A folder, a regular file, a named pipe or a device that is not a terminal never
becomes a serial port: the recorder stops at once with a plain reason instead of
retrying for 60 s and then quoting pyserial's doubled errno text. A baud rate that no
port takes is a one-line usage error before anything is opened.
"""

from __future__ import annotations

import asyncio
import os
import subprocess
import sys
import time
import tty
from collections.abc import Iterator
from pathlib import Path

import pytest

from firmware_bridge.errors import ConfigurationError
from firmware_bridge.recorder_setup import SourceSpec, make_source
from firmware_bridge.serial_source import NotASerialPort, SerialTarget, open_problem
from firmware_bridge.source import LinkLost

pytestmark = pytest.mark.skipif(sys.platform == "win32", reason="needs a pty")

JERKCOUNT = [sys.executable, "-m", "cli"]
ENV = {**os.environ, "PYTHONPATH": str(Path(__file__).resolve().parents[1])}
EXAMPLE = "(a terminal device such as /dev/ttyUSB0 or /dev/ttyACM0)"
AT_ONCE = ": stopped at once, nothing recorded"


def record(
    source: str, out: Path, timeout: float = 30.0
) -> tuple[subprocess.CompletedProcess, float]:
    """`jerkcount record --source SOURCE --protocol text` in a subprocess: result, seconds."""
    start = time.monotonic()
    proc = subprocess.run(
        [*JERKCOUNT, "record", "--source", source, "--protocol", "text", "--out", str(out)],
        capture_output=True, text=True, env=ENV, timeout=timeout,
    )  # fmt: skip
    return proc, time.monotonic() - start


def one_error_line(proc: subprocess.CompletedProcess) -> str:
    """The single ``jerkcount: error:`` line of a failed run (exit status 2)."""
    assert proc.returncode == 2, proc.stderr
    lines = proc.stderr.strip().splitlines()
    assert len(lines) == 1, proc.stderr
    return lines[0]


@pytest.fixture
def pty_path() -> Iterator[str]:
    """The slave path of a real pseudo-terminal (raw), open while the test runs."""
    master, slave = os.openpty()
    tty.setraw(slave)
    try:
        yield os.ttyname(slave)
    finally:
        os.close(slave)
        os.close(master)


# ------------------------------------------------------------- not a port at all
def test_a_folder_as_port_is_one_plain_line_at_once(tmp_path: Path) -> None:
    """Before: 60 s of retries, then `cannot open /tmp: [Errno 21] could not open port
    /tmp: [Errno 21] Is a directory: '/tmp'`."""
    folder = tmp_path / "boards"
    folder.mkdir()
    out = tmp_path / "nights"
    proc, took = record(f"serial:{folder}", out)
    assert one_error_line(proc) == (
        f"jerkcount: error: {folder} is a folder, not a serial port{AT_ONCE}"
    )
    assert took < 15, f"took {took:.1f} s: it retried"
    assert not out.exists()


def test_a_regular_file_as_port_is_one_plain_line_at_once(tmp_path: Path) -> None:
    """Before: 60 s of retries, then `Could not configure port: (25, 'Inappropriate
    ioctl for device')`."""
    file = tmp_path / "night.csv"
    file.write_text("12010,0.01,-0.04,0.99\n")
    out = tmp_path / "nights"
    proc, took = record(f"serial:{file}", out)
    assert one_error_line(proc) == (
        f"jerkcount: error: {file} is a regular file, not a serial port {EXAMPLE}{AT_ONCE}"
    )
    assert took < 15, f"took {took:.1f} s: it retried"
    assert not out.exists()
    assert file.read_text() == "12010,0.01,-0.04,0.99\n"


def test_a_symlink_to_a_folder_is_a_folder(tmp_path: Path) -> None:
    folder = tmp_path / "boards"
    folder.mkdir()
    link = tmp_path / "ttyBOARD"
    link.symlink_to(folder)
    with pytest.raises(NotASerialPort) as err:
        asyncio.run(make_source(f"serial:{link}", "text").open())
    assert str(err.value) == f"{link} is a folder, not a serial port{AT_ONCE}"


def test_a_named_pipe_and_a_device_that_is_no_terminal_are_not_ports(tmp_path: Path) -> None:
    """A FIFO and /dev/null open (pyserial then fails on the terminal settings): each
    named for what it is, at once."""
    fifo = tmp_path / "pipe"
    os.mkfifo(fifo)
    with pytest.raises(NotASerialPort) as err:
        asyncio.run(make_source(f"serial:{fifo}", "text").open())
    assert str(err.value) == f"{fifo} is a named pipe, not a serial port {EXAMPLE}{AT_ONCE}"
    with pytest.raises(NotASerialPort) as err:
        asyncio.run(make_source("serial:/dev/null", "text").open())
    assert str(err.value) == (
        f"/dev/null is not a terminal, so not a serial port {EXAMPLE}{AT_ONCE}"
    )


def test_a_link_that_turns_into_a_file_mid_night_is_retried(tmp_path: Path, pty_path: str) -> None:
    """Once the port has been open, a path that became a folder or a file is a lost link
    (the recorder keeps retrying and the night is kept), not a fatal error."""
    link = tmp_path / "board"
    link.symlink_to(pty_path)
    src = make_source(f"serial:{link}", "text:csv-ms")

    async def go() -> str:
        await src.open()
        await src.close()
        link.unlink()
        link.write_text("not a port\n")
        try:
            await src.open()
        except LinkLost as err:
            return str(err)
        finally:
            await src.close()
        raise AssertionError("opened a regular file")

    assert asyncio.run(go()) == f"{link} is a regular file, not a serial port {EXAMPLE}"


def test_other_open_errors_are_the_plain_reason_once(tmp_path: Path) -> None:
    """A path under a regular file: the reason once, not pyserial's doubled errno text."""
    file = tmp_path / "notes"
    file.write_text("x")
    src = make_source(f"serial:{file}/ttyUSB0", "text")
    with pytest.raises(LinkLost) as err:
        asyncio.run(src.open())
    assert str(err.value) == f"cannot open {file}/ttyUSB0: not a directory"
    import serial

    assert open_problem(serial.SerialException("could not configure port: x")) == (
        "could not configure port: x"
    )


# ------------------------------------------------------------------ baud rates
@pytest.mark.parametrize(
    ("baud", "why"),
    [
        ("0", "the baud rate must be a whole number from 50 to 12000000, got '0'"),
        ("-5", "the baud rate must be a whole number from 50 to 12000000, got '-5'"),
        ("abc", "the baud rate must be a whole number from 50 to 12000000, got 'abc'"),
        ("1e3", "the baud rate must be a whole number from 50 to 12000000, got '1e3'"),
        ("²", "the baud rate must be a whole number from 50 to 12000000, got '²'"),
        ("3000000000", "the baud rate must be a whole number from 50 to 12000000, "
         "got '3000000000'"),
        ("", "no baud rate after @ (serial:/dev/ttyUSB0@115200; without @ the protocol's "
         "default)"),
    ],
)  # fmt: skip
def test_an_absurd_baud_is_a_usage_error_before_the_port_is_opened(
    tmp_path: Path, pty_path: str, baud: str, why: str
) -> None:
    """On a real pty (which takes any baud pyserial hands it): one line naming --source,
    exit 2, nothing created. Before, @0 recorded (B0 hangs a real port up), @3000000000
    ended in an OverflowError traceback from pyserial, @² in int()'s own message."""
    out = tmp_path / "nights"
    spec = f"serial:{pty_path}@{baud}"
    proc, _ = record(spec, out)
    assert one_error_line(proc) == f"jerkcount: error: --source {spec!r}: {why}"
    assert not out.exists()


def test_baud_limits_and_the_source_spec_holes() -> None:
    assert SerialTarget.parse("/dev/ttyUSB0@50").baud == 50
    assert SerialTarget.parse("/dev/ttyUSB0@12000000").baud == 12_000_000
    assert SerialTarget.parse("/dev/ttyUSB0") == SerialTarget("/dev/ttyUSB0", None)
    for bad in ("/dev/ttyUSB0@49", "/dev/ttyUSB0@12000001"):
        with pytest.raises(ConfigurationError, match="from 50 to 12000000"):
            SerialTarget.parse(bad)
    with pytest.raises(ConfigurationError) as err:
        SerialTarget("/dev/ttyUSB0", 0)  # built directly, not parsed: checked too
    assert str(err.value) == (
        "--source 'serial:/dev/ttyUSB0@0': the baud rate must be a whole number from 50 "
        "to 12000000, got '0'"
    )
    with pytest.raises(ConfigurationError) as err:
        SerialTarget.parse("@9600")
    assert (
        str(err.value)
        == "--source 'serial:@9600' names no serial port (serial:/dev/ttyUSB0@115200)"
    )
    for spec in ("serial:", "serial:  ", "ble:", "ble:  "):
        with pytest.raises(ConfigurationError) as err:
            SourceSpec.parse(spec)
        assert str(err.value) == (
            f"--source must be serial:PORT[@BAUD] or ble:ADDRESS|NAME, got {spec!r}"
        )
