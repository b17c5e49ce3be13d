"""Tests of engine.assortativity: score and tier assortativity against networkx, thread counts, undefined cases."""

from __future__ import annotations

import math

import networkx as nx
import numba
import numpy as np
import pytest

from socialcredit import rng
from socialcredit.engine import assortativity
from socialcredit.engine.stages import ties
from socialcredit.population.generators import small_world
from socialcredit.population.network import Network
from tests.engine.test_ties import T, TWO_THREADS, rows, world

# ---------------------------------------------------------------- assortativity
def graph_and_attributes():
    net = small_world(np.array([0, 200, 300], np.int64), 6, 0.3, 5)
    g = np.random.default_rng(11)
    tier = g.integers(0, T, net.n).astype(np.uint8)
    score = (500.0 + 60.0 * tier.astype(np.float64) + g.normal(0, 40, net.n)).astype(np.float32)  # score tied to tier
    # assortative by construction: each person's tier copied to a friend with probability 1/2
    for i in range(net.n):
        if g.random() < 0.5:
            tier[net.neighbours(i)[0]] = tier[i]
    return net, score, tier


def nx_graph(net: Network, indices: np.ndarray, score: np.ndarray, tier: np.ndarray) -> nx.Graph:
    g = nx.Graph()
    for i in range(net.n):
        g.add_node(i, score=float(score[i]), tier=int(tier[i]))
    for i, r in enumerate(rows(net, indices)):
        g.add_edges_from((i, j) for j in r)
    return g


def test_assortativity_equals_networkx_before_and_after_drops() -> None:
    net, score, tier = graph_and_attributes()
    thinned = net.indices.copy()
    ties.shame(net.indptr, thinned, np.arange(0, net.n, 3, dtype=np.int64), 0.5, rng.key(4, "shaming", 0))
    assert (thinned == -1).sum() > 100  # still symmetric: shaming empties both sides
    for indices in (net.indices, thinned):
        g = nx_graph(net, indices, score, tier)
        r_num = assortativity.score_assortativity(net.indptr, indices, score)
        r_cat = assortativity.tier_assortativity(net.indptr, indices, tier, T)
        assert abs(r_num - nx.numeric_assortativity_coefficient(g, "score")) < 1e-6
        assert abs(r_cat - nx.attribute_assortativity_coefficient(g, "tier")) < 1e-6
        assert r_cat > 0.05 and abs(r_num) > 0.01  # non-trivial values, not a 0 == 0 match


@TWO_THREADS
def test_assortativity_same_with_one_and_two_threads() -> None:
    net, _, _ = world([0, 30000, 50000])
    g = np.random.default_rng(12)
    score = g.normal(600, 80, net.n).astype(np.float32)
    tier = g.integers(0, T, net.n).astype(np.uint8)
    before = numba.get_num_threads()
    res = []
    try:
        for threads in (1, 2):
            numba.set_num_threads(threads)
            res.append((assortativity.score_assortativity(net.indptr, net.indices, score), assortativity.tier_assortativity(net.indptr, net.indices, tier, T)))
    finally:
        numba.set_num_threads(before)
    assert res[0] == res[1]  # bitwise equal
    assert not math.isnan(res[0][0]) and not math.isnan(res[0][1])


def test_assortativity_is_nan_when_undefined() -> None:
    net = Network.from_edges(4, np.array([[0, 1], [2, 3]]))
    same = np.full(4, 500, np.float32)
    assert math.isnan(assortativity.score_assortativity(net.indptr, net.indices, same))
    assert math.isnan(assortativity.tier_assortativity(net.indptr, net.indices, np.zeros(4, np.uint8), T))
    empty = np.full_like(net.indices, -1)
    assert math.isnan(assortativity.score_assortativity(net.indptr, empty, np.arange(4, dtype=np.float32)))
    assert math.isnan(assortativity.tier_assortativity(net.indptr, empty, np.arange(4, dtype=np.uint8), T))
    # perfectly assortative and disassortative tiers
    assert assortativity.tier_assortativity(net.indptr, net.indices, np.array([0, 0, 1, 1], np.uint8), T) == pytest.approx(1.0)
    assert assortativity.tier_assortativity(net.indptr, net.indices, np.array([0, 1, 0, 1], np.uint8), T) == pytest.approx(-1.0)
