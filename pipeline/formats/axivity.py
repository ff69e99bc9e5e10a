"""Axivity AX3/AX6 CSV as exported by OMGUI (or ``cwa-convert``).

Layout (checked against GGIR's test files ``inst/testfiles/ax3_testfile.csv``,
``ax3_testfile_unix_timestamps.csv`` and ``ax6_testfile_formatted_timestamps.csv``)::

    2019-12-23 21:04:06.690,0.007324,0.071289,0.008789[,gx,gy,gz]

No header line; the first field is the time, ``YYYY-MM-DD hh:mm:ss.fff`` or Unix
seconds (``1551178506.0100``); then x, y, z in g; an AX6 adds three gyroscope columns
(ignored). Formatted times carry no zone: OMGUI writes the device clock, which is
usually set to local time, so they are read in ``--tz`` — the default is UTC, and the
metadata says which zone was used. Time resolution 1 ms.
"""

from __future__ import annotations

import re
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np

from pipeline.errors import InputError
from pipeline.formats.base import (
    Column,
    InputOptions,
    LineReader,
    TableSource,
    get_tz,
    is_number,
    naive_to_epoch,
    split_fields,
)

if TYPE_CHECKING:
    import pandas as pd

TIME_TEXT = re.compile(r"^\d{4}-\d{2}-\d{2} \d{2}:\d{2}:\d{2}(\.\d+)?$")
TIME_FMT = "%Y-%m-%d %H:%M:%S.%f"


def is_axivity_line(line: str, text_time_only: bool = False) -> bool:
    """True for a headerless OMGUI data line: a time then at least three numbers.

    ``text_time_only``: only the formatted-time variant (Unix seconds then x, y, z is
    what a canonical file without its header looks like too).
    """
    fields = split_fields(line, ",")
    if len(fields) < 4 or not all(is_number(f) for f in fields[1:4]):
        return False
    first = fields[0]
    if TIME_TEXT.match(first):
        return True
    return (
        not text_time_only
        and is_number(first)
        and 1e8 < float(first) < 1e10
        and len(fields) in (4, 7)
    )


class AxivitySource(TableSource):
    """OMGUI CSV export (formatted or Unix times)."""

    name = "axivity"
    device_clock = True  # a logger's export: its clock, not the zone's rules

    def __init__(self, path: Path, options: InputOptions, member: str | None = None) -> None:
        self._first_data = b""
        super().__init__(path, options, member)

    def _preamble(self, lines: LineReader) -> None:
        first = lines.next()
        if first is None:
            raise InputError(self.path, "empty file")
        if not is_axivity_line(first):
            raise InputError(self.path, f"not an OMGUI CSV line (time,x,y,z): '{first[:60]}'", 1)
        self._first_data = (first + "\n").encode()
        self._pushed_back = 1
        fields = split_fields(first, ",")
        self._text_time = bool(TIME_TEXT.match(fields[0]))
        names = ["time", "x", "y", "z"] + [f"column {i + 1}" for i in range(4, len(fields))]
        self.columns = [Column(n, "num" if i < 4 else "skip") for i, n in enumerate(names)]
        if self._text_time:
            self.columns[0] = Column("time", "text", self._check_time)
        self._tz = get_tz(self.options.tz, self.path)
        self.metadata["format"] = "axivity"
        if self._text_time:
            self.metadata["device_time_zone"] = str(self._tz)

    def _check_time(self, value: str) -> str | None:
        try:
            datetime.strptime(value, TIME_FMT)
        except ValueError:
            return f"time is not a 'YYYY-MM-DD hh:mm:ss.fff' time: '{value[:30]}'"
        return None

    def _prefix(self) -> bytes:
        return self._first_data

    def _samples(self, frame: pd.DataFrame, row0: int) -> tuple[np.ndarray, np.ndarray]:
        if self._text_time:
            t = naive_to_epoch(
                frame[0], TIME_FMT, self._tz, self.path, self.data_line + row0, self.dst
            )
        else:
            t = frame[0].to_numpy(dtype=np.float64)
        return t, frame[[1, 2, 3]].to_numpy(dtype=np.float64)
