"""Sanctions on companies and what they do to employees (part of stage 6, institutions).

A company that entered the company blacklist today loses the share
``revenue_loss = min(1, contracts + loans + bonds)`` of its revenue (an index,
1 at the start; government contracts, bank loans and bonds are what joint
punishment of companies withholds). Each of its employees not yet laid off
is laid off with probability ``min(1, layoffs * revenue_loss)`` (stream
``layoff``) and loses the share ``income_loss`` of their income, though they
did nothing. A laid-off person (or one dismissed after an emotion flag,
``CompanyBook.laid_off`` too) keeps the employer link (the employer term of
the score and ``employer_blacklisted`` still read that company) and is not
laid off again. A layoff by a company that is not listed in the
counterfactual (its listing came from false records) is wrongful.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np

from socialcredit import rng
from socialcredit.engine.measures import COMPANY_COLUMNS

if TYPE_CHECKING:
    from socialcredit.engine.sim import Sim


def run(sim: Sim) -> None:
    ip = sim.plan.institutions
    comp = sim.pop.companies
    if comp is None or ip.revenue_loss <= 0.0:
        return
    st = sim.state
    entered = np.flatnonzero(comp.black_since == st.day)
    if entered.size == 0:
        return
    comp.revenue[entered] *= np.float32(1.0 - ip.revenue_loss)
    sim.daily.company[st.day][COMPANY_COLUMNS.index("company_revenue_mean")] = float(comp.revenue.mean())  # today's loss today
    employer = sim.pop.persons.employer
    book = sim.company_book
    staff = np.flatnonzero(np.isin(employer, entered) & ~book.laid_off)
    if staff.size == 0 or ip.layoff_p <= 0.0:
        return
    out = staff[rng.uniforms_at(rng.key(sim.plan.seed, "layoff", st.day), staff) < ip.layoff_p]
    if out.size == 0:
        return
    book.laid_off[out] = True
    lost = st.income[out] * np.float32(ip.layoff_income_loss)
    wrong = comp.black_since_cf[employer[out]] < 0  # the company is not listed without false records
    wrongful = out[wrong]
    sim.counters.persons("layoffs", out)
    sim.counters.persons("layoffs_wrongful", wrongful)
    sim.counters.persons("layoff_income_lost", out, weight=np.rint(lost))
    sim.scale_income(out, 1.0 - ip.layoff_income_loss)
    sim.audit.persons(st.day, "laid_off", out, detail_text="laid off: their employer entered the company blacklist",
                      other=employer[out], wrongful=wrong)  # fmt: skip
