"""ActiGraph ActiLife raw CSV export (``...RAW.csv``).

Layout (checked against GGIR's test file ``inst/testfiles/ActiGraph13_timestamps_headers.csv``
and public ActiLife readers/writers, e.g. MIMSunit's ``export_to_actilife``)::

    ------------ Data File Created By ActiGraph GT3X+ ActiLife v6.13.3 Firmware v2.5.0 date format \
        M/d/yyyy at 30 Hz  Filter Normal -----------   (one line)
    Serial Number: NEO1F18120387
    Start Time 00:00:00
    Start Date 5/7/2014
    Epoch Period (hh:mm:ss) 00:00:00
    Download Time 10:31:05
    Download Date 5/20/2014
    Current Memory Address: 0
    Current Battery Voltage: 4.07     Mode = 12
    --------------------------------------------------
    Accelerometer X,Accelerometer Y,Accelerometer Z
    -0.182,-0.182,0.962

Ten header lines (spreadsheet round trips may add trailing commas), then the column
line ``Accelerometer X,Accelerometer Y,Accelerometer Z`` (sometimes omitted) with an
optional leading ``Timestamp`` column (``M/d/yyyy HH:mm:ss.fff`` in the header's date
format) and optional further columns (temperature, gyroscope...); axes in g. Without a
Timestamp column sample ``i`` is at start + ``i`` / rate (start from ``Start Date`` and
``Start Time``, or ``--start``; rate from ``at N Hz``, or ``--rate``). The device keeps
local time: times are read in ``--tz`` (default UTC); a start time that a daylight-saving
change skips or repeats cannot be placed without timestamps (an error asks for
``--start``).
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
    grid_times,
    is_number,
    local_start_epoch,
    naive_to_epoch,
    split_fields,
)

if TYPE_CHECKING:
    import pandas as pd

AXES = ("accelerometer x", "accelerometer y", "accelerometer z")


def is_actilife_header(line: str) -> bool:
    """True for the first line of an ActiLife CSV export."""
    low = line.lower()
    return low.lstrip().startswith("-") and "actigraph" in low and "date format" in low


def strptime_format(dotnet: str) -> str:
    """A strptime date format from ActiLife's .NET one (``M/d/yyyy`` → ``%m/%d/%Y``,
    ``dd-MM-yy`` → ``%d-%m-%y``)."""
    codes = {"yyyy": "%Y", "yy": "%y", "MM": "%m", "M": "%m", "dd": "%d", "d": "%d"}
    return re.sub(r"yyyy|yy|MM?|dd?", lambda m: codes[m.group(0)], dotnet)


class ActiLifeSource(TableSource):
    """ActiLife raw CSV, with or without the Timestamp column."""

    name = "actilife"
    device_clock = True  # a logger's export: its clock, not the zone's rules

    def __init__(self, path: Path, options: InputOptions, member: str | None = None) -> None:
        self._first_data: bytes = b""
        self._start: float | None = None  # epoch s of sample 0 without a Timestamp column
        super().__init__(path, options, member)

    def _preamble(self, lines: LineReader) -> None:
        head = []
        for _ in range(10):
            text = lines.next()
            if text is None:
                raise InputError(self.path, "ActiLife header is cut short (10 lines expected)",
                                 lines.lineno + 1)  # fmt: skip
            head.append(text.rstrip(", \t"))
        if not is_actilife_header(head[0]):
            raise InputError(self.path, f"not an ActiLife CSV header: '{head[0][:60]}'", 1)
        fmt = re.search(r"date format (\S+)", head[0])
        rate = re.search(r"at (\d+(?:\.\d+)?) Hz", head[0])
        self._date_format = fmt.group(1) if fmt else "M/d/yyyy"
        date_fmt = strptime_format(self._date_format)
        self._tz = get_tz(self.options.tz, self.path)
        self.metadata["format"] = "actilife"
        self.metadata["actilife_header"] = head[0].strip("- ")
        serial = next(
            (h.split(":", 1)[1].strip() for h in head if h.startswith("Serial Number")), ""
        )
        if serial:
            self.metadata["serial"] = serial
        # an explicit --rate wins over the banner's (as --start over Start Date/Time)
        self._rate = self.options.rate or (float(rate.group(1)) if rate else None)
        self._head = head
        self._date_fmt = date_fmt
        columns = lines.next()
        if columns is None:
            raise InputError(self.path, "header only, no samples", lines.lineno + 1)
        fields = split_fields(columns, ",")
        low = [f.lower() for f in fields]
        if all(is_number(f) for f in fields if f):  # no column line: data starts here
            self._first_data = (columns + "\n").encode()
            self._pushed_back = 1
            low = ["accelerometer x", "accelerometer y", "accelerometer z"] + [""] * (
                len(fields) - 3
            )
            fields = ["Accelerometer X", "Accelerometer Y", "Accelerometer Z"] + [""] * (
                len(fields) - 3
            )
        if not all(a in low for a in AXES):
            epochs = "axis1" in low or "data table" in head[0].lower()
            hint = (
                (
                    ": an ActiLife epoch (activity counts) export, not raw data: export the "
                    "raw data from the .gt3x file (ActiLife 'Raw to Raw' CSV)"
                )
                if epochs
                else ""
            )
            raise InputError(self.path, f"no Accelerometer X,Y,Z columns: '{columns[:60]}'"
                             f"{hint}", lines.lineno)  # fmt: skip
        self._axes = [low.index(a) for a in AXES]
        self._time = low.index("timestamp") if "timestamp" in low else None
        self._time_fmt = f"{date_fmt} %H:%M:%S.%f"
        self.columns = []
        for i, f in enumerate(fields):
            kind = "num" if i in self._axes else "text" if i == self._time else "skip"
            self.columns.append(
                Column(f or f"column {i + 1}", kind, self._check_time if kind == "text" else None)
            )
        if self._time is None:
            self._start = self._grid_start()
            if not self._rate:
                raise InputError(self.path, "no Timestamp column and no sample rate ('at N Hz') "
                                 "in the header: give --rate HZ", 1)  # fmt: skip

    def _grid_start(self) -> float:
        """Epoch seconds of the first sample of a file without a Timestamp column: ``--start``,
        else the header's Start Date and Start Time, local in ``--tz``.

        Raises :class:`InputError` naming the header line when they are missing or do not
        match the banner's date format, or when the local time is skipped or repeated by
        a daylight-saving change (the file gives no other time to tell which).
        """
        if self.options.start is not None:
            return self.options.start
        found: dict[str, tuple[str, int]] = {}  # key: (text, 1-based line)
        for key in ("Start Time", "Start Date"):
            k = next((i for i, h in enumerate(self._head) if h.startswith(key)), None)
            if k is None:
                raise InputError(self.path, f"no Timestamp column and no '{key}' line in the "
                                 "header: give --start ISO-8601")  # fmt: skip
            found[key] = (self._head[k][len(key) :].strip(), k + 1)
        (time_text, time_line), (date_text, date_line) = found["Start Time"], found["Start Date"]
        try:
            local = datetime.strptime(f"{date_text} {time_text}", f"{self._date_fmt} %H:%M:%S")
        except ValueError:
            raise InputError(
                self.path, f"Start Date '{date_text[:30]}' and Start Time '{time_text[:30]}' do "
                f"not match the header's date format {self._date_format} and hh:mm:ss: give "
                "--start ISO-8601", date_line,
            ) from None  # fmt: skip
        return local_start_epoch(local, self._tz, self.path, time_line)

    def _starts_recording(self, fields: list[str]) -> bool:
        """Whether a data line is the ``--- Data File Created By ActiGraph`` banner of a
        second export joined to this one."""
        return is_actilife_header(",".join(fields))

    def _check_time(self, value: str) -> str | None:
        try:
            datetime.strptime(value, self._time_fmt)
        except ValueError:
            return f"Timestamp is not a '{self._time_fmt}' time: '{value[:30]}'"
        return None

    def _prefix(self) -> bytes:
        return self._first_data

    def _samples(self, frame: pd.DataFrame, row0: int) -> tuple[np.ndarray, np.ndarray]:
        a = frame[self._axes].to_numpy(dtype=np.float64)
        if self._time is None:
            assert self._start is not None and self._rate
            t = grid_times(self._start, self._rate, row0, len(frame))
            t[np.isnan(a).any(axis=1)] = np.nan
        else:
            t = naive_to_epoch(frame[self._time], self._time_fmt, self._tz, self.path,
                               self.data_line + row0, self.dst)  # fmt: skip
        return t, a
