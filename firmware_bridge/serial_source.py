"""USB serial source (pyserial): a port (or pty) -> a byte decoder -> :class:`DecodedBatch`.

``--source serial:PORT[@BAUD]`` with ``--protocol witmotion`` or ``text[:OPTIONS]``
(OPTIONS: a :mod:`firmware_bridge.serial_text` format, e.g. ``csv-ms`` or
``delim=tab,cols=ax/ay/az,unit=4096``; ``text`` alone recognises the format).

Blocking reads run in a worker thread (:func:`asyncio.to_thread`) with a short timeout;
bytes are fed to the decoder with ``arrival_time = steady_time()`` (host epoch seconds
that a step of the computer's clock does not move, :mod:`firmware_bridge.host_clock`).
An unplugged port (``SerialException``/``OSError``, a pty whose board side closed) or
no bytes at all for ``stall_s`` seconds raises :class:`~firmware_bridge.source.LinkLost`.
``open`` re-opens the port by path each time (follow a symlink that a board re-appears
under), resets the decoder and sends ``start_command`` if any.

A path that can never be a serial port (a folder, a regular file, a named pipe, a
device that is not a terminal) raises :class:`NotASerialPort` at the first ``open``, so
the recorder stops at once instead of retrying; once the port has been open it is a
:class:`~firmware_bridge.source.LinkLost` like any other failure (a link re-pointed).
"""

from __future__ import annotations

import asyncio
import errno
import logging
import os
import stat
import time
from dataclasses import dataclass

import serial

from firmware_bridge.errors import ConfigurationError
from firmware_bridge.host_clock import steady_time
from firmware_bridge.samples import DecodedBatch, DecoderStats
from firmware_bridge.serial_text import SerialTextDecoder, parse_text_format
from firmware_bridge.source import LinkLost, Source, SourceInfo
from firmware_bridge.witmotion import WitmotionSerialDecoder

log = logging.getLogger(__name__)

DEFAULT_BAUD = {"witmotion": 9600, "text": 115200}
MIN_BAUD = 50
"""The lowest baud rate taken (the lowest a POSIX terminal has: B0 means hang up)."""
MAX_BAUD = 12_000_000
"""The highest baud rate taken (an FTDI FT232H's 12 Mbaud)."""
DEFAULT_RATE_HZ = {"witmotion": 10.0, "text": 100.0}
WITMOTION_RANGE_G = 16.0


#: What a failed open means to the person at the board, by errno.
_OPEN_PROBLEMS = {
    errno.ENOENT: "no such port (is the board plugged in? `jerkcount scan` lists the ports)",
    errno.EACCES: "permission denied (on Linux: add yourself to the dialout group, log in again)",
    errno.EBUSY: "the port is busy (another program has it open)",
}


def open_problem(err: BaseException) -> str:
    """Why opening a serial port failed, in one short phrase: the plain reason for a
    missing port, a permission or a busy port, the system's reason once for any other
    error number, else pyserial's own message."""
    code = getattr(err, "errno", None)
    if code in _OPEN_PROBLEMS:
        return _OPEN_PROBLEMS[code]
    if isinstance(code, int) and code > 0:  # pyserial's text holds it twice
        reason = os.strerror(code)
        return reason[:1].lower() + reason[1:]
    return str(err)


#: The link-lost reason for a port that closed under the reader (pyserial says "device
#: reports readiness to read but returned no data (device disconnected or multiple
#: access on port?)" when a read finds the port at its end).
PORT_CLOSED = "the port closed (the board was unplugged, reset or switched off)"


def read_problem(err: BaseException) -> str:
    """Why reading an open serial port failed, in one short phrase: the port closing under
    the reader (an unplugged USB board, a pty whose board side ended) in plain words, the
    system's reason once for an error number, else pyserial's own message."""
    text = str(err)
    if "returned no data" in text or getattr(err, "errno", None) == errno.EIO:
        return PORT_CLOSED
    code = getattr(err, "errno", None)
    if isinstance(code, int) and code > 0:
        reason = os.strerror(code)
        return reason[:1].lower() + reason[1:]
    return text


PORT_EXAMPLE = "a terminal device such as /dev/ttyUSB0 or /dev/ttyACM0"
"""What a serial port is, for the messages about paths that are none."""

#: What is at a path that can never be a serial port, by file type.
_NOT_PORT_KINDS = {
    stat.S_IFDIR: "a folder",
    stat.S_IFREG: "a regular file",
    stat.S_IFIFO: "a named pipe",
    stat.S_IFSOCK: "a socket",
    stat.S_IFBLK: "a block device (a disk)",
}


class NotASerialPort(ConfigurationError):
    """The port path names something that never becomes a serial port (a folder, a
    regular file, a device that is not a terminal): no use retrying."""


def not_a_port(port: str) -> str | None:
    """Why ``port`` can never be a serial port (``/tmp is a folder, not a serial
    port``), or ``None`` when it may be one: a character device, or nothing there (yet)
    or nothing this process may look at (opening it then says why)."""
    try:
        mode = os.stat(port).st_mode  # through a symlink: what a board's link points at
    except (OSError, ValueError):
        return None
    kind = _NOT_PORT_KINDS.get(stat.S_IFMT(mode))
    if kind is None:
        return None
    if kind == "a folder":
        return f"{port} is a folder, not a serial port"
    return f"{port} is {kind}, not a serial port ({PORT_EXAMPLE})"


def _not_a_terminal(err: BaseException) -> bool:
    """True when pyserial opened the path but it took no terminal settings (ENOTTY: a
    character device such as /dev/null, a named pipe, a file)."""
    cause = err.__cause__ or err.__context__  # pyserial wraps termios.error(ENOTTY, ...)
    return cause is not None and getattr(cause, "args", ())[:1] == (errno.ENOTTY,)


def _baud_error(text: str, baud: str) -> ConfigurationError:
    """The usage error of a baud rate (``baud`` as typed) in ``serial:TEXT``."""
    return ConfigurationError(
        f"--source {'serial:' + text!r}: the baud rate must be a whole number from "
        f"{MIN_BAUD} to {MAX_BAUD}, got {baud!r}"
    )


@dataclass(frozen=True)
class SerialTarget:
    """``serial:PORT[@BAUD]`` parsed: port path, baud (``None``: the protocol's default)."""

    port: str
    baud: int | None = None

    def __post_init__(self) -> None:
        if not self.port.strip():
            raise ConfigurationError(
                f"--source {'serial:' + self.port!r} names no serial port "
                "(serial:/dev/ttyUSB0@115200)"
            )
        if self.baud is not None and not (
            isinstance(self.baud, int) and MIN_BAUD <= self.baud <= MAX_BAUD
        ):
            raise _baud_error(f"{self.port}@{self.baud}", str(self.baud))

    @classmethod
    def parse(cls, text: str) -> SerialTarget:
        """Parse ``PORT[@BAUD]`` (without the ``serial:`` prefix); BAUD a whole number
        from :data:`MIN_BAUD` to :data:`MAX_BAUD`. Errors name ``--source``."""
        port, sep, baud = text.rpartition("@")
        if not sep:
            return cls(text)
        if not port.strip():
            raise ConfigurationError(
                f"--source {'serial:' + text!r} names no serial port (serial:/dev/ttyUSB0@115200)"
            )
        if not baud:
            raise ConfigurationError(
                f"--source {'serial:' + text!r}: no baud rate after @ "
                "(serial:/dev/ttyUSB0@115200; without @ the protocol's default)"
            )
        if not (baud.isascii() and baud.isdigit()):  # '²'.isdigit() is True
            raise _baud_error(text, baud)
        value = int(baud)
        if not MIN_BAUD <= value <= MAX_BAUD:
            raise _baud_error(text, baud)
        return cls(port, value)


@dataclass(frozen=True)
class SerialProtocol:
    """``--protocol`` parsed: ``witmotion`` or ``text`` with text-format options."""

    name: str
    text_format: str = "auto"

    @classmethod
    def parse(cls, text: str) -> SerialProtocol:
        name, _, opts = text.partition(":")
        name = name.strip().lower()
        if name == "witmotion":
            if opts:
                raise ConfigurationError("the witmotion protocol takes no options")
            return cls("witmotion")
        if name == "text":
            fmt = opts.strip() or "auto"
            parse_text_format(fmt)  # validates
            return cls("text", fmt)
        raise ConfigurationError(f"unknown serial protocol {text!r}: witmotion or text[:OPTIONS]")

    def decoder(self, rate_hz: float) -> WitmotionSerialDecoder | SerialTextDecoder:
        if self.name == "witmotion":
            return WitmotionSerialDecoder(rate_hz)
        return SerialTextDecoder(rate_hz, self.text_format)

    @property
    def profile(self) -> str:
        return "witmotion-serial" if self.name == "witmotion" else f"text:{self.text_format}"


class SerialSource(Source):
    """A serial port read through a byte decoder (see the module docstring).

    rate_hz : nominal sample rate (Hz): the arrival-stamp spacing of protocols without a
        time column, and the rate written to the metadata.
    stall_s : no bytes for this long (s) -> :class:`LinkLost`.
    read_timeout_s : longest blocking read (s); ``read`` returns at least this often.
    start_command : bytes written after opening (``None``: nothing).
    """

    def __init__(
        self,
        target: SerialTarget,
        protocol: SerialProtocol,
        rate_hz: float | None = None,
        stall_s: float = 5.0,
        read_timeout_s: float = 0.2,
        start_command: bytes | None = None,
    ) -> None:
        self.target = target
        self.protocol = protocol
        self.baud = target.baud or DEFAULT_BAUD[protocol.name]
        self.rate_hz = float(rate_hz or DEFAULT_RATE_HZ[protocol.name])
        self.stall_s = stall_s
        self.read_timeout_s = read_timeout_s
        self.start_command = start_command
        self.decoder = protocol.decoder(self.rate_hz)
        self.description = f"serial port {target.port}"
        self._port: serial.Serial | None = None
        self._last_bytes = 0.0
        self._was_open = False  # opened once: a path that is no port now is a lost link

    @property
    def stats(self) -> DecoderStats:
        """The decoder's counters (bytes, samples, bad and skipped messages...)."""
        return self.decoder.stats

    def _open_blocking(self) -> serial.Serial:
        problem = not_a_port(self.target.port)
        if problem:
            raise NotASerialPort(problem)
        try:
            port = serial.Serial(self.target.port, self.baud, timeout=self.read_timeout_s)
        except serial.SerialException as err:
            if _not_a_terminal(err):
                raise NotASerialPort(
                    f"{self.target.port} is not a terminal, so not a serial port ({PORT_EXAMPLE})"
                ) from err
            raise
        if self.start_command:
            port.write(self.start_command)
            port.flush()
        return port

    async def open(self) -> SourceInfo:
        await self.close()
        try:
            self._port = await asyncio.to_thread(self._open_blocking)
        except NotASerialPort as err:
            if self._was_open:  # it was a port: a link re-pointed, retried as any loss
                raise LinkLost(str(err)) from err
            raise NotASerialPort(f"{err}: stopped at once, nothing recorded") from None
        except (serial.SerialException, OSError) as err:
            raise LinkLost(f"cannot open {self.target.port}: {open_problem(err)}") from err
        self._was_open = True
        self.decoder.reset()
        self._last_bytes = time.monotonic()
        log.info("opened %s at %d baud (%s)", self.target.port, self.baud, self.protocol.profile)
        range_g = WITMOTION_RANGE_G if self.protocol.name == "witmotion" else None
        return SourceInfo(
            device=f"serial:{self.target.port}",
            profile=self.protocol.profile,
            rate_hz=self.rate_hz,
            range_g=range_g,
            extra={"baud": str(self.baud)},
        )

    def _read_blocking(self) -> bytes:
        port = self._port
        if port is None:
            raise LinkLost("port not open")
        waiting = port.in_waiting
        return bytes(port.read(max(1, min(waiting, 65536))))

    async def read(self) -> DecodedBatch:
        if self._port is None:
            raise LinkLost("port not open")
        try:
            data = await asyncio.to_thread(self._read_blocking)
        except (serial.SerialException, OSError) as err:
            raise LinkLost(f"{self.target.port}: {read_problem(err)}") from err
        now = time.monotonic()
        if not data:
            if now - self._last_bytes >= self.stall_s:
                raise LinkLost(f"{self.target.port}: no data for {now - self._last_bytes:.1f} s")
            return DecodedBatch.empty()
        self._last_bytes = now
        return self.decoder.feed(data, steady_time())

    async def close(self) -> None:
        port, self._port = self._port, None
        if port is not None:
            try:
                await asyncio.to_thread(port.close)
            except (serial.SerialException, OSError) as err:
                log.debug("closing %s: %s", self.target.port, err)
