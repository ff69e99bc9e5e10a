"""Canonical CSV read through Arrow (with pandas for unclean blocks) is pandas' reading.

Every row (time and values to the bit, in order, with its line) and every error (message
and line) must be what the pandas path alone gives, for any block size; Arrow's blocks
may end at other rows than pandas' (where a block ends changes nothing downstream).
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from pipeline.errors import InputError
from pipeline.formats.base import InputOptions, TableSource
from pipeline.formats.canonical import CanonicalCsvSource
from pipeline.reader import ReaderParams, open_recording

HEAD = b"# device: test\n# fs: 50\ntime,ax,ay,az\n"


def _rows(n: int, start: int = 0, fmt: str = "%.4f,%.5f,%.5f,%.5f") -> bytes:
    rng = np.random.default_rng(start)
    t = 1_700_000_000.0 + (start + np.arange(n)) / 50.0
    a = rng.normal(0, 0.3, (n, 3))
    return b"".join((fmt % (t[i], *a[i])).encode() + b"\n" for i in range(n))


def _long_digits(n: int) -> bytes:
    rng = np.random.default_rng(3)
    t = 1_700_000_000.0 + np.arange(n) / 50.0 + rng.uniform(0, 1e-3, n)
    a = rng.normal(0, 1, (n, 3)) * 10.0 ** rng.integers(-6, 2, (n, 3))
    lines = [
        f"{float(t[i])!r},{float(a[i, 0])!r},{a[i, 1]:.20f},{a[i, 2]:.17e}\n" for i in range(n)
    ]
    return "".join(lines).encode()


CONTENTS = {
    "clean": _rows(120),
    "long_digits": _long_digits(120),
    "nan_row_late": _rows(60) + b"1700000001.2000,NaN,0.1,0.2\n" + _rows(40, 61),
    "empty_field_late": _rows(60) + b"1700000001.2000,,0.1,0.2\n" + _rows(40, 61),
    "upper_nan_late": _rows(60) + b"1700000001.2000,NAN,0.1,0.2\n" + _rows(40, 61),
    "inf_late": _rows(60) + b"1700000001.2000,inf,0.1,0.2\n" + _rows(40, 61),
    "text_late": _rows(70) + b"1700000001.4000,0.1,x,0.2\n" + _rows(10, 71),
    "extra_field_late": _rows(70) + b"1700000001.4000,0.1,0.2,0.3,0.4\n" + _rows(10, 71),
    "short_row_late": _rows(70) + b"1700000001.4000,0.1,0.2\n" + _rows(10, 71),
    "blank_line_late": _rows(70) + b"\n" + _rows(10, 71),
    "comment_late": _rows(70) + b"# note\n" + _rows(10, 71),
    "torn_last_line": _rows(99) + b"1700000001.9800,0.1",
    "torn_last_number": _rows(99) + b"1700000001.9800,0.1,0.2,0.",
    "no_final_newline": _rows(99) + b"1700000001.9800,0.1,0.2,0.3",
    "crlf": _rows(80).replace(b"\n", b"\r\n"),
    "lone_cr_late": _rows(50) + _rows(30, 50).replace(b"\n", b"\r"),
    "quoted_and_spaced": _rows(30) + b'"1700000000.6000", 0.1 ,"0.2",0.3\n' + _rows(30, 31),
    "header_only": b"",
    "backwards_late": _rows(80) + _rows(20, 10),
}


def _blocks(source, rows: int, pandas_only: bool):
    out = []
    try:
        blocks = TableSource.blocks(source, rows) if pandas_only else source.blocks(rows)
        for b in blocks:
            out.append((b.first_line, b.t.tobytes(), np.ascontiguousarray(b.a).tobytes()))
    except InputError as err:
        out.append(("error", str(err), err.line))
    finally:
        source.close()
    return out


def _rows_read(blocks: list) -> tuple:
    """The blocks joined: all times and values (bytes) and the first line; or the error
    (message and line: the rows before it are thrown away with the file). Checks that
    each block starts on the line after the previous block's last row."""
    if blocks and blocks[-1][0] == "error":
        return blocks[-1]
    for (line, t, _), (nxt, _, _) in zip(blocks, blocks[1:], strict=False):
        assert nxt == line + len(t) // 8
    return (
        b"".join(b[1] for b in blocks),
        b"".join(b[2] for b in blocks),
        blocks[0][0] if blocks else None,
    )


@pytest.mark.parametrize("name", list(CONTENTS))
@pytest.mark.parametrize("rows", [1, 2, 7, 50, 64, 1000])
def test_blocks_hold_the_rows_of_pandas_blocks(tmp_path: Path, name: str, rows: int) -> None:
    path = tmp_path / f"{name}.csv"
    path.write_bytes(HEAD + CONTENTS[name])
    fast = _blocks(CanonicalCsvSource(path, InputOptions()), rows, pandas_only=False)
    slow = _blocks(CanonicalCsvSource(path, InputOptions()), rows, pandas_only=True)
    assert _rows_read(fast) == _rows_read(slow)


def _joined(chunks: list) -> list[tuple[int, bytes]]:
    """Grid samples as ``(start, bytes)`` of each contiguous stretch (chunks joined: where
    a chunk ends follows the blocks, and changes nothing downstream)."""
    out: list[tuple[int, bytes]] = []
    for c in chunks:
        if out and out[-1][0] + len(out[-1][1]) // 24 == c.start:
            out[-1] = (out[-1][0], out[-1][1] + c.acc.tobytes())
        else:
            out.append((c.start, c.acc.tobytes()))
    return out


@pytest.mark.parametrize("name", list(CONTENTS))
def test_reading_is_pandas_reading(tmp_path: Path, name: str, monkeypatch) -> None:
    # the whole reader (repairs, counts, errors) on top of either path
    path = tmp_path / f"{name}.csv"
    path.write_bytes(HEAD + CONTENTS[name])

    def read() -> tuple:
        try:
            params = ReaderParams(read_rows=16, probe_rows=4)
            with open_recording(path, params) as stream:
                chunks = list(stream.chunks(10))
                return _joined(chunks), stream.gaps, stream.stats
        except InputError as err:
            return str(err), err.line

    fast = read()
    monkeypatch.setattr(CanonicalCsvSource, "blocks", TableSource.blocks)
    assert read() == fast


@pytest.mark.parametrize("name", ["clean", "long_digits", "crlf", "no_final_newline"])
def test_clean_files_need_no_pandas(tmp_path: Path, name: str, monkeypatch) -> None:
    path = tmp_path / f"{name}.csv"
    path.write_bytes(HEAD + CONTENTS[name])

    def refuse(*args, **kwargs):
        raise AssertionError("the pandas path was taken")

    monkeypatch.setattr(TableSource, "_pandas_blocks", refuse)
    blocks = list(CanonicalCsvSource(path, InputOptions()).blocks(7))
    assert sum(b.t.size for b in blocks) == CONTENTS[name].count(b"\n") + (
        not CONTENTS[name].endswith(b"\n")
    )


def test_ramp_rows_doubles_from_the_first_size_up_to_rows() -> None:
    from itertools import islice

    from pipeline.formats.base import FIRST_BLOCK_ROWS, ramp_rows

    assert list(islice(ramp_rows(50, first=7), 6)) == [7, 14, 28, 50, 50, 50]
    assert list(islice(ramp_rows(5, first=7), 3)) == [5, 5, 5]
    first = FIRST_BLOCK_ROWS
    assert list(islice(ramp_rows(262_144), 5)) == [first, 65_536, 131_072, 262_144, 262_144]


@pytest.mark.parametrize(
    "name", ["clean", "long_digits", "crlf", "text_late", "nan_row_late", "torn_last_line"]
)
def test_ramped_blocks_grow_and_hold_pandas_rows(tmp_path: Path, name: str) -> None:
    """Arrow blocks for sizes 3, 6, 12, 24, 24, ... (about that many rows each: the whole
    lines of that many rows' worth of bytes) grow with the sizes, and hold exactly the
    rows, values and lines of the pandas path (which reads on from the first unclean
    block in blocks of 24)."""
    from pipeline.formats.arrowcsv import ArrowBlocks
    from pipeline.formats.base import ramp_rows

    path = tmp_path / f"{name}.csv"
    path.write_bytes(HEAD + CONTENTS[name])
    source = CanonicalCsvSource(path, InputOptions())
    fast = ArrowBlocks(source.input.raw, source.data_line, 24, ramp_rows(24, first=3))
    sizes = [b.t.size for b in fast]
    source.close()
    if name in ("clean", "long_digits", "crlf"):
        assert fast.done and sum(sizes) == CONTENTS[name].count(b"\n")
        assert 1 <= sizes[0] <= 6 and max(sizes) > 12 and all(n <= 48 for n in sizes)
    else:
        assert not fast.done  # the pandas path reads on from the first unclean block

    def joined(pandas_only: bool) -> tuple:
        return _rows_read(_blocks(CanonicalCsvSource(path, InputOptions()), 24, pandas_only))

    assert joined(False) == joined(True)
