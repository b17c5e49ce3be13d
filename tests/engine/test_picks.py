"""engine.picks: the picks of a parallel pass, as ascending indices."""

from __future__ import annotations

import numpy as np

from socialcredit.engine import picks
from socialcredit import rng
from socialcredit.engine.stages import services
from socialcredit.engine.layout import CHUNK


def test_gather_with_kernel_collects_the_picks_and_their_values() -> None:
    """Picks noted per chunk (offsets and counts) come back as ascending indices with the values noted beside them."""
    gen = np.random.default_rng(8)
    for n, share in ((0, 0.1), (1, 1.0), (70_001, 0.15), (3 * CHUNK, 1.0), (3 * CHUNK + 5, 0.0)):
        chosen = np.flatnonzero(gen.random(n) < share)
        values = gen.integers(1, 60_000, n).astype(np.uint16)
        nchunks = (n + CHUNK - 1) // CHUNK
        local = np.zeros(n, np.uint16)
        noted = np.zeros(n, np.uint16)
        counts = np.zeros(nchunks, np.int64)
        for c in range(nchunks):
            mine = chosen[(chosen >= c * CHUNK) & (chosen < (c + 1) * CHUNK)]
            counts[c] = mine.size
            local[c * CHUNK : c * CHUNK + mine.size] = mine - c * CHUNK
            noted[c * CHUNK : c * CHUNK + mine.size] = values[mine]
        got, val = picks.gather_with_kernel(local, counts, noted)
        assert got.dtype == np.int64 and np.array_equal(got, chosen)
        assert val.dtype == np.uint16 and np.array_equal(val, values[chosen])


def test_service_attempts_are_the_persons_whose_draw_is_below_demand() -> None:
    """The fused attempt pass picks exactly the persons a plain mask would (with and without income elasticity; an
    elasticity of 1 skips the power; rare and common attempts, which the pass skips eight persons at a time)."""
    n = 50_000
    income = np.random.default_rng(3).lognormal(10, 0.5, n).astype(np.float32)
    median = float(np.median(income))
    key = rng.key(4, "demand", 7, 1)
    uniform32 = rng.uniform32.py_func
    uniform = rng.uniform.py_func
    local = np.zeros(n, np.uint16)
    counts = np.zeros((n + CHUNK - 1) // CHUNK, np.int64)
    for p, e in ((0.05, 0.0), (0.05, 0.7), (0.05, 1.0), (0.0005, 0.0), (0.6, 0.0), (0.0005, 1.0)):
        services.attempt_kernel(key, p, income, median, e, local, counts)
        got = picks.gather_kernel(local, counts)
        if e == 0.0:
            mask = np.array([uniform32(key, i) < np.float32(p) for i in range(n)])
        else:
            mask = np.array([uniform(key, i) < p * (income[i] / median) ** e for i in range(n)])
        assert np.array_equal(got, np.flatnonzero(mask))
        expected = (p * (income.astype(np.float64) / median) ** e).sum()
        assert abs(got.size - expected) < 4 * np.sqrt(expected) + 1  # and it is about sum of p_i (sanity of the draws)


def test_in_sorted_is_isin_for_a_sorted_second_array() -> None:
    from socialcredit.engine.picks import in_sorted

    rng = np.random.default_rng(5)
    for n, m in ((0, 5), (5, 0), (1, 1), (300, 40), (40, 300), (1000, 1000)):
        a = rng.integers(0, 500, n)
        b = np.unique(rng.integers(0, 500, m))
        np.testing.assert_array_equal(in_sorted(a, b), np.isin(a, b))
    assert in_sorted(np.array([7, 9]), np.array([9])).tolist() == [False, True]
