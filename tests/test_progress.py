"""Progress displays on a terminal: a warning logged meanwhile gets a line of its own."""

from __future__ import annotations

import io
import logging
from collections.abc import Iterator

import pytest

from firmware_bridge.recorder_live import LiveLine, LiveStatus
from pipeline.batch_progress import BatchProgress
from pipeline.progress import CLEAR_LINE, progress_bar

log = logging.getLogger("jerkcount.test")


class Terminal(io.StringIO):
    """What the displays take for a terminal."""

    def isatty(self) -> bool:
        return True


@pytest.fixture
def terminal() -> Iterator[Terminal]:
    """A terminal that the root logger's handler writes to, as the CLI's does."""
    term = Terminal()
    handler = logging.StreamHandler(term)
    handler.setFormatter(logging.Formatter("jerkcount: %(levelname)s: %(message)s"))
    root = logging.getLogger()
    root.addHandler(handler)
    yield term
    root.removeHandler(handler)
    assert handler.filters == []  # each display took its filter away again


def test_a_warning_is_not_glued_to_the_live_line(terminal: Terminal) -> None:
    line = LiveLine(stream=terminal)
    status = LiveStatus(elapsed_s=61.0, samples=6100, link="streaming", jerks=2)
    line.update(status, force=True)
    log.warning("stray line 1e308 dropped")
    line.update(status, force=True)
    line.close(status)
    text = LiveLine.text(status)
    assert terminal.getvalue() == (
        f"\r{text}{CLEAR_LINE}jerkcount: WARNING: stray line 1e308 dropped\n"
        f"\r{text}"  # drawn again at once below it
        f"\r{text}\r{text}\n"
    )
    log.warning("after the night")  # the line is closed: nothing to blank
    assert terminal.getvalue().endswith(f"{text}\njerkcount: WARNING: after the night\n")


def test_a_warning_is_not_glued_to_the_batch_line(terminal: Terminal) -> None:
    bar = BatchProgress(total=2, total_bytes=100, stream=terminal)
    log.warning("b.csv: dropped 3 rows with missing values")
    bar.close()
    lines = terminal.getvalue().split("\n")
    assert lines[1].startswith(CLEAR_LINE + "batch [")  # drawn again at once below it
    assert lines[0].endswith(
        CLEAR_LINE + "jerkcount: WARNING: b.csv: dropped 3 rows with missing values"
    )
    assert lines[0].startswith(CLEAR_LINE + "batch [")


def test_a_warning_is_not_glued_to_the_progress_bar(terminal: Terminal) -> None:
    with progress_bar(1000, "detecting a.csv", stream=terminal) as advance:
        advance(400)
        log.warning("a.csv: sample rate changes")
        advance(100)
    text = terminal.getvalue()
    before, after = text.split(CLEAR_LINE + "jerkcount: WARNING: a.csv: sample rate changes\n")
    assert "detecting a.csv" in before and "40%" in before
    assert "detecting a.csv" in after  # drawn again below the warning
    log.warning("later")
    assert terminal.getvalue().endswith("\njerkcount: WARNING: later\n")
