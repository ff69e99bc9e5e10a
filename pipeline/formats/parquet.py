"""The canonical format as Apache Parquet (for big studies).

The same columns as canonical CSV: ``time`` epoch seconds UTC (float64; a Parquet
timestamp column is accepted too, naive ones taken in ``--tz``/UTC), ``ax``, ``ay``,
``az`` in g. The recording's metadata is the file's key-value metadata (one entry a
key; pyarrow's own ``pandas`` and ``ARROW:*`` entries are ignored). Read by record
batches with pyarrow, never whole. "Line" numbers in messages are 1-based row numbers.
Recognised by the magic bytes ``PAR1``. Source checked: the Apache Parquet format
specification (file starts and ends with ``PAR1``; key-value metadata in the footer)
and pyarrow's ``ParquetFile.iter_batches`` documentation.

Options as for other CSV apply where they make sense: ``--time-unit`` s, ms, ns or
relative (with ``--start``) for a numeric time column, ``--units``, and ``--time-col``
/ ``--axes`` naming other columns; without them, well-known names are found as in a
CSV header (``timestamp,x,y,z``, ``t,acc_x,acc_y,acc_z``, ...).
"""

from __future__ import annotations

import os
from collections.abc import Iterator, Mapping
from datetime import UTC
from pathlib import Path
from typing import Any

import numpy as np

from pipeline.atomic import atomic_write
from pipeline.errors import InputError
from pipeline.formats.arrays import float64_view
from pipeline.formats.base import (
    InputOptions,
    RawBlock,
    RawSource,
    check_path,
    get_tz,
    localize_naive,
    numeric_times,
    ramp_rows,
    unit_factor,
)
from pipeline.formats.canonical import CANONICAL_COLUMNS
from pipeline.formats.generic import default_axes, default_time

#: One batch's columns: ``t`` (m,) epoch s UTC and the three axes (m,) each, in g.
Columns = tuple[np.ndarray, list[np.ndarray]]


def _pq():  # noqa: ANN202 - lazy import: pyarrow is only needed for Parquet
    import pyarrow.parquet as pq

    return pq


def _wanted_columns(names: list[str], options: InputOptions) -> list[str]:
    """The time and x, y, z column names to read (lower case): ``--time-col`` and
    ``--axes`` where given, else well-known names as in a CSV header (``time``,
    ``timestamp``, ``t``, ``epoch``; ``ax,ay,az``, ``x,y,z``, ``acc_x,...``), else the
    canonical ``time,ax,ay,az`` (then reported missing)."""
    time = options.time_col or default_time(names) or CANONICAL_COLUMNS[0]
    axes = options.axis_cols or default_axes(names) or CANONICAL_COLUMNS[1:]
    return [time.strip().lower(), *[c.strip().lower() for c in axes]]


class ParquetSource(RawSource):
    """Canonical Parquet read in record batches."""

    name = "parquet"

    def __init__(self, path: Path, options: InputOptions) -> None:
        super().__init__(path)
        check_path(path)
        self.options = options
        try:
            # read as a stream (1 MiB buffered reads), never the whole file: pyarrow's
            # default pre-buffering fetches every row group asked for up front, so a
            # 7-day file took 1.5 GB (and a single-row-group file would take it whole)
            self._file = _pq().ParquetFile(path, pre_buffer=False, buffer_size=1 << 20)
        except PermissionError:
            raise InputError(path, "permission denied") from None
        except Exception as err:  # pyarrow raises ArrowInvalid / OSError for bad files
            raise InputError(path, f"not a readable Parquet file ({err})") from None
        self.size = os.path.getsize(path)
        schema = self._file.schema_arrow
        names = [n.lower() for n in schema.names]
        wanted = _wanted_columns(schema.names, options)
        missing = [c for c in wanted if c not in names]
        if missing:
            raise InputError(
                path, f"missing column(s) {','.join(missing)}: Parquet columns are "
                f"{','.join(schema.names)[:60]}, expected {','.join(wanted)}",
            )  # fmt: skip
        self._cols = [schema.names[names.index(c)] for c in wanted]
        self._time_unit = _time_unit(options, path)
        self._factor = unit_factor(options.units or "g", options.scale, path)
        meta = schema.metadata or {}
        for key, value in meta.items():
            k = key.decode("utf-8", "replace")
            if k == "pandas" or k.startswith("ARROW:"):
                continue
            self.metadata[k] = value.decode("utf-8", "replace")
        told = options.units not in (None, "g") or options.time_unit is not None
        if wanted != list(CANONICAL_COLUMNS) or told:
            # read otherwise than canonical Parquet: say how, next to every result
            self.metadata["time_column"] = self._cols[0]
            if options.time_unit is not None:
                self.metadata["time_unit"] = options.time_unit
            self.metadata["axis_columns"] = ",".join(self._cols[1:])
            self.metadata["units"] = options.units or "g"
            if options.units == "counts" and options.scale is not None:
                self.metadata["counts_per_g"] = f"{options.scale:g}"
        self._rows_total = max(self._file.metadata.num_rows, 1)
        self._rows_done = 0
        self._tz = get_tz(options.tz, path)

    def _batches(self, size: int) -> Iterator[Any]:
        """The file's record batches of ``size`` rows (of the columns read); a page that
        does not decode (corrupt compressed data, a bad page header) is an
        :class:`InputError` naming the rows read before it."""
        import pyarrow as pa

        batches = self._file.iter_batches(batch_size=size, columns=self._cols)
        done = 0
        while True:
            try:
                batch = next(batches)
            except StopIteration:
                return
            except (OSError, pa.ArrowException) as err:
                raise InputError(self.path, f"corrupt Parquet data after row {done} "
                                 f"({err})") from None  # fmt: skip
            done += batch.num_rows
            yield batch

    def blocks(self, rows: int) -> Iterator[RawBlock]:
        """Blocks of exactly the sizes of :func:`~pipeline.formats.base.ramp_rows` (up to
        ``rows``; the last may be shorter), joined from record batches (one copy)."""
        sizes = ramp_rows(rows)
        size = next(sizes)
        line = 1
        pending: list[Columns] = []
        have = 0
        row = 1  # 1-based row of the next batch's first
        for batch in self._batches(size):
            pending.append(self._columns(batch, row))
            have += batch.num_rows
            row += batch.num_rows
            while have >= size:
                block, pending = _split(pending, size)
                yield self._join(block, line)
                line += size
                have -= size
                size = next(sizes)
        if have:
            yield self._join(pending, line)
        self.dst.finish(self.path)  # a repeated hour still open at the end: an error

    def _columns(self, batch: object, row: int) -> Columns:
        """``t`` (m,) epoch s UTC and the three axes (m,) each, g (views where possible);
        ``row`` is the 1-based row of the batch's first (for messages)."""
        import pyarrow as pa

        tcol = batch.column(0)  # type: ignore[attr-defined]
        if pa.types.is_timestamp(tcol.type) and tcol.type.tz is None and self._tz is not UTC:
            t_s = self._local_times(tcol, row)
        elif pa.types.is_timestamp(tcol.type):
            import pyarrow.compute as pc  # only here: it takes 0.05-0.07 s to import

            if tcol.type.tz is None:
                tcol = pc.assume_timezone(tcol, timezone="UTC")
            t = pc.cast(pc.cast(tcol, pa.timestamp("ns", "UTC")), pa.int64())
            ns = t.to_numpy(zero_copy_only=False).astype(np.float64)
            t_s = ns / 1e9
        else:
            t_s = numeric_times(self._floats(tcol, 0, row), self._time_unit, self.options.start)
        axes = [self._floats(batch.column(k), k, row) for k in (1, 2, 3)]  # type: ignore[attr-defined]
        if self._factor != 1.0:
            axes = [x * self._factor for x in axes]
        return t_s, axes

    def _local_times(self, tcol: object, row: int) -> np.ndarray:
        """Epoch s (m,) of a naive timestamp column, local in ``--tz``: a time in the
        skipped spring hour is an error naming its row, the repeated autumn hour is placed
        by the order of the rows, as for text times (:func:`~.base.localize_naive`)."""
        parsed = tcol.to_pandas()  # type: ignore[attr-defined]
        return localize_naive(parsed, parsed, self._tz, self.path, row, self.dst)

    def _floats(self, col: object, k: int, row: int) -> np.ndarray:
        """Column ``k`` of the batch (0: the time) as float64 (:func:`_floats`, a view where
        possible); ``row`` is the batch's first 1-based row. Text that is not a number is
        an error naming its row; a type that holds no numbers (dates...) one naming it."""
        import pyarrow as pa

        try:
            return _floats(col, copy=False)
        except (pa.ArrowInvalid, pa.ArrowNotImplementedError, pa.ArrowTypeError):
            pass
        hint = (": a Parquet time column is numeric (epoch s, or see --time-unit) or a "
                "timestamp") if k == 0 else ""  # fmt: skip
        name = self._cols[k]
        values = col.to_pylist()  # type: ignore[attr-defined]
        for i, value in enumerate(values):
            if isinstance(value, str):
                try:
                    float(value)
                except ValueError:
                    raise InputError(self.path, f"column '{name}' is not a number: "
                                     f"'{value[:30]}'{hint}", row + i) from None  # fmt: skip
        kind = col.type  # type: ignore[attr-defined]
        raise InputError(self.path, f"column '{name}' holds {kind}, not numbers{hint}")

    def _join(self, parts: list[Columns], line: int) -> RawBlock:
        """One block (copied, C-ordered) from the columns of consecutive batches."""
        n = sum(t.size for t, _ in parts)
        t = np.empty(n)
        a = np.empty((n, 3))
        i = 0
        for tp, axes in parts:
            m = tp.size
            t[i : i + m] = tp
            for k in range(3):
                a[i : i + m, k] = axes[k]
            i += m
        self._rows_done += n
        return RawBlock(t, a, line)

    def bytes_read(self) -> int:
        return int(self.size * min(self._rows_done / self._rows_total, 1.0))


#: the forms of a numeric Parquet time column (:func:`~pipeline.formats.base.numeric_times`)
_TIME_UNITS = ("s", "ms", "ns", "relative")


def _time_unit(options: InputOptions, path: Path) -> str:
    """The ``--time-unit`` of a numeric time column: s (default), ms, ns, or relative
    (seconds from ``--start``)."""
    unit = options.time_unit or "s"
    if unit not in _TIME_UNITS:
        raise InputError(path, f"--time-unit {unit}: a Parquet time column is numeric "
                         "(s, ms, ns or relative) or a Parquet timestamp")  # fmt: skip
    if unit == "relative" and options.start is None:
        raise InputError(path, "relative times: give --start ISO-8601")
    return unit


def _split(parts: list[Columns], n: int) -> tuple[list[Columns], list[Columns]]:
    """The first ``n`` rows of consecutive batch columns, and the rest (views)."""
    head: list[Columns] = []
    for i, (t, axes) in enumerate(parts):
        if t.size >= n:
            head.append((t[:n], [x[:n] for x in axes]))
            rest = [(t[n:], [x[n:] for x in axes])] if t.size > n else []
            return head, rest + parts[i + 1 :]
        head.append((t, axes))
        n -= t.size
    return head, []


def _floats(col: object, copy: bool = True) -> np.ndarray:
    """A pyarrow column as float64 with NaN for nulls (m,).

    ``copy=False`` may return a read-only view of Arrow's buffer (a float64 column
    without nulls); the caller copies it (``np.column_stack``, ``np.array``).
    """
    view = float64_view(col)  # the common case, without pyarrow.compute and pandas
    if view is not None:
        return np.array(view, dtype=np.float64) if copy else view
    import pyarrow as pa
    import pyarrow.compute as pc

    if not pa.types.is_float64(col.type):  # type: ignore[attr-defined]
        col = pc.cast(col, pa.float64())
    values = col.to_numpy(zero_copy_only=False)  # type: ignore[attr-defined]
    return np.array(values, dtype=np.float64) if copy else values


def write_samples_parquet(
    path: str | Path,
    time: np.ndarray,
    acc: np.ndarray,
    metadata: Mapping[str, object] | None = None,
    row_group_size: int = 1 << 20,
) -> Path:
    """Write samples as canonical Parquet: ``time`` (n,) epoch s UTC, ``acc`` (n, 3) g.

    Rows with NaN acceleration are skipped (a gap is a jump in ``time``); metadata goes
    into the key-value metadata, one entry per key.
    """
    import pyarrow as pa

    time = np.asarray(time, dtype=np.float64)
    acc = np.asarray(acc, dtype=np.float64)
    keep = ~np.isnan(acc).any(axis=1)
    table = pa.table(
        {
            "time": time[keep],
            "ax": acc[keep, 0],
            "ay": acc[keep, 1],
            "az": acc[keep, 2],
        }
    )
    meta = {str(k).encode(): str(v).encode() for k, v in (metadata or {}).items()}
    table = table.replace_schema_metadata(meta)
    path = Path(path)
    with atomic_write(path, "wb") as fh:
        _pq().write_table(table, fh, row_group_size=row_group_size)
    return path
