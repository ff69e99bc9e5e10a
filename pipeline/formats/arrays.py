"""Arrow arrays as numpy arrays without pyarrow's ``to_numpy`` (which imports pandas)."""

from __future__ import annotations

from typing import Any

import numpy as np


def float64_view(array: Any) -> np.ndarray | None:
    """A read-only numpy view (m,) of a float64 Arrow ``Array`` without nulls, else ``None``.

    Straight from the array's data buffer (respecting its offset), no copy.
    """
    import pyarrow as pa

    if array.null_count or not pa.types.is_float64(array.type):
        return None
    data = array.buffers()[1]
    if data is None:  # an empty array may have no buffer
        return np.empty(0, dtype=np.float64)
    return np.frombuffer(data, dtype=np.float64, count=len(array), offset=array.offset * 8)
