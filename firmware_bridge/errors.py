"""Errors raised by the protocol decoders.

Byte-stream decoders (``feed``) never raise on bad input: they skip and count it in
their :class:`~firmware_bridge.samples.DecoderStats`. The pure single-message parsers
(``parse_*``) raise :class:`FrameError`; bad options raise :class:`ConfigurationError`;
a Polar control point answering with an error status raises :class:`ControlPointError`
from :meth:`~firmware_bridge.polar_pmd.PmdResponse.raise_for_status`.
"""

from __future__ import annotations


class ProtocolError(Exception):
    """Base class of every error raised by :mod:`firmware_bridge` decoders."""


class FrameError(ProtocolError):
    """One message (notification, packet, line) is malformed or not of the expected kind."""


class ConfigurationError(ProtocolError, ValueError):
    """An invalid decoder/command option (unknown text format, unsupported rate...)."""


class ControlPointError(ProtocolError):
    """A device rejected a command (Polar PMD control point status != 0).

    ``opcode``, ``measurement_type`` and ``status`` are the fields of the response;
    ``status_name`` is the Polar name of the status code.
    """

    def __init__(self, opcode: int, measurement_type: int, status: int, status_name: str) -> None:
        self.opcode = opcode
        self.measurement_type = measurement_type
        self.status = status
        self.status_name = status_name
        super().__init__(
            f"device rejected opcode {opcode} for measurement {measurement_type}: "
            f"status {status} ({status_name})"
        )
