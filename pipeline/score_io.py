"""Reading the onset tables that ``jerkcount score`` compares.

Both of score's inputs are onset lists: the ground truth (``simulate``'s truth CSV or
any CSV with a ``time`` column) and the events CSV from ``detect``. They are read
row by row with :mod:`csv`, so that every row is checked against the header the way
the recordings' reader checks its rows: a row with more or fewer fields than the
header, or whose ``time`` is empty, not a number or not finite, is an
:class:`~pipeline.errors.InputError` naming the file and the row's 1-based line.

What is accepted: ``#`` lines (metadata) and blank lines before the header, blank
lines between rows, a UTF-8 byte-order mark, CRLF or CR line ends, quoted fields
(also with commas or line breaks inside), and the columns in any order. A header
with no rows is a valid empty list.
"""

from __future__ import annotations

import csv
import io
import math
import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Protocol

import numpy as np

from pipeline.errors import InputError

#: A decimal number as detect and simulate write it (``1767302400.123``, ``-0.5``,
#: ``1e-3``); Python's ``float`` also takes ``1_000``, ``nan`` and ``infinity``,
#: which are not onsets.
_NUMBER = re.compile(r"[+-]?(?:\d+\.?\d*|\.\d+)(?:[eE][+-]?\d+)?")
#: Spellings of a value that is not finite (after a sign), as Python and pandas write them.
_NON_FINITE = frozenset({"nan", "inf", "infinity"})
#: The columns read; each may appear once in the header.
_USED_COLUMNS = ("time", "kind", "peak_g", "duration_ms", "detail", "lost_samples")
#: The other kinds of row in simulate's truth (its confounders:
#: ``sim.config.CONFOUNDER_KINDS``), which a ``kind`` filter leaves out without a word.
OTHER_KINDS = ("walking", "tremor", "rollover", "restless", "nonwear")
#: Longest quotation of a value or a header in a one-line error.
_QUOTE_CHARS = 30
_HEADER_CHARS = 80


@dataclass(frozen=True)
class Onsets:
    """Onsets read from a CSV: ``time`` (n,) epoch s, and per onset, where the file has
    them, ``peak_g`` (n,) g and ``duration_ms`` (n,) ms (else NaN) and ``detail`` (n,)
    text (else empty).

    ``lost_samples`` (n,): the truth's count of the jerk's samples lost on the link
    (``simulate`` since 0.4.5), NaN where the cell is not a whole number >= 0 or the
    file has no such column (``has_lost`` False); ``lines`` (n,) the 1-based line of
    each onset's row, for messages.
    """

    time: np.ndarray
    peak_g: np.ndarray
    duration_ms: np.ndarray
    detail: list[str]
    lost_samples: np.ndarray = field(default_factory=lambda: np.empty(0))
    lines: np.ndarray = field(default_factory=lambda: np.empty(0, dtype=np.int64))
    has_lost: bool = False

    def subset(self, mask: np.ndarray) -> Onsets:
        """The onsets where ``mask`` (n,) bool is True, every column alike."""
        mask = np.asarray(mask, dtype=bool)
        return Onsets(
            self.time[mask],
            self.peak_g[mask],
            self.duration_ms[mask],
            [d for d, keep in zip(self.detail, mask, strict=True) if keep],
            self.lost_samples[mask],
            self.lines[mask],
            self.has_lost,
        )


def read_onsets(path: str | Path, kind: str | None = None) -> np.ndarray:
    """Read the ``time`` column of a CSV as float seconds (see :func:`read_onset_table`)."""
    return read_onset_table(path, kind).time


def read_onset_table(path: str | Path, kind: str | None = None) -> Onsets:
    """Read the onsets of a CSV: its ``time`` column as float seconds, and its
    ``peak_g``, ``duration_ms`` and ``detail`` columns where it has them.

    Leading ``#`` lines and blank lines are skipped. With ``kind`` given and a
    ``kind`` column present, only rows of that kind are kept (every row's time is
    checked all the same). Raises :class:`InputError` for a missing, unreadable,
    empty, non-CSV or malformed file, naming the line of the first bad row: one with
    more or fewer fields than the header, or a ``time`` that is empty, not a number
    or not finite. A size (``peak_g``, ``duration_ms``) that is not a number is left
    empty (NaN).
    """
    path = Path(path)
    lines = io.StringIO(_read_text(path), newline="").readlines()
    start = 0
    while start < len(lines) and (lines[start].startswith("#") or not lines[start].strip()):
        start += 1
    if start == len(lines):
        raise InputError(path, "empty file: no CSV header")
    header_line = start + 1
    header, rows = _header_and_rows(path, lines, start)
    columns = [name.strip() for name in header]
    _check_header(path, columns, header_line)
    width = len(columns)
    at = {name: columns.index(name) for name in _USED_COLUMNS if name in columns}
    times: list[float] = []
    keep: list[bool] = []
    sizes: dict[str, list[float]] = {"peak_g": [], "duration_ms": []}
    detail: list[str] = []
    lost: list[float] = []
    kept_lines: list[int] = []
    unknown: list[tuple[int, str]] = []  # rows left out by a kind not the simulator's
    for line, row in rows:
        if len(row) != width:
            names = ",".join(columns)
            if len(names) > _HEADER_CHARS:
                names = names[: _HEADER_CHARS - 3] + "..."
            raise InputError(
                path, f"expected {_fields(width)} as in the header ({names}), found {len(row)}",
                line=line,
            )  # fmt: skip
        times.append(_time(path, row[at["time"]], line))
        keep.append(kind is None or "kind" not in at or row[at["kind"]].strip() == kind)
        if not keep[-1]:
            other = row[at["kind"]].strip()
            _check_kind(path, other, kind, line)
            if other not in OTHER_KINDS:
                unknown.append((line, other))
            continue
        for name, values in sizes.items():
            values.append(_size(row[at[name]]) if name in at else math.nan)
        detail.append(row[at["detail"]].strip() if "detail" in at else "")
        lost.append(_count(row[at["lost_samples"]]) if "lost_samples" in at else math.nan)
        kept_lines.append(line)
    if kind is not None and unknown and not any(keep):
        kinds = ", ".join(sorted({k for _, k in unknown}))[:_HEADER_CHARS]
        raise InputError(path, f"no row of kind '{kind}' (kinds here: {kinds}): score counts "
                         f"the rows whose kind is {kind}", line=unknown[0][0])  # fmt: skip
    time = np.array(times, dtype=np.float64)[np.array(keep, dtype=bool)]
    return Onsets(
        time,
        np.array(sizes["peak_g"], dtype=np.float64),
        np.array(sizes["duration_ms"], dtype=np.float64),
        detail,
        np.array(lost, dtype=np.float64),
        np.array(kept_lines, dtype=np.int64),
        "lost_samples" in at,
    )


def _check_kind(path: Path, field: str, kind: str | None, line: int) -> None:
    """:class:`InputError` at ``line`` for a ``kind`` cell that is ``kind`` but for its
    case (``Jerk``): it would be left out of the count without a word."""
    if kind is not None and field.strip().lower() == kind.lower():
        shown = field.strip()[:_QUOTE_CHARS]
        raise InputError(path, f"kind {shown!r} is not {kind!r}: score counts the rows whose "
                         f"kind is {kind} (lower case)", line=line)  # fmt: skip


def _fields(n: int) -> str:
    """``"1 field"``, ``"2 fields"``."""
    return f"{n} field" if n == 1 else f"{n} fields"


def _header_and_rows(
    path: Path, lines: list[str], start: int
) -> tuple[list[str], Iterator[tuple[int, list[str]]]]:
    """The header (the record at ``lines[start]``) and an iterator of the rows after
    it as ``(first line of the row, fields)``, blank lines left out.

    A header that :mod:`csv` cannot read (a field beyond its size limit: a file whose
    line ends were lost) is split at its commas, so that the missing ``time`` column
    can be reported with the header quoted.
    """
    reader = csv.reader(lines[start:], strict=True)
    offset = start
    try:
        header = next(reader)
    except csv.Error:
        header = lines[start].rstrip("\r\n").split(",")
        reader = csv.reader(lines[start + 1 :], strict=True)
        offset = start + 1
    return header, _rows(path, reader, offset)


class _CsvReader(Protocol):
    """What :func:`csv.reader` returns (its class has no public name)."""

    line_num: int

    def __next__(self) -> list[str]: ...


def _rows(path: Path, reader: _CsvReader, offset: int) -> Iterator[tuple[int, list[str]]]:
    """The non-blank records of ``reader`` with the 1-based file line each starts on
    (``offset`` lines of the file come before the reader's first); a record that is
    not valid CSV (a stray or unclosed quote) is an :class:`InputError` there."""
    while True:
        line = offset + reader.line_num + 1
        try:
            row = next(reader)
        except StopIteration:
            return
        except csv.Error as err:
            raise InputError(path, f"not a valid CSV row ({err})", line=line) from None
        if len(row) > 1 or (row and row[0].strip()):
            yield line, row


def _check_header(path: Path, columns: list[str], line: int) -> None:
    """:class:`InputError` for a header without ``time``, with a column that is read
    given twice, or of a recording (``ax,ay,az``) instead of onsets."""
    if "time" not in columns:
        found = ",".join(columns) or "nothing"
        if len(found) > _HEADER_CHARS:  # one line, even for a file whose "header" is all of it
            found = found[: _HEADER_CHARS - 3] + "..."
        raise InputError(path, f"missing column 'time' (header is: {found})", line=line)
    for name in _USED_COLUMNS:
        if columns.count(name) > 1:
            raise InputError(
                path, f"column '{name}' appears {columns.count(name)} times in the header",
                line=line,
            )  # fmt: skip
    if {"ax", "ay", "az"} <= {c.lower() for c in columns}:
        raise InputError(path, "a recording (columns ax,ay,az), not onsets: score takes the "
                         "ground truth (or your annotations) and an events CSV from detect",
                         line=line)  # fmt: skip


def _time(path: Path, field: str, line: int) -> float:
    """The onset ``field`` as finite seconds, or :class:`InputError` at ``line``."""
    text = field.strip()
    if not text:
        raise InputError(path, "time is missing", line=line)
    shown = text[:_QUOTE_CHARS] + ("..." if len(text) > _QUOTE_CHARS else "")
    if not _NUMBER.fullmatch(text):
        if text.lstrip("+-").lower() in _NON_FINITE:
            raise InputError(path, f"time is not finite: {shown!r}", line=line)
        raise InputError(path, f"time is not a number: {shown!r}", line=line)
    value = float(text)
    if not math.isfinite(value):
        raise InputError(path, f"time is too large to be finite: {shown!r}", line=line)
    return value


def _size(field: str) -> float:
    """A size cell as a float; NaN when it is empty or not a finite number."""
    text = field.strip()
    if not _NUMBER.fullmatch(text):
        return math.nan
    value = float(text)
    return value if math.isfinite(value) else math.nan


def _count(field: str) -> float:
    """A count cell (``lost_samples``) as a float; NaN unless a whole number >= 0."""
    text = field.strip()
    return float(text) if text.isascii() and text.isdigit() else math.nan


def _read_text(path: Path) -> str:
    """The file as UTF-8 text without a byte-order mark, or :class:`InputError` for
    anything unreadable."""
    try:
        data = path.read_bytes()
    except FileNotFoundError:
        raise InputError(path, "no such file") from None
    except IsADirectoryError:
        raise InputError(path, "is a directory, not a CSV file") from None
    except PermissionError:
        raise InputError(path, "permission denied") from None
    except OSError as err:
        raise InputError(path, f"cannot read ({err.strerror or err})") from None
    if b"\x00" in data:
        raise InputError(path, "not a CSV text file (binary data)")
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError as err:
        line = data[: err.start].count(b"\n") + 1
        raise InputError(path, "not a CSV text file (not UTF-8)", line=line) from None
