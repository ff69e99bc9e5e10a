"""The small BLE client interface the BLE source talks to, and its bleak-backed adapter.

:class:`BleClient` is all :class:`~firmware_bridge.ble_source.BleSource` needs from a
radio: connect, disconnect, ``is_connected``, ``start_notify(uuid, callback)``,
``write(uuid, data, response)``, ``read(uuid)`` and a disconnect callback given when the
client is made (``ClientFactory(address_or_name, on_disconnect)``). Two implementations:

- :class:`BleakBleClient`: a thin adapter over :class:`bleak.BleakClient` (real radio);
- :class:`sim.fake_ble.FakeBleClient`: a scripted board for tests and demonstrations.

Error contract (what implementations raise, whatever the backend):

- :class:`BleLinkError` (a :class:`ConnectionError`): the board cannot be reached or the
  link failed during an operation: worth retrying after a back-off;
- :class:`CharacteristicNotFound`: the board lacks a service/characteristic of the
  profile (wrong profile, micro:bit program without the accelerometer service):
  retrying will not help;
- :class:`NoBluetoothAdapter`: this computer has no usable Bluetooth adapter (none, off,
  no BlueZ/D-Bus): retrying will not help.

UUIDs are always full 128-bit strings (WitMotion's base ends ``9a34fb``, not the
standard ``9b34fb``: 16-bit shorthands would address the wrong characteristic).
"""

from __future__ import annotations

import logging
import re
from collections.abc import Callable
from typing import Any, Protocol, runtime_checkable

from firmware_bridge.errors import ProtocolError

log = logging.getLogger(__name__)

NotifyCallback = Callable[[bytes], None]
"""Called with the bytes of each notification/indication, in arrival order."""

DisconnectCallback = Callable[[], None]
"""Called once when an established connection drops (not after :meth:`BleClient.disconnect`
was requested by the host)."""

NO_ADAPTER_MESSAGE = (
    "no usable Bluetooth adapter: plug in or switch on Bluetooth "
    "(Linux: bluetoothd and D-Bus must be running)"
)

#: D-Bus error names that mean "no usable adapter": BlueZ not on the bus, adapter off.
_NO_ADAPTER_DBUS_ERRORS = frozenset(
    {"org.freedesktop.DBus.Error.ServiceUnknown", "org.bluez.Error.NotReady"}
)

_MAC = re.compile(r"^[0-9A-Fa-f]{2}(:[0-9A-Fa-f]{2}){5}$")
_MAC_UUID = re.compile(r"^[0-9A-Fa-f]{8}-([0-9A-Fa-f]{4}-){3}[0-9A-Fa-f]{12}$")


class BleLinkError(ConnectionError):
    """The board could not be reached, or the link failed during an operation."""


class CharacteristicNotFound(ProtocolError):
    """The connected board lacks a GATT service/characteristic the profile needs."""


class NoBluetoothAdapter(ProtocolError):
    """No usable Bluetooth adapter on this computer (missing, off, or no BlueZ/D-Bus)."""

    def __init__(self, detail: str = "") -> None:
        self.detail = detail
        super().__init__(NO_ADAPTER_MESSAGE + (f" [{detail}]" if detail else ""))


@runtime_checkable
class BleClient(Protocol):
    """A connection to one BLE board (see the module doc for the error contract)."""

    @property
    def address(self) -> str:
        """The board's address (or the name it was asked for, before connecting)."""
        ...

    @property
    def name(self) -> str | None:
        """The board's advertised name when known."""
        ...

    @property
    def is_connected(self) -> bool:
        """True while the link is up."""
        ...

    async def connect(self) -> None:
        """Find the board and connect; raises :class:`BleLinkError`."""
        ...

    async def disconnect(self) -> None:
        """Drop the link (no error if already down; the disconnect callback is not called)."""
        ...

    async def start_notify(self, uuid: str, callback: NotifyCallback) -> None:
        """Enable notifications/indications on ``uuid``; ``callback(data)`` per message."""
        ...

    async def write(self, uuid: str, data: bytes, response: bool = True) -> None:
        """Write ``data`` to ``uuid`` (with a write response when ``response``)."""
        ...

    async def read(self, uuid: str) -> bytes:
        """Read the value of ``uuid``."""
        ...


ClientFactory = Callable[[str, DisconnectCallback], BleClient]
"""``factory(address_or_name, on_disconnect) -> BleClient`` (a new, unconnected client)."""


def looks_like_address(text: str) -> bool:
    """True for a MAC address ``AA:BB:..`` or a macOS CoreBluetooth device UUID."""
    return bool(_MAC.match(text) or _MAC_UUID.match(text))


def no_adapter_error(exc: BaseException) -> NoBluetoothAdapter | None:
    """The :class:`NoBluetoothAdapter` that ``exc`` (raised by bleak) stands for, or None.

    Recognises bleak's ``BleakBluetoothNotAvailableError``, the ``BleakError`` messages
    of older versions ("No Bluetooth adapters found", "No powered Bluetooth adapters",
    "Bluetooth device is turned off"), a missing system D-Bus socket
    (``FileNotFoundError``), BlueZ not running on D-Bus (``ServiceUnknown``) and a
    powered-off adapter (``org.bluez.Error.NotReady``).

    Every other D-Bus error is the link's, judged by its error name, never its text:
    bleak's ``BleakDBusError`` reads ``[org.bluez.Error.Failed]
    le-connection-abort-by-local``, ``[org.bluez.Error.InProgress] …`` for the connection
    attempts BlueZ aborts (common on a Raspberry Pi), and those must be retried.
    """
    from bleak import exc as bexc  # local: keep the module importable without a radio stack

    not_available = getattr(bexc, "BleakBluetoothNotAvailableError", None)
    if not_available is not None and isinstance(exc, not_available):
        return NoBluetoothAdapter(str(exc) or type(exc).__name__)
    if isinstance(exc, bexc.BleakDBusError):
        if exc.dbus_error in _NO_ADAPTER_DBUS_ERRORS:
            return NoBluetoothAdapter(str(exc))
        return None
    text = str(exc).lower()
    if isinstance(exc, bexc.BleakError) and ("adapter" in text or "turned off" in text):
        return NoBluetoothAdapter(str(exc))
    if isinstance(exc, FileNotFoundError):  # /run/dbus/system_bus_socket missing
        return NoBluetoothAdapter(f"no system D-Bus: {exc}")
    return None


class BleakBleClient:
    """:class:`BleClient` over :class:`bleak.BleakClient` (thin adapter, no logic of its own).

    ``connect`` scans for the board first (by address, or by advertised name when
    ``address_or_name`` is not an address): BlueZ forgets a device after a disconnect,
    so every (re)connect rediscovers it. ``scan_timeout`` bounds that scan,
    ``connect_timeout`` the connection itself; ``pair`` asks the OS to pair (micro:bit
    programs that require pairing).
    """

    def __init__(
        self,
        address_or_name: str,
        on_disconnect: DisconnectCallback | None = None,
        *,
        scan_timeout: float = 10.0,
        connect_timeout: float = 20.0,
        pair: bool = False,
    ) -> None:
        self._target = address_or_name
        self._on_disconnect = on_disconnect
        self.scan_timeout = scan_timeout
        self.connect_timeout = connect_timeout
        self.pair = pair
        self._client: Any = None
        self._name: str | None = None if looks_like_address(address_or_name) else address_or_name
        self._address = address_or_name
        self._closing = False

    @property
    def address(self) -> str:
        return self._address

    @property
    def name(self) -> str | None:
        return self._name

    @property
    def is_connected(self) -> bool:
        return bool(self._client is not None and self._client.is_connected)

    def _wrap(self, exc: BaseException, what: str) -> Exception:
        """Map a bleak/OS error to the interface's error types."""
        from bleak import exc as bexc

        no_adapter = no_adapter_error(exc)
        if no_adapter is not None:
            return no_adapter
        if isinstance(exc, bexc.BleakCharacteristicNotFoundError):
            return CharacteristicNotFound(f"{what}: {exc}")
        return BleLinkError(f"{what} ({self._target}): {type(exc).__name__}: {exc}")

    def _dropped(self, _client: Any) -> None:
        if not self._closing and self._on_disconnect is not None:
            self._on_disconnect()

    async def connect(self) -> None:
        from bleak import BleakClient, BleakScanner
        from bleak.exc import BleakError

        try:
            if looks_like_address(self._target):
                device = await BleakScanner.find_device_by_address(
                    self._target, timeout=self.scan_timeout
                )
            else:
                device = await BleakScanner.find_device_by_name(
                    self._target, timeout=self.scan_timeout
                )
        except (BleakError, OSError, TimeoutError) as exc:
            raise self._wrap(exc, "scan") from exc
        if device is None:
            raise BleLinkError(f"board {self._target!r} not found (is it on and in range?)")
        self._address = device.address
        self._name = device.name or self._name
        self._closing = False
        self._client = BleakClient(
            device,
            disconnected_callback=self._dropped,
            timeout=self.connect_timeout,
            pair=self.pair,
        )
        try:
            await self._client.connect()
        except (BleakError, OSError, TimeoutError) as exc:
            raise self._wrap(exc, "connect") from exc
        log.info("connected to %s (%s)", self._name or "?", self._address)

    async def disconnect(self) -> None:
        self._closing = True
        if self._client is None:
            return
        try:
            await self._client.disconnect()
        except Exception as exc:  # best effort on the way out
            log.debug("disconnect %s: %s", self._address, exc)

    async def start_notify(self, uuid: str, callback: NotifyCallback) -> None:
        from bleak.exc import BleakError

        if self._client is None:
            raise BleLinkError("not connected")

        def relay(_char: Any, data: bytearray) -> None:
            callback(bytes(data))

        try:
            await self._client.start_notify(uuid, relay)
        except (BleakError, OSError, TimeoutError) as exc:
            raise self._wrap(exc, f"enable notifications on {uuid}") from exc

    async def write(self, uuid: str, data: bytes, response: bool = True) -> None:
        from bleak.exc import BleakError

        if self._client is None:
            raise BleLinkError("not connected")
        try:
            await self._client.write_gatt_char(uuid, data, response=response)
        except (BleakError, OSError, TimeoutError) as exc:
            raise self._wrap(exc, f"write {uuid}") from exc

    async def read(self, uuid: str) -> bytes:
        from bleak.exc import BleakError

        if self._client is None:
            raise BleLinkError("not connected")
        try:
            return bytes(await self._client.read_gatt_char(uuid))
        except (BleakError, OSError, TimeoutError) as exc:
            raise self._wrap(exc, f"read {uuid}") from exc


def bleak_client_factory(address_or_name: str, on_disconnect: DisconnectCallback) -> BleakBleClient:
    """The default :data:`ClientFactory`: a :class:`BleakBleClient`."""
    return BleakBleClient(address_or_name, on_disconnect)
