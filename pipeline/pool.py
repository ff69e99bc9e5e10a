"""Worker processes that end with the command: on an interrupt, and when it is killed.

A :class:`concurrent.futures.ProcessPoolExecutor` leaves its workers behind in two
ways. Leaving its ``with`` block on an exception (Ctrl-C, or SIGTERM from a job
scheduler made an interrupt) waits for every queued task to run; and when the parent
dies at once (SIGKILL, the out-of-memory killer) forked workers wait for work forever,
since each holds the queue's other end itself. :func:`stop_pool` ends a pool now, its
running tasks killed (their outputs are only ever staged, never taken as done), and
:func:`watch_parent`, run in each worker, ends a worker whose parent is gone, and
:func:`drop_inherited_logging` leaves a forked worker without the command's log
handlers (the progress bar's among them: a worker would redraw its own stale copy of
it); the worker's records go back with its result instead.
"""

from __future__ import annotations

import concurrent.futures as cf
import logging
import os
import threading
import time

log = logging.getLogger(__name__)

#: Seconds between a worker's looks at its parent.
WATCH_INTERVAL_S = 0.5
#: Exit status of a worker that found its parent gone.
ORPHAN_EXIT = 75


def watch_parent(interval_s: float = WATCH_INTERVAL_S) -> None:
    """In a worker process: a daemon thread that ends the process (status
    :data:`ORPHAN_EXIT`) within ``interval_s`` seconds of its parent's end."""
    parent = os.getppid()

    def watch() -> None:
        while True:
            time.sleep(interval_s)
            if os.getppid() != parent:
                os._exit(ORPHAN_EXIT)

    threading.Thread(target=watch, name="jerkcount-parent-watch", daemon=True).start()


def drop_inherited_logging() -> None:
    """In a worker process: remove the root logger's handlers (a forked worker has the
    command's: its stderr handler with the progress bar's line clearer, and the bar's
    redraw, which would draw this process's copy of the bar, frozen at the fork) and
    put a :class:`logging.NullHandler` there, so nothing is printed here, not even
    by logging's last resort. The level stays, so the records a task keeps (see
    :func:`pipeline.batch.run_reporting`) are those the command would print."""
    root = logging.getLogger()
    for handler in list(root.handlers):
        root.removeHandler(handler)
    root.addHandler(logging.NullHandler())


def stop_pool(pool: cf.ProcessPoolExecutor, timeout_s: float = 5.0) -> None:
    """End ``pool`` now: queued tasks cancelled, its worker processes killed and
    reaped (each within ``timeout_s``)."""
    procs = list((getattr(pool, "_processes", None) or {}).values())
    pool.shutdown(wait=False, cancel_futures=True)
    for proc in procs:
        proc.kill()
    for proc in procs:
        proc.join(timeout_s)
    log.debug("stopped a pool of %d worker(s)", len(procs))
