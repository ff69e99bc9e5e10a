"""phyphox CSV export: "Acceleration with g" and "Linear acceleration" experiments.

Layout (checked against public analysis code that reads phyphox exports and the
phyphox experiment definitions' ``<export>`` sets): a header line
``"Time (s)","Acceleration x (m/s^2)","Acceleration y (m/s^2)","Acceleration z (m/s^2)",
"Absolute acceleration (m/s^2)"`` (``Linear Acceleration x (m/s^2)`` ... for linear
acceleration), then one row per sample. ``Time (s)`` counts from the start of the
experiment; values are m/s² (divided by 9.80665 for g). phyphox offers three CSV
flavours: comma / decimal point, tab / decimal point and semicolon / decimal comma:
all are read. Linear acceleration has gravity removed: the metadata says so.

Absolute time: ``--start`` if given; else the export's ``meta/time.csv`` (a zip export
holds ``<set>.csv`` plus ``meta/device.csv`` and ``meta/time.csv``; an unzipped export
keeps ``meta/`` beside the data file). ``time.csv`` has the header
``"event","experiment time","system time","system time text"`` and one START (and
PAUSE) row per run: experiment time ``e`` of a sample recorded after the START row
``(e0, s0)`` is at epoch ``s0 + (e - e0)`` seconds (checked against public code that
reads ``meta/time.csv``). Without either, the file cannot be placed in time: an error
asks for ``--start``.
"""

from __future__ import annotations

import csv
import io
import re
import zipfile
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np

from pipeline.errors import InputError
from pipeline.formats.base import (
    GRAVITY,
    Column,
    InputOptions,
    LineReader,
    TableSource,
    sniff_delimiter,
    split_fields,
    zip_members,
)

if TYPE_CHECKING:
    import pandas as pd

_AXIS = re.compile(r"^(linear )?acceleration ([xyz]) \(m/s\^2\)$", re.IGNORECASE)


def is_phyphox_header(line: str) -> bool:
    """True for a phyphox acceleration header line."""
    fields = [f.lower() for f in split_fields(line, sniff_delimiter(line))]
    return len(fields) >= 4 and fields[0] == "time (s)" and all(_AXIS.match(f) for f in fields[1:4])


def zip_layout(path: Path) -> tuple[str, str] | None:
    """``(data member, time member)`` of a phyphox zip export, or ``None``."""
    try:
        with zipfile.ZipFile(path) as zf:
            names = zip_members(zf)
            time_member = next((n for n in names if n.lower().endswith("meta/time.csv")), None)
            if time_member is None:
                return None
            data = [n for n in names if n.lower().endswith(".csv") and "meta/" not in n.lower()]
            for name in data:
                with zf.open(name) as fh:
                    first = fh.readline().decode("utf-8", "replace").lstrip("\ufeff")
                if is_phyphox_header(first):
                    return name, time_member
    except zipfile.BadZipFile:
        return None
    return None


def parse_time_csv(text: str, path: Path) -> list[tuple[float, float]]:
    """``(experiment time, system time)`` of every START row of ``meta/time.csv``."""
    rows = list(csv.reader(io.StringIO(text.lstrip("\ufeff"))))
    if not rows:
        raise InputError(path, "meta/time.csv is empty")
    head = [h.strip().lower() for h in rows[0]]
    try:
        i_ev, i_exp, i_sys = (head.index(k) for k in ("event", "experiment time", "system time"))
    except ValueError:
        raise InputError(
            path, f"meta/time.csv: unexpected header '{','.join(rows[0])[:60]}'"
        ) from None
    starts = []
    for row in rows[1:]:
        if len(row) > max(i_ev, i_exp, i_sys) and row[i_ev].strip().upper() == "START":
            try:
                starts.append((float(row[i_exp]), float(row[i_sys])))
            except ValueError:
                raise InputError(
                    path, f"meta/time.csv: bad START row '{','.join(row)[:60]}'"
                ) from None
    if not starts:
        raise InputError(path, "meta/time.csv has no START row")
    return sorted(starts)


class PhyphoxSource(TableSource):
    """A phyphox acceleration CSV (plain, gzip, zip export, or beside its meta/ folder)."""

    name = "phyphox"

    def __init__(self, path: Path, options: InputOptions, member: str | None = None,
                 time_member: str | None = None) -> None:  # fmt: skip
        self._time_member = time_member
        super().__init__(path, options, member)

    def _preamble(self, lines: LineReader) -> None:
        header = lines.next()
        if header is None:
            raise InputError(self.path, "empty file")
        if not is_phyphox_header(header):
            raise InputError(self.path, f"not a phyphox acceleration header: '{header[:60]}'", 1)
        self.sep = sniff_delimiter(header)
        self.decimal = "," if self.sep == ";" else "."
        fields = split_fields(header, self.sep)
        self.columns = [Column(f, "num" if i < 4 else "skip") for i, f in enumerate(fields)]
        linear = fields[1].lower().startswith("linear")
        self.metadata["format"] = "phyphox"
        self.metadata["phyphox_set"] = "linear acceleration" if linear else "acceleration with g"
        if linear:
            self.metadata["gravity_removed"] = "true"
        self._starts = self._time_mapping()

    def _time_mapping(self) -> np.ndarray:
        """``(k, 2)`` START rows (experiment s, epoch s), from --start or meta/time.csv."""
        if self.options.start is not None:
            self.metadata["start_from"] = "--start"
            return np.array([[0.0, self.options.start]])
        text = None
        if self._time_member is not None:
            with zipfile.ZipFile(self.path) as zf, zf.open(self._time_member) as fh:
                text = fh.read().decode("utf-8", "replace")
        else:
            beside = self.path.parent / "meta" / "time.csv"
            if beside.is_file():
                text = beside.read_text(encoding="utf-8", errors="replace")
        if text is None:
            raise InputError(
                self.path, "phyphox time is relative to the start of the experiment: give "
                "--start ISO-8601 (or read the zip export, which holds meta/time.csv)",
            )  # fmt: skip
        self.metadata["start_from"] = "meta/time.csv"
        return np.array(parse_time_csv(text, self.path))

    def _samples(self, frame: pd.DataFrame, row0: int) -> tuple[np.ndarray, np.ndarray]:
        values = frame[[0, 1, 2, 3]].to_numpy(dtype=np.float64)
        rel = values[:, 0]
        k = np.searchsorted(self._starts[:, 0], rel, side="right") - 1
        k = np.clip(k, 0, len(self._starts) - 1)
        t = self._starts[k, 1] + (rel - self._starts[k, 0])
        return t, values[:, 1:4] / GRAVITY
