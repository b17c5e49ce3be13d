"""Partners (part of stage 7, respond): ending a partnership with a blacklisted partner, and forming new ones.

On each social update (every ``score.social.period`` days), a person whose
partner is on the blacklist ends the partnership with probability
``responses.breakup.probability`` (stream ``partner``, one draw per person
and update). Both sides lose the partner; the partner term of the score
(``score.social.partner``) then goes to the own score from the next update.

Then (``responses.partnering``) each person without a partner enters the
market of their region with probability ``rate * period / 365`` (stream
``partner``, sub 2). Each region's market is sorted by
``sqrt(a) z + sqrt(1 - a) e`` with z the score standardised within the market
and e a standard normal draw (sub 3), and neighbours in that order pair up
(an odd one out waits). A key that is the score alone (a = 1) pairs the
closest scores; a = 0 pairs at random; the new couples' score correlation is
about a. The new partner's score enters the partner term from the next update.
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


def form(sim: Sim) -> None:
    """Pair persons without a partner who enter the market today, region by region, by their matching key."""
    rp = sim.plan.responses
    st = sim.state
    pers = sim.pop.persons
    seed = sim.plan.seed
    period = sim.plan.score.social_period
    single = np.flatnonzero(pers.partner < 0)  # the unenrolled too: their score is the initial one
    market = single[rng.uniforms_at(rng.key(seed, "partner", st.day, 2), single) < min(1.0, rp.partnering_rate * period / 365.0)]
    if market.size < 2:
        return
    a = rp.partnering_a
    noise = rng.normals_at(rng.key(seed, "partner", st.day, 3), market)
    firsts, seconds = [], []
    region = pers.region[market]
    for r in np.unique(region):
        m = market[region == r]
        if m.size < 2:
            continue
        s = st.score[m].astype(np.float64)
        sd = s.std()
        z = (s - s.mean()) / sd if sd > 0 else np.zeros(m.size)
        key = np.sqrt(a) * z + np.sqrt(1.0 - a) * noise[region == r]
        order = m[np.argsort(key, kind="stable")]
        k = order.size // 2 * 2
        firsts.append(order[0:k:2])
        seconds.append(order[1:k:2])
    if not firsts:
        return
    x, y = np.concatenate(firsts), np.concatenate(seconds)
    pers.partner[x], pers.partner[y] = y.astype(np.int32), x.astype(np.int32)
    pers.partner_since[x] = pers.partner_since[y] = st.day
    both = np.concatenate([x, y])
    sim.counters.persons("partnerships_formed", both)
    sim.audit.persons(st.day, "partner_formed", both, detail_text="formed a partnership", other=np.concatenate([y, x]))


def run(sim: Sim) -> None:
    plan = sim.plan
    st = sim.state
    if st.day % plan.score.social_period != 0:
        return
    if plan.responses.breakup_p > 0.0:
        left, partner = breakup_kernel(sim.pop.persons.partner, st.black_since, rng.key(plan.seed, "partner", st.day, 1), plan.responses.breakup_p)
        sim.counters.persons("partnerships_ended", left)
        sim.audit.persons(st.day, "partner_left", left, detail_text="left a blacklisted partner", other=partner)
        sim.audit.persons(st.day, "partner_left", partner, detail_text="was left while blacklisted", other=left)
    if plan.responses.partnering_rate > 0.0:
        form(sim)
