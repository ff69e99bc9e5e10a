"""micro:bit accelerometer service: verified frame, period, round trip, arrival stamping."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from firmware_bridge.errors import ConfigurationError, FrameError
from firmware_bridge.microbit import (
    MICROBIT_PERIODS_MS,
    MicrobitAccDecoder,
    decode_period,
    encode_period,
    parse_microbit_frame,
)
from firmware_bridge.samples import DecodedBatch
from sim import NightConfig, simulate_night
from sim.encoders.microbit import encode_microbit_frames
from sim.encoders.microbit import encode_period as board_period


def test_verified_frame():
    assert parse_microbit_frame(bytes.fromhex("00 00 00 00 00 FC")) == (0, 0, -1024)
    b = MicrobitAccDecoder(20).feed(bytes.fromhex("00 00 00 00 00 FC"), arrival_time=5.0)
    np.testing.assert_array_equal(b.acc, [[0.0, 0.0, -1.024]])
    assert b.t.tolist() == [5.0]


@pytest.mark.parametrize("ms", MICROBIT_PERIODS_MS)
def test_period_round_trip(ms):
    assert decode_period(encode_period(ms)) == ms
    assert decode_period(board_period(ms)) == ms


def test_bad_period_and_bad_read():
    with pytest.raises(ConfigurationError, match="640"):
        encode_period(15)
    with pytest.raises(FrameError):
        decode_period(b"\x14")


def test_round_trip_exact():
    n = simulate_night(NightConfig(hours=0.01, fs=50, seed=1))
    dec = MicrobitAccDecoder(20)
    b = DecodedBatch.concat([dec.feed(f) for f in encode_microbit_frames(n.acc)])
    np.testing.assert_array_equal(b.acc, np.round(n.acc * 1000) / 1000)
    np.testing.assert_allclose(b.t, np.arange(len(n.acc)) * 0.02)  # no arrival: nominal grid


def test_arrival_stamping_exact_arrivals():
    dec = MicrobitAccDecoder(10)
    arrivals = 100.0 + np.arange(50) * 0.01
    t = [dec.feed(b"\0" * 6, a).t[0] for a in arrivals]
    np.testing.assert_allclose(t, arrivals, atol=1e-9)


def test_arrival_stamping_jitter_gap_and_bunching():
    rng = np.random.default_rng(0)
    dec = MicrobitAccDecoder(20)
    true = 10.0 + np.arange(500) * 0.02
    true[250:] += 5.0  # a 5 s link gap
    arrivals = true + rng.uniform(0.0, 0.03, true.size)  # BLE latency
    arrivals[100:110] = arrivals[109]  # ten notifications delivered at once
    t = np.array([dec.feed(b"\1\0\2\0\3\0", a).t[0] for a in arrivals])
    assert np.all(np.diff(t) > 0)
    assert np.all(t <= arrivals + 0.002 + 1e-9)  # later only to stay 0.1 period apart
    err = t - true  # stamps stay on the sample grid, within the link latency
    assert err.min() >= 0 and err.max() < 0.03
    assert dec.stats.resyncs == 1
    spacing = np.diff(t[120:240])
    assert abs(spacing.mean() - 0.02) < 0.001


def test_other_lengths_are_counted():
    dec = MicrobitAccDecoder()
    assert len(dec.feed(b"\0" * 5)) == 0 and len(dec.feed(b"\0" * 12)) == 0
    assert dec.stats.bad == 2


@settings(max_examples=200, deadline=None)
@given(
    st.lists(st.tuples(*[st.integers(-32768, 32767)] * 3), max_size=20),
    st.lists(st.binary(max_size=20).filter(lambda b: len(b) != 6), max_size=8),
    st.randoms(use_true_random=False),
)
def test_garbage_notifications_never_make_samples(rows, garbage, rnd):
    notes = encode_microbit_frames(np.array(rows, dtype=float).reshape(-1, 3) / 1000)
    for g in garbage:
        notes.insert(rnd.randint(0, len(notes)), g)
    dec = MicrobitAccDecoder(20)
    b = DecodedBatch.concat([dec.feed(x, 1.0 + i * 0.02) for i, x in enumerate(notes)])
    np.testing.assert_array_equal(b.acc, np.array(rows, dtype=float).reshape(-1, 3) / 1000)
    assert dec.stats.bad == len(garbage)
