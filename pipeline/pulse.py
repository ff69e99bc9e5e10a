"""The pulse level of a run: the size of a beat that comes back again and again.

A chest strap feels the heart (a seismocardiogram: ~80 ms complexes at 40-130 bpm,
which the frame means and their median hardly see). The pulse level (g) follows such a
beat: the envelope's maximum in blocks of ``pulse_s`` counted from the start of the
run, and of the blocks of the previous ``background_s`` the value that
``pulse_share`` of them reach (the blocks before the frame's own, growing from the
run's start; the first ``1 / (1 - pulse_share)`` blocks share theirs, so that one of
them may fall between two beats). Blocks of movement (mean envelope above
``sustained_g``) are left out: beats are seen in the still blocks, and a jerk in a
pause between movements is measured against the pause, not against the movement (with
fewer still blocks than the warm-up's, the level is 0). A beat in nearly every block
raises it to the beat's size; jerks, bursts and hiccup-like series at 2 s or more leave
over a fifth of the blocks to the noise, and the level stays the noise's (for white
noise, ~2x the background). The same level is kept of the unfiltered deviation (from
the frames' largest energy), for stretches the low-pass did not smooth
(:mod:`pipeline.fills`).
"""

from __future__ import annotations

import math
from collections.abc import Mapping

import numpy as np
from numpy.lib.stride_tricks import sliding_window_view

from pipeline.params import DetectorParams

#: Slack for ranks from shares (``(1 - 0.8) * 5`` is 0.9999999999999998 in floating point).
EPS = 1e-9
#: Below this sample rate (Hz) beats are not told from jerks well enough (the chest bench:
#: 25-76 false jerks an hour at 50 Hz, 1.5 at 100-200 Hz).
RELIABLE_HZ = 100.0
#: Share of the samples under the pulse level from which a low rate is warned of (a wrist
#: night's is 0; a 50-Hz chest strap's 0.2-1 where the level takes hold at all).
WARN_SHARE = 0.05
#: Device names (as ``record`` writes them into the metadata) of chest straps.
CHEST_STRAPS = ("H10", "H9", "H7")


def beats_warning(fs: float, share: float, metadata: Mapping[str, str] | None = None) -> str | None:
    """A one-line warning for a recording at ``fs`` (Hz) below ``RELIABLE_HZ`` in which a
    heartbeat held the triggers for a ``share`` (0-1) of its samples of ``WARN_SHARE``
    or more, or whose ``metadata`` ``device`` names a chest strap; else ``None``."""
    if not 0 < fs < RELIABLE_HZ:
        return None
    device = str((metadata or {}).get("device", ""))
    strap = any(name in device.split() or device.endswith(name) for name in CHEST_STRAPS)
    if share >= WARN_SHARE:
        what = f"a heartbeat was in {share:.0%} of the recording at {fs:g} Hz"
    elif strap:
        what = f"recorded by a chest strap ({device}) at {fs:g} Hz"
    else:
        return None
    return (
        f"{what}: below {RELIABLE_HZ:g} Hz beats are hard to tell from jerks (a simulated "
        "chest strap at 50 Hz gave dozens to hundreds of false jerks an hour); record at "
        "100-200 Hz"
    )


class PulseLevel:
    """Pulse levels of the frames of one run (frames of ``frame_s``, in order)."""

    def __init__(self, p: DetectorParams) -> None:
        self.p = p
        #: frames per block (0: no pulse level), blocks in a window, blocks the first
        #: windows share
        self.block = max(1, round(p.pulse_s / p.frame_s)) if p.pulse_s > 0 else 0
        self.window = max(1, round(p.background_s / p.pulse_s)) if self.block else 0
        self.warm = math.ceil(1.0 / (1.0 - p.pulse_share) - EPS) if self.block else 0
        self.reset()

    @property
    def first_frames(self) -> int:
        """Frames a run needs before its first level is known (the warm-up's blocks)."""
        return self.block * self.warm

    def reset(self) -> None:
        self._blocks = np.empty((0, 2))  # per block from _off: peak envelope, peak energy
        self._off = 0
        self._frames = np.empty((0, 3))  # frames of the block being filled

    def add(self, mean_g: np.ndarray, peak_g: np.ndarray, peak_g2: np.ndarray) -> None:
        """The run's next frames: their mean and largest envelope (g) and largest energy
        (g²), each ``(k,)``."""
        m = self.block
        if not m:
            return
        rows = np.vstack([self._frames, np.column_stack([mean_g, peak_g, peak_g2])])
        k = rows.shape[0] // m * m
        if k:
            peaks = rows[:k, 1:].reshape(-1, m, 2).max(axis=1)
            moving = rows[:k, 0].reshape(-1, m).mean(axis=1) > self.p.sustained_g
            peaks[moving] = np.nan  # movement, not beats: left out of the windows
            self._blocks = np.vstack([self._blocks, peaks])
        self._frames = rows[k:]

    def levels(self, start: int, stop: int) -> np.ndarray:
        """Pulse levels ``(stop - start, 2)`` (g) of run frames ``start .. stop-1`` (0 before
        the blocks they need end): of the envelope and of the unfiltered deviation.

        Frame ``j`` of block ``b = j // block`` takes the blocks
        ``max(0, b - n) .. max(b, w) - 1`` (``n`` blocks make ``background_s``; the
        first ``w = ceil(1 / (1 - pulse_share))`` share theirs); of the ``m`` block
        maxima among them that are not movement, sorted, the one at rank
        ``floor((1 - pulse_share) * m)``, or 0 when ``m < w``.
        """
        m, n = self.block, self.window
        if not m:
            return np.zeros((stop - start, 2))
        b = np.arange(start, stop) // m
        ub, inverse = np.unique(b, return_inverse=True)
        hi = np.maximum(ub, self.warm)
        lo = np.maximum(0, ub - n)
        have = self._off + self._blocks.shape[0]
        ok = hi <= have  # (every block the window needs has ended)
        vals = np.zeros((ub.size, 2))
        full = ok & (hi - lo == n)
        if full.any():  # whole windows: one sort of their sliding view (NaN last)
            # (the first blocks' frames can share a window: a warm-up longer than it)
            starts = lo[full] - self._off
            a0, a1 = int(starts[0]), int(starts[-1]) + n
            win = np.sort(sliding_window_view(self._blocks[a0:a1], n, axis=0), axis=2)
            win = win[starts - a0]
            vals[full] = self._ranked(win, (~np.isnan(win[:, 0, :])).sum(axis=1))
        for i in np.flatnonzero(ok & ~full):  # windows growing from the run's start
            w = np.sort(self._blocks[lo[i] - self._off : hi[i] - self._off].T, axis=1)
            vals[i] = self._ranked(w[None], np.array([(~np.isnan(w[0])).sum()]))[0]
        vals[:, 1] = np.sqrt(vals[:, 1])
        return vals[inverse]

    def forget_before(self, frame: int) -> None:
        """Drop the blocks no window of run frame ``frame`` or later needs."""
        if not self.block:
            return
        drop = frame // self.block - self.window - self._off
        if drop > 0:
            self._blocks = self._blocks[drop:]
            self._off += drop

    def _ranked(self, windows: np.ndarray, valid: np.ndarray) -> np.ndarray:
        """``(k, 2)``: of each window ``(k, 2, n)``, sorted along its last axis with its
        ``valid`` (k,) values first, the value at rank ``floor((1 - pulse_share) *
        valid)``; 0 where fewer than the warm-up's blocks are valid."""
        rank = np.floor((1.0 - self.p.pulse_share) * valid + EPS).astype(np.int64)
        rank = np.minimum(rank, windows.shape[2] - 1)
        out = np.take_along_axis(windows, rank[:, None, None], axis=2)[:, :, 0]
        out[valid < self.warm] = 0.0
        return out
