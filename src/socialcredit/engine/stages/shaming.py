"""Public shaming (part of stage 6, institutions).

The blacklist is published: on the day a person enters it, each of their
friends drops the tie with probability ``institutions.shaming.probability``
(stream ``shaming``, one draw per tie). The tie goes on both sides and is
not refilled.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np

from socialcredit import rng
from socialcredit.engine.stages import ties
from socialcredit.engine.stages.unfriending import touched_degrees

if TYPE_CHECKING:
    from socialcredit.engine.sim import Sim


def run(sim: Sim) -> None:
    plan = sim.plan
    st = sim.state
    listed = sim.handoffs.black_entered
    if plan.institutions.shaming_p <= 0.0 or listed.size == 0:
        return
    net = sim.pop.network
    dropper, dropped = ties.shame(net.indptr, net.indices, np.sort(listed).astype(np.int64), plan.institutions.shaming_p, rng.key(plan.seed, "shaming", st.day))
    if dropper.size == 0:
        return
    touched_degrees(sim, dropper, dropped)
    sim.counters.persons("ties_dropped_shaming", dropped)
    sim.audit.persons(st.day, "friend_lost", dropped, detail_text="dropped after the blacklist was published", other=dropper)
    sim.audit.persons(st.day, "friend_dropped", dropper, detail_text="dropped a friend named on the blacklist", other=dropped)
