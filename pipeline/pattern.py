"""Pattern of a sequence of jerk onsets over a window: statistics and a label.

:func:`analyse_pattern` describes the onsets of a window (a night, a day, an hour) and
labels them ``periodic``, ``clustered``, ``random`` or ``insufficient``;
:func:`segment_patterns` does the same per hour (or per segment), so a mixed night
says which part was which. Pure functions, no I/O; all times in seconds (epoch or any
common origin), rates per hour.

The test behind the label
-------------------------
Two surrogate tests, both conditional on the counts in ``surrogate_window_s`` bins:
each surrogate moves every onset uniformly within its own bin. That keeps the slow
rate (a rate that doubles or triples over the night stays in the surrogates) and
replaces the fine timing with that of a Poisson process, which is exactly the null
"random, with a slowly varying rate". Statistics:

* regularity: the number of intervals inside *regular series* (≥
  ``regular_min_intervals`` consecutive intervals whose neighbours match within
  ``regular_tol``, see :func:`pipeline.pattern_stats.regular_pairs`); one-sided p for
  "more regular than chance";
* clustering: the number of intervals shorter than ``burst_gap_s``; one-sided p for
  "more clustered than chance".

``p = (1 + #surrogates at least as extreme) / (1 + n_surrogates)``, Bonferroni-
corrected for the two tests (``p_adj = min(1, 2 p)``). A label other than ``random``
needs ``p_adj < alpha`` *and* an effect size: the observed share of intervals in
regular series (in short intervals) must exceed the surrogates' mean share by at
least ``min_regular_excess`` (``min_burst_excess``). The effect floor keeps a
near-significant handful of coincidences in a short or sparse window from being
called a pattern, and keeps the mild regularity of intervals inside bursts from being
called periodic in very long records. Regularity is tested first: a fast regular train
(e.g. hiccups every 2 s) also has many short intervals but is ``periodic``.

Too few events
--------------
With fewer than ``min_events`` onsets the label is ``insufficient`` and the p-values
are None. Descriptive statistics are still given when defined: quartiles need ≥ 2
onsets (1 interval); CV, LV and burstiness ≥ 3 onsets (2 intervals); the Fano factor
needs ≥ 2 whole ``fano_window_s`` windows with at least one event; otherwise NaN.
"""

from __future__ import annotations

import logging
from dataclasses import asdict, dataclass, fields

import numpy as np

from pipeline.pattern_stats import (
    FreeAxis,
    burstiness,
    coefficient_of_variation,
    fano_factor,
    jitter_surrogates,
    local_variation,
    qualifying_runs,
    regular_interval_count,
    regular_pairs,
    short_interval_count,
)

log = logging.getLogger(__name__)

LABELS = ("periodic", "clustered", "random", "insufficient")


@dataclass(frozen=True)
class PatternParams:
    """Every setting of the pattern analysis (times in seconds).

    Clustering
        burst_gap_s: onsets closer than this (s) belong to one burst.
    Fano factor
        fano_window_s: count window (s) of the Fano factor.
    PLM-style series (AASM/WASM periodic limb movement scoring)
        plm_min_interval_s, plm_max_interval_s: onset-to-onset interval range, inclusive
        (AASM 5-90 s; WASM uses 10-90 s).
        plm_min_series: minimum number of *consecutive intervals* in the range for a
        series. The default 4 intervals = 5 onsets, as the issue asks; AASM's "≥ 4
        movements" is ``plm_min_series=3``.
    Regular series (the periodicity test)
        regular_tol: neighbouring intervals match when ``|a - b| / (a + b) < tol``
        (0.15: ratio within about 1.35).
        regular_min_intervals: consecutive matching intervals that make a series (5,
        i.e. 6 onsets: with 4, bursts of 6-8 jerks with similar gaps passed as periodic
        in 2.5 % of clustered windows of 8-40 jerks; with 5, 0.9 %).
        regular_max_interval_s: intervals longer than this (s) are never part of a
        regular series (120 s: above the PLM range, and well below
        ``surrogate_window_s``, the longest time scale the surrogates randomise).
    Label
        min_events: fewer onsets → ``insufficient``. 12, from the benchmark's sweep
        (``python -m bench.pattern_bench --sweep``): from 12 onsets on, every simulated
        pattern is labelled right in ≥ 98 % of windows (drift 1-3); at 8-11 periodic
        drops to 96 %, at 4-7 to about 60 % (a regular series needs
        ``regular_min_intervals + 1`` = 6 onsets).
        n_surrogates: surrogates per test (p-value resolution ``1/(n+1)``).
        surrogate_window_s: bin (s) within which surrogates move each onset; longer
        than the slowest PLM interval (90 s) several times over, short compared with
        the hours over which the rate drifts.
        alpha: family-wise significance level for the two tests (Bonferroni).
        min_regular_excess, min_burst_excess: effect floors (shares of intervals above
        the surrogates' mean share) for ``periodic`` and ``clustered``.
        seed: seed of the surrogates (same input and seed → same result).
    """

    burst_gap_s: float = 3.0
    fano_window_s: float = 60.0
    plm_min_interval_s: float = 5.0
    plm_max_interval_s: float = 90.0
    plm_min_series: int = 4
    regular_tol: float = 0.15
    regular_min_intervals: int = 5
    regular_max_interval_s: float = 120.0
    min_events: int = 12
    n_surrogates: int = 999
    surrogate_window_s: float = 600.0
    alpha: float = 0.05
    min_regular_excess: float = 0.2
    min_burst_excess: float = 0.1
    seed: int = 0

    def __post_init__(self) -> None:
        if self.burst_gap_s <= 0 or self.fano_window_s <= 0 or self.surrogate_window_s <= 0:
            raise ValueError("burst_gap_s, fano_window_s and surrogate_window_s must be > 0")
        if not 0 < self.plm_min_interval_s <= self.plm_max_interval_s:
            raise ValueError("need 0 < plm_min_interval_s <= plm_max_interval_s")
        if self.plm_min_series < 1 or self.regular_min_intervals < 2:
            raise ValueError("need plm_min_series >= 1 and regular_min_intervals >= 2")
        if not 0 < self.regular_tol < 1 or not 0 < self.alpha < 1:
            raise ValueError("regular_tol and alpha must be in (0, 1)")
        if self.min_events < 3 or self.n_surrogates < 1:
            raise ValueError("need min_events >= 3 and n_surrogates >= 1")

    def as_dict(self) -> dict[str, float | int]:
        """All parameters as a plain dict (for writing next to results)."""
        return asdict(self)

    @classmethod
    def field_names(cls) -> list[str]:
        """Names of the parameters, in order."""
        return [f.name for f in fields(cls)]


@dataclass(frozen=True)
class PatternResult:
    """Pattern statistics and label of the onsets in one window.

    Counts and rate
        n: onsets in the window (excluded spans and outside the window dropped).
        duration_h: valid hours of the window (excluded spans removed).
        rate_per_h: ``n / duration_h``, events per hour.
    Inter-event intervals (s), measured on valid time (an interval spanning an
    excluded span is shortened by it)
        iei_median_s, iei_q1_s, iei_q3_s: median and quartiles (linear interpolation).
        cv: sd / mean (``ddof=0``); lv: Shinomoto's local variation; burstiness:
        Goh-Barabási ``B = (sd - mean) / (sd + mean)``; fano: variance / mean of the
        counts in ``fano_window_s`` windows (dimensionless).
    Periodicity
        periodic: the label is ``periodic``.
        period_s: median interval (s) inside regular series, when periodic, else None.
        period_coverage: share of the valid window spanned by regular series (first to
        last onset of each), 0-1.
        regular_share: share of intervals inside regular series, 0-1.
        plm_series: number of PLM-style series; plm_periodicity_index: share of
        intervals inside them (NaN without intervals).
    Clustering
        bursts: groups of ≥ 2 onsets with neighbours closer than ``burst_gap_s``;
        mean_burst_size: mean onsets per burst (NaN without bursts);
        burst_share: share of onsets inside bursts (NaN without onsets).
    Label
        label: ``periodic``, ``clustered``, ``random`` or ``insufficient``.
        p_value: Bonferroni-corrected surrogate p-value of the test behind the label
        (for ``random``, the smaller of the two; None when ``insufficient``).
        p_periodic, p_clustered: the two corrected p-values (None when insufficient).
        why: one sentence with the evidence, for people.
        min_events_needed: onsets needed for a label other than ``insufficient``.
    """

    n: int
    duration_h: float
    rate_per_h: float
    iei_median_s: float
    iei_q1_s: float
    iei_q3_s: float
    cv: float
    lv: float
    burstiness: float
    fano: float
    periodic: bool
    period_s: float | None
    period_coverage: float
    regular_share: float
    plm_series: int
    plm_periodicity_index: float
    bursts: int
    mean_burst_size: float
    burst_share: float
    label: str
    p_value: float | None
    p_periodic: float | None
    p_clustered: float | None
    why: str
    min_events_needed: int

    def as_dict(self) -> dict[str, object]:
        """All fields as a plain dict (floats, ints, str, bool or None)."""
        return asdict(self)


def _clean_onsets(onsets: np.ndarray, axis: FreeAxis, start: float, end: float) -> np.ndarray:
    """Sorted free-axis positions (s) of the finite onsets inside valid ``[start, end)``."""
    t = np.asarray(onsets, dtype=np.float64).ravel()
    bad = ~np.isfinite(t)
    if bad.any():
        raise ValueError(f"{int(bad.sum())} onsets are not finite")
    t = np.sort(t)
    keep = (t >= start) & (t < end) & axis.inside(t)
    if not keep.all():
        log.debug("pattern: %d onsets outside the window or excluded", int((~keep).sum()))
    return axis.to_free(t[keep])


def _p_upper(obs: float, surr: np.ndarray) -> float:
    """One-sided surrogate p-value of ``obs`` being this large or larger."""
    return float((1 + np.count_nonzero(surr >= obs)) / (1 + surr.size))


def analyse_pattern(
    onsets: np.ndarray,
    start: float,
    end: float,
    params: PatternParams | None = None,
    excluded: list[tuple[float, float]] | None = None,
) -> PatternResult:
    """Statistics and label of the jerk onsets in the window ``[start, end)``.

    Parameters
    ----------
    onsets : onset times (s, same clock as ``start``/``end``), any order; onsets
        outside the window or inside ``excluded`` are ignored.
    start, end : the window (s), ``end > start``.
    params : settings; defaults to :class:`PatternParams()`.
    excluded : spans ``(a, b)`` (s) that are not valid time (gaps, activity, non-wear).
        They are cut out and the valid time glued end to end, so rates are per valid
        hour and the surrogates never put an onset where none could be seen.
    """
    p = params or PatternParams()
    axis = FreeAxis(start, end, excluded)
    x = _clean_onsets(onsets, axis, start, end)
    n, total = int(x.size), axis.total
    nan = float("nan")
    duration_h = total / 3600.0
    rate = n / duration_h if duration_h > 0 else nan
    iv = np.diff(x)
    m = iv.size

    q1, med, q3 = (float(v) for v in np.percentile(iv, [25, 50, 75])) if m else (nan,) * 3

    # regular series
    reg_count, reg_cov, reg_ivs = 0, 0.0, np.empty(0)
    if m >= 2:
        _, first, length = qualifying_runs(
            regular_pairs(iv, p.regular_tol, p.regular_max_interval_s)[None, :],
            p.regular_min_intervals - 1,
        )
        reg_count = int((length + 1).sum())
        reg_cov = float(sum(x[f + L + 1] - x[f] for f, L in zip(first, length, strict=True)))
        if length.size:
            reg_ivs = np.concatenate(
                [iv[f : f + L + 1] for f, L in zip(first, length, strict=True)]
            )
    regular_share = reg_count / m if m else nan
    coverage = reg_cov / total if total > 0 else nan

    # PLM-style series
    in_plm = (iv >= p.plm_min_interval_s) & (iv <= p.plm_max_interval_s)
    _, _, plm_len = qualifying_runs(in_plm[None, :], p.plm_min_series)
    plm_series = int(plm_len.size)
    plm_pi = float(plm_len.sum() / m) if m else nan

    # bursts
    _, _, b_len = qualifying_runs((iv < p.burst_gap_s)[None, :], 1)
    n_bursts = int(b_len.size)
    mean_burst = float((b_len + 1).mean()) if n_bursts else nan
    burst_share = float((b_len + 1).sum() / n) if n else nan

    common = dict(
        n=n,
        duration_h=duration_h,
        rate_per_h=rate,
        iei_median_s=med,
        iei_q1_s=q1,
        iei_q3_s=q3,
        cv=coefficient_of_variation(iv),
        lv=local_variation(iv),
        burstiness=burstiness(iv),
        fano=fano_factor(x, total, p.fano_window_s),
        period_coverage=coverage,
        regular_share=regular_share,
        plm_series=plm_series,
        plm_periodicity_index=plm_pi,
        bursts=n_bursts,
        mean_burst_size=mean_burst,
        burst_share=burst_share,
        min_events_needed=p.min_events,
    )

    if n < p.min_events:
        why = (
            f"{n} jerk{'s' if n != 1 else ''} in {duration_h:.2g} valid h: at least "
            f"{p.min_events} are needed to tell random, periodic and clustered apart"
        )
        return PatternResult(
            **common,  # type: ignore[arg-type]
            periodic=False,
            period_s=None,
            label="insufficient",
            p_value=None,
            p_periodic=None,
            p_clustered=None,
            why=why,
        )

    rng = np.random.default_rng(p.seed)
    surr = jitter_surrogates(x, total, p.surrogate_window_s, p.n_surrogates, rng)
    s_iv = np.diff(surr, axis=1)
    s_reg = regular_interval_count(
        s_iv, p.regular_tol, p.regular_min_intervals, p.regular_max_interval_s
    )
    s_short = short_interval_count(s_iv, p.burst_gap_s)
    obs_short = int(np.count_nonzero(iv < p.burst_gap_s))
    p_per = min(1.0, 2.0 * _p_upper(reg_count, s_reg))
    p_clu = min(1.0, 2.0 * _p_upper(obs_short, s_short))
    reg_excess = (reg_count - float(s_reg.mean())) / m
    short_excess = (obs_short - float(s_short.mean())) / m

    if p_per < p.alpha and reg_excess >= p.min_regular_excess:
        label, p_value = "periodic", p_per
        period: float | None = float(np.median(reg_ivs))
        why = (
            f"{regular_share:.0%} of intervals lie in regular series "
            f"(chance {float(s_reg.mean()) / m:.0%}), median period {period:.3g} s, "
            f"covering {coverage:.0%} of the window; p = {p_per:.3g}"
        )
    elif p_clu < p.alpha and short_excess >= p.min_burst_excess:
        label, p_value, period = "clustered", p_clu, None
        why = (
            f"{obs_short / m:.0%} of intervals are shorter than {p.burst_gap_s:g} s "
            f"(chance {float(s_short.mean()) / m:.0%}); {n_bursts} bursts of "
            f"{mean_burst:.2g} jerks on average; p = {p_clu:.3g}"
        )
    else:
        label, p_value, period = "random", min(p_per, p_clu), None
        why = (
            f"no more regular (p = {p_per:.3g}) or clustered (p = {p_clu:.3g}) than "
            f"random timing at the same slowly varying rate"
        )
    return PatternResult(
        **common,  # type: ignore[arg-type]
        periodic=label == "periodic",
        period_s=period,
        label=label,
        p_value=p_value,
        p_periodic=p_per,
        p_clustered=p_clu,
        why=why,
    )


def segment_patterns(
    onsets: np.ndarray,
    start: float,
    end: float,
    params: PatternParams | None = None,
    segment_s: float = 3600.0,
    excluded: list[tuple[float, float]] | None = None,
) -> list[PatternResult]:
    """:func:`analyse_pattern` on consecutive ``segment_s`` segments of ``[start, end)``.

    Segments start at ``start`` (the last one may be shorter). Segment ``k`` uses the
    seed ``params.seed + k`` so results stay deterministic and independent.
    Each segment needs ``min_events`` onsets of its own, or it is ``insufficient``.
    """
    if segment_s <= 0:
        raise ValueError("segment_s must be > 0")
    p = params or PatternParams()
    t = np.asarray(onsets, dtype=np.float64).ravel()
    out = []
    k = 0
    a = float(start)
    while a < end:
        b = min(a + segment_s, float(end))
        ex = [(u, v) for u, v in (excluded or []) if v > a and u < b]
        seg_params = PatternParams(**{**p.as_dict(), "seed": p.seed + k})
        out.append(analyse_pattern(t[(t >= a) & (t < b)], a, b, seg_params, ex))
        k += 1
        a = start + k * segment_s
    return out
