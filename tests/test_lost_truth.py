"""The truth marks jerks whose samples were lost on the link; ``score --exclude-lost``.

The simulator keeps jerks clear of link outages but not of dropped packets, so a lost
packet can fall on a jerk: its samples are missing from the recording though the truth
lists it. Since 0.4.5 the truth's last column, ``lost_samples``, counts them, and
``score --exclude-lost`` leaves such jerks out, with the detections that match them.
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
from click.testing import CliRunner

from cli import main
from pipeline.score import score_files
from sim import TRUTH_COLUMNS, NightConfig, read_truth_csv, simulate_night, write_truth_csv

OLD_COLUMNS = ["kind", "time", "end", "peak_g", "duration_ms", "detail"]


def _run(*args: object):
    return CliRunner().invoke(main, [str(a) for a in args])


def test_the_truth_keeps_its_columns_and_adds_lost_samples_at_the_end(tmp_path: Path) -> None:
    night = simulate_night(NightConfig(hours=0.05, fs=50, seed=2, rate_per_hour=300))
    path = write_truth_csv(tmp_path / "t.csv", night.truth)
    lines = path.read_text().splitlines()
    assert lines[0] == ",".join(OLD_COLUMNS) + ",lost_samples"
    assert TRUTH_COLUMNS == [*OLD_COLUMNS, "lost_samples"]
    assert all(line.rsplit(",", 1)[1].isdigit() for line in lines[1:])
    back = read_truth_csv(path)
    assert back["lost_samples"].tolist() == night.truth["lost_samples"].tolist()


def test_lost_samples_counts_each_jerks_missing_samples() -> None:
    """Without jitter the sensor samples at ``i / fs``: a jerk's samples are the ``i``
    with ``time <= start + i / fs <= end``, and those not in the recording were lost."""
    fs = 50.0
    cfg = NightConfig(hours=0.5, fs=fs, seed=5, rate_per_hour=1200, jitter_s=0.0,
                      drop_prob=0.05, outage_per_hour=0.0)  # fmt: skip
    night = simulate_night(cfg)
    received = set(np.rint((night.time - cfg.start) * fs).astype(np.int64).tolist())
    expected = []
    for start, end in zip(night.truth["time"], night.truth["end"], strict=True):
        first = int(np.ceil((start - cfg.start) * fs - 1e-6))
        last = int(np.floor((end - cfg.start) * fs + 1e-6))
        expected.append(sum(i not in received for i in range(first, last + 1)))
    assert night.truth["lost_samples"].tolist() == expected
    jerks = night.jerks
    assert (jerks["lost_samples"] > 0).sum() >= 5  # the test sees lost jerks at all
    assert (jerks["lost_samples"] == 0).sum() >= 100


def _files(tmp_path: Path) -> tuple[Path, Path]:
    """A truth with jerks at 10, 30, 60.0 s (nothing lost) and 20, 40, 60.2 s (samples
    lost), a walking span; detections near 10, 20, 40 (two), 60.1 and two false ones."""
    truth = tmp_path / "truth.csv"
    truth.write_text(
        ",".join(TRUTH_COLUMNS) + "\n"
        "jerk,10.0000,10.1000,0.5000,100.00,halfsine,0\n"
        "jerk,20.0000,20.0500,0.4000,50.00,gaussian,3\n"
        "jerk,30.0000,30.0500,0.3000,50.00,biphasic,0\n"
        "jerk,40.0000,40.1000,0.2000,100.00,ringing,2\n"
        "walking,50.0000,55.0000,0.3000,5000.00,walk 1.8 Hz,5\n"
        "jerk,60.0000,60.0500,0.6000,50.00,halfsine,0\n"
        "jerk,60.2000,60.2500,0.6000,50.00,halfsine,1\n"
    )
    events = tmp_path / "events.csv"
    events.write_text(
        "time,peak_g,duration_ms\n"
        "10.050,0.4,90\n20.020,0.3,40\n29.000,0.2,60\n40.100,0.2,90\n40.200,0.1,30\n"
        "50.000,0.3,200\n60.100,0.5,40\n"
    )
    return truth, events


def test_exclude_lost_leaves_out_the_lost_jerks_and_their_detections(tmp_path: Path) -> None:
    truth, events = _files(tmp_path)
    every = score_files(truth, events)
    assert (every.tp, every.fp, every.fn) == (4, 3, 2)
    assert (every.excluded_truths, every.excluded_detections) == (0, 0)
    kept = score_files(truth, events, exclude_lost=True)
    # 10.05 and 60.1 hit kept jerks (60.1 goes to the kept 60.0, not the lost 60.2);
    # 20.02 and 40.1 are detections of lost jerks; 29.0, 40.2 and 50.0 are false
    assert (kept.tp, kept.fp, kept.fn) == (2, 3, 1)
    assert (kept.excluded_truths, kept.excluded_detections) == (3, 2)
    assert (kept.precision, kept.recall) == (0.4, 2 / 3)


def test_score_exclude_lost_line_json_and_matches(tmp_path: Path) -> None:
    truth, events = _files(tmp_path)
    res = _run("score", truth, events, "--exclude-lost")
    assert res.exit_code == 0, res.output
    assert res.output == (
        "precision 0.400  recall 0.667  F1 0.500  (tp 2, fp 3, fn 1; tolerance 0.3 s; "
        "left out: 3 jerks with lost samples and 2 detections of them)\n"
    )
    res = _run("score", truth, events, "--exclude-lost", "--json")
    got = json.loads(res.output)
    assert (got["excluded_truths"], got["excluded_detections"]) == (3, 2)
    assert list(got)[-2:] == ["excluded_truths", "excluded_detections"]
    matches = tmp_path / "m.csv"
    res = _run("score", truth, events, "--exclude-lost", "--matches", matches)
    assert res.exit_code == 0, res.output
    assert matches.read_text().splitlines() == [
        "status,truth_time,event_time,error_ms,truth_peak_g,event_peak_g,"
        "truth_duration_ms,event_duration_ms,truth_detail",
        "tp,10.0000,10.0500,50.0,0.5000,0.4000,100.0,90.0,halfsine",
        "excluded,20.0000,20.0200,20.0,0.4000,0.3000,50.0,40.0,gaussian",
        "fp,,29.0000,,,0.2000,,60.0,",
        "fn,30.0000,,,0.3000,,50.0,,biphasic",
        "excluded,40.0000,40.1000,100.0,0.2000,0.2000,100.0,90.0,ringing",
        "fp,,40.2000,,,0.1000,,30.0,",
        "fp,,50.0000,,,0.3000,,200.0,",
        "tp,60.0000,60.1000,100.0,0.6000,0.5000,50.0,40.0,halfsine",
        "excluded,60.2000,,,0.6000,,50.0,,halfsine",
    ]


def test_exclude_lost_without_the_column_or_with_a_bad_count_is_an_error(
    tmp_path: Path,
) -> None:
    truth, events = _files(tmp_path)
    old = tmp_path / "old.truth.csv"
    old.write_text(",".join(OLD_COLUMNS) + "\njerk,10.0000,10.1000,0.5000,100.00,halfsine\n")
    matches = tmp_path / "m.csv"
    res = _run("score", old, events, "--exclude-lost", "--matches", matches)
    assert res.exit_code == 2
    assert res.output == (
        f"jerkcount: error: {old}: no lost_samples column, which --exclude-lost needs "
        "(simulate writes it since 0.4.5: simulate the night again)\n"
    )
    assert not matches.exists()
    assert _run("score", old, events).exit_code == 0  # without the option: as before
    bad = tmp_path / "bad.truth.csv"
    bad.write_text(truth.read_text().replace("ringing,2", "ringing,two"))
    res = _run("score", bad, events, "--exclude-lost")
    assert res.exit_code == 2
    assert res.output == f"jerkcount: error: {bad}:5: lost_samples is not a whole number >= 0\n"
