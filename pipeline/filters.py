"""Streaming filters: the same output whatever the chunking.

:class:`StreamFilter` is the 2nd-order Butterworth low-pass applied as its impulse
response, truncated where the tail falls below ``1e-13`` of its sum (a finite impulse
response equal to the recursive filter to within rounding). Each output sample is the
dot product of the same taps with the same inputs whatever the chunking, so carrying
the last ``taps - 1`` inputs from one chunk to the next gives bit-identical output to
filtering the whole signal at once. Designing it in numpy keeps ``scipy.signal``
(half a second of import) off the detection path. :class:`BlockMedianBaseline` is a
centred running median computed on fixed blocks counted from the start of the run, so
it too depends only on the data.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

import numpy as np

from pipeline.rankfilter import median_filter1d
from pipeline.recording import append_rows

#: The impulse response is cut where what follows sums to less than this share of it.
TAIL_TOLERANCE = 1e-13
#: Longest impulse response kept (taps); reached only for corners far below ``fs``.
MAX_TAPS = 4096


def block_means(x: np.ndarray, n: int) -> np.ndarray:
    """Means ``(k, c)`` of the consecutive blocks of ``n`` rows of ``x`` ``(k * n, c)``.

    Each block is summed in row order (``einsum``, several times faster than
    ``reshape(...).mean(axis=1)``'s pairwise sums over a middle axis), so a block's
    mean depends only on its own rows, never on the chunk it came in.
    """
    k = x.shape[0] // n
    return np.einsum("ijk->ik", x[: k * n].reshape(k, n, x.shape[1])) / n


def column_means(x: np.ndarray, n: int) -> np.ndarray:
    """Means ``(k,)`` of the consecutive blocks of ``n`` values of ``x`` ``(k * n,)``.

    Each block summed in row order, one add per row: bit for bit what
    :func:`block_means` gives for the same values as a column of a wider array (on a
    single column ``einsum`` would take a vectorised reduction with another order).
    """
    k = x.shape[0] // n
    blocks = x[: k * n].reshape(k, n)
    total = blocks[:, 0].copy()
    for j in range(1, n):
        total += blocks[:, j]
    return total / n


def butterworth2_coefficients(fs: float, lp_hz: float) -> tuple[np.ndarray, np.ndarray]:
    """Numerator ``b`` (3,) and denominator ``a`` (3,) of the 2nd-order Butterworth
    low-pass with corner ``lp_hz`` at ``fs`` (Hz), by the bilinear transform with the
    corner prewarped (the design of ``scipy.signal.butter(2, lp_hz, fs=fs)``)."""
    k = math.tan(math.pi * lp_hz / fs)
    norm = 1.0 / (1.0 + math.sqrt(2.0) * k + k * k)
    b0 = k * k * norm
    b = np.array([b0, 2.0 * b0, b0])
    a = np.array([1.0, 2.0 * (k * k - 1.0) * norm, (1.0 - math.sqrt(2.0) * k + k * k) * norm])
    return b, a


def impulse_response(b: np.ndarray, a: np.ndarray, tol: float = TAIL_TOLERANCE) -> np.ndarray:
    """Impulse response ``h`` (taps,) of the stable recursive filter ``b``/``a`` (``a[0]
    == 1``), cut where the remaining tail sums to less than ``tol`` of ``sum(|h|)``.

    Computed tap by tap at design time (not per sample of data); the tail of a
    stable filter decays geometrically, so its bound is the last ``|h|`` over
    ``1 - r`` with ``r`` the largest pole radius.
    """
    r = float(np.max(np.abs(np.roots(a)))) if a.size > 1 else 0.0
    if r >= 1.0:
        raise ValueError("unstable filter")
    h: list[float] = []
    total = 0.0
    for n in range(MAX_TAPS):
        acc = float(b[n]) if n < b.size else 0.0
        for j in range(1, min(a.size, n + 1)):
            acc -= float(a[j]) * h[n - j]
        h.append(acc)
        total += abs(acc)
        tail = (abs(h[-1]) + (abs(h[-2]) if n else 0.0)) / (1.0 - r)
        if n >= b.size and tail < tol * total:
            break
    return np.asarray(h)


def lowpass_taps(fs: float, lp_hz: float) -> np.ndarray | None:
    """Taps of the 2nd-order Butterworth low-pass at ``lp_hz`` for ``fs`` (Hz), or
    ``None`` when ``lp_hz`` is at or above 0.45 ``fs`` (nothing to remove)."""
    if lp_hz >= 0.45 * fs:
        return None
    return impulse_response(*butterworth2_coefficients(fs, lp_hz))


def filter_delay(taps: np.ndarray | None) -> int:
    """The delay of a low-pass with ``taps`` (samples): its taps' centroid, rounded up;
    0 without a filter."""
    if taps is None:
        return 0
    return int(np.ceil(np.arange(taps.size) @ taps / taps.sum()))


def filter_support(taps: np.ndarray | None, share: float = 0.99) -> int:
    """How many samples after an input a low-pass with ``taps`` still carries it: the
    fewest leading taps holding ``share`` of ``sum(|taps|)``, less one (0 without a
    filter)."""
    if taps is None:
        return 0
    c = np.cumsum(np.abs(taps))
    return int(np.searchsorted(c, share * c[-1]))


@dataclass
class StreamFilter:
    """A causal FIR filter over ``(m, 3)`` chunks, carrying the last inputs.

    Before the first sample the input is taken as that sample held forever (the
    filter starts at steady state, no start-up transient). With ``taps=None`` it
    passes the signal through.
    """

    taps: np.ndarray | None
    _tail: np.ndarray | None = None

    def reset(self) -> None:
        self._tail = None

    def __call__(self, x: np.ndarray) -> np.ndarray:
        """Filter ``x`` of shape ``(m, 3)`` along axis 0; returns the same shape."""
        if self.taps is None or x.shape[0] == 0:
            return x.copy()
        n_taps = self.taps.size
        if self._tail is None:
            self._tail = np.repeat(x[:1], n_taps - 1, axis=0)
        buf = np.concatenate([self._tail, x])
        y = np.empty(x.shape)
        for k in range(x.shape[1]):
            y[:, k] = np.convolve(np.ascontiguousarray(buf[:, k]), self.taps, mode="valid")
        self._tail = buf[buf.shape[0] - (n_taps - 1) :]
        return y


@dataclass
class BlockMedianBaseline:
    """Local baseline of ``(m, 3)`` acceleration: a centred running median.

    The run is cut into blocks of ``block`` samples (from its first sample); each
    block's mean is taken, the baseline at a block centre is the median of the
    means of the ``half`` blocks on either side and itself (clipped at the run's
    ends), and samples get the baseline linearly interpolated between block
    centres. It follows gravity and slow posture change (a median keeps ramps and
    steps) but not a brief jerk, and leaves no tail behind one. Latency:
    ``half + 1`` blocks.
    """

    block: int
    half: int
    _raw: np.ndarray = field(default_factory=lambda: np.empty((0, 3)))
    _released: int = 0
    _means: np.ndarray = field(default_factory=lambda: np.empty((0, 3)))
    _means0: int = 0
    _n_base: int = 0
    _last: tuple[float, np.ndarray] | None = None

    def reset(self) -> None:
        self._raw = np.empty((0, 3))
        self._released = 0
        self._means = np.empty((0, 3))
        self._means0 = 0
        self._n_base = 0
        self._last = None

    def push(self, x: np.ndarray, final: bool = False) -> tuple[np.ndarray, np.ndarray]:
        """Add samples; return ``(samples, baseline)`` for those now settled, both ``(r, 3)``.

        With ``final`` the run ends: every remaining sample is returned (the last,
        partial block counts as a block).
        """
        if x.shape[0]:
            self._raw = append_rows(self._raw, x)
        B, K = self.block, self.half
        total = self._released + self._raw.shape[0]
        n_complete = total // B
        n_means = self._means0 + self._means.shape[0]
        if final and total > n_complete * B:
            n_complete += 1  # the partial last block
        if n_complete > n_means:
            a = n_means * B - self._released
            seg = self._raw[a:]
            full = (n_complete - n_means) * B
            if seg.shape[0] < full:  # partial last block
                whole = seg.shape[0] // B
                parts = [block_means(seg[: whole * B], B)] if whole else []
                parts.append(seg[whole * B :].mean(axis=0, keepdims=True))
                new = np.vstack(parts)
            else:
                new = block_means(seg[:full], B)
            self._means = np.vstack([self._means, new])
            n_means = n_complete
        n_base = n_means if final else max(0, n_means - K)
        if n_base <= self._n_base:
            return np.empty((0, 3)), np.empty((0, 3))
        base = self._medians(self._n_base, n_base, n_means)
        centres = np.arange(self._n_base, n_base) * B + (B - 1) / 2.0
        if final:
            last_len = total - (n_means - 1) * B
            centres[-1] = (n_means - 1) * B + (last_len - 1) / 2.0
        if self._last is not None:
            centres = np.concatenate(([self._last[0]], centres))
            base = np.vstack([self._last[1][None, :], base])
        stop = total if final else int(np.floor(centres[-1])) + 1
        idx = np.arange(self._released, stop, dtype=np.float64)
        out_base = np.empty((idx.size, 3))
        for k in range(3):
            out_base[:, k] = np.interp(idx, centres, base[:, k])
        n = idx.size
        samples = self._raw[:n]
        self._raw = self._raw[n:]
        self._released = stop
        self._last = (float(centres[-1]), base[-1].copy())
        self._n_base = n_base
        keep_from = max(0, n_base - K)  # blocks still needed by future medians
        if keep_from > self._means0:
            self._means = self._means[keep_from - self._means0 :]
            self._means0 = keep_from
        return samples, out_base

    def _medians(self, j0: int, j1: int, n_means: int) -> np.ndarray:
        """Baselines of blocks ``j0..j1-1`` from block means (windows clipped at 0 and at
        ``n_means``)."""
        K, off, m = self.half, self._means0, self._means
        lo = max(0, j0 - K)
        hi = min(n_means, j1 + K)
        seg = m[lo - off : hi - off]
        out = np.empty((j1 - j0, 3))
        for k in range(3):
            filt = median_filter1d(seg[:, k], 2 * K + 1)
            out[:, k] = filt[j0 - lo : j1 - lo]
        # windows clipped at the run's ends: the plain median of what exists
        clipped = [*range(j0, min(j1, K)), *range(max(j0, K, n_means - K), j1)]
        for j in clipped:
            a, b = max(0, j - K), min(n_means, j + K + 1)
            out[j - j0] = np.median(m[a - off : b - off], axis=0)
        return out
