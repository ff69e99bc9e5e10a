"""Axivity ``.cwa`` and GENEActiv ``.bin`` binaries, on files encoded byte by byte here.

The encoders below write the documented layouts (see the docstrings of
:mod:`pipeline.formats.cwa` and :mod:`pipeline.formats.geneactiv_bin`) for a handful of
blocks or pages; the tests check decoded times (epoch s UTC) and values (g) exactly,
the rate, the metadata, skipped corrupt blocks, truncated files, daylight-saving
handling and ``.gz``. The committed fixtures ``tests/data/formats/ax3_night.cwa`` and
``geneactiv_night.bin`` are written by :func:`write_fixtures` (``python
tests/test_formats_binary.py``).
"""

from __future__ import annotations

import gzip
import logging
import struct
from datetime import UTC, datetime, timedelta, timezone
from pathlib import Path

import numpy as np
import pytest
from format_fixtures import raw_rows

from pipeline.errors import InputError
from pipeline.formats import InputOptions, detect_format, open_source
from pipeline.reader import open_recording, read_recording

FIXTURES = Path(__file__).parent / "data" / "formats"


# ============================================================== Axivity .cwa encoder
def pack_time(when: datetime) -> int:
    """The 32-bit packed timestamp of a naive date-time (year-2000 6 bits, month 4,
    day 5, hours 5, minutes 6, seconds 6)."""
    return ((when.year - 2000) << 26 | when.month << 22 | when.day << 17 | when.hour << 12
            | when.minute << 6 | when.second)  # fmt: skip


def with_checksum(block: bytearray) -> bytes:
    """The block with its last word set so that its 16-bit words sum to 0."""
    words = struct.unpack("<255H", bytes(block[:510]))
    block[510:512] = struct.pack("<H", (-sum(words)) & 0xFFFF)
    return bytes(block)


def cwa_header(*, hardware: int = 0x17, device_id: int = 0x0001_2345, session: int = 77,
               code: int = 0x4A, annotation: bytes = b"_sc=night%201&_p=left+wrist",
               start: int = 0, end: int = 0xFFFFFFFF, sensors: int = 0) -> bytes:  # fmt: skip
    """The 1024-byte "MD" header block; ``sensors``: the sensor configuration byte
    (0: accelerometer only; an AX6's gyroscope range code in the low nibble)."""
    h = bytearray(b"\xff" * 1024)
    h[0:4] = b"MD" + struct.pack("<H", 1020)
    h[4] = hardware
    h[5:7] = struct.pack("<H", device_id & 0xFFFF)
    h[7:11] = struct.pack("<I", session)
    h[11:13] = struct.pack("<H", device_id >> 16)
    h[13:17] = struct.pack("<I", start)
    h[17:21] = struct.pack("<I", end)
    h[35] = sensors
    h[36] = code
    h[41] = 45
    h[64:512] = annotation.ljust(448, b" ")
    return bytes(h)


def pack_word(x: int, y: int, z: int, e: int = 0) -> int:
    """One packed sample: 10-bit two's complement x, y, z (x least significant), then
    the 2-bit exponent."""
    return (x & 0x3FF) | (y & 0x3FF) << 10 | (z & 0x3FF) << 20 | (e & 3) << 30


def cwa_block(values: np.ndarray, when: datetime, offset: int, sequence: int, *,
              session: int = 77, code: int = 0x4A, axes: int = 3, packed: bool = False,
              fraction: float | None = None, scale_bits: int = 0) -> bytes:  # fmt: skip
    """One 512-byte "AX" block. ``values``: (n, axes) int16 samples, or (n,) packed
    words; ``when`` the timestamp (naive local), ``offset`` the timestampOffset as stored;
    ``fraction`` (s, < 1): the fractional timestamp (top bit of deviceFractional); then
    the offset is stored lowered by the whole samples the fraction stands for, as the
    firmware does (its "backwards-compatible shim")."""
    b = bytearray(512)
    b[0:4] = b"AX" + struct.pack("<H", 508)
    frac = 0x1234 if fraction is None else 0x8000 | (int(round(fraction * 65536)) >> 1)
    if fraction is not None:
        rate = 3200 / (1 << (15 - (code & 15)))
        offset -= (((frac & 0x7FFF) << 1) * int(rate)) >> 16
    b[4:6] = struct.pack("<H", frac)
    b[6:10] = struct.pack("<I", session)
    b[10:14] = struct.pack("<I", sequence)
    b[14:18] = struct.pack("<I", pack_time(when))
    b[18:20] = struct.pack("<H", scale_bits << 13 | 123)
    b[20:22] = struct.pack("<H", 300)
    b[22], b[23], b[24] = 0, 200, code
    b[25] = (axes << 4) | (0 if packed else 2)
    b[26:28] = struct.pack("<h", offset)
    b[28:30] = struct.pack("<H", len(values))
    data = np.asarray(values, "<u4" if packed else "<i2").tobytes()
    b[30 : 30 + len(data)] = data
    return with_checksum(b)


T0 = datetime(2026, 1, 1, 21, 20, 0)  # naive local time of the first sample


def ax3_blocks(
    n: int, rate: float = 100.0, per: int = 80, **kw: object
) -> tuple[list[bytes], np.ndarray]:
    """``n`` unpacked AX3 blocks of ``per`` samples from :data:`T0` at ``rate`` Hz,
    whole-second timestamps (top bit of deviceFractional clear) at the first sample of
    each second; returns the blocks and their samples (per n, 3) int16 (x = index)."""
    out, samples = [], []
    for k in range(n):
        first = k * per
        anchor = int(np.ceil(first / rate)) * rate  # the next sample on a whole second
        x = np.arange(first, first + per) % 2000 - 1000
        vals = np.column_stack([x, np.full(per, 256), np.full(per, -512)]).astype(np.int16)
        when = T0 + timedelta(seconds=anchor / rate)
        out.append(cwa_block(vals, when, int(anchor - first), k, **kw))  # type: ignore[arg-type]
        samples.append(vals)
    return out, np.concatenate(samples)


def write_cwa(path: Path, blocks: list[bytes], header: bytes | None = None,
              compress: bool = False) -> Path:  # fmt: skip
    data = (header or cwa_header()) + b"".join(blocks)
    path.write_bytes(gzip.compress(data) if compress else data)
    return path


EPOCH0 = T0.replace(tzinfo=UTC).timestamp()
#: one unit in the last place of an epoch time in 2026 (s): times are exact to it
ULP = float(np.spacing(EPOCH0))


# ============================================================== Axivity .cwa tests
@pytest.mark.parametrize("compress", [False, True, "zip"], ids=["cwa", "cwa.gz", "zip"])
def test_cwa_unpacked_ax3_times_values_and_metadata(tmp_path, compress):
    blocks, vals = ax3_blocks(5)
    path = write_cwa(tmp_path / ("night.cwa" + (".gz" if compress is True else "")), blocks,
                     compress=compress is True)  # fmt: skip
    if compress == "zip":
        import zipfile

        with zipfile.ZipFile(tmp_path / "night.zip", "w", zipfile.ZIP_DEFLATED) as zf:
            zf.write(path, "night.cwa")
        path = tmp_path / "night.zip"
    assert detect_format(path) == "cwa"
    t, a, src = raw_rows(path)
    assert t.size == 400
    np.testing.assert_allclose(t, EPOCH0 + np.arange(400) / 100.0, rtol=0, atol=ULP)
    np.testing.assert_array_equal(a, vals / 256.0)  # AX3: 1/256 g
    meta = src.metadata
    assert meta["format"] == "cwa" and meta["device_type"] == "AX3"
    assert meta["device_id"] == str(0x12345) and meta["session_id"] == "77"
    assert meta["sample_rate_hz"] == "100" and meta["range_g"] == "8"
    assert meta["cwa_subject_code"] == "night 1"
    assert meta["cwa_body_location"] == "left wrist"
    assert meta["device_time_zone"] == "UTC"
    assert meta.get("compression") == {True: "gzip", "zip": "zip", False: None}[compress]
    assert src.skipped_blocks == 0 and not src.partial_block_dropped


def test_cwa_packed_words_sign_and_exponent(tmp_path):
    # 120 packed samples a block: x from the least significant bits, 10-bit two's
    # complement, shifted left by the exponent; 1/256 g
    cases = [(1, -1, 511, 0), (-512, 0, 5, 1), (3, -3, -100, 2), (-1, 100, 0, 3)]
    words = np.array([pack_word(*c) for c in cases] * 30, np.uint32)
    expect = np.array([[x << e, y << e, z << e] for x, y, z, e in cases] * 30) / 256.0
    block = cwa_block(words, T0, 0, 0, packed=True, code=0x4A)
    block2 = cwa_block(words, T0 + timedelta(seconds=1), -20, 1, packed=True)  # 1.2 s later
    t, a, src = raw_rows(write_cwa(tmp_path / "p.cwa", [block, block2]))
    np.testing.assert_array_equal(a, np.vstack([expect, expect]))
    np.testing.assert_allclose(t, EPOCH0 + np.arange(240) / 100.0, rtol=0, atol=ULP)
    assert src.metadata["packing"] == "packed 10-bit"


def test_cwa_ax6_reads_the_accelerometer_after_the_gyroscope(tmp_path):
    # 6 axes: Gx Gy Gz Ax Ay Az, 40 samples; light's top 3 bits 4: ±8 g at 1/4096 g
    n = 40
    gyro = np.full((n, 3), 9999)
    acc = np.column_stack([np.arange(n), -np.arange(n), np.full(n, 4096)])
    vals = np.hstack([gyro, acc]).astype(np.int16)
    blocks = [cwa_block(vals, T0, 0, 0, axes=6, scale_bits=4),
              cwa_block(vals, T0 + timedelta(seconds=1), 60, 1, axes=6, scale_bits=4)]  # fmt: skip
    path = write_cwa(tmp_path / "ax6.cwa", blocks, cwa_header(hardware=0x64, sensors=0x02))
    t, a, src = raw_rows(path)
    np.testing.assert_array_equal(a, np.vstack([acc, acc]) / 4096.0)
    np.testing.assert_allclose(t, EPOCH0 + np.arange(80) / 100.0, rtol=0, atol=ULP)
    assert src.metadata["device_type"] == "AX6" and src.metadata["axes"] == "6"


def test_cwa_times_follow_the_block_timestamps_not_the_nominal_rate(tmp_path):
    # the device's clock says 80 samples take 0.816 s (98.04 Hz): times between the
    # timestamps are interpolated; before the first and after the last the nearest
    # spacing is extrapolated
    vals = np.zeros((80, 3), np.int16)
    stamps = [0.0, 0.816, 1.632, 2.448]  # time of each block's first sample
    blocks = []
    for k, s in enumerate(stamps):
        whole = int(np.floor(s))
        blocks.append(cwa_block(vals, T0 + timedelta(seconds=whole), 0, k,
                                fraction=s - whole))  # fmt: skip
    t, _, _ = raw_rows(write_cwa(tmp_path / "slow.cwa", blocks))
    frac = [((int(round((s % 1) * 65536)) >> 1) << 1) / 65536 + np.floor(s) for s in stamps]
    expect = np.concatenate([frac[k] + np.arange(80) * (frac[min(k + 1, 3)] - frac[min(k, 2)]) / 80
                             for k in range(4)])  # fmt: skip
    np.testing.assert_allclose(t, EPOCH0 + expect, rtol=0, atol=ULP)


@pytest.mark.parametrize("rows", [1, 100, 1000, 10**6])
def test_cwa_times_do_not_depend_on_the_chunk_size(tmp_path, rows):
    # a clock 1.3 % fast, fractional timestamps, a corrupt block in the middle: the
    # same times whatever the chunks (each waits for the next chunk's first timestamp)
    vals = np.zeros((80, 3), np.int16)
    blocks = []
    for k in range(40):
        s = 0.3 + k * 80 / 101.3
        blocks.append(cwa_block(vals, T0 + timedelta(seconds=int(s)), 0, k,
                                fraction=s - int(s)))  # fmt: skip
    blocks[17] = blocks[17][:300] + bytes(212)  # corrupt
    path = write_cwa(tmp_path / "drift.cwa", blocks)
    src = open_source(path, InputOptions())
    t = np.concatenate([b.t for b in src.blocks(rows)])
    src.close()
    whole = open_source(path, InputOptions())
    ref = np.concatenate([b.t for b in whole.blocks(10**7)])
    whole.close()
    np.testing.assert_array_equal(t, ref)
    assert t.size == 39 * 80 and (np.diff(t) > 0).all()
    gap = np.diff(t).argmax()
    assert gap == 17 * 80 - 1 and np.diff(t)[gap] == pytest.approx(81 / 101.3, abs=1e-4)


def anchored_beyond_their_blocks(n: int = 12) -> tuple[list[bytes], np.ndarray, np.ndarray]:
    """``n`` blocks of 80 samples whose timestamps belong to sample 100 of the block
    (beyond its end, as real AX3 and AX6 files have them: timestampOffset up to 140 in
    120-sample blocks), spaced alternately 9.8 and 10.2 ms a sample; returns the blocks
    and the anchors' sample indices and times (s after T0, as stored)."""
    vals = np.zeros((80, 3), np.int16)
    idx = np.arange(n) * 80 + 100
    step = np.where(np.arange(n - 1) % 2 == 0, 0.784, 0.816)
    stamps = 0.3 + np.concatenate(([0.0], np.cumsum(step)))
    blocks, times = [], []
    for k, s in enumerate(stamps):
        whole = int(np.floor(s))
        blocks.append(cwa_block(vals, T0 + timedelta(seconds=whole), 100, k,
                                fraction=s - whole))  # fmt: skip
        times.append(whole + ((int(round((s - whole) * 65536)) >> 1) << 1) / 65536)
    return blocks, idx.astype(np.float64), np.array(times)


def piecewise(k: np.ndarray, idx: np.ndarray, times: np.ndarray) -> np.ndarray:
    """Times of samples ``k`` linear between anchors ``idx`` (increasing) at ``times``,
    extrapolated beyond the ends with the end pairs' spacing."""
    out = np.interp(k, idx, times)
    head, tail = k < idx[0], k > idx[-1]
    out[head] = times[0] + (k[head] - idx[0]) * (times[1] - times[0]) / (idx[1] - idx[0])
    out[tail] = times[-1] + (k[tail] - idx[-1]) * (times[-1] - times[-2]) / (idx[-1] - idx[-2])
    return out


def test_cwa_times_interpolate_between_the_anchors_around_each_sample(tmp_path):
    # a sample lies between the two timestamps around it, whichever block holds it:
    # here the first 20 samples of a block come before the previous block's anchor
    # (openmovement's cwa_load.py interpolates the same way, np.interp over them)
    blocks, idx, times = anchored_beyond_their_blocks()
    t, _, _ = raw_rows(write_cwa(tmp_path / "beyond.cwa", blocks))
    expect = piecewise(np.arange(t.size, dtype=np.float64), idx, times)
    np.testing.assert_allclose(t, EPOCH0 + expect, rtol=0, atol=4 * ULP)
    assert (np.diff(t) > 0).all()


@pytest.mark.parametrize("rows", [1, 10**6])
def test_cwa_anchor_out_of_order_starts_a_new_run(tmp_path, rows):
    # block 3's timestamp belongs to a sample before block 2's (offset -90): the run
    # ends there; blocks 3-5 follow their own timestamps (here 5 % slower)
    vals = np.zeros((80, 3), np.int16)
    offsets = [100, 100, 100, -90, 100, 100]
    idx = np.arange(6) * 80.0 + offsets
    stamps = np.where(np.arange(6) < 3, 0.3 + idx * 0.01, 9.0 + (idx - idx[3]) * 0.0105)
    blocks, times = [], []
    for k, (s, off) in enumerate(zip(stamps, offsets, strict=True)):
        whole = int(np.floor(s))
        blocks.append(cwa_block(vals, T0 + timedelta(seconds=whole), off, k,
                                fraction=s - whole))  # fmt: skip
        times.append(whole + ((int(round((s - whole) * 65536)) >> 1) << 1) / 65536)
    path = write_cwa(tmp_path / "reset.cwa", blocks)
    src = open_source(path, InputOptions())
    t = np.concatenate([b.t for b in src.blocks(rows)])
    src.close()
    k = np.arange(480.0)
    times = np.array(times)
    expect = np.concatenate([piecewise(k[:240], idx[:3], times[:3]),
                             piecewise(k[240:], idx[3:], times[3:])])  # fmt: skip
    np.testing.assert_allclose(t, EPOCH0 + expect, rtol=0, atol=4 * ULP)


@pytest.mark.parametrize("rows", [1, 80, 200, 10**6])
def test_cwa_anchors_beyond_their_blocks_do_not_depend_on_the_chunk_size(tmp_path, rows):
    blocks, _, _ = anchored_beyond_their_blocks(30)
    path = write_cwa(tmp_path / "beyond.cwa", blocks)
    src = open_source(path, InputOptions())
    t = np.concatenate([b.t for b in src.blocks(rows)])
    src.close()
    ref, _, _ = raw_rows(path)
    np.testing.assert_array_equal(t, ref)


def test_cwa_fractional_timestamp_undoes_the_offset_shim():
    # with the top bit of deviceFractional set, the firmware lowered timestampOffset by
    # the whole samples the fraction stands for (fraction 0.5 at 100 Hz: 50 samples);
    # the reader adds them back (openmovement's cwa_load.py)
    from pipeline.formats.cwa import CwaSource

    block = cwa_block(np.zeros((80, 3), np.int16), T0, 0, 0, fraction=0.5)
    assert struct.unpack("<h", block[26:28])[0] == -50  # as stored
    src = object.__new__(CwaSource)
    src.__dict__.update(_format=None, _tz=UTC, path=Path("x.cwa"), skipped_blocks=0,
                        empty_blocks=0)  # fmt: skip
    from pipeline.formats.base import DstResolver

    src.dst = DstResolver()
    chunk = src._decode(1, block, 0)
    assert chunk is not None
    assert chunk.anchor[0] == 0.0 and chunk.time[0] == EPOCH0 + 0.5


def test_cwa_bad_blocks_are_skipped_and_counted(tmp_path, caplog):
    blocks, vals = ax3_blocks(6)
    bad = bytearray(blocks[2])
    bad[100] ^= 0xFF  # a flipped byte: the checksum fails
    blocks[2] = bytes(bad)
    blocks[4] = b"XY" + blocks[4][2:]  # a wrong header
    with caplog.at_level(logging.WARNING):
        t, a, src = raw_rows(write_cwa(tmp_path / "bad.cwa", blocks))
    keep = np.r_[0:160, 240:320, 400:480]
    np.testing.assert_array_equal(a, vals[keep] / 256.0)
    np.testing.assert_allclose(t, EPOCH0 + keep / 100.0, rtol=0, atol=ULP)
    assert src.skipped_blocks == 2
    assert (
        "skipped 2 corrupt data blocks (bad checksum, header, timestamp or format)" in caplog.text
    )
    # the reader sees the missing 0.8 s as gaps (longer than max_gap_s? no: interpolated)
    rec = read_recording(tmp_path / "bad.cwa")
    assert rec.fs == pytest.approx(100.0)
    with open_recording(tmp_path / "bad.cwa") as stream:  # in the outputs' quality record
        for _ in stream.chunks():
            pass
        assert stream.quality.corrupt_blocks_skipped == 2
        assert "skipped 2 corrupt data block(s)" in stream.quality.warnings
        assert stream.quality.as_dict()["corrupt_blocks_skipped"] == 2


def test_cwa_unwritten_blocks_are_not_counted_as_corrupt(tmp_path):
    blocks, vals = ax3_blocks(3)
    t, a, src = raw_rows(write_cwa(tmp_path / "tail.cwa", blocks + [b"\xff" * 512] * 4))
    np.testing.assert_array_equal(a, vals / 256.0)
    assert src.skipped_blocks == 0 and src.empty_blocks == 4


def test_cwa_truncated_file_drops_the_partial_block(tmp_path):
    blocks, vals = ax3_blocks(4)
    data = cwa_header() + b"".join(blocks)
    path = tmp_path / "cut.cwa"
    path.write_bytes(data[:-200])
    t, a, src = raw_rows(path)
    assert src.partial_block_dropped
    assert np.isnan(t[-1]) and np.isnan(a[-1]).all()  # one torn row
    np.testing.assert_array_equal(a[:-1], vals[:240] / 256.0)
    with open_recording(path) as stream:
        n = sum(len(c) for c in stream.chunks())
        assert stream.stats.torn_last_line_dropped == 1
    assert n == 240


def test_cwa_truncated_gzip_reads_what_is_there(tmp_path):
    blocks, vals = ax3_blocks(30)
    path = tmp_path / "cut.cwa.gz"
    packed = gzip.compress(cwa_header() + b"".join(blocks))
    path.write_bytes(packed[: len(packed) * 2 // 3])
    t, a, src = raw_rows(path)
    good = ~np.isnan(t)
    assert src.truncated and good.sum() % 80 == 0 and good.sum() > 0
    np.testing.assert_array_equal(a[good], vals[: good.sum()] / 256.0)


def test_cwa_local_times_in_tz_and_a_dst_change(tmp_path):
    # naive device times read in --tz: 21:20 in Berlin in winter is 20:20 UTC
    blocks, _ = ax3_blocks(3)
    path = write_cwa(tmp_path / "berlin.cwa", blocks)
    t, _, src = raw_rows(path, tz="Europe/Berlin")
    np.testing.assert_allclose(t, (EPOCH0 - 3600) + np.arange(240) / 100.0, rtol=0, atol=ULP)
    assert src.metadata["device_time_zone"] == "Europe/Berlin"
    # a block in the skipped spring hour: an error naming the data block
    spring = [cwa_block(np.zeros((80, 3), np.int16), datetime(2026, 3, 29, 1, 59, 59) +
                        timedelta(seconds=k), 0, k) for k in range(2)]  # fmt: skip
    path = write_cwa(tmp_path / "spring.cwa", spring)
    with pytest.raises(InputError) as err:
        raw_rows(path, tz="Europe/Berlin")
    assert str(err.value) == (f"{path}: data block 2: local time '2026-03-29 02:00:00' is "
                              "skipped in Europe/Berlin (daylight-saving change); the "
                              "device clock does not change for daylight saving: give "
                              "--tz the fixed offset it was set to (e.g. Etc/GMT-2 for "
                              "UTC+02:00)")  # fmt: skip


def test_cwa_repeated_autumn_hour_is_placed_by_order(tmp_path):
    # the device clock stepped back at 03:00 CEST → 02:00 CET: blocks before the step
    # are summer time, after it winter time (as for OMGUI CSV rows)
    vals = np.zeros((80, 3), np.int16)
    local = [datetime(2026, 10, 25, 2, 59, 58), datetime(2026, 10, 25, 2, 59, 59),
             datetime(2026, 10, 25, 2, 0, 0), datetime(2026, 10, 25, 2, 0, 1)]  # fmt: skip
    path = write_cwa(tmp_path / "autumn.cwa", [cwa_block(vals, w, 0, k)
                                               for k, w in enumerate(local)])  # fmt: skip
    t, _, src = raw_rows(path, tz="Europe/Berlin")
    starts = t[::80]
    utc = datetime(2026, 10, 25, 0, 59, 58, tzinfo=UTC).timestamp()
    assert src.dst_repeated_rows == 4
    # block times: 00:59:58, 00:59:59, 01:00:00, 01:00:01 UTC (the runs break: 1 s per 80)
    assert [s - utc for s in starts] == pytest.approx([0, 1, 2, 3], abs=1e-6)


def test_cwa_repeated_hour_the_clock_never_left_says_what_to_do(tmp_path):
    # the usual case: the device clock keeps summer time through the night, so the
    # repeated hour is there once: the zone's rules cannot place it; a fixed offset can
    vals = np.zeros((80, 3), np.int16)
    local = [datetime(2026, 10, 25, 1, 59, 59) + timedelta(seconds=k) for k in range(3)]
    path = write_cwa(tmp_path / "summer.cwa", [cwa_block(vals, w, 0, k)
                                               for k, w in enumerate(local)])  # fmt: skip
    with pytest.raises(InputError) as err:
        raw_rows(path, tz="Europe/Berlin")
    assert str(err.value) == (
        f"{path}: data block 2: local time '2026-10-25 02:00:00' is repeated in "
        "Europe/Berlin (daylight-saving change) and the rows do not show which pass it "
        "is; the device clock does not change for daylight saving: give --tz the fixed "
        "offset it was set to (e.g. Etc/GMT-2 for UTC+02:00)"
    )
    t, _, _ = raw_rows(path, tz="Etc/GMT-2")
    assert t[0] == datetime(2026, 10, 24, 23, 59, 59, tzinfo=UTC).timestamp()


def test_cwa_reads_through_the_reader_at_the_block_rate(tmp_path):
    blocks, vals = ax3_blocks(40)
    rec = read_recording(write_cwa(tmp_path / "r.cwa", blocks))
    assert rec.fs == pytest.approx(100.0)
    assert rec.t0 == EPOCH0
    np.testing.assert_allclose(rec.acc, vals / 256.0)
    assert rec.metadata["range_g"] == "8"


def test_column_options_do_not_apply_to_a_binary(tmp_path):
    # before: --units or --rate sent a .cwa file to the CSV reader ('binary data')
    path = write_cwa(tmp_path / "n.cwa", ax3_blocks(2)[0])
    with pytest.raises(InputError) as err:
        open_source(path, InputOptions(units="mg"))
    assert str(err.value) == (
        f"{path}: an Axivity .cwa file holds its own samples, units and rate: --time-col, "
        "--time-unit, --axes, --units, --rate and --delimiter do not apply to it"
    )


def test_cwa_header_only_and_not_a_cwa(tmp_path):
    path = write_cwa(tmp_path / "empty.cwa", [])
    with pytest.raises(InputError, match="header only, no samples"):
        read_recording(path)
    path = tmp_path / "short.cwa"
    path.write_bytes(cwa_header()[:40])
    with pytest.raises(InputError, match="cut short"):
        open_source(path, InputOptions(format="cwa"))


# =========================================================== GENEActiv .bin encoder
GAIN = (25548, 25000, 26000)
OFFSET = (574, -300, 0)


def bin_header(pages: int, rate: str = "100 Hz", zone: str = "GMT +01:00") -> list[str]:
    """The 59 header lines of a GENEActiv .bin file, laid out as a real one (a GENEActiv
    1.2's, quoted in actfast's ``geneactiv/defs.rs``; "Calibration Data" on line 47)."""
    lines = [
        "Device Identity", "Device Unique Serial Code:012345", "Device Type:GENEActiv",
        "Device Model:1.2", "Device Firmware Version:Ver06.17 15June23",
        "Calibration Date:2025-01-01 00:00:00:000", "",
        "Device Capabilities", "Accelerometer Range:-8 to 8",
        "Accelerometer Resolution:0.0039", "Accelerometer Units:g",
        "Light Meter Range:0 to 20000", "Light Meter Resolution:3 to 48",
        "Light Meter Units:lux", "Temperature Sensor Range:0 to 70",
        "Temperature Sensor Resolution:0.1", "Temperature Sensor Units:deg. C", "",
        "Configuration Info", f"Measurement Frequency:{rate}", "Measurement Period:168 Hours",
        "Start Time:2026-01-01 21:20:00:000", f"Time Zone:{zone}", "",
        "Trial Info", "Study Centre:", "Study Code:", "Investigator ID:", "Exercise Type:",
        "Config Operator ID:", "Config Time:2026-01-01 20:00:00:000", "Config Notes:",
        "Extract Operator ID:", "Extract Time:2026-01-02 08:00:00:000", "Extract Notes:", "",
        "Subject Info", "Device Location Code:left wrist", "Subject Code:night1",
        "Date of Birth:1900-01-01", "Sex:", "Height:", "Weight:", "Handedness Code:",
        "Subject Notes:", "",
        "Calibration Data",
        f"x gain:{GAIN[0]}", f"x offset:{OFFSET[0]}", f"y gain:{GAIN[1]}",
        f"y offset:{OFFSET[1]}", f"z gain:{GAIN[2]}", f"z offset:{OFFSET[2]}",
        "Volts:300", "Lux:800", "", "Memory Status", f"Number of Pages:{pages}", "",
    ]  # fmt: skip
    assert len(lines) == 59 and lines[46] == "Calibration Data"
    return lines


def bin_sample(x: int, y: int, z: int, light: int = 0, button: int = 0) -> str:
    """12 hex digits: x, y, z 12-bit two's complement, light 10 bits, button, reserved."""
    v = (x & 0xFFF) << 36 | (y & 0xFFF) << 24 | (z & 0xFFF) << 12 | (light & 0x3FF) << 2
    return f"{v | (button & 1) << 1:012X}"


def bin_page(seq: int, when: str, raw: np.ndarray, rate: str = "100.0") -> list[str]:
    """The 10 lines of one page: 9 header lines, then 300 samples of ``raw`` (300, 3)."""
    hexes = "".join(bin_sample(*(int(v) for v in r), light=seq % 1024, button=seq % 2)
                    for r in raw)  # fmt: skip
    return ["Recorded Data", "Device Unique Serial Code:012345", f"Sequence Number:{seq}",
            f"Page Time:{when}", "Unassigned:", "Temperature:25.3", "Battery voltage:4.1400",
            "Device Status:Recording", f"Measurement Frequency:{rate}", hexes]  # fmt: skip


def bin_night(pages: int, start: datetime = T0, rate: float = 100.0
              ) -> tuple[list[str], np.ndarray]:  # fmt: skip
    """Page lines of ``pages`` pages from ``start`` (naive local), and their raw values
    (300 pages, 3) (x counts through -2048..2047)."""
    lines, raws = [], []
    for p in range(pages):
        k = np.arange(p * 300, (p + 1) * 300)
        raw = np.column_stack([(k * 7) % 4096 - 2048, np.full(300, 256), np.full(300, -255)])
        when = start + timedelta(seconds=p * 300 / rate)
        stamp = when.strftime("%Y-%m-%d %H:%M:%S") + f":{when.microsecond // 1000:03d}"
        lines += bin_page(p, stamp, raw, f"{rate:.1f}")
        raws.append(raw)
    return lines, np.concatenate(raws)


def write_bin(path: Path, lines: list[str], eol: str = "\r\n", compress: bool = False) -> Path:
    data = "".join(s + eol for s in lines).encode()
    path.write_bytes(gzip.compress(data) if compress else data)
    return path


def g_of(raw: np.ndarray) -> np.ndarray:
    return (raw * 100.0 - np.array(OFFSET)) / np.array(GAIN)


ZONE = timezone(timedelta(hours=1))


# ============================================================= GENEActiv .bin tests
@pytest.mark.parametrize("eol, compress", [("\r\n", False), ("\n", False), ("\r\n", True)],
                         ids=["crlf", "lf", "gz"])  # fmt: skip
def test_geneactiv_bin_times_values_metadata(tmp_path, eol, compress):
    pages, raw = bin_night(3)
    path = write_bin(tmp_path / ("night.bin" + (".gz" if compress else "")),
                     bin_header(3) + pages, eol, compress)  # fmt: skip
    assert detect_format(path) == "geneactiv-bin"
    t, a, src = raw_rows(path)
    start = T0.replace(tzinfo=ZONE).timestamp()  # the header's Time Zone: GMT +01:00
    np.testing.assert_allclose(t, start + np.arange(900) / 100.0, rtol=0, atol=ULP)
    np.testing.assert_array_equal(a, g_of(raw))
    meta = src.metadata
    assert meta["format"] == "geneactiv-bin" and meta["device_id"] == "012345"
    assert meta["sample_rate_hz"] == "100" and meta["range_g"] == "8"
    assert meta["device_time_zone"] == "UTC+01:00" and meta["device_location"] == "left wrist"
    assert src.skipped_blocks == 0


def test_geneactiv_bin_does_not_depend_on_the_chunk_size(tmp_path):
    pages, raw = bin_night(7)
    path = write_bin(tmp_path / "c.bin", bin_header(7) + pages)
    out = []
    for rows in (1, 299, 301, 10**6):
        src = open_source(path, InputOptions())
        blocks = list(src.blocks(rows))
        src.close()
        out.append((np.concatenate([b.t for b in blocks]), np.concatenate([b.a for b in blocks])))
        assert [b.first_line for b in blocks] == list(
            np.cumsum([0] + [b.t.size for b in blocks])[:-1] + 1
        )
    for t, a in out[1:]:
        np.testing.assert_array_equal(t, out[0][0])
        np.testing.assert_array_equal(a, out[0][1])
    np.testing.assert_array_equal(out[0][1], g_of(raw))


def test_geneactiv_bin_sign_extension_and_hex():
    from pipeline.formats.geneactiv_bin import BinHeader, decode_hex

    header = BinHeader({}, np.ones(3), np.zeros(3), 100.0, 59)
    raw = np.array([[2047, -2048, -1]] + [[0, 1, 2048 - 4096]] * 299)
    hexes = "".join(bin_sample(*r) for r in raw).encode()
    assert hexes[:12] == b"7FF800FFF000"
    acc, ok = decode_hex(np.frombuffer(hexes, np.uint8)[None, :], header)
    assert ok.all()
    np.testing.assert_array_equal(acc, raw * 100.0)


def test_geneactiv_bin_bad_and_truncated_pages(tmp_path, caplog):
    pages, raw = bin_night(5)
    pages[10 + 9] = pages[10 + 9][:-12]  # page 2: a short hex line
    pages[30 + 3] = "Page Time:2026-13-01 21:20:09:000"  # page 4: no such month
    pages[8] = "Measurement Frequency:100.0 Hz"  # page 1: with a unit, reads the same
    lines = bin_header(5) + pages
    path = write_bin(tmp_path / "bad.bin", lines)
    with caplog.at_level(logging.WARNING):
        t, a, src = raw_rows(path)
    keep = np.r_[0:300, 600:900, 1200:1500]
    np.testing.assert_array_equal(a, g_of(raw[keep]))
    assert (
        src.skipped_blocks == 2
        and "skipped 2 corrupt pages (not 10 lines, or an unreadable" in caplog.text
    )
    # the file ends inside its last page: dropped, one torn row
    data = "".join(s + "\r\n" for s in bin_header(5) + bin_night(5)[0]).encode()
    cut = tmp_path / "cut.bin"
    cut.write_bytes(data[:-1000])
    t, a, src = raw_rows(cut)
    assert src.partial_block_dropped and np.isnan(t[-1])
    assert t.size == 1201


def test_geneactiv_bin_zone_from_header_or_tz(tmp_path):
    pages, _ = bin_night(1, start=datetime(2026, 7, 1, 12, 0, 0))
    # (and a second blank line after the header: it is read up to the first page)
    path = write_bin(tmp_path / "nozone.bin", bin_header(1, zone="") + [""] + pages)
    t, _, src = raw_rows(path, tz="Europe/London")  # no offset in the file: --tz (BST)
    assert t[0] == datetime(2026, 7, 1, 11, 0, 0, tzinfo=UTC).timestamp()
    assert src.metadata["device_time_zone"] == "Europe/London"


def test_geneactiv_bin_page_in_a_dst_gap_names_the_page(tmp_path):
    # no Time Zone in the header: --tz, with its daylight-saving rules
    pages, _ = bin_night(2, start=datetime(2026, 3, 29, 1, 59, 57))
    path = write_bin(tmp_path / "gap.bin", bin_header(2, zone="") + pages)
    with pytest.raises(InputError) as err:
        raw_rows(path, tz="Europe/Berlin")
    assert str(err.value).startswith(
        f"{path}: page 2: local time '2026-03-29 02:00:00' is skipped in Europe/Berlin"
    )


def test_geneactiv_bin_reader_and_rate(tmp_path):
    pages, raw = bin_night(8, rate=50.0)
    path = write_bin(tmp_path / "r.bin", bin_header(8, rate="50 Hz") + pages)
    rec = read_recording(path)
    assert rec.fs == pytest.approx(50.0)
    np.testing.assert_allclose(rec.acc, g_of(raw))


# ================================================================ committed fixtures
def test_committed_fixtures_read_as_written():
    # the night of tests/format_fixtures.py: 2026-01-01 21:20:00 UTC, 3600 samples at
    # 50 Hz; its first sample (0.80078, 0.39062, -0.40234) g
    start = datetime(2026, 1, 1, 21, 20, tzinfo=UTC).timestamp()
    t, a, src = raw_rows(FIXTURES / "ax3_night.cwa")
    assert src.metadata["device_type"] == "AX3" and src.metadata["sample_rate_hz"] == "50"
    np.testing.assert_allclose(t, start + np.arange(3600) / 50.0, rtol=0, atol=ULP)
    assert a[0].tolist() == [205 / 256, 100 / 256, -103 / 256]
    t, a, src = raw_rows(FIXTURES / "geneactiv_night.bin")
    assert src.metadata["device_type"] == "GENEActiv"
    assert src.metadata["device_time_zone"] == "UTC+01:00"  # Page Time 22:20:00 local
    np.testing.assert_allclose(t, start + np.arange(3600) / 50.0, rtol=0, atol=ULP)
    raw = np.array([(0.80078 * 25548 + 574) / 100, (0.39062 * 25000 - 300) / 100,
                    -0.40234 * 26000 / 100]).round()  # fmt: skip
    np.testing.assert_array_equal(a[0], (raw * 100 - np.array(OFFSET)) / np.array(GAIN))


def write_fixtures(folder: Path = FIXTURES) -> dict[str, Path]:
    """Write the committed fixtures: the night of ``tests/format_fixtures.py`` (72 s at
    50 Hz) on its uniform grid, as an AX3 ``.cwa`` (16-bit, 1/256 g, whole-second
    timestamps, UTC) and a GENEActiv ``.bin`` (local time at GMT +01:00)."""
    import sys

    sys.path.insert(0, str(Path(__file__).parent))
    from format_fixtures import GENEACTIV_ZONE, grid, night

    t, a, _ = night()
    gt, ga = grid(t, a)
    first = float(np.floor(gt[0]))  # its 0.1 ms past a whole second: written as 1 ms
    start = datetime.fromtimestamp(first, UTC).replace(tzinfo=None)
    counts = np.rint(ga * 256).astype(np.int16)
    blocks = []
    for k, i in enumerate(range(0, counts.shape[0], 80)):
        anchor = -(-i // 50) * 50  # the next sample on a whole second (50 Hz)
        when = start + timedelta(seconds=anchor // 50)
        blocks.append(cwa_block(counts[i : i + 80], when, anchor - i, k, code=0x49,
                                session=2026))  # fmt: skip
    cwa = write_cwa(folder / "ax3_night.cwa", blocks, cwa_header(code=0x49, session=2026))
    n = counts.shape[0] // 300 * 300
    raw = np.rint((ga[:n] * np.array(GAIN) + np.array(OFFSET)) / 100.0).astype(np.int64)
    local = datetime.fromtimestamp(first, GENEACTIV_ZONE).replace(tzinfo=None)
    lines = bin_header(n // 300, rate="50 Hz")
    for p in range(n // 300):
        when = local + timedelta(seconds=p * 6)
        stamp = when.strftime("%Y-%m-%d %H:%M:%S") + ":000"
        lines += bin_page(p, stamp, raw[p * 300 : (p + 1) * 300], "50.0")
    gbin = write_bin(folder / "geneactiv_night.bin", lines)
    return {"cwa": cwa, "geneactiv-bin": gbin}


if __name__ == "__main__":
    for name, path in write_fixtures().items():
        print(f"{name:14s} {path}  ({path.stat().st_size:,} bytes)")
