"""Benchmark of the network generators, the locality ordering and a neighbour pass.

Usage: python benchmarks/bench_network.py [--n N] [--threads T] [--mean-degree D]

For each generator it prints the build time, the size of the CSR (bytes per
person and per tie) and the peak resident memory above the level before the
step; then the time of ``locality_order`` and ``permuted``; then the time of a
neighbour pass (for each person, the mean of a float32 value over the friends)
on the generator's own labelling, on a random labelling within regions and on
the locality ordering. Regions have shares 0.5 / 0.3 / 0.2. Kernels are
compiled (or loaded from the numba cache) before anything is timed.
"""

from __future__ import annotations

import argparse
import time
from collections.abc import Callable
from typing import TypeVar

import numba
import numpy as np
from numba import njit, prange

from socialcredit.rng import make_key, uniform
from socialcredit.population.generators import block_model, scale_free, small_world
from socialcredit.population.network import Network
from socialcredit.population.ordering import locality_order, shuffled_order

T = TypeVar("T")


@njit(parallel=True, cache=True)
def neighbour_mean(indptr: np.ndarray, indices: np.ndarray, x: np.ndarray, out: np.ndarray) -> None:
    """out[i] = mean of x over the friends of i (0 for no friends)."""
    for i in prange(indptr.shape[0] - 1):
        lo = indptr[i]
        hi = indptr[i + 1]
        s = np.float32(0.0)
        for k in range(lo, hi):
            s += x[indices[k]]
        out[i] = s / max(hi - lo, 1)


@njit(parallel=True, cache=True)
def values(n: int, key: np.uint64) -> np.ndarray:
    out = np.empty(n, np.float32)
    for i in prange(n):
        out[i] = uniform(key, i)
    return out


def _rss_mib(field: str) -> float:
    with open("/proc/self/status") as f:
        for line in f:
            if line.startswith(field + ":"):
                return int(line.split()[1]) / 1024.0
    return float("nan")


def _reset_peak() -> bool:
    """Reset the kernel's peak-RSS counter (VmHWM); False where not allowed."""
    try:
        with open("/proc/self/clear_refs", "w") as f:
            f.write("5")
        return True
    except OSError:
        return False


def measure(label: str, fn: Callable[[], T]) -> tuple[T, float]:
    """Run fn once; print its time and its peak RSS above the level before it."""
    base = _rss_mib("VmRSS")
    exact = _reset_peak()
    t0 = time.perf_counter()
    out = fn()
    dt = time.perf_counter() - t0
    peak = _rss_mib("VmHWM") - base
    note = "" if exact else " (process peak; clear_refs not allowed)"
    print(f"  {label:<28s} {dt:8.2f} s   peak +{peak:7.0f} MiB{note}", flush=True)
    return out, dt


def pass_time(net: Network, x: np.ndarray, repeats: int = 5) -> float:
    """Best of ``repeats`` neighbour passes.

    Rows are handed out in chunks of 8192 (dynamic scheduling): the locality
    order gathers the hubs of a scale-free network near the front, and equal
    static halves would time the load imbalance instead of the memory access.
    """
    out = np.empty(net.n, np.float32)
    best = float("inf")
    with numba.parallel_chunksize(8192):
        neighbour_mean(net.indptr, net.indices, x, out)
        for _ in range(repeats):
            t0 = time.perf_counter()
            neighbour_mean(net.indptr, net.indices, x, out)
            best = min(best, time.perf_counter() - t0)
    return best


def describe(net: Network) -> None:
    print(
        f"  {'size':<28s} {net.n_edges:,} ties, mean degree {2 * net.n_edges / max(net.n, 1):.2f}, "
        f"{net.nbytes() / 2**20:,.0f} MiB = {net.nbytes() / max(net.n, 1):.1f} B/person, "
        f"{net.nbytes() / max(net.n_edges, 1):.2f} B/tie"
    )


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--n", type=int, default=10_000_000)
    ap.add_argument("--threads", type=int, default=numba.config.NUMBA_NUM_THREADS)
    ap.add_argument("--mean-degree", type=int, default=20)
    ap.add_argument("--seed", type=int, default=1)
    args = ap.parse_args()
    numba.set_num_threads(args.threads)
    n, d = args.n, args.mean_degree
    sizes = np.array([n // 2, 3 * n // 10, n - n // 2 - 3 * n // 10], dtype=np.int64)
    ro = np.concatenate([[0], np.cumsum(sizes)]).astype(np.int64)
    whole = np.array([0, n], dtype=np.int64)
    print(f"n = {n:,}, mean degree {d}, regions {sizes.tolist()}, numba threads {numba.get_num_threads()}")

    # compile or load every kernel on a small case first
    tiny = np.array([0, 300, 500, 600], dtype=np.int64)
    for net in (small_world(tiny, 6, 0.1, 0), scale_free(600, 6.0, 2.5, 0), block_model(tiny, 6.0, 0.8, 0)):
        net.permuted(locality_order(net, tiny)).permuted(shuffled_order(tiny, 0))
        neighbour_mean(net.indptr, net.indices, values(600, np.uint64(make_key(0, 0, 0, 0))), np.empty(600, np.float32))
    x = values(n, np.uint64(make_key(args.seed, 0, 0, 0)))

    total = 0.0
    print("small_world (rewiring 0.1)")
    sw, dt = measure("build", lambda: small_world(ro, d, 0.1, args.seed))
    total += dt
    describe(sw)
    perm, dt = measure("locality_order", lambda: locality_order(sw, ro))
    total += dt
    sw_local, dt = measure("permuted", lambda: sw.permuted(perm))
    total += dt
    print(f"  {'build + order + permute':<28s} {total:8.2f} s")
    sw_random, _ = measure("random relabelling", lambda: sw.permuted(shuffled_order(ro, args.seed)))
    scrambled_local = sw_random.permuted(locality_order(sw_random, ro))
    t_nat, t_rand = pass_time(sw, x), pass_time(sw_random, x)
    t_loc, t_loc2 = pass_time(sw_local, x), pass_time(scrambled_local, x)
    print(f"  neighbour pass: generator order {t_nat * 1e3:.0f} ms, random {t_rand * 1e3:.0f} ms, "
          f"locality(generator) {t_loc * 1e3:.0f} ms, locality(random) {t_loc2 * 1e3:.0f} ms "
          f"-> speed-up over random {t_rand / t_loc2:.1f}x")
    del sw, sw_local, sw_random, scrambled_local, perm

    for name, build, blocks in (
        ("scale_free (exponent 2.5)", lambda: scale_free(n, float(d), 2.5, args.seed), whole),
        ("block_model (within 0.8)", lambda: block_model(ro, float(d), 0.8, args.seed), ro),
    ):
        print(name)
        net, _ = measure("build", build)
        describe(net)
        perm, _ = measure("locality_order", lambda: locality_order(net, blocks))
        local, _ = measure("permuted", lambda: net.permuted(perm))
        t_gen, t_loc = pass_time(net, x), pass_time(local, x)
        print(f"  neighbour pass: generator order (random) {t_gen * 1e3:.0f} ms, locality {t_loc * 1e3:.0f} ms "
              f"-> speed-up {t_gen / t_loc:.1f}x")
        del net, local, perm


if __name__ == "__main__":
    main()
