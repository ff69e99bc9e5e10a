"""``batch --scheduler`` when the cluster fails: dying workers, a lost scheduler, workers
that cannot see the files or run another jerkcount, a cluster without workers.

Real Dask processes throughout: a ``LocalCluster``, or ``dask scheduler`` and ``dask
worker`` commands started here (a worker that does not see the files runs in a mount
namespace of its own where the test's folder is an empty file system, as on a machine
without the shared one).
"""

from __future__ import annotations

import contextlib
import json
import logging
import os
import re
import shutil
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pandas as pd
import pytest
from click.testing import CliRunner

from cli import main
from pipeline import __version__, dask_engine
from pipeline.batch import FAULT_ENV, HOLD_ENV, STAGING
from pipeline.process import FILE_NAMES
from pipeline.writer import write_samples_csv
from sim import NightConfig, simulate_night

distributed = pytest.importorskip("distributed")
dask = pytest.importorskip("dask")

REPO = Path(__file__).resolve().parents[1]
BIN = Path(sys.executable).parent
NIGHTS = ("n1", "n2", "n3", "n4")


def _cohort(root: Path, short: str = "") -> Path:
    """Four 6-minute 50 Hz nights ``root/in/n1.csv`` ... ``n4.csv``; the night named
    ``short`` lasts 3 minutes (the batch sends the longest first, so it goes last)."""
    folder = root / "in"
    folder.mkdir(parents=True)
    for i, name in enumerate(NIGHTS):
        hours = 0.05 if name == short else 0.1
        night = simulate_night(NightConfig(hours=hours, fs=50.0, seed=i + 1, rate_per_hour=150))
        write_samples_csv(folder / f"{name}.csv", night.time, night.acc, night.metadata())
    return folder


def _batch(*args: str | Path):
    return CliRunner().invoke(main, ["batch", *map(str, args), "--tz", "UTC"])


def _rows(out: Path) -> pd.DataFrame:
    table = pd.read_csv(out / "recordings.csv", dtype=str, keep_default_na=False)
    return table.set_index(table["recording"].map(lambda p: Path(p).stem))


@contextlib.contextmanager
def _scheduler(tmp: Path) -> Iterator[tuple[str, subprocess.Popen]]:
    """A ``dask scheduler`` process; yields its address and the process."""
    info = tmp / f"scheduler-{time.monotonic_ns()}.json"
    proc = subprocess.Popen(
        [
            BIN / "dask",
            "scheduler",
            "--scheduler-file",
            info,
            "--no-dashboard",
            "--port",
            "0",
            "--host",
            "127.0.0.1",
        ],  # fmt: skip
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,  # fmt: skip
    )
    try:
        deadline = time.monotonic() + 60
        while not info.exists() or not info.read_text().strip():
            assert proc.poll() is None and time.monotonic() < deadline, "no scheduler"
            time.sleep(0.1)
        time.sleep(0.2)  # the file is written before the scheduler listens
        yield json.loads(info.read_text())["address"], proc
    finally:
        proc.kill()
        proc.wait()


@contextlib.contextmanager
def _worker(address: str, *, env: dict[str, str] | None = None, prefix: tuple[str, ...] = (),
            threads: int = 1) -> Iterator[subprocess.Popen]:  # fmt: skip
    """A ``dask worker`` process of ``threads`` threads, connected to ``address``."""
    proc = subprocess.Popen(
        [
            *prefix,
            str(BIN / "dask"),
            "worker",
            address,
            "--nthreads",
            str(threads),
            "--no-dashboard",
            "--no-nanny",
        ],  # fmt: skip
        env={**os.environ, **(env or {})},
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,  # fmt: skip
    )
    try:
        with distributed.Client(address, timeout="30s") as client:
            client.wait_for_workers(1, timeout=60)
        yield proc
    finally:
        proc.kill()
        proc.wait()


class _Lines(logging.Handler):
    """Keeps the messages of the logger it is added to."""

    def __init__(self) -> None:
        super().__init__()
        self.lines: list[str] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.lines.append(record.getMessage())


def test_a_night_that_kills_its_workers_is_a_failed_row_and_the_rest_are_done(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    inputs = _cohort(tmp_path, short="n2")  # the others finish before n2 kills a worker
    out = tmp_path / "out"
    monkeypatch.setenv(FAULT_ENV, "n2")  # the worker processing n2 exits at once
    scheduler_log = _Lines()
    scheduler_logger = logging.getLogger("distributed.scheduler")
    scheduler_logger.addHandler(scheduler_log)
    # an earlier CLI run in this process quieted Dask's loggers (quiet_dask_logging)
    monkeypatch.setattr(scheduler_logger, "level", logging.INFO)
    with (
        contextlib.ExitStack() as stack,
        dask.config.set({"distributed.scheduler.allowed-failures": 1}),
        distributed.LocalCluster(
            n_workers=2, threads_per_worker=1, processes=True, dashboard_address=None
        ) as cluster,
    ):
        result = subprocess.run(
            [BIN / "jerkcount", "batch", inputs, "--out", out, "--tz", "UTC", "--scheduler",
             cluster.scheduler_address], capture_output=True, text=True, timeout=300,
        )  # fmt: skip
        stack.callback(scheduler_logger.removeHandler, scheduler_log)
    assert result.returncode == 1, result.stderr
    assert result.stdout.startswith("4 recording(s): 3 ok, 0 skipped (up to date), 1 failed")
    # the scheduler saw n2's two workers die (a real death, not an error raised)
    assert any("marked as failed because 2 workers died" in m for m in scheduler_log.lines)
    warning, *error = result.stderr.splitlines()
    # n2, and any night queued on a worker it killed: each run again alone
    assert re.fullmatch(r"jerkcount: WARNING: workers died on the cluster; running [1-4] "
                        r"recording\(s\) again one at a time", warning)  # fmt: skip
    assert len(error) == 1
    assert error[0].startswith(
        f"jerkcount: error: {inputs / 'n2.csv'}: the cluster's workers died while processing "
        "it (2 tried; killed, or out of memory?), the last tcp://127.0.0.1:"
    )
    rows = _rows(out)
    assert list(rows["status"]) == ["ok", "failed", "ok", "ok"]
    assert rows.loc["n2", "error"] == error[0].removeprefix("jerkcount: error: ")
    for name in ("n1", "n3", "n4"):
        assert sorted(p.name for p in (out / name).iterdir()) == sorted(FILE_NAMES.values())
    assert not (out / "n2").exists()


def _run_until_n2_is_left(command: list, address: str, out: Path) -> subprocess.Popen:
    """Start the batch ``command`` on the scheduler at ``address`` (whose worker holds n2)
    and return it, running, once n1, n3 and n4 are complete in ``out``."""
    run = subprocess.Popen([*command, "--scheduler", address], stdout=subprocess.PIPE,
                           stderr=subprocess.PIPE, text=True)  # fmt: skip
    deadline = time.monotonic() + 120
    while not all((out / n / FILE_NAMES["json"]).exists() for n in ("n1", "n3", "n4")):
        assert run.poll() is None and time.monotonic() < deadline, run.communicate()
        time.sleep(0.1)
    return run


def test_a_lost_scheduler_ends_the_batch_in_one_line_and_the_same_command_resumes(
    tmp_path: Path,
) -> None:
    inputs = _cohort(tmp_path)
    out = tmp_path / "out"
    command = [BIN / "jerkcount", "batch", inputs, "--out", out, "--tz", "UTC"]
    with _scheduler(tmp_path) as (address, scheduler):
        # n2 waits in one thread, staged, until killed; the other thread does the rest
        with _worker(address, env={HOLD_ENV: "n2"}, threads=2):
            run = _run_until_n2_is_left(command, address, out)
            assert (out / STAGING / "n2").is_dir()
            scheduler.kill()
            stdout, stderr = run.communicate(timeout=120)
    assert run.returncode == 1
    assert stdout == (
        "4 recording(s): 3 ok, 0 skipped (up to date), 1 failed -> "
        f"{out}/ (cohort_daily_summary.csv, recordings.csv, errors.csv)\n"
    )
    assert stderr == (
        f"jerkcount: error: --scheduler: lost the connection to the scheduler at {address} "
        "with 1 recording(s) not done (failed rows in recordings.csv); the finished ones are "
        "complete, the same command does the rest\n"
    )
    rows = _rows(out)
    assert list(rows["status"]) == ["ok", "failed", "ok", "ok"]
    assert rows.loc["n2", "error"] == (
        f"{inputs / 'n2.csv'}: not processed: lost the connection to the Dask scheduler at "
        f"{address}"
    )
    assert not (out / "n2").exists()

    with _scheduler(tmp_path) as (address, _), _worker(address):
        again = subprocess.run([*command, "--scheduler", address], capture_output=True,
                               text=True, timeout=300)  # fmt: skip
    assert again.returncode == 0, again.stderr
    assert again.stdout.startswith("4 recording(s): 1 ok, 3 skipped (up to date), 0 failed")
    assert again.stderr == ""
    assert list(_rows(out)["status"]) == ["skipped", "ok", "skipped", "skipped"]
    assert (out / "n2" / FILE_NAMES["json"]).is_file()
    assert not (out / STAGING).exists()


def _namespace_prefix(hidden: Path) -> tuple[str, ...]:
    """A command prefix that runs a program where ``hidden`` is an empty file system (a
    mount namespace of its own); skips where this system cannot make one."""
    unshare = shutil.which("unshare")
    if unshare is None:
        pytest.skip("needs util-linux's unshare for a worker without the shared files")
    inner = 'mount -t tmpfs none "$0" && exec "$@"'
    prefix = (unshare, "--user", "--map-root-user", "--mount", "sh", "-c", inner, str(hidden))
    probe = subprocess.run([*prefix, "true"], capture_output=True, text=True)
    if probe.returncode != 0:
        pytest.skip(f"this system cannot make a mount namespace: {probe.stderr.strip()}")
    return prefix


def test_a_worker_that_does_not_see_the_files_stops_the_batch_before_any_task(
    tmp_path: Path,
) -> None:
    inputs = _cohort(tmp_path / "data")
    out = tmp_path / "data" / "out"
    prefix = _namespace_prefix(tmp_path / "data")
    with _scheduler(tmp_path) as (address, _), _worker(address, prefix=prefix) as worker:
        with distributed.Client(address) as client:
            name = next(iter(client.scheduler_info()["workers"]))
        result = _batch(inputs, "--out", out, "--scheduler", address)
        assert worker.poll() is None
    assert result.exit_code == 2
    assert result.stderr == (
        f"jerkcount: error: --scheduler: worker {name} does not see the input "
        f"{inputs / 'n1.csv'}: the inputs and --out must be on a file system every worker "
        "sees at the same path\n"
    )
    assert result.stdout == ""
    assert not out.exists()  # made for the check, and removed again


def test_a_worker_that_sees_the_inputs_but_not_out_is_named(tmp_path: Path) -> None:
    inputs = _cohort(tmp_path / "data")
    out = tmp_path / "elsewhere" / "out"
    (tmp_path / "elsewhere").mkdir()
    prefix = _namespace_prefix(tmp_path / "elsewhere")
    with _scheduler(tmp_path) as (address, _), _worker(address, prefix=prefix):
        result = _batch(inputs, "--out", out, "--scheduler", address)
    assert result.exit_code == 2
    assert result.stderr.startswith("jerkcount: error: --scheduler: worker tcp://")
    assert result.stderr.endswith(
        f" does not see --out {out}: the inputs and --out must be on a file system every "
        "worker sees at the same path\n"
    )
    assert list((tmp_path / "elsewhere").iterdir()) == []


def test_a_worker_with_another_jerkcount_version_stops_the_batch(tmp_path: Path) -> None:
    """A worker whose Python finds another jerkcount first (a copy of this one, its
    version string changed) is named with both versions; nothing is processed."""
    other = tmp_path / "other-install"
    for part in ("pipeline", "sim", "firmware_bridge"):
        shutil.copytree(REPO / part, other / part, ignore=shutil.ignore_patterns("__pycache__"))
    shutil.copy(REPO / "cli.py", other / "cli.py")
    init = other / "pipeline" / "__init__.py"
    init.write_text(init.read_text().replace(f'"{__version__}"', '"0.0.1"'))
    inputs = _cohort(tmp_path)
    out = tmp_path / "out"
    with _scheduler(tmp_path) as (address, _), _worker(address, env={"PYTHONPATH": str(other)}):
        result = _batch(inputs, "--out", out, "--scheduler", address)
    assert result.exit_code == 2
    assert result.stderr.startswith("jerkcount: error: --scheduler: worker tcp://127.0.0.1:")
    assert result.stderr.endswith(
        f" runs jerkcount 0.0.1, this machine {__version__}: install the same version on "
        "every worker (the results must not depend on the worker)\n"
    )
    assert not out.exists()


def test_a_scheduler_without_workers_is_one_line_not_a_wait_for_ever(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(dask_engine, "WORKERS_TIMEOUT_S", 1.0)
    inputs = _cohort(tmp_path)
    out = tmp_path / "out"
    with _scheduler(tmp_path) as (address, _):
        result = _batch(inputs, "--out", out, "--scheduler", address)
    assert result.exit_code == 2
    assert result.stderr == (
        f"jerkcount: error: --scheduler: the scheduler at {address} has no workers (waited 1 s)\n"
    )
    assert not out.exists()


@pytest.mark.parametrize(
    ("address", "why"),
    [
        ("127.0.0.1", "missing port number in address '127.0.0.1'"),
        ("tls://127.0.0.1:8799", "TLS needs the cluster's certificates in Dask's "
         "configuration (distributed.comm.tls.ca-file, distributed.comm.tls.client.cert and "
         "distributed.comm.tls.client.key)"),
    ],
)  # fmt: skip
def test_an_address_that_cannot_be_used_is_one_line(tmp_path: Path, address: str, why: str) -> None:
    inputs = _cohort(tmp_path)
    out = tmp_path / "out"
    result = _batch(inputs, "--out", out, "--scheduler", address)
    assert result.exit_code == 2
    assert result.stderr == f"jerkcount: error: --scheduler: cannot connect to {address}: {why}\n"
    assert not out.exists()


def test_an_interrupted_cluster_batch_says_what_is_done_and_the_same_command_resumes(
    tmp_path: Path,
) -> None:
    """SIGTERM (a job scheduler's time limit) while the cluster holds one night: status
    130 at once, the finished nights' folders complete, no cohort tables, no folder for
    the night that was running; the same command does only that one."""
    inputs = _cohort(tmp_path)
    out = tmp_path / "out"
    command = [BIN / "jerkcount", "batch", inputs, "--out", out, "--tz", "UTC"]
    with _scheduler(tmp_path) as (address, _):
        with _worker(address, env={HOLD_ENV: "n2"}, threads=2):
            run = _run_until_n2_is_left(command, address, out)
            time.sleep(0.5)  # the client has taken the three results
            began = time.monotonic()
            run.terminate()
            stdout, stderr = run.communicate(timeout=60)
            took = time.monotonic() - began
        assert run.returncode == 130
        assert took < 20, took  # not after the held night
        assert stdout == ""
        assert stderr == (
            f"jerkcount: interrupted: 3 of 4 recording(s) done or up to date in {out}/; the "
            "same command does the rest\n"
        )
        assert sorted(p.name for p in out.iterdir()) == [STAGING, "n1", "n3", "n4"]
        with _worker(address):  # the held worker is gone; a new one does the rest
            again = subprocess.run([*command, "--scheduler", address], capture_output=True,
                                   text=True, timeout=300)  # fmt: skip
    assert again.returncode == 0, again.stderr
    assert again.stdout.startswith("4 recording(s): 1 ok, 3 skipped (up to date), 0 failed")
    assert (out / "n2" / FILE_NAMES["json"]).is_file()
    assert not (out / STAGING).exists()


def test_a_worker_that_cannot_import_jerkcount_stops_the_batch(tmp_path: Path) -> None:
    """A worker whose Python finds no working jerkcount (here a ``pipeline`` package on
    its PYTHONPATH that fails to import, as a broken or missing install does)."""
    broken = tmp_path / "broken-install" / "pipeline"
    broken.mkdir(parents=True)
    (broken / "__init__.py").write_text('raise ImportError("no jerkcount in this environment")\n')
    inputs = _cohort(tmp_path)
    out = tmp_path / "out"
    with (
        _scheduler(tmp_path) as (address, _),
        _worker(address, env={"PYTHONPATH": str(broken.parent)}),
    ):
        result = _batch(inputs, "--out", out, "--scheduler", address)
    assert result.exit_code == 2, result.output
    assert result.stderr == (
        "jerkcount: error: --scheduler: a worker cannot run jerkcount's tasks (ImportError('no "
        f"jerkcount in this environment')); install jerkcount {__version__} on every worker\n"
    )
    assert not out.exists()
