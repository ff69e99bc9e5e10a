"""Real-world cases of the file-format readers, on small files written byte by byte.

Each test holds a case that read wrong or stopped with a traceback before: a daylight-
saving start time of an ActiLife file without timestamps, a two-digit-year date format,
``--rate`` for an ActiLife banner without a rate, decimal commas in a time column, naive
Parquet timestamps in a daylight-saving change, and others. Times and values are checked
exactly (epoch seconds UTC, g).
"""

from __future__ import annotations

from datetime import date, datetime
from pathlib import Path

import numpy as np
import pytest
from format_fixtures import raw_rows

from pipeline.errors import InputError
from pipeline.formats import InputOptions, open_source
from pipeline.reader import read_recording


def _write(path: Path, lines: list[str]) -> Path:
    path.write_text("".join(s + "\n" for s in lines), encoding="utf-8")
    return path


def _read(path: Path, **options: object) -> tuple[np.ndarray, np.ndarray, dict[str, str]]:
    """``(t, a, metadata)`` of every raw row of ``path`` (epoch s, g)."""
    t, a, src = raw_rows(path, **options)
    return t, a, src.metadata  # type: ignore[attr-defined]


# ------------------------------------------------------------------------ ActiLife
def _actilife_head(
    date: str, time: str, date_format: str = "M/d/yyyy", hz: str = "30"
) -> list[str]:
    """The ten banner lines of an ActiLife 6 raw CSV export (``at`` ``hz`` ``Hz``; an
    empty ``hz`` leaves the rate out)."""
    rate = f" at {hz} Hz" if hz else ""
    return [
        "------------ Data File Created By ActiGraph GT3X+ ActiLife v6.13.3 Firmware v2.5.0 "
        f"date format {date_format}{rate}  Filter Normal -----------",
        "Serial Number: NEO1F18120387",
        f"Start Time {time}",
        f"Start Date {date}",
        "Epoch Period (hh:mm:ss) 00:00:00",
        "Download Time 10:31:05",
        f"Download Date {date}",
        "Current Memory Address: 0",
        "Current Battery Voltage: 4.07     Mode = 12",
        "--------------------------------------------------",
    ]


ACTILIFE_ROWS = ["Accelerometer X,Accelerometer Y,Accelerometer Z", "-0.182,-0.182,0.962",
                 "0.012,0.004,1.004", "0.010,0.002,0.998"]  # fmt: skip


@pytest.mark.parametrize(
    "date, what",
    [("3/30/2025", "skipped"), ("10/26/2025", "repeated")],
    ids=["spring-gap", "autumn-repeat"],
)
def test_actilife_start_time_in_a_daylight_saving_change_is_an_error(tmp_path, date, what):
    # before: 02:30 in the spring gap was read as 01:30 UTC (03:30 CEST: an hour off) and
    # 02:30 of the repeated hour as summer time, both without a word
    path = _write(tmp_path / "a_RAW.csv", _actilife_head(date, "02:30:00") + ACTILIFE_ROWS)
    with pytest.raises(InputError) as err:
        _read(path, tz="Europe/Berlin")
    assert err.value.line == 3  # the Start Time line
    assert f"start time '{date[-4:]}-{date.split('/')[0].zfill(2)}-{date.split('/')[1]} " \
        f"02:30:00' is {what} in Europe/Berlin" in str(err.value)  # fmt: skip
    assert "give --start with a UTC offset" in str(err.value)
    # --start places it; the samples follow at the banner's 30 Hz
    t, _, _ = _read(path, tz="Europe/Berlin", start=1761438600.0)
    assert t.tolist() == [1761438600.0, 1761438600.0 + 1 / 30, 1761438600.0 + 2 / 30]


def test_actilife_start_time_in_summer_time_and_with_timestamps(tmp_path):
    path = _write(tmp_path / "a_RAW.csv", _actilife_head("7/1/2025", "22:00:00") + ACTILIFE_ROWS)
    t, a, _ = _read(path, tz="Europe/Berlin")
    assert t.tolist() == [1751400000.0, 1751400000.0 + 1 / 30, 1751400000.0 + 2 / 30]
    assert a.tolist() == [[-0.182, -0.182, 0.962], [0.012, 0.004, 1.004], [0.01, 0.002, 0.998]]
    # a Timestamp column in the repeated hour is placed by its rows, the header's start
    # time (in the same hour) is not needed
    rows = ["Timestamp,Accelerometer X,Accelerometer Y,Accelerometer Z"]
    rows += [f"10/26/2025 02:59:59.{k}00,0,0,1" for k in (8, 9)] + ["10/26/2025 02:00:00.000,0,0,1"]
    path = _write(tmp_path / "b_RAW.csv", _actilife_head("10/26/2025", "02:59:59") + rows)
    t, _, _ = _read(path, tz="Europe/Berlin")
    assert t.tolist() == pytest.approx([1761440399.8, 1761440399.9, 1761440400.0], abs=1e-6)


@pytest.mark.parametrize(
    "date_format, date",
    [
        ("M/d/yy", "5/13/14"),
        ("dd-MM-yy", "13-05-14"),
        ("dd.MM.yyyy", "13.05.2014"),
        ("yyyy-MM-dd", "2014-05-13"),
    ],  # fmt: skip
)
def test_actilife_date_formats(tmp_path, date_format, date):
    # before: a two-digit year ('yy') was left as is and the file said "no Start Date/Time
    # and rate in the header"
    path = _write(tmp_path / "a_RAW.csv", _actilife_head(date, "13:00:00", date_format)
                  + ACTILIFE_ROWS)  # fmt: skip
    t, _, _ = _read(path)
    assert t[0] == 1399986000.0  # 2014-05-13 13:00:00 UTC


def test_actilife_start_that_does_not_match_the_date_format_says_so(tmp_path):
    path = _write(tmp_path / "a_RAW.csv", _actilife_head("2014-05-13", "13:00:00", "M/d/yyyy")
                  + ACTILIFE_ROWS)  # fmt: skip
    with pytest.raises(InputError) as err:
        _read(path)
    assert str(err.value) == (
        f"{path}:4: Start Date '2014-05-13' and Start Time '13:00:00' do not match the "
        "header's date format M/d/yyyy and hh:mm:ss: give --start ISO-8601"
    )


def test_actilife_banner_without_rate_takes_rate_option(tmp_path):
    # before: the message asked for --rate, and --rate sent the file to the other-CSV
    # reader ("give the axis columns with --axes X,Y,Z")
    path = _write(tmp_path / "a_RAW.csv", _actilife_head("5/13/2014", "13:00:00", hz="")
                  + ACTILIFE_ROWS)  # fmt: skip
    with pytest.raises(InputError) as err:
        _read(path)
    assert str(err.value) == (
        f"{path}:1: no Timestamp column and no sample rate ('at N Hz') in the header: "
        "give --rate HZ"
    )
    t, _, meta = _read(path, rate=50.0)
    assert meta["format"] == "actilife"
    assert t.tolist() == [1399986000.0, 1399986000.02, 1399986000.04]


# ---------------------------------------------------------------------- other CSV
@pytest.mark.parametrize(
    "rows",
    [
        ["0,000;-12;34;1002", "0,010;-11;35;1001,5", "0,020;-12;34;1002"],
        ["0,000;0;0;1000", "0,010;0;0;1000", "0,020;0;0;1000"],
    ],
    ids=["comma-in-a-later-row", "comma-only-in-the-time"],
)
def test_decimal_comma_seen_in_the_time_column_and_later_rows(tmp_path, rows):
    # before: only the first row's axes were looked at: integer mg there made the time
    # '0,010' text ("time is not an ISO 8601 time") or '1001,5' not a number
    path = _write(tmp_path / "log.csv", ["time;x;y;z", *rows])
    t, a, _ = _read(path, units="mg", start=1700000000.0)
    assert t.tolist() == [1700000000.0, 1700000000.01, 1700000000.02]
    assert a[:, 2].tolist() == [float(r.split(";")[3].replace(",", ".")) / 1000 for r in rows]


def test_decimal_comma_in_epoch_seconds_with_integer_axes(tmp_path):
    path = _write(tmp_path / "log.csv", ["timestamp;x;y;z", "1700000000,00;-1;0;0",
                                         "1700000000,01;-1;0;0"])  # fmt: skip
    t, a, _ = _read(path)
    assert t.tolist() == [1700000000.0, 1700000000.01]
    assert a.tolist() == [[-1.0, 0.0, 0.0], [-1.0, 0.0, 0.0]]


# ------------------------------------------------------------------------ Parquet
def _parquet(path: Path, time: object) -> Path:
    import pyarrow as pa
    import pyarrow.parquet as pq

    n = len(time)  # type: ignore[arg-type]
    pq.write_table(pa.table({"time": time, "ax": [0.0] * n, "ay": [0.0] * n,
                             "az": [1.0] * n}), path)  # fmt: skip
    return path


def _naive_ms(*stamps: str) -> object:
    import pyarrow as pa

    return pa.array([datetime.fromisoformat(s) for s in stamps], pa.timestamp("ms"))


def test_parquet_naive_timestamps_through_the_autumn_change_are_placed_by_order(tmp_path):
    # before: pyarrow's ArrowInvalid ("Timestamp is ambiguous") as a traceback
    path = _parquet(tmp_path / "n.parquet", _naive_ms(
        "2025-10-26 02:59:59.800", "2025-10-26 02:59:59.900", "2025-10-26 02:00:00.000",
        "2025-10-26 02:00:00.100"))  # fmt: skip
    src = open_source(path, InputOptions(tz="Europe/Berlin"))
    t = np.concatenate([b.t for b in src.blocks(1000)])
    assert t.tolist() == pytest.approx([1761440399.8, 1761440399.9, 1761440400.0,
                                        1761440400.1], abs=1e-6)  # fmt: skip
    assert src.dst_repeated_rows == 4


@pytest.mark.parametrize(
    "stamps, message",
    [
        (("2025-03-30 01:59:59.900", "2025-03-30 02:00:00.000"),
         ":2: local time '2025-03-30 02:00:00' is skipped in Europe/Berlin"),
        (("2025-10-26 02:30:00.000", "2025-10-26 02:30:00.100"),
         ":1: local time '2025-10-26 02:30:00' is repeated in Europe/Berlin (daylight-saving "
         "change) and the rows do not show which pass it is"),
    ],
    ids=["spring-gap", "one-pass-of-the-repeat"],
)  # fmt: skip
def test_parquet_naive_timestamps_in_a_daylight_saving_change_name_the_row(
    tmp_path, stamps, message
):
    path = _parquet(tmp_path / "n.parquet", _naive_ms(*stamps))
    with pytest.raises(InputError) as err:
        _read(path, tz="Europe/Berlin")
    assert f"{path}{message}" in str(err.value)


@pytest.mark.parametrize(
    "time, message",
    [
        (["2025-01-01T00:00:00", "2025-01-01T00:00:00.01"],
         ":1: column 'time' is not a number: '2025-01-01T00:00:00': a Parquet time column "
         "is numeric (epoch s, or see --time-unit) or a timestamp"),
        ("date", ": column 'time' holds date32[day], not numbers: a Parquet time column is"),
    ],
    ids=["iso-text", "dates"],
)  # fmt: skip
def test_parquet_time_column_that_is_not_numeric_is_one_line(tmp_path, time, message):
    # before: pyarrow's ArrowInvalid / ArrowNotImplementedError as a traceback
    import pyarrow as pa

    if time == "date":
        time = pa.array([date(2025, 1, 1)] * 2)
    path = _parquet(tmp_path / "n.parquet", time)
    with pytest.raises(InputError) as err:
        _read(path)
    assert str(err.value).startswith(f"{path}{message}")


def test_parquet_axis_text_that_is_not_a_number_names_its_row(tmp_path):
    import pyarrow as pa
    import pyarrow.parquet as pq

    path = tmp_path / "n.parquet"
    pq.write_table(pa.table({"time": [1.7e9, 1.7e9 + 0.01], "ax": ["0", "x"],
                             "ay": [0.0, 0.0], "az": [1.0, 1.0]}), path)  # fmt: skip
    with pytest.raises(InputError) as err:
        _read(path)
    assert str(err.value) == f"{path}:2: column 'ax' is not a number: 'x'"


# ------------------------------------------------------------ device binary files
def _cwa_bytes() -> bytes:
    """The start of an Axivity .cwa file: the 1024-byte "MD" header block (packet length
    1020), then one 512-byte "AX" data block (packet length 508)."""
    header = bytearray(1024)
    header[0:4] = b"MD\xfc\x03"
    block = bytearray(512)
    block[0:4] = b"AX\xfc\x01"
    return bytes(header + block)


@pytest.mark.parametrize("compression", ["", "gz"])
def test_axivity_cwa_binary_is_read_as_cwa(tmp_path, compression):
    # before: "not a text CSV file (binary data)"; then: "use the CSV export"; now the
    # .cwa reader opens it (its one block has a bad checksum: skipped, no samples; before
    # 0.4.5 that said "header only, no samples")
    import gzip

    data = _cwa_bytes()
    path = tmp_path / ("night.cwa" + (".gz" if compression else ""))
    path.write_bytes(gzip.compress(data) if compression else data)
    message = (f"{path}: no readable data block: the 1 data block is corrupt (bad "
               "checksum, header, timestamp or format)")  # fmt: skip
    src = open_source(path)
    try:
        assert src.name == "cwa"
        with pytest.raises(InputError) as err:
            list(src.blocks(1000))
        assert str(err.value) == message
        assert src.skipped_blocks == 1  # type: ignore[attr-defined]
    finally:
        src.close()
    with pytest.raises(InputError) as err:
        read_recording(path)
    assert str(err.value) == message


def test_geneactiv_bin_is_read_as_geneactiv_bin(tmp_path):
    # before: "missing column(s) time,ax,ay,az: header is 'Device Identity'"; then: "use
    # the CSV export"; now the .bin reader opens it (here a header cut short)
    head = ["Device Identity", "Device Unique Serial Code:012345", "Device Type:GENEActiv",
            "Device Model:1.1", "Device Firmware Version:GENEActiv 1.1"]  # fmt: skip
    path = tmp_path / "night.bin"
    path.write_bytes("".join(s + "\r\n" for s in head).encode())
    with pytest.raises(InputError) as err:
        open_source(path)
    assert str(err.value) == (
        f"{path}: GENEActiv .bin header has no calibration 'x gain' (Calibration Data section)"
    )


# ------------------------------------------------------- a last line cut mid-number
def _canonical_rows(n: int) -> list[str]:
    """``n`` canonical rows at 50 Hz whose z is negative (so a cut can end on its '-')."""
    return [f"{1774738800 + k / 50:.4f},0.0123{k % 10},-0.0234{k % 7},-0.9987{k % 5}"
            for k in range(n)]  # fmt: skip


@pytest.mark.parametrize("cut", ["-", "1e", "1e-", "-1.2e+"])
@pytest.mark.parametrize("dialect", ["canonical", "axivity", "csv"])
@pytest.mark.parametrize("read_rows", [7, 100_000])
def test_last_line_cut_where_its_text_is_no_number_yet_is_a_torn_line(
    tmp_path, cut, dialect, read_rows
):
    # before: "az is not a number: '-'", an error, where a cut anywhere else in the
    # last line was dropped as a torn line
    from pipeline.reader import ReaderParams, open_recording

    rows = _canonical_rows(40)
    head, options = ["time,ax,ay,az"], None
    if dialect == "axivity":  # the OMGUI export: formatted times, no header
        rows = [f"2026-03-29 00:00:{k // 50:02d}.{k % 50 * 20:03d},{r.split(',', 1)[1]}"
                for k, r in enumerate(rows)]  # fmt: skip
        head = []
    elif dialect == "csv":
        head, options = ["# logger: x", "time;x;y;z"], InputOptions(units="g")
        rows = [r.replace(",", ";") for r in rows]
    whole = tmp_path / "whole.csv"
    whole.write_text("".join(s + "\n" for s in head + rows[:-1]))
    torn = tmp_path / "torn.csv"
    sep = ";" if dialect == "csv" else ","
    torn.write_text("".join(s + "\n" for s in head + rows[:-1]) + rows[-1].rsplit(sep, 1)[0]
                    + sep + cut)  # fmt: skip
    params = ReaderParams(read_rows=read_rows)
    with open_recording(whole, params, options) as ref_stream:
        ref = [(c.start, c.acc.copy()) for c in ref_stream.chunks()]
        ref_grid = (ref_stream.header.t0, ref_stream.header.fs)
    with open_recording(torn, params, options) as stream:
        got = [(c.start, c.acc.copy()) for c in stream.chunks()]
        assert (stream.header.t0, stream.header.fs) == ref_grid
        assert stream.stats.torn_last_line_dropped == 1
        assert stream.stats.rows == 39
    assert [k for k, _ in got] == [k for k, _ in ref]
    np.testing.assert_array_equal(np.vstack([a for _, a in got]), np.vstack([a for _, a in ref]))


def test_a_line_that_is_no_number_before_the_last_or_with_its_line_end_is_an_error(tmp_path):
    rows = _canonical_rows(40)
    path = tmp_path / "bad.csv"
    path.write_text("time,ax,ay,az\n" + "".join(s + "\n" for s in rows[:-1]) + rows[-1][:-8]
                    + "-\n")  # fmt: skip
    with pytest.raises(InputError) as err:
        _read(path)
    assert str(err.value) == f"{path}:41: az is not a number: '-'"
    rows[20] = rows[20][:-8] + "-"
    path.write_text("time,ax,ay,az\n" + "".join(s + "\n" for s in rows[:-1]) + rows[-1])
    with pytest.raises(InputError) as err:
        _read(path)
    assert str(err.value) == f"{path}:22: az is not a number: '-'"


@pytest.mark.parametrize(
    "encode, message",
    [
        ("bz2", "bzip2-compressed: decompress it first (jerkcount reads .gz and .zip)"),
        ("xz", "xz-compressed: decompress it first (jerkcount reads .gz and .zip)"),
        ("utf-16", "UTF-16 text (a spreadsheet's 'Unicode text'?): save it as UTF-8 CSV"),
    ],
)
@pytest.mark.parametrize("fmt", [None, "csv"])
def test_bzip2_xz_and_utf16_files_say_what_they_are(tmp_path, encode, message, fmt):
    # before: "not a text CSV file (binary data)"
    import bz2
    import lzma

    text = "time,ax,ay,az\n" + "".join(s + "\n" for s in _canonical_rows(5))
    data = {"bz2": lambda: bz2.compress(text.encode()), "xz": lambda: lzma.compress(
        text.encode()), "utf-16": lambda: text.encode("utf-16")}[encode]()  # fmt: skip
    path = tmp_path / "night.csv"
    path.write_bytes(data)
    with pytest.raises(InputError) as err:
        _read(path, format=fmt)
    assert str(err.value) == f"{path}: {message}"


def test_actilife_epoch_counts_export_says_it_is_not_raw_data(tmp_path):
    # before: only "no Accelerometer X,Y,Z columns"
    head = _actilife_head("2/12/2019", "00:00:00", hz="")
    head[0] = head[0].replace("Data File", "Data Table File")
    rows = ["Date, Time, Axis1,Axis2,Axis3,Steps,Lux", "2/12/2019,00:00:00,0,0,0,0,0"]
    path = _write(tmp_path / "a60sec.csv", head + rows)
    with pytest.raises(InputError) as err:
        _read(path)
    assert str(err.value) == (
        f"{path}:11: no Accelerometer X,Y,Z columns: 'Date, Time, Axis1,Axis2,Axis3,Steps,Lux': "
        "an ActiLife epoch (activity counts) export, not raw data: export the raw data from "
        "the .gt3x file (ActiLife 'Raw to Raw' CSV)"
    )


# ------------------------------------------------------ blank lines at a file's end
def _fixture_rows(dialect: str) -> tuple[list[str], InputOptions | None]:
    """Small files of the dialects as lines, and the options they need."""
    rows = _canonical_rows(40)
    if dialect == "canonical":
        return ["time,ax,ay,az", *rows], None
    if dialect == "axivity":
        return [f"2026-03-29 00:00:{k // 50:02d}.{k % 50 * 20:03d},{r.split(',', 1)[1]}"
                for k, r in enumerate(rows)], None  # fmt: skip
    if dialect == "geneactiv":
        head = ["Device Type,GENEActiv", "Measurement Frequency,50 Hz", "Time Zone,GMT +01:00"]
        data = [f"2026-03-29 00:00:{k // 50:02d}:{k % 50 * 20:03d},{r.split(',', 1)[1]},0,0,25.0"
                for k, r in enumerate(rows)]  # fmt: skip
        return head + [""] * 97 + data, None
    if dialect == "polar":
        data = [f"2026-03-29T00:00:{k // 50:02d}.{k % 50 * 20:03d};{k * 20_000_000};12;-23;-998"
                for k in range(40)]  # fmt: skip
        return ["Phone timestamp;sensor timestamp [ns];X [mg];Y [mg];Z [mg]", *data], None
    return ["time;x;y;z", *[r.replace(",", ";") for r in rows]], InputOptions(units="g")


@pytest.mark.parametrize("ending", [b"\n", b"\n\n\n", b"\r\n \r\n\t", b" \n"])
@pytest.mark.parametrize("dialect", ["canonical", "axivity", "geneactiv", "polar", "csv"])
@pytest.mark.parametrize("compression", ["", "gz"])
def test_blank_lines_at_the_end_of_a_file_are_nothing(tmp_path, ending, dialect, compression):
    # before: one blank line at the end was "dropped a torn last line" (counted as a
    # repair), two were the error "missing fields: expected 4 fields ..., found 1", and a
    # line of spaces was that error
    import gzip

    from pipeline.reader import open_recording

    lines, options = _fixture_rows(dialect)
    clean = "".join(s + "\n" for s in lines).encode()
    paths = []
    for name, data in (("clean.csv", clean), ("blank.csv", clean + ending)):
        path = tmp_path / (name + (".gz" if compression else ""))
        path.write_bytes(gzip.compress(data) if compression else data)
        paths.append(path)
    got = []
    for path in paths:
        with open_recording(path, options=options) as stream:
            acc = np.vstack([c.acc for c in stream.chunks()])
            q = stream.stats
            got.append((stream.header.t0, stream.header.fs, acc, q.rows, q.torn_last_line_dropped,
                        q.nan_rows_dropped, list(q.warnings)))  # fmt: skip
    (t0, fs, acc, rows, torn, nan, warn), ref = got[1], got[0]
    assert (t0, fs, rows) == ref[:2] + (40,)
    np.testing.assert_array_equal(acc, ref[2])
    assert (torn, nan, warn) == (0, 0, ref[6])


def test_a_blank_line_inside_the_data_is_still_an_error(tmp_path):
    lines, _ = _fixture_rows("axivity")
    path = _write(tmp_path / "ax.csv", lines[:20] + [""] + lines[20:] + [""])
    with pytest.raises(InputError) as err:
        read_recording(path)
    assert str(err.value) == f"{path}:21: missing fields: expected 4 fields time,x,y,z, found 1"


def test_iso_times_with_a_decimal_comma(tmp_path):
    # before: every time read as missing: "time has no values (empty or NaN in every row)"
    rows = [f"2025-01-01T00:00:00,{k * 10:03d};0,001;0,002;0,981" for k in range(3)]
    path = _write(tmp_path / "log.csv", ["timestamp;x;y;z", *rows])
    t, a, _ = _read(path, tz="Europe/Berlin")
    assert t.tolist() == pytest.approx([1735686000.0, 1735686000.01, 1735686000.02], abs=1e-9)
    assert a.tolist() == [[0.001, 0.002, 0.981]] * 3


def test_geneactiv_epoch_compressed_csv_is_not_read_as_raw_data(tmp_path):
    # before: 1-s epochs were read as raw data at 1 Hz (only a low-rate warning), 60-s
    # epochs said "cannot estimate the sample rate"
    head = ["Device Type,GENEActiv", "Measurement Frequency,100 Hz", "Time Zone,GMT +01:00"]
    rows = [f"2013-04-17 10:00:{s:02d}:000,-0.0195,0.0352,-1.0117,12.5,0,25.3,1.2,0.01,0.02,"
            "0.03,40" for s in range(59)]  # fmt: skip
    path = _write(tmp_path / "epochs.csv", head + [""] * 97 + rows)
    with pytest.raises(InputError) as err:
        read_recording(path)
    assert str(err.value) == (
        f"{path}:101: a GENEActiv epoch-compressed CSV (12 columns: means per epoch), not raw "
        "data: export the raw data (GENEActiv PC software)"
    )


@pytest.mark.parametrize("sep", [",", "\t", ";"])
def test_header_with_a_trailing_delimiter_over_rows_without_one(tmp_path, sep):
    # before: every row was "missing fields: expected 5 fields time,x,y,z,column 5, found 4"
    rows = [f"{1700000000 + k / 100:.2f}{sep}0.001{sep}0.002{sep}0.981" for k in range(3)]
    path = _write(tmp_path / "log.csv", [sep.join(["time", "x", "y", "z", ""]), *rows])
    t, a, _ = _read(path)
    assert t.tolist() == [1700000000.0, 1700000000.01, 1700000000.02]
    assert a.tolist() == [[0.001, 0.002, 0.981]] * 3
