"""The ``batch`` job: many recordings, one ``process`` output folder each, cohort tables.

Plan, run, tabulate:

1. :func:`plan_batch` expands the inputs (files, folders searched recursively for
   recordings, glob patterns), gives each recording an output folder name (its path
   relative to the inputs' common root, suffix dropped, folders joined with ``__``,
   unsafe characters replaced, made unique) and decides which are up to date.
2. :func:`execute` runs the others with :func:`run_one` — in this process (one core
   allowed, or one recording to do), in a pool of ``jobs`` worker processes of one
   thread each (``jobs`` is the cores to use), or on a Dask distributed cluster
   (``scheduler``). Each recording is processed like ``jerkcount process`` into a
   staging folder ``OUT/.jerkcount-partial/NAME``, its ``summary.json`` gets a
   ``batch`` block, and only then is the folder renamed to ``OUT/NAME``. An
   interrupted batch therefore never leaves a folder under its final name that is
   not complete.
3. :func:`write_cohort_tables` writes ``cohort_daily_summary.csv`` (every daily row,
   ``recording`` first), ``recordings.csv`` (one row per recording) and ``errors.csv``.

A recording is *up to date* (skipped) when ``OUT/NAME`` holds every ``process`` file,
its ``summary.json`` has a ``batch`` block with the same jerkcount version and the
same parameters, and the input has the same size and the same sha256 (read again on
every resume; the mtime is recorded but not trusted: ``cp -p`` and ``rsync -a`` keep
it on a changed file). ``force`` redoes every recording.

On a Dask cluster each recording's warnings (a truncated gzip file, a torn last
line) are logged in the worker; :func:`run_reporting` returns them with the outcome
and the client logs them again, so they reach the user's stderr as with ``--jobs``.

A failing recording (bad file, unreadable file, even a crashing worker) becomes a
``failed`` row with a one-line error naming the file (and line); the others go on.

Fault injection for tests: with ``JERKCOUNT_BATCH_FAULT=NAME`` in the environment the
worker that processes the output ``NAME`` exits abruptly (status :data:`FAULT_EXIT`)
after its outputs are written to the staging folder and before the rename; with
``JERKCOUNT_BATCH_HOLD=NAME`` it waits there instead, until it is killed (for the
tests of an interrupted or killed batch).
"""

from __future__ import annotations

import concurrent.futures as cf
import contextlib
import dataclasses
import hashlib
import itertools
import json
import logging
import multiprocessing
import os
import re
import shutil
import sys
import tempfile
import threading
import time
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pandas as pd

from pipeline import __version__
from pipeline.atomic import atomic_write, file_set
from pipeline.errors import InputError, describe_error
from pipeline.inputs import GLOB_CHARS as _GLOB_CHARS
from pipeline.inputs import Unlisted, is_output_folder, recording_suffixes, search_inputs
from pipeline.inputs import abs_path as _abs
from pipeline.inputs import suffix_of as _suffix_of
from pipeline.memtune import keep_freed_memory
from pipeline.outputs import get_zone, write_json
from pipeline.pool import drop_inherited_logging, stop_pool, watch_parent
from pipeline.process import FILE_NAMES, ProcessParams, process_recordings
from pipeline.readahead import allow_helper_threads, helper_threads
from pipeline.summary import DAILY_COLUMNS

log = logging.getLogger(__name__)

#: Cohort tables written into the batch's output folder.
COHORT_FILES = {
    "daily": "cohort_daily_summary.csv",
    "recordings": "recordings.csv",
    "errors": "errors.csv",
}
RECORDINGS_COLUMNS = [
    "recording", "status", "output", "nights", "jerks", "samples", "hours", "seconds", "error",
]  # fmt: skip
ERRORS_COLUMNS = ["recording", "error"]
#: Folder (inside the output folder) where recordings are written before the rename.
STAGING = ".jerkcount-partial"
FAULT_ENV = "JERKCOUNT_BATCH_FAULT"
FAULT_EXIT = 86
HOLD_ENV = "JERKCOUNT_BATCH_HOLD"
_UNSAFE = re.compile(r"[^A-Za-z0-9._-]+")
_MAX_NAME = 120


# --------------------------------------------------------------------------- inputs
def input_root(inputs: Sequence[str | Path]) -> Path:
    """The common folder of the inputs as given: a folder itself, a file's folder, a
    pattern's folder before its first wildcard. Output names are relative to it, so
    they stay the same when recordings are added to the folders given."""
    anchors = []
    for item in inputs:
        text = str(item)
        path = Path(text)
        if not path.exists() and _GLOB_CHARS.search(text):
            parts = Path(text).parts
            fixed = list(itertools.takewhile(lambda p: not _GLOB_CHARS.search(p), parts))
            path = Path(*fixed) if fixed else Path(".")
            anchors.append(_abs(path))
        else:
            anchors.append(_abs(path) if path.is_dir() else _abs(path).parent)
    return Path(os.path.commonpath(anchors))


def _safe(text: str) -> str:
    """``text`` with runs of characters outside ``[A-Za-z0-9._-]`` replaced by ``_``."""
    return _UNSAFE.sub("_", text).strip("._") or "recording"


def _short_hash(text: str) -> str:
    return hashlib.sha1(text.encode("utf-8")).hexdigest()[:8]


def output_names(
    paths: Sequence[Path], root: Path | None = None, suffixes: Sequence[str] | None = None
) -> list[str]:
    """Output folder names of ``paths``: unique (also ignoring case) and filesystem-safe.

    The name is the path relative to ``root`` (default: the common folder of
    ``paths``; :func:`plan_batch` gives :func:`input_root`) without its
    recording suffix, folders joined by ``__`` (``P01/night3.csv`` -> ``P01__night3``).
    Names that would clash keep their suffix (``night.csv``, ``night.parquet``); if
    that is not enough, or a name would be too long or one of the cohort tables, a
    short hash of the relative path is appended. The same inputs give the same names.
    """
    suffixes = tuple(suffixes or recording_suffixes())
    paths = [_abs(p) for p in paths]
    if not paths:
        return []
    common = Path(os.path.commonpath([p.parent for p in paths]))
    root = common if root is None or not common.is_relative_to(_abs(root)) else _abs(root)
    rels = [p.relative_to(root) for p in paths]

    def name(rel: Path, keep_suffix: bool) -> str:
        suffix = "" if keep_suffix else _suffix_of(rel, suffixes)
        stem = rel.name[: len(rel.name) - len(suffix)] if suffix else rel.name
        return "__".join(_safe(part) for part in (*rel.parts[:-1], stem))

    def clashes(names: list[str]) -> set[str]:
        seen: dict[str, int] = {}
        for n in names:
            seen[n.lower()] = seen.get(n.lower(), 0) + 1
        return {n for n, count in seen.items() if count > 1}

    names = [name(r, False) for r in rels]
    bad = clashes(names)
    names = [name(r, True) if n.lower() in bad else n for r, n in zip(rels, names, strict=True)]
    bad = clashes(names)
    reserved = {n.lower() for n in COHORT_FILES.values()}
    final = []
    for rel, n in zip(rels, names, strict=True):
        if n.lower() in bad or n.lower() in reserved or len(n) > _MAX_NAME:
            n = f"{n[:_MAX_NAME]}-{_short_hash(rel.as_posix())}"
        final.append(n)
    return final


# --------------------------------------------------------------------------- tasks
@dataclass(frozen=True)
class Task:
    """One recording to process: input, final and staging folders, parameters."""

    recording: str
    name: str
    out_dir: str
    params: ProcessParams
    size_bytes: int = 0

    @property
    def final(self) -> Path:
        """The recording's output folder."""
        return Path(self.out_dir) / self.name

    @property
    def staging(self) -> Path:
        """Where the outputs are written before the rename."""
        return Path(self.out_dir) / STAGING / self.name


@dataclass
class Outcome:
    """What happened to one recording: a row of ``recordings.csv``.

    status : ``ok`` (processed now), ``skipped`` (up to date) or ``failed``.
    output : the output folder's name inside the batch folder ("" when failed).
    nights : windows with data; jerks : counted jerks; samples : samples on the grid;
    hours : first to last sample, h; seconds : wall time spent on it in this run.
    error : one line naming the file (and line) when failed.
    """

    recording: str
    status: str
    output: str = ""
    nights: int | None = None
    jerks: int | None = None
    samples: int | None = None
    hours: float | None = None
    seconds: float = 0.0
    error: str = ""


def params_record(params: ProcessParams) -> dict[str, Any]:
    """Every field of ``params`` as plain JSON values (times and options as text)."""
    return json.loads(json.dumps(dataclasses.asdict(params), default=str, sort_keys=True))


def batch_block(
    path: Path, stat: os.stat_result, sha256: str | None, params: ProcessParams
) -> dict[str, Any]:
    """The ``batch`` block added to ``summary.json``: what a resumed run compares."""
    return {
        "input": str(path),
        "size_bytes": int(stat.st_size),
        "mtime_ns": int(stat.st_mtime_ns),
        "sha256": sha256,
        "jerkcount_version": __version__,
        "params": params_record(params),
    }


def _sha256(path: Path) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as fh:
        for block in iter(lambda: fh.read(1 << 20), b""):
            h.update(block)
    return h.hexdigest()


def up_to_date(task: Task) -> tuple[bool, str]:
    """Whether ``task``'s output folder is complete and made from this input and parameters.

    Returns ``(True, "")`` or ``(False, reason)``.
    """
    folder = task.final
    if not folder.is_dir():
        return False, "no output yet"
    missing = [n for n in FILE_NAMES.values() if not (folder / n).is_file()]
    if missing:
        return False, f"incomplete output (no {', '.join(missing)})"
    try:
        block = json.loads((folder / FILE_NAMES["json"]).read_text(encoding="utf-8"))["batch"]
    except (OSError, ValueError, KeyError, TypeError):
        return False, "summary.json without a batch block"
    if block.get("jerkcount_version") != __version__:
        return False, "made by another jerkcount version"
    if block.get("params") != params_record(task.params):
        return False, "parameters changed"
    try:
        st = os.stat(task.recording)
    except OSError:
        return False, "input not readable"
    if st.st_size != block.get("size_bytes"):
        return False, "input changed (size)"
    return _same_content(Path(task.recording), block.get("sha256"))


def _same_content(path: Path, recorded: str | None) -> tuple[bool, str]:
    """Whether ``path``'s sha256 is ``recorded`` (whatever its mtime says), with the
    reason when not."""
    if not recorded:
        return False, "no sha256 of the input recorded"
    try:
        digest = _sha256(path)
    except OSError:
        return False, "input not readable"
    if digest != recorded:
        return False, "input changed (sha256)"
    return True, ""


def _batch_block_of(folder: Path) -> dict[str, Any] | None:
    """The ``batch`` block of ``folder``'s ``summary.json``; ``None`` without one."""
    try:
        summary = json.loads((folder / FILE_NAMES["json"]).read_text(encoding="utf-8"))
        block = summary["batch"]
    except (OSError, ValueError, KeyError, TypeError):
        return None
    return block if isinstance(block, dict) else None


def other_owner(folder: Path, path: Path) -> str | None:
    """The input whose outputs ``folder`` holds, when that is another recording than
    ``path``: another path and other content. A recording moved or copied (another path,
    the same size and sha256) is the same one, and a changed file at the same path is
    the same recording corrected; both give ``None``, as do a folder without a batch
    block and one whose input is no longer there (moved away). ``path`` unreadable
    under another name: the other input."""
    block = _batch_block_of(folder)
    if block is None or not block.get("input") or block["input"] == str(path):
        return None
    if not os.path.lexists(block["input"]):
        return None  # that input is gone (the cohort moved): its folder is free
    try:
        size = path.stat().st_size
    except OSError:
        return str(block["input"])
    if size == block.get("size_bytes") and _same_content(path, block.get("sha256"))[0]:
        return None
    return str(block["input"])


def folder_stats(folder: Path) -> dict[str, Any]:
    """``nights``, ``jerks``, ``samples`` and ``hours`` of a complete output folder."""
    summary = json.loads((folder / FILE_NAMES["json"]).read_text(encoding="utf-8"))
    recs = summary.get("recordings", [])
    windows = summary.get("windows", [])
    return {
        "nights": len(windows),
        "jerks": int(sum(int(w.get("jerks") or 0) for w in windows)),
        "samples": int(sum(int(r.get("n_samples") or 0) for r in recs)),
        "hours": sum(float(r["end"]) - float(r["start"]) for r in recs) / 3600.0,
    }


def _with_file(line: str, recording: str) -> str:
    """``line``, prefixed with the recording when it does not name it already."""
    return line if recording in line else f"{recording}: {line}"


def _install(staging: Path, final: Path) -> None:
    """Move a complete staging folder to ``final``, replacing an older one."""
    old = staging.with_name(staging.name + ".old")
    if old.exists():
        shutil.rmtree(old)
    if final.exists():
        os.rename(final, old)
    os.rename(staging, final)
    if old.exists():
        shutil.rmtree(old, ignore_errors=True)


def _earlier_output(task: Task) -> str:
    """For a failed recording: a note that its folder holds an earlier run's outputs
    (left in place, not listed in the cohort tables), else ``""``."""
    if not is_output_folder(task.final):
        return ""
    return f"; its folder {task.name}/ holds the outputs of an earlier run, left as they were"


def _stat_input(path: Path) -> os.stat_result:
    """``os.stat(path)``; :class:`InputError` naming the file when it is not there (for a
    link that points nowhere, where it points)."""
    try:
        return os.stat(path)
    except FileNotFoundError:
        if path.is_symlink():
            target = os.readlink(path)
            raise InputError(path, f"is a link to {target}, which does not exist") from None
        raise InputError(path, "no such file") from None


def run_one(task: Task) -> Outcome:
    """Process one recording into its output folder (the worker; spawn- and Dask-safe).

    Never raises for a bad input: the error becomes a ``failed`` :class:`Outcome`.
    """
    start = time.perf_counter()
    path = Path(task.recording)
    staging = task.staging
    try:
        if staging.exists():
            shutil.rmtree(staging)
        staging.mkdir(parents=True)
        stat = _stat_input(path)
        process_recordings([path], staging, task.params)
        json_path = staging / FILE_NAMES["json"]
        summary = json.loads(json_path.read_text(encoding="utf-8"))
        recs = summary.get("recordings") or [{}]
        summary["batch"] = batch_block(path, stat, recs[0].get("sha256"), task.params)
        write_json(json_path, summary)
        if os.environ.get(FAULT_ENV) == task.name:
            os._exit(FAULT_EXIT)  # test hook: die with complete files in the staging folder
        while os.environ.get(HOLD_ENV) == task.name:
            time.sleep(0.05)  # test hook: hold here, files staged, until killed
        _install(staging, task.final)
        stats = folder_stats(task.final)
    except Exception as err:  # noqa: BLE001 - any failure of one recording is isolated
        log.debug("%s failed", path, exc_info=True)
        with contextlib.suppress(OSError):
            shutil.rmtree(staging)
        error = _with_file(describe_error(err), str(path)) + _earlier_output(task)
        return Outcome(str(path), "failed", seconds=time.perf_counter() - start, error=error)
    return Outcome(str(path), "ok", task.name, seconds=time.perf_counter() - start, **stats)


@dataclass(frozen=True)
class LogLine:
    """A log record of a worker, to be logged again in the client: logger, level, text."""

    logger: str
    level: int
    message: str


class _Capture(logging.Handler):
    """Keeps the warnings of one recording (and, with ``-v``, the info lines the
    command would print: the level of the ``pipeline`` logger when lower): the records
    of the thread that processes it, and those of its helper threads (which name the
    recording). Other tasks of a worker running several at once log from other
    threads, about other files."""

    def __init__(self, recording: str) -> None:
        level = min(logging.WARNING, logging.getLogger("pipeline").getEffectiveLevel())
        super().__init__(level)
        self.recording = recording
        self.thread = threading.get_ident()
        self.lines: list[LogLine] = []

    def emit(self, record: logging.LogRecord) -> None:
        """Keep ``record`` if it is this recording's."""
        message = record.getMessage()
        if record.thread == self.thread or self.recording in message:
            self.lines.append(LogLine(record.name, record.levelno, message))


def run_reporting(task: Task) -> tuple[Outcome, list[LogLine]]:
    """:func:`run_one`, and the warnings it logged (for a cluster's worker, whose log
    the user does not see, and a ``--jobs`` worker, which prints nothing itself): the
    client logs them with :func:`replay`, above its progress bar."""
    capture = _Capture(task.recording)
    logger = logging.getLogger("pipeline")
    logger.addHandler(capture)
    try:
        return run_one(task), capture.lines
    finally:
        logger.removeHandler(capture)


def replay(lines: Iterable[LogLine]) -> None:
    """Log a worker's :class:`LogLine` records here, as they were logged there."""
    for line in lines:
        logging.getLogger(line.logger).log(line.level, "%s", line.message)


# --------------------------------------------------------------------------- plan
@dataclass
class BatchPlan:
    """Recordings of a batch: those to run and those already up to date."""

    out_dir: Path
    params: ProcessParams
    todo: list[Task] = field(default_factory=list)
    skipped: list[Outcome] = field(default_factory=list)
    #: folders that could not be listed: failed rows of their own
    unlisted: list[Outcome] = field(default_factory=list)

    @property
    def total(self) -> int:
        """All rows of the batch: recordings, and folders that could not be listed."""
        return len(self.todo) + len(self.skipped) + len(self.unlisted)

    @property
    def todo_bytes(self) -> int:
        """Input bytes still to process."""
        return sum(t.size_bytes for t in self.todo)


def _unlisted_row(unlisted: Unlisted) -> Outcome:
    """The failed row of a folder the search could not list: its recordings are unknown,
    so the batch must not look complete."""
    folder = _abs(unlisted.folder)
    return Outcome(str(folder), "failed", error=f"{folder}: folder cannot be listed "
                   f"({unlisted.reason}); the recordings in it are not in this batch")  # fmt: skip


def check_writable(out_dir: Path) -> None:
    """:class:`InputError` naming ``out_dir`` unless a folder can be made in it (or, when
    it is not there yet, in its nearest existing parent): found by making and removing
    a hidden one, since permission bits say nothing for root or on a read-only mount."""
    parent = out_dir
    while not parent.exists() and parent != parent.parent:
        parent = parent.parent
    try:
        os.rmdir(tempfile.mkdtemp(prefix=".jerkcount-probe-", dir=parent))
    except OSError as err:
        reason = (err.strerror or type(err).__name__).lower()
        raise InputError(out_dir, f"--out cannot be written ({reason})") from None


def plan_batch(
    inputs: Sequence[str | Path], out_dir: str | Path, params: ProcessParams, force: bool = False
) -> BatchPlan:
    """Find the recordings, name their output folders and decide which are up to date.

    Raises :class:`InputError` for a bad time zone, an output path that is a file or
    cannot be written, an input that does not exist or no recordings at all.
    """
    get_zone(params.tz)
    out_dir = _abs(out_dir)
    if out_dir.exists() and not out_dir.is_dir():
        raise InputError(out_dir, "is not a directory (--out needs a folder)")
    check_writable(out_dir)
    found = search_inputs(inputs, exclude=out_dir)
    paths = found.paths
    plan = BatchPlan(out_dir, params)
    plan.unlisted = [_unlisted_row(u) for u in found.unlisted]
    names = output_names(paths, input_root(inputs))
    for path, name in zip(paths, names, strict=True):
        owner = other_owner(out_dir / name, path)
        if owner is not None:  # another recording's outputs (a batch of other folders)
            mine = f"{name}-{_short_hash(str(path))}"
            log.warning("%s: %s/ holds the outputs of %s, left as they are; this "
                        "recording's go to %s/", path, name, owner, mine)  # fmt: skip
            name = mine
        try:
            size = path.stat().st_size
        except OSError:
            size = 0
        task = Task(str(path), name, str(out_dir), params, size)
        if not force:
            start = time.perf_counter()
            done, why = up_to_date(task)
            if done:
                stats = folder_stats(task.final)
                plan.skipped.append(
                    Outcome(str(path), "skipped", name, seconds=time.perf_counter() - start,
                            **stats)
                )  # fmt: skip
                continue
            log.info("%s: %s", path, why)
        plan.todo.append(task)
    return plan


# --------------------------------------------------------------------------- engines
OnOutcome = Callable[[Task, Outcome], None]


def _died(task: Task, why: str) -> Outcome:
    return Outcome(task.recording, "failed", error=f"{task.recording}: {why}")


def _run_serial(tasks: Iterable[Task], on_done: OnOutcome, threads: bool) -> None:
    """Tasks one after another in this process; with ``threads`` (more than one core
    allowed) each recording's reader and detector run their helper threads."""
    before = helper_threads()
    allow_helper_threads(before and threads)
    try:
        for task in tasks:
            on_done(task, run_one(task))
    finally:
        allow_helper_threads(before)


def _mp_context() -> multiprocessing.context.BaseContext:
    """``fork`` on Linux when this process runs no other thread (workers start at once,
    with the modules already imported), else ``spawn`` (:func:`run_one` is spawn-safe)."""
    if sys.platform == "linux" and threading.active_count() == 1:
        return multiprocessing.get_context("fork")
    return multiprocessing.get_context("spawn")


def _run_isolated(tasks: Iterable[Task], on_done: OnOutcome) -> None:
    """One task at a time in a one-process pool, so a dying worker names its recording."""
    ctx = _mp_context()
    pool: cf.ProcessPoolExecutor | None = None
    try:
        for task in tasks:
            if pool is None:
                pool = cf.ProcessPoolExecutor(max_workers=1, mp_context=ctx,
                                              initializer=_init_isolated)  # fmt: skip
            try:
                outcome, lines = pool.submit(run_reporting, task).result()
                replay(lines)
            except cf.process.BrokenProcessPool:
                outcome = _died(task, "worker process died while processing it "
                                      "(killed, or out of memory?)")  # fmt: skip
                pool.shutdown(wait=True, cancel_futures=True)
                pool = None
            on_done(task, outcome)
    except BaseException:  # an interrupt: the worker's recording is only staged
        if pool is not None:
            stop_pool(pool)
        raise
    if pool is not None:
        pool.shutdown(wait=True)


def _init_isolated() -> None:
    """The worker of :func:`_run_isolated`: an end with its parent
    (:func:`~pipeline.pool.watch_parent`), and its log lines returned, not printed
    (:func:`~pipeline.pool.drop_inherited_logging`)."""
    drop_inherited_logging()
    watch_parent()


def _init_worker() -> None:
    """A pool worker: no helper threads, the command's malloc settings (a spawned
    worker does not inherit them; see :mod:`pipeline.memtune`), an end with its
    parent (:func:`~pipeline.pool.watch_parent`), and its log lines returned with
    each result, not printed (:func:`~pipeline.pool.drop_inherited_logging`)."""
    allow_helper_threads(False)
    keep_freed_memory()
    drop_inherited_logging()
    watch_parent()


def _run_pool(tasks: Sequence[Task], jobs: int, on_done: OnOutcome) -> None:
    """Tasks in ``jobs`` worker processes; after a worker death the rest one at a time."""
    ctx = _mp_context()
    retry: list[Task] = []
    # one thread per worker: ``jobs`` processes fill the cores without helper threads
    pool = cf.ProcessPoolExecutor(max_workers=jobs, mp_context=ctx, initializer=_init_worker)
    try:
        futures = {pool.submit(run_reporting, t): t for t in tasks}
        for future in cf.as_completed(futures):
            task = futures[future]
            try:
                outcome, lines = future.result()
            except cf.process.BrokenProcessPool:
                retry.append(task)
                continue
            replay(lines)
            on_done(task, outcome)
    except BaseException:  # an interrupt: now, not after the queue; outputs only staged
        stop_pool(pool)
        raise
    pool.shutdown(wait=True)
    if retry:
        log.warning("a worker process died; running %d recording(s) one at a time", len(retry))
        _run_isolated(sorted(retry, key=lambda t: t.recording), on_done)


def _run_dask(tasks: Sequence[Task], client: Any, on_done: OnOutcome) -> list[Task]:
    """Tasks on the Dask distributed cluster of ``client`` (shared file system needed;
    see :mod:`pipeline.dask_engine`): each recording's warnings are logged here as it
    finishes, then its outcome. Returns the tasks left undone by a lost scheduler."""
    from pipeline.dask_engine import describe_failure, run_tasks

    def on_result(task: Task, result: tuple[Outcome, list[LogLine]] | None,
                  err: BaseException | None) -> None:  # fmt: skip
        if result is None:  # it raised on the cluster
            assert err is not None
            outcome, lines = _died(task, describe_failure(err)), []
        else:
            outcome, lines = result
        replay(lines)
        if outcome.status == "ok" and not (task.final / FILE_NAMES["json"]).is_file():
            outcome = _died(task, "its worker wrote the outputs where this machine does not "
                                  f"see them (no {task.final}/)")  # fmt: skip
        on_done(task, outcome)

    return run_tasks(client, tasks, run_reporting, on_result)


# --------------------------------------------------------------------------- results
@dataclass
class BatchResult:
    """Every recording's outcome (sorted by recording) and the cohort tables written."""

    outcomes: list[Outcome]
    paths: dict[str, Path]
    #: recordings not processed because the Dask scheduler was lost (failed rows whose
    #: errors were not reported one by one)
    lost: int = 0

    def count(self, status: str) -> int:
        """Recordings with ``status``."""
        return sum(o.status == status for o in self.outcomes)

    @property
    def failed(self) -> bool:
        """True if any recording failed."""
        return self.count("failed") > 0


def _write_frame(path: Path, frame: pd.DataFrame) -> Path:
    with atomic_write(path) as fh:
        frame.to_csv(fh, index=False, lineterminator="\n")
    return path


def _cell(value: Any, fmt: str) -> str:
    return "" if value is None else fmt % value


def write_cohort_tables(out_dir: Path, outcomes: Sequence[Outcome]) -> dict[str, Path]:
    """Write ``cohort_daily_summary.csv``, ``recordings.csv`` and ``errors.csv`` as one
    set (:func:`~pipeline.atomic.file_set`: never some of this run's beside an earlier's).

    The daily rows are copied as text from each output folder's ``daily_summary.csv``
    (so the numbers are exactly those), recordings in path order.
    """
    out_dir = Path(out_dir)
    frames = []
    for o in outcomes:
        if o.status in ("ok", "skipped"):
            daily = pd.read_csv(
                out_dir / o.output / FILE_NAMES["daily"], dtype=str, keep_default_na=False
            )
            daily.insert(0, "recording", o.recording)
            frames.append(daily)
    columns = ["recording", *DAILY_COLUMNS]
    cohort = pd.concat(frames, ignore_index=True) if frames else pd.DataFrame(columns=columns)
    rows = [
        {
            "recording": o.recording,
            "status": o.status,
            "output": o.output,
            "nights": _cell(o.nights, "%d"),
            "jerks": _cell(o.jerks, "%d"),
            "samples": _cell(o.samples, "%d"),
            "hours": _cell(o.hours, "%.4f"),
            "seconds": f"{o.seconds:.2f}",
            "error": o.error,
        }
        for o in outcomes
    ]
    errors = [
        {"recording": o.recording, "error": o.error} for o in outcomes if o.status == "failed"
    ]
    paths = {key: out_dir / name for key, name in COHORT_FILES.items()}
    order = ["daily", "errors", "recordings"]  # one set; the table of every recording last
    with file_set([paths[k] for k in order]) as (daily_tmp, errors_tmp, recordings_tmp):
        _write_frame(daily_tmp, cohort)
        _write_frame(errors_tmp, pd.DataFrame(errors, columns=ERRORS_COLUMNS))
        _write_frame(recordings_tmp, pd.DataFrame(rows, columns=RECORDINGS_COLUMNS))
    return paths


class BatchInterrupted(KeyboardInterrupt):
    """The batch was interrupted (Ctrl-C, SIGTERM) with ``done`` of ``total`` recordings
    finished or up to date; their folders are complete, the rest are not there, and the
    cohort tables are not written (the same command resumes)."""

    def __init__(self, done: int, total: int) -> None:
        super().__init__(done, total)
        self.done = done
        self.total = total


def _cluster(scheduler: str, plan: BatchPlan) -> Any:
    """A client of the scheduler whose workers :func:`~pipeline.dask_engine.check_workers`
    found able to do ``plan``; ``--out`` is made only for the check and, when it fails,
    removed again if it was not there before."""
    from pipeline.dask_engine import check_workers, connect

    client = connect(scheduler)
    made = [d for d in (plan.out_dir, plan.out_dir / STAGING) if not d.exists()]
    try:
        check_workers(client, plan.todo[0].recording, plan.out_dir, plan.out_dir / STAGING)
    except BaseException:
        client.close()
        for folder in reversed(made):
            with contextlib.suppress(OSError):
                folder.rmdir()
        raise
    return client


def execute(
    plan: BatchPlan,
    jobs: int | None = None,
    scheduler: str | None = None,
    on_outcome: Callable[[Outcome, int], None] | None = None,
) -> BatchResult:
    """Run a plan and write the cohort tables.

    jobs : the cores to use (default ``os.cpu_count()``): that many worker processes of
        one thread each, or, with one recording to do (or ``jobs`` 1), this process,
        with helper threads only when ``jobs`` allows more than one core.
    scheduler : address of a Dask distributed scheduler; runs there instead (it is
        reached and its workers checked before ``--out`` is made: a scheduler that
        does not answer, or workers that cannot do the batch, leave nothing behind).
        The tasks left undone by a lost scheduler are failed rows, counted in
        :attr:`BatchResult.lost` and not passed to ``on_outcome``.
    on_outcome : called in this process as each recording finishes, with its outcome
        and its input bytes (for progress and error lines).
    """
    client = _cluster(scheduler, plan) if scheduler and plan.todo else None
    plan.out_dir.mkdir(parents=True, exist_ok=True)
    outcomes = [*plan.unlisted, *plan.skipped]
    for o in outcomes:
        if o.status == "failed":
            log.info("%s", o.error)
        if on_outcome is not None:
            on_outcome(o, 0)

    def done(task: Task, outcome: Outcome) -> None:
        outcomes.append(outcome)
        if outcome.status == "failed":
            log.info("%s", outcome.error)
        if on_outcome is not None:
            on_outcome(outcome, task.size_bytes)

    lost = 0
    todo = sorted(plan.todo, key=lambda t: -t.size_bytes)  # longest first: less idle time
    cores = max(1, jobs or os.cpu_count() or 1)
    workers = max(1, min(cores, len(todo)))
    try:
        if not todo:
            pass
        elif client is not None:
            for task in _run_dask(todo, client, done):
                outcomes.append(_died(task, f"not processed: lost the connection to the "
                                            f"Dask scheduler at {scheduler}"))  # fmt: skip
                lost += 1
        elif workers == 1:
            _run_serial(todo, done, threads=cores > 1)
        else:
            _run_pool(todo, workers, done)
    except KeyboardInterrupt:
        if not scheduler:  # the local workers are stopped: what they staged is no output
            shutil.rmtree(plan.out_dir / STAGING, ignore_errors=True)
        # (a cluster's workers may still be writing theirs: the next run clears them)
        raise BatchInterrupted(len(outcomes), plan.total) from None
    with contextlib.suppress(OSError):
        (plan.out_dir / STAGING).rmdir()  # only when empty
    outcomes.sort(key=lambda o: o.recording)
    return BatchResult(outcomes, write_cohort_tables(plan.out_dir, outcomes), lost)


def run_batch(
    inputs: Sequence[str | Path],
    out_dir: str | Path,
    params: ProcessParams,
    jobs: int | None = None,
    scheduler: str | None = None,
    force: bool = False,
) -> BatchResult:
    """:func:`plan_batch` then :func:`execute` (see the module docstring)."""
    return execute(plan_batch(inputs, out_dir, params, force), jobs, scheduler)
