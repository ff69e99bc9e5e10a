"""The recording's session file, written so that a full disk does not lose it.

The file is JSON followed by blank padding up to a multiple of :data:`RESERVE_BYTES`
(64 KiB): written first when the recording starts, it holds the disk space its later
versions need. Each version is written atomically (a temporary file renamed over it,
:func:`~pipeline.atomic.atomic_write`); when that fails because the disk (or a quota,
or the file size limit) is full, the new version is written in place over the old one,
into the space the file already holds (on a copy-on-write file system such as btrfs
or ZFS that can fail too; then only the older version stays). A reader of the file
sees one JSON value: the padding is whitespace.

A failure is one warning in plain words ("the disk is full"), said once per file.
"""

from __future__ import annotations

import errno
import logging
import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from pipeline.atomic import atomic_write
from pipeline.outputs import json_text

log = logging.getLogger(__name__)

#: The session file is padded to a multiple of this many bytes.
RESERVE_BYTES = 64 * 1024

#: What a failed write means, in plain words, by errno.
_FULL = {
    errno.ENOSPC: "the disk is full",
    errno.EDQUOT: "the disk quota is reached",
    errno.EFBIG: "the file size limit is reached",
}


def plain_reason(err: OSError) -> str:
    """Why a write failed, in a few plain words (no errno tuple, no file name)."""
    return _FULL.get(err.errno or 0) or err.strerror or str(err)


def padded(data: dict[str, Any], reserve: int = RESERVE_BYTES) -> bytes:
    """``data`` as indented JSON, padded with blanks to a multiple of ``reserve`` bytes
    (at least 1 KiB of padding left for the next, longer version)."""
    raw = json_text(data).encode("utf-8")
    size = -(-(len(raw) + 1024) // reserve) * reserve
    return raw + b" " * (size - len(raw) - 1) + b"\n"


@dataclass
class SessionFile:
    """The session file at ``path`` (see the module docstring); ``write(data)``."""

    path: Path
    reserve: int = RESERVE_BYTES
    warned: bool = field(default=False, init=False)
    in_place: int = field(default=0, init=False)

    def write(self, data: dict[str, Any]) -> bool:
        """Write ``data``; True when this version is on disk. Never raises an OSError."""
        raw = padded(data, self.reserve)
        try:
            with atomic_write(self.path, "wb") as fh:
                fh.write(raw)
            return True
        except OSError as err:
            if err.errno in _FULL and self._overwrite(raw.rstrip() + b"\n"):
                return True
            self._warn(err)
            return False

    def _overwrite(self, raw: bytes) -> bool:
        """Write ``raw`` over the file's start, blanking the rest of the space it holds,
        without growing it; False when it does not fit or the write fails."""
        try:
            with open(self.path, "r+b") as fh:
                size = os.fstat(fh.fileno()).st_size
                if len(raw) > size:
                    return False
                fh.write(raw + b" " * (size - len(raw) - 1) + b"\n")
                fh.flush()
                os.fsync(fh.fileno())
        except OSError as err:
            log.debug("cannot rewrite %s in place: %s", self.path, err)
            return False
        self.in_place += 1
        log.info("%s: the disk is full; the session file was rewritten in place", self.path)
        return True

    def _warn(self, err: OSError) -> None:
        if self.warned:
            log.info("cannot write %s: %s", self.path, plain_reason(err))
            return
        self.warned = True
        log.warning("cannot write %s: %s", self.path, plain_reason(err))
