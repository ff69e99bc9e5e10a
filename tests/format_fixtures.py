"""Write one simulated night in every input dialect (the fixtures in tests/data/formats/).

Run ``python tests/format_fixtures.py`` to regenerate the committed files; the tests
import the writers to make variants (compressed, BOM, CRLF, torn) on the fly.

The night: ``simulate_night(NightConfig(hours=0.02, fs=50, rate_per_hour=600, seed=1))``
— 72 s at 50 Hz, jittered sample times, a few dropped samples, 12-bit values. Every
writer starts from the values of the canonical file (times at 0.1 ms, axes at 1e-5 g)
and writes them as the dialect does (its time resolution, units and decimals).
"""

from __future__ import annotations

import zipfile
from datetime import UTC, datetime, timedelta, timezone
from pathlib import Path

import numpy as np

FIXTURES = Path(__file__).parent / "data" / "formats"
FS = 50.0
POLAR_EPOCH = 946_684_800.0  # 2000-01-01T00:00:00Z, the Polar SDK's sensor-time epoch
GENEACTIV_ZONE = timezone(timedelta(hours=1))  # written as "Time Zone,GMT +01:00"


def night() -> tuple[np.ndarray, np.ndarray, dict[str, str]]:
    """``(t, a, metadata)``: the simulated night as the canonical file holds it."""
    from sim import NightConfig, simulate_night

    n = simulate_night(NightConfig(hours=0.02, fs=FS, rate_per_hour=600, seed=1))
    return np.round(n.time, 4), np.round(n.acc, 5), n.metadata()


def _stamp(t: float, tz: timezone = UTC, sep: str = " ", frac_sep: str = ".") -> str:
    """``YYYY-MM-DD hh:mm:ss.fff`` of epoch ``t`` in ``tz`` (milliseconds rounded)."""
    ms = int(round(t * 1000))
    moment = datetime.fromtimestamp(ms // 1000, tz).replace(tzinfo=None)
    return moment.strftime(f"%Y-%m-%d{sep}%H:%M:%S") + f"{frac_sep}{ms % 1000:03d}"


def _lines(path: Path, lines: list[str]) -> Path:
    path.write_text("".join(s + "\n" for s in lines), encoding="utf-8")
    return path


def write_canonical(path: Path, t: np.ndarray, a: np.ndarray, meta: dict[str, str]) -> Path:
    from pipeline.writer import write_samples_csv

    return write_samples_csv(path, t, a, meta)


def write_parquet(path: Path, t: np.ndarray, a: np.ndarray, meta: dict[str, str]) -> Path:
    from pipeline.formats import write_samples_parquet

    return write_samples_parquet(path, t, a, meta)


def phyphox_csv(t: np.ndarray, a: np.ndarray, start: float) -> str:
    """phyphox "Acceleration with g" CSV text (comma, decimal point, ``%.9E``)."""
    head = '"Time (s)","Acceleration x (m/s^2)","Acceleration y (m/s^2)",'
    head += '"Acceleration z (m/s^2)","Absolute acceleration (m/s^2)"'
    ms2 = a * 9.80665
    absolute = np.sqrt((ms2**2).sum(axis=1))
    rows = [head]
    for ti, (x, y, z), m in zip(t - start, ms2, absolute, strict=True):
        rows.append(f"{ti:.9E},{x:.9E},{y:.9E},{z:.9E},{m:.9E}")
    return "".join(r + "\n" for r in rows)


def write_phyphox_zip(path: Path, t: np.ndarray, a: np.ndarray, start: float) -> Path:
    """A phyphox zip export: ``Raw Data.csv`` and ``meta/time.csv`` (one START row)."""
    stamp = datetime.fromtimestamp(start, UTC).strftime("%Y-%m-%d %H:%M:%S.%f")[:-3]
    time_csv = '"event","experiment time","system time","system time text"\n'
    time_csv += f'"START",0.000000000E0,{start:.3f},"{stamp} UTC+00:00"\n'
    time_csv += f'"PAUSE",{t[-1] - start:.9E},{t[-1]:.3f},"{stamp} UTC+00:00"\n'
    device = '"property","value"\n"deviceModel","jerkcount-sim"\n'
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as zf:
        zf.writestr("Raw Data.csv", phyphox_csv(t, a, start))
        zf.writestr("meta/device.csv", device)
        zf.writestr("meta/time.csv", time_csv)
    return path


def write_polar(path: Path, t: np.ndarray, a: np.ndarray) -> Path:
    """Polar Sensor Logger ACC: phone time (UTC here, ms), sensor ns, integer mg."""
    rows = ["Phone timestamp;sensor timestamp [ns];X [mg];Y [mg];Z [mg]"]
    ns = np.rint((t - POLAR_EPOCH) * 1e9).astype(np.int64)
    mg = np.rint(a * 1000).astype(np.int64)
    for ti, n, (x, y, z) in zip(t, ns, mg, strict=True):
        rows.append(f"{_stamp(ti, sep='T')};{n};{x};{y};{z}")
    return _lines(path, rows)


def write_metabase(path: Path, t: np.ndarray, a: np.ndarray) -> Path:
    """MetaBase: epoch ms, local time text (UTC here), elapsed s, g with 3 decimals."""
    rows = ["epoch (ms),time (00:00),elapsed (s),x-axis (g),y-axis (g),z-axis (g)"]
    ms = np.rint(t * 1000).astype(np.int64)
    for m, (x, y, z) in zip(ms, a, strict=True):
        stamp = _stamp(m / 1000, sep="T")
        rows.append(f"{m},{stamp},{(m - ms[0]) / 1000:.3f},{x:.3f},{y:.3f},{z:.3f}")
    return _lines(path, rows)


def grid(t: np.ndarray, a: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """The canonical reader's uniform grid of the night (what a device with a fixed rate
    would have stored): ``(times, values)``, no gaps."""
    import tempfile

    from pipeline.reader import read_recording

    with tempfile.TemporaryDirectory() as tmp:
        rec = read_recording(write_canonical(Path(tmp) / "n.csv", t, a, {}))
    assert not rec.gaps
    return rec.time, rec.acc


def write_actilife(path: Path, t: np.ndarray, a: np.ndarray, timestamps: bool) -> Path:
    """ActiLife raw CSV of the gridded night, local time = UTC, g with 3 decimals."""
    gt, ga = grid(t, a)
    start = datetime.fromtimestamp(float(np.floor(gt[0])), UTC)
    date = f"{start.month}/{start.day}/{start.year}"
    head = [
        "------------ Data File Created By ActiGraph GT3X+ ActiLife v6.13.3 Firmware v2.5.0 "
        f"date format M/d/yyyy at {FS:g} Hz  Filter Normal -----------",
        "Serial Number: SIM0000000001",
        f"Start Time {start:%H:%M:%S}",
        f"Start Date {date}",
        "Epoch Period (hh:mm:ss) 00:00:00",
        f"Download Time {start:%H:%M:%S}",
        f"Download Date {date}",
        "Current Memory Address: 0",
        "Current Battery Voltage: 4.21     Mode = 12",
        "--------------------------------------------------",
    ]
    if timestamps:
        rows = head + ["Timestamp,Accelerometer X,Accelerometer Y,Accelerometer Z"]
        for ti, (x, y, z) in zip(gt, ga, strict=True):
            d = datetime.fromtimestamp(int(round(ti * 1000)) // 1000, UTC)
            ms = int(round(ti * 1000)) % 1000
            stamp = f"{d.month}/{d.day}/{d.year} {d:%H:%M:%S}.{ms:03d}"
            rows.append(f"{stamp},{x:.3f},{y:.3f},{z:.3f}")
    else:
        # no Timestamp column: samples start at the header's whole second
        rows = head + ["Accelerometer X,Accelerometer Y,Accelerometer Z"]
        rows += [f"{x:.3f},{y:.3f},{z:.3f}" for x, y, z in ga]
    return _lines(path, rows)


def write_axivity(path: Path, t: np.ndarray, a: np.ndarray) -> Path:
    """OMGUI CSV: ``YYYY-MM-DD hh:mm:ss.fff`` (UTC here), g with 6 decimals, no header."""
    rows = [f"{_stamp(ti)},{x:.6f},{y:.6f},{z:.6f}" for ti, (x, y, z) in zip(t, a, strict=True)]
    return _lines(path, rows)


def write_geneactiv(path: Path, t: np.ndarray, a: np.ndarray) -> Path:
    """GENEActiv CSV: 100 header lines, local time at GMT +01:00 ``hh:mm:ss:mmm``, 4 decimals."""
    start = _stamp(t[0], GENEACTIV_ZONE, frac_sep=":")
    head = [
        "Device Type,GENEActiv",
        "Device Model,1.1",
        "Device Unique Serial Code,000000",
        "Device Firmware Version,Ver06.17",
        "Calibration Date,2025-01-01 00:00:00:000",
        "Application name & version,jerkcount fixture",
        "", "", "", "",
        f"Measurement Frequency,{FS:g} Hz",
        f"Start Time,{start}",
        "Last measurement,",
        "Device Location Code,left wrist",
        "Time Zone,GMT +01:00",
    ]  # fmt: skip
    head += [""] * (100 - len(head))
    rows = head + [
        f"{_stamp(ti, GENEACTIV_ZONE, frac_sep=':')},{x:.4f},{y:.4f},{z:.4f},0,0,25.0"
        for ti, (x, y, z) in zip(t, a, strict=True)
    ]
    return _lines(path, rows)


GENERIC_OPTIONS = {
    "time_col": "timestamp_ms",
    "time_unit": "ms",
    "axis_cols": ("acc_x_mg", "acc_y_mg", "acc_z_mg"),
    "units": "mg",
    "delimiter": ";",
}


def write_generic(path: Path, t: np.ndarray, a: np.ndarray) -> Path:
    """Some other logger: ``;``-separated, epoch ms, mg with 2 decimals, an extra column."""
    rows = ["# exported by some logger", "timestamp_ms;battery;acc_x_mg;acc_y_mg;acc_z_mg"]
    ms = np.rint(t * 1000).astype(np.int64)
    rows += [
        f"{m};87;{x * 1000:.2f};{y * 1000:.2f};{z * 1000:.2f}"
        for m, (x, y, z) in zip(ms, a, strict=True)
    ]
    return _lines(path, rows)


def write_all(folder: Path = FIXTURES) -> dict[str, Path]:
    """Write every fixture into ``folder``; returns name → path."""
    folder.mkdir(parents=True, exist_ok=True)
    t, a, meta = night()
    start = float(np.floor(t[0]))
    return {
        "canonical": write_canonical(folder / "night.csv", t, a, meta),
        "parquet": write_parquet(folder / "night.parquet", t, a, meta),
        "phyphox": write_phyphox_zip(folder / "phyphox_acceleration_with_g.zip", t, a, start),
        "polar": write_polar(folder / "Polar_Verity_SIM_ACC.txt", t, a),
        "metabase": write_metabase(folder / "MetaWear_Accelerometer.csv", t, a),
        "actilife": write_actilife(folder / "actilife_RAW.csv", t, a, timestamps=True),
        "actilife_no_time": write_actilife(folder / "actilife_no_time_RAW.csv", t, a, False),
        "axivity": write_axivity(folder / "ax3_omgui.csv", t, a),
        "geneactiv": write_geneactiv(folder / "geneactiv.csv", t, a),
        "csv": write_generic(folder / "other_logger.csv", t, a),
    }


if __name__ == "__main__":
    for name, p in write_all().items():
        print(f"{name:18s} {p}  ({p.stat().st_size:,} bytes)")


def raw_rows(path: Path, **options: object) -> tuple[np.ndarray, np.ndarray, object]:
    """``(t, a, source)`` of every raw row of ``path`` as its dialect's source reads it
    (epoch s ``(n,)``, g ``(n, 3)``; no checks, no grid), with ``InputOptions(**options)``."""
    from pipeline.formats import InputOptions, open_source

    src = open_source(path, InputOptions(**options))  # type: ignore[arg-type]
    try:
        blocks = list(src.blocks(1000))
    finally:
        src.close()
    t = np.concatenate([b.t for b in blocks])
    a = np.concatenate([b.a for b in blocks])
    return t, a, src
