"""The day's aggregates (engine/stages/daily.py): quantiles from the histogram."""

from __future__ import annotations

import numpy as np

from socialcredit.engine.stages.daily import quantiles_from_hist


def numpy_quantiles(hist: np.ndarray, lo: float, width: float, qs: tuple[float, ...]) -> np.ndarray:
    """The vectorised numpy version the compiled one replaced (the reference: it must agree to the last bit)."""
    total = hist.sum(axis=1)
    cum = np.cumsum(hist, axis=1)
    out = np.full((hist.shape[0], len(qs)), np.nan)
    rows = np.arange(hist.shape[0])
    for j, q in enumerate(qs):
        target = q * total
        k = np.minimum((cum < target[:, None]).sum(axis=1), hist.shape[1] - 1)
        before = np.where(k > 0, cum[rows, np.maximum(k - 1, 0)], 0.0)
        count = hist[rows, k]
        with np.errstate(invalid="ignore", divide="ignore"):
            frac = np.where(count > 0, (target - before) / count, 0.5)
        out[:, j] = np.where(total > 0, lo + (k + np.clip(frac, 0.0, 1.0)) * width, np.nan)
    return out


def test_quantiles_agree_with_numpy_to_the_last_bit() -> None:
    rng = np.random.default_rng(0)
    hist = rng.integers(0, 50, (40, 512)).astype(np.float64)
    hist[3] = 0  # an empty cell: NaN
    hist[5] = 0
    hist[5, 100] = 7  # everyone in one bin
    hist[7, :300] = 0
    for lo, width in ((-3.7, 0.013), (0.0, 1.9), (812.25, 0.0)):
        got = quantiles_from_hist(hist, lo, width, (0.1, 0.5, 0.9))
        np.testing.assert_array_equal(got, numpy_quantiles(hist, lo, width, (0.1, 0.5, 0.9)))
    got = quantiles_from_hist(hist, 0.0, 1.0, (0.5,))
    assert np.isnan(got[3, 0]) and got[5, 0] == 100.5  # the median of one full bin is its middle
    uniform = np.ones((1, 512))
    assert quantiles_from_hist(uniform, 0.0, 1.0, (0.1, 0.5))[0].tolist() == [51.2, 256.0]  # closed form: q * 512


def numpy_gini(hist: np.ndarray, lo: float, width: float) -> np.ndarray:
    """The vectorised numpy version the compiled one replaced (the reference: it must agree to the last bit)."""
    n = hist.sum(axis=1)
    x = lo + (np.arange(hist.shape[1]) + 0.5) * width
    cx = hist * x
    below_n = np.cumsum(hist, axis=1) - hist
    below_s = np.cumsum(cx, axis=1) - cx
    between = (cx * below_n - hist * below_s).sum(axis=1)
    within = (hist * (hist - 1)).sum(axis=1) * width / 6.0
    with np.errstate(invalid="ignore", divide="ignore"):
        total = n * (cx.sum(axis=1) / np.where(n > 0, n, 1))
        g = (between + within) / (n * total)
    g[(n == 0) | (total <= 0)] = np.nan
    if lo < 0:
        g[:] = np.nan
    return g


def test_gini_agrees_with_numpy_to_the_last_bit() -> None:
    from socialcredit.engine.stages.daily import gini_from_hist

    rng = np.random.default_rng(2)
    hist = rng.integers(0, 3000, (30, 512)).astype(np.float64)
    hist[4] = 0  # empty: NaN
    hist[6, :] = 0
    hist[6, 200] = 50  # everyone in one bin: only the within-bin term
    hist[9, 100:] = 0
    for lo, width in ((0.0, 1.9), (612.4, 0.731), (950.0, 0.0123), (-5.0, 2.0)):
        np.testing.assert_array_equal(gini_from_hist(hist, lo, width), numpy_gini(hist, lo, width))
    g = gini_from_hist(np.ones((1, 512)), 0.0, 1.0)[0]
    assert abs(g - 1 / 3) < 0.01  # uniform on [0, 512]: Gini 1/3


def test_pairwise_sum_is_numpys_for_any_length() -> None:
    from socialcredit.engine.stages.daily import _pairwise_sum

    rng = np.random.default_rng(3)
    for n in (0, 1, 7, 8, 9, 127, 128, 129, 250, 511, 512, 1000, 3001):
        a = rng.normal(0, 1, n) * 10.0 ** rng.integers(-4, 8, n)
        assert _pairwise_sum(a, 0, n) == a.sum() or n == 0, n


def test_aggregate_sums_each_fixed_group_in_person_order() -> None:
    """The float sums are the 32 fixed groups' sums, each added in person order, then the groups in order; the
    counts are exact. Sizes with empty, short and uneven groups; a few combinations, as in a run (runs of one)."""
    import numba

    from socialcredit.engine.layout import NGROUPS
    from socialcredit.engine.stages.daily import NBINS, aggregate_kernel

    R, G, T = 3, 2, 4
    for n in (1, 5, NGROUPS + 3, 1000, 20_011):
        rng = np.random.default_rng(n)
        score = rng.normal(600, 80, n).astype(np.float32)
        tier = np.minimum(rng.geometric(0.6, n) - 1, T - 1).astype(np.uint8)
        region = rng.choice(R, n, p=[0.6, 0.3, 0.1]).astype(np.uint8)
        group = (rng.random(n) < 0.1).astype(np.uint8)
        black = np.where(rng.random(n) < 0.05, 3, -1).astype(np.int32)
        black_cf = np.where(rng.random(n) < 0.5, black, -1).astype(np.int32)
        red = np.where(rng.random(n) < 0.03, 2, -1).astype(np.int32)
        income = rng.lognormal(10, 0.5, n).astype(np.float32)
        risk = rng.random(n).astype(np.float32)
        K = T * R * G
        nm = 9
        lo, width = float(score.min()), float(score.max() - score.min()) / NBINS
        out = np.zeros((K, nm))
        hist = np.zeros((K, NBINS), np.int64)
        part = np.zeros((NGROUPS, K, nm))
        hpart = np.zeros((numba.config.NUMBA_NUM_THREADS, K, NBINS), np.int32)
        aggregate_kernel(score, tier, black, black_cf, red, income, risk, region, group, R, G, lo, width, part, hpart, out, hist)

        combo = (tier.astype(np.int64) * R + region) * G + group
        s = score.astype(np.float64)
        step = (n + NGROUPS - 1) // NGROUPS
        expected = np.zeros((K, 4))
        for c in range(NGROUPS):
            sl = slice(min(n, c * step), min(n, (c + 1) * step))
            for k in range(K):
                sel = combo[sl] == k
                for col, v in enumerate((s[sl], s[sl] * s[sl], income[sl].astype(np.float64), risk[sl].astype(np.float64))):
                    if sel.any():  # cumsum adds one by one, in order
                        expected[k, col] += np.cumsum(v[sel])[-1]
        for col, m in enumerate((1, 2, 7, 8)):  # score, score squared, income, risk (STATE_MEASURES order)
            assert np.array_equal(out[:, m], expected[:, col]), (n, m)
        assert np.array_equal(out[:, 0], np.bincount(combo, minlength=K)), n
        assert np.array_equal(out[:, 3], np.bincount(combo, black >= 0, minlength=K)), n
        assert np.array_equal(out[:, 5], np.bincount(combo, (black >= 0) & (black_cf < 0), minlength=K)), n
        b = np.clip(((s - lo) * (1.0 / width if width > 0 else 0.0)).astype(np.int64), 0, NBINS - 1)  # one person: one bin
        assert np.array_equal(hist, np.bincount(combo * NBINS + b, minlength=K * NBINS).reshape(K, NBINS)), n
