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


def _hours_table(window) -> list[tuple[str, float]]:
    return [(iso_local(a, window.zone), b - a) for a, b in window.hours_bounds()]


def test_half_hour_clock_change_keeps_clock_hours() -> None:
    # Lord Howe Island puts its clocks 30 min forward at 02:00 (+10:30 -> +11:00)
    zone = "Australia/Lord_Howe"
    w = make_window(date(2026, 10, 3), zone)
    assert (w.start_iso, w.end_iso, w.hours) == (
        "2026-10-03T12:00:00+10:30",
        "2026-10-04T12:00:00+11:00",
        23.5,
    )
    hours = _hours_table(w)
    assert len(hours) == 24
    i = [s for s, _ in hours].index("2026-10-04T01:00:00+10:30")
    assert hours[i : i + 3] == [
        ("2026-10-04T01:00:00+10:30", 3600.0),  # 01:00 -> 02:00, read 02:30 after the change
        ("2026-10-04T02:30:00+11:00", 1800.0),
        ("2026-10-04T03:00:00+11:00", 3600.0),
    ]
    assert hours[-1] == ("2026-10-04T11:00:00+11:00", 3600.0)
    assert sum(d for _, d in hours) == 23.5 * 3600
    # and 30 min back at 02:00 (+11:00 -> +10:30): 01:30-02:00 is lived twice
    w = make_window(date(2026, 4, 4), zone)
    hours = _hours_table(w)
    assert w.hours == 24.5 and len(hours) == 25
    i = [s for s, _ in hours].index("2026-04-05T01:00:00+11:00")
    assert hours[i : i + 3] == [
        ("2026-04-05T01:00:00+11:00", 3600.0),
        ("2026-04-05T01:30:00+10:30", 1800.0),
        ("2026-04-05T02:00:00+10:30", 3600.0),
    ]
    assert hours[-1] == ("2026-04-05T11:00:00+10:30", 3600.0)


def test_45_minute_offsets_keep_whole_hours() -> None:
    # Chatham (+12:45 -> +13:45 at 02:45) changes by a whole hour: 23 hours of 3600 s
    w = make_window(date(2026, 9, 26), "Pacific/Chatham")
    hours = _hours_table(w)
    assert w.hours == 23.0 and len(hours) == 23
    assert all(d == 3600.0 for _, d in hours)
    starts = [s for s, _ in hours]
    i = starts.index("2026-09-27T02:00:00+12:45")
    assert starts[i + 1] == "2026-09-27T04:00:00+13:45"
    # Kathmandu (+05:45) with a day start at half past: hours run :30 to :30
    w = make_window(date(2026, 1, 1), "Asia/Kathmandu", time(18, 30))
    hours = _hours_table(w)
    assert len(hours) == 24 and all(d == 3600.0 for _, d in hours)
    assert hours[0][0] == "2026-01-01T18:30:00+05:45"
    assert hours[-1][0] == "2026-01-02T17:30:00+05:45"
