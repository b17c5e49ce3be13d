"""Assortativity of the friendship network against networkx, and the network series against the final state.

The engine's network is CSR rows of the persons each person counts as
friends, -1 marking a dropped tie; every non-empty slot is one directed tie.
networkx counts each edge of an undirected ``Graph`` in both directions, so
on the symmetric network a run starts with the two agree on ``nx.Graph``.
Unfriending with rewiring can leave one-sided ties, so after a run the
comparison is on the ``nx.DiGraph`` of the slots. networkx would merge a
friend listed twice in one row; the engine never writes one twice (checked).
"""

from __future__ import annotations

import networkx as nx
import numpy as np
import pytest

import socialcredit as sc
from socialcredit.analysis import assortativity, network_series
from socialcredit.engine.stages.daily import NETWORK_EVERY
from socialcredit.engine.sim import Sim
from socialcredit.errors import InputError
from socialcredit.results import Results
from tests.analysis.conftest import MOVING_TIERS

UNFRIENDING = {"responses.unfriending.probability": 0.3, "responses.unfriending.tiers": ["C", "D"], "responses.unfriending.rewire": True}


def ties(indptr: np.ndarray, indices: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(i, j) of every non-empty slot."""
    rows = np.repeat(np.arange(indptr.size - 1), np.diff(indptr))
    keep = indices >= 0
    return rows[keep], indices[keep].astype(np.int64)


def graph(indptr, indices, attrs: dict[str, np.ndarray], directed: bool) -> nx.Graph:
    g = nx.DiGraph() if directed else nx.Graph()
    n = indptr.size - 1
    g.add_nodes_from(range(n))
    for name, values in attrs.items():
        nx.set_node_attributes(g, {i: values[i].item() for i in range(n)}, name)
    i, j = ties(indptr, indices)
    g.add_edges_from(zip(i.tolist(), j.tolist()))
    return g


@pytest.fixture(scope="module")
def run():
    """2,000 persons, 150 days, friends dropping low-tier and blacklisted friends and rewiring toward better tiers."""
    rb = sc.load("smalltown", {**MOVING_TIERS, **UNFRIENDING}, persons=2000, days=150)
    sim = Sim(rb)
    sim.setup()
    res = Results.from_sim(sim.run())
    return sim, res


def test_final_network_assortativity_equals_networkx_on_the_directed_graph(run) -> None:
    sim, res = run
    net = sim.pop.network
    i, j = ties(net.indptr, net.indices)
    pairs = set(zip(i.tolist(), j.tolist()))
    assert len(pairs) == i.size  # no friend twice in a row: networkx would merge them
    assert (net.indices < 0).any() and len(pairs - {(b, a) for a, b in pairs}) > 0  # ties dropped, some one-sided
    score = sim.state.score.astype(np.float64)
    tier = sim.state.tier.astype(np.int64)
    g = graph(net.indptr, net.indices, {"score": score, "tier": tier}, directed=True)
    mine = assortativity(net.indptr, net.indices, score)
    assert mine == pytest.approx(nx.numeric_assortativity_coefficient(g, "score"), abs=1e-9)
    mine_t = assortativity(net.indptr, net.indices, tier, categorical=True)
    assert mine_t == pytest.approx(nx.attribute_assortativity_coefficient(g, "tier"), abs=1e-9)
    assert len(np.unique(tier)) >= 4 and np.isfinite(mine) and np.isfinite(mine_t)  # a real check: tiers vary
    # and they are what the run recorded on its last day
    last = network_series(res).iloc[-1]
    assert last["day"] == res.meta["days"] - 1
    assert last["score_assortativity"] == pytest.approx(mine, abs=1e-12)
    assert last["tier_assortativity"] == pytest.approx(mine_t, abs=1e-12)


def test_symmetric_network_equals_networkx_on_the_undirected_graph() -> None:
    """The network as built (every friendship in both rows), with random numbers and labels as attributes."""
    sim = Sim(sc.load("smalltown", persons=1500, days=1))
    sim.setup()
    net = sim.pop.network
    i, j = ties(net.indptr, net.indices)
    assert set(zip(i.tolist(), j.tolist())) == set(zip(j.tolist(), i.tolist()))  # symmetric
    rng = np.random.default_rng(3)
    n = net.indptr.size - 1
    x = rng.normal(size=n) + 0.5 * np.repeat(np.arange(n) // 100, 1)  # neighbours on the ring are alike
    labels = np.array(["red", "green", "blue"])[(np.arange(n) // 200) % 3]
    g = graph(net.indptr, net.indices, {"x": x, "label": labels}, directed=False)
    assert assortativity(net.indptr, net.indices, x) == pytest.approx(nx.numeric_assortativity_coefficient(g, "x"), abs=1e-9)
    assert assortativity(net.indptr, net.indices, labels, categorical=True) == pytest.approx(
        nx.attribute_assortativity_coefficient(g, "label"), abs=1e-9
    )


def test_network_series_matches_the_final_state(run) -> None:
    sim, res = run
    s = network_series(res)
    days = res.meta["days"]
    assert list(s.columns) == ["day", "degree_mean", "degree_blacklisted", "degree_others", "score_assortativity", "tier_assortativity"]
    assert list(s["day"]) == [*range(0, days, NETWORK_EVERY), days - 1]
    assert s["score_assortativity"].notna().all()  # the network changes, so it is measured every time
    st = sim.state
    listed = st.black_since >= 0
    assert listed.sum() > 20
    last = s.iloc[-1]
    assert last["degree_mean"] == pytest.approx(st.degree.mean(), abs=1e-12)
    assert last["degree_blacklisted"] == pytest.approx(st.degree[listed].mean(), abs=1e-12)
    assert last["degree_others"] == pytest.approx(st.degree[~listed].mean(), abs=1e-12)
    assert last["degree_blacklisted"] < last["degree_others"]  # friends drop the blacklisted
    assert np.isnan(s["degree_blacklisted"].iloc[0])  # nobody listed on day 0


def test_values_must_match_the_persons() -> None:
    with pytest.raises(InputError, match="one value per person is needed: 3 persons, 2 values"):
        assortativity(np.array([0, 1, 2, 2]), np.array([1, 0]), np.array([1.0, 2.0]))
