"""Scores pooled over several recordings: TP/FP/FN and onset errors are summed first.

Pooling counts before computing precision/recall/F1 keeps a recording with few or no
jerks from weighing as much as one with many (an F1 averaged over nights would).
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

import numpy as np

from pipeline.score import DEFAULT_TOLERANCE_S, match_onsets


@dataclass
class PooledScore:
    """Running totals of one-to-one onset matching over many recordings.

    ``errors_ms`` holds ``|detected - true|`` of every matched pair, milliseconds.
    """

    tolerance_s: float = DEFAULT_TOLERANCE_S
    tp: int = 0
    fp: int = 0
    fn: int = 0
    recordings: int = 0
    errors_ms: list[float] = field(default_factory=list)

    def add(self, detected: np.ndarray, truth: np.ndarray) -> np.ndarray:
        """Match one recording's onsets (epoch s); returns a bool mask of found truths."""
        d = np.asarray(detected, dtype=np.float64).ravel()
        t = np.asarray(truth, dtype=np.float64).ravel()
        pairs = match_onsets(d, t, self.tolerance_s)
        found = np.zeros(t.size, dtype=bool)
        for i, j in pairs:
            found[j] = True
            self.errors_ms.append(abs(d[i] - t[j]) * 1000.0)
        self.tp += len(pairs)
        self.fp += d.size - len(pairs)
        self.fn += t.size - len(pairs)
        self.recordings += 1
        return found

    @property
    def n_true(self) -> int:
        return self.tp + self.fn

    @property
    def n_detected(self) -> int:
        return self.tp + self.fp

    @property
    def precision(self) -> float:
        """``tp / (tp + fp)``; 1.0 when nothing was detected."""
        return self.tp / self.n_detected if self.n_detected else 1.0

    @property
    def recall(self) -> float:
        """``tp / (tp + fn)``; 1.0 when there was nothing to find."""
        return self.tp / self.n_true if self.n_true else 1.0

    @property
    def f1(self) -> float:
        """``2 tp / (2 tp + fp + fn)``; 1.0 when there is no truth and no detection."""
        denom = 2 * self.tp + self.fp + self.fn
        return 2 * self.tp / denom if denom else 1.0

    @property
    def median_error_ms(self) -> float:
        """Median ``|detected - true|`` over matched pairs, ms (NaN without pairs)."""
        return float(np.median(self.errors_ms)) if self.errors_ms else math.nan

    @property
    def share_within_100ms(self) -> float:
        """Share of matched pairs whose onset error is at most 100 ms (NaN without pairs)."""
        if not self.errors_ms:
            return math.nan
        return float(np.mean(np.asarray(self.errors_ms) <= 100.0))
