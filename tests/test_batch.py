"""``jerkcount batch``: many short simulated nights, local processes, Dask, resume, failures."""

from __future__ import annotations

import io
import json
import os
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import pandas as pd
import pytest
from click.testing import CliRunner

from cli import main
from pipeline.batch import (
    COHORT_FILES,
    ERRORS_COLUMNS,
    FAULT_ENV,
    FAULT_EXIT,
    HOLD_ENV,
    RECORDINGS_COLUMNS,
    STAGING,
    input_root,
    output_names,
)
from pipeline.batch_progress import BatchProgress
from pipeline.process import FILE_NAMES
from pipeline.summary import DAILY_COLUMNS, HOURLY_COLUMNS
from pipeline.writer import write_samples_csv
from sim import NightConfig, simulate_night

BERLIN = "Europe/Berlin"
REPO = Path(__file__).resolve().parents[1]
START = 1774735200.0  # 2026-03-28T23:00:00+01:00
HOURS = 0.1
FS = 50.0
SAMPLES = int(round(HOURS * 3600 * FS))
#: input file (relative to the cohort folder) -> (seed, night index)
NIGHTS = {"P01/n1.csv": (1, 0), "P01/n2.csv": (2, 1), "P02/n1.csv": (3, 4)}
NAMES = {"P01/n1.csv": "P01__n1", "P01/n2.csv": "P01__n2", "P02/n1.csv": "P02__n1"}
EVENTS_COLUMNS = [
    "time", "time_local", "peak_g", "duration_ms", "axis", "peak_time", "background_g",
    "clipped", "recording",
]  # fmt: skip
ACTIVITY_COLUMNS = ["start", "end", "start_local", "end_local", "minutes", "kind"]


def _night(path: Path, seed: int, day: int) -> None:
    """A short 50 Hz night starting at 23:00 Berlin time, ``day`` days after 2026-03-28."""
    night = simulate_night(
        NightConfig(hours=HOURS, fs=FS, seed=seed, rate_per_hour=150, start=START + 86400 * day)
    )
    path.parent.mkdir(parents=True, exist_ok=True)
    write_samples_csv(path, night.time, night.acc, night.metadata())


@pytest.fixture(scope="module")
def cohort(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Three nights of two people in ``P01/`` and ``P02/``, plus a file that is not one."""
    root = tmp_path_factory.mktemp("cohort")
    for rel, (seed, day) in NIGHTS.items():
        _night(root / rel, seed, day)
    (root / "P02" / "notes.txt").write_text("not a recording\n")
    return root


def _copy(cohort: Path, dest: Path) -> Path:
    shutil.copytree(cohort, dest)
    return dest


def _run(*args: str | Path):
    result = CliRunner().invoke(main, [str(a) for a in args])
    if result.exception and not isinstance(result.exception, SystemExit):
        raise result.exception
    return result


def _batch(inputs: list[str | Path], out: Path, *extra: str | Path):
    return _run("batch", *inputs, "--out", out, "--tz", BERLIN, *extra)


def _csv(path: Path) -> pd.DataFrame:
    return pd.read_csv(path, dtype=str, keep_default_na=False)


def _tree(out: Path) -> dict[str, object]:
    """Every file below ``out`` (hidden ones excluded), content without run-specific fields."""
    files: dict[str, object] = {}
    for p in sorted(out.rglob("*")):
        rel = p.relative_to(out).as_posix()
        if not p.is_file() or rel.startswith("."):
            continue
        if p.name == "summary.json":
            data = json.loads(p.read_text())
            data.pop("created_utc")
            files[rel] = data
        elif p.name == COHORT_FILES["recordings"]:
            files[rel] = _csv(p).drop(columns="seconds").to_dict("list")
        else:
            files[rel] = p.read_bytes()
    return files


def _mtimes(out: Path) -> dict[str, int]:
    return {
        p.relative_to(out).as_posix(): p.stat().st_mtime_ns
        for p in out.rglob("*")
        if p.is_file() and p.parent != out
    }


@pytest.fixture(scope="module")
def reference(cohort: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The cohort run with ``--jobs 1``, a folder and a glob as inputs."""
    out = tmp_path_factory.mktemp("reference") / "out"
    result = _batch([cohort / "P01", f"{cohort}/P02/*.csv"], out, "--jobs", "1")
    assert result.exit_code == 0, result.output
    assert result.stdout.strip().endswith(
        "3 recording(s): 3 ok, 0 skipped (up to date), 0 failed -> "
        f"{out}/ (cohort_daily_summary.csv, recordings.csv, errors.csv)"
    )
    assert result.stderr == ""  # no progress bar and no errors in a pipe
    return out


def test_outputs_and_cohort_tables(reference: Path, cohort: Path, tmp_path: Path) -> None:
    assert sorted(p.name for p in reference.iterdir()) == sorted(
        [*NAMES.values(), *COHORT_FILES.values()]
    )
    events_total = {}
    for rel, name in NAMES.items():
        folder = reference / name
        assert sorted(p.name for p in folder.iterdir()) == sorted(FILE_NAMES.values())
        events = _csv(folder / "events.csv")
        assert list(events.columns) == EVENTS_COLUMNS
        assert set(events["recording"]) == {str(cohort / rel)}
        assert list(_csv(folder / "activity.csv").columns) == ACTIVITY_COLUMNS
        assert list(_csv(folder / "daily_summary.csv").columns) == DAILY_COLUMNS
        assert list(_csv(folder / "hourly.csv").columns) == HOURLY_COLUMNS
        summary = json.loads((folder / "summary.json").read_text())
        block = summary["batch"]
        assert block["input"] == str(cohort / rel)
        assert block["size_bytes"] == (cohort / rel).stat().st_size
        assert block["sha256"] == summary["recordings"][0]["sha256"]
        assert block["params"]["tz"] == BERLIN
        events_total[rel] = len(events)

    # a batch folder holds exactly what `process` writes for the same file
    single = tmp_path / "single"
    result = _run("process", cohort / "P01" / "n2.csv", "--out", single, "--tz", BERLIN)
    assert result.exit_code == 0, result.output
    for name in ("events.csv", "activity.csv", "daily_summary.csv", "hourly.csv"):
        assert (single / name).read_bytes() == (reference / "P01__n2" / name).read_bytes()

    recordings = _csv(reference / "recordings.csv")
    assert list(recordings.columns) == RECORDINGS_COLUMNS
    assert recordings.drop(columns="seconds").to_dict("records") == [
        {
            "recording": str(cohort / rel),
            "status": "ok",
            "output": NAMES[rel],
            "nights": "1",
            "jerks": str(events_total[rel]),
            "samples": str(SAMPLES),
            "hours": "0.1000",
            "error": "",
        }
        for rel in NIGHTS
    ]
    assert all(float(s) > 0 for s in recordings["seconds"])
    assert all(n > 5 for n in events_total.values())  # 150 jerks/h for 6 minutes

    cohort_daily = _csv(reference / "cohort_daily_summary.csv")
    assert list(cohort_daily.columns) == ["recording", *DAILY_COLUMNS]
    expected = pd.concat(
        [
            _csv(reference / name / "daily_summary.csv").assign(recording=str(cohort / rel))
            for rel, name in NAMES.items()
        ],
        ignore_index=True,
    )[["recording", *DAILY_COLUMNS]]
    pd.testing.assert_frame_equal(cohort_daily, expected)
    assert list(cohort_daily["day"]) == ["2026-03-28", "2026-03-29", "2026-04-01"]
    assert list(cohort_daily["jerks"]) == [str(events_total[rel]) for rel in NIGHTS]
    assert (reference / "errors.csv").read_text() == ",".join(ERRORS_COLUMNS) + "\n"
    assert not (reference / STAGING).exists()


def test_jobs_2_identical_to_jobs_1(reference: Path, cohort: Path, tmp_path: Path) -> None:
    out = tmp_path / "out"
    result = _batch([cohort], out, "--jobs", "2")
    assert result.exit_code == 0, result.output
    assert _tree(out) == _tree(reference)


def test_dask_cluster_identical_to_jobs_1(reference: Path, cohort: Path, tmp_path: Path) -> None:
    distributed = pytest.importorskip("distributed")
    out = tmp_path / "out"
    with distributed.LocalCluster(
        n_workers=2, threads_per_worker=1, processes=True, dashboard_address=None
    ) as cluster:
        result = _batch([cohort], out, "--scheduler", cluster.scheduler_address)
    assert result.exit_code == 0, result.output
    assert _tree(out) == _tree(reference)


def test_bad_files_reported_and_skipped(cohort: Path, tmp_path: Path) -> None:
    inputs = _copy(cohort, tmp_path / "in")
    bad = inputs / "P02" / "bad.csv"
    bad.write_text("time,ax,ay,az\n1774735200.00,0.0,0.0,1.0\n1774735200.02,0.0,oops,1.0\n")
    empty = inputs / "P01" / "empty.csv"
    empty.write_text("")
    out = tmp_path / "out"
    result = _batch([inputs], out, "--jobs", "1")
    assert result.exit_code == 1
    err_lines = result.stderr.splitlines()
    assert len(err_lines) == 2
    assert f"jerkcount: error: {bad}:3: " in result.stderr
    assert f"jerkcount: error: {empty}: " in result.stderr
    assert "1 failed" not in result.stdout and "2 failed" in result.stdout

    recordings = _csv(out / "recordings.csv").set_index("recording")
    assert recordings.loc[str(bad), "status"] == "failed"
    assert recordings.loc[str(empty), "status"] == "failed"
    assert recordings.loc[str(bad), "output"] == ""
    assert list(recordings["status"]).count("ok") == 3
    errors = _csv(out / "errors.csv")
    assert list(errors.columns) == ERRORS_COLUMNS
    assert list(errors["recording"]) == [str(empty), str(bad)]
    assert errors["error"][1].startswith(f"{bad}:3: ")
    assert sorted(f"jerkcount: error: {e}" for e in errors["error"]) == sorted(err_lines)
    assert len(_csv(out / "cohort_daily_summary.csv")) == 3
    assert not (out / "P02__bad").exists()


def test_resume_skips_unchanged_redoes_changed_and_force(cohort: Path, tmp_path: Path) -> None:
    inputs = _copy(cohort, tmp_path / "in")
    out = tmp_path / "out"
    assert _batch([inputs], out, "--jobs", "1").exit_code == 0
    first = _csv(out / "recordings.csv")
    before = _mtimes(out)

    again = _batch([inputs], out, "--jobs", "1")
    assert again.exit_code == 0
    assert "0 ok, 3 skipped" in again.stdout
    second = _csv(out / "recordings.csv")
    assert list(second["status"]) == ["skipped"] * 3
    cols = ["recording", "output", "nights", "jerks", "samples", "hours"]
    assert second[cols].equals(first[cols])
    assert _mtimes(out) == before  # not one output file rewritten

    # a new night in P01/n2.csv; P02/n1.csv touched but unchanged (same sha256)
    _night(inputs / "P01" / "n2.csv", 99, 1)
    os.utime(inputs / "P02" / "n1.csv", ns=(1_700_000_000 * 10**9, 1_700_000_000 * 10**9))
    (out / "P01__n1" / "report.html").unlink()  # an incomplete folder is redone
    third = _batch([inputs], out, "--jobs", "1")
    assert third.exit_code == 0
    statuses = dict(zip(*_csv(out / "recordings.csv")[["output", "status"]].T.values, strict=True))
    assert statuses == {"P01__n1": "ok", "P01__n2": "ok", "P02__n1": "skipped"}
    after = _mtimes(out)
    assert all(after[k] == v for k, v in before.items() if k.startswith("P02__n1/"))
    assert all(after[k] != v for k, v in before.items() if k.startswith("P01__n2/"))
    new_events = _csv(out / "P01__n2" / "events.csv")
    old_jerks = first.set_index("output").loc["P01__n2", "jerks"]
    assert _csv(out / "recordings.csv").set_index("output").loc["P01__n2", "jerks"] == str(
        len(new_events)
    )
    assert str(len(new_events)) != old_jerks

    # other parameters redo everything, and so does --force
    assert "3 ok, 0 skipped" in _batch([inputs], out, "--jobs", "1", "--day-start", "18:00").stdout
    assert "3 ok, 0 skipped" in _batch([inputs], out, "--jobs", "1", "--day-start", "18:00",
                                       "--force").stdout  # fmt: skip
    assert "0 ok, 3 skipped" in _batch([inputs], out, "--jobs", "1", "--day-start", "18:00").stdout


def test_interrupted_batch_is_redone_on_resume(cohort: Path, tmp_path: Path) -> None:
    inputs = _copy(cohort, tmp_path / "in")
    out = tmp_path / "out"
    cmd = [sys.executable, "-m", "cli", "batch", str(inputs), "--out", str(out), "--tz", BERLIN]
    env = {**os.environ, FAULT_ENV: "P01__n2"}
    # the whole batch dies after P01__n2's files are written, before they are moved in place
    killed = subprocess.run([*cmd, "--jobs", "1"], env=env, cwd=REPO, capture_output=True)
    assert killed.returncode == FAULT_EXIT, killed.stderr
    assert not (out / "P01__n2").exists()
    staged = out / STAGING / "P01__n2"
    assert sorted(p.name for p in staged.iterdir()) == sorted(FILE_NAMES.values())
    assert not (out / "recordings.csv").exists()
    done_before = {p.name for p in out.iterdir() if not p.name.startswith(".")}
    assert done_before < set(NAMES.values()) - {"P01__n2"}  # ran longest first; some done

    resumed = _batch([inputs], out, "--jobs", "1")
    assert resumed.exit_code == 0, resumed.output
    recordings = _csv(out / "recordings.csv").set_index("output")
    assert recordings.loc["P01__n2", "status"] == "ok"  # redone, not taken as done
    for name in set(NAMES.values()) - {"P01__n2"}:
        assert recordings.loc[name, "status"] == ("skipped" if name in done_before else "ok")
    assert not (out / STAGING).exists()
    assert sorted(p.name for p in (out / "P01__n2").iterdir()) == sorted(FILE_NAMES.values())


def test_dying_worker_fails_only_its_recording(
    cohort: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv(FAULT_ENV, "P02__n1")  # inherited by the spawned workers
    out = tmp_path / "out"
    result = _batch([cohort], out, "--jobs", "2")
    assert result.exit_code == 1
    recordings = _csv(out / "recordings.csv").set_index("output", drop=False)
    rows = recordings.set_index("recording")
    failed = rows.loc[str(cohort / "P02" / "n1.csv")]
    assert failed["status"] == "failed"
    assert "worker process died" in failed["error"]
    assert sorted(recordings["status"]) == ["failed", "ok", "ok"]
    assert not (out / "P02__n1").exists()
    assert result.stderr.count("jerkcount: error: ") == 1


def test_output_names_unique_and_safe(tmp_path: Path) -> None:
    paths = [
        tmp_path / "a" / "night.csv",
        tmp_path / "a" / "night.parquet",
        tmp_path / "b c" / "Nacht ä#1.csv.gz",
        tmp_path / "b c" / "x.CSV",
        tmp_path / "b c" / "X.csv",
        tmp_path / "recordings.csv.csv",
    ]
    names = output_names(paths)
    assert names[:3] == ["a__night.csv", "a__night.parquet", "b_c__Nacht_1"]
    assert names[3].startswith("b_c__x.CSV-") and names[4].startswith("b_c__X.csv-")
    assert names[5].startswith("recordings.csv-")
    assert len({n.lower() for n in names}) == len(names)
    assert output_names(paths) == names


def test_names_relative_to_the_folders_given(cohort: Path) -> None:
    # one person in the folder today, more later: the names stay the same
    assert input_root([cohort]) == cohort
    assert input_root([cohort / "P01", f"{cohort}/P02/*.csv"]) == cohort
    assert input_root([cohort / "P01" / "n1.csv"]) == cohort / "P01"
    assert output_names([cohort / "P01" / "n1.csv"], input_root([cohort])) == ["P01__n1"]
    assert output_names([cohort / "P01" / "n1.csv"]) == ["n1"]


def test_usage_errors_exit_2(cohort: Path, tmp_path: Path) -> None:
    out = tmp_path / "out"
    missing = _batch([tmp_path / "nope"], out)
    assert missing.exit_code == 2
    assert missing.stderr == f"jerkcount: error: {tmp_path / 'nope'}: no such file or folder\n"
    nothing = _batch([f"{tmp_path}/*.csv"], out)
    assert nothing.exit_code == 2 and "matches no file" in nothing.stderr
    assert _run("batch", cohort, "--out", out, "--tz", "Mars/Olympus").exit_code == 2
    both = _batch([cohort], out, "--jobs", "2", "--scheduler", "tcp://127.0.0.1:1")
    assert both.exit_code == 2
    assert not out.exists()


class _Tty(io.StringIO):
    def isatty(self) -> bool:
        return True


def test_progress_line_on_a_terminal() -> None:
    stream = _Tty()
    bar = BatchProgress(total=4, total_bytes=400, stream=stream)
    bar.advance(1, 100, 180_000)
    bar.message("jerkcount: error: x.csv: bad")
    line = bar.line()
    assert "1/4 recordings" in line and "samples/s" in line and "left" in line
    assert "jerkcount: error: x.csv: bad\n" in stream.getvalue()
    quiet = io.StringIO()
    BatchProgress(4, 400, quiet).advance(1, 100, 10)
    assert quiet.getvalue() == ""


def test_jobs_is_the_cores_to_use(cohort: Path, tmp_path: Path, monkeypatch) -> None:
    """``--jobs 1``: one recording at a time in one thread; one recording with cores to
    spare: this process with its helper threads; the setting is restored after."""
    import pipeline.batch as batch
    from pipeline.readahead import helper_threads

    seen: list[bool] = []
    real = batch.run_one

    def spy(task):  # noqa: ANN001, ANN202 - the task as run_one takes it
        seen.append(helper_threads())
        return real(task)

    monkeypatch.setattr(batch, "run_one", spy)
    assert helper_threads()
    plan = batch.plan_batch([cohort], tmp_path / "one", batch.ProcessParams(tz=BERLIN))
    result = batch.execute(plan, jobs=1)
    assert [o.status for o in result.outcomes] == ["ok"] * 3
    assert seen == [False, False, False] and helper_threads()
    seen.clear()
    plan = batch.plan_batch([cohort / "P02" / "n1.csv"], tmp_path / "two",
                            batch.ProcessParams(tz=BERLIN))  # fmt: skip
    batch.execute(plan, jobs=2)
    assert seen == [True] and helper_threads()


def _children(pid: int) -> set[int]:
    """The processes whose parent is ``pid`` (from /proc)."""
    out = set()
    for proc in Path("/proc").iterdir():
        if proc.name.isdigit():
            try:
                stat = (proc / "stat").read_text()
            except OSError:
                continue
            if int(stat.rsplit(")", 1)[1].split()[1]) == pid:
                out.add(int(proc.name))
    return out


def _alive(pids: set[int]) -> set[int]:
    """Those of ``pids`` that still run (not gone, not a zombie)."""
    alive = set()
    for pid in pids:
        try:
            state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
        except OSError:
            continue
        if state != "Z":
            alive.add(pid)
    return alive


def _held_batch(inputs: Path, out: Path) -> tuple[subprocess.Popen, set[int]]:
    """`batch --jobs 2` whose worker of P01__n2 holds with its files staged; returns
    once the two other recordings are done (their folders in place) and that one held."""
    cmd = [sys.executable, "-m", "cli", "batch", str(inputs), "--out", str(out),
           "--tz", BERLIN, "--jobs", "2"]  # fmt: skip
    env = {**os.environ, HOLD_ENV: "P01__n2"}
    proc = subprocess.Popen(cmd, env=env, cwd=REPO, stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True)  # fmt: skip
    staged = out / STAGING / "P01__n2"
    others = [out / n for n in set(NAMES.values()) - {"P01__n2"}]
    deadline = time.monotonic() + 60
    while not (
        staged.is_dir()
        and sorted(p.name for p in staged.iterdir()) == sorted(FILE_NAMES.values())
        and all(o.is_dir() for o in others)
    ):
        assert proc.poll() is None, proc.communicate()
        assert time.monotonic() < deadline, "the batch did not reach the held recording"
        time.sleep(0.05)
    time.sleep(1.0)  # the batch takes in the two results (ms after their folders appear)
    workers = _children(proc.pid)
    assert len(workers) == 2
    return proc, workers


@pytest.mark.skipif(not Path("/proc/self/stat").exists(), reason="reads /proc for workers")
def test_sigterm_stops_the_workers_at_once_and_the_batch_resumes(
    cohort: Path, tmp_path: Path
) -> None:
    """A job scheduler's SIGTERM (or kill): the batch does not wait for its queue or its
    running recordings: the workers end, what was staged is removed, one line says how
    far it got, exit 130; the same command then does the rest."""
    inputs = _copy(cohort, tmp_path / "in")
    out = tmp_path / "out"
    proc, workers = _held_batch(inputs, out)
    proc.send_signal(signal.SIGTERM)
    stdout, stderr = proc.communicate(timeout=30)
    assert proc.returncode == 130, stderr
    assert stderr.splitlines()[-1] == (
        f"jerkcount: interrupted: 2 of 3 recording(s) done or up to date in {out}/; "
        "the same command does the rest"
    )
    assert _alive(workers) == set()
    assert sorted(p.name for p in out.iterdir()) == sorted(set(NAMES.values()) - {"P01__n2"})
    resumed = _batch([inputs], out, "--jobs", "1")
    assert resumed.exit_code == 0, resumed.output
    status = _csv(out / "recordings.csv").set_index("output")["status"].to_dict()
    assert status == {"P01__n1": "skipped", "P01__n2": "ok", "P02__n1": "skipped"}


@pytest.mark.skipif(not Path("/proc/self/stat").exists(), reason="reads /proc for workers")
def test_workers_end_when_the_batch_is_killed(cohort: Path, tmp_path: Path) -> None:
    """SIGKILL (the out-of-memory killer) gives the batch no chance to stop its pool: the
    workers see their parent gone and end within a second, instead of waiting forever."""
    inputs = _copy(cohort, tmp_path / "in")
    out = tmp_path / "out"
    proc, workers = _held_batch(inputs, out)
    proc.kill()
    proc.communicate(timeout=30)
    deadline = time.monotonic() + 10
    while _alive(workers) and time.monotonic() < deadline:
        time.sleep(0.05)
    assert _alive(workers) == set()
    assert not (out / "P01__n2").exists()  # only ever staged: a resumed run redoes it
