"""A scripted fake BLE board behind the same :class:`~firmware_bridge.ble_client.BleClient`
interface as the bleak adapter: tests and demonstrations of the BLE source without a radio.

::

    night = simulate_night(NightConfig(hours=0.05, fs=200, seed=3))
    board = FakeBleBoard.from_night("polar", night, cues=[Cue(at=4000, kind="drop", lost=400)])
    source = BleSource(board.name, "polar", 200, 8,
                       client_factory=board.client_factory, clock=board.now)

The board behaves like the real device, byte for byte (encoders of :mod:`sim.encoders`):

- **polar**: answers control-point writes only once notifications are enabled on both
  the control point and data characteristics: start ``02 02 …`` -> ``F0 02 02 <status>
  00`` (status from ``start_statuses``, then 0; ``6`` ALREADY_IN_STATE if streaming),
  stop ``03 02`` -> ``F0 03 02 00 00``; streams PMD frames (device clock = host time +
  ``device_clock_offset``) after a successful start;
- **microbit**: the period characteristic stores what is written (``period_readback``
  overrides what reads back); streams 6-byte frames once data notifications are on;
- **witmotion**: records commands written to ``ffe9``; streams ``55 61`` packets cut
  into ``notification_size``-byte notifications once ``ffe4`` notifications are on;
- **nus**: streams text lines (``text_format``) cut into ``notification_size``-byte
  notifications once TX notifications are on; like a sketch printing a line in pieces,
  each stream starts inside a line: the line of its first sample goes out without its
  first ``nus_line_cut`` bytes (that sample is not ``sent``).

Timing: sample ``k`` is sent at its time ``t[k]`` (the board's host clock). With
``speed=1`` notifications go out in real time, with ``speed=10`` ten times faster, with
``speed=math.inf`` as fast as the event loop allows. :meth:`FakeBleBoard.now` is the
board's virtual host time: pass it as the source's ``clock`` so arrival stamps are the
same at any speed.

Faults, scripted with :class:`Cue` at a sample index (or triggered at any time with
:meth:`FakeBleBoard.drop_link` / :meth:`FakeBleBoard.send_stop`):

- ``drop``: the link drops (the client's disconnect callback runs, its writes raise
  :class:`~firmware_bridge.ble_client.BleLinkError`); ``lost`` samples pass while
  disconnected (never sent): the board stays out of reach for their duration (divided
  by ``speed``, so no real wait at ``math.inf``), then refuses ``refuse`` more
  connection attempts;
- ``stop`` (Polar): the board sends the unprompted ``01 02`` and stops streaming until
  a start command comes;
- ``stall``: the board stops sending without disconnecting (until a new connection).

Misdelivery, as host stacks do it (a notification subscribed twice, a late one):
``duplicate_every=k`` delivers every k-th notification twice (``duplicated`` counts
them); ``swap_every=k`` holds every k-th notification back and delivers it after the
next one (``late`` lists the sample ranges ``[i, j)`` of the notifications delivered
late). A notification still held back when the stream stops is never delivered.

``sent`` marks every sample whose bytes were completely delivered: after a run, the
samples a source must have produced are exactly ``acc[sent]`` (a Polar decoder drops
the late frames: ``acc[sent]`` without the ``late`` ranges).
"""

from __future__ import annotations

import asyncio
import logging
import math
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from firmware_bridge.ble_client import (
    BleLinkError,
    CharacteristicNotFound,
    DisconnectCallback,
    NotifyCallback,
)
from firmware_bridge.ble_profiles import PROFILES
from firmware_bridge.ble_scan import Advertisement, Scanner
from firmware_bridge.microbit import MICROBIT_ACC_DATA_UUID, MICROBIT_ACC_PERIOD_UUID
from firmware_bridge.nus import NUS_RX_UUID, NUS_TX_UUID
from firmware_bridge.polar_pmd import PMD_CONTROL_UUID, PMD_DATA_UUID
from firmware_bridge.witmotion import WITMOTION_BLE_NOTIFY_UUID, WITMOTION_BLE_WRITE_UUID
from sim.encoders import (
    encode_microbit_frames,
    encode_pmd_frames,
    encode_pmd_response,
    encode_text_lines,
    encode_witmotion_ble,
)
from sim.encoders.microbit import encode_period
from sim.encoders.polar_pmd import encode_pmd_settings, encode_pmd_stopped
from sim.night import SimulatedNight

log = logging.getLogger(__name__)

__all__ = ["Cue", "FakeBleBoard", "FakeBleClient", "fake_scanner"]

#: GATT characteristics of each fake board: (data/notify, other).
_CHARS: dict[str, tuple[str, str]] = {
    "polar": (PMD_DATA_UUID, PMD_CONTROL_UUID),
    "microbit": (MICROBIT_ACC_DATA_UUID, MICROBIT_ACC_PERIOD_UUID),
    "witmotion": (WITMOTION_BLE_NOTIFY_UUID, WITMOTION_BLE_WRITE_UUID),
    "nus": (NUS_TX_UUID, NUS_RX_UUID),
}
_DEFAULT_NAMES = {
    "polar": "Polar H10 0A1B2C3D",
    "microbit": "BBC micro:bit [vozat]",
    "witmotion": "WT901BLE68",
    "nus": "Puck.js 1a2b",
}
#: Service UUIDs each kind of board puts in its advertisement (Polar: heart rate only;
#: micro:bit: none, a name).
_ADVERTISED = {
    "polar": ("0000180d-0000-1000-8000-00805f9b34fb",),
    "microbit": (),
    "witmotion": (PROFILES["witmotion"].service_uuid,),
    "nus": (PROFILES["nus"].service_uuid,),
}


@dataclass(frozen=True)
class Cue:
    """A scripted fault when the board reaches sample ``at`` (before sending it).

    kind : ``"drop"`` (link drops), ``"stop"`` (Polar unprompted stream stop) or
        ``"stall"`` (silence without a disconnect).
    lost : samples from ``at`` that are never sent (time passing during the fault).
    refuse : ``drop`` only: connection attempts refused afterwards.
    """

    at: int
    kind: str = "drop"
    lost: int = 0
    refuse: int = 0

    def __post_init__(self) -> None:
        if self.kind not in ("drop", "stop", "stall"):
            raise ValueError(f"cue kind must be drop, stop or stall, got {self.kind!r}")
        if self.at < 0 or self.lost < 0 or self.refuse < 0:
            raise ValueError("cue at, lost and refuse must be >= 0")


class FakeBleBoard:
    """One simulated board: the night it streams, its GATT behaviour and its faults.

    profile : ``polar``, ``microbit``, ``witmotion`` or ``nus``.
    t, acc : ``(n,)`` host epoch seconds and ``(n, 3)`` g of the samples it sends.
    speed : real-time factor (``math.inf``: as fast as possible).
    cues : scripted faults. start_statuses : Polar statuses answered to successive
        start commands before succeeding (e.g. ``[13]``: in the charger).
    frame_type, samples_per_frame, pmd_factor : Polar frame encoding (``0x01`` int16
        mG, ``0x81`` compressed; a factor != 1 is reported in the start response).
    notification_size : bytes per notification of the byte-stream profiles.
    text_format : NUS line format. period_readback : micro:bit period that reads back.
    chunk_s : virtual seconds of samples encoded at a time.
    nus_line_cut : NUS: bytes of the first line printed before notifications came on
        (lost to the host) at each stream start; 0 starts at a line.
    missing_service : the board lacks the profile's service (every GATT call on it fails).
    start_delay_s : Polar: virtual seconds between an accepted start command and the
        first frame (real boards: up to 30 s); samples of that time are never sent.
    duplicate_every, swap_every : misdelivery (see the module docstring); 0 = none.
    """

    def __init__(
        self,
        profile: str,
        t: np.ndarray,
        acc: np.ndarray,
        *,
        name: str | None = None,
        address: str = "F0:0D:5E:ED:00:01",
        rssi: int = -60,
        speed: float = math.inf,
        cues: Sequence[Cue] = (),
        start_statuses: Sequence[int] = (),
        frame_type: int = 0x01,
        samples_per_frame: int = 36,
        pmd_factor: float = 1.0,
        device_clock_offset: float = 0.0,
        notification_size: int = 20,
        text_format: str = "csv",
        period_readback: int | None = None,
        chunk_s: float = 0.2,
        missing_service: bool = False,
        start_delay_s: float = 0.0,
        nus_line_cut: int = 2,
        duplicate_every: int = 0,
        swap_every: int = 0,
    ) -> None:
        if profile not in _CHARS:
            raise ValueError(f"unknown profile {profile!r}")
        if not speed > 0:
            raise ValueError("speed must be > 0")
        self.profile = profile
        self.t = np.asarray(t, dtype=np.float64)
        self.acc = np.asarray(acc, dtype=np.float64).reshape(-1, 3)
        if self.t.shape != (len(self.acc),) or self.t.size == 0:
            raise ValueError("need matching, non-empty t (n,) and acc (n, 3)")
        self.name = name or _DEFAULT_NAMES[profile]
        self.address = address
        self.rssi = rssi
        self.speed = speed
        self.cues = sorted(cues, key=lambda c: c.at)
        self.start_statuses = list(start_statuses)
        self.frame_type = frame_type
        self.samples_per_frame = samples_per_frame
        self.pmd_factor = pmd_factor
        self.device_clock_offset = device_clock_offset
        self.notification_size = notification_size
        self.text_format = text_format
        self.period_readback = period_readback
        self.chunk_s = chunk_s
        self.missing_service = missing_service
        self.start_delay_s = start_delay_s
        self.nus_line_cut = nus_line_cut
        self.duplicate_every = duplicate_every
        self.swap_every = swap_every
        self.duplicated = 0
        self.late: list[tuple[int, int]] = []
        self._notifications = 0
        self._held: tuple[bytes, int, int] | None = None
        self.period_ms: int | None = None
        self.sent = np.zeros(self.t.size, dtype=bool)
        self.pos = 0
        self.log: list[tuple[str, str, bytes]] = []
        self.connects = 0
        self.refuse = 0
        self.unreachable_until = 0.0  # loop time before which connects fail
        self.streaming = False
        self._fired: set[int] = set()
        self._conn: FakeBleClient | None = None
        self._task: asyncio.Task[None] | None = None
        self._now = float(self.t[0])

    @classmethod
    def from_night(cls, profile: str, night: SimulatedNight, **kwargs: object) -> FakeBleBoard:
        """A board streaming a :func:`sim.simulate_night` night (its ``time`` and ``acc``)."""
        return cls(profile, night.time, night.acc, **kwargs)  # type: ignore[arg-type]

    # -- observation
    def now(self) -> float:
        """The board's virtual host time (epoch s): the time of the last sample sent."""
        return self._now

    @property
    def done(self) -> bool:
        """True once every sample has been sent or skipped."""
        return self.pos >= self.t.size

    @property
    def connected(self) -> bool:
        """True while a client is connected."""
        return self._conn is not None

    def writes(self, uuid: str | None = None) -> list[bytes]:
        """Bytes written by the host (to ``uuid``, or to any characteristic), in order."""
        return [d for kind, u, d in self.log if kind == "write" and (uuid is None or u == uuid)]

    def events(self) -> list[tuple[str, str]]:
        """``(kind, uuid)`` of every host action (``connect``, ``notify``, ``write``,
        ``read``, ``disconnect``) and board fault (``drop``, ``stop``, ``stall``)."""
        return [(kind, u) for kind, u, _ in self.log]

    def advertisement(self) -> Advertisement:
        """What this board advertises (for :func:`fake_scanner`)."""
        return Advertisement(self.address, self.name, self.rssi, _ADVERTISED[self.profile])

    # -- host side
    def client_factory(
        self, address_or_name: str, on_disconnect: DisconnectCallback
    ) -> FakeBleClient:
        """A :data:`~firmware_bridge.ble_client.ClientFactory` for this board."""
        return FakeBleClient(self, address_or_name, on_disconnect)

    # -- faults on demand
    def drop_link(self, refuse: int = 0, down_s: float = 0.0) -> None:
        """Drop the link now (the client's disconnect callback is scheduled); the board
        stays unreachable ``down_s`` real seconds, then refuses ``refuse`` connects."""
        self.log.append(("drop", "", b""))
        self.refuse = refuse
        if down_s > 0:
            self.unreachable_until = asyncio.get_running_loop().time() + down_s
        conn, self._conn = self._conn, None
        self._stop_streaming()
        if conn is not None:
            conn._lose()

    def send_stop(self) -> None:
        """Polar: send the unprompted ``01 02`` (stream stopped) and stop streaming."""
        self.log.append(("stop", PMD_CONTROL_UUID, b""))
        self._stop_streaming()
        if self._conn is not None:
            self._conn._deliver(PMD_CONTROL_UUID, encode_pmd_stopped(2))

    # -- GATT behaviour (called by FakeBleClient)
    def _connect(self, client: FakeBleClient) -> None:
        if asyncio.get_running_loop().time() < self.unreachable_until:
            raise BleLinkError(f"board {self.name!r} not found (fake: out of reach)")
        if self.refuse > 0:
            self.refuse -= 1
            raise BleLinkError(f"board {self.name!r} not found (fake: refused)")
        if self._conn is not None and self._conn is not client:
            self._conn._lose(notify=False)
        self._stop_streaming()
        self._conn = client
        self.connects += 1

    def _disconnect(self, client: FakeBleClient) -> None:
        if self._conn is client:
            self._conn = None
            self._stop_streaming()

    def _check_char(self, uuid: str) -> None:
        if self.missing_service or uuid not in _CHARS[self.profile]:
            raise CharacteristicNotFound(f"characteristic {uuid} not found on {self.name}")

    def _notify_enabled(self, client: FakeBleClient, uuid: str) -> None:
        self._check_char(uuid)
        if self.profile != "polar" and uuid == _CHARS[self.profile][0]:
            self._start_streaming()

    def _write(self, client: FakeBleClient, uuid: str, data: bytes) -> None:
        self._check_char(uuid)
        if self.profile == "polar" and uuid == PMD_CONTROL_UUID:
            self._polar_command(client, data)
        elif self.profile == "microbit" and uuid == MICROBIT_ACC_PERIOD_UUID:
            if len(data) != 2:
                raise BleLinkError("fake micro:bit: period must be 2 bytes")
            self.period_ms = int.from_bytes(data, "little")

    def _read(self, uuid: str) -> bytes:
        self._check_char(uuid)
        if self.profile == "microbit" and uuid == MICROBIT_ACC_PERIOD_UUID:
            period = self.period_readback or self.period_ms
            if period is None:  # never written: the board's own setting
                period = max(1, round(1000 * float(np.median(np.diff(self.t[:50])))))
            return encode_period(period)
        if self.profile == "polar" and uuid == PMD_CONTROL_UUID:
            return bytes([0x0F, 0b0000_0101])  # features: ECG, ACC
        return b""

    def _polar_command(self, client: FakeBleClient, cmd: bytes) -> None:
        if not (PMD_CONTROL_UUID in client.notifying and PMD_DATA_UUID in client.notifying):
            log.debug("fake Polar: notifications not enabled on both: no reply")
            if cmd[:1] == b"\x02":
                self.log.append(("ignored", PMD_CONTROL_UUID, cmd))
            return
        opcode = cmd[0] if cmd else 0
        mtype = cmd[1] if len(cmd) > 1 else 0
        if opcode == 2:
            status = self.start_statuses.pop(0) if self.start_statuses else 0
            if status == 0 and self.streaming:
                status = 6  # ERROR_ALREADY_IN_STATE
            params = b""
            if status == 0 and self.pmd_factor != 1.0:
                params = encode_pmd_settings({5: [self.pmd_factor]})
            client._deliver_soon(PMD_CONTROL_UUID, encode_pmd_response(2, mtype, status, params))
            if status == 0:
                self._start_streaming()
        elif opcode == 3:
            self._stop_streaming()
            client._deliver_soon(PMD_CONTROL_UUID, encode_pmd_response(3, mtype, 0))
        else:
            client._deliver_soon(PMD_CONTROL_UUID, encode_pmd_response(opcode, mtype, 3))

    # -- streaming
    def _start_streaming(self) -> None:
        self._stop_streaming()
        self.streaming = True
        self._task = asyncio.get_running_loop().create_task(self._stream())

    def _stop_streaming(self) -> None:
        self.streaming = False
        task, self._task = self._task, None
        if task is not None and task is not asyncio.current_task():
            task.cancel()

    def _next_cue(self) -> Cue | None:
        for k, cue in enumerate(self.cues):
            if k not in self._fired and cue.at >= self.pos:
                return cue
        return None

    def _fire(self, cue: Cue) -> None:
        self._fired.add(self.cues.index(cue))
        before = self.pos
        self.pos = min(self.t.size, self.pos + cue.lost)
        if cue.kind == "drop":
            resume = float(self.t[min(self.pos, self.t.size - 1)])
            down = (resume - float(self.t[before])) / self.speed if cue.lost else 0.0
            self.drop_link(cue.refuse, down)
        elif cue.kind == "stop":
            self.send_stop()
        else:
            self.log.append(("stall", "", b""))
            self._stop_streaming()

    async def _stream(self) -> None:
        """Send the samples from ``pos`` on, chunk by chunk, until a fault or the end."""
        loop = asyncio.get_running_loop()
        uuid = _CHARS[self.profile][0]
        anchor_real, anchor_virtual = loop.time(), None
        step = float(np.median(np.diff(self.t[:50]))) if self.t.size > 1 else 1.0
        chunk = max(1, round(self.chunk_s / max(step, 1e-6)))
        if self.profile == "polar":
            chunk = max(1, chunk // self.samples_per_frame) * self.samples_per_frame
            if self.start_delay_s > 0 and self.pos < self.t.size:
                first = float(self.t[self.pos]) + self.start_delay_s
                self.pos = int(np.searchsorted(self.t, first))
                if math.isfinite(self.speed):
                    await asyncio.sleep(self.start_delay_s / self.speed)
                anchor_real = loop.time()
        self._held = None  # held back on the last link: never delivered
        if self.profile == "nus" and self.nus_line_cut > 0:
            self._send_line_tail(uuid)
        while self.streaming and self.pos < self.t.size and self._conn is not None:
            cue = self._next_cue()
            if cue is not None and cue.at <= self.pos:
                self._fire(cue)
                continue
            end = min(self.t.size, self.pos + chunk, cue.at if cue is not None else self.t.size)
            if anchor_virtual is None:  # the stream starts with sample ``pos``, now
                anchor_virtual = float(self.t[self.pos])
            for data, upto, k_time in self._encode(self.pos, end):
                if math.isfinite(self.speed):
                    due = anchor_real + (float(self.t[k_time]) - anchor_virtual) / self.speed
                    if due > loop.time():
                        await asyncio.sleep(due - loop.time())
                    if not self.streaming or self._conn is None:
                        return
                self._now = max(self._now, float(self.t[k_time]))
                self._send(uuid, data, self.pos, upto)
                self.pos = max(self.pos, upto)  # a drop mid-chunk resumes after ``upto``
            self.pos = end
            if not math.isfinite(self.speed):
                await asyncio.sleep(0)
        if self.pos >= self.t.size:
            self.streaming = False

    def _send(self, uuid: str, data: bytes, first: int, upto: int) -> None:
        """Deliver the notification completing samples ``[first, upto)``, misdelivered
        as ``duplicate_every`` and ``swap_every`` say."""
        assert self._conn is not None
        self._notifications += 1
        if self._held is not None:
            held, a, b = self._held
            self._held = None
            self._conn._deliver(uuid, data)
            self.sent[first:upto] = True
            self._conn._deliver(uuid, held)
            self.sent[a:b] = True
            self.late.append((a, b))
            return
        if self.swap_every and self._notifications % self.swap_every == 0:
            self._held = (data, first, upto)
            return
        self._conn._deliver(uuid, data)
        self.sent[first:upto] = True
        if self.duplicate_every and self._notifications % self.duplicate_every == 0:
            self._conn._deliver(uuid, data)
            self.duplicated += 1

    def _send_line_tail(self, uuid: str) -> None:
        """NUS stream start: the line of sample ``pos`` without its first
        ``nus_line_cut`` bytes (printed before notifications came on); that sample is
        lost."""
        k = self.pos
        if (
            k >= self.t.size
            or self._conn is None
            or any(c.at == k for i, c in enumerate(self.cues) if i not in self._fired)
        ):
            return
        line = encode_text_lines(
            self.acc[k : k + 1], self.text_format, t=self.t[k : k + 1] - self.t[0], newline="\n"
        )
        self._now = max(self._now, float(self.t[k]))
        self._conn._deliver(uuid, line[self.nus_line_cut :])
        self.pos = k + 1

    def _encode(self, i: int, j: int) -> list[tuple[bytes, int, int]]:
        """Notifications for samples ``[i, j)``: ``(bytes, samples complete up to
        (exclusive) after it, index of the sample whose time it is sent at)``."""
        t, acc = self.t[i:j], self.acc[i:j]
        if self.profile == "polar":
            frames = encode_pmd_frames(
                t + self.device_clock_offset,
                acc,
                samples_per_frame=self.samples_per_frame,
                frame_type=self.frame_type,
                factor=self.pmd_factor,
            )
            spf = self.samples_per_frame
            return [
                (f, min(j, i + (k + 1) * spf), min(j, i + (k + 1) * spf) - 1)
                for k, f in enumerate(frames)
            ]
        if self.profile == "microbit":
            return [(f, i + k + 1, i + k) for k, f in enumerate(encode_microbit_frames(acc))]
        if self.profile == "witmotion":
            data = encode_witmotion_ble(acc)
            ends = 20 * np.arange(1, j - i + 1)
        else:
            data = encode_text_lines(acc, self.text_format, t=t - self.t[0], newline="\n")
            ends = np.flatnonzero(np.frombuffer(data, dtype=np.uint8) == 0x0A) + 1
        out = []
        size = self.notification_size
        for a in range(0, len(data), size):
            b = min(len(data), a + size)
            complete = int(np.searchsorted(ends, b, side="right"))
            k_time = min(j - i - 1, int(np.searchsorted(ends, b, side="left")))
            out.append((data[a:b], i + complete, i + k_time))
        return out


class FakeBleClient:
    """A :class:`~firmware_bridge.ble_client.BleClient` connected to a :class:`FakeBleBoard`."""

    def __init__(
        self, board: FakeBleBoard, target: str, on_disconnect: DisconnectCallback | None
    ) -> None:
        self.board = board
        self.target = target
        self._on_disconnect = on_disconnect
        self._connected = False
        self.notifying: dict[str, NotifyCallback] = {}

    @property
    def address(self) -> str:
        return self.board.address

    @property
    def name(self) -> str | None:
        return self.board.name

    @property
    def is_connected(self) -> bool:
        return self._connected

    def _require(self) -> None:
        if not self._connected:
            raise BleLinkError("fake: not connected")

    async def connect(self) -> None:
        await asyncio.sleep(0)
        if self.target not in (self.board.address, self.board.name):
            raise BleLinkError(f"board {self.target!r} not found")
        self.board.log.append(("connect", "", b""))
        self.board._connect(self)
        self._connected = True
        self.notifying = {}

    async def disconnect(self) -> None:
        if self._connected:
            self.board.log.append(("disconnect", "", b""))
            self._connected = False
            self.board._disconnect(self)

    async def start_notify(self, uuid: str, callback: NotifyCallback) -> None:
        await asyncio.sleep(0)
        self._require()
        self.board.log.append(("notify", uuid, b""))
        self.board._check_char(uuid)
        self.notifying[uuid] = callback
        self.board._notify_enabled(self, uuid)

    async def write(self, uuid: str, data: bytes, response: bool = True) -> None:
        await asyncio.sleep(0)
        self._require()
        self.board.log.append(("write", uuid, bytes(data)))
        self.board._write(self, uuid, bytes(data))

    async def read(self, uuid: str) -> bytes:
        await asyncio.sleep(0)
        self._require()
        self.board.log.append(("read", uuid, b""))
        return self.board._read(uuid)

    # -- board side
    def _deliver(self, uuid: str, data: bytes) -> None:
        callback = self.notifying.get(uuid)
        if self._connected and callback is not None:
            callback(data)

    def _deliver_soon(self, uuid: str, data: bytes) -> None:
        asyncio.get_running_loop().call_soon(self._deliver, uuid, data)

    def _lose(self, notify: bool = True) -> None:
        """The board dropped this link."""
        if not self._connected:
            return
        self._connected = False
        if notify and self._on_disconnect is not None:
            asyncio.get_running_loop().call_soon(self._on_disconnect)


def fake_scanner(
    boards: Sequence[FakeBleBoard] = (), others: Sequence[Advertisement] = ()
) -> Scanner:
    """A :data:`~firmware_bridge.ble_scan.Scanner` that hears ``boards`` and ``others``."""

    async def scan(timeout: float) -> list[Advertisement]:
        await asyncio.sleep(0)
        return [b.advertisement() for b in boards] + list(others)

    return scan
