"""Day kernels: serial on a cold cache, parallel once compiled; the parallel ones compiled ahead in the background
(socialcredit/parallel.py, engine/compile_ahead.py)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
from numba import prange

from socialcredit import parallel
from socialcredit.engine import compile_ahead, compile_alongside
from socialcredit.parallel import DayKernel

ROOT = Path(__file__).resolve().parents[2]


def _add_one(a: np.ndarray) -> None:
    for i in prange(a.size):
        a[i] += 1


def test_the_version_follows_the_threads_asked_for_and_what_is_compiled(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(parallel, "FORCE", "")
    monkeypatch.setattr(parallel, "COLD", set())
    a = np.zeros(10)
    k = DayKernel(_add_one)  # not cached (no cache=True), nothing compiled yet
    monkeypatch.setattr(parallel, "PREFER", "auto")
    assert k.version((a,)) is k.serial  # cold: serial, and noted
    assert parallel.COLD == {f"{__name__}._add_one"}
    monkeypatch.setattr(parallel, "PREFER", "parallel")  # more than one thread asked for
    k(a)
    assert k.version((a,)) is k.parallel and k.parallel.signatures
    monkeypatch.setattr(parallel, "PREFER", "serial")  # one thread asked for
    assert k.version((a,)) is k.serial
    monkeypatch.setattr(parallel, "PREFER", "auto")
    fresh = DayKernel(_add_one)
    fresh.parallel = k.parallel  # a parallel version compiled in this process is used
    assert fresh.version((a,)) is fresh.parallel
    monkeypatch.setattr(parallel, "PARALLEL_FROM", 5)
    big = DayKernel(_add_one)
    assert big.version((a,)) is big.parallel  # 10 elements >= 5: parallel whatever the cache
    k(a)
    assert (a == 2).all()


def test_the_small_copy_is_a_valid_rulebook() -> None:
    import socialcredit as sc
    from socialcredit.engine.sim import Sim
    from socialcredit.rulebook.schema import Rulebook

    data = compile_ahead.small_copy(Sim(sc.load("full-system")))
    assert data["population"]["persons"] == compile_ahead.PERSONS and data["simulation"]["days"] <= compile_ahead.DAYS
    Rulebook.model_validate(json.loads(json.dumps(data)))


FIRST = """
import json, sys
import socialcredit as sc
from socialcredit import parallel
from socialcredit.engine import compile_ahead, compile_alongside
res = sc.run("reference", persons=2000, days=5, seed=4)
cold = sorted(parallel.COLD)
started = compile_ahead.process is not None
alongside = compile_alongside.process is not None and compile_alongside.process.wait(timeout=600) == 0
if started:
    compile_ahead.process.wait(timeout=600)
print(json.dumps({"cold": cold, "started": started, "alongside": alongside, "daily": res.to_df("daily").round(9).to_dict("list")}))
"""

SECOND = """
import json
import socialcredit as sc
from socialcredit import parallel
from socialcredit.engine import compile_ahead, compile_alongside
from socialcredit.engine.stages.behave import behave_kernel
res = sc.run("reference", persons=2000, days=5, seed=4)
print(json.dumps({"cold": sorted(parallel.COLD), "started": compile_ahead.process is not None,
                  "alongside": compile_alongside.process is not None,
                  "parallel": len(behave_kernel.parallel.signatures), "serial": len(behave_kernel.serial.signatures),
                  "daily": res.to_df("daily").round(9).to_dict("list")}))
"""


def test_a_first_run_on_a_cold_cache_is_serial_and_leaves_the_parallel_kernels_compiled(tmp_path: Path) -> None:
    env = {k: v for k, v in os.environ.items() if k not in ("SOCIALCREDIT_COMPILE_AHEAD", "SOCIALCREDIT_KERNELS")}
    env |= {"NUMBA_CACHE_DIR": str(tmp_path / "cache"), "PYTHONPATH": str(ROOT / "src"), "TMPDIR": str(tmp_path)}

    def run(code: str) -> dict:
        done = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True, timeout=900)
        assert done.returncode == 0, done.stderr[-3000:]
        return json.loads(done.stdout.strip().splitlines()[-1])

    first = run(FIRST)
    assert first["started"] and "socialcredit.engine.stages.behave.behave_kernel" in first["cold"]
    assert first["alongside"]  # the second process of a first run (engine/compile_alongside.py) started and succeeded
    assert not (tmp_path / compile_ahead.lock_path().name).exists()  # the background processes cleaned up
    assert not (tmp_path / compile_alongside.lock_path().name).exists()
    second = run(SECOND)
    assert second["cold"] == [] and not second["started"]  # every day kernel found compiled: none run serially
    assert not second["alongside"]  # a warm cache: no second process
    assert second["parallel"] == 1 and second["serial"] == 0
    assert first["daily"] == second["daily"]  # serial and parallel kernels: the same results
