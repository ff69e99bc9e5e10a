"""Glue for the command line: parse ``--source``/``--duration``, build a source, run.

Kept out of ``cli.py`` so the commands stay thin and the logic is testable.
"""

from __future__ import annotations

import asyncio
import logging
import math
import re
from dataclasses import dataclass

from firmware_bridge.errors import ConfigurationError
from firmware_bridge.recorder import RecorderParams, RecordResult, record
from firmware_bridge.recorder_live import LiveLine
from firmware_bridge.source import Source

log = logging.getLogger(__name__)

BLE_PROFILES = ("polar", "microbit", "witmotion", "nus")
MAX_DURATION_S = 366 * 86400.0
"""The longest ``--duration``, s (366 days): anything longer is a typing slip."""
_DURATION = re.compile(r"(?:(\d+(?:\.\d+)?)h)?(?:(\d+(?:\.\d+)?)m)?(?:(\d+(?:\.\d+)?)s)?")


def parse_duration(text: str) -> float:
    """``8h``, ``90m``, ``1h30m``, ``45s`` or plain seconds -> seconds (> 0, finite,
    at most :data:`MAX_DURATION_S`); :class:`ConfigurationError` otherwise."""
    s = text.strip().lower().replace(" ", "")
    try:
        value = float(s)
    except ValueError:
        m = _DURATION.fullmatch(s)
        if not s or m is None or not any(m.groups()):
            raise ConfigurationError(
                f"duration must look like 8h, 90m, 1h30m or 45s, got {text!r}"
            ) from None
        h, mi, se = (float(g) if g else 0.0 for g in m.groups())
        value = h * 3600 + mi * 60 + se
    if not math.isfinite(value):  # 'inf', 'nan', '1e400', 400 digits and an h
        raise ConfigurationError(f"duration must be a finite time, got {text!r}")
    if not value > 0:
        raise ConfigurationError(f"duration must be > 0, got {text!r}")
    if value > MAX_DURATION_S:
        raise ConfigurationError(f"duration must be at most 366 days (8784h), got {text!r}")
    return value


@dataclass(frozen=True)
class SourceSpec:
    """``--source`` parsed: ``kind`` (``serial``/``ble``) and the rest."""

    kind: str
    target: str

    @classmethod
    def parse(cls, text: str) -> SourceSpec:
        kind, sep, target = text.partition(":")
        kind = kind.strip().lower()
        if not sep or kind not in ("serial", "ble") or not target.strip():
            raise ConfigurationError(
                f"--source must be serial:PORT[@BAUD] or ble:ADDRESS|NAME, got {text!r}"
            )
        return cls(kind, target.strip())


def make_source(
    spec: str,
    protocol: str | None = None,
    profile: str | None = None,
    rate_hz: float | None = None,
    stall_s: float = 5.0,
) -> Source:
    """The :class:`Source` for command-line options; :class:`ConfigurationError` if wrong."""
    parsed = SourceSpec.parse(spec)
    if parsed.kind == "serial":
        from firmware_bridge.serial_source import SerialProtocol, SerialSource, SerialTarget

        if profile:
            raise ConfigurationError("--profile is for ble: sources; serial takes --protocol")
        if not protocol:
            raise ConfigurationError("a serial source needs --protocol witmotion or text[:OPTIONS]")
        return SerialSource(
            SerialTarget.parse(parsed.target), SerialProtocol.parse(protocol), rate_hz, stall_s
        )
    if protocol:
        raise ConfigurationError("--protocol is for serial: sources; ble takes --profile")
    if profile not in BLE_PROFILES:
        raise ConfigurationError(f"a ble source needs --profile {'|'.join(BLE_PROFILES)}")
    try:
        from firmware_bridge.ble_source import BleSource
    except ImportError as err:
        raise ConfigurationError(f"BLE recording is not available in this install: {err}") from None
    return BleSource(parsed.target, profile, rate_hz, stall_s=stall_s)


def run_recorder(
    source: Source, params: RecorderParams, live_line: LiveLine | None = None
) -> RecordResult:
    """Run a recording to its end in a fresh event loop (Ctrl-C ends it cleanly)."""
    return asyncio.run(record(source, params, live_line))
