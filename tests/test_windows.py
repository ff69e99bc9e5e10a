"""Summary windows: nights and calendar days, daylight-saving nights of 23 and 25 hours."""

from __future__ import annotations

from datetime import date, time

import pytest

from pipeline.errors import InputError
from pipeline.windows import (
    CALENDAR_DAY_START,
    iso_local,
    make_window,
    parse_day_start,
    window_of,
    windows_between,
)

BERLIN = "Europe/Berlin"


def _hour_starts(window) -> list[str]:
    return [iso_local(a, window.zone) for a, _ in window.hours_bounds()]


def test_spring_night_has_23_hours() -> None:
    w = make_window(date(2026, 3, 28), BERLIN)
    assert w.label == "2026-03-28"
    assert w.start_iso == "2026-03-28T12:00:00+01:00"
    assert w.end_iso == "2026-03-29T12:00:00+02:00"
    assert w.start == 1774695600.0  # 11:00 UTC
    assert w.end == 1774778400.0  # 10:00 UTC next day
    assert w.hours == 23.0
    starts = _hour_starts(w)
    assert len(starts) == 23
    assert starts[0] == "2026-03-28T12:00:00+01:00"
    # 01:00 CET is followed by 03:00 CEST: the 02:00 hour does not exist
    i = starts.index("2026-03-29T01:00:00+01:00")
    assert starts[i + 1] == "2026-03-29T03:00:00+02:00"
    assert starts[-1] == "2026-03-29T11:00:00+02:00"
    assert iso_local(w.hours_bounds()[-1][1], BERLIN) == "2026-03-29T12:00:00+02:00"


def test_autumn_night_has_25_hours() -> None:
    w = make_window(date(2026, 10, 24), BERLIN)
    assert w.start_iso == "2026-10-24T12:00:00+02:00"
    assert w.end_iso == "2026-10-25T12:00:00+01:00"
    assert w.hours == 25.0
    starts = _hour_starts(w)
    assert len(starts) == 25
    i = starts.index("2026-10-25T02:00:00+02:00")
    assert starts[i + 1] == "2026-10-25T02:00:00+01:00"  # the repeated hour, twice
    assert starts[i + 2] == "2026-10-25T03:00:00+01:00"
    assert all(b - a == 3600.0 for a, b in w.hours_bounds())


def test_ordinary_night_and_other_zone() -> None:
    w = make_window(date(2026, 1, 10), "America/New_York")
    assert (w.start_iso, w.end_iso, w.hours) == (
        "2026-01-10T12:00:00-05:00",
        "2026-01-11T12:00:00-05:00",
        24.0,
    )
    assert len(w.hours_bounds()) == 24


def test_window_of_before_and_at_day_start() -> None:
    noon = 1774695600.0  # 2026-03-28 12:00+01:00
    assert window_of(noon, BERLIN).label == "2026-03-28"
    assert window_of(noon - 0.001, BERLIN).label == "2026-03-27"
    assert window_of(noon + 22.99 * 3600, BERLIN).label == "2026-03-28"
    assert window_of(noon + 23 * 3600, BERLIN).label == "2026-03-29"


def test_calendar_days() -> None:
    w = make_window(date(2026, 3, 29), BERLIN, CALENDAR_DAY_START)
    assert (w.start_iso, w.end_iso, w.hours) == (
        "2026-03-29T00:00:00+01:00",
        "2026-03-30T00:00:00+02:00",
        23.0,
    )
    w = make_window(date(2026, 10, 25), BERLIN, CALENDAR_DAY_START)
    assert w.hours == 25.0 and len(w.hours_bounds()) == 25
    late = 1774737000.0  # 2026-03-28 23:30+01:00
    assert window_of(late, BERLIN, CALENDAR_DAY_START).label == "2026-03-28"
    assert window_of(late + 1800, BERLIN, CALENDAR_DAY_START).label == "2026-03-29"


def test_windows_between_covers_the_span() -> None:
    start = 1774693800.0  # 2026-03-28 11:30+01:00
    ws = windows_between(start, start + 2 * 86400, BERLIN)
    assert [w.label for w in ws] == ["2026-03-27", "2026-03-28", "2026-03-29", "2026-03-30"]
    assert all(a.end == b.start for a, b in zip(ws, ws[1:], strict=False))
    assert [w.hours for w in ws] == [24.0, 23.0, 24.0, 24.0]


def test_day_start_in_the_clock_gap_moves_later() -> None:
    # 02:30 does not exist on 2026-03-29 in Berlin: read with the old offset -> 03:30 CEST
    w = make_window(date(2026, 3, 28), BERLIN, time(2, 30))
    assert w.end_iso == "2026-03-29T03:30:00+02:00"
    assert w.hours == 24.0
    assert make_window(date(2026, 3, 29), BERLIN, time(2, 30)).hours == 23.0


def test_parse_day_start() -> None:
    assert parse_day_start("12:00") == time(12, 0)
    assert parse_day_start("7:05") == time(7, 5)
    for bad in ("24:00", "12:60", "noon", "12", "12:00:00"):
        with pytest.raises(InputError, match="--day-start"):
            parse_day_start(bad)
