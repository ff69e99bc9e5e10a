"""What the detector reports: jerk events and activity periods."""

from __future__ import annotations

from dataclasses import dataclass

AXES = ("x", "y", "z")


@dataclass(frozen=True)
class JerkEvent:
    """One detected jerk.

    Attributes
    ----------
    time : onset, epoch seconds UTC.
    peak_g : peak size above the local background, in g (vector magnitude of the
        gravity-free acceleration at the peak).
    duration_ms : onset to end of the transient, in milliseconds.
    axis : dominant axis, ``"x"``, ``"y"`` or ``"z"`` (the sensor's own axes).
    peak_time : time of the peak, epoch seconds UTC.
    background_g : local background level (noise floor) the event stood above, in g.
    clipped : True when a raw sample of the event reached the sensor's range (clip
        level): its ``peak_g`` is then a lower bound. Set by the reader, which knows
        the clip level (see :meth:`pipeline.reader.RecordingStream.flag_clipped`).
    """

    time: float
    peak_g: float
    duration_ms: float
    axis: str
    peak_time: float
    background_g: float
    clipped: bool = False


@dataclass(frozen=True)
class ActivityPeriod:
    """A span of movement that is not counted as jerks.

    ``start``/``end`` epoch seconds UTC; ``kind`` one of ``"movement"`` (a long
    continuous movement: posture change, rolling over, restlessness) or
    ``"rhythmic"`` (sustained repetitive movement: walking, tremor, clonic jerking).
    """

    start: float
    end: float
    kind: str

    @property
    def minutes(self) -> float:
        return (self.end - self.start) / 60.0


EVENT_COLUMNS = ["time", "time_local", "peak_g", "duration_ms", "axis"]
ACTIVITY_COLUMNS = ["start", "end", "start_local", "end_local", "minutes", "kind"]
#: The first columns of ``daily_summary.csv``: the contract other tools rely on.
DAILY_FIRST_COLUMNS = [
    "day",
    "window_start",
    "window_end",
    "hours_recorded",
    "hours_valid",
    "jerks",
    "jerks_per_hour",
    "pattern",
]


def jerks_text(n: int, adjective: str = "") -> str:
    """``n`` jerks in words: ``1 jerk``, ``2 jerks`` (``1 true jerk`` with ``adjective``)."""
    word = "jerk" if n == 1 else "jerks"
    return f"{n} {adjective} {word}" if adjective else f"{n} {word}"
