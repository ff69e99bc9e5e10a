"""Writers for the canonical recording format.

Canonical CSV: optional ``# key: value`` metadata lines, then the header
``time,ax,ay,az``; ``time`` is epoch seconds UTC as a decimal number, axes in g.
Gap samples (NaN rows) are not written: a gap is a jump in ``time``.

:func:`recording_form` tells from a file's name which form it is written in (canonical
CSV, the same gzip-compressed for ``.gz``, canonical Parquet for ``.parquet``), and
:func:`write_samples` writes that form.
"""

from __future__ import annotations

import gzip
from collections.abc import Mapping
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.csv as pcsv

from pipeline.atomic import atomic_write
from pipeline.recording import Recording

CANONICAL_COLUMNS = ["time", "ax", "ay", "az"]
#: Rows formatted at a time by :func:`write_samples_csv` (bounds the text's memory:
#: about 60 MB a block; the bytes written do not depend on it).
WRITE_ROWS = 1 << 20


def format_metadata(metadata: Mapping[str, object]) -> str:
    """``# key: value`` lines (newline-terminated) for a metadata mapping."""
    lines = []
    for key, value in metadata.items():
        text = str(value).replace("\n", " ")
        lines.append(f"# {key}: {text}\n")
    return "".join(lines)


#: Name endings of files no writer here makes (compressions and device binaries the
#: readers do not take, or cannot be written): such a name would promise another form.
UNWRITTEN_SUFFIXES = (".bz2", ".xz", ".zst", ".zip", ".cwa", ".bin")


def recording_form(path: str | Path) -> str:
    """How a recording named ``path`` is written: ``"parquet"`` for a name ending in
    ``.parquet``, ``"csv.gz"`` (gzip-compressed canonical CSV) for ``.gz``, else
    ``"csv"``. A name ending in one of :data:`UNWRITTEN_SUFFIXES` is a
    :class:`ValueError` saying which endings are written."""
    name = Path(path).name.lower()
    if name.endswith(".parquet"):
        return "parquet"
    if name.endswith(".gz"):
        return "csv.gz"
    for suffix in UNWRITTEN_SUFFIXES:
        if name.endswith(suffix):
            raise ValueError(
                f"{path}: a recording is written as .csv, .csv.gz or .parquet, not {suffix}"
            )
    return "csv"


def write_samples(
    path: str | Path,
    time: np.ndarray,
    acc: np.ndarray,
    metadata: Mapping[str, object] | None = None,
    form: str = "csv",
) -> Path:
    """Write samples (``time`` (n,) epoch s UTC, ``acc`` (n, 3) g) atomically in
    ``form`` (:func:`recording_form`: ``csv``, ``csv.gz`` or ``parquet``)."""
    if form == "parquet":
        from pipeline.formats.parquet import write_samples_parquet

        return write_samples_parquet(path, time, acc, metadata)
    if form not in ("csv", "csv.gz"):
        raise ValueError(f"unknown recording form {form!r}")
    return write_samples_csv(path, time, acc, metadata, compress=form == "csv.gz")


#: Largest magnitude whose scaled value is still an exact integer in float64.
_EXACT = float(2**53)


def fixed_point_text(values: np.ndarray, decimals: int) -> pa.Array:
    """``(n,)`` floats as decimal text with exactly ``decimals`` digits after the point,
    the same text as ``"%.{decimals}f"``, vectorised in Arrow (several times faster than
    Python's per-value formatting). Values are scaled by ``10**decimals`` and rounded
    half to even; where the scaled product landed exactly on a half, its rounding error
    (computed exactly by :func:`_product_error`) says on which side the true value lies.
    """
    values = np.asarray(values, dtype=np.float64)
    scale = 10**decimals
    raw = values * float(scale)
    if raw.size and float(np.max(np.abs(raw))) >= _EXACT:
        return pa.array(np.char.mod(f"%.{decimals}f", values))
    scaled = np.rint(raw)
    floor = np.floor(raw)
    half = np.flatnonzero(raw - floor == 0.5)
    if half.size:
        err = _product_error(values[half], float(scale), raw[half])
        scaled[half] = np.where(
            err > 0, floor[half] + 1.0, np.where(err < 0, floor[half], scaled[half])
        )
    whole = scaled.astype(np.int64)
    magnitude = np.abs(whole)
    sign = pa.array(np.where(np.signbit(values), "-", ""))
    integer = pc.cast(pa.array(magnitude // scale), pa.string())
    if decimals == 0:
        return pc.binary_join_element_wise(sign, integer, "")
    fraction = pc.utf8_lpad(
        pc.cast(pa.array(magnitude % scale), pa.string()), width=decimals, padding="0"
    )
    return pc.binary_join_element_wise(sign, integer, ".", fraction, "")


def _product_error(x: np.ndarray, s: float, p: np.ndarray) -> np.ndarray:
    """Exact ``x * s - p`` for ``p = fl(x * s)`` (Dekker's product: the factors are split
    into 26-bit halves whose products are exact)."""
    split = 134217729.0  # 2**27 + 1

    def halves(v: np.ndarray | float) -> tuple[np.ndarray | float, np.ndarray | float]:
        t = split * v
        hi = t - (t - v)
        return hi, v - hi

    xh, xl = halves(x)
    sh, sl = halves(s)
    return ((xh * sh - p) + xh * sl + xl * sh) + xl * sl


def write_samples_csv(
    path: str | Path,
    time: np.ndarray,
    acc: np.ndarray,
    metadata: Mapping[str, object] | None = None,
    time_decimals: int = 4,
    acc_decimals: int = 5,
    compress: bool = False,
) -> Path:
    """Write samples in the canonical CSV format, atomically; gzip-compressed with
    ``compress`` (the same text; no name or time in the gzip header, so the bytes
    depend on the samples alone).

    Parameters
    ----------
    time : ``(n,)`` epoch seconds UTC, increasing.
    acc : ``(n, 3)`` acceleration in g; rows containing NaN are skipped.
    metadata : written as ``# key: value`` lines before the header.
    time_decimals, acc_decimals : digits after the decimal point.
    """
    time = np.asarray(time, dtype=np.float64)
    acc = np.asarray(acc, dtype=np.float64)
    options = pcsv.WriteOptions(include_header=False, quoting_style="none")
    path = Path(path)
    head = format_metadata(metadata or {}) + ",".join(CANONICAL_COLUMNS) + "\n"
    with atomic_write(path, "wb") as raw:
        fh = (
            gzip.GzipFile(filename="", mode="wb", fileobj=raw, mtime=0, compresslevel=6)
            if compress
            else raw
        )
        fh.write(head.encode("utf-8"))
        for i in range(0, time.size, WRITE_ROWS):  # the text of one block at a time
            t, a = time[i : i + WRITE_ROWS], acc[i : i + WRITE_ROWS]
            keep = ~np.isnan(a).any(axis=1)
            columns = [fixed_point_text(t[keep], time_decimals)]
            columns += [fixed_point_text(a[keep, k], acc_decimals) for k in range(3)]
            table = pa.table(dict(zip(CANONICAL_COLUMNS, columns, strict=True)))
            pcsv.write_csv(table, fh, options)
        if compress:
            fh.close()  # the gzip trailer, before the file is synced and renamed
    return path


def write_recording_csv(path: str | Path, rec: Recording, **kwargs: int) -> Path:
    """Write a :class:`Recording` (its grid times and samples) as canonical CSV."""
    return write_samples_csv(path, rec.time, rec.acc, rec.metadata, **kwargs)
