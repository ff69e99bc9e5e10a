"""Run a :class:`~firmware_bridge.recorder.Recorder` until a test board has sent its night."""

from __future__ import annotations

import asyncio
import threading
from typing import Protocol

from firmware_bridge.recorder import Recorder, RecorderParams, RecordResult
from firmware_bridge.source import Source


class Board(Protocol):
    """A test board: ``done`` is set once it has written its last line."""

    done: threading.Event


def record_until_done(
    board: Board, params: RecorderParams, source: Source, tail_s: float = 1.0
) -> RecordResult:
    """Record until ``board`` is done, plus ``tail_s`` seconds for the last lines."""

    async def main() -> RecordResult:
        stop = asyncio.Event()

        async def watch() -> None:
            while not board.done.is_set():
                await asyncio.sleep(0.05)
            await asyncio.sleep(tail_s)
            stop.set()

        watcher = asyncio.ensure_future(watch())
        try:
            return await Recorder(source, params).run(stop)
        finally:
            watcher.cancel()

    return asyncio.run(main())
