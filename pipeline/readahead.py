"""Run an iterator in a background thread, a bounded number of items ahead.

The reader uses it to parse and check the next block of a file while the caller
resamples and detects in the current one: pandas' C tokenizer and float conversion,
pyarrow's decoding and most of numpy release the GIL, so on two cores most of the
parse disappears from the wall time.

* Memory stays bounded: at most ``depth`` finished items wait in the queue, plus the
  one the thread is producing.
* Order and errors are those of the plain iterator: an exception raised by the
  iterator (an :class:`~pipeline.errors.InputError` naming file and line, say) is
  raised again by ``next()`` in the consumer, after every item produced before it.
* :meth:`ReadAhead.close` (also on garbage collection of a consumer generator that
  calls it in ``finally``) stops the thread and waits for it, so the file under the
  iterator can be closed safely afterwards. The iterator is closed in its own thread.
"""

from __future__ import annotations

import logging
import os
import queue
import threading
from collections.abc import Iterator
from typing import Generic, TypeVar

log = logging.getLogger(__name__)

T = TypeVar("T")

#: Environment variable: ``0`` runs everything in one thread (e.g. one core per job).
THREADS_ENV = "JERKCOUNT_THREADS"
_helper_threads = os.environ.get(THREADS_ENV, "1").strip() != "0"


def helper_threads() -> bool:
    """Whether this process starts helper threads: the reader's read-ahead, the
    detector's feature stage, hashing beside detection. On unless ``JERKCOUNT_THREADS=0``;
    batch worker processes turn it off (as many processes as cores already fill the
    cores, and more threads would only contend for them). Results are the same."""
    return _helper_threads


def allow_helper_threads(allowed: bool) -> None:
    """Turn helper threads on or off for this process (see :func:`helper_threads`)."""
    global _helper_threads
    _helper_threads = bool(allowed)


_ITEM, _ERROR, _END = 0, 1, 2
_POLL_S = 0.05  # how often a blocked producer looks whether it was told to stop


class ReadAhead(Generic[T]):
    """Iterate ``source`` in a daemon thread, up to ``depth`` items (>= 1) ahead.

    Use as an iterator; call :meth:`close` when done or when stopping early (it is safe
    to call more than once, and after the end).
    """

    def __init__(self, source: Iterator[T], depth: int = 1, name: str = "readahead") -> None:
        if depth < 1:
            raise ValueError("depth must be at least 1")
        self._source = source
        self._queue: queue.Queue[tuple[int, object]] = queue.Queue(maxsize=depth)
        self._stop = threading.Event()
        self._done = False
        self._thread = threading.Thread(target=self._run, name=name, daemon=True)
        self._thread.start()

    # ------------------------------------------------------------- producer
    def _put(self, kind: int, value: object) -> bool:
        """Queue one entry; ``False`` when told to stop while waiting for room."""
        while not self._stop.is_set():
            try:
                self._queue.put((kind, value), timeout=_POLL_S)
                return True
            except queue.Full:
                continue
        return False

    def _run(self) -> None:
        try:
            for item in self._source:
                if not self._put(_ITEM, item):
                    return
                del item  # do not hold the last item while blocked in next()
            self._put(_END, None)
        except BaseException as err:  # noqa: BLE001 - handed to the consumer, raised there
            self._put(_ERROR, err)
        finally:
            close = getattr(self._source, "close", None)
            if close is not None:
                try:
                    close()
                except Exception:  # noqa: BLE001 - the consumer has its answer already
                    log.debug("closing the read-ahead source failed", exc_info=True)

    # ------------------------------------------------------------- consumer
    def __iter__(self) -> ReadAhead[T]:
        return self

    def __next__(self) -> T:
        if self._done:
            raise StopIteration
        kind, value = self._queue.get()
        if kind == _ITEM:
            return value  # type: ignore[return-value]
        self._done = True
        self._thread.join()
        if kind == _ERROR:
            assert isinstance(value, BaseException)
            raise value
        raise StopIteration

    def close(self) -> None:
        """Stop the thread (dropping what it read ahead) and wait for it to end."""
        self._done = True
        self._stop.set()
        if threading.current_thread() is self._thread:
            return  # closed from inside the source (it ends at its next put)
        while self._thread.is_alive():
            try:  # make room so that a blocked put() returns at once
                self._queue.get_nowait()
            except queue.Empty:
                pass
            self._thread.join(timeout=_POLL_S)
        while True:  # drop the blocks still queued
            try:
                self._queue.get_nowait()
            except queue.Empty:
                break

    @property
    def running(self) -> bool:
        """True while the thread is alive (for tests)."""
        return self._thread.is_alive()
