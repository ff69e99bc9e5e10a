"""Frame statistics of a run: the local background and frame-level activity.

Feature samples are grouped in frames of ``frame_s`` counted from the start of the run.
A frame's *background* (g) is the median of the frame means
over the previous ``background_s`` (the first ``warmup_s`` of a run share the median
of that stretch). Samples are released with the levels of their frames once those
are complete, so thresholds depend only on the data, never on the chunking.

The same frame means flag two kinds of activity as spans of grid indices:
sustained movement (the median envelope over ``sustained_s`` above both
``sustained_g`` and ``k_sustained`` times the quiet floor, the lowest background of
the last ``floor_s``, so a noisy board is not taken for movement) and posture
change (the baseline, i.e. gravity in sensor axes, moving more than ``posture_g``
within ``posture_s``).

The levels also carry the pulse level of :mod:`pipeline.pulse` (a beat in nearly
every block, as a chest strap feels the heart).
"""

from __future__ import annotations

import numpy as np

from pipeline.features import Features
from pipeline.filters import block_means, column_means
from pipeline.params import DetectorParams
from pipeline.pulse import PulseLevel
from pipeline.rankfilter import growing_medians, median_filter1d, minimum_filter1d
from pipeline.recording import runs

Span = tuple[int, int, str]

#: Column of the frame means that holds the energy (``Features.energy``).
ENERGY = 4
#: Columns of the levels :meth:`FrameTracker.push` returns: background, quiet floor,
#: energy background, inflation, pulse level, pulse level of the unfiltered deviation.
BG, FLOOR, ENERGY_BG, INFLATION, PULSE, RAW_PULSE = range(6)
N_LEVELS = 6
#: Standard deviations per median absolute deviation, for Gaussian data.
MAD_TO_SD = 1.4826
#: Energies below this (g² per sample) count as this, against division by zero.
TINY_G2 = 1e-12


def frame_length(fs: float, p: DetectorParams) -> int:
    """Samples per frame (``frame_s`` at ``fs`` Hz, at least 1)."""
    return max(1, round(p.frame_s * fs))


class FrameTracker:
    """Background and frame-level activity for one run at ``fs`` Hz."""

    def __init__(self, fs: float, p: DetectorParams) -> None:
        self.p = p
        self.frame = frame_length(fs, p)
        self.n_act = 2 * max(0, round(p.sustained_s / p.frame_s / 2)) + 1  # odd
        self.n_post = max(1, round(p.posture_s / p.frame_s))
        n_bg = max(1, round(p.background_s / p.frame_s), self.n_act, self.n_post + 1)
        self.n_bg = n_bg | 1  # odd: a true middle element
        self.n_warm = min(self.n_bg, max(1, round(p.warmup_s / p.frame_s)))
        self.n_floor = max(1, round(p.floor_s / p.frame_s))
        self.n_keep = max(self.n_bg, self.n_floor)
        self.pulse = PulseLevel(p)
        self.n_first = max(self.n_warm, self.pulse.first_frames)  # frames of the first release
        self.spans: list[Span] = []
        #: Envelope frame means released since the caller last took them: ``(grid index of
        #: the first frame, (k,) means in g)``, frames ``frame`` samples long.
        self.levels: list[tuple[int, np.ndarray]] = []
        self.reset(0)

    def reset(self, run_start: int) -> None:
        self.run_start = run_start
        self._pending = Features.empty()  # samples not yet released
        self._means = np.empty((0, 5))  # per frame: envelope, baseline x, y, z, energy
        self._bgs = np.empty(0)  # background of each released frame, from frame _off
        self._spread = np.empty(0)  # |energy - its background| / background, the same frames
        self._off = 0  # run frame number of _means[0]
        self._done = 0  # run frames released
        self.pulse.reset()

    # ------------------------------------------------------------------ API
    def push(self, feat: Features, final: bool = False) -> tuple[Features, np.ndarray]:
        """Add feature samples; return the released ones and the ``(k, 6)`` levels of their
        ``k`` frames (``frame`` samples each, the last of a run possibly fewer): the
        background and the quiet floor (lowest background of the last ``floor_s``), in g;
        the energy background (the same median of the frames' mean energy, g²); the
        noise's *inflation* (see :meth:`_inflation`; 1 for white noise): how much more
        the frames' mean energy varies than white noise's does, squared, from the median
        of their relative deviations from the energy background over the same window;
        and the pulse levels (g, see :mod:`pipeline.pulse`; 0 where there are none) of the
        envelope and of the unfiltered deviation. :data:`BG` ... :data:`RAW_PULSE` name
        the columns.

        With ``final`` the run ends and every sample is released (a last partial frame
        takes the background of the frames before it).
        """
        f = self.frame
        pending = self._pending = self._pending.then(feat)
        n_complete = len(pending) // f
        have = self._off + self._means.shape[0]
        upto = self._done + n_complete
        if upto > have:
            a, b = (have - self._done) * f, n_complete * f
            new = np.column_stack(
                [
                    column_means(pending.fast[a:b], f),
                    block_means(pending.base[a:b], f),
                    column_means(pending.energy[a:b], f),
                ]
            )
            self._means = np.vstack([self._means, new])
            self.pulse.add(
                new[:, 0],
                pending.fast[a:b].reshape(-1, f).max(axis=1),
                pending.energy[a:b].reshape(-1, f).max(axis=1),
            )
        out: list[Features] = []
        out_levels: list[np.ndarray] = []
        if upto >= self.n_first or final:
            if upto > self._done:
                n = (upto - self._done) * f
                out.append(self._pending.head(n))
                env = self._means[self._done - self._off : upto - self._off, 0]
                self.levels.append((self.run_start + self._done * f, env.copy()))
                bgs = self._backgrounds(self._done, upto)
                self._bgs = np.concatenate([self._bgs, bgs])
                floors = self._floors(self._done, upto)
                energy = self._backgrounds(self._done, upto, ENERGY)
                mean_e = self._means[self._done - self._off : upto - self._off, ENERGY]
                spread = np.abs(mean_e - energy) / np.maximum(energy, TINY_G2)
                self._spread = np.concatenate([self._spread, spread])
                typical = self._backgrounds(self._done, upto, values=self._spread)
                inflation = self._inflation(typical)
                pulse = self.pulse.levels(self._done, upto)
                out_levels.append(np.column_stack([bgs, floors, energy, inflation, pulse]))
                self._pending = self._pending.tail(n)
                self._mark_sustained(self._done, upto, floors)
                self._mark_posture(self._done, upto)
                self._done = upto
            if final and len(self._pending):
                if upto == 0:
                    bg = float(self._pending.fast.mean())
                    energy = float(self._pending.energy.mean())
                    inflation = 1.0
                else:
                    bg = float(self._backgrounds(upto, upto + 1)[0])
                    energy = float(self._backgrounds(upto, upto + 1, ENERGY)[0])
                    typical = self._backgrounds(upto, upto + 1, values=self._spread)
                    inflation = float(self._inflation(typical)[0])
                pulse = self.pulse.levels(upto, upto + 1)[0]
                recent = self._bgs[-(self.n_floor - 1) :] if self.n_floor > 1 else self._bgs[:0]
                floor = min(bg, float(recent.min())) if recent.size else bg
                out.append(self._pending)
                out_levels.append(np.array([[bg, floor, energy, inflation, *pulse]]))
                self._pending = Features.empty()
        drop = self._done - self.n_keep - self._off
        if drop > 0 and self._done >= self.n_warm:
            self._means = self._means[drop:]
            self._bgs = self._bgs[drop:]
            self._spread = self._spread[drop:]
            self._off += drop
        self.pulse.forget_before(self._done)
        if not out:
            return Features.empty(), np.empty((0, N_LEVELS))
        if len(out) == 1:
            return out[0], out_levels[0]
        return out[0].then(out[1]), np.vstack(out_levels)

    def horizon(self) -> int:
        """No activity span flagged later can start before this grid index."""
        back = max(self.n_act - 1, self.n_post)
        return self.run_start + (self._done - back) * self.frame

    # ------------------------------------------------------------------ internals
    def _backgrounds(
        self, start: int, stop: int, column: int = 0, values: np.ndarray | None = None
    ) -> np.ndarray:
        """Background ``(stop - start,)`` of run frames ``start .. stop-1``: of the envelope
        (g), with ``column`` :data:`ENERGY` of the energy (g²), or of ``values`` (one per
        frame from frame ``_off``)."""
        off = self._off
        env = self._means[:, column] if values is None else values
        out = np.empty(stop - start)
        grow = np.arange(start, min(stop, self.n_bg))  # windows growing from the start
        if grow.size:  # (no frame is dropped before n_bg, so off is 0 here)
            hi = np.maximum(grow, self.n_warm)  # median of env[:hi]
            have = min(int(hi[-1]), env.shape[0])
            out[: grow.size] = growing_medians(env[:have])[np.minimum(hi, have) - 1]
        first = max(start, self.n_bg)
        if stop > first:
            n = self.n_bg
            arr = env[first - n - off : stop - 1 - off]
            med = median_filter1d(arr, n, n // 2)
            out[first - start :] = med[n - 1 :]
        return out

    def _inflation(self, typical: np.ndarray) -> np.ndarray:
        """How much more the frames' mean energy varies than white noise's would, squared
        (at least 1), from the median relative deviation ``typical`` of the frame means
        from their background: ``(1.4826 * typical / sqrt(2 / (3 * frame)))**2``."""
        white = np.sqrt(2.0 / (3.0 * self.frame))
        return np.maximum(1.0, (MAD_TO_SD * typical / white) ** 2)

    def _mark_sustained(self, start: int, stop: int, floors: np.ndarray) -> None:
        """Flag frames whose trailing ``sustained_s`` median envelope is high, both in
        g and against the quiet floor."""
        off, n = self._off, self.n_act
        fast = self._means[:, 0]
        lo = max(0, start - n + 1)
        seg = fast[lo - off : stop - off]
        med = median_filter1d(seg, n, n // 2)[start - lo :]
        if start < n - 1:  # windows clipped at the run start (off is 0 there)
            clipped = growing_medians(fast[: min(stop, n - 1)])
            med[: clipped.size - start] = clipped[start:]
        limit = np.maximum(self.p.sustained_g, self.p.k_sustained * floors)
        half = (n - 1) // 2  # the flag belongs to the centre of the window
        self._add_spans(start, med > limit, half, shift=half)

    def _floors(self, start: int, stop: int) -> np.ndarray:
        """Quiet floor (g) of frames ``start..stop-1``: the lowest background of the
        frames in the last ``floor_s`` up to each (backgrounds already computed)."""
        off, nf = self._off, self.n_floor
        lo = max(0, start - nf + 1)
        bgs = self._bgs[lo - off : stop - off]
        floor = minimum_filter1d(bgs, nf, (nf - 1) // 2)
        return floor[start - lo :]

    def _mark_posture(self, start: int, stop: int) -> None:
        """Flag frames whose baseline moved more than ``posture_g`` in ``posture_s``."""
        off, n = self._off, self.n_post
        base = self._means[:, 1:4]
        lo = max(0, start - n)
        seg = base[lo - off : stop - off]
        prev = np.maximum(np.arange(start, stop) - n, 0) - lo
        moved = np.linalg.norm(seg[start - lo :] - seg[prev], axis=1) > self.p.posture_g
        self._add_spans(start, moved, n)

    def _add_spans(self, start: int, flags: np.ndarray, back: int, shift: int = 0) -> None:
        """A span for each run of flagged frames ``start + a .. start + b - 1``: from
        ``back`` frames before its first frame to ``shift`` frames before its end."""
        f, r0 = self.frame, self.run_start
        for a, b in runs(flags):
            lo, hi = max(0, start + a - back), start + b - shift
            self.spans.append((r0 + lo * f, r0 + hi * f, "movement"))
