"""Recordings named on a command line: files, folders (searched recursively) and globs.

Shared by ``batch`` and ``process``. A folder yields the files with a recording suffix
inside it, leaving out hidden files and folders, the command's own output folder,
jerkcount's output folders below it (:func:`is_output_folder`: a ``summary.json`` and
an ``events.csv`` that jerkcount wrote, such as a ``record`` folder's summaries or an
earlier ``process`` or ``batch`` output) and the tables jerkcount writes beside
recordings or at a cohort's top (``detect``'s events and activity, ``simulate``'s
truth, ``score --matches``, ``batch``'s cohort tables: :func:`output_table`, by their
header). Each is named in the log (``-v``). A folder named as it is is always
searched, and a file named as it is is always taken. A glob skips the tables too.

A folder that cannot be listed (no read permission) is not passed over: the search
returns it (:class:`Unlisted`), ``batch`` makes it a failed row and ``process`` an
error (:func:`find_inputs`).
"""

from __future__ import annotations

import fnmatch
import glob
import gzip
import itertools
import logging
import os
import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

from pipeline.errors import InputError

#: Recording suffixes looked for in folders (a ``.bin`` only when it is a GENEActiv one).
DEFAULT_SUFFIXES = (".csv", ".csv.gz", ".parquet", ".cwa", ".cwa.gz", ".bin", ".bin.gz")
#: Suffixes other programs use too: a file with one is taken only when its first bytes
#: are those of the named jerkcount dialect (:func:`pipeline.formats.recognised_format`).
CLAIMED_SUFFIXES = {".bin": "geneactiv-bin", ".bin.gz": "geneactiv-bin"}
#: characters that make an input a glob pattern
GLOB_CHARS = re.compile(r"[*?\[]")
#: what the first bytes of a ``summary.json`` written by jerkcount hold
_OUTPUT_MARK = b'"jerkcount_version"'
#: The two files that make a folder one of jerkcount's output folders (the names of
#: ``pipeline.process.FILE_NAMES``; the tests hold them equal).
OUTPUT_SUMMARY = "summary.json"
OUTPUT_EVENTS = "events.csv"
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
    """Suffixes of recordings found in folders (:func:`suffix_of` takes the longest)."""
    return DEFAULT_SUFFIXES


def suffix_of(path: Path, suffixes: Sequence[str]) -> str:
    """The longest recognised suffix ``path`` ends with (case-insensitive), else ``""``."""
    name = path.name.lower()
    return max((s for s in suffixes if name.endswith(s)), key=len, default="")


def _inside(path: Path, folder: Path | None) -> bool:
    """True if ``path`` lies in ``folder`` (both made absolute)."""
    return folder is not None and path.resolve().is_relative_to(folder.resolve())


@dataclass(frozen=True)
class Unlisted:
    """A folder the search had to enter and could not list (its recordings are unknown)."""

    folder: Path
    reason: str

    @property
    def message(self) -> str:
        """The one-line error: ``FOLDER: folder cannot be listed (permission denied)``."""
        return f"{self.folder}: folder cannot be listed ({self.reason})"


@dataclass
class InputSearch:
    """What :func:`search_inputs` found: recordings (absolute, sorted) and the folders
    that could not be listed (sorted)."""

    paths: list[Path] = field(default_factory=list)
    unlisted: list[Unlisted] = field(default_factory=list)


def _unlisted(err: OSError, folder: str | Path) -> Unlisted:
    """:class:`Unlisted` for the error listing ``folder`` raised."""
    reason = (err.strerror or type(err).__name__).lower()
    return Unlisted(Path(err.filename if err.filename is not None else folder), reason)


def _pattern_parts(pattern: str) -> tuple[Path, list[str]]:
    """A glob pattern as its fixed folder and the components after it."""
    parts = Path(pattern).parts
    fixed = list(itertools.takewhile(lambda p: not GLOB_CHARS.search(p), parts))
    return (Path(*fixed) if fixed else Path(".")), list(parts[len(fixed) :])


def _seen_by(pattern: str, name: str) -> bool:
    """Whether a glob component ``pattern`` takes the entry ``name`` (hidden names only
    by a pattern starting with a dot, as :mod:`glob` does)."""
    if name.startswith(".") and not pattern.startswith("."):
        return False
    return pattern == "**" or fnmatch.fnmatchcase(name, pattern)


class _Search:
    """The state of one :func:`search_inputs`: recordings, tables and folders left out,
    folders that could not be listed."""

    def __init__(self, exclude: Path | None, suffixes: tuple[str, ...]) -> None:
        self.exclude = exclude
        self.suffixes = suffixes
        self.found: dict[Path, None] = {}
        self.tables: list[tuple[Path, str]] = []
        self.unlisted: dict[Path, Unlisted] = {}
        self._listings: dict[Path, list[os.DirEntry[str]] | None] = {}

    # ----------------------------------------------------------------- files
    def take(self, path: Path) -> None:
        """Take a file named as it is, whatever it holds."""
        self.found.setdefault(abs_path(path), None)

    def add_found(self, path: Path) -> None:
        """A file a folder or glob gave: taken unless it is one of jerkcount's tables."""
        kind = output_table(path)
        if kind is None:
            self.found.setdefault(abs_path(path), None)
        else:
            self.tables.append((path, kind))

    def _add_walked(self, path: Path) -> None:
        """A file found in a folder: a recording unless hidden, in ``exclude``, a table,
        or a ``.bin`` that is not a GENEActiv recording. A symbolic link named like a
        recording that points nowhere (an archive not mounted, a file moved away) is
        taken too, so that the reader reports it instead of the night going missing
        without a word."""
        suffix = suffix_of(path, self.suffixes)
        dangling = path.is_symlink() and not path.exists()
        if not suffix or not (dangling or path.is_file()):
            return
        claimed = CLAIMED_SUFFIXES.get(suffix)
        if path.name.startswith("."):
            log.info("%s: skipped: a hidden file", path)
        elif _inside(path, self.exclude):
            log.info("%s: skipped: inside the output folder %s", path, self.exclude)
        elif dangling:
            self.found.setdefault(abs_path(path), None)
        elif claimed is not None and _dialect(path) != claimed:
            log.info("%s: skipped: not a %s recording", path, claimed)
        else:
            self.add_found(path)

    # ----------------------------------------------------------------- folders
    def folder_left_out(self, folder: Path) -> bool:
        """Whether the search leaves ``folder`` out (logged with the reason)."""
        if folder.name.startswith("."):
            why = "a hidden folder"
        elif _inside(folder, self.exclude):
            why = f"the output folder {self.exclude}"
        elif is_output_folder(folder):
            why = f"a jerkcount output folder ({OUTPUT_SUMMARY} and {OUTPUT_EVENTS} it wrote)"
        else:
            return False
        log.info("%s: skipped: %s", folder, why)
        return True

    def add_folder(self, folder: Path) -> None:
        """Every recording below ``folder`` (which is searched whatever it is)."""

        def unlisted(err: OSError) -> None:
            found = _unlisted(err, folder)
            self.unlisted.setdefault(abs_path(found.folder), found)

        for top, dirs, files in os.walk(folder, onerror=unlisted):
            here = Path(top)
            dirs[:] = sorted(d for d in dirs if not self.folder_left_out(here / d))
            for name in sorted(files):
                self._add_walked(here / name)

    # ----------------------------------------------------------------- globs
    def _listing(self, folder: Path) -> list[os.DirEntry[str]] | None:
        """The entries of ``folder`` (once per search); ``None``, recorded as
        :class:`Unlisted`, when it cannot be listed."""
        if folder not in self._listings:
            try:
                with os.scandir(folder) as entries:
                    self._listings[folder] = list(entries)
            except OSError as err:
                found = _unlisted(err, folder)
                self.unlisted.setdefault(abs_path(found.folder), found)
                self._listings[folder] = None
        return self._listings[folder]

    def check_pattern(self, pattern: str) -> None:
        """Record the folders ``glob`` had to list for ``pattern`` and could not (it
        passes over them in silence)."""
        anchor, parts = _pattern_parts(pattern)
        if anchor.is_dir():
            self._check_listings(anchor, parts, set())

    def _check_listings(
        self, folder: Path, parts: list[str], seen: set[tuple[Path, tuple[str, ...]]]
    ) -> None:
        """Follow ``glob``'s way through ``folder`` for the components ``parts``."""
        key = (folder, tuple(parts))
        if not parts or key in seen:
            return
        seen.add(key)
        head, rest = parts[0], parts[1:]
        if not GLOB_CHARS.search(head):  # a plain name: glob looks it up, lists nothing
            if rest and (folder / head).is_dir():
                self._check_listings(folder / head, rest, seen)
            return
        entries = self._listing(folder)
        if entries is None:
            return
        if head == "**":  # zero folders, or one more and still ``**``
            self._check_listings(folder, rest, seen)
            rest = parts
        if not rest:
            return
        follow = head != "**"  # as glob: ``**`` does not enter linked folders
        for entry in entries:
            if _is_dir(entry, follow) and _seen_by(head, entry.name):
                self._check_listings(folder / entry.name, rest, seen)

    def result(self) -> InputSearch:
        """The recordings (sorted), with the tables left out logged."""
        for path, kind in self.tables:
            log.info("%s: skipped: a jerkcount %s, not a recording", path, kind)
        unlisted = [self.unlisted[k] for k in sorted(self.unlisted)]
        return InputSearch(sorted(self.found), unlisted)


def _dialect(path: Path) -> str | None:
    """The jerkcount dialect ``path``'s first bytes claim, ``None`` if none or unreadable."""
    from pipeline.formats import recognised_format

    try:
        return recognised_format(path)
    except (InputError, OSError, EOFError):
        return None


def _is_dir(entry: os.DirEntry[str], follow: bool) -> bool:
    """``entry.is_dir`` without raising (a vanished entry is no folder)."""
    try:
        return entry.is_dir(follow_symlinks=follow)
    except OSError:
        return False


def _expand(item: str | Path, search: _Search) -> None:
    """Add one command-line input (file, folder or glob pattern) to ``search``."""
    text = str(item)
    path = Path(text)
    if path.exists():
        matches = [path]
    elif GLOB_CHARS.search(text):
        before = len(search.unlisted)
        search.check_pattern(text)
        matches = [Path(m) for m in sorted(glob.glob(text, recursive=True))]
        if not matches and len(search.unlisted) == before:
            raise InputError(text, "matches no file")
    else:
        raise InputError(text, "no such file or folder")
    exclude = search.exclude
    for m in matches:
        if m.is_dir() and _inside(m, exclude):
            raise InputError(
                None,
                f"--out {exclude} holds the recordings given ({m}): the outputs need a "
                f"folder of their own, such as {m / 'summary'}",
            )
        if m.is_dir():
            if path is m or not search.folder_left_out(m):  # named: always searched
                search.add_folder(m)
        elif path is m:  # named as it is: taken whatever it holds
            search.take(m)
        elif not _inside(m, exclude):
            search.add_found(m)


def search_inputs(
    inputs: Sequence[str | Path],
    exclude: Path | None = None,
    suffixes: Sequence[str] | None = None,
) -> InputSearch:
    """Expand files, folders and glob patterns into recording paths (absolute, sorted),
    with the folders that could not be listed on the way.

    A file given by name is taken whatever its suffix; a folder is searched
    recursively for files with a recording suffix (``suffixes``, default
    :func:`recording_suffixes`), leaving out hidden files and folders, jerkcount's own
    output folders below it (:func:`is_output_folder`), its tables
    (:func:`output_table`) and anything in ``exclude`` (the command's own output
    folder); each is named in the log. Glob patterns are expanded here (``**``
    recursive), so quoting them on the shell works. Raises :class:`InputError` for a
    name that does not exist, a pattern that matches nothing, or no recordings and no
    folder that could not be listed.
    """
    suffixes = tuple(suffixes or recording_suffixes())
    search = _Search(exclude, suffixes)
    for item in inputs:
        _expand(item, search)
    found = search.result()
    if not found.paths and not found.unlisted:
        n = len(search.tables)
        also = f" ({n} jerkcount output table(s) skipped)" if n else ""
        raise InputError(
            None,
            f"no recordings ({', '.join(suffixes)}) in {' '.join(map(str, inputs))}{also}",
        )
    return found


def find_inputs(
    inputs: Sequence[str | Path],
    exclude: Path | None = None,
    suffixes: Sequence[str] | None = None,
) -> list[Path]:
    """The recordings of :func:`search_inputs`; a folder that could not be listed is an
    :class:`InputError` naming it (``process`` combines one person's recordings: one
    left out would change the nights)."""
    found = search_inputs(inputs, exclude, suffixes)
    if found.unlisted:
        first = found.unlisted[0]
        raise InputError(first.folder, f"folder cannot be listed ({first.reason})")
    return found.paths


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
    """Whether ``path`` is a ``summary.json`` that jerkcount wrote: its first bytes
    name the jerkcount version (one half of :func:`is_output_folder`)."""
    try:
        with open(path, "rb") as fh:
            return _OUTPUT_MARK in fh.read(256)
    except OSError:
        return False


def is_output_folder(folder: Path) -> bool:
    """Whether ``folder`` is one of jerkcount's output folders (``process``, ``batch``'s
    per-recording folders, ``record``'s ``summary-…/``): it holds a ``summary.json``
    that jerkcount wrote (:func:`is_output_summary`) and an ``events.csv`` that is a
    jerkcount events table. A ``summary.json`` alone (kept to reuse with ``--params``)
    does not make one."""
    return is_output_summary(folder / OUTPUT_SUMMARY) and (
        output_table(folder / OUTPUT_EVENTS) == "events table"
    )


def expand_folders(paths: Sequence[Path], exclude: Path | None = None) -> list[Path]:
    """``paths`` with each folder replaced by the recordings in it (:func:`find_inputs`:
    recursively, sorted; not inside ``exclude``, the command's own output folder).
    Files stay as given, and a folder's recordings are named from the folder as given
    (``nights`` gives ``nights/a.csv``, ``/data/nights`` ``/data/nights/a.csv``), so
    messages and the ``recording`` column name them as the user did either way."""
    out: list[Path] = []
    for path in paths:
        if not path.is_dir():
            out.append(path)
            continue
        top = abs_path(path)
        out.extend(path / p.relative_to(top) for p in find_inputs([path], exclude))
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
