"""Axivity ``.cwa`` and GENEActiv ``.bin`` files recorded by real devices.

The files in ``tests/data/formats/real/`` come from other projects' test data (see the
README.md there for sources and licences). The expected values below were
cross-checked on these very files against three independent readers: OpenMovement's
``openmovement`` package (``cwa_load.py``), scikit-digital-health 0.17.18 and actfast
1.3.0. Their accelerations equal jerkcount's exactly (actfast's to float32); the CWA
sample times equal OpenMovement's wherever it interpolates (between a file's first and
last block timestamp); skdh and actfast place samples at the nominal rate from each
block's timestamp instead, up to 16 ms away. GENEActiv times equal skdh's and actfast's
once their naive page times are moved by the header's ``Time Zone``. The values the
other projects' own tests assert on these files are checked here too.
"""

from __future__ import annotations

import hashlib
import struct
from pathlib import Path

import numpy as np
import pytest

from pipeline.formats import InputOptions, detect_format, open_source
from pipeline.reader import open_recording

REAL = Path(__file__).parent / "data" / "formats" / "real"


def read_raw(path: Path, rows: int = 1000) -> tuple[np.ndarray, np.ndarray, dict[str, str]]:
    """Times (epoch s), accelerations (g) and metadata as the source reads them (UTC)."""
    src = open_source(path, InputOptions(tz="UTC"))
    try:
        blocks = list(src.blocks(rows))
        assert src.skipped_blocks == 0 and not src.partial_block_dropped
    finally:
        src.close()
    t = np.concatenate([b.t for b in blocks])
    a = np.concatenate([b.a for b in blocks])
    return t, a, dict(src.metadata)


def digest(counts: np.ndarray) -> str:
    """Short SHA-256 of integer counts (n, 3) as little-endian int32."""
    return hashlib.sha256(counts.astype("<i4").tobytes()).hexdigest()[:16]


# ================================================================== Axivity .cwa
CWA = {
    # name: (n, g per count, first/last counts, sums and digest of all counts, metadata)
    "skdh_ax3_sample_128blocks.cwa": dict(
        n=15360, scale=256, first=[-24, -52, 244], last=[-36, -224, 24],
        sums=[-1149880, -3316768, 872968], sha="bb78460b24489fb9",
        t0=1581498217.4726257, t1=1581498295.2933998,
        meta={"device_type": "AX3", "device_id": "51888", "session_id": "1020030004",
              "sample_rate_hz": "200", "range_g": "8", "firmware_revision": "45",
              "axes": "3", "packing": "packed 10-bit"},
    ),
    "skdh_ax6_sample_128blocks.cwa": dict(
        n=5120, scale=2048, first=[-1062, -49, -158], last=[1401, 647, -334],
        sums=[3507656, 378833, 4636648], sha="bd20a30abc6a0a1b",
        t0=1572339786.3015137, t1=1572339838.3158844,
        meta={"device_type": "AX6", "device_id": "6011802", "session_id": "0",
              "sample_rate_hz": "100", "range_g": "16", "firmware_revision": "53",
              "axes": "6", "packing": "16-bit"},
    ),
    "actfast_axivity_ax3.cwa": dict(
        n=3600, scale=256, first=[84, 252, 52], last=[244, 40, 44],
        sums=[847920, 34824, -58772], sha="142d8b4447134890",
        t0=1551178505.9858398, t1=1551178542.393602,
        meta={"device_type": "AX3", "device_id": "39434", "session_id": "26",
              "sample_rate_hz": "100", "range_g": "8", "firmware_revision": "44",
              "logging_start": "2019-02-26 10:55:00", "logging_end": "2019-02-26 10:58:00",
              "cwa_body_location": "right wrist", "cwa_subject_code": "26",
              "axes": "3", "packing": "packed 10-bit"},
    ),
    "actfast_axivity_ax6.cwa": dict(
        n=1200, scale=2048, first=[15, 146, 18], last=[-215, 18, -2044],
        sums=[-1258509, 3999233, 849342], sha="cb1c65b4f58c0b51",
        t0=1577135046.6958618, t1=1577135058.793219,
        meta={"device_type": "AX6", "device_id": "6011834", "session_id": "993",
              "sample_rate_hz": "100", "range_g": "16", "firmware_revision": "54",
              "logging_start": "2019-12-23 21:04:00", "logging_end": "2019-12-23 21:06:00",
              "cwa_subject_code": "993", "cwa_subject_notes": "test",
              "axes": "6", "packing": "16-bit"},
    ),
}  # fmt: skip


def cwa_anchors(path: Path) -> tuple[np.ndarray, np.ndarray]:
    """Each data block's timestamp as OpenMovement's ``cwa_load.py`` reads it: the
    sample index it belongs to (timestampOffset plus the whole samples of the fraction)
    and its time (epoch s, the naive time read as UTC), decoded here from the bytes."""
    data = path.read_bytes()[1024:]
    idx, times, start = [], [], 0
    for pos in range(0, len(data) - 511, 512):
        b = data[pos : pos + 512]
        frac, packed = struct.unpack_from("<H", b, 4)[0], struct.unpack_from("<I", b, 14)[0]
        rate = 3200 // (1 << (15 - (b[24] & 15))) if b[24] & 15 >= 5 else 0
        offset, count = struct.unpack_from("<hH", b, 26)
        f16 = (frac & 0x7FFF) << 1 if frac & 0x8000 else 0
        when = np.datetime64(
            f"{2000 + (packed >> 26):04d}-{packed >> 22 & 15:02d}-{packed >> 17 & 31:02d}T"
            f"{packed >> 12 & 31:02d}:{packed >> 6 & 63:02d}:{packed & 63:02d}",
            "s",
        ).astype(np.int64)
        idx.append(start + offset + ((f16 * rate) >> 16))
        times.append(when + f16 / 65536)
        start += count
    return np.array(idx, np.float64), np.array(times)


@pytest.mark.parametrize("name", sorted(CWA))
def test_real_cwa_values_count_and_metadata(name):
    spec = CWA[name]
    path = REAL / name
    assert detect_format(path) == "cwa"
    t, a, meta = read_raw(path)
    assert t.size == a.shape[0] == spec["n"]
    counts = a * spec["scale"]
    np.testing.assert_array_equal(counts, np.round(counts))  # whole counts of 1/256, 1/2048 g
    counts = counts.astype(np.int64)
    assert counts[0].tolist() == spec["first"] and counts[-1].tolist() == spec["last"]
    assert counts.sum(axis=0).tolist() == spec["sums"]
    assert digest(counts) == spec["sha"]
    for key, value in spec["meta"].items():
        assert meta[key] == value, key
    assert t[0] == pytest.approx(spec["t0"], abs=1e-6)
    assert t[-1] == pytest.approx(spec["t1"], abs=1e-6)


@pytest.mark.parametrize("name", sorted(CWA))
def test_real_cwa_times_are_openmovements_between_the_timestamps(name):
    # timestamps lie up to 140 samples into 120-sample blocks in these files: each
    # sample is placed between the two timestamps around it (np.interp, as cwa_load
    # does); before the first and after the last, the end pair's spacing goes on
    path = REAL / name
    t, _, _ = read_raw(path)
    idx, times = cwa_anchors(path)
    assert (np.diff(idx) > 0).all()
    k = np.arange(t.size, dtype=np.float64)
    inside = (k >= idx[0]) & (k <= idx[-1])
    np.testing.assert_allclose(t[inside], np.interp(k[inside], idx, times), rtol=0, atol=1e-6)
    head, tail = k < idx[0], k > idx[-1]
    np.testing.assert_allclose(
        t[head], times[0] + (k[head] - idx[0]) * (times[1] - times[0]) / (idx[1] - idx[0]),
        rtol=0, atol=1e-6,
    )  # fmt: skip
    np.testing.assert_allclose(
        t[tail], times[-1] + (k[tail] - idx[-1]) * (times[-1] - times[-2]) / (idx[-1] - idx[-2]),
        rtol=0, atol=1e-6,
    )  # fmt: skip
    assert (np.diff(t) > 0).all()


def test_real_cwa_values_actfast_asserts():
    # actfast's own tests on these files (src/axivity/mod.rs): 30 sectors, 100 Hz,
    # ±8 g; first AX3 sample (84, 252, 52)/256 g, first AX6 accelerometer sample
    # (15, 146, 18)/2048 g
    _, a3, m3 = read_raw(REAL / "actfast_axivity_ax3.cwa")
    assert a3.shape == (30 * 120, 3) and m3["sample_rate_hz"] == "100" and m3["range_g"] == "8"
    np.testing.assert_array_equal(a3[0], np.array([84, 252, 52]) / 256)
    _, a6, m6 = read_raw(REAL / "actfast_axivity_ax6.cwa")
    assert a6.shape == (30 * 40, 3) and m6["device_type"] == "AX6"
    np.testing.assert_array_equal(a6[0], np.array([15, 146, 18]) / 2048)


# ============================================================== GENEActiv .bin
BIN = {
    "skdh_gnactv_sample.bin": dict(
        n=900, rate=50.0, first=[-222, 39, 11], last=[-132, -154, 200],
        sums=[-90583, -80105, 41706], sha="98dc4719ebee5939",
        gain=[25522, 25457, 24829], offset=[272, -1129, 101],
        # page times 16:16:43.500, 16:16:50.000, 16:16:56.000 at GMT -04:00
        pages=[1558469803.5, 1558469810.0, 1558469816.0],
        meta={"device_id": "051386", "device_type": "GENEActiv", "device_model": "1.1",
              "firmware_version": "Ver4.08a date14Jul14", "sample_rate_hz": "50",
              "geneactiv_time_zone": "GMT -04:00", "device_time_zone": "UTC-04:00",
              "device_location": "back", "pages": "3", "range_g": "8",
              "geneactiv_start_time": "2019-05-21 16:16:38:500"},
    ),
    "actfast_geneactiv.bin": dict(
        n=6000, rate=60.0, first=[220, 5, 35], last=[3, -215, 27],
        sums=[-687308, -867760, 407579], sha="d05df83f8f479d4f",
        gain=[25270, 25100, 24829], offset=[-1846, -474, 1167],
        # 20 pages of 5 s from 15:13:30 at GMT -05:00
        pages=list(1714508010.0 + 5.0 * np.arange(20)),
        meta={"device_id": "101806", "device_type": "GENEActiv", "device_model": "1.2",
              "firmware_version": "Ver06.17 15June23", "sample_rate_hz": "60",
              "geneactiv_time_zone": "GMT -05:00", "device_time_zone": "UTC-05:00",
              "pages": "20", "range_g": "8",
              "geneactiv_start_time": "2024-04-30 15:13:30:000"},
    ),
}  # fmt: skip


@pytest.mark.parametrize("name", sorted(BIN))
def test_real_geneactiv_bin_values_times_and_metadata(name):
    spec = BIN[name]
    path = REAL / name
    assert detect_format(path) == "geneactiv-bin"
    t, a, meta = read_raw(path)
    assert t.size == a.shape[0] == spec["n"]
    raw = (a * np.array(spec["gain"]) + np.array(spec["offset"])) / 100  # back to counts
    np.testing.assert_allclose(raw, np.round(raw), rtol=0, atol=1e-9)
    counts = np.round(raw).astype(np.int64)
    assert counts[0].tolist() == spec["first"] and counts[-1].tolist() == spec["last"]
    assert counts.sum(axis=0).tolist() == spec["sums"]
    assert digest(counts) == spec["sha"]
    for key, value in spec["meta"].items():
        assert meta[key] == value, key
    # each page's 300 samples from its page time at the page's frequency
    expect = (np.array(spec["pages"])[:, None] + np.arange(300) / spec["rate"]).reshape(-1)
    np.testing.assert_allclose(t, expect, rtol=0, atol=1e-6)


def test_real_geneactiv_bin_values_other_readers_assert():
    # actfast (src/geneactiv/mod.rs): 6000 samples, first x 0.943_648_6 g, first time
    # 1714490010 and last 1714490110 ± 1 s as naive times (here at GMT -05:00: + 5 h)
    t, a, _ = read_raw(REAL / "actfast_geneactiv.bin")
    assert t.size == 6000 and a[0, 0] == pytest.approx(0.9436486, abs=1e-6)
    assert t[0] == 1714490010 + 5 * 3600 and abs(t[-1] - (1714490110 + 5 * 3600)) < 1
    # scikit-digital-health's truth for its file (tests/io/data/gnactv_data.npz, the
    # GENEActiv CSV export to 4 decimals): times 4 h behind UTC, the page after the
    # first 6.5 s later (a 0.5 s gap)
    t, a, _ = read_raw(REAL / "skdh_gnactv_sample.bin")
    assert t[0] == 1558455403.5 + 4 * 3600 and t[-1] == pytest.approx(1558455421.98 + 4 * 3600)
    assert t[300] - t[0] == 6.5
    np.testing.assert_allclose(a[0], [-0.8805, 0.1975, 0.0402], rtol=0, atol=5e-5)
    np.testing.assert_allclose(a[-1], [-0.5279, -0.5606, 0.8014], rtol=0, atol=5e-5)


# ====================================================================== both
@pytest.mark.parametrize("name", sorted(CWA) + sorted(BIN))
def test_real_files_do_not_depend_on_the_chunk_size(name):
    t1, a1, _ = read_raw(REAL / name, rows=1)
    t2, a2, _ = read_raw(REAL / name, rows=10**6)
    np.testing.assert_array_equal(t1, t2)
    np.testing.assert_array_equal(a1, a2)


@pytest.mark.parametrize("name", sorted(CWA) + sorted(BIN))
def test_real_files_read_as_recordings(name):
    # through the reader: a grid near the configured rate (these devices run up to 1.6 %
    # slow of it: 98.4 Hz for 100; the grid's rate is whole), no gap rows
    nominal = float((CWA.get(name) or BIN[name])["meta"]["sample_rate_hz"])
    with open_recording(REAL / name, options=InputOptions(tz="UTC")) as stream:
        parts = list(stream.chunks())
        fs = stream.header.fs
    assert abs(fs / nominal - 1) < 0.03
    acc = np.concatenate([p.acc for p in parts])
    assert acc.shape[0] > 0.95 * (CWA.get(name) or BIN[name])["n"]
    assert np.isfinite(acc).all()
