"""Live detection on the samples being recorded, identical to ``detect`` on the file.

Design: the live path does not resample by itself. The raw rows the recorder wrote
(read back from the written text with the canonical reader's parser, so bit-identical
to what ``detect`` reads later) are handed to a worker thread that runs the *same*
:class:`pipeline.reader.RecordingStream` code (validation, rate estimation from the
first ``probe_rows`` rows, resampling onto the grid, gaps) over a queue instead of a
file, and feeds the grid chunks to a :class:`pipeline.detector.JerkDetector`. Hence
the events found live equal ``jerkcount detect`` on the written file, by construction
(and tested).

Latency: the grid is only defined once the sample rate is estimated, i.e. after
``probe_rows`` raw rows (20,000: 200 s at 100 Hz); detection then catches up and runs
about ``restless_s`` plus a few seconds behind the newest sample.

Also here: :class:`LiveLine`, the one-line status on a terminal.
"""

from __future__ import annotations

import logging
import queue
import sys
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import TextIO

import numpy as np

from pipeline.detector import DetectorOutput, JerkDetector
from pipeline.errors import InputError
from pipeline.events import ActivityPeriod, JerkEvent
from pipeline.formats.base import RawBlock, RawSource
from pipeline.params import DetectorParams
from pipeline.progress import LineClearer
from pipeline.reader import ReaderParams, ReadStats, RecordingStream
from pipeline.recording import Gap, RecordingHeader

log = logging.getLogger(__name__)

_END = None
#: At most this many raw rows are joined into one block (bounds the live thread's work
#: per block, hence how long it holds the interpreter while the recorder reads).
JOIN_ROWS = 16_384


class _QueueSource(RawSource):
    """A :class:`RawSource` whose blocks come from a queue (``None`` ends it)."""

    name = "live"

    def __init__(self, label: str, metadata: dict[str, str], q: queue.Queue) -> None:
        super().__init__(Path(label))
        self.metadata = dict(metadata)
        self._queue = q
        self._line = 1
        self.ended = False

    def blocks(self, rows: int) -> Iterator[RawBlock]:
        """One block per wait: whatever is queued by then, up to about ``rows`` rows
        (and :data:`JOIN_ROWS`).

        In real time that is a packet or two; when the detector falls behind (a
        replay at full speed, a slow machine) the queued pushes are joined, so the
        per-block cost of the reader and the detector is paid once per many pushes.
        The rows and their order are the same either way.
        """
        while not self.ended:
            item = self._queue.get()
            if item is _END:
                self.ended = True
                return
            ts, accs = [item[0]], [item[1]]
            n = item[0].size
            while n < min(rows, JOIN_ROWS):
                try:
                    item = self._queue.get_nowait()
                except queue.Empty:
                    break
                if item is _END:
                    self.ended = True
                    break
                ts.append(item[0])
                accs.append(item[1])
                n += item[0].size
            if len(ts) == 1:
                block = RawBlock(ts[0], accs[0], self._line)
            else:
                block = RawBlock(np.concatenate(ts), np.concatenate(accs), self._line)
            self._line += n
            yield block


class _LiveStream(RecordingStream):
    """:class:`RecordingStream` over a :class:`_QueueSource` (same checks, same grid)."""

    def __init__(self, source: RawSource, params: ReaderParams, quiet: bool = False) -> None:  # noqa: D107
        if quiet:
            self.warn_level = logging.INFO
        self.path = source.path
        self.params = params
        self.gaps: list[Gap] = []
        self.stats = ReadStats()
        self.options = None
        self._source = source
        self._start()


@dataclass
class LiveResult:
    """What live detection found: events, activity, gaps, the grid header (or the error)."""

    events: list[JerkEvent] = field(default_factory=list)
    activity: list[ActivityPeriod] = field(default_factory=list)
    gaps: list[Gap] = field(default_factory=list)
    header: RecordingHeader | None = None
    error: str | None = None
    samples: int = 0


class LiveDetector:
    """Runs the reader's grid logic and the detector on raw rows, in a worker thread.

    ``push(t, acc)`` hands over raw rows (epoch s, ``(n, 3)`` g) in time order;
    ``finish()`` ends the stream and returns the :class:`LiveResult`. ``jerks`` and
    ``last_jerk`` (epoch s or ``None``) are updated as events become final;
    ``on_event`` (optional) is called from the worker thread for each jerk.
    ``chunk_samples`` caps the grid chunks fed to the detector: in real time a chunk is
    what arrived (a packet or two); a backlog (a replay at full speed) goes in chunks as
    large as ``detect``'s, where 4,096 made the detector's per-chunk cost a quarter of
    the live path's time. The events do not depend on it. ``quiet``: the reader's
    findings (a rate change, a stuck axis) are logged at INFO, not WARNING: for a
    replay, whose file reader has said them already, naming the file's lines.
    """

    def __init__(
        self,
        label: str,
        metadata: dict[str, str] | None = None,
        params: DetectorParams | None = None,
        reader: ReaderParams | None = None,
        chunk_samples: int = 65_536,
        on_event: Callable[[JerkEvent], None] | None = None,
        quiet: bool = False,
    ) -> None:
        self.quiet = quiet
        self.params = params or DetectorParams()
        self.reader = reader or ReaderParams()
        self.chunk_samples = chunk_samples
        self.on_event = on_event
        self.result = LiveResult()
        self.jerks = 0
        self.last_jerk: float | None = None
        self._queue: queue.Queue = queue.Queue()
        self._source = _QueueSource(label, metadata or {}, self._queue)
        self._thread = threading.Thread(target=self._run, name="jerkcount-live", daemon=True)
        self._thread.start()

    def push(self, t: np.ndarray, acc: np.ndarray) -> None:
        """Queue raw rows (copied by the caller or not reused afterwards)."""
        if len(t):
            self._queue.put((np.asarray(t, dtype=np.float64), np.asarray(acc, dtype=np.float64)))

    def finish(self, timeout: float | None = None) -> LiveResult:
        """End of the recording: flush the detector and return what it found."""
        self._queue.put(_END)
        self._thread.join(timeout)
        return self.result

    def _take(self, out: DetectorOutput) -> None:
        self.result.events.extend(out.events)
        self.result.activity.extend(out.activity)
        for ev in out.events:
            self.jerks += 1
            self.last_jerk = ev.time
            if self.on_event is not None:
                self.on_event(ev)

    def _run(self) -> None:
        try:
            stream = _LiveStream(self._source, self.reader, self.quiet)
        except InputError as err:
            self.result.error = str(err)
            self._drain()
            return
        except Exception as err:  # pragma: no cover - a bug; never kill the recorder
            log.exception("live detection failed to start")
            self.result.error = f"live detection failed: {err}"
            self._drain()
            return
        header = stream.header
        self.result.header = header
        det = JerkDetector(header.fs, header.t0, self.params)
        try:
            for chunk in stream.chunks(self.chunk_samples):
                self._take(det.feed(chunk))
            self._take(det.finish())
            # as detect: events where a raw sample is at the sensor's range are clipped
            self.result.events = stream.flag_clipped(self.result.events)
        except InputError as err:
            self.result.error = str(err)
            log.warning("live detection stopped: %s", err)
            self._drain()
        except Exception as err:  # pragma: no cover - a bug; never kill the recorder
            log.exception("live detection failed")
            self.result.error = f"live detection failed: {err}"
            self._drain()
        self.result.gaps = list(stream.gaps)
        self.result.samples = det.samples_seen

    def _drain(self) -> None:
        """Keep consuming the queue after a failure, so pushes never pile up."""
        if self._source.ended:
            return
        while self._queue.get() is not _END:
            pass
        self._source.ended = True


# ---------------------------------------------------------------------- live line
def _hms(seconds: float) -> str:
    s = int(max(0.0, seconds))
    return f"{s // 3600:02d}:{s % 3600 // 60:02d}:{s % 60:02d}"


@dataclass
class LiveStatus:
    """What the live line shows (updated by the recorder)."""

    elapsed_s: float = 0.0
    samples: int = 0
    link: str = "connecting"
    jerks: int = 0
    last_jerk: float | None = None


class LiveLine:
    """A ``\\r``-updated status line on a terminal (nothing when ``stream`` is not a tty).

    ``elapsed 01:02:03 | 744,000 samples | streaming | 12 jerks | last 02:14:09``
    (last jerk in local time of this machine). Redrawn at most every ``every_s`` seconds.
    """

    def __init__(
        self, stream: TextIO | None = None, every_s: float = 1.0, force: bool = False
    ) -> None:
        self.stream = stream if stream is not None else sys.stderr
        self.enabled = force or _isatty(self.stream)
        self.every_s = every_s
        self._last = 0.0
        self._width = 0
        # a warning logged meanwhile blanks the line first: it is not glued to its end
        self._shown: LiveStatus | None = None
        self._clearer = LineClearer(self.stream, self._redraw).attach() if self.enabled else None

    @staticmethod
    def text(st: LiveStatus) -> str:
        """The line for a status."""
        last = "-"
        if st.last_jerk is not None:
            last = datetime.fromtimestamp(st.last_jerk, UTC).astimezone().strftime("%H:%M:%S")
        return (
            f"elapsed {_hms(st.elapsed_s)} | {st.samples:,} samples | {st.link} | "
            f"{st.jerks} jerks | last {last}"
        )

    def update(self, st: LiveStatus, force: bool = False) -> None:
        """Redraw if enabled and ``every_s`` passed (or ``force``)."""
        if not self.enabled:
            return
        now = time.monotonic()
        if not force and now - self._last < self.every_s:
            return
        self._last = now
        self._shown = st
        line = self.text(st)
        pad = max(0, self._width - len(line))
        self._width = len(line)
        self._write("\r" + line + " " * pad)

    def _write(self, text: str) -> None:
        """Write and flush; a terminal that is gone (``EIO`` after a hang-up, a closed
        stream) turns the line off instead of ending the recording."""
        try:
            self.stream.write(text)
            self.stream.flush()
        except (OSError, ValueError) as err:
            self.enabled = False
            log.info("the live line is off: its terminal is gone (%s)", err)

    def _redraw(self) -> None:
        """The last status again (below a warning that blanked it)."""
        if self._shown is not None:
            self._width = 0
            self.update(self._shown, force=True)

    def note(self, text: str) -> None:
        """A line of its own under the closed live line (on a terminal only)."""
        if self.enabled:
            self._write(text + "\n")

    def close(self, st: LiveStatus) -> None:
        """Final redraw and a newline."""
        if self._clearer is not None:
            self._clearer.detach()
        if self.enabled:
            self.update(st, force=True)
        if self.enabled:
            self._write("\n")


def _isatty(stream: TextIO) -> bool:
    try:
        return stream.isatty()
    except (AttributeError, ValueError):
        return False
