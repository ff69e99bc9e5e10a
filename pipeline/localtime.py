"""Naive local times in a time zone: which ones a daylight-saving change skips or
repeats, and the epoch seconds of a recording's ``--start``.

A naive local time (no UTC offset) names one instant only where the zone's offset is
the same on both sides of it: in the spring hour the clocks skip it names none, in the
autumn hour they repeat it names two.
"""

from __future__ import annotations

from datetime import UTC, datetime, tzinfo

from pipeline.timescale import MAX_EPOCH_S


def dst_problem(local: datetime, tz: tzinfo) -> str | None:
    """``"skipped"`` or ``"repeated"`` when a daylight-saving change in ``tz`` makes the
    naive ``local`` name no instant or two; ``None`` when it names exactly one."""
    first = local.replace(tzinfo=tz, fold=0)
    second = local.replace(tzinfo=tz, fold=1)
    if first.utcoffset() == second.utcoffset():
        return None
    back = datetime.fromtimestamp(first.timestamp(), tz).replace(tzinfo=None)
    return "repeated" if back == local else "skipped"


def start_epoch(value: str, tz: tzinfo | None) -> float:
    """Epoch seconds (UTC) of the ISO 8601 time ``value``: without a UTC offset it is
    local in ``tz`` (as a file's own naive times are), in UTC when ``tz`` is ``None``.

    A :class:`ValueError` with a one-line reason for a local time a daylight-saving
    change skips or repeats, one outside the years 1 to 9999 in UTC, or one past the
    year 5000 (which no reader takes).
    """
    moment = datetime.fromisoformat(value)
    outside = f"{value!r} lies outside the years 1 to 9999 in UTC"
    if moment.tzinfo is None:
        if tz is None:
            moment = moment.replace(tzinfo=UTC)
        else:
            try:
                problem = dst_problem(moment, tz)
            except (OverflowError, ValueError):
                raise ValueError(outside) from None
            if problem is not None:
                raise ValueError(
                    f"{value!r} is {problem} in {tz} (daylight-saving change): give it "
                    "with a UTC offset"
                )
            moment = moment.replace(tzinfo=tz, fold=0)
    try:
        seconds = moment.astimezone(UTC).timestamp()
    except (OverflowError, ValueError):  # 0001-01-01T00:00+14:00 is before the year 1 in UTC
        raise ValueError(outside) from None
    if seconds > MAX_EPOCH_S:
        raise ValueError(f"{value!r} is past the year 5000, which no reader takes")
    return seconds
