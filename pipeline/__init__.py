"""jerkcount signal pipeline: recordings, readers/writers, detector, scoring."""

from importlib.metadata import PackageNotFoundError, version

try:
    __version__ = version("jerkcount")
except PackageNotFoundError:  # pragma: no cover - running from a source tree
    __version__ = "0.0.0+unknown"
