"""`jerkcount simulate` at the edges of its options: what is refused and what is made."""

from __future__ import annotations

import logging
from pathlib import Path

import pytest
from click.testing import CliRunner

from cli import main
from sim import NightConfig, simulate_night
from sim.timing import capacity_per_hour


def _simulate(tmp_path: Path, *args: str) -> tuple[int, str, Path, Path]:
    rec, truth = tmp_path / "n.csv", tmp_path / "n.truth.csv"
    res = CliRunner().invoke(main, ["simulate", "--out", str(rec), "--truth", str(truth), *args])
    return res.exit_code, res.output, rec, truth


@pytest.mark.parametrize(
    ("hours", "fs", "samples"), [("0.000001", "100", 0), ("0.000003", "25", 0),
                                 ("0.000003", "100", 1)],
)  # fmt: skip
def test_a_night_too_short_for_two_samples_is_a_usage_error(
    tmp_path: Path, hours: str, fs: str, samples: int
) -> None:
    """A night of no sample ended in an IndexError traceback (exit 1) and one of a
    single sample wrote a recording detect refuses ("fewer than 2 samples"): both are a
    one-line error, exit 2, and nothing is written."""
    assert round(float(hours) * 3600 * float(fs)) == samples
    code, out, rec, truth = _simulate(tmp_path, "--hours", hours, "--fs", fs)
    assert code == 2
    assert out == (
        f"jerkcount: error: simulate: bad settings: a night of {float(hours):g} h at "
        f"{float(fs):g} Hz holds fewer than 2 samples (at least "
        f"{2 / float(fs) / 3600:.3g} h)\n"
    )
    assert not rec.exists() and not truth.exists()


def test_the_shortest_night_is_two_samples(tmp_path: Path) -> None:
    code, out, rec, _ = _simulate(tmp_path, "--hours", "0.000006", "--fs", "100")
    assert code == 0, out
    assert [ln for ln in rec.read_text().splitlines() if not ln.startswith("#")][0] == (
        "time,ax,ay,az"
    )
    assert sum(1 for ln in rec.read_text().splitlines() if ln[:1].isdigit()) == 2


@pytest.mark.parametrize("size", ["10", "0.01"])
def test_a_jerk_size_outside_the_clipping_range_is_refused(tmp_path: Path, size: str) -> None:
    """--jerk-size 10 made every jerk 6 g (the clip) and 0.01 every jerk 0.05 g, the
    median asked for nowhere in the truth: a one-line error instead."""
    code, out, rec, _ = _simulate(tmp_path, "--jerk-size", size, "--hours", "0.01")
    assert code == 2
    assert out == (
        "jerkcount: error: simulate: bad settings: jerk_median_g must lie in [0.05, 6] g "
        f"(the sizes are clipped to that range), got {float(size):g}\n"
    )
    assert not rec.exists()


@pytest.mark.parametrize("size", ["0.05", "6"])
def test_jerk_sizes_at_the_range_ends_are_accepted(tmp_path: Path, size: str) -> None:
    code, out, _, truth = _simulate(tmp_path, "--jerk-size", size, "--hours", "0.2",
                                    "--rate", "300", "--no-confounders")  # fmt: skip
    assert code == 0, out
    sizes = [float(ln.split(",")[3]) for ln in truth.read_text().splitlines()[1:]]
    assert len(sizes) > 20 and min(sizes) >= 0.05 and max(sizes) <= 6.0


def test_a_periodic_rate_beyond_what_trains_hold_is_warned(
    caplog: pytest.LogCaptureFixture,
) -> None:
    """Trains never overlap: the default ones (20 jerks over 19 x 26.75 s on average)
    hold at most 72000 / 508.6 = 141.6 jerks an hour, so --rate 2000 gave 7 % of it
    without a word. The night is as before; a warning says so."""
    assert capacity_per_hour(NightConfig(pattern="periodic")) == pytest.approx(72000 / 508.6)
    assert capacity_per_hour(NightConfig(pattern="random")) == pytest.approx(3600 / 0.35)
    cfg = NightConfig(hours=8, fs=25, pattern="periodic", rate_per_hour=2000, seed=2)
    with caplog.at_level(logging.WARNING, logger="sim.timing"):
        night = simulate_night(cfg)
    held = len(night.jerks)
    assert held / 8 < 1.1 * 141.6
    assert [r.getMessage() for r in caplog.records] == [
        "periodic jerks at 2000/h come out fewer: units never overlap, so the pattern "
        f"holds at most about 142/h and falls short near it; this night holds {held} "
        f"({held / 8:.0f}/h)"
    ]
    caplog.clear()
    with caplog.at_level(logging.WARNING, logger="sim.timing"):
        simulate_night(NightConfig(hours=1, fs=25, pattern="periodic", rate_per_hour=100))
        simulate_night(NightConfig(hours=1, fs=25, pattern="clustered", rate_per_hour=2000))
    assert caplog.records == []


def test_a_start_the_readers_refuse_is_a_usage_error(tmp_path: Path) -> None:
    """--start 9999-12-31 wrote a night that detect refused ("not Unix seconds, past the
    year 5000"): a one-line error before anything is written."""
    code, out, rec, _ = _simulate(tmp_path, "--start", "9999-12-31T23:30:00Z", "--hours", "0.01")
    assert code == 2
    assert out == (
        "jerkcount: error: simulate: bad settings: start must be a time the readers take "
        "(within 1e+11 s of 1970, about the year 5000), got 2.53402e+11\n"
    )
    assert not rec.exists()


def test_one_instant_spelled_four_ways_is_one_night(tmp_path: Path) -> None:
    """An offset, Z, no offset (UTC) and the other side of the autumn DST change:
    the same bytes; an hour's offset more is the same night an hour earlier."""
    texts = []
    for k, start in enumerate(["2026-10-25T02:30:00+01:00", "2026-10-25T01:30:00Z",
                               "2026-10-25T01:30:00", "2026-10-25T03:30:00+02:00",
                               "2026-10-25T02:30:00+02:00"]):  # fmt: skip
        sub = tmp_path / str(k)
        sub.mkdir()
        code, out, rec, truth = _simulate(sub, "--start", start, "--hours", "0.05", "--seed", "3",
                                        "--rate", "600")  # fmt: skip
        assert code == 0, out
        texts.append((rec.read_text(), truth.read_text()))
    assert texts[0] == texts[1] == texts[2] == texts[3]
    first = [float(ln.split(",")[1]) for ln in texts[0][1].splitlines()[1:]]
    other = [float(ln.split(",")[1]) for ln in texts[4][1].splitlines()[1:]]
    assert len(first) > 0
    assert [round(a - b, 4) for a, b in zip(first, other, strict=True)] == [3600.0] * len(first)


def test_a_negative_seed_is_a_usage_error(tmp_path: Path) -> None:
    """--seed -1 ended in numpy's traceback ("expected non-negative integer")."""
    code, out, rec, _ = _simulate(tmp_path, "--seed", "-1", "--hours", "0.01")
    assert code == 2
    assert (
        out
        == "jerkcount: error: simulate: bad settings: seed must be a whole number >= 0, got -1\n"
    )
    assert not rec.exists()
    code, out, _, _ = _simulate(tmp_path, "--seed", str(2**70), "--hours", "0.01")
    assert code == 0, out


@pytest.mark.parametrize(
    ("option", "field"),
    [("--noise", "noise_g"), ("--heartbeat", "heartbeat_g"), ("--rate", "rate_per_hour"),
     ("--hours", "hours")],
)  # fmt: skip
def test_an_infinite_setting_is_a_usage_error(tmp_path: Path, option: str, field: str) -> None:
    """--noise inf and --heartbeat inf wrote a night of samples all at the clip levels,
    --rate inf and --hours inf ended in tracebacks (numpy's 'lam value too large',
    'cannot convert float infinity to integer')."""
    args = [option, "inf"] if option == "--hours" else [option, "inf", "--hours", "0.01"]
    code, out, rec, truth = _simulate(tmp_path, *args)
    assert code == 2
    assert (
        out
        == f"jerkcount: error: simulate: bad settings: {field} must be a finite number, got inf\n"
    )
    assert not rec.exists() and not truth.exists()
