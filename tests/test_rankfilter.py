"""The numpy running median/minimum equal scipy.ndimage's, value for value."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from scipy import ndimage

from pipeline.rankfilter import growing_medians, median_filter1d, minimum_filter1d


@st.composite
def cases(draw: st.DrawFn) -> tuple[np.ndarray, int, int]:
    n = draw(st.integers(1, 80))
    size = draw(st.integers(1, 40))
    before = draw(st.integers(0, size - 1))
    ties = draw(st.booleans())
    seed = draw(st.integers(0, 2**31))
    rng = np.random.default_rng(seed)
    x = rng.integers(0, 4, n).astype(np.float64) if ties else rng.normal(size=n)
    return x, size, before - size // 2


@settings(max_examples=400, deadline=None)
@given(cases())
def test_equal_to_scipy(case: tuple[np.ndarray, int, int]) -> None:
    x, size, origin = case
    want_med = ndimage.median_filter(x, size=size, origin=origin, mode="nearest")
    want_min = ndimage.minimum_filter1d(x, size=size, origin=origin, mode="nearest")
    np.testing.assert_array_equal(median_filter1d(x, size, origin), want_med)
    np.testing.assert_array_equal(minimum_filter1d(x, size, origin), want_min)


def test_detector_sizes_on_long_input() -> None:
    """The sizes the detector uses (30 s / 3 s of 0.25-s frames, 300 s floor), 8 h long,
    across the median's internal blocks."""
    x = np.random.default_rng(1).gamma(2.0, 0.01, 115_200)
    for size, origin in [(121, 60), (13, 6), (11, 0)]:
        np.testing.assert_array_equal(
            median_filter1d(x, size, origin),
            ndimage.median_filter(x, size=size, origin=origin, mode="nearest"),
        )
    np.testing.assert_array_equal(
        minimum_filter1d(x, 1200, 599),
        ndimage.minimum_filter1d(x, 1200, origin=599, mode="nearest"),
    )


def test_even_size_takes_the_upper_middle() -> None:
    assert median_filter1d(np.array([1.0, 2.0, 3.0, 4.0]), 2).tolist() == [1.0, 2.0, 3.0, 4.0]
    assert median_filter1d(np.array([4.0, 1.0, 3.0, 2.0]), 4, -1).tolist() == [4.0, 3.0, 2.0, 2.0]


def test_bad_arguments() -> None:
    with pytest.raises(ValueError, match="1-D"):
        median_filter1d(np.zeros((3, 2)), 3)
    with pytest.raises(ValueError, match="origin"):
        minimum_filter1d(np.zeros(5), 3, 2)
    assert median_filter1d(np.array([]), 5).size == 0


def test_nan_takes_the_partition_path() -> None:
    """bottleneck skips NaN in a window; with a NaN the median is numpy's partition (NaN
    sorts last), as before bottleneck was used."""
    x = np.array([3.0, np.nan, 1.0, 2.0, 5.0, 4.0])
    padded = np.concatenate(([x[0]], x, [x[-1]]))
    want = [np.partition(padded[i : i + 3], 1)[1] for i in range(x.size)]
    np.testing.assert_array_equal(median_filter1d(x, 3), want)
    assert median_filter1d(x, 3).tolist() == [3.0, 3.0, 2.0, 2.0, 4.0, 4.0]


@settings(max_examples=60, deadline=None)
@given(st.lists(st.floats(-1e3, 1e3, allow_nan=False), min_size=0, max_size=150))
def test_growing_medians_equal_numpy_bit_for_bit(values: list[float]) -> None:
    x = np.asarray(values, dtype=np.float64)
    expected = [np.median(x[: i + 1]) for i in range(x.size)]
    assert np.array_equal(growing_medians(x), np.asarray(expected, dtype=np.float64))
