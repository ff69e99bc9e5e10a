"""A progress bar on stderr, shown only when stderr is a terminal.

In a pipe, a log file or a test runner nothing is drawn at all, so output that is
parsed by other tools stays clean.
"""

from __future__ import annotations

import contextlib
import logging
import sys
from collections.abc import Callable, Iterator
from typing import IO

import click


def is_terminal(stream: IO[str] | None = None) -> bool:
    """True when ``stream`` (default ``sys.stderr``) is an interactive terminal."""
    stream = sys.stderr if stream is None else stream
    try:
        return bool(stream.isatty())
    except (AttributeError, ValueError):
        return False


#: Carriage return and erase to the end of the line (ANSI): a terminal's line made blank.
CLEAR_LINE = "\r\x1b[K"


class LineClearer(logging.Filter):
    """A filter for the log handlers writing to ``stream``: before each record it
    blanks the line a progress display keeps redrawing there with ``\\r``, so the
    record gets a line of its own instead of being glued to the end of the status.
    With ``redraw``, that is called after the record is written (the display comes
    back below it at once; else at its next redraw). :meth:`attach`, :meth:`detach`."""

    def __init__(self, stream: IO[str], redraw: Callable[[], None] | None = None) -> None:
        super().__init__()
        self.stream = stream
        self._handlers: list[logging.Handler] = []
        self._after: _After | None = _After(redraw) if redraw is not None else None

    def filter(self, record: logging.LogRecord) -> bool:
        with contextlib.suppress(OSError, ValueError):
            self.stream.write(CLEAR_LINE)
            self.stream.flush()
        return True

    def attach(self) -> LineClearer:
        """Add this filter to the root logger's stream handlers on ``stream`` (and the
        redraw after them)."""
        root = logging.getLogger()
        for handler in root.handlers:
            if getattr(handler, "stream", None) is self.stream:
                handler.addFilter(self)
                self._handlers.append(handler)
        if self._handlers and self._after is not None:
            self._after.setLevel(min(h.level for h in self._handlers))
            root.addHandler(self._after)  # the root's handlers run in order: after them
        return self

    def detach(self) -> None:
        """Remove it again (idempotent)."""
        handlers, self._handlers = self._handlers, []
        for handler in handlers:
            handler.removeFilter(self)
        if self._after is not None:
            logging.getLogger().removeHandler(self._after)


class _After(logging.Handler):
    """Calls ``redraw`` for each record, after the handlers before it wrote it."""

    def __init__(self, redraw: Callable[[], None]) -> None:
        super().__init__()
        self.redraw = redraw

    def emit(self, record: logging.LogRecord) -> None:
        with contextlib.suppress(OSError, ValueError):
            self.redraw()


@contextlib.contextmanager
def progress_bar(
    total: int, label: str, stream: IO[str] | None = None
) -> Iterator[Callable[[int], None]]:
    """Yield an ``advance(n)`` callable that moves a bar of ``total`` units by ``n``.

    The bar goes to ``stream`` (default ``sys.stderr``) and is drawn only when that
    stream is a terminal; otherwise ``advance`` does nothing. Units are whatever the
    caller counts (bytes read, samples), ``total`` in the same units.
    """
    stream = sys.stderr if stream is None else stream
    if total <= 0 or not is_terminal(stream):
        yield _ignore
        return
    clearer = LineClearer(stream).attach()
    try:
        with click.progressbar(length=total, label=label, file=stream, width=30) as bar:
            yield bar.update
            bar.update(max(0, total - bar.pos))
    finally:
        clearer.detach()


def _ignore(n: int) -> None:
    """Progress callback that draws nothing."""
