"""Children of listed parents (part of stage 8, record): how many children a parent's listing reaches.

Children are counted in their guardian's household (``population.children``):
the guardian and the guardian's partner are its parents. Each day the
children of households where a parent is blacklisted are counted in the
guardian's cell (``children_of_listed``), and those where no parent would be
listed without false records (the counterfactual) again as
``children_of_wrongly_listed``. Denials of a school place are the services'
(``applies_to: children``).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np

if TYPE_CHECKING:
    from socialcredit.engine.sim import Sim


def listed_households(partner: np.ndarray, black_since: np.ndarray, guardians: np.ndarray) -> np.ndarray:
    """Whether a parent of each guardian's household (the guardian or their partner) is on the list."""
    mate = partner[guardians]
    return (black_since[guardians] >= 0) | ((mate >= 0) & (black_since[np.maximum(mate, 0)] >= 0))


def run(sim: Sim) -> None:
    if not sim.plan.children:
        return
    pers = sim.pop.persons
    st = sim.state
    guardians = np.flatnonzero(pers.children)
    listed = listed_households(pers.partner, st.black_since, guardians)
    wrongly = listed & ~listed_households(pers.partner, st.black_since_cf, guardians)
    kids = pers.children[guardians].astype(np.float64)
    sim.counters.persons("children_of_listed", guardians[listed], weight=kids[listed])
    sim.counters.persons("children_of_wrongly_listed", guardians[wrongly], weight=kids[wrongly])
