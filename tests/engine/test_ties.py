"""Tests of engine.stages.ties: unfriending with rewiring and shaming."""

from __future__ import annotations

import math

import numba
import numpy as np
import pytest

from socialcredit import rng
from socialcredit.engine.stages import ties
from socialcredit.population.generators import small_world
from socialcredit.population.network import Network

TWO_THREADS = pytest.mark.skipif(numba.config.NUMBA_NUM_THREADS < 2, reason="needs 2 numba threads")
T = 4  # tiers in these tests


def world(offsets: list[int], degree: int = 10, seed: int = 1) -> tuple[Network, np.ndarray, np.ndarray]:
    """A small world on the given region blocks, its offsets and every person's region."""
    ro = np.array(offsets, np.int64)
    net = small_world(ro, degree, 0.1, seed)
    region = np.repeat(np.arange(len(offsets) - 1), np.diff(ro)).astype(np.uint8)
    return net, ro, region


def attributes(n: int, low_share: float, seed: int) -> tuple[np.ndarray, np.ndarray]:
    """Random low flags (uint8) and tiers (uint8, uniform over T), independent of each other."""
    g = np.random.default_rng(seed)
    return (g.random(n) < low_share).astype(np.uint8), g.integers(0, T, n).astype(np.uint8)


def rows(net: Network, indices: np.ndarray) -> list[list[int]]:
    return [[int(j) for j in indices[net.indptr[i] : net.indptr[i + 1]] if j >= 0] for i in range(net.n)]


def run_unfriend(net, ro, region, low, tier, p, rewire, bias=0.5, seed=3):
    """unfriend on a copy of the slots; returns (indices, dropper, dropped, new_friend, scratch)."""
    idx = net.indices.copy()
    scratch = np.zeros(net.n, np.uint16)
    out = ties.unfriend(
        net.indptr, idx, low, region, ro, tier, ties.tier_preference(T, bias), p, rewire,
        rng.key(seed, "unfriend", 0), rng.key(seed, "rewire", 0), scratch,
    )  # fmt: skip
    return (idx, *out, scratch)


def expected_drops(net: Network, marked: np.ndarray, p: float) -> tuple[float, float]:
    """Mean and variance of the number of drops of ties pointing at marked persons (symmetric network).

    A slot from an unmarked person to a marked one drops with probability p. A
    tie between two marked persons has a draw on each side but can drop only
    once (the first drop empties the other side): probability 1 - (1 - p)^2.
    """
    rows_of = np.repeat(np.arange(net.n), net.degree())
    to_marked = marked[net.indices] == 1
    s_one = int(np.sum(to_marked & (marked[rows_of] == 0)))
    t_both = int(np.sum(to_marked & (marked[rows_of] == 1))) // 2
    q = 1.0 - (1.0 - p) ** 2
    return p * s_one + q * t_both, p * (1 - p) * s_one + q * (1 - q) * t_both


# ---------------------------------------------------------------- droppable
def test_droppable_kernel_truth_table() -> None:
    tier = np.array([0, 1, 2, 0, 1, 2], np.uint8)
    black = np.array([-1, -1, -1, 4, 0, 9], np.int32)
    low_tier = np.array([False, False, True])
    out = np.full(6, 7, np.uint8)
    ties.droppable_kernel(tier, black, low_tier, False, out)
    assert out.tolist() == [0, 0, 1, 0, 0, 1]
    ties.droppable_kernel(tier, black, low_tier, True, out)
    assert out.tolist() == [0, 0, 1, 1, 1, 1]
    ties.droppable_kernel(tier, black, np.zeros(3, np.bool_), True, out)
    assert out.tolist() == [0, 0, 0, 1, 1, 1]


# ---------------------------------------------------------------- unfriend
def test_unfriend_with_p_zero_changes_nothing() -> None:
    net, ro, region = world([0, 600, 1000])
    low, tier = attributes(net.n, 0.3, 1)
    idx, dropper, dropped, new, scratch = run_unfriend(net, ro, region, low, tier, 0.0, True)
    assert np.array_equal(idx, net.indices)
    assert dropper.size == dropped.size == new.size == 0
    assert not scratch.any()


def test_unfriend_without_rewiring_drops_binomial_number_on_both_sides() -> None:
    net, ro, region = world([0, 3000, 5000])
    low, tier = attributes(net.n, 0.1, 2)
    p = 0.3
    idx, dropper, dropped, new, scratch = run_unfriend(net, ro, region, low, tier, p, False)
    mean, var = expected_drops(net, low, p)
    assert abs(dropped.size - mean) < 4 * math.sqrt(var), (dropped.size, mean, var)
    assert mean > 0.9 * p * int(np.sum(low[net.indices]))  # the low-low correction is small here
    assert np.all(low[dropped] == 1) and np.all(new == -1)
    assert int(np.sum(idx == -1)) == 2 * dropped.size  # each drop empties exactly two slots
    after = rows(net, idx)
    for i, f in zip(dropper.tolist(), dropped.tolist()):
        assert f not in after[i] and i not in after[f]
    assert not scratch.any()


def test_unfriend_rewiring_keeps_rows_valid() -> None:
    net, ro, region = world([0, 3000, 5000])
    low, tier = attributes(net.n, 0.2, 4)
    idx, dropper, dropped, new, _ = run_unfriend(net, ro, region, low, tier, 0.5, True)
    # almost every slot of a dropper who is not droppable finds a new friend; droppable droppers find none
    assert dropped.size > 1000 and np.mean(new[low[dropper] == 0] >= 0) > 0.99
    assert np.all(new[low[dropper] == 1] == -1)
    after = rows(net, idx)
    for i, r in enumerate(after):
        assert i not in r and len(set(r)) == len(r)  # no self loops, no duplicates
    got = new >= 0
    assert np.all(region[new[got]] == region[dropper[got]]) and np.all(low[new[got]] == 0)
    readded = {(int(f), int(j)) for f, j in zip(dropper[got], new[got])}  # f rewired to j
    later_drop = {(int(i), int(f)) for i, f in zip(dropper, dropped)}
    for i, f, j in zip(dropper.tolist(), dropped.tolist(), new.tolist()):
        if f in after[i] or i in after[f]:
            assert (f, i) in readded  # only a rewiring by f itself can restore the pair
        if j >= 0:
            assert j in after[i] or (j, i) in later_drop  # kept unless j dropped i afterwards


def test_rewired_tie_is_mutual_only_when_the_new_friend_has_an_empty_slot() -> None:
    net = Network.from_edges(6, np.array([[0, 1], [2, 3], [4, 5], [2, 4], [3, 5]]))
    base = net.indices.copy()
    base[net.indptr[2] + list(net.neighbours(2)).index(4)] = -1  # tie 2-4 gone: 2 and 4 have room
    base[net.indptr[4] + list(net.neighbours(4)).index(2)] = -1
    ro = np.array([0, 6], np.int64)
    region = np.zeros(6, np.uint8)
    low = np.array([0, 1, 0, 0, 0, 0], np.uint8)
    tier = np.zeros(6, np.uint8)
    seen = set()
    for seed in range(40):
        idx = base.copy()
        _, dropped, new = ties.unfriend(
            net.indptr, idx, low, region, ro, tier, np.ones(T), 1.0, True,
            rng.key(seed, "unfriend", 0), rng.key(seed, "rewire", 0), np.zeros(6, np.uint16),
        )  # fmt: skip
        assert dropped.tolist() == [1] and int(new[0]) in (2, 3, 4, 5)
        j = int(new[0])
        after = rows(net, idx)
        assert after[0] == [j] and after[1] == []
        assert (0 in after[j]) == (j in (2, 4))  # mutual iff j had an empty slot
        assert sorted(r for r in after[j] if r != 0) == sorted(rows(net, base)[j])  # nothing else moved
        seen.add(j in (2, 4))
    assert seen == {True, False}


def test_rewiring_prefers_better_tiers_in_proportion_to_pref() -> None:
    net, ro, region = world([0, 12000, 20000])
    low, tier = attributes(net.n, 0.2, 5)
    bias = 0.5
    pref = ties.tier_preference(T, bias)
    assert pref[0] == 1.0 and np.allclose(pref, np.exp(-bias * np.arange(T)))
    _, dropper, _, new, _ = run_unfriend(net, ro, region, low, tier, 0.5, True, bias=bias)
    got = new >= 0
    assert not np.any(got & (low[dropper] == 1))  # droppable persons are never accepted
    # eligible candidates per region and tier (non-low persons); exclusions of i, f, friends are negligible.
    # A candidate of tier t is accepted by dropper i with weight pref[max(tier_i, t)].
    elig = np.zeros((2, T))
    np.add.at(elig, (region[low == 0], tier[low == 0]), 1)
    ti = tier[dropper[got]]
    w = elig[region[dropper[got]]] * pref[np.maximum(ti[:, None], np.arange(T)[None, :])]
    expect = (w / w.sum(axis=1, keepdims=True)).sum(axis=0)
    obs = np.bincount(tier[new[got]], minlength=T).astype(float)
    # log of the tier-0 / tier-3 ratio, within 4 standard deviations (sd ~ sqrt(1/n0 + 1/n3) ~ 0.025)
    sd = math.sqrt(1 / obs[0] + 1 / obs[T - 1])
    assert abs(math.log(obs[0] / obs[T - 1]) - math.log(expect[0] / expect[T - 1])) < 4 * sd, (obs, expect)
    assert obs[0] > obs[T - 1]  # better tiers are preferred
    assert np.all(np.abs(obs - expect) < 4 * np.sqrt(expect)), (obs, expect)
    # droppers in the best tier pick tier t in proportion to pref[t]; those in the worst tier pick any tier alike
    for t_i, shape in ((0, pref), (T - 1, np.ones(T))):
        sel = ti == t_i
        o = np.bincount(tier[new[got][sel]], minlength=T).astype(float)
        e = (elig[region[dropper[got][sel]]] * shape).sum(axis=0)
        e = e / e.sum() * o.sum()
        assert np.all(np.abs(o - e) < 4 * np.sqrt(e) + 1), (t_i, o, e)


def reference_unfriend(net, ro, region, low, tier, pref, p, rewire, kd, kr):
    """A plain-Python transcription of the mechanism in the module docstring."""
    ptr = net.indptr
    idx = net.indices.copy()
    u = rng.uniform
    drop = [i for i in range(net.n) if any(idx[k] >= 0 and low[idx[k]] and u(kd, k) < p for k in range(ptr[i], ptr[i + 1]))]
    events = []
    for i in drop:
        lo, hi = int(ro[region[i]]), int(ro[region[i] + 1])
        for k in range(ptr[i], ptr[i + 1]):
            f = int(idx[k])
            if f < 0 or not low[f] or u(kd, k) >= p:
                continue
            row_f = idx[ptr[f] : ptr[f + 1]]
            hit = np.flatnonzero(row_f == i)
            if hit.size:
                row_f[hit[0]] = -1
            j = -1
            for t in range(64 if rewire and not low[i] else 0):
                h = int(rng.bits(kr, k * 64 + t))
                c = lo + (((h >> 32) * (hi - lo)) >> 32)
                if c in (i, f) or low[c] or c in idx[ptr[i] : ptr[i + 1]]:
                    continue
                if (h & 0xFFFFFFFF) / 2**32 < pref[max(tier[i], tier[c])]:
                    j = c
                    break
            idx[k] = j
            row_j = idx[ptr[j] : ptr[j + 1]] if j >= 0 else None
            if j >= 0 and i not in row_j:
                empty = np.flatnonzero(row_j == -1)
                if empty.size:
                    row_j[empty[0]] = i
            events.append((i, f, j))
    return idx, events


def test_unfriend_matches_plain_python_reference() -> None:
    net, ro, region = world([0, 250, 400], degree=8, seed=6)
    low, tier = attributes(net.n, 0.3, 6)
    pref = ties.tier_preference(T, 1.0)
    kd, kr = rng.key(9, "unfriend", 2), rng.key(9, "rewire", 2)
    for rewire in (False, True):
        idx = net.indices.copy()
        out = ties.unfriend(net.indptr, idx, low, region, ro, tier, pref, 0.4, rewire, kd, kr, np.zeros(net.n, np.uint16))
        ref_idx, ref_events = reference_unfriend(net, ro, region, low, tier, pref, 0.4, rewire, kd, kr)
        assert len(ref_events) > 50
        assert np.array_equal(idx, ref_idx)
        assert list(zip(*(a.tolist() for a in out))) == ref_events


@TWO_THREADS
def test_unfriend_same_with_one_and_two_threads() -> None:
    net, ro, region = world([0, 6000, 10000])
    low, tier = attributes(net.n, 0.2, 7)
    before = numba.get_num_threads()
    res = []
    try:
        for threads in (1, 2):
            numba.set_num_threads(threads)
            res.append(run_unfriend(net, ro, region, low, tier, 0.4, True))
    finally:
        numba.set_num_threads(before)
    assert res[0][1].size > 0
    for a, b in zip(*res):
        assert np.array_equal(a, b)


# ---------------------------------------------------------------- shame
def test_shame_drops_expected_number_on_both_sides() -> None:
    net, _, _ = world([0, 3000, 5000])
    g = np.random.default_rng(8)
    listed = np.flatnonzero(g.random(net.n) < 0.05).astype(np.int64)
    marked = np.zeros(net.n, np.uint8)
    marked[listed] = 1
    p = 0.4
    idx = net.indices.copy()
    dropper, dropped = ties.shame(net.indptr, idx, listed, p, rng.key(2, "shaming", 0))
    mean, var = expected_drops(net, marked, p)
    assert abs(dropped.size - mean) < 4 * math.sqrt(var), (dropped.size, mean, var)
    assert np.all(marked[dropped] == 1)
    assert int(np.sum(idx == -1)) == 2 * dropped.size
    after = rows(net, idx)
    for j, s in zip(dropper.tolist(), dropped.tolist()):
        assert s not in after[j] and j not in after[s]


def test_shame_with_p_one_isolates_the_listed() -> None:
    net, _, _ = world([0, 600, 1000])
    listed = np.array([3, 100, 101, 700], np.int64)
    idx = net.indices.copy()
    _, dropped = ties.shame(net.indptr, idx, listed, 1.0, rng.key(2, "shaming", 1))
    rows_of = np.repeat(np.arange(net.n), np.diff(net.indptr))
    deg = np.bincount(rows_of[idx >= 0], minlength=net.n)  # friends left: non-empty slots per row
    assert np.all(deg[listed] == 0)
    assert not np.isin(idx, listed).any()
    assert dropped.size == net.degree()[listed].sum() - 2 * int(101 in net.neighbours(100))
