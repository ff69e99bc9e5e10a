"""Timing statistics of a sequence of event onsets: pure numpy helpers for :mod:`pipeline.pattern`.

All times are in seconds. Functions taking a 2-D array work row-wise, so the same code
scores the observed sequence (one row) and a batch of surrogates (many rows).
"""

from __future__ import annotations

import numpy as np

__all__ = [
    "FreeAxis",
    "burstiness",
    "coefficient_of_variation",
    "fano_factor",
    "jitter_surrogates",
    "local_variation",
    "qualifying_runs",
    "regular_pairs",
    "regular_interval_count",
    "short_interval_count",
]


class FreeAxis:
    """Valid time of a window ``[start, end)`` minus excluded spans, glued end to end.

    Positions on the free axis are seconds of valid time since ``start``; an onset at
    night time ``t`` (not excluded) maps to ``valid time in [start, t)``. With no
    exclusions the free axis is simply ``t - start``.
    """

    def __init__(
        self, start: float, end: float, excluded: list[tuple[float, float]] | None = None
    ) -> None:
        if not (np.isfinite(start) and np.isfinite(end)) or end <= start:
            raise ValueError(f"need a finite window with end > start, got [{start}, {end})")
        starts: list[float] = []
        ends: list[float] = []
        cursor = float(start)
        for a, b in sorted((float(a), float(b)) for a, b in (excluded or [])):
            if b <= a:
                continue
            if a > cursor:
                starts.append(cursor)
                ends.append(min(a, end))
            cursor = max(cursor, b)
            if cursor >= end:
                break
        if cursor < end:
            starts.append(cursor)
            ends.append(float(end))
        s = np.asarray(starts, dtype=np.float64)
        e = np.asarray(ends, dtype=np.float64)
        keep = e > s
        self.starts, self.ends = s[keep], e[keep]
        lengths = self.ends - self.starts
        self.before = np.concatenate(([0.0], np.cumsum(lengths)[:-1]))
        self.total = float(lengths.sum())

    def inside(self, t: np.ndarray) -> np.ndarray:
        """Boolean mask: which night times ``t`` (s) lie in valid time."""
        k = np.searchsorted(self.starts, t, side="right") - 1
        ok = k >= 0
        kk = np.clip(k, 0, max(len(self.starts) - 1, 0))
        if len(self.starts) == 0:
            return np.zeros(t.shape, dtype=bool)
        return ok & (t < self.ends[kk])

    def to_free(self, t: np.ndarray) -> np.ndarray:
        """Map night times lying in valid time to free-axis positions (s)."""
        if len(self.starts) == 0:
            return np.empty(0)
        k = np.clip(np.searchsorted(self.starts, t, side="right") - 1, 0, len(self.starts) - 1)
        return self.before[k] + (t - self.starts[k])


def coefficient_of_variation(iv: np.ndarray) -> float:
    """CV = sd / mean of intervals (population sd, ``ddof=0``); NaN with < 2 intervals."""
    if iv.size < 2 or iv.mean() <= 0:
        return float("nan")
    return float(iv.std() / iv.mean())


def burstiness(iv: np.ndarray) -> float:
    """Goh-Barabási burstiness ``B = (sd - mean) / (sd + mean)`` of intervals.

    -1 for a perfectly regular series, about 0 for Poisson, towards +1 for bursts.
    Population sd (``ddof=0``); NaN with < 2 intervals.
    """
    if iv.size < 2:
        return float("nan")
    sd, mu = float(iv.std()), float(iv.mean())
    return float((sd - mu) / (sd + mu)) if sd + mu > 0 else float("nan")


def local_variation(iv: np.ndarray) -> float:
    """Shinomoto's local variation ``LV = 3/(n-1) Σ ((I_i - I_{i+1}) / (I_i + I_{i+1}))²``.

    ``n`` intervals; LV = 1 for Poisson, 0 for a regular series, > 1 for bursts, and it
    compares only neighbouring intervals, so a slowly changing rate barely moves it.
    NaN with < 2 intervals; pairs of two zero intervals count as 0.
    """
    if iv.size < 2:
        return float("nan")
    a, b = iv[:-1], iv[1:]
    s = a + b
    r = np.divide(a - b, s, out=np.zeros_like(s), where=s > 0)
    return float(3.0 * np.mean(r * r))


def fano_factor(x: np.ndarray, total_s: float, window_s: float) -> float:
    """Variance / mean of the counts in consecutive ``window_s`` windows of ``[0, total_s)``.

    ``x`` are positions in seconds on ``[0, total_s)``; an incomplete last window is
    dropped. NaN with fewer than 2 whole windows or no events in them.
    """
    n_win = int(np.floor(total_s / window_s + 1e-9))
    if n_win < 2:
        return float("nan")
    counts = np.bincount(
        np.floor(x[x < n_win * window_s] / window_s).astype(np.int64), minlength=n_win
    )[:n_win]
    mu = counts.mean()
    return float(counts.var() / mu) if mu > 0 else float("nan")


def regular_pairs(iv: np.ndarray, tol: float, max_s: float = np.inf) -> np.ndarray:
    """Which neighbouring intervals match: ``|I_i - I_{i+1}| / (I_i + I_{i+1}) < tol``.

    ``iv`` is ``(..., m)`` intervals (s); the result is ``(..., m - 1)`` booleans. Pairs
    with an interval longer than ``max_s`` (s) never match. For Poisson intervals the
    ratio is uniform on [0, 1), so a pair matches by chance with probability ``tol``.
    """
    a, b = iv[..., :-1], iv[..., 1:]
    s = a + b
    d = np.subtract(a, b)
    np.abs(d, out=d)
    r = np.divide(d, s, out=np.ones_like(s), where=s > 0)
    match = r < tol
    if np.isfinite(max_s):
        short = iv <= max_s  # each interval compared once, then paired with its neighbour
        match &= short[..., :-1]
        match &= short[..., 1:]
    return match


def qualifying_runs(mask: np.ndarray, min_len: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Maximal runs of True along the last axis of a 2-D ``mask`` with length ≥ ``min_len``.

    Returns ``(row, first, length)`` arrays, one entry per qualifying run.
    """
    mask = np.atleast_2d(mask)
    rows, m = mask.shape
    padded = np.zeros((rows, m + 2), dtype=np.int8)
    padded[:, 1:-1] = mask
    d = np.diff(padded.ravel())
    starts = np.flatnonzero(d == 1)
    ends = np.flatnonzero(d == -1)
    length = ends - starts
    keep = length >= max(min_len, 1)
    starts, length = starts[keep], length[keep]
    # position in the flattened padded array -> row, column of the unpadded mask
    row = (starts + 1) // (m + 2)
    first = (starts + 1) % (m + 2) - 1
    return row, first, length


def regular_interval_count(
    iv: np.ndarray, tol: float, min_intervals: int, max_s: float = np.inf
) -> np.ndarray:
    """Per row, the number of intervals inside *regular series*.

    A regular series is a maximal run of ≥ ``min_intervals`` consecutive intervals in
    which every neighbouring pair matches (:func:`regular_pairs`). ``iv`` is ``(r, m)``;
    returns ``(r,)`` integers.
    """
    iv = np.atleast_2d(iv)
    if iv.shape[1] < 2:
        return np.zeros(iv.shape[0], dtype=np.int64)
    row, _, length = qualifying_runs(regular_pairs(iv, tol, max_s), max(min_intervals - 1, 1))
    return np.bincount(row, weights=length + 1, minlength=iv.shape[0]).astype(np.int64)


def short_interval_count(iv: np.ndarray, gap_s: float) -> np.ndarray:
    """Per row, the number of intervals shorter than ``gap_s`` (s): jerks in bursts minus bursts."""
    return (np.atleast_2d(iv) < gap_s).sum(axis=-1)


def jitter_surrogates(
    x: np.ndarray, total_s: float, window_s: float, n: int, rng: np.random.Generator
) -> np.ndarray:
    """``n`` surrogate sequences: each event moved uniformly within its own ``window_s`` bin.

    ``x`` sorted positions (s) on ``[0, total_s)``. Bins ``[k w, (k+1) w)`` (the last one
    cut at ``total_s``) keep their counts, so the slow rate (and any drift) is kept
    while the timing inside each bin becomes that of a Poisson process. Returns
    ``(n, x.size)`` sorted rows.
    """
    k = np.floor(x / window_s)
    lo = k * window_s
    hi = np.minimum(lo + window_s, total_s)
    s = rng.random((n, x.size))
    s *= hi - lo  # in place: the same arithmetic as lo + u * (hi - lo), no temporaries
    s += lo
    s.sort(axis=1)
    return s
