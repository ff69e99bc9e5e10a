"""Recorder units: clock mapping, crash-safe writer, live line, reconnection logic."""

from __future__ import annotations

import asyncio
import io
import json
import os
import stat
import time
from dataclasses import replace
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from firmware_bridge.errors import ConfigurationError
from firmware_bridge.recorder import Recorder, RecorderError, RecorderParams
from firmware_bridge.recorder_clock import ClockMapper, format_ticks
from firmware_bridge.recorder_live import LiveLine, LiveStatus
from firmware_bridge.recorder_setup import SourceSpec, make_source, parse_duration
from firmware_bridge.recorder_writer import RecordingWriter, format_rows, parse_rows
from firmware_bridge.samples import DecodedBatch
from firmware_bridge.source import LinkLost, Source, SourceInfo
from pipeline.detector import detect_file
from pipeline.reader import read_recording


# ----------------------------------------------------------------------- clock
def test_clock_device_spacing_host_offset() -> None:
    m = ClockMapper(100.0)
    ticks = m.map(np.arange(5) / 100 + 42.0, host_now=1000.0)
    assert format_ticks(ticks) == ["999.9600", "999.9700", "999.9800", "999.9900", "1000.0000"]


def test_clock_reset_backwards_and_far_forward() -> None:
    m = ClockMapper(100.0, far_forward_s=5.0)
    a = m.map(np.arange(100) / 100 + 50.0, 1000.0)
    b = m.map(np.arange(100) / 100 + 0.5, 1001.0)  # board rebooted: clock back to 0.5 s
    c = m.map(np.arange(100) / 100 + 5000.0, 1002.0)  # jumped 5000 s in 1 s of host time
    d = m.map(np.arange(100) / 100 + 5003.0, 1005.0)  # a 2 s pause: kept as a gap
    allt = np.concatenate([a, b, c, d])
    assert (np.diff(allt) > 0).all()
    assert m.clock_resets == 2
    assert (b[-1] - 10_000 * 1001.0) == 0 and (c[-1] - 10_000 * 1002.0) == 0
    assert d[0] - c[-1] == pytest.approx(2.01 * 10_000)


def test_clock_reset_inside_one_batch_and_monotonic_after_reconnect() -> None:
    m = ClockMapper(100.0)
    t = np.concatenate([np.arange(10) / 100 + 30.0, np.arange(10) / 100])
    out = m.map(t, 500.0)
    assert (np.diff(out) > 0).all() and m.clock_resets == 1
    m.reconnected()
    # device ran ahead of the host (e.g. sped-up board): next anchor would go back
    out2 = m.map(np.arange(10) / 100, 499.0)
    assert out2[0] > out[-1] and m.moved >= 1
    assert (np.diff(out2) == 100).all()


def test_clock_absolute_keeps_times() -> None:
    m = ClockMapper(100.0, absolute=True)
    assert format_ticks(m.map(np.array([1.5, 1.51, 1.51, 1.52]), 0.0)) == [
        "1.5000", "1.5100", "1.5101", "1.5200"
    ]  # fmt: skip


# ----------------------------------------------------------------------- writer
def test_writer_private_no_overwrite_and_round_trip(tmp_path: Path) -> None:
    path = tmp_path / "recording-x.csv"
    with RecordingWriter(path, {"device": "x", "rate_hz": "100"}) as w:
        ticks = np.arange(3, dtype=np.int64) * 100 + 17_000_000_000_000
        text = w.append(ticks, np.array([[0.0, -0.123456, 1.0], [1e-6, 2, -3], [4, 5, 6]]))
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert path.read_text().startswith("# device: x\n# rate_hz: 100\ntime,ax,ay,az\n")
    assert text.splitlines()[0] == "1700000000.0000,0.00000,-0.12346,1.00000"
    t, a = parse_rows(text)
    assert t[1] == 1700000000.01 and a[0, 1] == -0.12346
    with pytest.raises(FileExistsError):
        RecordingWriter(path, {})
    assert path.read_text().count("\n") == 6


def test_format_rows_matches_reader(tmp_path: Path) -> None:
    rng = np.random.default_rng(0)
    ticks = 17_700_000_000_000 + np.cumsum(rng.integers(50, 150, 500))
    acc = rng.normal(0, 2, (500, 3))
    path = tmp_path / "r.csv"
    path.write_text("time,ax,ay,az\n" + format_rows(ticks, acc))
    t, a = parse_rows(format_rows(ticks, acc))
    from pipeline.formats import open_source

    src = open_source(path, None)
    block = next(src.blocks(1000))
    src.close()
    assert np.array_equal(block.t, t) and np.array_equal(block.a, a)


# ----------------------------------------------------------------------- live line
def test_live_line_terminal_only() -> None:
    st = LiveStatus(3725.0, 1234567, "reconnecting 3", 12, None)
    assert LiveLine.text(st) == (
        "elapsed 01:02:05 | 1,234,567 samples | reconnecting 3 | 12 jerks | last -"
    )
    pipe = io.StringIO()
    LiveLine(pipe).update(st, force=True)
    assert pipe.getvalue() == ""
    tty = io.StringIO()
    line = LiveLine(tty, force=True)
    line.update(st, force=True)
    line.close(st)
    assert tty.getvalue().startswith("\relapsed 01:02:05") and tty.getvalue().endswith("\n")


# ----------------------------------------------------------------------- options
def test_options() -> None:
    assert parse_duration("8h") == 28800 and parse_duration("1h30m") == 5400
    assert parse_duration("45s") == 45 and parse_duration("90") == 90
    for bad in ("", "soon", "0", "-5m"):
        with pytest.raises(ConfigurationError):
            parse_duration(bad)
    assert SourceSpec.parse("serial:/dev/ttyUSB0@115200") == SourceSpec(
        "serial", "/dev/ttyUSB0@115200"
    )
    for bad in ("usb:x", "serial:", "ble"):
        with pytest.raises(ConfigurationError):
            SourceSpec.parse(bad)
    src = make_source("serial:/dev/ttyACM0@9600", "witmotion")
    assert src.baud == 9600 and src.rate_hz == 10.0  # type: ignore[attr-defined]
    with pytest.raises(ConfigurationError):
        make_source("serial:/dev/x", None)
    with pytest.raises(ConfigurationError):
        make_source("ble:AA:BB:CC:DD:EE:FF", None, "fitbit")


@pytest.mark.parametrize("text", ["inf", "1e400", "-inf", "nan", "Infinity", "1" + "0" * 400 + "h"])
def test_parse_duration_refuses_what_is_not_a_finite_time(text: str) -> None:
    """The function itself, not only the CLI (whose message this is): before, ``inf``
    and ``1e400`` came back as ``inf`` seconds, ``nan`` as "must be > 0"."""
    with pytest.raises(ConfigurationError) as err:
        parse_duration(text)
    assert str(err.value) == f"duration must be a finite time, got {text!r}"


@pytest.mark.parametrize("text", ["1e300", "8785h", "31622401"])
def test_parse_duration_refuses_more_than_a_year(text: str) -> None:
    with pytest.raises(ConfigurationError) as err:
        parse_duration(text)
    assert str(err.value) == f"duration must be at most 366 days (8784h), got {text!r}"


def test_parse_duration_takes_a_year() -> None:
    assert parse_duration("8784h") == parse_duration("31622400") == 366 * 86400


def test_cli_duration_messages_unchanged(tmp_path: Path) -> None:
    """`record --duration 1e400` and `inf`: the CLI's one line as before, exit 2."""
    import subprocess
    import sys

    env = {**os.environ, "PYTHONPATH": str(Path(__file__).resolve().parents[1])}
    for text in ("1e400", "inf"):
        r = subprocess.run(
            [sys.executable, "-m", "cli", "record", "--source", "serial:/dev/x", "--protocol",
             "text", "--duration", text, "--out", str(tmp_path / "out")],
            capture_output=True, text=True, env=env, timeout=60,
        )  # fmt: skip
        assert r.returncode == 2, r.stderr
        assert r.stderr == f"jerkcount: error: duration must be a finite time, got {text!r}\n"
    assert not (tmp_path / "out").exists()


# ----------------------------------------------------------------------- recorder
class ScriptedSource(Source):
    """Device-clock batches of 0.1 s at 100 Hz (a step "one": a single sample); a script
    of link failures."""

    description = "scripted"

    def __init__(self, script: list[str], fail_opens: int = 0) -> None:
        self.script = list(script)
        self.fail_opens = fail_opens
        self.opens = 0
        self.k = 0  # device sample counter

    async def open(self) -> SourceInfo:
        self.opens += 1
        if self.fail_opens:
            self.fail_opens -= 1
            raise LinkLost("not there yet")
        return SourceInfo("scripted", "test", 100.0, 8.0, {"note": "x"})

    async def read(self) -> DecodedBatch:
        await asyncio.sleep(0.001)
        step = self.script.pop(0) if self.script else "end"
        if step == "end":
            raise EOFError
        if step == "drop":
            raise LinkLost("dropped")
        if step == "silent":
            await asyncio.sleep(0.05)
            return DecodedBatch.empty()
        if step == "reset":
            self.k = 0
        n = 1 if step == "one" else 10
        t = (self.k + np.arange(n)) / 100.0
        self.k += n
        rng = np.random.default_rng(self.k)
        return DecodedBatch(t, rng.normal(0, 0.01, (n, 3)) + [0, 0, 1])

    async def close(self) -> None:
        pass


def test_recorder_reconnects_and_stays_monotonic(tmp_path: Path) -> None:
    script = ["data"] * 20 + ["drop"] + ["data"] * 5 + ["reset"] + ["data"] * 5
    script += ["silent"] * 4 + ["data"] * 5
    src = ScriptedSource(script, fail_opens=2)
    params = RecorderParams(out_dir=tmp_path, stall_s=0.15, backoff_initial_s=0.01,
                            backoff_max_s=0.02, first_open_s=5)  # fmt: skip
    res = asyncio.run(Recorder(src, params).run())
    assert res.stopped_by == "end of input"
    assert src.opens == 2 + 1 + 2  # two failed first opens, the first, two reconnects
    assert [g.reason for g in res.gaps][0] == "dropped"
    assert res.gaps[1].reason.startswith("no samples for")
    rec = read_recording(res.path)  # type: ignore[arg-type]
    t = pd.read_csv(res.path, comment="#")["time"].to_numpy()
    assert (np.diff(t) > 0).all() and len(t) == res.samples == 360
    assert rec.metadata["device"] == "scripted" and rec.metadata["note"] == "x"
    assert rec.metadata["range_g"] == "8"
    assert res.live.events == detect_file(res.path).events  # type: ignore[arg-type]


def test_recorder_gives_up_when_board_never_appears(tmp_path: Path) -> None:
    src = ScriptedSource([], fail_opens=1000)
    params = RecorderParams(out_dir=tmp_path, backoff_initial_s=0.01, first_open_s=0.1)
    with pytest.raises(RecorderError, match="cannot reach scripted"):
        asyncio.run(Recorder(src, params).run())
    assert list(tmp_path.iterdir()) == []


def test_recorder_tries_for_the_whole_first_open_time(tmp_path: Path) -> None:
    """Back-off does not cut the start short: with 0.2 s doubling and 0.5 s to try, the
    third try is at 0.5 s (the wait capped there), and the message says how long it
    tried (before: it gave up at 0.2 s, the next wait overshooting, yet said 0.5 s)."""
    src = ScriptedSource([], fail_opens=1000)
    params = RecorderParams(out_dir=tmp_path, backoff_initial_s=0.2, backoff_max_s=10,
                            first_open_s=0.5)  # fmt: skip
    start = time.monotonic()
    with pytest.raises(RecorderError, match=r"^cannot reach scripted: not there yet "
                       r"\(tried 3 times in 0\.[5-9] s\)$"):  # fmt: skip
        asyncio.run(Recorder(src, params).run())
    assert time.monotonic() - start >= 0.5
    assert src.opens == 3


def test_recorder_stopped_before_the_board_says_why(tmp_path: Path) -> None:
    """--duration over before the board answered: nothing recorded, and the last
    failure named (a wrong port shows at once)."""
    src = ScriptedSource([], fail_opens=1000)
    params = RecorderParams(out_dir=tmp_path, duration_s=0.3, backoff_initial_s=0.05,
                            first_open_s=60)  # fmt: skip
    with pytest.raises(RecorderError) as err:
        asyncio.run(Recorder(src, params).run())
    assert str(err.value) == (
        "stopped before the board was reached (last try: not there yet): nothing recorded"
    )
    assert list(tmp_path.iterdir()) == []


def test_recorder_duration_ends_cleanly(tmp_path: Path) -> None:
    """A board that connected but sent nothing (a chest strap not worn): the header-only
    recording is removed, so `process` of the nights' folder does not stop at it; the
    session file stays and says so."""
    src = ScriptedSource(["silent"] * 1000)
    params = RecorderParams(out_dir=tmp_path, duration_s=0.3, stall_s=100)
    res = asyncio.run(Recorder(src, params).run())
    assert res.stopped_by == "duration" and res.samples == 0
    assert res.removed_empty and not res.path.exists()  # type: ignore[union-attr]
    assert res.summary_error == "no sample arrived from the board: nothing recorded"
    assert [p.name for p in tmp_path.iterdir()] == [res.session_path.name]  # type: ignore[union-attr]
    session = json.loads(res.session_path.read_text())  # type: ignore[union-attr]
    assert session["recording_removed"] is True and session["samples"] == 0
    assert session["summary_error"] == res.summary_error
    # a single sample is data: kept (and too few for a summary)
    src = ScriptedSource(["one"])
    res = asyncio.run(Recorder(src, replace(params, out_dir=tmp_path / "one")).run())
    assert res.samples == 1 and not res.removed_empty and res.path.exists()  # type: ignore[union-attr]
    assert res.summary_error == "too few samples for a summary"


def test_recorder_waits_out_a_slow_start(tmp_path: Path) -> None:
    """A board with a start-up delay (Polar H10: up to 30 s) is not a stalled link."""
    src = ScriptedSource(["silent"] * 6 + ["data"] * 5)
    src.startup_s = 1.0  # type: ignore[attr-defined]
    params = RecorderParams(out_dir=tmp_path, stall_s=0.15, backoff_initial_s=0.01,
                            first_open_s=5, summarise=False)  # fmt: skip
    res = asyncio.run(Recorder(src, params).run())
    assert src.opens == 1 and res.gaps == []
    assert res.samples == 50
    # the same silence without a start-up allowance is a lost link
    src = ScriptedSource(["silent"] * 6 + ["data"] * 5)
    res = asyncio.run(Recorder(src, replace(params, out_dir=tmp_path / "plain")).run())
    assert src.opens >= 2 and res.gaps[0].reason.startswith("no samples for")


def test_live_queue_joins_waiting_pushes_up_to_rows() -> None:
    """Pushes already waiting are read as one block (capped near ``rows``); the rows, their
    order and the line numbers are those of the pushes, and the end marker ends it."""
    import queue

    from firmware_bridge.recorder_live import _END, _QueueSource

    q: queue.Queue = queue.Queue()
    pieces = []
    for k in range(7):  # 7 pushes of 3 rows each
        t = 100.0 + np.arange(3 * k, 3 * k + 3) / 50.0
        a = np.column_stack([t, -t, 2 * t])
        pieces.append((t, a))
        q.put((t, a))
    q.put(_END)
    src = _QueueSource("live", {}, q)
    blocks = list(src.blocks(rows=8))
    assert [b.t.size for b in blocks] == [9, 9, 3]  # joined until at least 8 rows
    assert [b.first_line for b in blocks] == [1, 10, 19]
    np.testing.assert_array_equal(
        np.concatenate([b.t for b in blocks]), 100.0 + np.arange(21) / 50.0
    )
    np.testing.assert_array_equal(
        np.concatenate([b.a for b in blocks]), np.concatenate([a for _, a in pieces])
    )
    assert src.ended


def test_live_detector_events_equal_detect_when_pushed_in_packets(tmp_path: Path) -> None:
    """A recording pushed as 10-row packets faster than the worker reads them (so they
    are joined) gives the events of ``detect`` on the file."""
    from firmware_bridge.recorder_live import LiveDetector
    from pipeline.writer import write_samples_csv
    from sim import NightConfig, simulate_night

    night = simulate_night(NightConfig(hours=0.25, fs=100.0, seed=3, rate_per_hour=120.0))
    path = tmp_path / "n.csv"
    write_samples_csv(path, night.time, night.acc, night.metadata())
    rec = read_recording(path)
    raw = pd.read_csv(path, comment="#")
    live = LiveDetector("n.csv", rec.metadata)
    t = raw["time"].to_numpy()
    a = raw[["ax", "ay", "az"]].to_numpy()
    for i in range(0, t.size, 10):
        live.push(t[i : i + 10].copy(), a[i : i + 10].copy())
    result = live.finish(timeout=120)
    assert result.error is None
    expected = detect_file(path)
    assert len(expected.events) > 10
    assert [(e.time, e.peak_g) for e in result.events] == [
        (e.time, e.peak_g) for e in expected.events
    ]


class StrapSource(ScriptedSource):
    """A Polar H10 at 50 Hz (by its advertised name)."""

    async def open(self) -> SourceInfo:
        self.opens += 1
        return SourceInfo("Polar H10 8C4D2A1B", "polar", 50.0, 8.0, {})


class SlowSource(ScriptedSource):
    """A board that says it sends 12.5 Hz."""

    async def open(self) -> SourceInfo:
        self.opens += 1
        return SourceInfo("slow board", "test", 12.5, 8.0, {})


def _start_warnings(
    source: ScriptedSource, out: Path, caplog: pytest.LogCaptureFixture, needle: str
) -> list[str]:
    """The recorder's warnings containing ``needle`` over a short night from ``source``."""
    caplog.clear()
    params = RecorderParams(out_dir=out, stall_s=100, summarise=False)
    with caplog.at_level("WARNING", logger="firmware_bridge.recorder"):
        asyncio.run(Recorder(source, params).run())
    return [r.getMessage() for r in caplog.records if needle in r.getMessage()]


def test_recorder_warns_below_25_hz_at_the_start(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    assert _start_warnings(SlowSource(["data"] * 3), tmp_path / "slow", caplog, "25 Hz") == [
        "sample rate 12.5 Hz is below 25 Hz: a jerk shorter than 160 ms spans fewer than two "
        "samples and may be missed, so the count is a lower bound"
    ]
    fast = ScriptedSource(["data"] * 3)  # 100 Hz
    assert _start_warnings(fast, tmp_path / "fast", caplog, "25 Hz") == []


def test_recorder_warns_of_a_chest_strap_below_100_hz_at_the_start(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    strap = StrapSource(["data"] * 3)
    assert _start_warnings(strap, tmp_path / "strap", caplog, "chest strap") == [
        "recorded by a chest strap (Polar H10 8C4D2A1B) at 50 Hz: below 100 Hz beats are "
        "hard to tell from jerks (a simulated chest strap at 50 Hz gave dozens to hundreds "
        "of false jerks an hour); record at 100-200 Hz"
    ]
    wrist = ScriptedSource(["data"] * 3)  # 100 Hz, no strap
    assert _start_warnings(wrist, tmp_path / "wrist", caplog, "chest strap") == []


def test_a_second_ctrl_c_while_summarising_keeps_the_night_and_its_log(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Ctrl-C ends the recording; pressed again while the summary is being written (a
    KeyboardInterrupt there, as the default handler raises it), the summary is skipped:
    no summary folder (not even a half one), the session log written and saying so,
    the recording whole, and the result returned, not raised."""
    import pipeline.process

    written: list[Path] = []

    def interrupted(paths: list[Path], out: Path, params: object) -> None:
        (out / "events.csv").write_text("time\n")  # a first file, then the second Ctrl-C
        written.append(out)
        raise KeyboardInterrupt

    monkeypatch.setattr(pipeline.process, "process_recordings", interrupted)
    src = ScriptedSource(["data"] * 30)
    params = RecorderParams(out_dir=tmp_path, backoff_initial_s=0.01, first_open_s=5)
    res = asyncio.run(Recorder(src, params).run())
    assert res.stopped_by == "end of input" and res.samples == 300
    assert res.summary_dir is None and res.process_result is None
    assert res.summary_error == (
        f"skipped (Ctrl-C); `jerkcount process {res.path} --out "
        f"{tmp_path / ('summary-' + res.path.stem.removeprefix('recording-'))}` writes it"  # type: ignore[union-attr]
    )
    assert written and written[0].parent.parent == tmp_path
    assert written[0].parent.name.startswith(f".summary-partial-{os.getpid()}-")
    assert written[0].name.startswith("summary-") and not written[0].parent.exists()
    assert sorted(p.name for p in tmp_path.iterdir()) == [res.path.name, res.session_path.name]  # type: ignore[union-attr]
    session = json.loads(res.session_path.read_text())  # type: ignore[union-attr]
    assert session["summary"] is None and session["summary_error"] == res.summary_error
    assert session["stopped_by"] == "end of input" and session["samples"] == 300
    assert len(pd.read_csv(res.path, comment="#")) == 300


def test_the_summary_appears_whole_under_its_name(tmp_path: Path) -> None:
    """Without interruption the summary lands as summary-<stamp>/ with every file, and
    nothing of its hidden staging folder is left."""
    src = ScriptedSource(["data"] * 30)
    params = RecorderParams(out_dir=tmp_path, backoff_initial_s=0.01, first_open_s=5)
    res = asyncio.run(Recorder(src, params).run())
    assert res.summary_dir is not None and res.summary_error is None
    names = sorted(p.name for p in tmp_path.iterdir())
    assert names == sorted([res.path.name, res.session_path.name, res.summary_dir.name])  # type: ignore[union-attr]
    assert {p.name for p in res.summary_dir.iterdir()} == {
        "events.csv", "activity.csv", "daily_summary.csv", "hourly.csv", "summary.json",
        "report.html",
    }  # fmt: skip
    session = json.loads(res.session_path.read_text())  # type: ignore[union-attr]
    assert session["summary"] == str(res.summary_dir)
    # the report names the folder it is in, not where it was written first
    assert f"Folder: {res.summary_dir.name}." in (res.summary_dir / "report.html").read_text()
