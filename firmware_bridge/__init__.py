"""Device protocols (pure bytes -> samples decoders), serial and BLE transports.

The decoders turn bytes into time-stamped samples in g.

Every decoder: ``feed(data: bytes, arrival_time: float | None = None) -> DecodedBatch``,
``reset()``, ``stats`` (:class:`DecoderStats`); no I/O, no threads. Errors derive from
:class:`ProtocolError`; byte-stream ``feed`` never raises on bad input, it counts it.

==========================  =====================================  ======================
protocol                    decoder                                time stamps
==========================  =====================================  ======================
Polar H10 / Verity (PMD)    :class:`PmdAccDecoder`                 device clock
micro:bit (BLE)             :class:`MicrobitAccDecoder`            arrival + period
WitMotion serial            :class:`WitmotionSerialDecoder`        arrival + 1/rate
WitMotion BLE               :class:`WitmotionBleDecoder`           arrival + 1/rate
NUS text (BLE)              :class:`NusDecoder`                    time column or arrival
serial text (USB)           :class:`SerialTextDecoder`             time column or arrival
==========================  =====================================  ======================
"""

from firmware_bridge.errors import (
    ConfigurationError,
    ControlPointError,
    FrameError,
    ProtocolError,
)
from firmware_bridge.microbit import MicrobitAccDecoder
from firmware_bridge.nus import NusDecoder
from firmware_bridge.polar_pmd import (
    PmdAccDecoder,
    PmdAccSettings,
    parse_control_point,
    pmd_start_command,
    pmd_stop_command,
)
from firmware_bridge.samples import ArrivalClock, DecodedBatch, DecoderStats
from firmware_bridge.serial_text import (
    TEXT_FORMATS,
    SerialTextDecoder,
    TextFormat,
    TextLineDecoder,
    parse_text_format,
)
from firmware_bridge.witmotion import WitmotionBleDecoder, WitmotionSerialDecoder

__all__ = [
    "TEXT_FORMATS",
    "ArrivalClock",
    "ConfigurationError",
    "ControlPointError",
    "DecodedBatch",
    "DecoderStats",
    "FrameError",
    "MicrobitAccDecoder",
    "NusDecoder",
    "PmdAccDecoder",
    "PmdAccSettings",
    "ProtocolError",
    "SerialTextDecoder",
    "TextFormat",
    "TextLineDecoder",
    "WitmotionBleDecoder",
    "WitmotionSerialDecoder",
    "parse_control_point",
    "parse_text_format",
    "pmd_start_command",
    "pmd_stop_command",
]
