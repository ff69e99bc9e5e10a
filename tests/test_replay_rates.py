"""Replay at full speed gives detect's events at every rate and in every dialect."""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest

from firmware_bridge.recorder import Recorder, RecorderParams, RecordResult
from firmware_bridge.replay_source import ReplaySource
from pipeline.detector import detect_file
from pipeline.writer import write_samples_csv
from sim import NightConfig, simulate_night

FORMATS = Path(__file__).parent / "data" / "formats"


def _replay(path: Path) -> RecordResult:
    params = RecorderParams(write=False, summarise=False, stall_s=1e9)
    return asyncio.run(Recorder(ReplaySource(path, None), params).run())


def _same_as_detect(path: Path) -> tuple[int, int]:
    """Replay ``path`` and detect it; assert equal events, activity and gaps; the
    numbers of events and gaps."""
    res = _replay(path)
    det = detect_file(path)
    assert res.stopped_by == "end of input"
    assert res.live.error is None
    assert res.live.events == det.events
    assert res.live.activity == det.activity
    assert [(g.start_index, g.end_index) for g in res.live.gaps] == [
        (g.start_index, g.end_index) for g in det.gaps
    ]
    return len(det.events), len(det.gaps)


@pytest.mark.parametrize("fs", [25.0, 33.3, 50.0, 200.0, 1000.0])
def test_replay_equals_detect_at_every_rate(tmp_path: Path, fs: float) -> None:
    """Nights with link outages (gaps), 1 % of packets lost and times written to the
    millisecond (as many boards do), at the rates commodity sensors use."""
    hours = 0.05 if fs > 200 else 0.15
    cfg = NightConfig(hours=hours, fs=fs, rate_per_hour=600, seed=31, outage_per_hour=40,
                      drop_prob=0.01)  # fmt: skip
    night = simulate_night(cfg)
    path = tmp_path / "night.csv"
    write_samples_csv(path, night.time, night.acc, night.metadata(), time_decimals=3)
    events, gaps = _same_as_detect(path)
    assert events >= 10 and gaps >= 1


@pytest.mark.parametrize(
    "name",
    ["MetaWear_Accelerometer.csv", "Polar_Verity_SIM_ACC.txt", "actilife_RAW.csv",
     "ax3_omgui.csv", "geneactiv.csv", "night.parquet", "phyphox_acceleration_with_g.zip",
     "ax3_night.cwa", "geneactiv_night.bin"],
)  # fmt: skip
def test_replay_equals_detect_in_other_dialects(name: str) -> None:
    events, _ = _same_as_detect(FORMATS / name)
    assert events == len(detect_file(FORMATS / "night.csv").events) > 0


def test_replay_takes_the_input_options_of_detect(tmp_path: Path) -> None:
    """A logger's own CSV needs --time-col, --axes, --units ...: replay takes them as
    detect does and finds detect's jerks, and its --out summary reads the file so too
    (replay had none of these options, so such a file could not be replayed at all)."""
    from click.testing import CliRunner

    from cli import main

    path = FORMATS / "other_logger.csv"
    generic = ["--time-col", "timestamp_ms", "--time-unit", "ms", "--axes",
               "acc_x_mg,acc_y_mg,acc_z_mg", "--units", "mg", "--delimiter", ";"]  # fmt: skip
    runner = CliRunner()
    det = runner.invoke(main, ["detect", str(path), "--out", str(tmp_path / "ev.csv"),
                               "--tz", "UTC", *generic])  # fmt: skip
    assert det.exit_code == 0, det.output
    detected = int(det.output.split(" jerk")[0])
    assert detected > 0
    res = runner.invoke(main, ["replay", str(path), "--speed", "max", "--tz", "UTC",
                               "--out", str(tmp_path / "r"), *generic])  # fmt: skip
    assert res.exit_code == 0, res.output
    assert f"jerks      {detected} (live)" in res.output
    events = (tmp_path / "r" / "events.csv").read_text().splitlines()
    assert len(events) == 1 + detected
    bare = runner.invoke(main, ["replay", str(path), "--speed", "max", "--tz", "UTC"])
    assert bare.exit_code == 2
