"""The decoded-sample type shared by every decoder, decoder statistics and arrival stamping.

Every decoder has the same shape::

    batch = decoder.feed(data: bytes, arrival_time: float | None = None) -> DecodedBatch
    decoder.stats   # DecoderStats, counters only ever grow (reset() clears state, not stats)
    decoder.reset() # forget partial frames / clocks (call after a reconnect)

A :class:`DecodedBatch` holds ``t`` ``(n,)`` float64 seconds and ``acc`` ``(n, 3)``
float64 acceleration in g. Where the protocol carries a clock (Polar PMD, serial text
with a time column) ``t`` is that device clock; otherwise ``t`` comes from an
:class:`ArrivalClock`: host arrival times when ``arrival_time`` is given, else a plain
sample counter on the nominal grid (``k * period``).
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np


@dataclass(frozen=True)
class DecodedBatch:
    """Samples decoded from one ``feed`` call.

    t : ``(n,)`` float64 seconds (device clock or arrival clock, see the decoder).
    acc : ``(n, 3)`` float64 acceleration in g, columns x, y, z.
    """

    t: np.ndarray
    acc: np.ndarray

    def __post_init__(self) -> None:
        if self.t.ndim != 1 or self.acc.shape != (self.t.size, 3):
            raise ValueError(f"bad batch shapes t{self.t.shape} acc{self.acc.shape}")

    def __len__(self) -> int:
        return int(self.t.size)

    @classmethod
    def empty(cls) -> DecodedBatch:
        """A batch of zero samples."""
        return cls(np.empty(0), np.empty((0, 3)))

    @classmethod
    def concat(cls, batches: list[DecodedBatch]) -> DecodedBatch:
        """Join batches in order (an empty list gives an empty batch)."""
        if not batches:
            return cls.empty()
        return cls(
            np.concatenate([b.t for b in batches]),
            np.concatenate([b.acc for b in batches]).reshape(-1, 3),
        )


@dataclass
class DecoderStats:
    """Counters kept by every decoder (fields a protocol cannot produce stay 0).

    bytes_in : bytes fed.
    messages : frames / packets / lines accepted and decoded.
    samples : samples emitted.
    skipped : valid messages of another kind, skipped on purpose (gyro packets, other
        PMD measurement types, header and boot lines before a text format is known).
    bad : corrupt messages (bad checksum, malformed frame, garbage line).
    discarded_bytes : bytes thrown away while resynchronising.
    resyncs : times the arrival clock or frame clock re-anchored (gap or clock jump).
    stale : frames dropped because their own time stamp was not after the previous
        frame's (a notification delivered twice, or late, after one sent later).
    """

    bytes_in: int = 0
    messages: int = 0
    samples: int = 0
    skipped: int = 0
    bad: int = 0
    discarded_bytes: int = 0
    resyncs: int = 0
    stale: int = 0


MIN_SPACING = 0.1
"""Arrival stamps are never closer than this fraction of the nominal period (small:
the nominal rate may be several times too low, a board set to 50 Hz read as 10 Hz)."""


@dataclass
class ArrivalClock:
    """Time stamps for protocols without a device clock.

    With ``arrival_time`` (host seconds at which the bytes arrived) the last of the
    ``n`` samples completed by one feed goes at a predicted time that follows the
    nominal grid (``n * period_s`` after the previous stamp) and is pulled towards the
    arrival time by ``gain`` of the difference per feed, and not later than the
    arrival itself as long as that leaves the samples at least
    :data:`MIN_SPACING` ``x period_s`` apart; the ``n`` samples are spread evenly
    after the previous stamp. So a board whose rate is a little off, or notifications
    delivered several at once (one BLE connection event), keep stamps within a few
    periods of the arrivals and strictly increasing. When the prediction and the
    arrival disagree by more than ``resync_s`` (a link gap, a board reset, a host
    clock jump) the clock re-anchors at the arrival (``resyncs`` counts it). Stamps
    never go backwards while ``arrival_time`` does not.

    Without ``arrival_time`` stamps are ``start + k * period_s`` for the k-th sample
    ever stamped: deterministic, independent of how the stream was chunked.
    """

    period_s: float
    resync_s: float = 1.0
    gain: float = 0.02
    start: float = 0.0
    last: float | None = field(default=None, init=False)
    count: int = field(default=0, init=False)
    resyncs: int = field(default=0, init=False)

    def __post_init__(self) -> None:
        if not self.period_s > 0:
            raise ValueError(f"period must be > 0 s, got {self.period_s}")

    def reset(self) -> None:
        """Forget the previous stamp (next stamps anchor afresh)."""
        self.last = None

    def stamp(self, n: int, arrival_time: float | None) -> np.ndarray:
        """Return ``(n,)`` increasing stamps for ``n`` samples that arrived together."""
        p = self.period_s
        if n <= 0:
            return np.empty(0)
        steps = np.arange(1, n + 1, dtype=np.float64)
        if arrival_time is None:
            t = self.start + p * (self.count + steps - 1)
        elif self.last is None:
            t = arrival_time - p * (n - steps)
        else:
            pred = self.last + n * p
            err = arrival_time - pred
            if abs(err) > self.resync_s:
                self.resyncs += 1
                t = arrival_time - p * (n - steps)
            else:
                shortest = self.last + MIN_SPACING * n * p
                end = max(min(pred + self.gain * err, arrival_time), shortest)
                t = self.last + (end - self.last) * steps / n
        self.count += n
        self.last = float(t[-1])
        return t
