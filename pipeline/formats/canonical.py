"""The canonical CSV format (jerkcount's own).

``# key: value`` metadata lines, the header ``time,ax,ay,az``, then one sample per
line: ``time`` epoch seconds UTC (decimal), axes in g. Source checked: this project's
writer (:mod:`pipeline.writer`) and README.
"""

from __future__ import annotations

import logging
from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np

from pipeline.errors import InputError
from pipeline.formats.arrowcsv import COLUMNS, ArrowBlocks
from pipeline.formats.base import (
    REPEATED_HEADER,
    Column,
    InputOptions,
    LineReader,
    RawBlock,
    TableSource,
    ramp_rows,
)

if TYPE_CHECKING:
    import pandas as pd

log = logging.getLogger(__name__)

CANONICAL_COLUMNS = COLUMNS


def parse_metadata_line(text: str) -> tuple[str, str]:
    """``# key: value`` → ``(key, value)``; a line without a colon is a key with no value."""
    body = text.lstrip("#").strip()
    key, sep, value = body.partition(":")
    if not sep:
        return body, ""
    return key.strip(), value.strip()


def header_columns(line: str) -> tuple[str, ...]:
    """Lower-cased, unquoted column names of a comma-separated header line."""
    return tuple(c.strip().strip('"').lower() for c in line.split(","))


class CanonicalCsvSource(TableSource):
    """Canonical CSV; the error messages name the canonical columns."""

    name = "canonical"

    def __init__(self, path: Path, options: InputOptions, member: str | None = None) -> None:
        super().__init__(path, options, member)

    def _preamble(self, lines: LineReader) -> None:
        self.columns = [Column(c) for c in CANONICAL_COLUMNS]
        while True:
            text = lines.next()
            if text is None:
                first = lines.lineno == 0
                msg = "empty file" if first else "no header line time,ax,ay,az"
                raise InputError(self.path, msg, None if first else lines.lineno + 1)
            stripped = text.strip()
            if not stripped:
                continue
            if stripped.startswith("#"):
                key, value = parse_metadata_line(stripped)
                if key:
                    self.metadata[key] = value
                continue
            cols = header_columns(stripped)
            if cols != CANONICAL_COLUMNS:
                missing = [c for c in CANONICAL_COLUMNS if c not in cols]
                what = f"missing column(s) {','.join(missing)}" if missing else "unexpected columns"
                raise InputError(
                    self.path,
                    f"{what}: header is '{stripped[:60]}', expected 'time,ax,ay,az' "
                    "(other formats: --format, or --time-col/--axes)",
                    lines.lineno,
                )
            return

    def blocks(self, rows: int) -> Iterator[RawBlock]:
        """Clean rows through Arrow's CSV parser, in blocks that ramp up to ``rows``
        (:func:`~pipeline.formats.base.ramp_rows`); from the first unclean block on (and
        for compressed files) pandas' C parser in blocks of ``rows``: see
        :mod:`pipeline.formats.arrowcsv`."""
        if self.input.compression:
            yield from super().blocks(rows)
            return
        fast = ArrowBlocks(self.input.raw, self.data_line, rows, ramp_rows(rows))
        yield from fast
        if not fast.done:
            log.debug("%s: pandas reads on from line %d", self.path, fast.line)
            primer = b"0,0,0,0\n" if fast.line > self.data_line else b""
            yield from self._pandas_blocks(self.input.raw, fast.line, rows, primer)

    def _samples(self, frame: pd.DataFrame, row0: int) -> tuple[np.ndarray, np.ndarray]:
        """``t`` (m,) and ``a`` (m, 3) C-ordered, from the parsed float64 columns.

        Column by column: ``frame.to_numpy()`` would interleave the columns into a
        transposed block first (and copying its slices again costs 4x more). ``t`` is
        copied so that it does not keep the frame's whole block alive.
        """
        cols = [frame[k].to_numpy(dtype=np.float64) for k in range(4)]
        return cols[0].copy(), np.column_stack(cols[1:])

    def _check_fields(self, fields: list[str]) -> str | None:
        if self._starts_recording(fields):  # ``# key: value`` lines: a second recording
            return REPEATED_HEADER
        if len(fields) != 4:
            return f"expected 4 fields time,ax,ay,az, found {len(fields)}"
        if tuple(f.strip().lower() for f in fields) == CANONICAL_COLUMNS:
            return REPEATED_HEADER
        for name, value in zip(CANONICAL_COLUMNS, fields, strict=True):
            try:
                float(value)
            except ValueError:
                return f"{name} is not a number: '{value.strip()[:30]}'"
        return None

    def _row_problem(self, fields: list[str]) -> str | None:
        if self._starts_recording(fields):
            return REPEATED_HEADER
        if len(fields) != 4:
            return f"empty or missing field (expected 4 fields time,ax,ay,az, found {len(fields)})"
        return super()._row_problem(fields)

    def explain_line(self, line: int) -> str | None:
        return None  # "empty or missing field" says it for the canonical format
