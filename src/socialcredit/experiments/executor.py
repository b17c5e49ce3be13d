"""The executor: runs many independent jobs on a Dask cluster and hands back each result as it finishes.

One small API for every multi-run job (ensembles, arms, sweeps, and later
sensitivity analysis and calibration)::

    with Executor(workers=2) as ex:                     # a local cluster
        for task, result, error in ex.map(simulate, tasks):
            ...

    with Executor(scheduler="tcp://10.0.0.5:8786") as ex:   # an existing cluster
        ...

By default it starts a local cluster with one worker process per usable core
and one thread per worker, so each simulation runs single-threaded and runs
never fight for cores. Results travel back through Dask, so workers need no
shared filesystem. Jobs are submitted a window at a time, so the client holds
only a bounded number of pending results however many jobs there are. A
worker that dies has its jobs rescheduled by Dask; a job that kills three
workers comes back as an error, and the others go on.
"""

from __future__ import annotations

import logging
import os
import uuid
from collections.abc import Callable, Iterable, Iterator
from typing import Any, TypeVar

from socialcredit.errors import SocialCreditError
from socialcredit.experiments.spec import plan_runs, spec_from_dict
from socialcredit.experiments.task import RunTask, simulate

T = TypeVar("T")
LOST_RESULT_RETRIES = 3  # a finished job whose result died with its worker is run again this many times


def usable_cores() -> int:
    """Cores this process may run on (its CPU affinity), at least 1."""
    try:
        return max(1, len(os.sched_getaffinity(0)))
    except AttributeError:  # pragma: no cover - not on Linux
        return max(1, os.cpu_count() or 1)


class Executor:
    """Runs jobs on a local Dask cluster (``workers`` processes) or on an existing one (``scheduler``)."""

    def __init__(self, workers: int | None = None, scheduler: str | None = None, window: int | None = None) -> None:
        if workers is not None and scheduler is not None:
            raise SocialCreditError("give either --workers (a local cluster) or --scheduler (an existing cluster), not both")
        if workers is not None and not 1 <= workers <= 4096:
            raise SocialCreditError(f"--workers must be between 1 and 4096; found {workers}")
        self.workers = workers
        self.scheduler = scheduler
        self.window = window
        self.cluster: Any = None
        self.client: Any = None

    # ---------------------------------------------------------------- lifecycle
    def __enter__(self) -> "Executor":
        self.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def start(self) -> None:
        from distributed import Client, LocalCluster

        if self.scheduler is not None:
            try:
                self.client = Client(self.scheduler, timeout="5s", set_as_default=False)
            except (OSError, TimeoutError) as exc:
                raise SocialCreditError(
                    f"cannot reach the Dask scheduler at {self.scheduler}: {exc}\n"
                    "  hint: start one with 'dask scheduler' and workers with 'dask worker ADDRESS --nthreads 1' (docs/experiments.md)"
                ) from None
            return
        n = self.workers or usable_cores()
        self.cluster = LocalCluster(
            n_workers=n, threads_per_worker=1, processes=True, dashboard_address=None,
            silence_logs=logging.ERROR, host="127.0.0.1",
        )  # fmt: skip
        self.client = Client(self.cluster, set_as_default=False)

    def close(self) -> None:
        if self.client is not None:
            try:
                self.client.close()
            finally:
                self.client = None
        if self.cluster is not None:
            try:
                self.cluster.close()
            finally:
                self.cluster = None

    def warm_up(self) -> None:
        """Import the engine and load its compiled kernels in every worker now (about 2 s each on a cached
        compile), so that the first runs are not slower than the rest."""
        self.client.run(_warm_worker)

    # ---------------------------------------------------------------- facts
    def threads(self) -> int:
        """How many jobs the cluster runs at once (its worker threads); waits up to 30 s for a first worker."""
        info = self.client.scheduler_info()
        total = sum(w.get("nthreads", 1) for w in info.get("workers", {}).values())
        if total == 0:
            self.client.wait_for_workers(1, timeout=30)
            info = self.client.scheduler_info()
            total = sum(w.get("nthreads", 1) for w in info.get("workers", {}).values())
        return max(1, total)

    def describe(self) -> str:
        n = len(self.client.scheduler_info().get("workers", {}))
        where = f"the cluster at {self.scheduler}" if self.scheduler else "a local cluster"
        return f"{where}: {n} worker(s), {self.threads()} at once"

    # ---------------------------------------------------------------- work
    def map(self, fn: Callable[[T], Any], tasks: Iterable[T], key: Callable[[T], str] = str) -> Iterator[tuple[T, Any, str | None]]:
        """Run ``fn(task)`` for every task; yield ``(task, result, error)`` in the order they finish.

        ``error`` is None on success, else a message (the job's exception, or
        the workers it killed). A job whose result is lost with its worker
        before the client has it (a worker killed just after finishing) is run
        again. Stopping the iteration (or Ctrl-C) cancels what has not finished.
        """
        from distributed import as_completed

        pending = iter(tasks)
        window = self.window or max(4, 2 * self.threads())
        prefix = uuid.uuid4().hex[:8]
        by_future: dict[Any, tuple[T, int]] = {}  # future -> (task, attempt)
        done = as_completed(loop=self.client.loop)

        def submit(task: T, attempt: int) -> None:
            future = self.client.submit(fn, task, key=f"{prefix}-{key(task)}-{attempt}", pure=False)
            by_future[future] = (task, attempt)
            done.add(future)

        def submit_next() -> bool:
            task = next(pending, None)
            if task is None:
                return False
            submit(task, 0)
            return True

        for _ in range(window):
            if not submit_next():
                break
        try:
            for future in done:
                task, attempt = by_future.pop(future)
                if future.status == "error":  # the job raised, or killed the workers Dask allows
                    result, error = None, _failure(future)
                else:
                    try:
                        result, error = future.result(), None
                    except Exception as exc:  # noqa: BLE001 - the result was lost with its worker before it reached us
                        future.release()
                        if attempt < LOST_RESULT_RETRIES:
                            submit(task, attempt + 1)  # the same job again: its result does not depend on where it runs
                            continue
                        result, error = None, f"the result was lost {attempt + 1} times with its worker ({type(exc).__name__})"
                future.release()
                yield task, result, error
                submit_next()
        finally:
            for future in list(by_future):
                future.cancel()
            by_future.clear()


def _failure(future: Any) -> str:
    """A one-line message for a job that did not finish."""
    exc = future.exception()
    name = type(exc).__name__
    if name == "KilledWorker":
        return "the workers running this job died repeatedly (out of memory, or killed); it was given up after Dask's retries"
    if future.status == "cancelled":
        return "cancelled"
    return f"{name}: {exc}"


def _warm_worker() -> bool:
    """A tiny simulation: imports the engine and loads (or compiles) every kernel in this process."""
    plan = plan_runs(spec_from_dict({"name": "warm-up", "base": "reference", "persons": 200, "days": 8, "seeds": 1}))
    r = plan.runs[0]
    assert r.rulebook_yaml is not None
    return simulate(RunTask(r.run_id, r.rulebook_yaml, r.seed, r.base_dir, plan.keep)).ok
