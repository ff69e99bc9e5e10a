"""Reader for SisFall activity recordings (real everyday movement, no myoclonus).

SisFall (Sucerquia, Lopez, Vargas-Bonilla, Sensors 17(1):198, 2017) files hold one
sample per line at 200 Hz, no timestamps, nine comma-separated integers ending in
``;``: ADXL345 x,y,z (13 bit, +-16 g), ITG3200 gyroscope x,y,z, MMA8451Q x,y,z
(14 bit, +-8 g). Files may be gzip-compressed (``.txt.gz``).
"""

from __future__ import annotations

import gzip
import re
from pathlib import Path

import numpy as np

from pipeline.errors import InputError
from pipeline.recording import Recording

SISFALL_FS = 200.0
#: sensor name -> (first column, g per count)
SENSORS = {"adxl345": (0, 32.0 / 8192.0), "mma8451q": (6, 16.0 / 16384.0)}
ACTIVITIES = {
    "D01": "walking slowly",
    "D03": "jogging slowly",
    "D05": "walking up and down stairs slowly",
    "D07": "slowly sit in a half-height chair, wait, get up slowly",
    "D10": "quickly sit in a low chair, wait, get up quickly",
    "D12": "sit, lie down slowly, wait, sit up",
    "D13": "sit, lie down quickly, wait, sit up",
    "D14": "lying on the back, roll to the side, wait, roll back",
    "D17": "get into a car, sit, get out",
    "D18": "stumble while walking",
    "D19": "gently jump to reach something high",
}
_NAME = re.compile(r"(?P<activity>[DF]\d\d)_(?P<subject>S[AE]\d\d)_(?P<trial>R\d\d)")


def read_sisfall(path: str | Path, sensor: str = "mma8451q", t0: float = 0.0) -> Recording:
    """Read one SisFall trial as a :class:`Recording` in g at 200 Hz starting at ``t0``.

    ``sensor`` is ``"mma8451q"`` (finer, quieter) or ``"adxl345"``.
    """
    path = Path(path)
    col, scale = SENSORS[sensor]
    opener = gzip.open if path.suffix == ".gz" else open
    try:
        with opener(path, "rt", encoding="ascii") as fh:
            text = fh.read()
    except (OSError, UnicodeDecodeError) as err:
        raise InputError(path, f"cannot read SisFall file: {err}") from None
    rows = [ln.strip().rstrip(";") for ln in text.splitlines() if ln.strip()]
    try:
        data = np.array([[int(v) for v in r.split(",")] for r in rows], dtype=np.float64)
    except ValueError:
        raise InputError(path, "not a SisFall file (expected 9 integers a line)") from None
    if data.ndim != 2 or data.shape[1] != 9:
        raise InputError(path, "not a SisFall file (expected 9 integers a line)")
    acc = data[:, col : col + 3] * scale
    meta = {"device": f"SisFall {sensor}", "file": path.name}
    m = _NAME.search(path.name)
    if m:
        meta.update(m.groupdict())
        meta["activity_name"] = ACTIVITIES.get(m["activity"], "")
    return Recording(t0, SISFALL_FS, acc, meta, str(path))


def find_trials(root: str | Path) -> list[Path]:
    """All SisFall trial files (``*.txt`` or ``*.txt.gz``) below ``root``, sorted."""
    root = Path(root)
    return sorted(p for p in root.rglob("*") if _NAME.search(p.name) and ".txt" in p.name)
