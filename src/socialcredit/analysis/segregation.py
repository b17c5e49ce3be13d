"""Segregation and isolation: do friendships sort by score, and do the blacklisted lose friends?

Assortativity (Newman 2003) is the correlation of an attribute across the
ends of friendship ties: 0 when friends are paired at random with respect
to it, 1 when friends always share it, negative when opposites pair.

- Score assortativity: the Pearson correlation of ``(score[i], score[j])``
  over every tie i -> j.
- Tier assortativity: Newman's categorical coefficient. With ``e[a, b]`` the
  share of ties from tier a to tier b, ``a_t`` and ``b_t`` its row and
  column sums, ``r = (sum_t e[t, t] - sum_t a_t b_t) / (1 - sum_t a_t b_t)``.

The friendship network is stored as CSR rows (``indptr``, ``indices``) in
which a row lists the persons i counts as friends and ``-1`` marks an empty
slot (a dropped tie). Each non-empty slot is one directed tie; a friendship
on both sides is two slots, one in each row. On a symmetric network this is
exactly what networkx computes on the undirected graph (which counts each
edge in both directions); when unfriending has left one-sided ties, it is
what networkx computes on the directed graph of the slots.

The run measures both, and friends per person (blacklisted against others),
every 30 days and on the last day (:mod:`socialcredit.engine.stages.ties`).
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from socialcredit.engine.assortativity import score_assortativity, tier_assortativity
from socialcredit.errors import InputError
from socialcredit.results import Results

NETWORK_COLUMNS = ["degree_mean", "degree_blacklisted", "degree_others", "score_assortativity", "tier_assortativity"]


def network_series(res: Results) -> pd.DataFrame:
    """The friendship network over the run, on the days it was measured (every 30 days and the last).

    Columns: day, degree_mean (friends per person), degree_blacklisted
    (friends per blacklisted person; NaN when nobody is listed),
    degree_others (friends per person not listed), score_assortativity and
    tier_assortativity (NaN on days they were not computed: on a network that
    never changes, only the first and last day).
    """
    d = res.daily[res.daily["breakdown"] == "all"]
    d = d[d["degree_mean"].notna()].sort_values("day")
    out = d[["day", *NETWORK_COLUMNS]].reset_index(drop=True)
    out["day"] = out["day"].astype(np.int64)
    return out


def assortativity(indptr, indices, values, categorical: bool = False) -> float:
    """Assortativity of ``values`` (one per person) over the ties of a CSR friendship network.

    ``categorical=False``: the Pearson correlation of the values at both ends
    of each tie (score assortativity). ``categorical=True``: Newman's
    categorical coefficient, for tiers or any labels. Empty slots (-1) are
    skipped. NaN when undefined (fewer than two ties, or no variation).
    Computed by the engine's kernels, so it equals the run's own measure.
    """
    indptr = np.ascontiguousarray(indptr, dtype=np.int64)
    indices = np.ascontiguousarray(indices, dtype=np.int32)
    values = np.asarray(values)
    if values.shape[0] != indptr.shape[0] - 1:
        raise InputError(f"one value per person is needed: {indptr.shape[0] - 1} persons, {values.shape[0]} values")
    if categorical:
        levels, codes = np.unique(values, return_inverse=True)
        return tier_assortativity(indptr, indices, codes.astype(np.int64).ravel(), len(levels))
    return score_assortativity(indptr, indices, values.astype(np.float64))
