"""Decide, with context on both sides, which segments are jerks and which are activity.

Segments arrive in onset order. A segment is decided only once nothing found later
could change the decision (everything up to its onset plus the longest context
reach is known), so the result does not depend on the chunking:

- a *chain* is a sequence of segments whose onsets follow within ``chain_gap_s``; a
  long or regular chain is rhythmic activity (walking, jogging, stairs, clonic
  jerking, tremor bursts);
- a short segment within ``activity_margin_s`` of movement (a long segment, a
  sustained-movement or posture-change span) belongs to that movement;
- a short segment in a restless stretch (many movements around it) is activity;
- every other short segment is a jerk.

A *pause* lets a lone transient count where the two context rules above would
otherwise hide it (a still moment between movements, where the 30-s background still
carries the movement): a segment that is alone (no other segment within
``chain_gap_s``; weak candidates count too, except those within an activity margin,
which belong to that movement) whose envelope peak stands ``k_restless`` x above the median
frame envelope of the ``pause_s`` before its onset and of the ``pause_s`` after its
end (each from at least ``pause_frames`` frames) is a jerk even near movement or in
a restless stretch. *Weak* segments (they reached ``k_high`` x the quiet floor but
not the raised trigger of a restless stretch; see :mod:`pipeline.segmenter`) count
only that way, and only outside the activity margins. *Quiet* segments (found by the
energy trigger alone, see :mod:`pipeline.energy`) are weak segments that also count
when they are alone and not in a restless stretch, outside the activity margins.
Weak and quiet segments take no part in the other rules, so they never change another
segment's decision.

Activity spans are joined when closer than ``activity_join_s`` and emitted as
:class:`~pipeline.events.ActivityPeriod` once closed. A period never holds a counted
jerk: one found in a pause between two movements (or at the edge of one) cuts the
period there, so that every counted jerk lies in valid time.
"""

from __future__ import annotations

import numpy as np

from pipeline.events import AXES, ActivityPeriod, JerkEvent
from pipeline.noisefloor import frame_length
from pipeline.params import DetectorParams
from pipeline.segmenter import Segment

Span = tuple[int, int, str]


class SegmentClassifier:
    """Jerk / activity decisions for a grid ``t0 + i / fs`` (epoch s UTC, Hz)."""

    def __init__(self, fs: float, t0: float, p: DetectorParams) -> None:
        self.p, self.fs, self.t0 = p, fs, t0
        self.chain_gap = p.chain_gap_s * fs
        self.margin = p.activity_margin_s * fs
        self.restless_w = p.restless_s * fs
        self.reach = max(self.chain_gap, self.margin, self.restless_w)
        self.join = p.activity_join_s * fs
        self._pending: list[Segment] = []
        self._moves: list[Segment] = []  # decided movement segments still in reach
        self._shorts: list[Segment] = []  # decided short segments still in reach
        self._zones: list[tuple[int, int]] = []  # frame-level activity spans in reach
        self._spans: list[Span] = []  # activity spans not yet joined
        self._open: list[int | str] | None = None
        self.pause = p.pause_s * fs
        self.frame = frame_length(fs, p)
        self._weak: list[Segment] = []  # weak segments not yet decided
        self._weak_seen: list[Segment] = []  # decided weak segments still in reach
        self._level_at = np.empty(0)  # grid index of each frame start still in reach
        self._level = np.empty(0)  # its envelope frame mean, g
        self._counted: list[tuple[int, int]] = []  # counted jerks (onset, end) periods may reach

    def time(self, index: float) -> float:
        """Epoch seconds UTC of grid index ``index``."""
        return self.t0 + index / self.fs

    def add(
        self,
        segments: list[Segment],
        spans: list[Span],
        levels: list[tuple[int, np.ndarray]] | None = None,
    ) -> None:
        """Take new segments (in onset order), frame-level activity spans and envelope
        frame means (``(grid index of the first frame, (k,) means in g)``, consecutive
        frames of :func:`~pipeline.noisefloor.frame_length` samples)."""
        self._pending.extend(s for s in segments if not s.weak)
        self._weak.extend(s for s in segments if s.weak)
        for start, means in levels or []:
            at = start + self.frame * np.arange(means.size)
            self._level_at = np.concatenate([self._level_at, at])
            self._level = np.concatenate([self._level, means])
        self._zones.extend((s, e) for s, e, _ in spans)
        self._spans.extend(spans)

    def decide(self, horizon: float) -> tuple[list[JerkEvent], list[ActivityPeriod]]:
        """Decide every chain that ends before ``horizon`` minus the context reach.

        ``horizon``: no segment or span added later starts before this grid index
        (``inf`` at the end of a run).
        """
        chains = self._chains()
        n_done = 0
        for c in chains:
            if c[-1].onset + self.reach >= horizon:
                break
            n_done += 1
        done, rest = chains[:n_done], chains[n_done:]
        pending = [s for c in rest for s in c]
        self._moves.extend(s for c in done for s in c if s.movement)
        self._shorts.extend(s for c in done for s in c if not s.movement)
        moves = self._moves + [s for s in pending if s.movement]
        shorts = self._shorts + [s for s in pending if not s.movement]
        zones = [(m.onset, m.end) for m in moves] + self._zones
        events: list[JerkEvent] = []
        for c in done:
            self._spans.extend((s.onset, s.end, "movement") for s in c if s.movement)
            if self._rhythmic(c):
                self._spans.append((c[0].onset, max(s.end for s in c), "rhythmic"))
                continue
            for seg in c:
                if seg.movement:
                    continue
                hidden = self._near(seg, zones) or self._restless(seg, moves, shorts)
                if hidden and not (len(c) == 1 and self._alone(seg, zones) and self._in_pause(seg)):
                    continue
                events.append(self._event(seg))
        self._pending = pending
        earliest = pending[0].onset if pending else horizon
        events.extend(self._decide_weak(earliest, horizon, zones, moves, shorts))
        events.sort(key=lambda e: e.time)
        if self._weak:
            earliest = min(earliest, self._weak[0].onset)
        keep = earliest - self.reach - self.margin
        self._moves = [m for m in self._moves if m.end >= keep]
        self._shorts = [m for m in self._shorts if m.onset >= keep]
        self._zones = [z for z in self._zones if z[1] >= keep]
        self._weak_seen = [w for w in self._weak_seen if w.onset >= keep]
        cut = int(np.searchsorted(self._level_at, keep - self.pause - self.margin))
        self._level_at, self._level = self._level_at[cut:], self._level[cut:]
        return events, self._join(earliest, final=horizon == np.inf)

    # ------------------------------------------------------------------ rules
    def _chains(self) -> list[list[Segment]]:
        chains: list[list[Segment]] = []
        for seg in self._pending:
            if chains and seg.onset - chains[-1][-1].onset <= self.chain_gap:
                chains[-1].append(seg)
            else:
                chains.append([seg])
        return chains

    def _rhythmic(self, chain: list[Segment]) -> bool:
        p = self.p
        if len(chain) >= p.rhythm_min_any:
            return True
        if len(chain) >= p.rhythm_min_regular:
            iv = np.diff([s.onset for s in chain]).astype(np.float64)
            return float(np.std(iv) / np.mean(iv)) < p.rhythm_max_cv
        return False

    def _near(self, seg: Segment, zones: list[tuple[int, int]]) -> bool:
        m = self.margin
        return any(a - m <= seg.onset <= b + m for a, b in zones)

    def _decide_weak(
        self,
        earliest: float,
        horizon: float,
        zones: list[tuple[int, int]],
        moves: list[Segment],
        shorts: list[Segment],
    ) -> list[JerkEvent]:
        """Decide the weak segments whose context is complete: every segment within
        ``reach`` is known (``horizon``) and no undecided chain starts before them
        (``earliest``), so events stay in time order. ``moves``, ``shorts``: the other
        segments in reach."""
        known = moves + shorts
        events = []
        n = 0
        for seg in self._weak:
            if seg.onset + self.reach >= horizon or seg.onset >= earliest:
                break
            n += 1
            if self._near(seg, zones):
                continue
            if any(abs(s.onset - seg.onset) <= self.chain_gap for s in known):
                continue
            if not self._alone(seg, zones):
                continue
            if (seg.quiet and not self._restless(seg, moves, shorts)) or self._in_pause(seg):
                events.append(self._event(seg))
        self._weak_seen.extend(self._weak[:n])
        self._weak = self._weak[n:]
        return events

    def _alone(self, seg: Segment, zones: list[tuple[int, int]]) -> bool:
        """No weak segment within ``chain_gap_s`` of ``seg`` but those that belong to
        movement (within its margin)."""
        return not any(
            w is not seg and abs(w.onset - seg.onset) <= self.chain_gap and not self._near(w, zones)
            for w in self._weak_seen + self._weak
        )

    def _in_pause(self, seg: Segment) -> bool:
        """True when ``seg``'s envelope peak stands ``k_restless`` x above the median
        frame envelope both of the ``pause_s`` before its onset (frames that end by the
        onset) and of the ``pause_s`` after its end."""
        at, lv = self._level_at, self._level
        before = lv[(at >= seg.onset - self.pause) & (at + self.frame <= seg.onset)]
        after = lv[(at >= seg.end) & (at < seg.end + self.pause)]
        n = self.p.pause_frames
        if before.size < n or after.size < n:
            return False
        level = max(float(np.median(before)), float(np.median(after)))
        return seg.envelope_g > self.p.k_restless * level

    def _restless(self, seg: Segment, moves: list[Segment], shorts: list[Segment]) -> bool:
        lo, hi = seg.onset - self.restless_w, seg.onset + self.restless_w
        n = sum(1 for m in moves if m.end >= lo and m.onset <= hi)
        if n >= self.p.restless_min:
            return True
        if n == 0:
            return False
        total = n + sum(1 for s in shorts if lo <= s.onset <= hi)
        return total >= self.p.restless_segments

    # ------------------------------------------------------------------ output
    def _join(self, horizon: float, final: bool) -> list[ActivityPeriod]:
        """Join spans starting before ``horizon`` into periods; emit the closed ones."""
        ready = sorted(s for s in self._spans if final or s[0] < horizon)
        self._spans = [s for s in self._spans if not (final or s[0] < horizon)]
        out: list[ActivityPeriod] = []
        for s, e, kind in ready:
            cur = self._open
            if cur is not None and s - int(cur[1]) <= self.join:
                cur[1] = max(int(cur[1]), e)
                if kind == "rhythmic":
                    cur[2] = kind
            else:
                if cur is not None:
                    out.extend(self._periods(cur))
                self._open = [s, e, kind]
        cur = self._open
        if cur is not None and (final or int(cur[1]) + self.join < horizon):
            out.extend(self._periods(cur))
            self._open = None
        keep = int(self._open[0]) if self._open is not None else horizon
        self._counted = [c for c in self._counted if c[1] >= keep]
        return out

    def _periods(self, span: list[int | str]) -> list[ActivityPeriod]:
        """The period of a closed span (grid indices ``start, end, kind``), cut around
        every counted jerk whose onset lies in it (each decided by now: a span is closed
        only once everything before its end is decided)."""
        start, end, kind = int(span[0]), int(span[1]), str(span[2])
        out = []
        for onset, stop in sorted(self._counted):
            if onset > end:
                break
            if onset < start:
                continue
            if onset - 1 >= start:
                out.append(ActivityPeriod(self.time(start), self.time(onset - 1), kind))
            start = max(start, stop + 1)
        if end >= start:
            out.append(ActivityPeriod(self.time(start), self.time(end), kind))
        return out

    def _event(self, seg: Segment) -> JerkEvent:
        self._counted.append((seg.onset, seg.end))
        return JerkEvent(
            time=self.time(seg.onset),
            peak_g=round(seg.peak_g, 5),
            duration_ms=round((seg.end - seg.onset) / self.fs * 1000.0, 1),
            axis=AXES[seg.axis],
            peak_time=self.time(seg.peak_index),
            background_g=round(seg.background_g, 5),
        )
