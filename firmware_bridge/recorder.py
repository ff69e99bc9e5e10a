"""The overnight recorder: one :class:`~firmware_bridge.source.Source` -> a crash-safe
recording, live detection, a live line, reconnection, and the night's summary at the end.

Outputs in the folder ``out_dir`` (created with mode 0700; every file mode 0600):

``recording-<UTC start YYYYMMDDTHHMMSSZ>.csv``
    the raw samples in the canonical recording format with ``#`` metadata (device,
    profile, rate_hz, range_g, start, jerkcount version...). Created with
    ``O_CREAT|O_EXCL`` (never overwrites), written as samples arrive, fsynced at least
    every ``fsync_s`` (0.5 s). A link gap is a time jump in the file.
``recording-<stamp>.session.json``
    the session log, rewritten atomically after every reconnection, every
    ``session_s`` (60 s) and at the end:
    device info, start/end, samples, every link gap (start, end, reason), reconnects,
    device clock resets, live detection results, why the recording stopped.
``summary-<stamp>/``
    at the end (Ctrl-C, ``--duration``): exactly what ``jerkcount process REC --out
    summary-<stamp>`` writes (events.csv, activity.csv, daily_summary.csv, hourly.csv,
    summary.json, report.html). A folder per night, so nights recorded into the same
    ``out_dir`` never overwrite each other's summaries; ``jerkcount process
    out_dir/recording-*.csv --out trend`` combines nights.

Links drop: :class:`~firmware_bridge.source.LinkLost` from the source (unplug, BLE
disconnect, board silent) or no samples for ``stall_s`` (a board sending only garbage)
closes the source and re-opens it with exponential back-off (``backoff_initial_s``
doubling up to ``backoff_max_s``) for as long as the recording runs; ``open``
re-sends the start command. Times: :class:`~firmware_bridge.recorder_clock.ClockMapper`.
Live detection: :class:`~firmware_bridge.recorder_live.LiveDetector` (equal to
``detect`` on the file by construction).

Replay (``write=False`` and a source with ``absolute_time``) runs the same loop without
the file: the raw rows go straight to live detection.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import shutil
import time
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import numpy as np

from firmware_bridge.errors import ProtocolError
from firmware_bridge.host_clock import STEP_S, steady_time
from firmware_bridge.recorder_clock import TICKS_PER_S, ClockMapper
from firmware_bridge.recorder_live import LiveDetector, LiveLine, LiveResult, LiveStatus
from firmware_bridge.recorder_writer import (
    RecordingWriter,
    WriteFailed,
    make_private_dir,
    parse_rows,
)
from firmware_bridge.serial_text import TextLineDecoder
from firmware_bridge.session_file import SessionFile
from firmware_bridge.source import LinkLost, Source, SourceInfo
from firmware_bridge.terminal import detach_from_terminal
from pipeline import __version__
from pipeline.atomic import private_files, run_folder
from pipeline.params import DetectorParams
from pipeline.pulse import beats_warning
from pipeline.reader import LOW_FS, MAX_ABS_G, low_rate_warning

log = logging.getLogger(__name__)


class RecorderError(Exception):
    """The recording could not start (no board after ``first_open_s``, name taken...)."""


@dataclass(frozen=True)
class RecorderParams:
    """Settings of a recording.

    out_dir : folder of the outputs (see the module docstring); ``None`` with ``write=False``.
    duration_s : stop after this many seconds of host time (``None``: until stopped).
    stall_s : no samples for this long (s) is a lost link.
    backoff_initial_s, backoff_max_s : reconnection delays, doubling, capped (s).
    first_open_s : how long to keep trying to reach the board at the start (s).
    fsync_s : longest time written samples stay unsynced (s).
    session_s : the session file is rewritten at least this often (s), so that after a
        crash or a power cut it tells the night up to then (samples, gaps).
    far_forward_s : device clock jump beyond host elapsed that counts as a reset (s).
    write : write the recording file (False: replay, detection only).
    summarise : run ``process`` on the recording at the end (into ``summary-<stamp>``).
    tz : IANA zone of the summary's windows and local times.
    detector : the detector parameters (live and summary).
    """

    out_dir: Path | None = None
    duration_s: float | None = None
    stall_s: float = 5.0
    backoff_initial_s: float = 0.5
    backoff_max_s: float = 30.0
    first_open_s: float = 60.0
    fsync_s: float = 0.5
    session_s: float = 60.0
    far_forward_s: float = 10.0
    write: bool = True
    summarise: bool = True
    tz: str = "UTC"
    detector: DetectorParams = field(default_factory=DetectorParams)


@dataclass
class LinkGap:
    """One link outage: last sample before and first sample after (epoch s), why, host times."""

    start: float | None
    end: float | None
    reason: str
    lost_at: float
    back_at: float | None = None
    attempts: int = 0

    @property
    def duration_s(self) -> float | None:
        if self.start is None or self.end is None:
            return None
        return self.end - self.start


@dataclass
class HostClockStep:
    """The computer's clock was set (NTP, by hand) during the recording: when (host
    epoch s, after the step) and by how much (s, positive forward)."""

    at: float
    step_s: float


@dataclass
class RecordResult:
    """What a recording produced."""

    path: Path | None
    info: SourceInfo
    start: float
    end: float
    samples: int
    gaps: list[LinkGap]
    clock_resets: int
    live: LiveResult
    stopped_by: str
    session_path: Path | None = None
    summary_dir: Path | None = None
    summary_error: str | None = None
    process_result: Any = None
    #: why writing the recording failed and stopped it (disk full), else ``None``
    write_error: str | None = None
    #: no sample arrived, so the recording file (its header only) was removed: a night
    #: folder holds no empty "recording" that ``process`` of the folder would stop at
    removed_empty: bool = False


#: :attr:`LinkGap.reason` of a stream the board stopped and the source started again
#: on the same link (``attempts`` 0: no reconnection).
STREAM_STOPPED = "the board stopped the stream (started again on the same link)"

#: Prefix of the hidden folder (:func:`~pipeline.atomic.run_folder`) in the recordings'
#: folder where a night's summary is written before it is renamed to ``summary-<stamp>``.
SUMMARY_STAGING = ".summary-partial"


def utc_stamp(epoch: float) -> str:
    """``YYYYMMDDTHHMMSSZ`` of an epoch time."""
    return datetime.fromtimestamp(epoch, UTC).strftime("%Y%m%dT%H%M%SZ")


def iso_utc(epoch: float) -> str:
    """ISO 8601 UTC with ms."""
    return datetime.fromtimestamp(epoch, UTC).isoformat(timespec="milliseconds")


class Recorder:
    """Record one source (see the module docstring). ``await run(stop)``."""

    def __init__(
        self, source: Source, params: RecorderParams, live_line: LiveLine | None = None
    ) -> None:
        if params.write and params.out_dir is None:
            raise ValueError("out_dir is required to write a recording")
        self.source = source
        self.params = params
        self.line = live_line or LiveLine(force=False)
        self.status = LiveStatus()
        self.gaps: list[LinkGap] = []
        self.clock: ClockMapper | None = None
        self.writer: RecordingWriter | None = None
        self.write_error: str | None = None
        self.live: LiveDetector | None = None
        self.path: Path | None = None
        self.session_path: Path | None = None
        self._session: SessionFile | None = None
        #: why the last attempt to open the source at the start failed
        self._open_error: str | None = None
        self.info: SourceInfo | None = None
        self.samples = 0
        self.rejected = 0  # samples a source passed on that the reader would refuse
        self.start = 0.0
        self.last_sample: float | None = None  # epoch s of the newest sample
        self._last_sample_host = 0.0
        self._grace_until = 0.0  # no stall verdict before this (a board's start-up delay)
        self._t0 = 0.0
        self._restarts = 0  # the source's stream restarts already noted as gaps
        self._backoff = params.backoff_initial_s  # the next reconnection delay (s)
        #: host epoch s at which the terminal closed (SIGHUP), else ``None``
        self.hangup_at: float | None = None
        #: steps of the host clock seen during the recording (see :meth:`_check_host_clock`)
        self.host_steps: list[HostClockStep] = []
        self._host_step = steady_time.step_s()  # host minus steady clock when last checked
        #: host epoch s at which the removed recording was put back (:meth:`_check_file`)
        self.restored_at: list[float] = []
        self._file_checked = 0.0
        self._session_written = 0.0  # time.monotonic() of the last session file write

    # ------------------------------------------------------------------ helpers
    async def _wait(self, aw: Any, stop: asyncio.Event, timeout: float | None) -> tuple[bool, Any]:
        """Await ``aw`` unless ``stop`` fires or ``timeout`` passes: (finished, result)."""
        task = asyncio.ensure_future(aw)
        stopper = asyncio.ensure_future(stop.wait())
        try:
            done, _ = await asyncio.wait(
                {task, stopper}, timeout=timeout, return_when=asyncio.FIRST_COMPLETED
            )
        finally:
            stopper.cancel()
        if task in done:
            return True, task.result()
        task.cancel()
        with contextlib.suppress(asyncio.CancelledError, Exception):
            await task
        return False, None

    def _remaining(self) -> float | None:
        if self.params.duration_s is None:
            return None
        return max(0.0, self.params.duration_s - (time.monotonic() - self._t0))

    def _refresh(self) -> None:
        st = self.status
        st.elapsed_s = time.monotonic() - self._t0 if self._t0 else 0.0
        st.samples = self.samples
        if self.live is not None:
            st.jerks = self.live.jerks
            st.last_jerk = self.live.last_jerk
        self.line.update(st)

    def hang_up(self, stop: asyncio.Event) -> None:
        """The terminal closed (SIGHUP: a closed window, a dropped ssh session): the live
        line stops; with a ``duration_s`` the night goes on to its end (the patient said
        how long it is), without one it ends as Ctrl-C ends it (``stopped_by``
        ``hangup``). Either way the session file and the summary are written."""
        if self.hangup_at is None:
            self.hangup_at = time.time()
        self.line.enabled = False
        if self.params.duration_s is None:
            log.warning("the terminal closed: ending the recording")
            stop.set()
        else:
            log.warning("the terminal closed: the recording goes on until --duration ends it")

    def _check_host_clock(self) -> None:
        """Note a step of the host clock (beyond :data:`~firmware_bridge.host_clock.STEP_S`)
        in the session file. The samples do not move with it: boards are stamped with the
        steady clock (:mod:`firmware_bridge.host_clock`) or their own, and the time base
        follows the host clock again at the next (re)connection."""
        step = steady_time.step_s()
        change = step - self._host_step
        if abs(change) <= STEP_S:
            return
        self._host_step = step
        self.host_steps.append(HostClockStep(time.time(), round(change, 3)))
        log.warning("the computer's clock was set %+.1f s: the recording keeps its own time "
                    "(no hole, no overlap) until the board reconnects", change)  # fmt: skip
        self._write_session(None)

    def _check_file(self, every_s: float = 1.0) -> None:
        """At most every ``every_s`` s: put the recording back if its folder or the file
        was removed during the night (:meth:`RecordingWriter.restore_if_removed`), with
        every sample written so far, and its session file with it."""
        now = time.monotonic()
        if self.writer is None or now - self._file_checked < every_s:
            return
        self._file_checked = now
        if self.writer.restore_if_removed():
            self.restored_at.append(time.time())
            log.warning("%s was removed during the recording: it was put back whole and "
                        "the recording goes on", self.path)  # fmt: skip
            self._write_session(None)

    # ------------------------------------------------------------------ opening
    async def _open_first(self, stop: asyncio.Event) -> SourceInfo | None:
        """Open the source, retrying with back-off for ``first_open_s`` (the last try at
        that moment); ``None`` when ``stop`` or the duration ends it first (the last
        failure is kept in ``_open_error``)."""
        start = time.monotonic()
        deadline = start + self.params.first_open_s
        delay = self.params.backoff_initial_s
        attempt = 0
        while True:
            remaining = self._remaining()
            if remaining is not None and remaining <= 0:
                return None  # the duration is over before the board answered
            attempt += 1
            try:
                finished, info = await self._wait(self.source.open(), stop, remaining)
            except LinkLost as err:
                self._open_error = str(err)
                with contextlib.suppress(Exception):
                    await self.source.close()
                left = deadline - time.monotonic()
                if left <= 0:
                    raise RecorderError(
                        f"cannot reach {self.source.description}: {err} "
                        f"(tried {attempt} times in {time.monotonic() - start:.1f} s)"
                    ) from None
                log.info("cannot open %s yet (%s); retrying", self.source.description, err)
                self.status.link = f"connecting {attempt}"
                self.line.update(self.status, force=True)
                pause = asyncio.sleep(min(delay, left))
                finished, _ = await self._wait(pause, stop, self._remaining())
                if not finished:  # Ctrl-C, or the duration over
                    return None
                delay = min(delay * 2, self.params.backoff_max_s)
                continue
            return info if finished else None

    async def _reconnect(self, stop: asyncio.Event, reason: str) -> bool:
        """Close and re-open with back-off until it works (True) or the recording ends.

        A link lost again before a sample came after the last reconnection (or stream
        restart) continues that gap: one hole in the file is one gap, its attempts all
        counted, and the back-off goes on doubling from where it was."""
        last = self.gaps[-1] if self.gaps else None
        if last is not None and last.back_at is not None and last.end is None:
            gap = last
            gap.reason = f"{gap.reason}; then {reason}"
            gap.back_at = None
            delay = self._backoff if gap.attempts else self.params.backoff_initial_s
        else:
            gap = LinkGap(self.last_sample, None, reason, time.time())
            self.gaps.append(gap)
            delay = self.params.backoff_initial_s
        log.warning("link lost (%s); reconnecting", reason)
        with contextlib.suppress(Exception):
            await self.source.close()
        while not stop.is_set():
            # the live line names the try being waited for; the gap counts tries made
            self.status.link = f"reconnecting {gap.attempts + 1}"
            self._refresh()
            remaining = self._remaining()
            if remaining is not None and remaining <= 0:
                return False
            finished, _ = await self._wait(asyncio.sleep(delay), stop, remaining)
            if not finished:
                return False
            gap.attempts += 1
            delay = min(delay * 2, self.params.backoff_max_s)
            self._backoff = delay
            try:
                finished, _info = await self._wait(self.source.open(), stop, self._remaining())
            except (LinkLost, ProtocolError) as err:
                # a board that streamed tonight and now refuses (a Polar's error status,
                # a characteristic BlueZ has not resolved yet, the adapter reset) is
                # retried: fatal at the start, never worth losing the rest of the night
                log.info("reconnect attempt %d failed: %s", gap.attempts, err)
                with contextlib.suppress(Exception):
                    await self.source.close()
                continue
            if not finished:
                return False
            gap.back_at = time.time()
            self._restarts = self.source.restarts  # those of the failed link are in the gap
            if self.clock is not None:
                self.clock.reconnected()
            self._last_sample_host = time.monotonic()
            self._grace_until = self._last_sample_host + self._startup_s()
            self.status.link = "streaming"
            log.warning("link back after %d attempt(s)", gap.attempts)
            self._write_session(None)
            return True
        return False

    def _stream_restarted(self) -> None:
        """The source resumed a stream the board stopped on its own (same link): a gap
        in the samples, noted in the session file, and the board's start-up time to wait
        out before silence counts as a stall (a Polar takes up to 30 s)."""
        self._restarts = self.source.restarts
        now = time.time()
        self.gaps.append(LinkGap(self.last_sample, None, STREAM_STOPPED, now, back_at=now))
        self._grace_until = time.monotonic() + self._startup_s()
        log.warning("the board stopped its stream; it was started again")
        self._write_session(None)

    # ------------------------------------------------------------------ samples
    def _metadata(self, info: SourceInfo) -> dict[str, str]:
        md = {
            "device": info.device,
            "profile": info.profile,
            "rate_hz": f"{info.rate_hz:g}",
            "range_g": "" if info.range_g is None else f"{info.range_g:g}",
            "start": iso_utc(self.start),
            "recorder": "jerkcount record",
            "jerkcount_version": __version__,
        }
        for k, v in info.extra.items():
            md.setdefault(str(k), str(v))
        return md

    def _begin(self, info: SourceInfo) -> None:
        self.info = info
        self.start = time.time()
        self.clock = ClockMapper(
            info.rate_hz, self.params.far_forward_s, absolute=self.source.absolute_time
        )
        md = self._metadata(info)
        strap = beats_warning(info.rate_hz, 0.0, md)  # a strap by name: said before the night
        if strap is not None:
            log.warning("%s", strap)
        if info.rate_hz < LOW_FS:  # said before the night, as the summary will say it
            log.warning("%s", low_rate_warning(info.rate_hz))
        label = info.device
        if self.params.write:
            assert self.params.out_dir is not None
            out = make_private_dir(Path(self.params.out_dir))
            stamp = utc_stamp(self.start)
            self.path = out / f"recording-{stamp}.csv"
            self.session_path = out / f"recording-{stamp}.session.json"
            try:
                self.writer = RecordingWriter(self.path, md, self.params.fsync_s)
            except FileExistsError:
                raise RecorderError(
                    f"{self.path} already exists: a recording is never overwritten "
                    "(wait a second, or choose another --out)"
                ) from None
            except WriteFailed as err:  # a full disk before the first sample
                with contextlib.suppress(OSError):
                    self.path.unlink()  # only the start of its header: nothing recorded
                raise RecorderError(f"{err}: nothing recorded") from None
            label = str(self.path)
            log.info("recording to %s", self.path)
        checked = getattr(self.source, "checked_by_reader", False)  # a replay's file
        self.live = LiveDetector(label, md, self.params.detector, quiet=checked)
        self._write_session(None)  # now: it holds the space its last version needs

    def _check_out_dir(self) -> None:
        """Before the board is reached: the recordings' folder can be made (nothing is
        made yet: a night that never starts leaves no folder). A file in the way or a
        folder the user may not write is a :class:`RecorderError` at once."""
        if not self.params.write or self.params.out_dir is None:
            return
        out = Path(self.params.out_dir)
        there = next((p for p in (out, *out.parents) if p.exists()), None)
        if there is None:
            return
        if not there.is_dir():
            why = f"{there} is a file, not a folder"
        elif not os.access(there, os.W_OK | os.X_OK):
            why = f"{there}: permission denied"
        else:
            return
        raise RecorderError(f"{out}: cannot be written: {why}: stopped at once, nothing recorded")

    def _sane(self, t: np.ndarray, acc: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """``t`` (s), ``acc`` (g) without the samples the reader would refuse (a time or
        value not finite, a value beyond ±:data:`~pipeline.reader.MAX_ABS_G` g), counted
        in :attr:`rejected`: the decoders reject them already, this is the last guard."""
        t = np.asarray(t, dtype=np.float64)
        acc = np.asarray(acc, dtype=np.float64).reshape(-1, 3)
        with np.errstate(invalid="ignore"):
            ok = np.isfinite(t) & (np.abs(acc) <= MAX_ABS_G).all(axis=1)
        if ok.all():
            return t, acc
        self.rejected += int((~ok).sum())
        log.info("%d sample(s) not finite or beyond ±%g g: not recorded", (~ok).sum(), MAX_ABS_G)
        return t[ok], acc[ok]

    def _take(self, t: np.ndarray, acc: np.ndarray, host_now: float) -> None:
        assert self.clock is not None and self.live is not None
        t, acc = self._sane(t, acc)
        if t.size == 0:
            return
        if self.writer is not None:
            ticks = self.clock.map(t, host_now)
            text = self.writer.append(ticks, acc)
            t_raw, a_raw = parse_rows(text)
        else:
            # replay: the file's own rows, unquantised, exactly as detect reads them
            t_raw, a_raw = np.asarray(t, dtype=np.float64), np.asarray(acc, dtype=np.float64)
            if not self.source.absolute_time:
                t_raw = self.clock.map(t, host_now) / TICKS_PER_S
        if self.gaps and self.gaps[-1].back_at is not None and self.gaps[-1].end is None:
            self.gaps[-1].end = float(t_raw[0])
        self.live.push(t_raw, a_raw)
        self.samples += len(t_raw)
        self.last_sample = float(t_raw[-1])
        self._last_sample_host = time.monotonic()

    # ------------------------------------------------------------------ run
    async def run(self, stop: asyncio.Event | None = None) -> RecordResult:
        """Record until ``stop`` is set, the duration passes or a finite source ends.

        Every file it writes (session log, summary) is readable by the owner only.
        """
        with private_files():
            return await self._run(stop)

    async def _run(self, stop: asyncio.Event | None) -> RecordResult:
        stop = stop or asyncio.Event()
        self._t0 = time.monotonic()
        self._check_out_dir()  # before the board: a folder that cannot be made says so now
        self.status.link = "connecting"
        self.line.update(self.status, force=True)
        info = await self._open_first(stop)
        if info is None:
            with contextlib.suppress(Exception):
                await self.source.close()
            why = f" (last try: {self._open_error})" if self._open_error else ""
            raise RecorderError(f"stopped before the board was reached{why}: nothing recorded")
        self._begin(info)
        self.status.link = "streaming"
        self._last_sample_host = time.monotonic()
        self._grace_until = self._last_sample_host + self._startup_s()
        stopped_by = "interrupt"
        try:
            stopped_by = await self._loop(stop)
            if stopped_by == "interrupt" and self.hangup_at is not None:
                stopped_by = "hangup"
        finally:
            with contextlib.suppress(Exception):
                await self.source.close()
            if self.writer is not None:
                try:
                    self._check_file(every_s=0.0)  # removed since the last check
                    self.writer.close()
                except WriteFailed as err:  # the last fsync: the kernel lost the tail
                    self._write_failed(err)
                    stopped_by = "write failed"
        assert self.live is not None
        self.status.link = "finishing"
        self._refresh()
        live = self.live.finish()
        self.status.jerks = self.live.jerks
        self.status.last_jerk = self.live.last_jerk
        self.status.link = f"stopped ({stopped_by})"
        self.line.close(self.status)
        result = RecordResult(
            self.path, info, self.start, time.time(), self.samples, self.gaps,
            self.clock.clock_resets if self.clock else 0, live, stopped_by, self.session_path,
            write_error=self.write_error, removed_empty=self._remove_if_empty(),
        )  # fmt: skip
        if result.removed_empty:
            result.summary_error = self._nothing_recorded()
            live.error = None  # it would name the removed file ("header only, no samples")
        self._write_session(result)  # before the summary: a second Ctrl-C there keeps it
        if self.params.write and self.params.summarise and not result.removed_empty:
            self.line.note("writing the summary (Ctrl-C again skips it) ...")
            self._summarise(result)
            self._write_session(result)
        return result

    def _nothing_recorded(self) -> str:
        """Why not one sample was recorded, for the morning: nothing arrived at all, or
        bytes (lines) arrived that the protocol could not read, with an example line and
        the option to check."""
        stats = getattr(self.source, "stats", None)
        got = int(getattr(stats, "bytes_in", 0) or 0)
        if stats is None or got == 0:
            return "no sample arrived from the board: nothing recorded"
        assert self.info is not None
        decoder = _decoder_of(self.source)
        what = f"{got:,} bytes"
        if isinstance(decoder, TextLineDecoder):
            what += f" ({stats.bad + stats.skipped + stats.messages:,} lines)"
        option = "--protocol" if self.info.device.startswith("serial:") else "--profile"
        text = (f"{what} arrived from the board but none could be read as "
                f"{self.info.profile}: check {option}")  # fmt: skip
        example = getattr(decoder, "unread_example", None)
        if example:
            text += f" (the board sent e.g. {example!r})"
        return f"{text}; nothing recorded"

    def _remove_if_empty(self) -> bool:
        """Remove the recording when not one sample reached it (its header only); True
        if it was removed. The session file stays: it tells what happened."""
        if self.samples or self.path is None or self.writer is None:
            return False
        try:
            self.path.unlink()
        except OSError as err:
            log.info("cannot remove the empty recording %s: %s", self.path, err)
            return False
        log.info("%s: no sample arrived; the empty recording was removed", self.path)
        return True

    def _startup_s(self) -> float:
        """Seconds a freshly started source may stay silent (a Polar H10 takes up to 30 s)."""
        return float(getattr(self.source, "startup_s", 0.0) or 0.0)

    async def _loop(self, stop: asyncio.Event) -> str:
        while True:
            if stop.is_set():
                return "interrupt"
            remaining = self._remaining()
            if remaining is not None and remaining <= 0:
                return "duration"
            try:
                finished, batch = await self._wait(self.source.read(), stop, remaining)
            except EOFError:
                return "end of input"
            except LinkLost as err:
                if not await self._reconnect(stop, str(err) or "link lost"):
                    return "interrupt" if stop.is_set() else "duration"
                continue
            if self.source.restarts != self._restarts:
                self._stream_restarted()
            if not finished:
                continue
            now_mono = time.monotonic()
            if len(batch):
                try:
                    self._take(batch.t, batch.acc, time.time())
                except WriteFailed as err:
                    self._write_failed(err)
                    return "write failed"
                self.status.link = "streaming"
            else:
                silent = now_mono - self._last_sample_host
                if silent >= self.params.stall_s and now_mono >= self._grace_until:
                    reason = f"no samples for {silent:.1f} s"
                    if not await self._reconnect(stop, reason):
                        return "interrupt" if stop.is_set() else "duration"
                    continue
                if silent >= 1.0:
                    self.status.link = "stalled"
            self._check_host_clock()
            if self.writer is not None:
                try:
                    self._check_file()
                    self.writer.maybe_sync()
                    if now_mono - self._session_written >= self.params.session_s:
                        self._write_session(None)
                except WriteFailed as err:
                    self._write_failed(err)
                    return "write failed"
            self._refresh()

    def _write_failed(self, err: WriteFailed) -> None:
        """Note the first write failure: the recording stops with what the file holds."""
        if self.write_error is None:
            self.write_error = str(err)
            log.info("%s: recording stopped after %d samples", err, self.samples)

    # ------------------------------------------------------------------ end
    def _summarise(self, result: RecordResult) -> None:
        """Run ``process`` on the recording into ``summary-<stamp>/``; when there can be
        none (too few samples, bad data, a full disk, a second Ctrl-C) ``result`` says why
        in ``summary_error`` (the command line prints it), and no folder is left."""
        from pipeline.errors import InputError
        from pipeline.process import ProcessParams, process_recordings

        if result.path is None or result.samples < 2:
            result.summary_error = "too few samples for a summary"
            return
        stamp = utc_stamp(result.start)
        out = Path(self.params.out_dir or ".") / f"summary-{stamp}"
        # written in a hidden folder (under its own name, which the report shows) and
        # renamed when whole: an interrupted summary leaves no folder that looks like one
        # (and `process` of the nights' folder skips hidden ones)
        work: Path | None = None
        params = ProcessParams(tz=self.params.tz, detector=self.params.detector)
        try:
            work = run_folder(out.parent, SUMMARY_STAGING)
            staging = make_private_dir(work / out.name)
            result.process_result = process_recordings([result.path], staging, params)
            os.rename(staging, out)
            result.summary_dir = out
        except KeyboardInterrupt:  # a second Ctrl-C while summarising: the night is whole
            result.process_result = None
            result.summary_error = (
                f"skipped (Ctrl-C); `jerkcount process {result.path} --out {out}` writes it"
            )
            log.info("no summary: %s", result.summary_error)
        except InputError as err:
            result.summary_error = str(err)
            log.info("no summary: %s", err)
        except OSError as err:  # a full disk: the recording is kept, the summary not written
            result.summary_error = f"cannot write the summary in {out}: {err.strerror or err}"
            log.info("no summary: %s", result.summary_error)
        finally:
            if work is not None:
                shutil.rmtree(work, ignore_errors=True)

    def _write_session(self, result: RecordResult | None) -> None:
        if self.session_path is None or self.info is None:
            return
        data: dict[str, Any] = {
            "jerkcount_version": __version__,
            "recording": str(self.path),
            "device": asdict(self.info),
            "start": iso_utc(self.start),
            "samples": self.samples,
            "gaps": [
                {**asdict(g), "duration_s": g.duration_s,
                 "lost_at": iso_utc(g.lost_at),
                 "back_at": None if g.back_at is None else iso_utc(g.back_at)}
                for g in self.gaps
            ],
            "reconnects": sum(1 for g in self.gaps if g.back_at is not None and g.attempts),
            "clock_resets": self.clock.clock_resets if self.clock else 0,
            "writer": asdict(self.writer.stats) if self.writer else None,
            "decoder": _decoder_stats(self.source),
            "rejected_samples": self.rejected,
            "terminal_closed": None if self.hangup_at is None else iso_utc(self.hangup_at),
            "recording_restored": [iso_utc(at) for at in self.restored_at],
            "host_clock_steps": [
                {"at": iso_utc(s.at), "step_s": s.step_s} for s in self.host_steps
            ],
        }  # fmt: skip
        if result is not None:
            live = result.live
            data.update(
                recording_removed=result.removed_empty,
                end=iso_utc(result.end),
                stopped_by=result.stopped_by,
                live_jerks=len(live.events),
                live_error=live.error,
                summary=None if result.summary_dir is None else str(result.summary_dir),
                summary_error=result.summary_error,
                write_error=result.write_error,
            )
        self._session_written = time.monotonic()
        if self._session is None or self._session.path != self.session_path:
            self._session = SessionFile(self.session_path)
        self._session.write(data)  # never raises: the recording is never lost over its log


def _decoder_of(source: Source) -> object | None:
    """The byte decoder of a serial (``source.decoder``) or BLE (``source.driver.decoder``)
    source, ``None`` for others."""
    decoder = getattr(source, "decoder", None)
    if decoder is None:
        decoder = getattr(getattr(source, "driver", None), "decoder", None)
    return decoder


def _decoder_stats(source: Source) -> dict[str, int] | None:
    stats = getattr(source, "stats", None)
    if stats is None:
        return None
    try:
        return {k: int(v) for k, v in asdict(stats).items()}
    except TypeError:
        return None


async def record(
    source: Source, params: RecorderParams, live_line: LiveLine | None = None,
    stop: asyncio.Event | None = None, handle_signals: bool = True,
) -> RecordResult:  # fmt: skip
    """Run a :class:`Recorder`; SIGINT/SIGTERM set ``stop`` (a second SIGINT is the
    default); SIGHUP (the terminal closed) detaches the recorder from the terminal and is
    :meth:`Recorder.hang_up`, unless SIGHUP is ignored (``nohup``)."""
    import signal

    stop = stop or asyncio.Event()
    loop = asyncio.get_running_loop()
    installed: list[int] = []
    recorder = Recorder(source, params, live_line)
    if handle_signals:

        def on_hangup() -> None:
            detach_from_terminal()  # every later write to the closed terminal would fail
            recorder.hang_up(stop)

        hup = getattr(signal, "SIGHUP", None)
        if hup is not None and signal.getsignal(hup) is not signal.SIG_IGN:
            with contextlib.suppress(NotImplementedError, RuntimeError, ValueError):
                loop.add_signal_handler(hup, on_hangup)
                installed.append(hup)

        def on_signal(sig: int) -> None:
            log.info("signal %d: ending the recording", sig)
            stop.set()
            loop.remove_signal_handler(sig)  # a second Ctrl-C interrupts for good

        for sig in (signal.SIGINT, signal.SIGTERM):
            with contextlib.suppress(NotImplementedError, RuntimeError, ValueError):
                loop.add_signal_handler(sig, on_signal, sig)
                installed.append(sig)
    try:
        return await recorder.run(stop)
    finally:
        for sig in installed:
            with contextlib.suppress(Exception):
                loop.remove_signal_handler(sig)
