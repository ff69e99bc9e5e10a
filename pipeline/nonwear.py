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
(30 min) of consecutive still epochs is a non-wear period when the run as a whole is
still too: the mean excess of its epochs within ``max(still_g², z · SE / sqrt(n))``
(weak steady breathing can pass each minute's test on a noisy sensor, never the
run's); a stretch without data
(a gap) of up to ``max_bridge_s`` does not interrupt it. Edges are exact to one
epoch (the epochs in which the sensor is taken off and put on contain handling
motion and are not still).

:class:`NonWearTracker` consumes the same :class:`~pipeline.recording.Chunk` stream
as the detector (``detect_chunks(..., on_chunk=tracker.feed)``), in constant memory:
at most an hour of per-block sums (epochs are judged an hour at a time).
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
    """One judged epoch: ``start``/``end`` epoch s UTC (its first sample and the end of
    its last one: an epoch cut by a gap or by the recording's end spans only its data),
    ``excess_g`` rms micro-motion
    beyond sensor noise (g), ``limit_g`` the still limit it was compared with (g),
    ``mean`` the mean acceleration vector (g), ``still`` the verdict; ``excess_g2``
    the excess variance itself (g², negative when below the noise) and ``se_g2`` its
    standard error for pure noise (g²), which a still run pools."""

    start: float
    end: float
    excess_g: float
    limit_g: float
    mean: np.ndarray
    still: bool
    excess_g2: float = 0.0
    se_g2: float = 0.0


def _median_bias(m: np.ndarray) -> np.ndarray:
    """Median over blocks / true noise variance, for blocks of ``m`` first differences.

    A block's ``mean(diff²) / 2`` of white Gaussian noise is unbiased, but its
    distribution is skewed, so the median over blocks lies below the noise variance.
    The sum of ``m`` squared differences has mean ``2 m σ²`` and variance ``12 m σ⁴``
    (neighbouring differences share a sample), a scaled χ² with ``k = 2 m / 3``
    degrees of freedom, whose median is ``k (1 - 2 / (9 k))³`` (Wilson-Hilferty).
    Dividing by this factor (0.961 for 1-s blocks at 25 Hz, 0.990 at 100 Hz) makes
    the noise estimate unbiased; without it pure noise at 25 Hz came out as
    micro-motion (excess > 0) in 63 % of epochs instead of half, and beyond the still
    limit about ten times too often.

    ``m`` ``(E,)`` mean differences per block; returns ``(E,)`` factors in (0, 1].
    """
    k = np.maximum(2.0 * m / 3.0, 1.0)
    return (1.0 - 2.0 / (9.0 * k)) ** 3


class NonWearTracker:
    """Streaming non-wear detector on one recording grid (``t0`` epoch s UTC, ``fs`` Hz).

    Feed chunks in time order with :meth:`feed` (a jump in ``Chunk.start`` is a
    gap), then call :meth:`finish`; ``periods`` holds the non-wear periods found, as
    :class:`~pipeline.events.ActivityPeriod` with ``kind == "nonwear"``. Completed
    epochs are queued and judged together, :data:`JUDGE_BATCH` at a time (numpy over
    the batch instead of a dozen small calls per epoch), so memory is bounded by one
    batch of per-block sums (about 0.25 MB). ``on_epoch`` (optional) sees every judged
    :class:`EpochStats` in time order, for diagnostics.
    """

    #: Completed epochs judged together (60: an hour of 60-s epochs).
    JUDGE_BATCH = 60

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
        # per block of the current epoch: sum x, y, z; sum of squared differences
        # x, y, z; samples; samples with a difference
        self._sums = np.zeros((self.blocks, 8))
        self._span = (0, 0)  # the current epoch's first and last grid index with data
        # completed epochs (index, sums, span) and unknown stretches (seconds), in order
        self._queue: list[tuple[int, np.ndarray, tuple[int, int]] | float] = []
        self._queued_epochs = 0
        self._last: np.ndarray | None = None
        self._last_index = -2
        self._run: tuple[float, float] | None = None
        self._ref: np.ndarray | None = None
        self._bridged = 0.0
        # the current run's sum of excess (g²), sum of SE² (g⁴) and epochs
        self._pool = (0.0, 0.0, 0.0)

    # ------------------------------------------------------------ streaming
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
        per_block = np.empty((cuts.size, 8))
        per_block[:, :3] = np.add.reduceat(acc, cuts, axis=0)
        per_block[:, 3:6] = np.add.reduceat(d2, cuts, axis=0)
        per_block[:, 6] = np.diff(cuts, append=m)
        per_block[:, 7] = per_block[:, 6]
        if not joined:
            per_block[0, 7] -= 1.0  # the first sample has no difference

        for e in range(b_first // self.blocks, b_last // self.blocks + 1):
            fresh = self._epoch != e
            self._enter_epoch(e)
            k0 = max(b_first, e * self.blocks)  # global block numbers in this epoch
            k1 = min(b_last + 1, (e + 1) * self.blocks)
            base = e * self.blocks
            self._sums[k0 - base : k1 - base] += per_block[k0 - b_first : k1 - b_first]
            first = max(start, e * self.epoch_n)
            last = min(start + m - 1, (e + 1) * self.epoch_n - 1)
            self._span = (first if fresh else self._span[0], last)

    def _enter_epoch(self, e: int) -> None:
        if self._epoch == e:
            return
        if self._epoch is not None:
            if e < self._epoch:
                raise ValueError(f"chunk at epoch {e} goes back before epoch {self._epoch}")
            self._queue.append((self._epoch, self._sums, self._span))
            self._queued_epochs += 1
            skipped = e - self._epoch - 1
            if skipped > 0:
                self._queue.append(skipped * self.epoch_n / self.fs)
            if self._queued_epochs >= self.JUDGE_BATCH:
                self._judge_queue()
        self._epoch = e
        self._sums = np.zeros((self.blocks, 8))

    def finish(self) -> list[ActivityPeriod]:
        """End of the recording: judge the last epochs, close any run; returns ``periods``."""
        if self._epoch is not None:
            self._queue.append((self._epoch, self._sums, self._span))
            self._epoch = None
        self._judge_queue()
        self._close()
        return self.periods

    # ------------------------------------------------------------ judging
    def _judge_queue(self) -> None:
        """Judge the queued epochs together, then replay the queue in time order."""
        queue, self._queue, self._queued_epochs = self._queue, [], 0
        epochs = [item for item in queue if isinstance(item, tuple)]
        if epochs:
            stats = iter(self._epoch_stats([s for _, _, s in epochs], [a for _, a, _ in epochs]))
        for item in queue:
            if not isinstance(item, tuple):
                self._unknown(item)
                continue
            st = next(stats)
            if st is None:  # too little data in the epoch
                self._unknown(self.epoch_n / self.fs)
                continue
            if self._on_epoch is not None:
                self._on_epoch(st)
            if st.still:
                self._still(st)
            else:
                self._close()

    def _epoch_stats(
        self, spans: list[tuple[int, int]], sums: list[np.ndarray]
    ) -> list[EpochStats | None]:
        """:class:`EpochStats` of the epochs whose data span grid indices ``spans``
        (first, last) from their per-block sums (None when fewer than ``min_coverage``
        of the blocks, or fewer than 3, have data).

        Vectorised over the epochs; per epoch the same arithmetic as judging it alone:
        block means, their variance (``ddof=1``), the median per-block noise variance
        ``mean(diff²) / 2``, and the excess over what that noise leaves in a mean.
        """
        p = self.params
        a = np.stack(sums)  # (E, blocks, 8)
        n, dn = a[..., 6], a[..., 7]
        ok = n >= self.block_n / 2.0
        nb = ok.sum(axis=1)
        judged = nb >= max(3, p.min_coverage * self.blocks)
        okf = ok[..., None]
        n_ok = np.where(ok, n, 1.0)
        means = a[..., :3] / n_ok[..., None]
        nb_safe = np.maximum(nb, 2).astype(np.float64)
        mu = np.where(okf, means, 0.0).sum(axis=1) / nb_safe[:, None]
        dev = np.where(okf, means - mu[:, None, :], 0.0)
        var = (dev * dev).sum(axis=1) / (nb_safe - 1.0)[:, None]  # (E, 3), ddof=1
        # median over the blocks with differences of mean(diff²) / 2 per axis
        has_d = ok & (dn > 0)
        ratio = a[..., 3:6] / (2.0 * np.where(has_d, dn, 1.0))[..., None]
        ratio = np.sort(np.where(has_d[..., None], ratio, np.inf), axis=1)
        k = has_d.sum(axis=1)  # (E,)
        lo = np.take_along_axis(ratio, np.maximum((k - 1) // 2, 0)[:, None, None], axis=1)
        hi = np.take_along_axis(ratio, np.maximum(k // 2, 0)[:, None, None], axis=1)
        with np.errstate(invalid="ignore"):
            noise_var = np.where(k[:, None] > 0, (lo[:, 0] + hi[:, 0]) / 2.0, 0.0)
        noise_var /= _median_bias(np.where(has_d, dn, 0.0).sum(axis=1) / np.maximum(k, 1))[:, None]
        inv_n = np.where(ok, 1.0 / n_ok, 0.0).sum(axis=1) / nb_safe
        mean_noise = noise_var * inv_n[:, None]  # (E, 3) variance of a block mean
        excess = (var - mean_noise).sum(axis=1)
        se = np.sqrt((mean_noise**2).sum(axis=1) * 2.0 / (nb_safe - 1.0))
        limit = np.maximum(p.still_g**2, p.z * se)
        mean_vec = (
            np.where(okf, a[..., :3], 0.0).sum(axis=1)
            / np.where(ok, n, 0.0).sum(axis=1).clip(min=1.0)[:, None]
        )
        still = excess <= limit
        out: list[EpochStats | None] = []
        for i, (first, last) in enumerate(spans):
            if not judged[i]:
                out.append(None)
                continue
            out.append(
                EpochStats(
                    self.t0 + first / self.fs,
                    self.t0 + (last + 1) / self.fs,
                    float(np.sqrt(max(excess[i], 0.0))),
                    float(np.sqrt(limit[i])),
                    mean_vec[i],
                    bool(still[i]),
                    float(excess[i]),
                    float(se[i]),
                )
            )
        return out

    def _still(self, st: EpochStats) -> None:
        if self._run is not None and self._ref is not None:
            if float(np.linalg.norm(st.mean - self._ref)) > self.params.turn_g:
                self._close()
        if self._run is None:
            self._run = (st.start, st.end)
        else:
            self._run = (self._run[0], st.end)
        self._ref = st.mean
        self._bridged = 0.0
        total, var, count = self._pool
        self._pool = (total + st.excess_g2, var + st.se_g2**2, count + 1.0)

    def _pooled_still(self) -> bool:
        """Whether the run's epochs together show no micro-motion: their mean excess
        within ``max(still_g², z · SE / sqrt(epochs))`` of pure noise.

        Each epoch passed on its own, but a weak, steady motion (a still sleeper's
        breathing on a noisy or slow sensor) can stay under one epoch's limit every
        minute; over a run of 30 or more epochs its mean excess stands out, while a
        table's stays at zero.
        """
        total, var, count = self._pool
        if count < 2:
            return True
        mean, se = total / count, np.sqrt(var) / count
        p = self.params
        return bool(mean <= max(p.still_g**2, p.z * se))

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
                if self._pooled_still():
                    self.periods.append(ActivityPeriod(start, end, NONWEAR))
                    log.info("non-wear %.1f min from t=%.1f", (end - start) / 60.0, start)
                else:
                    log.info("still %.1f min from t=%.1f, but with steady micro-motion: "
                             "worn", (end - start) / 60.0, start)  # fmt: skip
        self._run = None
        self._ref = None
        self._bridged = 0.0
        self._pool = (0.0, 0.0, 0.0)
