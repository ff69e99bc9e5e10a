"""Polar Sensor Logger accelerometer files (``..._ACC.txt``).

Layout (checked against public code that writes and parses Polar Sensor Logger exports
and the Polar BLE SDK's ``PolarAccelerometerData`` documentation)::

    Phone timestamp;sensor timestamp [ns];X [mg];Y [mg];Z [mg]
    2026-04-24T14:10:20.058;599616065136175104;-953;63;425

``;``-separated; the phone timestamp is the phone's local wall-clock time (ISO 8601,
ms, no zone: read in ``--tz``, default UTC); the sensor timestamp counts nanoseconds
on the sensor's own clock (epoch 2000-01-01 per the SDK, but the device clock is often
never set); X, Y, Z in milli-g. Times: the sensor clock gives the spacing between
samples (ns resolution); the phone clock places it: the offset is the smallest
``phone - sensor`` over the first 256 rows (the phone stamps arrival, never before
the sample), so times are within a millisecond of the phone's clock.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np

from pipeline.errors import InputError
from pipeline.formats.base import (
    Column,
    LineReader,
    TableSource,
    get_tz,
    head_lines,
    naive_to_epoch,
    split_fields,
)

if TYPE_CHECKING:
    import pandas as pd

HEADER = ("phone timestamp", "sensor timestamp [ns]", "x [mg]", "y [mg]", "z [mg]")
ANCHOR_ROWS = 256


def is_polar_header(line: str) -> bool:
    """True for a Polar Sensor Logger ACC header line."""
    return tuple(f.lower() for f in split_fields(line, ";"))[:5] == HEADER


class PolarSource(TableSource):
    """Polar Sensor Logger ACC."""

    name = "polar"
    sep = ";"

    def _preamble(self, lines: LineReader) -> None:
        header = lines.next()
        if header is None:
            raise InputError(self.path, "empty file")
        if not is_polar_header(header):
            raise InputError(self.path, f"not a Polar Sensor Logger ACC header: '{header[:60]}'", 1)
        fields = split_fields(header, ";")
        kinds = ["text", "int", "num", "num", "num"]
        self.columns = [Column(f, kinds[i] if i < 5 else "skip") for i, f in enumerate(fields)]
        self._tz = get_tz(self.options.tz, self.path)
        self.metadata["format"] = "polar-sensor-logger"
        self.metadata["phone_time_zone"] = str(self._tz)
        self._anchor: tuple[int, float] | None = None

    def _compute_anchor(self) -> tuple[int, float]:
        """``(ns0, epoch s of ns0)``: the first sensor time and where the phone puts it."""
        lines = head_lines(self.path, self.data_line + ANCHOR_ROWS, self.member)
        rows = [split_fields(s, ";") for s in lines[self.data_line - 1 :] if s.strip()]
        rows = [r for r in rows if len(r) >= 5 and r[0] and r[1].lstrip("-").isdigit()]
        if not rows:
            raise InputError(self.path, "no readable first row to place the times", self.data_line)
        ns = np.array([int(r[1]) for r in rows], dtype=np.int64)
        import pandas as pd

        phone = naive_to_epoch(pd.Series([r[0] for r in rows]), None, self._tz, self.path,
                               self.data_line)  # fmt: skip
        ok = np.isfinite(phone)
        if not ok.any():
            raise InputError(self.path, f"phone timestamp is not a time: '{rows[0][0][:30]}'",
                             self.data_line)  # fmt: skip
        rel = (ns - ns[0]).astype(np.float64) * 1e-9
        return int(ns[0]), float(np.min(phone[ok] - rel[ok]))

    def _samples(self, frame: pd.DataFrame, row0: int) -> tuple[np.ndarray, np.ndarray]:
        if len(frame) == 0:
            return np.empty(0), np.empty((0, 3))
        if self._anchor is None:
            self._anchor = self._compute_anchor()
        ns0, t0 = self._anchor
        ns = frame.iloc[:, 1]
        missing = ns.isna().to_numpy()
        rel = (ns.fillna(ns0).to_numpy(dtype=np.int64) - ns0).astype(np.float64) * 1e-9
        t = t0 + rel
        t[missing] = np.nan
        a = frame.iloc[:, 2:5].to_numpy(dtype=np.float64) * 1e-3
        return t, a
