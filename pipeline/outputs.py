"""Output files of ``jerkcount detect``: events CSV, activity CSV, JSON sidecar.

For an events file ``EVENTS.csv`` the detect command writes three files side by side:

- ``EVENTS.csv``: one row per jerk, a plain CSV (header first, no comment lines)
  whose columns are ``time,time_local,peak_g,duration_ms,axis,peak_time,background_g,
  clipped`` (``clipped``: ``true`` when the event reached the sensor's range, so its
  ``peak_g`` is a lower bound);
- ``EVENTS.activity.csv``: one row per activity period, columns
  ``start,end,start_local,end_local,minutes,kind``;
- ``EVENTS.json``: the recording's metadata, the detector parameters, the jerkcount
  version, counts, gaps and the data-quality record (every repair the reader made,
  see :mod:`pipeline.quality`), so a result can always be reproduced.

Times are epoch seconds UTC written with millisecond decimals; ``*_local`` columns
are ISO 8601 with the UTC offset of the chosen IANA zone at that instant, e.g.
``2026-03-29T03:30:00.123+02:00``. Every file is written atomically.
"""

from __future__ import annotations

import csv
import json
import logging
import math
import os
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import asdict, dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import IO, TYPE_CHECKING, Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import numpy as np

from pipeline import __version__
from pipeline.atomic import atomic_write, file_set, special_file
from pipeline.errors import InputError
from pipeline.events import (
    ACTIVITY_COLUMNS,
    EVENT_COLUMNS,
    ActivityPeriod,
    JerkEvent,
    jerks_text,
)

if TYPE_CHECKING:
    import pandas as pd

    from pipeline.detector import Detection

log = logging.getLogger(__name__)

#: All columns of the events CSV, in order (the first five are the stable contract).
EVENT_CSV_COLUMNS = [*EVENT_COLUMNS, "peak_time", "background_g", "clipped"]

_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)

#: ``printf`` formats of the numeric columns of the events and activity CSVs.
EVENT_FORMATS = {
    "time": "%.3f",
    "peak_time": "%.3f",
    "start": "%.3f",
    "end": "%.3f",
    "peak_g": "%.4f",
    "background_g": "%.5f",
    "duration_ms": "%.1f",
    "minutes": "%.3f",
}


def get_zone(name: str) -> ZoneInfo:
    """The :class:`ZoneInfo` for an IANA name; :class:`InputError` (on ``--tz``) if unknown."""
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError, OSError):
        raise InputError(
            "--tz", f"unknown time zone {name!r} (use an IANA name such as Europe/Berlin)"
        ) from None


def local_zone_name() -> str:
    """The machine's IANA time zone name, or ``"UTC"`` when it cannot be found.

    Looks at ``$TZ``, then the ``/etc/localtime`` link, then ``/etc/timezone``.
    """
    candidates: list[str] = []
    tz_env = os.environ.get("TZ", "").lstrip(":")
    if tz_env:
        candidates.append(tz_env)
    try:
        target = os.path.realpath("/etc/localtime")
        if "zoneinfo" + os.sep in target:
            candidates.append(target.split("zoneinfo" + os.sep, 1)[1])
    except OSError:
        pass
    try:
        candidates.append(Path("/etc/timezone").read_text(encoding="utf-8").strip())
    except OSError:
        pass
    for name in candidates:
        if not name or name.startswith("/"):
            continue
        try:
            ZoneInfo(name)
        except (ZoneInfoNotFoundError, ValueError, OSError):
            continue
        return "UTC" if name in ("Etc/UTC", "Etc/Universal", "UCT", "Universal", "Zulu") else name
    return "UTC"


def local_iso(times: Iterable[float], tz: str | ZoneInfo) -> list[str]:
    """ISO 8601 local times with UTC offset, millisecond precision.

    ``times`` are epoch seconds UTC; they are rounded to the nearest millisecond exactly
    as the CSV's ``time`` column is written (``%.3f`` of the float itself), so the two
    columns never differ by a millisecond at a half millisecond (a 400 Hz grid).
    E.g. ``1774747800.1234`` in ``Europe/Berlin`` -> ``"2026-03-29T03:30:00.123+02:00"``.
    """
    zone = tz if isinstance(tz, ZoneInfo) else get_zone(tz)
    out = []
    for t in times:
        ms = int(f"{float(t):.3f}".replace(".", ""))
        moment = _EPOCH + timedelta(milliseconds=ms)
        out.append(moment.astimezone(zone).isoformat(timespec="milliseconds"))
    return out


def events_columns(events: Sequence[JerkEvent], tz: str | ZoneInfo) -> dict[str, Any]:
    """Events as columns :data:`EVENT_CSV_COLUMNS`: float64 arrays and lists of str."""
    times = [e.time for e in events]
    return {
        "time": np.asarray(times, dtype=np.float64),
        "time_local": local_iso(times, tz),
        "peak_g": np.asarray([e.peak_g for e in events], dtype=np.float64),
        "duration_ms": np.asarray([e.duration_ms for e in events], dtype=np.float64),
        "axis": [e.axis for e in events],
        "peak_time": np.asarray([e.peak_time for e in events], dtype=np.float64),
        "background_g": np.asarray([e.background_g for e in events], dtype=np.float64),
        "clipped": ["true" if e.clipped else "false" for e in events],
    }


def activity_columns(activity: Sequence[ActivityPeriod], tz: str | ZoneInfo) -> dict[str, Any]:
    """Activity periods as columns :data:`ACTIVITY_COLUMNS`: float64 arrays and lists of str."""
    starts = [a.start for a in activity]
    ends = [a.end for a in activity]
    return {
        "start": np.asarray(starts, dtype=np.float64),
        "end": np.asarray(ends, dtype=np.float64),
        "start_local": local_iso(starts, tz),
        "end_local": local_iso(ends, tz),
        "minutes": np.asarray([a.minutes for a in activity], dtype=np.float64),
        "kind": [a.kind for a in activity],
    }


def _ordered(columns: dict[str, Any], names: Sequence[str]) -> dict[str, Any]:
    """``columns`` in the order ``names``."""
    return {name: columns[name] for name in names}


def _frame(columns: dict[str, Any], names: Sequence[str]) -> pd.DataFrame:
    """A DataFrame of ``columns`` (text columns as ``object``), in the order ``names``."""
    import pandas as pd  # imported here: ``detect`` writes its CSVs without pandas

    data = {
        k: v if isinstance(v, np.ndarray) else pd.Series(v, dtype=object)
        for k, v in columns.items()
    }
    return pd.DataFrame(data, columns=list(names))


def events_frame(events: Sequence[JerkEvent], tz: str | ZoneInfo) -> pd.DataFrame:
    """Events as a DataFrame with columns :data:`EVENT_CSV_COLUMNS` (numeric, not rounded)."""
    return _frame(events_columns(events, tz), EVENT_CSV_COLUMNS)


def activity_frame(activity: Sequence[ActivityPeriod], tz: str | ZoneInfo) -> pd.DataFrame:
    """Activity periods as a DataFrame with columns :data:`ACTIVITY_COLUMNS`."""
    return _frame(activity_columns(activity, tz), ACTIVITY_COLUMNS)


def _is_number(v: object) -> bool:
    return isinstance(v, int | float | np.integer | np.floating) and not isinstance(
        v, bool | np.bool_
    )


def _is_missing(v: object) -> bool:
    return v is None or (isinstance(v, float | np.floating) and v != v)


def _cells(values: Sequence[Any], fmt: str | None) -> list[str]:
    """A column as CSV cell texts: ``fmt % value`` for numbers when ``fmt`` is given
    (text that is not a number: empty), else the text pandas' ``to_csv`` writes for a
    column of these values: NaN and None empty, and a column of numbers that holds a
    float or a missing cell written as floats (``3.0``), as pandas upcasts it."""
    if isinstance(values, np.ndarray) and values.dtype.kind == "f":
        values = values.tolist()
    if fmt is not None:
        out = []
        for v in values:
            try:
                x = float(v)
            except (TypeError, ValueError):
                x = math.nan
            out.append(fmt % x if math.isfinite(x) else "")
        return out
    present = [v for v in values if not _is_missing(v)]
    as_float = (
        all(_is_number(v) for v in present)
        and len(present) > 0
        and (len(present) < len(values) or any(isinstance(v, float | np.floating) for v in present))
    )
    if as_float:
        return ["" if _is_missing(v) else repr(float(v)) for v in values]
    return ["" if _is_missing(v) else str(v) for v in values]


def write_columns_csv(
    path: str | Path,
    columns: Mapping[str, Sequence[Any]],
    formats: Mapping[str, str] = EVENT_FORMATS,
) -> Path:
    """Write ``columns`` (name -> values, all of one length, in that order) as CSV
    atomically; numeric columns in ``formats`` (``printf`` formats), NaN as empty.

    The same bytes as pandas' ``DataFrame.to_csv(index=False, lineterminator="\\n")``
    of a DataFrame of these columns (Python's :mod:`csv` module, minimal quoting),
    without pandas.
    """
    names = [str(c) for c in columns]
    cells = [_cells(columns[c], formats.get(c)) for c in columns]
    path = Path(path)
    with atomic_write(path) as fh:
        _write_rows(fh, names, zip(*cells, strict=True))
    log.info("wrote %d rows to %s", len(cells[0]) if cells else 0, path)
    return path


def _write_rows(fh: IO[str], header: Sequence[str], rows: Iterable[Sequence[str]]) -> None:
    """CSV ``header`` and ``rows`` of text cells to ``fh`` (minimal quoting, ``\\n`` ends)."""
    writer = csv.writer(fh, lineterminator="\n")
    writer.writerow(header)
    writer.writerows(rows)


def write_events_csv(
    path: str | Path,
    events: Sequence[JerkEvent],
    tz: str | ZoneInfo,
    metadata: Mapping[str, Any] | None = None,
) -> Path:
    """Write the events CSV atomically; with ``metadata``, also the JSON sidecar.

    The CSV stays plain (header on line 1) so any CSV tool reads it; ``metadata``
    goes to :func:`sidecar_paths` ``(path)[1]`` (``EVENTS.json``).
    """
    path = write_columns_csv(path, _ordered(events_columns(events, tz), EVENT_CSV_COLUMNS))
    if metadata is not None:
        write_json(sidecar_paths(path)[1], metadata)
    return path


def write_activity_csv(
    path: str | Path,
    activity: Sequence[ActivityPeriod],
    tz: str | ZoneInfo,
) -> Path:
    """Write the activity periods CSV atomically."""
    return write_columns_csv(path, _ordered(activity_columns(activity, tz), ACTIVITY_COLUMNS))


def json_text(data: Mapping[str, Any]) -> str:
    """``data`` as indented JSON text ending in a newline (NaN becomes ``null``; numpy
    values become plain numbers and lists)."""
    return json.dumps(_jsonable(data), indent=2, allow_nan=False) + "\n"


def write_json(path: str | Path, data: Mapping[str, Any]) -> Path:
    """Write ``data`` as indented JSON atomically (:func:`json_text`)."""
    path = Path(path)
    text = json_text(data)  # one write, not thousands
    with atomic_write(path) as fh:
        fh.write(text)
    return path


def sidecar_paths(events_path: str | Path) -> tuple[Path, Path]:
    """``(activity_csv, json)`` beside an events file.

    ``night.events.csv`` -> ``night.events.activity.csv``, ``night.events.json``.
    """
    p = Path(events_path)
    stem = p.name[: -len(p.suffix)] if p.suffix else p.name
    return p.with_name(f"{stem}.activity.csv"), p.with_name(f"{stem}.json")


def default_events_path(recording_path: str | Path) -> Path:
    """Where ``detect`` writes by default: ``night.csv`` -> ``night.events.csv`` beside it
    (``night.csv.gz`` too: a compression suffix goes with the one before it)."""
    p = Path(recording_path)
    inner = Path(p.stem) if p.suffix.lower() in (".gz", ".zip") else p
    return p.with_name(f"{inner.stem}.events.csv")


def _jsonable(value: Any) -> Any:
    """Recursively turn numpy scalars, paths, dataclass-free containers into JSON types."""
    if isinstance(value, Mapping):
        return {str(k): _jsonable(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_jsonable(v) for v in value]
    if isinstance(value, np.ndarray):
        return [_jsonable(v) for v in value.tolist()]
    if isinstance(value, np.generic):
        value = value.item()
    if isinstance(value, float) and not math.isfinite(value):
        return None
    if isinstance(value, Path):
        return str(value)
    return value


@dataclass(frozen=True)
class DetectionSummary:
    """Headline numbers of one detection.

    span_h : hours from the first to the last grid sample (gaps included).
    recorded_h : hours actually recorded (gaps excluded).
    rate_per_h : jerks per recorded hour (0 when nothing was recorded).
    activity_min : minutes of activity periods; gap_min : minutes of gaps.
    pulse_min : minutes whose triggers the pulse level held (beats in nearly every
    1.25 s, as a chest strap's heartbeat: a jerk there must reach twice their size).
    """

    jerks: int
    span_h: float
    recorded_h: float
    rate_per_h: float
    activity_min: float
    gaps: int
    gap_min: float
    pulse_min: float = 0.0

    def line(self, path: str | Path) -> str:
        """The one-line report printed by ``jerkcount detect``."""
        return (
            f"{jerks_text(self.jerks)} in {self.recorded_h:.2f} h ({self.rate_per_h:.1f}/h), "
            f"{self.activity_min:.1f} activity minutes -> {path}"
        )


def summarize(detection: Detection) -> DetectionSummary:
    """Counts and durations of a :class:`~pipeline.detector.Detection`."""
    fs = detection.header.fs
    span_s = detection.n_samples / fs
    gap_s = sum(g.duration_s for g in detection.gaps)
    recorded_s = max(0.0, span_s - gap_s)
    recorded_h = recorded_s / 3600.0
    jerks = len(detection.events)
    return DetectionSummary(
        jerks=jerks,
        span_h=span_s / 3600.0,
        recorded_h=recorded_h,
        rate_per_h=jerks / recorded_h if recorded_h > 0 else 0.0,
        activity_min=float(sum(a.minutes for a in detection.activity)),
        gaps=len(detection.gaps),
        gap_min=gap_s / 60.0,
        pulse_min=detection.pulse_samples / fs / 60.0 if fs else 0.0,
    )


def quality_dict(detection: Detection) -> dict[str, Any] | None:
    """The data-quality record of a detection as JSON-ready data (``None`` when the
    detection did not come from the reader, e.g. an in-memory recording)."""
    quality = getattr(detection, "quality", None)
    return None if quality is None else quality.as_dict()


def write_detection(
    detection: Detection, events_path: str | Path, tz: str
) -> tuple[DetectionSummary, dict[str, Path]]:
    """Write events CSV, activity CSV and JSON sidecar for a detection, atomically.

    Returns the summary and the paths written (keys ``events``, ``activity``, ``json``).
    """
    zone = get_zone(tz)
    events_path = Path(events_path)
    activity_path, json_path = sidecar_paths(events_path)
    summary = summarize(detection)
    header = detection.header
    sidecar = {
        "jerkcount_version": __version__,
        "created_utc": datetime.now(UTC).isoformat(timespec="seconds"),
        "recording": {
            "source": header.source,
            "t0": header.t0,
            "t0_local": local_iso([header.t0], zone)[0],
            "fs_hz": header.fs,
            "n_samples": detection.n_samples,
            "metadata": dict(header.metadata),
        },
        "time_zone": tz,
        "detector_params": detection.params.as_dict(),
        "counts": asdict(summary),
        "gaps": [
            {"start": g.start, "end": g.end, "duration_s": g.duration_s} for g in detection.gaps
        ],
        "data_quality": quality_dict(detection),
        "files": {
            "events": events_path.name,
            "activity": activity_path.name,
        },
    }
    if special_file(events_path):  # /dev/stdout: the three files need a file's name
        raise InputError(events_path, "not a regular file: detect writes the events CSV "
                         "and two files beside it (give a file name)")  # fmt: skip
    # the three as one set, the sidecar (its parameters) last: a run stopped part-way
    # (a full disk) leaves an earlier run's three files, never a mix
    with file_set([activity_path, events_path, json_path]) as (activity_tmp, events_tmp, json_tmp):
        write_activity_csv(activity_tmp, detection.activity, zone)
        write_events_csv(events_tmp, detection.events, zone)
        write_json(json_tmp, sidecar)
    return summary, {"events": events_path, "activity": activity_path, "json": json_path}
