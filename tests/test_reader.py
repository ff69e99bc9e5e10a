"""The canonical CSV reader: round trip, rate estimation, resampling, gaps, blocks, bad input."""

from __future__ import annotations

import math
import threading
import tracemalloc
from pathlib import Path

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from pipeline.errors import InputError
from pipeline.readahead import ReadAhead
from pipeline.reader import ReaderParams, estimate_fs, open_recording, read_recording
from pipeline.recording import Gap
from pipeline.resample import Prev, resample
from pipeline.writer import write_samples_csv

T0 = 1_700_000_000.0
HEADER = b"time,ax,ay,az\n"
RATES = [12.5, 25.0, 50.0, 100.0, 200.0, 1000.0]
_HYP = settings(
    deadline=None, max_examples=40, suppress_health_check=[HealthCheck.function_scoped_fixture]
)


def _rows(t: np.ndarray, a: np.ndarray) -> bytes:
    """Canonical data lines for times ``t`` and samples ``a`` (4 and 5 decimals)."""
    return "".join(
        f"{ti:.4f},{x:.5f},{y:.5f},{z:.5f}\n" for ti, (x, y, z) in zip(t, a, strict=True)
    ).encode()


def _stream_all(path: Path, params: ReaderParams | None = None, chunk_samples: int = 65_536):
    """Read through ``chunks()``: (header, chunks, gaps, stats)."""
    with open_recording(path, params) as stream:
        chunks = list(stream.chunks(chunk_samples))
        return stream.header, chunks, list(stream.gaps), stream.stats


# ------------------------------------------------------------------ round trip
@pytest.mark.parametrize("fs", RATES)
def test_round_trip_on_grid_is_exact(tmp_path, fs):
    n = 3000
    rng = np.random.default_rng(int(fs * 10))
    t = T0 + np.arange(n) / fs
    a = np.round(rng.normal(0.0, 1.0, (n, 3)), 5)
    meta = {"subject": "p01", "device": "wrist L", "alpha": "x: y", "empty": ""}
    path = write_samples_csv(tmp_path / "rec.csv", t, a, meta)

    rec = read_recording(path)

    assert rec.t0 == T0
    assert rec.fs == fs
    assert rec.n == n
    np.testing.assert_array_equal(rec.time, t)
    np.testing.assert_array_equal(rec.acc, a)  # on-grid samples come back exactly
    assert list(rec.metadata.items()) == list(meta.items())  # values and order
    assert rec.source == str(path)
    assert rec.gaps == []


def test_round_trip_jittered_interpolation_error_is_bounded(tmp_path):
    fs, n, f_sig = 100.0, 4000, 1.0
    rng = np.random.default_rng(7)
    t = T0 + (np.arange(n) + rng.uniform(-0.2, 0.2, n)) / fs
    t[0] = T0

    def signal(tt):
        ph = 2 * np.pi * f_sig * (tt - T0)
        return np.column_stack([np.sin(ph), np.cos(ph), 0.5 * np.sin(2 * ph)])

    path = write_samples_csv(tmp_path / "jit.csv", t, signal(t))
    t_file = np.round(t, 4)
    rec = read_recording(path)

    assert rec.fs == fs and rec.t0 == T0
    assert rec.n == math.floor((t_file[-1] - T0) * fs + 0.5) + 1
    assert rec.gaps == []
    inside = rec.time <= t_file[-1]
    # linear interpolation of a 1 Hz sine over <= 1.4 periods: |f''| h^2 / 8 < 1e-3, plus
    # 0.1 ms timestamp rounding (< 7e-4 g) and 1e-5 g value rounding
    err = np.abs(rec.acc[inside] - signal(rec.time[inside]))
    assert err.max() < 2e-3
    assert err.max() > 1e-5  # it really is interpolated, not copied


# ------------------------------------------------------------- rate estimation
def _grid_times(fs, n, rng, jitter=0.0, drop=0.0):
    t = T0 + (np.arange(n) + rng.uniform(-jitter, jitter, n)) / fs
    if drop:
        t = t[rng.random(n) >= drop]
    return np.round(t, 4)  # as written in a file


def _check_rate(est, fs):
    if float(fs).is_integer():
        assert est == fs  # snapped to whole Hz
    else:
        assert abs(est - fs) <= 0.001  # not snapped to 12 or 13


@_HYP
@given(
    fs=st.sampled_from(RATES),
    seed=st.integers(0, 2**32 - 1),
    case=st.sampled_from(["jitter", "drops", "jitter+drops", "heavy jitter+drops"]),
)
def test_estimate_fs_robust_to_jitter_and_drops(fs, seed, case):
    rng = np.random.default_rng(seed)
    # heavy: neighbours' jitter differs by up to 0.7 periods, so counting whole periods
    # per interval is wrong for a fifth of them (before the phase refinement: 1003 Hz
    # for 1000, 12.56 for 12.54)
    jitter = (0.35 if "heavy" in case else 0.2) if "jitter" in case else 0.0
    drop = 0.05 if "drops" in case else 0.0
    _check_rate(estimate_fs(_grid_times(fs, 20_000, rng, jitter, drop)), fs)


@_HYP
@given(fs=st.sampled_from(RATES), seed=st.integers(0, 2**32 - 1))
def test_estimate_fs_robust_to_gaps(fs, seed):
    rng = np.random.default_rng(seed)
    t = _grid_times(fs, 20_000, rng, 0.2, 0.05)
    cuts = np.sort(rng.choice(np.arange(100, t.size - 100), size=6, replace=False))
    for cut, gap in zip(cuts, [5.0, 3600.0, 0.9, 0.5, 1.37, 12.3], strict=True):
        t[cut:] += gap  # long gaps (ignored) and sub-max_gap holes off the grid
    _check_rate(estimate_fs(t), fs)


@pytest.mark.parametrize(
    ("true_fs", "expected"),
    [
        (100.2, 100.0),
        (99.6, 100.0),
        (1003.0, 1003.0),
        (1000.3, 1000.0),
        (50.7, 50.7),
        (12.5376, 12.538),
    ],
)
def test_estimate_fs_snaps_only_within_half_a_percent(true_fs, expected):
    t = T0 + np.arange(5000) / true_fs
    assert estimate_fs(t) == pytest.approx(expected, abs=1e-9)


def test_estimate_fs_needs_two_close_samples():
    with pytest.raises(ValueError, match="maximum gap"):
        estimate_fs(np.array([0.0, 2.0, 5.0]))
    with pytest.raises(ValueError):
        estimate_fs(np.array([1.0]))


def test_file_rate_estimated_with_jitter_drops_and_gaps(tmp_path):
    rng = np.random.default_rng(3)
    t = _grid_times(1000.0, 30_000, rng, 0.2, 0.05)
    t[10_000:] += 7.0
    path = write_samples_csv(tmp_path / "r.csv", t, np.zeros((t.size, 3)))
    with open_recording(path) as stream:
        assert stream.header.fs == 1000.0
        assert stream.header.t0 == t[0]


# ------------------------------------------------------------------ resampling
def test_irregular_linear_signal_is_interpolated_exactly(tmp_path):
    fs = 100.0
    rng = np.random.default_rng(11)
    n = 2001
    # raw times on the 0.1 ms file resolution, jittered by up to +-20 % of a period
    k = np.arange(n) * 100 + rng.integers(-20, 21, n)
    k[::100] = np.arange(0, n, 100) * 100  # every 100th raw sample (first, last) on the grid
    dt = k * 1e-4

    def lin(x):  # exactly representable at 5 decimals for x on the 0.1 ms grid
        return np.column_stack([0.5 * x, 1.0 - 2.0 * x, 0.1 * x - 0.25])

    path = tmp_path / "lin.csv"
    path.write_bytes(HEADER + _rows(T0 + dt, lin(dt)))
    rec = read_recording(path)

    assert rec.fs == fs and rec.n == n
    # exact up to the double resolution of epoch timestamps (2.4e-7 s) times the slope (2 g/s);
    # nearest-sample or wrong-neighbour resampling would be off by up to 4e-3 g
    np.testing.assert_allclose(rec.acc, lin(np.arange(n) / fs), rtol=0, atol=1e-6)
    on_grid = np.round(lin(np.arange(0, n, 100) / fs), 5)  # the values as written
    np.testing.assert_array_equal(rec.acc[::100], on_grid)


def test_interpolation_between_neighbours_by_hand(tmp_path):
    # 10 Hz; sample at 0.2 s is late (0.25 s): grid 0.2 s lies 2/3 of the way from 0.1 to 0.25
    lines = [
        "0.0000,0.0,0.0,0.0",
        "0.1000,0.3,3.0,-1.0",
        "0.2500,0.9,0.0,-1.0",
        "0.3000,1.2,1.0,2.0",
        "0.4000,1.5,1.0,2.0",
        "0.5000,1.8,1.0,2.0",
    ]
    text = "time,ax,ay,az\n" + "".join(f"{T0 + float(s[:6]):.4f}{s[6:]}\n" for s in lines)
    (tmp_path / "h.csv").write_text(text)
    rec = read_recording(tmp_path / "h.csv")
    assert rec.fs == 10.0 and rec.n == 6
    np.testing.assert_allclose(rec.acc[2], [0.7, 1.0, -1.0], atol=1e-6)
    np.testing.assert_array_equal(rec.acc[3], [1.2, 1.0, 2.0])  # on the grid: exact


# ------------------------------------------------------------------------ gaps
def _two_segments(tmp_path, gap_s, fs=50.0, n=100, name="g.csv"):
    ta = T0 + np.arange(n) / fs
    tb = ta[-1] + gap_s + np.arange(n) / fs
    rng = np.random.default_rng(5)
    a = np.round(rng.normal(0, 1, (2 * n, 3)), 5)
    path = tmp_path / name
    path.write_bytes(HEADER + _rows(np.concatenate([ta, tb]), a))
    return path, a


def test_interval_over_max_gap_is_a_gap_never_interpolated(tmp_path):
    path, a = _two_segments(tmp_path, 1.5)  # last A at index 99, first B at 99 + 75 = 174
    rec = read_recording(path)
    assert rec.n == 274
    np.testing.assert_array_equal(rec.acc[:100], a[:100])
    assert np.isnan(rec.acc[100:174]).all()
    np.testing.assert_array_equal(rec.acc[174:], a[100:])
    expected = Gap(T0 + 100 / 50.0, T0 + 174 / 50.0, 100, 174)
    assert rec.gaps == [expected]

    header, chunks, gaps, stats = _stream_all(path)
    assert gaps == [expected]
    assert [(c.start, len(c)) for c in chunks] == [(0, 100), (174, 100)]
    assert stats.samples_out == 200
    assert gaps[0].duration_s == pytest.approx(74 / 50.0)


def test_interval_under_max_gap_is_interpolated(tmp_path):
    path, a = _two_segments(tmp_path, 0.9)  # first B at 99 + 45 = 144
    rec = read_recording(path)
    assert rec.n == 244 and rec.gaps == []
    np.testing.assert_array_equal(rec.acc[:100], a[:100])
    np.testing.assert_array_equal(rec.acc[144:], a[100:])
    w = (np.arange(100, 144) - 99)[:, None] / 45.0
    np.testing.assert_allclose(rec.acc[100:144], (1 - w) * a[99] + w * a[100], atol=1e-12)
    _, chunks, gaps, _ = _stream_all(path)
    assert gaps == [] and [(c.start, len(c)) for c in chunks] == [(0, 244)]


def test_gap_off_grid_edges_take_nearest_raw_sample(tmp_path):
    # raw samples at p = 0..9, then p = 80.3, 81.3: grid 80 is 0.3 period before the
    # first raw sample after the gap and takes its value (held, not interpolated)
    t = np.concatenate([np.arange(10), 80.3 + np.arange(2)]) / 10.0 + T0
    a = np.arange(12 * 3, dtype=float).reshape(12, 3)
    (tmp_path / "o.csv").write_bytes(HEADER + _rows(t, a))
    rec = read_recording(tmp_path / "o.csv")
    assert rec.gaps == [Gap(T0 + 1.0, T0 + 8.0, 10, 80)]
    np.testing.assert_array_equal(rec.acc[80], a[10])
    np.testing.assert_allclose(rec.acc[81], a[10] + 0.7 * (a[11] - a[10]), atol=1e-9)


# -------------------------------------------------------- block independence
def _awkward_file(path: Path, seed: int) -> None:
    """Jitter, drops, duplicates and gaps (some isolated single samples between gaps)."""
    rng = np.random.default_rng(seed)
    fs, n = 50.0, 2500
    t = (np.arange(n) + rng.uniform(-0.2, 0.2, n)) / fs
    t = t[rng.random(n) >= 0.05]
    for cut, gap in [(300, 2.0), (301, 1.5), (302, 0.95), (900, 4.0), (1700, 1.01)]:
        t[cut:] += gap
    t = np.round(T0 + t, 4)
    a = np.round(rng.normal(0, 1, (t.size, 3)), 5)
    dup = [50, 400, 1234, 1235]
    t = np.insert(t, dup, t[dup])
    a = np.insert(a, dup, a[dup], axis=0)
    path.write_bytes(b"# k: v\n" + HEADER + _rows(t, a))


def _flatten(chunks):
    return (
        np.concatenate([np.arange(c.start, c.start + len(c)) for c in chunks]),
        np.vstack([c.acc for c in chunks]),
    )


@pytest.fixture(scope="module")
def awkward(tmp_path_factory):
    path = tmp_path_factory.mktemp("awk") / "awkward.csv"
    _awkward_file(path, 1)
    ref = _stream_all(path, ReaderParams(read_rows=10**6, probe_rows=200))
    return path, ref


def test_awkward_reference_is_what_we_think(awkward):
    _, (header, chunks, gaps, stats) = awkward
    assert header.fs == 50.0
    assert stats.duplicate_timestamps_dropped == 4
    assert len(gaps) == 4  # 2.0 s, 1.5 s, 4.0 s, 1.01 s; the 0.95 s hole is interpolated
    assert all(g.end_index > g.start_index for g in gaps)
    starts = {c.start for c in chunks}
    assert all(g.end_index in starts for g in gaps)


@_HYP
@given(read_rows=st.integers(1, 5000), chunk_samples=st.integers(1, 5000))
def test_grid_and_values_do_not_depend_on_block_sizes(awkward, read_rows, chunk_samples):
    path, (ref_header, ref_chunks, ref_gaps, ref_stats) = awkward
    header, chunks, gaps, stats = _stream_all(
        path, ReaderParams(read_rows=read_rows, probe_rows=200), chunk_samples
    )
    assert header == ref_header
    assert max(len(c) for c in chunks) <= chunk_samples
    idx, acc = _flatten(chunks)
    ref_idx, ref_acc = _flatten(ref_chunks)
    np.testing.assert_array_equal(idx, ref_idx)
    np.testing.assert_array_equal(acc, ref_acc)
    assert gaps == ref_gaps
    assert stats == ref_stats


@pytest.mark.parametrize("read_rows", [2, 3, 4, 5, 6, 99, 100, 101])
def test_gap_across_block_boundary(tmp_path, read_rows):
    path, a = _two_segments(tmp_path, 1.5)  # the gap is between raw rows 99 and 100
    params = ReaderParams(read_rows=read_rows, probe_rows=2)
    _, chunks, gaps, _ = _stream_all(path, params, chunk_samples=7)
    assert gaps == [Gap(T0 + 2.0, T0 + 174 / 50.0, 100, 174)]
    idx, acc = _flatten(chunks)
    np.testing.assert_array_equal(idx, np.r_[0:100, 174:274])
    np.testing.assert_array_equal(acc, a)


# ------------------------------------------------------------------ long files
def _write_big(path: Path, seconds: int, fs: int = 100) -> np.ndarray:
    """``seconds * fs`` rows quickly: one second of lines as a template; returns the pattern."""
    pat = np.round(np.random.default_rng(0).normal(0, 0.5, (fs, 3)), 5)
    tmpl = "".join(
        f"XXXXXXXXXX.{i:02d},{x:.5f},{y:.5f},{z:.5f}\n" for i, (x, y, z) in enumerate(pat)
    ).encode()
    with open(path, "wb") as fh:
        fh.write(b"# device: big\n" + HEADER)
        for s in range(seconds):
            fh.write(tmpl.replace(b"XXXXXXXXXX", b"%d" % (int(T0) + s)))
    return pat


def _peak_streaming(path: Path, pat: np.ndarray, chunk_samples: int):
    """Stream the file, checking every chunk.

    Returns (samples, largest chunk, peak traced bytes, input bytes consumed at the first chunk).
    """
    total = largest = first_bytes = 0
    tracemalloc.start()
    try:
        with open_recording(path, ReaderParams(read_rows=50_000)) as stream:
            assert stream.header.fs == 100.0
            for c in stream.chunks(chunk_samples):
                assert c.start == total  # contiguous, no gaps
                assert np.array_equal(c.acc, pat[np.arange(c.start, c.start + len(c)) % 100])
                if total == 0:
                    first_bytes = stream.bytes_read
                total += len(c)
                largest = max(largest, len(c))
            assert stream.gaps == [] and stream.stats.rows == total
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    return total, largest, peak, first_bytes


def test_long_file_is_streamed_not_read_whole(tmp_path):
    small, big = tmp_path / "small.csv", tmp_path / "big.csv"
    pat = _write_big(small, 5_000)  # 0.5 M rows
    _write_big(big, 20_000)  # 2 M rows, ~80 MB
    n_small, _, peak_small, first_small = _peak_streaming(small, pat, 10_000)
    n_big, largest, peak_big, first_big = _peak_streaming(big, pat, 10_000)
    assert (n_small, n_big) == (500_000, 2_000_000)
    assert largest == 10_000
    # the first chunk comes after a few 50 000-row blocks (~2 MB each; the read-ahead
    # thread parses one or two more meanwhile), not the whole file
    assert first_big < 12_000_000 < big.stat().st_size / 6
    assert first_small < 12_000_000  # (how far the thread got varies with timing)
    # the whole data as float64 time + 3 axes would be n * 32 bytes
    assert peak_big < 0.3 * n_big * 32
    # and the peak does not grow with the file: 4x the rows, same peak (per-block only)
    assert peak_big < 1.2 * peak_small


# ------------------------------------------------------------------- bad input
def _ok_rows(n=10, start=0):
    t = T0 + (start + np.arange(n)) / 50.0
    return _rows(t, np.tile([0.01, -0.02, 0.98], (n, 1)))


META = b"# subject: p01\n# device: x\n"  # header on line 3, first data row on line 4


def _assert_input_error(exc: InputError, path: Path, line: int | None, fragment: str):
    text = str(exc)
    assert "\n" not in text
    assert exc.path == str(path)
    assert exc.line == line
    where = str(path) if line is None else f"{path}:{line}"
    assert text.startswith(where + ": ")
    assert fragment in text


BAD_CONTENT = [
    ("empty", b"", None, "empty file"),
    ("header_only", META + HEADER, 4, "header only"),
    ("header_only_no_newline", b"time,ax,ay,az", 2, "header only"),
    ("blank_then_nothing", b"\n\n", 3, "no header line"),
    ("missing_column", META + b"time,ax,ay\n" + _ok_rows(), 3, "missing column(s) az"),
    ("wrong_header", b"when,a1,a2,a3\n" + _ok_rows(), 1, "missing column(s) time,ax,ay,az"),
    ("meta_wrong_header", META + b"when,a1,a2,a3\n" + _ok_rows(), 3, "missing column(s)"),
    ("no_header", _ok_rows(), 1, "expected 'time,ax,ay,az'"),
    ("one_sample", META + HEADER + _ok_rows(1), 4, "fewer than 2 samples"),
    # the only row short (or a sample and a torn one): the broken line named too
    (
        "one_short_row",
        META + HEADER + b"1700000000.0000,0.1,0.2\n",
        4,
        "fewer than 2 samples (line 4: empty or missing field (expected 4 fields "
        "time,ax,ay,az, found 3))",
    ),
    (
        "one_sample_one_torn",
        META + HEADER + _ok_rows(1) + b"1700000000.0100,0.1\n",
        4,
        "fewer than 2 samples (line 5: empty or missing field",
    ),
    (
        "non_numeric",
        META + HEADER + _ok_rows(5) + b"1700000000.3000,0.1,abc,0.9\n" + _ok_rows(5, 20),
        9,
        "ay is not a number: 'abc'",
    ),
    (
        "too_few_fields",
        META + HEADER + _ok_rows(6) + b"1700000000.3000,0.1,0.2\n" + _ok_rows(5, 20),
        10,
        "missing field",
    ),
    (
        "too_many_fields",
        META + HEADER + _ok_rows(6) + b"1700000000.3000,0.1,0.2,0.3,0.4\n" + _ok_rows(5, 20),
        10,
        "expected 4 fields",
    ),
    # a blank or NaN field in a row with every field is a repair: tests/test_unclean.py
    ("blank_line", META + HEADER + _ok_rows(3) + b"\n" + _ok_rows(5, 20), 7, "missing field"),
    (
        "backwards",
        META + HEADER + _ok_rows(8) + _ok_rows(3, 2) + _ok_rows(3, 30),
        12,
        "timestamp goes backwards",
    ),
    ("binary", bytes(range(256)) * 8, 1, "binary"),
    ("not_utf8_metadata", b"# caf\xe9: 1\n" + HEADER + _ok_rows(), 1, "not UTF-8"),
    ("not_utf8_header", b"time,\xff\xfeax,ay,az\n" + _ok_rows(), 1, "not UTF-8"),
    (
        "not_utf8_data",
        META + HEADER + _ok_rows(5) + b"1700000000.3000,\xe9,0.1,0.9\n" + _ok_rows(5, 20),
        9,
        "not UTF-8",
    ),
    (
        "torn_line_not_last",
        META + HEADER + _ok_rows(5) + b"1700000000.1000,0.01,\n" + _ok_rows(5, 20),
        9,
        "missing field",
    ),
]


@pytest.mark.parametrize("read_rows", [1, 3, 262_144])
@pytest.mark.parametrize(
    ("name", "content", "line", "fragment"), BAD_CONTENT, ids=[c[0] for c in BAD_CONTENT]
)
def test_bad_input_names_file_and_line(tmp_path, name, content, line, fragment, read_rows):
    path = tmp_path / f"{name}.csv"
    path.write_bytes(content)
    with pytest.raises(InputError) as info:
        _stream_all(path, ReaderParams(read_rows=read_rows, probe_rows=2))
    _assert_input_error(info.value, path, line, fragment)


@pytest.mark.parametrize("read_ahead", [0, 1, 2])
def test_bad_line_found_in_a_later_block(tmp_path, read_ahead):
    # parsed by the read-ahead thread: the same one-line error, after the rows before it
    path = tmp_path / "late.csv"
    path.write_bytes(HEADER + _ok_rows(5000) + b"1700000100.0000,0.1,x,0.9\n" + _ok_rows(10, 6000))

    def rows_seen(ahead: int) -> int:
        params = ReaderParams(read_rows=700, probe_rows=100, read_ahead=ahead)
        seen = 0
        with pytest.raises(InputError) as info, open_recording(path, params) as stream:
            for c in stream.chunks(100):
                seen += len(c)
        _assert_input_error(info.value, path, 5002, "ay is not a number: 'x'")
        return seen

    seen = rows_seen(read_ahead)
    # as without the thread: the rows up to two blocks (of about 700 rows) before the bad
    # one (the reader looks one block ahead to find the last one, the checks one more)
    assert seen == rows_seen(0)
    assert 2 * 600 <= 5000 - seen <= 3 * 800
    assert not _read_threads()


def test_directory_and_missing_file(tmp_path):
    with pytest.raises(InputError) as info:
        read_recording(tmp_path)
    _assert_input_error(info.value, tmp_path, None, "is a directory")
    missing = tmp_path / "nope.csv"
    with pytest.raises(InputError) as info:
        read_recording(missing)
    _assert_input_error(info.value, missing, None, "no such file")


# ------------------------------------------------------------ tolerated input
TORN = b"1700000000.5000,0.01,"  # the writer was killed mid-line


@pytest.mark.parametrize("n_rows", [10, 25_000])  # inside the first (probe) block, or after it
def test_torn_last_line_is_dropped_and_counted(tmp_path, n_rows):
    good = HEADER + _ok_rows(n_rows)
    torn = good + (b"%.4f,0.01," % (T0 + n_rows / 50.0))
    (tmp_path / "good.csv").write_bytes(good)
    (tmp_path / "torn.csv").write_bytes(torn)
    params = ReaderParams(read_rows=1000)
    _, _, _, good_stats = _stream_all(tmp_path / "good.csv", params)
    header, chunks, gaps, stats = _stream_all(tmp_path / "torn.csv", params)
    assert stats.torn_last_line_dropped == 1
    assert good_stats.torn_last_line_dropped == 0
    assert stats.rows == n_rows
    idx, acc = _flatten(chunks)
    np.testing.assert_array_equal(idx, np.arange(n_rows))
    np.testing.assert_array_equal(acc, np.tile([0.01, -0.02, 0.98], (n_rows, 1)))
    assert read_recording(tmp_path / "torn.csv").n == n_rows


def test_exact_duplicate_timestamps_dropped_and_counted(tmp_path):
    t = T0 + np.arange(40) / 50.0
    a = np.arange(120, dtype=float).reshape(40, 3) / 100
    # rows 0, 9 (twice), 10 and 25 repeated right after themselves, with other values
    where = [1, 10, 10, 11, 26]
    td = np.insert(t, where, t[[0, 9, 9, 10, 25]])
    ad = np.insert(a, where, a[[0, 9, 9, 10, 25]] + 5.0, axis=0)
    assert td.size == 45 and np.array_equal(td[[10, 11, 12]], [t[9]] * 3)
    (tmp_path / "dup.csv").write_bytes(HEADER + _rows(td, ad))
    for read_rows in (10, 11, 1000):
        _, chunks, gaps, stats = _stream_all(
            tmp_path / "dup.csv", ReaderParams(read_rows=read_rows, probe_rows=5)
        )
        assert stats.duplicate_timestamps_dropped == 5
        assert stats.rows == 40 and gaps == []
        idx, acc = _flatten(chunks)
        np.testing.assert_array_equal(idx, np.arange(40))
        np.testing.assert_array_equal(acc, a)  # the first of each duplicate is kept


@pytest.mark.parametrize("with_metadata", [True, False])
def test_crlf_and_bom_read_like_plain_lf(tmp_path, with_metadata):
    rng = np.random.default_rng(2)
    t = T0 + np.arange(500) / 25.0
    a = np.round(rng.normal(0, 1, (500, 3)), 5)
    meta = {"subject": "p01", "site": "wrist"} if with_metadata else {}
    plain = write_samples_csv(tmp_path / "plain.csv", t, a, meta)
    windows = tmp_path / "windows.csv"
    windows.write_bytes(b"\xef\xbb\xbf" + plain.read_bytes().replace(b"\n", b"\r\n"))
    ref, got = read_recording(plain), read_recording(windows)
    assert (got.t0, got.fs, got.n) == (T0, 25.0, 500)
    assert list(got.metadata.items()) == list(meta.items())
    np.testing.assert_array_equal(got.acc, ref.acc)
    np.testing.assert_array_equal(got.acc, a)


def test_crlf_bad_line_still_named(tmp_path):
    path = tmp_path / "crlf.csv"
    body = HEADER + _ok_rows(4) + b"1700000000.2000,1,2\n" + _ok_rows(4, 20)
    path.write_bytes(body.replace(b"\n", b"\r\n"))
    with pytest.raises(InputError) as info:
        read_recording(path)
    _assert_input_error(info.value, path, 6, "missing field")


def test_rate_outside_supported_range_or_unknown(tmp_path):
    path = tmp_path / "rate.csv"
    path.write_bytes(HEADER + _rows(T0 + np.arange(10) * 0.0001, np.zeros((10, 3))))
    assert read_recording(path).fs == 10_000.0  # the upper limit itself is fine
    path.write_bytes(HEADER + _rows(T0 + np.arange(10) * 2.0, np.zeros((10, 3))))
    with pytest.raises(InputError) as info:
        read_recording(path, ReaderParams(max_gap_s=5.0))  # 0.5 Hz
    _assert_input_error(info.value, path, None, "sample rate 0.5 Hz is outside 1-10000 Hz")
    with pytest.raises(InputError) as info:
        read_recording(path)  # every interval is a gap
    _assert_input_error(info.value, path, None, "cannot estimate the sample rate")


# ------------------------------------------------------------------ read-ahead
def _read_threads() -> list[threading.Thread]:
    return [t for t in threading.enumerate() if t.name == "jerkcount-read" and t.is_alive()]


def test_read_ahead_yields_the_items_in_order_then_ends():
    ahead = ReadAhead(iter(range(1000)), depth=2)
    assert list(ahead) == list(range(1000))
    assert next(ahead, "end") == "end"
    assert not ahead.running
    ahead.close()  # after the end: harmless


def test_read_ahead_raises_the_sources_error_after_its_items():
    def source():
        yield 1
        yield 2
        raise InputError(Path("x.csv"), "broken", 7)

    ahead = ReadAhead(source())
    assert next(ahead) == 1
    assert next(ahead) == 2
    with pytest.raises(InputError) as info:
        next(ahead)
    assert str(info.value) == str(InputError(Path("x.csv"), "broken", 7))
    assert next(ahead, "end") == "end"
    assert not ahead.running


def test_read_ahead_close_stops_the_thread_and_closes_the_source():
    closed = []

    def source():
        try:
            yield from range(10**9)
        finally:
            closed.append(threading.current_thread().name)

    ahead = ReadAhead(source(), depth=1, name="ahead-test")
    assert next(ahead) == 0
    ahead.close()
    assert not ahead.running
    assert closed == ["ahead-test"]  # closed in its own thread, before close() returned
    assert next(ahead, "end") == "end"
    with pytest.raises(ValueError):
        ReadAhead(iter([]), depth=0)


@pytest.mark.parametrize("read_ahead", [1, 2])
def test_read_ahead_gives_the_same_samples_and_counts(awkward, read_ahead):
    path, (ref_header, ref_chunks, ref_gaps, ref_stats) = awkward
    for read_rows in (7, 300, 10**6):
        header, chunks, gaps, stats = _stream_all(
            path, ReaderParams(read_rows=read_rows, probe_rows=200, read_ahead=read_ahead), 999
        )
        idx, acc = _flatten(chunks)
        ref_idx, ref_acc = _flatten(ref_chunks)
        np.testing.assert_array_equal(idx, ref_idx)
        np.testing.assert_array_equal(acc, ref_acc)
        assert (header, gaps, stats) == (ref_header, ref_gaps, ref_stats)


def test_stopping_early_stops_the_read_thread(tmp_path):
    path = tmp_path / "big.csv"
    _write_big(path, 600)  # 60 000 rows
    params = ReaderParams(read_rows=1000)
    with open_recording(path, params) as stream:  # leaving the block closes the stream
        for _ in stream.chunks(500):
            assert _read_threads()  # reading ahead while the caller works
            break
    assert not _read_threads()
    stream = open_recording(path, params)
    chunks = stream.chunks(500)
    next(chunks)
    chunks.close()  # closing the generator alone stops it too
    assert not _read_threads()
    stream.close()
    with open_recording(path, params) as stream:  # a header-only open starts no thread
        assert stream.header.fs == 100.0
        assert not _read_threads()


# ------------------------------------------------------------ on-grid shortcut
def _reference_grid(xp: np.ndarray, fp: np.ndarray, first: int, last: int) -> np.ndarray:
    idx = np.arange(first, last + 1, dtype=np.float64)
    return np.column_stack([np.interp(idx, xp, fp[:, k]) for k in range(3)])


@settings(deadline=None, max_examples=200)
@given(
    seed=st.integers(0, 2**32 - 1),
    n=st.integers(1, 60),
    drop=st.floats(0.0, 0.6),
    off_grid=st.booleans(),
    with_prev=st.booleans(),
    prev_off=st.sampled_from([-1.0, -2.5, -0.5, -7.0, -0.25]),
    lo_pad=st.integers(-3, 3),
    hi_pad=st.integers(-3, 3),
)
def test_resample_is_np_interp_bit_for_bit(
    seed, n, drop, off_grid, with_prev, prev_off, lo_pad, hi_pad
):
    """The on-grid shortcut (views, scattered rows) and the split-off previous row give
    exactly what np.interp over all rows gives."""
    rng = np.random.default_rng(seed)
    pos = np.flatnonzero(rng.random(n * 3) >= drop)[:n].astype(np.float64) + 100.0
    if pos.size == 0:
        pos = np.array([100.0])
    if off_grid:
        pos[rng.random(pos.size) < 0.5] += rng.uniform(-0.4, 0.4)
        pos = np.sort(np.unique(pos))
    fp = np.round(rng.normal(0, 1, (pos.size, 3)), 5)
    prev = None
    xp_all, fp_all = pos, fp
    if with_prev:
        prev = Prev(0.0, np.round(rng.normal(0, 1, 3), 5))
        prev.p = float(pos[0]) + prev_off
        xp_all, fp_all = np.r_[prev.p, pos], np.vstack([prev.a, fp])
    first = math.ceil(float(xp_all[0]) - 0.5) + lo_pad
    last = math.floor(float(xp_all[-1]) + 0.5) + hi_pad
    if with_prev:
        first = max(first, math.floor(prev.p) + 1)  # the reader never repeats prev's index
    if last < first:
        return
    exact = bool(np.all(pos == np.rint(pos)))
    out = resample(first, last, pos, fp, exact, prev)
    ref = _reference_grid(xp_all, fp_all, first, last)
    assert out.shape == (last - first + 1, 3) and out.flags.c_contiguous
    np.testing.assert_array_equal(out.view(np.int64), ref.view(np.int64))


def test_on_grid_file_is_read_as_its_rows(tmp_path):
    """Times on the grid, a dropped stretch and a gap: the rows themselves, drops
    interpolated, the same for every block size."""
    fs, n = 100.0, 3000
    keep = np.ones(n, dtype=bool)
    keep[500:503] = False  # 3 dropped samples: interpolated
    keep[1000:1200] = False  # 2 s: a gap
    t = np.round(T0 + np.arange(n)[keep] / fs, 4)
    rng = np.random.default_rng(3)
    a = np.round(rng.normal(0, 1, (t.size, 3)), 5)
    path = tmp_path / "grid.csv"
    path.write_bytes(HEADER + _rows(t, a))
    ref = None
    for read_rows in (1, 37, 999, 10**6):
        _, chunks, gaps, _ = _stream_all(path, ReaderParams(read_rows=read_rows), 700)
        idx, acc = _flatten(chunks)
        assert gaps == [Gap(T0 + 10.0, T0 + 12.0, 1000, 1200)]
        rows = np.flatnonzero(keep)
        np.testing.assert_array_equal(acc[np.searchsorted(idx, rows)], a)
        np.testing.assert_array_equal(acc[500:503], _reference_grid(
            np.array([499.0, 503.0]), a[[499, 500]], 500, 502))  # fmt: skip
        if ref is None:
            ref = (idx, acc)
        np.testing.assert_array_equal(idx, ref[0])
        np.testing.assert_array_equal(acc, ref[1])


def test_heavily_jittered_night_is_read_at_its_rate_and_detected(tmp_path):
    # sample instants jittered by up to 40 % of a period either way: before the phase
    # refinement the reader gave up ("cannot estimate the sample rate"), and windows of
    # such jitter passed for rate changes
    from pipeline.detector import detect_file
    from pipeline.writer import write_samples_csv
    from sim import NightConfig, simulate_night

    night = simulate_night(
        NightConfig(hours=0.1, fs=200.0, seed=2, rate_per_hour=300, confounders=False,
                    jitter_s=0.002)
    )  # fmt: skip
    path = write_samples_csv(tmp_path / "n.csv", night.time, night.acc)
    det = detect_file(path)
    assert det.header.fs == 200.0
    assert det.quality is not None and det.quality.rate_changes == []
    truth = night.jerks["time"].to_numpy()
    found = np.array([e.time for e in det.events])
    near = np.abs(found[:, None] - truth[None, :]).min(axis=1)
    assert truth.size == 33 and found.size == 32  # one lost, none false
    assert np.all(near <= 0.1)  # onsets within 100 ms
