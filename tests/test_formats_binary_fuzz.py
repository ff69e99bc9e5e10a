"""Corrupted copies of the real device files (``tests/data/formats/real/``).

Each test corrupts a real ``.cwa`` or ``.bin`` file in one way found by fuzzing them
(truncations, flipped header fields, zeroed, duplicated and reordered blocks, absurd
values) and checks the outcome exactly: a one-line error naming the file (exit status
2 through the CLI), or the corrupt block skipped and counted with the rest read as
before. The last test runs a bounded, seeded loop of such corruptions through the CLI
and asserts that none ends in a traceback.
"""

from __future__ import annotations

import json
import random
import struct
from pathlib import Path

import numpy as np
import pytest
from click.testing import CliRunner

from cli import main
from pipeline.errors import InputError
from pipeline.formats import InputOptions, open_source

REAL = Path(__file__).parent / "data" / "formats" / "real"
AX3 = REAL / "actfast_axivity_ax3.cwa"  # packed 10-bit, 100 Hz, 30 blocks
AX6 = REAL / "actfast_axivity_ax6.cwa"  # 16-bit, 6 axes
BIN = REAL / "actfast_geneactiv.bin"  # 20 pages, CRLF


def read_all(path: Path, rows: int = 1000) -> tuple[np.ndarray, np.ndarray, object]:
    """Times (epoch s), accelerations (g) and the source, as the source reads them in
    chunks of about ``rows`` samples."""
    src = open_source(path, InputOptions(tz="UTC"))
    try:
        blocks = list(src.blocks(rows))
    finally:
        src.close()
    t = np.concatenate([b.t for b in blocks]) if blocks else np.empty(0)
    a = np.concatenate([b.a for b in blocks]) if blocks else np.empty((0, 3))
    return t, a, src


def assert_one_page_skipped(path: Path, real: Path, page: int, rows: int = 1000) -> None:
    """``path`` reads as the real ``.bin`` file ``real`` without its page ``page`` (300
    samples a page), that page counted as skipped."""
    t, a, src = read_all(path, rows)
    t_real, a_real, _ = read_all(real)
    keep = np.ones(t_real.size, bool)
    keep[300 * page : 300 * (page + 1)] = False
    assert src.skipped_blocks == 1
    np.testing.assert_array_equal(t, t_real[keep])
    np.testing.assert_array_equal(a, a_real[keep])


def detect(tmp_path: Path, data: bytes, suffix: str) -> tuple[int, str]:
    """Exit status and output of ``jerkcount detect`` on a file holding ``data``."""
    path = tmp_path / f"f{suffix}"
    path.write_bytes(data)
    result = CliRunner().invoke(main, ["detect", str(path), "--out", str(tmp_path / "o.csv")])
    assert result.exception is None or isinstance(result.exception, SystemExit), result.output
    return result.exit_code, result.output


# ===================================================================== GENEActiv .bin
def bin_lines(path: Path = BIN) -> tuple[bytes, list[bytes]]:
    """The line end and the lines of a real .bin file."""
    data = path.read_bytes()
    eol = b"\r\n" if b"\r\n" in data else b"\n"
    return eol, data.split(eol)


def with_header(key: bytes, value: bytes, path: Path = BIN) -> bytes:
    """The file with header field ``key`` set to ``value``."""
    eol, lines = bin_lines(path)
    out = [key + b":" + value if ln.startswith(key + b":") else ln for ln in lines]
    return eol.join(out)


@pytest.mark.parametrize("zone", [b"GMT +99:00", b"GMT -24:00", b"GMT +01:75"])
def test_bin_time_zone_beyond_any_offset_is_an_error(tmp_path, zone):
    # before: datetime.timezone's ValueError, a traceback
    code, out = detect(tmp_path, with_header(b"Time Zone", zone), ".bin")
    assert code == 2
    assert out.strip() == (f"jerkcount: error: {tmp_path / 'f.bin'}: time zone "
                           f"'{zone.decode()}' is not a UTC offset (at most ±14:00): a "
                           "corrupted header?")  # fmt: skip


def test_bin_time_zone_at_the_largest_offsets_reads(tmp_path):
    path = tmp_path / "f.bin"
    path.write_bytes(with_header(b"Time Zone", b"GMT +14:00"))
    t, _, src = read_all(path)
    t_real, _, _ = read_all(BIN)
    assert src.metadata["device_time_zone"] == "UTC+14:00"
    assert t[0] - t_real[0] == -19 * 3600  # the real file is at GMT -05:00


def test_bin_header_line_without_an_end_is_not_read_whole(tmp_path):
    # before: the whole line was read into memory (twice: sniffing, then the header)
    path = tmp_path / "f.bin"
    path.write_bytes(b"Device Identity\r\nDevice Type:GENEActiv\r\n" + b"x" * 3_000_000)
    with pytest.raises(InputError) as err:
        open_source(path, InputOptions())
    assert str(err.value) == (f"{path}:3: header line longer than 4096 bytes: not a "
                              "GENEActiv .bin header (a corrupt file?)")  # fmt: skip


def test_bin_bytes_without_a_next_page_are_not_held_in_memory(tmp_path):
    # before: everything after the last 'Recorded Data' line was read into one buffer
    eol, lines = bin_lines()
    first = lines.index(b"Recorded Data")
    data = eol.join(lines[: first + 10]) + eol + b"Recorded Data" + eol + b"F" * 3_000_000
    path = tmp_path / "f.bin"
    path.write_bytes(data)
    src = open_source(path, InputOptions(tz="UTC"))
    try:
        with pytest.raises(InputError) as err:
            list(src.blocks(1000))
    finally:
        src.close()
    assert str(err.value).startswith(f"{path}: page ")
    assert "no next 'Recorded Data' line in " in str(err.value)
    assert str(err.value).endswith("bytes: not GENEActiv pages (a corrupt file?)")


# ====================================================================== Axivity .cwa
def cwa_blocks(path: Path) -> tuple[bytes, list[bytearray]]:
    """The 1024-byte header and the 512-byte data blocks of a real .cwa file."""
    data = path.read_bytes()
    return data[:1024], [bytearray(data[k : k + 512]) for k in range(1024, len(data), 512)]


def set_field(block: bytearray, offset: int, fmt: str, value: int) -> bytearray:
    """``block`` with the field at ``offset`` set, its checksum made good again (a
    corruption the checksum does not catch)."""
    struct.pack_into(fmt, block, offset, value)
    struct.pack_into("<H", block, 510, 0)
    total = sum(struct.unpack("<256H", bytes(block))) & 0xFFFF
    struct.pack_into("<H", block, 510, (-total) & 0xFFFF)
    return block


def cwa_file(tmp_path: Path, head: bytes, blocks: list[bytearray]) -> Path:
    path = tmp_path / "f.cwa"
    path.write_bytes(head + b"".join(bytes(b) for b in blocks))
    return path


@pytest.mark.parametrize(("offset", "value"), [(24, 0x01), (24, 0xFF), (25, 0x32), (25, 0x62)])
def test_cwa_one_block_of_another_format_first_does_not_set_the_file_format(
    tmp_path, offset, value
):
    # before: the first good block set the format, so the 29 good blocks after a first
    # block with another rate code or axes were all skipped ('header only, no samples',
    # 'cannot estimate the sample rate', or 120 samples read at 3200 Hz)
    head, blocks = cwa_blocks(AX3)
    set_field(blocks[0], offset, "<B", value)
    t, a, src = read_all(cwa_file(tmp_path, head, blocks))
    t_real, a_real, _ = read_all(AX3)
    assert src.skipped_blocks == 1
    assert src.metadata["sample_rate_hz"] == "100" and src.metadata["axes"] == "3"
    np.testing.assert_array_equal(a, a_real[120:])
    np.testing.assert_array_equal(t, t_real[120:])


@pytest.mark.parametrize("light", [0xE000, 0xFFFF])
def test_cwa_packed_values_are_1_256_g_whatever_the_light_word_says(tmp_path, light):
    # before: the light word's unpacked-scale bits scaled packed words too, so a block
    # with them set read 1/128 of its real accelerations
    head, blocks = cwa_blocks(AX3)
    set_field(blocks[5], 18, "<H", light)
    _, a, src = read_all(cwa_file(tmp_path, head, blocks))
    _, a_real, _ = read_all(AX3)
    assert src.skipped_blocks == 0
    np.testing.assert_array_equal(a, a_real)


def test_cwa_unpacked_values_keep_the_scale_of_their_light_word(tmp_path):
    head, blocks = cwa_blocks(AX6)  # 1/2048 g: scale bits 3
    light = struct.unpack_from("<H", blocks[2], 18)[0]
    assert light >> 13 == 3
    set_field(blocks[2], 18, "<H", (light & 0x1FFF) | (4 << 13))
    _, a, _ = read_all(cwa_file(tmp_path, head, blocks))
    _, a_real, _ = read_all(AX6)
    np.testing.assert_array_equal(a[80:120], a_real[80:120] / 2)  # 40 samples a block
    np.testing.assert_array_equal(a[:80], a_real[:80])


@pytest.mark.parametrize(
    ("offset", "fmt", "value"),
    [(28, "<H", 0), (28, "<H", 65535), (0, "<H", 0), (2, "<H", 0), (14, "<I", 0)],
)
def test_cwa_every_block_corrupt_says_so(tmp_path, offset, fmt, value):
    # before: 'header only, no samples', as if the file held no blocks
    head, blocks = cwa_blocks(AX3)
    path = cwa_file(tmp_path, head, [set_field(b, offset, fmt, value) for b in blocks])
    code, out = detect(tmp_path, path.read_bytes(), ".cwa")
    assert code == 2
    assert out.strip() == (f"jerkcount: error: {path}: no readable data block: all 30 data "
                           "blocks are corrupt (bad checksum, header, timestamp or "
                           "format)")  # fmt: skip


def test_bin_every_page_corrupt_says_so(tmp_path):
    # before: 'header only, no samples'
    eol, lines = bin_lines()
    out = [b"Measurement Frequency:0" if ln.startswith(b"Measurement Frequency:") and
           k > lines.index(b"Recorded Data") else ln for k, ln in enumerate(lines)]  # fmt: skip
    code, text = detect(tmp_path, eol.join(out), ".bin")
    assert code == 2
    assert text.strip() == (f"jerkcount: error: {tmp_path / 'f.bin'}: no readable page: all "
                            "20 pages are corrupt (not 10 lines, or an unreadable page time, "
                            "frequency or hex line)")  # fmt: skip


def with_page_line(prefix: bytes, value: bytes, page: int, path: Path = BIN) -> bytes:
    """The file with the line starting ``prefix`` of page ``page`` (0-based) set."""
    eol, lines = bin_lines(path)
    at = lines.index(b"Recorded Data") + 10 * page
    k = next(i for i in range(at, at + 10) if lines[i].startswith(prefix))
    lines[k] = prefix + value
    return eol.join(lines)


@pytest.mark.parametrize("rate", [b"1e-9", b"0.001", b"0.5", b"1e9", b"20000", b"1e308"])
@pytest.mark.parametrize("page", [0, 10, 19])
def test_bin_page_frequency_beyond_the_rates_read_is_a_corrupt_page(tmp_path, rate, page):
    # before: its 300 samples were spread over up to 9500 years (an error 'time jumps
    # forward by 32 years', or 'goes backwards'), or one page at 1e9 Hz made the whole
    # file 'sample rate 4.1943e+06 Hz is outside 1-10000 Hz'
    path = tmp_path / "f.bin"
    path.write_bytes(with_page_line(b"Measurement Frequency:", rate + b" Hz", page))
    assert_one_page_skipped(path, BIN, page)


def shift_year(block: bytearray, years: int) -> bytearray:
    """``block`` with its packed timestamp's year moved by ``years`` (checksum good)."""
    ts = struct.unpack_from("<I", block, 14)[0]
    year = (ts >> 26) & 0x3F
    return set_field(block, 14, "<I", (ts & ~(0x3F << 26)) | ((year + years) << 26))


def shift_seconds(block: bytearray, seconds: int) -> bytearray:
    """``block`` with its packed timestamp moved by ``seconds`` within its day (< 1 h
    past its minute, the file's blocks are at 10:55-10:56)."""
    ts = struct.unpack_from("<I", block, 14)[0]
    minute = (ts >> 6) & 0x3F
    hour = (ts >> 12) & 0x1F
    total = hour * 60 + minute + seconds // 60
    ts = (ts & ~(0x7FF << 6)) | ((total // 60) << 12) | ((total % 60) << 6)
    return set_field(block, 14, "<I", ts)


@pytest.mark.parametrize(("block", "years"), [(0, 3), (0, -19), (15, 3), (15, 44), (29, 3),
                                              (29, -19)])  # fmt: skip
@pytest.mark.parametrize("rows", [120, 1000, 65_536])  # chunks end at other blocks
def test_cwa_one_block_timestamp_years_off_is_a_corrupt_block(tmp_path, block, years, rows):
    # before: the last block 3 years on made a recording of 9.4e9 samples (26 304 h, one
    # gap of 3 years, exit 0); elsewhere the file stopped: 'time jumps forward by 44
    # years' or 'timestamp goes backwards by 6.045e+08 s'
    head, blocks = cwa_blocks(AX3)
    shift_year(blocks[block], years)
    t, a, src = read_all(cwa_file(tmp_path, head, blocks), rows)
    t_real, a_real, _ = read_all(AX3)
    keep = np.ones(t_real.size, bool)
    keep[120 * block : 120 * (block + 1)] = False
    assert src.skipped_blocks == 1
    np.testing.assert_array_equal(a, a_real[keep])
    assert np.abs(t - t_real[keep]).max() < 0.05  # interpolated across the block: 10 ms
    assert t.min() >= t_real[0] - 1.3 and t.max() <= t_real[-1] + 1.3


def test_cwa_one_block_timestamp_years_off_through_the_cli(tmp_path):

    head, blocks = cwa_blocks(AX3)
    shift_year(blocks[29], 3)
    path = cwa_file(tmp_path, head, blocks)
    code, _ = detect(tmp_path, path.read_bytes(), ".cwa")
    summary = json.loads((tmp_path / "o.json").read_text())
    assert code == 0
    assert summary["data_quality"]["corrupt_blocks_skipped"] == 1
    assert summary["recording"]["n_samples"] == 3485  # 29 blocks on the 99 Hz grid
    assert summary["gaps"] == []


def test_cwa_one_block_minutes_off_inside_the_file_is_a_corrupt_block(tmp_path):
    head, blocks = cwa_blocks(AX3)
    shift_seconds(blocks[10], 300)  # neighbours agree; it is 5 minutes off both
    _, a, src = read_all(cwa_file(tmp_path, head, blocks))
    _, a_real, _ = read_all(AX3)
    assert src.skipped_blocks == 1
    np.testing.assert_array_equal(a, np.delete(a_real, np.s_[1200:1320], axis=0))


def test_cwa_a_pause_moves_every_block_after_it_and_is_a_gap(tmp_path):
    # a logger that paused: all blocks after it later; none is a lone timestamp
    head, blocks = cwa_blocks(AX3)
    for b in blocks[20:]:
        shift_seconds(b, 600)
    t, a, src = read_all(cwa_file(tmp_path, head, blocks))
    t_real, a_real, _ = read_all(AX3)
    assert src.skipped_blocks == 0
    np.testing.assert_array_equal(a, a_real)
    assert np.abs(t[2400:] - 600.0 - t_real[2400:]).max() < 0.02  # run ends extrapolated
    assert np.abs(t[:2400] - t_real[:2400]).max() < 0.02
    # the last block alone 10 minutes on is kept too (a day is the bound at the ends)
    head, blocks = cwa_blocks(AX3)
    shift_seconds(blocks[29], 600)
    t, _, src = read_all(cwa_file(tmp_path, head, blocks))
    assert src.skipped_blocks == 0 and t.size == 3600


# ======================================================================= seeded fuzz
def corrupt_cwa(rng: random.Random, data: bytes) -> bytes:
    """One random corruption of a .cwa file's bytes (seeded by ``rng``)."""
    head, blocks = data[:1024], [bytearray(data[k : k + 512]) for k in range(1024, len(data), 512)]
    k = rng.randrange(len(blocks))
    kind = rng.randrange(6)
    if kind == 0:  # a field of one block, the checksum made good again
        offset, fmt = rng.choice([(4, "<H"), (10, "<I"), (14, "<I"), (18, "<H"), (24, "<B"),
                                  (25, "<B"), (26, "<h"), (28, "<H")])  # fmt: skip
        bits = 8 * struct.calcsize(fmt)
        value = rng.randrange(1 << bits) - ((1 << (bits - 1)) if fmt == "<h" else 0)
        set_field(blocks[k], offset, fmt, value)
    elif kind == 1:  # flipped bytes (the checksum catches them)
        for _ in range(rng.randint(1, 4)):
            blocks[k][rng.randrange(512)] ^= 1 << rng.randrange(8)
    elif kind == 2:  # a block zeroed, duplicated or moved
        blocks.insert(rng.randrange(len(blocks)), rng.choice([bytearray(512), blocks[k]]))
    elif kind == 3:  # a header byte
        h = bytearray(head)
        h[rng.randrange(1024)] = rng.randrange(256)
        head = bytes(h)
    out = head + b"".join(bytes(b) for b in blocks)
    if kind == 4:  # truncated anywhere
        out = out[: rng.randrange(len(out))]
    return out


def corrupt_bin(rng: random.Random, data: bytes) -> bytes:
    """One random corruption of a GENEActiv .bin file's bytes (seeded by ``rng``)."""
    b = bytearray(data)
    kind = rng.randrange(4)
    if kind == 0:  # bytes overwritten anywhere (there is no checksum)
        for _ in range(rng.randint(1, 6)):
            b[rng.randrange(len(b))] = rng.randrange(256)
    elif kind == 1:  # a digit of a page time or frequency changed
        at = [i for i in range(len(b) - 40) if b[i : i + 10] in (b"Page Time:", b"Measuremen")]
        i = rng.choice(at) + rng.randrange(10, 30)
        b[i] = rng.choice(b"0123456789.-: x")
    elif kind == 2:  # truncated anywhere
        return bytes(b[: rng.randrange(len(b))])
    else:  # a run of bytes duplicated
        i = rng.randrange(len(b))
        b[i:i] = b[i : i + rng.randrange(1, 8000)]
    return bytes(b)


@pytest.mark.parametrize("name", ["actfast_axivity_ax3.cwa", "skdh_ax6_sample_128blocks.cwa",
                                  "skdh_gnactv_sample.bin"])  # fmt: skip
def test_seeded_corruptions_end_in_a_result_or_one_line_error(tmp_path, name):
    """40 seeded corruptions of each file through ``detect``: exit 0, or exit 2 with one
    line naming the file; never a traceback, and a result's times stay near the real
    file's (nothing placed years away)."""

    data = (REAL / name).read_bytes()
    corrupt = corrupt_cwa if name.endswith(".cwa") else corrupt_bin
    rng = random.Random(20261207)
    t_real, _, _ = read_all(REAL / name)
    outcomes = {0: 0, 2: 0}
    for k in range(40):
        case = tmp_path / str(k)
        case.mkdir()
        code, out = detect(case, corrupt(rng, data), Path(name).suffix)
        assert code in (0, 2), (k, out)
        outcomes[code] += 1
        if code == 2:
            last = out.strip().splitlines()[-1]
            assert last.startswith(f"jerkcount: error: {case / ('f' + Path(name).suffix)}")
            continue
        rec = json.loads((case / "o.json").read_text())["recording"]
        span = rec["n_samples"] / rec["fs_hz"]
        assert t_real[0] - 86_400 <= rec["t0"] and rec["t0"] + span <= t_real[-1] + 86_400, k
    assert outcomes[0] > 0 and outcomes[2] > 0  # both kinds of outcome were exercised


@pytest.mark.parametrize("when", [b"2084-05-01 20:00:10:000", b"1970-01-01 00:00:00:000",
                                  b"0000-01-01 00:00:00:000"])  # fmt: skip
@pytest.mark.parametrize("page", [0, 10, 19])
@pytest.mark.parametrize("rows", [300, 1000, 65_536])
def test_bin_one_page_time_off_is_a_corrupt_page(tmp_path, when, page, rows):
    # a page has no checksum: one changed digit moves it years; before, it stopped the
    # file ('time jumps forward by 60 years', 'timestamp goes backwards by 8.541e+09 s'),
    # or, last in the file, made a years-long gap
    path = tmp_path / "f.bin"
    path.write_bytes(with_page_line(b"Page Time:", when, page))
    assert_one_page_skipped(path, BIN, page, rows)


def test_bin_page_times_shifted_from_one_page_on_are_kept(tmp_path):
    # every page from the 12th on an hour later: no lone page, the reader sees a gap
    eol, lines = bin_lines()
    first = lines.index(b"Recorded Data")
    for k in range(first + 3 + 10 * 12, len(lines), 10):
        assert lines[k].startswith(b"Page Time:2024-04-30 ")
        hour = int(lines[k][21:23])
        lines[k] = lines[k][:21] + b"%02d" % (hour + 1) + lines[k][23:]
    path = tmp_path / "f.bin"
    path.write_bytes(eol.join(lines))
    t, a, src = read_all(path)
    t_real, a_real, _ = read_all(BIN)
    assert src.skipped_blocks == 0
    np.testing.assert_array_equal(t, t_real + np.where(np.arange(t.size) >= 3600, 3600, 0))
    np.testing.assert_array_equal(a, a_real)


def test_bin_one_page_an_hour_off_inside_the_file_is_a_corrupt_page(tmp_path):
    # inside the file its neighbours on both sides show it (the file's first or last
    # page needs to be a day off: it has one side only)
    path = tmp_path / "f.bin"
    path.write_bytes(with_page_line(b"Page Time:", b"2024-04-30 16:14:20:000", 10))
    t, _, src = read_all(path)
    t_real, _, _ = read_all(BIN)
    assert src.skipped_blocks == 1
    np.testing.assert_array_equal(t, np.delete(t_real, np.s_[3000:3300]))


@pytest.mark.parametrize("page", [0, 1, 2])
def test_bin_lone_page_time_in_a_three_page_file(tmp_path, page):
    # the first chunk of a small file holds one page: the two after it are peeked at
    small = REAL / "skdh_gnactv_sample.bin"
    path = tmp_path / "f.bin"
    path.write_bytes(with_page_line(b"Page Time:", b"2060-01-01 00:00:00:000", page, small))
    assert_one_page_skipped(path, small, page)


@pytest.mark.parametrize(("block", "offset"), [(1, -32768), (15, 32767), (28, -32768)])
def test_cwa_one_block_timestamp_offset_far_off_is_a_corrupt_block(tmp_path, block, offset):
    # timestampOffset says which sample the timestamp is of: at +-32767 samples the block
    # is 327 s from its neighbours; before, 'timestamp goes backwards by 328.671 s' (the
    # file's first and last block would need to be a day off: one side only)
    head, blocks = cwa_blocks(AX3)
    set_field(blocks[block], 26, "<h", offset)
    _, a, src = read_all(cwa_file(tmp_path, head, blocks))
    _, a_real, _ = read_all(AX3)
    assert src.skipped_blocks == 1
    np.testing.assert_array_equal(a, np.delete(a_real, np.s_[120 * block : 120 * block + 120], 0))


@pytest.mark.parametrize("block", [0, 8, 9, 15, 29])
@pytest.mark.parametrize("rows", [120, 1000])
def test_cwa_a_block_written_twice_is_read_once(tmp_path, block, rows):
    # before: 'timestamp goes backwards by 1.204 s (a device clock reset?)'
    head, blocks = cwa_blocks(AX3)
    blocks.insert(block + 1, bytearray(blocks[block]))
    t, a, src = read_all(cwa_file(tmp_path, head, blocks), rows)
    t_real, a_real, _ = read_all(AX3)
    assert src.skipped_blocks == 1
    np.testing.assert_array_equal(a, a_real)
    np.testing.assert_array_equal(t, t_real)


@pytest.mark.parametrize("page", [0, 9, 19])
@pytest.mark.parametrize("rows", [300, 65_536])
def test_bin_a_page_written_twice_is_read_once(tmp_path, page, rows):
    # before: 'timestamp goes backwards by 4.983 s (a device clock reset?)'
    eol, lines = bin_lines()
    at = lines.index(b"Recorded Data") + 10 * page
    lines[at + 10 : at + 10] = lines[at : at + 10]
    path = tmp_path / "f.bin"
    path.write_bytes(eol.join(lines))
    t, a, src = read_all(path, rows)
    t_real, a_real, _ = read_all(BIN)
    assert src.skipped_blocks == 1
    np.testing.assert_array_equal(a, a_real)
    np.testing.assert_array_equal(t, t_real)


# ============================================================================ Parquet
def test_parquet_corrupt_data_page_is_a_one_line_error(tmp_path):
    # before: 'jerkcount: error: <input>: OSError', exit 1 (pyarrow's OSError 'Corrupt
    # snappy compressed data.' from the batches, not the file's opening)
    import pyarrow as pa
    import pyarrow.parquet as pq

    n = 20_000
    t = 1_767_225_600 + np.arange(n) / 100.0
    rng = np.random.default_rng(5)
    a = rng.normal(0, 0.01, (n, 3)) + [0, 0, 1]
    table = pa.table({"time": t, "ax": a[:, 0], "ay": a[:, 1], "az": a[:, 2]})
    path = tmp_path / "n.parquet"
    pq.write_table(table, path, compression="snappy")
    column = pq.ParquetFile(path).metadata.row_group(0).column(1)
    data = bytearray(path.read_bytes())
    first = column.dictionary_page_offset or column.data_page_offset
    data[first : first + 4] = b"\xff" * 4  # its first page's header no longer reads
    code, out = detect(tmp_path, bytes(data), ".parquet")
    assert code == 2
    assert out.strip().startswith(f"jerkcount: error: {tmp_path / 'f.parquet'}: corrupt "
                                  "Parquet data after row 0 (")  # fmt: skip
    assert len(out.strip().splitlines()) == 1
