"""Cut the released feature samples of a run into segments: candidate jerks or movement.

A *run* is a stretch where the envelope is above its low threshold (``k_low`` x
background, at least ``min_low_g``; in a restless stretch ``k_low`` x the quiet floor,
see below), joined over dips shorter than ``merge_gap_s``.
A run that reaches the high threshold (``k_high`` x background, at least
``min_peak_g``) becomes a :class:`Segment`. Where the background stands above
``restless_bg_ratio`` x the quiet floor (after movement, or in a restless stretch) the
trigger is ``k_restless`` x the background; a run there that reaches only ``k_high`` x
the quiet floor becomes a *weak* segment, which the classifier counts only as a lone
jerk in a pause. Runs
are only cut once no later sample can extend them, so segments do not depend on
the chunking.

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

from pipeline.features import Features
from pipeline.params import DetectorParams
from pipeline.recording import append_rows


@dataclass(frozen=True)
class Segment:
    """A finished run. Indices are grid indices; sizes in g.

    ``movement`` is True for runs whose core (see the module docstring) is longer than
    ``max_jerk_s``, pieces of very long runs, and runs cut by the start or end of the
    stream. ``envelope_g`` is the
    envelope's peak. ``weak`` segments reached only the quiet-floor trigger
    (``k_high`` x the quiet floor), not the trigger of their background: candidates for
    the classifier's pause test, never movement.
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


class Segmenter:
    """Segments of one run at ``fs`` Hz."""

    def __init__(self, fs: float, p: DetectorParams) -> None:
        self.p = p
        self.merge_gap = max(1, round(p.merge_gap_s * fs))
        self.max_run = max(1, round(p.max_run_s * fs))
        self.max_jerk = p.max_jerk_s * fs
        self.edge = round(p.edge_s * fs)
        self.reset(0)

    def reset(self, run_start: int) -> None:
        self.run_start = run_start
        self.start = run_start  # grid index of the first sample held
        self._fast = np.empty(0)  # envelope (g) of the samples held
        self._dev = np.empty((0, 3))  # their deviation from the baseline (g)
        self._hot = np.empty(0, dtype=bool)
        self._weak = np.empty(0, dtype=bool)
        self._lo = np.empty(0)
        self._low_floor = np.empty(0, dtype=bool)  # samples whose low threshold is the floor's
        self._bg = np.empty(0)
        self._cut = False

    def push(
        self, feat: Features, levels: np.ndarray, frame: int, final: bool = False
    ) -> list[Segment]:
        """Add released samples with the levels ``(k, 2)`` of their frames (background and
        quiet floor, g; ``frame`` samples a frame, the last possibly fewer); return
        finished segments.

        Where the background stands above ``restless_bg_ratio`` x the quiet floor (a
        restless stretch), a jerk must reach ``k_restless`` x the background. The
        thresholds are computed per frame and spread over its samples.
        """
        p = self.p
        r = len(feat)
        if r:
            level, floor = levels[:, 0], levels[:, 1]
            hi = np.maximum(p.k_high * level, p.min_peak_g)
            restless = level > p.restless_bg_ratio * floor
            hi[restless] = np.maximum(hi[restless], p.k_restless * level[restless])
            if p.pause_s > 0:  # a weak candidate: the quiet floor's trigger, where restless
                weak_hi = np.where(restless, np.maximum(p.k_high * floor, p.min_peak_g), np.inf)
            else:
                weak_hi = np.full(level.shape, np.inf)
            low_floor = restless if p.floor_extent else np.zeros(restless.shape, dtype=bool)
            lo = np.maximum(p.k_low * np.where(low_floor, floor, level), p.min_low_g)

            def spread(per_frame: np.ndarray) -> np.ndarray:
                return np.repeat(per_frame, frame)[:r]

            fast = feat.fast
            hot = fast > spread(hi)
            weak = (fast > spread(weak_hi)) & ~hot
            self._fast = append_rows(self._fast, fast)
            self._dev = append_rows(self._dev, feat.dev)
            self._hot = append_rows(self._hot, hot)
            self._weak = append_rows(self._weak, weak)
            self._lo = append_rows(self._lo, spread(lo))
            self._low_floor = append_rows(self._low_floor, spread(low_floor))
            self._bg = append_rows(self._bg, spread(level))
        return self._cut_runs(final)

    def _cut_runs(self, final: bool) -> list[Segment]:
        n = self._fast.shape[0]
        if n == 0:
            return []
        runs = merged_runs(self._fast > self._lo, self.merge_gap)
        if runs:  # drop, without a Python loop, the many runs that never trigger
            hot = np.concatenate(([0], np.cumsum(self._hot | self._weak)))
            se = np.asarray(runs)
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
        self._weak = self._weak[k:]
        self._lo, self._bg = self._lo[k:], self._bg[k:]
        self._low_floor = self._low_floor[k:]
        self.start = consumed
        return [s for s in out if s is not None]

    def _measure(self, s: int, e: int, forced: bool, edge: bool = False) -> Segment | None:
        """Measure samples ``s..e-1`` as a segment (``None`` if it never triggers)."""
        fast = self._fast[s:e]
        strong = forced or bool(self._hot[s:e].any())
        if not strong and not self._weak[s:e].any():
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
        )
