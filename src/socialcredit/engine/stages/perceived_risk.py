"""Perceived risk (stage 7, respond): penalties and sanctions make persons careful.

Each person keeps a perceived risk ``r`` that decays with a half-life ``h``
and grows with their own penalties and sanctions and with their friends'
sanctions:

    r_i(t+1) = r_i(t) * 2**(-1/h) + lost_points_i(t) / points_scale
               + sanction_weight * sanctions_i(t) + friends_weight * friends_sanctioned_i(t)

The behave stage turns it into rate multipliers: deterrence (and chilling,
under secret rules) ``1 / (1 + elasticity * r)``, gaming ``1 + gaming * r``.
Economic feedback's multiplier is updated where incomes change (services).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np
from numba import njit, prange

from socialcredit.engine.layout import CHUNK
from socialcredit.parallel import day_kernel

if TYPE_CHECKING:
    from socialcredit.engine.sim import Sim


@day_kernel(cache=True)
def decay_kernel(risk: np.ndarray, factor: float) -> None:
    n = risk.shape[0]
    f = np.float32(factor)
    nchunks = (n + CHUNK - 1) // CHUNK
    for c in prange(nchunks):
        for i in range(np.uint64(c * CHUNK), np.uint64(min(n, (c + 1) * CHUNK))):  # unsigned: no index wrap (layout.py)
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
        p = np.uint64(person[k])  # unsigned: no index wrap (layout.py)
        pts = points_tab[beh[k], region[p]]
        if pts < 0:
            risk[p] += -pts / scale
    for k in range(sanctioned.shape[0]):
        risk[np.uint64(sanctioned[k])] += weight


@njit(cache=True)
def friends_feed_kernel(indptr: np.ndarray, indices: np.ndarray, sanctioned: np.ndarray, weight: float, risk: np.ndarray) -> int:
    """Each friend of a person sanctioned today gains ``weight`` perceived risk; returns how many gained."""
    m = 0
    for k in range(sanctioned.shape[0]):
        s = sanctioned[k]
        for slot in range(indptr[s], indptr[s + 1]):
            j = indices[slot]
            if j >= 0:
                risk[j] += weight
                m += 1
    return m


def run(sim: Sim) -> None:
    plan = sim.plan
    st = sim.state
    if plan.responses.deter_elasticity > 0.0 or plan.responses.gaming_elasticity > 0.0:
        decay_kernel(st.risk, plan.responses.deter_decay)
        person, beh, _flags = sim.handoffs.records
        feed_kernel(
            st.risk, person, beh, sim.pop.persons.region, plan.behaviours.points, plan.responses.deter_scale, sim.handoffs.sanctioned, plan.responses.sanction_weight
        )
        if plan.responses.friends_weight > 0.0 and sim.handoffs.sanctioned.size:
            net = sim.pop.network
            friends_feed_kernel(net.indptr, net.indices, sim.handoffs.sanctioned, plan.responses.friends_weight, st.risk)
