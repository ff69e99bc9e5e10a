"""A virtual serial board on a pseudo-terminal, streaming a simulated night.

The board owns the master side of a pty (``os.openpty``, raw mode) and writes the
samples of a simulated night (:func:`sim.simulate_night`, generated an hour at a time,
no packet drops or outages: losses come only from the injected faults) in one protocol:

- ``witmotion``: 11-byte ``0x51`` packets (:func:`sim.encoders.encode_witmotion_serial`);
- ``text[:FORMAT]``: text lines (:func:`sim.encoders.encode_text_lines`), default
  ``csv-ms`` (``t_ms,ax,ay,az``). Time columns carry the board's own clock: ms since
  it booted (restarting at each reset / power-up).

Pace: ``speed`` simulated seconds per host second (1 = real time). Above 1, use a
format with a time column: the recorder spaces samples by the device clock, while
arrival-stamped protocols (witmotion, text without a time column) are stamped by host
arrival time and cannot be sped up faithfully.

Faults (``kind[@AT_S][+DUR_S]``, times in simulated seconds from the start; without
``@`` faults are spread evenly over the night):

``garbage``
    ``DUR`` (default 64) random bytes between two samples (a real UART glitch; no
    sample is lost): for text formats non-ASCII bytes ending in a line end, for
    ``witmotion`` any byte values (``0x55`` and ``55 51`` included: the decoder must
    resynchronise by checksum).
``reset``
    the board reboots: it prints :data:`~sim.encoders.BOOT_TEXT`, sends nothing for
    ``DUR`` (default 2) s while booting (those samples are lost) and its clock restarts.
``pause``
    the board goes silent for ``DUR`` (default 10) s without closing the port (those
    samples are lost); its clock runs on.
``unplug``
    the board vanishes for ``DUR`` (default 5) s: the pty master is closed (the reader
    sees the port fail; the symlink ``link`` is removed), then a NEW pty appears and
    ``link`` is pointed at its slave, and the board boots (boot text, clock restarts).
    A pty cannot re-appear under the same path: the recorder reconnects through the
    symlink path it was given (``--link``), like a udev ``/dev/serial/by-id`` name.

Every fault is logged in :attr:`VirtualSerialBoard.faults_log` with the sample index
range it cost, so tests can tell injected gaps from lost samples.
"""

from __future__ import annotations

import contextlib
import errno
import logging
import math
import os
import select
import threading
import time
import tty
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from sim.config import NightConfig
from sim.encoders import BOOT_TEXT, encode_text_lines, encode_witmotion_serial
from sim.night import simulate_night

log = logging.getLogger(__name__)

FAULT_KINDS = ("garbage", "reset", "pause", "unplug")
DEFAULT_DURATION = {"garbage": 64.0, "reset": 2.0, "pause": 10.0, "unplug": 5.0}
BOOT_MS = 1500
"""The board's clock when its first sample after boot goes out, ms."""
TICK_S = 0.01
"""Host seconds between writes."""
TX_BUFFER_BYTES = 256 * 1024
"""Bytes the board holds back while the pty is full (a USB-serial chip's and driver's
buffers) before it drops what it sends (default of :attr:`BoardConfig.tx_buffer_bytes`)."""
DRAIN_S = 1.0
"""Host seconds the board goes on handing its held-back bytes to a reader after the
night ends (none are taken: it ends at once)."""
SEGMENT_S = 3600.0
"""The night is simulated in segments of this many seconds (bounded memory)."""
MAX_GARBAGE_BYTES = 1 << 20
"""The most bytes one ``garbage`` fault sends (1 MiB; more than any held-back buffer)."""


@dataclass(frozen=True)
class Fault:
    """One injected fault: ``kind``, at ``at_s`` simulated seconds, lasting ``duration``.

    ``duration`` is seconds (bytes for ``garbage``).
    """

    kind: str
    at_s: float
    duration: float

    def __post_init__(self) -> None:
        problem = fault_problem(self.kind, self.at_s, self.duration)
        if problem:
            raise ValueError(f"fault {self.label}: {problem}")

    @property
    def label(self) -> str:
        """The fault as ``--faults`` writes it: ``reset@60+2``."""
        return f"{self.kind}@{self.at_s:g}+{self.duration:g}"


def fault_problem(kind: str, at_s: float, duration: float) -> str | None:
    """What is wrong with a fault's settings (``None``: nothing): an unknown kind, a
    time (s) or duration (s; bytes for ``garbage``) not finite or below 0, more garbage
    than :data:`MAX_GARBAGE_BYTES`."""
    if kind not in FAULT_KINDS:
        return f"unknown kind {kind!r}: one of {', '.join(FAULT_KINDS)}"
    if not math.isfinite(at_s):
        return f"its time must be a finite number of seconds, got {at_s:g}"
    if not math.isfinite(duration):
        return f"its duration must be a finite number, got {duration:g}"
    if at_s < 0 or duration < 0:
        return "its time and duration must be >= 0"
    if kind == "garbage" and duration > MAX_GARBAGE_BYTES:
        return f"at most {MAX_GARBAGE_BYTES} bytes of garbage, got {duration:g}"
    return None


def _after_the_night(at_s: float, night_s: float) -> str:
    """Why a fault at ``at_s`` s of a ``night_s`` s night is refused."""
    return f"at {at_s:g} s it would never happen: the night ends at {night_s:g} s"


def parse_faults(spec: str, night_s: float) -> tuple[Fault, ...]:
    """``garbage,reset@60,pause@120+30,unplug+5`` -> faults (unplaced ones spread evenly
    over the ``night_s`` seconds of the night).

    A ``ValueError`` names the fault as written: a time or duration that is not a
    finite number (>= 0), an unknown kind, a fault after the night's end.
    """
    items = [s.strip() for s in spec.split(",") if s.strip()]
    faults: list[Fault] = []
    for k, item in enumerate(items):
        head, _, dur = item.partition("+")
        kind, _, at = head.partition("@")
        kind = kind.strip()

        def number(text: str, item: str = item) -> float:
            try:
                return float(text)
            except ValueError:
                raise ValueError(f"fault {item!r}: {text!r} is not a number of seconds") from None

        at_s = number(at) if at else night_s * (k + 1) / (len(items) + 1)
        duration = number(dur) if dur else DEFAULT_DURATION.get(kind, 0.0)
        problem = fault_problem(kind, at_s, duration)
        if problem is None and at_s > night_s:
            problem = _after_the_night(at_s, night_s)
        if problem:
            raise ValueError(f"fault {item!r}: {problem}")
        faults.append(Fault(kind, at_s, duration))
    return tuple(sorted(faults, key=lambda f: f.at_s))


@dataclass(frozen=True)
class BoardConfig:
    """A virtual board.

    protocol : ``witmotion`` or ``text[:FORMAT]`` (see the module docstring).
    fs : sample rate, Hz. hours : length of the night. pattern, rate_per_hour, seed:
        passed to the simulator. start : epoch s of the night's first sample (``None``:
        when the board starts).
    speed : simulated seconds per host second.
    faults : the faults to inject. link : a symlink kept pointing at the current pty
        slave (needed to survive ``unplug``).
    tx_buffer_bytes : bytes held back while the pty is full; what does not fit is
        dropped (counted in :attr:`VirtualSerialBoard.bytes_dropped`), as a UART's bytes
        are lost when nobody reads the port: the board never waits for a reader.
    """

    protocol: str = "text:csv-ms"
    fs: float = 100.0
    hours: float = 8.0
    pattern: str = "random"
    rate_per_hour: float = 30.0
    seed: int = 0
    start: float | None = None
    speed: float = 1.0
    faults: tuple[Fault, ...] = ()
    link: Path | None = None
    tx_buffer_bytes: int = TX_BUFFER_BYTES

    def __post_init__(self) -> None:
        """Everything :meth:`VirtualSerialBoard.run` would stop at, checked now (before
        a port is made): finite fs, hours and speed, the protocol and text format, the
        night's settings (:class:`~sim.config.NightConfig`), faults inside the night."""
        for name in ("fs", "hours", "speed"):
            value = getattr(self, name)
            if not math.isfinite(value):
                raise ValueError(f"{name} must be a finite number, got {value:g}")
        if self.tx_buffer_bytes < 0:
            raise ValueError(f"tx_buffer_bytes must be >= 0, got {self.tx_buffer_bytes}")
        if not self.speed > 0:
            raise ValueError(f"speed must be > 0, got {self.speed}")
        if self.protocol != "witmotion" and self.protocol.partition(":")[0] != "text":
            raise ValueError(f"protocol must be witmotion or text[:FORMAT], got {self.protocol!r}")
        fmt = self.text_format
        if fmt is not None:  # the encoder's own check: an unknown format, 'auto'
            encode_text_lines(np.zeros((1, 3)), fmt, t=np.zeros(1))
        NightConfig(
            **self._night_settings(self.hours, time.time() if self.start is None else self.start, 0)
        )
        night_s = self.n_samples / self.fs
        for f in self.faults:
            if int(round(f.at_s * self.fs)) > self.n_samples:
                raise ValueError(f"fault {f.label}: {_after_the_night(f.at_s, night_s)}")
        if self.link is None and any(f.kind == "unplug" for f in self.faults):
            raise ValueError("an unplug fault needs a link path (--link) to re-appear under")

    def _night_settings(self, hours: float, start: float, k: int) -> dict[str, object]:
        """:class:`~sim.config.NightConfig` settings of ``hours`` of the night from epoch
        ``start`` s, its ``k``-th segment (no jitter, drops or outages)."""
        return dict(
            hours=hours, fs=self.fs, pattern=self.pattern, rate_per_hour=self.rate_per_hour,
            seed=self.seed + k, start=start, jitter_s=0.0, drop_prob=0.0, outage_per_hour=0.0,
        )  # fmt: skip

    @property
    def text_format(self) -> str | None:
        """The text format, ``None`` for witmotion."""
        if self.protocol == "witmotion":
            return None
        _, _, fmt = self.protocol.partition(":")
        return fmt or "csv-ms"

    @property
    def n_samples(self) -> int:
        return int(round(self.hours * 3600 * self.fs))


@dataclass
class FaultRecord:
    """A fault as it happened: samples ``[lost_from, lost_to)`` were never sent."""

    kind: str
    at_index: int
    lost_from: int
    lost_to: int
    host_time: float


def night_segments(cfg: BoardConfig, start: float) -> Iterator[np.ndarray]:
    """The night's ``(m, 3)`` g samples, one simulated segment (about 1 h, the last one
    up to a sample longer: the simulator takes no segment under 2 samples) at a time."""
    total = cfg.n_samples
    seg_n = int(round(SEGMENT_S * cfg.fs))
    k = 0
    done = 0
    while done < total:
        n = min(seg_n, total - done)
        if total - done - n < 2:  # a 1-sample tail joins this segment
            n = total - done
        night = simulate_night(
            NightConfig(**cfg._night_settings(n / cfg.fs / 3600.0, start + done / cfg.fs, k))
        )
        acc = night.acc[:n]
        if acc.shape[0] < n:  # never with drops off; pad defensively with the last value
            acc = np.vstack([acc, np.repeat(acc[-1:], n - acc.shape[0], axis=0)])
        yield acc
        done += n
        k += 1


class VirtualSerialBoard:
    """The board (see the module docstring): ``open()`` then ``run(stop)`` (or ``start()``).

    ``path`` is what a reader should open (``link`` if given, else the pty slave);
    ``sent`` samples went out so far (index of the next one); ``faults_log`` the faults.
    ``keep_samples`` keeps every sample generated in ``samples`` (tests).
    """

    def __init__(self, config: BoardConfig, keep_samples: bool = False) -> None:
        self.cfg = config
        self.keep_samples = keep_samples
        self.samples: list[np.ndarray] = []
        self.faults_log: list[FaultRecord] = []
        self.sent = 0
        self.bytes_sent = 0
        self.bytes_dropped = 0  # bytes the pty had no room for (nobody reading)
        self._tx = bytearray()  # held back while the pty is full
        self.start_epoch = config.start if config.start is not None else time.time()
        self._master: int | None = None
        self._slave: int | None = None
        self.slave_path = ""
        self._clock_base = 0  # sample index at which the board's clock was BOOT_MS
        self._rng = np.random.default_rng(config.seed + 7919)
        self._thread: threading.Thread | None = None
        self._stop = threading.Event()
        self.done = threading.Event()
        self.error: BaseException | None = None

    # ------------------------------------------------------------------ pty
    @property
    def path(self) -> str:
        return str(self.cfg.link) if self.cfg.link is not None else self.slave_path

    def open(self) -> str:
        """Create the pty (and the link); returns :attr:`path`.

        Raises :class:`FileExistsError` when ``link`` exists and is not a symlink (a
        file of someone's that the link would replace, and ``close`` then remove).
        """
        link = self.cfg.link
        if link is not None and os.path.lexists(link) and not os.path.islink(link):
            raise FileExistsError(
                errno.EEXIST, "exists and is not a link: the link needs a name of its own (it "
                "is replaced by the link, and removed at the end)", str(link),
            )  # fmt: skip
        master, slave = os.openpty()
        tty.setraw(slave)
        os.set_blocking(master, False)
        self._master, self._slave = master, slave
        self.slave_path = os.ttyname(slave)
        if self.cfg.link is not None:
            link = Path(self.cfg.link)
            tmp = link.with_name(f".{link.name}.{os.getpid()}.tmp")
            with contextlib.suppress(FileNotFoundError):
                tmp.unlink()
            tmp.symlink_to(self.slave_path)
            os.replace(tmp, link)
        log.info("virtual board on %s", self.path)
        return self.path

    def _unplug(self) -> None:
        """Close the pty; remove the link if it is still the one :meth:`open` made."""
        link = self.cfg.link
        if link is not None and self.slave_path:
            with contextlib.suppress(OSError):  # gone, or not a link: not ours to remove
                if os.readlink(link) == self.slave_path:
                    os.unlink(link)
        for fd in (self._master, self._slave):
            if fd is not None:
                with contextlib.suppress(OSError):
                    os.close(fd)
        self._master = self._slave = None
        self._tx.clear()  # bytes in flight are lost with the port

    def close(self) -> None:
        """Close the pty and remove the link."""
        self._unplug()

    def _write(self, data: bytes) -> None:
        """Send ``data`` without waiting: queued behind bytes the pty had no room for, or
        dropped whole (counted) when the queue would exceed ``tx_buffer_bytes``."""
        if self._master is None:
            return
        if len(self._tx) + len(data) > self.cfg.tx_buffer_bytes:
            if not self.bytes_dropped:
                log.warning("virtual board: nobody is reading %s; dropping what it sends",
                            self.path)  # fmt: skip
            self.bytes_dropped += len(data)
        else:
            self._tx += data
        self._flush()

    def _flush(self) -> None:
        """Hand the pty as much of the queued bytes as it takes now (never blocks)."""
        while self._tx and self._master is not None:
            try:
                n = os.write(self._master, self._tx)
            except BlockingIOError:
                return
            except OSError as err:
                if err.errno in (errno.EIO, errno.EBADF):
                    self._tx.clear()
                    return
                raise
            del self._tx[:n]
            self.bytes_sent += n

    def _drain(self) -> None:
        """After the night: hand the queued bytes on for up to :data:`DRAIN_S` host
        seconds; what is left then is dropped (counted)."""
        deadline = time.monotonic() + DRAIN_S
        while self._tx and self._master is not None and not self._stop.is_set():
            if time.monotonic() >= deadline:
                break
            select.select([], [self._master], [], TICK_S)
            self._flush()
        self.bytes_dropped += len(self._tx)
        self._tx.clear()

    # ------------------------------------------------------------------ encoding
    def encode(self, first: int, acc: np.ndarray) -> bytes:
        """Bytes for samples ``first ..`` (the device clock from the last boot)."""
        fmt = self.cfg.text_format
        if fmt is None:
            return encode_witmotion_serial(acc)
        idx = np.arange(first, first + len(acc), dtype=np.float64)
        t_dev = (idx - self._clock_base) / self.cfg.fs + BOOT_MS / 1000.0
        return encode_text_lines(acc, fmt, t=t_dev)

    def _garbage(self, n: int) -> bytes:
        if self.cfg.text_format is None:  # binary packets: any byte, headers too
            return bytes(self._rng.integers(0, 0x100, max(1, n), dtype=np.uint8).tolist())
        junk = bytes(self._rng.integers(0x80, 0x100, max(1, n), dtype=np.uint8).tolist())
        return junk + b"\r\n"

    # ------------------------------------------------------------------ run
    def start(self) -> threading.Thread:
        """Run in a daemon thread (``open()`` first if needed); ``stop()`` ends it."""
        if self._master is None:
            self.open()
        self._thread = threading.Thread(target=self._run_safe, name="virtual-board", daemon=True)
        self._thread.start()
        return self._thread

    def stop(self, timeout: float | None = 5.0) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout)
        self.close()

    def _run_safe(self) -> None:
        try:
            self.run()
        except BaseException as err:  # pragma: no cover - surfaced to the caller
            self.error = err
            log.exception("virtual board failed")
        finally:
            self.done.set()

    def run(self, stop: threading.Event | None = None) -> None:
        """Stream the night in (scaled) real time until it ends or ``stop`` is set."""
        if stop is not None:
            self._stop = stop
        if self._master is None:
            self.open()
        cfg = self.cfg
        fs, speed = cfg.fs, cfg.speed
        faults = list(cfg.faults)
        skip_to = 0  # samples below this index are not sent (pause/boot/unplugged)
        t_host0 = time.monotonic()
        for seg in night_segments(cfg, self.start_epoch):
            if self.keep_samples:
                self.samples.append(seg)
            seg_first = self.sent
            seg_end = seg_first + len(seg)
            while self.sent < seg_end:
                if self._stop.is_set():
                    return
                sim_now = (time.monotonic() - t_host0) * speed
                due = min(int(sim_now * fs) + 1, seg_end)
                fault_idx = int(round(faults[0].at_s * fs)) if faults else None
                if fault_idx is not None and fault_idx <= due:
                    due = max(self.sent, fault_idx)
                if due > self.sent:
                    lo = max(self.sent, skip_to)
                    if lo < due:
                        self._write(self.encode(lo, seg[lo - seg_first : due - seg_first]))
                    self.sent = due
                if fault_idx is not None and self.sent >= fault_idx:
                    skip_to = max(skip_to, self._fault(faults.pop(0), t_host0))
                    continue
                if due < seg_end:
                    time.sleep(TICK_S)
                    self._flush()
        self._drain()
        log.info("virtual board: night over after %d samples (%d bytes dropped: nobody "
                 "reading)", self.sent, self.bytes_dropped)  # fmt: skip

    def _fault(self, f: Fault, t_host0: float) -> int:
        """Apply a fault at the current sample; returns the first index to send again."""
        fs = self.cfg.fs
        at = max(self.sent, int(round(f.at_s * fs)))
        log.info("virtual board: %s at sample %d", f.kind, at)
        if f.kind == "garbage":
            self._write(self._garbage(int(f.duration)))
            self.faults_log.append(FaultRecord(f.kind, at, at, at, time.time()))
            return at
        end = at + int(round(f.duration * fs))
        if f.kind == "pause":
            pass
        elif f.kind == "reset":
            self._write(BOOT_TEXT)
            self._clock_base = end
        elif f.kind == "unplug":
            self._unplug()
            # wait (in host time) until the board is due to re-appear
            while not self._stop.is_set() and (time.monotonic() - t_host0) * self.cfg.speed < (
                end / fs
            ):
                time.sleep(TICK_S)
            if self._stop.is_set():
                return end
            self.open()
            self._write(BOOT_TEXT)
            self._clock_base = end
        self.faults_log.append(FaultRecord(f.kind, at, at, end, time.time()))
        return end
