"""Small, exact output folders of ``jerkcount process`` for the report tests.

:func:`build_output` writes ``events.csv``, ``daily_summary.csv``, ``hourly.csv``,
``activity.csv`` and ``summary.json`` with the columns of the shared contract, from
a list of :class:`NightSpec` (jerk times drawn with a seeded generator, so every
number is known). Each night is recorded 22:30–06:30 local time in a noon-to-noon
window, with a movement and a rhythmic activity period, 40 min of non-wear at the
end and a 3 min gap.

Run as a script to write the README picture of a simulated ten-night folder::

    .venv/bin/python tests/report_fixture.py docs/report-example.png
"""

from __future__ import annotations

import csv
import json
import sys
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import numpy as np

DAILY_HEADER = (
    "day,window_start,window_end,hours_recorded,hours_valid,jerks,jerks_per_hour,pattern,"
    "hours_in_window,recording_start,recording_end,activity_min,nonwear_min,gap_min,"
    "amp_median_g,amp_p90_g,rate_per_h,iei_median_s,iei_q1_s,iei_q3_s,cv,lv,burstiness,fano,"
    "period_s,period_coverage,plm_series,plm_periodicity_index,bursts,mean_burst_size,"
    "pattern_p_value,pattern_min_events"
).split(",")
MIN_EVENTS = 30
GAP_MIN = 3.0


@dataclass(frozen=True)
class NightSpec:
    """One night: the date its window starts, how many jerks and how they come.

    ``pattern``: ``random``, ``periodic`` (every ``period_s`` ± 3 %), ``clustered``
    (bursts of about 6 jerks a few seconds apart), ``mixed`` (random in the first
    half of the recording, periodic in the second) or ``none`` (no jerks).
    """

    day: date
    pattern: str
    jerks: int
    period_s: float = 24.0
    seed: int = 0
    median_g: float = 0.3


def _iso(t: float, zone: ZoneInfo) -> str:
    return datetime.fromtimestamp(t, zone).isoformat(timespec="milliseconds")


def _local(day: date, hh: int, mm: int, zone: ZoneInfo, plus_days: int = 0) -> float:
    d = day + timedelta(days=plus_days)
    return datetime(d.year, d.month, d.day, hh, mm, tzinfo=zone).timestamp()


def _free(t: np.ndarray, spans: list[tuple[float, float, str]]) -> np.ndarray:
    keep = np.ones(t.size, bool)
    for a, b, _k in spans:
        keep &= ~((t >= a) & (t < b))
    return t[keep]


def _times(
    spec: NightSpec,
    rec0: float,
    rec1: float,
    spans: list[tuple[float, float, str]],
    rng: np.random.Generator,
) -> np.ndarray:
    """Exactly ``spec.jerks`` onsets inside the recording and outside the spans."""
    n = spec.jerks
    if n == 0 or spec.pattern == "none":
        return np.array([])

    def periodic(k: int, t0: float) -> np.ndarray:
        steps = spec.period_s * (1 + 0.03 * rng.standard_normal(4 * k))
        return t0 + np.cumsum(steps)

    out = np.array([])
    for _ in range(200):
        if spec.pattern == "random":
            cand = rng.uniform(rec0, rec1, 4 * n)
        elif spec.pattern == "periodic":
            cand = periodic(n, rec0 + 2 * 3600)
        elif spec.pattern == "clustered":
            centres = rng.uniform(rec0, rec1, n)
            cand = (centres[:, None] + np.cumsum(rng.uniform(0.5, 3, (n, 6)), axis=1)).ravel()
        elif spec.pattern == "mixed":
            half = (rec0 + rec1) / 2
            cand = np.concatenate([rng.uniform(rec0, half - 600, n), periodic(n, half)])
        else:
            raise ValueError(spec.pattern)
        cand = _free(cand[(cand > rec0) & (cand < rec1)], spans)
        if cand.size >= n:
            if spec.pattern == "mixed":
                first = cand[cand < (rec0 + rec1) / 2][: n // 2]
                second = np.sort(cand[cand >= (rec0 + rec1) / 2])[: n - first.size]
                out = np.concatenate([first, second])
            elif spec.pattern in ("periodic", "clustered"):
                out = (
                    np.sort(cand)[:n]
                    if spec.pattern == "periodic"
                    else rng.choice(cand, n, replace=False)
                )
            else:
                out = cand[:n]
            break
    return np.round(np.sort(out), 3)


def build_output(
    out_dir: Path,
    nights: list[NightSpec],
    tz: str = "Europe/Berlin",
    device: str = "simulated wrist sensor",
) -> Path:
    """Write an output folder for ``nights`` into ``out_dir``; returns ``out_dir``.

    ``device`` is written into ``summary.json`` as recording metadata (the tests put
    hostile markup there to check the escaping).
    """
    zone = ZoneInfo(tz)
    out_dir.mkdir(parents=True, exist_ok=True)
    events_rows, daily_rows, hourly_rows, act_rows, windows = [], [], [], [], []
    for spec in nights:
        rng = np.random.default_rng(spec.seed)
        w0 = _local(spec.day, 12, 0, zone)
        w1 = _local(spec.day, 12, 0, zone, 1)
        rec0 = _local(spec.day, 22, 30, zone)
        rec1 = _local(spec.day, 6, 30, zone, 1)
        spans = [
            (rec0 + 3600.0, rec0 + 3600.0 + 600, "movement"),
            (rec0 + 5 * 3600.0, rec0 + 5 * 3600.0 + 360, "rhythmic"),
            (rec1 - 2400.0, rec1, "nonwear"),
        ]
        t = _times(spec, rec0, rec1, spans, rng)
        g = np.round(spec.median_g * np.exp(0.5 * rng.standard_normal(t.size)), 4)
        for ti, gi in zip(t, g, strict=True):
            events_rows.append(
                [
                    f"{ti:.3f}",
                    _iso(ti, zone),
                    f"{gi:.4f}",
                    "85.0",
                    "y",
                    f"{ti + 0.03:.3f}",
                    "0.01200",
                ]
            )
        for a, b, k in spans:
            act_rows.append(
                [f"{a:.3f}", f"{b:.3f}", _iso(a, zone), _iso(b, zone), f"{(b - a) / 60:.3f}", k]
            )
        activity_min = (600 + 360) / 60
        nonwear_min = 2400 / 60
        hours_recorded = (rec1 - rec0) / 3600
        hours_valid = hours_recorded - (activity_min + nonwear_min + GAP_MIN) / 60
        n = int(t.size)
        label = (
            "insufficient"
            if n < MIN_EVENTS or spec.pattern == "none"
            else "periodic"
            if spec.pattern == "mixed"
            else spec.pattern
        )
        iei = np.diff(t)
        q = np.percentile(iei, [25, 50, 75]) if iei.size else [np.nan] * 3
        periodic = label == "periodic"
        rate = n / hours_valid
        daily_rows.append(
            {
                "day": spec.day.isoformat(),
                "window_start": _iso(w0, zone),
                "window_end": _iso(w1, zone),
                "hours_recorded": f"{hours_recorded:.3f}",
                "hours_valid": f"{hours_valid:.3f}",
                "jerks": n,
                "jerks_per_hour": f"{rate:.3f}",
                "pattern": label,
                "hours_in_window": f"{(w1 - w0) / 3600:g}",
                "recording_start": _iso(rec0, zone),
                "recording_end": _iso(rec1, zone),
                "activity_min": f"{activity_min:.1f}",
                "nonwear_min": f"{nonwear_min:.1f}",
                "gap_min": f"{GAP_MIN:.1f}",
                "amp_median_g": f"{np.median(g):.4f}" if n else "",
                "amp_p90_g": f"{np.percentile(g, 90):.4f}" if n else "",
                "rate_per_h": f"{rate:.3f}",
                "iei_median_s": f"{q[1]:.3f}",
                "iei_q1_s": f"{q[0]:.3f}",
                "iei_q3_s": f"{q[2]:.3f}",
                "cv": "",
                "lv": "",
                "burstiness": "",
                "fano": "",
                "period_s": f"{spec.period_s:.2f}" if periodic else "",
                "period_coverage": "0.5" if periodic else "",
                "plm_series": "",
                "plm_periodicity_index": "",
                "bursts": str(n // 6) if label == "clustered" else "0",
                "mean_burst_size": "6.0" if label == "clustered" else "",
                "pattern_p_value": {"random": "0.41", "insufficient": ""}.get(label, "0.001"),
                "pattern_min_events": str(MIN_EVENTS),
            }
        )
        windows.append({"day": spec.day.isoformat(), "jerks": n})
        h = w0
        while h < w1:
            h_end = min(h + 3600.0, w1)
            rec = max(0.0, min(h_end, rec1) - max(h, rec0)) / 60
            lost = sum(max(0.0, min(h_end, b) - max(h, a)) for a, b, _k in spans) / 60
            inside = (t >= h) & (t < h_end)
            k = int(inside.sum())
            early = int((inside & (t < (rec0 + rec1) / 2)).sum())  # the random half
            hl = "insufficient"
            if k >= 10:
                hl = (
                    ("random" if 2 * early >= k else "periodic")
                    if spec.pattern == "mixed"
                    else label
                )
            hourly_rows.append(
                [
                    spec.day.isoformat(),
                    _iso(h, zone),
                    _iso(h_end, zone),
                    f"{rec:.1f}",
                    f"{max(rec - lost, 0):.1f}",
                    k,
                    hl,
                ]
            )
            h = h_end
    _write(
        out_dir / "events.csv",
        ["time", "time_local", "peak_g", "duration_ms", "axis", "peak_time", "background_g"],
        events_rows,
    )
    _write(
        out_dir / "daily_summary.csv",
        DAILY_HEADER,
        [[r[c] for c in DAILY_HEADER] for r in daily_rows],
    )
    _write(
        out_dir / "hourly.csv",
        ["day", "hour_start", "hour_end", "minutes_recorded", "minutes_valid", "jerks", "pattern"],
        hourly_rows,
    )
    _write(
        out_dir / "activity.csv",
        ["start", "end", "start_local", "end_local", "minutes", "kind"],
        act_rows,
    )
    summary = {
        "jerkcount_version": "0.1.0",
        "time_zone": tz,
        "parameters": {"day_start": "12:00", "detector": {"threshold_k": 6.0}},
        "recordings": [{"path": "night.csv", "metadata": {"device": device}}],
        "windows": windows,
        "data_quality": {"gap_min": GAP_MIN * len(nights)},
    }
    (out_dir / "summary.json").write_text(json.dumps(summary, indent=2), encoding="utf-8")
    return out_dir


def _write(path: Path, header: list[str], rows: list[list[object]]) -> None:
    with path.open("w", newline="", encoding="utf-8") as fh:
        w = csv.writer(fh)
        w.writerow(header)
        w.writerows(rows)


def example_nights() -> list[NightSpec]:
    """Ten simulated nights of a treatment: the rate falls, the pattern changes."""
    patterns = [
        "clustered",
        "clustered",
        "random",
        "clustered",
        "random",
        "random",
        "periodic",
        "random",
        "none",
        "mixed",
    ]
    counts = [96, 88, 80, 71, 60, 52, 47, 40, 0, 90]
    return [
        NightSpec(date(2026, 3, 19) + timedelta(days=i), p, c, seed=i, period_s=24.0)
        for i, (p, c) in enumerate(zip(patterns, counts, strict=True))
    ]


if __name__ == "__main__":  # pragma: no cover - writes the README picture
    import tempfile

    sys.path.insert(0, str(Path(__file__).parent))
    from browser import screenshot

    from pipeline.report import write_report

    target = Path(sys.argv[1] if len(sys.argv) > 1 else "docs/report-example.png")
    with tempfile.TemporaryDirectory() as tmp:
        folder = build_output(Path(tmp) / "out", example_nights())
        report = write_report(folder)
        screenshot(report, target, Path(tmp), width=1000, height=2300)
    print(target, target.stat().st_size, "bytes")
