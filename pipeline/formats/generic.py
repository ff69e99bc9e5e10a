"""Any other CSV, described by explicit options.

``--time-col`` (a header name, or a 1-based position, with or without a header line:
a first line whose chosen fields are neither numbers nor times is the header) with
``--time-unit`` ``s``/``ms``/``ns`` (epoch numbers), ``iso`` (ISO 8601 text; naive
times in ``--tz``, default UTC) or ``relative`` (seconds from ``--start``); without a
time column, ``--rate`` and ``--start`` place sample ``i`` at
start + ``i`` / rate. ``--axes X,Y,Z`` names the axis columns (same rules), ``--units``
g, mg, m/s2 or counts (with ``--scale`` counts per g), ``--delimiter`` the separator
(default: sniffed from the first line). Lines starting with ``#`` before the header
are skipped (``# key: value`` ones kept as metadata, as in the canonical format).
Without ``--time-unit`` the unit is inferred from the first value: text
→ ISO; a number above 1e16 → ns, above 1e11 → ms, above 1e8 → s, else relative.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np

from pipeline.errors import InputError
from pipeline.formats.base import (
    TIME_UNITS,
    Column,
    InputOptions,
    LineReader,
    TableSource,
    get_tz,
    grid_times,
    is_missing,
    is_number,
    naive_to_epoch,
    numeric_times,
    sniff_delimiter,
    split_fields,
    unit_factor,
)
from pipeline.formats.canonical import parse_metadata_line
from pipeline.timescale import MAX_EPOCH_S, MIN_EPOCH_S

if TYPE_CHECKING:
    import pandas as pd


def _is_position(spec: str) -> bool:
    return spec.strip().isdigit()


def infer_time_unit(value: str) -> str:
    """The time unit a first time value suggests (see the module docstring)."""
    if not is_number(value):
        return "iso"
    x = abs(float(value))
    if x > 1e16:
        return "ns"
    return "ms" if x > MAX_EPOCH_S else "s" if x > MIN_EPOCH_S else "relative"


#: axis names recognised in a header when ``--axes`` is not given (lower case)
DEFAULT_AXES = (("ax", "ay", "az"), ("x", "y", "z"), ("acc_x", "acc_y", "acc_z"),
                ("accel_x", "accel_y", "accel_z"), ("accx", "accy", "accz"))  # fmt: skip
#: time column names recognised in a header when ``--time-col`` is not given
DEFAULT_TIME = ("time", "timestamp", "t", "epoch")


def sniff_decimal(values: list[str], sep: str) -> str:
    """``","`` when the first data rows' number ``values`` (axes, and a numeric time) are
    written with a decimal comma (``0,981``: only where the separator is not a comma),
    else ``"."``. Missing values (empty, ``NaN``...) say nothing and are left out."""
    texts = [v.strip() for v in values if not is_missing(v)]
    if sep == "," or not texts:
        return "."
    if any("," in v for v in texts) and all("." not in v and is_number(v, ",") for v in texts):
        return ","
    return "."


def default_axes(header: list[str]) -> tuple[str, str, str] | None:
    """The axis columns of ``header`` (a header line's fields) by well-known names
    (:data:`DEFAULT_AXES`, case-insensitive), or ``None``."""
    low = [f.strip().lower() for f in header]
    for names in DEFAULT_AXES:
        if all(n in low for n in names):
            return names
    return None


def default_time(header: list[str]) -> str | None:
    """The time column of ``header`` by a well-known name (:data:`DEFAULT_TIME`), or
    ``None`` (then the file is read as having no time column)."""
    low = [f.strip().lower() for f in header]
    return next((n for n in DEFAULT_TIME if n in low), None)


def has_default_columns(line: str) -> bool:
    """Whether a first line is a header with a well-known time column and axis names
    (:data:`DEFAULT_TIME`, :data:`DEFAULT_AXES`), so that no option is needed."""
    fields = split_fields(line, sniff_delimiter(line))
    return default_axes(fields) is not None and default_time(fields) is not None


def is_header(fields: list[str]) -> bool:
    """Whether the selected ``fields`` of a first line are a header's names: each has
    text that is neither a number (decimal point or comma) nor a time (which starts
    with a digit); a first data row has numbers and times there."""
    for field in fields:
        text = field.strip()
        if not text or is_number(text) or is_number(text, ",") or re.match(r"[+-]?\d", text):
            return False
    return True


def _check_distinct(path: Path, specs: list[str], index: list[int]) -> None:
    """An error when two of the columns given (axes, time) are the same column."""
    seen: dict[int, str] = {}
    for k, (spec, i) in enumerate(zip(specs, index, strict=True)):
        if i in seen:
            what = "--axes" if k < 3 else "the time column and --axes"
            raise InputError(path, f"{what} give the same column twice ('{seen[i]}' and "
                             f"'{spec}'): each axis and the time need a column of "
                             "their own")  # fmt: skip
        seen[i] = spec


def _check_iso(value: str) -> str | None:
    """Why a time field is not ISO 8601 text, or ``None``."""
    import pandas as pd

    try:
        pd.Timestamp(value.strip())
    except (ValueError, TypeError, OverflowError):
        return f"time is not an ISO 8601 time: '{value[:30]}'"
    return None


def _without_trailing_empty(names: list[str], sample: list[str]) -> list[str]:
    """Header ``names`` without the empty names a trailing delimiter leaves (``time,x,y,z,``)
    that the first data row ``sample`` has no fields for (``time,x,y,z`` rows)."""
    names = list(names)
    while sample and len(names) > len(sample) and not names[-1].strip():
        names.pop()
    return names


class GenericSource(TableSource):
    """A CSV read through explicit column options."""

    name = "csv"

    def __init__(self, path: Path, options: InputOptions, member: str | None = None) -> None:
        self._first_data = b""
        super().__init__(path, options, member)

    def _preamble(self, lines: LineReader) -> None:
        opt = self.options
        if opt.time_unit is not None and opt.time_unit not in TIME_UNITS:
            raise InputError(self.path, f"unknown --time-unit '{opt.time_unit}'")
        self._factor = unit_factor(opt.units or "g", opt.scale, self.path)
        first = lines.next()
        while first is not None and (not first.strip() or first.lstrip().startswith("#")):
            if first.lstrip().startswith("#"):  # ``# key: value`` lines: kept as metadata
                key, value = parse_metadata_line(first.strip())
                if key and ":" in first:
                    self.metadata[key] = value
            first = lines.next()
        if first is None:
            raise InputError(self.path, "empty file" if lines.lineno == 0 else "no data",
                             None if lines.lineno == 0 else lines.lineno + 1)  # fmt: skip
        self.sep = opt.delimiter or sniff_delimiter(first)
        fields = split_fields(first, self.sep)
        axis_cols, time_col = opt.axis_cols, opt.time_col
        if axis_cols is None:  # a header with well-known names (the canonical ones, x,y,z)
            axis_cols = default_axes(fields)
            if axis_cols is None:
                raise InputError(self.path, "give the axis columns with --axes X,Y,Z "
                                 "(or --format for a known dialect)")  # fmt: skip
        named = not any(_is_position(a) for a in axis_cols)  # positions: no header line
        if time_col is None and named and not (opt.rate and opt.rate > 0):
            time_col = default_time(fields)  # a well-known name in the header, else none
        specs = list(axis_cols) + ([time_col] if time_col else [])
        positional = all(_is_position(s) for s in specs)
        if not positional and any(_is_position(s) for s in specs):
            raise InputError(self.path, "--time-col and --axes: use all names or all positions")
        if positional:
            index = self._positions(specs, fields, lines.lineno)
            header = is_header([fields[i] for i in index])
        else:
            index = self._named(specs, fields, first, lines.lineno)
            header = True
        _check_distinct(self.path, specs, index)
        if header:  # a header line: names from it, data from the next line
            names, sample = fields, None
        else:  # positions on a file without a header: the first line is data
            names = [f"column {i + 1}" for i in range(len(fields))]
            self._first_data = (first + "\n").encode()
            self._pushed_back = 1
            sample = fields
        self._axes = index[:3]
        self._time = index[3] if time_col else None
        rows = ([sample] if sample is not None else []) + self._rows_ahead(lines)
        sample = rows[0] if rows else []
        names = _without_trailing_empty(names, sample)
        self.decimal = sniff_decimal(self._number_fields(rows), self.sep)
        unit = opt.time_unit
        if self._time is not None and unit is None:
            value = sample[self._time] if len(sample) > self._time else ""
            unit = infer_time_unit(value.replace(self.decimal, ".") if is_number(
                value, self.decimal) else value)  # fmt: skip
        self._unit = unit
        self._tz = get_tz(opt.tz, self.path)
        if (self._time is None or unit == "relative") and opt.start is None:
            what = "relative times" if self._time is not None else "no time column"
            raise InputError(self.path, f"{what}: give --start ISO-8601")
        if self._time is None and not (opt.rate and opt.rate > 0):
            raise InputError(self.path, "no time column: give --rate (Hz) or --time-col")
        kinds = []
        for i in range(len(names)):
            if i in self._axes:
                kinds.append("num")
            elif i == self._time:
                kinds.append("text" if unit == "iso" else "num")
            else:
                kinds.append("skip")
        self.columns = [
            Column(n or f"column {i + 1}", k, _check_iso if k == "text" else None)
            for i, (n, k) in enumerate(zip(names, kinds, strict=True))
        ]
        self.metadata["format"] = "csv"
        self.metadata["time"] = (
            f"{names[self._time]} ({unit})" if self._time is not None else f"{opt.rate:g} Hz"
        )
        self.metadata["axis_columns"] = ",".join(names[i] or f"column {i + 1}" for i in self._axes)
        self.metadata["units"] = opt.units or "g"
        if opt.units == "counts" and opt.scale is not None:
            self.metadata["counts_per_g"] = f"{opt.scale:g}"

    def _rows_ahead(self, lines: LineReader, most: int = 50) -> list[list[str]]:
        """The next data rows' fields (up to ``most`` rows within the next 4 KiB, read
        ahead without consuming them; a partial last line is left out unless alone)."""
        chunk = lines.stream.peek(4096)[:4096]  # type: ignore[attr-defined]
        pieces = chunk.split(b"\n")
        if len(pieces) > 1:
            pieces = pieces[:-1]
        texts = (p.decode("utf-8", "replace").rstrip("\r") for p in pieces[:most])
        return [split_fields(t, self.sep) for t in texts if t.strip()]

    def _number_fields(self, rows: list[list[str]]) -> list[str]:
        """The fields of ``rows`` that tell the decimal sign: the axes', and the time's
        where it is a number (with a decimal point or comma; ISO text is left out)."""
        out = []
        for row in rows:
            out += [row[i] for i in self._axes if i < len(row)]
            if self._time is not None and self._time < len(row):
                value = row[self._time]
                if is_number(value) or is_number(value, ","):
                    out.append(value)
        return out

    def _positions(self, specs: list[str], fields: list[str], line: int) -> list[int]:
        """0-based indices of the 1-based positions ``specs`` in a first line of
        ``fields`` (an error naming ``line`` when one is out of range)."""
        index = [int(s) - 1 for s in specs]
        if max(index) >= len(fields) or min(index) < 0:
            raise InputError(self.path, f"column position out of range: the first line has "
                             f"{len(fields)} fields", line)  # fmt: skip
        return index

    def _named(self, specs: list[str], fields: list[str], first: str, line: int) -> list[int]:
        """0-based indices of the header names ``specs`` (case-insensitive) in the header
        ``fields`` (the line ``first``, file line ``line``)."""
        low = [f.lower() for f in fields]
        index = []
        for s in specs:
            if s.strip().lower() not in low:
                raise InputError(self.path, f"no column '{s}' in the header "
                                 f"'{first[:60]}'", line)  # fmt: skip
            index.append(low.index(s.strip().lower()))
        return index

    def _prefix(self) -> bytes:
        return self._first_data

    def _samples(self, frame: pd.DataFrame, row0: int) -> tuple[np.ndarray, np.ndarray]:
        a = frame[self._axes].to_numpy(dtype=np.float64) * self._factor
        opt = self.options
        if self._time is None:
            assert opt.start is not None and opt.rate
            t = grid_times(opt.start, opt.rate, row0, len(frame))
        elif self._unit == "iso":
            t = naive_to_epoch(
                frame[self._time], None, self._tz, self.path, self.data_line + row0, self.dst
            )
        else:
            x = frame[self._time].to_numpy(dtype=np.float64)
            t = numeric_times(x, self._unit, opt.start)
        return t, a
