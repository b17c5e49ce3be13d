"""A first run's kernels compiled last first in a second process (engine/compile_alongside.py)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
from numba import njit

from socialcredit.engine import compile_alongside

ROOT = Path(__file__).resolve().parents[2]


@njit
def _inner(a: np.ndarray) -> float:
    return a.sum()


@njit
def _outer(a: np.ndarray, k: int) -> float:
    return _inner(a) * k


def test_kernels_run_as_python_are_noted_once_each_in_order_and_none_compiles() -> None:
    a, b = np.arange(4.0), np.arange(3, dtype=np.int64)
    with compile_alongside.kernels_as_python() as calls:
        assert _outer(a, 2) == 12.0 and _outer(a, 3) == 18.0  # run as Python, the right results
        assert _inner(b) == 3
        assert _outer(a, 1) == 6.0
    names = [(k.py_func.__name__, tuple(str(t) for t in sig)) for k, sig in calls]
    # the inner kernel's call from inside the outer one is not noted: it is compiled with the outer kernel
    assert names == [("_outer", ("array(float64, 1d, C)", "int64")), ("_inner", ("array(int64, 1d, C)",))]
    assert not _outer.signatures and not _inner.signatures  # nothing compiled
    assert _outer(a, 2) == 12.0 and len(_outer.signatures) == 1  # after: compiled as usual


NOTE_THEN_RUN = """
import json, sys
from numba.core import event
import socialcredit as sc
from socialcredit.engine import compile_ahead, compile_alongside
from socialcredit.engine.sim import Sim

persons = int(sys.argv[1])
sim = Sim(sc.load("reference", persons=persons, days=3))
rulebook = compile_ahead.small_copy(sim, compile_alongside.PERSONS, compile_alongside.DAYS)
noted = compile_alongside.kernels_of(rulebook, None, persons, None)
for kernel, sig in reversed(noted):
    kernel.compile(sig)
names = sorted({k.py_func.__name__ for k, _ in noted})
compiled = []

class Listener(event.Listener):
    def on_start(self, ev):
        compiled.append(ev.data["dispatcher"].py_func.__name__)

    def on_end(self, ev):
        pass

event.register("numba:compile", Listener())
sim.setup()
for _ in range(3):
    sim.step()
print(json.dumps({"noted": names, "compiled": compiled}))
"""


def test_the_copy_compiles_every_kernel_the_run_calls_so_the_run_compiles_none(tmp_path: Path) -> None:
    """The types noted at 300 persons are the types of a run at 3,000: with them compiled, the run loads them all."""
    env = dict(os.environ, NUMBA_CACHE_DIR=str(tmp_path / "cache"), PYTHONPATH=str(ROOT / "src"), SOCIALCREDIT_COMPILE_AHEAD="0")
    done = subprocess.run([sys.executable, "-c", NOTE_THEN_RUN, "3000"], env=env, capture_output=True, text=True, timeout=900)
    assert done.returncode == 0, done.stderr[-3000:]
    out = json.loads(done.stdout.strip().splitlines()[-1])
    assert {"behave_kernel_serial", "detect_kernel_serial", "aggregate_kernel_serial", "make_key"} <= set(out["noted"])
    assert out["compiled"] == []


CHOICES = """
import json, sys
import socialcredit as sc
from socialcredit import parallel
from socialcredit.engine import compile_ahead, compile_alongside
from socialcredit.engine.sim import Sim

persons, threads = int(sys.argv[1]), int(sys.argv[2]) or None
sim = Sim(sc.load("reference", persons=persons))
rulebook = compile_ahead.small_copy(sim, compile_alongside.PERSONS, compile_alongside.DAYS)
noted = compile_alongside.kernels_of(rulebook, None, persons, threads)
print(json.dumps({"names": sorted({k.py_func.__name__ for k, _ in noted}), "from": parallel.PARALLEL_FROM}))
"""


def test_the_copy_picks_the_versions_the_run_picks(tmp_path: Path) -> None:
    """Serial versions for a small run on a cold cache; for ten million persons the size rule picks the parallel
    versions of the kernels over persons (scaled to the copy); two threads asked for: every day kernel in parallel."""
    env = dict(os.environ, PYTHONPATH=str(ROOT / "src"), SOCIALCREDIT_COMPILE_AHEAD="0", NUMBA_CACHE_DIR=str(tmp_path))
    env.pop("SOCIALCREDIT_KERNELS", None)

    def names(persons: int, threads: int) -> set[str]:
        done = subprocess.run([sys.executable, "-c", CHOICES, str(persons), str(threads)], env=env, capture_output=True,
                              text=True, timeout=300)  # fmt: skip
        assert done.returncode == 0, done.stderr[-3000:]
        out = json.loads(done.stdout)
        assert out["from"] == 4_000_000  # the size rule restored after the copy
        return set(out["names"])

    small, large, two = names(3000, 0), names(10_000_000, 0), names(3000, 2)
    assert {"behave_kernel_serial", "_categorical_serial"} <= small and not {"behave_kernel", "_categorical"} & small
    assert {"behave_kernel", "_categorical"} <= large and not {"behave_kernel_serial", "_categorical_serial"} & large
    assert "behave_kernel" in two and "behave_kernel_serial" not in two


SCENARIOS = sorted(p.stem for p in (ROOT / "src" / "socialcredit" / "scenarios").glob("*.yaml"))

# in a fresh process, as the second process is: a kernel already compiled or loaded in a process runs compiled
NOTES = """
import json, sys
import socialcredit as sc
from socialcredit.engine import compile_ahead, compile_alongside
from socialcredit.engine.sim import Sim

out = {}
for name in sys.argv[1:]:
    sim = Sim(sc.load(name))
    out[name] = []
    for persons in (compile_alongside.PERSONS, 700):
        rulebook = compile_ahead.small_copy(sim, persons, compile_alongside.DAYS)
        types = {}
        for kernel, sig in compile_alongside.kernels_of(rulebook, None, 100_000, None):
            types.setdefault(kernel.py_func.__qualname__, []).append(str(sig))
        out[name].append(types)
print(json.dumps(out))
"""


@pytest.mark.parametrize("half", [0, 1])
def test_every_scenario_runs_as_python_and_its_copy_notes_the_types_of_a_larger_run(half: int) -> None:
    """Every kernel of every scenario runs as Python (else the second process would give up), and the argument
    types the copy notes do not depend on the number of persons: a kernel noted at 300 and at 700 persons is noted
    with the same types (either may note a kernel or two more, called on a day the other happens not to need it)."""
    names = SCENARIOS[half::2]
    env = dict(os.environ, PYTHONPATH=str(ROOT / "src"), SOCIALCREDIT_COMPILE_AHEAD="0")
    done = subprocess.run([sys.executable, "-c", NOTES, *names], env=env, capture_output=True, text=True, timeout=600)
    assert done.returncode == 0, done.stderr[-3000:]
    out = json.loads(done.stdout.strip().splitlines()[-1])
    assert sorted(out) == sorted(names)
    for name, (small, large) in out.items():
        assert len(small) >= 25 and len(small.keys() ^ large.keys()) <= 2, (name, sorted(small.keys() ^ large.keys()))
        for kernel in small.keys() & large.keys():
            assert sorted(small[kernel]) == sorted(large[kernel]), (name, kernel)
