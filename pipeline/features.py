"""Per-sample features of a run of samples: baseline, deviation and envelope.

:class:`FeatureStream` turns raw ``(m, 3)`` acceleration (g) into :class:`Features`
once they are settled (the centred filters need a little lookahead): one entry per
grid sample, in separate contiguous arrays (the later stages read the envelope on
every sample, the deviation only where a segment is measured, the baseline only as
frame means).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from pipeline.fills import FillTracker
from pipeline.filters import BlockMedianBaseline, StreamFilter, filter_support, lowpass_taps
from pipeline.params import DetectorParams
from pipeline.recording import append_rows


@dataclass(frozen=True)
class Features:
    """Features of consecutive samples of a run.

    ``fast`` (r,): the envelope, magnitude of the deviation from the baseline low-passed
    at ``lp_hz`` (g). ``dev`` (r, 3): the deviation itself (g), for ``peak_g`` and the
    axis. ``base`` (r, 3): the baseline (g), gravity in sensor axes, for posture change.
    ``energy`` (r,): the squared magnitude of the unfiltered deviation (g²), for the
    energy trigger (:mod:`pipeline.energy`). ``filled`` (r,) bool: the envelope carries
    an interpolated stretch (:mod:`pipeline.fills`), whose noise the low-pass did not
    average.
    """

    fast: np.ndarray
    dev: np.ndarray
    base: np.ndarray
    energy: np.ndarray
    filled: np.ndarray

    @classmethod
    def empty(cls) -> Features:
        return cls(
            np.empty(0), np.empty((0, 3)), np.empty((0, 3)), np.empty(0), np.zeros(0, dtype=bool)
        )

    def __len__(self) -> int:
        return int(self.fast.shape[0])

    def head(self, n: int) -> Features:
        """The first ``n`` samples (views)."""
        return Features(
            self.fast[:n], self.dev[:n], self.base[:n], self.energy[:n], self.filled[:n]
        )

    def tail(self, n: int) -> Features:
        """Everything from sample ``n`` on (views)."""
        return Features(
            self.fast[n:], self.dev[n:], self.base[n:], self.energy[n:], self.filled[n:]
        )

    def then(self, more: Features) -> Features:
        """These samples followed by ``more`` (no copy when either is empty)."""
        return Features(
            append_rows(self.fast, more.fast),
            append_rows(self.dev, more.dev),
            append_rows(self.base, more.base),
            append_rows(self.energy, more.energy),
            append_rows(self.filled, more.filled),
        )


class FeatureStream:
    """Streaming features for one contiguous run at ``fs`` Hz."""

    def __init__(self, fs: float, p: DetectorParams) -> None:
        block = max(1, round(p.baseline_block_s * fs))
        half = max(1, round((p.baseline_s * fs / block - 1) / 2))
        self._baseline = BlockMedianBaseline(block, half)
        taps = lowpass_taps(fs, p.lp_hz)
        self._lp = StreamFilter(taps)
        self._fills = FillTracker(filter_support(taps)) if p.fill_guard else None

    def reset(self) -> None:
        self._baseline.reset()
        self._lp.reset()
        if self._fills is not None:
            self._fills.reset()

    def push(self, acc: np.ndarray, final: bool = False) -> Features:
        """Add ``(m, 3)`` samples in g; return the features of the samples now settled."""
        samples, base = self._baseline.push(acc, final=final)
        dev = samples - base
        band = self._lp(dev)
        fast = np.sqrt(np.einsum("ij,ij->i", band, band))
        energy = np.einsum("ij,ij->i", dev, dev)
        if self._fills is None:
            filled = np.zeros(energy.shape, dtype=bool)
        else:
            filled = self._fills.push(samples)
        return Features(fast, dev, base, energy, filled)
