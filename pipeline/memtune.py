"""glibc malloc settings for detection's large, short-lived numpy arrays.

Detection allocates and frees arrays of one to ten megabytes per block. glibc's
``malloc`` serves those with ``mmap`` and gives them back on ``free`` (or trims the heap
top), so the next block touches fresh pages again: about 0.2-0.3 s of page faults (system
time) on an 8-hour night. With the mmap threshold at 64 MiB and the trim threshold at
256 MiB, freed blocks stay in the heap and are reused; peak memory grows by about
50 MB. Elsewhere (not Linux, or another C library) this does nothing.
"""

from __future__ import annotations

import ctypes
import logging
import sys

log = logging.getLogger(__name__)

#: ``mallopt`` parameters (``<malloc.h>``).
M_TRIM_THRESHOLD = -1
M_MMAP_THRESHOLD = -3
#: Allocations below this size (bytes) come from the heap, not from ``mmap``.
MMAP_THRESHOLD = 64 << 20
#: Free memory at the heap top is returned to the system only above this size (bytes).
TRIM_THRESHOLD = 256 << 20


def keep_freed_memory() -> bool:
    """Set the thresholds for this process (inherited by forked workers); True if set."""
    if not sys.platform.startswith("linux"):
        return False
    try:
        libc = ctypes.CDLL("libc.so.6")
        mallopt = libc.mallopt
    except (OSError, AttributeError):
        return False
    mallopt.argtypes = [ctypes.c_int, ctypes.c_int]
    mallopt.restype = ctypes.c_int
    ok = bool(mallopt(M_MMAP_THRESHOLD, MMAP_THRESHOLD)) and bool(
        mallopt(M_TRIM_THRESHOLD, TRIM_THRESHOLD)
    )
    log.debug("malloc thresholds %s", "set" if ok else "not set")
    return ok
