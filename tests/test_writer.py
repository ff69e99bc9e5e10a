"""Canonical CSV writer: the vectorised number formatting equals printf's, byte for byte."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from pipeline.reader import read_recording
from pipeline.writer import fixed_point_text, write_samples_csv


def printf(values: np.ndarray, decimals: int) -> list[str]:
    return [f"%.{decimals}f" % v for v in values]


def test_halves_quantised_values_and_signs_match_printf() -> None:
    values = np.array(
        [0.015625, -0.015625, 0.4296875, 1562.5e-5, 2.5e-5, -2.5e-5, 0.0, -0.0, -1e-9,
         1767302403.56015, 1767302488.39995, 0.125, -7.99951171875, 15.9990234375]
    )  # fmt: skip
    for d in (0, 3, 4, 5):
        assert fixed_point_text(values, d).to_pylist() == printf(values, d)


def test_quantised_sensor_codes_match_printf() -> None:
    codes = np.arange(-4096, 4096)
    for lsb in (1 / 256, 1 / 1024, 3.9e-3, 2**-13):
        values = codes * lsb
        assert fixed_point_text(values, 5).to_pylist() == printf(values, 5)


@settings(max_examples=60, deadline=None)
@given(
    st.lists(
        st.floats(min_value=-1e6, max_value=1e6, allow_nan=False, allow_infinity=False),
        min_size=1,
        max_size=50,
    ),
    st.integers(min_value=0, max_value=6),
)
def test_any_value_matches_printf(values: list[float], decimals: int) -> None:
    arr = np.asarray(values)
    assert fixed_point_text(arr, decimals).to_pylist() == printf(arr, decimals)


def test_huge_values_fall_back_to_printf() -> None:
    values = np.array([1e300, -3.0e17, 12.5])
    assert fixed_point_text(values, 4).to_pylist() == printf(values, 4)


def test_written_file_is_exact_text_and_reads_back(tmp_path: Path) -> None:
    t = 1767225600.0 + np.arange(6) / 100.0
    acc = np.array(
        [[0.0, 0.0, 1.0], [0.015625, -0.5, 0.99], [np.nan, 0.0, 0.0],
         [-0.00000001, 0.25, 1.0], [1.5, -2.0, 0.5], [0.1, 0.2, 0.3]]
    )  # fmt: skip
    path = write_samples_csv(tmp_path / "r.csv", t, acc, {"device": "test"})
    assert path.read_text().splitlines() == [
        "# device: test",
        "time,ax,ay,az",
        "1767225600.0000,0.00000,0.00000,1.00000",
        "1767225600.0100,0.01562,-0.50000,0.99000",
        "1767225600.0300,-0.00000,0.25000,1.00000",
        "1767225600.0400,1.50000,-2.00000,0.50000",
        "1767225600.0500,0.10000,0.20000,0.30000",
    ]
    rec = read_recording(path)
    assert rec.metadata["device"] == "test"
    assert rec.fs == 100.0 and rec.n == 6
    np.testing.assert_allclose(rec.acc[2], [0.00781, -0.125, 0.995])  # short gap: interpolated
    np.testing.assert_allclose(rec.acc[4], [1.5, -2.0, 0.5])


def test_blocks_write_the_same_bytes(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """The text is formatted a block of rows at a time (bounded memory): blocks of 7
    rows, NaN rows (gaps) among them and at a block's edge, give the bytes of one block."""
    import pipeline.writer as writer

    rng = np.random.default_rng(5)
    t = 1767225600.0 + np.arange(50) / 100.0
    acc = rng.normal(0.0, 0.5, (50, 3))
    acc[[6, 7, 20, 49]] = np.nan
    whole = writer.write_samples_csv(tmp_path / "whole.csv", t, acc, {"fs": 100})
    monkeypatch.setattr(writer, "WRITE_ROWS", 7)
    blocks = writer.write_samples_csv(tmp_path / "blocks.csv", t, acc, {"fs": 100})
    text = blocks.read_bytes()
    assert text == whole.read_bytes()
    assert text.count(b"\n") == 2 + 46  # metadata, header, the rows without NaN
    assert writer.write_samples_csv(tmp_path / "none.csv", t[:0], acc[:0]).read_bytes() == (
        b"time,ax,ay,az\n"
    )
