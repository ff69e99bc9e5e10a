"""Encode samples as BBC micro:bit accelerometer notifications (6 bytes, int16 LE mg)."""

from __future__ import annotations

import struct

import numpy as np


def encode_microbit_frames(acc: np.ndarray) -> list[bytes]:
    """One notification per sample: x, y, z int16 LE milli-g (rounded, clipped)."""
    mg = np.clip(np.round(np.asarray(acc, dtype=np.float64) * 1000.0), -32768, 32767)
    return [struct.pack("<hhh", *(int(v) for v in row)) for row in mg.reshape(-1, 3)]


def encode_period(period_ms: int) -> bytes:
    """Value of the period characteristic (u16 LE ms) as the board reports it."""
    return struct.pack("<H", period_ms)
