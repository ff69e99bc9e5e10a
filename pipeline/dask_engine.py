"""``batch --scheduler``: tasks on an existing Dask distributed cluster.

What a cluster adds to the ways a batch can fail, and what this module makes of each:

- *No workers, or workers that cannot do the work* — a worker that does not see the
  inputs or the output folder at this machine's paths (no shared file system, or one
  mounted elsewhere), or that runs another jerkcount (the results would depend on
  which worker took a night): :func:`check_workers` asks every worker before the first
  task is sent, and the batch stops with one line naming the worker and what it lacks.
- *A worker dies while processing a night* (killed, out of memory): Dask runs the
  task again on another worker, up to the scheduler's ``allowed-failures``. A night
  whose workers all died may only have been queued beside the culprit, so each such
  night is run again at the end alone on the cluster; one that kills its workers alone
  is a failed row (:func:`describe_failure`), and the rest go on. A finished night's
  result is released as soon as it is taken, so a worker that dies later does not make
  the cluster process it again (before, the scheduler logged finished nights as lost
  and to be recomputed when a worker died).
- *The scheduler is lost* (it stopped, or the network to it went): every task not yet
  finished is cancelled by the client. :func:`run_tasks` returns those tasks, so the
  caller can say at once how many were not done (the finished ones are complete; the
  same command does the rest).

:func:`quiet_dask_logging` keeps Dask's own log lines (reconnection attempts, their
tracebacks) off the terminal of the ``jerkcount`` command unless it runs with ``-vv``.
"""

from __future__ import annotations

import contextlib
import logging
import os
import uuid
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any, TypeVar

from pipeline import __version__
from pipeline.errors import InputError

log = logging.getLogger(__name__)

#: How long ``--scheduler`` waits for the scheduler to answer.
CONNECT_TIMEOUT = "20s"
#: How long it waits for a first worker when the cluster has none.
WORKERS_TIMEOUT_S = 20.0
#: Why the client cancels its futures when the scheduler goes away.
LOST_REASON = "scheduler-connection-lost"

T = TypeVar("T")
R = TypeVar("R")
#: Called as each task ends: the task, its result (``None`` when it raised) and the
#: exception raised on the cluster (``None`` when it returned).
OnResult = Callable[[T, R | None, BaseException | None], None]


def quiet_dask_logging() -> None:
    """Dask's client logs reconnection attempts and tracebacks at WARNING and ERROR:
    keep them off the terminal unless the command logs at DEBUG (``-vv``). For the
    command line (it changes the levels of Dask's loggers in this process)."""
    import distributed  # noqa: F401 - its import sets the levels of its loggers

    if logging.getLogger().getEffectiveLevel() <= logging.DEBUG:
        return
    names = [n for n in logging.Logger.manager.loggerDict if n.split(".")[0] == "distributed"]
    for name in ["distributed", *names]:  # Dask sets levels on some of its loggers
        logging.getLogger(name).setLevel(logging.CRITICAL)


def connect(address: str) -> Any:
    """A ``distributed.Client`` of the scheduler at ``address`` (within
    :data:`CONNECT_TIMEOUT`); :class:`InputError` naming ``--scheduler`` when it
    cannot be reached."""
    from distributed import Client

    try:
        return Client(address, timeout=CONNECT_TIMEOUT)
    except Exception as err:  # noqa: BLE001 - a bad address, no answer, no TLS settings
        why = " ".join(str(err).split()) or type(err).__name__
        if address.startswith("tls://") and "ssl_context" in why:
            why = ("TLS needs the cluster's certificates in Dask's configuration "
                   "(distributed.comm.tls.ca-file, distributed.comm.tls.client.cert and "
                   "distributed.comm.tls.client.key)")  # fmt: skip
        raise InputError("--scheduler", f"cannot connect to {address}: {why}") from None


def worker_view(paths: Sequence[str]) -> dict[str, Any]:
    """Run on each worker by :func:`check_workers`: the jerkcount version it imports and
    which of ``paths`` it does not see (a list of str)."""
    return {"version": __version__, "missing": [p for p in paths if not os.path.exists(p)]}


def check_workers(client: Any, recording: str, out_dir: Path, probe_dir: Path) -> None:
    """Stop before any task is sent when the cluster cannot do the batch.

    recording : one input of the batch (a path every worker must see).
    out_dir : the batch's output folder, as given.
    probe_dir : a folder inside ``out_dir`` where a probe file is written for the
        workers to look for (and removed again).

    Raises :class:`InputError` naming ``--scheduler``: no worker joined within
    :data:`WORKERS_TIMEOUT_S`; a worker cannot import jerkcount; a worker runs another
    jerkcount version; a worker does not see ``recording`` or the probe file.
    """
    address = client.scheduler.address
    try:
        client.wait_for_workers(1, timeout=WORKERS_TIMEOUT_S)
    except TimeoutError:
        raise InputError("--scheduler", f"the scheduler at {address} has no workers "
                                        f"(waited {WORKERS_TIMEOUT_S:g} s)") from None  # fmt: skip
    probe_dir.mkdir(parents=True, exist_ok=True)
    probe = probe_dir / f"probe-{uuid.uuid4().hex}"
    probe.write_bytes(b"")
    try:
        views = client.run(worker_view, [recording, str(probe)])
    except Exception as err:  # noqa: BLE001 - a worker's import error, as Dask passes it
        # a task that cannot be unpickled there arrives as Exception("ImportError('...')")
        why = str(err) if type(err) is Exception else f"{type(err).__name__}: {err}"
        raise InputError("--scheduler", f"a worker cannot run jerkcount's tasks ({why}); "
                         f"install jerkcount {__version__} on every worker") from None  # fmt: skip
    finally:
        with contextlib.suppress(OSError):
            probe.unlink()
    for worker, view in sorted(views.items()):
        if view["version"] != __version__:
            raise InputError("--scheduler", f"worker {worker} runs jerkcount {view['version']}, "
                             f"this machine {__version__}: install the same version on every "
                             "worker (the results must not depend on the worker)")  # fmt: skip
        needed = ((recording, f"the input {recording}"), (str(probe), f"--out {out_dir}"))
        for missing, what in needed:
            if missing in view["missing"]:
                raise InputError("--scheduler", f"worker {worker} does not see {what}: the "
                                 "inputs and --out must be on a file system every worker "
                                 "sees at the same path")  # fmt: skip


def describe_failure(err: BaseException) -> str:
    """One line for a task that raised on the cluster (no file name: the caller adds it)."""
    from distributed import KilledWorker

    if isinstance(err, KilledWorker):
        tries = err.allowed_failures + 1
        return (f"the cluster's workers died while processing it ({tries} tried; killed, "
                f"or out of memory?), the last {err.last_worker.address}")  # fmt: skip
    return " ".join(f"on the cluster: {type(err).__name__}: {err}".split())


def _lost(client: Any, err: BaseException) -> bool:
    from distributed.client import FutureCancelledError

    if isinstance(err, FutureCancelledError) and err.reason == LOST_REASON:
        return True
    return client.status != "running"


def run_tasks(
    client: Any,
    tasks: Sequence[T],
    work: Callable[[T], R],
    on_result: OnResult[T, R],
) -> list[T]:
    """``work`` of every task on the cluster of ``client``, in any order.

    on_result : called in this process as each task ends (:data:`OnResult`).
    Returns the tasks that got no result because the connection to the scheduler was
    lost (empty when every task ended); ``on_result`` is not called for those.

    A task whose workers all died (``KilledWorker``) may only have been queued on a
    worker that another task killed (the scheduler sends a worker more than it runs at
    once): such tasks are run again at the end one at a time, alone on the cluster,
    and only a task that kills its workers alone is reported with that error.
    """
    from distributed import KilledWorker

    with client:  # the default client while open: as_completed needs one
        killed: list[T] = []

        def first(task: T, result: R | None, err: BaseException | None) -> None:
            if isinstance(err, KilledWorker):
                killed.append(task)
            else:
                on_result(task, result, err)

        lost = _run_all(client, tasks, work, first)
        if lost:
            return [*lost, *killed]
        if killed:
            log.warning("workers died on the cluster; running %d recording(s) again one at a "
                        "time", len(killed))  # fmt: skip
        for i, task in enumerate(killed):
            if _run_all(client, [task], work, on_result):
                return killed[i:]
    return []


def _run_all(
    client: Any,
    tasks: Sequence[T],
    work: Callable[[T], R],
    on_result: OnResult[T, R],
) -> list[T]:
    """One pass of :func:`run_tasks` (all of ``tasks`` submitted at once); returns the
    tasks left without a result by a lost scheduler."""
    from distributed import as_completed

    pending = dict(enumerate(tasks))
    try:
        futures = client.map(work, list(tasks), pure=False)
        index = {f.key: i for i, f in enumerate(futures)}
        finished = as_completed(futures)
        del futures  # only as_completed holds them: each is released once taken
        for future in finished:
            i = index[future.key]
            try:
                result, err = future.result(), None
            except Exception as caught:  # noqa: BLE001 - KilledWorker and the like
                if _lost(client, caught):
                    continue
                result, err = None, caught
            finally:
                future.release()
            on_result(pending.pop(i), result, err)
    except OSError as err:  # the scheduler went away while the tasks were sent
        log.debug("lost the scheduler: %s", err)
    return list(pending.values())
