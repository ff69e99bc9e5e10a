"""Headless Debian chromium for the report tests, with the network blocked.

:func:`find_chromium` returns the chromium binary; when there is none and the tests
run as root on a machine with ``apt-get``, it installs Debian's ``chromium`` package
(``apt-get update`` once, then ``apt-get install -y --no-install-recommends
chromium``); otherwise it raises :class:`ChromiumMissing` with what to do, so the
browser test fails loudly instead of being skipped.

:func:`dump_dom` and :func:`screenshot` open a local file (``file://``) in a fresh
profile with every host name unresolvable and a dead proxy, so anything the page
tried to fetch from the network would fail.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import tempfile
from pathlib import Path

#: Flags this machine needs (no sandbox as root, no GPU, no background connections).
BASE_FLAGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--disable-dev-shm-usage",
    "--hide-scrollbars",
]
#: Block the network: no host name resolves, and any proxied request goes nowhere.
OFFLINE_FLAGS = [
    "--host-resolver-rules=MAP * ~NOTFOUND",
    "--proxy-server=127.0.0.1:9",
]
_apt_updated = False


class ChromiumMissing(RuntimeError):
    """No chromium, and it could not be installed here."""


def _which() -> str | None:
    for name in ("chromium", "chromium-browser"):
        found = shutil.which(name)
        if found:
            return found
    return "/usr/bin/chromium" if os.access("/usr/bin/chromium", os.X_OK) else None


def find_chromium(install: bool = True) -> str:
    """Path of Debian's chromium, installing it with apt-get as root when missing.

    Raises :class:`ChromiumMissing` with instructions when it is missing and cannot be
    installed (not root, no apt-get, or the install failed).
    """
    global _apt_updated
    found = _which()
    if found:
        return found
    apt = shutil.which("apt-get")
    if not install or apt is None or os.geteuid() != 0:
        raise ChromiumMissing(
            "chromium not found: the report's browser test needs Debian's chromium. "
            "Install it with `sudo apt-get install -y --no-install-recommends chromium` "
            "(or put a chromium binary on PATH)."
        )
    env = {**os.environ, "DEBIAN_FRONTEND": "noninteractive"}
    try:
        if not _apt_updated:
            subprocess.run(
                [apt, "update", "-q"], check=True, env=env, capture_output=True, timeout=600
            )
            _apt_updated = True
        subprocess.run(
            [apt, "install", "-y", "-q", "--no-install-recommends", "chromium"],
            check=True,
            env=env,
            capture_output=True,
            timeout=1200,
        )
    except (subprocess.CalledProcessError, subprocess.TimeoutExpired) as exc:
        out = getattr(exc, "stderr", b"") or b""
        raise ChromiumMissing(
            f"chromium not found and `apt-get install chromium` failed: {exc}; "
            f"{out.decode(errors='replace')[-500:]}"
        ) from exc
    found = _which()
    if not found:
        raise ChromiumMissing("apt-get installed chromium, but no chromium binary is on PATH")
    return found


def _run(page: Path, extra: list[str], profile_parent: Path, timeout: float) -> str:
    chromium = find_chromium()
    with tempfile.TemporaryDirectory(dir=profile_parent, prefix="chromium-profile-") as prof:
        cmd = [
            chromium,
            *BASE_FLAGS,
            *OFFLINE_FLAGS,
            f"--user-data-dir={prof}",
            *extra,
            page.resolve().as_uri(),
        ]
        proc = subprocess.run(
            cmd, capture_output=True, timeout=timeout, text=True, stdin=subprocess.DEVNULL
        )
    if proc.returncode != 0:
        raise RuntimeError(f"chromium exited {proc.returncode}: {proc.stderr[-2000:]}")
    return proc.stdout


def dump_dom(page: Path, profile_parent: Path, timeout: float = 90) -> str:
    """The DOM of the local file ``page`` after its load event, as serialised HTML."""
    return _run(page, ["--virtual-time-budget=5000", "--dump-dom"], profile_parent, timeout)


def screenshot(
    page: Path,
    png: Path,
    profile_parent: Path,
    width: int = 1000,
    height: int = 2000,
    timeout: float = 90,
) -> Path:
    """A PNG screenshot of the local file ``page`` in a ``width`` x ``height`` window."""
    png = Path(png).resolve()
    png.parent.mkdir(parents=True, exist_ok=True)
    _run(
        page,
        [f"--window-size={width},{height}", "--virtual-time-budget=5000", f"--screenshot={png}"],
        profile_parent,
        timeout,
    )
    if not png.is_file():
        raise RuntimeError(f"chromium wrote no screenshot to {png}")
    return png
