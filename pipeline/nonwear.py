"""Non-wear: a sensor taken off and left lying still is not a quiet night.

The physics. A sensor on a sleeping wearer is never perfectly still: breathing moves
the wrist by a few mg at 0.2-0.35 Hz, the pulse adds a little at ~1 Hz, and the
limb drifts and shifts posture every few minutes. A sensor lying on a table reads
gravity on a fixed orientation plus its own white noise, nothing else.

The measure. The signal is averaged over ``block_s`` (1 s) blocks: that keeps the
breathing band (attenuated by at most ~15 % at 0.35 Hz) and removes most sensor
noise. Over an *epoch* (``epoch_s``, 60 s, on the recording's grid) the variance of
the block means is compared with what white sensor noise alone would give: the
noise variance per sample is estimated from first differences (``mean(diff²)/2``,
blind to slow motion, the median over the epoch's blocks so a jerk does not inflate
it), divided by the samples per block. What is left is the *excess* micro-motion
variance, summed over the three axes, in g². An epoch is *still* when

    excess <= max(still_g², z · SE)

where ``SE`` is the standard error of the excess for pure noise (so a noisier sensor
is not mistaken for a moving one), and its mean gravity vector has turned less than
``turn_g`` since the previous still epoch (no posture change). At least ``min_s``
(30 min) of consecutive still epochs is a non-wear period; a stretch without data
(a gap) of up to ``max_bridge_s`` does not interrupt it. Edges are exact to one
epoch (the epochs in which the sensor is taken off and put on contain handling
motion and are not still).

:class:`NonWearTracker` consumes the same :class:`~pipeline.recording.Chunk` stream
as the detector (``detect_chunks(..., on_chunk=tracker.feed)``), in constant memory:
one epoch of per-block sums.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import asdict, dataclass

import numpy as np

from pipeline.events import ActivityPeriod
from pipeline.recording import Chunk

log = logging.getLogger(__name__)

#: ``ActivityPeriod.kind`` of a non-wear period.
NONWEAR = "nonwear"


@dataclass(frozen=True)
class NonWearParams:
    """Settings of the non-wear detector (seconds, g).

    block_s : averaging block, s (low-pass that keeps breathing, removes noise).
    epoch_s : epoch over which stillness is judged, s.
    min_s : shortest non-wear period, s (30 min).
    still_g : excess micro-motion (rms over the three axes, g) below which an epoch
        is still; breathing on a worn wrist gives a few mg.
    z : an excess within ``z`` standard errors of pure sensor noise is still too.
    turn_g : largest change of the mean gravity vector between consecutive still
        epochs, g (0.01 g ~ 0.6 deg); more is a posture change.
    min_coverage : share of an epoch's blocks that must have data to judge it.
    max_bridge_s : gaps (epochs without data) up to this long inside a still stretch
        do not end it, s.
    """

    block_s: float = 1.0
    epoch_s: float = 60.0
    min_s: float = 1800.0
    still_g: float = 0.001
    z: float = 4.0
    turn_g: float = 0.01
    min_coverage: float = 0.5
    max_bridge_s: float = 300.0

    def __post_init__(self) -> None:
        if not 0 < self.block_s <= self.epoch_s / 2:
            raise ValueError("need 0 < block_s <= epoch_s / 2")
        if self.min_s < self.epoch_s:
            raise ValueError("min_s must be at least epoch_s")
        if self.still_g < 0 or self.z < 0 or self.turn_g <= 0:
            raise ValueError("still_g and z must be >= 0, turn_g > 0")
        if not 0 < self.min_coverage <= 1:
            raise ValueError("min_coverage must be in (0, 1]")

    def as_dict(self) -> dict[str, float]:
        """The parameters as a plain dict (for JSON outputs)."""
        return asdict(self)


@dataclass(frozen=True)
class EpochStats:
    """One judged epoch: ``start``/``end`` epoch s UTC, ``excess_g`` rms micro-motion
    beyond sensor noise (g), ``limit_g`` the still limit it was compared with (g),
    ``mean`` the mean acceleration vector (g), ``still`` the verdict."""

    start: float
    end: float
    excess_g: float
    limit_g: float
    mean: np.ndarray
    still: bool


class NonWearTracker:
    """Streaming non-wear detector on one recording grid (``t0`` epoch s UTC, ``fs`` Hz).

    Feed chunks in time order with :meth:`feed` (a jump in ``Chunk.start`` is a
    gap), then call :meth:`finish`; ``periods`` holds the non-wear periods found, as
    :class:`~pipeline.events.ActivityPeriod` with ``kind == "nonwear"``. Memory is
    constant (one epoch of block sums). ``on_epoch`` (optional) sees every judged
    :class:`EpochStats`, for diagnostics.
    """

    def __init__(
        self,
        fs: float,
        t0: float = 0.0,
        params: NonWearParams | None = None,
        on_epoch: Callable[[EpochStats], None] | None = None,
    ) -> None:
        self.fs = float(fs)
        self.t0 = float(t0)
        self.params = params or NonWearParams()
        p = self.params
        self.block_n = max(2, int(round(p.block_s * self.fs)))
        self.blocks = max(2, int(round(p.epoch_s / p.block_s)))
        self.epoch_n = self.block_n * self.blocks
        self.periods: list[ActivityPeriod] = []
        self._on_epoch = on_epoch
        self._epoch: int | None = None
        self._reset_sums()
        self._last: np.ndarray | None = None
        self._last_index = -2
        self._run: tuple[float, float] | None = None
        self._ref: np.ndarray | None = None
        self._bridged = 0.0

    # ------------------------------------------------------------ streaming
    def _reset_sums(self) -> None:
        self._sum = np.zeros((self.blocks, 3))
        self._n = np.zeros(self.blocks)
        self._d2 = np.zeros((self.blocks, 3))
        self._dn = np.zeros(self.blocks)

    def feed(self, chunk: Chunk) -> None:
        """Consume a contiguous chunk (``(m, 3)`` g at grid index ``chunk.start``).

        Per-block sums are taken with one :func:`numpy.add.reduceat` over the chunk's
        block boundaries (blocks never straddle epochs: an epoch is a whole number of
        blocks), then added into the epochs they belong to.
        """
        m = len(chunk)
        if m == 0:
            return
        acc = np.asarray(chunk.acc, dtype=np.float64)
        start = int(chunk.start)
        # squared first differences, each belonging to its later sample; across chunks
        # only when the previous chunk ended right before this one
        joined = self._last is not None and self._last_index == start - 1
        d2 = np.empty((m, 3))
        np.subtract(acc[1:], acc[:-1], out=d2[1:])
        d2[0] = acc[0] - self._last if joined else 0.0
        np.square(d2, out=d2)
        self._last = acc[-1].copy()
        self._last_index = start + m - 1

        bn = self.block_n
        b_first, b_last = start // bn, (start + m - 1) // bn
        cuts = np.arange(b_first, b_last + 1, dtype=np.int64) * bn - start
        cuts[0] = 0
        sums = np.add.reduceat(acc, cuts, axis=0)
        d2_sums = np.add.reduceat(d2, cuts, axis=0)
        counts = np.diff(cuts, append=m).astype(np.float64)
        d_counts = counts.copy()
        if not joined:
            d_counts[0] -= 1.0  # the first sample has no difference

        for e in range(b_first // self.blocks, b_last // self.blocks + 1):
            self._enter_epoch(e)
            k0 = max(b_first, e * self.blocks)  # global block numbers in this epoch
            k1 = min(b_last + 1, (e + 1) * self.blocks)
            lo, hi = k0 - b_first, k1 - b_first  # rows of the per-block sums
            a, b = k0 - e * self.blocks, k1 - e * self.blocks  # blocks of the epoch
            self._sum[a:b] += sums[lo:hi]
            self._d2[a:b] += d2_sums[lo:hi]
            self._n[a:b] += counts[lo:hi]
            self._dn[a:b] += d_counts[lo:hi]

    def _enter_epoch(self, e: int) -> None:
        if self._epoch == e:
            return
        if self._epoch is not None:
            if e < self._epoch:
                raise ValueError(f"chunk at epoch {e} goes back before epoch {self._epoch}")
            self._judge_epoch()
            skipped = e - self._epoch - 1
            if skipped > 0:
                self._unknown(skipped * self.epoch_n / self.fs)
        self._epoch = e
        self._reset_sums()

    def finish(self) -> list[ActivityPeriod]:
        """End of the recording: judge the last epoch, close any run; returns ``periods``."""
        if self._epoch is not None:
            self._judge_epoch()
            self._epoch = None
        self._close()
        return self.periods

    # ------------------------------------------------------------ judging
    def _judge_epoch(self) -> None:
        p = self.params
        assert self._epoch is not None
        start = self.t0 + self._epoch * self.epoch_n / self.fs
        end = start + self.epoch_n / self.fs
        ok = self._n >= self.block_n / 2.0
        nb = int(ok.sum())
        if nb < max(3, p.min_coverage * self.blocks):
            self._unknown(end - start)
            return
        n = self._n[ok]
        means = self._sum[ok] / n[:, None]
        has_d = ok & (self._dn > 0)
        if has_d.any():
            noise_var = np.median(self._d2[has_d] / (2.0 * self._dn[has_d][:, None]), axis=0)
        else:
            noise_var = np.zeros(3)
        mean_noise = noise_var * float(np.mean(1.0 / n))  # (3,) variance of a block mean
        excess = float(np.sum(np.var(means, axis=0, ddof=1) - mean_noise))
        se = float(np.sqrt(np.sum(mean_noise**2) * 2.0 / (nb - 1)))
        limit = max(p.still_g**2, p.z * se)
        mean = self._sum[ok].sum(axis=0) / n.sum()
        still = excess <= limit
        if self._on_epoch is not None:
            rms = float(np.sqrt(max(excess, 0.0)))
            self._on_epoch(EpochStats(start, end, rms, float(np.sqrt(limit)), mean, still))
        if still:
            self._still(start, end, mean)
        else:
            self._close()

    def _still(self, start: float, end: float, mean: np.ndarray) -> None:
        if self._run is not None and self._ref is not None:
            if float(np.linalg.norm(mean - self._ref)) > self.params.turn_g:
                self._close()
        if self._run is None:
            self._run = (start, end)
        else:
            self._run = (self._run[0], end)
        self._ref = mean
        self._bridged = 0.0

    def _unknown(self, seconds: float) -> None:
        if self._run is None:
            return
        self._bridged += seconds
        if self._bridged > self.params.max_bridge_s:
            self._close()

    def _close(self) -> None:
        if self._run is not None:
            start, end = self._run
            if end - start >= self.params.min_s - 1e-6:
                self.periods.append(ActivityPeriod(start, end, NONWEAR))
                log.info("non-wear %.1f min from t=%.1f", (end - start) / 60.0, start)
        self._run = None
        self._ref = None
        self._bridged = 0.0
