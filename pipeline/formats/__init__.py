"""Input dialects: one raw source per file format, recognised from the file itself.

:func:`open_source` picks the dialect — forced by ``InputOptions.format``; else the
generic reader when the options describe the columns; else recognised: magic bytes
first (gzip and zip are opened and their content recognised; ``PAR1`` is Parquet),
then the first lines:

============  ===============================================================
dialect       recognised by
============  ===============================================================
canonical     ``# key: value`` lines or the header ``time,ax,ay,az``
parquet       magic ``PAR1``
phyphox       header ``"Time (s)","Acceleration x (m/s^2)",...`` (or Linear ...);
              a zip holding ``meta/time.csv`` and such a file
polar         header ``Phone timestamp;sensor timestamp [ns];X [mg];Y [mg];Z [mg]``
metabase      header ``epoch (ms),time (...),elapsed (s),x-axis (g),...``
actilife      first line ``------------ Data File Created By ActiGraph ... date format``
geneactiv     ``Device Type,GENEActiv`` in the first lines
axivity       no header; ``YYYY-MM-DD hh:mm:ss.fff,x,y,z`` (Unix seconds: --format)
cwa           Axivity AX3/AX6 binary: the bytes ``MD fc 03`` (the header block)
geneactiv-bin GENEActiv binary: first line ``Device Identity``, then
              ``Device Type:GENEActiv``
csv           a header with a well-known time and axis names (``timestamp,x,y,z``,
              ``time;acc_x;acc_y;acc_z``, ...); else through explicit options
              (``--time-col``, ``--axes``, ...)
============  ===============================================================

Every source yields :class:`~pipeline.formats.base.RawBlock` objects that the reader
validates and resamples the same way.
"""

from __future__ import annotations

import logging
import zipfile
from pathlib import Path

from pipeline.errors import InputError
from pipeline.formats.actilife import ActiLifeSource, is_actilife_header
from pipeline.formats.axivity import AxivitySource, is_axivity_line
from pipeline.formats.base import (
    MAGIC_GZIP,
    MAGIC_PARQUET,
    MAGIC_ZIP,
    ByteInput,
    InputOptions,
    RawBlock,
    RawSource,
    head_lines,
    read_magic,
    zip_members,
)
from pipeline.formats.canonical import CANONICAL_COLUMNS, CanonicalCsvSource, header_columns
from pipeline.formats.cwa import CwaSource, is_cwa
from pipeline.formats.geneactiv import GeneActivSource, is_geneactiv_head
from pipeline.formats.geneactiv_bin import GeneActivBinSource, is_geneactiv_bin_head
from pipeline.formats.generic import GenericSource, has_default_columns
from pipeline.formats.metabase import MetaBaseSource, is_metabase_header
from pipeline.formats.parquet import ParquetSource, write_samples_parquet
from pipeline.formats.phyphox import PhyphoxSource, is_phyphox_header, zip_layout
from pipeline.formats.polar import PolarSource, is_polar_header

__all__ = [
    "DIALECTS",
    "InputOptions",
    "RawBlock",
    "RawSource",
    "detect_format",
    "recognised_format",
    "open_source",
    "write_samples_parquet",
]

log = logging.getLogger(__name__)

DIALECTS: dict[str, type[RawSource]] = {
    "canonical": CanonicalCsvSource,
    "parquet": ParquetSource,
    "phyphox": PhyphoxSource,
    "polar": PolarSource,
    "metabase": MetaBaseSource,
    "actilife": ActiLifeSource,
    "geneactiv": GeneActivSource,
    "axivity": AxivitySource,
    "cwa": CwaSource,
    "geneactiv-bin": GeneActivBinSource,
    "csv": GenericSource,
}
HEAD_LINES = 12
#: dialects of devices' binary files (column options do not apply), and what they are
BINARY_DIALECTS = {"cwa": "an Axivity .cwa", "geneactiv-bin": "a GENEActiv .bin"}


def _zip_member(path: Path) -> str | None:
    """The member to read of a zip (phyphox data file, or the only file), else ``None``."""
    try:
        with zipfile.ZipFile(path) as zf:
            names = zip_members(zf)
    except zipfile.BadZipFile as err:
        raise InputError(path, f"corrupt zip archive ({err})") from None
    return names[0] if len(names) == 1 else None


def detect_format(path: str | Path) -> str:
    """The dialect name of ``path``, recognised from its bytes (see the module docstring).

    A file no dialect claims is ``canonical``, whose reader then says what is wrong.
    Headerless ``epoch,x,y,z`` rows are not taken for Axivity's Unix-time export (they
    are a canonical file missing its header): force that one with ``--format axivity``.
    """
    return recognised_format(path) or "canonical"


def recognised_format(path: str | Path) -> str | None:
    """The dialect that claims ``path`` (see :func:`detect_format`), or ``None`` when
    none does (the canonical reader would then say what its header should be)."""
    path = Path(path)
    magic = read_magic(path)
    if magic.startswith(MAGIC_PARQUET):
        return "parquet"
    member = None
    if magic.startswith(MAGIC_ZIP):
        if zip_layout(path) is not None:
            return "phyphox"
        member = _zip_member(path)
        if member is None:
            return "canonical"  # opening reports the zip's content
    if not magic:
        return "canonical"  # the canonical reader reports an empty file
    if is_cwa(_first_bytes(path, member)):
        return "cwa"
    head = head_lines(path, HEAD_LINES, member)
    if magic.startswith(MAGIC_GZIP) and head[:1] and head[0].startswith("PAR1"):
        raise InputError(path, "a compressed Parquet file: decompress it first")
    if is_geneactiv_bin_head(head):
        return "geneactiv-bin"
    text = [s for s in head if s.strip()]
    if not text:
        return None
    first = text[0]
    if first.lstrip().startswith("#"):  # metadata lines: the header after them decides
        header = _first_header(path, member)
        if header is not None and not _is_canonical(header) and has_default_columns(header):
            return "csv"
        return "canonical"
    if _is_canonical(first):
        return "canonical"
    if is_phyphox_header(first):
        return "phyphox"
    if is_polar_header(first):
        return "polar"
    if is_metabase_header(first):
        return "metabase"
    if is_actilife_header(first):
        return "actilife"
    if is_geneactiv_head(head):
        return "geneactiv"
    if is_axivity_line(first, text_time_only=True):
        return "axivity"
    if has_default_columns(first):
        return "csv"  # a header of well-known names: the column options' defaults
    return None  # no dialect claims it


def _first_bytes(path: Path, member: str | None, n: int = 4) -> bytes:
    """The first ``n`` bytes of a file's content (decompressed: gzip, a zip's member)."""
    src = ByteInput(path, member)
    try:
        return src.stream.read(n)
    finally:
        src.close()


def _is_canonical(line: str) -> bool:
    return header_columns(line) == CANONICAL_COLUMNS


def _first_header(path: Path, member: str | None = None) -> str | None:
    """The first line that is neither blank nor a ``#`` line (within 1 000), or ``None``."""
    for line in head_lines(path, 1000, member):
        if line.strip() and not line.lstrip().startswith("#"):
            return line
    return None


def _canonical_header(path: Path) -> bool:
    """Whether the first line after the ``#`` lines is the canonical ``time,ax,ay,az``."""
    header = _first_header(path)
    return header is None or _is_canonical(header)  # no header: the canonical reader says so


def open_source(path: str | Path, options: InputOptions | None = None) -> RawSource:
    """Open ``path`` as the raw source of its dialect (see :func:`detect_format`)."""
    path = Path(path)
    options = options or InputOptions()
    name = options.format
    if name is None:
        if read_magic(path).startswith(MAGIC_PARQUET):
            name = "parquet"  # its columns are typed: the options apply to it (not "csv")
        elif not options.explicit_columns:
            name = detect_format(path)
        elif (binary := recognised_format(path)) in BINARY_DIALECTS:
            raise InputError(path, f"{BINARY_DIALECTS[binary]} file holds its own samples, "
                             "units and rate: --time-col, --time-unit, --axes, --units, "
                             "--rate and --delimiter do not apply to it")  # fmt: skip
        elif options.only_rate and recognised_format(path) == "actilife":
            name = "actilife"  # --rate for a banner without 'at N Hz' (or over it)
        elif options.only_delimiter:  # a dialect that claims the file keeps it
            name = recognised_format(path) or "csv"
            if name == "canonical" and not _canonical_header(path):
                name = "csv"  # ``#`` lines before another header: the column options
        else:
            name = "csv"
    if name not in DIALECTS:
        raise InputError(path, f"unknown format '{name}' (one of {', '.join(DIALECTS)})")
    log.debug("%s: reading as %s", path, name)
    if name == "parquet":
        return ParquetSource(path, options)
    magic = read_magic(path)
    member = None
    if magic.startswith(MAGIC_ZIP):
        if name == "phyphox":
            layout = zip_layout(path)
            if layout is not None:
                return PhyphoxSource(path, options, layout[0], layout[1])
        member = _zip_member(path)
    cls = DIALECTS[name]
    return cls(path, options, member)  # type: ignore[call-arg]
