"""Encoders: samples -> the bytes a board would send, one module per protocol.

Each is the exact inverse of the matching decoder in :mod:`firmware_bridge` (up to the
quantisation of the format), written independently of it so that round-trip tests
check one against the other. Used by the simulated boards and by tests.

- :mod:`sim.encoders.polar_pmd`: PMD data frames (uncompressed 0/1/2, delta 0x80/0x81)
  and control point replies;
- :mod:`sim.encoders.microbit`: 6-byte accelerometer notifications, period value;
- :mod:`sim.encoders.witmotion`: 11-byte serial packets, 20-byte BLE packets;
- :mod:`sim.encoders.nus`: text lines cut into NUS notifications;
- :mod:`sim.encoders.serial_text`: text lines in every supported format, boot text.
"""

from __future__ import annotations

from sim.encoders.microbit import encode_microbit_frames
from sim.encoders.nus import encode_nus_notifications
from sim.encoders.polar_pmd import encode_pmd_frames, encode_pmd_response
from sim.encoders.serial_text import BOOT_TEXT, encode_text_lines
from sim.encoders.witmotion import encode_witmotion_ble, encode_witmotion_serial


def split_notifications(data: bytes, size: int = 20) -> list[bytes]:
    """Cut a byte stream into notifications of at most ``size`` bytes (MTU 23 -> 20)."""
    if size < 1:
        raise ValueError(f"notification size must be >= 1, got {size}")
    return [data[i : i + size] for i in range(0, len(data), size)]


__all__ = [
    "BOOT_TEXT",
    "encode_microbit_frames",
    "encode_nus_notifications",
    "encode_pmd_frames",
    "encode_pmd_response",
    "encode_text_lines",
    "encode_witmotion_ble",
    "encode_witmotion_serial",
    "split_notifications",
]
