"""Input dialects: each committed fixture gives the events of the canonical file.

The fixtures in tests/data/formats/ are one simulated night written in each dialect by
tests/format_fixtures.py. Canonical Parquet and phyphox keep the canonical file's time
resolution and values: their events are identical. The others store milliseconds (and
Polar integer mg, MetaBase/ActiLife 3 decimals): the same events, onsets within one
sample, peaks within 0.02 g.
"""

from __future__ import annotations

import gzip
import sys
import zipfile
from pathlib import Path

import numpy as np
import pytest
from click.testing import CliRunner

from pipeline.detector import Detection, detect_file, detect_stream
from pipeline.errors import InputError
from pipeline.formats import InputOptions, detect_format
from pipeline.reader import ReaderParams, open_recording, read_recording

sys.path.insert(0, str(Path(__file__).parent))
import format_fixtures as ff  # noqa: E402

D = ff.FIXTURES
CANONICAL = D / "night.csv"
FIXTURES = {  # name: (file, dialect recognised, options, identical events)
    "parquet": ("night.parquet", "parquet", None, True),
    "phyphox": ("phyphox_acceleration_with_g.zip", "phyphox", None, True),
    "polar": ("Polar_Verity_SIM_ACC.txt", "polar", None, False),
    "metabase": ("MetaWear_Accelerometer.csv", "metabase", None, False),
    "actilife": ("actilife_RAW.csv", "actilife", None, False),
    "actilife_no_time": ("actilife_no_time_RAW.csv", "actilife", None, False),
    "axivity": ("ax3_omgui.csv", "axivity", None, False),
    "geneactiv": ("geneactiv.csv", "geneactiv", None, False),
    "csv": ("other_logger.csv", "canonical", InputOptions(**ff.GENERIC_OPTIONS), False),
}


def _detect(path: Path, options: InputOptions | None = None, **params: int) -> Detection:
    with open_recording(path, ReaderParams(**params), options) as stream:
        return detect_stream(stream)


@pytest.fixture(scope="module")
def reference() -> Detection:
    det = detect_file(CANONICAL)
    assert len(det.events) >= 5  # a night with jerks to compare
    return det


def _assert_same_events(got: Detection, ref: Detection, identical: bool) -> None:
    assert len(got.events) == len(ref.events)
    assert got.header.fs == ref.header.fs
    assert got.gaps == [] and ref.gaps == []
    if identical:
        assert got.events == ref.events
        return
    period = 1.0 / ref.header.fs
    for g, r in zip(got.events, ref.events, strict=True):
        assert abs(g.time - r.time) < period
        assert g.axis == r.axis
        assert g.peak_g == pytest.approx(r.peak_g, abs=0.02)


def test_fixtures_are_what_the_writer_makes(tmp_path):
    """The committed fixtures are reproducible from the simulated night."""
    made = ff.write_all(tmp_path)
    for name, path in made.items():
        if path.suffix in (".parquet", ".zip"):
            continue  # binary containers carry library versions and dates
        assert path.read_bytes() == (D / path.name).read_bytes(), name


@pytest.mark.parametrize("name", list(FIXTURES))
def test_fixture_gives_the_canonical_events(name, reference):
    file, dialect, options, identical = FIXTURES[name]
    path = D / file
    assert detect_format(path) == dialect
    _assert_same_events(_detect(path, options), reference, identical)


@pytest.mark.parametrize("name", ["polar", "axivity", "geneactiv", "phyphox", "csv"])
def test_block_size_does_not_matter(name):
    file, _, options, _ = FIXTURES[name]
    big = _detect(D / file, options)
    small = _detect(D / file, options, read_rows=7, probe_rows=50)
    assert small.events == big.events


# ----------------------------------------------------------------- compressed files
def _gzip(src: Path, dst: Path) -> Path:
    dst.write_bytes(gzip.compress(src.read_bytes()))
    return dst


@pytest.mark.parametrize("name", ["canonical", "polar", "geneactiv", "csv"])
def test_gzip_and_single_file_zip_read_like_the_plain_file(tmp_path, name, reference):
    file, dialect, options, _ = FIXTURES.get(name, ("night.csv", "canonical", None, True))
    plain = _detect(D / file, options)
    gz = _gzip(D / file, tmp_path / (file + ".gz"))
    zp = tmp_path / (file + ".zip")
    with zipfile.ZipFile(zp, "w", zipfile.ZIP_DEFLATED) as zf:
        zf.write(D / file, file)
    for packed in (gz, zp):
        if options is None:
            assert detect_format(packed) == dialect
        got = _detect(packed, options, read_rows=500)
        assert got.events == plain.events
        assert got.header.metadata["compression"] in ("gzip", "zip")


def test_compressed_input_is_streamed(tmp_path):
    t = 1_700_000_000 + np.arange(300_000) / 100.0
    a = np.tile([0.0, 0.0, 1.0], (t.size, 1))
    plain = ff.write_canonical(tmp_path / "long.csv", t, a, {})
    gz = _gzip(plain, tmp_path / "long.csv.gz")
    with open_recording(gz, ReaderParams(read_rows=10_000, probe_rows=1000)) as stream:
        chunks = stream.chunks(1000)
        assert next(chunks).start == 0
        assert 0 < stream.bytes_read < stream.size / 2  # not decompressed whole
        n = 1000 + sum(len(c) for c in chunks)
        assert n == t.size and stream.bytes_read == stream.size


def test_truncated_gzip_reads_what_is_there(tmp_path):
    gz = _gzip(CANONICAL, tmp_path / "cut.csv.gz").read_bytes()
    (tmp_path / "cut.csv.gz").write_bytes(gz[: len(gz) // 2])
    rec = read_recording(tmp_path / "cut.csv.gz")
    assert 0 < rec.n < read_recording(CANONICAL).n


def test_zip_with_several_files_is_an_error(tmp_path):
    zp = tmp_path / "two.zip"
    with zipfile.ZipFile(zp, "w") as zf:
        zf.write(CANONICAL, "a.csv")
        zf.write(CANONICAL, "b.csv")
    with pytest.raises(InputError, match="holds 2 files"):
        read_recording(zp)


# -------------------------------------------------------- BOM, CRLF, empty, torn
@pytest.mark.parametrize("name", ["polar", "metabase", "actilife", "axivity", "geneactiv", "csv"])
def test_bom_and_crlf_read_like_plain_lf(tmp_path, name):
    file, _, options, _ = FIXTURES[name]
    windows = tmp_path / file
    windows.write_bytes(b"\xef\xbb\xbf" + (D / file).read_bytes().replace(b"\n", b"\r\n"))
    ref = read_recording(D / file, options=options)
    got = read_recording(windows, options=options)
    assert (got.t0, got.fs, got.n) == (ref.t0, ref.fs, ref.n)
    np.testing.assert_array_equal(got.acc, ref.acc)


HEADER_LINES = {"polar": 1, "metabase": 1, "actilife": 11, "csv": 2, "phyphox_csv": 1}


@pytest.mark.parametrize("name", ["polar", "metabase", "actilife", "csv"])
def test_header_only_and_torn_last_line(tmp_path, name):
    file, _, options, _ = FIXTURES[name]
    lines = (D / file).read_bytes().splitlines(keepends=True)
    n_head = HEADER_LINES[name]
    only = tmp_path / ("only_" + file)
    only.write_bytes(b"".join(lines[:n_head]))
    with pytest.raises(InputError) as info:
        read_recording(only, options=options)
    assert info.value.line == n_head + 1 and "header only" in str(info.value)
    torn = tmp_path / ("torn_" + file)
    torn.write_bytes(b"".join(lines[:-1]) + lines[-1][: len(lines[-1]) // 2 + 2].rstrip(b"\n"))
    with open_recording(torn, options=options) as stream:
        list(stream.chunks())
        assert stream.stats.torn_last_line_dropped == 1
        assert stream.stats.rows == len(lines) - n_head - 1


def test_empty_file_in_any_format_names_the_file(tmp_path):
    for fmt in (None, "polar", "axivity", "geneactiv", "metabase"):
        path = tmp_path / f"empty_{fmt}.csv"
        path.write_bytes(b"")
        with pytest.raises(InputError, match="empty file") as info:
            read_recording(path, options=InputOptions(format=fmt))
        assert info.value.path == str(path)


@pytest.mark.parametrize(
    ("name", "row", "edit", "fragment"),
    [
        ("polar", 40, lambda s: b"2026-01-01T21:20:00.800;zz;1;2;3", "is not a number: 'zz'"),
        ("metabase", 100, lambda s: s.replace(b",", b",,", 1) + b",1", "expected 6 fields"),
        ("axivity", 7, lambda s: b"2026-13-45 99:00:00.000" + s[23:], "is not a 'YYYY-MM-DD"),
        ("geneactiv", 50, lambda s: s.split(b",")[0] + b",0.1,zz,0.3,0,0,25.0", "y is not a"),
        # a field missing before the unread trailing columns: not read shifted
        ("geneactiv", 50, lambda s: b",".join(s.split(b",")[:2] + s.split(b",")[3:]),
         "expected 7 fields"),
        ("geneactiv", 51, lambda s: b",".join(s.split(b",")[:-1]), "expected 7 fields"),
    ],
)  # fmt: skip
def test_bad_row_is_named_by_file_and_line(tmp_path, name, row, edit, fragment):
    file = FIXTURES[name][0]
    lines = (D / file).read_bytes().split(b"\n")
    head = {"polar": 1, "metabase": 1, "axivity": 0, "geneactiv": 100}[name]
    lines[head + row - 1] = edit(lines[head + row - 1])
    path = tmp_path / file
    path.write_bytes(b"\n".join(lines))
    for rows in (3, 1000):
        with pytest.raises(InputError) as info:
            read_recording(path, ReaderParams(read_rows=rows, probe_rows=2))
        assert info.value.line == head + row, str(info.value)
        assert fragment in str(info.value) and "\n" not in str(info.value)


def test_empty_unread_trailing_field_keeps_the_sample(tmp_path):
    """An empty light/button/temperature field is only an empty field: the row's axes
    are kept (the check for short rows must not drop or refuse it)."""
    file = FIXTURES["geneactiv"][0]
    lines = (D / file).read_bytes().split(b"\n")
    row = 100 + 50 - 1
    fields = lines[row].split(b",")
    lines[row] = b",".join(fields[:-1] + [b""])
    path = tmp_path / file
    path.write_bytes(b"\n".join(lines))
    got = read_recording(path)
    ref = read_recording(D / file)
    np.testing.assert_array_equal(got.acc, ref.acc)
    np.testing.assert_array_equal(
        got.acc[49], [float(fields[1]), float(fields[2]), float(fields[3])]
    )


# ------------------------------------------------------------------ dialect details
def test_phyphox_plain_csv_needs_start_and_reads_every_flavour(tmp_path, reference):
    with zipfile.ZipFile(D / FIXTURES["phyphox"][0]) as zf:
        text = zf.read("Raw Data.csv").decode()
    plain = tmp_path / "Raw Data.csv"
    plain.write_text(text)
    with pytest.raises(InputError, match="--start"):
        read_recording(plain)
    start = float(np.floor(reference.header.t0))
    got = _detect(plain, InputOptions(start=start))
    assert got.events == reference.events
    semicolon = tmp_path / "semicolon.csv"  # phyphox's "semicolon, decimal comma" export
    semicolon.write_text(text.replace(",", ";").replace(".", ","))
    assert _detect(semicolon, InputOptions(start=start)).events == reference.events
    (tmp_path / "meta").mkdir()  # an unzipped export: meta/time.csv beside the data
    (tmp_path / "meta" / "time.csv").write_text(
        f'"event","experiment time","system time","system time text"\n"START",0,{start},"x"\n'
    )
    assert _detect(plain).events == reference.events


def test_phyphox_linear_acceleration_is_marked(tmp_path):
    text = '"Time (s)","Linear Acceleration x (m/s^2)","Linear Acceleration y (m/s^2)",'
    text += '"Linear Acceleration z (m/s^2)"\n'
    text += "".join(f"{i / 100:.9E},0.0,0.0,{9.80665:.9E}\n" for i in range(200))
    path = tmp_path / "linear.csv"
    path.write_text(text)
    rec = read_recording(path, options=InputOptions(start=1_700_000_000.0))
    assert rec.metadata["gravity_removed"] == "true"
    assert rec.fs == 100.0 and rec.t0 == 1_700_000_000.0
    np.testing.assert_allclose(rec.acc[:, 2], 1.0)


def test_geneactiv_header_offset_and_naive_zones(tmp_path, reference):
    rec = read_recording(D / FIXTURES["geneactiv"][0])
    assert rec.metadata["device_time_zone"] == "UTC+01:00"
    assert rec.t0 == pytest.approx(reference.header.t0, abs=1e-3)
    # the Axivity file is in UTC; read as Paris local time it moves 1 h earlier
    ax = D / FIXTURES["axivity"][0]
    paris = read_recording(ax, options=InputOptions(tz="Europe/Paris"))
    assert paris.t0 == pytest.approx(read_recording(ax).t0 - 3600.0)


def test_daylight_saving_gap_in_naive_local_time_is_named(tmp_path):
    rows = [f"2026-03-29 01:59:59.{i:03d},0,0,1" for i in range(900, 1000, 20)]
    rows += [f"2026-03-29 02:00:00.{i:03d},0,0,1" for i in range(0, 100, 20)]
    path = tmp_path / "dst.csv"
    path.write_text("\n".join(rows) + "\n")
    with pytest.raises(InputError, match="daylight-saving") as info:
        read_recording(path, options=InputOptions(tz="Europe/Paris"))
    assert info.value.line == 6


def test_generic_positions_rate_counts_and_iso(tmp_path):
    counts = tmp_path / "counts.txt"  # no header, no time: x,y,z counts at 25 Hz
    counts.write_text("".join(f"{i},-{i},1024\n" for i in range(100)))
    rec = read_recording(
        counts,
        options=InputOptions(axis_cols=("1", "2", "3"), units="counts", scale=1024.0,
                             rate=25.0, start=1_700_000_000.0),
    )  # fmt: skip
    assert (rec.t0, rec.fs, rec.n) == (1_700_000_000.0, 25.0, 100)
    np.testing.assert_allclose(rec.acc[:, 2], 1.0)
    np.testing.assert_allclose(rec.acc[10], [10 / 1024, -10 / 1024, 1.0])
    iso = tmp_path / "iso.tsv"  # ISO times with offsets, m/s², tab-separated
    iso.write_text(
        "when\tax\tay\taz\n"
        + "".join(f"2026-01-01T01:00:{i / 10:04.1f}+01:00\t0\t0\t9.80665\n" for i in range(300))
    )
    rec = read_recording(
        iso, options=InputOptions(time_col="when", axis_cols=("ax", "ay", "az"), units="m/s2")
    )
    assert rec.t0 == 1_767_225_600.0 and rec.fs == 10.0
    np.testing.assert_allclose(rec.acc[:, 2], 1.0)
    with pytest.raises(InputError, match="no column 'nope'"):
        read_recording(iso, options=InputOptions(axis_cols=("nope", "ay", "az"), time_col="when"))
    with pytest.raises(InputError, match="--scale"):
        read_recording(counts, options=InputOptions(axis_cols=("1", "2", "3"), units="counts",
                                                    rate=25.0, start=0.0))  # fmt: skip


def test_parquet_metadata_and_timestamp_column(tmp_path):
    import pyarrow as pa
    import pyarrow.parquet as pq

    rec = read_recording(D / "night.parquet")
    assert rec.metadata == read_recording(CANONICAL).metadata
    t = 1_700_000_000.0 + np.arange(500) / 50.0
    table = pa.table(
        {
            "time": pa.array((t * 1e9).astype("int64"), pa.timestamp("ns", "UTC")),
            "ax": np.zeros(500),
            "ay": np.zeros(500),
            "az": np.ones(500),
        }
    )
    pq.write_table(table, tmp_path / "ts.parquet", row_group_size=128)
    got = read_recording(tmp_path / "ts.parquet", ReaderParams(read_rows=100))
    assert (got.t0, got.fs, got.n) == (1_700_000_000.0, 50.0, 500)
    pq.write_table(pa.table({"time": t, "x": t}), tmp_path / "bad.parquet")
    with pytest.raises(InputError, match="missing column"):
        read_recording(tmp_path / "bad.parquet")


@pytest.mark.parametrize(
    ("names", "options"),
    [
        (("timestamp", "x", "y", "z"), {}),
        (("Timestamp", "X", "Y", "Z"), {}),
        (("t", "acc_x", "acc_y", "acc_z"), {}),
        (("epoch", "accx", "accy", "accz"), {"time_unit": "ms"}),
    ],
)
def test_parquet_with_well_known_column_names_needs_no_option(tmp_path, names, options):
    """As in a CSV header, well-known names give the columns (before 0.4.5 a Parquet of
    ``timestamp,x,y,z`` said: missing column(s) time,ax,ay,az)."""
    import pyarrow as pa
    import pyarrow.parquet as pq

    n = 500
    t = 1_700_000_000.0 + np.arange(n) / 50.0
    x, y, z = np.full(n, 0.25), np.full(n, -0.5), np.full(n, 0.75)
    times = t * 1000.0 if options.get("time_unit") == "ms" else t
    table = pa.table(dict(zip(names, [times, x, y, z], strict=True)))
    pq.write_table(table, tmp_path / "named.parquet")
    got = read_recording(tmp_path / "named.parquet", options=InputOptions(**options))
    assert (got.t0, got.fs, got.n) == (1_700_000_000.0, 50.0, n)
    assert got.acc[0].tolist() == [0.25, -0.5, 0.75]
    # an option still wins over the names: the columns swapped as told
    swapped = InputOptions(**options, axis_cols=(names[3], names[2], names[1]))
    assert read_recording(tmp_path / "named.parquet", options=swapped).acc[0].tolist() == [
        0.75, -0.5, 0.25,
    ]  # fmt: skip


def test_parquet_column_types_and_nulls(tmp_path):
    """float32 and integer axes read as their float64 values; a null is a missing value
    (the row is dropped and counted, as in CSV); the samples are the rows (on the grid)."""
    import pyarrow as pa
    import pyarrow.parquet as pq

    n = 1000
    t = 1_700_000_000.0 + np.arange(n) / 100.0
    ax = np.round(np.sin(np.arange(n) / 7.0), 3).astype(np.float32)
    ay = np.arange(n) % 3  # int64
    az = [None if i == 400 else 1.0 for i in range(n)]
    table = pa.table({"time": t, "ax": ax, "ay": ay, "az": pa.array(az, pa.float64())})
    pq.write_table(table, tmp_path / "types.parquet", row_group_size=300)
    for read_rows in (64, 10**6):
        with open_recording(tmp_path / "types.parquet", ReaderParams(read_rows=read_rows)) as s:
            acc = np.vstack([c.acc for c in s.chunks(250)])
            q = s.quality
        assert acc.shape == (n, 3) and q.nan_rows_dropped == 1
        keep = np.arange(n) != 400
        np.testing.assert_array_equal(acc[keep, 0], ax[keep].astype(np.float64))
        np.testing.assert_array_equal(acc[keep, 1], ay[keep].astype(np.float64))
        np.testing.assert_array_equal(acc[:, 2], np.ones(n))  # row 400 interpolated
        assert acc[400, 0] == (float(ax[399]) + float(ax[401])) / 2


def test_parquet_blocks_ramp_up_and_hold_every_row(tmp_path):
    """Blocks of exactly 32 768, 65 536, then 100 000 rows (batches joined and split, row
    groups of 70 000), first lines counting the rows, values bit for bit the file's."""
    import pyarrow as pa
    import pyarrow.parquet as pq

    from pipeline.formats import open_source

    n = 300_000
    rng = np.random.default_rng(1)
    t = 1_700_000_000.0 + np.arange(n) / 100.0
    cols = {k: rng.normal(0.0, 1.0, n) for k in ("ax", "ay", "az")}
    path = tmp_path / "ramp.parquet"
    pq.write_table(pa.table({"time": t, **cols}), path, row_group_size=70_000)
    src = open_source(path)
    blocks = list(src.blocks(100_000))
    src.close()
    assert [b.t.size for b in blocks] == [32_768, 65_536, 100_000, 100_000, 1_696]
    assert sum(b.t.size for b in blocks) == n
    assert [b.first_line for b in blocks] == list(np.cumsum([1] + [b.t.size for b in blocks[:-1]]))
    np.testing.assert_array_equal(np.concatenate([b.t for b in blocks]), t)
    a = np.vstack([b.a for b in blocks])
    np.testing.assert_array_equal(a, np.column_stack([cols["ax"], cols["ay"], cols["az"]]))


def test_parquet_is_read_as_a_stream_not_whole(tmp_path):
    """A Parquet file in one big row group (96 MB of values) is read with bounded memory:
    Arrow's peak allocation stays far under the file's size (pre-buffering the row group
    would take all of it), and every row is read."""
    import subprocess

    import pyarrow as pa
    import pyarrow.parquet as pq

    n = 3_000_000
    rng = np.random.default_rng(0)
    t = 1_700_000_000.0 + np.arange(n) / 100.0
    table = pa.table({"time": t, **{k: rng.normal(0.0, 1.0, n) for k in ("ax", "ay", "az")}})
    path = tmp_path / "one_row_group.parquet"
    pq.write_table(table, path, row_group_size=n)
    assert pq.ParquetFile(path).metadata.num_row_groups == 1
    code = (
        "import sys, pyarrow as pa\n"
        "from pipeline.formats import open_source\n"
        "src = open_source(sys.argv[1])\n"
        "rows = sum(b.t.size for b in src.blocks(262144))\n"
        "print(rows, pa.default_memory_pool().max_memory())\n"
    )
    out = subprocess.run(
        [sys.executable, "-c", code, str(path)], capture_output=True, text=True, check=True
    ).stdout.split()
    assert int(out[0]) == n
    assert int(out[1]) < 64e6, f"Arrow peaked at {int(out[1]) / 1e6:.0f} MB"


# ----------------------------------------------------------------------------- CLI
def test_cli_detect_and_process_take_the_input_options(tmp_path):
    from cli import main

    runner = CliRunner()
    generic = ["--time-col", "timestamp_ms", "--time-unit", "ms", "--axes",
               "acc_x_mg,acc_y_mg,acc_z_mg", "--units", "mg", "--delimiter", ";"]  # fmt: skip
    res = runner.invoke(main, ["detect", str(D / "other_logger.csv"), "--out",
                               str(tmp_path / "ev.csv"), "--tz", "UTC", *generic])  # fmt: skip
    assert res.exit_code == 0, res.output
    polar = str(D / "Polar_Verity_SIM_ACC.txt")
    res = runner.invoke(main, ["process", polar, "--out", str(tmp_path / "p"), "--tz", "UTC",
                               "--format", "polar"])  # fmt: skip
    assert res.exit_code == 0, res.output
    res = runner.invoke(main, ["detect", str(D / "other_logger.csv"), "--out",
                               str(tmp_path / "x.csv"), "--tz", "UTC"])  # fmt: skip
    assert res.exit_code == 2
    assert res.output.count("\n") == 1 and "other_logger.csv:2:" in res.output
