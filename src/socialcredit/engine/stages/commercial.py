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
from numba import prange

from socialcredit import rng
from socialcredit.engine.layout import CHUNK
from socialcredit.parallel import day_kernel

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


@day_kernel(cache=True)
def commercial_kernel(score, score_cf, base, income, income0, black_since, black_since_cf,
                      w_income: float, listed: float, lo: float, hi: float, step: float) -> None:  # fmt: skip
    """Move both scores (factual, twin) a step toward their targets (an income of 0 gives the low bound)."""
    n = score.shape[0]
    nchunks = (n + CHUNK - 1) // CHUNK
    for c in prange(nchunks):
        for i in range(c * CHUNK, min(n, (c + 1) * CHUNK)):
            moved = np.float64(base[i])
            if income[i] != income0[i]:  # most incomes never change: no logarithm for them
                moved += w_income * np.log(max(np.float64(income[i]), 1e-6) / max(np.float64(income0[i]), 1e-6))
            t = min(max(moved + (listed if black_since[i] >= 0 else 0.0), lo), hi)
            score[i] = np.float32(score[i] + np.float32((t - score[i]) * step))
            t = min(max(moved + (listed if black_since_cf[i] >= 0 else 0.0), lo), hi)
            score_cf[i] = np.float32(score_cf[i] + np.float32((t - score_cf[i]) * step))


def run(sim: Sim) -> None:
    cp = sim.plan.commercial
    if cp is None:
        return
    st = sim.state
    commercial_kernel(st.commercial, st.commercial_cf, st.commercial_base, st.income, sim.pop.persons.income,
                      st.black_since, st.black_since_cf, cp.income, cp.listed, cp.lo, cp.hi, cp.step)  # fmt: skip
    sim.counters.level("commercial_sum", st.commercial)
