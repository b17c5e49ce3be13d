"""The persons' state at the end of a run: one row per person (``final_state.parquet`` with ``--final-state``)."""

from __future__ import annotations

import numpy as np
import pandas as pd


def final_state_frame(sim) -> pd.DataFrame:
    """One row per person: region, group, income, score (and without false records), tier, lists, friends."""
    st = sim.state
    pers = sim.pop.persons
    rb = sim.rulebook
    frame = pd.DataFrame(
        {
            "person": range(st.n),
            "region": pd.Categorical.from_codes(pers.region, rb.region_names),
            "group": pd.Categorical.from_codes(pers.group, rb.group_names),
            "income": st.income,
            "score": st.score,
            "score_without_false_records": st.score_cf,
            "tier": pd.Categorical.from_codes(st.tier, rb.tier_names),
            "blacklisted": st.black_since >= 0,
            "blacklisted_without_false_records": st.black_since_cf >= 0,
            "redlisted": st.red_since >= 0,
            "risk": st.risk,
            "friends": st.degree,
            "initial_income": pers.income,
            "partner": pers.partner,
            "partner_since": pers.partner_since,
            "employer": pers.employer,
        }
    )
    if st.commercial.size:  # the commercial score beside the government's (rulebook commercial)
        frame["commercial"] = st.commercial
        frame["commercial_without_false_records"] = st.commercial_cf
    comp = sim.pop.companies
    if comp is not None:  # the employer's revenue (1 at the start; company sanctions lower it) and who was laid off
        employer = pers.employer
        frame["employer_revenue"] = np.where(employer >= 0, comp.revenue[np.maximum(employer, 0)], np.nan)
        book = sim.company_book
        frame["laid_off"] = book.laid_off if book is not None else np.zeros(len(frame), bool)
    return frame
