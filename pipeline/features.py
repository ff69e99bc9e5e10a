"""Per-sample features of a run of samples: baseline, deviation and two envelopes.

:class:`FeatureStream` turns raw ``(m, 3)`` acceleration (g) into feature rows
``(r, N_FEATURES)`` once they are settled (the centred filters need a little
lookahead). Columns:

- ``FAST``: the envelope, magnitude of the deviation from the baseline low-passed
  at ``lp_hz`` (g);
- ``DEV``: the deviation itself, 3 columns (g), for ``peak_g`` and the axis;
- ``BASE``: the baseline, 3 columns (g): gravity in sensor axes, for posture change.
"""

from __future__ import annotations

import numpy as np

from pipeline.filters import BlockMedianBaseline, StreamFilter, lowpass_taps
from pipeline.params import DetectorParams

FAST = 0
DEV = slice(1, 4)
BASE = slice(4, 7)
N_FEATURES = 7


class FeatureStream:
    """Streaming features for one contiguous run at ``fs`` Hz."""

    def __init__(self, fs: float, p: DetectorParams) -> None:
        block = max(1, round(p.baseline_block_s * fs))
        half = max(1, round((p.baseline_s * fs / block - 1) / 2))
        self._baseline = BlockMedianBaseline(block, half)
        self._lp = StreamFilter(lowpass_taps(fs, p.lp_hz))

    def reset(self) -> None:
        self._baseline.reset()
        self._lp.reset()

    def push(self, acc: np.ndarray, final: bool = False) -> np.ndarray:
        """Add ``(m, 3)`` samples in g; return the settled feature rows ``(r, N_FEATURES)``."""
        samples, base = self._baseline.push(acc, final=final)
        dev = samples - base
        band = self._lp(dev)
        rows = np.empty((dev.shape[0], N_FEATURES))
        rows[:, FAST] = np.sqrt(np.einsum("ij,ij->i", band, band))
        rows[:, DEV] = dev
        rows[:, BASE] = base
        return rows
