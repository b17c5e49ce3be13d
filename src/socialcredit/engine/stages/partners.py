"""Partners (part of stage 7, respond): ending a partnership with a blacklisted partner.

On each social update (every ``score.social.period`` days), a person whose
partner is on the blacklist ends the partnership with probability
``responses.breakup.probability`` (stream ``partner``, one draw per person
and update). Both sides lose the partner; the partner term of the score
(``score.social.partner``) then goes to the own score from the next update.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np
from numba import njit

from socialcredit import rng

if TYPE_CHECKING:
    from socialcredit.engine.sim import Sim


@njit(cache=True)
def breakup_kernel(partner: np.ndarray, black_since: np.ndarray, key: np.uint64, p: float) -> tuple[np.ndarray, np.ndarray]:
    """End partnerships with blacklisted partners; returns (who left, their former partner), by leaver."""
    n = partner.shape[0]
    out = np.empty(n, np.int64)
    other = np.empty(n, np.int64)
    m = 0
    for i in range(n):
        j = partner[i]
        if j >= 0 and black_since[j] >= 0 and rng.uniform(key, i) < p:
            partner[i] = -1
            partner[j] = -1
            out[m] = i
            other[m] = j
            m += 1
    return out[:m].copy(), other[:m].copy()


def run(sim: Sim) -> None:
    plan = sim.plan
    st = sim.state
    if plan.responses.breakup_p <= 0.0 or st.day % plan.score.social_period != 0:
        return
    left, partner = breakup_kernel(sim.pop.persons.partner, st.black_since, rng.key(plan.seed, "partner", st.day, 1), plan.responses.breakup_p)
    sim.counters.persons("partnerships_ended", left)
    sim.audit.persons(st.day, "partner_left", left, detail_text="left a blacklisted partner", other=partner)
    sim.audit.persons(st.day, "partner_left", partner, detail_text="was left while blacklisted", other=left)
