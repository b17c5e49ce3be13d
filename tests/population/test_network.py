"""Tests of the network type, the three generators and the locality ordering."""

from __future__ import annotations

from collections.abc import Callable

import networkx as nx
import numba
import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from socialcredit.population.generators import block_model, block_probabilities, scale_free, small_world
from socialcredit.population.network import Network
from socialcredit.population.ordering import locality_order, shuffled_order

REGIONS = np.array([0, 5000, 8000, 10000], dtype=np.int64)  # shares 0.5 / 0.3 / 0.2


def assert_valid(net: Network) -> None:
    """CSR invariants: dtypes, offsets, sorted rows, no loops or repeats, symmetry."""
    n = net.n
    assert net.indptr.dtype == np.int64 and net.indices.dtype == np.int32
    assert net.indptr[0] == 0 and net.indptr[-1] == net.indices.shape[0]
    assert np.all(np.diff(net.indptr) >= 0)
    if net.indices.size == 0:
        return
    assert net.indices.min() >= 0 and net.indices.max() < n
    rows = np.repeat(np.arange(n), net.degree())
    same_row = rows[1:] == rows[:-1]
    assert np.all(np.diff(net.indices.astype(np.int64))[same_row] > 0), "rows must be strictly ascending"
    assert not np.any(rows == net.indices), "self loop"
    fwd = rows * n + net.indices
    bwd = net.indices.astype(np.int64) * n + rows
    assert np.array_equal(np.sort(fwd), np.sort(bwd)), "not symmetric"
    assert net.indices.shape[0] % 2 == 0


def region_of(nodes: np.ndarray, ro: np.ndarray) -> np.ndarray:
    return np.searchsorted(ro, nodes, side="right") - 1


def ring_distance(u: np.ndarray, v: np.ndarray, ro: np.ndarray) -> np.ndarray:
    r = region_of(u, ro)
    s = ro[r + 1] - ro[r]
    d = np.abs(u - v)
    return np.minimum(d, s - d)


GENERATORS: dict[str, Callable[[int], Network]] = {
    "small_world": lambda seed: small_world(REGIONS, 10, 0.2, seed),
    "scale_free": lambda seed: scale_free(10000, 8.0, 2.5, seed),
    "scale_free_regions": lambda seed: scale_free(10000, 8.0, 2.5, seed, region_offsets=REGIONS),
    "block_model": lambda seed: block_model(REGIONS, 8.0, 0.7, seed),
}


# ------------------------------------------------------------ shared invariants


@pytest.mark.parametrize("name", list(GENERATORS))
@pytest.mark.parametrize("seed", [0, 1, 12345])
def test_generators_give_valid_csr(name: str, seed: int) -> None:
    net = GENERATORS[name](seed)
    assert net.n == 10000
    assert net.n_edges > 30000
    assert_valid(net)


@pytest.mark.parametrize("name", list(GENERATORS))
def test_generators_are_deterministic_in_the_seed(name: str) -> None:
    a, b, c = GENERATORS[name](7), GENERATORS[name](7), GENERATORS[name](8)
    assert np.array_equal(a.indptr, b.indptr) and np.array_equal(a.indices, b.indices)
    assert not (a.indices.shape == c.indices.shape and np.array_equal(a.indices, c.indices))


@pytest.mark.skipif(numba.config.NUMBA_NUM_THREADS < 2, reason="needs 2 numba threads")
@pytest.mark.parametrize("name", list(GENERATORS))
def test_same_result_with_one_or_two_threads(name: str) -> None:
    before = numba.get_num_threads()
    results = []
    try:
        for threads in (1, 2):
            numba.set_num_threads(threads)
            net = GENERATORS[name](3)
            perm = locality_order(net, REGIONS)
            results.append((net, perm, net.permuted(perm)))
    finally:
        numba.set_num_threads(before)
    (n1, p1, q1), (n2, p2, q2) = results
    assert np.array_equal(n1.indptr, n2.indptr) and np.array_equal(n1.indices, n2.indices)
    assert np.array_equal(p1, p2)
    assert np.array_equal(q1.indices, q2.indices)


# ----------------------------------------------------------------- small world


def test_small_world_lattice_degree_and_clustering() -> None:
    k = 6
    ro = np.array([0, 300], dtype=np.int64)
    net = small_world(ro, k, 0.0, seed=1)
    assert_valid(net)
    assert np.all(net.degree() == k)
    g = nx.Graph()
    g.add_nodes_from(range(net.n))
    g.add_edges_from(net.to_edges().tolist())
    closed_form = 3 * (k - 2) / (4 * (k - 1))
    assert nx.average_clustering(g) == pytest.approx(closed_form, abs=1e-12)
    # every tie is a lattice tie of ring distance <= k/2
    e = net.to_edges()
    assert np.all(ring_distance(e[:, 0], e[:, 1], ro) <= k // 2)


@pytest.mark.parametrize("p", [0.05, 0.3, 1.0])
def test_small_world_rewired_share_is_p(p: float) -> None:
    ro = np.array([0, 10000, 16000, 20000], dtype=np.int64)
    k = 10
    net = small_world(ro, k, p, seed=11)
    assert_valid(net)
    e = net.to_edges()
    m = e.shape[0]
    assert m == 20000 * k // 2  # rewiring moves ties, never drops them
    share = np.mean(ring_distance(e[:, 0], e[:, 1], ro) > k // 2)
    # each lattice tie is rewired independently with probability p: binomial, 4 sigma
    tol = 4 * np.sqrt(p * (1 - p) / m) + 1e-9
    assert abs(share - p) <= tol, (share, p, tol)


def test_small_world_keeps_ties_inside_regions() -> None:
    net = small_world(REGIONS, 12, 0.5, seed=5)
    e = net.to_edges()
    assert np.array_equal(region_of(e[:, 0], REGIONS), region_of(e[:, 1], REGIONS))


def test_small_world_small_blocks_are_complete_and_odd_degree_rounds_down() -> None:
    ro = np.array([0, 5, 6, 8, 60], dtype=np.int64)  # blocks of 5, 1, 2 and 52 persons
    net = small_world(ro, 7, 0.3, seed=2)  # k = 6
    assert_valid(net)
    deg = net.degree()
    assert np.all(deg[0:5] == 4) and deg[5] == 0 and np.all(deg[6:8] == 1)
    assert net.n_edges == 10 + 0 + 1 + 52 * 3


# ---------------------------------------------------------------- block model


def test_block_model_within_share_and_degree() -> None:
    d, w = 10.0, 0.7
    ro = np.array([0, 15000, 24000, 30000], dtype=np.int64)
    net = block_model(ro, d, w, seed=4)
    assert_valid(net)
    e = net.to_edges()
    ru, rv = region_of(e[:, 0], ro), region_of(e[:, 1], ro)
    # ~150k independent ties: the share's sd is about 0.0012, the mean degree's 0.026
    assert np.mean(ru == rv) == pytest.approx(w, abs=0.01)
    deg = net.degree()
    assert deg.mean() == pytest.approx(d, abs=0.12)
    for r in range(3):  # every person's expected degree is d, whatever their region
        assert deg[ro[r] : ro[r + 1]].mean() == pytest.approx(d, abs=0.2)
    # ties leaving region 0 go to regions 1 and 2 in proportion to size (9000 : 6000)
    out0 = np.concatenate([rv[(ru == 0) & (rv != 0)], ru[(rv == 0) & (ru != 0)]])
    assert np.mean(out0 == 1) == pytest.approx(0.6, abs=0.02)


def test_block_model_probabilities_and_infeasible_share() -> None:
    p_within, p_between = block_probabilities(REGIONS, 8.0, 0.7)
    sizes = np.diff(REGIONS)
    expected_deg = p_within * (sizes - 1) + p_between * (10000 - sizes)
    assert np.allclose(expected_deg, 8.0)
    total_within = np.sum(sizes * p_within * (sizes - 1)) / 2
    assert total_within / (10000 * 8.0 / 2) == pytest.approx(0.7)
    with pytest.raises(ValueError, match="within_share"):
        block_model(REGIONS, 8.0, 0.0, seed=1)


# ----------------------------------------------------------------- scale free


@pytest.mark.parametrize("exponent", [2.5, 3.0])
def test_scale_free_mean_and_heavy_tail(exponent: float) -> None:
    n, d = 200000, 10.0
    net = scale_free(n, d, exponent, seed=9)
    assert_valid(net)
    deg = net.degree()
    assert deg.mean() == pytest.approx(d, rel=0.05)
    assert deg.max() > 50 * d
    # complementary CDF P(D >= x) ~ x^-(exponent-1) between the body and the cutoff
    xs = np.arange(int(np.ceil(2 * np.percentile(deg, 5))), int(np.sqrt(d * n) / 4))
    ccdf = np.array([(deg >= x).mean() for x in xs])
    slope = np.polyfit(np.log(xs), np.log(ccdf), 1)[0]
    assert slope - 1 == pytest.approx(-exponent, abs=0.25)


def test_scale_free_regions_pair_within_blocks() -> None:
    net = scale_free(10000, 8.0, 2.5, seed=3, region_offsets=REGIONS)
    e = net.to_edges()
    assert np.array_equal(region_of(e[:, 0], REGIONS), region_of(e[:, 1], REGIONS))
    assert net.degree().mean() == pytest.approx(8.0, rel=0.1)


def test_scale_free_rejects_bad_parameters() -> None:
    with pytest.raises(ValueError, match="exponent"):
        scale_free(1000, 8.0, 1.0, seed=1)
    with pytest.raises(ValueError, match="mean_degree"):
        scale_free(1000, 1.0, 2.5, seed=1)  # below the minimum for degree >= 1


# ------------------------------------------------------------------- ordering


def mean_gap(net: Network) -> float:
    e = net.to_edges()
    return float(np.mean(e[:, 1] - e[:, 0]))


@pytest.mark.parametrize(
    "name, blocks, factor",
    [
        ("small_world", REGIONS, 0.7),
        # random graphs are expanders: no labelling makes their ties short, BFS only trims the gap
        ("scale_free", np.array([0, 10000]), 0.95),
        ("block_model", REGIONS, 0.95),
    ],
)
def test_locality_order_is_a_region_preserving_permutation_that_helps(name: str, blocks: np.ndarray, factor: float) -> None:
    net = GENERATORS[name](21)
    scrambled = net.permuted(shuffled_order(blocks, seed=5))
    perm = locality_order(scrambled, blocks)
    assert perm.dtype == np.int64
    assert np.array_equal(np.sort(perm), np.arange(net.n))
    old = np.arange(net.n)
    assert np.array_equal(region_of(perm, blocks), region_of(old, blocks))
    ordered = scrambled.permuted(perm)
    assert_valid(ordered)
    mapped = np.sort(perm[scrambled.to_edges()], axis=1)
    mapped = mapped[np.lexsort((mapped[:, 1], mapped[:, 0]))]
    assert np.array_equal(mapped, ordered.to_edges())
    assert mean_gap(ordered) < factor * mean_gap(scrambled)


def test_shuffled_order_is_a_region_preserving_permutation() -> None:
    perm = shuffled_order(REGIONS, seed=1)
    assert np.array_equal(np.sort(perm), np.arange(10000))
    assert np.array_equal(region_of(perm, REGIONS), region_of(np.arange(10000), REGIONS))
    assert np.mean(perm == np.arange(10000)) < 0.01
    assert np.array_equal(perm, shuffled_order(REGIONS, seed=1))


def test_locality_order_starts_components_at_low_degree() -> None:
    # two components in one block: a star on 0..4 (centre 2) and an edge 5-6, plus isolated 7
    net = Network.from_edges(8, np.array([[2, 0], [2, 1], [2, 3], [2, 4], [5, 6]]))
    perm = locality_order(net, np.array([0, 8]))
    order = np.argsort(perm)  # order[new] = old
    assert order[0] == 7  # degree 0 comes first
    assert order[1] == 0 and order[2] == 2  # star entered at a leaf, then its centre
    assert set(order[3:6]) == {1, 3, 4} and set(order[6:]) == {5, 6}


def test_permuted_rejects_non_permutations() -> None:
    net = small_world(np.array([0, 20]), 4, 0.0, seed=1)
    with pytest.raises(ValueError):
        net.permuted(np.zeros(20, np.int64))
    with pytest.raises(ValueError):
        net.permuted(np.arange(19))


# ---------------------------------------------------------------- Network type


def test_network_basics() -> None:
    net = Network.from_edges(5, np.array([[0, 1], [1, 0], [3, 1], [1, 3], [4, 2]]))
    assert_valid(net)
    assert net.n == 5 and net.n_edges == 3 and net.duplicates_removed == 2
    assert net.degree().tolist() == [1, 2, 1, 1, 1]
    assert net.neighbours(1).tolist() == [0, 3]
    assert net.to_edges().tolist() == [[0, 1], [1, 3], [2, 4]]
    assert net.nbytes() == 6 * 8 + 6 * 4
    with pytest.raises(ValueError, match="self loop"):
        Network.from_edges(5, np.array([[0, 1], [2, 2]]))
    with pytest.raises(ValueError, match="0..4"):
        Network.from_edges(5, np.array([[0, 5]]))


@settings(max_examples=40, deadline=None)
@given(st.integers(1, 40).flatmap(lambda n: st.tuples(st.just(n), st.lists(st.tuples(st.integers(0, n - 1), st.integers(0, n - 1)), max_size=120))))
def test_from_edges_round_trip(case: tuple[int, list[tuple[int, int]]]) -> None:
    n, pairs = case
    pairs = [(a, b) for a, b in pairs if a != b]
    net = Network.from_edges(n, np.array(pairs, dtype=np.int64).reshape(-1, 2))
    assert_valid(net)
    unique = sorted({(min(a, b), max(a, b)) for a, b in pairs})
    assert net.to_edges().tolist() == [list(t) for t in unique]
    assert net.duplicates_removed == len(pairs) - len(unique)


def test_row_sort_equals_numpy_for_short_and_long_rows() -> None:
    """Rows are sorted by insertion sort up to 48 slots and by heap sort beyond; both must equal numpy's sort."""
    from socialcredit.population import network as nw

    gen = np.random.default_rng(0)
    for m in (0, 1, 2, 48, 49, 50, 51, 100, 1000, 5000):
        for dtype in (np.int32, np.int64):
            a = gen.integers(-1, 300, m + 20).astype(dtype)  # with repeats and empty slots (-1)
            expected = a.copy()
            expected[10 : 10 + m].sort()
            nw._sort_segment(a, 10, 10 + m)
            assert np.array_equal(a, expected), m
