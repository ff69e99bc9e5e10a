"""The commands' ``--help`` says what the program does: the defaults, ranges and
file kinds it names are the ones the code uses."""

from __future__ import annotations

import re
from datetime import UTC, datetime

from click.testing import CliRunner

from cli import MIN_REPLAY_SPEED, main


def _help(*command: str) -> str:
    """The ``--help`` text of ``command``, its lines joined (click wraps them)."""
    res = CliRunner().invoke(main, [*command, "--help"], terminal_width=400)
    assert res.exit_code == 0, res.output
    return " ".join(res.output.split())


def test_batch_help_names_every_suffix_a_folder_is_searched_for() -> None:
    """It named *.csv, *.csv.gz and *.parquet only, while folders also give Axivity
    .cwa and GENEActiv .bin files (since 0.4.4), also gzipped."""
    from pipeline.inputs import DEFAULT_SUFFIXES

    text = _help("batch")
    for suffix in DEFAULT_SUFFIXES:
        assert re.search(rf"(?<![\w.]){re.escape(suffix)}\b", text.replace("*", "")), suffix


def test_simulate_help_gives_the_simulators_defaults() -> None:
    """--noise, --jerk-size and --start showed no default: the simulator's own."""
    from sim.config import DEFAULT_START, NightConfig

    text = _help("simulate")
    start = datetime.fromtimestamp(DEFAULT_START, UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
    assert f"(no offset: UTC) [default: {start}]" in text
    assert f"White sensor noise, g (rms) [default: {NightConfig.noise_g:g}]" in text
    assert (
        f"from {NightConfig.jerk_min_g:g} to {NightConfig.jerk_max_g:g} "
        f"[default: {NightConfig.jerk_median_g:g}]"
    ) in text


def test_replay_help_gives_the_lowest_speed() -> None:
    """--speed takes a factor from 0.01 up; the help said only 'or max'."""
    assert f"(1 = real time; from {MIN_REPLAY_SPEED:g}), or max" in _help("replay")


def test_score_help_names_the_excluded_outcome() -> None:
    """--matches also writes rows of status excluded (with --exclude-lost)."""
    assert "(tp, fn, fp; excluded with --exclude-lost)" in _help("score")
