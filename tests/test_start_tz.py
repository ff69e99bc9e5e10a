"""A recording's ``--start`` without UTC offset is local in ``--tz``, like its own times.

Before 0.4.5 ``detect REC --start 2026-01-01T02:30:00 --tz Europe/Berlin`` placed the
recording at 02:30 UTC (03:30 in Berlin), while the naive times inside a file are read
in ``--tz``: an ActiLife file's Start Time overridden by the same local time moved by
the zone's offset, and a start in a daylight-saving gap was taken without a word.
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
from click.testing import CliRunner

from cli import main

#: 2026-01-01T01:30:00Z, which is 02:30 in Berlin (UTC+01:00 in winter)
BERLIN_0230 = 1767231000.0


def _relative_csv(path: Path, fs: float = 50.0, seconds: float = 60.0) -> Path:
    """Seconds from the start and still axes: ``t,x,y,z``."""
    n = int(fs * seconds)
    rng = np.random.default_rng(1)
    a = rng.normal(0.0, 0.003, (n, 3)) + [0.0, 0.0, 1.0]
    rows = "".join(f"{i / fs:.3f},{x:.4f},{y:.4f},{z:.4f}\n" for i, (x, y, z) in enumerate(a))
    path.write_text("t,x,y,z\n" + rows)
    return path


def _detect(tmp_path: Path, rec: Path, *args: str) -> tuple[int, str, dict | None]:
    out = tmp_path / "out" / "ev.csv"
    res = CliRunner().invoke(main, ["detect", str(rec), "--out", str(out), *args])
    sidecar = out.with_suffix(".json")
    return res.exit_code, res.output, json.loads(sidecar.read_text()) if sidecar.exists() else None


@pytest.mark.parametrize(
    ("start", "tz", "t0", "t0_local"),
    [
        ("2026-01-01T02:30:00", "Europe/Berlin", BERLIN_0230, "2026-01-01T02:30:00.000+01:00"),
        ("2026-01-01T02:30:00", "UTC", BERLIN_0230 + 3600, "2026-01-01T02:30:00.000+00:00"),
        ("2026-01-01T02:30:00+01:00", "America/New_York", BERLIN_0230,
         "2025-12-31T20:30:00.000-05:00"),
        ("2026-01-01T01:30:00Z", "Europe/Berlin", BERLIN_0230, "2026-01-01T02:30:00.000+01:00"),
    ],
)  # fmt: skip
def test_a_naive_start_is_local_in_tz(
    tmp_path: Path, start: str, tz: str, t0: float, t0_local: str
) -> None:
    rec = _relative_csv(tmp_path / "rel.csv")
    code, output, sidecar = _detect(tmp_path, rec, "--time-unit", "relative", "--start", start,
                                    "--tz", tz)  # fmt: skip
    assert code == 0, output
    assert sidecar is not None
    assert (sidecar["recording"]["t0"], sidecar["recording"]["t0_local"]) == (t0, t0_local)


def test_a_naive_start_without_tz_is_utc(tmp_path: Path) -> None:
    """Without --tz, as the file's own naive times: UTC, whatever the machine's zone."""
    rec = _relative_csv(tmp_path / "rel.csv")
    res = CliRunner(env={"TZ": "Asia/Tokyo"}).invoke(
        main, ["detect", str(rec), "--out", str(tmp_path / "ev.csv"), "--time-unit",
               "relative", "--start", "2026-01-01T02:30:00"],
    )  # fmt: skip
    assert res.exit_code == 0, res.output
    assert json.loads((tmp_path / "ev.json").read_text())["recording"]["t0"] == BERLIN_0230 + 3600


@pytest.mark.parametrize(
    ("start", "what"),
    [("2026-03-29T02:30:00", "skipped"), ("2026-10-25T02:30:00", "repeated")],
)
def test_a_naive_start_a_clock_change_skips_or_repeats_is_a_usage_error(
    tmp_path: Path, start: str, what: str
) -> None:
    rec = _relative_csv(tmp_path / "rel.csv")
    code, output, sidecar = _detect(tmp_path, rec, "--time-unit", "relative", "--start", start,
                                    "--tz", "Europe/Berlin")  # fmt: skip
    assert code == 2
    assert output == (
        f"jerkcount: error: Invalid value for '--start': '{start}' is {what} in Europe/Berlin "
        "(daylight-saving change): give it with a UTC offset\n"
    )
    assert sidecar is None and not (tmp_path / "out").exists()


def test_an_actilife_start_given_as_the_headers_local_time_keeps_its_place(
    tmp_path: Path,
) -> None:
    """An ActiLife file without a Timestamp column starts at the header's Start Date and
    Start Time in --tz; --start with that same local time gives the same t0."""
    banner = (
        "------------ Data File Created By ActiGraph GT3X+ ActiLife v6.13.3 Firmware v2.5.0 "
        "date format M/d/yyyy at 30 Hz  Filter Normal -----------\n"
        "Serial Number: MOS2E22180349\nStart Time 13:00:00\nStart Date 5/13/2014\n"
        "Epoch Period (hh:mm:ss) 00:00:00\nDownload Time 10:44:54\nDownload Date 5/20/2014\n"
        "Current Memory Address: 0\nCurrent Battery Voltage: 4.22     Mode = 12\n"
        "--------------------------------------------------\n"
        "Accelerometer X,Accelerometer Y,Accelerometer Z\n"
    )
    rec = tmp_path / "acti.csv"
    rec.write_text(banner + "0.012,-0.998,0.035\n" * 1800)
    header = _detect(tmp_path, rec, "--tz", "America/New_York")[2]
    assert header is not None
    assert header["recording"]["t0"] == 1400000400.0  # 2014-05-13 13:00 EDT = 17:00 UTC
    code, output, given = _detect(tmp_path, rec, "--tz", "America/New_York",
                                  "--start", "2014-05-13T13:00:00")  # fmt: skip
    assert code == 0, output
    assert given is not None and given["recording"]["t0"] == 1400000400.0
