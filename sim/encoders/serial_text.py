"""Encode samples as accelerometer text lines in every format of
:mod:`firmware_bridge.serial_text` (presets or option strings), plus boot text.

Quantisation: values are printed with ``decimals`` digits in the format's unit
(default 4 for g, 1 for mg, 3 for m/s², integers for raw counts); time columns print
``t_ms``/``t_us`` as integers and ``t_s`` with 6 decimals.
"""

from __future__ import annotations

import json

import numpy as np

from firmware_bridge.serial_text import TextFormat, parse_text_format

BOOT_TEXT = (
    b"\r\nets Jun  8 2016 00:22:57\r\n"
    b"rst:0x1 (POWERON_RESET),boot:0x13 (SPI_FAST_FLASH_BOOT)\r\n"
    b"load:0x3fff0018,len:4\r\n"
    b"Adafruit MPU6050 test!\r\nMPU6050 Found!\r\nAccelerometer range set to: +-8G\r\n"
)
"""What an ESP32 prints after a reset, before its sketch sends data."""

_DEFAULT_DECIMALS = {"g": 4, "mg": 1, "ms2": 3}
_TIME_SCALE = {"t_s": 1.0, "t_ms": 1e3, "t_us": 1e6}


def default_decimals(fmt: TextFormat) -> int:
    """Digits after the point used by default for ``fmt``'s unit (0 = integers)."""
    return _DEFAULT_DECIMALS.get(fmt.unit, 0)


def _resolve(fmt: TextFormat | str) -> TextFormat:
    resolved = parse_text_format(fmt)
    if resolved is None:
        raise ValueError("cannot encode 'auto': choose a text format")
    return resolved


def encode_text_lines(
    acc: np.ndarray,
    fmt: TextFormat | str = "csv",
    *,
    t: np.ndarray | None = None,
    decimals: int | None = None,
    header: bool = False,
    newline: str = "\r\n",
) -> bytes:
    """Text lines for ``acc`` ``(n, 3)`` g in format ``fmt``.

    t : ``(n,)`` device seconds, required when the format has a time column.
    header : start with a header line naming the columns (delimited formats).
    """
    f = _resolve(fmt)
    acc = np.asarray(acc, dtype=np.float64).reshape(-1, 3)
    d = default_decimals(f) if decimals is None else decimals
    vals = acc / f.g_per_unit
    if f.has_time and t is None:
        raise ValueError(f"format {f.name!r} has a time column: pass t")
    sep = f.delimiter or "\t"
    lines: list[str] = []
    if header and f.kind == "delimited":
        lines.append(sep.join(c if c != "_" else "x" for c in f.columns))

    def num(v: float) -> str:
        return f"{v:.{d}f}" if d > 0 else str(int(round(v)))

    for k, row in enumerate(vals):
        if f.kind == "json":
            obj: dict = {}
            for path, v in zip(f.columns, row, strict=True):
                node = obj
                *parents, leaf = path.split(".")
                for p in parents:
                    node = node.setdefault(p, {})
                node[leaf] = float(num(v)) if d > 0 else int(round(v))
            lines.append(json.dumps(obj, separators=(",", ":")))
            continue
        if f.kind == "keyed":
            fields = [f"{key}:{num(v)}" for key, v in zip(f.columns, row, strict=True)]
            if f.name.startswith("adafruit"):
                fields += ["GyroX:0.00", "GyroY:0.00", "GyroZ:0.00"]
            text = sep.join(fields)
        else:
            axis = dict(zip(("ax", "ay", "az"), row, strict=True))
            fields = []
            for c in f.columns:
                if c in axis:
                    fields.append(num(axis[c]))
                elif c in _TIME_SCALE:
                    tv = float(t[k]) * _TIME_SCALE[c]  # type: ignore[index]
                    fields.append(f"{tv:.6f}" if c == "t_s" else str(int(round(tv))))
                else:
                    fields.append("0")
            text = sep.join(fields)
        if f.prefix:  # the decoder strips blanks after the prefix
            text = f.prefix + ("\t" if f.delimiter in (None, "\t") else " ") + text
        lines.append(text)
    return "".join(line + newline for line in lines).encode("ascii")
