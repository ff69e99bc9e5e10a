"""How a file was read is recorded next to its results.

Before 0.4.5 EVENTS.json named a CSV's time column and units but not which columns were
read as x, y and z (``--axes 3,2,4`` swaps x and y, and so the events' ``axis``) nor
``--scale`` for ``--units counts``; a Parquet read with ``--time-col``, ``--axes``,
``--time-unit`` or ``--units`` recorded none of them.
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq
from click.testing import CliRunner

from cli import main

N = 1500  # 30 s at 50 Hz
T0 = 1767302400.0


def _detect(rec: Path, *options: str) -> dict[str, str]:
    out = rec.with_name(rec.name + ".events.csv")
    res = CliRunner().invoke(main, ["detect", str(rec), "--out", str(out), "--tz", "UTC",
                                    *options])  # fmt: skip
    assert res.exit_code == 0, res.output
    return json.loads(out.with_suffix(".json").read_text())["recording"]["metadata"]


def test_a_csvs_axis_columns_and_counts_scale_are_recorded(tmp_path: Path) -> None:
    rec = tmp_path / "log.txt"
    rows = "".join(f"{int(T0 * 1000) + 20 * i};10;-4096;20\n" for i in range(N))
    rec.write_text("ms;a;b;c\n" + rows)
    meta = _detect(rec, "--time-col", "ms", "--time-unit", "ms", "--axes", "b,a,c",
                   "--units", "counts", "--scale", "4096")  # fmt: skip
    assert meta == {"format": "csv", "time": "ms (ms)", "axis_columns": "b,a,c",
                    "units": "counts", "counts_per_g": "4096"}  # fmt: skip
    plain = tmp_path / "plain.csv"
    plain.write_text("timestamp,x,y,z\n" + "".join(f"{T0 + i / 50:.2f},0,0,1\n" for i in range(N)))
    assert _detect(plain) == {"format": "csv", "time": "timestamp (s)", "axis_columns": "x,y,z",
                              "units": "g"}  # fmt: skip


def test_a_parquet_read_with_options_records_them(tmp_path: Path) -> None:
    t = (T0 + np.arange(N) / 50.0) * 1000.0
    one = np.ones(N)
    pq.write_table(pa.table({"ms": t, "a": 0 * one, "b": 0 * one, "c": 1000 * one}),
                   tmp_path / "told.parquet")  # fmt: skip
    meta = _detect(tmp_path / "told.parquet", "--time-col", "ms", "--time-unit", "ms",
                   "--axes", "b,a,c", "--units", "mg")  # fmt: skip
    assert meta == {"time_column": "ms", "time_unit": "ms", "axis_columns": "b,a,c",
                    "units": "mg"}  # fmt: skip
    # canonical Parquet read as it is: its own metadata only, as before
    table = pa.table({"time": t / 1000.0, "ax": 0 * one, "ay": 0 * one, "az": one})
    pq.write_table(table.replace_schema_metadata({"device": "d1"}), tmp_path / "c.parquet")
    assert _detect(tmp_path / "c.parquet") == {"device": "d1"}
