"""Encode samples as Nordic UART Service notifications: text lines cut at the MTU."""

from __future__ import annotations

import numpy as np

from firmware_bridge.serial_text import TextFormat
from sim.encoders.serial_text import encode_text_lines


def encode_nus_notifications(
    acc: np.ndarray,
    fmt: TextFormat | str = "puck",
    *,
    t: np.ndarray | None = None,
    payload_size: int = 20,
    newline: str = "\n",
) -> list[bytes]:
    """Lines in ``fmt`` (Puck.js JSON by default, ``\\n`` endings, as
    ``Bluetooth.println`` sends them) cut into notifications of ``payload_size`` bytes
    (20 at the default ATT MTU of 23), so lines span notifications."""
    data = encode_text_lines(acc, fmt, t=t, newline=newline)
    return [data[i : i + payload_size] for i in range(0, len(data), payload_size)]
