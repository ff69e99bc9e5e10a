"""`jerkcount record --out` that cannot be made is said at once, before the board."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from pathlib import Path

JERKCOUNT = [sys.executable, "-m", "cli"]


def test_an_out_folder_under_a_file_stops_at_once(tmp_path: Path) -> None:
    """``--out night.csv/x`` with no board plugged in: one line naming the file in the
    way, exit 2, within seconds, nothing made. Before 0.4.5 the recorder first tried to
    reach the board (60 s, or the whole --duration), then said only that the board was
    not reached; with a board it connected before finding out."""
    (tmp_path / "night.csv").write_text("time,ax,ay,az\n")
    env = {**os.environ, "PYTHONPATH": str(Path(__file__).resolve().parents[1])}
    began = time.monotonic()
    run = subprocess.run(
        [*JERKCOUNT, "record", "--source", f"serial:{tmp_path / 'no-board'}",
         "--protocol", "text:csv-ms", "--out", str(tmp_path / "night.csv" / "x"),
         "--duration", "30s"],
        capture_output=True, text=True, env=env, timeout=60,
    )  # fmt: skip
    assert time.monotonic() - began < 15
    assert run.returncode == 2
    assert run.stdout == ""
    assert run.stderr.splitlines() == [
        f"jerkcount: error: {tmp_path / 'night.csv' / 'x'}: cannot be written: "
        f"{tmp_path / 'night.csv'} is a file, not a folder: stopped at once, nothing recorded"
    ]
    assert sorted(p.name for p in tmp_path.iterdir()) == ["night.csv"]
