"""Stage 7, respond: perceived risk and deterrence.

Each person keeps a perceived risk ``r`` that decays with a half-life ``h``
and grows with their own penalties and sanctions:

    r_i(t+1) = r_i(t) * 2**(-1/h) + lost_points_i(t) / points_scale + sanction_weight * sanctions_i(t)

The behave stage multiplies the rates of penalised behaviours (all behaviours
under secret rules) by ``1 / (1 + elasticity * r_i)``. Chilling, gaming,
unfriending and economic feedback arrive with the responses issue.
"""

from __future__ import annotations

import numpy as np
from numba import njit, prange

from socialcredit.engine.behave import CHUNK


@njit(parallel=True, cache=True)
def decay_kernel(risk: np.ndarray, factor: float) -> None:
    n = risk.shape[0]
    f = np.float32(factor)
    nchunks = (n + CHUNK - 1) // CHUNK
    for c in prange(nchunks):
        for i in range(c * CHUNK, min(n, (c + 1) * CHUNK)):
            risk[i] *= f


@njit(cache=True)
def feed_kernel(
    risk: np.ndarray,
    person: np.ndarray,
    beh: np.ndarray,
    region: np.ndarray,
    points_tab: np.ndarray,
    scale: float,
    sanctioned: np.ndarray,
    weight: float,
) -> None:
    for k in range(person.shape[0]):
        p = person[k]
        pts = points_tab[beh[k], region[p]]
        if pts < 0:
            risk[p] += -pts / scale
    for k in range(sanctioned.shape[0]):
        risk[sanctioned[k]] += weight


def run(sim) -> None:
    plan = sim.plan
    if plan.deter_elasticity <= 0.0:
        return
    st = sim.state
    decay_kernel(st.risk, plan.deter_decay)
    person, beh, _flags = sim.today
    feed_kernel(
        st.risk, person, beh, sim.pop.persons.region, plan.points, plan.deter_scale, sim.sanctioned, plan.sanction_weight
    )
