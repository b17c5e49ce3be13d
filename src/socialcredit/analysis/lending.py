"""The delayed impact of a lender's acceptance rule on a group's scores, in closed form.

After Liu, Dean, Rolf, Simchowitz and Hardt, "Delayed Impact of Fair Machine
Learning", ICML 2018 (arXiv:1803.04383): a one-step feedback model of lending
in which the lender's decision changes the scores of those it accepts. It is
the model of the simulator's lending mechanism, applied here to a score
distribution given as an array of scores (the persons of a group).

**The model.** A lender accepts the applicants of a group whose score is at
or above a threshold: equivalently, the top share ``beta`` (the acceptance
rate) of the group by score. With ``n`` persons, that is ``beta * n``
persons; when it is not a whole number, the marginal person counts with the
fraction (ties are broken the same way), so the accepted share is exactly
``beta`` and every quantity below is continuous (piecewise linear) in it.

- An accepted person of score ``s`` repays with probability
  ``p(s) = 1 / (1 + exp(-(s - midpoint) / scale))``, else defaults;
- repaying adds ``gain`` points to the score (``gain > 0``), defaulting adds
  ``loss`` points (``loss < 0``); a person who is not accepted keeps the score;
- the expected change of the group's mean score is

  ``delta_mu(beta) = (1/n) * sum over accepted i of [p(s_i) gain + (1 - p(s_i)) loss]``;

- the lender's expected profit per member of the group is

  ``profit(beta) = (1/n) * sum over accepted i of
  [p(s_i) u_repay + (1 - p(s_i)) u_default]``

  with ``u_repay > 0`` and ``u_default < 0``.

Persons are accepted in decreasing order of score and ``p`` increases with
the score, so the marginal terms decrease: both curves are concave in
``beta``. ``delta_mu`` is 0 at rate 0, rises while the marginal person's
expected change ``p(s) gain + (1 - p(s)) loss`` is positive, peaks where it
is 0 (``p(s) = -loss / (gain - loss)``) and then falls, possibly below 0.
Likewise the profit peaks where ``p(s) = -u_default / (u_repay - u_default)``.

**Outcome regions** (Liu et al., figure 1). ``rate_best`` is the rate of the
largest ``delta_mu`` and ``rate_zero`` the rate above it where ``delta_mu``
falls back to 0. Below ``rate_best`` a higher rate would improve the group
more ("relative improvement"); between ``rate_best`` and ``rate_zero`` the
group still improves, but less than it could ("relative harm"); above
``rate_zero`` its mean score falls ("active harm").

**Demographic parity.** A lender maximising its profit accepts each group at
its own profit-maximising rate. Under demographic parity it must accept
every group at one common rate; the profit-maximising common rate lies
between the groups' own rates, so it accepts more of a disadvantaged group
(one whose scores are lower) than profit alone would. That can push the
group past ``rate_zero``: its mean score falls under parity while it would
have risen under the profit-maximising rule (:func:`parity_case`).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import numpy as np
import pandas as pd
from numpy.typing import ArrayLike

from socialcredit.engine.stages.lending import repay_probability as engine_repay_probability

CURVE_COLUMNS = ["rate", "threshold", "mean_change", "profit"]
PARITY_COLUMNS = [
    "group",
    "persons",
    "rate_max_profit",
    "change_max_profit",
    "rate_parity",
    "change_parity",
    "rate_best",
    "rate_zero",
    "harmed_by_parity",
]
DEFAULT_RATES = 101  # acceptance rates 0, 0.01, ..., 1 unless given


def _positive(name: str, value: float) -> float:
    value = float(value)
    if not value > 0 or not np.isfinite(value):
        raise ValueError(f"{name} must be a finite number > 0, got {value}")
    return value


def _negative(name: str, value: float) -> float:
    value = float(value)
    if not value < 0 or not np.isfinite(value):
        raise ValueError(f"{name} must be a finite number < 0, got {value}")
    return value


def _finite(name: str, value: float) -> float:
    value = float(value)
    if not np.isfinite(value):
        raise ValueError(f"{name} must be a finite number, got {value}")
    return value


def _scores(scores: ArrayLike, name: str = "scores") -> np.ndarray:
    """The scores as a 1-d float array; empty or non-finite scores are an error."""
    s = np.asarray(scores, dtype=np.float64).ravel()
    if s.size == 0:
        raise ValueError(f"{name} is empty: give at least one score")
    if not np.isfinite(s).all():
        raise ValueError(f"{name} must all be finite numbers (found NaN or inf)")
    return s


def _rates(rates: ArrayLike | None) -> np.ndarray:
    """The acceptance rates, sorted and without repeats; each must be within [0, 1]."""
    if rates is None:
        return np.linspace(0.0, 1.0, DEFAULT_RATES)
    r = np.asarray(rates, dtype=np.float64).ravel()
    if r.size == 0:
        raise ValueError("rates is empty: give at least one acceptance rate")
    if not (np.isfinite(r).all() and (r >= 0).all() and (r <= 1).all()):
        raise ValueError("rates must be acceptance rates within [0, 1]")
    return np.unique(r)


def repay_probability(score: ArrayLike, midpoint: float, scale: float) -> np.ndarray:
    """The probability that an accepted person of this score repays: a logistic.

    ``1 / (1 + exp(-(score - midpoint) / scale))``: 1/2 at ``midpoint``,
    rising with the score, the faster the smaller ``scale`` (> 0). Computed
    without overflow for scores far from the midpoint.
    """
    return engine_repay_probability(score, _finite("midpoint", midpoint), _positive("scale", scale))


def _curve(
    s: np.ndarray,
    r: np.ndarray,
    midpoint: float,
    scale: float,
    gain: float,
    loss: float,
    u_repay: float,
    u_default: float,
) -> pd.DataFrame:
    """The curve of validated scores ``s`` at validated rates ``r``."""
    n = s.size
    desc = np.sort(s)[::-1]  # accepted in this order
    p = repay_probability(desc, midpoint, scale)
    # the cumulative sums over the top k persons, k = 0..n; the accepted
    # "beta * n persons" interpolate them linearly (the marginal person's fraction)
    change = np.concatenate(([0.0], np.cumsum(p * gain + (1 - p) * loss)))
    profit = np.concatenate(([0.0], np.cumsum(p * u_repay + (1 - p) * u_default)))
    accepted = r * n
    k = np.arange(n + 1)
    # the lowest accepted score: the score of person ceil(beta * n) (counted
    # from the top), with a little room for rounding in beta * n
    last = np.clip(np.ceil(accepted - 1e-9), 0, n).astype(np.int64)
    threshold = np.where(last > 0, desc[np.maximum(last - 1, 0)], np.nan)
    return pd.DataFrame(
        {
            "rate": r,
            "threshold": threshold,
            "mean_change": np.interp(accepted, k, change) / n,
            "profit": np.interp(accepted, k, profit) / n,
        },
        columns=CURVE_COLUMNS,
    )


def _parameters(
    midpoint: float,
    scale: float,
    gain: float,
    loss: float,
    u_repay: float,
    u_default: float,
) -> tuple[float, ...]:
    return (
        _finite("midpoint", midpoint),
        _positive("scale", scale),
        _positive("gain", gain),
        _negative("loss", loss),
        _positive("u_repay", u_repay),
        _negative("u_default", u_default),
    )


def delayed_impact_curve(
    scores: ArrayLike,
    *,
    midpoint: float,
    scale: float,
    gain: float,
    loss: float,
    u_repay: float = 1.0,
    u_default: float = -4.0,
    rates: ArrayLike | None = None,
) -> pd.DataFrame:
    """A group's expected mean score change and the lender's profit, by acceptance rate.

    ``scores``: the group's scores (any order, any float values).
    ``midpoint``, ``scale``: the logistic repayment probability
    (:func:`repay_probability`); ``gain`` (> 0) and ``loss`` (< 0): the
    points a repayment and a default add to the score; ``u_repay`` (> 0) and
    ``u_default`` (< 0): the lender's gain from a repayment and from a
    default. ``rates``: the acceptance rates, within [0, 1] (default 0,
    0.01, ..., 1); they come back sorted, without repeats.

    Columns: rate; threshold (the lowest accepted score; NaN at rate 0);
    mean_change (``delta_mu``, the expected change of the group's mean
    score); profit (the lender's expected profit per member of the group).
    The module's text gives the equations. Raises ValueError for empty or
    non-finite scores, a parameter of the wrong sign, or rates outside [0, 1].
    """
    s = _scores(scores)
    r = _rates(rates)
    return _curve(s, r, *_parameters(midpoint, scale, gain, loss, u_repay, u_default))


def outcome_regions(curve: pd.DataFrame) -> dict[str, float]:
    """Where a curve of :func:`delayed_impact_curve` peaks and where it turns to harm.

    Keys: ``rate_best``, the rate of the largest mean_change (the smallest
    such rate on ties); ``rate_zero``, the smallest rate above rate_best where
    mean_change falls to 0 or below, interpolated linearly between the two
    rates around the crossing (NaN if it never does); ``rate_max_profit``,
    the rate of the largest profit (the smallest on ties). Below rate_best
    lies Liu et al.'s "relative improvement", between rate_best and
    rate_zero "relative harm", above rate_zero "active harm". Rates found on
    the curve's grid are exact to within one step of it.
    """
    missing = [c for c in ("rate", "mean_change", "profit") if c not in curve.columns]
    if missing:
        no = ", ".join(missing)
        raise ValueError(f"curve has no column {no}: pass a delayed_impact_curve")
    if len(curve) == 0:
        raise ValueError("curve has no rows")
    c = curve.sort_values("rate", kind="stable")
    rate = c["rate"].to_numpy(np.float64)
    change = c["mean_change"].to_numpy(np.float64)
    profit = c["profit"].to_numpy(np.float64)
    best = int(np.argmax(change))
    rate_zero = float("nan")
    below = np.flatnonzero(change[best + 1 :] <= 0)
    if below.size:
        j = best + 1 + int(below[0])
        before, after = change[j - 1], change[j]
        if before > after:  # the crossing, linearly between rates j - 1 and j
            frac = max(before, 0.0) / (before - after)
            rate_zero = float(rate[j - 1] + frac * (rate[j] - rate[j - 1]))
        else:
            rate_zero = float(rate[j])
    return {
        "rate_best": float(rate[best]),
        "rate_zero": rate_zero,
        "rate_max_profit": float(rate[int(np.argmax(profit))]),
    }


def parity_case(
    scores_by_group: Mapping[str, ArrayLike],
    *,
    midpoint: float,
    scale: float,
    gain: float,
    loss: float,
    u_repay: float = 1.0,
    u_default: float = -4.0,
    rates: ArrayLike | None = None,
) -> pd.DataFrame:
    """The groups' expected score changes: maximum profit against demographic parity.

    ``scores_by_group``: group -> its scores; the other arguments as for
    :func:`delayed_impact_curve` (the same repayment model and gains for
    every group; ``rates``, the grid searched, is common to all groups).

    One row per group, in the mapping's order. Columns: group; persons;
    rate_max_profit (the group's own profit-maximising rate) and
    change_max_profit (its mean_change there); rate_parity (the one
    acceptance rate for all groups that maximises the lender's total profit,
    each group's profit per member times its persons, summed: the same in
    every row) and change_parity (the group's mean_change at it); rate_best
    and rate_zero of the group (:func:`outcome_regions`); harmed_by_parity:
    whether the group's mean score falls under parity (change_parity < 0)
    while it would not under the profit-maximising rule (change_max_profit
    >= 0), Liu et al.'s delayed-impact result.
    """
    if not isinstance(scores_by_group, Mapping) or len(scores_by_group) == 0:
        raise ValueError("scores_by_group must be a non-empty mapping: group -> scores")
    params = _parameters(midpoint, scale, gain, loss, u_repay, u_default)
    r = _rates(rates)
    curves: dict[str, pd.DataFrame] = {}
    persons: dict[str, int] = {}
    for group, scores in scores_by_group.items():  # a loop over groups, not persons
        s = _scores(scores, name=f"scores of group {group!r}")
        curves[group] = _curve(s, r, *params)
        persons[group] = s.size
    total = sum(persons[g] * curves[g]["profit"].to_numpy() for g in curves)
    parity = int(np.argmax(total))
    rows: list[dict[str, Any]] = []
    for group, curve in curves.items():
        regions = outcome_regions(curve)
        own = int(np.argmax(curve["profit"].to_numpy()))
        change_own = float(curve["mean_change"].iloc[own])
        change_parity = float(curve["mean_change"].iloc[parity])
        rows.append(
            {
                "group": group,
                "persons": persons[group],
                "rate_max_profit": float(r[own]),
                "change_max_profit": change_own,
                "rate_parity": float(r[parity]),
                "change_parity": change_parity,
                "rate_best": regions["rate_best"],
                "rate_zero": regions["rate_zero"],
                "harmed_by_parity": bool(change_parity < 0 and change_own >= 0),
            }
        )
    return pd.DataFrame(rows, columns=PARITY_COLUMNS)
