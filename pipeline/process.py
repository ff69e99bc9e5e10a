"""The ``process`` job: recordings of one person -> day-window summaries and a report.

For each recording (in time order) one pass over its chunks runs the jerk detector
and the :class:`~pipeline.nonwear.NonWearTracker` together; the recordings are then
combined (:func:`pipeline.summary.combine`), summarised per window and hour, and the
output folder is written, every file atomically, only after everything was computed:

``events.csv``
    the counted jerks, the columns of ``detect`` (``time,time_local,peak_g,
    duration_ms,axis,peak_time,background_g``) plus ``recording`` (the input path).
``activity.csv``
    ``start,end,start_local,end_local,minutes,kind``; kinds ``movement``,
    ``rhythmic`` and ``nonwear``. Gaps are not here (they are in ``summary.json``).
``daily_summary.csv``
    one row per window holding any recording, :data:`pipeline.summary.DAILY_COLUMNS`.
``hourly.csv``
    one row per hour of each such window, :data:`pipeline.summary.HOURLY_COLUMNS`.
``summary.json``
    jerkcount version, every parameter, the recordings (metadata, size, mtime,
    sha256), per-window numbers with hourly rows and segment patterns, data quality
    (gaps, non-wear, and per recording the reader's :class:`~pipeline.quality.DataQuality`).
``report.html``
    written by :func:`pipeline.report.write_report` from the files above.
"""

from __future__ import annotations

import contextlib
import hashlib
import logging
import os
import shutil
import threading
from collections.abc import Callable, Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import UTC, datetime, time
from pathlib import Path
from typing import Any

from pipeline import __version__
from pipeline.atomic import renamed, run_folder
from pipeline.detector import Detection, detect_stream
from pipeline.errors import InputError
from pipeline.events import ActivityPeriod
from pipeline.formats.base import check_path
from pipeline.inputs import check_spares_inputs
from pipeline.nonwear import NonWearParams, NonWearTracker
from pipeline.outputs import (
    EVENT_FORMATS,
    activity_columns,
    events_columns,
    get_zone,
    quality_dict,
    write_columns_csv,
    write_json,
)
from pipeline.params import DetectorParams
from pipeline.pattern import PatternParams
from pipeline.readahead import helper_threads
from pipeline.reader import ReaderParams, open_recording
from pipeline.summary import (
    Combined,
    FileInfo,
    RecordingResult,
    WindowSummary,
    combine,
    daily_columns,
    hourly_columns,
    summarise,
)
from pipeline.windows import DEFAULT_DAY_START, iso_local

log = logging.getLogger(__name__)

FILE_NAMES = {
    "events": "events.csv",
    "activity": "activity.csv",
    "daily": "daily_summary.csv",
    "hourly": "hourly.csv",
    "json": "summary.json",
    "report": "report.html",
}

#: ``printf`` formats of numeric CSV columns (others are written as they are; NaN empty).
FORMATS: dict[str, str] = {
    **EVENT_FORMATS,
    "hours_recorded": "%.4f",
    "hours_valid": "%.4f",
    "hours_in_window": "%.4f",
    "jerks_per_hour": "%.3f",
    "activity_min": "%.2f",
    "nonwear_min": "%.2f",
    "gap_min": "%.2f",
    "amp_median_g": "%.4f",
    "amp_p90_g": "%.4f",
    "minutes_recorded": "%.2f",
    "minutes_valid": "%.2f",
    "rate_per_h": "%.4g",
    "iei_median_s": "%.4g",
    "iei_q1_s": "%.4g",
    "iei_q3_s": "%.4g",
    "cv": "%.4g",
    "lv": "%.4g",
    "burstiness": "%.4g",
    "fano": "%.4g",
    "period_s": "%.4g",
    "period_coverage": "%.4g",
    "plm_periodicity_index": "%.4g",
    "mean_burst_size": "%.4g",
    "pattern_p_value": "%.4g",
}


@dataclass(frozen=True)
class ProcessParams:
    """Settings of a ``process`` run.

    tz : IANA zone of the windows and of every local time written.
    day_start : local time at which a window starts (12:00: nights; 00:00: days).
    detector, pattern, nonwear, reader : the parameters of each stage.
    chunk_samples : samples per chunk of the single pass over each recording.
    hash_files : compute each input's sha256 (else size and mtime only).
    """

    tz: str = "UTC"
    day_start: time = DEFAULT_DAY_START
    detector: DetectorParams = field(default_factory=DetectorParams)
    pattern: PatternParams = field(default_factory=PatternParams)
    nonwear: NonWearParams = field(default_factory=NonWearParams)
    reader: ReaderParams = field(default_factory=ReaderParams)
    chunk_samples: int = 65_536
    hash_files: bool = True


@dataclass
class ProcessResult:
    """What a ``process`` run produced: the combined recordings, windows, files written."""

    combined: Combined
    windows: list[WindowSummary]
    paths: dict[str, Path]


def file_info(path: Path, with_hash: bool = True, stop: threading.Event | None = None) -> FileInfo:
    """Size (bytes), mtime (epoch s) and sha256 (hex, or "" without hashing) of a file.

    ``stop`` (optional) abandons the hashing between two 1 MiB blocks once set (the
    digest is then ""): a failed run need not wait for a long file to be hashed.
    """
    st = path.stat()
    digest = ""
    if with_hash:
        h = hashlib.sha256()
        buf = bytearray(1 << 20)
        view = memoryview(buf)
        with open(path, "rb", buffering=0) as fh:
            while n := fh.readinto(buf):
                if stop is not None and stop.is_set():
                    return FileInfo(int(st.st_size), float(st.st_mtime), "")
                h.update(view[:n])  # releases the GIL: runs beside the detector
        digest = h.hexdigest()
    return FileInfo(int(st.st_size), float(st.st_mtime), digest)


def process_file(
    path: Path, params: ProcessParams, progress: Callable[[int], None] | None = None
) -> RecordingResult:
    """Detect jerks and non-wear in one recording, in one pass over its chunks.

    The file's sha256 is computed meanwhile in a second thread (hashlib and file
    reads release the GIL), so it costs no wall time on a machine with two cores;
    it is abandoned if the detection fails. Without helper threads
    (:func:`~pipeline.readahead.helper_threads`, batch workers) it is computed after.
    ``progress`` (optional) is called with input bytes consumed since its last call.
    """
    path = Path(path)
    check_path(path)  # before the hashing starts: a named pipe would block it for good

    def detect() -> tuple[Detection, list[ActivityPeriod]]:
        with open_recording(path, params.reader) as stream:
            tracker = NonWearTracker(stream.header.fs, stream.header.t0, params.nonwear)
            detection = detect_stream(
                stream, params.detector, progress, params.chunk_samples, tracker.feed
            )
            return detection, tracker.finish()

    if not helper_threads():
        detection, nonwear = detect()
        file = file_info(path, params.hash_files)
    else:
        stop = threading.Event()
        with ThreadPoolExecutor(max_workers=1, thread_name_prefix="jerkcount-sha256") as pool:
            info = pool.submit(file_info, path, params.hash_files, stop)
            try:
                detection, nonwear = detect()
            except BaseException:
                stop.set()
                raise
            file = info.result()
    log.info(
        "%s: %d jerks, %d activity periods, %d non-wear periods",
        path, len(detection.events), len(detection.activity), len(nonwear),
    )  # fmt: skip
    return RecordingResult(path, detection, nonwear, file)


def _check_once(paths: Sequence[str | Path]) -> None:
    """:class:`InputError` for a recording given twice (the same file by two names, or a
    folder and a file in it): it would only overlap itself."""
    seen: dict[str, str | Path] = {}
    for p in paths:
        key = os.path.realpath(p)
        if key in seen:
            also = "" if str(seen[key]) == str(p) else f" (also as {seen[key]})"
            raise InputError(p, f"given twice{also}: give each recording once")
        seen[key] = p


def _starts(paths: Sequence[Path], reader: ReaderParams) -> list[tuple[float, Path]]:
    """``(t0, path)`` of every recording (header only), sorted by t0.

    A single recording needs no order: it is not opened here (t0 given as NaN).
    """
    if len(paths) == 1:
        return [(float("nan"), Path(paths[0]))]
    found = []
    for p in paths:
        with open_recording(p, reader) as stream:
            found.append((stream.header.t0, Path(p)))
    return sorted(found, key=lambda x: x[0])


def process_recordings(
    paths: Sequence[str | Path],
    out_dir: str | Path,
    params: ProcessParams,
    progress: Callable[[int], None] | None = None,
) -> ProcessResult:
    """Process the recordings of one person into ``out_dir`` (see the module docstring).

    Raises :class:`InputError` for a bad file (naming it, and the line), two
    overlapping recordings (naming both), or an unknown time zone; nothing is written
    then.
    """
    if not paths:
        raise InputError(None, "no recordings given")
    get_zone(params.tz)  # a bad zone fails before the long work
    out_dir = Path(out_dir)
    if out_dir.exists() and not out_dir.is_dir():
        raise InputError(out_dir, "is not a directory (--out needs a folder)")
    check_spares_inputs([out_dir / name for name in FILE_NAMES.values()], paths)
    _check_once(paths)
    ordered = _starts([Path(p) for p in paths], params.reader)
    results: list[RecordingResult] = []
    for k, (_, path) in enumerate(ordered):
        rec = process_file(path, params, progress)
        results.append(rec)
        if k + 1 < len(ordered) and ordered[k + 1][0] < rec.end - 0.5 / rec.detection.header.fs:
            nxt = ordered[k + 1][1]
            raise InputError(
                nxt,
                f"overlaps {path} (starts {iso_local(ordered[k + 1][0], 'UTC')} before {path} "
                f"ends {iso_local(rec.end, 'UTC')}); give each stretch of time only once",
            )
    combined = combine(results)
    windows = summarise(combined, params.tz, params.day_start, params.pattern)
    paths_written = write_outputs(out_dir, combined, windows, params)
    return ProcessResult(combined, windows, paths_written)


# ------------------------------------------------------------------ writing
def write_csv(
    path: Path, columns: Mapping[str, Sequence[Any]], formats: Mapping[str, str] = FORMATS
) -> Path:
    """Write ``columns`` as CSV atomically with the numeric formats of the process
    outputs (:func:`pipeline.outputs.write_columns_csv`)."""
    return write_columns_csv(path, columns, formats)


def all_activity(combined: Combined) -> list[ActivityPeriod]:
    """Detector activity and non-wear periods together, by start."""
    return sorted([*combined.activity, *combined.nonwear], key=lambda a: (a.start, a.end))


def summary_json(
    combined: Combined, windows: Sequence[WindowSummary], params: ProcessParams
) -> dict[str, Any]:
    """The content of ``summary.json`` (see the README's file formats)."""
    zone = params.tz
    kinds: dict[str, float] = {}
    for a in all_activity(combined):
        kinds[a.kind] = kinds.get(a.kind, 0.0) + a.minutes
    recordings = []
    quality: list[dict[str, Any]] = []
    for r in combined.recordings:
        h = r.detection.header
        recordings.append(
            {
                "path": str(r.path),
                "size_bytes": r.file.size_bytes if r.file else None,
                "mtime_utc": (
                    datetime.fromtimestamp(r.file.mtime, UTC).isoformat(timespec="seconds")
                    if r.file
                    else None
                ),
                "sha256": r.file.sha256 if r.file and r.file.sha256 else None,
                "start": r.start,
                "end": r.end,
                "start_local": iso_local(r.start, zone),
                "end_local": iso_local(r.end, zone),
                "fs_hz": h.fs,
                "n_samples": r.detection.n_samples,
                "metadata": dict(h.metadata),
                "jerks_detected": len(r.detection.events),
                "activity_periods": len(r.detection.activity),
                "nonwear_periods": len(r.nonwear),
                "gaps": len(r.detection.gaps),
                "pulse_min": r.detection.pulse_samples / h.fs / 60.0 if h.fs else 0.0,
            }
        )
        quality.append({"path": str(r.path), **(quality_dict(r.detection) or {})})
    gaps = [
        {
            "start": a,
            "end": b,
            "start_local": iso_local(a, zone),
            "end_local": iso_local(b, zone),
            "duration_s": b - a,
        }
        for a, b in combined.gaps
    ]
    nonwear = [
        {
            "start": p.start,
            "end": p.end,
            "start_local": iso_local(p.start, zone),
            "end_local": iso_local(p.end, zone),
            "minutes": p.minutes,
        }
        for p in combined.nonwear
    ]
    return {
        "jerkcount_version": __version__,
        "created_utc": datetime.now(UTC).isoformat(timespec="seconds"),
        "time_zone": params.tz,
        "day_start": params.day_start.strftime("%H:%M"),
        "calendar_days": params.day_start == time(0, 0),
        "parameters": {
            "detector": params.detector.as_dict(),
            "pattern": params.pattern.as_dict(),
            "nonwear": params.nonwear.as_dict(),
            "reader": {
                "max_gap_s": params.reader.max_gap_s,
                "read_rows": params.reader.read_rows,
                "probe_rows": params.reader.probe_rows,
            },
            "segment_s": 3600.0,  # the segments are the clock hours of hourly.csv
            "chunk_samples": params.chunk_samples,
        },
        "recordings": recordings,
        "windows": [w.as_dict() for w in windows],
        "data_quality": {
            "gap_min_total": sum(g["duration_s"] for g in gaps) / 60.0,
            "nonwear_min_total": sum(w.nonwear_min for w in windows),  # gaps not twice
            "activity_min_total": sum(a.minutes for a in combined.activity),
            "activity_min_by_kind": kinds,
            "jerks_dropped_in_nonwear": combined.dropped_nonwear,
            "gaps": gaps,
            "nonwear": nonwear,
            "repairs_total": sum(int(q.get("repairs", 0)) for q in quality),
            "clipped_events_total": sum(int(q.get("clipped_events", 0)) for q in quality),
            "recordings": quality,
        },
        "files": dict(FILE_NAMES),
    }


#: Hidden folder inside the output folder where a run's files are written before they
#: are moved into place (same file system, so each move is a rename).
STAGING_DIR = ".jerkcount-writing"


def write_outputs(
    out_dir: Path,
    combined: Combined,
    windows: Sequence[WindowSummary],
    params: ProcessParams,
) -> dict[str, Path]:
    """Write every output file into ``out_dir``; returns their paths.

    All are written first into this run's ``STAGING_DIR-<pid>-<random>/<its name>/``
    inside it (:func:`~pipeline.atomic.run_folder`, which also clears a killed run's)
    and then renamed into place, ``summary.json`` last: a run that stops part-way
    (Ctrl-C, a full disk, a bad value found late) leaves an earlier run's files as
    they were, never some of this run's beside some of that one's.
    """
    made = not out_dir.exists()  # made by this run: removed again if nothing lands in it
    # this run's own (a second run into the same folder at once does not touch it)
    work = run_folder(out_dir, STAGING_DIR)
    staging = work / out_dir.name  # the folder's own name: the report names it
    staging.mkdir()
    placed = False
    try:
        try:
            _write_all(staging, combined, windows, params)
        except (OSError, InputError) as err:  # name the file as the user knows it
            names = {str(staging / n): str(out_dir / n) for n in FILE_NAMES.values()}
            moved = renamed(err, names)
            if moved is err:
                raise
            raise moved from err
        order = [k for k in FILE_NAMES if k != "json"] + ["json"]
        for key in order:
            os.replace(staging / FILE_NAMES[key], out_dir / FILE_NAMES[key])
        placed = True
        log.info("%s: %s in place", out_dir, ", ".join(FILE_NAMES[k] for k in order))
    finally:
        shutil.rmtree(work, ignore_errors=True)
        if made and not placed:
            with contextlib.suppress(OSError):
                out_dir.rmdir()  # only when empty: no folder left that looks like a result
    return {key: out_dir / name for key, name in FILE_NAMES.items()}


def _write_all(
    out_dir: Path, combined: Combined, windows: Sequence[WindowSummary], params: ProcessParams
) -> None:
    """Every output file, each atomically, into ``out_dir`` (the staging folder)."""
    zone = get_zone(params.tz)
    paths = {key: out_dir / name for key, name in FILE_NAMES.items()}
    events = events_columns(combined.events, zone)
    events["recording"] = list(combined.event_source)
    write_csv(paths["events"], events)
    write_csv(paths["activity"], activity_columns(all_activity(combined), zone))
    write_csv(paths["hourly"], hourly_columns(windows))
    write_csv(paths["daily"], daily_columns(windows))
    write_json(paths["json"], summary_json(combined, windows, params))
    from pipeline.report import write_report

    write_report(out_dir)
