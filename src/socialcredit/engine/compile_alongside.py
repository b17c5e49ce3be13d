"""Compile a first run's kernels in a second process, last first, while the run compiles them first first.

On a cold Numba cache (a new user's first run, a new version of the
package) a run spends most of its first quarter-minute compiling kernels,
one after another on one core, while the machine's other core idles. At the
start of such a run, :func:`start` launches a second process that

1. runs a copy of the rulebook at :data:`PERSONS` persons for :data:`DAYS`
   days with every kernel run as plain Python (a second of work, nothing
   compiled), noting each kernel the run calls from Python and the Numba
   types of its arguments, in the order of the calls;
2. compiles them in the opposite order, the last day kernel first, each
   saved in Numba's cache as soon as it is compiled.

The run compiles from the first kernel on; when it reaches a kernel the
second process has saved, it loads it from the cache instead. The two meet
in the middle: on two cores the run reaches its first day in a little over
half the time (docs/performance.md, "The first run on two cores").

The copy makes the same choices as the run (serial or parallel versions:
the thread setting, and the size rule scaled to the copy's persons), so it
compiles the same versions for the same argument types. Running kernels as
Python relies on one Numba internal (``Dispatcher._compile_for_args``, the
method a kernel's first call with new argument types goes through); if it
is missing or anything fails, the process ends and the run compiles what it
needs itself, as it would without it. Results never depend on it: it only
fills the cache. ``SOCIALCREDIT_COMPILE_AHEAD=0`` switches it off with the
compile-ahead process (engine/compile_ahead.py); a lock file keeps to one
such process at a time.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import tempfile
import warnings
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Any

from socialcredit import parallel
from socialcredit.engine import compile_ahead

if TYPE_CHECKING:
    from socialcredit.engine.sim import Sim

PERSONS = 300  # the copy's persons: enough for every stage to call its kernels, few enough to run them as Python
DAYS = 3  # the first day, and the partial updates of the days after it
STALE = 300  # seconds after which a lock left by a process that died no longer counts

process: subprocess.Popen | None = None  # the process this process started, if any
_copying = False  # kernels_of is running the copy: its setup starts no process


def lock_path() -> Path:
    return Path(tempfile.gettempdir()) / f"socialcredit-compile-alongside-{os.getuid() if hasattr(os, 'getuid') else 0}.lock"


def cold() -> bool:
    """Whether Numba's cache lacks the day's aggregates kernel, which every run calls: a first run."""
    from socialcredit.engine.stages.daily import aggregate_kernel

    k = aggregate_kernel
    return not (k.serial.signatures or k.parallel.signatures or parallel.cached(k.serial) or parallel.cached(k.parallel))


def start(sim: Sim) -> subprocess.Popen | None:
    """Launch the second process when the cache is cold, unless switched off or one is running already."""
    global process
    if process is not None or _copying or os.environ.get(compile_ahead.OFF) == "0":
        return None
    try:
        if not cold():
            return None
        args = [sim.base_dir or "", str(sim.rulebook.population.persons), str(sim.threads or 0)]
        process = compile_ahead.launch("socialcredit.engine.compile_alongside", lock_path(), STALE,
                                       compile_ahead.small_copy(sim, PERSONS, DAYS), args, {})  # fmt: skip
        return process
    except Exception:  # best effort (a kernel wrapped by a profiler, a full disk): the run compiles on its own
        return None


@contextmanager
def kernels_as_python() -> Iterator[list[tuple[Any, tuple[Any, ...]]]]:
    """Within: a kernel called without a compiled version for its arguments runs as Python, nothing compiled.

    Yields the list of (kernel, argument types) called from Python (not from inside another kernel), in the
    order of their first calls. A kernel this process has already compiled or loaded for those types runs
    compiled and is not noted: note in a fresh process, as the second process does."""
    from numba.core import types
    from numba.core.dispatcher import Dispatcher, OmittedArg

    calls: list[tuple[Any, tuple[Any, ...]]] = []
    seen: set[tuple[int, tuple[Any, ...]]] = set()
    depth = [0]  # kernels running as Python now: their own calls are compiled with them, not apart
    compile_for_args = Dispatcher._compile_for_args

    def as_python(self: Any, *args: Any, **kws: Any) -> Any:
        sig = tuple(types.Omitted(a.value) if isinstance(a, OmittedArg) else self.typeof_pyval(a) for a in args)
        if depth[0] == 0 and (id(self), sig) not in seen:
            seen.add((id(self), sig))
            calls.append((self, sig))
        py_func = self.py_func

        def run(*a: Any) -> Any:  # Numba calls what this returns with the arguments
            depth[0] += 1
            try:
                return py_func(*a)
            finally:
                depth[0] -= 1

        return run

    Dispatcher._compile_for_args = as_python
    try:
        yield calls
    finally:
        Dispatcher._compile_for_args = compile_for_args


def kernels_of(rulebook: dict, base_dir: str | None, persons: int, threads: int | None) -> list[tuple[Any, tuple[Any, ...]]]:
    """The kernels a run of ``rulebook`` at ``persons`` persons calls, with their argument types, in order.

    Runs the (small) ``rulebook`` with its kernels as Python; the size rule of socialcredit.parallel is scaled
    so that the copy picks the versions the full run picks."""
    from socialcredit.engine.sim import Sim
    from socialcredit.rulebook.schema import Rulebook

    global _copying
    small = int(rulebook["population"]["persons"])
    sim = Sim(Rulebook.model_validate(rulebook), base_dir=base_dir, threads=threads)
    parallel_from = parallel.PARALLEL_FROM
    parallel.PARALLEL_FROM = max(1, parallel_from * small // max(persons, 1))
    _copying = True
    try:
        with warnings.catch_warnings(), kernels_as_python() as calls:
            warnings.simplefilter("ignore")  # as Python, the random numbers' integer arithmetic warns of overflow
            sim.setup()
            for _ in range(sim.plan.days):
                sim.step()
    finally:
        parallel.PARALLEL_FROM = parallel_from
        _copying = False
    return calls


def main(argv: list[str]) -> int:
    """The second process: note the kernels, then compile them last first."""
    rulebook, base_dir, persons, threads = argv[0], argv[1] or None, int(argv[2]), int(argv[3]) or None
    try:
        if hasattr(os, "nice"):
            os.nice(10)  # the run comes first on a busy machine
        with open(rulebook) as f:
            data = json.load(f)
        for kernel, sig in reversed(kernels_of(data, base_dir, persons, threads)):
            kernel.compile(sig)  # saved in the cache (or loaded from it, if the run got there first)
        return 0
    except Exception:  # best effort: the run compiles what is missing
        return 1
    finally:
        compile_ahead.finish(rulebook, lock_path())


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
