"""Jerk onset times: Poisson, periodic trains, clustered bursts, with a drifting rate.

Jerks are placed only in *free time*: the night minus exclusion spans (confounders,
link outages, the night's edges). Units (a single jerk, a burst or a train) start as a
Poisson process whose intensity drifts linearly over the night; their jerks are laid
out on a *free-time axis* (the free intervals glued end to end), so a train that runs
into a confounder pauses there and resumes after it. Units never overlap and
consecutive onsets are at least :data:`~sim.config.MIN_JERK_SPACING_S` apart.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass

import numpy as np

from sim.config import MIN_JERK_SPACING_S, NightConfig

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class FreeTime:
    """Disjoint sorted intervals ``[starts[k], ends[k])`` (seconds from night start)."""

    starts: np.ndarray
    ends: np.ndarray

    @classmethod
    def from_exclusions(
        cls, lo: float, hi: float, exclusions: list[tuple[float, float]]
    ) -> FreeTime:
        """Free intervals of ``[lo, hi)`` minus the (possibly overlapping) exclusions."""
        starts, ends = [], []
        cursor = lo
        for a, b in sorted(exclusions):
            if a > cursor:
                starts.append(cursor)
                ends.append(min(a, hi))
            cursor = max(cursor, b)
            if cursor >= hi:
                break
        if cursor < hi:
            starts.append(cursor)
            ends.append(hi)
        s = np.asarray(starts, dtype=np.float64)
        e = np.asarray(ends, dtype=np.float64)
        keep = e > s
        return cls(s[keep], e[keep])

    @property
    def lengths(self) -> np.ndarray:
        return self.ends - self.starts

    @property
    def total(self) -> float:
        """Total free time, seconds."""
        return float(self.lengths.sum())

    @property
    def _before(self) -> np.ndarray:
        return np.concatenate(([0.0], np.cumsum(self.lengths)[:-1]))

    def to_real(self, s: np.ndarray) -> np.ndarray:
        """Map free-axis positions ``s`` (in ``[0, total)``) to night time, seconds."""
        before = self._before
        k = np.clip(np.searchsorted(before, s, side="right") - 1, 0, len(before) - 1)
        return self.starts[k] + (s - before[k])

    def to_free(self, t: np.ndarray) -> np.ndarray:
        """Map night times lying in free intervals to the free axis."""
        k = np.clip(np.searchsorted(self.starts, t, side="right") - 1, 0, len(self.starts) - 1)
        return self._before[k] + (t - self.starts[k])

    def sample_drifting(
        self, rng: np.random.Generator, n: int, drift: float, total_s: float
    ) -> np.ndarray:
        """``n`` sorted night times, i.i.d. with density ∝ the drifting rate on free time.

        The rate is ``1 + (drift - 1) * t / total_s`` (rate at ``total_s`` is ``drift``
        times the rate at 0), restricted to the free intervals. Exact inverse-CDF sampling.
        """
        if n == 0 or len(self.starts) == 0:
            return np.empty(0)
        c = (drift - 1.0) / (2.0 * total_s)

        def cum(t: np.ndarray) -> np.ndarray:  # integral of the rate from 0 to t
            return t + c * t * t

        mass = cum(self.ends) - cum(self.starts)
        before = np.concatenate(([0.0], np.cumsum(mass)[:-1]))
        u = np.sort(rng.uniform(0.0, mass.sum(), n))
        k = np.clip(np.searchsorted(before, u, side="right") - 1, 0, len(before) - 1)
        target = cum(self.starts[k]) + (u - before[k])
        # invert t + c t^2 = target, in a form that is stable for c -> 0 and c < 0
        t = 2.0 * target / (1.0 + np.sqrt(np.maximum(1.0 + 4.0 * c * target, 0.0)))
        return np.clip(t, self.starts[k], self.ends[k])


@dataclass(frozen=True)
class Onsets:
    """Jerk onsets: ``time`` (m,) seconds from night start, sorted; ``group`` (m,) int.

    ``group`` numbers the unit (single jerk, burst or train) each jerk belongs to.
    """

    time: np.ndarray
    group: np.ndarray


def _units(cfg: NightConfig, rng: np.random.Generator, n: int) -> list[np.ndarray]:
    """Offsets (s, from the unit's first onset) of the jerks of ``n`` units."""
    if cfg.pattern == "random":
        return [np.zeros(1)] * n
    if cfg.pattern == "clustered":
        sizes = rng.integers(cfg.burst_size[0], cfg.burst_size[1] + 1, n)
        lo, hi = np.log(cfg.burst_interval_s[0]), np.log(cfg.burst_interval_s[1])
        gaps = np.exp(rng.uniform(lo, hi, int(sizes.sum())))
        out, i = [], 0
        for m in sizes:
            out.append(np.concatenate(([0.0], np.cumsum(gaps[i : i + m - 1]))))
            i += m
        return out
    # periodic trains
    sizes = rng.integers(cfg.train_size[0], cfg.train_size[1] + 1, n)
    plm = rng.random(n) < cfg.plm_share
    period = np.where(
        plm, rng.uniform(*cfg.plm_interval_s, n), rng.uniform(*cfg.hiccup_interval_s, n)
    )
    out = []
    for m, p in zip(sizes, period, strict=True):
        rel = np.clip(rng.normal(0.0, cfg.train_jitter, m - 1), -0.1, 0.1)
        iv = np.maximum(p * (1.0 + rel), MIN_JERK_SPACING_S)
        out.append(np.concatenate(([0.0], np.cumsum(iv))))
    return out


def _mean_unit_size(cfg: NightConfig) -> float:
    if cfg.pattern == "clustered":
        return (cfg.burst_size[0] + cfg.burst_size[1]) / 2.0
    if cfg.pattern == "periodic":
        return (cfg.train_size[0] + cfg.train_size[1]) / 2.0
    return 1.0


#: Share of :func:`capacity_per_hour` above which a rate is warned about.
NEAR_CAPACITY = 0.8


def _mean_log_uniform(lo: float, hi: float) -> float:
    """Mean of a log-uniform variable on ``[lo, hi]`` (``lo`` when they are equal)."""
    return lo if hi <= lo else (hi - lo) / float(np.log(hi / lo))


def capacity_per_hour(cfg: NightConfig) -> float:
    """Most jerks per hour the pattern's units can hold back to back, on average.

    Units never overlap and keep :data:`~sim.config.MIN_JERK_SPACING_S` apart, so a
    night holds at most ``3600 * mean size / (mean span + spacing)`` jerks an hour:
    with the default periodic trains (10-30 jerks, half PLM-like at 5-90 s, half
    hiccup-like at 2-10 s) about 142 an hour; a rate near or above it comes out lower
    (units pushed past the end of the night are cut).
    """
    size = _mean_unit_size(cfg)
    if cfg.pattern == "clustered":
        span = (size - 1.0) * _mean_log_uniform(*cfg.burst_interval_s)
    elif cfg.pattern == "periodic":
        period = cfg.plm_share * float(np.mean(cfg.plm_interval_s)) + (1.0 - cfg.plm_share) * float(
            np.mean(cfg.hiccup_interval_s)
        )
        span = (size - 1.0) * period
    else:
        span = 0.0
    return 3600.0 * size / (span + MIN_JERK_SPACING_S)


def _warn_over_capacity(cfg: NightConfig, held: int) -> None:
    """Log a warning when ``rate_per_hour`` is more than :data:`NEAR_CAPACITY` of what
    the pattern can hold (:func:`capacity_per_hour`): such nights come out short (at
    0.8 of it periodic nights average 96 % of the rate, at 1.0 88 %, above it the
    capacity)."""
    cap = capacity_per_hour(cfg)
    if cfg.rate_per_hour <= NEAR_CAPACITY * cap:
        return
    log.warning(
        "%s jerks at %g/h come out fewer: units never overlap, so the pattern holds at "
        "most about %.0f/h and falls short near it; this night holds %d (%.0f/h)",
        cfg.pattern, cfg.rate_per_hour, cap, held, held / cfg.hours,
    )  # fmt: skip


def _lead_in(cfg: NightConfig, rng: np.random.Generator) -> tuple[np.ndarray, list[np.ndarray]]:
    """Periodic trains already running when the night starts: their starts (s, free
    axis, negative) and offsets.

    A train lasts up to ``train_size[1]`` intervals of up to 90 s (45 min), longer than
    a short night; without trains from before the start, the trains cut at the end would
    not be balanced and a 1-hour night would hold about 60 % of ``rate_per_hour`` (and a
    fifth of them none). Trains start at the rate of the night's start.
    """
    longest = cfg.train_size[1] * max(cfg.plm_interval_s[1], cfg.hiccup_interval_s[1]) * 1.1
    start_rate = 2.0 / (1.0 + cfg.rate_drift)  # the drifting intensity at t = 0, per mean
    mean = cfg.rate_per_hour * longest / 3600.0 / _mean_unit_size(cfg) * start_rate
    n = int(rng.poisson(mean))
    return np.sort(rng.uniform(-longest, 0.0, n)), _units(cfg, rng, n)


def generate_onsets(cfg: NightConfig, rng: np.random.Generator, free: FreeTime) -> Onsets:
    """Jerk onsets for ``cfg.pattern`` on the free time of a night.

    The number of units is Poisson with mean ``rate_per_hour * hours / mean unit size``,
    so the expected jerk count is ``rate_per_hour * hours``: periodic trains also start
    before the night (:func:`_lead_in`) and run into it, as many as those cut at its
    end; units pushed past the end of the free time are truncated.
    """
    empty = Onsets(np.empty(0), np.empty(0, dtype=np.int64))
    if cfg.pattern == "none" or cfg.rate_per_hour == 0 or free.total <= 0:
        return empty
    n_units = int(rng.poisson(cfg.rate_per_hour * cfg.hours / _mean_unit_size(cfg)))
    if n_units == 0 and cfg.pattern != "periodic":
        return empty
    starts_real = free.sample_drifting(rng, n_units, cfg.rate_drift, cfg.duration_s)
    s = free.to_free(starts_real)
    offsets = _units(cfg, rng, n_units)
    if cfg.pattern == "periodic":
        lead, lead_offsets = _lead_in(cfg, rng)
        s = np.concatenate([lead, s])
        offsets = lead_offsets + offsets
        n_units = len(offsets)
    if n_units == 0:
        return empty
    span = np.array([o[-1] for o in offsets])
    # push units forward so each starts >= previous end + spacing (vectorised recurrence)
    step = span + MIN_JERK_SPACING_S
    d = np.concatenate(([0.0], np.cumsum(step)[:-1]))
    s = d + np.maximum.accumulate(s - d)
    sizes = np.array([len(o) for o in offsets])
    group = np.repeat(np.arange(n_units), sizes)
    onset_free = np.repeat(s, sizes) + np.concatenate(offsets)
    keep = (onset_free >= 0.0) & (onset_free < free.total)
    if not keep.all():
        log.debug("dropping %d jerks outside the free time", int((~keep).sum()))
    onset_free, group = onset_free[keep], group[keep]
    _warn_over_capacity(cfg, int(onset_free.size))
    return Onsets(free.to_real(onset_free), group)
