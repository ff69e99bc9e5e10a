"""Shared pieces: DecodedBatch, ArrivalClock, error classes, every decoder under fuzzing."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import firmware_bridge as fb
from firmware_bridge.errors import ConfigurationError, FrameError, ProtocolError
from firmware_bridge.samples import ArrivalClock, DecodedBatch

DECODERS = {
    "polar": lambda: fb.PmdAccDecoder(200),
    "microbit": lambda: fb.MicrobitAccDecoder(20),
    "witmotion-serial": lambda: fb.WitmotionSerialDecoder(10),
    "witmotion-ble": lambda: fb.WitmotionBleDecoder(10),
    "nus": lambda: fb.NusDecoder(50),
    "serial-text": lambda: fb.SerialTextDecoder(50),
}


def test_error_hierarchy():
    assert issubclass(FrameError, ProtocolError)
    assert issubclass(ConfigurationError, ProtocolError)
    assert issubclass(ConfigurationError, ValueError)
    assert issubclass(fb.ControlPointError, ProtocolError)


def test_batch_concat_and_shapes():
    a = DecodedBatch(np.array([1.0]), np.array([[1.0, 2.0, 3.0]]))
    b = DecodedBatch.concat([a, DecodedBatch.empty(), a])
    assert len(b) == 2 and b.acc.shape == (2, 3)
    assert len(DecodedBatch.concat([])) == 0
    with pytest.raises(ValueError):
        DecodedBatch(np.zeros(2), np.zeros((3, 3)))


def test_arrival_clock_without_arrival_is_a_sample_counter():
    c = ArrivalClock(0.01, start=5.0)
    np.testing.assert_allclose(
        np.concatenate([c.stamp(3, None), c.stamp(2, None)]), 5.0 + np.arange(5) * 0.01
    )


def test_arrival_clock_batches_end_at_arrival_and_reanchor_after_gap():
    c = ArrivalClock(0.01)
    np.testing.assert_allclose(c.stamp(4, 10.0), [9.97, 9.98, 9.99, 10.0])
    np.testing.assert_allclose(c.stamp(2, 10.02), [10.01, 10.02])
    np.testing.assert_allclose(c.stamp(1, 20.0), [20.0])
    assert c.resyncs == 1
    t = c.stamp(5, 20.01)  # bunched: more samples than time since the last stamp
    np.testing.assert_allclose(t, 20.0 + np.arange(1, 6) * 0.002)  # spread up to the arrival


def test_arrival_clock_follows_a_fast_board_whose_notifications_come_in_bursts():
    # A 50 Hz board whose clock runs 2 % fast (a sample every 19.6 ms), its
    # notifications delivered 5 or 6 at a time at 100 ms BLE connection events, one
    # sample per feed. The stamps ran ahead of the arrivals by up to 0.68 s (each
    # sample of a burst got the previous stamp + 20 ms, however late that was) and
    # two stamps of a burst could be 1e-14 s apart.
    c = ArrivalClock(0.02)
    true = 100.0 + np.arange(3000) * 0.0196
    arrivals = np.ceil(true / 0.1) * 0.1 + 0.003
    t = np.array([c.stamp(1, a)[0] for a in arrivals])
    assert np.all(np.diff(t) >= 0.002 - 1e-9)  # never closer than 0.1 period
    assert np.max(t - arrivals) <= 0.002 + 1e-9
    assert np.max(np.abs(t - true)) < 0.03 and c.resyncs == 0


def test_arrival_clock_follows_a_board_five_times_faster_than_nominal():
    # A WitMotion set to 50 Hz (and saved) read with the default 10 Hz, its packets
    # delivered at 30 ms connection events: the stamps ran up to 1 s ahead and jumped
    # back 204 times a minute (each a resync the recorder takes for a clock reset).
    c = ArrivalClock(0.1)
    true = 100.0 + np.arange(3000) * 0.02
    arrivals = np.ceil(true / 0.03) * 0.03 + 0.003
    t = np.array([c.stamp(1, a)[0] for a in arrivals])
    assert np.all(np.diff(t) > 0) and c.resyncs == 0
    assert np.max(np.abs(t - true)) < 0.04


@pytest.mark.parametrize("name", DECODERS)
@settings(max_examples=100, deadline=None)
@given(notes=st.lists(st.binary(max_size=64), max_size=10))
def test_every_decoder_survives_random_bytes(name, notes):
    dec = DECODERS[name]()
    for i, note in enumerate(notes):
        b = dec.feed(note, arrival_time=100.0 + 0.02 * i)
        assert isinstance(b, DecodedBatch) and b.acc.shape == (len(b), 3)
        assert np.all(np.isfinite(b.acc)) and np.all(np.isfinite(b.t))
        if i == 5:
            dec.reset()
    assert dec.stats.bytes_in == sum(map(len, notes))
