"""Find nearby BLE boards jerkcount can read (``jerkcount scan``).

A board is recognised by an advertised service UUID of a profile (micro:bit, WitMotion,
NUS boards such as Adafruit Bluefruit advertise theirs) or, since many boards advertise
only a name, by a known name prefix (``Polar H10 …``, ``BBC micro:bit …``,
``WT901BLE…``, ``Puck.js …``): see :data:`~firmware_bridge.ble_profiles.PROFILES`.
Service UUIDs win over names. Scanning uses bleak unless another ``scanner`` is given.

Without a usable adapter :func:`scan_boards` raises
:class:`~firmware_bridge.ble_client.NoBluetoothAdapter` whose message is one line::

    no usable Bluetooth adapter: plug in or switch on Bluetooth (Linux: bluetoothd and
    D-Bus must be running) [<what the OS said>]
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable, Iterable
from dataclasses import dataclass, field

from firmware_bridge.ble_client import BleLinkError, NoBluetoothAdapter, no_adapter_error
from firmware_bridge.ble_profiles import PROFILE_NAMES, PROFILES

log = logging.getLogger(__name__)

__all__ = [
    "Advertisement",
    "BoardInfo",
    "NoBluetoothAdapter",
    "Scanner",
    "bleak_scanner",
    "recognise_profile",
    "scan_boards",
]


@dataclass(frozen=True)
class Advertisement:
    """One advertising device as a scanner reports it."""

    address: str
    name: str | None = None
    rssi: int | None = None
    service_uuids: tuple[str, ...] = field(default_factory=tuple)


@dataclass(frozen=True)
class BoardInfo:
    """A board jerkcount can record from: ``--source ble:<address> --profile <profile>``."""

    name: str
    address: str
    rssi: int | None
    profile: str


Scanner = Callable[[float], Awaitable[list[Advertisement]]]
"""``await scanner(timeout_s)`` -> every advertisement heard in that time."""


def recognise_profile(name: str | None, service_uuids: Iterable[str] = ()) -> str | None:
    """The profile of a board from its advertisement, or ``None`` if not recognised
    (also for a board named like one that sends no acceleration: ``not_prefixes``)."""
    uuids = {u.lower() for u in service_uuids}
    for profile in PROFILE_NAMES:
        if name and any(name.startswith(p) for p in PROFILES[profile].not_prefixes):
            return None
        if PROFILES[profile].service_uuid in uuids:
            return profile
    if name:
        for profile in PROFILE_NAMES:
            if any(name.startswith(p) for p in PROFILES[profile].name_prefixes):
                return profile
    return None


async def bleak_scanner(timeout: float) -> list[Advertisement]:
    """Scan with bleak for ``timeout`` seconds; raises :class:`NoBluetoothAdapter`."""
    from bleak import BleakScanner
    from bleak.exc import BleakError

    try:
        found = await BleakScanner.discover(timeout=timeout, return_adv=True)
    except (BleakError, OSError) as exc:
        no_adapter = no_adapter_error(exc)
        if no_adapter is not None:
            raise no_adapter from exc
        raise BleLinkError(f"Bluetooth scan failed: {type(exc).__name__}: {exc}") from exc
    return [
        Advertisement(
            address=device.address,
            name=adv.local_name or device.name,
            rssi=adv.rssi,
            service_uuids=tuple(adv.service_uuids or ()),
        )
        for device, adv in found.values()
    ]


async def scan_boards(timeout: float = 5.0, *, scanner: Scanner | None = None) -> list[BoardInfo]:
    """Boards heard within ``timeout`` seconds that jerkcount can read, strongest first.

    Unrecognised devices are left out. Raises :class:`NoBluetoothAdapter` when this
    computer has no usable Bluetooth adapter.
    """
    adverts = await (scanner or bleak_scanner)(timeout)
    boards: dict[str, BoardInfo] = {}
    for adv in adverts:
        profile = recognise_profile(adv.name, adv.service_uuids)
        if profile is None:
            continue
        board = BoardInfo(adv.name or "", adv.address, adv.rssi, profile)
        old = boards.get(adv.address)
        if old is None or (board.rssi or -999) > (old.rssi or -999):
            boards[adv.address] = board
    log.info("scan: %d advertisements, %d boards", len(adverts), len(boards))
    return sorted(
        boards.values(), key=lambda b: (-(b.rssi if b.rssi is not None else -999), b.name)
    )
