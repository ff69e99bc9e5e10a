"""Real recordings without myoclonus (SisFall): false jerks per activity and per hour.

Every trial is read with both accelerometers of the SisFall board (MMA8451Q, 14 bit
±8 g; ADXL345, 13 bit ±16 g) and run through :func:`detect_recording`. Nothing in
these recordings is a myoclonic jerk, so every event is a false positive. Walking,
jogging, stairs and rolling over (D01, D03, D05, D14) must give none.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from pathlib import Path

from bench.report import Table, fmt, verdict
from bench.sisfall_inject import REPLICATES, SENSOR_NAMES, injection_table, run_injection
from pipeline.detector import DetectorParams, detect_recording
from pipeline.sisfall import ACTIVITIES, find_trials, read_sisfall

#: Activities that must give no jerk at all (issue 2: walking, jogging, stairs, rolling).
MUST_BE_ZERO = ("D01", "D03", "D05", "D14")


@dataclass(frozen=True)
class TrialResult:
    """Detection on one trial with one sensor."""

    path: Path
    activity: str
    sensor: str
    minutes: float
    event_times: tuple[float, ...]
    activity_minutes: float


def activity_code(path: Path) -> str:
    """The activity code (``"D01"`` ...) of a SisFall file name."""
    return path.name.split("_", 1)[0]


def detect_trials(root: Path, params: DetectorParams) -> list[TrialResult]:
    """Run the detector on every trial below ``root`` with both sensors."""
    results = []
    for path in find_trials(root):
        for sensor in SENSOR_NAMES:
            rec = read_sisfall(path, sensor)
            det = detect_recording(rec, params)
            results.append(
                TrialResult(
                    path=path,
                    activity=activity_code(path),
                    sensor=sensor,
                    minutes=rec.duration_s / 60.0,
                    event_times=tuple(e.time for e in det.events),
                    activity_minutes=det.activity_minutes,
                )
            )
    return results


def false_count_table(results: list[TrialResult]) -> Table:
    """Per activity and sensor: files, minutes, false jerks, activity minutes; totals."""
    cols = ["activity", "", "files", "minutes"]
    for s in SENSOR_NAMES:
        cols += [f"jerks {s}", f"activity min {s}"]
    cols += ["required", "result"]
    table = Table("SisFall real recordings (no myoclonus): false jerks", cols)
    by_act: dict[str, dict[str, list[TrialResult]]] = defaultdict(lambda: defaultdict(list))
    for r in results:
        by_act[r.activity][r.sensor].append(r)
    for act in sorted(by_act):
        per = by_act[act]
        first = per[SENSOR_NAMES[0]]
        row: list[object] = [act, ACTIVITIES.get(act, ""), len(first)]
        row.append(fmt(sum(r.minutes for r in first), 1))
        counts = []
        for s in SENSOR_NAMES:
            n = sum(len(r.event_times) for r in per[s])
            counts.append(n)
            row += [n, fmt(sum(r.activity_minutes for r in per[s]), 2)]
        must = act in MUST_BE_ZERO
        row += ["0" if must else "report", verdict(sum(counts) == 0) if must else "–"]
        table.add(row)
    table.add(_total_row(results))
    table.caption = _caption(results)
    return table


def _total_row(results: list[TrialResult]) -> list[object]:
    """Totals over all activities; jerks also as a false count per hour."""
    first = [r for r in results if r.sensor == SENSOR_NAMES[0]]
    minutes = sum(r.minutes for r in first)
    row: list[object] = ["**all**", "", len(first), fmt(minutes, 1)]
    for s in SENSOR_NAMES:
        mine = [r for r in results if r.sensor == s]
        n = sum(len(r.event_times) for r in mine)
        per_hour = n / (minutes / 60.0) if minutes else float("nan")
        row += [f"{n} ({fmt(per_hour, 2)}/h)", fmt(sum(r.activity_minutes for r in mine), 2)]
    zero_ok = all(not r.event_times for r in results if r.activity in MUST_BE_ZERO)
    row += ["0 for " + ", ".join(MUST_BE_ZERO), verdict(zero_ok)]
    return row


def _caption(results: list[TrialResult]) -> str:
    """Caption: data source and the files that gave events, if any."""
    subjects = sorted({r.path.parent.name for r in results})
    text = (
        f"SisFall subset in `tests/data/sisfall` (subjects {', '.join(subjects)}, trial R01, "
        "200 Hz, waist-worn): every event is a false positive. Jerk counts per sensor, with "
        "the false count per hour over all files in the last row; activity minutes are what "
        "the detector reported as movement/rhythmic activity instead of jerks."
    )
    hits = [r for r in results if r.event_times]
    if hits:
        listed = "; ".join(
            f"{r.path.name} {r.sensor}: " + ", ".join(f"{t:.2f} s" for t in r.event_times)
            for r in hits
        )
        text += f" Events at: {listed}."
    return text


def run(
    root: Path, params: DetectorParams | None = None, replicates: int = REPLICATES
) -> list[Table]:
    """The false-count table and the injection table for the SisFall trials below ``root``.

    ``replicates``: independent jerk placements per trial and sensor for the injection.
    """
    params = params or DetectorParams()
    tables = [false_count_table(detect_trials(root, params))]
    tables.append(injection_table(run_injection(root, params, replicates)))
    return tables
