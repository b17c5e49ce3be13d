"""Statistical tests against closed-form expectations (fixed seeds, stated tolerances).

With the social term, responses and false records off and no heterogeneity,
every person-day is one categorical draw: a record of behaviour b with
probability q_b = rate_b / 365 * coverage_b, else nothing. So:

- the mean score on day d is initial + (d + 1) * sum_b q_b * points_b;
- the number of records of b over D days is Binomial(N * D, q_b);
- the score on day D - 1 is initial plus a sum of D independent daily draws,
  whose exact distribution is the D-fold convolution of the daily one; the
  Poisson limit (independent Poisson counts with means D * q_b) differs from
  it by O(q^2) and is checked with a correspondingly looser tolerance.
"""

from __future__ import annotations

import numpy as np
from scipy import stats

from tests.conftest import base_rulebook, run

N = 20000
DAYS = 365
# (rate per year, coverage, points): littering by camera (coverage 0.5), fraud and volunteering by records.
BEHAVIOURS = [(6.0, 0.5, -10), (0.5, 1.0, -50), (3.0, 1.0, 5)]
TIER_MINS = [1000, 950, 900]  # tiers A, B, C, then D below 900


def closed_form_data() -> dict:
    data = base_rulebook(persons=N, days=DAYS, seed=11)
    data["population"]["regions"] = [{"name": "all", "share": 1.0}]
    data["detection"]["channels"]["camera"]["coverage"] = 0.5
    data["lists"] = {}
    data["services"] = []
    return data


def daily_q() -> np.ndarray:
    return np.array([r / 365.0 * c for r, c, _ in BEHAVIOURS])


def exact_score_pmf(days: int) -> tuple[np.ndarray, np.ndarray]:
    """Exact distribution of the summed points after ``days`` daily categorical draws (lattice step 5)."""
    q = daily_q()
    units = [p // 5 for _, _, p in BEHAVIOURS]
    lo = min(0, min(units)) * days
    hi = max(0, max(units)) * days
    daily = np.zeros(max(units) - min(min(units), 0) + 1)
    off = -min(min(units), 0)
    daily[off] += 1 - q.sum()
    for qb, u in zip(q, units):
        daily[off + u] += qb
    # repeated squaring of the polynomial
    result = np.array([1.0])
    base = daily.copy()
    k = days
    while k:
        if k & 1:
            result = np.convolve(result, base)
        base = np.convolve(base, base)
        k >>= 1
    values = (np.arange(result.size) - off * days) * 5
    assert values[0] == lo * 5 and values[-1] == hi * 5
    return values, result


def poisson_score_pmf(days: int) -> tuple[np.ndarray, np.ndarray]:
    """The Poisson limit: independent Poisson counts with means days * q_b."""
    q = daily_q() * days
    values = None
    pmf = None
    for qb, (_, _, p) in zip(q, BEHAVIOURS):
        k = np.arange(0, int(qb + 12 * np.sqrt(qb) + 30))
        vals = k * p
        probs = stats.poisson.pmf(k, qb)
        if pmf is None:
            values, pmf = vals, probs
        else:
            grid = values[:, None] + vals[None, :]
            pr = pmf[:, None] * probs[None, :]
            u, inv = np.unique(grid.ravel(), return_inverse=True)
            pmf = np.bincount(inv, weights=pr.ravel())
            values = u
    return values, pmf


def tier_shares(values: np.ndarray, pmf: np.ndarray) -> np.ndarray:
    score = 1000 + values
    bounds = [np.inf] + TIER_MINS + [-np.inf]
    return np.array([pmf[(score >= bounds[t + 1]) & (score < bounds[t])].sum() for t in range(4)])


def test_closed_form_exact_pmf_is_a_distribution() -> None:
    values, pmf = exact_score_pmf(DAYS)
    assert abs(pmf.sum() - 1) < 1e-9
    mean = (values * pmf).sum()
    expected = DAYS * sum(q * p for q, (_, _, p) in zip(daily_q(), BEHAVIOURS))
    assert abs(mean - expected) < 1e-6


def test_mean_score_path_records_and_tier_shares_match_closed_form() -> None:
    sim, res = run(closed_form_data())
    daily = res.to_df("daily")
    q = daily_q()
    mu = sum(qb * p for qb, (_, _, p) in zip(q, BEHAVIOURS))  # expected points per day
    ex2 = sum(qb * p * p for qb, (_, _, p) in zip(q, BEHAVIOURS))
    var_day = ex2 - mu * mu
    # 1. mean score path: within 4 standard errors at every checked day
    for d in (29, 90, 180, 270, 364):
        got = daily.loc[daily["day"] == d, "score_mean"].item()
        want = 1000 + (d + 1) * mu
        se = np.sqrt(var_day * (d + 1) / N)
        assert abs(got - want) < 4 * se, (d, got, want, se)
    # 2. records per behaviour: Binomial(N * DAYS, q_b), within 4 sd
    beh = res.to_df("behaviours")
    for (name, qb) in zip(["littering", "fraud", "volunteering"], q):
        got = beh.loc[beh["behaviour"] == name, "records_true"].sum()
        want = N * DAYS * qb
        sd = np.sqrt(N * DAYS * qb * (1 - qb))
        assert abs(got - want) < 4 * sd, (name, got, want, sd)
    assert beh["records_false"].sum() == 0
    # 3. tier shares on the last day against the exact distribution (4 binomial sd),
    #    and against the Poisson limit (4 sd plus 0.005 for the O(q^2) difference)
    last = daily[daily["day"] == DAYS - 1]
    got = np.array([last[f"share_{t}"].item() for t in "ABCD"])
    exact = tier_shares(*exact_score_pmf(DAYS))
    poisson = tier_shares(*poisson_score_pmf(DAYS))
    sd = np.sqrt(exact * (1 - exact) / N)
    assert np.all(np.abs(got - exact) < 4 * sd + 1e-4), (got, exact, sd)
    assert np.all(np.abs(got - poisson) < 4 * sd + 0.005), (got, poisson)
    assert np.all(np.abs(exact - poisson) < 0.005)


def test_heterogeneity_keeps_the_mean_rate() -> None:
    """Lognormal multipliers have mean 1, so the expected number of records is unchanged."""
    data = closed_form_data()
    data["population"]["persons"] = 10000
    data["simulation"]["days"] = 120
    for b in data["behaviours"]:
        b["heterogeneity"] = 0.8
    _, res = run(data)
    beh = res.to_df("behaviours")
    for (name, (rate, cov, _)) in zip(["littering", "fraud", "volunteering"], BEHAVIOURS):
        got = beh.loc[beh["behaviour"] == name, "records_true"].sum()
        want = 10000 * 120 * rate / 365 * cov
        # variance of a mixed Poisson: mean + mean^2 * (exp(s^2) - 1) per person
        per_person = 120 * rate / 365 * cov
        sd = np.sqrt(10000 * (per_person + per_person**2 * (np.exp(0.8**2) - 1)))
        assert abs(got - want) < 4 * sd, (name, got, want, sd)


def test_expiry_keeps_only_the_last_window() -> None:
    """With records expiring after E days, the mean score stops falling after E days."""
    data = closed_form_data()
    data["population"]["persons"] = 8000
    data["simulation"]["days"] = 160
    data["score"]["recovery"] = {"mode": "expire", "days": 60}
    _, res = run(data)
    daily = res.to_df("daily")
    mu = sum(qb * p for qb, (_, _, p) in zip(daily_q(), BEHAVIOURS))
    ex2 = sum(qb * p * p for qb, (_, _, p) in zip(daily_q(), BEHAVIOURS))
    se = np.sqrt((ex2 - mu * mu) * 60 / 8000)
    for d in (80, 120, 159):
        got = daily.loc[daily["day"] == d, "score_mean"].item()
        assert abs(got - (1000 + 60 * mu)) < 4 * se, (d, got)
    got = daily.loc[daily["day"] == 29, "score_mean"].item()
    assert abs(got - (1000 + 30 * mu)) < 4 * np.sqrt((ex2 - mu * mu) * 30 / 8000)


def test_relaxation_follows_the_geometric_sum() -> None:
    """Relaxing points with half-life h: E[points on day d] = mu * f * (1 - f^(d+1)) / (1 - f), f = 2^(-1/h)."""
    data = closed_form_data()
    data["population"]["persons"] = 8000
    data["simulation"]["days"] = 150
    data["score"]["recovery"] = {"mode": "relax", "half_life": 30}
    _, res = run(data)
    daily = res.to_df("daily")
    mu = sum(qb * p for qb, (_, _, p) in zip(daily_q(), BEHAVIOURS))
    f = 0.5 ** (1 / 30)
    for d in (10, 60, 149):
        want = 1000 + mu * f * (1 - f ** (d + 1)) / (1 - f)
        got = daily.loc[daily["day"] == d, "score_mean"].item()
        assert abs(got - want) < 0.6, (d, got, want)
