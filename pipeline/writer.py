"""Writers for the canonical recording format.

Canonical CSV: optional ``# key: value`` metadata lines, then the header
``time,ax,ay,az``; ``time`` is epoch seconds UTC as a decimal number, axes in g.
Gap samples (NaN rows) are not written: a gap is a jump in ``time``.
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path

import numpy as np
import pandas as pd

from pipeline.atomic import atomic_write
from pipeline.recording import Recording

CANONICAL_COLUMNS = ["time", "ax", "ay", "az"]


def format_metadata(metadata: Mapping[str, object]) -> str:
    """``# key: value`` lines (newline-terminated) for a metadata mapping."""
    lines = []
    for key, value in metadata.items():
        text = str(value).replace("\n", " ")
        lines.append(f"# {key}: {text}\n")
    return "".join(lines)


def write_samples_csv(
    path: str | Path,
    time: np.ndarray,
    acc: np.ndarray,
    metadata: Mapping[str, object] | None = None,
    time_decimals: int = 4,
    acc_decimals: int = 5,
) -> Path:
    """Write samples in the canonical CSV format, atomically.

    Parameters
    ----------
    time : ``(n,)`` epoch seconds UTC, increasing.
    acc : ``(n, 3)`` acceleration in g; rows containing NaN are skipped.
    metadata : written as ``# key: value`` lines before the header.
    """
    time = np.asarray(time, dtype=np.float64)
    acc = np.asarray(acc, dtype=np.float64)
    keep = ~np.isnan(acc).any(axis=1)
    frame = pd.DataFrame(
        {
            "time": np.char.mod(f"%.{time_decimals}f", time[keep]),
            "ax": acc[keep, 0],
            "ay": acc[keep, 1],
            "az": acc[keep, 2],
        }
    )
    path = Path(path)
    with atomic_write(path) as fh:
        fh.write(format_metadata(metadata or {}))
        frame.to_csv(fh, index=False, float_format=f"%.{acc_decimals}f", lineterminator="\n")
    return path


def write_recording_csv(path: str | Path, rec: Recording, **kwargs: int) -> Path:
    """Write a :class:`Recording` (its grid times and samples) as canonical CSV."""
    return write_samples_csv(path, rec.time, rec.acc, rec.metadata, **kwargs)
