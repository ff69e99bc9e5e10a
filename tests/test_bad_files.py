"""The corpus of bad files (tests/data/bad/, written by tests/bad_corpus.py) through the CLI.

Each file has one exact expected outcome: exit 2 with one line on stderr naming the
file (and line), or exit 0 with the stated repairs and findings in ``EVENTS.json``'s
``data_quality``. Never a traceback.
"""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pandas as pd
import pytest
from click.testing import CliRunner

from cli import main
from tests.bad_corpus import BAD, files

AXIVITY = ["--format", "axivity", "--tz", "Europe/Berlin"]
#: what a device's export says about a time in a daylight-saving change (since 0.4.5;
#: before, the CSV exports said only that it was skipped, or "write times with a UTC
#: offset", which a logger's export cannot do)
DEVICE_CLOCK = (
    "the device clock does not change for daylight saving: give --tz the fixed offset it "
    "was set to (e.g. Etc/GMT-2 for UTC+02:00)"
)

#: name -> (extra options, exact error message after "FILE", or None)
ERRORS: dict[str, tuple[list[str], str]] = {
    "empty.csv": ([], ": empty file"),
    "header_only.csv": ([], ":3: header only, no samples"),
    "binary_garbage.csv": ([], ":1: not a text CSV file (not UTF-8)"),
    "huge_line.csv": ([], ":102: axis x value is not finite (too large)"),
    "beyond_range.csv": (
        [], ":202: axis y value 1e+30 g is beyond any accelerometer's range (±100000 g): a "
        "wrong column, or a unit to give with --units",
    ),
    "mixed_delimiters.csv": ([], ":52: expected 4 fields time,ax,ay,az, found 1"),
    "wrong_column_count.csv": ([], ":72: expected 4 fields time,ax,ay,az, found 5"),
    "not_a_number.csv": ([], ":32: ay is not a number: 'abc'"),
    "joined_files.csv": (
        [], ":302: the header again (two recordings joined end to end?): split the file here "
        "and read each part",
    ),
    "time_in_ms.csv": (
        [], ":2: time 1767225600000 is not Unix seconds (it would be past the year 5000): it "
        "looks like milliseconds since the epoch; read it with --time-unit ms",
    ),
    "nan_column.csv": ([], ":2: axis y has no values (empty or NaN in every row)"),
    "clock_reset.csv": (
        [], ":302: timestamp goes backwards by 3599.960 s (a device clock reset?): "
        "split the file there, or fix its clock",
    ),
    "replayed_rows.csv": ([], ":202: timestamp goes backwards (repeats an earlier time)"),
    "dst_gap_axivity.csv": (
        AXIVITY, ":251: local time '2026-03-29 02:00:00.000' is skipped in Europe/Berlin "
        f"(daylight-saving change); {DEVICE_CLOCK}",
    ),
    "dst_repeat_one_pass_axivity.csv": (
        AXIVITY, ":1: local time '2026-10-25 02:59:50.000' is repeated in Europe/Berlin "
        f"(daylight-saving change) and the rows do not show which pass it is; {DEVICE_CLOCK}",
    ),
}  # fmt: skip

#: name -> (extra options, expected data_quality entries, gaps, jerks or None)
REPAIRS: dict[str, tuple[list[str], dict, int, int | None]] = {
    "nan_rows.csv": ([], {"nan_rows_dropped": 3, "repairs": 3}, 0, 0),
    "swapped_packets.csv": ([], {"out_of_order_rows": 6, "repairs": 6}, 0, 0),
    "duplicates.csv": (
        [], {"duplicate_timestamps_dropped": 4, "conflicting_duplicates": 2, "repairs": 4}, 0, 0
    ),
    "torn_last_line.csv": ([], {"torn_last_line_dropped": 1, "repairs": 1}, 0, 0),
    "truncated.csv.gz": (
        [], {"compressed_data_truncated": True, "torn_last_line_dropped": 1, "repairs": 1}, 0, 0
    ),
    "bom_crlf.csv": ([], {"repairs": 0, "warnings": []}, 0, 0),
    "gap_and_drops.csv": ([], {"repairs": 0}, 1, 0),
    "dst_repeat_axivity.csv": (AXIVITY, {"dst_repeated_rows": 1200, "repairs": 1200}, 123, 0),
    "rate_change.csv": (
        [], {"rate_changes": [{"line": 302, "time": 1767225612.04, "from_hz": 25.0,
                               "to_hz": 12.5}], "repairs": 0}, 0, 0,
    ),
    "stuck_axis.csv": (
        [], {"stuck_axes": [{"axis": "y", "start": 1767225600.0, "end": 1767225679.96,
                             "value_g": -0.10254, "line": 2, "duration_s": pytest.approx(79.96)}]},
        0, 0,
    ),
    "m_s2.csv": (
        [], {"warnings": ["values look like m/s² (median |a| 9.77, expected about 1 g): "
                          "use --units m/s2"]}, 0, None,
    ),
    "clipped_jerk.csv": (
        [], {"clip_source": "metadata", "clip_levels_g": {"range": 8.0}, "clipped_samples": 2,
             "clipped_events": 1}, 0, 2,
    ),
    "relative_times.csv": (
        [], {"repairs": 0, "warnings": ["time starts at 0 s, which dates the recording "
             "1970-01-01: if the times count from the start of the recording, read it with "
             "--time-unit relative --start ISO-8601"]}, 0, 0,
    ),
    "rate_12.5hz.csv": (
        [], {"repairs": 0, "rate_changes": [], "warnings": ["sample rate 12.5 Hz is below 25 "
             "Hz: a jerk shorter than 160 ms spans fewer than two samples and may be missed, "
             "so the count is a lower bound"]}, 0, 0,
    ),
    "rate_1000hz.csv.gz": ([], {"repairs": 0, "rate_changes": []}, 0, 0),
}  # fmt: skip


def test_corpus_is_what_the_generator_writes():
    made = files()
    assert sorted(made) == sorted(p.name for p in BAD.iterdir())
    assert sorted(made) == sorted([*ERRORS, *REPAIRS])
    for name, content in made.items():
        assert (BAD / name).read_bytes() == content, name


def _run(tmp_path: Path, name: str, extra: list[str]):
    src = tmp_path / name
    shutil.copy(BAD / name, src)  # outputs land beside a copy, messages name the copy
    out = tmp_path / "out.events.csv"
    res = CliRunner().invoke(main, ["detect", str(src), "--out", str(out), "--tz", "UTC", *extra])
    return src, out, res


@pytest.mark.parametrize("name", sorted(ERRORS))
def test_bad_file_stops_with_one_line(tmp_path, name):
    extra, message = ERRORS[name]
    src, out, res = _run(tmp_path, name, extra)
    assert res.exit_code == 2, res.output
    assert "Traceback" not in res.output and isinstance(res.exception, SystemExit)
    assert res.stderr == f"jerkcount: error: {src}{message}\n"
    assert res.stdout == "" and not out.exists()


@pytest.mark.parametrize("name", sorted(REPAIRS))
def test_bad_file_is_repaired_and_reported(tmp_path, name):
    extra, expected, gaps, jerks = REPAIRS[name]
    _, out, res = _run(tmp_path, name, extra)
    assert res.exit_code == 0, res.output
    assert "Traceback" not in res.output
    sidecar = json.loads(out.with_suffix(".json").read_text())
    quality = sidecar["data_quality"]
    for key, value in expected.items():
        assert quality[key] == value, key
    assert sidecar["counts"]["gaps"] == gaps
    events = pd.read_csv(out)
    assert list(events.columns)[-1] == "clipped"
    if jerks is not None:
        assert len(events) == jerks
    if name == "clipped_jerk.csv":  # the 12 g jerk is clipped at 8 g, the 0.6 g one is not
        assert events["clipped"].tolist() == [True, False]
        assert events["peak_g"].iloc[0] < 8.0 < 12.0
