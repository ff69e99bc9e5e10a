"""The data-quality record: what the reader saw, repaired and flagged in one recording.

:class:`DataQuality` is filled by :class:`pipeline.reader.RecordingStream` while it
reads and is written into the outputs' data-quality sections (``EVENTS.json``
``data_quality`` and ``summary.json`` ``data_quality.recordings``). Every repair the
reader makes is counted here; nothing is dropped silently.

Repairs (counted, the recording is processed):

- ``nan_rows_dropped``: rows whose fields are all there but hold a missing value
  (empty, ``NaN``, ``NA``, ``null``) are dropped; the samples around them are
  interpolated across like dropped samples (a gap when longer than ``max_gap_s``);
- ``torn_last_line_dropped``: a cut-off last line;
- ``duplicate_timestamps_dropped``: rows repeating the previous timestamp (the first
  is kept); ``conflicting_duplicates`` counts those among them whose values differ;
- ``out_of_order_rows``: rows that arrived up to ``reorder_s`` late (BLE packets
  swapped) and were put back in time order;
- ``dst_repeated_rows``: naive local times in the repeated hour of a daylight-saving
  change, placed by their order (before the clock steps back: summer time);
- ``compressed_data_truncated``: a gzip/zip file ended early; what came before is read;
- ``corrupt_blocks_skipped``: data blocks of a device binary (a ``.cwa`` block with a
  bad checksum, header or timestamp, an unreadable ``.bin`` page) that were skipped;
  the samples around them are interpolated across (a gap when longer than
  ``max_gap_s``).

Findings (reported, the samples are kept as they are): ``rate_changes`` (the rate
inside the file changed; resampled onto the first grid), ``clipping`` (the sensor's
range was reached: events touching it are flagged ``clipped``), ``stuck_axes`` (an
axis constant for ``stuck_axis_s`` or more while another moved), ``warnings`` (e.g.
values that look like m/s² or mg) and ``calibration`` (see
:mod:`pipeline.calibration`).
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Any

import numpy as np

AXES = ("x", "y", "z")

#: counters that are repairs (summed in :attr:`DataQuality.repairs`)
REPAIR_FIELDS = (
    "nan_rows_dropped",
    "torn_last_line_dropped",
    "duplicate_timestamps_dropped",
    "out_of_order_rows",
    "dst_repeated_rows",
)


@dataclass(frozen=True)
class RateChange:
    """The raw sample rate changed: from ``from_hz`` to ``to_hz`` (Hz) at file ``line``
    (the first row at the new spacing), time ``time`` (epoch s UTC)."""

    line: int
    time: float
    from_hz: float
    to_hz: float


@dataclass(frozen=True)
class StuckAxis:
    """Axis ``axis`` read exactly ``value_g`` (g) from ``start`` to ``end`` (epoch s UTC)
    while another axis moved; ``line`` is the file line where it got stuck."""

    axis: str
    start: float
    end: float
    value_g: float
    line: int

    @property
    def duration_s(self) -> float:
        """How long the axis was stuck, s."""
        return self.end - self.start


@dataclass
class DataQuality:
    """What the reader saw and repaired in one recording (see the module docstring).

    ``rows`` raw rows kept; ``samples_out`` grid samples produced. ``clip_levels_g``
    maps ``"x+"``, ``"x-"``, ... to the clip level found (g, signed) and
    ``clip_source`` says from where (``"metadata"``: the ``range_g`` key; ``"values"``:
    samples piling up at an extreme); ``clipped_samples`` raw samples at a clip level,
    ``clipped_events`` events flagged. ``calibration`` is the calibration report
    (``None`` when calibration is off).
    """

    rows: int = 0
    samples_out: int = 0
    nan_rows_dropped: int = 0
    torn_last_line_dropped: int = 0
    duplicate_timestamps_dropped: int = 0
    conflicting_duplicates: int = 0
    out_of_order_rows: int = 0
    dst_repeated_rows: int = 0
    compressed_data_truncated: bool = False
    corrupt_blocks_skipped: int = 0
    rate_changes: list[RateChange] = field(default_factory=list)
    clip_levels_g: dict[str, float] = field(default_factory=dict)
    clip_source: str | None = None
    clipped_samples: int = 0
    clipped_events: int = 0
    stuck_axes: list[StuckAxis] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)
    calibration: dict[str, Any] | None = None

    @property
    def repairs(self) -> int:
        """Rows repaired in all (dropped, reordered or placed)."""
        return int(sum(getattr(self, f) for f in REPAIR_FIELDS))

    def warn(self, text: str) -> None:
        """Record a one-line warning (once)."""
        if text not in self.warnings:
            self.warnings.append(text)

    def as_dict(self) -> dict[str, Any]:
        """Plain JSON-ready form (times epoch s UTC, sizes g)."""
        out = asdict(self)
        out["repairs"] = self.repairs
        out["stuck_axes"] = [{**asdict(s), "duration_s": s.duration_s} for s in self.stuck_axes]
        return out


def clipped_flags(
    starts: np.ndarray, ends: np.ndarray, clip_times: np.ndarray, slack_s: float
) -> np.ndarray:
    """True for each event ``[starts[i] - slack_s, ends[i] + slack_s]`` (epoch s) that holds
    a clipped raw sample time of ``clip_times`` (sorted, epoch s)."""
    starts = np.asarray(starts, dtype=np.float64)
    ends = np.asarray(ends, dtype=np.float64)
    if clip_times.size == 0 or starts.size == 0:
        return np.zeros(starts.size, dtype=bool)
    lo = np.searchsorted(clip_times, starts - slack_s, side="left")
    hi = np.searchsorted(clip_times, ends + slack_s, side="right")
    return hi > lo
