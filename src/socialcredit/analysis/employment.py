"""Company sanctions and employees: what the company blacklist costs people who did nothing.

Read from a run's final state (a run folder written with ``socialcredit run
--final-state``): employees are split by whether
their employer was sanctioned during the run (its revenue index, 1 at the
start, is below 1: it entered the company blacklist with
``institutions.company_sanctions``) and compared with the employees of
other companies and with persons without an employer. For each: persons,
those laid off and their share, the mean change of income over the run
(``income / initial income - 1``) and the mean yearly income lost
(``initial income - income``), whatever lowered it (a layoff, a denial's
consequence).
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from socialcredit.analysis.behaviour import final_state_of

GROUPS = ("employees of sanctioned companies", "employees of other companies", "no employer")


def employees_of_sanctioned(res) -> pd.DataFrame:
    """One row per group of persons (see :data:`GROUPS`): persons, laid_off, laid_off_share, income_change_mean,
    income_lost_mean. ``res``: a final state (a DataFrame), or results that carry one (``sc.read_run`` of a folder
    written with ``--final-state``)."""
    fs = final_state_of(res, "employer_revenue", "a rulebook with companies")
    employed = fs["employer"].to_numpy() >= 0
    sanctioned = employed & (fs["employer_revenue"].to_numpy() < 1.0)
    which = np.where(sanctioned, 0, np.where(employed, 1, 2))
    income = fs["income"].to_numpy(np.float64)
    initial = fs["initial_income"].to_numpy(np.float64)
    laid = fs["laid_off"].to_numpy(bool)
    rows = []
    for k, name in enumerate(GROUPS):
        sel = which == k
        n = int(sel.sum())
        rows.append({
            "group": name, "persons": n, "laid_off": int(laid[sel].sum()),
            "laid_off_share": laid[sel].mean() if n else np.nan,
            "income_change_mean": (income[sel] / initial[sel] - 1).mean() if n else np.nan,
            "income_lost_mean": (initial[sel] - income[sel]).mean() if n else np.nan,
        })  # fmt: skip
    return pd.DataFrame(rows)
