"""BleSource against the scripted fake BLE board (sim/fake_ble.py), one profile at a time.

Every test runs the real source code path (profile start sequence, notification queue,
decoder, LinkLost handling) over the same BleClient interface the bleak adapter
implements; no radio is involved.
"""

from __future__ import annotations

import asyncio
import math
import time
from collections.abc import Callable
from functools import cache

import numpy as np
import pytest

from firmware_bridge.ble_client import BleClient, BleLinkError, CharacteristicNotFound
from firmware_bridge.ble_source import BleSource
from firmware_bridge.errors import ConfigurationError, ControlPointError
from firmware_bridge.microbit import MICROBIT_ACC_DATA_UUID, MICROBIT_ACC_PERIOD_UUID
from firmware_bridge.nus import NUS_TX_UUID
from firmware_bridge.polar_pmd import PMD_CONTROL_UUID, PMD_DATA_UUID
from firmware_bridge.samples import DecodedBatch
from firmware_bridge.source import LinkLost
from firmware_bridge.witmotion import WITMOTION_BLE_NOTIFY_UUID, WITMOTION_BLE_WRITE_UUID
from sim import NightConfig, SimulatedNight, simulate_night
from sim.fake_ble import Cue, FakeBleBoard, FakeBleClient

H10_200HZ_8G = bytes.fromhex("02 02 00 01 C8 00 01 01 10 00 02 01 08 00")


@cache
def night(fs: float, seconds: float = 30.0, clean: bool = True) -> SimulatedNight:
    """A short simulated night with jerks; ``clean``: no jitter, drops or outages."""
    extra = {"jitter_s": 0.0, "drop_prob": 0.0, "outage_per_hour": 0.0} if clean else {}
    cfg = NightConfig(hours=seconds / 3600, fs=fs, seed=7, rate_per_hour=600, **extra)
    return simulate_night(cfg)


def run(coro):  # noqa: ANN001, ANN201 - tiny helper
    return asyncio.run(asyncio.wait_for(coro, 60))


def make_source(board: FakeBleBoard, rate: float | None, **kw: object) -> BleSource:
    kw.setdefault("read_wait_s", 0.02)
    return BleSource(
        board.name,
        board.profile,
        rate,
        kw.pop("range_g", None),  # type: ignore[arg-type]
        client_factory=board.client_factory,
        clock=board.now,
        **kw,  # type: ignore[arg-type]
    )


async def collect(
    source: BleSource, board: FakeBleBoard, *, reopen: bool = True, max_drops: int = 5
) -> tuple[DecodedBatch, list[str]]:
    """Read until the board has sent everything; re-open after each LinkLost (like the
    recorder does) and return every sample plus the LinkLost messages."""
    batches: list[DecodedBatch] = []
    lost: list[str] = []
    idle = 0
    await source.open()
    while True:
        try:
            batch = await source.read()
        except LinkLost as exc:
            lost.append(str(exc))
            assert reopen and len(lost) <= max_drops, lost
            await source.close()
            while True:
                try:
                    await source.open()
                    break
                except LinkLost as again:
                    lost.append(str(again))
            continue
        if len(batch):
            batches.append(batch)
            idle = 0
        elif board.done:
            idle += 1
            if idle >= 3:
                break
    await source.close()
    return DecodedBatch.concat(batches), lost


# ------------------------------------------------------------------- resolution


def mg(acc: np.ndarray) -> np.ndarray:
    """Quantised to 1 mG (Polar uncompressed / 0x81, micro:bit)."""
    return np.round(acc * 1000.0) / 1000.0


def witmotion_q(acc: np.ndarray) -> np.ndarray:
    """Quantised to WitMotion counts of 16/32768 g."""
    return np.clip(np.round(acc * 2048.0), -32768, 32767) / 2048.0


def csv4(acc: np.ndarray) -> np.ndarray:
    """Printed with 4 decimals in g (the NUS csv encoding)."""
    return np.round(acc, 4)


def puck(acc: np.ndarray) -> np.ndarray:
    """Puck.js raw counts, 8192 per g."""
    return np.round(acc * 8192.0) / 8192.0


CASES: dict[str, tuple[str, float, dict, Callable[[np.ndarray], np.ndarray], bool]] = {
    # id: (profile, fs, board options, expected quantisation, device clock)
    "polar-int16": ("polar", 200.0, {"frame_type": 0x01}, mg, True),
    "polar-delta": ("polar", 200.0, {"frame_type": 0x81, "samples_per_frame": 70}, mg, True),
    "microbit": ("microbit", 50.0, {}, mg, False),
    "witmotion-split": ("witmotion", 50.0, {"notification_size": 16}, witmotion_q, False),
    "nus-csv": ("nus", 50.0, {"text_format": "csv"}, csv4, False),
    "nus-puck": ("nus", 50.0, {"text_format": "puck"}, puck, False),
}


def check_samples(
    got: DecodedBatch, board: FakeBleBoard, quant: Callable[[np.ndarray], np.ndarray], device: bool
) -> None:
    """Every sent sample, in order, exact to the format's resolution; times close."""
    want_acc = quant(board.acc[board.sent])
    want_t = board.t[board.sent]
    assert len(got) == len(want_t)
    np.testing.assert_allclose(got.acc, want_acc, rtol=0, atol=1e-9)
    assert np.all(np.diff(got.t) > 0)
    if device:  # Polar: per-sample device times from frame stamps, ns resolution
        np.testing.assert_allclose(got.t, want_t, rtol=0, atol=1e-6)
    else:  # arrival-stamped: within a few periods of the truth
        period = float(np.median(np.diff(board.t)))
        assert np.max(np.abs(got.t - want_t)) < 3 * period


# ------------------------------------------------------------------------ tests


def test_clients_implement_the_protocol() -> None:
    from firmware_bridge.ble_client import BleakBleClient

    board = FakeBleBoard.from_night("polar", night(200.0))
    assert isinstance(board.client_factory("x", lambda: None), BleClient)
    assert isinstance(BleakBleClient("AA:BB:CC:DD:EE:FF"), BleClient)


@pytest.mark.parametrize(
    ("rate", "range_g", "model", "command"),
    [
        (200, 8, "auto", H10_200HZ_8G),
        (25, 2, "h10", bytes.fromhex("02 02 00 01 19 00 01 01 10 00 02 01 02 00")),
        (52, None, "auto", bytes.fromhex("02 02 00 01 34 00 01 01 10 00 02 01 08 00 04 01 03")),
    ],
)
def test_polar_open_enables_both_notifications_then_sends_the_start_command(
    rate: int, range_g: int | None, model: str, command: bytes
) -> None:
    board = FakeBleBoard.from_night("polar", night(200.0))

    async def go() -> None:
        source = make_source(board, rate, range_g=range_g, polar_model=model)
        info = await source.open()
        assert info.profile == "polar" and info.rate_hz == rate
        assert info.extra["start_command"] == command.hex(" ")
        await source.close()

    run(go())
    assert board.events()[:4] == [
        ("connect", ""),
        ("notify", PMD_CONTROL_UUID),
        ("notify", PMD_DATA_UUID),
        ("write", PMD_CONTROL_UUID),
    ]
    # exactly the start command, then the stop command sent by close()
    assert board.writes() == [command, bytes([0x03, 0x02])]


@pytest.mark.parametrize("case", list(CASES))
def test_read_yields_the_simulated_samples_exactly(case: str) -> None:
    profile, fs, opts, quant, device = CASES[case]
    board = FakeBleBoard.from_night(profile, night(fs), **opts)
    source = make_source(board, fs)
    got, lost = run(collect(source, board))
    assert lost == []
    # NUS: the stream starts inside the first sample's line (printed in pieces)
    assert board.sent[1:].all() and board.sent[0] == (profile != "nus")
    check_samples(got, board, quant, device)
    assert source.stats.bad == 0


def test_arrival_stamps_with_a_jittered_lossy_night() -> None:
    """micro:bit over a realistic night (jitter, lost packets): values still exact; times
    (arrival clock, no sequence numbers in the frames) re-converge after each loss."""
    board = FakeBleBoard.from_night("microbit", night(50.0, clean=False))
    got, _ = run(collect(make_source(board, 50.0), board))
    want = board.t[board.sent]
    assert want.size < board.t.size or np.any(np.diff(board.t) > 0.03)  # really lossy
    assert len(got) == want.size
    np.testing.assert_allclose(got.acc, mg(board.acc[board.sent]), rtol=0, atol=1e-9)
    err = np.abs(got.t - want)
    assert np.all(np.diff(got.t) > 0)
    assert err.max() < 1.0 and np.median(err) < 0.02


def test_polar_error_status_raises_a_clear_error() -> None:
    board = FakeBleBoard.from_night("polar", night(200.0), start_statuses=[13])

    async def go() -> None:
        source = make_source(board, 200, range_g=8)
        with pytest.raises(ControlPointError, match="ERROR_DEVICE_IN_CHARGER") as info:
            await source.open()
        assert info.value.status == 13
        assert source.client is None

    run(go())
    assert not board.connected  # the source hung up after the refusal


def test_polar_already_streaming_is_stopped_and_restarted() -> None:
    """A board still streaming from an earlier session answers ALREADY_IN_STATE."""
    board = FakeBleBoard.from_night("polar", night(200.0), start_statuses=[6])

    async def go() -> None:
        source = make_source(board, 200)
        await source.open()
        await source.close()

    run(go())
    assert board.writes(PMD_CONTROL_UUID)[:3] == [H10_200HZ_8G, b"\x03\x02", H10_200HZ_8G]


@pytest.mark.parametrize("case", ["polar-int16", "microbit", "witmotion-split", "nus-csv"])
def test_link_drop_raises_linklost_and_reopen_resumes(case: str) -> None:
    profile, fs, opts, quant, device = CASES[case]
    n = night(fs).time.size
    at, gap = n // 3, 137
    board = FakeBleBoard.from_night(
        profile, night(fs), cues=[Cue(at=at, kind="drop", lost=gap, refuse=2)], **opts
    )
    source = make_source(board, fs)
    got, lost = run(collect(source, board))
    # one drop, then two refused connection attempts, all reported as LinkLost
    assert len(lost) == 3
    assert "disconnected" in lost[0]
    assert all("not found" in m for m in lost[1:])
    assert board.connects == 2 and source.opens == 4
    missing = np.flatnonzero(~board.sent)
    if profile == "polar":  # frames restart at the cue: exactly the gap is missing
        np.testing.assert_array_equal(missing, np.arange(at, at + gap))
    else:  # byte streams: at most the partly sent packet/line before the drop too
        # (NUS: and the line the new stream starts inside, and the first one)
        last = at + gap + (profile == "nus")
        assert set(range(at, at + gap)) <= set(missing) - {0} <= set(range(at - 1, last))
    check_samples(got, board, quant, device)
    # the start sequence was sent again on the new connection
    if profile == "polar":
        assert board.writes(PMD_CONTROL_UUID) == [H10_200HZ_8G, H10_200HZ_8G, b"\x03\x02"]
    notify = {"polar": PMD_DATA_UUID, "microbit": MICROBIT_ACC_DATA_UUID}.get(profile)
    notify = notify or {"witmotion": WITMOTION_BLE_NOTIFY_UUID, "nus": NUS_TX_UUID}[profile]
    assert board.events().count(("notify", notify)) == 2


def test_drop_on_demand_mid_stream() -> None:
    """A drop at an arbitrary moment (mid-chunk, a packet half sent) ends in LinkLost;
    after re-opening, nothing is duplicated and nothing invented."""
    short = night(50.0, seconds=6.0)
    board = FakeBleBoard.from_night("witmotion", short, notification_size=16, speed=10.0)
    source = make_source(board, 50.0)

    async def go() -> DecodedBatch:
        await source.open()
        first: list[DecodedBatch] = []
        while sum(len(b) for b in first) < 60:
            first.append(await source.read())
        board.drop_link()
        with pytest.raises(LinkLost, match="disconnected"):
            for _ in range(100):
                first.append(await source.read())
        # writes on the dead client raise, as bleak's would
        dead = FakeBleClient(board, board.name, None)
        with pytest.raises(BleLinkError):
            await dead.write(WITMOTION_BLE_WRITE_UUID, b"\xff")
        rest, lost = await collect(source, board)
        assert lost == []
        return DecodedBatch.concat([*first, rest])

    got = run(go())
    assert board.connects == 2 and 0 < 60 <= int(board.sent.sum())
    check_samples(got, board, witmotion_q, device=False)


def test_polar_unprompted_stop_resends_start_and_streaming_continues() -> None:
    n = night(200.0).time.size
    board = FakeBleBoard.from_night(
        "polar", night(200.0), cues=[Cue(at=n // 2, kind="stop"), Cue(at=3 * n // 4, kind="stop")]
    )
    source = make_source(board, 200)
    got, lost = run(collect(source, board))
    assert lost == []  # handled inside the source: no reconnect
    assert source.restarts == 2
    assert board.writes(PMD_CONTROL_UUID) == [H10_200HZ_8G] * 3 + [b"\x03\x02"]
    assert board.sent.all()
    check_samples(got, board, mg, device=True)


def test_silent_board_is_a_lost_link_and_reopen_resumes() -> None:
    n = night(50.0).time.size
    board = FakeBleBoard.from_night(
        "nus", night(50.0), text_format="csv", cues=[Cue(at=n // 2, kind="stall", lost=50)]
    )
    source = make_source(board, 50.0, stall_s=0.3)
    t0 = time.monotonic()
    got, lost = run(collect(source, board))
    assert len(lost) == 1 and "no data for" in lost[0]
    assert time.monotonic() - t0 >= 0.3
    assert board.connects == 2
    check_samples(got, board, csv4, device=False)


def test_polar_waits_for_the_slow_stream_start() -> None:
    """Polar streams may begin ~30 s after the start: the source does not call that a
    stall (here 0.3 s of silence in real time against stall_s = 0.05 s)."""
    board = FakeBleBoard.from_night("polar", night(200.0), speed=1.0, start_delay_s=0.3)
    source = make_source(board, 200, stall_s=0.05)
    assert source.startup_s >= 25.0

    async def go() -> int:
        await source.open()
        t0 = time.monotonic()
        while True:
            batch = await source.read()  # no LinkLost while the board starts
            if len(batch):
                break
        assert time.monotonic() - t0 >= 0.25
        await source.close()
        return len(batch)

    assert run(go()) > 0
    assert not board.sent[:60].any()  # the first 0.3 s were never sent


def test_microbit_period_is_written_then_read_back() -> None:
    board = FakeBleBoard.from_night("microbit", night(50.0), period_readback=10)

    async def go() -> None:
        source = make_source(board, 50.0)
        info = await source.open()
        assert info.rate_hz == 100.0 and info.extra["period_ms"] == "10"
        assert source.driver.decoder.period_ms == 10
        await source.close()

    run(go())
    assert board.events()[1:4] == [
        ("write", MICROBIT_ACC_PERIOD_UUID),
        ("read", MICROBIT_ACC_PERIOD_UUID),
        ("notify", MICROBIT_ACC_DATA_UUID),
    ]
    assert board.writes() == [bytes([20, 0])]


def test_microbit_without_the_accelerometer_service_is_a_clear_error() -> None:
    board = FakeBleBoard.from_night("microbit", night(50.0), missing_service=True)

    async def go() -> None:
        with pytest.raises(CharacteristicNotFound, match="not found"):
            await make_source(board, 50.0).open()

    run(go())


@pytest.mark.parametrize(
    ("rate", "writes"),
    [(None, []), (50.0, [bytes.fromhex("FFAA6988B5"), bytes.fromhex("FFAA030800")])],
)
def test_witmotion_rate_command_only_when_asked(rate: float | None, writes: list[bytes]) -> None:
    board = FakeBleBoard.from_night("witmotion", night(50.0))

    async def go() -> None:
        source = make_source(board, rate)
        info = await source.open()
        assert info.range_g == 16.0
        await source.close()

    run(go())
    assert board.writes(WITMOTION_BLE_WRITE_UUID) == writes


def test_witmotion_vibration_sensor_is_named_in_a_warning(caplog: pytest.LogCaptureFixture) -> None:
    board = FakeBleBoard.from_night("witmotion", night(50.0, seconds=2.0), name="WTVB01-BT50")
    source = make_source(board, None)

    async def go() -> None:
        await source.open()
        await source.close()

    with caplog.at_level("WARNING", logger="firmware_bridge.ble_profiles"):
        run(go())
    assert "WTVB01-BT50 is a WitMotion vibration sensor" in caplog.text


@pytest.mark.parametrize(
    ("profile", "rate", "range_g"),
    [("polar", 150, 8), ("polar", 200, 16), ("microbit", 30, None), ("witmotion", 33, None),
     ("fitbit", 50, None)],
)  # fmt: skip
def test_unsupported_settings_fail_at_construction(
    profile: str, rate: float, range_g: float | None
) -> None:
    with pytest.raises(ConfigurationError):
        BleSource("x", profile, rate, range_g, client_factory=lambda *_: None)  # type: ignore


def test_fake_board_streams_in_real_time_at_a_speed_factor() -> None:
    cfg = NightConfig(hours=4 / 3600, fs=50, seed=1, jitter_s=0, drop_prob=0, outage_per_hour=0)
    short = simulate_night(cfg)
    board = FakeBleBoard.from_night("microbit", short, speed=20.0)
    t0 = time.monotonic()
    got, _ = run(collect(make_source(board, 50.0), board))
    elapsed = time.monotonic() - t0
    assert len(got) == short.time.size
    assert 4.0 / 20.0 * 0.8 <= elapsed < 4.0 / 20.0 + 1.5
    assert math.isclose(board.now(), short.time[-1])
