"""The friends' mean: the far-ties path gives exactly the direct gather's numbers."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

import socialcredit as sc
from socialcredit.engine.stages import friends_mean
from socialcredit.engine.sim import Sim
from socialcredit.population.generators import block_model, small_world
from socialcredit.results import Results


def _both(net, composite: bool, far: friends_mean.FarTies) -> tuple[np.ndarray, ...]:
    rng = np.random.default_rng(4)
    n = net.indptr.shape[0] - 1
    score = rng.uniform(300, 1300, n).astype(np.float32)
    score_cf = (score + rng.normal(0, 5, n)).astype(np.float32)
    points = rng.normal(0, 40, n).astype(np.float32)
    points_cf = (points + rng.normal(0, 3, n)).astype(np.float32)
    args = (score, score_cf, points, points_cf, composite, 1000.0, 0.0, 1300.0)
    direct = np.empty(n, np.float32), np.empty(n, np.float32)
    friends_mean.friends_mean_kernel(net.indptr, net.indices, *args, *direct)
    via = np.empty(n, np.float32), np.empty(n, np.float32)
    friends_mean._read_far(far.friend, far.rank, *args, far.value)
    friends_mean._mean_with_far(net.indptr, net.indices, *args, far.value, far.chunk_start, friends_mean.NEAR, *via)
    return direct, via


@pytest.mark.parametrize("composite", [True, False])
def test_far_path_equals_direct_gather_bit_for_bit(composite: bool) -> None:
    """Three regions (a friend can be far across a region's ring) and rows spanning chunk boundaries."""
    offsets = np.array([0, 30_000, 45_000, 70_001])
    net = small_world(offsets, 20, 0.1, seed=3)
    far = friends_mean.index_far_ties(net.indptr, net.indices, composite)
    assert far is not None
    share = far.friend.size / net.indices.size
    assert 0.08 < share < 0.13  # rewired ties (0.1) plus ring neighbours across a region's wrap-around
    # the index is ordered by friend block, and holds each far tie once
    assert (np.diff(far.friend // friends_mean.BUCKET) >= 0).all()
    assert np.array_equal(np.sort(far.rank), np.arange(far.friend.size))
    # exactly the serial counting sort: far ties in tie order, stably sorted by the friend's block
    rows = np.repeat(np.arange(net.indptr.size - 1), np.diff(net.indptr))
    is_far = np.abs(net.indices - rows) > friends_mean.NEAR
    tie_friend = net.indices[is_far]
    order = np.argsort(tie_friend // friends_mean.BUCKET, kind="stable")
    assert np.array_equal(far.friend, tie_friend[order]) and np.array_equal(far.rank, order)
    (d, d_cf), (v, v_cf) = _both(net, composite, far)
    assert np.array_equal(d, v, equal_nan=True) and np.array_equal(d_cf, v_cf, equal_nan=True)


def test_no_index_when_most_ties_are_far() -> None:
    """A block model's ties join random persons: the index would cost memory without saving time."""
    offsets = np.array([0, 20_000])
    net = block_model(offsets, 10.0, 1.0, seed=1)
    assert friends_mean.index_far_ties(net.indptr, net.indices) is None


def test_sim_uses_the_index_only_on_a_large_fixed_network(monkeypatch: pytest.MonkeyPatch) -> None:
    """Small runs gather directly; with the threshold lowered the far path runs and the results are identical."""
    rb = sc.load("reference", persons=5000, days=30)
    small = Sim(rb)
    direct = Results.from_sim(small.run())
    assert small.far_ties is None  # the scores fit in the cache: the direct gather is as fast
    monkeypatch.setattr(friends_mean, "MIN_PERSONS", 1000)
    fixed = Sim(rb)
    via = Results.from_sim(fixed.run())
    assert fixed.far_ties is not None
    pd.testing.assert_frame_equal(direct.daily, via.daily, check_exact=True)
    changing = Sim(sc.load("reference", persons=5000, days=10, overrides={"responses.unfriending.probability": 0.1}))
    changing.setup()
    assert changing.far_ties is None
