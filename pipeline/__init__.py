"""jerkcount signal pipeline: recordings, readers/writers, detector, scoring."""

#: The release, also the distribution's version (``pyproject.toml`` reads it from here):
#: a plain string, so that starting a command costs no ``importlib.metadata`` (26 ms).
__version__ = "0.4.6"
