"""Replay a recorded file as a live :class:`~firmware_bridge.source.Source`.

The file is read with the canonical reader's raw-row validation (any dialect the
reader knows; a torn last line dropped, exact duplicate times dropped, backwards time
an :class:`~pipeline.errors.InputError` — exactly as ``detect`` sees it) and handed out
in batches, paced at ``speed`` times real time (``None``: as fast as possible). A batch
holds ``batch_s`` seconds of recording time (half a second, a board's packet or two),
more when the replay is fast: at least :data:`HOST_BATCH_S` of host time at ``speed``
(at most 20 batches a host second), and :data:`UNPACED_BATCH_S` unpaced. Each batch
costs the recorder's loop the same whatever its size, so at full speed half-second
batches made the live path 6x slower than ``detect`` (57,600 batches for 8 hours);
the events do not depend on the batches. Times are the file's epoch seconds
(``absolute_time``), so the recorder keeps them as they are and the events equal
``jerkcount detect`` on the same file. ``read`` raises :class:`EOFError` at the end.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Iterator
from pathlib import Path

import numpy as np

from firmware_bridge.samples import DecodedBatch
from firmware_bridge.source import Source, SourceInfo
from pipeline.formats.base import RawBlock
from pipeline.reader import ReaderParams, RecordingStream, open_recording

log = logging.getLogger(__name__)

#: A paced batch covers at least this much host time (s): at most 20 batches a second.
HOST_BATCH_S = 0.05
#: Recording seconds per batch of an unpaced replay (``--speed max``).
UNPACED_BATCH_S = 30.0


class ReplaySource(Source):
    """A recording file streamed as if live (see the module docstring).

    speed : recording seconds per host second; ``None`` = no pacing ("max").
    batch_s : recording seconds per batch, at least (see the module docstring).
    unpaced_batch_s : recording seconds per batch without pacing, at least ``batch_s``.
    """

    absolute_time = True
    #: its rows come through jerkcount's reader, which warns about what it finds (with
    #: the file's lines): the live detector does not say it all again
    checked_by_reader = True

    def __init__(
        self,
        path: str | Path,
        speed: float | None = 1.0,
        batch_s: float = 0.5,
        reader: ReaderParams | None = None,
        unpaced_batch_s: float = UNPACED_BATCH_S,
    ) -> None:
        if speed is not None and not speed > 0:
            raise ValueError(f"speed must be > 0, got {speed}")
        self.path = Path(path)
        self.speed = speed
        if speed is None:
            self.batch_s = max(batch_s, unpaced_batch_s)
        else:
            self.batch_s = max(batch_s, speed * HOST_BATCH_S)
        self.reader = reader or ReaderParams()
        self.description = f"replay of {self.path}"
        self._stream: RecordingStream | None = None
        self._rows: Iterator[RawBlock] | None = None
        self._pending: RawBlock | None = None
        self._t_first: float | None = None
        self._host0 = 0.0

    async def open(self) -> SourceInfo:
        if self._stream is None:
            self._stream = open_recording(self.path, self.reader)
            # the reader's own validated raw rows (private generator, same checks as detect)
            self._rows = self._stream._checked_blocks()
            self._host0 = time.monotonic()
        header = self._stream.header
        md = header.metadata
        rng = md.get("range_g") or md.get("range")
        try:
            range_g = float(rng) if rng else None
        except ValueError:
            range_g = None
        return SourceInfo(
            device=f"replay:{self.path.name}",
            profile=md.get("profile", "replay"),
            rate_hz=header.fs,
            range_g=range_g,
            extra={"replay_of": str(self.path), "original_device": md.get("device", "")},
        )

    def _next_batch(self) -> DecodedBatch:
        assert self._rows is not None
        if self._pending is None or self._pending.t.size == 0:
            self._pending = next(self._rows, None)
            if self._pending is None:
                raise EOFError(str(self.path))
        block = self._pending
        if self._t_first is None:
            self._t_first = float(block.t[0])
        cut = int(np.searchsorted(block.t, block.t[0] + self.batch_s, side="left"))
        cut = max(cut, 1)
        t, a = block.t[:cut], block.a[:cut]
        self._pending = RawBlock(block.t[cut:], block.a[cut:], block.first_line + cut)
        return DecodedBatch(t.copy(), a.copy())

    async def read(self) -> DecodedBatch:
        if self._rows is None:
            raise EOFError("replay not opened")
        batch = self._next_batch()
        if self.speed is not None and self._t_first is not None:
            due = self._host0 + (float(batch.t[-1]) - self._t_first) / self.speed
            wait = due - time.monotonic()
            if wait > 0:
                await asyncio.sleep(wait)
        else:
            await asyncio.sleep(0)
        return batch

    async def close(self) -> None:
        if self._stream is not None:
            self._stream.close()
            self._stream = None
            self._rows = None
