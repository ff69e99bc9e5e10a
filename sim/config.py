"""Configuration of a simulated night: one dataclass, validated on construction.

All times are seconds, all accelerations g, all rates per hour unless a name says
otherwise. The defaults describe an ordinary commodity wrist sensor (100 Hz, 12 bit,
±8 g, 10 mg noise, a BLE link that drops an occasional packet) worn for one hour.
"""

from __future__ import annotations

import math
import numbers
from dataclasses import asdict, dataclass, field, fields

from pipeline.timescale import MAX_EPOCH_S

PATTERNS = ("random", "periodic", "clustered", "none")
CONFOUNDER_KINDS = ("walking", "tremor", "rollover", "restless", "nonwear")
#: The confounder kind of a sensor taken off and left lying still (on a table).
NONWEAR_KIND = "nonwear"
FAMILIES = ("halfsine", "gaussian", "biphasic", "ringing")

#: Consecutive jerk onsets are never closer than this, seconds.
MIN_JERK_SPACING_S = 0.35
#: No jerk onset/end lies within this many seconds of a confounder span.
CONFOUNDER_CLEARANCE_S = 3.0
#: No jerk lies within this many seconds of a link outage (a gap > 1 s).
OUTAGE_CLEARANCE_S = 2.0
#: Jerks keep this far from the first and last sample, seconds.
EDGE_MARGIN_S = 3.0
#: 2026-01-01T21:20:00Z, the default first-sample time.
DEFAULT_START = 1767302400.0


@dataclass(frozen=True)
class ForcedConfounder:
    """A confounder placed at a fixed time.

    ``kind`` one of :data:`CONFOUNDER_KINDS`; ``offset_s`` seconds after the first
    sample; ``duration_s`` its length in seconds.
    """

    kind: str
    offset_s: float
    duration_s: float


@dataclass
class NightConfig:
    """Everything that defines a simulated night; the same config and seed give the same night.

    Jerks
    -----
    pattern : ``"random"`` (Poisson), ``"periodic"`` (trains at a steady interval),
        ``"clustered"`` (bursts of a few jerks) or ``"none"``.
    rate_per_hour : mean jerks per hour over the whole night.
    rate_drift : rate at the end / rate at the start (linear drift of the Poisson
        intensity of events, bursts or train starts; 1 = homogeneous). Must be > 0.
    jerk_median_g, jerk_sigma : lognormal peak size (median in g, log-std), clipped to
        ``[jerk_min_g, jerk_max_g]``; the median must lie in that range (outside it every
        jerk would be clipped to one size).
    jerk_min_ms, jerk_max_ms : duration range of a jerk waveform, milliseconds.
    families : waveform families to draw from (equal odds), subset of :data:`FAMILIES`.
    train_size, plm_interval_s, hiccup_interval_s, plm_share, train_jitter : periodic
        trains: jerks per train (inclusive range), interval ranges of PLM-like and
        hiccup-like trains (s), the share of PLM-like trains, and the relative
        standard deviation of intervals inside a train.
    burst_size, burst_interval_s : clustered bursts: jerks per burst (inclusive) and
        the range of intervals inside a burst (s, log-uniform).

    Body and confounders
    --------------------
    confounders : draw random confounders (kinds in ``confounder_kinds``, mean counts
        per hour ``walking_per_hour`` ...); ``forced_confounders`` are placed in any case.
        ``nonwear_per_hour`` (default 0: never drawn at random) adds stretches of 30-90
        min with the sensor taken off and lying still on a table (kind ``"nonwear"``).
    breathing_g : breathing micro-motion amplitude, g.
    heartbeat_g : peak of the heart's own motion (seismocardiogram, as a chest strap
        such as the Polar H10 picks it up: a complex every beat at 50-75 bpm), g;
        0 (the default, a wrist sensor) for none. See :class:`sim.body.Heartbeat`.

    Sensor
    ------
    noise_g : white noise std per axis, g. ``bias_g``: each axis gets a constant bias
        uniform in ``±bias_g``. ``bits``/``range_g``: two's-complement quantisation over
        ``±range_g`` (so the largest code is ``range_g - lsb``) with clipping.
    jitter_s : sample instants jitter uniformly by ``±jitter_s`` around the nominal grid
        (must be < half a period). ``drop_prob``: chance that a packet of ``packet_s``
        seconds of samples is lost (each loss takes 1, 2, 3... packets, geometric with
        mean 2). ``outage_per_hour``: link outages of ``outage_s`` seconds (range).
    """

    hours: float = 1.0  # > 0 and long enough for 2 samples at ``fs``
    fs: float = 100.0
    pattern: str = "random"
    rate_per_hour: float = 30.0
    seed: int = 0  # >= 0 (numpy's SeedSequence takes no negative seed)
    start: float = DEFAULT_START
    noise_g: float = 0.01
    jerk_median_g: float = 0.5
    jerk_sigma: float = 0.8
    jerk_min_g: float = 0.05
    jerk_max_g: float = 6.0
    jerk_min_ms: float = 20.0
    jerk_max_ms: float = 300.0
    families: tuple[str, ...] = FAMILIES
    rate_drift: float = 1.0
    train_size: tuple[int, int] = (10, 30)
    plm_interval_s: tuple[float, float] = (5.0, 90.0)
    hiccup_interval_s: tuple[float, float] = (2.0, 10.0)
    plm_share: float = 0.5
    train_jitter: float = 0.03
    burst_size: tuple[int, int] = (2, 8)
    burst_interval_s: tuple[float, float] = (0.35, 3.0)
    confounders: bool = True
    confounder_kinds: tuple[str, ...] = CONFOUNDER_KINDS
    walking_per_hour: float = 1.5
    tremor_per_hour: float = 1.0
    rollover_per_hour: float = 3.0
    restless_per_hour: float = 1.0
    nonwear_per_hour: float = 0.0
    forced_confounders: tuple[ForcedConfounder, ...] = field(default_factory=tuple)
    breathing_g: float = 0.003
    heartbeat_g: float = 0.0
    bits: int = 12
    range_g: float = 8.0
    bias_g: float = 0.03
    jitter_s: float = 0.0002
    drop_prob: float = 0.001
    packet_s: float = 0.04
    outage_per_hour: float = 0.5
    outage_s: tuple[float, float] = (1.0, 8.0)

    def __post_init__(self) -> None:
        self.forced_confounders = tuple(
            f if isinstance(f, ForcedConfounder) else ForcedConfounder(*f)
            for f in self.forced_confounders
        )
        self.families = tuple(self.families)
        self.confounder_kinds = tuple(self.confounder_kinds)
        self._validate()

    def _validate(self) -> None:
        def need(ok: bool, msg: str) -> None:
            if not ok:
                raise ValueError(msg)

        for name, value in self._numbers():
            need(math.isfinite(value), f"{name} must be a finite number, got {value:g}")
        need(
            isinstance(self.seed, numbers.Integral) and self.seed >= 0,
            f"seed must be a whole number >= 0, got {self.seed!r}",
        )
        need(self.hours > 0, f"hours must be > 0, got {self.hours}")
        need(self.fs > 0, f"fs must be > 0, got {self.fs}")
        need(
            round(self.hours * 3600.0 * self.fs) >= 2,
            f"a night of {self.hours:g} h at {self.fs:g} Hz holds fewer than 2 samples "
            f"(at least {2.0 / self.fs / 3600.0:.3g} h)",
        )
        need(
            math.isfinite(self.start) and abs(self.start) + self.duration_s <= MAX_EPOCH_S,
            f"start must be a time the readers take (within {MAX_EPOCH_S:g} s of 1970, "
            f"about the year 5000), got {self.start:g}",
        )
        need(self.pattern in PATTERNS, f"pattern must be one of {PATTERNS}, got {self.pattern!r}")
        need(self.rate_per_hour >= 0, "rate_per_hour must be >= 0")
        need(self.nonwear_per_hour >= 0, "nonwear_per_hour must be >= 0")
        need(self.rate_drift > 0, "rate_drift must be > 0")
        need(0 < self.jerk_min_g <= self.jerk_max_g, "need 0 < jerk_min_g <= jerk_max_g")
        need(self.jerk_median_g > 0 and self.jerk_sigma >= 0, "bad jerk size distribution")
        need(
            self.jerk_min_g <= self.jerk_median_g <= self.jerk_max_g,
            f"jerk_median_g must lie in [{self.jerk_min_g:g}, {self.jerk_max_g:g}] g (the sizes "
            f"are clipped to that range), got {self.jerk_median_g:g}",
        )
        need(
            0 < self.jerk_min_ms <= self.jerk_max_ms <= 1000 * MIN_JERK_SPACING_S,
            "need 0 < jerk_min_ms <= jerk_max_ms <= 350",
        )
        need(
            bool(self.families) and set(self.families) <= set(FAMILIES),
            f"families must be a non-empty subset of {FAMILIES}",
        )
        need(set(self.confounder_kinds) <= set(CONFOUNDER_KINDS), "unknown confounder kind")
        for f in self.forced_confounders:
            need(f.kind in CONFOUNDER_KINDS, f"unknown forced confounder kind {f.kind!r}")
            need(f.duration_s > 0 and f.offset_s >= 0, "forced confounder needs offset>=0, dur>0")
            need(f.offset_s + f.duration_s <= self.hours * 3600, "forced confounder past the end")
        need(2 <= self.train_size[0] <= self.train_size[1], "bad train_size")
        need(2 <= self.burst_size[0] <= self.burst_size[1], "bad burst_size")
        need(
            self.burst_interval_s[0] >= MIN_JERK_SPACING_S
            and self.plm_interval_s[0] >= MIN_JERK_SPACING_S
            and self.hiccup_interval_s[0] >= MIN_JERK_SPACING_S,
            f"intervals must be >= {MIN_JERK_SPACING_S} s",
        )
        need(0 <= self.plm_share <= 1 and 0 <= self.train_jitter < 0.3, "bad train settings")
        need(2 <= self.bits <= 32, "bits must be in 2..32")
        need(self.range_g > 0, "range_g must be > 0")
        need(self.heartbeat_g >= 0, "heartbeat_g must be >= 0")
        need(self.noise_g >= 0 and self.bias_g >= 0, "noise_g and bias_g must be >= 0")
        need(0 <= self.jitter_s < 0.5 / self.fs, "jitter_s must be in [0, half a sample period)")
        need(0 <= self.drop_prob < 1 and self.packet_s > 0, "bad drop model")
        need(self.outage_per_hour >= 0 and 0 < self.outage_s[0] <= self.outage_s[1], "bad outages")

    def _numbers(self) -> list[tuple[str, float]]:
        """``(field name, value)`` of every number among the settings, tuples' items
        included (booleans left out)."""
        out: list[tuple[str, float]] = []
        for f in fields(self):
            value = getattr(self, f.name)
            items = value if isinstance(value, tuple) else (value,)
            out += [(f.name, float(v)) for v in items
                    if isinstance(v, numbers.Real) and not isinstance(v, bool)]  # fmt: skip
        return out

    @property
    def duration_s(self) -> float:
        """Length of the night in seconds."""
        return self.hours * 3600.0

    def as_dict(self) -> dict[str, object]:
        """All parameters as a plain dict (for writing next to results)."""
        return asdict(self)
