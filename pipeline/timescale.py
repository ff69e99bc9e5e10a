"""Is a recording's time column Unix seconds? Checks on its first timestamp.

Every dialect ends in epoch seconds UTC. A file whose times are in another unit gives
absurd dates rather than an error further on: milliseconds since the epoch
(1.7e12 for 2023) read as seconds lie 50 000 years ahead and give no sample rate
(every step looks like a gap); seconds since the recording began (0, 0.01, ...) read
as epoch seconds put the night on 1 January 1970. The first is an error that says
which unit the numbers look like, the second a warning (a device clock that was
never set gives such times too, and the events are still right relative to each
other).
"""

from __future__ import annotations

import datetime as dt

#: Epoch seconds beyond this (year 5138) are not seconds (also the bound at which
#: :func:`pipeline.formats.generic.infer_time_unit` takes numbers for milliseconds).
MAX_EPOCH_S = 1e11
#: Epoch seconds below this (the year 68) are no time in any unit: before the year 1
#: no date can even be written.
MIN_TIME_S = -6e10
#: Epoch seconds below this (1973-03-03) are taken for time since the recording began
#: (and below it ``infer_time_unit`` takes numbers for relative seconds).
MIN_EPOCH_S = 1e8

#: A forward step between neighbouring rows longer than this (s, 10 years) is no gap
#: in a recording but a corrupted time (or a clock set during the recording).
MAX_JUMP_S = 10 * 365.25 * 86_400
#: Numbers above this are past the year 5000 even as nanoseconds since the epoch.
MAX_ANY_UNIT = 1e20
_YEAR_S = 365.25 * 86_400

#: (lower bound, unit name, option value) for numbers above :data:`MAX_EPOCH_S`
_UNITS = ((1e17, "nanoseconds", "ns"), (1e14, "microseconds", None), (1e11, "milliseconds", "ms"))


def time_unit_problem(t0: float) -> str | None:
    """Why a first timestamp ``t0`` (as read, in what should be epoch seconds) cannot be
    Unix seconds, with the fix, or ``None`` when it can."""
    if MIN_TIME_S <= t0 <= MAX_EPOCH_S:
        return None
    if t0 < MIN_TIME_S:
        return f"time {t0:g} s lies before the year 100: not a time in any unit (a corrupted row?)"
    if abs(t0) > MAX_ANY_UNIT:
        return (
            f"time {t0:g} is not a time in any unit (it would be past the year 5000 even in "
            "nanoseconds since the epoch): a corrupted row?"
        )
    for bound, name, option in _UNITS:
        if abs(t0) > bound:
            fix = (
                f"read it with --time-unit {option}"
                if option is not None
                else "divide the time column by 1e6"
            )
            return (
                f"time {t0:.0f} is not Unix seconds (it would be past the year 5000): it "
                f"looks like {name} since the epoch; {fix}"
            )
    return None  # pragma: no cover - the last bound is MAX_EPOCH_S


def relative_time_warning(t0: float) -> str | None:
    """A one-line warning when a first timestamp ``t0`` (epoch s) lies before 1973,
    which is time since the recording began rather than a date; else ``None``."""
    if t0 >= MIN_EPOCH_S:
        return None
    day = dt.datetime.fromtimestamp(t0, dt.UTC).date().isoformat()
    return (
        f"time starts at {t0:g} s, which dates the recording {day}: if the times count "
        "from the start of the recording, read it with --time-unit relative --start ISO-8601"
    )


def seconds_text(s: float) -> str:
    """A duration ``s`` (seconds) for a message: ``12.345 s``; huge ones in ``%g``
    (``1e+300 s``), never hundreds of digits."""
    return f"{s:.3f} s" if abs(s) < 1e6 else f"{s:.4g} s"


def later_time_problem(t: float, prev: float) -> str | None:
    """Why a time ``t`` (epoch s) is a corrupted time, or ``None``: past
    :data:`MAX_EPOCH_S` (the year 5000), or more than :data:`MAX_JUMP_S` after ``prev``,
    the latest time before it (epoch s; NaN when there is none)."""
    if t > MAX_EPOCH_S or t < MIN_TIME_S:
        when = "past the year 5000" if t > 0 else "thousands of years before 1970"
        return (
            f"time {t:g} s is {when}, far from the rows around it: a corrupted time? fix "
            "or remove this row"
        )
    step = t - prev
    if step > MAX_JUMP_S:
        return (
            f"time jumps forward by {step / _YEAR_S:.0f} years (to {t:.3f} s from "
            f"{prev:.3f} s before it): a corrupted time, or a clock set during the "
            "recording: fix or remove this row, or split the file here"
        )
    return None
