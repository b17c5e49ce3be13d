"""Unfriending and rewiring (part of stage 7, respond).

On each social update, person i drops each friend f who is in one of the
``responses.unfriending.tiers`` (or on the blacklist, if ``blacklisted``)
with probability ``probability`` (stream ``unfriend``, one draw per slot).
The tie goes on both sides. If ``rewire``, i refills the slot with a person
j of the same region, chosen with weight ``exp(-preference * tier_j)``
(tier 0 is the best) among persons who are not droppable themselves and
not already i's friends (stream ``rewire``). The new tie is mutual when j
has an empty slot, else one-sided (j is counted in i's friends' mean only).

The network is changed in place (compiled kernels in :mod:`ties`): a dropped
tie leaves an empty slot (-1), so the CSR arrays are never rebuilt.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np
from numba import njit

from socialcredit import rng
from socialcredit.engine.stages import ties

if TYPE_CHECKING:
    from socialcredit.engine.sim import Sim


@njit(cache=True)
def recount_degree(indptr: np.ndarray, indices: np.ndarray, who: np.ndarray, degree: np.ndarray) -> None:
    """Recount the friends (non-empty slots) of the listed persons."""
    for k in range(who.shape[0]):
        i = who[k]
        d = 0
        for s in range(indptr[i], indptr[i + 1]):
            d += indices[s] >= 0
        degree[i] = d


def touched_degrees(sim: Sim, *arrays: np.ndarray) -> None:
    """Refresh the degree of every person named in the event arrays."""
    who = np.unique(np.concatenate([a[a >= 0].astype(np.int64) for a in arrays])) if arrays else np.zeros(0, np.int64)
    if who.size:
        net = sim.pop.network
        recount_degree(net.indptr, net.indices, who, sim.state.degree)


def run(sim: Sim) -> None:
    plan = sim.plan
    st = sim.state
    if plan.responses.unfriend_p <= 0.0 or st.day % plan.score.social_period != 0:
        return
    net = sim.pop.network
    pers = sim.pop.persons
    low = sim.buffers.scratch_u8
    ties.droppable_kernel(st.tier, st.black_since, plan.responses.unfriend_low, plan.responses.unfriend_blacklisted, low)
    if sim.buffers.scratch_u16 is None or sim.buffers.scratch_u16.shape[0] < st.n:
        sim.buffers.scratch_u16 = np.zeros(st.n, np.uint16)
    scratch = sim.buffers.scratch_u16[: st.n]  # phase A writes every person's count
    pref = ties.tier_preference(len(plan.tiers.names), plan.responses.rewire_preference)
    dropper, dropped, new_friend = ties.unfriend(
        net.indptr, net.indices, low, pers.region, pers.region_offsets, st.tier, pref, plan.responses.unfriend_p, plan.responses.rewire,
        rng.key(plan.seed, "unfriend", st.day), rng.key(plan.seed, "rewire", st.day), scratch,
    )  # fmt: skip
    if dropper.size == 0:
        return
    touched_degrees(sim, dropper, dropped, new_friend)
    sim.counters.persons("ties_dropped_unfriending", dropper)
    sim.counters.persons("ties_rewired", dropper[new_friend >= 0])
    sim.audit.persons(st.day, "friend_dropped", dropper, detail_text="unfriended a low-tier or blacklisted friend", other=dropped)
    sim.audit.persons(st.day, "friend_lost", dropped, detail_text="dropped for a low tier or the blacklist", other=dropper)
    sim.audit.persons(st.day, "friend_added", new_friend[new_friend >= 0], detail_text="rewired toward a better tier", other=dropper[new_friend >= 0])
