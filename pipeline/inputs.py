"""Recordings named on a command line: files, folders (searched recursively) and globs.

Shared by ``batch`` and ``process``. A folder yields the files with a recording suffix
inside it, skipping hidden files and folders, jerkcount's own output folders (those
holding a ``summary.json`` that jerkcount wrote: a ``record`` folder's summaries, an
earlier ``process`` or ``batch`` output) and the tables jerkcount writes beside
recordings or at a cohort's top (``detect``'s events and activity, ``simulate``'s
truth, ``score --matches``, ``batch``'s cohort tables: :func:`output_table`, by their
header). A glob skips those tables too; a file named as it is is always taken.
"""

from __future__ import annotations

import glob
import gzip
import logging
import os
import re
from collections.abc import Sequence
from pathlib import Path

from pipeline.errors import InputError

#: Recording suffixes looked for in folders when ``pipeline.formats`` names none.
DEFAULT_SUFFIXES = (".csv", ".csv.gz", ".parquet")
#: characters that make an input a glob pattern
GLOB_CHARS = re.compile(r"[*?\[]")
#: what the first bytes of a ``summary.json`` written by jerkcount hold
_OUTPUT_MARK = b'"jerkcount_version"'
#: The first columns of the CSV tables jerkcount writes, and what each is (the tests
#: hold them equal to the writers' own column lists).
OUTPUT_HEADERS: dict[tuple[str, ...], str] = {
    ("time", "time_local", "peak_g", "duration_ms", "axis"): "events table",
    ("start", "end", "start_local", "end_local", "minutes", "kind"): "activity table",
    ("kind", "time", "end", "peak_g", "duration_ms", "detail"): "ground-truth table",
    ("status", "truth_time", "event_time"): "score matches table",
    ("day", "window_start", "window_end"): "daily summary",
    ("day", "hour_start", "hour_end"): "hourly table",
    ("recording", "day", "window_start"): "cohort daily summary",
    ("recording", "status", "output"): "cohort recordings table",
    ("recording", "error"): "cohort errors table",
}
#: Bytes read to find a table's header (after ``#`` metadata lines).
_HEAD_BYTES = 65_536

log = logging.getLogger(__name__)


def recording_suffixes() -> tuple[str, ...]:
    """Suffixes of recordings found in folders: ``pipeline.formats``' list, else the default."""
    try:
        from pipeline import formats
    except ImportError:  # pragma: no cover - formats is part of the package
        return DEFAULT_SUFFIXES
    for attr in ("EXTENSIONS", "SUFFIXES", "RECORDING_SUFFIXES"):
        found = getattr(formats, attr, None)
        if found:
            return tuple(sorted({str(s).lower() for s in found}, key=len, reverse=True))
    return DEFAULT_SUFFIXES


def suffix_of(path: Path, suffixes: Sequence[str]) -> str:
    """The longest recognised suffix ``path`` ends with (case-insensitive), else ``""``."""
    name = path.name.lower()
    return max((s for s in suffixes if name.endswith(s)), key=len, default="")


def _hidden(path: Path, root: Path) -> bool:
    """True if any part of ``path`` below ``root`` starts with a dot."""
    return any(part.startswith(".") for part in path.relative_to(root).parts)


def _inside(path: Path, folder: Path | None) -> bool:
    """True if ``path`` lies in ``folder`` (both made absolute)."""
    return folder is not None and path.resolve().is_relative_to(folder.resolve())


def find_inputs(
    inputs: Sequence[str | Path],
    exclude: Path | None = None,
    suffixes: Sequence[str] | None = None,
) -> list[Path]:
    """Expand files, folders and glob patterns into recording paths (absolute, sorted).

    A file given by name is taken whatever its suffix; a folder is searched
    recursively for files with a recording suffix (``suffixes``, default
    :func:`recording_suffixes`), skipping hidden files and folders, jerkcount's own
    output folders (:func:`is_output_summary`) and anything in ``exclude`` (the batch's
    own output folder). Glob patterns are expanded here
    (``**`` recursive), so quoting them on the shell works. Raises :class:`InputError`
    for a name that does not exist, a pattern that matches nothing, or no recordings.
    """
    suffixes = tuple(suffixes or recording_suffixes())
    found: dict[Path, None] = {}

    skipped: list[tuple[Path, str]] = []

    def add_found(p: Path) -> None:
        kind = output_table(p)
        if kind is None:
            found.setdefault(abs_path(p), None)
        else:
            skipped.append((p, kind))

    def add_folder(folder: Path) -> None:
        outputs = [p.parent for p in folder.rglob("summary.json") if is_output_summary(p)]
        for p in sorted(folder.rglob("*")):
            if (
                p.is_file()
                and suffix_of(p, suffixes)
                and not _hidden(p, folder)
                and not _inside(p, exclude)
                and not any(_inside(p, out) for out in outputs)
            ):
                add_found(p)

    for item in inputs:
        text = str(item)
        path = Path(text)
        if path.exists():
            matches = [path]
        elif GLOB_CHARS.search(text):
            matches = [Path(m) for m in sorted(glob.glob(text, recursive=True))]
            if not matches:
                raise InputError(text, "matches no file")
        else:
            raise InputError(text, "no such file or folder")
        for m in matches:
            if m.is_dir() and _inside(m, exclude):
                raise InputError(
                    None,
                    f"--out {exclude} holds the recordings given ({m}): the outputs need a "
                    f"folder of their own, such as {m / 'summary'}",
                )
            if m.is_dir():
                add_folder(m)
            elif path is m:  # named as it is: taken whatever it holds
                found.setdefault(abs_path(m), None)
            elif not _inside(m, exclude):
                add_found(m)
    for p, kind in skipped:
        log.info("%s: skipped: a jerkcount %s, not a recording", p, kind)
    if not found:
        also = f" ({len(skipped)} jerkcount output table(s) skipped)" if skipped else ""
        raise InputError(
            None,
            f"no recordings ({', '.join(suffixes)}) in {' '.join(map(str, inputs))}{also}",
        )
    return sorted(found)


def abs_path(path: str | Path) -> Path:
    """``path`` made absolute with ``..`` resolved, symbolic links kept."""
    return Path(os.path.abspath(path))


def output_table(path: Path) -> str | None:
    """What jerkcount table ``path`` is (``"events table"``, ``"ground-truth table"``, ... from
    :data:`OUTPUT_HEADERS`), judged by its first line after ``#`` metadata; ``None`` for
    anything else: a recording, a file that is not a CSV, one that cannot be read (the
    reader then says why)."""
    name = path.name.lower()
    if not (name.endswith(".csv") or name.endswith(".csv.gz")):
        return None
    try:
        opener = gzip.open if name.endswith(".gz") else open
        with opener(path, "rb") as fh:
            head = fh.read(_HEAD_BYTES)
    except (OSError, EOFError, gzip.BadGzipFile):
        return None
    for raw in head.split(b"\n"):
        line = raw.strip().lstrip(b"\xef\xbb\xbf")
        if not line or line.startswith(b"#"):
            continue
        cols = tuple(
            c.strip().strip('"').lower() for c in line.decode("utf-8", "replace").split(",")
        )
        for prefix, kind in OUTPUT_HEADERS.items():
            if cols[: len(prefix)] == prefix:
                return kind
        return None
    return None


def is_output_summary(path: Path) -> bool:
    """Whether ``path`` is a ``summary.json`` that jerkcount wrote (its folder holds
    outputs, not recordings): its first bytes name the jerkcount version."""
    try:
        with open(path, "rb") as fh:
            return _OUTPUT_MARK in fh.read(256)
    except OSError:
        return False


def expand_folders(paths: Sequence[Path], exclude: Path | None = None) -> list[Path]:
    """``paths`` with each folder replaced by the recordings in it (:func:`find_inputs`:
    recursively, sorted; not inside ``exclude``, the command's own output folder);
    files stay as given, so messages name them as the user did."""
    out: list[Path] = []
    for path in paths:
        out.extend(find_inputs([path], exclude) if path.is_dir() else [path])
    return out


def _same(a: Path, b: Path) -> bool:
    """Whether ``a`` and ``b`` name one file (the same inode, or the same absolute path
    when one is not there yet)."""
    try:
        return os.path.samefile(a, b)
    except OSError:
        return os.path.abspath(a) == os.path.abspath(b)


def check_spares_inputs(outputs: Sequence[str | Path], inputs: Sequence[str | Path]) -> None:
    """:class:`InputError` when one of ``outputs`` would be written over one of
    ``inputs`` (``detect night.csv --out night.csv``), or over another output: nothing
    is read or written then."""
    outs = [Path(o) for o in outputs]
    for k, out in enumerate(outs):
        for given in inputs:
            if _same(out, Path(given)):
                raise InputError(out, f"would be written over the input {given}: give the "
                                 "output another name")  # fmt: skip
        for other in outs[k + 1 :]:
            if _same(out, other):
                raise InputError(out, f"named twice as an output (also as {other}): give "
                                 "each its own name")  # fmt: skip
