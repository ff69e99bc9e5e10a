"""glibc malloc thresholds: freed detection-sized arrays stay in the heap for reuse."""

from __future__ import annotations

import subprocess
import sys

import pytest

CODE = """
import sys
import numpy as np
from pipeline.memtune import keep_freed_memory

def rss():
    with open("/proc/self/statm") as f:
        return int(f.read().split()[1]) * 4096

if sys.argv[1] == "1":
    assert keep_freed_memory()
before = rss()
a = np.ones(5_000_000)  # 40 MB: above glibc's largest dynamic mmap threshold (32 MiB)
a = None
print(rss() - before)
"""


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="glibc's mallopt")
def test_freed_arrays_stay_in_the_heap_only_with_the_thresholds() -> None:
    def kept_mb(tuned: bool) -> float:
        out = subprocess.run(
            [sys.executable, "-c", CODE, "1" if tuned else "0"],
            capture_output=True, text=True, check=True,
        )  # fmt: skip
        return int(out.stdout) / 1e6

    assert kept_mb(False) < 5.0  # mmap'd, and unmapped on free
    assert kept_mb(True) > 35.0  # from the heap, kept for the next block
