"""Two scorers that feed each other: how a person's standing on the government's list moves the commercial score.

From a run's final state (``socialcredit run --final-state`` of a rulebook
with ``commercial``): persons are split into those not on the government
blacklist, those on it, and those on it only because of false records
(listed, but not in the counterfactual). For each: persons, the mean
commercial score, and the mean of the commercial score minus its twin
without false records (what false records cost in the commercial score
through the list: the twin reads the counterfactual list, but incomes are
shared, so a loss of income to a wrongful denial is in both). The other direction (government
conditions that read ``commercial_band``) shows in the services' counts:
a denial that reads the band and would not happen without false records is
wrongful.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from socialcredit.analysis.behaviour import final_state_of


def commercial_by_listing(final_state) -> pd.DataFrame:
    """Rows ``not listed``, ``listed``, ``listed only because of false records``: persons, commercial_mean,
    commercial_lost_to_false_records (mean of the twin's score minus the score)."""
    final_state = final_state_of(final_state, "commercial", "a rulebook with a commercial section")
    c = final_state["commercial"].to_numpy(np.float64)
    c_cf = final_state["commercial_without_false_records"].to_numpy(np.float64)
    listed = final_state["blacklisted"].to_numpy(bool)
    wrongly = listed & ~final_state["blacklisted_without_false_records"].to_numpy(bool)
    rows = []
    for name, sel in (("not listed", ~listed), ("listed", listed), ("listed only because of false records", wrongly)):
        n = int(sel.sum())
        rows.append({"standing": name, "persons": n, "commercial_mean": c[sel].mean() if n else np.nan,
                     "commercial_lost_to_false_records": (c_cf[sel] - c[sel]).mean() if n else np.nan})  # fmt: skip
    return pd.DataFrame(rows).set_index("standing")
