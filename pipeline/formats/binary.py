"""What the readers of devices' binary files share (Axivity ``.cwa``, GENEActiv ``.bin``).

A binary source reads its file in chunks of whole blocks (pages) through
:class:`~pipeline.formats.base.ByteInput` (so ``.gz`` and a one-file ``.zip`` work),
decodes every block of a chunk at once with numpy and yields
:class:`~pipeline.formats.base.RawBlock` objects like any text source. The "line" of a
raw row is its 1-based sample number (the samples read, in file order); messages of the
decoders themselves name the data block (``.cwa``) or page (``.bin``).

Both devices write naive local times (the clock of the computer that configured them):
:func:`local_to_epoch` reads them in a zone with the daylight-saving rules of the text
readers (:func:`~pipeline.formats.base.localize_naive`): a time in the skipped spring
hour is an error, the repeated autumn hour is placed by order.
"""

from __future__ import annotations

import logging
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC
from pathlib import Path
from typing import IO, Any

import numpy as np

from pipeline.errors import InputError
from pipeline.formats.base import DST_HINT, ByteInput, DstResolver, RawSource, localize_naive

log = logging.getLogger(__name__)

#: days in each month of a common year (index 1-12; 0 and 13-15 invalid)
_MONTH_DAYS = np.array([0, 31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31, 0, 0, 0], np.int64)


def civil_seconds(
    year: np.ndarray,
    month: np.ndarray,
    day: np.ndarray,
    hour: np.ndarray,
    minute: np.ndarray,
    second: np.ndarray,
) -> tuple[np.ndarray, np.ndarray]:
    """Seconds since 1970-01-01 00:00 of naive date-times given by fields (each (n,)
    integers), and which of them are valid dates and times: ``(seconds, valid)``, both
    (n,) (int64, bool; an invalid one's seconds are 0). Proleptic Gregorian calendar."""
    y = np.asarray(year, np.int64)
    m = np.asarray(month, np.int64)
    d = np.asarray(day, np.int64)
    hh, mm, ss = (np.asarray(v, np.int64) for v in (hour, minute, second))
    leap = ((y % 4 == 0) & (y % 100 != 0)) | (y % 400 == 0)
    ok_month = (m >= 1) & (m <= 12)
    dim = _MONTH_DAYS[np.where(ok_month, m, 0)] + (leap & (m == 2))
    valid = ok_month & (d >= 1) & (d <= dim) & (hh < 24) & (mm < 60) & (ss < 60)
    valid &= (hh >= 0) & (mm >= 0) & (ss >= 0)
    # days from civil (H. Hinnant's algorithm), March-based years
    yy = y - (m <= 2)
    era = np.floor_divide(yy, 400)
    yoe = yy - era * 400
    doy = (153 * (m + np.where(m > 2, -3, 9)) + 2) // 5 + d - 1
    doe = yoe * 365 + yoe // 4 - yoe // 100 + doy
    days = era * 146_097 + doe - 719_468
    seconds = ((days * 24 + hh) * 60 + mm) * 60 + ss
    return np.where(valid, seconds, 0), valid


def local_to_epoch(
    local_s: np.ndarray,
    valid: np.ndarray,
    tz: Any,
    path: Path,
    first: int,
    dst: DstResolver,
    what: str,
) -> np.ndarray:
    """Epoch seconds UTC (n,) float64 of naive local whole seconds ``local_s`` (n,)
    int64 in zone ``tz``; NaN where not ``valid``.

    Element ``k`` is ``what`` number ``first + k`` (e.g. data block 17) in messages: a
    time in the skipped hour of a daylight-saving change is an :class:`InputError`
    naming it; one in the repeated hour is placed by ``dst`` (by order, see
    :class:`~pipeline.formats.base.DstResolver`) or is such an error.
    """
    if tz is UTC:
        return np.where(valid, local_s.astype(np.float64), np.nan)
    import pandas as pd  # only for a zone other than UTC

    stamps = np.where(valid, local_s, 0).astype("datetime64[s]").astype("datetime64[ns]")
    stamps[~valid] = np.datetime64("NaT")
    parsed = pd.Series(stamps)
    with numbered(path, what):
        return localize_naive(parsed, parsed, tz, path, first, dst)


@contextmanager
def numbered(path: Path, what: str) -> Iterator[None]:
    """Turn an :class:`InputError` whose ``line`` is a block (page) number into one that
    says ``"<what> N: ..."`` (the file has no lines to name); one about a daylight-saving
    change says what to give instead (:data:`DST_HINT`)."""
    try:
        yield
    except InputError as err:
        if err.line is None:
            raise
        message = err.message
        if "daylight-saving change" in message:
            message = message.split(": write times with a UTC offset")[0]
            message = f"{message}; {DST_HINT}"
        raise InputError(path, f"{what} {err.line}: {message}") from None


def read_full(stream: IO[bytes], n: int) -> bytes:
    """Up to ``n`` bytes of ``stream``: fewer only at its end."""
    parts: list[bytes] = []
    have = 0
    while have < n:
        data = stream.read(n - have)
        if not data:
            break
        parts.append(data)
        have += len(data)
    return b"".join(parts)


class BinarySource(RawSource):
    """A device's binary file read through :class:`ByteInput` (plain, ``.gz``, ``.zip``).

    ``skipped_blocks`` counts data blocks (pages) that were corrupt and not read (a bad
    checksum, a wrong header); ``partial_block_dropped`` is True when the file ended
    in the middle of one (a truncated file: what came before is read, the reader counts
    it as a torn last line).
    """

    #: what one unit of the file is called in messages ("data block", "page")
    unit = "block"
    #: what makes a unit corrupt, for the warning
    corrupt = "bad checksum or header"

    def __init__(self, path: Path, options: Any, member: str | None = None) -> None:
        super().__init__(path)
        self.options = options
        self.member = member
        self.input = ByteInput(path, member)
        self.size = self.input.size
        self.skipped_blocks = 0
        self.samples_read = 0  # samples of the good blocks yielded so far
        self.partial_block_dropped = False
        if self.input.compression:
            self.metadata["compression"] = self.input.compression

    def bytes_read(self) -> int:
        return self.input.position()

    def close(self) -> None:
        self.input.close()

    def _finish(self) -> None:
        """At the end of the file: a repeated hour still open is an error, and so is a
        file whose every block was corrupt (it has blocks, none readable); say what was
        skipped."""
        if self.samples_read == 0 and self.skipped_blocks:
            n = self.skipped_blocks
            raise InputError(self.path, f"no readable {self.unit}: {'the' if n == 1 else 'all'} "
                             f"{n} {self.unit}{'' if n == 1 else 's'} "
                             f"{'is' if n == 1 else 'are'} corrupt ({self.corrupt})")  # fmt: skip
        with numbered(self.path, self.unit):
            self.dst.finish(self.path)
        if self.skipped_blocks:
            log.warning(
                "%s: skipped %d corrupt %ss (%s)",
                self.path, self.skipped_blocks, self.unit, self.corrupt,
            )  # fmt: skip
        if self.partial_block_dropped:
            log.warning("%s: the file ends inside a %s (truncated): dropped it", self.path,
                        self.unit)  # fmt: skip


def torn_row(line: int) -> tuple[np.ndarray, np.ndarray, int]:
    """A one-row block of missing values at sample ``line``: how a source says its file
    ends in the middle of a record (the reader drops and counts it as a torn last line)."""
    return np.full(1, np.nan), np.full((1, 3), np.nan), line


#: a block's timestamp off what its neighbours' say by more than this (s) is a corrupt
#: one, when the neighbours agree with each other within :data:`LONE_AGREE`
LONE_JUMP = 60.0
#: the same for the first or last block of the file, which has a neighbour on one side
#: only (s): a logger may pause before its last block, never for a day
LONE_END_JUMP = 86_400.0
#: how closely the two neighbours of a lone timestamp agree with each other (s)
LONE_AGREE = 10.0


def lone_times(time: np.ndarray, seq: np.ndarray, period: float, has_before: bool,
               has_after: bool) -> np.ndarray:  # fmt: skip
    """Which of consecutive blocks' timestamps (n,) are corrupt: off what their
    neighbours say, while the neighbours agree with each other (a logger that paused
    moves the blocks after it too, so it is never one of them).

    ``time`` (n,) the blocks' (naive) timestamps in s, in file order; ``seq`` (n,) their
    sequence numbers; ``period`` the nominal s from one block to the next. The first
    element is context only when ``has_before`` (a block before the ones judged), the
    last when ``has_after``; otherwise they are the file's own ends, judged by their
    one side against :data:`LONE_END_JUMP`. Returns a bool mask (n,)."""
    t = np.asarray(time, np.float64)
    q = np.asarray(seq, np.float64)
    n = t.size
    out = np.zeros(n, bool)
    if n < 3:
        return out

    def off(i: np.ndarray, j: np.ndarray) -> np.ndarray:
        return np.abs(t[j] - t[i] - (q[j] - q[i]) * period)

    k = np.arange(1, n - 1)
    out[k] = (off(k - 1, k) > LONE_JUMP) & (off(k, k + 1) > LONE_JUMP)
    out[k] &= off(k - 1, k + 1) <= LONE_AGREE
    if not has_before:  # the file's first block
        out[0] = off(np.array([0]), np.array([1]))[0] > LONE_END_JUMP
        out[0] &= off(np.array([1]), np.array([2]))[0] <= LONE_AGREE
    if not has_after:  # the file's last block
        out[-1] = off(np.array([n - 2]), np.array([n - 1]))[0] > LONE_END_JUMP
        out[-1] &= off(np.array([n - 3]), np.array([n - 2]))[0] <= LONE_AGREE
    return out


def repeats(
    rows: np.ndarray, good: np.ndarray, last: bytes | None
) -> tuple[np.ndarray, bytes | None]:
    """Which ``good`` rows (n,) of ``rows`` ((n, k) uint8: a block's bytes, or a page's
    time and samples) repeat the good row before them byte for byte (a block or page
    written twice: its sequence id or time repeats too, so no device writes it so);
    ``last`` is the last good row before them. Returns the mask and the new ``last``."""
    out = np.zeros(good.size, bool)
    own = np.flatnonzero(good)
    if own.size == 0:
        return out, last
    prev = rows[own[:-1]]
    same = np.zeros(own.size, bool)
    same[1:] = (rows[own[1:]] == prev).all(axis=1)
    if last is not None:
        same[0] = rows[own[0]].tobytes() == last
    out[own[same]] = True
    return out, rows[own[-1]].tobytes()
