"""The Recording model: grid times, validity, gaps and chunking at NaN runs."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from pipeline.recording import Chunk, Gap, Recording, RecordingHeader, runs

T0 = 1_700_000_000.0


def _rec(n=20, fs=10.0, nan_rows=(), partial_nan_rows=()):
    acc = np.arange(n * 3, dtype=np.float64).reshape(n, 3)
    for i in nan_rows:
        acc[i] = np.nan
    for i in partial_nan_rows:
        acc[i, 1] = np.nan  # one axis missing is still a missing sample
    return Recording(T0, fs, acc, {"subject": "p01"}, "test")


def test_time_is_the_uniform_grid():
    rec = _rec(n=5, fs=12.5)
    np.testing.assert_array_equal(rec.time, T0 + np.array([0.0, 0.08, 0.16, 0.24, 0.32]))
    assert rec.n == 5
    assert rec.duration_s == pytest.approx(0.4)
    assert rec.header == RecordingHeader(T0, 12.5, {"subject": "p01"}, "test")
    assert rec.header.time_of(25) == pytest.approx(T0 + 2.0)
    np.testing.assert_allclose(rec.header.time_of(np.array([0, 5])), [T0, T0 + 0.4])


def test_header_metadata_is_a_copy():
    rec = _rec()
    rec.header.metadata["subject"] = "changed"
    assert rec.metadata == {"subject": "p01"}


def test_valid_and_gaps_with_nan_runs_at_start_middle_and_end():
    rec = _rec(n=20, fs=10.0, nan_rows=[0, 1, 7, 8, 9, 19], partial_nan_rows=[13])
    expected_valid = np.ones(20, dtype=bool)
    expected_valid[[0, 1, 7, 8, 9, 13, 19]] = False
    np.testing.assert_array_equal(rec.valid, expected_valid)
    assert rec.gaps == [
        Gap(T0, T0 + 0.2, 0, 2),
        Gap(T0 + 0.7, T0 + 1.0, 7, 10),
        Gap(T0 + 1.3, T0 + 1.4, 13, 14),
        Gap(T0 + 1.9, T0 + 2.0, 19, 20),
    ]
    assert [g.duration_s for g in rec.gaps] == pytest.approx([0.2, 0.3, 0.1, 0.1], abs=1e-6)


def test_no_gaps_when_all_valid_and_one_gap_when_all_missing():
    assert _rec().gaps == []
    all_nan = _rec(n=4, nan_rows=range(4))
    assert all_nan.gaps == [Gap(T0, T0 + 0.4, 0, 4)]
    assert list(all_nan.chunks(10)) == []


def test_chunks_split_at_nan_runs_with_correct_starts():
    rec = _rec(n=20, fs=10.0, nan_rows=[0, 1, 7, 8, 9, 19], partial_nan_rows=[13])
    chunks = list(rec.chunks(3))
    assert [(c.start, len(c)) for c in chunks] == [
        (2, 3),
        (5, 2),  # valid run 2..6
        (10, 3),  # valid run 10..12
        (14, 3),
        (17, 2),  # valid run 14..18
    ]
    for c in chunks:
        np.testing.assert_array_equal(c.acc, rec.acc[c.start : c.start + len(c)])
        assert not np.isnan(c.acc).any()
    assert [(c.start, len(c)) for c in rec.chunks(100)] == [(2, 5), (10, 3), (14, 5)]


def test_chunks_size_must_be_positive():
    with pytest.raises(ValueError, match="chunk size"):
        list(_rec().chunks(0))


def test_empty_recording():
    rec = Recording(T0, 50.0, np.empty((0, 3)))
    assert rec.n == 0 and rec.gaps == [] and list(rec.chunks(5)) == []
    assert rec.time.shape == (0,)


@pytest.mark.parametrize(
    ("acc", "fs", "match"),
    [
        (np.zeros((5, 2)), 50.0, r"shape \(n, 3\)"),
        (np.zeros(15), 50.0, r"shape \(n, 3\)"),
        (np.zeros((5, 3)), 0.0, "fs must be positive"),
        (np.zeros((5, 3)), float("nan"), "fs must be positive"),
    ],
)
def test_invalid_recording_rejected(acc, fs, match):
    with pytest.raises(ValueError, match=match):
        Recording(T0, fs, acc)


def test_acc_is_converted_to_float64():
    rec = Recording(T0, 50.0, [[1, 2, 3], [4, 5, 6]])
    assert rec.acc.dtype == np.float64 and rec.acc.shape == (2, 3)


def test_runs_public_alias():
    mask = np.array([1, 1, 0, 1, 0, 0, 1], dtype=bool)
    assert runs(mask) == [(0, 2), (3, 4), (6, 7)]
    assert runs(np.zeros(0, dtype=bool)) == []
    assert runs(np.zeros(3, dtype=bool)) == []


@settings(deadline=None, max_examples=200)
@given(
    mask=st.lists(st.booleans(), min_size=0, max_size=60),
    size=st.integers(1, 10),
)
def test_chunks_cover_exactly_the_valid_samples(mask, size):
    n = len(mask)
    acc = np.arange(n * 3, dtype=np.float64).reshape(n, 3)
    acc[~np.array(mask, dtype=bool)] = np.nan
    rec = Recording(T0, 25.0, acc)
    chunks = list(rec.chunks(size))
    covered = np.zeros(n, dtype=bool)
    for c in chunks:
        assert isinstance(c, Chunk) and 1 <= len(c) <= size
        assert not covered[c.start : c.start + len(c)].any()
        covered[c.start : c.start + len(c)] = True
        np.testing.assert_array_equal(c.acc, acc[c.start : c.start + len(c)])
    np.testing.assert_array_equal(covered, rec.valid)
    # gaps are exactly the complement, as Gap objects with consistent times
    gap_mask = np.zeros(n, dtype=bool)
    for g in rec.gaps:
        assert g.end_index > g.start_index
        assert g.start == T0 + g.start_index / 25.0 and g.end == T0 + g.end_index / 25.0
        gap_mask[g.start_index : g.end_index] = True
    np.testing.assert_array_equal(gap_mask, ~rec.valid)
