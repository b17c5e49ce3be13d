"""The counter-based RNG: uniform, deterministic, independent across streams and steps."""

from __future__ import annotations

import numpy as np
from scipy import stats

from socialcredit import rng


def test_uniforms_are_uniform_and_deterministic() -> None:
    k = rng.key(5, "behave", 10)
    u = rng.uniforms(k, 200_000)
    assert u.min() >= 0.0 and u.max() < 1.0
    assert stats.kstest(u, "uniform").pvalue > 1e-3
    np.testing.assert_array_equal(u, rng.uniforms(rng.key(5, "behave", 10), 200_000))


def test_streams_steps_and_seeds_are_uncorrelated() -> None:
    base = rng.uniforms(rng.key(5, "behave", 10), 100_000)
    for other in (rng.key(5, "detect", 10), rng.key(5, "behave", 11), rng.key(6, "behave", 10), rng.key(5, "behave", 10, 1)):
        v = rng.uniforms(other, 100_000)
        r = np.corrcoef(base, v)[0, 1]
        assert abs(r) < 4 / np.sqrt(100_000), r
        assert not np.array_equal(base, v)


def test_normals_have_unit_variance() -> None:
    z = rng.normals(rng.key(1, "heterogeneity"), 200_000)
    assert abs(z.mean()) < 4 / np.sqrt(200_000)
    assert abs(z.std() - 1) < 0.01


def test_poisson_mean_small_and_large() -> None:
    k = rng.key(2, "spurious")
    for lam in (0.3, 4.0, 200.0):
        draws = np.array([rng.poisson(k, i, lam) for i in range(20_000)])
        assert abs(draws.mean() - lam) < 4 * np.sqrt(lam / 20_000), lam


def test_unknown_stream_lists_the_valid_ones() -> None:
    try:
        rng.stream_id("behaviour")
    except KeyError as exc:
        assert "behave" in str(exc)
    else:
        raise AssertionError("expected KeyError")
