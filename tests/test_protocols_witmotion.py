"""WitMotion serial and BLE packets: verified fixture, resync, splitting, fuzzing."""

from __future__ import annotations

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st

from firmware_bridge.samples import DecodedBatch
from firmware_bridge.witmotion import (
    UNLOCK_COMMAND,
    WitmotionBleDecoder,
    WitmotionSerialDecoder,
    checksum,
    rate_command,
)
from sim import NightConfig, simulate_night
from sim.encoders import split_notifications
from sim.encoders.witmotion import encode_witmotion_ble, encode_witmotion_serial, serial_packet

LSB = 16 / 32768


def quantised(acc):
    return np.clip(np.round(np.asarray(acc) / LSB), -32768, 32767) * LSB


def feed_chunks(dec, data, cuts):
    cuts = sorted(set(c for c in cuts if 0 < c < len(data)))
    pieces = [data[a:b] for a, b in zip([0, *cuts], [*cuts, len(data)], strict=True)]
    return DecodedBatch.concat([dec.feed(p) for p in pieces])


def test_verified_serial_packet():
    pkt = bytes.fromhex("55 51 00 00 00 00 00 08 C4 09 7B")
    assert checksum(pkt[:10]) == pkt[10]
    dec = WitmotionSerialDecoder(10)
    b = dec.feed(pkt, arrival_time=3.0)
    np.testing.assert_array_equal(b.acc, [[0.0, 0.0, 1.0]])
    assert dec.last_temperature_c == 25.0 and b.t.tolist() == [3.0]


def test_commands():
    assert UNLOCK_COMMAND == bytes.fromhex("FF AA 69 88 B5")
    assert rate_command(0x06) == bytes.fromhex("FF AA 03 06 00")


def test_serial_round_trip_with_other_types_and_byte_by_byte():
    n = simulate_night(NightConfig(hours=0.01, fs=20, seed=2))
    data = encode_witmotion_serial(n.acc, other_types=True)
    dec = WitmotionSerialDecoder(20)
    b = dec.feed(data)
    np.testing.assert_array_equal(b.acc, quantised(n.acc))
    assert dec.stats.skipped == 2 * len(n.acc) and dec.stats.discarded_bytes == 0
    one = WitmotionSerialDecoder(20)
    b1 = DecodedBatch.concat([one.feed(data[i : i + 1]) for i in range(len(data))])
    np.testing.assert_array_equal(b1.acc, b.acc)
    np.testing.assert_array_equal(b1.t, b.t)


def test_serial_corruption_costs_only_that_packet():
    acc = np.linspace(-2, 2, 30).reshape(10, 3)
    data = bytearray(encode_witmotion_serial(acc))
    data[11 * 4 + 5] ^= 0x40  # corrupt packet 4
    data[11 * 7 : 11 * 7] = b"\x55\x51\x55\x00garbage\x55"  # garbage before packet 7
    dec = WitmotionSerialDecoder(10)
    b = dec.feed(bytes(data))
    np.testing.assert_array_equal(b.acc, quantised(np.delete(acc, 4, axis=0)))
    assert dec.stats.discarded_bytes > 0


P_1G = bytes.fromhex("55 51 00 00 00 00 00 08 C4 09 7B")  # (0, 0, +1 g), 25.00 C


def test_serial_lost_byte_inside_a_packet_gives_no_bogus_sample():
    # 55 51 12 00 31 00 05 08 C4 09 C3 is (18, 49, 2053) counts; the UART lost its 31.
    # The shifted window 55 51 12 00 00 05 08 C4 09 C3 sums to 0x255: its "checksum"
    # is the next packet's 55, so the checksum alone passed it as (18, 1280, -15352)
    # counts = (0.009, 0.625, -7.496) g and swallowed the header of the packet after.
    broken = bytes.fromhex("55 51 12 00 00 05 08 C4 09 C3")
    dec = WitmotionSerialDecoder(10)
    b = dec.feed(broken + P_1G + P_1G)
    np.testing.assert_array_equal(b.acc, [[0.0, 0.0, 1.0], [0.0, 0.0, 1.0]])
    assert dec.stats.discarded_bytes == len(broken)


def test_serial_resync_needs_the_next_packet_to_confirm():
    # garbage 55 51 01 02 03 04 AA then the packet: the window from the garbage's 55
    # has a valid checksum (0x00) and read as (513, 1027, 21930) counts = 10.7 g on z.
    garbage = bytes.fromhex("55 51 01 02 03 04 AA")
    gyro = bytes.fromhex("55 52 0A 00 EC FF 1E 00 C4 09 87")
    dec = WitmotionSerialDecoder(10)
    assert len(dec.feed(garbage + P_1G)) == 0  # resynchronising: waits for the next packet
    b = dec.feed(gyro + P_1G)
    np.testing.assert_array_equal(b.acc, [[0.0, 0.0, 1.0], [0.0, 0.0, 1.0]])
    assert (dec.stats.skipped, dec.stats.discarded_bytes) == (1, len(garbage))


def test_ble_packets_split_across_notifications_with_register_replies():
    n = simulate_night(NightConfig(hours=0.005, fs=50, seed=4))
    data = encode_witmotion_ble(n.acc, gyro=np.ones((len(n.acc), 3)) * 100)
    reg = b"\x55\x71" + bytes(range(18))
    data = reg + data[:200] + b"\x01\x02" + reg + data[200:]
    dec = WitmotionBleDecoder(50)
    b = DecodedBatch.concat([dec.feed(x) for x in split_notifications(data, 7)])
    np.testing.assert_array_equal(b.acc, quantised(n.acc))
    assert dec.stats.skipped == 2 and dec.stats.discarded_bytes == 2
    assert dec.last_gyro_dps is not None and abs(dec.last_gyro_dps[0] - 100) < 0.1


@settings(max_examples=200, deadline=None)
@given(st.binary(max_size=300), st.lists(st.integers(0, 300), max_size=10))
def test_random_bytes_never_raise(data, cuts):
    for dec in (WitmotionSerialDecoder(10), WitmotionBleDecoder(10)):
        b = feed_chunks(dec, data, cuts)
        assert b.acc.shape == (len(b), 3)
        assert dec.stats.bytes_in == len(data)


acc_rows = st.lists(st.tuples(*[st.integers(-32768, 32767)] * 3), min_size=1, max_size=15)


def _stream(rows, garbage, rnd, encode):
    packets = [encode(np.array([r], dtype=float) * LSB) for r in rows]
    for g in garbage:
        packets.insert(rnd.randint(0, len(packets)), g)
    return b"".join(packets)


@settings(max_examples=200, deadline=None)
@given(
    acc_rows,
    st.lists(st.binary(min_size=1, max_size=25), max_size=5),
    st.lists(st.integers(0, 400), max_size=8),
    st.randoms(use_true_random=False),
)
def test_serial_garbage_yields_only_encoded_samples_in_order(rows, garbage, cuts, rnd):
    data = _stream(rows, garbage, rnd, encode_witmotion_serial)
    whole = WitmotionSerialDecoder(10).feed(data)
    got = [tuple(np.round(r / LSB).astype(int)) for r in whole.acc]
    it = iter(rows)
    assert all(any(g == r for r in it) for g in got)  # an in-order subsequence
    if not garbage:
        assert got == rows
    split = feed_chunks(WitmotionSerialDecoder(10), data, cuts)
    np.testing.assert_array_equal(split.acc, whole.acc)
    np.testing.assert_array_equal(split.t, whole.t)


no_header = st.binary(min_size=1, max_size=25).map(lambda b: b.replace(b"\x55", b"\x56"))


@settings(max_examples=200, deadline=None)
@given(
    acc_rows,
    st.lists(no_header, max_size=5),
    st.lists(st.integers(0, 400), max_size=8),
    st.randoms(use_true_random=False),
)
def test_ble_garbage_between_packets_is_dropped(rows, garbage, cuts, rnd):
    # BLE packets carry no checksum: garbage holding 55 61 would pass as a packet, so
    # this garbage is free of 0x55
    data = _stream(rows, garbage, rnd, encode_witmotion_ble)
    b = feed_chunks(WitmotionBleDecoder(10), data, cuts)
    np.testing.assert_array_equal(b.acc, np.array(rows, dtype=float) * LSB)


def test_serial_packet_helper_checksum():
    pkt = serial_packet(0x51, (0, 0, 2048, 2500))
    assert pkt == bytes.fromhex("55 51 00 00 00 00 00 08 C4 09 7B")
