"""Summary windows: nights (or calendar days) in a local time zone, DST-exact.

A window runs from ``day_start`` local time on one date to ``day_start`` local time
on the next date, and is labelled by the date it starts (``YYYY-MM-DD``). The
default ``day_start`` of 12:00 makes a window a *night* (noon to noon), so a night
is never cut at midnight; ``00:00`` gives calendar days.

Windows are computed on the wall clock of an IANA zone and converted to epoch
seconds (UTC), so a window that contains a daylight-saving change really is 23 or
25 hours long: in ``Europe/Berlin`` the night starting 2026-03-28 12:00+01:00 ends
2026-03-29 12:00+02:00 after 23 hours, the one starting 2026-10-24 12:00+02:00
ends 2026-10-25 12:00+01:00 after 25 hours.

A ``day_start`` that does not exist on some date (inside a spring-forward gap, e.g.
02:30 in Berlin on 2026-03-29) is read with the offset in force before the change
(Python's ``fold=0`` rule), i.e. it falls the length of the gap later on the clock;
an ambiguous one (inside the repeated autumn hour) is its first occurrence.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from pipeline.errors import InputError
from pipeline.outputs import get_zone

#: Default start of a summary window, local time: noon, so a window is a night.
DEFAULT_DAY_START = time(12, 0)
#: ``--calendar-days``: windows start at local midnight.
CALENDAR_DAY_START = time(0, 0)

_HHMM = re.compile(r"^\s*(\d{1,2}):(\d{2})\s*$")


def parse_day_start(text: str) -> time:
    """``"HH:MM"`` (24-hour clock) -> :class:`datetime.time`; :class:`InputError` if bad.

    >>> parse_day_start("12:00")
    datetime.time(12, 0)
    """
    match = _HHMM.match(text)
    if match is not None:
        hh, mm = int(match.group(1)), int(match.group(2))
        if hh < 24 and mm < 60:
            return time(hh, mm)
    raise InputError("--day-start", f"not a time of day HH:MM (00:00-23:59): {text!r}")


def resolve_day_start(day_start: str | None, calendar_days: bool) -> time:
    """The window start from ``--day-start`` (``None``: 12:00) and ``--calendar-days``
    (00:00); the two together must agree, else :class:`InputError`."""
    start = DEFAULT_DAY_START if day_start is None else parse_day_start(day_start)
    if calendar_days:
        if day_start is not None and start != CALENDAR_DAY_START:
            raise InputError("--calendar-days", f"conflicts with --day-start {day_start}")
        start = CALENDAR_DAY_START
    return start


def _zone(tz: str | ZoneInfo) -> ZoneInfo:
    return tz if isinstance(tz, ZoneInfo) else get_zone(tz)


def local_epoch(day: date, clock: time, tz: str | ZoneInfo) -> float:
    """Epoch seconds (UTC) of wall-clock ``clock`` on ``day`` in zone ``tz``.

    A nonexistent wall time (spring-forward gap) is read with the offset before the
    change; an ambiguous one (autumn repeated hour) is its first occurrence.
    """
    return datetime.combine(day, clock, tzinfo=_zone(tz)).timestamp()


def iso_local(t: float, tz: str | ZoneInfo) -> str:
    """Epoch seconds -> local ISO 8601 with UTC offset, whole seconds.

    >>> iso_local(1774695600.0, "Europe/Berlin")
    '2026-03-28T12:00:00+01:00'
    """
    moment = datetime.fromtimestamp(round(float(t)), UTC).astimezone(_zone(tz))
    return moment.isoformat(timespec="seconds")


@dataclass(frozen=True)
class Window:
    """One summary window.

    day : the local date it starts on (its label, ``YYYY-MM-DD``).
    start, end : epoch seconds UTC; ``end`` is exclusive (the next window's start).
    zone : the IANA zone name the window is defined in.
    """

    day: date
    start: float
    end: float
    zone: str

    @property
    def label(self) -> str:
        """The window's label, the ISO date it starts on, e.g. ``"2026-03-28"``."""
        return self.day.isoformat()

    @property
    def hours(self) -> float:
        """Length in hours: 24, or 23/25 (or 23.5/24.5...) across a clock change."""
        return (self.end - self.start) / 3600.0

    @property
    def start_iso(self) -> str:
        """Local start, ISO 8601 with UTC offset, e.g. ``2026-03-28T12:00:00+01:00``."""
        return iso_local(self.start, self.zone)

    @property
    def end_iso(self) -> str:
        """Local end, ISO 8601 with UTC offset."""
        return iso_local(self.end, self.zone)

    def hours_bounds(self) -> list[tuple[float, float]]:
        """The window cut into local clock hours: ``[(start, end), ...]`` epoch s UTC.

        Each hour ends where the local clock next reads the window start's minutes
        (``:00`` for a whole-hour ``day_start``), so hours are 3600 s and the last one is
        clipped at the window's end: a 23-hour night has 23 rows and a 25-hour night 25
        (the repeated 02:00 hour appears twice, once per offset). A clock change by part
        of an hour (Lord Howe Island's 30 minutes) cuts its hour at the change, and the
        hours after it are clock hours again: 01:00-02:30 (60 min), 02:30-03:00
        (30 min), 03:00-04:00 ...
        """
        zone = _zone(self.zone)
        minute = _wall_seconds(self.start, zone) % 3600.0
        bounds = [self.start]
        while bounds[-1] < self.end:
            bounds.append(min(_next_hour(bounds[-1], zone, minute), self.end))
        return list(zip(bounds[:-1], bounds[1:], strict=True))


def _offset_s(t: float, zone: ZoneInfo) -> float:
    """UTC offset (s) of ``zone`` at epoch second ``t``."""
    off = datetime.fromtimestamp(t, UTC).astimezone(zone).utcoffset()
    return off.total_seconds() if off is not None else 0.0


def _wall_seconds(t: float, zone: ZoneInfo) -> float:
    """Local wall-clock seconds since the epoch at epoch second ``t``."""
    return t + _offset_s(t, zone)


def _next_aligned(t: float, offset: float, minute: float) -> float:
    """The first epoch second after ``t`` at which a clock at UTC ``offset`` (s) reads
    ``minute`` seconds past a whole hour."""
    phase = (t + offset - minute) % 3600.0
    return t + 3600.0 - phase


def _next_hour(t: float, zone: ZoneInfo, minute: float) -> float:
    """The end (epoch s) of the clock hour starting at ``t``: where the clock next reads
    ``minute`` seconds past the hour, or a clock change by part of an hour in between."""
    offset = _offset_s(t, zone)
    candidate = _next_aligned(t, offset, minute)
    if _offset_s(candidate, zone) == offset:
        return candidate
    lo, hi = math.floor(t), math.ceil(candidate)  # the change: offsets change on a second
    while hi - lo > 1:
        mid = (lo + hi) // 2
        lo, hi = (mid, hi) if _offset_s(mid, zone) == offset else (lo, mid)
    change = float(hi)
    after = _offset_s(change, zone)
    phase = (change + after - minute) % 3600.0
    aligned = change if phase == 0 else _next_aligned(change, after, minute)
    return aligned if aligned - t <= 3600.0 else change


def make_window(day: date, tz: str | ZoneInfo, day_start: time = DEFAULT_DAY_START) -> Window:
    """The window labelled ``day``: ``day_start`` on ``day`` to ``day_start`` the next day."""
    zone = _zone(tz)
    start = local_epoch(day, day_start, zone)
    end = local_epoch(day + timedelta(days=1), day_start, zone)
    return Window(day, start, end, zone.key)


def window_of(t: float, tz: str | ZoneInfo, day_start: time = DEFAULT_DAY_START) -> Window:
    """The window containing epoch second ``t`` (``start <= t < end``)."""
    zone = _zone(tz)
    day = datetime.fromtimestamp(float(t), UTC).astimezone(zone).date()
    window = make_window(day, zone, day_start)
    while t < window.start:  # before today's day_start: the previous day's window
        window = make_window(window.day - timedelta(days=1), zone, day_start)
    while t >= window.end:  # only when day_start falls in a clock gap
        window = make_window(window.day + timedelta(days=1), zone, day_start)
    return window


def windows_between(
    start: float, end: float, tz: str | ZoneInfo, day_start: time = DEFAULT_DAY_START
) -> list[Window]:
    """All windows that overlap ``[start, end)`` (epoch seconds UTC), in time order."""
    if end <= start:
        return [window_of(start, tz, day_start)]
    zone = _zone(tz)
    window = window_of(start, zone, day_start)
    out = [window]
    while window.end < end:
        window = make_window(window.day + timedelta(days=1), zone, day_start)
        out.append(window)
    return out
