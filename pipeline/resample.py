"""Raw rows onto the uniform grid: linear interpolation at the grid instants.

The reader hands each block's rows with their positions on the grid (``(t - t0) * fs``,
snapped to whole indices where they lie within the jitter tolerance) and the last row
of the block before (:class:`Prev`); :func:`resample` gives the grid samples between
them, bit for bit what ``np.interp`` over all the rows at once would give.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np


@dataclass
class Prev:
    """The last raw row of the block before: ``t`` epoch s, ``a`` (3,) g, and ``p``, its
    position on the grid (snapped like the current block's rows, see :meth:`snap`)."""

    t: float
    a: np.ndarray
    p: float = math.nan

    def snap(self, t0: float, fs: float, tol: float) -> None:
        """Grid position with the current block's tolerance (the same float steps)."""
        p = (self.t - t0) * fs
        whole = float(np.rint(p))
        self.p = whole if abs(p - whole) <= tol else p


def resample(
    first: int, last: int, xp: np.ndarray, fp: np.ndarray, exact: bool, prev: Prev | None
) -> np.ndarray:
    """Grid samples ``first..last`` (n, 3) g, C-ordered, from raw rows at grid positions
    ``xp`` (r,) (increasing) with values ``fp`` (r, 3), preceded by ``prev`` if given.

    Bit for bit what ``np.interp`` over the rows (``prev`` first) gives, column by
    column: an index below ``xp[0]`` depends only on ``prev`` and the first row, one at
    or above it only on the rows, so the two parts are interpolated apart. ``exact``
    says every ``xp`` is a whole grid index: those samples are the rows themselves.
    """
    n = last - first + 1
    if prev is None:
        return resample_rows(first, last, xp, fp, exact)
    if xp.size == 0:  # prev alone (a gap follows): np.interp of one point is that point
        return np.tile(prev.a, (n, 1))
    n_lo = min(max(math.ceil(float(xp[0])) - first, 0), n)
    if n_lo == 0:
        return resample_rows(first, last, xp, fp, exact)
    out = np.empty((n, 3), dtype=np.float64)
    idx = np.arange(first, first + n_lo, dtype=np.float64)
    xp2 = np.array([prev.p, float(xp[0])])
    for k in range(3):
        out[:n_lo, k] = np.interp(idx, xp2, np.array([prev.a[k], fp[0, k]]))
    if n_lo < n:
        out[n_lo:] = resample_rows(first + n_lo, last, xp, fp, exact)
    return out


def resample_rows(first: int, last: int, xp: np.ndarray, fp: np.ndarray, exact: bool) -> np.ndarray:
    """:func:`resample` without a preceding row."""
    n = last - first + 1
    if exact:
        lo = int(np.searchsorted(xp, first))
        hi = int(np.searchsorted(xp, last, side="right"))
        if hi - lo == n:  # n distinct whole positions in [first, last]: every one
            return np.ascontiguousarray(fp[lo:hi])
        out = np.empty((n, 3), dtype=np.float64)
        pos = (xp[lo:hi] - first).astype(np.intp)
        out[pos] = fp[lo:hi]
        hole = np.ones(n, dtype=bool)
        hole[pos] = False
        miss = np.flatnonzero(hole)
        x = (miss + first).astype(np.float64)
        for k in range(3):
            out[miss, k] = np.interp(x, xp, fp[:, k])
        return out
    idx = np.arange(first, last + 1, dtype=np.float64)
    out = np.empty((n, 3), dtype=np.float64)
    for k in range(3):
        out[:, k] = np.interp(idx, xp, fp[:, k])
    return out
