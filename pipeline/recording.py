"""The one recording type that flows through jerkcount.

A recording is a uniform time grid ``t0 + i / fs`` (epoch seconds, UTC) with an
``(n, 3)`` float array of acceleration in g. Samples inside gaps (stretches
longer than the reader's ``max_gap_s`` with no data) are NaN rows: they are never
interpolated, and the detector restarts after them.

For streaming, a recording is cut into :class:`Chunk` objects: contiguous runs of
valid samples that carry their index on the grid, so a consumer sees a gap as a
jump in ``Chunk.start``.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field

import numpy as np


@dataclass(frozen=True)
class Gap:
    """A stretch of the grid with no data.

    ``start``/``end`` are epoch seconds UTC of the first missing grid sample and of
    the first sample after the gap; ``start_index``/``end_index`` are the same on
    the grid (end exclusive).
    """

    start: float
    end: float
    start_index: int
    end_index: int

    @property
    def duration_s(self) -> float:
        """Length of the gap in seconds."""
        return self.end - self.start


@dataclass(frozen=True)
class Chunk:
    """Contiguous valid samples: ``acc`` is ``(m, 3)`` float64 in g, grid index ``start``."""

    start: int
    acc: np.ndarray

    def __len__(self) -> int:
        return int(self.acc.shape[0])


@dataclass(frozen=True)
class RecordingHeader:
    """What is known of a recording before its samples: grid origin, rate, metadata.

    ``t0`` epoch seconds UTC of grid index 0; ``fs`` samples per second;
    ``metadata`` the ``# key: value`` lines of the file, in order.
    """

    t0: float
    fs: float
    metadata: dict[str, str] = field(default_factory=dict)
    source: str = ""

    def time_of(self, index: float | np.ndarray) -> float | np.ndarray:
        """Epoch seconds UTC of grid index (scalar or array)."""
        return self.t0 + np.asarray(index, dtype=np.float64) / self.fs


@dataclass
class Recording:
    """A whole recording in memory.

    Attributes
    ----------
    t0 : epoch seconds UTC of the first grid sample.
    fs : sample rate in Hz.
    acc : ``(n, 3)`` float64, acceleration in g on the grid; NaN rows are gaps.
    metadata : ``# key: value`` metadata carried into outputs.
    source : where it came from (a path or ``"simulated"``), for messages.
    """

    t0: float
    fs: float
    acc: np.ndarray
    metadata: dict[str, str] = field(default_factory=dict)
    source: str = ""

    def __post_init__(self) -> None:
        self.acc = np.asarray(self.acc, dtype=np.float64)
        if self.acc.ndim != 2 or self.acc.shape[1] != 3:
            raise ValueError(f"acc must have shape (n, 3), got {self.acc.shape}")
        if not self.fs > 0:
            raise ValueError(f"fs must be positive, got {self.fs}")

    @property
    def header(self) -> RecordingHeader:
        return RecordingHeader(self.t0, self.fs, dict(self.metadata), self.source)

    @property
    def n(self) -> int:
        return int(self.acc.shape[0])

    @property
    def time(self) -> np.ndarray:
        """``(n,)`` epoch seconds UTC of every grid sample."""
        return self.t0 + np.arange(self.n, dtype=np.float64) / self.fs

    @property
    def duration_s(self) -> float:
        return self.n / self.fs

    @property
    def valid(self) -> np.ndarray:
        """``(n,)`` bool, True where a sample exists (not in a gap)."""
        return ~np.isnan(self.acc).any(axis=1)

    @property
    def gaps(self) -> list[Gap]:
        """The NaN runs of the grid as :class:`Gap` objects, in time order."""
        return [
            Gap(float(self.t0 + a / self.fs), float(self.t0 + b / self.fs), a, b)
            for a, b in _runs(~self.valid)
        ]

    def chunks(self, size: int) -> Iterator[Chunk]:
        """Yield contiguous valid runs cut into chunks of at most ``size`` samples."""
        if size < 1:
            raise ValueError("chunk size must be >= 1")
        for a, b in _runs(self.valid):
            for s in range(a, b, size):
                e = min(s + size, b)
                yield Chunk(s, self.acc[s:e])


def _runs(mask: np.ndarray) -> list[tuple[int, int]]:
    """``[(start, end), ...]`` of the True runs of a 1-D bool array (end exclusive)."""
    if mask.size == 0:
        return []
    d = np.diff(np.concatenate(([0], mask.astype(np.int8), [0])))
    starts = np.flatnonzero(d == 1)
    ends = np.flatnonzero(d == -1)
    return list(zip(starts.tolist(), ends.tolist(), strict=True))


def append_rows(buffer: np.ndarray, new: np.ndarray) -> np.ndarray:
    """``buffer`` followed by ``new`` along axis 0, without a copy when one is empty."""
    if buffer.shape[0] == 0:
        return new
    if new.shape[0] == 0:
        return buffer
    return np.concatenate([buffer, new])


def runs(mask: np.ndarray) -> list[tuple[int, int]]:
    """Public alias of the run finder: True runs of a bool array, end exclusive."""
    return _runs(mask)
