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


def listed_households(children: np.ndarray, partner: np.ndarray, black_since: np.ndarray) -> np.ndarray:
    """The guardians (ascending, once each) of households with children where a parent is on the list: found
    from the listed, who are few, rather than from every household."""
    listed = np.flatnonzero(black_since >= 0)
    mate = partner[listed]
    own = listed[children[listed] > 0]  # a listed guardian
    mate = mate[(mate >= 0) & (children[np.maximum(mate, 0)] > 0)]  # the guardian a listed person lives with
    return np.unique(np.concatenate([own, mate]))


def run(sim: Sim) -> None:
    if not sim.plan.children:
        return
    pers = sim.pop.persons
    st = sim.state
    listed = listed_households(pers.children, pers.partner, st.black_since)
    wrongly = np.setdiff1d(listed, listed_households(pers.children, pers.partner, st.black_since_cf), assume_unique=True)
    sim.counters.persons("children_of_listed", listed, weight=pers.children[listed])
    sim.counters.persons("children_of_wrongly_listed", wrongly, weight=pers.children[wrongly])
