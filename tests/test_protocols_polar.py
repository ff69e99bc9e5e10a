"""Polar PMD: commands, control point, verified frames, step rule, round trips, fuzzing."""

from __future__ import annotations

import functools

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from firmware_bridge.errors import ConfigurationError, ControlPointError, FrameError
from firmware_bridge.polar_pmd import (
    POLAR_EPOCH_UNIX,
    PmdAccDecoder,
    PmdAccSettings,
    PmdFeatures,
    PmdResponse,
    PmdStreamStopped,
    parse_control_point,
    parse_pmd_frame,
    pmd_get_settings_command,
    pmd_start_command,
    pmd_stop_command,
)
from firmware_bridge.samples import DecodedBatch
from sim import NightConfig, simulate_night
from sim.encoders.polar_pmd import (
    encode_pmd_frames,
    encode_pmd_response,
    encode_pmd_settings,
    encode_pmd_stopped,
)

H = bytes.fromhex
VERIFIED_RAW = H("02 00 94 35 77 00 00 00 00 01 F7 FF FF FF E7 03")
VERIFIED_DELTA = H("02 00 94 35 77 00 00 00 00 81 F1 FF 14 00 F0 03 06 01 7B 0F 08")


@functools.lru_cache
def night(fs: float = 200.0):
    return simulate_night(NightConfig(hours=0.01, fs=fs, seed=3))


def decode_all(decoder, frames) -> DecodedBatch:
    return DecodedBatch.concat([decoder.feed(f) for f in frames])


# ------------------------------------------------------------------------ commands
def test_h10_start_command_exact():
    assert pmd_start_command(PmdAccSettings.h10(200, 8)) == H(
        "02 02 00 01 C8 00 01 01 10 00 02 01 08 00"
    )


@pytest.mark.parametrize(("rate", "code"), [(25, "19 00"), (50, "32 00"), (100, "64 00")])
def test_h10_rates(rate, code):
    cmd = pmd_start_command(PmdAccSettings.h10(rate, 2))
    assert cmd == H(f"02 02 00 01 {code} 01 01 10 00 02 01 02 00")


def test_verity_start_command_has_u8_channels():
    assert pmd_start_command(PmdAccSettings.verity_sense()) == H(
        "02 02 00 01 34 00 01 01 10 00 02 01 08 00 04 01 03"
    )


def test_stop_and_get_settings():
    assert pmd_stop_command() == H("03 02")
    assert pmd_get_settings_command() == H("01 02")


@pytest.mark.parametrize("kw", [{"sample_rate": 52}, {"range_g": 16}])
def test_h10_rejects_unsupported(kw):
    with pytest.raises(ConfigurationError):
        PmdAccSettings.h10(**kw)


# ------------------------------------------------------------------- control point
def test_success_response():
    msg = parse_control_point(encode_pmd_response(2, 2, 0))
    assert isinstance(msg, PmdResponse) and msg.ok and msg.opcode == 2
    msg.raise_for_status()


def test_error_response_raises_with_name():
    msg = parse_control_point(H("F0 02 02 08 00"))
    assert isinstance(msg, PmdResponse) and not msg.ok
    assert msg.status_name == "ERROR_INVALID_SAMPLE_RATE"
    with pytest.raises(ControlPointError, match="ERROR_INVALID_SAMPLE_RATE") as err:
        msg.raise_for_status()
    assert err.value.status == 8


def test_already_in_state_and_unknown_status():
    assert parse_control_point(H("F0 02 02 06")).status_name == "ERROR_ALREADY_IN_STATE"
    assert parse_control_point(H("F0 02 02 63")).status_name == "UNKNOWN_99"


def test_unprompted_stop():
    msg = parse_control_point(encode_pmd_stopped(2))
    assert msg == PmdStreamStopped(2)


def test_get_settings_response():
    params = encode_pmd_settings({0: [25, 50, 100, 200], 1: [16], 2: [2, 4, 8], 5: [0.5]})
    msg = parse_control_point(encode_pmd_response(1, 2, 0, params))
    assert msg.settings() == {0: [25, 50, 100, 200], 1: [16], 2: [2, 4, 8], 5: [0.5]}


def test_features():
    msg = parse_control_point(H("0F 05 00"))
    assert isinstance(msg, PmdFeatures) and msg.acc and msg.measurement_types == {0, 2}


@settings(max_examples=200, deadline=None)
@given(st.binary(max_size=40))
def test_control_point_random_bytes_only_frame_error(data):
    try:
        parse_control_point(data)
    except FrameError:
        pass


# ---------------------------------------------------------------------- data frames
def test_verified_uncompressed_frame():
    frame = parse_pmd_frame(VERIFIED_RAW)
    assert frame.timestamp_ns == 2_000_000_000
    np.testing.assert_array_equal(frame.mg, [[-9, -1, 999]])
    b = PmdAccDecoder(200).feed(VERIFIED_RAW)
    assert b.t.tolist() == [POLAR_EPOCH_UNIX + 2.0]
    np.testing.assert_array_equal(b.acc, [[-0.009, -0.001, 0.999]])


def test_verified_compressed_frame_first_frame_uses_rate():
    frame = parse_pmd_frame(VERIFIED_DELTA)
    np.testing.assert_array_equal(frame.mg, [[-15, 20, 1008], [-20, 17, 1008]])
    b = PmdAccDecoder(200).feed(VERIFIED_DELTA)
    np.testing.assert_allclose(b.t - POLAR_EPOCH_UNIX, [1.995, 2.0], rtol=0, atol=1e-6)


def test_step_rule_uses_previous_frame_stamp():
    acc = np.zeros((20, 3))
    t = POLAR_EPOCH_UNIX + 100.0 + np.arange(20) * 0.0052  # device a little slow vs 200 Hz
    frames = encode_pmd_frames(t, acc, samples_per_frame=10)
    b = decode_all(PmdAccDecoder(200), frames)
    np.testing.assert_allclose(b.t[10:], t[10:], rtol=0, atol=1e-6)  # second frame: measured step
    np.testing.assert_allclose(np.diff(b.t[:10]), 0.005, rtol=0, atol=3e-7)  # first: 1 / rate
    assert b.t[9] == pytest.approx(t[9], abs=1e-8)


def test_lost_frame_and_clock_reset_keep_the_step_before():
    t = POLAR_EPOCH_UNIX + 5000.0 + np.arange(40) * 0.005
    frames = encode_pmd_frames(t, np.zeros((40, 3)), samples_per_frame=10)
    dec = PmdAccDecoder(200)
    b = decode_all(dec, [frames[0], frames[2], frames[3]])  # frame 1 lost
    np.testing.assert_allclose(b.t[10:], t[20:], rtol=0, atol=1e-6)
    assert dec.stats.resyncs == 1
    reset = encode_pmd_frames(t - 1000.0, np.zeros((40, 3)), samples_per_frame=10)
    b2 = dec.feed(reset[0])  # the step measured before (epoch floats: 1.2e-7 s apart)
    np.testing.assert_allclose(np.diff(b2.t), 0.005, rtol=0, atol=3e-7)
    assert dec.stats.resyncs == 2


@pytest.mark.parametrize("fs", [201.0, 199.0])
def test_lost_frame_with_a_board_clock_off_nominal_keeps_the_sample_spacing(fs):
    # H10 frames of 36 samples from a board whose clock runs 0.5 % fast or slow: one
    # lost frame makes (stamp - previous stamp) / 36 just under or over 2 x nominal.
    # Both times the frame after the loss keeps the spacing measured before it (it
    # was spread over the gap, its first sample 174 ms early, when the clock was fast).
    t = POLAR_EPOCH_UNIX + 5000.0 + np.arange(36 * 5) / fs
    frames = encode_pmd_frames(t, np.zeros((len(t), 3)), samples_per_frame=36)
    dec = PmdAccDecoder(200)
    b = decode_all(dec, [frames[0], frames[1], frames[3], frames[4]])  # frame 2 lost
    np.testing.assert_allclose(b.t[35:72], t[35:72], rtol=0, atol=1e-6)
    np.testing.assert_allclose(b.t[72:108], t[108:144], rtol=0, atol=1e-6)
    np.testing.assert_allclose(b.t[108:], t[144:], rtol=0, atol=1e-6)
    assert dec.stats.resyncs == 1


@pytest.mark.parametrize(
    ("frame_type", "kw", "per_count_g", "bits"),
    [
        (0x00, {}, 1e-3, 8),
        (0x01, {}, 1e-3, 16),
        (0x02, {}, 1e-3, 24),
        (0x81, {}, 1e-3, 16),
        (0x81, {"bit_width": 16}, 1e-3, 16),
        (0x81, {"factor": 2.0}, 2e-3, 16),
        (0x80, {"factor": 1 / 4096}, 1 / 4096, 16),
    ],
)
def test_round_trip_simulated_night(frame_type, kw, per_count_g, bits):
    n = night()
    t = n.time - n.time[0] + POLAR_EPOCH_UNIX + 600_000_000.0
    frames = encode_pmd_frames(t, n.acc, samples_per_frame=36, frame_type=frame_type, **kw)
    dec = PmdAccDecoder(200, factor=kw.get("factor", 1.0))
    b = decode_all(dec, frames)
    lim = 2 ** (bits - 1)
    expect = np.clip(np.round(n.acc / per_count_g), -lim, lim - 1) * per_count_g
    np.testing.assert_allclose(b.acc, expect, rtol=0, atol=1e-12)
    assert dec.stats.samples == len(n.acc) and dec.stats.bad == 0
    last = np.arange(35, len(t), 36)
    np.testing.assert_allclose(b.t[last], t[last], rtol=0, atol=1e-6)
    assert np.all(np.diff(b.t) > 0)


def test_encoder_rejects_too_narrow_bit_width():
    acc = np.array([[0, 0, 0], [0.5, 0, 0]])
    with pytest.raises(ValueError, match="bits"):
        encode_pmd_frames(POLAR_EPOCH_UNIX + np.arange(2.0), acc, frame_type=0x81, bit_width=4)


def test_other_measurement_and_bad_frames_are_counted():
    dec = PmdAccDecoder(130)
    assert len(dec.feed(H("00 00 94 35 77 00 00 00 00 00 01 02 03"))) == 0  # ECG frame
    assert len(dec.feed(VERIFIED_RAW[:-1])) == 0  # truncated
    assert len(dec.feed(H("02 00 94 35 77 00 00 00 00 81 F1 FF 14 00 F0 03 06 09 7B"))) == 0
    assert (dec.stats.skipped, dec.stats.bad, dec.stats.samples) == (1, 2, 0)


# -------------------------------------------------------------------------- fuzzing
@settings(max_examples=300, deadline=None)
@given(st.lists(st.binary(max_size=60), max_size=8))
def test_random_notifications_never_raise(notes):
    dec = PmdAccDecoder(200)
    for note in notes:
        b = dec.feed(note)
        assert b.acc.shape == (len(b), 3)


def _rejected(data: bytes) -> bool:
    if len(data) >= 10 and data[0] != 2:
        return True
    try:
        parse_pmd_frame(data)
    except FrameError:
        return True
    return False


mg_rows = st.lists(st.tuples(*[st.integers(-2000, 2000)] * 3), min_size=1, max_size=12)


@settings(max_examples=150, deadline=None)
@given(
    st.lists(st.tuples(mg_rows, st.sampled_from([0x01, 0x02, 0x81])), min_size=1, max_size=5),
    st.lists(st.binary(max_size=30).filter(_rejected), max_size=6),
    st.randoms(use_true_random=False),
)
def test_garbage_notifications_do_not_change_valid_output(chunks, garbage, rnd):
    frames, t0 = [], POLAR_EPOCH_UNIX + 1000.0
    for rows, ftype in chunks:
        acc = np.array(rows, dtype=float) / 1000.0
        t = t0 + np.arange(len(rows)) * 0.005
        frames += encode_pmd_frames(t, acc, samples_per_frame=len(rows), frame_type=ftype)
        t0 = t[-1] + 0.005
    mixed = list(frames)
    for g in garbage:
        mixed.insert(rnd.randint(0, len(mixed)), g)
    clean = decode_all(PmdAccDecoder(200), frames)
    noisy = decode_all(PmdAccDecoder(200), mixed)
    np.testing.assert_array_equal(noisy.acc, clean.acc)
    np.testing.assert_array_equal(noisy.t, clean.t)
    expect = np.concatenate([np.array(r, dtype=float) for r, _ in chunks]) / 1000.0
    np.testing.assert_array_equal(clean.acc, expect)
