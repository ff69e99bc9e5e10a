"""Encode samples as WitMotion serial (11-byte) and BLE (20-byte) packets.

Acceleration counts = round(g / 16 * 32768), clipped to int16 (so +16 g reads back as
32767 counts).
"""

from __future__ import annotations

import struct

import numpy as np


def _acc_counts(acc: np.ndarray) -> np.ndarray:
    a = np.asarray(acc, dtype=np.float64).reshape(-1, 3)
    return np.clip(np.round(a * (32768.0 / 16.0)), -32768, 32767).astype(np.int64)


def serial_packet(kind: int, values: tuple[int, int, int, int]) -> bytes:
    """``55 kind`` + 4 x int16 LE + checksum."""
    body = bytes([0x55, kind]) + struct.pack("<hhhh", *values)
    return body + bytes([sum(body) & 0xFF])


def encode_witmotion_serial(
    acc: np.ndarray, *, temperature_c: float = 25.0, other_types: bool = False
) -> bytes:
    """One ``0x51`` packet per sample; with ``other_types`` each is followed by gyro
    (``0x52``) and angle (``0x53``) packets, as a WT901 sends by default."""
    temp = round(temperature_c * 100)
    out = bytearray()
    for x, y, z in _acc_counts(acc):
        out += serial_packet(0x51, (int(x), int(y), int(z), temp))
        if other_types:
            out += serial_packet(0x52, (int(z), int(y), int(x), temp))
            out += serial_packet(0x53, (0x5555, 0x5155, int(x), 0))
    return bytes(out)


def encode_witmotion_ble(
    acc: np.ndarray, gyro: np.ndarray | None = None, angle: np.ndarray | None = None
) -> bytes:
    """One 20-byte ``55 61`` packet per sample (gyro deg/s, angle deg; zeros if None)."""
    counts = _acc_counts(acc)
    n = len(counts)
    g = np.zeros((n, 3)) if gyro is None else np.asarray(gyro, dtype=np.float64)
    a = np.zeros((n, 3)) if angle is None else np.asarray(angle, dtype=np.float64)
    gc = np.clip(np.round(g * 32768.0 / 2000.0), -32768, 32767).astype(np.int64)
    ac = np.clip(np.round(a * 32768.0 / 180.0), -32768, 32767).astype(np.int64)
    out = bytearray()
    for k in range(n):
        out += b"\x55\x61" + struct.pack("<9h", *counts[k], *gc[k], *ac[k])
    return bytes(out)
