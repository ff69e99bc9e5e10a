"""scan_boards with a fake scanner; the missing-adapter message; the bleak adapter's error
mapping (bleak patched: no radio needed)."""

from __future__ import annotations

import asyncio

import numpy as np
import pytest
from bleak.exc import (
    BleakBluetoothNotAvailableError,
    BleakBluetoothNotAvailableReason,
    BleakError,
)

from firmware_bridge.ble_client import (
    BleakBleClient,
    BleLinkError,
    NoBluetoothAdapter,
    looks_like_address,
)
from firmware_bridge.ble_scan import (
    Advertisement,
    BoardInfo,
    bleak_scanner,
    recognise_profile,
    scan_boards,
)
from firmware_bridge.ble_source import BleSource
from firmware_bridge.errors import ProtocolError
from firmware_bridge.source import LinkLost
from sim.fake_ble import FakeBleBoard, fake_scanner


def _board(profile: str, address: str, rssi: int) -> FakeBleBoard:
    t = 1.7e9 + np.arange(10) / 50.0
    return FakeBleBoard(profile, t, np.zeros((10, 3)), address=address, rssi=rssi)


def test_scan_recognises_each_profile_by_service_or_name() -> None:
    boards = [
        _board("polar", "A0:00:00:00:00:01", -70),  # name only (advertises heart rate)
        _board("microbit", "A0:00:00:00:00:02", -50),  # name only
        _board("witmotion", "A0:00:00:00:00:03", -80),  # ffe5 service
        _board("nus", "A0:00:00:00:00:04", -65),  # NUS service
    ]
    speaker = ("0000fe2c-0000-1000-8000-00805f9b34fb",)
    nus_upper = ("6E400001-B5A3-F393-E0A9-E50E24DCCA9E",)
    others = [
        Advertisement("B0:00:00:00:00:01", "JBL Flip 5", -40, speaker),
        Advertisement("B0:00:00:00:00:02", None, -30),
        # a board advertising only the NUS service, with an unknown name
        Advertisement("B0:00:00:00:00:03", "my-esp32", -90, nus_upper),
        # heard twice: the stronger reading wins
        Advertisement("A0:00:00:00:00:01", "Polar H10 0A1B2C3D", -55),
    ]
    found = asyncio.run(scan_boards(1.0, scanner=fake_scanner(boards, others)))
    assert found == [
        BoardInfo("BBC micro:bit [vozat]", "A0:00:00:00:00:02", -50, "microbit"),
        BoardInfo("Polar H10 0A1B2C3D", "A0:00:00:00:00:01", -55, "polar"),
        BoardInfo("Puck.js 1a2b", "A0:00:00:00:00:04", -65, "nus"),
        BoardInfo("WT901BLE68", "A0:00:00:00:00:03", -80, "witmotion"),
        BoardInfo("my-esp32", "B0:00:00:00:00:03", -90, "nus"),
    ]


@pytest.mark.parametrize(
    ("name", "uuids", "profile"),
    [
        ("Polar Sense 1234ABCD", (), "polar"),
        ("BBC micro:bit", (), "microbit"),
        (None, ("E95D0753-251D-470A-A062-FA1922DFA9A8",), "microbit"),
        ("WT901BLE67", (), "witmotion"),
        # a WitMotion vibration sensor: vibration speed, angle, displacement, no acc
        ("WTVB01-BT50", (), None),
        ("WTVB01-BT50", ("0000ffe5-0000-1000-8000-00805f9a34fb",), None),
        ("Bangle.js 12ab", (), "nus"),
        ("Polar Loop", (), None),  # no PMD accelerometer
        ("Unknown", ("0000ffe5-0000-1000-8000-00805f9b34fb",), None),  # 9b34fb != 9a34fb
    ],
)
def test_recognise_profile(name: str | None, uuids: tuple[str, ...], profile: str | None) -> None:
    assert recognise_profile(name, uuids) == profile


@pytest.mark.parametrize(
    "exc",
    [
        BleakBluetoothNotAvailableError(
            "Bluetooth is turned off", BleakBluetoothNotAvailableReason.POWERED_OFF
        ),
        BleakError("No powered Bluetooth adapters found."),
        BleakError("Bluetooth adapter not found"),
        FileNotFoundError(2, "No such file or directory"),  # no system D-Bus
    ],
)
def test_no_adapter_gives_one_clear_line(monkeypatch: pytest.MonkeyPatch, exc: Exception) -> None:
    import bleak

    async def discover(*args: object, **kwargs: object) -> object:
        raise exc

    monkeypatch.setattr(bleak.BleakScanner, "discover", staticmethod(discover))
    with pytest.raises(NoBluetoothAdapter) as info:
        asyncio.run(scan_boards(0.1))
    msg = str(info.value)
    assert isinstance(info.value, ProtocolError)
    assert "\n" not in msg
    assert msg.startswith("no usable Bluetooth adapter: plug in or switch on Bluetooth")


def test_other_scan_failures_are_link_errors(monkeypatch: pytest.MonkeyPatch) -> None:
    import bleak

    async def discover(*args: object, **kwargs: object) -> object:
        raise BleakError("Operation already in progress")

    monkeypatch.setattr(bleak.BleakScanner, "discover", staticmethod(discover))
    with pytest.raises(BleLinkError, match="already in progress"):
        asyncio.run(bleak_scanner(0.1))


def test_bleak_scanner_maps_advertisements(monkeypatch: pytest.MonkeyPatch) -> None:
    import bleak
    from bleak.backends.device import BLEDevice
    from bleak.backends.scanner import AdvertisementData

    dev = BLEDevice("C0:00:00:00:00:01", "WT901BLE68", details=None)
    adv = AdvertisementData(
        local_name="WT901BLE68",
        manufacturer_data={},
        service_data={},
        service_uuids=["0000ffe5-0000-1000-8000-00805f9a34fb"],
        tx_power=None,
        rssi=-61,
        platform_data=(),
    )

    async def discover(timeout: float, **kwargs: object) -> object:
        assert kwargs.get("return_adv") is True
        return {dev.address: (dev, adv)}

    monkeypatch.setattr(bleak.BleakScanner, "discover", staticmethod(discover))
    found = asyncio.run(scan_boards(0.1))
    assert found == [BoardInfo("WT901BLE68", "C0:00:00:00:00:01", -61, "witmotion")]


def test_ble_source_without_adapter_fails_clearly_not_retryably(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """No adapter is not a lost link: the recorder must not retry it all night."""
    import bleak

    async def find(*args: object, **kwargs: object) -> object:
        raise FileNotFoundError(2, "No such file or directory")

    monkeypatch.setattr(bleak.BleakScanner, "find_device_by_address", staticmethod(find))
    source = BleSource("AA:BB:CC:DD:EE:FF", "polar", 200, 8)

    async def go() -> None:
        with pytest.raises(NoBluetoothAdapter):
            await source.open()

    asyncio.run(go())


def test_ble_source_board_not_found_is_a_lost_link(monkeypatch: pytest.MonkeyPatch) -> None:
    import bleak

    async def find(*args: object, **kwargs: object) -> object:
        return None

    monkeypatch.setattr(bleak.BleakScanner, "find_device_by_name", staticmethod(find))
    source = BleSource("Polar H10 0A1B2C3D", "polar", 200, 8)

    async def go() -> None:
        with pytest.raises(LinkLost, match="not found"):
            await source.open()

    asyncio.run(go())


def test_address_recognition() -> None:
    assert looks_like_address("AA:bb:CC:dd:EE:00")
    assert looks_like_address("0A1B2C3D-0000-1111-2222-333344445555")  # macOS
    assert not looks_like_address("Polar H10 0A1B2C3D")
    client = BleakBleClient("Polar H10 0A1B2C3D")
    assert client.name == "Polar H10 0A1B2C3D" and not client.is_connected
