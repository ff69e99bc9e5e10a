"""The progress line of ``jerkcount batch``: recordings done, samples per second, time left.

Drawn on stderr only when stderr is a terminal (:func:`pipeline.progress.is_terminal`);
in a pipe, a log file or a test runner nothing is drawn and error lines are printed
as they are. Work is counted in input bytes (known before any file is read), so the
time left holds for recordings of different lengths; samples per second are those of
the recordings processed in this run.
"""

from __future__ import annotations

import sys
import time
from typing import IO

from pipeline.progress import CLEAR_LINE, LineClearer, is_terminal

BAR_WIDTH = 24
#: Least time between two redraws, seconds.
REDRAW_S = 0.2


def _clock(seconds: float) -> str:
    """``h:mm:ss`` (or ``m:ss`` under an hour) for a duration in seconds."""
    s = max(0, int(round(seconds)))
    h, rest = divmod(s, 3600)
    m, s = divmod(rest, 60)
    return f"{h}:{m:02d}:{s:02d}" if h else f"{m}:{s:02d}"


def _rate(samples_per_s: float) -> str:
    """A sample rate with an SI prefix: ``3.1 M samples/s``."""
    for factor, prefix in ((1e9, "G"), (1e6, "M"), (1e3, "k")):
        if samples_per_s >= factor:
            return f"{samples_per_s / factor:.1f} {prefix} samples/s"
    return f"{samples_per_s:.0f} samples/s"


class BatchProgress:
    """Progress of a batch on ``stream`` (default stderr), drawn only on a terminal.

    Parameters
    ----------
    total : recordings in the batch (skipped ones included).
    total_bytes : input bytes of the recordings still to process (the time left is
        estimated from the bytes done so far).
    stream : where to draw; ``None``: ``sys.stderr``.
    """

    def __init__(self, total: int, total_bytes: int, stream: IO[str] | None = None) -> None:
        self.stream = sys.stderr if stream is None else stream
        self.enabled = is_terminal(self.stream)
        self.total = total
        self.total_bytes = max(0, total_bytes)
        self.done = 0
        self.bytes_done = 0
        self.samples = 0
        self.start = time.perf_counter()
        self._last_draw = 0.0
        self._drawn = False
        self._clearer = LineClearer(self.stream, self._redraw).attach() if self.enabled else None
        if total:
            self.draw(force=True)

    def advance(self, recordings: int = 1, nbytes: int = 0, samples: int = 0) -> None:
        """Count ``recordings`` finished, ``nbytes`` of input and ``samples`` processed."""
        self.done += recordings
        self.bytes_done += nbytes
        self.samples += samples
        self.draw(force=self.done >= self.total)

    def message(self, line: str) -> None:
        """Print ``line`` on the stream (above the bar on a terminal), then redraw."""
        if self.enabled and self._drawn:
            self.stream.write(CLEAR_LINE)
        self.stream.write(line + "\n")
        self.stream.flush()
        if self.enabled and self._drawn:
            self.draw(force=True)

    def _redraw(self) -> None:
        """The bar again, below a warning that blanked it."""
        self.draw(force=True)

    def line(self) -> str:
        """The progress line as text (without carriage return)."""
        elapsed = time.perf_counter() - self.start
        share = self.done / self.total if self.total else 1.0
        if self.total_bytes:
            share = min(1.0, self.bytes_done / self.total_bytes)
        filled = int(round(share * BAR_WIDTH))
        parts = [
            f"batch [{'#' * filled}{'-' * (BAR_WIDTH - filled)}]",
            f"{self.done}/{self.total} recordings",
        ]
        if self.samples and elapsed > 0:
            parts.append(_rate(self.samples / elapsed))
        if 0 < share < 1 and self.done < self.total:
            parts.append(f"{_clock(elapsed * (1 - share) / share)} left")
        elif self.done >= self.total:
            parts.append(f"{_clock(elapsed)} total")
        return "  ".join(parts)

    def draw(self, force: bool = False) -> None:
        """Redraw the bar (at most every :data:`REDRAW_S` unless ``force``)."""
        if not self.enabled:
            return
        now = time.perf_counter()
        if not force and now - self._last_draw < REDRAW_S:
            return
        self._last_draw = now
        self.stream.write(CLEAR_LINE + self.line())
        self.stream.flush()
        self._drawn = True

    def close(self) -> None:
        """End the bar's line (on a terminal)."""
        if self._clearer is not None:
            self._clearer.detach()
        if self.enabled and self._drawn:
            self.draw(force=True)
            self.stream.write("\n")
            self.stream.flush()
            self._drawn = False
