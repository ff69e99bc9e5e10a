"""Fixes of a tester's findings: folders that cannot be listed, resume by sha256, a
summary.json kept beside recordings, a cluster's warnings, --out that cannot be made."""

from __future__ import annotations

import dataclasses
import gzip
import logging
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pandas as pd
import pytest
from click.testing import CliRunner

from cli import main
from pipeline import batch as batch_mod
from pipeline import dask_engine
from pipeline.errors import InputError
from pipeline.inputs import (
    OUTPUT_EVENTS,
    OUTPUT_SUMMARY,
    find_inputs,
    is_output_folder,
    search_inputs,
)
from pipeline.process import FILE_NAMES
from pipeline.writer import write_samples_csv
from sim import NightConfig, simulate_night

DENIED = "permission denied"
REPO = Path(__file__).resolve().parents[1]
START = 1774735200.0  # 2026-03-28T23:00:00+01:00
#: no capability that reads or writes past permission bits: root as a plain user
NO_DAC = ["setpriv", "--bounding-set=-dac_override,-dac_read_search",
          "--inh-caps=-dac_override,-dac_read_search"]  # fmt: skip


def _night(path: Path, seed: int, day: int = 0) -> Path:
    night = simulate_night(
        NightConfig(hours=0.1, fs=50.0, seed=seed, rate_per_hour=150, start=START + 86400 * day)
    )
    path.parent.mkdir(parents=True, exist_ok=True)
    write_samples_csv(path, night.time, night.acc, night.metadata())
    return path


def _run(*args: str | Path):
    result = CliRunner().invoke(main, [str(a) for a in args])
    if result.exception and not isinstance(result.exception, SystemExit):
        raise result.exception
    return result


def _csv(path: Path) -> pd.DataFrame:
    return pd.read_csv(path, dtype=str, keep_default_na=False)


def _as_user() -> list[str]:
    """The prefix that makes a command obey permission bits (root: ``setpriv``)."""
    if os.geteuid() != 0:
        return []
    if shutil.which("setpriv") is None:
        pytest.skip("root without setpriv: permission bits are not enforced")
    return NO_DAC


def _cli(*args: str | Path, prefix: list[str] | None = None) -> subprocess.CompletedProcess:
    """``jerkcount ARGS`` in a process of its own (its real stderr and logging)."""
    cmd = [*(prefix or []), sys.executable, "-m", "cli", *map(str, args)]
    return subprocess.run(cmd, cwd=REPO, capture_output=True, text=True, timeout=300)


@pytest.fixture
def locked(tmp_path: Path):
    """``c2/P01/a.csv`` and ``c2/P05/b.csv`` with ``c2/P05`` mode 000."""
    root = tmp_path / "c2"
    _night(root / "P01" / "a.csv", 1)
    _night(root / "P05" / "b.csv", 2, 1)
    (root / "P05").chmod(0)
    yield root
    (root / "P05").chmod(0o755)


# --------------------------------------------------------------- 1: unreadable folders
def test_a_folder_that_cannot_be_listed_is_reported(locked: Path, tmp_path: Path) -> None:
    """The real thing (as root, without the capabilities that pass over permissions):
    batch gives the folder a failed row and exit 1, for a folder and a glob alike;
    process stops with one line naming it."""
    user = _as_user()
    folder = locked / "P05"
    line = (f"jerkcount: error: {folder}: folder cannot be listed (permission denied); "
            "the recordings in it are not in this batch")  # fmt: skip
    for k, given in enumerate([locked, f"{locked}/**/*.csv"]):
        out = tmp_path / f"b{k}"
        res = _cli("batch", given, "--out", out, "--tz", "UTC", "--jobs", "1", prefix=user)
        assert res.returncode == 1, res.stderr
        assert res.stderr.splitlines() == [line]
        assert "2 recording(s): 1 ok, 0 skipped (up to date), 1 failed" in res.stdout
        errors = _csv(out / "errors.csv")
        assert errors.to_dict("list") == {"recording": [str(folder)], "error": [line[18:]]}
        rows = _csv(out / "recordings.csv").set_index("recording")["status"].to_dict()
        assert rows == {str(locked / "P01" / "a.csv"): "ok", str(folder): "failed"}
    res = _cli("process", locked, "--out", tmp_path / "p", "--tz", "UTC", prefix=user)
    assert res.returncode == 2
    assert res.stderr == f"jerkcount: error: {folder}: folder cannot be listed ({DENIED})\n"
    assert not (tmp_path / "p").exists()


def test_a_folder_that_cannot_be_listed_without_setpriv(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The same with the listing made to fail here (os.walk and glob both list with
    os.scandir, and both pass over its errors in silence)."""
    root = tmp_path / "c2"
    ok = _night(root / "P01" / "a.csv", 1)
    _night(root / "P05" / "deep" / "b.csv", 2, 1)
    real = os.scandir

    def scandir(path: str | Path = ".") -> object:
        if Path(path).name == "P05":
            raise PermissionError(13, "Permission denied", str(path))
        return real(path)

    monkeypatch.setattr(os, "scandir", scandir)
    for given in (root, f"{root}/**/*.csv", f"{root}/*/*/*.csv"):
        found = search_inputs([given])
        assert found.paths == ([ok] if "/*/*/" not in str(given) else [])
        assert [(u.folder, u.reason) for u in found.unlisted] == [
            (root / "P05", "permission denied")
        ]
        with pytest.raises(InputError, match=f"^{root / 'P05'}: folder cannot be listed "
                           r"\(permission denied\)$"):  # fmt: skip
            find_inputs([given])
    assert search_inputs([f"{root}/P01/*.csv"]).unlisted == []  # a glob that never goes there


# --------------------------------------------------------------- 2: resume by sha256
def test_resume_redoes_a_changed_file_whose_size_and_mtime_were_kept(tmp_path: Path) -> None:
    """A corrected file copied with `cp -p` or `rsync -a`: one byte differs, the size
    and mtime are those of the old one. It is redone; the unchanged one is skipped."""
    first = _night(tmp_path / "in" / "n1.csv", 1)
    _night(tmp_path / "in" / "n2.csv", 2, 1)
    out = tmp_path / "out"
    assert _run("batch", tmp_path / "in", "--out", out, "--jobs", "1").exit_code == 0
    st = first.stat()
    data = bytearray(first.read_bytes())
    at = data.rindex(b",0.")  # a digit of the last sample's last axis
    data[at + 3] = ord("9") if data[at + 3] != ord("9") else ord("8")
    first.write_bytes(bytes(data))
    os.utime(first, ns=(st.st_atime_ns, st.st_mtime_ns))
    assert first.stat().st_size == st.st_size and first.stat().st_mtime_ns == st.st_mtime_ns
    res = _run("batch", tmp_path / "in", "--out", out, "--jobs", "1")
    assert res.exit_code == 0, res.output
    status = _csv(out / "recordings.csv").set_index("output")["status"].to_dict()
    assert status == {"n1": "ok", "n2": "skipped"}


# --------------------------------------------------------------- 3: output folders
def test_a_summary_json_alone_does_not_make_an_output_folder(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    """A coordinator's summary.json kept beside a night (to reuse with --params): the
    folder is searched. A real output folder is left out, and named with -v; named on
    the command line it is searched (its tables are then skipped one by one)."""
    assert (OUTPUT_SUMMARY, OUTPUT_EVENTS) == (FILE_NAMES["json"], FILE_NAMES["events"])
    night = _night(tmp_path / "mv" / "x" / "night.csv", 1)
    done = tmp_path / "done"
    assert _run("process", night, "--out", done, "--tz", "UTC").exit_code == 0
    shutil.copy(done / "summary.json", night.parent / "summary.json")

    res = _run("process", night.parent, "--out", tmp_path / "p", "--tz", "UTC")
    assert res.exit_code == 0, res.output
    res = _run("batch", tmp_path / "mv", "--out", tmp_path / "b", "--jobs", "1", "--tz", "UTC")
    assert res.exit_code == 0, res.output
    assert "1 recording(s): 1 ok" in res.stdout
    assert not is_output_folder(night.parent) and is_output_folder(done)

    inside = tmp_path / "mv" / "old"
    shutil.copytree(done, inside)
    hidden = _night(tmp_path / "mv" / ".trash" / "n.csv", 3)
    with caplog.at_level(logging.INFO, logger="pipeline.inputs"):
        assert find_inputs([tmp_path / "mv"]) == [night]
    assert f"{inside}: skipped: a jerkcount output folder (summary.json and events.csv it " \
           "wrote)" in caplog.messages  # fmt: skip
    assert f"{hidden.parent}: skipped: a hidden folder" in caplog.messages
    with pytest.raises(InputError, match=r"\(4 jerkcount output table\(s\) skipped\)"):
        find_inputs([inside])  # named: searched, and it holds no recording


# --------------------------------------------------------------- 4: a cluster's warnings
def _unclean(folder: Path) -> dict[str, str]:
    """A truncated .csv.gz and a .csv with a torn last line; the warning line of each."""
    whole = _night(folder / "whole.csv", 1)
    gz = folder / "cut.csv.gz"
    packed = gzip.compress(whole.read_bytes())
    gz.write_bytes(packed[: len(packed) - 4000])
    torn = folder / "torn.csv"
    _night(torn, 2, 1)
    text = torn.read_bytes()
    torn.write_bytes(text[: text.rindex(b",")])  # the last line cut inside its values
    whole.unlink()
    return {
        "cut": f"jerkcount: WARNING: {gz}: gzip data is truncated; reading what is there",
        "torn": f"jerkcount: WARNING: {torn}: dropped a torn last line",
    }


def _warnings(stderr: str) -> list[str]:
    return sorted(line for line in stderr.splitlines() if ": WARNING: " in line)


def test_a_clusters_warnings_reach_the_user(tmp_path: Path) -> None:
    """With --scheduler the reader's warnings are printed by the client, the same lines
    as with --jobs 2."""
    distributed = pytest.importorskip("distributed")
    expected = _unclean(tmp_path / "in")
    local = _cli("batch", tmp_path / "in", "--out", tmp_path / "j", "--tz", "UTC", "--jobs", "2")
    assert local.returncode == 0, local.stderr
    with distributed.LocalCluster(
        n_workers=2, threads_per_worker=1, processes=True, dashboard_address=None
    ) as cluster:
        res = _cli("batch", tmp_path / "in", "--out", tmp_path / "d", "--tz", "UTC",
                   "--scheduler", cluster.scheduler_address)  # fmt: skip
    assert res.returncode == 0, res.stderr
    got = _warnings(res.stderr)
    assert got == _warnings(local.stderr)
    assert expected["cut"] in got  # (and the cut file's torn last line)
    assert any(line.startswith(expected["torn"] + " ") for line in got)


def test_replayed_lines_are_only_the_recordings_own() -> None:
    """A worker running several recordings at once: each keeps the warnings of its own
    thread and those (of helper threads) naming its file, not another's."""
    log = logging.getLogger("pipeline.reader")

    def record(path: str) -> logging.LogRecord:
        return log.makeRecord(log.name, logging.WARNING, "f", 1, "%s: torn", (path,), None)

    mine = batch_mod._Capture("/data/a.csv")
    other = batch_mod._Capture("/data/b.csv")
    other.thread = -1  # another task's thread
    for capture in (mine, other):
        capture.emit(record("/data/a.csv"))
        capture.emit(record("/data/c.csv"))  # logged by this thread: mine
    line = batch_mod.LogLine("pipeline.reader", logging.WARNING, "/data/a.csv: torn")
    assert other.lines == []
    assert mine.lines == [line, dataclasses.replace(line, message="/data/c.csv: torn")]


# --------------------------------------------------------------- 5: --out
def test_an_unreachable_scheduler_leaves_no_out_folder(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    pytest.importorskip("distributed")
    monkeypatch.setattr(dask_engine, "CONNECT_TIMEOUT", "1s")
    _night(tmp_path / "in" / "n.csv", 1)
    out = tmp_path / "out"
    res = _run("batch", tmp_path / "in", "--out", out, "--scheduler", "tcp://127.0.0.1:8798")
    assert res.exit_code == 2
    assert res.stderr.startswith("jerkcount: error: --scheduler: cannot connect to "
                                 "tcp://127.0.0.1:8798: ")  # fmt: skip
    assert not out.exists()


def test_an_out_that_cannot_be_written_is_one_line(tmp_path: Path) -> None:
    """A read-only --out (or one to be made in a read-only folder): one line naming it,
    exit 2, before a recording is read; nothing is left in it."""
    user = _as_user()
    _night(tmp_path / "in" / "n1.csv", 1)
    _night(tmp_path / "in" / "n2.csv", 2, 1)
    ro = tmp_path / "ro"
    ro.mkdir()
    ro.chmod(0o555)
    try:
        for out in (ro, ro / "sub"):
            res = _cli("batch", tmp_path / "in", "--out", out, "--tz", "UTC", prefix=user)
            assert res.returncode == 2
            assert res.stderr == (
                f"jerkcount: error: {out}: --out cannot be written (permission denied)\n"
            )
            assert res.stdout == ""
        assert list(ro.iterdir()) == []
    finally:
        ro.chmod(0o755)


def test_a_recording_that_now_fails_says_its_folder_holds_an_earlier_run(
    tmp_path: Path,
) -> None:
    """A night processed once, then replaced by a file that cannot be read: its row is
    failed, its folder (the earlier outputs) is left as it was, and the error says so."""
    first = _night(tmp_path / "in" / "n1.csv", 1)
    _night(tmp_path / "in" / "n2.csv", 2, 1)
    out = tmp_path / "out"
    assert _run("batch", tmp_path / "in", "--out", out, "--jobs", "1").exit_code == 0
    before = (out / "n1" / "events.csv").read_bytes()
    rows = "".join(f"{START + k / 50:.2f},0,0,1\n" for k in range(5))
    first.write_text(f"time,ax,ay,az\n{rows}{START:.2f},0,0,1\n")  # time goes backwards
    res = _run("batch", tmp_path / "in", "--out", out, "--jobs", "1")
    assert res.exit_code == 1, res.output
    rows = _csv(out / "recordings.csv").set_index("recording")
    assert rows.loc[str(first), "status"] == "failed"
    assert rows.loc[str(first), "output"] == ""
    assert rows.loc[str(first), "error"] == (
        f"{first}:7: timestamp goes backwards (repeats an earlier time); its folder n1/ "
        "holds the outputs of an earlier run, left as they were"
    )
    assert (out / "n1" / "events.csv").read_bytes() == before
    assert set(_csv(out / "cohort_daily_summary.csv")["recording"]) == {
        str(tmp_path / "in" / "n2.csv")
    }
    # a recording that never had a folder gets no such note
    (tmp_path / "in" / "n3.csv").write_text("time,ax,ay,az\nx,0,0,1\n")
    res = _run("batch", tmp_path / "in", "--out", out, "--jobs", "1")
    errors = _csv(out / "errors.csv").set_index("recording")["error"]
    assert "earlier run" not in errors[str(tmp_path / "in" / "n3.csv")]
