"""Inequality of scores: the Gini coefficient, exactly and over the days of a run.

The Gini coefficient of values x_1..x_n (none negative, not all zero) is the
mean absolute difference over all ordered pairs, self-pairs included, divided
by twice the mean:

    G = sum_i sum_j |x_i - x_j| / (2 n^2 mean(x)),

0 when everyone has the same score, approaching 1 when one person holds all.
On sorted values it is ``sum_i (2 i - n - 1) x_(i) / (n sum x)`` (i from 1),
which costs a sort instead of n^2 differences.

The run records the Gini of each day's scores (column ``score_gini`` of the
``daily`` table) from a 512-bin histogram of scores; that value is within
about one bin width over the mean score of the exact one (see
:mod:`socialcredit.engine.stages.daily`).
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from socialcredit.errors import InputError
from socialcredit.results import BREAKDOWNS, Results


def gini(values) -> float:
    """The population Gini coefficient of ``values``, exactly (O(n log n)).

    NaN, not an error, when it is undefined: no values, a NaN among them, a
    negative value, or a sum of zero.
    """
    x = np.asarray(values, dtype=np.float64).ravel()
    if x.size == 0 or np.isnan(x).any() or (x < 0).any():
        return float("nan")
    total = x.sum()
    if not total > 0:
        return float("nan")
    x = np.sort(x)
    n = x.size
    rank = np.arange(1, n + 1, dtype=np.float64)
    return float(((2.0 * rank - n - 1.0) * x).sum() / (n * total))


def check_breakdown(breakdown: str) -> None:
    """Raise an InputError naming the allowed breakdowns when ``breakdown`` is not one of them."""
    if breakdown not in BREAKDOWNS:
        raise InputError(f"unknown breakdown {breakdown!r}; allowed: {', '.join(BREAKDOWNS)}")


def gini_over_time(res: Results, breakdown: str = "all") -> pd.DataFrame:
    """The daily Gini of scores, one row per day and level of ``breakdown`` (all, region, group or tier).

    Columns: day, level, gini. Read from the run's ``score_gini`` (histogram
    based, within about bin width / mean score of the exact value); NaN on a
    day when a score is negative or a level has nobody.
    """
    check_breakdown(breakdown)
    d = res.daily[res.daily["breakdown"] == breakdown]
    out = pd.DataFrame(
        {
            "day": d["day"].to_numpy(),
            "level": d["level"].astype(str).to_numpy(),
            "gini": d["score_gini"].to_numpy(dtype=np.float64),
        }
    )
    return out.sort_values("day", kind="stable").reset_index(drop=True)
