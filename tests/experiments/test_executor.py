"""The executor on a real local Dask cluster: results that die with their worker are not recorded as failures."""

from __future__ import annotations

import os
import signal
import time

from socialcredit.experiments.executor import Executor


def double(x: int) -> int:
    time.sleep(1.0)
    return 2 * x


def fail_on_three(x: int) -> int:
    if x == 3:
        raise ValueError("three")
    return x


def test_results_lost_with_a_killed_worker_are_computed_again() -> None:
    """Kill a worker while finished results wait on it: every job still comes back, right, and none as an error."""
    got: dict[int, int] = {}
    with Executor(workers=2, window=8) as ex:
        pids = ex.client.run(os.getpid)
        killed = False
        for task, result, error in ex.map(double, range(8), key=str):
            assert error is None, (task, error)
            got[task] = result
            if not killed:
                time.sleep(1.0)  # the other jobs finish and wait, their results held by the workers
                os.kill(next(iter(pids.values())), signal.SIGKILL)
                time.sleep(0.5)  # the client learns that the results are lost; recomputing them takes longer
                killed = True
    assert got == {x: 2 * x for x in range(8)}


def test_a_job_that_raises_comes_back_as_an_error_and_the_others_go_on() -> None:
    with Executor(workers=1) as ex:
        out = {task: (result, error) for task, result, error in ex.map(fail_on_three, range(5), key=str)}
    assert out[3][0] is None and "ValueError: three" in out[3][1]
    assert {k: v[0] for k, v in out.items() if k != 3} == {0: 0, 1: 1, 2: 2, 4: 4}
