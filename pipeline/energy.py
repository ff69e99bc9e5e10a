"""The energy trigger: a jerk's energy summed over its duration, against white noise.

A peak trigger sees only a jerk's largest sample; a jerk of 100 ms at 100 Hz spans ten
samples, and its energy over them stands far clearer above sensor noise than any one
of them. For every sample and every window length ``L`` from ``energy_min_s`` to
``energy_max_s`` (a jerk's duration; lengths about ``RATIO`` apart), the energy ``S``
(g²) of the unfiltered deviation over the ``L`` samples ending there is compared with
what white noise of the local energy background ``m`` (g² per sample, three axes)
gives: ``S / (m / 3)`` is then chi-squared with ``3 L`` degrees of freedom, and the
window *triggers* when ``S`` exceeds that distribution's quantile at the upper tail
of a standard normal beyond ``energy_z``. A run of the envelope
(see :mod:`pipeline.segmenter`) is found by this trigger when such a window ends at one
of its samples above the low threshold and starts no earlier than the run (less the
low-pass's delay): a window that reaches back past the run's start holds some other
run's energy. Windows are only measured at the samples that can end one.

Sensor noise is often not white: a board's own low-pass filter makes neighbouring
samples alike, and then a window's energy varies more than chi-squared with ``3 L``
degrees of freedom, so white-noise thresholds would trigger on the noise (21 to 416
false jerks an hour in noise of 0.02 g low-passed at a quarter or a tenth of the sample
rate). The frame tracker measures how much more the frames' mean energy varies than
white noise's would (:mod:`pipeline.noisefloor`: the *inflation*, 1 for white noise),
and the windows take ``3 L / inflation`` degrees of freedom (at least 3, one sample's
three axes) with the same mean; the inflation is rounded up to a power of
``INFLATION_STEP``, so it is never taken lower than measured.

The sums are of energies rounded to integers of ``1 / SCALE`` g², added in int64, so
each window's sum is exact and the same whatever the chunking (a running float sum
would depend on where it started). The chi-squared tail and quantile are computed
here (tests compare them with ``scipy.stats``) to keep scipy's import off the
detection path, as :mod:`pipeline.filters` does for the low-pass.
"""

from __future__ import annotations

import functools
import math

import numpy as np

from pipeline.params import DetectorParams

#: Energies are summed as integers of this many per g².
SCALE = 1e10
#: Energies above this (g² a sample; a deviation of 316 g) count as this, so that the
#: longest window (0.3 s at 10 kHz) sums to less than int64's range; such a sample
#: triggers every window anyway.
MAX_ENERGY_G2 = 1e5
#: Ratio between consecutive window lengths.
RATIO = 1.5
#: No window triggers.
NONE = np.iinfo(np.int64).max
#: The noise's inflation is rounded up to a power of this.
INFLATION_STEP = 1.2
#: Highest power: an inflation of 1.2 ** 36 (about 710) and above counts as that.
MAX_LEVEL = 36


def window_lengths(fs: float, p: DetectorParams) -> np.ndarray:
    """Window lengths (samples, ascending, unique) from ``energy_min_s`` to
    ``energy_max_s`` at ``fs`` Hz, about ``RATIO`` apart."""
    lo = max(1, round(p.energy_min_s * fs))
    hi = max(lo, round(p.energy_max_s * fs))
    n = 1 + int(np.ceil(np.log(hi / lo) / np.log(RATIO))) if hi > lo else 1
    return np.unique(np.rint(np.geomspace(lo, hi, n)).astype(np.int64))


def normal_tail(z: float) -> float:
    """Probability that a standard normal exceeds ``z``."""
    return 0.5 * math.erfc(z / math.sqrt(2.0))


def chi2_tail(x: float, dof: int) -> float:
    """Probability that chi-squared with ``dof`` degrees of freedom exceeds ``x``: the
    regularised upper incomplete gamma ``Q(dof / 2, x / 2)``, by its series below
    ``a + 1`` and its continued fraction (modified Lentz) above."""
    a, y = dof / 2.0, x / 2.0
    if y <= 0.0:
        return 1.0
    log_front = a * math.log(y) - y - math.lgamma(a)
    if y < a + 1.0:  # P(a, y) by its series
        term = total = 1.0 / a
        n = a
        while abs(term) > 1e-17 * abs(total):
            n += 1.0
            term *= y / n
            total += term
        return 1.0 - total * math.exp(log_front)
    tiny = 1e-300
    b = y + 1.0 - a
    c, d = 1.0 / tiny, 1.0 / b
    h = d
    for i in range(1, 10_000):
        an = -i * (i - a)
        b += 2.0
        d = an * d + b
        d = tiny if abs(d) < tiny else d
        c = b + an / c
        c = tiny if abs(c) < tiny else c
        d = 1.0 / d
        step = d * c
        h *= step
        if abs(step - 1.0) < 1e-15:
            break
    return h * math.exp(log_front)


def chi2_density(x: float, dof: float) -> float:
    """Density of chi-squared with ``dof`` degrees of freedom at ``x > 0``."""
    a = dof / 2.0
    return math.exp((a - 1.0) * math.log(x) - x / 2.0 - a * math.log(2.0) - math.lgamma(a))


@functools.lru_cache(maxsize=4096)
def chi2_quantile(dof: float, tail: float) -> float:
    """The ``x`` that chi-squared with ``dof`` degrees of freedom exceeds with
    probability ``tail``, to 1e-12 relative: Newton's method on ``log Q(x)`` (a few
    steps), inside a bracket that bisection keeps when a step leaves it."""
    lo, hi = 0.0, float(dof)
    while chi2_tail(hi, dof) > tail:
        lo, hi = hi, 2.0 * hi
    x = 0.5 * (lo + hi)
    target = math.log(tail)
    for _ in range(200):
        q = chi2_tail(x, dof)
        if q > tail:
            lo = x
        else:
            hi = x
        step = (math.log(q) - target) * q / chi2_density(x, dof) if q > 0.0 else -1.0
        new = x + step
        if not lo < new < hi:  # outside the bracket: bisect instead
            new = 0.5 * (lo + hi)
        if abs(new - x) <= 1e-13 * new or hi - lo <= 1e-12 * hi:
            return new
        x = new
    return x


class EnergyTrigger:
    """The energy windows of one run at ``fs`` Hz that trigger (see the module docstring)."""

    def __init__(self, fs: float, p: DetectorParams) -> None:
        self.lengths = window_lengths(fs, p)
        self.tail = normal_tail(p.energy_z)
        self._factors: dict[int, np.ndarray] = {}
        self.reset()

    def factors(self, level: int) -> np.ndarray:
        """Per window length: the threshold of ``S`` in units of ``L m`` at inflation
        ``INFLATION_STEP ** level``: ``q(k) / k`` with ``k = 3 L / inflation`` degrees of
        freedom (at least 3: one sample's three axes) and ``q`` the chi-squared quantile."""
        if level not in self._factors:
            inflation = INFLATION_STEP**level
            dof = np.maximum(3.0, 3.0 * self.lengths / inflation)
            self._factors[level] = np.array([chi2_quantile(k, self.tail) / k for k in dof])
        return self._factors[level]

    def reset(self) -> None:
        """A new run: no samples before it."""
        self._tail = np.zeros(int(self.lengths[-1]) - 1, dtype=np.int64)

    def push(
        self, energy: np.ndarray, background: np.ndarray, inflation: np.ndarray, where: np.ndarray
    ) -> np.ndarray:
        """The shortest window that triggers, ``(r,)`` int (samples; :data:`NONE` where none
        does or where ``where`` is False), of the windows ending at each of the next ``r``
        samples. ``energy`` (g²) per sample; per sample, of its frame: the energy
        background ``background`` (g² per sample) and the noise's ``inflation`` (1 for
        white noise; rounded up to a power of ``INFLATION_STEP``); ``where`` (bool): the
        samples that need it (the rest still count in the sums)."""
        r = energy.shape[0]
        shortest = np.full(r, NONE, dtype=np.int64)
        if r == 0:
            return shortest
        q = np.rint(np.minimum(energy, MAX_ENERGY_G2) * SCALE).astype(np.int64)
        buf = np.concatenate((self._tail, q))
        c = np.concatenate(([0], np.cumsum(buf)))
        t = self._tail.shape[0]
        if t:
            self._tail = buf[buf.shape[0] - t :]
        idx = np.flatnonzero(where)
        if idx.size == 0:
            return shortest
        end = c[idx + t + 1]
        bg = background[idx]
        level = np.ceil(np.log(inflation[idx]) / math.log(INFLATION_STEP) - 1e-9).astype(np.int64)
        level = np.clip(level, 0, MAX_LEVEL)
        used = np.unique(level).tolist()
        table = np.stack([self.factors(k) for k in used])
        row = np.searchsorted(np.asarray(used), level)
        best = np.full(idx.size, NONE, dtype=np.int64)
        for j in range(self.lengths.size - 1, -1, -1):  # longest first: the shortest stays
            length = int(self.lengths[j])
            s = (end - c[idx + t + 1 - length]) / SCALE
            best[s > bg * (length * table[row, j])] = length
        shortest[idx] = best
        return shortest


def triggered(shortest: np.ndarray, starts: np.ndarray, ends: np.ndarray, slack: int) -> np.ndarray:
    """Which runs ``[starts[j], ends[j])`` hold a triggering window: one that ends at a
    sample of the run and starts at most ``slack`` samples before the run does
    (``shortest`` from :meth:`EnergyTrigger.push`, over the samples the runs index)."""
    lens = ends - starts
    idx = np.arange(int(lens.sum())) + np.repeat(starts - (np.cumsum(lens) - lens), lens)
    age = idx - np.repeat(starts, lens) + 1 + slack
    inside = shortest[idx] <= age
    hit = np.zeros(starts.shape[0], dtype=bool)
    hit[np.repeat(np.arange(starts.shape[0]), lens)[inside]] = True
    return hit
