"""The jerkcount command line: parse, call the pipeline, print.

Every input problem ends as one line on stderr, ``jerkcount: error: FILE[:LINE]:
MESSAGE``, and exit status 2 — never a traceback.
"""

from __future__ import annotations

import json
import logging
import math
import os
import sys
from collections.abc import Sequence
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import click

from pipeline import __version__
from pipeline.errors import InputError, describe_error
from pipeline.events import jerks_text
from pipeline.memtune import keep_freed_memory

EXIT_INPUT = 2
#: exit status when writing an output failed (disk full, quota, I/O error)
EXIT_IO = 1
#: The slowest replay (recording seconds per second): 100 times slower than real time.
MIN_REPLAY_SPEED = 0.01
#: ``record --rate`` bounds (Hz): a micro:bit's slowest period is 640 ms (1.56 Hz); a
#: rate far outside these is a slip that would stamp a board's samples hours apart
MIN_BOARD_RATE_HZ = 1.0
MAX_BOARD_RATE_HZ = 5000.0
#: exit status of a command ended by Ctrl-C or SIGTERM (128 + SIGINT, as shells report it)
EXIT_INTERRUPTED = 130
#: exit status when what it printed to had no reader any more (128 + SIGPIPE, as shells
#: report a command a pipe's end stopped)
EXIT_BROKEN_PIPE = 141
_INPUT_ERRORS = (
    InputError,
    FileNotFoundError,
    PermissionError,
    IsADirectoryError,
    NotADirectoryError,
    FileExistsError,  # a file where an output's folder goes: the output cannot be made at all
    UnicodeDecodeError,
)

log = logging.getLogger("jerkcount")


def _error_line(err: BaseException) -> str:
    """One line describing an input error, naming the file (and line) where known."""
    return f"jerkcount: error: {describe_error(err)}"


class _FiniteFloatRange(click.FloatRange):
    """A ``FloatRange`` that refuses NaN and infinity: click lets NaN past every bound,
    and infinity past an open upper one."""

    def convert(self, value: Any, param: click.Parameter | None, ctx: click.Context | None) -> Any:
        number = click.FLOAT.convert(value, param, ctx)
        if not math.isfinite(number):  # said so before any bound is: 'inf' is not a number
            self.fail(f"{value!r} is not a finite number.", param, ctx)
        return super().convert(number, param, ctx)


def _jerk_timing_options(func: Any) -> Any:
    """``--pattern``, ``--rate`` and ``--seed`` of the simulated night (simulate, sim-device)."""
    func = click.option("--seed", default=0, show_default=True, type=int,
                        help="Random seed.")(func)  # fmt: skip
    func = click.option("--rate", default=30.0, show_default=True, type=click.FloatRange(min=0),
                        help="Mean jerks per hour.")(func)  # fmt: skip
    return click.option(
        "--pattern", default="random", show_default=True,
        type=click.Choice(["random", "periodic", "clustered", "none"]),
        help="Timing pattern of the jerks.",
    )(func)  # fmt: skip


class _UsageLine(click.ClickException):
    """A usage error (a bad option value, a missing argument) as one line on stderr,
    ``jerkcount: error: MESSAGE``, exit status 2, like every other error (click's own
    form took four lines: usage, hint, a blank line, the error)."""

    exit_code = EXIT_INPUT

    def show(self, file: Any = None) -> None:
        click.echo(f"jerkcount: error: {self.format_message()}", err=True)


def _one_line(err: click.UsageError) -> click.ClickException:
    """``err`` as a one-line usage error; asking for help (no arguments) stays help."""
    if isinstance(err, click.exceptions.NoArgsIsHelpError):
        return err
    return _UsageLine(err.format_message())


class _Group(click.Group):
    """Click group that turns input errors into one line on stderr and exit 2, failed
    writes (disk full) into one line and exit 1."""

    def make_context(
        self, info_name: str | None, args: list[str], parent: click.Context | None = None,
        **extra: Any,
    ) -> click.Context:  # fmt: skip
        try:
            return super().make_context(info_name, args, parent, **extra)
        except click.UsageError as err:  # jerkcount --bogus, jerkcount nosuchcommand
            raise _one_line(err) from None

    def invoke(self, ctx: click.Context) -> Any:
        _interrupt_on_signals()  # SIGTERM too: staged outputs are cleared on the way out
        try:
            return super().invoke(ctx)
        except click.UsageError as err:  # a command's options and arguments
            raise _one_line(err) from None
        except KeyboardInterrupt:  # Ctrl-C or SIGTERM in a command that has no plan of its own
            click.echo("jerkcount: interrupted (the outputs of this run were not put in place)",
                       err=True)  # fmt: skip
            ctx.exit(EXIT_INTERRUPTED)
        except BrokenPipeError:  # the reader of a pipe left (`| head`): stop quietly
            _quiet_stdout()
            ctx.exit(EXIT_BROKEN_PIPE)
        except _INPUT_ERRORS as err:
            click.echo(_error_line(err), err=True)
            ctx.exit(EXIT_INPUT)
        except OSError as err:  # writing failed (disk full, quota): the files before stay
            click.echo(_error_line(err), err=True)
            ctx.exit(EXIT_IO)
        except MemoryError as err:  # numpy's message says how much was asked for
            click.echo(f"jerkcount: error: out of memory: {err}", err=True)
            ctx.exit(EXIT_IO)


def _quiet_stdout() -> None:
    """Point stdout at the null device, so that flushing it at exit raises nothing more."""
    devnull = os.open(os.devnull, os.O_WRONLY)
    os.dup2(devnull, sys.stdout.fileno())


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
    try:
        moment.astimezone(UTC)  # 0001-01-01T00:00+14:00 is before the year 1 in UTC
    except OverflowError:
        raise click.BadParameter(f"{value!r} lies outside the years 1 to 9999 in UTC") from None
    return moment.timestamp()


def _parse_input_start(ctx: click.Context, param: click.Parameter, value: str | None) -> str | None:
    """``--start`` of a recording's times, checked to be ISO 8601; it is placed in
    ``--tz`` by :func:`_input_start_seconds` once that is known."""
    if value is None:
        return None
    try:
        datetime.fromisoformat(value)
    except ValueError:
        raise click.BadParameter(f"not an ISO 8601 time: {value!r}") from None
    return value


def _input_start_seconds(value: str | None, tz: str | None) -> float | None:
    """Epoch seconds of a recording's ``--start`` (:func:`pipeline.localtime.start_epoch`:
    without UTC offset, local in ``--tz``); a time it cannot place is a usage error."""
    from pipeline.localtime import start_epoch
    from pipeline.outputs import get_zone

    if value is None:
        return None
    try:
        return start_epoch(value, None if tz is None else get_zone(tz))
    except ValueError as err:
        raise click.BadParameter(str(err), param_hint="'--start'") from None


_INPUT_KEYS = (
    "fmt", "start", "time_col", "time_unit", "axes", "units", "scale", "delimiter", "rate",
    "calibrate",
)  # fmt: skip


def _params_option(command: Any) -> Any:
    """``--params FILE``: the detector parameters, passed to the command as ``params``."""
    import functools

    @functools.wraps(command)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        from pipeline.params import DetectorParams, read_params_file

        path = kwargs.pop("params_file")
        kwargs["params"] = read_params_file(path) if path is not None else DetectorParams()
        return command(*args, **kwargs)

    return click.option(
        "--params", "params_file", type=click.Path(dir_okay=False, path_type=Path),
        metavar="FILE",
        help="Detector parameters: a JSON object of fields of pipeline.params.DetectorParams "
        "(the rest keep their defaults), or an EVENTS.json or summary.json whose "
        "parameters to reuse.",
    )(wrapper)  # fmt: skip


def _input_options(command: Any) -> Any:
    """Add the shared input options (defined once) to a command.

    The command receives them as one ``input_options`` (``InputOptions``) argument;
    ``--tz`` (the command's own option) also reads naive local times in the file.
    """
    import functools

    from pipeline.formats import DIALECTS

    @functools.wraps(command)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        from pipeline.formats import InputOptions

        given = {k: kwargs.pop(k) for k in _INPUT_KEYS}
        axes = given["axes"]
        if axes is not None:
            parts = tuple(p.strip() for p in axes.split(","))
            if len(parts) != 3 or not all(parts):
                raise click.BadParameter("give three columns: X,Y,Z", param_hint="--axes")
        delimiter = given["delimiter"]
        if delimiter is not None:
            delimiter = {"tab": "\t", "\\t": "\t"}.get(delimiter, delimiter)
        kwargs["input_options"] = InputOptions(
            format=given["fmt"],
            start=_input_start_seconds(given["start"], kwargs.get("tz")),
            tz=kwargs.get("tz"),
            time_col=given["time_col"],
            time_unit=given["time_unit"],
            axis_cols=parts if axes is not None else None,
            units=given["units"],
            scale=given["scale"],
            delimiter=delimiter,
            rate=given["rate"],
            calibrate=given["calibrate"],
        )
        return command(*args, **kwargs)

    options = [
        click.option("--format", "fmt", type=click.Choice(list(DIALECTS)), default=None,
                     help="Input dialect [default: recognised from the file]."),
        click.option("--start", callback=_parse_input_start, metavar="ISO-8601",
                     help="Absolute time of relative time zero (phyphox, --time-unit "
                     "relative, files without a time column); without a UTC offset, in "
                     "--tz."),
        click.option("--time-col", metavar="COL",
                     help="Time column: header name or 1-based position (other CSV) "
                     "[default: time, timestamp, t or epoch in the header]."),
        click.option("--time-unit", type=click.Choice(["s", "ms", "ns", "iso", "relative"]),
                     help="Form of the time column [default: inferred]."),
        click.option("--axes", metavar="X,Y,Z", help="Axis columns: names or 1-based positions "
                     "[default: ax,ay,az, x,y,z, acc_x,... in the header]."),
        click.option("--units", type=click.Choice(["g", "mg", "m/s2", "counts"]),
                     help="Unit of the axis columns [default: g]."),
        click.option("--scale", type=_FiniteFloatRange(min=0, min_open=True),
                     help="Counts per g for --units counts."),
        click.option("--delimiter", metavar="CHAR", help="Field separator ('tab' for tab) "
                     "[default: sniffed]."),
        click.option("--rate", type=_FiniteFloatRange(min=0, min_open=True),
                     help="Sample rate in Hz when the file has no time column."),
        click.option("--calibrate", type=click.Choice(["auto", "off"]), default="off",
                     show_default=True,
                     help="Autocalibration from still periods (gravity reads 1 g), applied "
                     "when the data allow it; reported in the data quality."),
    ]  # fmt: skip
    for option in reversed(options):
        wrapper = option(wrapper)
    return wrapper


@click.group(cls=_Group, context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, "-V", "--version", prog_name="jerkcount")
@click.option("-v", "--verbose", count=True, help="Log progress details to stderr (-vv: debug).")
def main(verbose: int) -> None:
    """Count myoclonic jerks in wearable accelerometer recordings."""
    level = logging.WARNING - 10 * min(verbose, 2)
    logging.basicConfig(level=level, format="jerkcount: %(levelname)s: %(message)s")
    keep_freed_memory()


@main.command()
@click.option(
    "--out",
    "out",
    required=True,
    type=click.Path(dir_okay=False, path_type=Path),
    help="Recording to write (canonical CSV; .gz compressed, .parquet Parquet).",
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
@_jerk_timing_options
@click.option(
    "--start",
    callback=_parse_start,
    metavar="ISO-8601",
    help="Start time, e.g. 2026-03-28T23:00:00+01:00 (no offset: UTC) "
    "[default: 2026-01-01T21:20:00Z].",
)
@click.option("--noise", type=click.FloatRange(min=0),
              help="White sensor noise, g (rms) [default: 0.01].")  # fmt: skip
@click.option(
    "--jerk-size",
    type=click.FloatRange(min=0, min_open=True),
    help="Median jerk size above background, g, from 0.05 to 6 [default: 0.5].",
)
@click.option(
    "--heartbeat",
    type=click.FloatRange(min=0),
    help="Heart motion as a chest strap sees it (seismocardiogram), peak g [default: 0].",
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
    heartbeat: float | None,
    no_confounders: bool,
) -> None:
    """Simulate a night with ground truth.

    OUT ending in .gz is written gzip-compressed, in .parquet as Parquet.
    """
    from sim import NightConfig, simulate_night, write_night
    from sim.night import check_night_names

    try:
        check_night_names(out, truth)  # before the night is simulated
    except ValueError as err:
        raise click.UsageError(str(err)) from None
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
        heartbeat=heartbeat,
    )
    night = simulate_night(config)
    write_night(night, out, truth)
    jerks = int((night.truth["kind"] == "jerk").sum())
    click.echo(
        f"simulated {hours:g} h at {fs:g} Hz with {jerks_text(jerks)} ({pattern}) "
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
    heartbeat: float | None = None,
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
    if heartbeat is not None:
        kwargs["heartbeat_g"] = heartbeat
    try:
        return cls(**kwargs)
    except ValueError as err:  # the simulator validates its settings
        raise InputError("simulate", f"bad settings: {err}") from None


def _tz_default() -> str:
    from pipeline.outputs import local_zone_name

    return local_zone_name()


def _zone(tz: str | None) -> str:
    """``--tz`` as given (an empty one is refused as unknown), else the machine's zone."""
    return _tz_default() if tz is None else tz


def _detect_and_write(
    rec: Path, out: Path, tz: str, input_options: Any = None, params: Any = None
) -> tuple[Any, dict[str, Path]]:
    """Run the detector on ``rec`` (progress bar on a terminal) and write its outputs."""
    from pipeline.detector import detect_file
    from pipeline.inputs import check_spares_inputs
    from pipeline.outputs import get_zone, sidecar_paths, write_detection
    from pipeline.progress import progress_bar
    from pipeline.reader import ReaderParams

    get_zone(tz)  # reject a bad --tz before the long work
    check_spares_inputs([out, *sidecar_paths(out)], [rec])
    total = rec.stat().st_size if rec.is_file() else 0
    reader = ReaderParams(input=input_options)
    with progress_bar(total, f"detecting {rec.name}") as advance:
        detection = detect_file(rec, params, progress=advance, reader_params=reader)
    return write_detection(detection, out, tz)


def _file_name(ctx: click.Context, param: click.Parameter, value: str | None) -> Path | None:
    """A file's path; one ending in a slash names a folder, a usage error (it used to
    write a file named like the folder)."""
    if value is None:
        return None
    if value.endswith(("/", os.sep)):
        raise click.BadParameter(f"{value} names a folder: give the events file's name, "
                                 "such as results/night.events.csv", ctx, param)  # fmt: skip
    if value == "-":  # it wrote files named '-', '-.activity.csv' and '-.json'
        raise click.BadParameter("'-' is no file name here: detect writes three files, "
                                 "give the events file's name", ctx, param)  # fmt: skip
    _plain_csv_name(ctx, param, value, "the events")
    return Path(value)


#: Name endings that promise a compressed or binary file: the tables are plain CSV.
NOT_PLAIN_CSV = (".gz", ".bz2", ".xz", ".zst", ".zip", ".parquet")


def _plain_csv_name(ctx: click.Context, param: click.Parameter, value: str, what: str) -> None:
    """A usage error for a table's name that promises a compressed or binary file
    (:data:`NOT_PLAIN_CSV`): it would be plain CSV text under that name."""
    suffix = next((s for s in NOT_PLAIN_CSV if value.lower().endswith(s)), None)
    if suffix is not None:
        raise click.BadParameter(f"{value}: {what} are written as plain CSV, not {suffix}: "
                                 "give a name ending in .csv", ctx, param)  # fmt: skip


def _matches_name(ctx: click.Context, param: click.Parameter, value: str | None) -> Path | None:
    """``--matches``: '-' is a usage error (it wrote a file named '-', over any such)."""
    if value == "-":
        raise click.BadParameter("'-' is no file name here: /dev/stdout prints the table",
                                 ctx, param)  # fmt: skip
    if value is not None:
        _plain_csv_name(ctx, param, value, "the matches")
    return None if value is None else Path(value)


@main.command()
@click.argument("rec", type=click.Path(path_type=Path))
@click.option(
    "--out",
    "out",
    type=click.Path(dir_okay=False),
    callback=_file_name,
    help="Events CSV to write [default: REC's name with .events.csv, beside REC]. "
    "Activity periods go to EVENTS.activity.csv, parameters to EVENTS.json.",
)
@click.option(
    "--tz",
    default=None,
    metavar="ZONE",
    help="IANA time zone for time_local, and of naive local times in REC "
    "[default: this machine's zone; naive times in REC: UTC].",
)
@_params_option
@_input_options
def detect(rec: Path, out: Path | None, tz: str | None, params: Any, input_options: Any) -> None:
    """Detect jerks in a recording (any supported format) and write the events."""
    from pipeline.outputs import default_events_path

    out = out or default_events_path(rec)
    summary, paths = _detect_and_write(rec, out, _zone(tz), input_options, params)
    click.echo(summary.line(paths["events"]))


def _finite(ctx: click.Context, param: click.Parameter, value: float) -> float:
    """Refuse a NaN or infinite number as a usage error (``FloatRange`` lets NaN by)."""
    if not math.isfinite(value):
        raise click.BadParameter(f"{value} is not a finite number of seconds.", ctx, param)
    return value


@main.command()
@click.argument("truth", type=click.Path(path_type=Path))
@click.argument("events", type=click.Path(path_type=Path))
@click.option(
    "--tolerance",
    default=0.3,
    show_default=True,
    type=click.FloatRange(min=0),
    callback=_finite,
    help="Greatest onset difference that still matches, seconds.",
)
@click.option("--json", "as_json", is_flag=True, help="Print the result as JSON.")
@click.option(
    "--matches",
    type=click.Path(dir_okay=False),
    callback=_matches_name,
    help="Also write every truth and detection with its outcome (tp, fn, fp; "
    "excluded with --exclude-lost) to this CSV.",
)
@click.option(
    "--exclude-lost",
    is_flag=True,
    help="Leave out the true jerks that lost samples on the link (the truth's "
    "lost_samples column, from simulate), and the detections that match them.",
)
def score(
    truth: Path,
    events: Path,
    tolerance: float,
    as_json: bool,
    matches: Path | None,
    exclude_lost: bool,
) -> None:
    """Score an events CSV against a ground-truth CSV (one-to-one onset matching).

    TRUTH comes first: detect's events given first and simulate's truth second is an
    error. --matches may be /dev/stdout, never one of the two inputs.
    """
    from pipeline.score import score_files

    result = score_files(truth, events, tolerance, matches, exclude_lost)
    if as_json:
        click.echo(json.dumps(result.as_dict(), indent=2))
    else:
        click.echo(_score_line(result, exclude_lost))


def _score_line(result: Any, exclude_lost: bool = False) -> str:
    n_truths, n_events = result.excluded_truths, result.excluded_detections
    left_out = (
        f"; left out: {n_truths} {'jerk' if n_truths == 1 else 'jerks'} with lost samples "
        f"and {n_events} {'detection' if n_events == 1 else 'detections'} of them"
        if exclude_lost
        else ""
    )
    return (
        f"precision {result.precision:.3f}  recall {result.recall:.3f}  "
        f"F1 {result.f1:.3f}  (tp {result.tp}, fp {result.fp}, fn {result.fn}; "
        f"tolerance {result.tolerance_s:g} s{left_out})"
    )


def _window_options(func: Any) -> Any:
    """The summary-window options shared by ``process`` and ``batch``."""
    func = click.option(
        "--calendar-days", is_flag=True,
        help="Windows are calendar days (same as --day-start 00:00).",
    )(func)  # fmt: skip
    func = click.option(
        "--day-start", default=None, metavar="HH:MM",
        help="Local time at which a summary window starts [default: 12:00, a night].",
    )(func)  # fmt: skip
    return click.option(
        "--tz", default=None, metavar="ZONE",
        help="IANA time zone of the windows and local times [default: this machine's zone].",
    )(func)  # fmt: skip


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
@_window_options
@_params_option
@_input_options
def process(
    recs: tuple[Path, ...], out_dir: Path, tz: str | None, day_start: str | None,
    calendar_days: bool, params: Any, input_options: Any,
) -> None:  # fmt: skip
    """Summarise the recordings of one person per night (or day) into a folder.

    Several recordings (several nights, or one night split into files) are combined
    in time order; overlapping recordings are an error. A folder stands for the
    recordings in it (searched recursively; jerkcount's own output folders, such as
    record's summary-*/, and the tables it writes beside recordings, such as detect's
    events CSVs and simulate's truth, are left out).
    """
    from pipeline.process import ProcessParams
    from pipeline.windows import resolve_day_start

    start = resolve_day_start(day_start, calendar_days)
    from pipeline.reader import ReaderParams

    settings = ProcessParams(
        tz=_zone(tz), day_start=start, reader=ReaderParams(input=input_options),
        detector=params,
    )  # fmt: skip
    _run_process(recs, out_dir, settings)


def _run_process(recs: Sequence[Path], out_dir: Path, params: Any) -> Any:
    """Process recordings into ``out_dir`` (progress bar on a terminal), print the nights."""
    from pipeline.inputs import expand_folders
    from pipeline.process import process_recordings
    from pipeline.progress import progress_bar
    from pipeline.summary import night_table

    recs = expand_folders(recs, out_dir)  # a folder: the recordings in it
    total = sum(p.stat().st_size for p in recs if p.is_file())
    with progress_bar(total, f"processing {len(recs)} recording(s)") as advance:
        result = process_recordings(recs, out_dir, params, progress=advance)
    for line in night_table(result.windows):
        click.echo(line)
    names = ", ".join(p.name for p in result.paths.values())
    click.echo(
        f"{len(result.windows)} window(s), {jerks_text(len(result.combined.events))} -> "
        f"{out_dir}/ ({names})"
    )
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
    type=_FiniteFloatRange(min=0, min_open=True),
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
    from pipeline.outputs import get_zone
    from pipeline.process import ProcessParams
    from pipeline.score import score_files
    from sim import NightConfig, simulate_night, write_night

    zone = _zone(tz)
    get_zone(zone)  # a bad --tz before the night is simulated and written, not after
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
    write_night(night, rec, truth)
    n_true = int((night.truth["kind"] == "jerk").sum())
    click.echo(f"  recording    {rec}  ({len(night.time):,} samples, {jerks_text(n_true, 'true')})")
    result = _run_process([rec], out_dir, ProcessParams(tz=zone))
    score = score_files(truth, result.paths["events"])
    click.echo(f"against the truth in {truth}:")
    click.echo(f"  {_score_line(score)}")
    click.echo(f"open the report: {result.paths['report']}")


# --------------------------------------------------------------------------- batch
@main.command()
@click.argument("inputs", nargs=-1, required=True, metavar="INPUTS...")
@click.option(
    "--out",
    "out_dir",
    required=True,
    type=click.Path(file_okay=False, path_type=Path),
    help="Folder for one output folder per recording and the cohort tables.",
)
@click.option(
    "-j",
    "--jobs",
    type=click.IntRange(min=1),
    default=None,
    help="Cores to use: N recordings at once in worker processes of one thread each; 1 "
    "processes one recording at a time in one thread [default: the machine's cores].",
)
@click.option(
    "--scheduler",
    metavar="ADDRESS",
    help="Run on an existing Dask distributed cluster, e.g. tcp://host:8786 "
    "(inputs and --out on a file system every worker sees).",
)
@click.option("--force", is_flag=True, help="Redo recordings whose outputs are up to date.")
@_window_options
@_params_option
@click.pass_context
def batch(
    ctx: click.Context, inputs: tuple[str, ...], out_dir: Path, jobs: int | None,
    scheduler: str | None, force: bool, tz: str | None, day_start: str | None,
    calendar_days: bool, params: Any,
) -> None:  # fmt: skip
    """Process many recordings, each into its own folder, plus cohort tables.

    INPUTS are recordings, folders (searched recursively for *.csv, *.csv.gz,
    *.parquet, Axivity *.cwa and GENEActiv *.bin, also .cwa.gz and .bin.gz) and glob
    patterns (expanded here; ** recurses); folders and globs leave
    out jerkcount's own outputs (events, truth and summary tables). Each recording gets
    the outputs of `process` in OUT/NAME (NAME: its path below the inputs' common
    folder); OUT gets cohort_daily_summary.csv, recordings.csv and errors.csv.
    Recordings whose outputs are complete and whose input and parameters have not
    changed are skipped (--force redoes them). A bad file is reported on stderr and
    in errors.csv and the batch goes on.

    With --scheduler every worker must see the inputs and OUT at the same paths and run
    the same jerkcount (checked before the first task); a night whose workers keep
    dying is a failed row; a lost scheduler ends the batch (exit 1) with the finished
    recordings complete.

    Exit status: 0 all recordings ok or skipped, 1 some failed, 2 bad usage, 130
    interrupted (Ctrl-C or SIGTERM: the workers stop at once, the finished recordings'
    folders stay, the same command does the rest).
    """
    from pipeline.batch import BatchInterrupted, execute, plan_batch
    from pipeline.batch_progress import BatchProgress
    from pipeline.process import ProcessParams
    from pipeline.windows import resolve_day_start

    if scheduler is not None and not scheduler.strip():  # an unset variable: not a local run
        raise click.BadParameter("give the scheduler's address, e.g. tcp://host:8786",
                                 param_hint="--scheduler")  # fmt: skip
    if scheduler and jobs is not None:
        raise click.UsageError("--jobs is for a local run; the cluster's workers set the pace "
                               "with --scheduler")  # fmt: skip
    if scheduler:
        from pipeline.dask_engine import quiet_dask_logging

        quiet_dask_logging()
    start = resolve_day_start(day_start, calendar_days)
    settings = ProcessParams(tz=_zone(tz), day_start=start, detector=params)
    plan = plan_batch(inputs, out_dir, settings, force=force)
    bar = BatchProgress(plan.total, plan.todo_bytes)

    def on_outcome(outcome: Any, nbytes: int) -> None:
        if outcome.status == "failed":
            bar.message(f"jerkcount: error: {outcome.error}")
        bar.advance(1, nbytes, (outcome.samples or 0) if outcome.status == "ok" else 0)

    _interrupt_on_signals()  # SIGTERM (a job scheduler's) too: the workers end with it
    try:
        result = execute(plan, jobs=jobs, scheduler=scheduler, on_outcome=on_outcome)
    except BatchInterrupted as stop:
        bar.close()
        click.echo(
            f"jerkcount: interrupted: {stop.done} of {stop.total} recording(s) done or up to "
            f"date in {out_dir}/; the same command does the rest",
            err=True,
        )
        ctx.exit(EXIT_INTERRUPTED)
    finally:
        bar.close()
    names = ", ".join(p.name for p in result.paths.values())
    click.echo(
        f"{plan.total} recording(s): {result.count('ok')} ok, {result.count('skipped')} "
        f"skipped (up to date), {result.count('failed')} failed -> {out_dir}/ ({names})"
    )
    if result.lost:
        click.echo(
            f"jerkcount: error: --scheduler: lost the connection to the scheduler at "
            f"{scheduler} with {result.lost} recording(s) not done (failed rows in "
            f"recordings.csv); the finished ones are complete, the same command does the rest",
            err=True,
        )
    if result.failed:
        ctx.exit(1)


def _interrupt_on_signals() -> None:
    """SIGINT and SIGTERM raise KeyboardInterrupt, even in a process started with SIGINT
    ignored (a background job of a shell script), so the command can clean up."""
    import signal

    def interrupt(signum: int, frame: Any) -> None:
        raise KeyboardInterrupt

    signal.signal(signal.SIGINT, signal.default_int_handler)
    signal.signal(signal.SIGTERM, interrupt)


# --------------------------------------------------------------------------- record
def _config_error(err: Exception) -> InputError:
    """A configuration problem as the CLI's one-line input error."""
    return InputError(None, str(err))


def _gap_words(gaps: list[Any]) -> str:
    """``2 link gap(s)``, ``1 link gap(s), 1 stream stop(s)`` or ``no link gaps``."""
    from firmware_bridge.recorder import STREAM_STOPPED

    stops = sum(1 for g in gaps if g.reason == STREAM_STOPPED)
    links = len(gaps) - stops
    if not gaps:
        return "no link gaps"
    words = [f"{links} link gap(s)"] if links else []
    if stops:
        words.append(f"{stops} stream stop(s)")
    return ", ".join(words)


def _print_record_result(result: Any) -> None:
    """What a recording or replay produced, for the morning."""
    from pipeline.summary import night_table

    live = result.live
    gaps = [g for g in result.gaps]
    if result.removed_empty:
        click.echo(f"recording  none: nothing recorded, so {result.path} was removed")
    elif result.path is not None:
        click.echo(f"recording  {result.path}  ({result.samples:,} samples)")
    else:
        click.echo(f"replayed   {result.samples:,} samples")
    drops = _gap_words(gaps)
    if result.session_path:  # always named: it tells what the link did, gaps or none
        click.echo(f"session    {result.session_path}  ({drops})")
    elif gaps:
        click.echo(f"gaps       {drops}")
    if live.error:
        click.echo(f"live detection: {live.error}")
    click.echo(f"jerks      {len(live.events)} (live)")
    if result.process_result is not None:
        for line in night_table(result.process_result.windows):
            click.echo(line)
    if result.summary_dir is not None:
        click.echo(f"summary    {result.summary_dir}/ (open report.html)")
    elif result.summary_error:
        click.echo(f"no summary: {result.summary_error}")


@main.command()
@click.option(
    "--source",
    "source_spec",
    required=True,
    metavar="serial:PORT[@BAUD]|ble:ADDR|NAME",
    help="The board: a serial port (e.g. serial:/dev/ttyUSB0@115200) or a BLE "
    "board by address or advertised name (e.g. 'ble:Polar H10 A1B2C3D4').",
)
@click.option(
    "--protocol",
    metavar="witmotion|text[:OPTIONS]",
    help="Serial protocol: witmotion (WT901 11-byte packets) or text lines; "
    "text:csv-ms, text:tsv, text:delim=tab,cols=ax/ay/az,unit=4096 ... "
    "(text alone recognises the format).",
)
@click.option(
    "--profile",
    type=click.Choice(["polar", "microbit", "witmotion", "nus"]),
    help="BLE profile of the board.",
)
@click.option(
    "--out",
    "out_dir",
    required=True,
    type=click.Path(file_okay=False, path_type=Path),
    help="Folder for recording-<UTC start>.csv, its .session.json and the "
    "night's summary-<UTC start>/ folder (created mode 0700, files 0600).",
)
@click.option(
    "--duration",
    metavar="8h|90m|1h30m|SECONDS",
    help="Stop after this long [default: until Ctrl-C].",
)
@click.option(
    "--rate",
    type=_FiniteFloatRange(min=MIN_BOARD_RATE_HZ, max=MAX_BOARD_RATE_HZ),
    help="Sample rate in Hz (1 to 5000): asked of the board (BLE) or its nominal rate "
    "(serial; spacing of arrival stamps) [default: the protocol's].",
)
@click.option(
    "--stall",
    "stall_s",
    default=5.0,
    show_default=True,
    type=_FiniteFloatRange(min=0.5),
    help="Seconds without samples that count as a lost link.",
)
@click.option(
    "--tz",
    default=None,
    metavar="ZONE",
    help="IANA time zone of the summary [default: this machine's zone].",
)
@click.option("--no-summary", is_flag=True, help="Do not write the summary at the end.")
@_params_option
def record(
    source_spec: str, protocol: str | None, profile: str | None, out_dir: Path,
    duration: str | None, rate: float | None, stall_s: float, tz: str | None, no_summary: bool,
    params: Any,
) -> None:  # fmt: skip
    """Record a night from a board, counting jerks live; Ctrl-C ends it cleanly.

    Samples reach the disk every half second; if the link drops (unplug, Bluetooth
    disconnect, board reset or silent) the recorder reconnects with back-off and
    carries on in the same file. At the end it writes the night's summary as
    `process` would, into OUT/summary-<UTC start>/ (Ctrl-C again skips the summary
    only). A board that is not reached within 60 s is an error; one that sent no
    sample leaves no recording.
    """
    from firmware_bridge.errors import ProtocolError
    from firmware_bridge.recorder import RecorderError, RecorderParams
    from firmware_bridge.recorder_live import LiveLine
    from firmware_bridge.recorder_setup import make_source, parse_duration, run_recorder
    from pipeline.outputs import get_zone

    zone = _zone(tz)
    get_zone(zone)
    try:
        seconds = parse_duration(duration) if duration is not None else None
        source = make_source(source_spec, protocol, profile, rate, stall_s)
        settings = RecorderParams(out_dir=out_dir, duration_s=seconds, stall_s=stall_s,
                                  tz=zone, summarise=not no_summary, detector=params)  # fmt: skip
        result = run_recorder(source, settings, LiveLine())
    except (ProtocolError, RecorderError, ValueError) as err:
        raise _config_error(err) from None
    try:
        _print_record_result(result)
        if result.write_error is not None:  # the disk filled: the night up to then is kept
            hours = (result.end - result.start) / 3600.0
            click.echo(f"jerkcount: error: {result.write_error}: the recording stopped after "
                       f"{hours:.2f} h; what came before is kept", err=True)  # fmt: skip
    except OSError:  # the terminal is gone (EIO): the files tell it all, the status too
        from firmware_bridge.terminal import detach_from_terminal

        detach_from_terminal()
    if result.write_error is not None:
        click.get_current_context().exit(EXIT_IO)
    if result.removed_empty:  # connected, but nothing recorded: as when it never connected
        click.get_current_context().exit(EXIT_INPUT)


# --------------------------------------------------------------------------- replay
@main.command()
@click.argument("rec", type=click.Path(path_type=Path))
@click.option(
    "--speed",
    default="1",
    show_default=True,
    metavar="FACTOR|max",
    help="Recording seconds per second of replay (1 = real time; from 0.01), or max.",
)
@click.option(
    "--out",
    "out_dir",
    default=None,
    type=click.Path(file_okay=False, path_type=Path),
    help="Write what record writes at the end (events.csv and the summaries) here.",
)
@click.option(
    "--tz",
    default=None,
    metavar="ZONE",
    help="IANA time zone of the summary [default: this machine's zone].",
)
@_params_option
@_input_options
def replay(
    rec: Path, speed: str, out_dir: Path | None, tz: str | None, params: Any, input_options: Any
) -> None:
    """Feed a recording through the live path (source, detector, live line, outputs).

    The events are those `detect` finds in the same file (read with the same input
    options).
    """
    from firmware_bridge.recorder import RecorderParams
    from firmware_bridge.recorder_live import LiveLine
    from firmware_bridge.recorder_setup import run_recorder
    from firmware_bridge.replay_source import ReplaySource
    from pipeline.outputs import get_zone
    from pipeline.process import ProcessParams, process_recordings
    from pipeline.reader import ReaderParams

    if speed.strip().lower() == "max":
        factor = None
    else:
        try:
            factor = float(speed)
        except ValueError:
            raise click.BadParameter(
                f"{speed!r} is not a number or max", param_hint="--speed"
            ) from None
        if not factor >= MIN_REPLAY_SPEED or not math.isfinite(factor):
            raise click.BadParameter(f"must be a number from {MIN_REPLAY_SPEED:g} up (or max)",
                                     param_hint="--speed")  # fmt: skip
    zone = _zone(tz)
    get_zone(zone)
    reader = ReaderParams(input=input_options)
    source = ReplaySource(rec, factor, reader=reader)
    settings = RecorderParams(write=False, summarise=False, stall_s=1e9, tz=zone, detector=params)
    result = run_recorder(source, settings, LiveLine())
    if out_dir is not None:
        from firmware_bridge.recorder_writer import make_private_dir

        make_private_dir(out_dir)
        result.process_result = process_recordings(
            [rec], out_dir, ProcessParams(tz=zone, detector=params, reader=reader)
        )
        result.summary_dir = out_dir
    _print_record_result(result)


# --------------------------------------------------------------------------- scan
@main.command()
@click.option(
    "--timeout",
    default=5.0,
    show_default=True,
    type=_FiniteFloatRange(min=0.5),
    help="Seconds to listen for Bluetooth boards.",
)
@click.option("--no-ble", is_flag=True, help="List serial ports only.")
def scan(timeout: float, no_ble: bool) -> None:
    """List serial ports and nearby Bluetooth boards jerkcount can record from."""
    from firmware_bridge.scan import list_serial_ports, scan_ble

    ports = list_serial_ports()
    click.echo(f"serial ports ({len(ports)}):")
    for p in ports:
        click.echo(f"  {p.device}  {p.description}  [{p.hwid}]")
    if not ports:
        click.echo("  none")
    if no_ble:
        return
    boards, problem = scan_ble(timeout)
    if problem:
        click.echo(f"bluetooth: {problem}")
        return
    click.echo(f"bluetooth boards ({len(boards)}):")
    for b in boards:
        rssi = "" if b.rssi is None else f"  {b.rssi} dBm"
        click.echo(f"  {b.address}  {b.name}  --profile {b.profile}{rssi}")
    if not boards:
        click.echo("  none heard")


# --------------------------------------------------------------------------- sim-device
@main.command("sim-device")
@click.option(
    "--protocol",
    default="text:csv-ms",
    show_default=True,
    metavar="witmotion|text[:FMT]",
    help="What the board sends (text formats as for record --protocol).",
)
@click.option(
    "--fs",
    default=100.0,
    show_default=True,
    type=_FiniteFloatRange(min=1, max=1000),
    help="Sample rate, Hz.",
)
@click.option(
    "--hours",
    default=8.0,
    show_default=True,
    type=_FiniteFloatRange(min=0, min_open=True),
    help="Length of the simulated night.",
)
@_jerk_timing_options
@click.option(
    "--faults",
    default="",
    metavar="KIND[@AT_S][+DUR],...",
    help="Faults to inject: garbage, reset, pause, unplug; e.g. "
    "garbage,reset@600,pause@1200+30,unplug+10 (unplaced ones spread evenly).",
)
@click.option(
    "--speed",
    default=1.0,
    show_default=True,
    type=_FiniteFloatRange(min=0, min_open=True),
    help="Simulated seconds per second (above 1 use a format with a time column).",
)
@click.option(
    "--link",
    type=click.Path(dir_okay=False, path_type=Path),
    help="Keep this symlink pointing at the board's pty (needed to re-plug after "
    "unplug); record from serial:LINK.",
)
def sim_device(
    protocol: str, fs: float, hours: float, pattern: str, rate: float, seed: int, faults: str,
    speed: float, link: Path | None,
) -> None:  # fmt: skip
    """A virtual serial board on a pseudo-terminal streaming a simulated night.

    Prints the port to record from on the first line, then streams until the night
    ends or Ctrl-C.
    """
    from sim.virtual_serial import BoardConfig, VirtualSerialBoard, parse_faults

    if link is not None and link.exists() and not link.is_symlink():  # replaced, then removed
        raise InputError(str(link), "exists and is not a link: --link needs a name of its own "
                         "(it is replaced by the link, and removed at the end)")  # fmt: skip
    try:
        config = BoardConfig(protocol=protocol, fs=fs, hours=hours, pattern=pattern,
                             rate_per_hour=rate, seed=seed, speed=speed, link=link,
                             faults=parse_faults(faults, hours * 3600))  # fmt: skip
    except ValueError as err:
        raise _config_error(err) from None
    _interrupt_on_signals()
    board = VirtualSerialBoard(config)
    try:
        port = board.open()
    except OSError as err:  # the link's folder: the error names the pty, not the link
        board.close()
        if link is None:
            raise
        raise InputError(str(link), f"cannot make the link: {err.strerror}") from None
    try:  # a signal as soon as the port is printed (a script that waited for it) stops it too
        click.echo(port)
        sys.stdout.flush()
        board.run()
    except KeyboardInterrupt:
        pass
    finally:
        board.close()


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
