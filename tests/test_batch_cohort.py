"""A study team's cohort: links to recordings that are gone, and what batch and process
say about them."""

from __future__ import annotations

import hashlib
import json
import logging
import os
import pty
import re
import subprocess
import sys
from pathlib import Path

import pytest

from tests.test_batch_fixes import _csv, _night, _run

BERLIN = "Europe/Berlin"
REPO = Path(__file__).resolve().parents[1]


def test_a_link_to_a_recording_that_is_gone_is_a_failed_row(tmp_path: Path) -> None:
    # a night linked from an archive that is not mounted: the batch used to pass it over
    # in silence and say every recording was ok
    nights = tmp_path / "nights"
    _night(nights / "n1.csv", 1)
    gone = tmp_path / "archive" / "n2.csv"
    (nights / "n2.csv").symlink_to(gone)
    line = f"{nights / 'n2.csv'}: is a link to {gone}, which does not exist"
    for name, inputs in (("folder", [nights]), ("glob", [f"{nights}/*.csv"])):
        out = tmp_path / name
        result = _run("batch", *inputs, "--out", out, "--tz", BERLIN, "--jobs", "1")
        assert result.exit_code == 1, result.output
        assert f"jerkcount: error: {line}" in result.output.splitlines()
        rows = _csv(out / "recordings.csv")
        assert rows["recording"].tolist() == [str(nights / "n1.csv"), str(nights / "n2.csv")]
        assert rows["status"].tolist() == ["ok", "failed"]
        assert rows["error"].tolist() == ["", line]
        errors = _csv(out / "errors.csv")
        assert errors.to_dict("list") == {"recording": [str(nights / "n2.csv")], "error": [line]}
        assert sorted(p.name for p in out.iterdir()) == [
            "cohort_daily_summary.csv", "errors.csv", "n1", "recordings.csv",
        ]  # fmt: skip
    # process combines one person's nights: one missing is an error, not a shorter trend
    result = _run("process", nights, "--out", tmp_path / "p", "--tz", BERLIN)
    assert result.exit_code == 2, result.output
    assert result.output.splitlines() == [f"jerkcount: error: {nights / 'n2.csv'}: no such file"]
    assert not (tmp_path / "p").exists()


def _files(folder: Path) -> dict[str, bytes]:
    return {p.name: p.read_bytes() for p in sorted(folder.iterdir())}


def _hash(path: Path) -> str:
    return hashlib.sha1(str(path).encode("utf-8")).hexdigest()[:8]


def test_one_folder_per_participant_into_one_out_keeps_each_ones_outputs(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    # a study adds its participants one by one into one results folder: P02's night1.csv
    # is also named night1/ there, and used to replace P01's outputs without a word
    p01 = _night(tmp_path / "study" / "P01" / "night1.csv", 1)
    p02 = _night(tmp_path / "study" / "P02" / "night1.csv", 2)
    out = tmp_path / "results"
    args = ("--out", out, "--tz", BERLIN, "--jobs", "1")
    assert _run("batch", p01.parent, *args).exit_code == 0
    first = _files(out / "night1")
    with caplog.at_level(logging.WARNING, logger="pipeline.batch"):
        result = _run("batch", p02.parent, *args)
    assert result.exit_code == 0, result.output
    mine = f"night1-{_hash(p02)}"
    assert caplog.messages == [
        f"{p02}: night1/ holds the outputs of {p01}, left as they are; "
        f"this recording's go to {mine}/"
    ]
    assert _files(out / "night1") == first
    rows = _csv(out / "recordings.csv")
    assert rows[["recording", "status", "output"]].values.tolist() == [[str(p02), "ok", mine]]
    summary = json.loads((out / mine / "summary.json").read_text())
    assert summary["batch"]["input"] == str(p02)
    events = _csv(out / mine / "events.csv")
    assert set(events["recording"]) == {str(p02)}
    # each resumed run finds its own outputs up to date
    for folder, name in ((p01.parent, "night1"), (p02.parent, mine)):
        assert _run("batch", folder, *args).exit_code == 0
        rows = _csv(out / "recordings.csv")
        assert rows[["status", "output"]].values.tolist() == [["skipped", name]]


def test_a_moved_cohort_is_still_up_to_date_and_a_corrected_file_redone_in_place(
    tmp_path: Path,
) -> None:
    night = _night(tmp_path / "old" / "night1.csv", 1)
    out = tmp_path / "results"
    args = ("--out", out, "--tz", BERLIN, "--jobs", "1")
    assert _run("batch", night.parent, *args).exit_code == 0
    moved = tmp_path / "new" / "night1.csv"
    moved.parent.mkdir()
    night.rename(moved)  # the same recording under another path: nothing to redo
    result = _run("batch", moved.parent, *args)
    assert result.exit_code == 0 and "WARNING" not in result.output, result.output
    assert _csv(out / "recordings.csv")[["status", "output"]].values.tolist() == [
        ["skipped", "night1"]
    ]
    _night(moved, 3)  # corrected at the same path: redone in its folder
    assert _run("batch", moved.parent, *args).exit_code == 0
    assert _csv(out / "recordings.csv")[["status", "output"]].values.tolist() == [["ok", "night1"]]
    assert sorted(p.name for p in out.iterdir()) == [
        "cohort_daily_summary.csv", "errors.csv", "night1", "recordings.csv",
    ]  # fmt: skip


def _on_a_terminal(*args: str | Path) -> tuple[int, str]:
    """``jerkcount ARGS`` in a process of its own with stderr on a pseudo-terminal:
    its exit status and everything it drew there."""
    main_fd, term_fd = pty.openpty()
    cmd = [sys.executable, "-m", "cli", *map(str, args)]
    proc = subprocess.Popen(cmd, cwd=REPO, stdout=subprocess.DEVNULL, stderr=term_fd)
    os.close(term_fd)
    drawn = b""
    while True:
        try:
            block = os.read(main_fd, 65536)
        except OSError:  # the terminal's other end closed: the command ended
            break
        if not block:
            break
        drawn += block
    os.close(main_fd)
    return proc.wait(timeout=120), drawn.decode("utf-8", "replace")


def test_a_workers_warning_leaves_the_progress_line_where_it_was(tmp_path: Path) -> None:
    # a forked --jobs worker had the command's log handlers, the progress bar's redraw
    # among them: after its warning it drew its own copy of the bar, frozen at the fork
    # ("0/3 recordings" after "1/3 recordings")
    folder = tmp_path / "in"
    folder.mkdir()
    (folder / "a.csv").write_bytes(b"")  # two files that fail at once: the bar moves on
    (folder / "b.csv").write_bytes(b"")
    torn = _night(folder / "c.csv", 3)
    text = torn.read_bytes()
    torn.write_bytes(text[: text.rindex(b",")])  # the last line cut inside its values
    status, drawn = _on_a_terminal("batch", folder, "--out", tmp_path / "out", "--tz", BERLIN,
                                   "--jobs", "2")  # fmt: skip
    assert status == 1, drawn
    lines = [line for line in re.split(r"[\r\n]+", drawn.replace("\x1b[K", "")) if line]
    warning = f"jerkcount: WARNING: {torn}: dropped a torn last line"
    warned = [line for line in lines if "WARNING" in line]
    assert len(warned) == 1 and warned[0].startswith(warning + " "), lines
    counts = [int(m.group(1)) for m in re.finditer(r"\] +(\d+)/3 recordings", drawn)]
    assert counts[0] == 0 and counts[-1] == 3, counts
    assert counts == sorted(counts), counts  # never back
    after = lines[lines.index(warned[0]) + 1]
    assert re.search(r"\] +2/3 recordings", after), lines  # the bar as it is now
