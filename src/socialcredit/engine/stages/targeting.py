"""Records aimed at people (``targeting``): false records written on purpose against chosen persons.

Nobody is mistaken: someone chooses. Each day from ``start`` to before ``end``, every person matching
``where`` (a trait such as ``group == critic``, or ``count(criticise_online, 365) > 0``) gets a record
of ``behaviour`` with probability ``rate / 365`` (draw on stream ``targeting``, step the day, sub the
entry's index). The records are flagged TARGETED and FALSE (the counterfactual never sees them) and
reach the score after the delay of the behaviour's channel, like a record that channel made.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np

from socialcredit.engine.layout import FALSE, TARGETED
from socialcredit.engine.person_fields import matching_draws

if TYPE_CHECKING:
    from socialcredit.engine.sim import Sim


def aimed_at(sim: Sim, k: int) -> np.ndarray:
    """The persons entry ``k`` writes a record against today, in person order."""
    matching, u = matching_draws(sim, sim.plan.targeting[k].where, "targeting", k)
    return matching[u < sim.plan.targeting[k].rate_day]


def run(sim: Sim) -> None:
    plan = sim.plan
    day = sim.state.day
    for k, tp in enumerate(plan.targeting):
        if not tp.start <= day < tp.end or tp.rate_day <= 0.0:
            continue
        person = aimed_at(sim, k).astype(np.int32)
        beh = np.full(person.size, tp.behaviour, np.uint8)
        delay = int(plan.detection.delay[plan.behaviours.channel[tp.behaviour]])
        sim.schedule(person, beh, np.full(person.size, FALSE | TARGETED, np.uint8), delay)
