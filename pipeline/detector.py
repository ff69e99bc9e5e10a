"""The streaming jerk detector.

One object, :class:`JerkDetector`, consumes contiguous chunks of samples of any size
and emits :class:`~pipeline.events.JerkEvent` and
:class:`~pipeline.events.ActivityPeriod` objects. Batch detection feeds it chunks;
the events are identical whatever the chunk size, because every decision depends
only on absolute sample positions, never on where a chunk happened to end.

The steps (all vectorised per chunk):

1. **Baseline and band**: a centred running median (``baseline_s`` long, on block
   means of ``baseline_block_s``) follows gravity and slow posture change; the
   deviation from it, low-passed at ``lp_hz`` against sensor noise, has a vector
   magnitude, the *envelope*, in g. The unfiltered deviation gives ``peak_g`` and
   the axis.
2. **Noise floor**: the envelope is averaged in frames of ``frame_s``; the
   background of a frame is the median of the previous ``background_s`` of frame
   means. The thresholds follow it: high = max(``k_high`` x background,
   ``min_peak_g``), low = max(``k_low`` x background, ``min_low_g``).
3. **Segments**: runs of envelope above the low threshold (merged over dips shorter
   than ``merge_gap_s``) that reach the high threshold. Onset is the run's start,
   end the last sample above max(low, ``end_fraction`` x peak).
4. **Classification**: a segment longer than ``max_jerk_s`` is *movement* (posture
   change, rolling over, restlessness, tremor). Short segments are chained when
   consecutive onsets are at most ``chain_gap_s`` apart; a chain of at least
   ``rhythm_min_any`` segments, or of ``rhythm_min_regular`` with regular intervals
   (CV below ``rhythm_max_cv``), is *rhythmic* activity (walking, jogging, stairs,
   clonic jerking). A short segment within ``activity_margin_s`` of movement belongs
   to the movement. What is left is a jerk.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterable
from dataclasses import asdict, dataclass, field
from pathlib import Path

import numpy as np
from numpy.lib.stride_tricks import sliding_window_view
from scipy import ndimage

from pipeline.events import AXES, ActivityPeriod, JerkEvent
from pipeline.filters import BlockMedianBaseline, StreamFilter, lowpass_sos
from pipeline.reader import ReaderParams, open_recording
from pipeline.recording import Chunk, Gap, Recording, RecordingHeader, runs

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class DetectorParams:
    """Detector parameters (all written next to every result).

    Frequencies in Hz, times in seconds, sizes in g; ``k_*`` are multiples of the
    background envelope level.
    """

    baseline_block_s: float = 0.1
    baseline_s: float = 1.1
    lp_hz: float = 20.0
    frame_s: float = 0.25
    background_s: float = 30.0
    warmup_s: float = 2.0
    k_high: float = 4.0
    k_low: float = 2.0
    min_peak_g: float = 0.03
    min_low_g: float = 0.012
    merge_gap_s: float = 0.06
    end_fraction: float = 0.25
    max_jerk_s: float = 0.45
    chain_gap_s: float = 1.5
    rhythm_min_any: int = 10
    rhythm_min_regular: int = 5
    rhythm_max_cv: float = 0.25
    activity_margin_s: float = 0.75
    activity_join_s: float = 3.0
    sustained_s: float = 3.0
    sustained_g: float = 0.05
    restless_s: float = 15.0
    restless_min: int = 3
    restless_segments: int = 10
    posture_s: float = 1.0
    posture_g: float = 0.12
    max_run_s: float = 60.0
    edge_s: float = 1.0

    def as_dict(self) -> dict[str, float | int]:
        return asdict(self)


@dataclass(frozen=True)
class _Segment:
    """A finished above-threshold run; indices are absolute grid indices."""

    onset: int
    end: int
    peak_index: int
    peak_g: float
    axis: int
    background_g: float
    movement: bool

    @property
    def length(self) -> int:
        return self.end - self.onset


@dataclass
class _Block:
    """Per-sample analysis arrays awaiting segmentation, starting at grid index ``start``."""

    start: int = 0
    env: np.ndarray = field(default_factory=lambda: np.empty(0))
    hi: np.ndarray = field(default_factory=lambda: np.empty(0))
    lo: np.ndarray = field(default_factory=lambda: np.empty(0))
    bg: np.ndarray = field(default_factory=lambda: np.empty(0))
    hp: np.ndarray = field(default_factory=lambda: np.empty((0, 3)))

    @property
    def end(self) -> int:
        return self.start + self.env.size

    def append(self, env, hi, lo, bg, hp) -> None:  # noqa: ANN001 - arrays
        self.env = np.concatenate([self.env, env])
        self.hi = np.concatenate([self.hi, hi])
        self.lo = np.concatenate([self.lo, lo])
        self.bg = np.concatenate([self.bg, bg])
        self.hp = np.vstack([self.hp, hp])

    def drop_before(self, index: int) -> None:
        k = index - self.start
        if k <= 0:
            return
        self.env, self.hi, self.lo = self.env[k:], self.hi[k:], self.lo[k:]
        self.bg, self.hp = self.bg[k:], self.hp[k:]
        self.start = index


@dataclass
class DetectorOutput:
    """What one call to ``feed``/``finish`` produced."""

    events: list[JerkEvent] = field(default_factory=list)
    activity: list[ActivityPeriod] = field(default_factory=list)

    def extend(self, other: DetectorOutput) -> None:
        self.events.extend(other.events)
        self.activity.extend(other.activity)


class JerkDetector:
    """Streaming jerk detector for one recording grid (``t0``, ``fs``).

    Feed :class:`~pipeline.recording.Chunk` objects in time order with
    :meth:`feed`; a jump in ``Chunk.start`` is a gap, after which the detector
    restarts (no event is reported inside a gap). Call :meth:`finish` at the end.
    Each call returns the events and activity periods that became final.
    """

    def __init__(self, fs: float, t0: float = 0.0, params: DetectorParams | None = None) -> None:
        self.fs = float(fs)
        self.t0 = float(t0)
        self.p = params or DetectorParams()
        p = self.p
        block = max(1, round(p.baseline_block_s * fs))
        half = max(1, round((p.baseline_s * fs / block - 1) / 2))
        self._baseline = BlockMedianBaseline(block, half)
        self._lp = StreamFilter(lowpass_sos(fs, p.lp_hz))
        self.frame = max(1, round(p.frame_s * fs))
        self.n_bg = max(1, round(p.background_s / p.frame_s))
        self.n_warm = min(self.n_bg, max(1, round(p.warmup_s / p.frame_s)))
        self.merge_gap = max(1, round(p.merge_gap_s * fs))
        self.max_run = max(self.frame, round(p.max_run_s * fs))
        self.max_jerk = p.max_jerk_s * fs
        self.edge = round(p.edge_s * fs)
        self.chain_gap = p.chain_gap_s * fs
        self.margin = p.activity_margin_s * fs
        self.restless_w = p.restless_s * fs
        self.n_act = 2 * max(0, round(p.sustained_s / p.frame_s / 2)) + 1  # odd
        self.n_post = max(1, round(p.posture_s / p.frame_s))
        self.n_bg = max(self.n_bg, self.n_act, self.n_post + 1)
        self._sustained: list[tuple[int, int]] = []
        self.samples_seen = 0
        self._expected: int | None = None
        self._segments: list[_Segment] = []
        self._moves: list[_Segment] = []
        self._shorts: list[_Segment] = []
        self._window_shorts: list[_Segment] = []
        self._spans: list[tuple[int, int, str]] = []
        self._open: list[int | str] | None = None
        self._reset_run(0)

    # ----------------------------------------------------------- state
    def _reset_run(self, start: int) -> None:
        """Start a contiguous run at grid index ``start`` (recording start or after a gap)."""
        self._baseline.reset()
        self._lp.reset()
        self._frame_means = np.empty(0)
        self._frame_off = 0  # run frame number of _frame_means[0]
        self._frames_done = 0  # run frames released to the analysis block
        self._run_start = start
        self._unreleased_env = np.empty(0)
        self._unreleased_hp = np.empty((0, 3))
        self._unreleased_base = np.empty((0, 3))
        self._frame_base = np.empty((0, 3))  # mean baseline of each frame, aligned with means
        self._block = _Block(start=start)
        self._cut_at: int | None = None

    def _time(self, index: float) -> float:
        return self.t0 + index / self.fs

    # ----------------------------------------------------------- public API
    def feed(self, chunk: Chunk) -> DetectorOutput:
        """Consume a contiguous chunk (``(m, 3)`` g at grid index ``chunk.start``)."""
        out = DetectorOutput()
        if len(chunk) == 0:
            return out
        if self._expected is None:
            self._reset_run(chunk.start)
        elif chunk.start != self._expected:
            if chunk.start < self._expected:
                raise ValueError(
                    f"chunk at index {chunk.start} overlaps samples already seen"
                )
            out.extend(self._end_run())
            self._reset_run(chunk.start)
        self._expected = chunk.start + len(chunk)
        self.samples_seen += len(chunk)
        self._ingest(np.asarray(chunk.acc, dtype=np.float64), final=False)
        self._release(final=False)
        self._segment(final=False)
        out.extend(self._classify(final=False))
        return out

    def finish(self) -> DetectorOutput:
        """The end of the recording: flush everything still pending."""
        if self._expected is None:
            return DetectorOutput()
        return self._end_run()

    def _ingest(self, acc: np.ndarray, final: bool) -> None:
        """Baseline-remove, low-pass and take the envelope of the samples that settled."""
        samples, base = self._baseline.push(acc, final=final)
        dev = samples - base
        band = self._lp(dev)
        env = np.sqrt(np.einsum("ij,ij->i", band, band))
        self._unreleased_env = np.concatenate([self._unreleased_env, env])
        self._unreleased_hp = np.vstack([self._unreleased_hp, dev])
        self._unreleased_base = np.vstack([self._unreleased_base, base])

    def _end_run(self) -> DetectorOutput:
        self._ingest(np.empty((0, 3)), final=True)
        self._release(final=True)
        self._segment(final=True)
        return self._classify(final=True)

    # ----------------------------------------------------------- frames and thresholds
    def _release(self, final: bool) -> None:
        """Move samples of complete frames (all samples when ``final``) to the block."""
        f = self.frame
        n_complete = self._unreleased_env.size // f
        have = self._frame_off + self._frame_means.size
        upto = self._frames_done + n_complete
        if upto > have:
            a = (have - self._frames_done) * f
            new = self._unreleased_env[a : n_complete * f].reshape(-1, f).mean(axis=1)
            self._frame_means = np.concatenate([self._frame_means, new])
            nb = self._unreleased_base[a : n_complete * f].reshape(-1, f, 3).mean(axis=1)
            self._frame_base = np.vstack([self._frame_base, nb])
        if upto < self.n_warm and not final:
            return
        if upto > self._frames_done:
            bgs = self._backgrounds(self._frames_done, upto)
            n = (upto - self._frames_done) * f
            self._push(self._unreleased_env[:n], self._unreleased_hp[:n], np.repeat(bgs, f))
            self._unreleased_env = self._unreleased_env[n:]
            self._unreleased_hp = self._unreleased_hp[n:]
            self._unreleased_base = self._unreleased_base[n:]
            self._mark_sustained(self._frames_done, upto)
            self._mark_posture(self._frames_done, upto)
            self._frames_done = upto
        if final and self._unreleased_env.size:
            m = self._unreleased_env.size
            if upto == 0:
                bg = np.array([float(np.mean(self._unreleased_env))])
            else:
                bg = self._backgrounds(upto, upto + 1)
            self._push(self._unreleased_env, self._unreleased_hp, np.repeat(bg, m))
            self._unreleased_env = np.empty(0)
            self._unreleased_hp = np.empty((0, 3))
            self._unreleased_base = np.empty((0, 3))
        drop = self._frames_done - self.n_bg - self._frame_off
        if drop > 0 and self._frames_done >= self.n_warm:
            self._frame_means = self._frame_means[drop:]
            self._frame_base = self._frame_base[drop:]
            self._frame_off += drop

    def _mark_sustained(self, start: int, stop: int) -> None:
        """Sustained movement: frames ``start..stop-1`` whose trailing ``sustained_s``
        median of frame means exceeds ``sustained_g``; each marks its whole window."""
        off, means, n = self._frame_off, self._frame_means, self.n_act
        lo = max(0, start - n + 1)
        seg = means[lo - off : stop - off]
        med = ndimage.median_filter(seg, size=n, origin=n // 2, mode="nearest")
        active = med[start - lo :] > self.p.sustained_g
        for j in range(start, min(stop, n - 1)):  # windows clipped at the run start
            active[j - start] = float(np.median(means[: j + 1 - off])) > self.p.sustained_g
        self._add_frame_spans(start, active, n - 1, "movement")

    def _mark_posture(self, start: int, stop: int) -> None:
        """Posture change: frames ``start..stop-1`` whose baseline (gravity direction)
        moved more than ``posture_g`` since ``posture_s`` earlier; each marks that span."""
        off, fb, n = self._frame_off, self._frame_base, self.n_post
        lo = max(0, start - n)
        seg = fb[lo - off : stop - off]
        prev_idx = np.maximum(np.arange(start, stop) - n, 0) - lo
        move = np.linalg.norm(seg[start - lo :] - seg[prev_idx], axis=1) > self.p.posture_g
        self._add_frame_spans(start, move, n, "movement")

    def _add_frame_spans(self, start: int, flags: np.ndarray, back: int, kind: str) -> None:
        """Activity spans for flagged frames ``start + i``, each reaching ``back`` frames back."""
        f, r0 = self.frame, self._run_start
        for a, b in runs(flags):
            span = (r0 + max(0, start + a - back) * f, r0 + (start + b) * f)
            self._sustained.append(span)
            self._spans.append((span[0], span[1], kind))

    def _backgrounds(self, start: int, stop: int) -> np.ndarray:
        """Background envelope (g) of run frames ``start .. stop-1``.

        Frame ``j`` takes the median of the means of frames ``j - n_bg .. j - 1``;
        frames of the warm-up take the median of the first ``n_warm`` frames (or of
        all there are when the run is shorter).
        """
        off, means = self._frame_off, self._frame_means
        out = np.empty(stop - start)
        grow_stop = min(stop, self.n_bg)
        for j in range(start, grow_stop):
            if j < self.n_warm:
                out[j - start] = float(np.median(means[: self.n_warm - off]))
            else:
                out[j - start] = float(np.median(means[: j - off]))
        first = max(start, self.n_bg)
        if stop > first:
            arr = means[first - self.n_bg - off : stop - 1 - off]
            out[first - start :] = np.median(sliding_window_view(arr, self.n_bg), axis=1)
        return out

    def _push(self, env: np.ndarray, hp: np.ndarray, bg: np.ndarray) -> None:
        p = self.p
        hi = np.maximum(p.k_high * bg, p.min_peak_g)
        lo = np.maximum(p.k_low * bg, p.min_low_g)
        self._block.append(env, hi, lo, bg, hp)

    # ----------------------------------------------------------- segmentation
    def _segment(self, final: bool) -> None:
        """Cut finished runs of the analysis block into segments.

        Runs longer than ``max_run_s`` are cut into pieces of that length counted from
        the run's start, so the pieces do not depend on the chunking.
        """
        b = self._block
        if b.env.size == 0:
            return
        runs = _merged_runs(b.env > b.lo, self.merge_gap)
        if self._cut_at is not None and runs and runs[0][0] < self.merge_gap:
            runs[0] = (0, runs[0][1])  # the continuation of a run cut last time
        self._cut_at = None
        safe = b.end if final else b.end - self.merge_gap
        consumed = max(b.start, safe)
        for s, e in runs:
            finished = final or b.start + e < safe
            cut = False
            while e - s > self.max_run:
                self._add_segment(s, s + self.max_run, forced=True)
                s += self.max_run
                cut = True
            if not finished:
                consumed = b.start + s
                if cut:
                    self._cut_at = consumed
                break
            edge = b.start + s < self._run_start + self.edge or (
                final and b.start + e > b.end - self.merge_gap
            )
            self._add_segment(s, e, forced=False, edge=edge)
        b.drop_before(consumed)

    def _add_segment(self, s: int, e: int, forced: bool, edge: bool = False) -> None:
        """Measure block samples ``s..e-1`` as a segment. ``forced``: a piece of a long
        run (movement); ``edge``: cut by the start or end of the run, so it cannot be
        told from a longer movement and is never a jerk."""
        b = self._block
        env = b.env[s:e]
        if not forced and not (env > b.hi[s:e]).any():
            return
        k = int(np.argmax(env))
        end = e
        if not forced:
            above = np.flatnonzero(env > np.maximum(b.lo[s:e], self.p.end_fraction * env[k]))
            end = s + int(above[-1]) + 1
        hp = b.hp[s:e]
        mag = np.einsum("ij,ij->i", hp, hp)
        kp = int(np.argmax(mag))
        seg = _Segment(
            onset=b.start + s,
            end=b.start + end,
            peak_index=b.start + s + kp,
            peak_g=float(np.sqrt(mag[kp])),
            axis=int(np.argmax(np.abs(hp[kp]))),
            background_g=float(b.bg[s + k]),
            movement=forced or edge or (end - s) > self.max_jerk,
        )
        self._segments.append(seg)

    # ----------------------------------------------------------- classification
    def _horizon(self, final: bool) -> float:
        """No segment found later can start before this grid index."""
        if final:
            return np.inf
        back = max(self.n_act - 1, self.n_post)
        act = self._run_start + (self._frames_done - back) * self.frame
        return float(min(self._block.start, act))

    def _classify(self, final: bool) -> DetectorOutput:
        """Chain segments and decide jerk / rhythmic / movement once context is known."""
        out = DetectorOutput()
        horizon = self._horizon(final)
        reach = max(self.chain_gap, self.margin, self.restless_w)
        chains: list[list[_Segment]] = []
        for seg in self._segments:
            if chains and seg.onset - chains[-1][-1].onset <= self.chain_gap:
                chains[-1].append(seg)
            else:
                chains.append([seg])
        n_done = 0
        for c in chains:
            if c[-1].onset + reach >= horizon:
                break
            n_done += 1
        self._moves.extend(m for c in chains[:n_done] for m in c if m.movement)
        pending = [s for c in chains[n_done:] for s in c]
        self._shorts.extend(m for c in chains[:n_done] for m in c if not m.movement)
        self._window_shorts = self._shorts + [m for m in pending if not m.movement]
        near = self._moves + [m for m in pending if m.movement]
        near_spans = [(m.onset, m.end) for m in near] + self._sustained
        for c in chains[:n_done]:
            for m in c:
                if m.movement:
                    self._spans.append((m.onset, m.end, "movement"))
            if self._is_rhythmic(c):
                self._spans.append((c[0].onset, max(m.end for m in c), "rhythmic"))
                continue
            for seg in c:
                if seg.movement:
                    continue
                if any(a - self.margin <= seg.onset <= b + self.margin for a, b in near_spans):
                    continue
                if self._restless(seg, near):
                    continue
                out.events.append(self._event(seg))
        self._segments = pending
        earliest = pending[0].onset if pending else horizon
        self._moves = [m for m in self._moves if m.end + self.margin >= earliest - reach]
        self._shorts = [m for m in self._shorts if m.onset >= earliest - reach]
        self._sustained = [a for a in self._sustained if a[1] + self.margin >= earliest - reach]
        out.activity.extend(self._join_activity(earliest, final))
        return out

    def _restless(self, seg: _Segment, moves: list[_Segment]) -> bool:
        """Whether ``seg`` lies in a restless stretch: within ``restless_s`` either side
        of its onset, at least ``restless_min`` movements, or at least one movement among
        ``restless_segments`` segments of any kind."""
        lo, hi = seg.onset - self.restless_w, seg.onset + self.restless_w
        n = sum(1 for m in moves if m.end >= lo and m.onset <= hi)
        if n >= self.p.restless_min:
            return True
        if n == 0:
            return False
        total = n + sum(1 for x in self._window_shorts if lo <= x.onset <= hi)
        return total >= self.p.restless_segments

    def _is_rhythmic(self, chain: list[_Segment]) -> bool:
        p = self.p
        if len(chain) >= p.rhythm_min_any:
            return True
        if len(chain) >= p.rhythm_min_regular:
            iv = np.diff([s.onset for s in chain]).astype(np.float64)
            return float(np.std(iv) / np.mean(iv)) < p.rhythm_max_cv
        return False

    def _join_activity(self, horizon: float, final: bool) -> list[ActivityPeriod]:
        """Join activity spans closer than ``activity_join_s``; emit the closed periods.

        Only spans starting before ``horizon`` are joined (no later span can start
        before it), so the periods do not depend on the chunking.
        """
        join = self.p.activity_join_s * self.fs
        ready = sorted(s for s in self._spans if final or s[0] < horizon)
        self._spans = [s for s in self._spans if not (final or s[0] < horizon)]
        out: list[ActivityPeriod] = []
        for s, e, kind in ready:
            cur = self._open
            if cur is not None and s - int(cur[1]) <= join:
                cur[1] = max(int(cur[1]), e)
                if kind == "rhythmic":
                    cur[2] = kind
            else:
                if cur is not None:
                    out.append(self._period(cur))
                self._open = [s, e, kind]
        cur = self._open
        if cur is not None and (final or int(cur[1]) + join < horizon):
            out.append(self._period(cur))
            self._open = None
        return out

    def _period(self, span: list[int | str]) -> ActivityPeriod:
        return ActivityPeriod(self._time(int(span[0])), self._time(int(span[1])), str(span[2]))

    def _event(self, seg: _Segment) -> JerkEvent:
        return JerkEvent(
            time=self._time(seg.onset),
            peak_g=round(seg.peak_g, 5),
            duration_ms=round((seg.end - seg.onset) / self.fs * 1000.0, 1),
            axis=AXES[seg.axis],
            peak_time=self._time(seg.peak_index),
            background_g=round(seg.background_g, 5),
        )


def _merged_runs(mask: np.ndarray, max_gap: int) -> list[tuple[int, int]]:
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


# ---------------------------------------------------------------- batch helpers
@dataclass
class Detection:
    """Everything detection found in one recording."""

    events: list[JerkEvent]
    activity: list[ActivityPeriod]
    gaps: list[Gap]
    header: RecordingHeader
    params: DetectorParams
    n_samples: int = 0

    @property
    def duration_s(self) -> float:
        return self.n_samples / self.header.fs if self.header.fs else 0.0

    @property
    def activity_minutes(self) -> float:
        return float(sum(a.minutes for a in self.activity))


def detect_chunks(
    header: RecordingHeader,
    chunks: Iterable[Chunk],
    params: DetectorParams | None = None,
    on_chunk: Callable[[Chunk], None] | None = None,
) -> tuple[list[JerkEvent], list[ActivityPeriod], int]:
    """Run the detector over chunks; returns events, activity and samples seen."""
    det = JerkDetector(header.fs, header.t0, params)
    out = DetectorOutput()
    for chunk in chunks:
        out.extend(det.feed(chunk))
        if on_chunk is not None:
            on_chunk(chunk)
    out.extend(det.finish())
    return out.events, out.activity, det.samples_seen


def detect_recording(
    rec: Recording, params: DetectorParams | None = None, chunk_samples: int = 65_536
) -> Detection:
    """Detect jerks in an in-memory :class:`Recording`."""
    params = params or DetectorParams()
    events, activity, n = detect_chunks(rec.header, rec.chunks(chunk_samples), params)
    return Detection(events, activity, rec.gaps, rec.header, params, rec.n)


def detect_file(
    path: str | Path,
    params: DetectorParams | None = None,
    progress: Callable[[int], None] | None = None,
    reader_params: ReaderParams | None = None,
    chunk_samples: int = 65_536,
) -> Detection:
    """Detect jerks in a canonical CSV file, reading it in chunks.

    ``progress`` (optional) is called with the number of input bytes consumed since
    its previous call.
    """
    params = params or DetectorParams()
    with open_recording(path, reader_params) as stream:
        last = [0]

        def tick(_chunk: Chunk) -> None:
            if progress is not None:
                pos = stream.bytes_read
                progress(pos - last[0])
                last[0] = pos

        events, activity, _ = detect_chunks(
            stream.header, stream.chunks(chunk_samples), params, tick
        )
        if progress is not None:
            progress(stream.size - last[0])
        n_grid = stream.stats.samples_out + sum(g.end_index - g.start_index for g in stream.gaps)
        return Detection(events, activity, list(stream.gaps), stream.header, params, n_grid)
