"""Atomic file output: write to a temporary file beside the target, then rename.

An interrupted run leaves at most a ``.tmp`` file, never a half-written file under
the final name. The file gets the mode a plain ``open`` would give it (``0o666`` less
the process's umask: ``-rw-r--r--`` under the usual ``022``), not the temporary file's
private ``0o600``, so results in a shared study folder stay readable by the group;
inside :func:`private_files` (the recorder: a patient's night and its summary) they
stay ``0o600``.
"""

from __future__ import annotations

import contextlib
import errno
import functools
import logging
import os
import re
import shutil
import stat
import sys
import tempfile
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import IO

_private = 0  # how many private_files() blocks are open (any thread)
log = logging.getLogger(__name__)


@contextlib.contextmanager
def private_files() -> Iterator[None]:
    """Within this block (process-wide) atomic outputs are readable by the owner only
    (``0o600``), whatever the umask."""
    global _private
    _private += 1
    try:
        yield
    finally:
        _private -= 1


@functools.cache
def umask_mode() -> int:
    """The permission bits of a new file: ``0o666`` less the umask (read once; setting
    the umask is the only way to read it, so it is set back at once)."""
    mask = os.umask(0o022)
    os.umask(mask)
    return 0o666 & ~mask


#: Folders whose entries are the system's, not files to replace (``/dev/stdout`` is a
#: link to ``/proc/self/fd/1``, which may well be a regular file: a redirected output).
SYSTEM_DIRS = ("/dev", "/proc")


def special_file(path: str | Path) -> bool:
    """Whether ``path`` names the system's stream or device rather than a file: it lies in
    :data:`SYSTEM_DIRS` (``/dev/stdout``, ``/dev/null``, ``/proc/self/fd/1``), or it is
    there and neither a regular file nor a folder (symbolic links followed: a named
    pipe, a socket, a device)."""
    absolute = os.path.abspath(path)
    if any(absolute == d or absolute.startswith(d + os.sep) for d in SYSTEM_DIRS):
        return True
    try:
        mode = os.stat(path).st_mode
    except OSError:
        return False
    return not (stat.S_ISREG(mode) or stat.S_ISDIR(mode))


@contextlib.contextmanager
def atomic_write(path: str | Path, mode: str = "w", newline: str | None = "") -> Iterator[IO]:
    """Open a temporary file next to ``path``; on success fsync and rename it over ``path``.

    On an exception the temporary file is removed and ``path`` is left untouched. A
    :func:`special_file` (``/dev/stdout``, a pipe) is written into as it is, never
    replaced (there is nothing a rename could keep whole).
    """
    path = Path(path)
    kwargs = {} if "b" in mode else {"encoding": "utf-8", "newline": newline}
    if special_file(path):
        with _open_special(path, mode, kwargs) as fh:
            yield fh
        return
    make_folder(path.parent, path)
    try:
        fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    except OSError as err:  # a folder that cannot hold files: name the file, not the temp
        raise OSError(err.errno, err.strerror, str(path)) from err
    try:
        with os.fdopen(fd, mode, **kwargs) as fh:
            if hasattr(os, "fchmod"):  # POSIX; on Windows the mode bits do not apply
                os.fchmod(fh.fileno(), 0o600 if _private else umask_mode())
            yield fh
            fh.flush()
            os.fsync(fh.fileno())
        os.replace(tmp, path)
    except OSError as err:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(tmp)
        if err.filename is None and err.errno is not None:  # a failed write (disk full): name it
            raise OSError(err.errno, err.strerror, str(path)) from err
        raise
    except BaseException:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(tmp)
        raise


def _open_special(path: Path, mode: str, kwargs: dict[str, str | None]) -> IO:
    """``path``, a :func:`special_file`, opened for writing. Where it is this process's
    own standard output or error (``/dev/stdout`` while the output is redirected to a
    file: ``score --matches /dev/stdout > m.csv``), the stream's descriptor is
    duplicated instead, so that what is written shares its offset with what the command
    prints: opened anew, a redirected file was truncated, and the command's next line
    was written over the start of the table."""
    try:
        target = os.stat(path)
    except OSError:
        target = None
    for fd in (1, 2):
        try:
            stream = os.fstat(fd)
        except OSError:
            continue
        if target is not None and (stream.st_dev, stream.st_ino) == (
            target.st_dev,
            target.st_ino,
        ):
            for buffered in (sys.stdout, sys.stderr):  # what was printed comes first
                with contextlib.suppress(OSError, ValueError, AttributeError):
                    buffered.flush()
            return os.fdopen(os.dup(fd), mode, **kwargs)
    return open(path, mode, **kwargs)


def make_folder(folder: Path, for_path: Path | None = None) -> None:
    """``folder`` and its parents, made where missing. Where a part of the way is a file,
    a :class:`NotADirectoryError` naming ``for_path`` (default ``folder``), the output
    that cannot be written, and the file in the way (``mkdir`` would say only "File
    exists" or "Not a directory")."""
    try:
        folder.mkdir(parents=True, exist_ok=True)
    except (FileExistsError, NotADirectoryError) as err:
        target = for_path or folder
        blocker = next((p for p in (*reversed(folder.parents), folder) if _is_file(p)), None)
        if blocker is None:
            raise
        raise NotADirectoryError(
            errno.ENOTDIR, f"cannot be written: {blocker} is a file, not a folder", str(target)
        ) from err


def _is_file(path: Path) -> bool:
    """Whether ``path`` is there and is not a folder (links followed)."""
    try:
        return not stat.S_ISDIR(os.stat(path).st_mode)
    except OSError:
        return False


def renamed(err: Exception, names: dict[str, str]) -> Exception:
    """``err`` (an :class:`OSError` or :class:`~pipeline.errors.InputError`) naming the
    file ``names`` maps its file to, where it names a working copy (a stand-in, a staged
    file) rather than the file the user knows; else ``err`` itself."""
    from pipeline.errors import InputError

    if isinstance(err, OSError) and err.filename in names:
        return OSError(err.errno, err.strerror, names[err.filename])
    if isinstance(err, InputError) and err.path in names:
        return InputError(names[err.path], err.message, err.line)
    return err


@contextlib.contextmanager
def file_set(paths: Sequence[str | Path]) -> Iterator[list[Path]]:
    """Write several files as one set: yields a hidden stand-in path beside each of
    ``paths`` (write each with :func:`atomic_write`); when the block ends without an
    exception every stand-in is renamed over its target, in the order given (the file
    that marks the set complete last), so the targets are never some of this set and
    some of an earlier one. On an exception the stand-ins are removed, the targets left
    as they were, and an :class:`OSError` names the target, not its stand-in."""
    targets = [Path(p) for p in paths]
    for target in targets:  # a set of files needs files: /dev/stdout cannot hold one
        if special_file(target):
            raise OSError(errno.EINVAL, "not a regular file (give a file name)", str(target))
        if target.is_dir():  # found before any is written: a rename over it fails late
            raise IsADirectoryError(errno.EISDIR, "Is a directory", str(target))
    standins = [t.with_name(f".{t.name}.{os.getpid()}.set") for t in targets]
    by_standin = {str(s): str(t) for s, t in zip(standins, targets, strict=True)}
    try:
        yield standins
        for standin, target in zip(standins, targets, strict=True):
            os.replace(standin, target)
    except OSError as err:
        named = renamed(err, by_standin)
        if named is err:
            raise
        raise named from err
    finally:
        for standin in standins:  # (its folder may be a file: no stand-in was made)
            with contextlib.suppress(FileNotFoundError, NotADirectoryError):
                os.unlink(standin)


def run_folder(parent: str | Path, prefix: str) -> Path:
    """A new hidden working folder of this run in ``parent``, ``prefix-<pid>-<random>``
    (mode 0700); first removes those a killed run left (:func:`clear_stale`)."""
    parent = Path(parent)
    make_folder(parent)
    clear_stale(parent, prefix)
    return Path(tempfile.mkdtemp(prefix=f"{prefix}-{os.getpid()}-", dir=parent))


def clear_stale(parent: Path, prefix: str) -> None:
    """Remove the :func:`run_folder` folders in ``parent`` whose process (named in the
    folder's name) is gone: a killed run's; a live run's is left alone."""
    named = re.compile(re.escape(prefix) + r"-(\d+)-")
    for work in parent.glob(f"{prefix}-*-*"):
        match = named.match(work.name)
        if match is None or _alive(int(match.group(1))):
            continue
        log.info("%s: removing what a killed run left", work)
        shutil.rmtree(work, ignore_errors=True)


def _alive(pid: int) -> bool:
    """Whether a process ``pid`` runs on this machine."""
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:  # someone else's: it runs
        return True
    return True
