"""Serial text and NUS lines: formats, options, recognition, boot text, fuzzing."""

from __future__ import annotations

import functools

import numpy as np
import pytest
from hypothesis import assume, given, settings
from hypothesis import strategies as st

from firmware_bridge.errors import ConfigurationError
from firmware_bridge.nus import NusDecoder
from firmware_bridge.samples import DecodedBatch
from firmware_bridge.serial_text import (
    TEXT_FORMATS,
    SerialTextDecoder,
    TextFormat,
    parse_text_format,
)
from sim import NightConfig, simulate_night
from sim.encoders.nus import encode_nus_notifications
from sim.encoders.serial_text import BOOT_TEXT, default_decimals, encode_text_lines

FS = 50.0


@functools.lru_cache
def night():
    n = simulate_night(NightConfig(hours=0.005, fs=FS, seed=5))
    return n.time - n.time[0] + 12.0, n.acc


def tolerance(fmt: TextFormat) -> float:
    d = default_decimals(fmt)
    return (0.5 * 10.0**-d if d else 0.5) * fmt.g_per_unit + 1e-12


def feed_chunks(dec, data, cuts, arrival=None):
    cuts = sorted(set(c for c in cuts if 0 < c < len(data)))
    pieces = [data[a:b] for a, b in zip([0, *cuts], [*cuts, len(data)], strict=True)]
    return DecodedBatch.concat([dec.feed(p, arrival) for p in pieces])


ALL_SPECS = [
    *TEXT_FORMATS,
    "csv,unit=mg",
    "delim=tab,cols=t_ms/ax/ay/az,unit=ms2",
    "delim=semicolon,cols=_:az:ay:ax:t_us",
    "puck,unit=4096",
    "keys=X/Y/Z,unit=mg",
    "json=a.b.x/a.y/z,unit=g",
    "csv,prefix=ACC",
]


@pytest.mark.parametrize("spec", ALL_SPECS)
def test_round_trip_explicit_format(spec):
    t, acc = night()
    fmt = parse_text_format(spec)
    data = encode_text_lines(acc, fmt, t=t, header=True)
    dec = SerialTextDecoder(FS, spec)
    b = dec.feed(data)
    np.testing.assert_allclose(b.acc, acc, rtol=0, atol=tolerance(fmt))
    if fmt.has_time:
        np.testing.assert_allclose(b.t, t, atol=0.5e-3 + 1e-9)  # whole ms (t_us: 1 us)
    else:
        np.testing.assert_allclose(b.t, np.arange(len(acc)) / FS)
    assert dec.stats.samples == len(acc)
    assert dec.stats.bad == (1 if fmt.kind == "delimited" else 0)  # the header line


@pytest.mark.parametrize(
    ("spec", "expect"),
    [
        ("csv", "csv,unit=g"),
        ("csv,unit=mg", "csv,unit=mg"),
        ("csv,unit=ms2", "csv,unit=ms2"),
        ("csv-ms", "csv-ms,unit=g"),
        ("tsv", "tsv,unit=g"),
        ("tsv-ms,unit=mg", "tsv-ms,unit=mg"),
        ("adafruit", "adafruit"),
        ("mpu6050-raw", "mpu6050-raw"),
        ("puck", "puck"),
    ],
)
def test_recognised_after_boot_text(spec, expect):
    t, acc = night()
    acc = acc.copy()
    acc[:5] = [0.02, -0.03, 0.98]  # lying still while the format is recognised
    fmt = parse_text_format(spec)
    data = BOOT_TEXT + encode_text_lines(acc, fmt, t=t, header=True)
    dec = SerialTextDecoder(FS)
    b = DecodedBatch.concat(
        [dec.feed(data[i : i + 64], 100.0 + i / 1e4) for i in range(0, len(data), 64)]
    )
    assert dec.format is not None and dec.format.name == expect
    np.testing.assert_allclose(b.acc, acc, rtol=0, atol=tolerance(fmt))
    assert dec.stats.skipped >= 6 and dec.stats.bad == 0


def test_board_reset_mid_stream_is_skipped_and_counted():
    _, acc = night()
    data = (
        encode_text_lines(acc[:100], "tsv")
        + BOOT_TEXT
        + b"\xff\xfe binary junk\r\n"
        + encode_text_lines(acc[100:], "tsv")
    )
    dec = SerialTextDecoder(FS, "tsv")
    b = dec.feed(data)
    np.testing.assert_allclose(b.acc, acc, atol=tolerance(TEXT_FORMATS["tsv"]))
    assert dec.stats.bad == 7


def test_reopened_port_starting_mid_line_skips_the_fragment():
    """After a reset (a re-opened port, input flushed mid-line) the fragment up to the
    first line end is dropped: a time field that lost its leading digits ('95' of
    '8950') never becomes a sample 8 s out of place."""
    dec = SerialTextDecoder(FS, "csv-ms")
    first = dec.feed(b"8930,0.10000,0.20000,0.90000\r\n8940,0.1")
    assert first.t.tolist() == [8.93]
    dec.reset()
    got = dec.feed(b"50,0.11000,0.21000,0.91000\r\n8960,0.12000,0.22000,0.92000\r\n8970,0.1")
    assert got.t.tolist() == [8.96]
    assert got.acc.tolist() == [[0.12, 0.22, 0.92]]
    assert dec.stats.discarded_bytes == len(b"8940,0.1") + len(b"50,0.11000,0.21000,0.91000\r")
    # a reset that lands exactly on a line start costs that one line, no more
    dec.reset()
    assert len(dec.feed(b"8980,0,0,1\n8990,0,0,1\n9000,0,0,1\n")) == 2


def test_overlong_line_dropped_whole_in_any_chunking():
    good = encode_text_lines(np.ones((3, 3)), "csv")
    data = good + b"1," * 700 + b"1\n" + good
    for step in (1, 7, 1000, len(data)):
        dec = SerialTextDecoder(FS, "csv")
        b = feed_chunks(dec, data, range(step, len(data), step))
        assert len(b) == 6 and dec.stats.bad == 1


def test_unknown_units_are_not_guessed():
    data = encode_text_lines(np.tile([0, 0, 1.0], (300, 1)), "csv,unit=16384")
    dec = SerialTextDecoder(FS)
    assert len(dec.feed(data)) == 0 and dec.format is None
    assert dec.stats.skipped == 300 - 2  # the last 2 wait in the recognition window
    dec = SerialTextDecoder(FS, "csv,unit=16384")
    np.testing.assert_allclose(dec.feed(data).acc, np.tile([0, 0, 1.0], (300, 1)))


def test_auto_relocks_when_the_board_changes_format():
    _, acc = night()
    data = encode_text_lines(acc[:50], "csv") + encode_text_lines(acc[50:], "puck")
    dec = SerialTextDecoder(FS, relock_after=5)
    b = dec.feed(data)
    assert dec.format.name == "puck"
    assert len(b) == len(acc) - 5 - 3 + 3  # 5 lines lost before relock, 3 re-confirmed


@pytest.mark.parametrize(
    "bad",
    [
        "nope",
        "csv,unit=parsec",
        "delim=pipe",
        "cols=ax/ay",
        "cols=ax/ay/az/t_ms/t_s",
        "csv,foo=1",
        "keys=A/B",
        "csv,unit",
    ],
)
def test_bad_options_raise_configuration_error(bad):
    with pytest.raises(ConfigurationError):
        parse_text_format(bad)


def test_option_parsing():
    f = parse_text_format("delim=tab,cols=t_ms/ax/ay/az,unit=mg")
    assert (f.delimiter, f.columns, f.g_per_unit, f.has_time) == (
        "\t",
        ("t_ms", "ax", "ay", "az"),
        1e-3,
        True,
    )
    assert parse_text_format("auto") is None
    assert parse_text_format("puck,unit=4096").g_per_unit == 1 / 4096


def test_lines_reject_non_numbers():
    f = TEXT_FORMATS["csv"]
    for line in ("nan,0,1", "inf,0,1", "1_0,0,1", "0x1,0,1", "1,2", "1,2,3,4", "1e999,0,0"):
        assert f.parse(line) is None
    assert f.parse(" 1 , -2.5e-1 ,3.,") == (pytest.approx(np.nan, nan_ok=True), 1, -0.25, 3)


def test_nus_notifications_round_trip():
    _, acc = night()
    notes = encode_nus_notifications(acc, "puck")
    assert max(map(len, notes)) == 20
    dec = NusDecoder(FS)
    b = DecodedBatch.concat([dec.feed(x, 5.0 + i * 0.01) for i, x in enumerate(notes)])
    np.testing.assert_allclose(b.acc, acc, atol=0.5 / 8192 + 1e-12)
    assert np.all(np.diff(b.t) > 0)


@pytest.mark.parametrize("fmt", ["csv", "auto"])
def test_nus_reconnection_starting_mid_line_skips_the_fragment(fmt):
    # A sketch printing a line in pieces is mid-line when notifications come on: the
    # host first sees the tail of "-0.0123,0.0200,1.0000" without its "-0", which
    # parsed as (0.0123, 0.02, 1.0) g, the sign lost (the tail of "0.0123,…" without
    # its "0." reads as 123 g).
    dec = NusDecoder(FS, fmt)
    dec.reset()  # BleSource.open resets the decoder on every (re)connection
    lines = b"".join(b"-0.0123,0.0200,1.%04d\n" % k for k in range(4))
    b = DecodedBatch.concat([dec.feed(lines[2:10], 1.0), dec.feed(lines[10:], 1.1)])
    np.testing.assert_array_equal(b.acc, [[-0.0123, 0.02, 1.0 + k / 1e4] for k in (1, 2, 3)])
    assert dec.stats.discarded_bytes == len(b".0123,0.0200,1.0000\n")


# --------------------------------------------------------------------------- fuzzing
@settings(max_examples=200, deadline=None)
@given(
    st.binary(max_size=400),
    st.lists(st.integers(0, 400), max_size=10),
    st.sampled_from(["auto", "csv", "puck", "adafruit", "mpu6050-raw", "csv-ms"]),
)
def test_random_bytes_never_raise(data, cuts, spec):
    dec = SerialTextDecoder(FS, spec, max_line=64)
    b = feed_chunks(dec, data, cuts, arrival=1.0)
    assert b.acc.shape == (len(b), 3) and dec.stats.bytes_in == len(data)


garbage_line = st.binary(max_size=40).map(lambda b: b.replace(b"\n", b"").replace(b"\r", b""))
rows_st = st.lists(st.tuples(*[st.integers(-20000, 20000)] * 3), min_size=1, max_size=12)


@settings(max_examples=200, deadline=None)
@given(
    rows_st,
    st.lists(garbage_line, max_size=5),
    st.lists(st.integers(0, 600), max_size=8),
    st.sampled_from(["csv", "tsv-ms", "adafruit", "puck", "mpu6050-raw"]),
    st.randoms(use_true_random=False),
)
def test_garbage_lines_never_become_samples(rows, garbage, cuts, spec, rnd):
    fmt = parse_text_format(spec)
    for g in garbage:  # garbage that reads as a data line is data: excluded
        try:
            text = g.decode("ascii").strip()
        except UnicodeDecodeError:
            continue
        assume(not text or fmt.parse(text) is None)
    acc = np.array(rows, dtype=float) * fmt.g_per_unit
    if fmt.unit == "g":
        acc = acc / 1000  # 4 decimals represent these exactly enough
    t = np.arange(len(rows)) * 0.01 + 1.0
    lines = [encode_text_lines(acc[i : i + 1], fmt, t=t[i : i + 1]) for i in range(len(rows))]
    for g in garbage:
        lines.insert(rnd.randint(0, len(lines)), g + b"\n")
    data = b"".join(lines)
    whole = SerialTextDecoder(FS, fmt).feed(data)
    np.testing.assert_allclose(whole.acc, acc, rtol=0, atol=tolerance(fmt))
    split = feed_chunks(SerialTextDecoder(FS, fmt), data, cuts)
    np.testing.assert_array_equal(split.acc, whole.acc)
    np.testing.assert_array_equal(split.t, whole.t)
    auto_dec = SerialTextDecoder(FS)
    auto = feed_chunks(auto_dec, data, cuts)
    if len(auto):  # units may be guessed differently: compare in the encoded unit
        got = auto.acc / auto_dec.format.g_per_unit * fmt.g_per_unit
        it = iter(whole.acc)
        assert all(any(np.allclose(g, r, rtol=1e-9) for r in it) for g in got)
