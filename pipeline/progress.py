"""A progress bar on stderr, shown only when stderr is a terminal.

In a pipe, a log file or a test runner nothing is drawn at all, so output that is
parsed by other tools stays clean.
"""

from __future__ import annotations

import contextlib
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
    with click.progressbar(length=total, label=label, file=stream, width=30) as bar:
        yield bar.update
        bar.update(max(0, total - bar.pos))


def _ignore(n: int) -> None:
    """Progress callback that draws nothing."""
