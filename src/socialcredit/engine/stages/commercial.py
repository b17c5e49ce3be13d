"""Two scorers that feed each other (part of stage 4, classify): a commercial score beside the government's.

Person i's commercial score c_i (rulebook ``commercial``, as Sesame Credit)
moves each day the share ``step = 1 - 0.5 ** (1 / half_life)`` of the way to

    target_i = clip(base_i + income * ln(income_i / income0_i) + listed * [i blacklisted], lo, hi)
    base_i = initial + income * ln(income0_i / median income) + spread * z_i

with income0 the income at the start, z_i a fixed standard normal (stream
``commercial``): the dimensions the model does not simulate. At setup
(:func:`start`) the score is ``clip(base_i, lo, hi)``, so conditions read it
from day 0. So the commercial score reads the government's list
(the ``listed`` term) and income, which government sanctions lower; and
government conditions read it back as ``commercial`` and ``commercial_band``
(a band's index, best first, like ``tier``). The twin score reads the
counterfactual blacklist. Run after classify (today's list) and before the
services (which read the band). The day's scores, rounded, are counted in
the person's cell (``commercial_sum``; the daily table has ``commercial_mean``).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np

from socialcredit import rng

if TYPE_CHECKING:
    from socialcredit.engine.sim import Sim


def start(sim: Sim) -> None:
    """Each person's base (target without the list and income changes), and the score at setup."""
    cp = sim.plan.commercial
    st = sim.state
    income0 = np.maximum(sim.pop.persons.income.astype(np.float64), 1e-6)
    z = rng.normals(rng.key(sim.plan.seed, "commercial"), st.n)
    st.commercial_base[:] = cp.initial + cp.income * np.log(income0 / sim.median_income) + cp.spread * z
    st.commercial[:] = st.commercial_cf[:] = np.clip(st.commercial_base, cp.lo, cp.hi)


def run(sim: Sim) -> None:
    cp = sim.plan.commercial
    if cp is None:
        return
    st = sim.state
    income0 = np.maximum(sim.pop.persons.income.astype(np.float64), 1e-6)
    moved = st.commercial_base + cp.income * np.log(np.maximum(st.income, 1e-6) / income0)  # an income of 0: the low bound
    for score, since in ((st.commercial, st.black_since), (st.commercial_cf, st.black_since_cf)):
        target = np.clip(moved + cp.listed * (since >= 0), cp.lo, cp.hi)
        score += ((target - score) * cp.step).astype(np.float32)
    sim.counters.persons("commercial_sum", np.arange(st.n), weight=np.rint(st.commercial))
