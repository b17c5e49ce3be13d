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
