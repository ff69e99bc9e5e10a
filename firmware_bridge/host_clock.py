"""Host time that a clock step does not move: the arrival stamps of boards without a
clock of their own.

The computer's clock (``time.time``) can be stepped during a night: NTP or
systemd-timesyncd setting it right, a Raspberry Pi without a real-time clock that
learns the time only once its network is up, someone setting the clock by hand. A
board stamped on arrival with that clock would show a step forward as a hole in the
recording (data that was never missing) and a step back as a board clock reset.
:class:`SteadyClock` gives epoch seconds that start at the host clock and then advance
with the boot-time clock (``CLOCK_BOOTTIME``, which counts a suspend too; the
monotonic clock where there is none): the spacing of arrival stamps is the real time
that passed, as a board's own clock gives it. Absolute time still comes from the host
clock at every (re)connection (:class:`~firmware_bridge.recorder_clock.ClockMapper`).

:meth:`SteadyClock.step_s` says how far the host clock has been stepped since; the
recorder notes each step in the session file (``host_clock_steps``).
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field

#: A change of the host clock against the steady clock beyond this (s) is a step (NTP
#: slews smaller errors, and both clocks follow the slewing alike).
STEP_S = 1.0


def _boot_seconds() -> float:
    """Seconds of a clock that never steps and counts a suspend where it can."""
    clock = getattr(time, "CLOCK_BOOTTIME", None)
    if clock is not None:
        try:
            return time.clock_gettime(clock)
        except OSError:
            pass
    return time.monotonic()


@dataclass
class SteadyClock:
    """Epoch seconds (float) from the host clock at creation, advancing steadily.

    ``clock()`` : the steady epoch time now. :meth:`step_s` : host clock minus steady
    clock now (s): 0 until the host clock is stepped, then the sum of the steps.
    """

    wall0: float = field(default_factory=time.time)
    steady0: float = field(default_factory=_boot_seconds)

    def __call__(self) -> float:
        return self.wall0 + (_boot_seconds() - self.steady0)

    def step_s(self) -> float:
        """How far (s) the host clock is ahead of this clock (negative: behind)."""
        return time.time() - self()


#: The arrival clock of every live source (one per process: all sources agree).
steady_time = SteadyClock()
