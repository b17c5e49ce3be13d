"""Errors in bulk (``faults``): on one day a fault writes false records to many persons at once.

A fault on day t hits, among the persons matching its condition ``where``, each with probability
``share`` (draw ``u_i`` on stream ``fault``, step t, sub the fault's index), or exactly ``count`` of
them (the ``count`` with the smallest draws). Each person hit gets ``records`` false records of the
fault's behaviour, flagged FAULT (and FALSE, so the counterfactual never sees them), which reach the
score the same day. Nobody did anything: every sanction they cause is wrongful, and the cascade
(listings, denials, appeals that clear them) is measured by the daily counts ``records_fault``,
``blacklisted_wrongly``, ``denials_wrongful`` and ``appeals_won_false``.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np

from socialcredit.engine.layout import FALSE, FAULT
from socialcredit.engine.person_fields import matching_draws

if TYPE_CHECKING:
    from socialcredit.engine.sim import Sim


def hit(sim: Sim, k: int) -> np.ndarray:
    """The persons fault ``k`` hits today, in person order."""
    fp = sim.plan.faults[k]
    matching, u = matching_draws(sim, fp.where, "fault", k)
    if fp.share >= 0:
        return matching[u < fp.share]
    if fp.count >= matching.size:
        return matching
    return np.sort(matching[np.argpartition(u, fp.count)[: fp.count]]) if fp.count > 0 else matching[:0]


def run(sim: Sim) -> None:
    """Write today's faults' false records (they reach the score today)."""
    day = sim.state.day
    for k, fp in enumerate(sim.plan.faults):
        if fp.day != day:
            continue
        person = np.repeat(hit(sim, k), fp.records).astype(np.int32)
        beh = np.full(person.size, fp.behaviour, np.uint8)
        sim.schedule(person, beh, np.full(person.size, FALSE | FAULT, np.uint8), 0)
