"""Nordic UART Service (NUS): generic text lines over BLE.

GATT: service :data:`NUS_SERVICE_UUID`; TX to host (notify) :data:`NUS_TX_UUID`; RX
from host (write) :data:`NUS_RX_UUID`. Used by Adafruit Bluefruit, ESP32/nRF sketches
and Espruino Puck.js (``Bluetooth.println(JSON.stringify({acc: Puck.accel().acc}))``).

The payload is the same text lines as over USB serial (every format of
:mod:`firmware_bridge.serial_text`, default: recognised from the first lines); lines
arrive split across notifications (20 bytes each at the default MTU) and are
buffered to the newline. Without a time column samples are stamped on arrival: pass
``arrival_time`` to :meth:`NusDecoder.feed`.

A board sends only what it writes after the host enabled notifications, and a sketch
that prints a line in pieces (``print(x); print(","); ...``) is usually mid-line then:
after every (re)connection (:meth:`NusDecoder.reset`) the bytes up to the first line
end are discarded, as on a re-opened serial port.
"""

from __future__ import annotations

from firmware_bridge.serial_text import TextLineDecoder

NUS_SERVICE_UUID = "6e400001-b5a3-f393-e0a9-e50e24dcca9e"
NUS_RX_UUID = "6e400002-b5a3-f393-e0a9-e50e24dcca9e"
NUS_TX_UUID = "6e400003-b5a3-f393-e0a9-e50e24dcca9e"


class NusDecoder(TextLineDecoder):
    """Text lines from NUS TX notifications: ``NusDecoder(sample_rate, fmt="auto")``.

    Feed each notification as it arrives; see :class:`TextLineDecoder`.
    """

    def reset(self) -> None:
        """As :meth:`TextLineDecoder.reset`, and skip to the next line end.

        Called on every (re)connection: the first notification can start inside a
        line, whose tail would parse as a sample with a value that lost its leading
        digits or sign (``-0.0123,…`` seen as ``.0123,…``). At most one sample is lost
        per connection."""
        super().reset()
        self._mid_line = True
