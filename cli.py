"""The jerkcount command line: parse, call the pipeline, print.

Every input problem ends as one line on stderr, ``jerkcount: error: FILE[:LINE]:
MESSAGE``, and exit status 2 — never a traceback.
"""

from __future__ import annotations

import json
import logging
import sys
from collections.abc import Sequence
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import click

from pipeline import __version__
from pipeline.errors import InputError

EXIT_INPUT = 2
_INPUT_ERRORS = (
    InputError,
    FileNotFoundError,
    PermissionError,
    IsADirectoryError,
    NotADirectoryError,
    UnicodeDecodeError,
)

log = logging.getLogger("jerkcount")


def _error_line(err: BaseException) -> str:
    """One line describing an input error, naming the file (and line) where known."""
    if isinstance(err, InputError):
        text = str(err)
    elif isinstance(err, OSError):
        where = err.filename if err.filename is not None else "<input>"
        text = f"{where}: {err.strerror or type(err).__name__}"
    elif isinstance(err, UnicodeDecodeError):
        text = f"<input>: not a text file ({err.reason})"
    else:  # pragma: no cover - only the types above are caught
        text = str(err)
    return " ".join(f"jerkcount: error: {text}".split())


class _Group(click.Group):
    """Click group that turns input errors into one line on stderr and exit 2."""

    def invoke(self, ctx: click.Context) -> Any:
        try:
            return super().invoke(ctx)
        except _INPUT_ERRORS as err:
            click.echo(_error_line(err), err=True)
            ctx.exit(EXIT_INPUT)


def _parse_start(ctx: click.Context, param: click.Parameter, value: str | None) -> float | None:
    """``--start`` ISO 8601 -> epoch seconds; a time without offset is taken as UTC."""
    if value is None:
        return None
    try:
        moment = datetime.fromisoformat(value)
    except ValueError:
        raise click.BadParameter(f"not an ISO 8601 time: {value!r}") from None
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return moment.timestamp()


@click.group(cls=_Group, context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, "-V", "--version", prog_name="jerkcount")
@click.option("-v", "--verbose", count=True, help="Log progress details to stderr (-vv: debug).")
def main(verbose: int) -> None:
    """Count myoclonic jerks in wearable accelerometer recordings."""
    level = logging.WARNING - 10 * min(verbose, 2)
    logging.basicConfig(level=level, format="jerkcount: %(levelname)s: %(message)s")


@main.command()
@click.option(
    "--out",
    "out",
    required=True,
    type=click.Path(dir_okay=False, path_type=Path),
    help="Recording CSV to write (canonical format).",
)
@click.option(
    "--truth",
    required=True,
    type=click.Path(dir_okay=False, path_type=Path),
    help="Ground-truth CSV to write.",
)
@click.option(
    "--hours",
    default=1.0,
    show_default=True,
    type=click.FloatRange(min=0, min_open=True),
    help="Length of the night in hours.",
)
@click.option(
    "--fs",
    default=100.0,
    show_default=True,
    type=click.FloatRange(25, 1000),
    help="Sample rate in Hz.",
)
@click.option(
    "--pattern",
    default="random",
    show_default=True,
    type=click.Choice(["random", "periodic", "clustered", "none"]),
    help="Timing pattern of the jerks.",
)
@click.option(
    "--rate",
    default=30.0,
    show_default=True,
    type=click.FloatRange(min=0),
    help="Mean jerks per hour.",
)
@click.option("--seed", default=0, show_default=True, type=int, help="Random seed.")
@click.option(
    "--start",
    callback=_parse_start,
    metavar="ISO-8601",
    help="Start time, e.g. 2026-03-28T23:00:00+01:00 (no offset: UTC).",
)
@click.option("--noise", type=click.FloatRange(min=0), help="White sensor noise, g (rms).")
@click.option(
    "--jerk-size",
    type=click.FloatRange(min=0, min_open=True),
    help="Median jerk size above background, g.",
)
@click.option("--no-confounders", is_flag=True, help="No walking, tremor or restless bouts.")
def simulate(
    out: Path,
    truth: Path,
    hours: float,
    fs: float,
    pattern: str,
    rate: float,
    seed: int,
    start: float | None,
    noise: float | None,
    jerk_size: float | None,
    no_confounders: bool,
) -> None:
    """Simulate a night with ground truth."""
    from pipeline.writer import write_samples_csv
    from sim import NightConfig, simulate_night, write_truth_csv

    config = _night_config(
        NightConfig,
        hours=hours,
        fs=fs,
        pattern=pattern,
        rate=rate,
        seed=seed,
        start=start,
        noise=noise,
        jerk_size=jerk_size,
        confounders=not no_confounders,
    )
    night = simulate_night(config)
    write_samples_csv(out, night.time, night.acc, night.metadata())
    write_truth_csv(truth, night.truth)
    jerks = int((night.truth["kind"] == "jerk").sum())
    click.echo(
        f"simulated {hours:g} h at {fs:g} Hz with {jerks} jerks ({pattern}) "
        f"-> {out}, truth -> {truth}"
    )


def _night_config(
    cls: Any,
    *,
    hours: float,
    fs: float,
    pattern: str,
    rate: float,
    seed: int,
    start: float | None,
    noise: float | None,
    jerk_size: float | None,
    confounders: bool,
) -> Any:
    """Build a ``NightConfig``, leaving unset options at the simulator's defaults."""
    kwargs: dict[str, Any] = dict(
        hours=hours, fs=fs, pattern=pattern, rate_per_hour=rate, seed=seed, confounders=confounders
    )
    if start is not None:
        kwargs["start"] = start
    if noise is not None:
        kwargs["noise_g"] = noise
    if jerk_size is not None:
        kwargs["jerk_median_g"] = jerk_size
    try:
        return cls(**kwargs)
    except ValueError as err:  # the simulator validates its settings
        raise InputError("simulate", f"bad settings: {err}") from None


def _tz_default() -> str:
    from pipeline.outputs import local_zone_name

    return local_zone_name()


def _detect_and_write(rec: Path, out: Path, tz: str) -> tuple[Any, dict[str, Path]]:
    """Run the detector on ``rec`` (progress bar on a terminal) and write its outputs."""
    from pipeline.detector import detect_file
    from pipeline.outputs import get_zone, write_detection
    from pipeline.progress import progress_bar

    get_zone(tz)  # reject a bad --tz before the long work
    total = rec.stat().st_size if rec.is_file() else 0
    with progress_bar(total, f"detecting {rec.name}") as advance:
        detection = detect_file(rec, progress=advance)
    return write_detection(detection, out, tz)


@main.command()
@click.argument("rec", type=click.Path(path_type=Path))
@click.option(
    "--out",
    "out",
    type=click.Path(dir_okay=False, path_type=Path),
    help="Events CSV to write [default: REC's name with .events.csv, beside REC]. "
    "Activity periods go to EVENTS.activity.csv, parameters to EVENTS.json.",
)
@click.option(
    "--tz",
    default=None,
    metavar="ZONE",
    help="IANA time zone for time_local [default: this machine's zone].",
)
def detect(rec: Path, out: Path | None, tz: str | None) -> None:
    """Detect jerks in a recording CSV and write the events."""
    from pipeline.outputs import default_events_path

    out = out or default_events_path(rec)
    summary, paths = _detect_and_write(rec, out, tz or _tz_default())
    click.echo(summary.line(paths["events"]))


@main.command()
@click.argument("truth", type=click.Path(path_type=Path))
@click.argument("events", type=click.Path(path_type=Path))
@click.option(
    "--tolerance",
    default=0.3,
    show_default=True,
    type=click.FloatRange(min=0),
    help="Greatest onset difference that still matches, seconds.",
)
@click.option("--json", "as_json", is_flag=True, help="Print the result as JSON.")
def score(truth: Path, events: Path, tolerance: float, as_json: bool) -> None:
    """Score an events CSV against a ground-truth CSV (one-to-one onset matching)."""
    from pipeline.score import score_files

    result = score_files(truth, events, tolerance)
    if as_json:
        click.echo(json.dumps(result.as_dict(), indent=2))
    else:
        click.echo(_score_line(result))


def _score_line(result: Any) -> str:
    return (
        f"precision {result.precision:.3f}  recall {result.recall:.3f}  "
        f"F1 {result.f1:.3f}  (tp {result.tp}, fp {result.fp}, fn {result.fn}; "
        f"tolerance {result.tolerance_s:g} s)"
    )


@main.command()
@click.argument("recs", nargs=-1, required=True, type=click.Path(path_type=Path))
@click.option(
    "--out",
    "out_dir",
    required=True,
    type=click.Path(file_okay=False, path_type=Path),
    help="Folder for events.csv, daily_summary.csv, hourly.csv, activity.csv, "
    "summary.json and report.html.",
)
@click.option(
    "--tz",
    default=None,
    metavar="ZONE",
    help="IANA time zone of the windows and local times [default: this machine's zone].",
)
@click.option(
    "--day-start",
    default=None,
    metavar="HH:MM",
    help="Local time at which a summary window starts [default: 12:00, a night].",
)
@click.option(
    "--calendar-days", is_flag=True, help="Windows are calendar days (same as --day-start 00:00)."
)
def process(
    recs: tuple[Path, ...], out_dir: Path, tz: str | None, day_start: str | None,
    calendar_days: bool,
) -> None:  # fmt: skip
    """Summarise the recordings of one person per night (or day) into a folder.

    Several recordings (several nights, or one night split into files) are combined
    in time order; overlapping recordings are an error.
    """
    from pipeline.process import ProcessParams
    from pipeline.windows import CALENDAR_DAY_START, DEFAULT_DAY_START, parse_day_start

    start = DEFAULT_DAY_START if day_start is None else parse_day_start(day_start)
    if calendar_days:
        if day_start is not None and start != CALENDAR_DAY_START:
            raise InputError("--calendar-days", f"conflicts with --day-start {day_start}")
        start = CALENDAR_DAY_START
    params = ProcessParams(tz=tz or _tz_default(), day_start=start)
    _run_process(recs, out_dir, params)


def _run_process(recs: Sequence[Path], out_dir: Path, params: Any) -> Any:
    """Process recordings into ``out_dir`` (progress bar on a terminal), print the nights."""
    from pipeline.process import process_recordings
    from pipeline.progress import progress_bar
    from pipeline.summary import night_table

    total = sum(p.stat().st_size for p in recs if p.is_file())
    with progress_bar(total, f"processing {len(recs)} recording(s)") as advance:
        result = process_recordings(recs, out_dir, params, progress=advance)
    for line in night_table(result.windows):
        click.echo(line)
    names = ", ".join(p.name for p in result.paths.values())
    click.echo(f"{len(result.windows)} window(s), {len(result.combined.events)} jerks -> "
               f"{out_dir}/ ({names})")
    return result


@main.command()
@click.option(
    "--out",
    "out_dir",
    default="jerkcount-demo",
    show_default=True,
    type=click.Path(file_okay=False, path_type=Path),
    help="Folder for the demo's files.",
)
@click.option(
    "--hours",
    default=8.0,
    show_default=True,
    type=click.FloatRange(min=0, min_open=True),
    help="Length of the night in hours.",
)
@click.option(
    "--tz",
    default=None,
    metavar="ZONE",
    help="IANA time zone for local times [default: this machine's zone].",
)
def demo(out_dir: Path, hours: float, tz: str | None) -> None:
    """Simulate a 100 Hz night with confounders, process it, score it, point at the report."""
    from pipeline.process import ProcessParams
    from pipeline.score import score_files
    from pipeline.writer import write_samples_csv
    from sim import NightConfig, simulate_night, write_truth_csv

    rec = out_dir / "night.csv"
    truth = out_dir / "night.truth.csv"
    click.echo(
        f"simulating {hours:g} h of a 100 Hz night (random jerks, 30/h) with walking, "
        "tremor, roll-overs and restless stretches ..."
    )
    config = _night_config(
        NightConfig,
        hours=hours,
        fs=100.0,
        pattern="random",
        rate=30.0,
        seed=0,
        start=None,
        noise=None,
        jerk_size=None,
        confounders=True,
    )
    night = simulate_night(config)
    write_samples_csv(rec, night.time, night.acc, night.metadata())
    write_truth_csv(truth, night.truth)
    n_true = int((night.truth["kind"] == "jerk").sum())
    click.echo(f"  recording    {rec}  ({len(night.time):,} samples, {n_true} true jerks)")
    result = _run_process([rec], out_dir, ProcessParams(tz=tz or _tz_default()))
    score = score_files(truth, result.paths["events"])
    click.echo(f"against the truth in {truth}:")
    click.echo(f"  {_score_line(score)}")
    click.echo(f"open the report: {result.paths['report']}")


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
