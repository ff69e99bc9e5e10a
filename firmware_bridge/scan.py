"""``jerkcount scan``: serial ports and nearby BLE boards jerkcount can record from."""

from __future__ import annotations

import asyncio
import logging
from dataclasses import dataclass
from typing import Any

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class SerialPortInfo:
    """One serial port: ``device`` path, ``description`` and ``hwid`` as pyserial sees them."""

    device: str
    description: str
    hwid: str


def list_serial_ports() -> list[SerialPortInfo]:
    """The serial ports of this machine (``serial.tools.list_ports``), sorted by path."""
    from serial.tools import list_ports

    found = [SerialPortInfo(p.device, p.description or "n/a", p.hwid or "n/a")
             for p in list_ports.comports()]  # fmt: skip
    return sorted(found, key=lambda p: p.device)


def scan_ble(timeout: float) -> tuple[list[Any], str | None]:
    """``(boards, problem)``: the BLE boards heard, or a one-line reason none could be."""
    try:
        from firmware_bridge.ble_scan import scan_boards
    except ImportError as err:
        return [], f"BLE scanning not available ({err})"
    try:
        return asyncio.run(scan_boards(timeout)), None
    except Exception as err:  # noqa: BLE001 - any adapter failure becomes one line
        from firmware_bridge.ble_client import NoBluetoothAdapter

        if isinstance(err, NoBluetoothAdapter):
            return [], str(err) or "no Bluetooth adapter"
        log.debug("BLE scan failed", exc_info=True)
        return [], f"scan failed: {type(err).__name__}: {err}".strip()
