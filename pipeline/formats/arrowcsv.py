"""Fast path for canonical CSV: Arrow's CSV parser, pandas' for anything unclean.

Arrow's parser (``pyarrow.csv.read_csv``, one thread, on a block of whole lines that
this module cuts from the file) costs about what pandas' C parser costs and releases
the GIL, but needs no pandas import (about 0.2 s of a command's start). It takes only
what it reads exactly as pandas' C parser would: blocks whose rows all have four fields
of finite numbers (the two parsers give the same float64 bits for such text; a test
compares them). From the first block that is not so — a field that is empty, ``NaN``
or not a number, a short or long row, a blank line, a torn last line — the pandas path
reads on from that block's first byte and line, so repairs, counts and error messages
(file and line) are exactly those of the pandas path. Compressed files always take the
pandas path. (Arrow's streaming reader was not used: it reads ahead in threads of its
own, without a bound, and costs more CPU.)
"""

from __future__ import annotations

import itertools
import logging
import math
from collections.abc import Iterator
from typing import IO, Any

import numpy as np

from pipeline.formats.arrays import float64_view
from pipeline.formats.base import RawBlock

log = logging.getLogger(__name__)

#: bytes read per block for ``rows`` rows (a canonical row is about 40 bytes)
BYTES_PER_ROW = 40
#: the canonical columns (as in :mod:`pipeline.formats.canonical`, which imports this)
COLUMNS = ("time", "ax", "ay", "az")
#: the largest piece read at once (bytes); files with longer lines take the pandas path
MAX_PIECE = 1 << 28
#: the smallest piece read at once (bytes)
MIN_PIECE = 64


class ArrowBlocks:
    """Blocks of clean data rows of a canonical CSV from ``raw``, positioned at file line
    ``first_line`` (1-based). Block ``k`` holds about ``sizes[k]`` rows (every block
    ``rows`` without ``sizes``): the whole lines of a piece of the file of that many
    rows' worth of bytes (estimated from the blocks before). Where a block ends does not
    change what the reader makes of the rows.

    When iteration stops, ``done`` says whether the file ended. If not, ``raw`` is
    positioned at the start of file line ``line``, the first row not delivered (the
    first row of a block), for the pandas path to read on from there.
    """

    def __init__(
        self, raw: IO[bytes], first_line: int, rows: int, sizes: Iterator[int] | None = None
    ) -> None:
        self.raw = raw
        self.line = first_line
        self.done = False
        self._first_line = first_line
        self._sizes = sizes if sizes is not None else itertools.repeat(rows)

    def __iter__(self) -> Iterator[RawBlock]:
        import pyarrow as pa
        import pyarrow.csv as pcsv

        names = list(COLUMNS)
        parse_options = pcsv.ParseOptions(ignore_empty_lines=False)
        convert_options = pcsv.ConvertOptions(
            column_types={n: pa.float64() for n in names},
            null_values=[],  # a missing value is for the pandas path to judge
            strings_can_be_null=False,
            quoted_strings_can_be_null=False,
        )
        errors = (pa.ArrowInvalid, pa.ArrowNotImplementedError, pa.ArrowTypeError)
        rows = next(self._sizes)
        per_row = float(BYTES_PER_ROW)  # bytes per line, estimated from the pieces read
        start = self.raw.tell()  # file offset of ``self.line``
        rest = b""  # what the last read brought beyond its last whole line
        buffer = bytearray()  # reused from block to block (no churn of ~10 MB blocks)
        while True:
            size = max(MIN_PIECE, int(rows * per_row))  # about ``rows`` lines
            if size > MAX_PIECE:
                break  # lines far longer than a canonical row's: for the pandas path
            want = max(size - len(rest), MIN_PIECE)
            if len(buffer) < len(rest) + want:
                buffer = bytearray(len(rest) + want)
            buffer[: len(rest)] = rest
            with memoryview(buffer) as free:
                got = self.raw.readinto(free[len(rest) : len(rest) + want])
            at_end = got < want  # a short read of a file: its end
            end = len(rest) + got
            if end == 0:
                if self.line > self._first_line:
                    self.done = True  # else no rows at all: the pandas path says so
                break
            cut = end if at_end else buffer.rfind(b"\n", 0, end) + 1
            if cut == 0:  # not one whole line in the piece: read more at once
                rest, per_row = bytes(buffer[:end]), per_row * 2
                continue
            # one Arrow block for the whole piece: one chunk per column, no copies
            read_options = pcsv.ReadOptions(
                column_names=names, use_threads=False, block_size=cut + 1
            )
            try:
                with memoryview(buffer) as view:
                    parsed = _parse(pcsv, pa, view[:cut], read_options, parse_options,
                                    convert_options)  # fmt: skip
            except errors as err:
                log.debug("Arrow stops at line %d (%s)", self.line, err)
                parsed = None
            if parsed is None or parsed[0].size != _lines(buffer, cut, parsed[0].size):
                break  # (more rows than lines: a lone "\r" or a quoted line end)
            rest = bytes(buffer[cut:end])
            t, a = parsed
            per_row = cut / t.size
            yield RawBlock(t, a, self.line)
            self.line += t.size
            start += cut
            rows = next(self._sizes)
            if at_end and not rest:
                self.done = True
                return
        self.raw.seek(start)


def _lines(buffer: bytearray, cut: int, rows: int) -> int:
    """Lines of ``buffer[:cut]`` (the last one may lack its line end), or ``rows`` (the
    rows Arrow parsed) when the piece holds neither ``\\r`` nor a quote: then each row
    is one line, and the count is not needed (it costs a pass over the piece)."""
    if buffer.find(b"\r", 0, cut) < 0 and buffer.find(b'"', 0, cut) < 0:
        return rows
    return buffer.count(b"\n", 0, cut) + (buffer[cut - 1] != 10)


def _parse(
    pcsv: Any, pa: Any, block: memoryview, read: Any, parse: Any, convert: Any
) -> tuple[np.ndarray, np.ndarray] | None:
    """``(t, a)`` of a block of whole lines; ``None`` when a value is not finite or the
    block does not read as one chunk (Arrow's errors pass through)."""
    table = pcsv.read_csv(
        pa.py_buffer(block),
        read_options=read,
        parse_options=parse,
        convert_options=convert,
        memory_pool=pa.system_memory_pool(),  # malloc's: freed memory serves numpy again
    )
    if table.num_rows == 0 or table.column(0).num_chunks != 1:
        return None
    views = [float64_view(table.column(k).chunk(0)) for k in range(4)]
    values = [v for v in views if v is not None]
    if len(values) != 4:
        return None
    # NaN ("nan" is not a null here) or infinity: for the pandas path to judge; a sum
    # is finite only when every value is (an overflowing one sends it there too)
    if not all(math.isfinite(float(v.sum())) for v in values):
        return None
    return np.array(values[0], dtype=np.float64), np.column_stack(values[1:])
