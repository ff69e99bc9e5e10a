"""Encode samples as Polar PMD ACC data frames and control point messages.

Inverse of :class:`firmware_bridge.polar_pmd.PmdAccDecoder`. Frame layout::

    [02][u64 LE ns since 2000-01-01 of the last sample][frame type][samples]

Quantisation: uncompressed types 0/1/2 and compressed ``0x81`` carry integer mG
(x ``factor`` for ``0x81``); compressed ``0x80`` carries counts of ``factor`` g.
Values are rounded to the nearest count and clipped to the field's range.
"""

from __future__ import annotations

import math
import struct
from collections.abc import Mapping

import numpy as np

POLAR_EPOCH_UNIX = 946_684_800
_RAW_BYTES = {0: 1, 1: 2, 2: 3}


def _counts(acc_g: np.ndarray, frame_type: int, factor: float, resolution: int) -> np.ndarray:
    if frame_type & 0x80:
        per_count_g = factor if frame_type & 0x7F == 0 else factor / 1000.0
        bits = resolution
    else:
        per_count_g = 1e-3
        bits = 8 * _RAW_BYTES[frame_type]
    lim = 2 ** (bits - 1)
    return np.clip(np.round(acc_g / per_count_g), -lim, lim - 1).astype(np.int64)


def _pack_bits(values: list[int], width: int) -> bytes:
    """Two's-complement ``width``-bit fields, least significant bit first."""
    stream = 0
    mask = (1 << width) - 1
    for k, v in enumerate(values):
        stream |= (v & mask) << (k * width)
    return stream.to_bytes(math.ceil(len(values) * width / 8), "little")


def _signed_bits(v: int) -> int:
    """Bits of the smallest two's-complement field holding ``v``."""
    return (v if v >= 0 else -v - 1).bit_length() + 1


def _delta_payload(counts: np.ndarray, resolution: int, bit_width: int | None) -> bytes:
    size = math.ceil(resolution / 8)
    out = bytearray()
    for v in counts[0]:
        out += int(v).to_bytes(size, "little", signed=True)
    deltas = np.diff(counts, axis=0)
    for start in range(0, len(deltas), 255):
        block = deltas[start : start + 255]
        need = max((_signed_bits(int(d)) for d in block.ravel()), default=1)
        width = need if bit_width is None else bit_width
        if width < need:
            raise ValueError(f"deltas need {need} bits, bit_width={bit_width}")
        out += bytes([width, len(block)]) + _pack_bits([int(d) for d in block.ravel()], width)
    return bytes(out)


def encode_pmd_frames(
    t: np.ndarray,
    acc: np.ndarray,
    *,
    samples_per_frame: int = 36,
    frame_type: int = 0x01,
    bit_width: int | None = None,
    factor: float = 1.0,
    resolution: int = 16,
    measurement: int = 2,
) -> list[bytes]:
    """PMD data frames of up to ``samples_per_frame`` samples each.

    t : ``(n,)`` device-clock Unix seconds; each frame is stamped with its last
        sample's time (rounded to the ns). acc : ``(n, 3)`` g.
    frame_type : 0, 1, 2 (int8/16/24 mG) or 0x80 / 0x81 (delta-compressed, blocks of
        at most 255 samples, ``bit_width`` per block or the smallest that fits).
    """
    t = np.asarray(t, dtype=np.float64)
    acc = np.asarray(acc, dtype=np.float64).reshape(-1, 3)
    if frame_type not in (0, 1, 2, 0x80, 0x81):
        raise ValueError(f"unsupported ACC frame type {frame_type:#x}")
    counts = _counts(acc, frame_type, factor, resolution)
    frames = []
    for i in range(0, len(t), samples_per_frame):
        c = counts[i : i + samples_per_frame]
        ts = round((float(t[i + len(c) - 1]) - POLAR_EPOCH_UNIX) * 1e9)
        head = bytes([measurement]) + struct.pack("<Q", ts) + bytes([frame_type])
        if frame_type & 0x80:
            body = _delta_payload(c, resolution, bit_width)
        else:
            size = _RAW_BYTES[frame_type]
            body = b"".join(int(v).to_bytes(size, "little", signed=True) for v in c.ravel())
        frames.append(head + body)
    return frames


def encode_pmd_response(
    opcode: int, measurement: int = 2, status: int = 0, params: bytes = b"", more: bool = False
) -> bytes:
    """Control point response ``F0 opcode type status more params``."""
    return bytes([0xF0, opcode, measurement, status, int(more)]) + params


def encode_pmd_stopped(measurement: int = 2) -> bytes:
    """Unprompted ``01 type``: the device stopped the stream."""
    return bytes([0x01, measurement])


def encode_pmd_settings(settings: Mapping[int, list[float]]) -> bytes:
    """Settings ``(id, count, values LE)...`` as in a get-settings response."""
    sizes = {0: 2, 1: 2, 2: 2, 3: 4, 4: 1}
    out = bytearray()
    for sid, values in settings.items():
        out += bytes([sid, len(values)])
        for v in values:
            out += struct.pack("<f", v) if sid == 5 else int(v).to_bytes(sizes[sid], "little")
    return bytes(out)
