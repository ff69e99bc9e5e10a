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
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from pipeline.classifier import SegmentClassifier
from pipeline.events import ActivityPeriod, JerkEvent
from pipeline.features import FeatureStream
from pipeline.noisefloor import FrameTracker
from pipeline.params import DetectorParams
from pipeline.quality import DataQuality
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

    def feed(self, chunk: Chunk) -> DetectorOutput:
        """Consume a contiguous chunk (``(m, 3)`` g at grid index ``chunk.start``)."""
        out = DetectorOutput()
        if len(chunk) == 0:
            return out
        if self._expected is None:
            self._start_run(chunk.start)
        elif chunk.start != self._expected:
            if chunk.start < self._expected:
                raise ValueError(f"chunk at index {chunk.start} overlaps samples already seen")
            out.extend(self._end_run())
            self._start_run(chunk.start)
        self._expected = chunk.start + len(chunk)
        self.samples_seen += len(chunk)
        out.extend(self._step(np.asarray(chunk.acc, dtype=np.float64), final=False))
        return out

    def finish(self) -> DetectorOutput:
        """The end of the recording: flush everything still pending."""
        if self._expected is None:
            return DetectorOutput()
        out = self._end_run()
        self._expected = None
        return out

    def _start_run(self, start: int) -> None:
        self._features.reset()
        self._frames.reset(start)
        self._segmenter.reset(start)

    def _end_run(self) -> DetectorOutput:
        return self._step(np.empty((0, 3)), final=True)

    def _step(self, acc: np.ndarray, final: bool) -> DetectorOutput:
        rows = self._features.push(acc, final=final)
        rows, bg = self._frames.push(rows, final=final)
        segments = self._segmenter.push(rows, bg, final=final)
        spans, self._frames.spans = self._frames.spans, []
        self._classifier.add(segments, spans)
        horizon = np.inf if final else min(self._segmenter.start, self._frames.horizon())
        events, activity = self._classifier.decide(horizon)
        return DetectorOutput(events, activity)


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

    events, activity, _ = detect_chunks(stream.header, stream.chunks(chunk_samples), params, tick)
    if progress is not None:
        progress(stream.size - last[0])
    n_grid = stream.stats.samples_out + sum(g.end_index - g.start_index for g in stream.gaps)
    events = stream.flag_clipped(events)
    return Detection(
        events, activity, list(stream.gaps), stream.header, params, n_grid, stream.quality
    )


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
