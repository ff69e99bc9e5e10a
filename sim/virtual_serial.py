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


@dataclass(frozen=True)
class Fault:
    """One injected fault: ``kind``, at ``at_s`` simulated seconds, lasting ``duration``.

    ``duration`` is seconds (bytes for ``garbage``).
    """

    kind: str
    at_s: float
    duration: float

    def __post_init__(self) -> None:
        if self.kind not in FAULT_KINDS:
            raise ValueError(f"unknown fault {self.kind!r}: one of {', '.join(FAULT_KINDS)}")
        if self.at_s < 0 or self.duration < 0:
            raise ValueError(f"fault {self.kind} needs at >= 0 and duration >= 0")


def parse_faults(spec: str, night_s: float) -> tuple[Fault, ...]:
    """``garbage,reset@60,pause@120+30,unplug+5`` -> faults (unplaced ones spread evenly)."""
    items = [s.strip() for s in spec.split(",") if s.strip()]
    faults: list[Fault] = []
    for k, item in enumerate(items):
        head, _, dur = item.partition("+")
        kind, _, at = head.partition("@")
        at_s = float(at) if at else night_s * (k + 1) / (len(items) + 1)
        duration = float(dur) if dur else DEFAULT_DURATION.get(kind.strip(), 0.0)
        faults.append(Fault(kind.strip(), at_s, duration))
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
        if self.tx_buffer_bytes < 0:
            raise ValueError(f"tx_buffer_bytes must be >= 0, got {self.tx_buffer_bytes}")
        if not self.speed > 0:
            raise ValueError(f"speed must be > 0, got {self.speed}")
        if self.protocol != "witmotion" and not self.protocol.startswith("text"):
            raise ValueError(f"protocol must be witmotion or text[:FORMAT], got {self.protocol!r}")
        if self.link is None and any(f.kind == "unplug" for f in self.faults):
            raise ValueError("an unplug fault needs a link path (--link) to re-appear under")

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
    """The night's ``(m, 3)`` g samples, one simulated segment (≤ 1 h) at a time."""
    total = cfg.n_samples
    seg_n = int(round(SEGMENT_S * cfg.fs))
    k = 0
    done = 0
    while done < total:
        n = min(seg_n, total - done)
        night = simulate_night(
            NightConfig(
                hours=n / cfg.fs / 3600.0, fs=cfg.fs, pattern=cfg.pattern,
                rate_per_hour=cfg.rate_per_hour, seed=cfg.seed + k, start=start + done / cfg.fs,
                jitter_s=0.0, drop_prob=0.0, outage_per_hour=0.0,
            )
        )  # fmt: skip
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
        """Create the pty (and the link); returns :attr:`path`."""
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
        if self.cfg.link is not None:
            with contextlib.suppress(FileNotFoundError):
                Path(self.cfg.link).unlink()
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
