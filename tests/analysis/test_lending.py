"""Delayed impact of lending (Liu et al. 2018): by hand, in closed form, with parity."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest

from socialcredit.analysis.lending import (
    delayed_impact_curve,
    outcome_regions,
    parity_case,
    repay_probability,
)

# the repayment model of the closed-form tests: the marginal person's expected change
# 20 p - 40 (1 - p) is 0 at p = 2/3, and the lender (1 and -4) breaks even at p = 4/5
MODEL = {"midpoint": 950.0, "scale": 30.0, "gain": 20.0, "loss": -40.0}
P_ZERO = 40.0 / 60.0  # -loss / (gain - loss)
P_PROFIT = 4.0 / 5.0  # -u_default / (u_repay - u_default)
S_ZERO = 950.0 + 30.0 * math.log(P_ZERO / (1 - P_ZERO))  # 970.79 points
S_PROFIT = 950.0 + 30.0 * math.log(P_PROFIT / (1 - P_PROFIT))  # 991.59 points
# scores uniform on [800, 1100]: the mid-points of 3000 cells, 0.1 points apart
LOW, HIGH, CELLS = 800.0, 1100.0, 3000


def uniform_scores() -> np.ndarray:
    """The mid-points of CELLS equal cells of [LOW, HIGH], shuffled."""
    h = (HIGH - LOW) / CELLS
    return np.random.default_rng(7).permutation(LOW + (np.arange(CELLS) + 0.5) * h)


def marginal(score: float | np.ndarray) -> float | np.ndarray:
    """The expected change of an accepted person's score under MODEL."""
    p = repay_probability(score, MODEL["midpoint"], MODEL["scale"])
    return p * MODEL["gain"] + (1 - p) * MODEL["loss"]


def test_repay_probability_is_a_logistic_of_the_score() -> None:
    ln3 = math.log(3)
    p = repay_probability([950.0, 950.0 + 30 * ln3, 950.0 - 30 * ln3], 950.0, 30.0)
    assert p == pytest.approx([0.5, 0.75, 0.25], abs=1e-15)
    with np.errstate(all="raise"):  # no overflow far from the midpoint
        far = repay_probability(np.array([-1e9, 1e9]), 950.0, 30.0)
    assert far.tolist() == [0.0, 1.0]


# four scores whose repayment probabilities are 0.5, 0.9, 0.25 and 0.75 (midpoint 0,
# scale 1); with gain 10 and loss -20 each accepted person's expected change is
# 30 p - 20: 7, 2.5, -5, -12.5
# (from the top), and the lender's (1 and -4) is 5 p - 4: 0.5, -0.25, -1.5, -2.75
HAND = [0.0, math.log(9), -math.log(3), math.log(3)]
HAND_MODEL = {"midpoint": 0.0, "scale": 1.0, "gain": 10.0, "loss": -20.0}


def test_the_curve_of_four_scores_by_hand() -> None:
    rates = [0, 0.125, 0.25, 0.5, 0.625, 0.75, 1]
    c = delayed_impact_curve(HAND, **HAND_MODEL, rates=rates)
    assert list(c.columns) == ["rate", "threshold", "mean_change", "profit"]
    assert c["rate"].tolist() == rates
    # rate 0.125 accepts half of the top person, 0.625 the top two and half of the third
    change = [0, 7 / 2 / 4, 7 / 4, 9.5 / 4, (9.5 - 5 / 2) / 4, 4.5 / 4, -8 / 4]
    profit = [0, 0.25 / 4, 0.5 / 4, 0.25 / 4, (0.25 - 0.75) / 4, -1.25 / 4, -4 / 4]
    assert c["mean_change"].to_numpy() == pytest.approx(change, abs=1e-12)
    assert c["profit"].to_numpy() == pytest.approx(profit, abs=1e-12)
    threshold = c["threshold"].to_numpy()
    assert math.isnan(threshold[0])
    top, second, third, fourth = math.log(9), math.log(3), 0.0, -math.log(3)
    assert threshold[1:].tolist() == [top, top, second, third, third, fourth]


def test_the_regions_of_four_scores_by_hand() -> None:
    c = delayed_impact_curve(HAND, **HAND_MODEL, rates=[0, 0.25, 0.5, 0.75, 1])
    r = outcome_regions(c)
    assert r["rate_best"] == 0.5
    assert r["rate_max_profit"] == 0.25
    # mean_change falls from 1.125 at 0.75 to -2 at 1, linearly (one person's share):
    # 0 at 0.75 + 0.25 * 1.125 / 3.125
    assert r["rate_zero"] == pytest.approx(0.84, abs=1e-12)


def test_the_curve_does_not_depend_on_the_scores_order_nor_the_rates_order() -> None:
    scores = np.random.default_rng(3).normal(950, 50, 500)
    a = delayed_impact_curve(scores, **MODEL)
    b = delayed_impact_curve(scores[::-1], **MODEL, rates=np.linspace(1, 0, 101))
    pd.testing.assert_frame_equal(a, b)
    assert len(a) == 101 and a["rate"].iloc[0] == 0 and a["rate"].iloc[-1] == 1
    assert a["mean_change"].iloc[0] == 0 and a["profit"].iloc[0] == 0


def test_ties_are_shared_so_the_accepted_share_is_exact() -> None:
    # three equal scores at the midpoint: each accepted person adds 5 - 10 = -5
    c = delayed_impact_curve([0.0, 0.0, 0.0], **HAND_MODEL, rates=[0, 0.2, 0.5, 1])
    assert c["mean_change"].to_numpy() == pytest.approx([0, -1, -2.5, -5], abs=1e-12)
    assert c["threshold"].iloc[1:].tolist() == [0.0, 0.0, 0.0]


def test_mean_change_on_uniform_scores_matches_the_integral() -> None:
    # scores uniform on [a, b]: delta_mu(beta) = integral of m(s) from t to b / (b-a),
    # t = b - beta (b - a), m(s) = (gain - loss) p(s) + loss and the integral of p is
    # scale * softplus((s - midpoint) / scale); the cells' mid-points err by < 1e-5 here
    c = delayed_impact_curve(uniform_scores(), **MODEL)
    beta = c["rate"].to_numpy()
    t = HIGH - beta * (HIGH - LOW)
    mid, scale = MODEL["midpoint"], MODEL["scale"]
    gain, loss = MODEL["gain"], MODEL["loss"]
    top = np.logaddexp(0.0, (HIGH - mid) / scale)
    softplus = top - np.logaddexp(0.0, (t - mid) / scale)
    expected = ((gain - loss) * scale * softplus + loss * (HIGH - t)) / (HIGH - LOW)
    assert np.abs(c["mean_change"].to_numpy() - expected).max() < 1e-5
    assert c["mean_change"].iloc[0] == 0.0


def test_mean_change_is_concave_and_rises_then_falls_into_active_harm() -> None:
    c = delayed_impact_curve(uniform_scores(), **MODEL)
    change = c["mean_change"].to_numpy()
    assert np.diff(change, 2).max() <= 1e-12  # concave
    best = int(np.argmax(change))
    assert 0 < best < len(change) - 1
    assert (np.diff(change[: best + 1]) > 0).all()
    assert (np.diff(change[best:]) < 0).all()
    assert change[-1] < 0  # accepting everyone lowers the mean score
    r = outcome_regions(c)
    assert r["rate_best"] < r["rate_zero"] < 1


def test_rate_best_is_where_the_marginal_expected_change_turns_negative() -> None:
    step = 0.001
    c = delayed_impact_curve(uniform_scores(), **MODEL, rates=np.linspace(0, 1, 1001))
    r = outcome_regions(c)
    threshold = c.set_index("rate")["threshold"]
    best = round(r["rate_best"] / step)
    at = threshold.iloc[best]
    # the accepted marginal person expects no change: |m| < 0.2 points (m moves
    # ~0.13 a grid step here)
    assert abs(marginal(at)) < 0.2
    # and the exact crossing score lies within one grid step either side
    assert threshold.iloc[best + 1] <= S_ZERO <= threshold.iloc[best - 1]
    # the uniform scores put it at (b - s*) / (b - a) = 0.43069
    assert r["rate_best"] == pytest.approx((HIGH - S_ZERO) / (HIGH - LOW), abs=step)


def test_the_max_profit_rate_accepts_those_the_lender_gains_from() -> None:
    scores = np.random.default_rng(11).normal(980, 70, 20_000)
    step = 0.001
    c = delayed_impact_curve(scores, **MODEL, rates=np.linspace(0, 1, 1001))
    r = outcome_regions(c)
    p = repay_probability(scores, MODEL["midpoint"], MODEL["scale"])
    # the share with p(s) >= -u_default / (u_repay - u_default)
    share = float(np.mean(p >= P_PROFIT))
    assert 0.2 < share < 0.5  # a case where the answer is not at an end
    assert abs(r["rate_max_profit"] - share) <= step + 1e-12
    assert abs(float(np.mean(scores >= S_PROFIT)) - share) <= 1 / scores.size


def test_regions_without_active_harm() -> None:
    # everyone is a good risk: mean_change rises all the way, so rate_best is 1 and
    # rate_zero NaN
    c = delayed_impact_curve([1200.0, 1300.0, 1400.0], **MODEL)
    r = outcome_regions(c)
    assert r["rate_best"] == 1.0 and math.isnan(r["rate_zero"])
    assert r["rate_max_profit"] == 1.0


# Liu et al.'s delayed-impact case: an advantaged majority and a disadvantaged minority,
# the same repayment model (p = 1/2 at 950 points, scale 30; +20 on repayment, -40 on
# default)
# and a lender gaining 1 on a repayment and losing 4 on a default
GROUPS_SEED = 0
ADVANTAGED = (1000.0, 60.0, 8000)  # mean, standard deviation, persons
DISADVANTAGED = (900.0, 60.0, 2000)


def two_groups() -> dict[str, np.ndarray]:
    rng = np.random.default_rng(GROUPS_SEED)
    return {
        "advantaged": rng.normal(*ADVANTAGED),
        "disadvantaged": rng.normal(*DISADVANTAGED),
    }


def test_parity_harms_the_disadvantaged_group() -> None:
    rates = np.linspace(0, 1, 1001)
    t = parity_case(two_groups(), **MODEL, rates=rates).set_index("group")
    assert list(t.columns) == [
        "persons",
        "rate_max_profit",
        "change_max_profit",
        "rate_parity",
        "change_parity",
        "rate_best",
        "rate_zero",
        "harmed_by_parity",
    ]
    adv, dis = t.loc["advantaged"], t.loc["disadvantaged"]
    assert (adv["persons"], dis["persons"]) == (8000, 2000)
    assert adv["rate_parity"] == dis["rate_parity"]
    # the common rate lies between the groups' own profit-maximising rates ...
    assert dis["rate_max_profit"] < dis["rate_parity"] < adv["rate_max_profit"]
    # ... and takes the disadvantaged group past its rate_zero, into active harm
    assert dis["rate_max_profit"] < dis["rate_best"]
    assert dis["rate_best"] < dis["rate_zero"] < dis["rate_parity"]
    assert dis["change_max_profit"] > 0.5 and dis["change_parity"] < -1.0
    assert bool(dis["harmed_by_parity"]) is True
    assert adv["change_max_profit"] > 5 and adv["change_parity"] > 5
    assert bool(adv["harmed_by_parity"]) is False


def test_the_parity_rate_maximises_the_total_profit() -> None:
    groups = two_groups()
    rates = np.linspace(0, 1, 201)
    t = parity_case(groups, **MODEL, rates=rates)
    curves = [delayed_impact_curve(s, **MODEL, rates=rates) for s in groups.values()]
    sizes = [len(s) for s in groups.values()]
    total = sum(n * c["profit"].to_numpy() for n, c in zip(sizes, curves, strict=True))
    assert t["rate_parity"].iloc[0] == rates[int(np.argmax(total))]
    own = [outcome_regions(c)["rate_max_profit"] for c in curves]
    assert t["rate_max_profit"].tolist() == own


@pytest.mark.parametrize(
    ("change", "name"),
    [
        ({"scores": []}, "scores"),
        ({"scores": [1.0, float("nan")]}, "scores"),
        ({"scale": 0.0}, "scale"),
        ({"scale": -5.0}, "scale"),
        ({"gain": 0.0}, "gain"),
        ({"loss": 0.0}, "loss"),
        ({"loss": 40.0}, "loss"),
        ({"u_repay": 0.0}, "u_repay"),
        ({"u_default": 1.0}, "u_default"),
        ({"midpoint": float("inf")}, "midpoint"),
        ({"rates": [0.0, 1.5]}, "rates"),
        ({"rates": [-0.1, 0.5]}, "rates"),
        ({"rates": []}, "rates"),
    ],
)
def test_bad_inputs_are_refused(change: dict, name: str) -> None:
    args = {"scores": [900.0, 1000.0], **MODEL, **change}
    scores = args.pop("scores")
    with pytest.raises(ValueError, match=name):
        delayed_impact_curve(scores, **args)


def test_bad_inputs_to_the_parity_case_and_the_regions_are_refused() -> None:
    with pytest.raises(ValueError, match="scores_by_group"):
        parity_case({}, **MODEL)
    with pytest.raises(ValueError, match="'b'"):
        parity_case({"a": [900.0], "b": []}, **MODEL)
    with pytest.raises(ValueError, match="scale"):
        parity_case({"a": [900.0]}, **{**MODEL, "scale": 0.0})
    with pytest.raises(ValueError, match="scale"):
        repay_probability([900.0], 950.0, 0.0)
    with pytest.raises(ValueError, match="mean_change"):
        outcome_regions(pd.DataFrame({"rate": [0.0], "profit": [0.0]}))
