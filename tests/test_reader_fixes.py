"""Reader defects found by a tester: one pass of a repeated hour, recordings joined with
their preambles, column positions on a file with a header, a corrupt huge time, an
empty zip."""

from __future__ import annotations

import gzip
import re
import sys
import zipfile
from datetime import datetime
from pathlib import Path
from zoneinfo import ZoneInfo

import numpy as np
import pytest

from pipeline.errors import InputError
from pipeline.formats.base import REPEATED_HEADER, InputOptions
from pipeline.formats.generic import is_header
from pipeline.reader import ReaderParams, open_recording, read_recording
from pipeline.timescale import seconds_text, time_unit_problem
from pipeline.writer import write_samples_csv

sys.path.insert(0, str(Path(__file__).parent))
import format_fixtures as ff  # noqa: E402

BERLIN = ZoneInfo("Europe/Berlin")
AXIVITY = InputOptions(format="axivity", tz="Europe/Berlin")
ONE_PASS = "do not show which pass"


def _local(t: np.ndarray, sep: str = " ") -> list[str]:
    """Naive Berlin wall-clock text (milliseconds) of epoch seconds ``t``."""
    return [
        datetime.fromtimestamp(float(x), BERLIN).strftime(f"%Y-%m-%d{sep}%H:%M:%S.%f")[:-3]
        for x in t
    ]


def _axivity(path: Path, t: np.ndarray) -> Path:
    path.write_text("".join(f"{s},0.01,-0.02,0.99\n" for s in _local(t)))
    return path


def _at(iso: str, seconds: float, fs: float = 100.0) -> np.ndarray:
    """Epoch times from ``iso`` (with its offset) for ``seconds`` at ``fs`` Hz."""
    start = datetime.fromisoformat(iso).timestamp()
    return start + np.arange(int(seconds * fs)) / fs


# ------------------------------------------------------- 1. one pass of the repeated hour
@pytest.mark.parametrize("read_rows", [700, 262_144])
def test_a_file_wholly_inside_one_pass_of_the_repeated_hour_is_an_error(tmp_path, read_rows):
    path = _axivity(tmp_path / "inside.csv", _at("2025-10-26T02:05:00+02:00", 30))
    with pytest.raises(InputError, match=ONE_PASS) as info:
        read_recording(path, ReaderParams(read_rows=read_rows), AXIVITY)
    assert info.value.line == 1
    assert "2025-10-26 02:05:00.000" in str(info.value)


def test_a_file_ending_inside_the_repeated_hour_is_an_error_at_its_first_row(tmp_path):
    path = _axivity(tmp_path / "ends.csv", _at("2025-10-26T01:59:50+02:00", 30))
    with pytest.raises(InputError, match=ONE_PASS) as info:
        read_recording(path, ReaderParams(read_rows=500), AXIVITY)
    assert info.value.line == 1001  # 02:00:00.000, after 10 s of 01:59


def test_an_iso_file_inside_the_repeated_hour_is_an_error(tmp_path):
    t = _at("2025-10-26T02:00:00+02:00", 7 * 60, fs=50.0)
    path = tmp_path / "iso.csv"
    path.write_text("timestamp,x,y,z\n" + "".join(f"{s},0,0,1\n" for s in _local(t, "T")))
    with pytest.raises(InputError, match=ONE_PASS) as info:
        read_recording(path, None, InputOptions(tz="Europe/Berlin"))
    assert info.value.line == 2


@pytest.mark.parametrize(
    ("start", "end"),
    [
        ("2025-10-26T02:30:00+02:00", "2025-10-26T03:10:00+01:00"),  # crosses 03:00
        ("2025-10-26T02:58:00+02:00", "2025-10-26T02:02:00+01:00"),  # ends in the hour
    ],
)
def test_both_passes_are_still_placed(tmp_path, start, end):
    t0, t1 = datetime.fromisoformat(start).timestamp(), datetime.fromisoformat(end).timestamp()
    t = t0 + np.arange(int((t1 - t0) * 25)) / 25.0
    path = _axivity(tmp_path / "both.csv", t)
    with open_recording(path, ReaderParams(read_rows=5000), AXIVITY) as stream:
        n = sum(len(c) for c in stream.chunks())
        assert stream.header.t0 == pytest.approx(t0) and stream.gaps == [] and n == t.size
        repeated = (t >= t0) & (t < datetime.fromisoformat("2025-10-26T03:00:00+01:00").timestamp())
        assert stream.quality.dst_repeated_rows == int(repeated.sum())


# ------------------------------------------------------- 2. recordings joined with cat
def _night() -> tuple[np.ndarray, np.ndarray, dict[str, str]]:
    return ff.night()


def _joined(path: Path) -> tuple[Path, int]:
    """``path`` written twice end to end; the file line where the second copy starts."""
    data = path.read_bytes()
    joined = path.with_name("double_" + path.name)
    joined.write_bytes(data + data)
    return joined, len(data.splitlines()) + 1


@pytest.mark.parametrize("compressed", [False, True])
def test_canonical_files_with_metadata_joined_name_the_second_start(tmp_path, compressed):
    t, a, meta = _night()
    path, line = _joined(write_samples_csv(tmp_path / "r.csv", t, a, {**meta, "device": "x"}))
    if compressed:
        gz = tmp_path / "double.csv.gz"
        gz.write_bytes(gzip.compress(path.read_bytes()))
        path = gz
    with pytest.raises(InputError) as info:
        read_recording(path)
    assert info.value.message == REPEATED_HEADER and info.value.line == line


@pytest.mark.parametrize(
    "write",
    [
        lambda p, t, a: ff.write_actilife(p, t, a, True),
        lambda p, t, a: ff.write_actilife(p, t, a, False),
        ff.write_geneactiv,
    ],
    ids=["actilife", "actilife-no-timestamp", "geneactiv"],
)
def test_device_exports_joined_name_the_second_banner(tmp_path, write):
    t, a, _ = _night()
    path, line = _joined(write(tmp_path / "r.csv", t, a))
    with pytest.raises(InputError) as info:
        read_recording(path)
    assert info.value.message == REPEATED_HEADER and info.value.line == line


def test_generic_files_with_comment_lines_joined_name_the_second_start(tmp_path):
    t, a, _ = _night()
    path, line = _joined(ff.write_generic(tmp_path / "r.csv", t, a))
    with pytest.raises(InputError) as info:
        read_recording(path, None, InputOptions(**ff.GENERIC_OPTIONS))
    assert info.value.message == REPEATED_HEADER and info.value.line == line


# ------------------------------------------------------- 3. positions on a file with a header
def test_positions_read_a_canonical_file_with_its_header_like_names(tmp_path):
    t, a, meta = _night()
    path = write_samples_csv(tmp_path / "ref.csv", t, a, meta)
    by_position = read_recording(path, None, InputOptions(time_col="1", axis_cols=("2", "3", "4")))
    plain = read_recording(path)
    assert (by_position.t0, by_position.fs) == (plain.t0, plain.fs)
    np.testing.assert_array_equal(by_position.acc, plain.acc)
    assert by_position.metadata["device"] == meta["device"]


def test_positions_read_an_iso_file_with_its_header(tmp_path):
    t = _at("2025-03-01T02:00:00+00:00", 60)
    path = tmp_path / "iso.csv"
    lines = [f"{datetime.utcfromtimestamp(float(x)).isoformat(timespec='milliseconds')},0,0,1"
             for x in t]  # fmt: skip
    path.write_text("timestamp,x,y,z\n" + "\n".join(lines) + "\n")
    rec = read_recording(path, None, InputOptions(time_col="1", axis_cols=("2", "3", "4")))
    assert rec.t0 == pytest.approx(t[0]) and rec.n == t.size


def test_positions_on_a_file_without_a_header_still_read_its_first_row(tmp_path):
    t, a, _ = _night()
    path = write_samples_csv(tmp_path / "ref.csv", t, a, {})
    body = tmp_path / "body.csv"
    body.write_bytes(b"".join(path.read_bytes().splitlines(keepends=True)[1:]))
    rec = read_recording(body, None, InputOptions(time_col="1", axis_cols=("2", "3", "4")))
    assert rec.t0 == read_recording(path).t0


@pytest.mark.parametrize(
    ("time_col", "axes"),
    [(None, ("ax", "ax", "az")), ("1", ("2", "3", "3")), ("2", ("2", "3", "4"))],
)
def test_the_same_column_twice_is_a_one_line_error(tmp_path, time_col, axes):
    t, a, meta = _night()
    path = write_samples_csv(tmp_path / "ref.csv", t, a, meta)
    with pytest.raises(InputError, match="the same column twice") as info:
        read_recording(path, None, InputOptions(time_col=time_col, axis_cols=axes))
    assert "\n" not in str(info.value)


def test_is_header():
    assert is_header(["time", "ax", "ay", "az"]) and is_header(["timestamp", "x"])
    assert not is_header(["1767302400.0", "0.1", "-0.2", "0.99"])
    assert not is_header(["2025-03-01T02:00:00", "0,981"]) and not is_header(["", "x"])


# ------------------------------------------------------- 4. one corrupt huge time
def _canonical_with(tmp_path: Path, line: int, time_text: str) -> Path:
    t, a, meta = _night()
    path = write_samples_csv(tmp_path / "rec.csv", t, a, meta)
    rows = path.read_text().splitlines(keepends=True)
    rows[line - 1] = re.sub(r"^[^,]*,", time_text + ",", rows[line - 1])
    path.write_text("".join(rows))
    return path


@pytest.mark.parametrize("read_rows", [100, 262_144])
@pytest.mark.parametrize("line", [500, 3000])
def test_a_huge_time_is_an_error_on_its_own_line_without_hundreds_of_digits(
    tmp_path, read_rows, line
):
    path = _canonical_with(tmp_path, line, "1e300")
    with pytest.raises(InputError, match="past the year 5000") as info:
        read_recording(path, ReaderParams(read_rows=read_rows))
    assert info.value.line == line
    assert "1e+300" in info.value.message and len(info.value.message) < 200


def test_a_forward_jump_of_decades_is_an_error_on_its_line(tmp_path):
    path = _canonical_with(tmp_path, 500, "2500000000.0")  # 2049, in a 2026 night
    with pytest.raises(InputError, match="jumps forward by 23 years") as info:
        read_recording(path)
    assert info.value.line == 500


def test_a_corrupt_time_far_back_is_the_clock_error_on_its_line(tmp_path):
    path = _canonical_with(tmp_path, 500, "1000000000.0")
    with pytest.raises(InputError, match="goes backwards by 7.6") as info:
        read_recording(path)
    assert info.value.line == 500


def test_huge_numbers_in_messages_use_g():
    assert seconds_text(1.5) == "1.500 s" and seconds_text(1e300) == "1e+300 s"
    first = time_unit_problem(1e300)
    assert first is not None and "1e+300" in first and len(first) < 200


# ------------------------------------------------------- 5. an empty zip
def test_an_empty_zip_says_it_holds_no_file(tmp_path):
    path = tmp_path / "empty.zip"
    zipfile.ZipFile(path, "w").close()
    with pytest.raises(InputError, match="zip archive holds no file"):
        read_recording(path)


def test_a_zip_of_folders_only_says_it_holds_no_file(tmp_path):
    path = tmp_path / "dirs.zip"
    with zipfile.ZipFile(path, "w") as zf:
        zf.writestr("night/", "")
        zf.writestr("__MACOSX/._night", "")
    with pytest.raises(InputError, match="zip archive holds no file"):
        read_recording(path)
