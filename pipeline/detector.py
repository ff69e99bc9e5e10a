"""The streaming jerk detector.

One object, :class:`JerkDetector`, consumes contiguous chunks of samples of any size
and emits :class:`~pipeline.events.JerkEvent` and
:class:`~pipeline.events.ActivityPeriod` objects. Batch detection feeds it chunks;
the events are identical whatever the chunk size, because every decision depends
only on absolute sample positions, never on where a chunk happened to end.

The stages, each vectorised per chunk and each in its own module:

1. :mod:`pipeline.features` - a centred running median follows gravity and slow
   posture change; the deviation from it, low-passed against sensor noise, has a
   magnitude: the *envelope*, in g.
2. :mod:`pipeline.noisefloor` - the background is the median of the envelope's
   frame means over the previous ``background_s``; frame means also flag
   sustained movement and posture change.
3. :mod:`pipeline.segmenter` - runs above the low threshold that reach a trigger
   threshold (a multiple of the background) become segments, measured for onset,
   end, peak and axis; long ones are movement.
4. :mod:`pipeline.classifier` - with context on both sides: rhythmic chains,
   segments next to movement and restless stretches are activity; the rest are
   jerks.

All parameters are in :class:`pipeline.params.DetectorParams`.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from pipeline.classifier import SegmentClassifier
from pipeline.events import ActivityPeriod, JerkEvent
from pipeline.features import Features, FeatureStream
from pipeline.noisefloor import FrameTracker
from pipeline.params import DetectorParams
from pipeline.pulse import beats_warning
from pipeline.quality import DataQuality
from pipeline.readahead import ReadAhead, helper_threads
from pipeline.reader import ReaderParams, RecordingStream, open_recording
from pipeline.recording import Chunk, Gap, Recording, RecordingHeader
from pipeline.segmenter import Segmenter

log = logging.getLogger(__name__)


@dataclass
class DetectorOutput:
    """What one call to ``feed``/``finish`` produced."""

    events: list[JerkEvent] = field(default_factory=list)
    activity: list[ActivityPeriod] = field(default_factory=list)

    def extend(self, other: DetectorOutput) -> None:
        self.events.extend(other.events)
        self.activity.extend(other.activity)


class JerkDetector:
    """Streaming jerk detector for one recording grid (``t0`` epoch s UTC, ``fs`` Hz).

    Feed :class:`~pipeline.recording.Chunk` objects in time order with
    :meth:`feed`; a jump in ``Chunk.start`` is a gap, after which the detector
    starts a new run (no event is reported inside a gap, and none within
    ``edge_s`` of a run's start or cut by its end). Call :meth:`finish` at the end.
    Each call returns the events and activity periods that became final; latency is
    about ``restless_s`` plus a few seconds.
    """

    def __init__(self, fs: float, t0: float = 0.0, params: DetectorParams | None = None) -> None:
        self.fs = float(fs)
        self.t0 = float(t0)
        self.params = params or DetectorParams()
        self._features = FeatureStream(self.fs, self.params)
        self._frames = FrameTracker(self.fs, self.params)
        self._segmenter = Segmenter(self.fs, self.params)
        self._classifier = SegmentClassifier(self.fs, self.t0, self.params)
        self._expected: int | None = None
        self.samples_seen = 0

    @property
    def pulse_samples(self) -> int:
        """Samples so far whose triggers the pulse level held (beats: a chest strap's
        heartbeat, see :mod:`pipeline.pulse`)."""
        return self._segmenter.pulse_samples

    def feed(self, chunk: Chunk) -> DetectorOutput:
        """Consume a contiguous chunk (``(m, 3)`` g at grid index ``chunk.start``)."""
        out = DetectorOutput()
        for step in self._front(chunk):
            out.extend(self.back(step))
        return out

    def finish(self) -> DetectorOutput:
        """The end of the recording: flush everything still pending."""
        out = DetectorOutput()
        for step in self._front_finish():
            out.extend(self.back(step))
        return out

    def staged(self, chunks: Iterable[Chunk]) -> Iterator[FeatureStep]:
        """The first stage over all ``chunks`` and the end: feed each step to
        :meth:`back`. Used by :func:`detect_chunks` to run the two stages in two
        threads; the steps, hence the events, are those of :meth:`feed`/:meth:`finish`."""
        for chunk in chunks:
            yield from self._front(chunk)
        yield from self._front_finish()

    # -- stage 1: run bookkeeping and features (touches only the feature stream)
    def _front(self, chunk: Chunk) -> list[FeatureStep]:
        if len(chunk) == 0:
            return []
        steps = []
        if self._expected is None:
            steps.append(self._new_run(chunk.start))
        elif chunk.start != self._expected:
            if chunk.start < self._expected:
                raise ValueError(f"chunk at index {chunk.start} overlaps samples already seen")
            steps.append(self._run_end())
            steps.append(self._new_run(chunk.start))
        self._expected = chunk.start + len(chunk)
        self.samples_seen += len(chunk)
        feat = self._features.push(np.asarray(chunk.acc, dtype=np.float64), final=False)
        steps.append(FeatureStep(feat, chunk=chunk))
        return steps

    def _front_finish(self) -> list[FeatureStep]:
        if self._expected is None:
            return []
        self._expected = None
        return [self._run_end()]

    def _new_run(self, start: int) -> FeatureStep:
        self._features.reset()
        return FeatureStep(None, run_start=start)

    def _run_end(self) -> FeatureStep:
        return FeatureStep(self._features.push(np.empty((0, 3)), final=True), final=True)

    # -- stage 2: frames, segments and decisions (never touches the feature stream)
    def back(self, step: FeatureStep) -> DetectorOutput:
        """The second stage for one step of :meth:`staged` (or of :meth:`feed`)."""
        if step.features is None:
            self._frames.reset(step.run_start)
            self._segmenter.reset(step.run_start)
            return DetectorOutput()
        final = step.final
        feat, levels = self._frames.push(step.features, final=final)
        segments = self._segmenter.push(feat, levels, self._frames.frame, final=final)
        spans, self._frames.spans = self._frames.spans, []
        levels, self._frames.levels = self._frames.levels, []
        self._classifier.add(segments, spans, levels)
        horizon = np.inf if final else min(self._segmenter.start, self._frames.horizon())
        events, activity = self._classifier.decide(horizon)
        return DetectorOutput(events, activity)


@dataclass
class FeatureStep:
    """One step between the detector's two stages.

    ``features``: the samples' features released by the first stage (``final``: the
    last of a run); ``None`` marks the start of a run at grid index ``run_start``.
    ``chunk`` is the chunk whose samples produced them (``None`` at a run's end).
    """

    features: Features | None
    final: bool = False
    run_start: int = 0
    chunk: Chunk | None = None


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
    quality: DataQuality | None = None
    #: grid samples whose triggers the pulse level held (see :mod:`pipeline.pulse`)
    pulse_samples: int = 0

    @property
    def duration_s(self) -> float:
        return self.n_samples / self.header.fs if self.header.fs else 0.0

    @property
    def activity_minutes(self) -> float:
        return float(sum(a.minutes for a in self.activity))


@dataclass
class DetectorRun:
    """What :func:`detect_chunks` found: events, activity, the samples seen and those
    whose triggers the pulse level held."""

    events: list[JerkEvent]
    activity: list[ActivityPeriod]
    samples_seen: int
    pulse_samples: int


def detect_chunks(
    header: RecordingHeader,
    chunks: Iterable[Chunk],
    params: DetectorParams | None = None,
    on_chunk: Callable[[Chunk], None] | None = None,
    threaded: bool | None = None,
) -> DetectorRun:
    """Run the detector over chunks.

    With ``threaded`` the chunks are read and their features computed in a second
    thread (:class:`~pipeline.readahead.ReadAhead`, two steps ahead) while this one
    runs the frame, segment and decision stages: both are mostly numpy, which
    releases the GIL, so on two cores they overlap. The events are the same either
    way (same steps, same order). ``on_chunk`` is called in this thread. ``None``:
    threaded unless this process runs without helper threads
    (:func:`~pipeline.readahead.helper_threads`).
    """
    det = JerkDetector(header.fs, header.t0, params)
    out = DetectorOutput()
    if threaded is None:
        threaded = helper_threads()
    if not threaded:
        for chunk in chunks:
            out.extend(det.feed(chunk))
            if on_chunk is not None:
                on_chunk(chunk)
        out.extend(det.finish())
        return DetectorRun(out.events, out.activity, det.samples_seen, det.pulse_samples)
    steps = ReadAhead(det.staged(chunks), depth=2, name="jerkcount-features")
    try:
        for step in steps:
            out.extend(det.back(step))
            if on_chunk is not None and step.chunk is not None:
                on_chunk(step.chunk)
    finally:
        steps.close()
    return DetectorRun(out.events, out.activity, det.samples_seen, det.pulse_samples)


def detect_recording(
    rec: Recording, params: DetectorParams | None = None, chunk_samples: int = 65_536
) -> Detection:
    """Detect jerks in an in-memory :class:`Recording`."""
    params = params or DetectorParams()
    run = detect_chunks(rec.header, rec.chunks(chunk_samples), params)
    return Detection(
        run.events, run.activity, rec.gaps, rec.header, params, rec.n,
        pulse_samples=run.pulse_samples,
    )  # fmt: skip


def detect_stream(
    stream: RecordingStream,
    params: DetectorParams | None = None,
    progress: Callable[[int], None] | None = None,
    chunk_samples: int = 65_536,
    on_chunk: Callable[[Chunk], None] | None = None,
) -> Detection:
    """Detect jerks in an open recording stream, chunk by chunk.

    ``progress`` (optional) is called with the number of input bytes consumed since
    its previous call; ``on_chunk`` (optional) sees every chunk the detector sees, so
    another streaming consumer can share the pass.
    """
    params = params or DetectorParams()
    last = [0]

    def tick(chunk: Chunk) -> None:
        if on_chunk is not None:
            on_chunk(chunk)
        if progress is not None:
            pos = stream.bytes_read
            progress(pos - last[0])
            last[0] = pos

    run = detect_chunks(stream.header, stream.chunks(chunk_samples), params, tick)
    if progress is not None:
        progress(stream.size - last[0])
    n_grid = stream.stats.samples_out + sum(g.end_index - g.start_index for g in stream.gaps)
    events = stream.flag_clipped(run.events)
    share = run.pulse_samples / run.samples_seen if run.samples_seen else 0.0
    warning = beats_warning(stream.header.fs, share, stream.header.metadata)
    if warning is not None:
        log.warning("%s: %s", stream.path, warning)
        stream.quality.warn(warning)
    return Detection(
        events, run.activity, list(stream.gaps), stream.header, params, n_grid,
        stream.quality, run.pulse_samples,
    )  # fmt: skip


def detect_file(
    path: str | Path,
    params: DetectorParams | None = None,
    progress: Callable[[int], None] | None = None,
    reader_params: ReaderParams | None = None,
    chunk_samples: int = 65_536,
) -> Detection:
    """Detect jerks in a canonical CSV file, reading it in chunks (see :func:`detect_stream`)."""
    with open_recording(path, reader_params) as stream:
        return detect_stream(stream, params, progress, chunk_samples)
