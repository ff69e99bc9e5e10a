"""Read the output folder of ``jerkcount process`` for the report.

The folder holds ``events.csv``, ``daily_summary.csv``, ``hourly.csv``,
``activity.csv`` and, optionally, ``summary.json``. Only the CSV columns of the
shared contract are relied on; everything in ``summary.json`` is optional.

Local time comes from the UTC offsets written in the files (``time_local``,
``window_start`` ...), never from the machine's zone: :class:`LocalClock` maps an
epoch instant to the offset in force there, so a night across a daylight-saving
change is labelled truthfully.
"""

from __future__ import annotations

import json
import logging
import math
import re
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import numpy as np

from pipeline.errors import InputError
from pipeline.events import ACTIVITY_COLUMNS, DAILY_FIRST_COLUMNS
from pipeline.table import Table, read_csv_table

log = logging.getLogger(__name__)

#: The first columns of ``daily_summary.csv`` (the shared contract).
DAILY_COLUMNS = DAILY_FIRST_COLUMNS
HOURLY_COLUMNS = ["day", "hour_start", "hour_end", "minutes_recorded", "minutes_valid", "jerks"]
EVENTS_COLUMNS = ["time", "time_local", "peak_g"]

_OFFSET_RE = re.compile(r"(?:([+-])(\d{2}):?(\d{2})|Z)$")


def iso_offset_seconds(text: str) -> int:
    """The UTC offset, in seconds, at the end of an ISO 8601 time (``+02:00``, ``Z``).

    Raises ``ValueError`` when the text carries no offset.
    """
    m = _OFFSET_RE.search(text.strip())
    if m is None:
        raise ValueError(f"no UTC offset in {text!r}")
    if m.group(1) is None:
        return 0
    sign = -1 if m.group(1) == "-" else 1
    return sign * (int(m.group(2)) * 3600 + int(m.group(3)) * 60)


def iso_epoch(text: str) -> float:
    """Epoch seconds (UTC) of an ISO 8601 time that carries a UTC offset."""
    dt = datetime.fromisoformat(text.strip().replace("Z", "+00:00"))
    if dt.tzinfo is None:
        raise ValueError(f"no UTC offset in {text!r}")
    return dt.timestamp()


class LocalClock:
    """Local wall-clock time of epoch instants, from known (instant, UTC offset) pairs.

    The offset at an instant is the offset of the latest known instant at or before
    it (the earliest known offset before the first). When the IANA zone named in
    ``summary.json`` agrees with every known pair it is used instead, which places a
    daylight-saving change exactly even between two known instants.
    """

    def __init__(self, instants: np.ndarray, offsets: np.ndarray, zone: str | None = None):
        order = np.argsort(instants, kind="stable")
        self._t = np.asarray(instants, dtype=float)[order]
        self._off = np.asarray(offsets, dtype=float)[order]
        self.zone_name = zone
        self._zone: ZoneInfo | None = None
        if zone:
            try:
                candidate = ZoneInfo(zone)
            except (ZoneInfoNotFoundError, ValueError, OSError):
                candidate = None
            if candidate is not None and all(
                _zone_offset(candidate, t) == off for t, off in zip(self._t, self._off, strict=True)
            ):
                self._zone = candidate

    def offset(self, t: float) -> float:
        """UTC offset in seconds in force at epoch ``t``."""
        if self._zone is not None:
            return _zone_offset(self._zone, t)
        if self._t.size == 0:
            return 0.0
        i = int(np.searchsorted(self._t, t, side="right")) - 1
        return float(self._off[max(i, 0)])

    def wall(self, t: float) -> datetime:
        """Naive local wall-clock datetime of epoch ``t``."""
        return datetime(1970, 1, 1) + timedelta(seconds=t + self.offset(t))

    def label(self, t: float, fmt: str = "%H:%M") -> str:
        """``t`` formatted in local time (``strftime`` format)."""
        return self.wall(t).strftime(fmt)

    def offset_text(self, t: float) -> str:
        """The UTC offset at ``t`` as ``UTC+01:00``."""
        off = int(round(self.offset(t)))
        sign = "-" if off < 0 else "+"
        off = abs(off)
        return f"UTC{sign}{off // 3600:02d}:{off % 3600 // 60:02d}"

    def hour_ticks(self, start: float, end: float, max_ticks: int = 10) -> list[float]:
        """Epoch instants of whole local hours in ``[start, end]``, thinned to a readable
        step (1, 2, 3, 4, 6 or 12 h) so there are at most ``max_ticks``."""
        if not (math.isfinite(start) and math.isfinite(end)) or end <= start:
            return []
        hours: list[float] = []
        t = math.floor(start / 900.0) * 900.0  # offsets are whole quarter hours
        while t <= end:
            if t >= start and (t + self.offset(t)) % 3600 == 0:
                hours.append(t)
            t += 900.0
        for step in (1, 2, 3, 4, 6, 12):
            ticks = [h for h in hours if int((h + self.offset(h)) // 3600) % 24 % step == 0]
            if len(ticks) <= max_ticks:
                return ticks
        return hours[:: max(1, len(hours) // max_ticks)]


def _zone_offset(zone: ZoneInfo, t: float) -> float:
    off = datetime.fromtimestamp(t, tz=UTC).astimezone(zone).utcoffset()
    return off.total_seconds() if off is not None else 0.0


@dataclass
class NightView:
    """One summary window (a night, or a calendar day) with its rows from every file."""

    row: dict[str, Any]
    start: float
    end: float
    events: Table
    activity: Table
    hourly: Table

    @property
    def day(self) -> str:
        return str(self.row["day"])


@dataclass
class ReportData:
    """Everything the report shows, read from one output folder."""

    out_dir: Path
    daily: Table
    events: Table
    hourly: Table
    activity: Table
    summary: dict[str, Any] = field(default_factory=dict)
    clock: LocalClock = field(default_factory=lambda: LocalClock(np.array([]), np.array([])))

    def night(self, day: str | None = None) -> NightView:
        """The window labelled ``day``, or the last window holding any recording."""
        daily = self.daily
        days = daily.text("day")
        if day is not None:
            idx = [i for i, d in enumerate(days) if d == str(day)]
            if not idx:
                raise InputError(
                    "--night", f"no night {day!r} in the summary (nights: {', '.join(days)})"
                )
            i = idx[-1]
        else:
            recorded = np.flatnonzero(np.nan_to_num(daily.num("hours_recorded")) > 0)
            i = int(recorded[-1]) if recorded.size else len(daily) - 1
        row = daily.row(i)
        start, end = float(row["_start"]), float(row["_end"])
        ev, act, hourly = self.events, self.activity, self.hourly
        t = ev.num("time")
        events = ev.take((t >= start) & (t < end))
        activity = act.take((act.num("end") > start) & (act.num("start") < end))
        hours = hourly.take(np.array([d == str(row["day"]) for d in hourly.text("day")], bool))
        return NightView(row, start, end, events, activity, hours)


def _offsets_of(values: list[str]) -> tuple[np.ndarray, np.ndarray]:
    """(epoch, offset) pairs of a column of ISO times with offsets; bad cells dropped."""
    t: list[float] = []
    off: list[float] = []
    for text in values:
        if not text:
            continue
        try:
            t.append(iso_epoch(text))
            off.append(iso_offset_seconds(text))
        except ValueError:
            continue
    return np.array(t, dtype=float), np.array(off, dtype=float)


def load_report_data(out_dir: str | Path) -> ReportData:
    """Read an output folder of ``jerkcount process`` (see the module docstring).

    Raises :class:`InputError` naming the file when a CSV is missing or lacks a
    contract column, or when ``daily_summary.csv`` has no rows.
    """
    out_dir = Path(out_dir)
    daily = read_csv_table(out_dir / "daily_summary.csv", DAILY_COLUMNS)
    events = read_csv_table(out_dir / "events.csv", EVENTS_COLUMNS)
    hourly = read_csv_table(out_dir / "hourly.csv", HOURLY_COLUMNS)
    activity = read_csv_table(out_dir / "activity.csv", ACTIVITY_COLUMNS)
    if daily.empty:
        raise InputError(str(out_dir / "daily_summary.csv"), "no windows (nothing was recorded)")

    summary: dict[str, Any] = {}
    sj = out_dir / "summary.json"
    if sj.is_file():
        try:
            loaded = json.loads(sj.read_text(encoding="utf-8"))
            summary = loaded if isinstance(loaded, dict) else {}
        except (json.JSONDecodeError, UnicodeDecodeError, OSError) as exc:
            log.warning("%s: ignored (%s)", sj, exc)

    skip = {"day", "window_start", "window_end", "pattern", "recording_start", "recording_end"}
    daily.numeric([c for c in daily.columns if c not in skip])
    events.numeric(["time", "peak_g", "duration_ms", "background_g", "peak_time"])
    hourly.numeric(["minutes_recorded", "minutes_valid", "jerks"])
    activity.numeric(["start", "end", "minutes"])
    t_ev = events.num("time")
    keep = np.flatnonzero(~np.isnan(t_ev))
    events = events.take(keep[np.argsort(t_ev[keep], kind="stable")])
    activity = activity.take(~(np.isnan(activity.num("start")) | np.isnan(activity.num("end"))))

    try:
        daily.set("_start", np.array([iso_epoch(s) for s in daily.text("window_start")]))
        daily.set("_end", np.array([iso_epoch(s) for s in daily.text("window_end")]))
    except ValueError as exc:
        raise InputError(str(out_dir / "daily_summary.csv"), f"bad window time: {exc}") from None
    daily = daily.take(np.argsort(daily.num("_start"), kind="stable"))
    hourly.set("_start", np.array([_safe_epoch(s) for s in hourly.text("hour_start")], float))
    hourly.set("_end", np.array([_safe_epoch(s) for s in hourly.text("hour_end")], float))

    pairs = [
        _offsets_of(daily.text("window_start")),
        _offsets_of(daily.text("window_end")),
        _offsets_of(hourly.text("hour_start")),
        _offsets_of(activity.text("start_local")),
    ]
    # events: one (instant, offset) pair per distinct offset change is enough
    if len(events):
        ev_off = np.array([_safe_offset(s) for s in events.text("time_local")], dtype=float)
        ok = np.isfinite(ev_off)
        pairs.append((events.num("time")[ok], ev_off[ok]))
    t = np.concatenate([p[0] for p in pairs])
    off = np.concatenate([p[1] for p in pairs])
    zone = summary.get("time_zone")
    clock = LocalClock(t, off, zone if isinstance(zone, str) else None)
    return ReportData(out_dir, daily, events, hourly, activity, summary, clock)


def _safe_epoch(text: object) -> float:
    try:
        return iso_epoch(str(text))
    except ValueError:
        return float("nan")


def _safe_offset(text: object) -> float:
    try:
        return float(iso_offset_seconds(str(text)))
    except ValueError:
        return float("nan")
