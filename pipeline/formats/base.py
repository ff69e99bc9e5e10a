"""What every raw source shares: the input options, raw blocks, opening, text tables.

A *raw source* turns one recording file of some dialect into blocks of raw samples:
``t`` epoch seconds UTC (float64, as written, not yet on a grid) and ``a`` (m, 3)
acceleration in g, with the 1-based file line of the block's first row. The reader
(:mod:`pipeline.reader`) validates those blocks (missing fields, order, duplicates,
a torn last line) and resamples them onto the uniform grid, the same way for every
dialect.

Opening: a gzip file (magic ``1f 8b``) and a zip archive holding one data file (magic
``PK``) are decompressed while streaming; progress is the position in the compressed
file. A UTF-8 byte-order mark is dropped; CRLF line ends read like LF.
"""

from __future__ import annotations

import gzip
import io
import itertools
import logging
import math
import os
import re
import zipfile
import zlib
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta, timezone
from pathlib import Path
from typing import IO, TYPE_CHECKING, Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import numpy as np

from pipeline.errors import InputError
from pipeline.localtime import dst_problem

if TYPE_CHECKING:
    import pandas as pd

log = logging.getLogger(__name__)

GRAVITY = 9.80665  # m/s² per g (standard gravity)
TIME_UNITS = ("s", "ms", "ns", "iso", "relative")
UNITS = ("g", "mg", "m/s2", "counts")
MAGIC_GZIP = b"\x1f\x8b"
MAGIC_ZIP = b"PK\x03\x04"
#: an empty zip archive is only its end record (no local file header first)
MAGIC_ZIP_EMPTY = b"PK\x05\x06"
#: what an archive without a file says
EMPTY_ZIP = "zip archive holds no file: nothing to read"
MAGIC_PARQUET = b"PAR1"
#: Rows of the first block of a source that ramps its block sizes (see :func:`ramp_rows`).
FIRST_BLOCK_ROWS = 32_768


def ramp_rows(rows: int, first: int = FIRST_BLOCK_ROWS) -> Iterator[int]:
    """Block sizes (rows) that start at ``min(first, rows)`` and double up to ``rows``.

    The reader cannot start its checks, resampling and detection before a first block is
    parsed, and its read-ahead keeps a block or two ahead: small first blocks let all
    of that start early, so on two cores the parse overlaps the rest of the pipeline
    from the start (the grid and the events do not depend on block sizes).
    """
    size = max(1, min(first, rows))
    while True:
        yield size
        size = min(rows, size * 2)


@dataclass(frozen=True)
class InputOptions:
    """How to read an input file; every field is optional (``None``: recognise or default).

    format : dialect name (see :data:`pipeline.formats.DIALECTS`); ``None`` recognises it.
    start : epoch seconds UTC of relative time zero (phyphox, ``--time-unit relative``,
        files with no time column).
    tz : IANA zone of naive local timestamps in the file; ``None``: UTC (logged).
    time_col : time column, a header name or a 1-based position (then a first line
        whose chosen fields are neither numbers nor times is taken for the header).
    time_unit : ``s``, ``ms``, ``ns`` (epoch numbers), ``iso`` (ISO 8601 text) or
        ``relative`` (seconds from ``start``).
    axis_cols : the x, y, z columns, header names or 1-based positions.
    units : ``g``, ``mg``, ``m/s2`` or ``counts`` (needs ``scale``).
    scale : sensitivity for ``counts``, counts per g (e.g. 16384 for a ±2 g 16-bit axis).
    delimiter : field separator; ``None`` sniffs ``,`` ``;`` tab ``|``.
    rate : sample rate in Hz for files without a time column (with ``start``).
    calibrate : ``auto`` (fit and apply an autocalibration when the data allow it, see
        :mod:`pipeline.calibration`) or ``off``/``None`` (default).
    """

    format: str | None = None
    start: float | None = None
    tz: str | None = None
    time_col: str | None = None
    time_unit: str | None = None
    axis_cols: tuple[str, str, str] | None = None
    units: str | None = None
    scale: float | None = None
    delimiter: str | None = None
    rate: float | None = None
    calibrate: str | None = None

    def _column_values(self) -> tuple[object, ...]:
        """The options that describe columns, besides the delimiter (``None``: not given)."""
        return (self.time_col, self.time_unit, self.axis_cols, self.units, self.rate)

    @property
    def only_delimiter(self) -> bool:
        """True when ``delimiter`` is the only column option given."""
        return self.delimiter is not None and all(v is None for v in self._column_values())

    @property
    def only_rate(self) -> bool:
        """True when ``rate`` is the only column option given (no delimiter either)."""
        others = (self.time_col, self.time_unit, self.axis_cols, self.units, self.delimiter)
        return self.rate is not None and all(v is None for v in others)

    @property
    def explicit_columns(self) -> bool:
        """True when the options describe the columns themselves (the generic dialect)."""
        return self.delimiter is not None or any(v is not None for v in self._column_values())


@dataclass
class RawBlock:
    """A block of raw rows: ``t`` (m,) epoch s, ``a`` (m, 3) g, first row's 1-based file line."""

    t: np.ndarray
    a: np.ndarray
    first_line: int


class RawSource:
    """One open input file of some dialect, read as :class:`RawBlock` objects.

    Attributes set by subclasses: ``metadata`` (shown in outputs), ``data_line``
    (1-based line of the first data row, for "header only"), ``size`` (bytes on disk),
    ``skipped_blocks`` (corrupt data blocks or pages of a device binary, not read).
    """

    name = "?"
    #: what one unit of the file is called in messages about skipped ones
    unit = "block"

    def __init__(self, path: Path) -> None:
        self.path = path
        self.metadata: dict[str, str] = {}
        self.data_line = 1
        self.size = 0
        self.skipped_blocks = 0
        self.dst = DstResolver()

    def blocks(self, rows: int) -> Iterator[RawBlock]:
        """Raw blocks of at most about ``rows`` rows, in file order."""
        raise NotImplementedError

    def bytes_read(self) -> int:
        """Input bytes consumed so far (compressed bytes for compressed files)."""
        return self.size

    def explain_line(self, line: int) -> str | None:
        """Why row ``line`` has a missing value, if the source can say more (slow path)."""
        return None

    def row_problems(self, lines: list[int]) -> list[str | None]:
        """For rows that read with a missing value (NaN), why each is broken.

        ``lines`` are 1-based file lines in increasing order. ``None`` for a row whose
        fields are all there and only hold missing values (empty, ``NaN``, ``NA``,
        ``null``): the reader drops and counts it. A message for a row that is broken
        (wrong number of fields, text that is not a value): the reader stops there.
        A source without lines (Parquet, a live link) has only missing values.
        """
        return [None] * len(lines)

    @property
    def truncated(self) -> bool:
        """True when compressed data ended early (what came before was read)."""
        inp = getattr(self, "input", None)
        safe = getattr(inp, "_safe", None)
        return bool(getattr(safe, "truncated", False))

    @property
    def dst_repeated_rows(self) -> int:
        """Rows whose naive local time fell in a repeated hour and were placed by order."""
        dst = getattr(self, "dst", None)
        return dst.resolved if dst is not None else 0

    def close(self) -> None:
        """Release the file."""


# --------------------------------------------------------------------------- opening
def check_path(path: Path) -> None:
    """Raise :class:`InputError` for a directory, a missing file, or anything but a
    regular file (a named pipe, ``<(zcat night.csv.gz)``, a device): a recording is
    opened more than once (its first bytes, its rows, its sha256), and a pipe gives
    each reader other bytes, or blocks."""
    if path.is_dir():
        raise InputError(path, "is a directory, not a recording file")
    if not path.exists():
        raise InputError(path, "no such file")
    if not path.is_file():
        raise InputError(
            path, "is not a regular file (a pipe or a device): jerkcount reads a recording "
            "more than once, so save it to a file first",
        )  # fmt: skip


def read_magic(path: Path, n: int = 4) -> bytes:
    """The first ``n`` bytes of ``path`` (InputError when it cannot be opened)."""
    check_path(path)
    try:
        with open(path, "rb") as fh:
            return fh.read(n)
    except PermissionError:
        raise InputError(path, "permission denied") from None
    except OSError as err:
        raise InputError(path, f"cannot read: {err.strerror or err}") from None


class _SafeStream(io.RawIOBase):
    """A decompressing stream whose errors become :class:`InputError` (truncation: EOF)."""

    def __init__(self, inner: IO[bytes], path: Path, what: str) -> None:
        self._inner = inner
        self._path = path
        self._what = what
        self.truncated = False

    def readable(self) -> bool:
        return True

    def readinto(self, buffer: Any) -> int:
        if self.truncated:
            return 0
        try:  # read1: a truncated stream keeps what was decompressed before its end
            read1 = getattr(self._inner, "read1", None)
            data = read1(len(buffer)) if read1 is not None else self._inner.read(len(buffer))
        except EOFError:  # gzip member cut short: what came before is still good
            log.warning("%s: %s data is truncated; reading what is there", self._path, self._what)
            self.truncated = True
            return 0
        except (zlib.error, OSError, zipfile.BadZipFile) as err:
            raise InputError(self._path, f"corrupt {self._what} data ({err})") from None
        buffer[: len(data)] = data
        return len(data)

    def close(self) -> None:
        self._inner.close()
        super().close()


_ZIP_JUNK = ("__MACOSX/", ".DS_Store")


def zip_members(zf: zipfile.ZipFile) -> list[str]:
    """Names of the files in a zip archive, without folders and macOS litter."""
    return [
        i.filename
        for i in zf.infolist()
        if not i.is_dir() and not any(j in i.filename for j in _ZIP_JUNK)
    ]


#: first bytes of files that are text once decoded, but not by jerkcount: what to do
UNREAD_ENCODINGS = (
    (b"BZh", "bzip2-compressed: decompress it first (jerkcount reads .gz and .zip)"),
    (b"\xfd7zX", "xz-compressed: decompress it first (jerkcount reads .gz and .zip)"),
    (b"\xff\xfe", "UTF-16 text (a spreadsheet's 'Unicode text'?): save it as UTF-8 CSV"),
    (b"\xfe\xff", "UTF-16 text (a spreadsheet's 'Unicode text'?): save it as UTF-8 CSV"),
)


def unread_encoding(magic: bytes) -> str | None:
    """What to do with a file whose first bytes ``magic`` say bzip2, xz or UTF-16 (which
    read as "binary data" otherwise), or ``None``."""
    for start, what in UNREAD_ENCODINGS:
        if magic.startswith(start) and (start != b"BZh" or magic[3:4].isdigit()):
            return what
    return None


class ByteInput:
    """A file's bytes, decompressed while streaming when gzip or zip.

    ``member`` picks the zip entry (default: the only file in the archive).
    ``stream`` is a buffered binary stream; :meth:`position` the compressed bytes read.
    """

    def __init__(self, path: Path, member: str | None = None) -> None:
        self.path = path
        magic = read_magic(path)
        self.raw = open(path, "rb")  # noqa: SIM115 - closed in close()
        self.size = os.fstat(self.raw.fileno()).st_size
        self.compression = ""
        self.member = ""
        self._zip: zipfile.ZipFile | None = None
        self.stream: IO[bytes] = self.raw
        if magic.startswith(MAGIC_ZIP_EMPTY):
            self.raw.close()
            raise InputError(path, EMPTY_ZIP)
        unread = unread_encoding(magic)
        if unread is not None:
            self.raw.close()
            raise InputError(path, unread)
        if magic.startswith(MAGIC_GZIP):
            self.compression = "gzip"
            self._safe = _SafeStream(gzip.GzipFile(fileobj=self.raw, mode="rb"), path, "gzip")
            self.stream = io.BufferedReader(self._safe, 1 << 16)
        elif magic.startswith(MAGIC_ZIP):
            self.compression = "zip"
            try:
                self._zip = zipfile.ZipFile(self.raw)
            except zipfile.BadZipFile as err:
                self.raw.close()
                raise InputError(path, f"corrupt zip archive ({err})") from None
            names = zip_members(self._zip)
            if member is None:
                if not names:  # only folders or macOS litter
                    self.close()
                    raise InputError(path, EMPTY_ZIP)
                if len(names) != 1:
                    self.close()
                    shown = ", ".join(names[:4]) + (", ..." if len(names) > 4 else "")
                    raise InputError(
                        path, f"zip archive holds {len(names)} files ({shown}); "
                        "jerkcount reads a zip with a single recording file",
                    )  # fmt: skip
                member = names[0]
            self.member = member
            self._safe = _SafeStream(self._zip.open(member), path, "zip")
            self.stream = io.BufferedReader(self._safe, 1 << 16)
        else:
            self.stream = self.raw

    def position(self) -> int:
        """Bytes of the file on disk consumed so far."""
        try:
            return min(self.raw.tell(), self.size)
        except (ValueError, OSError):
            return self.size

    def close(self) -> None:
        for closable in (self.stream, self._zip, self.raw):
            if closable is not None:
                try:
                    closable.close()
                except (OSError, ValueError):
                    pass


class LineReader:
    """Read header lines one by one from a binary stream: decode, drop the BOM, count."""

    def __init__(self, stream: IO[bytes], path: Path) -> None:
        self.stream = stream
        self.path = path
        self.lineno = 0

    def next(self) -> str | None:
        """The next line without its line end, or ``None`` at the end of the file."""
        raw = self.stream.readline()
        if not raw:
            return None
        self.lineno += 1
        return decode_line(raw, self.path, self.lineno)


def decode_line(raw: bytes, path: Path, lineno: int) -> str:
    """One line of a text file as str (InputError for binary or non-UTF-8 bytes)."""
    if b"\x00" in raw:
        raise InputError(path, "not a text CSV file (binary data)", lineno)
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError:
        raise InputError(path, "not a text CSV file (not UTF-8)", lineno) from None
    if lineno == 1:
        text = text.lstrip("\ufeff")
    return text.rstrip("\r\n")


#: what a data line that repeats the header is (two files joined end to end)
REPEATED_HEADER = (
    "the header again (two recordings joined end to end?): split the file here and read each part"
)


#: bytes of a line :func:`head_lines` reads at most (a longer line is cut there, and is
#: the last line it reads: a file without line ends is not read whole to sniff it)
HEAD_LINE_BYTES = 1 << 20


def head_lines(path: Path, n: int, member: str | None = None) -> list[str]:
    """The first ``n`` lines of a (possibly compressed) text file, decoded leniently;
    each at most :data:`HEAD_LINE_BYTES` (a longer one ends the lines read)."""
    src = ByteInput(path, member)
    try:
        out = []
        for _ in range(n):
            raw = src.stream.readline(HEAD_LINE_BYTES)
            if not raw:
                break
            text = raw.decode("utf-8", errors="replace")
            out.append(text.lstrip("\ufeff") if not out else text)
            if len(raw) == HEAD_LINE_BYTES and not raw.endswith(b"\n"):
                break  # cut short: the rest of the line is not read
        return [s.rstrip("\r\n") for s in out]
    finally:
        src.close()


# ----------------------------------------------------------------------- conversions
def numeric_times(x: np.ndarray, unit: str, start: float | None) -> np.ndarray:
    """A numeric time column ``x`` (m,) as epoch seconds: ``unit`` ``s`` (as is),
    ``ms``, ``ns`` (divided), or ``relative`` (seconds after ``start``, epoch s)."""
    if unit == "ms":
        return x / 1e3
    if unit == "ns":
        return x / 1e9
    if unit == "relative":
        assert start is not None
        return start + x
    return x


def unit_factor(units: str, scale: float | None, path: Path) -> float:
    """Multiplier from the file's unit to g."""
    if units == "g":
        return 1.0
    if units == "mg":
        return 1e-3
    if units == "m/s2":
        return 1.0 / GRAVITY
    if units == "counts":
        if scale is None or not scale > 0:
            raise InputError(path, "--units counts needs --scale (counts per g, > 0)")
        return 1.0 / scale
    raise InputError(path, f"unknown unit '{units}' (use one of {', '.join(UNITS)})")


def get_tz(name: str | None, path: Path) -> ZoneInfo | timezone:
    """The zone for naive timestamps: ``name`` or UTC."""
    if name is None:
        return UTC
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        raise InputError(path, f"unknown time zone '{name}' (use an IANA name)") from None


#: field texts that mean "no value" (pandas reads them as NaN)
NA_TEXT = frozenset({"", "nan", "-nan", "na", "n/a", "null", "none", "<na>", "#n/a", "nat"})


def is_missing(text: str) -> bool:
    """True when a field's text means "no value" (empty, ``NaN``, ``NA``, ``null`` ...)."""
    return text.strip().strip('"').strip().lower() in NA_TEXT


class DstResolver:
    """Places naive local times of a repeated hour (autumn clock change) by their order.

    In the file the repeated hour appears twice in a row: 02:00-02:59 summer time, then
    the clock steps back about an hour and 02:00-02:59 winter time follows. Rows before
    that step are summer time, rows from it on winter time; ``resolved`` counts them.
    A repeated hour without the step (only one pass of it, followed by other rows, or
    reaching the end of the file: :meth:`finish`) cannot be placed: :class:`InputError`
    naming its first line. State is carried across blocks, so the result does not
    depend on the block size.
    """

    STEP_NS = 30 * 60 * 1_000_000_000  # a backward step this large is the clock change

    def __init__(self) -> None:
        self.resolved = 0
        self._run_line: int | None = None  # first line of the open repeated-hour run
        self._run_text = ""
        self._switched = False
        self._last_local: int | None = None
        self._tz: Any = None

    def resolve(
        self,
        local_ns: np.ndarray,
        amb: np.ndarray,
        dst_ns: np.ndarray,
        std_ns: np.ndarray,
        texts: pd.Series,
        path: Path,
        first_line: int,
        tz: Any,
    ) -> np.ndarray:
        """Epoch ns for the ambiguous rows ``amb`` (others: 0); raises for an unplaceable run."""
        out = np.zeros(local_ns.size, dtype=np.int64)
        self._tz = tz
        for k in range(local_ns.size):
            if not amb[k]:
                if self._run_line is not None and local_ns[k] != np.iinfo(np.int64).min:
                    self._end_run(path, tz)
                continue
            if self._run_line is None:
                self._run_line, self._run_text = first_line + k, str(texts.iloc[k])
                self._switched = False
                self._last_local = None
            elif (
                not self._switched
                and self._last_local is not None
                and local_ns[k] < self._last_local - self.STEP_NS
            ):
                self._switched = True
            self._last_local = int(local_ns[k])
            out[k] = std_ns[k] if self._switched else dst_ns[k]
            self.resolved += 1
        return out

    def finish(self, path: Path) -> None:
        """At the end of the file: a repeated-hour run still open and never stepping back
        (the file ends inside the hour, or lies wholly in it) cannot be placed either."""
        if self._run_line is not None:
            self._end_run(path, self._tz)

    def _end_run(self, path: Path, tz: Any) -> None:
        line, text, ok = self._run_line, self._run_text, self._switched
        self._run_line = None
        if not ok:
            raise InputError(
                path, f"local time '{text}' is repeated in {tz} (daylight-saving change) and "
                "the rows do not show which pass it is: write times with a UTC offset", line,
            )  # fmt: skip


def naive_to_epoch(
    times: pd.Series,
    fmt: str | None,
    tz: Any,
    path: Path,
    first_line: int,
    dst: DstResolver | None = None,
) -> np.ndarray:
    """Epoch seconds from text times; unparsable → NaN; naive times are local in ``tz``.

    ``fmt`` is a strptime format, or ``None`` for ISO 8601 (offsets such as ``+01:00`` or
    ``Z`` in the text are honoured; a decimal comma, ``00:00:00,010``, reads as a point).
    A local time that does not exist (spring gap) is an :class:`InputError` naming its
    line; one in a repeated hour (autumn) is placed by ``dst`` (see
    :class:`DstResolver`), or is an error without it.
    """
    import pandas as pd  # imported here: only text times need it

    values = times.astype("string").str.strip()
    if fmt is None:
        if values.str.contains(",", regex=False).any():  # ISO 8601's decimal comma
            values = values.str.replace(r"(:\d\d),(\d)", r"\1.\2", regex=True)
        try:
            parsed = pd.to_datetime(values, format="ISO8601", errors="coerce", utc=False)
        except ValueError:  # offsets that change (a DST night): all to UTC
            parsed = pd.to_datetime(values, format="ISO8601", errors="coerce", utc=True)
        if isinstance(parsed.dtype, pd.DatetimeTZDtype):
            ns = parsed.dt.tz_convert("UTC").dt.as_unit("ns").astype("int64").to_numpy()
            return _ns_to_s(ns, parsed.isna().to_numpy())
    else:
        parsed = pd.to_datetime(values, format=fmt, errors="coerce")
    return localize_naive(parsed, values, tz, path, first_line, dst)


def localize_naive(
    parsed: pd.Series,
    values: pd.Series,
    tz: Any,
    path: Path,
    first_line: int,
    dst: DstResolver | None = None,
) -> np.ndarray:
    """Epoch seconds (m,) of naive local times ``parsed`` (datetime64, NaT: missing) in
    ``tz``; ``values`` (m,) are their texts for messages. A time that does not exist
    (spring gap) is an :class:`InputError` naming its line (row ``k`` is line
    ``first_line + k``); one in a repeated hour is placed by ``dst`` (see
    :class:`DstResolver`), or is an error without it."""
    parsed = parsed.dt.as_unit("ns")  # pandas may pick ms or s resolution from the text
    missing = parsed.isna().to_numpy()
    if tz is UTC:
        return _ns_to_s(parsed.astype("int64").to_numpy(), missing)
    local = parsed.dt.tz_localize(tz, ambiguous="NaT", nonexistent="NaT")
    bad = local.isna().to_numpy() & ~missing
    epoch_ns = local.dt.tz_convert("UTC").dt.as_unit("ns").astype("int64").to_numpy()
    if bad.any() or (dst is not None and dst._run_line is not None):
        as_dst = parsed.dt.tz_localize(tz, ambiguous=np.ones(len(parsed), dtype=bool),
                                       nonexistent="NaT")  # fmt: skip
        as_std = parsed.dt.tz_localize(tz, ambiguous=np.zeros(len(parsed), dtype=bool),
                                       nonexistent="NaT")  # fmt: skip
        amb = bad & as_dst.notna().to_numpy()
        skipped = bad & ~amb
        if dst is None or skipped.any():
            k = int(np.flatnonzero(skipped if skipped.any() else bad)[0])
            what = "skipped" if skipped.any() else "repeated"
            raise InputError(
                path, f"local time '{values.iloc[k]}' is {what} in {tz} "
                "(daylight-saving change)", first_line + k,
            )  # fmt: skip
        local_ns = parsed.astype("int64").to_numpy().copy()
        local_ns[missing] = np.iinfo(np.int64).min
        placed = dst.resolve(
            local_ns, amb,
            as_dst.dt.tz_convert("UTC").dt.as_unit("ns").astype("int64").to_numpy(),
            as_std.dt.tz_convert("UTC").dt.as_unit("ns").astype("int64").to_numpy(),
            values, path, first_line, tz,
        )  # fmt: skip
        epoch_ns = np.where(amb, placed, epoch_ns)
    return _ns_to_s(epoch_ns, missing)


def _ns_to_s(ns: np.ndarray, missing: np.ndarray) -> np.ndarray:
    """Epoch seconds (float64) from epoch nanoseconds, NaN where ``missing``."""
    whole = ns // 1_000_000_000
    out = whole.astype(np.float64) + (ns - whole * 1_000_000_000).astype(np.float64) * 1e-9
    out[missing] = np.nan
    return out


def parse_start(text: str, tz: Any) -> float:
    """Epoch seconds of an ISO 8601 time; naive: local in ``tz``."""
    moment = datetime.fromisoformat(text.strip())
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=tz)
    return moment.timestamp()


def local_start_epoch(local: datetime, tz: Any, path: Path, line: int | None) -> float:
    """Epoch seconds of the naive local time ``local`` in ``tz``: a file's one start time
    (a header's), from which its samples follow at a fixed rate.

    A start time skipped by a daylight-saving change, or in the repeated hour (no later
    time in the file shows which pass it is), is an :class:`InputError` naming ``line``.
    """
    what = dst_problem(local, tz)
    if what is None:
        return local.replace(tzinfo=tz, fold=0).timestamp()
    raise InputError(
        path, f"start time '{local:%Y-%m-%d %H:%M:%S}' is {what} in {tz} (daylight-saving "
        "change), and the file has no later times to place it by: give --start with a UTC "
        "offset", line,
    )  # fmt: skip


#: the largest UTC offset of any zone (Kiribati, UTC+14:00), in hours
MAX_OFFSET_HOURS = 14


def utc_offset(text: str, path: Path | None = None) -> timezone | None:
    """A fixed zone from ``GMT +01:00``, ``UTC-05:30``, ``+0100``; ``None`` if not one.

    An offset no zone has (beyond ±14 hours, or 60 minutes or more) is an
    :class:`InputError` naming ``path``: a corrupted header, not a zone to read by."""
    m = re.search(r"([+-])\s*(\d{1,2}):?(\d{2})?", text)
    if not m:
        return UTC if re.fullmatch(r"\s*(GMT|UTC)\s*", text) else None
    sign = 1 if m.group(1) == "+" else -1
    hours, minutes = int(m.group(2)), int(m.group(3) or 0)
    if minutes >= 60 or hours * 60 + minutes > MAX_OFFSET_HOURS * 60:
        raise InputError(path, f"time zone '{text.strip()}' is not a UTC offset "
                         f"(at most ±{MAX_OFFSET_HOURS}:00): a corrupted header?")  # fmt: skip
    return timezone(sign * timedelta(minutes=hours * 60 + minutes))


def sniff_delimiter(line: str) -> str:
    """The most frequent of ``,`` ``;`` tab ``|`` in a line (``,`` when none)."""
    counts = {d: line.count(d) for d in (",", ";", "\t", "|")}
    best = max(counts, key=lambda d: counts[d])
    return best if counts[best] else ","


def split_fields(line: str, sep: str) -> list[str]:
    """Fields of one CSV line (double quotes stripped)."""
    return [f.strip().strip('"').strip() for f in line.split(sep)]


def is_number(text: str, decimal: str = ".") -> bool:
    """True when ``text`` parses as a finite or NaN float."""
    try:
        float(text.replace(decimal, ".") if decimal != "." else text)
    except ValueError:
        return False
    return True


# ---------------------------------------------------------------------- text tables
@dataclass
class Column:
    """One column of a text table: ``name`` for messages, ``kind`` how to read it.

    kind: ``num`` (float64), ``int`` (nullable int64), ``text`` (kept as str), ``skip``.
    ``check`` (optional) validates one text field on the slow error path: returns why
    it is bad, or ``None``.
    """

    name: str
    kind: str = "num"
    check: Callable[[str], str | None] | None = None


#: what to do about a device time in a daylight-saving change (the device's clock
#: keeps the offset it was set to, so the zone's rules do not describe it)
DST_HINT = (
    "the device clock does not change for daylight saving: give --tz the fixed offset "
    "it was set to (e.g. Etc/GMT-2 for UTC+02:00)"
)


def device_clock_error(err: InputError) -> InputError:
    """``err`` about a local time in a daylight-saving change, saying what to give for a
    device's clock instead (:data:`DST_HINT`); any other error as it is."""
    if "daylight-saving change" not in err.message:
        return err
    message = err.message.split(": write times with a UTC offset")[0]
    return InputError(err.path, f"{message}; {DST_HINT}", err.line)


class TableSource(RawSource):
    """A text table read in blocks with pandas' C parser.

    Subclasses read their preamble in :meth:`_preamble` (setting ``columns``, ``sep``,
    ``decimal``, ``metadata``) and turn a block of rows into samples in
    :meth:`_samples`. Row ``k`` of the data (0-based) is file line ``data_line + k``.
    ``device_clock``: the naive times are a device's clock (an export of a logger),
    which keeps its offset through daylight-saving changes, so an error about one says
    to give ``--tz`` as that fixed offset (:func:`device_clock_error`).
    """

    sep = ","
    decimal = "."
    device_clock = False

    def __init__(self, path: Path, options: InputOptions, member: str | None = None) -> None:
        super().__init__(path)
        self.options = options
        self.member = member
        self.columns: list[Column] = []
        self.input = ByteInput(path, member)
        self.size = self.input.size
        try:
            lines = LineReader(self.input.stream, path)
            self._preamble(lines)
            self.data_line = lines.lineno + 1 - self._pushed_back
        except BaseException:
            self.input.close()
            raise
        if self.input.compression:
            self.metadata.setdefault("compression", self.input.compression)

    _pushed_back = 0  # data lines the preamble read ahead (then re-read by pandas)

    # -- subclass hooks
    def _preamble(self, lines: LineReader) -> None:
        raise NotImplementedError

    def _samples(self, frame: pd.DataFrame, row0: int) -> tuple[np.ndarray, np.ndarray]:
        """``(t, a)`` for the rows of ``frame``; ``row0`` is the 0-based data row of its first."""
        raise NotImplementedError

    def _prefix(self) -> bytes:
        """Bytes the preamble consumed that belong to the data (re-fed to pandas)."""
        return b""

    def _clock_checked(self, step: Any, *args: Any) -> Any:
        """``step(*args)``; for a :attr:`device_clock`, an error about a daylight-saving
        change says what to give instead (:func:`device_clock_error`)."""
        try:
            return step(*args)
        except InputError as err:
            if not self.device_clock:
                raise
            raise device_clock_error(err) from None

    # -- reading
    def blocks(self, rows: int) -> Iterator[RawBlock]:
        prefix = self._prefix()
        stream: IO[bytes] = self.input.stream
        if prefix:
            stream = _Prepend(prefix, stream)
        return self._pandas_blocks(stream, self.data_line, rows)

    def _pandas_blocks(
        self, stream: IO[bytes], line: int, rows: int, primer: bytes = b""
    ) -> Iterator[RawBlock]:
        """Blocks of ``rows`` rows parsed by pandas' C parser from ``stream``, whose first
        row is file line ``line`` (1-based).

        ``primer``: one good row to parse first and drop, for a stream that starts in the
        middle of the data. pandas treats its first row apart (a first row with too many
        fields loses them, with a warning; a later one is an error), so the primer makes
        it read on as if from the start.
        """
        import pandas as pd  # imported here: canonical CSV and Parquet files do not need it

        # every column is read (a row with extra fields is an error, not a silent shift);
        # skipped ones as text, which never fails
        kinds = {"num": np.float64, "int": "Int64", "text": object, "skip": object}
        dtype: dict[int, Any] = {i: kinds[c.kind] for i, c in enumerate(self.columns)}
        if primer:
            stream = _Prepend(primer, stream)
        tail = _Tail(stream)  # the stream's last bytes: blank lines at its end
        try:  # the reader parses its first rows already when it is made
            reader = pd.read_csv(
                tail,
                sep=self.sep,
                decimal=self.decimal,
                header=None,
                names=list(range(len(self.columns))),
                dtype=dtype,
                chunksize=rows,
                engine="c",
                skip_blank_lines=False,
                encoding="utf-8",
                index_col=False,
            )
            frames: Iterator[pd.DataFrame] = reader
            if primer:
                first = reader.get_chunk(rows + 1).iloc[1:]
                frames = itertools.chain([first] if len(first) else [], reader)
            frames = iter(frames)
            for frame in frames:
                if _ends_blank(frame) and tail.eof:  # the last frame? then trim its end
                    after = next(frames, None)
                    if after is None:
                        frame = frame.iloc[: len(frame) - tail.blank_lines(frame)]
                    else:
                        frames = itertools.chain([after], frames)
                if len(frame):
                    t, a = self._clock_checked(self._samples, frame, line - self.data_line)
                    a = self._mark_short_rows(frame, a, line)
                    yield RawBlock(t, a, line)
                    line += len(frame)
            self._clock_checked(self.dst.finish, self.path)
        except (ValueError, TypeError, pd.errors.ParserError, UnicodeDecodeError):
            bad_line, why = self._locate_bad_line(line)
            end = None if bad_line is None else self._file_end_at(bad_line)
            if end is None:
                raise InputError(self.path, why, bad_line) from None
        else:
            return
        # the rows before the file's end again; a last line cut off mid-write where its
        # text is no number yet ('-', '1e') as a missing row (the reader drops a torn
        # last line and counts it); lines of white space at the end: nothing
        yield from self._rows_between(line, bad_line, rows)
        if end == "torn":
            yield RawBlock(np.full(1, np.nan), np.full((1, 3), np.nan), bad_line)

    def _file_end_at(self, lineno: int) -> str | None:
        """``"torn"`` when file line ``lineno`` is the file's last and has no line end
        (the logger stopped mid-write), ``"blank"`` when it and every line after it hold
        white space only, else ``None``; reads the file again (slow path, for errors)."""
        src = ByteInput(self.path, self.member)
        try:
            for k, raw in enumerate(src.stream, start=1):
                if k < lineno:
                    continue
                if raw.strip():
                    if k > lineno:
                        return None
                    torn = not raw.endswith(b"\n") and not src.stream.read(1)
                    return "torn" if torn else None
            return "blank"
        finally:
            src.close()

    def _rows_between(self, first: int, stop: int, rows: int) -> Iterator[RawBlock]:
        """Blocks of file lines ``first`` to ``stop - 1`` (1-based, data lines), parsed
        again from the file (one block's lines held in memory: a slow path)."""
        src = ByteInput(self.path, self.member)
        try:
            primer, body = b"", []
            for k, raw in enumerate(src.stream, start=1):
                if k >= stop:
                    break
                if k == first - 1 and k >= self.data_line:
                    primer = raw  # a good row (it was read before): see _pandas_blocks
                elif k >= first:
                    body.append(raw.removeprefix(b"\xef\xbb\xbf") if k == 1 else raw)
        finally:
            src.close()
        if body:
            yield from self._pandas_blocks(io.BytesIO(b"".join(body)), first, rows, primer)

    def _mark_short_rows(self, frame: pd.DataFrame, a: np.ndarray, line: int) -> np.ndarray:
        """``a`` (``(m, 3)``) with the rows that have too few fields made NaN samples.

        pandas fills the missing trailing fields of a short row with NaN. When the
        last column is one that is not read (light, temperature ...), a row missing
        *another* field would otherwise read with its values shifted one column left
        and no NaN among the axes. Rows whose last field reads as missing are checked
        against the file (slow path, only for those rows); the broken ones get NaN
        axes, so the reader stops at them with their line (a torn last line is dropped
        and counted), while rows that merely leave that field empty keep their values.
        """
        if len(self.columns) < 2 or self.columns[-1].kind not in ("skip", "text"):
            return a
        short = np.flatnonzero(frame[len(self.columns) - 1].isna().to_numpy())
        if short.size == 0:
            return a
        lines = [line + int(k) for k in short]
        broken = short[np.asarray([why is not None for why in self.row_problems(lines)])]
        if broken.size:
            a = np.array(a, dtype=np.float64)  # never write into a view of the frame
            a[broken] = np.nan
        return a

    def bytes_read(self) -> int:
        return self.input.position()

    def close(self) -> None:
        self.input.close()
        if self._cursor is not None:
            self._cursor.close()
            self._cursor = None

    # -- slow paths for messages
    def _starts_recording(self, fields: list[str]) -> bool:
        """Whether a data line (split into fields) is the first line of another
        recording's preamble (two files joined end to end): here a ``#`` line."""
        return bool(fields) and fields[0].startswith("#")

    def _check_fields(self, fields: list[str]) -> str | None:
        """Why one data line (split into fields) is bad, or ``None``."""
        if self._starts_recording(fields):
            return REPEATED_HEADER
        n = len(self.columns)
        if len(fields) != n:
            names = ",".join(c.name for c in self.columns)
            what = "missing fields: " if len(fields) < n else ""
            return f"{what}expected {n} fields {names}, found {len(fields)}"
        if [f.strip().lower() for f in fields] == [c.name.strip().lower() for c in self.columns]:
            return REPEATED_HEADER
        for col, value in zip(self.columns, fields, strict=True):
            if col.kind == "skip":
                continue
            if value == "":
                return f"missing field {col.name}"
            why = self._check_value(col, value)
            if why:
                return why
        return None

    def _check_value(self, col: Column, value: str) -> str | None:
        """Why one present field's text is not a value of its column, or ``None``."""
        if col.kind in ("num", "int") and not is_number(value, self.decimal):
            return f"{col.name} is not a number: '{value[:30]}'"
        if col.check is not None:
            return col.check(value)
        return None

    def _row_problem(self, fields: list[str]) -> str | None:
        """``None`` when a row has every field and only missing values besides good ones;
        else why it is broken (see :meth:`RawSource.row_problems`)."""
        if len(fields) != len(self.columns):
            return self._check_fields(fields)
        for col, value in zip(self.columns, fields, strict=True):
            if col.kind == "skip" or is_missing(value):
                continue
            why = self._check_value(col, value)
            if why:
                return why
        return None

    def row_problems(self, lines: list[int]) -> list[str | None]:
        """See :meth:`RawSource.row_problems`; reads the file forward once (slow path)."""
        out: list[str | None] = []
        for line in lines:
            text = self._line_text(line)
            if text is None:
                out.append("malformed CSV")
            else:
                out.append(self._row_problem(split_fields(text, self.sep)))
        return out

    _cursor: ByteInput | None = None
    _cursor_line = 0

    def _line_text(self, line: int) -> str | None:
        """Text of file line ``line`` (1-based), read by a forward-only second reader."""
        if self._cursor is None or line <= self._cursor_line:
            if self._cursor is not None:
                self._cursor.close()
            self._cursor = ByteInput(self.path, self.member)
            self._cursor_line = 0
        raw = b""
        while self._cursor_line < line:
            raw = self._cursor.stream.readline()
            if not raw:
                return None
            self._cursor_line += 1
        text = raw.decode("utf-8", errors="replace")  # pandas already rejected non-UTF-8
        return text.lstrip("\ufeff").rstrip("\r\n")

    def _scan(self, from_line: int, stop_at_first: bool) -> tuple[int | None, str]:
        src = ByteInput(self.path, self.member)
        try:
            for lineno, raw in enumerate(src.stream, start=1):
                if lineno < from_line:
                    continue
                try:
                    text = raw.decode("utf-8").lstrip("\ufeff" if lineno == 1 else "")
                except UnicodeDecodeError:
                    return lineno, "not a text CSV file (not UTF-8)"
                text = text.rstrip("\r\n")
                why = self._check_fields(split_fields(text, self.sep))
                if why or not stop_at_first:
                    return lineno, why or ""
        finally:
            src.close()
        return None, "malformed CSV"

    def _locate_bad_line(self, from_line: int) -> tuple[int | None, str]:
        """The first line at or after ``from_line`` that does not read (slow path)."""
        return self._scan(from_line, stop_at_first=True)

    def explain_line(self, line: int) -> str | None:
        lineno, why = self._scan(line, stop_at_first=False)
        return why if lineno == line and why else None


def _ends_blank(frame: pd.DataFrame) -> bool:
    """Whether the last row of a parsed frame has no value at all (a blank line reads
    so; also a line of empty fields)."""
    if not len(frame):
        return False
    return all(_is_blank_value(v) for v in frame.iloc[-1].tolist())


def _is_blank_value(value: object) -> bool:
    """NaN, ``<NA>``, or text of only white space."""
    import pandas as pd  # already imported by the pandas path that calls this

    if isinstance(value, str):
        return not value.strip()
    return bool(pd.isna(value))


class _Tail(io.RawIOBase):
    """A stream that keeps its last bytes read (``keep``) and whether it reached its end,
    so that blank lines at the end of a file are told from rows with missing values."""

    def __init__(self, stream: IO[bytes], keep: int = 1 << 16) -> None:
        self._stream = stream
        self._keep = keep
        self.last = b""
        self.eof = False

    def readable(self) -> bool:
        return True

    def readinto(self, buffer: Any) -> int:
        data = self._stream.read(len(buffer))
        if not data:
            self.eof = True
            return 0
        buffer[: len(data)] = data
        self.last = (
            (self.last + data)[-self._keep :] if len(data) < self._keep else data[-self._keep :]
        )
        return len(data)

    def blank_lines(self, frame: pd.DataFrame) -> int:
        """How many of the last rows of ``frame`` (the stream's last) are blank lines at
        the end of the stream: the rows with no value that the stream's last bytes show
        as lines of white space only."""
        rows = 0
        while rows < len(frame) and all(
            _is_blank_value(v) for v in frame.iloc[len(frame) - 1 - rows].tolist()
        ):
            rows += 1
        lines = self.last.split(b"\n")
        if lines and lines[-1] == b"":
            lines = lines[:-1]  # the last line's end
        blank = 0
        for text in reversed(lines[1:]):  # the first piece may be cut: never counted
            if text.strip(b" \t\r"):
                break
            blank += 1
        return min(rows, blank)


class _Prepend(io.RawIOBase):
    """``prefix`` bytes, then the rest of ``stream``."""

    def __init__(self, prefix: bytes, stream: IO[bytes]) -> None:
        self._prefix = prefix
        self._stream = stream

    def readable(self) -> bool:
        return True

    def readinto(self, buffer: Any) -> int:
        if self._prefix:
            n = min(len(buffer), len(self._prefix))
            buffer[:n] = self._prefix[:n]
            self._prefix = self._prefix[n:]
            return n
        data = self._stream.read(len(buffer))
        buffer[: len(data)] = data
        return len(data)


def grid_times(start: float, rate: float, row0: int, n: int) -> np.ndarray:
    """``start + (row0 + i) / rate`` for ``i < n``: times of a file without a time column."""
    return start + (row0 + np.arange(n, dtype=np.float64)) / rate


def finite_or_nan(x: float) -> float:
    """``x`` when finite, else NaN."""
    return x if math.isfinite(x) else math.nan
