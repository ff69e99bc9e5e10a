"""Find samples the low-pass cannot average: stretches filled in by interpolation.

A reader (this one, a board's firmware or another tool that exported the file) fills
a short hole in the data by drawing a line between the samples either side of it (or by
holding the last one). Inside such a stretch the signal is not observed: it carries the
two end samples' noise unchanged for the whole stretch, and the envelope's low-pass,
which at 200 Hz and above averages sensor noise down to a fraction, passes that noise
through whole. With white-noise thresholds, a dropped 40-ms packet at 0.02 g of noise
then looks like a small jerk now and again (2 false jerks an hour at 200 Hz, 20 at
500-1000 Hz, with 0.1 % of packets dropped).

Such a stretch shows itself: three consecutive samples on one straight line on all three
axes (second differences under :data:`LINE_TOL_G`, far below one step of any
accelerometer's converter, and much less than the noise of a real signal). Every
sample whose envelope the line reaches through the low-pass (the ``support`` samples
after the end of such a triple) is *filled*; the segmenter holds the triggers there to
the unfiltered noise.
"""

from __future__ import annotations

import numpy as np

#: second differences (g) at or below this, on every axis, mark a straight line
LINE_TOL_G = 1e-5

_FAR = 1 << 40  # no line yet (a count that cannot overflow)


class FillTracker:
    """Marks filled samples of one contiguous run, chunk by chunk.

    ``support`` (samples) is how far after a line the low-pass still carries it
    (:func:`pipeline.filters.filter_support`). The marks do not depend on the chunking.
    """

    def __init__(self, support: int) -> None:
        self.support = int(support)
        self.reset()

    def reset(self) -> None:
        self._prev = np.empty((0, 3))  # the run's last (up to) two samples
        self._since = _FAR  # samples since the last line's end

    def push(self, x: np.ndarray) -> np.ndarray:
        """``(m, 3)`` samples in g, the run's next; returns ``(m,)`` bool, True where
        filled: within ``support`` samples after the end of three collinear samples."""
        m = x.shape[0]
        if m == 0:
            return np.zeros(0, dtype=bool)
        both = np.concatenate((self._prev, x))
        self._prev = both[-2:]
        line = np.zeros(m, dtype=bool)  # line[j]: samples j-2, j-1, j collinear
        if both.shape[0] >= 3:
            line[m - (both.shape[0] - 2) :] = _collinear(both)
        if not line.any():  # the common case: only a line before this chunk reaches it
            out = np.zeros(m, dtype=bool)
            out[: max(0, self.support - self._since)] = True
            self._since = min(self._since + m, _FAR)
            return out
        # samples since the last line's end (the carried count before this chunk)
        idx = np.arange(m, dtype=np.int64)
        last = np.maximum.accumulate(np.where(line, idx, -1))
        since = np.where(last >= 0, idx - last, self._since + idx + 1)
        self._since = min(int(since[-1]), _FAR)
        return since <= self.support


def _collinear(x: np.ndarray) -> np.ndarray:
    """``(n - 2,)`` bool: samples ``i, i+1, i+2`` of ``x`` (n, 3) g lie on one line on
    every axis. The first axis alone first (in noise it rules out nearly every triple),
    then the other two only where it holds."""
    a = x[:, 0]
    d2 = a[2:] + a[:-2]
    d2 -= 2.0 * a[1:-1]
    ok = np.abs(d2) <= LINE_TOL_G
    cand = np.flatnonzero(ok)
    if cand.size:
        rest = x[cand + 2, 1:] + x[cand, 1:] - 2.0 * x[cand + 1, 1:]
        ok[cand] = np.abs(rest).max(axis=1) <= LINE_TOL_G
    return ok
