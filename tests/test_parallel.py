"""Kernels compiled both ways run in parallel only on large arrays, with the same results (socialcredit/parallel.py)."""

from __future__ import annotations

import numpy as np
import pytest
from numba import prange

from socialcredit import parallel
from socialcredit.parallel import sized_kernel
from socialcredit.population import build_population
from socialcredit.rulebook.schema import Rulebook
from tests.conftest import base_rulebook


@sized_kernel(size=lambda n, out: n)
def _squares(n: int, out: np.ndarray) -> None:
    for i in prange(n):
        out[i] = i * i


@sized_kernel()
def _double(a: np.ndarray) -> None:
    for i in prange(a.size):
        a[i] *= 2


def test_the_size_picks_the_version(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(parallel, "PARALLEL_FROM", 100)
    out = np.zeros(200, np.int64)
    _squares(50, out)  # told 50: serial
    assert _squares.serial.signatures and not _squares.parallel.signatures
    _squares(200, out)  # told 200: parallel
    assert _squares.parallel.signatures
    np.testing.assert_array_equal(out, np.arange(200) ** 2)
    a = np.ones(99)
    _double(a)  # the largest array has 99 elements: serial
    assert _double.serial.signatures and not _double.parallel.signatures
    assert (a == 2).all()
    assert _squares.serial.py_func.__qualname__ == "_squares_serial"  # cached apart from the parallel version


def test_a_population_is_the_same_built_serially_or_in_parallel(monkeypatch: pytest.MonkeyPatch) -> None:
    """Every setup kernel of the population and its network, both ways, on one rulebook with two generators."""
    data = base_rulebook(persons=3000, days=1, seed=11)
    for b in data["behaviours"]:
        b["heterogeneity"] = 0.5
    rb = Rulebook.model_validate(data)
    serial = build_population(rb)
    monkeypatch.setattr(parallel, "PARALLEL_FROM", 0)
    par = build_population(rb)
    for name in ("region", "group", "income", "het"):
        np.testing.assert_array_equal(getattr(serial.persons, name), getattr(par.persons, name), err_msg=name)
    np.testing.assert_array_equal(serial.network.indptr, par.network.indptr)
    np.testing.assert_array_equal(serial.network.indices, par.network.indices)
    data["population"]["network"] = {"generator": "scale_free", "mean_degree": 8, "exponent": 2.5}
    rb = Rulebook.model_validate(data)
    monkeypatch.setattr(parallel, "PARALLEL_FROM", 10**12)
    a = build_population(rb)
    monkeypatch.setattr(parallel, "PARALLEL_FROM", 0)
    b = build_population(rb)
    np.testing.assert_array_equal(a.network.indices, b.network.indices)
    assert a.network.n_edges > 0


def test_the_network_passes_of_the_engine_are_the_same_both_ways(monkeypatch: pytest.MonkeyPatch) -> None:
    """The far-ties index (setup), the assortativities and the friends per cell (network days)."""
    from socialcredit.engine.assortativity import score_assortativity, tier_assortativity
    from socialcredit.engine.stages.friends_mean import index_far_ties

    data = base_rulebook(persons=20000, days=1, seed=3)
    data["population"]["network"] = {"generator": "small_world", "mean_degree": 10, "rewiring": 0.02}
    net = build_population(Rulebook.model_validate(data)).network
    rng = np.random.default_rng(1)
    score = rng.normal(900, 50, net.n).astype(np.float32)
    tier = rng.integers(0, 5, net.n).astype(np.uint8)
    got = {}
    for label, threshold in (("serial", 10**12), ("parallel", 0)):
        monkeypatch.setattr(parallel, "PARALLEL_FROM", threshold)
        far = index_far_ties(net.indptr, net.indices, True)
        assert far is not None and far.friend.size > 0
        got[label] = (far.friend.copy(), far.rank.copy(), score_assortativity(net.indptr, net.indices, score),
                      tier_assortativity(net.indptr, net.indices, tier, 5))  # fmt: skip
    for a, b in zip(got["serial"], got["parallel"]):
        np.testing.assert_array_equal(a, b)


_THREAD_ID_KERNEL = """
import numpy as np
from numba import get_thread_id, prange
from socialcredit.parallel import day_kernel

@day_kernel(cache=True)
def per_thread(out):
    for i in prange(out.shape[0]):
        out[i] = i + 0 * get_thread_id()
"""


def test_a_cached_kernel_reading_its_thread_id_runs_in_a_fresh_process(tmp_path) -> None:
    """Loaded from the cache, a kernel that reads its thread id crashed (segfault) in a process where no parallel
    code had started Numba's threading layer; parallel.start_threads starts it before the first kernel."""
    import os
    import subprocess
    import sys

    (tmp_path / "thread_id_kernel.py").write_text(_THREAD_ID_KERNEL)
    env = os.environ | {"NUMBA_CACHE_DIR": str(tmp_path / "cache"), "SOCIALCREDIT_KERNELS": "serial",
                        "PYTHONPATH": os.pathsep.join([str(tmp_path), *sys.path])}  # fmt: skip
    code = "import numpy as np, thread_id_kernel as k; a = np.zeros(5); k.per_thread(a); print(int(a.sum()))"
    for run in ("compiles", "loads from the cache"):
        done = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True, timeout=300)
        assert done.returncode == 0, (run, done.returncode, done.stderr[-2000:])
        assert done.stdout.strip() == "10", run
    assert any((tmp_path / "cache").rglob("*.nbc"))  # the second run did load a cached kernel
