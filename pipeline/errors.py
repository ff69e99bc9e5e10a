"""The project's own input error: one line, naming the file (and line)."""

from __future__ import annotations

from pathlib import Path


class InputError(Exception):
    """Bad input the user must fix; the CLI prints ``str(err)`` and exits 2.

    Parameters
    ----------
    path : the file the problem is in (or ``None`` when there is no file: then the
        message is the whole line, naming the option or device it is about).
    message : what is wrong, one line, no trailing period needed.
    line : 1-based line number in the file, when it applies.
    """

    def __init__(self, path: str | Path | None, message: str, line: int | None = None) -> None:
        self.path = None if path is None else str(path)
        self.line = line
        self.message = message.replace("\n", " ").strip()
        super().__init__(str(self))

    def __str__(self) -> str:
        if self.path is None and self.line is None:
            return self.message  # a setting, not a file (the message names what it is)
        where = self.path or "<input>"
        if self.line is not None:
            where = f"{where}:{self.line}"
        return f"{where}: {self.message}"


def describe_error(err: BaseException) -> str:
    """One line for an input error: ``FILE[:LINE]: message`` as :class:`InputError`
    gives it; file-system and decoding errors in the same shape."""
    if isinstance(err, InputError):
        text = str(err)
    elif isinstance(err, OSError):
        where = err.filename if err.filename is not None else "<input>"
        text = f"{where}: {err.strerror or type(err).__name__}"
    elif isinstance(err, UnicodeDecodeError):
        text = f"<input>: not a text file ({err.reason})"
    else:
        text = f"{type(err).__name__}: {err}"
    return " ".join(text.split())
