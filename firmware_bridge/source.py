"""The one interface every live sample source implements (serial, BLE, replay, fakes).

A :class:`Source` is asyncio-based::

    info = await source.open()     # connect, configure, start streaming -> SourceInfo
    batch = await source.read()    # next DecodedBatch (may be empty after a short wait)
    await source.close()

``open`` and ``read`` raise :class:`LinkLost` when the link cannot be established or
drops (unplug, BLE disconnect, board silent for ``stall_s`` seconds). The recorder then
calls ``close()`` and, after a back-off, ``open()`` again on the same object: ``open``
must be callable again after ``close`` (re-connect, re-send the start command, reset
the decoder).

Batch times are what the decoders give: device clock seconds (Polar PMD, text with a
time column) or host arrival seconds (everything else). The recorder maps them to
host epoch seconds (see :mod:`firmware_bridge.recorder_clock`).

Errors: only :class:`LinkLost` means "retry later". Any other exception from ``open``
(a :class:`~firmware_bridge.errors.ProtocolError` such as "no Bluetooth adapter" or "the
board lacks the service", a bad option) is fatal: the recorder stops and says why.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from dataclasses import dataclass, field

from firmware_bridge.samples import DecodedBatch

__all__ = ["DecodedBatch", "LinkLost", "Source", "SourceInfo"]


@dataclass(frozen=True)
class SourceInfo:
    """What an opened source reports about the device.

    device : human-readable device id (port path, BLE address/name, file path).
    profile : protocol/profile name (``witmotion``, ``text:csv``, ``polar``...).
    rate_hz : nominal sample rate in Hz.
    range_g : full-scale range in g, ``None`` when unknown.
    extra : further ``key -> value`` facts written as recording metadata.
    """

    device: str
    profile: str
    rate_hz: float
    range_g: float | None = None
    extra: dict[str, str] = field(default_factory=dict)


class LinkLost(Exception):
    """The link dropped (unplug, BLE disconnect, board silent for ``stall_s``)."""


class Source(ABC):
    """An asyncio source of decoded accelerometer samples.

    ``description`` is a short human-readable name (for logs and the live line).
    """

    description: str = "source"
    restarts: int = 0
    """Times the source resumed a stream the board had stopped on its own, on the same
    link (a Polar's unprompted ``01 02``): the samples have a gap, the link had none.
    Counted by the source; the recorder notes each as a gap and waits out the board's
    start-up (:attr:`startup_s` of a BLE source) as after a connection."""
    absolute_time: bool = False
    """True when batch times are already epoch seconds UTC, kept as they are (replay).

    False (the default, every live source): times are device or arrival seconds that
    the recorder maps to host epoch seconds.
    """

    @abstractmethod
    async def open(self) -> SourceInfo:
        """Connect, configure and start streaming; raises :class:`LinkLost` if it cannot."""

    @abstractmethod
    async def read(self) -> DecodedBatch:
        """Next decoded samples (possibly empty after a short wait, at most ~0.5 s).

        Raises :class:`LinkLost`; a finite source (replay) raises :class:`EOFError` at its end.
        """

    @abstractmethod
    async def close(self) -> None:
        """Stop streaming and release the link; safe to call twice or after a failure."""
