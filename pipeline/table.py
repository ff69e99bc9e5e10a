"""A small column table for the output CSVs the report reads back, without pandas.

``jerkcount process`` writes its outputs and then its report; the report used to read
the CSVs back with pandas, whose import alone (0.3-0.45 s) was a fifth of ``process``
on an 8-hour night. The outputs are small (one row per jerk, hour, night), so the
:mod:`csv` module reads them in milliseconds.

A :class:`Table` holds each column either as a float64 array (a numeric column:
missing or unparsable cells are NaN) or as a list of ``str | None`` (a text column:
``None`` for an empty cell). Columns are text when read; :meth:`Table.numeric` turns
the named ones into numbers, like ``pandas.to_numeric(errors="coerce")``.
"""

from __future__ import annotations

import csv
import io
import math
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from pipeline.errors import InputError

Column = np.ndarray | list[str | None]


def _to_float(cell: str | None) -> float:
    if cell is None:
        return math.nan
    try:
        return float(cell)
    except ValueError:
        return math.nan


@dataclass
class Table:
    """Named columns of equal length (see the module docstring)."""

    data: dict[str, Column] = field(default_factory=dict)

    @property
    def columns(self) -> list[str]:
        """Column names, in file order."""
        return list(self.data)

    def __len__(self) -> int:
        for col in self.data.values():
            return len(col)
        return 0

    @property
    def empty(self) -> bool:
        """Whether the table has no rows."""
        return len(self) == 0

    def __contains__(self, name: object) -> bool:
        return name in self.data

    def numeric(self, names: Sequence[str]) -> None:
        """Turn the named columns that exist into float64 (NaN where not a number)."""
        for name in names:
            col = self.data.get(name)
            if col is not None and not isinstance(col, np.ndarray):
                self.data[name] = np.array([_to_float(c) for c in col], dtype=np.float64)

    def num(self, name: str) -> np.ndarray:
        """Column ``name`` as float64 (n,), NaN where missing or not a number."""
        col = self.data[name]
        if isinstance(col, np.ndarray):
            return col
        return np.array([_to_float(c) for c in col], dtype=np.float64)

    def text(self, name: str) -> list[str]:
        """Column ``name`` as text, ``""`` for a missing cell."""
        col = self.data[name]
        if isinstance(col, np.ndarray):
            return ["" if math.isnan(v) else repr(v) for v in col.tolist()]
        return ["" if c is None else c for c in col]

    def set(self, name: str, values: Column) -> None:
        """Add or replace column ``name`` (``len(values)`` rows)."""
        if self.data and len(values) != len(self):
            raise ValueError(f"column {name!r} has {len(values)} rows, the table {len(self)}")
        self.data[name] = values

    def take(self, rows: np.ndarray) -> Table:
        """The rows selected by a boolean mask or an index array, in that order."""
        idx = np.flatnonzero(rows) if rows.dtype == bool else np.asarray(rows, dtype=np.intp)
        out: dict[str, Column] = {}
        for name, col in self.data.items():
            if isinstance(col, np.ndarray):
                out[name] = col[idx]
            else:
                out[name] = [col[i] for i in idx.tolist()]
        return Table(out)

    def row(self, i: int) -> dict[str, Any]:
        """Row ``i`` as a dict: floats for numeric columns, ``str | None`` for text."""
        return {
            name: float(col[i]) if isinstance(col, np.ndarray) else col[i]
            for name, col in self.data.items()
        }

    def rows(self) -> Iterator[dict[str, Any]]:
        """Every row as :meth:`row` gives it."""
        for i in range(len(self)):
            yield self.row(i)


def read_csv_table(path: Path, required: Sequence[str]) -> Table:
    """A CSV written by ``jerkcount process`` as a :class:`Table` of text columns.

    An empty file is a table with the ``required`` columns and no rows; a short row is
    padded with missing cells. Raises :class:`InputError` naming the file (and line)
    when it is missing, is not UTF-8 text, has a row longer than its header or lacks a
    ``required`` column.
    """
    if not path.is_file():
        raise InputError(str(path), "missing (run `jerkcount process` first)")
    try:
        text = path.read_text(encoding="utf-8")
    except UnicodeDecodeError as exc:
        raise InputError(str(path), f"not a readable CSV ({exc})") from None
    reader = csv.reader(io.StringIO(text, newline=""))
    header = next(reader, None)
    if header is None or not any(h.strip() for h in header):
        return Table({name: [] for name in required})
    cols: list[list[str | None]] = [[] for _ in header]
    width = len(header)
    for row in reader:
        if not row:
            continue  # a blank line
        if len(row) > width:
            raise InputError(
                str(path), f"not a readable CSV ({len(row)} fields, the header has {width})",
                reader.line_num,
            )  # fmt: skip
        for k in range(width):
            cell = row[k] if k < len(row) else ""
            cols[k].append(cell if cell != "" else None)
    table = Table(dict(zip(header, cols, strict=True)))
    missing = [c for c in required if c not in table]
    if missing:
        raise InputError(str(path), f"missing columns: {', '.join(missing)}")
    return table
