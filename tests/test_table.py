"""The pandas-free CSV table the report reads the process outputs with."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from pipeline.errors import InputError
from pipeline.table import Table, read_csv_table


def test_read_numeric_text_take_rows(tmp_path: Path) -> None:
    path = tmp_path / "events.csv"
    path.write_text(
        'time,time_local,peak_g,axis\n10.5,"2026-01-01T00:00:10.500+00:00",0.25,z\n'
        "9.0,,x,\n\n11,2026-01-01T00:00:11.000+00:00,1e-2\n",
        encoding="utf-8",
    )
    t = read_csv_table(path, ["time", "peak_g"])
    assert t.columns == ["time", "time_local", "peak_g", "axis"] and len(t) == 3
    t.numeric(["time", "peak_g", "absent"])
    assert t.num("time").tolist() == [10.5, 9.0, 11.0]
    np.testing.assert_array_equal(t.num("peak_g"), [0.25, np.nan, 0.01])
    assert t.text("axis") == ["z", "", ""]  # an empty and a short row: missing
    assert t.text("time_local")[1] == ""
    first = t.take(np.argsort(t.num("time"), kind="stable"))
    assert first.num("time").tolist() == [9.0, 10.5, 11.0]
    assert first.row(1) == {
        "time": 10.5, "time_local": "2026-01-01T00:00:10.500+00:00", "peak_g": 0.25, "axis": "z"
    }  # fmt: skip
    assert [r["axis"] for r in t.take(t.num("time") > 10).rows()] == ["z", None]


def test_empty_and_header_only(tmp_path: Path) -> None:
    (tmp_path / "e.csv").write_text("", encoding="utf-8")
    t = read_csv_table(tmp_path / "e.csv", ["start", "end"])
    assert t.empty and t.columns == ["start", "end"] and t.num("start").size == 0
    (tmp_path / "h.csv").write_text("start,end,kind\n", encoding="utf-8")
    t = read_csv_table(tmp_path / "h.csv", ["start"])
    assert t.empty and t.columns == ["start", "end", "kind"]


def test_bad_files_name_the_file_and_line(tmp_path: Path) -> None:
    with pytest.raises(InputError, match=r"missing \(run `jerkcount process` first\)"):
        read_csv_table(tmp_path / "nope.csv", [])
    long = tmp_path / "long.csv"
    long.write_text("a,b\n1,2\n1,2,3\n", encoding="utf-8")
    with pytest.raises(InputError) as err:
        read_csv_table(long, [])
    assert str(err.value).startswith(f"{long}:3: not a readable CSV (3 fields")
    (tmp_path / "bin.csv").write_bytes(b"a,b\n\xff\xfe,1\n")
    with pytest.raises(InputError, match="bin.csv: not a readable CSV"):
        read_csv_table(tmp_path / "bin.csv", [])
    (tmp_path / "cols.csv").write_text("a,b\n1,2\n", encoding="utf-8")
    with pytest.raises(InputError, match="cols.csv: missing columns: day, jerks"):
        read_csv_table(tmp_path / "cols.csv", ["a", "day", "jerks"])


def test_set_checks_length() -> None:
    t = Table({"a": ["1", "2"]})
    t.set("b", np.array([1.0, 2.0]))
    assert t.text("b") == ["1.0", "2.0"]
    with pytest.raises(ValueError, match="3 rows"):
        t.set("c", ["x", "y", "z"])
