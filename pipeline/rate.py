"""The sample rate of a recording from its timestamps, robust to jitter and drops.

:func:`estimate_fs` counts whole periods per interval, which is exact for timestamps
near their grid, and refines the rate from the samples' phases where the jitter is
heavy (:func:`_phase_rate`); :func:`snap_rate` rounds a rate to whole Hz when it is
within 0.5 % of one.
"""

from __future__ import annotations

import numpy as np

#: the share of intervals more than a quarter period off a whole count above which
#: the timestamps' jitter is heavy and :func:`_phase_rate` refines the rate
HEAVY_JITTER_SHARE = 0.02
#: samples in the successive stages of :func:`_phase_rate`'s search
PHASE_STAGES = (256, 2048)
#: the least peak (in units of what random phases give) :func:`_phase_rate` trusts
PHASE_MIN_POWER = 8.0


def estimate_fs(t: np.ndarray, max_gap_s: float = 1.0) -> float:
    """Sample rate (Hz) from timestamps ``t`` (s), robust to jitter, drops and gaps.

    A rough period is the median of the positive intervals no longer than
    ``max_gap_s``. Dropped samples bias that median (5 % drops with 20 % jitter: 1 %
    low), and timestamp rounding quantises it, so the period is refined: the mean of
    the one-period intervals, then total time over total whole periods for intervals
    of an unambiguous 0-4 periods (jitter telescopes away). Where the jitter is heavy
    (more than a quarter period between neighbours, in over 2 % of the intervals), the
    counts are biased and the rate is refined from the samples' phases instead
    (:func:`_phase_rate`). A rate within 0.5 % of a whole number of Hz is snapped to it.
    """
    t = np.asarray(t, dtype=np.float64)
    d_all = np.diff(t)
    d = d_all[(d_all > 0) & (d_all <= max_gap_s)]
    if d.size == 0:
        raise ValueError("no two samples closer than the maximum gap")
    period = float(np.median(d))
    period = float(np.mean(d[np.abs(d - period) < 0.5 * period]))
    k = np.rint(d / period)
    sel = (k <= 4) & (np.abs(d / period - k) < 0.45)  # unambiguous counts, 0 included
    fs = float(k[sel].sum() / d[sel].sum())
    if np.mean(np.abs(d / period - k) > 0.25) < HEAVY_JITTER_SHARE:
        return snap_rate(fs)  # near the grid: the counts are exact (and see phase jumps)
    return snap_rate(_phase_rate(t, d_all, fs))


def _phase_rate(t: np.ndarray, d: np.ndarray, fs: float) -> float:
    """``fs`` (Hz, from interval counts) refined to the rate at which the timestamps
    ``t`` (s, with intervals ``d``) line up best.

    Counting whole periods per interval goes wrong whenever two neighbours' jitter
    differs by more than half a period (timestamps jittered by more than a quarter
    period), and always in one direction. Phases are not counted: the rate is first
    the ``f`` maximising the sum, over the stretches between holes of more than 4.5
    periods (or any ``d`` <= 0), of ``|sum exp(2 pi i f t)|²`` (a periodogram of the
    sample instants; dropped samples and symmetric jitter leave its peak in place),
    searched on the first 256 and then 2048 samples on a grid of an eighth of the
    peak's width; then each sample's grid index is its time over that period, rounded
    about its stretch's mean phase, and the period is the least-squares slope of time
    on index (on twice the samples each time, up to all): exact for exact timestamps,
    and right for jitter up to about 40 % of a period either way. Without a clear
    peak (``PHASE_MIN_POWER``; heavier jitter, too few samples) the count stays.
    """
    if t.size < 8:
        return fs
    cut = np.flatnonzero((d <= 0) | (d > 4.5 / fs)) + 1
    piece = np.zeros(t.size, dtype=np.int64)
    piece[cut] = 1
    piece = np.cumsum(piece)
    x = t - t[np.concatenate(([0], cut))][piece]  # seconds since each stretch's start
    counted = fs
    halfwidth = 0.12 * fs  # the interval count's uncertainty (heavy jitter, few samples)
    for n in sorted({min(s, t.size) for s in PHASE_STAGES}):
        step = 1.0 / (8.0 * max(float(x[:n].max()), 1.0 / fs))  # an eighth of the width
        half = np.ceil(halfwidth / step)
        grid = fs + step * np.arange(-half, half + 1)
        power = np.array([abs(_phasors(x[:n], piece[:n], f)) ** 2 for f in grid]).sum(axis=1)
        i = int(np.clip(np.argmax(power), 1, grid.size - 2))
        a, b, c = power[i - 1 : i + 2]
        shift = 0.5 * (a - c) / (a - 2 * b + c) if a - 2 * b + c < 0 else 0.0
        fs = float(grid[i] + np.clip(shift, -1.0, 1.0) * step)
        halfwidth = 4.0 * step  # half the peak's width
    if b < PHASE_MIN_POWER * n:  # no clear peak (random phases give n): keep the count
        return counted
    n = min(2 * PHASE_STAGES[-1], t.size)
    while True:
        fs = _index_fit(x[:n], piece[:n], fs)
        if n == t.size:
            return fs
        n = min(2 * n, t.size)


def _index_fit(x: np.ndarray, piece: np.ndarray, fs: float) -> float:
    """The rate (Hz) as the least-squares slope of index on time ``x`` (s since each
    stretch's start; ``piece`` its stretch), each sample's index its phase at ``fs``
    rounded about its stretch's mean phase."""
    offset = np.angle(_phasors(x, piece, fs)) / (2.0 * np.pi)  # cycles, per stretch
    idx = np.rint(x * fs - offset[piece])
    count = np.bincount(piece).astype(np.float64)
    dx = x - (np.bincount(piece, x) / count)[piece]
    di = idx - (np.bincount(piece, idx) / count)[piece]
    var = float(di @ di)
    return fs if var <= 0 else float(var / (di @ dx))


def _phasors(x: np.ndarray, piece: np.ndarray, f: float) -> np.ndarray:
    """Per stretch, ``sum exp(2 pi i f x)`` over its times ``x`` (s since its start)."""
    ph = 2.0 * np.pi * f * x
    return np.bincount(piece, np.cos(ph)) + 1j * np.bincount(piece, np.sin(ph))


def snap_rate(fs: float) -> float:
    """``fs`` (Hz) snapped to a whole number within 0.5 %, else rounded to 3 decimals."""
    whole = round(fs)
    if whole > 0 and abs(fs - whole) / fs < 0.005:
        return float(whole)
    return round(fs, 3)
