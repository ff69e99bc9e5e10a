"""GENEActiv CSV export (GENEActiv PC software, raw data).

Layout (checked against the GENEActiv instruction manual, "Understanding .csv files":
"the first 100 rows of the .csv file is the header ... the data starts from row 101",
columns time stamp, x, y, z (g), light (lux), button (1/0), temperature (°C); and
against public code writing that header, e.g. ``Device Type,GENEActiv``,
``Measurement Frequency,100 Hz``, ``Time Zone,GMT +01:00``)::

    Device Type,GENEActiv
    ...                                  (100 header lines of key,value pairs)
    2013-04-17 10:00:00:000,-0.0195,0.0352,-1.0117,0,0,25.3

Time stamps ``YYYY-MM-DD hh:mm:ss:mmm`` (a colon before the milliseconds) are the
device's local time: read at the header's ``Time Zone`` offset (``GMT +01:00``), else
in ``--tz``, else UTC. Time resolution 1 ms. An epoch-compressed export (the same header,
12 columns of per-epoch means and deviations) is not raw data: an error says so.
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
    naive_to_epoch,
    split_fields,
    utc_offset,
)

if TYPE_CHECKING:
    import pandas as pd

HEADER_LINES = 100
#: columns of an epoch-compressed export (time stamp of epoch end, mean x, y, z, mean lux,
#: sum of button, mean temperature, SVM, x, y, z standard deviation, peak lux; the
#: GENEActiv manual, "Understanding .csv files"); raw data has 7
EPOCH_COLUMNS = 12
TIME_TEXT = re.compile(r"^\d{4}-\d{2}-\d{2} \d{2}:\d{2}:\d{2}[:.]\d{1,3}$")
TIME_FMT = "%Y-%m-%d %H:%M:%S:%f"
KEEP = ("device type", "device unique serial code", "measurement frequency", "time zone",
        "start time", "device location code", "subject code")  # fmt: skip


def is_geneactiv_head(lines: list[str]) -> bool:
    """True when the first lines look like a GENEActiv header."""
    return any("device type,geneactiv" in s.lower().replace(" ,", ",") for s in lines[:10])


class GeneActivSource(TableSource):
    """GENEActiv raw CSV."""

    name = "geneactiv"
    device_clock = True  # a logger's export: its clock, not the zone's rules

    def __init__(self, path: Path, options: InputOptions, member: str | None = None) -> None:
        self._first_data = b""
        super().__init__(path, options, member)

    def _preamble(self, lines: LineReader) -> None:
        zone_text = ""
        first = None
        while True:
            text = lines.next()
            if text is None:
                if lines.lineno == 0:
                    raise InputError(self.path, "empty file")
                raise InputError(self.path, "header only, no samples", lines.lineno + 1)
            fields = split_fields(text, ",")
            if fields and TIME_TEXT.match(fields[0]) and lines.lineno > 1:
                first = text
                break
            if lines.lineno > HEADER_LINES + 1:
                raise InputError(self.path, f"no GENEActiv data after the {HEADER_LINES}-line "
                                 f"header: '{text[:60]}'", lines.lineno)  # fmt: skip
            if len(fields) >= 2 and fields[0].lower() in KEEP:
                key = fields[0].lower()
                self.metadata[f"geneactiv_{key.replace(' ', '_')}"] = ",".join(fields[1:])
                if key == "time zone":
                    zone_text = ",".join(fields[1:])
        if lines.lineno == 1 or "geneactiv_device_type" not in self.metadata:
            raise InputError(
                self.path, "not a GENEActiv CSV header (no 'Device Type,GENEActiv')", 1
            )
        self._first_data = (first + "\n").encode()
        self._pushed_back = 1
        n = len(split_fields(first, ","))
        if n == EPOCH_COLUMNS:
            raise InputError(self.path, "a GENEActiv epoch-compressed CSV (12 columns: means "
                             "per epoch), not raw data: export the raw data (GENEActiv PC "
                             "software)", lines.lineno)  # fmt: skip
        names = ["time", "x", "y", "z", "light", "button", "temperature"]
        names += [f"column {i + 1}" for i in range(len(names), n)]
        self.columns = [Column(names[i], "num" if 0 < i < 4 else "skip") for i in range(n)]
        self.columns[0] = Column("time", "text", self._check_time)
        # the file's own offset beats --tz (which also names the outputs' zone)
        self._tz = utc_offset(zone_text, self.path) or get_tz(self.options.tz, self.path)
        self.metadata["format"] = "geneactiv"
        self.metadata["device_time_zone"] = str(self._tz)

    def _starts_recording(self, fields: list[str]) -> bool:
        """Whether a data line is the ``Device Type,GENEActiv`` line that starts a second
        export's header (two exports joined end to end)."""
        return is_geneactiv_head([",".join(fields)])

    def _check_time(self, value: str) -> str | None:
        try:
            datetime.strptime(value.replace(".", ":"), TIME_FMT)
        except ValueError:
            return f"time is not a 'YYYY-MM-DD hh:mm:ss:mmm' time: '{value[:30]}'"
        return None

    def _prefix(self) -> bytes:
        return self._first_data

    def _samples(self, frame: pd.DataFrame, row0: int) -> tuple[np.ndarray, np.ndarray]:
        text = frame[0].astype("string").str.replace(r"\.(\d{1,3})$", r":\1", regex=True)
        t = naive_to_epoch(text, TIME_FMT, self._tz, self.path, self.data_line + row0, self.dst)
        return t, frame[[1, 2, 3]].to_numpy(dtype=np.float64)
