"""Cut the released feature samples of a run into segments: candidate jerks or movement.

A *run* is a stretch where the envelope is above its low threshold (``k_low`` x
background, at least ``min_low_g``; in a restless stretch ``k_low`` x the quiet floor,
see below), joined over dips shorter than ``merge_gap_s``.
A run that reaches the high threshold (``k_high`` x background, at least
``min_peak_g``) becomes a :class:`Segment`. Where the background stands above
``restless_bg_ratio`` x the quiet floor (after movement, or in a restless stretch) the
trigger is ``k_restless`` x the background; a run there that reaches only ``k_high`` x
the quiet floor becomes a *weak* segment, which the classifier counts only as a lone
jerk in a pause. Where the pulse level (:mod:`pipeline.pulse`: a beat in
nearly every block, as the heart on a chest strap) stands above ``pulse_bg_ratio`` x
the background, both triggers are at least ``k_pulse`` x the pulse level. Runs
are only cut once no later sample can extend them, so segments do not depend on
the chunking.

A run that reaches no trigger but is found by the energy trigger
(:mod:`pipeline.energy`: a window of a jerk's duration whose energy stands beyond
white noise of the energy background), where that background is sensor noise (not
restless, the envelope background under ``sustained_g``) and whose envelope reaches
``energy_min_g``, becomes a *quiet* segment: like a weak one, a candidate the
classifier decides on its own.

With ``floor_extent`` (the default), where the background is raised the run's low
threshold is ``k_low`` x the quiet floor rather than ``k_low`` x that background: the
raised background (the 30-s median still carrying a movement that ended seconds ago)
overstates the noise, and against it a movement looks like a few brief pieces while a
jerk in the still moment after it forms no run at all. A segment's *duration*, for the
``max_jerk_s`` test, is its core everywhere: the span above ``end_fraction`` of its
peak (and the low threshold); where the low threshold is the floor's, its onset is
where the core starts (the lowered threshold would otherwise start it on the residual
motion before the jerk).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from pipeline.energy import EnergyTrigger, triggered
from pipeline.features import Features
from pipeline.filters import filter_delay, lowpass_taps
from pipeline.noisefloor import BG, ENERGY_BG, FLOOR, INFLATION, PULSE, RAW_PULSE
from pipeline.params import DetectorParams
from pipeline.recording import append_rows

#: the mean of the magnitude of 3-axis white noise over its root mean square,
#: sqrt(8 / (3 pi)): an envelope background from the energy background
RAW_MEAN = float(np.sqrt(8.0 / (3.0 * np.pi)))


@dataclass(frozen=True)
class Segment:
    """A finished run. Indices are grid indices; sizes in g.

    ``movement`` is True for runs whose core (see the module docstring) is longer than
    ``max_jerk_s``, pieces of very long runs, and runs cut by the start or end of the
    stream. ``envelope_g`` is the
    envelope's peak. ``weak`` segments reached only the quiet-floor trigger
    (``k_high`` x the quiet floor), not the trigger of their background: candidates for
    the classifier's pause test, never movement. ``quiet`` segments (also ``weak``)
    were found by the energy trigger alone (see :mod:`pipeline.energy`).
    """

    onset: int
    end: int
    peak_index: int
    peak_g: float
    axis: int
    background_g: float
    movement: bool
    envelope_g: float = 0.0
    weak: bool = False
    quiet: bool = False


def merged_runs(mask: np.ndarray, max_gap: int) -> list[tuple[int, int]]:
    """True runs of ``mask`` (end exclusive), joining runs separated by < ``max_gap`` Falses."""
    if not mask.any():
        return []
    d = np.diff(np.concatenate(([0], mask.astype(np.int8), [0])))
    starts = np.flatnonzero(d == 1)
    ends = np.flatnonzero(d == -1)
    if starts.size > 1:
        keep = np.concatenate(([True], starts[1:] - ends[:-1] >= max_gap))
        starts = starts[keep]
        ends = np.concatenate((ends[:-1][keep[1:]], ends[-1:]))
    return list(zip(starts.tolist(), ends.tolist(), strict=True))


def run_peaks(x: np.ndarray, runs: np.ndarray) -> np.ndarray:
    """Largest value of ``x`` in each run ``runs[j] = (start, end)`` (end exclusive,
    non-empty, in order, not overlapping)."""
    bounds = np.append(runs.ravel(), x.shape[0])  # the end of the last run may be len(x)
    return np.maximum.reduceat(np.append(x, -np.inf), bounds[:-1])[::2]


class Segmenter:
    """Segments of one run at ``fs`` Hz."""

    def __init__(self, fs: float, p: DetectorParams) -> None:
        self.p = p
        self.merge_gap = max(1, round(p.merge_gap_s * fs))
        self.max_run = max(1, round(p.max_run_s * fs))
        self.max_jerk = p.max_jerk_s * fs
        self.edge = round(p.edge_s * fs)
        self._energy = EnergyTrigger(fs, p) if p.energy_z > 0 else None
        #: the envelope low-pass's delay (samples): how much earlier than the envelope's run
        #: a jerk's unfiltered energy may start
        self.delay = filter_delay(lowpass_taps(fs, p.lp_hz))
        #: samples so far (all runs) whose triggers the pulse level held (beats)
        self.pulse_samples = 0
        self.reset(0)

    def reset(self, run_start: int) -> None:
        self.run_start = run_start
        self.start = run_start  # grid index of the first sample held
        self._fast = np.empty(0)  # envelope (g) of the samples held
        self._dev = np.empty((0, 3))  # their deviation from the baseline (g)
        self._hot = np.empty(0, dtype=bool)
        self._elen = np.empty(0, dtype=np.int64)  # shortest triggering energy window
        self._weak = np.empty(0, dtype=bool)
        self._quiet = np.empty(0, dtype=bool)  # starts of runs the energy trigger found
        self._lo = np.empty(0)
        self._low_floor = np.empty(0, dtype=bool)  # samples whose low threshold is the floor's
        self._bg = np.empty(0)
        self._cut = False
        if self._energy is not None:
            self._energy.reset()

    def push(
        self, feat: Features, levels: np.ndarray, frame: int, final: bool = False
    ) -> list[Segment]:
        """Add released samples with the levels ``(k, 6)`` of their frames (background and
        quiet floor, g; energy background, g²; the noise's inflation; the pulse levels of
        the envelope and of the unfiltered deviation, g;
        ``frame`` samples a frame, the last possibly fewer); return finished segments.

        Where the background stands above ``restless_bg_ratio`` x the quiet floor (a
        restless stretch), a jerk must reach ``k_restless`` x the background; where the
        pulse level stands above ``pulse_bg_ratio`` x the background (beats), it must
        reach ``k_pulse`` x the pulse level, and the energy trigger is not sought. The
        thresholds are computed per frame and spread over its samples.
        """
        p = self.p
        r = len(feat)
        if r:
            level, floor = levels[:, BG], levels[:, FLOOR]
            hi = np.maximum(p.k_high * level, p.min_peak_g)
            restless = level > p.restless_bg_ratio * floor
            hi[restless] = np.maximum(hi[restless], p.k_restless * level[restless])
            if p.pause_s > 0:  # a weak candidate: the quiet floor's trigger, where restless
                weak_hi = np.where(restless, np.maximum(p.k_high * floor, p.min_peak_g), np.inf)
            else:
                weak_hi = np.full(level.shape, np.inf)

            def spread(per_frame: np.ndarray) -> np.ndarray:
                return np.repeat(per_frame, frame)[:r]

            pulse = levels[:, PULSE]
            pulsed = pulse > p.pulse_bg_ratio * level  # a beat in nearly every block
            if pulsed.any():
                beat_hi = p.k_pulse * pulse[pulsed]
                hi[pulsed] = np.maximum(hi[pulsed], beat_hi)
                # (also the pause rule's candidates: beats make the background flicker
                # above the quiet floor, and a beat in a still moment is no jerk)
                weak_hi[pulsed] = np.maximum(weak_hi[pulsed], beat_hi)
                self.pulse_samples += int(np.count_nonzero(spread(pulsed)))
            low_floor = restless if p.floor_extent else np.zeros(restless.shape, dtype=bool)
            lo = np.maximum(p.k_low * np.where(low_floor, floor, level), p.min_low_g)

            fast, filled = feat.fast, feat.filled
            hi_s, weak_s = spread(hi), spread(weak_hi)
            if filled.any():  # an interpolated stretch: the noise as the low-pass left it
                raw = p.k_high * RAW_MEAN * np.sqrt(levels[:, ENERGY_BG])
                raw[pulsed] = np.maximum(raw[pulsed], p.k_pulse * levels[pulsed, RAW_PULSE])
                held = spread(np.maximum(raw, p.min_peak_g))
                hi_s[filled] = np.maximum(hi_s[filled], held[filled])
                weak_s[filled] = np.maximum(weak_s[filled], held[filled])
            hot = fast > hi_s
            low = spread(lo)
            if self._energy is not None:  # where the background is sensor noise
                noisy = restless | (level >= p.sustained_g) | pulsed
                where = (fast > low) & ~spread(noisy) & ~filled
                elen = self._energy.push(
                    feat.energy, spread(levels[:, ENERGY_BG]), spread(levels[:, INFLATION]), where
                )
                self._elen = append_rows(self._elen, elen)
            weak = (fast > weak_s) & ~hot
            self._fast = append_rows(self._fast, fast)
            self._dev = append_rows(self._dev, feat.dev)
            self._hot = append_rows(self._hot, hot)
            self._weak = append_rows(self._weak, weak)
            self._quiet = append_rows(self._quiet, np.zeros(r, dtype=bool))
            self._lo = append_rows(self._lo, low)
            self._low_floor = append_rows(self._low_floor, spread(low_floor))
            self._bg = append_rows(self._bg, spread(level))
        return self._cut_runs(final)

    def _cut_runs(self, final: bool) -> list[Segment]:
        n = self._fast.shape[0]
        if n == 0:
            return []
        runs = merged_runs(self._fast > self._lo, self.merge_gap)
        if runs:  # drop, without a Python loop, the many runs that never trigger
            se = np.asarray(runs)
            if self._energy is not None:  # a run holding a triggering window is hot
                hit = triggered(self._elen, se[:, 0], se[:, 1], self.delay)
                hit &= run_peaks(self._fast, se) >= self.p.energy_min_g
                self._quiet[se[hit, 0]] = True
            hot = np.concatenate(([0], np.cumsum(self._hot | self._weak | self._quiet)))
            keep = (hot[se[:, 1]] > hot[se[:, 0]]) | (se[:, 1] - se[:, 0] > self.max_run)
            keep[-1] = True  # the last run may still be growing
            if self._cut:
                keep[0] = True
            runs = [r for r, k in zip(runs, keep.tolist(), strict=True) if k]
        if self._cut and runs and runs[0][0] < self.merge_gap:
            runs[0] = (0, runs[0][1])  # the continuation of a run cut last time
        self._cut = False
        end = self.start + n
        safe = end if final else end - self.merge_gap
        consumed = max(self.start, safe)
        out: list[Segment] = []
        for s, e in runs:
            finished = final or self.start + e < safe
            cut = False
            while e - s > self.max_run:  # pieces counted from the run's start
                out.append(self._measure(s, s + self.max_run, forced=True))
                s += self.max_run
                cut = True
            if not finished:
                consumed = self.start + s
                self._cut = cut
                break
            at_edge = self.start + s < self.run_start + self.edge or (
                final and self.start + e > end - self.merge_gap
            )
            seg = self._measure(s, e, forced=False, edge=at_edge)
            if seg is not None:
                out.append(seg)
        k = consumed - self.start
        self._fast, self._dev, self._hot = self._fast[k:], self._dev[k:], self._hot[k:]
        self._weak, self._quiet = self._weak[k:], self._quiet[k:]
        if self._energy is not None:
            self._elen = self._elen[k:]
        self._lo, self._bg = self._lo[k:], self._bg[k:]
        self._low_floor = self._low_floor[k:]
        self.start = consumed
        return [s for s in out if s is not None]

    def _measure(self, s: int, e: int, forced: bool, edge: bool = False) -> Segment | None:
        """Measure samples ``s..e-1`` as a segment (``None`` if it never triggers)."""
        fast = self._fast[s:e]
        strong = forced or bool(self._hot[s:e].any())
        quiet = not strong and bool(self._quiet[s:e].any())
        if not strong and not quiet and not self._weak[s:e].any():
            return None
        k = int(np.argmax(fast))
        first, end = s, e  # the core: the span above end_fraction of the peak
        if not forced:
            above = np.flatnonzero(fast > np.maximum(self._lo[s:e], self.p.end_fraction * fast[k]))
            if above.size:
                end = s + int(above[-1]) + 1
                if self.p.floor_extent:
                    first = s + int(above[0])
        movement = forced or edge or (end - first) > self.max_jerk
        if not strong and movement:
            return None  # a weak candidate is a jerk or nothing
        dev = self._dev[s:e]
        mag = np.einsum("ij,ij->i", dev, dev)
        kp = int(np.argmax(mag))
        onset = first if self._low_floor[s] else s
        return Segment(
            onset=self.start + onset,
            end=self.start + end,
            peak_index=self.start + s + kp,
            peak_g=float(np.sqrt(mag[kp])),
            axis=int(np.argmax(np.abs(dev[kp]))),
            background_g=float(self._bg[s + k]),
            movement=movement,
            envelope_g=float(fast[k]),
            weak=not strong,
            quiet=quiet,
        )
