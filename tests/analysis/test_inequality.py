"""The Gini coefficient: exact against the O(n^2) definition, and the run's daily value against the exact one."""

from __future__ import annotations

import numpy as np
import pytest

import socialcredit as sc
from socialcredit.analysis import gini, gini_over_time
from socialcredit.engine.stages.daily import NBINS
from socialcredit.engine.sim import Sim
from socialcredit.errors import InputError
from socialcredit.results import Results
from tests.analysis.conftest import MOVING_TIERS


def gini_pairwise(x: np.ndarray) -> float:
    """The definition: mean absolute difference over all n^2 ordered pairs, over twice the mean."""
    x = np.asarray(x, dtype=np.float64)
    n = x.size
    return float(np.abs(x[:, None] - x[None, :]).sum() / (2.0 * n * n * x.mean()))


@pytest.fixture(scope="module")
def run():
    """A 5,000-person smalltown run whose tiers move (so scores spread), kept with its final state."""
    sim = Sim(sc.load("smalltown", MOVING_TIERS, persons=5000, days=120))
    sim.setup()
    res = Results.from_sim(sim.run())
    return sim, res


def test_gini_equals_the_pairwise_definition_on_random_samples() -> None:
    rng = np.random.default_rng(5)
    for trial in range(60):
        n = int(rng.integers(1, 300))
        kind = trial % 4
        if kind == 0:
            x = rng.lognormal(0.0, 1.5, n)
        elif kind == 1:
            x = rng.uniform(0.0, 1000.0, n)
        elif kind == 2:
            x = rng.integers(0, 5, n).astype(float)  # many ties and zeros
            x[0] = 1.0  # never all zero
        else:
            x = 1000.0 + rng.normal(0.0, 20.0, n)  # scores: small spread around a large mean
        assert gini(x) == pytest.approx(gini_pairwise(x), abs=1e-12, rel=1e-10), (trial, n)


def test_gini_known_values_and_undefined_cases() -> None:
    assert gini([7.0] * 10) == 0.0
    for n in (1, 2, 10, 1000):  # one person holds everything: (n - 1) / n
        x = np.zeros(n)
        x[-1] = 5.0
        assert gini(x) == pytest.approx((n - 1) / n, abs=1e-15)
    assert gini([1, 3]) == pytest.approx(0.25)  # |1-3| * 2 / (2 * 4 * 2)
    for bad in ([], [0.0, 0.0], [1.0, -1.0, 3.0], [1.0, np.nan]):
        assert np.isnan(gini(bad)), bad


def test_daily_gini_is_within_a_bin_width_over_the_mean_of_the_exact_gini(run) -> None:
    """The run's ``score_gini`` comes from a 512-bin histogram of the day's scores: its error is at most
    about one bin width (range / 512) over the mean score. Checked on the last day against the exact Gini
    of the final scores, for everyone and for each group (the groups share the day's bins)."""
    sim, res = run
    score = sim.state.score.astype(np.float64)
    width = (score.max() - score.min()) / NBINS
    tol = width / score.mean()
    exact = gini(score)
    assert exact > 10 * tol  # the tolerance is well below the value it checks
    g = gini_over_time(res)
    last = g[g["day"] == g["day"].max()]
    assert abs(float(last["gini"].iloc[0]) - exact) <= tol, (float(last["gini"].iloc[0]), exact, tol)
    by_group = gini_over_time(res, "group")
    by_group = by_group[by_group["day"] == by_group["day"].max()].set_index("level")["gini"]
    group = sim.pop.persons.group
    for code, name in enumerate(res.meta["groups"]):
        mine = score[group == code]
        assert abs(float(by_group[name]) - gini(mine)) <= width / mine.mean(), name


def test_gini_over_time_has_one_row_per_day_and_level(run) -> None:
    _, res = run
    days = res.meta["days"]
    g = gini_over_time(res)
    assert list(g.columns) == ["day", "level", "gini"]
    assert list(g["day"]) == list(range(days)) and set(g["level"]) == {"all"}
    assert 0 <= g["gini"].iloc[0] < g["gini"].iloc[-1] / 10  # day 0: almost everyone still at 1000 points
    assert (g["gini"] <= 1).all()
    r = gini_over_time(res, "region")
    assert len(r) == days * len(res.meta["regions"])
    assert list(r.loc[r["day"] == 5, "level"]) == res.meta["regions"]
    np.testing.assert_array_equal(g["gini"].to_numpy(), res.to_df()["score_gini"].to_numpy())
    with pytest.raises(InputError, match="unknown breakdown 'city'.*all, region, group, tier"):
        gini_over_time(res, "city")
