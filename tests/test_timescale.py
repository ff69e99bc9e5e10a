"""Time columns that are not Unix seconds: milliseconds (an error that says so and the
fix, which then works), times from the recording's start (a warning; with the options,
the same events), and a header of well-known names read without ``--axes``."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import numpy as np
import pytest
from click.testing import CliRunner

from cli import main
from pipeline.detector import Detection, detect_stream
from pipeline.errors import InputError
from pipeline.formats import InputOptions
from pipeline.formats.generic import default_axes, default_time
from pipeline.reader import open_recording
from pipeline.timescale import relative_time_warning, time_unit_problem

NIGHT = Path(__file__).parent / "data" / "formats" / "night.csv"
HEADER_LINE = 13  # the fixture's ``time,ax,ay,az`` line (12 metadata lines before it)


def _rows() -> tuple[list[str], list[tuple[str, str]]]:
    """The fixture's metadata lines and its rows as (time text, axes text)."""
    lines = NIGHT.read_text().splitlines()
    meta = lines[: HEADER_LINE - 1]
    assert lines[HEADER_LINE - 1] == "time,ax,ay,az"
    rows = [(s.split(",", 1)[0], s.split(",", 1)[1]) for s in lines[HEADER_LINE:]]
    return meta, rows


def _write(path: Path, header: str, times: list[str], axes: list[str]) -> Path:
    path.write_text(header + "\n" + "".join(f"{t},{a}\n" for t, a in zip(times, axes, strict=True)))
    return path


def _detect(path: Path, options: InputOptions | None = None) -> Detection:
    with open_recording(path, None, options) as stream:
        return detect_stream(stream)


@pytest.fixture(scope="module")
def reference() -> Detection:
    det = _detect(NIGHT)
    assert len(det.events) >= 5
    return det


def _same_events(got: Detection, ref: Detection) -> None:
    """The same events; times a last bit apart (t / 1e3 against the decimal's nearest
    double) move the resampling a hair, so peaks (given to 1e-5 g) agree within 5e-5."""
    assert len(got.events) == len(ref.events)
    assert got.header.fs == ref.header.fs
    np.testing.assert_allclose([e.time for e in got.events], [e.time for e in ref.events],
                               rtol=0, atol=1e-6)  # fmt: skip
    np.testing.assert_allclose([e.peak_g for e in got.events],
                               [e.peak_g for e in ref.events], rtol=0, atol=5e-5)  # fmt: skip
    assert [e.axis for e in got.events] == [e.axis for e in ref.events]


# ------------------------------------------------------------------------- the checks
def test_time_unit_problem_names_the_unit_and_the_fix():
    assert time_unit_problem(1.767e9) is None
    assert time_unit_problem(1e11) is None
    assert time_unit_problem(1.767e12) == (
        "time 1767000000000 is not Unix seconds (it would be past the year 5000): it looks "
        "like milliseconds since the epoch; read it with --time-unit ms"
    )
    assert "microseconds since the epoch; divide the time column by 1e6" in (
        time_unit_problem(1.767e15) or ""
    )
    assert "nanoseconds since the epoch; read it with --time-unit ns" in (
        time_unit_problem(1.767e18) or ""
    )


def test_relative_time_warning_dates_the_recording():
    assert relative_time_warning(1.767e9) is None
    assert relative_time_warning(1e8) is None
    assert relative_time_warning(0.0) == (
        "time starts at 0 s, which dates the recording 1970-01-01: if the times count from "
        "the start of the recording, read it with --time-unit relative --start ISO-8601"
    )
    assert "1970-01-02" in (relative_time_warning(86_400.5) or "")


def test_a_first_time_before_the_year_100_is_an_error_not_a_traceback(tmp_path):
    from click.testing import CliRunner

    from cli import main

    path = tmp_path / "old.csv"
    path.write_text("time,ax,ay,az\n" + "".join(f"{-6.3e10 + k / 50},0,0,1\n" for k in range(200)))
    res = CliRunner().invoke(main, ["detect", str(path), "--out", str(tmp_path / "e.csv")])
    assert res.exit_code == 2, res.exception  # was a traceback (no date before the year 1)
    assert res.output == (
        f"jerkcount: error: {path}:2: time -6.3e+10 s lies before the year 100: not a time in "
        "any unit (a corrupted row?)\n"
    )
    assert time_unit_problem(-5.9e10) is None  # the year 100 and later: a date


def test_default_columns_from_well_known_names():
    assert default_axes(["time", "ax", "ay", "az"]) == ("ax", "ay", "az")
    assert default_axes(["Timestamp", " X ", "Y", "Z"]) == ("x", "y", "z")
    assert default_axes(["t", "ACC_X", "acc_y", "acc_z"]) == ("acc_x", "acc_y", "acc_z")
    assert default_axes(["time", "ax", "ay"]) is None
    assert default_axes(["1700000000", "0", "0", "1"]) is None
    assert default_time(["Timestamp", "x", "y", "z"]) == "timestamp"
    assert default_time(["when", "x", "y", "z"]) is None


# ------------------------------------------------------------------------ milliseconds
def _ms_file(tmp_path: Path) -> Path:
    """The fixture with its times in milliseconds (exact decimal shifts of the text)."""
    _, rows = _rows()
    times = []
    for t, _a in rows:
        whole, frac = t.split(".")
        frac = frac.ljust(4, "0")
        times.append(f"{whole}{frac[:3]}.{frac[3:]}")
    return _write(tmp_path / "night_ms.csv", "time,ax,ay,az", times, [a for _, a in rows])


def test_milliseconds_are_a_one_line_error_naming_file_and_line(tmp_path):
    path = _ms_file(tmp_path)
    res = CliRunner().invoke(main, ["detect", str(path), "--out", str(tmp_path / "ev.csv")])
    assert res.exit_code == 2
    first = float(path.read_text().splitlines()[1].split(",")[0])
    assert res.output == (
        f"jerkcount: error: {path}:2: time {first:.0f} is not Unix seconds (it would be "
        "past the year 5000): it looks like milliseconds since the epoch; read it with "
        "--time-unit ms\n"
    )
    assert not (tmp_path / "ev.csv").exists()


def test_the_suggested_time_unit_reads_the_night(tmp_path, reference):
    path = _ms_file(tmp_path)
    _same_events(_detect(path, InputOptions(time_unit="ms")), reference)
    out = tmp_path / "ev.csv"
    res = CliRunner().invoke(
        main, ["detect", str(path), "--time-unit", "ms", "--out", str(out), "--tz", "UTC"]
    )
    assert res.exit_code == 0, res.output
    assert out.read_text().splitlines()[0].startswith("time,time_local,peak_g,duration_ms,axis")
    assert len(out.read_text().splitlines()) == len(reference.events) + 1


# ---------------------------------------------------------------------- relative times
def test_relative_times_warn_and_read_with_start(tmp_path, reference):
    _, rows = _rows()
    t0 = float(rows[0][0])
    rel = [f"{float(t) - t0:.4f}" for t, _ in rows]
    path = _write(tmp_path / "night_rel.csv", "time,ax,ay,az", rel, [a for _, a in rows])

    plain = _detect(path)
    warning = relative_time_warning(0.0)
    assert warning is not None and warning in plain.quality.warnings
    assert len(plain.events) == len(reference.events)  # right relative to each other

    start = dt.datetime.fromtimestamp(t0, dt.UTC).isoformat()
    with_start = _detect(path, InputOptions(time_unit="relative", start=t0))
    assert warning not in with_start.quality.warnings
    assert len(with_start.events) == len(reference.events)
    # relative seconds with 4 decimals plus t0: within a microsecond of the epoch times
    np.testing.assert_allclose([e.time for e in with_start.events],
                               [e.time for e in reference.events], rtol=0, atol=1e-4)  # fmt: skip
    res = CliRunner().invoke(main, ["detect", str(path), "--time-unit", "relative", "--start",
                                    start, "--out", str(tmp_path / "ev.csv")])  # fmt: skip
    assert res.exit_code == 0, res.output
    assert "WARNING" not in res.output


# ------------------------------------------------------------ well-known column names
def test_units_alone_read_a_header_of_well_known_names(tmp_path, reference):
    _, rows = _rows()
    mg = [",".join(f"{float(v) * 1000:.2f}" for v in a.split(",")) for _, a in rows]
    path = _write(tmp_path / "night_mg.csv", "Timestamp;X;Y;Z".replace(";", ","),
                  [t for t, _ in rows], mg)  # fmt: skip
    got = _detect(path, InputOptions(units="mg"))
    assert got.quality.warnings == reference.quality.warnings
    _same_events(got, reference)
    plain = _detect(path)  # the names are recognised without options; mg is not assumed
    assert plain.quality.warnings == [
        "values look like mg (median |a| 986, expected about 1 g): use --units mg"
    ]


# ---------------------------------------------------------------------------- Parquet
def test_parquet_in_milliseconds_and_mg(tmp_path, reference):
    from pipeline.formats import write_samples_parquet

    _, rows = _rows()
    t = np.array([float(r[0]) for r in rows])
    a = np.array([[float(v) for v in r[1].split(",")] for r in rows])
    path = write_samples_parquet(tmp_path / "night_ms.parquet", t * 1e3, a * 1e3)
    res = CliRunner().invoke(main, ["detect", str(path), "--out", str(tmp_path / "ev.csv")])
    assert res.exit_code == 2
    assert res.output.startswith(f"jerkcount: error: {path}:1: time {t[0] * 1e3:.0f} is not ")
    assert res.output.endswith("read it with --time-unit ms\n")
    _same_events(_detect(path, InputOptions(time_unit="ms", units="mg")), reference)
    with pytest.raises(InputError, match="--time-unit iso: a Parquet time column is numeric"):
        _detect(path, InputOptions(time_unit="iso"))
    with pytest.raises(InputError, match="relative times: give --start ISO-8601"):
        _detect(path, InputOptions(time_unit="relative"))


# ------------------------------------------------------------------- decimal commas
def test_semicolons_and_decimal_commas_with_delimiter_alone(tmp_path, reference):
    """A European spreadsheet's export (``;`` between fields, ``,`` in numbers): the
    delimiter alone reads it, the decimal comma recognised from the first row."""
    _, rows = _rows()
    lines = ["Time;X;Y;Z"] + [f"{t};{a.replace(',', ';')}".replace(".", ",") for t, a in rows]
    path = tmp_path / "night_eu.csv"
    path.write_text("\n".join(lines) + "\n")
    assert lines[1] == "1767302400,0001;0,80078;0,39062;-0,40234"
    got = _detect(path, InputOptions(delimiter=";"))
    assert got.events == reference.events  # the same text, so the same doubles


def test_sniff_decimal():
    from pipeline.formats.generic import sniff_decimal

    assert sniff_decimal(["0,80078", "0,39062", "-0,40234"], ";") == ","
    assert sniff_decimal(["0.80078", "0.39062", "-0.40234"], ";") == "."
    assert sniff_decimal(["1", "0", "0"], ";") == "."
    assert sniff_decimal(["0,8", "0,3", "-0,4"], ",") == "."  # a comma separates there
    assert sniff_decimal(["0,8", "1.000,5", "2"], "\t") == "."  # not all alike: as it was


def test_metadata_lines_are_kept_through_the_column_options(tmp_path):
    """``# key: value`` lines before the header of a file read with options are the
    recording's metadata, as in the canonical format (a ``#`` note without a colon
    is skipped)."""
    meta, rows = _rows()
    path = _ms_file(tmp_path)
    path.write_text("\n".join([*meta, "# a note", path.read_text()]))
    got = _detect(path, InputOptions(time_unit="ms"))
    assert got.header.metadata["device"] == "jerkcount-sim"
    assert got.header.metadata["seed"] == "1"
    assert "a note" not in got.header.metadata
    assert got.header.metadata["time"] == "time (ms)"


def test_delimiter_alone_keeps_a_dialect_that_claims_the_file(tmp_path, reference):
    """``--delimiter`` alone: a file a dialect claims stays that dialect (Polar's
    ``;`` export, the canonical file); ``#`` lines before another header, or no
    dialect at all, take the column options."""
    from pipeline.formats import open_source

    polar = NIGHT.parent / "Polar_Verity_SIM_ACC.txt"
    assert open_source(polar, InputOptions(delimiter=";")).name == "polar"
    assert open_source(NIGHT, InputOptions(delimiter=",")).name == "canonical"
    assert _detect(NIGHT, InputOptions(delimiter=",")).events == reference.events
    other = tmp_path / "other.csv"
    other.write_text("# device: logger\nTime;X;Y;Z\n1767302400,00;0,1;0,2;0,9\n")
    assert open_source(other, InputOptions(delimiter=";")).name == "csv"
    plain = tmp_path / "plain.csv"
    plain.write_text("Time;X;Y;Z\n1767302400.00;0.1;0.2;0.9\n")
    assert open_source(plain, InputOptions(delimiter=";")).name == "csv"


@pytest.mark.parametrize(
    "header",
    ["timestamp,x,y,z", "t;X;Y;Z", "Time\tacc_x\tacc_y\tacc_z", "time,ax,az,ay",
     "# device: logger\n# note\ntimestamp,x,y,z"],
)  # fmt: skip
def test_well_known_names_need_no_option(tmp_path, header):
    """A header of well-known time and axis names is recognised: each axis by its name
    (so ``time,ax,az,ay`` is read with y and z in their places), ``#`` lines before it
    kept as metadata."""
    from pipeline.formats import detect_format

    sep = "\t" if "\t" in header else ";" if ";" in header else ","
    names = header.splitlines()[-1].split(sep)
    t = 1767302400 + np.arange(200) / 50
    values = {"x": 0.1, "y": 0.2, "z": 0.9}
    axes = [n.strip().lower().removeprefix("acc_").removeprefix("a") or n for n in names[1:]]
    rows = "".join(sep.join([f"{ti:.2f}", *(f"{values[a]}" for a in axes)]) + "\n" for ti in t)
    path = tmp_path / "log.csv"
    path.write_text(header + "\n" + rows)
    assert detect_format(path) == "csv"
    with open_recording(path) as stream:
        acc = np.concatenate([c.acc for c in stream.chunks()])
        assert stream.header.fs == 50.0 and stream.header.t0 == pytest.approx(t[0])
        if header.startswith("#"):
            assert stream.header.metadata["device"] == "logger"
    np.testing.assert_array_equal(acc[0], [0.1, 0.2, 0.9])


def test_named_axes_alone_find_the_time_column(tmp_path):
    """``--axes`` by name without ``--time-col``: the time column by its well-known name
    (``timestamp`` here); by position, the file has no header and no time column."""
    path = tmp_path / "log.csv"
    t = 1767302400 + np.arange(100) / 25
    path.write_text("Timestamp;X;Y;Z\n" + "".join(f"{x:.2f};0.1;0.2;0.9\n" for x in t))
    with open_recording(path, None, InputOptions(axis_cols=("x", "y", "z"))) as stream:
        assert stream.header.fs == 25.0 and stream.header.t0 == pytest.approx(t[0])
    headerless = tmp_path / "raw.csv"
    headerless.write_text("".join(f"{x:.2f};0.1;0.2;0.9\n" for x in t))
    with pytest.raises(InputError, match="no time column: give --start ISO-8601"):
        open_recording(headerless, None, InputOptions(axis_cols=("2", "3", "4")))
