"""Threads for the kernels from the cores other processes leave free.

A parallel kernel splits its work evenly over its threads and waits at the
end for the last one. When another process holds one of the cores, the
thread that shares that core gets half of it, or waits for its turn, and
every launch waits for that thread: a day has dozens of launches, so with
two threads on two cores, one of them busy, a run takes two to three times
as long as with one thread (docs/performance.md).

:class:`Cores` watches how much CPU time other processes take on the cores
this process may use (``/proc/stat``, less this process's own CPU time) and
sets the kernels' threads to the cores left free, looking again every
quarter of a second of the run. Results do not depend on the thread count,
so a change mid-run changes nothing but the time. Where ``/proc/stat`` is
not there (not Linux), the threads stay as they are.
"""

from __future__ import annotations

import os
import time
from collections.abc import Callable, Sequence

import numba

WINDOW = 0.25  # seconds of the run between two looks at the load
GLANCES = 3  # first look: the fewest runnable tasks of other processes in this many glances, 2 ms apart
_BUSY_FIELDS = (0, 1, 2, 5, 6, 7)  # user, nice, system, irq, softirq, steal (guest time is inside user)


def usable_cpus() -> list[int]:
    """The cores this process may run on."""
    try:
        return sorted(os.sched_getaffinity(0))
    except (AttributeError, OSError):
        return list(range(os.cpu_count() or 1))


def busy_seconds(cpus: Sequence[int]) -> float | None:
    """CPU seconds spent busy so far on ``cpus`` by every process (``/proc/stat``); None where it cannot be read."""
    wanted = {f"cpu{c}" for c in cpus}
    try:
        with open("/proc/stat") as f:
            lines = [line.split() for line in f if line.startswith("cpu")]
    except OSError:
        return None
    ticks = 0
    found = 0
    for parts in lines:
        if parts[0] in wanted:
            values = parts[1:]
            ticks += sum(int(values[i]) for i in _BUSY_FIELDS if i < len(values))
            found += 1
    if found == 0:
        return None
    return ticks / os.sysconf("SC_CLK_TCK")


def running_others() -> int | None:
    """Tasks of other processes running or ready to run right now (``/proc/loadavg`` less this process's)."""
    try:
        with open("/proc/loadavg") as f:
            running = int(f.read().split()[3].split("/")[0])
        mine = 0
        for task in os.listdir("/proc/self/task"):
            with open(f"/proc/self/task/{task}/stat") as f:
                mine += f.read().rsplit(")", 1)[1].split()[0] == "R"
    except (OSError, ValueError, IndexError):
        return None
    return max(0, running - mine)


def threads_for(cores: int, others: float, ceiling: int) -> int:
    """Threads to use when other processes keep ``others`` of ``cores`` busy (rounded to the nearest core)."""
    return max(1, min(ceiling, int(cores - others + 0.5)))


class Cores:
    """Sets the kernels' threads to the cores other processes leave free; call :meth:`look` once a day."""

    def __init__(
        self,
        ceiling: int,
        cpus: Sequence[int] | None = None,
        busy: Callable[[Sequence[int]], float | None] = busy_seconds,
        own: Callable[[], float] = time.process_time,
        clock: Callable[[], float] = time.perf_counter,
        set_threads: Callable[[int], None] = numba.set_num_threads,
        running: Callable[[], int | None] = running_others,
    ) -> None:
        self.ceiling = ceiling
        self.cpus = list(cpus) if cpus is not None else usable_cpus()
        self._busy, self._own, self._clock, self._set = busy, own, clock, set_threads
        self.threads = ceiling
        self.others = 0.0  # cores other processes kept busy in the last window
        self.changes = 0  # how many times the threads changed
        self.used = {ceiling}  # every thread count the run used
        self.active = ceiling > 1 and self._busy(self.cpus) is not None
        if self.active:  # a first guess from the tasks running now; the windows refine it
            glances = []
            for i in range(GLANCES):
                if i:
                    time.sleep(0.002)
                glances.append(running())
            if None not in glances:
                self._use(threads_for(len(self.cpus), float(min(glances)), ceiling))
        self._mark()

    def _use(self, threads: int) -> None:
        if threads != self.threads:
            self._set(threads)
            self.threads = threads
            self.changes += 1
            self.used.add(threads)

    def _mark(self) -> None:
        self._t0 = self._clock()
        self._busy0 = self._busy(self.cpus) if self.active else None
        self._own0 = self._own()

    def look(self) -> int:
        """Look at the load if a window has passed; set and return the threads to use."""
        if not self.active:
            return self.threads
        elapsed = self._clock() - self._t0
        if elapsed < WINDOW or elapsed <= 0:
            return self.threads
        busy = self._busy(self.cpus)
        if busy is None or self._busy0 is None:
            self.active = False
            return self.threads
        own = self._own() - self._own0
        self.others = max(0.0, (busy - self._busy0) - own) / elapsed
        self._use(threads_for(len(self.cpus), self.others, self.ceiling))
        self._mark()
        return self.threads

    def release(self) -> None:
        """Give the kernels back their ceiling (at the end of a run)."""
        if self.threads != self.ceiling:
            self._set(self.ceiling)
            self.threads = self.ceiling
