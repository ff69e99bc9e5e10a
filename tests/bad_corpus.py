"""Write the corpus of bad input files (the committed files in tests/data/bad/).

Run ``python tests/bad_corpus.py`` to regenerate them; ``tests/test_bad_files.py``
holds the exact expected outcome of each. Every file is small (a minute of data at
most) and deterministic. The clean base: 25 Hz (50 Hz for the clipped jerk), a still
wrist near ``(0.05, -0.1, 0.99)`` g with 5 mg noise, canonical CSV unless named.
"""

from __future__ import annotations

import gzip
from datetime import UTC, datetime
from pathlib import Path
from zoneinfo import ZoneInfo

import numpy as np

BAD = Path(__file__).parent / "data" / "bad"
T0 = 1_767_225_600.0  # 2026-01-01T00:00:00Z
HEADER = "time,ax,ay,az\n"


def _base(n: int, fs: float = 25.0, seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed)
    t = T0 + np.arange(n) / fs
    a = np.array([0.05, -0.1, 0.99]) + rng.normal(0.0, 0.005, (n, 3))
    return t, np.round(a, 5)


def _rows(t: np.ndarray, a: np.ndarray) -> str:
    return "".join(
        f"{ti:.4f},{x:.5f},{y:.5f},{z:.5f}\n" for ti, (x, y, z) in zip(t, a, strict=True)
    )


def _lines(t: np.ndarray, a: np.ndarray) -> list[str]:
    return _rows(t, a).splitlines(keepends=True)


def _local(t: np.ndarray, zone: str) -> list[str]:
    z = ZoneInfo(zone)
    return [datetime.fromtimestamp(float(x), z).strftime("%Y-%m-%d %H:%M:%S.%f")[:-3] for x in t]


def files() -> dict[str, bytes]:
    """File name -> content of every corpus file."""
    out: dict[str, bytes] = {}
    t, a = _base(500)
    body = _lines(t, a)

    # ------------------------------------------------------------------ errors
    out["empty.csv"] = b""
    out["header_only.csv"] = b"# device: x\n" + HEADER.encode()
    out["binary_garbage.csv"] = bytes(np.random.default_rng(1).integers(0, 256, 4000, np.uint8))
    huge = "".join(body[:100]) + f"{t[100]:.4f}," + "9" * 200_000 + ",0.1,0.9\n"
    out["huge_line.csv"] = (HEADER + huge + "".join(body[101:])).encode()
    mixed = body[:50] + [s.replace(",", ";") for s in body[50:52]] + body[52:]
    out["mixed_delimiters.csv"] = (HEADER + "".join(mixed)).encode()
    five = body[:70] + [body[70].rstrip("\n") + ",0.5\n"] + body[71:]
    out["wrong_column_count.csv"] = (HEADER + "".join(five)).encode()
    far = body[:200] + [f"{t[200]:.4f},0.05000,1e30,0.99000\n"] + body[201:]
    out["beyond_range.csv"] = (HEADER + "".join(far)).encode()  # a value no sensor gives
    word = body[:30] + [body[30].replace(f",{a[30, 1]:.5f},", ",abc,")] + body[31:]
    out["not_a_number.csv"] = (HEADER + "".join(word)).encode()
    out["joined_files.csv"] = (HEADER + "".join(body[:300]) + HEADER + "".join(body[300:])).encode()
    ms = [f"{ti * 1000:.1f},{x:.5f},{y:.5f},{z:.5f}\n" for ti, (x, y, z) in zip(t, a, strict=True)]
    out["time_in_ms.csv"] = (HEADER + "".join(ms)).encode()
    out["relative_times.csv"] = (HEADER + _rows(t - T0, a)).encode()
    nan_col = [f"{ti:.4f},{x:.5f},,{z:.5f}\n" for ti, (x, _, z) in zip(t, a, strict=True)]
    out["nan_column.csv"] = (HEADER + "".join(nan_col)).encode()
    reset = np.concatenate((t[:300], t[:200] - 3600.0 + 300 / 25.0))  # clock back ~1 h
    out["clock_reset.csv"] = (HEADER + _rows(reset, np.vstack((a[:300], a[:200])))).encode()
    replay = body[:200] + body[195:199] + body[200:]  # 4 rows sent again 0.2 s late
    out["replayed_rows.csv"] = (HEADER + "".join(replay)).encode()
    # Axivity (naive local time) across the spring gap of Europe/Berlin: 02:00-03:00
    # does not exist; a logger that ignored the change writes it anyway
    spring = datetime.fromisoformat("2026-03-29T01:59:50+00:00").timestamp()  # naive text
    st = spring + np.arange(500) / 25.0
    naive = [datetime.fromtimestamp(x, UTC).strftime("%Y-%m-%d %H:%M:%S.%f")[:-3] for x in st]
    out["dst_gap_axivity.csv"] = "".join(
        f"{s},{x:.5f},{y:.5f},{z:.5f}\n" for s, (x, y, z) in zip(naive, a, strict=True)
    ).encode()
    # autumn: one pass of the repeated hour only (02:59:50-03:00 CEST), then 03:00 CET
    # after a gap: which pass it is cannot be told
    autumn = datetime.fromisoformat("2026-10-25T02:59:50+02:00").timestamp()
    at = np.concatenate((autumn + np.arange(250) / 25.0, autumn + 3600 + 10 + np.arange(250) / 25))
    out["dst_repeat_one_pass_axivity.csv"] = "".join(
        f"{s},{x:.5f},{y:.5f},{z:.5f}\n"
        for s, (x, y, z) in zip(_local(at, "Europe/Berlin"), a, strict=True)
    ).encode()

    # ----------------------------------------------------------------- repairs
    nan = list(body)
    nan[40] = f"{t[40]:.4f},NaN,{a[40, 1]:.5f},{a[40, 2]:.5f}\n"
    nan[41] = f"{t[41]:.4f},{a[41, 0]:.5f},,{a[41, 2]:.5f}\n"
    nan[300] = f"{t[300]:.4f},nan,nan,nan\n"
    out["nan_rows.csv"] = (HEADER + "".join(nan)).encode()
    swap = list(body)
    for i in (100, 250, 400):  # BLE packets of 2 samples (80 ms) arriving swapped
        swap[i : i + 4] = swap[i + 2 : i + 4] + swap[i : i + 2]
    out["swapped_packets.csv"] = (HEADER + "".join(swap)).encode()
    dup = list(body)
    dup.insert(61, body[60])  # exact repeat
    dup.insert(121, body[119])  # exact repeat
    dup.insert(202, f"{t[199]:.4f},0.50000,0.50000,0.50000\n")  # same time, other values
    dup.insert(302, f"{t[298]:.4f},0.70000,0.10000,0.10000\n")
    out["duplicates.csv"] = (HEADER + "".join(dup)).encode()
    out["torn_last_line.csv"] = (HEADER + "".join(body) + f"{t[-1] + 0.04:.4f},0.05").encode()
    # autumn night in naive local time with both passes of the repeated hour (Axivity)
    # (bursts of 10 samples at 25 Hz every minute, 01:58 CEST to 03:01 CET)
    night = datetime.fromisoformat("2026-10-25T01:58:00+02:00").timestamp()
    nt = np.concatenate([night + k * 60 + np.arange(10) / 25.0 for k in range(124)])
    na = np.array([0.05, -0.1, 0.99]) + np.random.default_rng(3).normal(0, 0.005, (nt.size, 3))
    out["dst_repeat_axivity.csv"] = "".join(
        f"{s},{x:.5f},{y:.5f},{z:.5f}\n"
        for s, (x, y, z) in zip(_local(nt, "Europe/Berlin"), na, strict=True)
    ).encode()
    rt = np.concatenate((t[:300], t[299] + np.arange(1, 201) / 12.5))  # 25 Hz -> 12.5 Hz
    out["rate_change.csv"] = (HEADER + _rows(rt, a[:500])).encode()
    st, stuck = _base(2000)  # 80 s
    stuck[:, 1] = -0.10254  # y never changes while x and z move (noise)
    out["stuck_axis.csv"] = (HEADER + _rows(st, stuck)).encode()
    out["m_s2.csv"] = (HEADER + _rows(t, np.round(a * 9.80665, 5))).encode()
    gz = gzip.compress((HEADER + "".join(body)).encode(), mtime=0)
    out["truncated.csv.gz"] = gz[: len(gz) * 2 // 3]
    crlf = "\ufeff" + HEADER + "".join(body)
    out["bom_crlf.csv"] = crlf.replace("\n", "\r\n").encode()
    gap = np.concatenate((t[:200], t[200:] + 5.0))  # a 5 s gap, and 10 dropped samples
    keep = np.ones(500, dtype=bool)
    keep[350:360] = False
    out["gap_and_drops.csv"] = (HEADER + _rows(gap[keep], a[keep])).encode()
    out["clipped_jerk.csv"] = _clipped_jerk()
    tt, aa = _base(500, 12.5, seed=12)  # the slowest rate: 40 s
    out["rate_12.5hz.csv"] = (HEADER + _rows(tt, aa)).encode()
    tt, aa = _base(8000, 1000.0, seed=1000)  # the fastest: 8 s, gzip
    out["rate_1000hz.csv.gz"] = gzip.compress((HEADER + _rows(tt, aa)).encode(), mtime=0)
    return out


def _clipped_jerk() -> bytes:
    """40 s at 50 Hz of a still wrist with one 60 ms jerk of 12 g on x, clipped at the
    ±8 g range of a 12-bit sensor (top code 7.99609 g), and one unclipped 0.6 g jerk."""
    fs, n = 50.0, 2000
    t, a = _base(n, fs, seed=5)
    lsb = 16.0 / 4096
    for onset, size in ((20.0, 12.0), (30.0, 0.6)):
        i = int(onset * fs)
        shape = np.sin(np.pi * np.arange(4) / 3.0)  # 0, .87, .87, 0 over 60 ms
        a[i : i + 4, 0] += size * shape
    a = np.clip(np.round(a / lsb), -2048, 2047) * lsb
    return ("# range_g: 8\n" + HEADER + _rows(t, a)).encode()


def main() -> None:
    BAD.mkdir(parents=True, exist_ok=True)
    for name, content in files().items():
        (BAD / name).write_bytes(content)


if __name__ == "__main__":
    main()
