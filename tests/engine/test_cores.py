"""Threads from the cores other processes leave free (engine/cores.py)."""

from __future__ import annotations

import time

import numba
import pandas as pd
import pytest

from socialcredit.engine import cores
from socialcredit.engine.cores import Cores, busy_seconds, running_others, threads_for, usable_cpus
from socialcredit.engine.sim import Sim
from socialcredit.results import Results
from socialcredit.rulebook.schema import Rulebook
from tests.conftest import base_rulebook, run


class Machine:
    """Two cores whose other processes keep ``others`` cores busy; time moves only when told."""

    def __init__(self, others: float = 0.0, running: int | None = 0) -> None:
        self.others, self.now, self.total, self.mine, self.set = others, 0.0, 0.0, 0.0, []
        self.running_now = running

    def advance(self, seconds: float, own_threads: int) -> None:
        self.now += seconds
        self.mine += seconds * own_threads
        self.total += seconds * (own_threads + self.others)

    def cores(self, ceiling: int = 2) -> Cores:
        return Cores(ceiling, cpus=[0, 1], busy=lambda cpus: self.total, own=lambda: self.mine, clock=lambda: self.now,
                     set_threads=self.set.append, running=lambda: self.running_now)  # fmt: skip


def test_threads_for_rounds_the_free_cores_and_stays_within_one_and_the_ceiling() -> None:
    assert threads_for(2, 0.0, 2) == 2
    assert threads_for(2, 0.4, 2) == 2  # a light load keeps both
    assert threads_for(2, 0.67, 2) == 1  # a spinning process beside two of ours gets two thirds of a core
    assert threads_for(2, 1.0, 2) == 1
    assert threads_for(2, 2.5, 2) == 1  # never fewer than one
    assert threads_for(8, 0.0, 4) == 4  # never more than the ceiling


def test_a_busy_core_drops_to_one_thread_and_a_free_one_brings_the_second_back() -> None:
    m = Machine(others=0.0, running=0)
    c = m.cores()
    assert c.active and c.threads == 2 and m.set == []
    m.advance(0.1, 2)
    assert c.look() == 2 and m.set == []  # within the first window nothing is read
    m.advance(0.2, 2)
    assert c.look() == 2 and c.others == pytest.approx(0.0)
    m.others = 0.67  # another process starts spinning: beside our two threads it gets two thirds of a core
    m.advance(0.3, 2)
    assert c.look() == 1 and m.set == [1] and c.others == pytest.approx(0.67)
    m.others = 1.0  # with one thread of ours it has a core to itself: we stay at one
    m.advance(0.3, 1)
    assert c.look() == 1 and m.set == [1]
    m.others = 0.0  # it stops
    m.advance(0.3, 1)
    assert c.look() == 2 and m.set == [1, 2] and c.changes == 2
    m.others = 1.0
    m.advance(0.3, 2)
    c.look()
    c.release()  # the end of a run gives back the ceiling
    assert m.set == [1, 2, 1, 2] and c.threads == 2


def test_the_first_guess_reads_the_tasks_running_now() -> None:
    m = Machine(others=1.0, running=1)
    c = m.cores()
    assert c.threads == 1 and m.set == [1]
    assert Machine(running=None).cores().threads == 2  # nothing to read: the ceiling until a window has passed


def test_one_thread_or_no_proc_stat_changes_nothing() -> None:
    m = Machine(others=1.0, running=1)
    assert not m.cores(ceiling=1).active
    c = Cores(2, cpus=[0, 1], busy=lambda cpus: None, set_threads=m.set.append, running=lambda: 1)
    assert not c.active
    assert c.look() == 2 and m.set == []


def test_this_machine_is_read() -> None:
    cpus = usable_cpus()
    assert cpus and all(isinstance(c, int) for c in cpus)
    before = busy_seconds(cpus)
    end = time.perf_counter() + 0.1
    while time.perf_counter() < end:  # this process is busy for 0.1 s: the machine's busy time grows by about as much
        pass
    after = busy_seconds(cpus)
    assert before is not None and after is not None and after - before >= 0.05
    others = running_others()
    assert others is not None and others >= 0


def test_threads_changed_every_day_leave_the_results_as_they_are(monkeypatch: pytest.MonkeyPatch) -> None:
    """Results do not depend on the threads, so a change mid-run is safe: a run whose threads flip every day
    between 1 and 2 gives the tables of a run on one thread."""
    data = base_rulebook(persons=4000, days=40, seed=5)
    data["detection"]["channels"]["camera"]["false_attribution"] = 0.05
    data["score"]["social"] = {"friends": 0.2, "period": 7}
    before = numba.get_num_threads()
    ceiling = min(2, numba.config.NUMBA_NUM_THREADS)
    try:
        _, fixed = run(data, threads=1)
        numba.set_num_threads(ceiling)
        monkeypatch.setattr(cores, "WINDOW", 0.0)
        sim = Sim(Rulebook.model_validate(data))

        def day() -> int:
            return sim.state.day if sim.state is not None else 0

        # a day is a second; on odd days another process holds both cores (the machine's busy time grows by 2)
        sim.cores = Cores(ceiling, cpus=[0, 1], busy=lambda cpus: 2.0 * ((day() + 1) // 2), own=lambda: 0.0,
                          clock=lambda: float(day()), running=lambda: 0)  # fmt: skip
        flipping = Results.from_sim(sim.run())
    finally:
        numba.set_num_threads(before)
    if ceiling == 2:
        assert sim.cores.changes >= 20  # the threads did change, day after day
    for table in ("daily", "services", "audit"):
        pd.testing.assert_frame_equal(fixed.to_df(table, None), flipping.to_df(table, None), check_exact=True)
