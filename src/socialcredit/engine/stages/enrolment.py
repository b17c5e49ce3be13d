"""Enrolment (``enrolment``): who is in the system, rising with voluntary pilots, then everyone (mandatory).

Each person draws once a uniform ``u_i`` (stream ``enrolment``). On day t person i is enrolled when

    u_i < share_r(i) * ramp(t) * groups_g(i) * (income_i / median income) ** income,   or   t >= mandatory

so while the share rises the enrolled stay enrolled and others join. Persons not enrolled are neither
scored nor sanctioned: records about them are not written (``Sim.schedule`` drops them), their score is
held at the initial score (the social term does not move it), services neither deny nor reward
them, and no list takes them (the classify step undoes such an entry).

Two steps: :func:`run` (first in the day) works out who is in today, and only recomputes the mask on a
day the share can have changed (a ramp point, the mandatory day, a timeline change); :func:`hold`
(after the score step) puts the scores of those not enrolled back to the initial score.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np

from socialcredit import rng

if TYPE_CHECKING:
    from socialcredit.engine.plan import EnrolmentPlan
    from socialcredit.engine.sim import Sim


class Enrolment:
    """Who is enrolled today (``mask``), from each person's fixed draw and the plan's share."""

    def __init__(self, sim: Sim) -> None:
        n = sim.state.n
        self.u = rng.uniforms(rng.key(sim.plan.seed, "enrolment"), n)
        self.mask = np.zeros(n, np.bool_)
        self.everyone = False  # from the mandatory day on (nothing left to do)
        self.level = -1.0  # the ramp multiplier the mask was made with (-1: not made yet)
        self.base = np.zeros(0, np.float64)

    def _base(self, sim: Sim, ep: EnrolmentPlan) -> np.ndarray:
        """share_r * groups_g * income factor, per person."""
        pers = sim.pop.persons
        base = ep.share[pers.region] * ep.groups[pers.group]
        if ep.income != 0.0:
            base = base * (pers.income.astype(np.float64) / sim.median_income) ** ep.income
        return base

    def update(self, sim: Sim) -> np.ndarray:
        """Recompute the mask if the share may have changed; returns the persons newly enrolled today."""
        ep = sim.plan.enrolment
        day = sim.state.day
        if day >= ep.mandatory:
            if self.everyone:
                return np.zeros(0, np.int64)
            new = np.flatnonzero(~self.mask)
            self.mask[:] = True
            self.everyone = True
            return new
        self.everyone = False
        level = ep.ramp_at(day)
        if self.base.size == 0:  # at the start, and after a timeline change (Sim.switch_plan empties it)
            self.base = self._base(sim, ep)
            self.level = -1.0
        if level == self.level:
            return np.zeros(0, np.int64)
        mask = self.u < self.base * level
        new = np.flatnonzero(mask & ~self.mask)
        self.mask = mask
        self.level = level
        return new


def run(sim: Sim) -> None:
    """Who is in the system today; the newly enrolled are scored again from today."""
    if sim.plan.enrolment is None or sim.enrolment is None:
        return
    new = sim.enrolment.update(sim)
    if new.size:
        sim.handoffs.rescore = np.concatenate((sim.handoffs.rescore, new.astype(np.int32)))
        sim.audit.persons(sim.state.day, "enrolled", new)
    sim.counters.persons("enrolled", np.arange(sim.state.n) if sim.enrolment.everyone else np.flatnonzero(sim.enrolment.mask))


def hold(sim: Sim) -> None:
    """Scores of persons not enrolled stay at the initial score (only the social term could move them)."""
    en = sim.enrolment
    if sim.plan.enrolment is None or en is None or en.everyone:
        return
    if sim.handoffs.touched is not None:
        return  # a partial update: only persons with records (never the unenrolled) or rescored were updated
    sc = sim.plan.score
    if sc.w_friends <= 0 and sc.w_partner <= 0 and sc.w_employer <= 0 and sim.plan.ratings is None:
        return  # without records nothing else moves a score
    out = ~en.mask
    init = np.float32(min(max(sc.initial, sc.lo), sc.hi))
    sim.state.score[out] = init
    sim.state.score_cf[out] = init
    sim.handoffs.score_range = None
