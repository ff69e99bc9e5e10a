"""The crash-safe recording writer: canonical CSV appended in place, fsynced every second.

The file is created with ``O_CREAT | O_EXCL`` and mode ``0600`` (health data: owner
only; an existing recording is never overwritten). Metadata and the header are
written and fsynced first; each batch of samples is written straight to the file
descriptor (no user-space buffer, so a killed process loses nothing it wrote) and
``fsync`` runs at most ``fsync_s`` seconds after the first unsynced write (power loss
loses at most that much). A torn last line after a crash is tolerated by the reader.

Lines are ``time,ax,ay,az``: epoch seconds with 4 decimals (0.1 ms ticks), g with 5
decimals — the canonical writer's precision.
"""

from __future__ import annotations

import contextlib
import errno
import io
import logging
import os
import time
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from firmware_bridge.recorder_clock import format_ticks
from pipeline.writer import format_metadata

log = logging.getLogger(__name__)

HEADER = "time,ax,ay,az\n"
ACC_DECIMALS = 5
FILE_MODE = 0o600
DIR_MODE = 0o700


def make_private_dir(path: Path) -> Path:
    """Create ``path`` (and parents) with mode 0700 if missing; returns it."""
    path.mkdir(mode=DIR_MODE, parents=True, exist_ok=True)
    return path


def create_private(path: Path) -> int:
    """Open a new file for writing, mode 0600; ``FileExistsError`` if it exists."""
    return os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_CLOEXEC, FILE_MODE)


def format_rows(ticks: np.ndarray, acc: np.ndarray) -> str:
    """Canonical CSV rows (newline-terminated) for epoch ticks and ``(n, 3)`` g."""
    times = format_ticks(ticks)
    vals = np.char.mod(f"%.{ACC_DECIMALS}f", np.asarray(acc, dtype=np.float64))
    # "-0.00000" would read back as -0.0 == 0.0: harmless, kept as numpy prints it
    rows = [f"{t},{x},{y},{z}\n" for t, (x, y, z) in zip(times, vals.tolist(), strict=True)]
    return "".join(rows)


def parse_rows(text: str) -> tuple[np.ndarray, np.ndarray]:
    """Read rows of :func:`format_rows` back with the canonical reader's parser.

    The same pandas C parser as :class:`pipeline.formats.canonical.CanonicalCsvSource`,
    so the values are bit-identical to what ``detect`` will read from the file. (pandas
    is imported here, at the first packet: a replay, which writes nothing, never
    needs its 0.2 s import.)
    """
    import pandas as pd

    frame = pd.read_csv(
        io.StringIO(text), header=None, names=[0, 1, 2, 3], dtype=np.float64, engine="c"
    )
    values = frame.to_numpy(dtype=np.float64)
    return values[:, 0].copy(), values[:, 1:4].copy()


class WriteFailed(Exception):
    """The recording file could not be written (disk full, quota, I/O error): the
    recording must stop; what the file holds is whole lines up to the failure."""

    def __init__(self, path: Path, err: OSError) -> None:
        self.path = path
        self.errno = err.errno
        self.reason = err.strerror or type(err).__name__
        super().__init__(f"cannot write {path}: {self.reason}")


@dataclass
class WriterStats:
    """Counters of a :class:`RecordingWriter`: rows and bytes written, fsyncs done."""

    rows: int = 0
    bytes: int = 0
    fsyncs: int = 0


class RecordingWriter:
    """Append-only canonical CSV recording, crash-safe (see the module docstring).

    path : the new file (must not exist). metadata : ``# key: value`` lines.
    fsync_s : the longest time written samples may stay unsynced, seconds.
    """

    def __init__(self, path: Path, metadata: Mapping[str, object], fsync_s: float = 0.5) -> None:
        self.path = Path(path)
        self.fsync_s = fsync_s
        self.stats = WriterStats()
        self.restored = 0  # times the file was removed and put back (restore_if_removed)
        self._fd: int | None = create_private(self.path)
        self._dirty_since: float | None = None
        try:
            self._write((format_metadata(metadata) + HEADER).encode("utf-8"))
            self.sync()
        except WriteFailed:
            os.close(self._fd)
            self._fd = None
            raise
        _fsync_dir(self.path.parent)

    def _write(self, data: bytes) -> None:
        """Write all of ``data``; on failure (disk full) cut the file back to the end of
        the last whole write, so it ends with a whole line, and raise :class:`WriteFailed`."""
        assert self._fd is not None, "writer closed"
        view = memoryview(data)
        try:
            while view:
                n = os.write(self._fd, view)
                view = view[n:]
        except OSError as err:
            with contextlib.suppress(OSError):  # shrinking a file needs no space
                os.ftruncate(self._fd, self.stats.bytes)
            raise WriteFailed(self.path, err) from err
        self.stats.bytes += len(data)
        if self._dirty_since is None:
            self._dirty_since = time.monotonic()

    def append(self, ticks: np.ndarray, acc: np.ndarray) -> str:
        """Write samples (epoch ticks, ``(n, 3)`` g); returns the text written."""
        if len(ticks) == 0:
            return ""
        text = format_rows(ticks, acc)
        self._write(text.encode("ascii"))
        self.stats.rows += len(ticks)
        self.maybe_sync()
        return text

    def maybe_sync(self) -> None:
        """fsync if the oldest unsynced write is ``fsync_s`` old (call at least every 0.5 s)."""
        if self._dirty_since is not None and time.monotonic() - self._dirty_since >= self.fsync_s:
            self.sync()

    def sync(self) -> None:
        """fsync now if anything is unsynced."""
        if self._fd is not None and self._dirty_since is not None:
            try:
                os.fsync(self._fd)
            except OSError as err:  # the kernel could not store what was written
                raise WriteFailed(self.path, err) from err
            self.stats.fsyncs += 1
            self._dirty_since = None

    def restore_if_removed(self) -> bool:
        """Put the recording back when it was removed while being written (its folder
        deleted, the file unlinked): the folder is made again (mode 0700), the bytes
        written so far are copied from the open file into a new file under the same
        name (mode 0600) and writing goes on there. True when it was restored; False
        when it is in place. :class:`WriteFailed` when it cannot be put back (then the
        rest of the night would go nowhere)."""
        if self._fd is None or os.fstat(self._fd).st_nlink > 0:
            return False
        try:
            make_private_dir(self.path.parent)
            fd = create_private(self.path)
        except OSError as err:
            raise WriteFailed(self.path, err) from err
        try:
            _copy_open_file(self._fd, fd, self.stats.bytes)
            os.fsync(fd)
        except OSError as err:
            os.close(fd)
            with contextlib.suppress(OSError):
                os.unlink(self.path)
            raise WriteFailed(self.path, err) from err
        os.close(self._fd)
        self._fd = fd
        self._dirty_since = None
        _fsync_dir(self.path.parent)
        self.restored += 1
        return True

    def close(self) -> None:
        """Sync and close (idempotent)."""
        if self._fd is None:
            return
        try:
            self.sync()
        finally:
            os.close(self._fd)
            self._fd = None

    def __enter__(self) -> RecordingWriter:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def _copy_open_file(src_fd: int, dst_fd: int, size: int) -> None:
    """Copy the first ``size`` bytes of the file open (write-only, perhaps unlinked) as
    ``src_fd`` to ``dst_fd``, through the process's own descriptor link (Linux
    ``/proc/self/fd``; ``/dev/fd`` elsewhere)."""
    for base in ("/proc/self/fd", "/dev/fd"):
        try:
            src = os.open(f"{base}/{src_fd}", os.O_RDONLY | os.O_CLOEXEC)
        except OSError:
            continue
        break
    else:
        raise OSError(errno.ENOENT, "the removed recording cannot be read back")
    try:
        done = 0
        while done < size:
            chunk = os.pread(src, min(1 << 20, size - done), done)
            if not chunk:
                raise OSError(errno.EIO, "the removed recording is shorter than written")
            view = memoryview(chunk)
            while view:
                view = view[os.write(dst_fd, view) :]
            done += len(chunk)
    finally:
        os.close(src)


def _fsync_dir(path: Path) -> None:
    """Make a new directory entry durable (best effort)."""
    try:
        fd = os.open(path, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(fd)
    except OSError:
        pass
    finally:
        os.close(fd)
