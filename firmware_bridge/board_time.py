"""Plausibility of decoded samples and of a board's own clock, before they are recorded.

Two checks keep a corrupted line (a serial line that lost its leading digits, bit
errors, a stray number) out of the recording:

- :func:`plausible` — a sample's values must be finite and within the reader's own
  limit :data:`pipeline.reader.MAX_ABS_G` (g), and its board time (s), when there is
  one, finite, not negative and below :data:`MAX_BOARD_TIME_S`. The recorder writes
  nothing the reader would refuse.
- :class:`BoardTimeFilter` — one board time out of sequence (a step back, or a far
  step forward) must not move the recording's time base: such a sample is held back
  until the next one shows whether the board clock really jumped (the next sample
  continues from it: a board reset or a pause, passed on) or the line was a stray one
  (the next sample continues the old sequence: the held sample is rejected).
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

from pipeline.reader import MAX_ABS_G
from pipeline.timescale import MAX_EPOCH_S

#: A board time (s) beyond this is corrupted, not a clock: the year 5138 as epoch
#: seconds, the bound beyond which the reader takes times for another unit.
MAX_BOARD_TIME_S = MAX_EPOCH_S

Row = tuple[float, float, float, float]
"""``(board time s or nan, x g, y g, z g)``."""


def plausible(row: Row) -> bool:
    """True when ``row``'s values (g) are finite and within ±:data:`MAX_ABS_G`, and its
    board time (s) is NaN (none) or finite, ``>= 0`` and ``<=`` :data:`MAX_BOARD_TIME_S`."""
    t, x, y, z = row
    if not all(math.isfinite(v) and abs(v) <= MAX_ABS_G for v in (x, y, z)):
        return False
    return math.isnan(t) or 0.0 <= t <= MAX_BOARD_TIME_S


@dataclass
class BoardTimeFilter:
    """Hold back a sample whose board time breaks the sequence until the next one decides.

    max_step_s : the longest step (s) from one sample's board time to the next that
        still continues a sequence; a step back, no step, or a longer step forward
        breaks it.
    ``rejected`` counts the samples dropped as out of sequence; ``dropped`` those held
    back when :meth:`reset` came before the next sample could decide.
    """

    max_step_s: float
    last: float | None = field(default=None, init=False)
    held: Row | None = field(default=None, init=False)
    rejected: int = field(default=0, init=False)
    dropped: int = field(default=0, init=False)

    def follows(self, before: float | None, t: float) -> bool:
        """True when board time ``t`` (s) continues from ``before`` (s)."""
        return before is not None and 0.0 < t - before <= self.max_step_s

    def reset(self) -> None:
        """A reconnection: a held sample is dropped (``dropped``: the sample that would
        decide is lost). The last board time is kept: a board that ran on continues
        from it, one that restarted breaks the sequence and is decided as usual."""
        if self.held is not None:
            self.dropped += 1
        self.held = None

    def push(self, rows: list[Row]) -> list[Row]:
        """The rows of ``rows`` (board times in s, in order) that are passed on now."""
        out: list[Row] = []
        for row in rows:
            self._one(row, out)
        return out

    def _one(self, row: Row, out: list[Row]) -> None:
        t = row[0]
        held = self.held
        if held is None:
            if self.last is None or self.follows(self.last, t):
                self._pass(row, out)  # the first sample: nothing contradicts it
            else:
                self.held = row  # a jump: the next sample decides
            return
        if self.follows(held[0], t):  # the board clock really jumped: both go on
            self.held = None
            self._pass(held, out)
            self._pass(row, out)
            return
        self.rejected += 1  # the held one was out of sequence
        self.held = None
        if self.follows(self.last, t):
            self._pass(row, out)
        else:
            self.held = row

    def _pass(self, row: Row, out: list[Row]) -> None:
        out.append(row)
        self.last = row[0]
