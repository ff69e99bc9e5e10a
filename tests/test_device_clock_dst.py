"""A logger's CSV export in a daylight-saving change says to give --tz its fixed offset.

The ActiLife, Axivity (OMGUI) and GENEActiv exports write the device's clock, which
keeps the offset it was set to: a night across the spring change has times the zone's
rules skip, and one across the autumn change passes the repeated hour once. Before
0.4.5 the CSV exports said only ``is skipped in Europe/Berlin (daylight-saving
change)``, or ``write times with a UTC offset`` (which an export cannot do), where the
device binaries already said what to give.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from pathlib import Path

import pytest
from click.testing import CliRunner

from cli import main

HINT = (
    "the device clock does not change for daylight saving: give --tz the fixed offset it "
    "was set to (e.g. Etc/GMT-2 for UTC+02:00)"
)
BANNER = (
    "------------ Data File Created By ActiGraph GT3X+ ActiLife v6.13.3 Firmware v2.5.0 "
    "date format M/d/yyyy at 50 Hz  Filter Normal -----------\n"
    "Serial Number: MOS2E22180349\nStart Time 01:59:00\nStart Date 3/29/2026\n"
    "Epoch Period (hh:mm:ss) 00:00:00\nDownload Time 10:44:54\nDownload Date 3/30/2026\n"
    "Current Memory Address: 0\nCurrent Battery Voltage: 4.22     Mode = 12\n"
    "--------------------------------------------------\n"
    "Timestamp,Accelerometer X,Accelerometer Y,Accelerometer Z\n"
)


def _actilife(path: Path, start: datetime, seconds: int = 120) -> Path:
    """An ActiLife raw CSV at 50 Hz from the naive device time ``start`` (its first row
    on line 12: the 10-line banner and the column header come before it)."""
    rows = []
    for i in range(seconds * 50):
        t = start + timedelta(milliseconds=20 * i)
        rows.append(f"{t.month}/{t.day}/{t.year} {t:%H:%M:%S}.{t.microsecond // 1000:03d},"
                    "0.012,-0.998,0.035\n")  # fmt: skip
    path.write_text(BANNER + "".join(rows))
    return path


@pytest.mark.parametrize(
    ("start", "line", "message"),
    [
        (datetime(2026, 3, 29, 1, 59), 3012,
         "local time '3/29/2026 02:00:00.000' is skipped in Europe/Berlin (daylight-saving "
         f"change); {HINT}"),
        (datetime(2026, 10, 25, 2, 59), 12,
         "local time '10/25/2026 02:59:00.000' is repeated in Europe/Berlin (daylight-saving "
         f"change) and the rows do not show which pass it is; {HINT}"),
    ],
)  # fmt: skip
def test_an_actilife_night_across_a_clock_change_says_to_give_the_fixed_offset(
    tmp_path: Path, start: datetime, line: int, message: str
) -> None:
    rec = _actilife(tmp_path / "acti.csv", start)
    res = CliRunner().invoke(main, ["detect", str(rec), "--tz", "Europe/Berlin"])
    assert res.exit_code == 2
    assert res.output == f"jerkcount: error: {rec}:{line}: {message}\n"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["acti.csv"]
    # what it says works: the device was set to CET (UTC+01:00)
    res = CliRunner().invoke(main, ["detect", str(rec), "--tz", "Etc/GMT-1"])
    assert res.exit_code == 0, res.output
