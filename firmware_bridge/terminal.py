"""The recorder's terminal going away: a closed window, a dropped ssh session (SIGHUP).

:func:`detach_from_terminal` points the standard output and error that are terminals
at the null device, so that nothing the recorder or the command line writes afterwards
fails (a hung-up terminal answers every write with ``EIO``). Output redirected to a
file or a pipe is left alone: a log file keeps receiving the warnings and the morning
lines. A terminal is told by its file type (a character device): once hung up it no
longer answers ``isatty``.
"""

from __future__ import annotations

import contextlib
import logging
import os
import stat

log = logging.getLogger(__name__)


def detach_from_terminal(fds: tuple[int, ...] = (1, 2)) -> list[int]:
    """Point each descriptor of ``fds`` that is a terminal (a character device) at
    ``os.devnull``; returns the descriptors redirected (none when none was one)."""
    moved: list[int] = []
    ttys = [fd for fd in fds if _is_char_device(fd)]
    if not ttys:
        return moved
    null = os.open(os.devnull, os.O_WRONLY)
    try:
        for fd in ttys:
            with contextlib.suppress(OSError):
                os.dup2(null, fd)
                moved.append(fd)
    finally:
        os.close(null)
    return moved


def _is_char_device(fd: int) -> bool:
    try:
        return stat.S_ISCHR(os.fstat(fd).st_mode)
    except OSError:
        return False
