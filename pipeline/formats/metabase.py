"""MbientLab MetaBase accelerometer CSV.

Layout (checked against public code that writes MetaBase-compatible files and reads
MetaBase exports)::

    epoch (ms),time (-13:00),elapsed (s),x-axis (g),y-axis (g),z-axis (g)
    1562853141613,2019-07-11T13:52:21.613,0.000,-0.013,0.008,1.004

``epoch (ms)`` is Unix time in milliseconds (UTC; some app versions spell it
``epoc (ms)``), ``time`` the same instant as local text (its zone in the column name),
``elapsed (s)`` seconds since the first sample; axes in g. The epoch column is used:
time resolution 1 ms.
"""

from __future__ import annotations

import re
from typing import TYPE_CHECKING

import numpy as np

from pipeline.errors import InputError
from pipeline.formats.base import Column, LineReader, TableSource, split_fields

if TYPE_CHECKING:
    import pandas as pd

_EPOCH = re.compile(r"^epoch? \(ms\)$")


def is_metabase_header(line: str) -> bool:
    """True for a MetaBase accelerometer header line."""
    fields = [f.lower() for f in split_fields(line, ",")]
    return bool(fields) and bool(_EPOCH.match(fields[0])) and "x-axis (g)" in fields


class MetaBaseSource(TableSource):
    """MetaBase accelerometer CSV."""

    name = "metabase"

    def _preamble(self, lines: LineReader) -> None:
        header = lines.next()
        if header is None:
            raise InputError(self.path, "empty file")
        fields = split_fields(header, ",")
        low = [f.lower() for f in fields]
        if not is_metabase_header(header) or not {"y-axis (g)", "z-axis (g)"} <= set(low):
            raise InputError(self.path, f"not a MetaBase accelerometer header: '{header[:60]}'", 1)
        self._axes = [low.index(f"{c}-axis (g)") for c in "xyz"]
        self.columns = [
            Column(f, "num" if i == 0 or i in self._axes else "skip") for i, f in enumerate(fields)
        ]
        self.metadata["format"] = "metabase"
        zone = next((f for f in fields if f.lower().startswith("time (")), "")
        if zone:
            self.metadata["metabase_time_column"] = zone

    def _samples(self, frame: pd.DataFrame, row0: int) -> tuple[np.ndarray, np.ndarray]:
        t = frame[0].to_numpy(dtype=np.float64) / 1000.0
        a = frame[self._axes].to_numpy(dtype=np.float64)
        return t, a
