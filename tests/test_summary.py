"""Window summaries on hand-made detections: exact hours, counts, DST nights, splits."""

from __future__ import annotations

import math
from datetime import datetime
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from pipeline.detector import Detection
from pipeline.errors import InputError
from pipeline.events import ActivityPeriod, JerkEvent
from pipeline.params import DetectorParams
from pipeline.recording import Gap, RecordingHeader
from pipeline.summary import (
    DAILY_COLUMNS,
    HOURLY_COLUMNS,
    RecordingResult,
    combine,
    daily_frame,
    hourly_frame,
    intersect,
    measure,
    night_table,
    summarise,
    union,
)
from pipeline.windows import CALENDAR_DAY_START

BERLIN = "Europe/Berlin"
FS = 50.0


def _t(text: str) -> float:
    return datetime.fromisoformat(text).timestamp()


def _event(t: float, peak: float = 0.5) -> JerkEvent:
    return JerkEvent(t, peak, 80.0, "x", t + 0.02, 0.01)


def _rec(
    name: str,
    start: float,
    end: float,
    events: list[float] = (),  # type: ignore[assignment]
    activity: list[ActivityPeriod] = (),  # type: ignore[assignment]
    gaps: list[tuple[float, float]] = (),  # type: ignore[assignment]
    nonwear: list[ActivityPeriod] = (),  # type: ignore[assignment]
    peaks: list[float] | None = None,
) -> RecordingResult:
    """A processed recording from ``start`` to ``end`` (epoch s) on a FS grid."""
    n = int(round((end - start) * FS))
    peaks = peaks if peaks is not None else [0.5] * len(events)
    gap_objs = [
        Gap(a, b, int(round((a - start) * FS)), int(round((b - start) * FS))) for a, b in gaps
    ]
    det = Detection(
        events=[_event(t, p) for t, p in zip(events, peaks, strict=True)],
        activity=list(activity),
        gaps=gap_objs,
        header=RecordingHeader(start, FS, {"device": "test"}, name),
        params=DetectorParams(),
        n_samples=n,
    )
    return RecordingResult(Path(name), det, list(nonwear))


def test_interval_helpers() -> None:
    assert union([(5, 6), (1, 3), (2, 4), (7, 7)]) == [(1, 4), (5, 6)]
    assert intersect([(0, 10), (20, 30)], [(5, 25)]) == [(5, 10), (20, 25)]
    assert measure([(0, 10), (20, 30)], 5, 25) == 10.0
    assert measure([], 0, 1) == 0.0


def test_spring_dst_night_summary() -> None:
    start, end = _t("2026-03-28T22:00:00+01:00"), _t("2026-03-29T07:00:00+02:00")
    jerks = [start + 600.0 * k for k in range(1, 40)]  # every 10 min
    act = [ActivityPeriod(start + 3600, start + 3600 + 300, "movement")]
    gaps = [(start + 7200, start + 7260)]
    rec = _rec("n.csv", start, end, jerks, act, gaps, peaks=list(np.linspace(0.1, 3.9, 39)))
    (s,) = summarise(combine([rec]), BERLIN)
    row = s.as_row()
    assert list(row) == DAILY_COLUMNS
    assert row["day"] == "2026-03-28"
    assert row["window_start"] == "2026-03-28T12:00:00+01:00"
    assert row["window_end"] == "2026-03-29T12:00:00+02:00"
    assert row["hours_in_window"] == 23.0
    assert row["recording_start"] == "2026-03-28T22:00:00+01:00"
    assert row["recording_end"] == "2026-03-29T07:00:00+02:00"
    assert row["hours_recorded"] == pytest.approx(8.0)  # 22:00 CET -> 07:00 CEST is 8 h
    assert row["activity_min"] == pytest.approx(5.0)
    assert row["gap_min"] == pytest.approx(1.0)
    assert row["nonwear_min"] == 0.0
    assert row["hours_valid"] == pytest.approx(8.0 - 6.0 / 60.0)
    assert row["jerks"] == 39
    assert row["jerks_per_hour"] == pytest.approx(39 / (8.0 - 0.1))
    assert row["amp_median_g"] == pytest.approx(2.0)
    assert row["amp_p90_g"] == pytest.approx(np.percentile(np.linspace(0.1, 3.9, 39), 90))
    assert row["pattern"] in ("periodic", "clustered", "random")
    assert row["pattern_min_events"] == s.pattern.min_events_needed
    hours = hourly_frame([s])
    assert list(hours.columns) == HOURLY_COLUMNS
    assert len(hours) == 23
    assert hours["jerks"].sum() == 39
    assert hours["minutes_recorded"].sum() == pytest.approx(8 * 60.0)
    assert hours["minutes_valid"].sum() == pytest.approx(8 * 60.0 - 6.0)
    assert "2026-03-29T03:00:00+02:00" in set(hours["hour_start"])
    assert "2026-03-29T02:00:00+01:00" not in set(hours["hour_start"])
    unrecorded = hours[hours["minutes_recorded"] == 0]
    assert len(unrecorded) == 23 - 8 and (unrecorded["pattern"] == "").all()
    assert len(s.segments) == 8  # one pattern per recorded hour in summary.json


def test_autumn_dst_night_has_25_hourly_rows() -> None:
    start, end = _t("2026-10-24T23:00:00+02:00"), _t("2026-10-25T07:00:00+01:00")
    rec = _rec("n.csv", start, end, [start + 100.0, start + 3 * 3600.0 + 5])
    (s,) = summarise(combine([rec]), BERLIN)
    assert s.window.hours == 25.0
    assert s.hours_recorded == pytest.approx(9.0)  # the clock went back: 9 real hours
    hours = hourly_frame([s])
    assert len(hours) == 25
    assert list(hours["hour_start"]).count("2026-10-25T02:00:00+02:00") == 1
    assert list(hours["hour_start"]).count("2026-10-25T02:00:00+01:00") == 1
    repeated = hours[hours["hour_start"] == "2026-10-25T02:00:00+02:00"].iloc[0]
    assert repeated["jerks"] == 1 and repeated["minutes_recorded"] == pytest.approx(60.0)


def test_night_without_jerks() -> None:
    start = _t("2026-05-01T23:00:00+02:00")
    (s,) = summarise(combine([_rec("q.csv", start, start + 6 * 3600)]), BERLIN)
    row = s.as_row()
    assert row["jerks"] == 0
    assert row["jerks_per_hour"] == 0.0
    assert row["pattern"] == "insufficient"
    assert math.isnan(row["amp_median_g"]) and math.isnan(row["amp_p90_g"])
    assert row["hours_valid"] == pytest.approx(6.0)
    assert row["pattern_min_events"] > 0
    assert night_table([s])[1].split() == ["2026-05-01", "0", "0.0", "6.00", "insufficient"]


def test_split_files_give_the_same_summary_as_one() -> None:
    start = _t("2026-03-28T21:00:00+01:00")
    end = start + 10 * 3600.0
    rng = np.random.default_rng(4)
    jerks = sorted((start + rng.uniform(60, 10 * 3600 - 60, 120)).tolist())
    act = [
        ActivityPeriod(start + 5000, start + 5100, "rhythmic"),
        ActivityPeriod(start + 18000 - 30, start + 18000 + 30, "movement"),
    ]
    whole = _rec("whole.csv", start, end, jerks, act, [(start + 9000, start + 9010)])
    cut = start + 18000.0  # 02:00 local, inside a movement period
    a = _rec(
        "a.csv", start, cut, [t for t in jerks if t < cut],
        [act[0], ActivityPeriod(cut - 30, cut, "movement")], [(start + 9000, start + 9010)],
    )  # fmt: skip
    tail = [ActivityPeriod(cut, cut + 30, "movement")]
    b = _rec("b.csv", cut, end, [t for t in jerks if t >= cut], tail)
    one = summarise(combine([whole]), BERLIN)
    two = summarise(combine([b, a]), BERLIN)  # given in any order
    pd.testing.assert_frame_equal(daily_frame(one), daily_frame(two))
    pd.testing.assert_frame_equal(hourly_frame(one), hourly_frame(two))
    assert [x.label for *_, x in one[0].segments] == [x.label for *_, x in two[0].segments]


def test_nonwear_is_excluded_and_its_jerks_dropped() -> None:
    start = _t("2026-06-01T22:00:00+02:00")
    nw = ActivityPeriod(start + 3600, start + 3 * 3600, "nonwear")
    jerks = [start + 100, start + 4000, start + 8000, start + 4 * 3600]
    combined = combine([_rec("n.csv", start, start + 5 * 3600, jerks, nonwear=[nw])])
    assert combined.dropped_nonwear == 2
    assert [e.time for e in combined.events] == [start + 100, start + 4 * 3600]
    (s,) = summarise(combined, BERLIN)
    assert s.jerks == 2
    assert s.nonwear_min == pytest.approx(120.0)
    assert s.hours_recorded == pytest.approx(5.0)
    assert s.hours_valid == pytest.approx(3.0)
    assert s.jerks_per_hour == pytest.approx(2 / 3.0)


def test_unrecorded_windows_are_not_written_and_partial_is_truthful() -> None:
    n1 = _t("2026-03-02T23:00:00+01:00")
    n3 = _t("2026-03-04T10:00:00+01:00")  # starts before noon: belongs to 2026-03-03
    recs = [_rec("n1.csv", n1, n1 + 3600), _rec("n3.csv", n3, n3 + 4 * 3600)]
    out = summarise(combine(recs), BERLIN)
    assert [s.window.label for s in out] == ["2026-03-02", "2026-03-03", "2026-03-04"]
    assert [s.hours_recorded for s in out] == pytest.approx([1.0, 2.0, 2.0])
    assert out[1].as_row()["recording_start"] == "2026-03-04T10:00:00+01:00"
    assert out[1].as_row()["recording_end"] == "2026-03-04T12:00:00+01:00"


def test_calendar_days_cut_at_midnight() -> None:
    start = _t("2026-03-28T22:00:00+01:00")
    rec = _rec("n.csv", start, start + 4 * 3600, [start + 60, start + 3 * 3600])
    out = summarise(combine([rec]), BERLIN, CALENDAR_DAY_START)
    assert [s.window.label for s in out] == ["2026-03-28", "2026-03-29"]
    assert [s.window.hours for s in out] == [24.0, 23.0]
    assert [s.hours_recorded for s in out] == pytest.approx([2.0, 2.0])
    assert [s.jerks for s in out] == [1, 1]
    assert out[1].window.start_iso == "2026-03-29T00:00:00+01:00"


def test_overlapping_recordings_are_an_error_naming_both() -> None:
    start = _t("2026-03-02T23:00:00+01:00")
    a = _rec("first.csv", start, start + 3600)
    b = _rec("second.csv", start + 1800, start + 5400)
    with pytest.raises(InputError) as err:
        combine([b, a])
    assert "second.csv" in str(err.value) and "first.csv" in str(err.value)
    # touching recordings (one night split at a sample) are fine
    c = _rec("third.csv", start + 3600 - 0.25 / FS, start + 7200)
    assert len(combine([a, c]).spans) == 2


def test_a_gap_across_windows_is_not_recorded_time() -> None:
    # one file: 2 h on the night of 24 Oct, nothing for 49 h, 2 h on the night of 26 Oct
    start = _t("2026-10-24T23:00:00+02:00")
    gap = (start + 2 * 3600, start + 51 * 3600)
    mid_gap = (start + 1800, start + 1860)  # a dropped minute inside the first night
    jerks = [start + 600, start + 4000, gap[1] + 100, gap[1] + 5000]
    rec = _rec("long.csv", start, gap[1] + 2 * 3600, jerks, gaps=[mid_gap, gap])
    out = summarise(combine([rec]), BERLIN)
    # the night of 25 Oct lies wholly in the gap: it holds no sample and gets no row
    assert [s.window.label for s in out] == ["2026-10-24", "2026-10-26"]
    rows = [s.as_row() for s in out]
    assert [r["hours_recorded"] for r in rows] == pytest.approx([2.0, 2.0])
    assert [r["gap_min"] for r in rows] == pytest.approx([1.0, 0.0])
    assert [r["hours_valid"] for r in rows] == pytest.approx([2.0 - 1 / 60, 2.0])
    assert [r["jerks_per_hour"] for r in rows] == pytest.approx([2 / (2.0 - 1 / 60), 1.0])
    assert [r["recording_start"] for r in rows] == [
        "2026-10-24T23:00:00+02:00",
        "2026-10-27T01:00:00+01:00",
    ]
    assert [r["recording_end"] for r in rows] == [
        "2026-10-25T01:00:00+02:00",
        "2026-10-27T03:00:00+01:00",
    ]
    hours = hourly_frame(out)
    recorded = hours[hours["minutes_recorded"] > 0]
    assert list(recorded["hour_start"]) == [
        "2026-10-24T23:00:00+02:00",
        "2026-10-25T00:00:00+02:00",
        "2026-10-27T01:00:00+01:00",
        "2026-10-27T02:00:00+01:00",
    ]
    assert list(recorded["minutes_valid"]) == pytest.approx([59.0, 60.0, 60.0, 60.0])
    assert (hours["minutes_valid"] >= 0).all()
    assert (hours[hours["minutes_recorded"] == 0]["pattern"] == "").all()


def test_an_hour_after_the_last_sample_is_not_recorded() -> None:
    # a grid fitted 0.1 ms late: the recording "ends" 0.1 ms into the 08:00 hour, whose
    # first sample would be at 08:00:00.0001 - past the last one (07:59:59.9801)
    start = _t("2026-06-01T23:00:00+02:00") + 1e-4
    (s,) = summarise(combine([_rec("n.csv", start, start + 9 * 3600)]), BERLIN)
    hours = hourly_frame([s])
    after = hours[hours["hour_start"] == "2026-06-02T08:00:00+02:00"].iloc[0]
    assert after["minutes_recorded"] == 0.0 and after["minutes_valid"] == 0.0
    assert after["pattern"] == ""
    last = hours[hours["hour_start"] == "2026-06-02T07:00:00+02:00"].iloc[0]
    assert last["minutes_recorded"] == pytest.approx(60.0 - 1e-4 / 60)
    assert last["pattern"] == "insufficient"
    assert s.hours_recorded == pytest.approx(9.0)


def test_a_night_without_valid_time_has_no_rate() -> None:
    # a sensor left on the table: two hours of non-wear, no valid minute
    start = _t("2026-06-04T22:00:00+02:00")
    nw = ActivityPeriod(start, start + 2 * 3600, "nonwear")
    (s,) = summarise(combine([_rec("table.csv", start, start + 2 * 3600, nonwear=[nw])]), BERLIN)
    row = s.as_row()
    assert (row["hours_recorded"], row["hours_valid"], row["nonwear_min"]) == (2.0, 0.0, 120.0)
    assert row["jerks"] == 0
    assert math.isnan(row["jerks_per_hour"])  # not 0 jerks per hour: nothing could be seen
    assert row["pattern"] == "insufficient"
    assert night_table([s])[1].split() == ["2026-06-04", "0", "-", "0.00", "insufficient"]


def test_a_gap_inside_non_wear_is_counted_once(tmp_path: Path) -> None:
    """An hour on a table with a 2-minute hole in the data: the non-wear period bridges
    the hole; the night's minutes count it once, as a gap (it was in `nonwear_min` and
    in `gap_min` both)."""
    from click.testing import CliRunner

    from cli import main
    from pipeline.writer import write_samples_csv

    fs, t0 = 50.0, 1_767_294_000.0  # 2026-01-01T19:00:00Z
    rng = np.random.default_rng(9)
    t = t0 + np.arange(int(3600 * fs)) / fs
    acc = np.array([0.05, -0.1, 0.99]) + rng.normal(0.0, 0.005, (t.size, 3))
    keep = (t < t0 + 1800.0) | (t >= t0 + 1920.0)
    path = tmp_path / "table.csv"
    write_samples_csv(path, t[keep], acc[keep], {"fs": "50"})
    res = CliRunner().invoke(main, ["process", str(path), "--out", str(tmp_path / "o"),
                                    "--tz", "UTC"])  # fmt: skip
    assert res.exit_code == 0, res.output
    day = pd.read_csv(tmp_path / "o" / "daily_summary.csv").iloc[0]
    assert day["gap_min"] == pytest.approx(2.0, abs=0.01)
    assert day["nonwear_min"] == pytest.approx(58.0, abs=0.01)
    assert day["hours_valid"] == pytest.approx(0.0, abs=1e-4)


def test_segments_are_the_clock_hours_of_hourly_csv() -> None:
    # a night from 23:30 to 02:15: hourly.csv has 23:00, 00:00, 01:00 and 02:00 rows
    # with data; summary.json's segments used to run 23:30-00:30, 00:30-01:30, ...
    start = _t("2026-05-01T23:30:00+02:00")
    end = _t("2026-05-02T02:15:00+02:00")
    rng = np.random.default_rng(7)
    jerks = sorted((start + rng.uniform(0, end - start, 90)).tolist())
    jerks = [t for t in jerks if not start + 3000 <= t < start + 3120]  # none in activity
    act = [ActivityPeriod(start + 3000, start + 3120, "movement")]
    (s,) = summarise(combine([_rec("n.csv", start, end, jerks, act)]), BERLIN)
    out = s.as_dict()
    recorded = [h for h in out["hourly"] if h["minutes_recorded"] > 0]
    assert [h["hour_start"][11:16] for h in recorded] == ["23:00", "00:00", "01:00", "02:00"]
    segments = out["segments"]
    assert [g["start"] for g in segments] == [h["hour_start"] for h in recorded]
    assert [g["end"] for g in segments] == [h["hour_end"] for h in recorded]
    assert [g["n"] for g in segments] == [h["jerks"] for h in recorded]
    assert sum(g["n"] for g in segments) == len(jerks) == s.jerks
    assert [g["label"] for g in segments] == [h["pattern"] for h in recorded]
    # the analysed time of each hour is its valid time (minutes_valid)
    for g, h in zip(segments, recorded, strict=True):
        assert g["duration_h"] * 60.0 == pytest.approx(h["minutes_valid"])
