"""Map decoder times (device or arrival seconds) to host epoch seconds for the recording.

Rule: the host clock gives absolute time, the device clock gives spacing. At each
(re)connection, and whenever the device clock resets, the offset ``host - device`` is
fixed from the host time at which the first batch arrived (its last sample is taken to
have arrived then); between such anchors a sample's time is ``device time + offset``.

A device clock reset is detected between two consecutive samples as device time going
backwards (or standing still), or jumping forward by more than the host time that
passed plus ``far_forward_s`` (a real pause of the board advances both clocks alike).

Output times are quantised to :data:`TICKS_PER_S` ticks (0.1 ms, the 4 decimals of the
canonical writer) and strictly increasing: a segment that would start at or before the
last written sample (a re-anchor while the device ran ahead of the host, host clock
stepped back) is moved to start one nominal period after it.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field

import numpy as np

log = logging.getLogger(__name__)

TICKS_PER_S = 10_000
"""Resolution of recorded times: 0.1 ms (``%.4f`` epoch seconds)."""


@dataclass
class ClockMapper:
    """Stateful device/arrival time -> host epoch tick mapper for one recording.

    rate_hz : nominal sample rate (Hz), the spacing used when a segment must be moved.
    far_forward_s : a forward device jump larger than the host time elapsed plus this
        (seconds) is a clock reset, not a pause.
    absolute : times are already epoch seconds (replay): no offset, no re-anchoring,
        only the quantisation and the strict increase.
    """

    rate_hz: float
    far_forward_s: float = 10.0
    absolute: bool = False
    offset: float | None = field(default=None, init=False)
    last_device: float | None = field(default=None, init=False)
    last_host: float | None = field(default=None, init=False)
    last_tick: int | None = field(default=None, init=False)
    anchors: int = field(default=0, init=False)
    clock_resets: int = field(default=0, init=False)
    moved: int = field(default=0, init=False)

    def reconnected(self) -> None:
        """A new connection: anchor the offset again on the next batch."""
        self.offset = None
        self.last_device = None

    def map(self, t: np.ndarray, host_now: float) -> np.ndarray:
        """Epoch ticks (int64, :data:`TICKS_PER_S` a second) of device times ``t``.

        ``host_now`` : host epoch seconds at which the batch arrived.
        """
        t = np.asarray(t, dtype=np.float64)
        if t.size == 0:
            return np.empty(0, dtype=np.int64)
        if self.absolute:
            ticks, _ = self._increasing(np.rint(t * TICKS_PER_S).astype(np.int64))
            return ticks
        elapsed = 0.0 if self.last_host is None else max(0.0, host_now - self.last_host)
        prev = self.last_device
        full = t if prev is None else np.concatenate(([prev], t))
        d = np.diff(full)
        jumps = np.flatnonzero((d <= 0) | (d > elapsed + self.far_forward_s))
        if prev is not None:
            starts = jumps  # index into t of each sample that follows a jump
        else:
            starts = jumps + 1
        bounds = [0, *[int(s) for s in starts if s > 0], t.size]
        if prev is not None and jumps.size and jumps[0] == 0:
            self._reset("device clock jumped", t[0], prev)
        out = []
        for k in range(len(bounds) - 1):
            a, b = bounds[k], bounds[k + 1]
            if a == b:
                continue
            if k > 0:
                self._reset("device clock jumped", t[a], t[a - 1])
            seg = t[a:b]
            if self.offset is None:
                # the last sample of the batch arrived at host_now; samples after this
                # segment in the batch are spaced by the device clock too
                self.offset = host_now - float(t[-1]) if b == t.size else host_now - float(seg[-1])
                self.anchors += 1
            raw = np.rint((seg + self.offset) * TICKS_PER_S).astype(np.int64)
            ticks, shift = self._increasing(raw)
            self.offset += shift / TICKS_PER_S  # keep device spacing after a moved segment
            out.append(ticks)
        self.last_device = float(t[-1])
        self.last_host = host_now
        return np.concatenate(out)

    def _reset(self, why: str, now_t: float, prev_t: float) -> None:
        self.clock_resets += 1
        self.offset = None
        log.info("%s (%.3f s -> %.3f s): re-anchoring on the host clock", why, prev_t, now_t)

    def _increasing(self, ticks: np.ndarray) -> tuple[np.ndarray, int]:
        """Make ``ticks`` strictly increase, also after :attr:`last_tick`; returns the shift."""
        n = ticks.size
        shift = 0
        if self.last_tick is not None and ticks[0] <= self.last_tick:
            step = max(1, round(TICKS_PER_S / self.rate_hz))
            shift = self.last_tick + step - int(ticks[0])
            ticks = ticks + shift
            self.moved += 1
        ramp = np.arange(n, dtype=np.int64)
        fixed = np.maximum.accumulate(ticks - ramp) + ramp
        self.last_tick = int(fixed[-1])
        return fixed, shift


def format_ticks(ticks: np.ndarray) -> list[str]:
    """``%.4f`` text of epoch ticks, exactly (integer arithmetic, no float rounding)."""
    sec, frac = np.divmod(np.asarray(ticks, dtype=np.int64), TICKS_PER_S)
    return [f"{s}.{f:04d}" for s, f in zip(sec.tolist(), frac.tolist(), strict=True)]
