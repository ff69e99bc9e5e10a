"""The streaming low-pass: scipy's Butterworth to within rounding, chunk-invariant."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from scipy import signal

from pipeline.filters import StreamFilter, butterworth2_coefficients, lowpass_taps


@pytest.mark.parametrize("fs", [50.0, 100.0, 200.0, 1000.0])
def test_design_equals_scipy_butter(fs: float) -> None:
    b, a = butterworth2_coefficients(fs, 20.0)
    b_ref, a_ref = signal.butter(2, 20.0, fs=fs)
    np.testing.assert_allclose(b, b_ref, rtol=1e-12)
    np.testing.assert_allclose(a, a_ref, rtol=1e-12, atol=1e-15)


@pytest.mark.parametrize(
    ("fs", "max_taps"), [(50.0, 100), (100.0, 60), (200.0, 100), (1000.0, 400)]
)
def test_filter_equals_recursive_butterworth(fs: float, max_taps: int) -> None:
    taps = lowpass_taps(fs, 20.0)
    assert taps is not None and taps.size <= max_taps
    rng = np.random.default_rng(3)
    x = rng.normal(0.0, 0.1, (5000, 3)) + np.array([0.0, 0.0, 1.0])
    sos = signal.butter(2, 20.0, fs=fs, output="sos")
    zi = signal.sosfilt_zi(sos)[:, :, None] * x[0][None, None, :]
    expected, _ = signal.sosfilt(sos, x, axis=0, zi=zi)
    got = StreamFilter(taps)(x)
    assert got.shape == (5000, 3)
    np.testing.assert_allclose(got, expected, rtol=0, atol=1e-12)


def test_corner_near_nyquist_passes_through() -> None:
    assert lowpass_taps(25.0, 20.0) is None
    x = np.arange(12.0).reshape(4, 3)
    np.testing.assert_array_equal(StreamFilter(None)(x), x)


@settings(max_examples=40, deadline=None)
@given(st.lists(st.integers(min_value=1, max_value=300), min_size=1, max_size=12))
def test_any_chunking_gives_identical_output(sizes: list[int]) -> None:
    rng = np.random.default_rng(11)
    x = rng.normal(0.0, 0.05, (sum(sizes), 3))
    taps = lowpass_taps(100.0, 20.0)
    whole = StreamFilter(taps)(x)
    filt = StreamFilter(taps)
    parts, at = [], 0
    for n in sizes:
        parts.append(filt(x[at : at + n]))
        at += n
    np.testing.assert_array_equal(np.vstack(parts), whole)


@pytest.mark.parametrize("n", [1, 2, 12, 13, 25, 50, 250])
def test_column_means_equal_block_means_of_a_wide_array(n: int) -> None:
    """The frame means of the envelope alone (one column) are bit for bit those it had
    as a column of the 7-column feature rows (``einsum`` sums each block in row order
    there, but takes another order on a single contiguous column)."""
    from pipeline.filters import block_means, column_means

    x = np.random.default_rng(n).gamma(2.0, 0.01, (n * 997 + n // 2, 7))
    wide = block_means(x, n)
    fast = np.ascontiguousarray(x[:, 0])
    np.testing.assert_array_equal(column_means(fast, n), wide[:, 0])
    np.testing.assert_array_equal(block_means(np.ascontiguousarray(x[:, 4:]), n), wide[:, 4:])
    assert column_means(fast, n).shape == (997,)
