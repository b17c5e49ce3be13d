"""Stress (part of stage 7, respond): what living under scoring costs, as an index from 0 (none) to 1000.

Each day person i's index moves toward
``target_i = 1000 * min(1, w_risk * r_i / (1 + r_i) + w_listed * [blacklisted] + w_friends * lost_i)``
by the share ``1 - 0.5 ** (1 / half_life)``: r_i is the perceived risk (as
the deterrence stage keeps it; 0 when deterrence and gaming are off) and
lost_i the share of the person's first friends they no longer have (their
friend count today against the network's at the start, never below 0). The
form is assumed (docs/model.md, section 3.11). The day's index is counted,
rounded to whole points, in the person's cell (``stress_sum``; the daily
table has its mean, ``stress_mean``). Nothing reads it back: it measures a
cost, it does not change behaviour.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np
from numba import prange

from socialcredit.engine.layout import CHUNK
from socialcredit.parallel import day_kernel

if TYPE_CHECKING:
    from socialcredit.engine.sim import Sim


@day_kernel(cache=True)
def stress_kernel(stress: np.ndarray, risk: np.ndarray, black_since: np.ndarray, degree: np.ndarray, indptr: np.ndarray,
                  w_risk: float, w_listed: float, w_friends: float, step: float) -> None:  # fmt: skip
    n = stress.shape[0]
    nchunks = (n + CHUNK - 1) // CHUNK
    for c in prange(nchunks):
        for i in range(c * CHUNK, min(n, (c + 1) * CHUNK)):
            r = np.float64(risk[i])
            t = w_risk * r / (1.0 + r)
            if black_since[i] >= 0:
                t += w_listed
            first = indptr[i + 1] - indptr[i]
            if first > 0 and degree[i] < first:
                t += w_friends * (first - degree[i]) / first
            t = 1000.0 * min(1.0, t)
            stress[i] = np.float32(stress[i] + (t - stress[i]) * step)


def run(sim: Sim) -> None:
    rp = sim.plan.responses
    if rp.stress_step <= 0.0:
        return
    st = sim.state
    stress_kernel(st.stress, st.risk, st.black_since, st.degree, sim.pop.network.indptr, *rp.stress, rp.stress_step)
    sim.counters.level("stress_sum", st.stress)
