"""Surveillance that follows its findings (``detection.channels.X.follows_findings``; Ensign et al. 2018).

A following channel's coverage by region is reallocated every ``period`` days, within a fixed total
(coverage summed over persons: a fixed number of cameras or officers, ``T = sum_r c_r N_r`` from the
plan's coverage). With ``f_r`` the records the channel found in region r over the last ``memory`` days
(``f_r / c_r`` when ``per_coverage``, an estimate of the true rate):

    c_r' = T * (u * N_r / N + (1 - u) * f_r ** a / sum_s f_s ** a) / N_r,      capped at 1

with ``u`` the share kept uniform (``uniform``) and ``a`` the ``sharpness`` (the cap's excess goes to the
other regions in proportion). With ``a = 1`` and ``u = 0`` this is the Polya urn of Ensign et al.: an
early lead is kept, never corrected toward the true rates; with ``a > 1`` (toward hot spots) an early
lead runs away until one region holds nearly all the coverage and nearly all the records; a uniform
share ``u`` damps it (for two equal regions and ``a = 2`` the even split is stable when ``u > 1/2``).
Days with no record found keep the allocation. The ``coverage`` table records, for every day, each
following channel's coverage and records found by region.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np

if TYPE_CHECKING:
    from socialcredit.engine.plan import Plan
    from socialcredit.engine.sim import Sim


class Surveillance:
    """The following channels' current coverage by region, their recent findings, and the daily history."""

    def __init__(self, sim: Sim) -> None:
        plan = sim.plan
        fp = plan.follows
        R = len(plan.rulebook.region_names)
        F = fp.channels.size
        self.persons = np.diff(sim.pop.persons.region_offsets).astype(np.float64)  # N_r
        self.window = int(fp.memory.max())
        self.found = np.zeros((F, R, self.window), np.int64)  # records found, ring buffer over days
        self.coverage = np.zeros((F, R), np.float64)
        self.total = np.zeros(F, np.float64)
        self.history = np.zeros((plan.days, F, R), np.float64)  # coverage in force each day
        self.found_history = np.zeros((plan.days, F, R), np.int64)  # records found each day
        self.restart(plan)

    def restart(self, plan: Plan) -> None:
        """Start from the plan's coverage (at setup, and when a timeline change puts another plan in force)."""
        cov = plan.detection.coverage[plan.follows.channels]
        self.coverage = cov.astype(np.float64).copy()
        self.total = (cov * self.persons).sum(axis=1)

    def today(self, plan: Plan, day: int) -> np.ndarray:
        """Coverage (C, R) in force today: the plan's, with the following channels' rows replaced (times their ramp)."""
        cov = plan.coverage_on(day).copy()
        ramp = np.array([plan.rulebook.detection.channels[plan.detection.channel_names[c]].ramp_at(day) for c in plan.follows.channels])
        cov[plan.follows.channels] = self.coverage * ramp[:, None]
        self.history[day] = cov[plan.follows.channels]
        return cov

    def note(self, plan: Plan, day: int, person: np.ndarray, beh: np.ndarray, region: np.ndarray) -> None:
        """Count today's records of each following channel by the region of the person they are attached to."""
        slot = day % self.window
        self.found[:, :, slot] = 0
        if person.size:
            channel = plan.behaviours.channel[beh]
            R = self.persons.size
            for k, c in enumerate(plan.follows.channels):
                sel = channel == c
                if sel.any():
                    self.found[k, :, slot] = np.bincount(region[person[sel]], minlength=R)
        self.found_history[day] = self.found[:, :, slot]

    def reallocate(self, plan: Plan, day: int) -> None:
        """On each channel's period, share its total coverage by the records found over its memory."""
        fp = plan.follows
        for k in range(fp.channels.size):
            if (day + 1) % fp.period[k] != 0:
                continue
            days = np.arange(max(0, day - fp.memory[k] + 1), day + 1)
            found = self.found[k][:, days % self.window].astype(np.float64)  # (R, days)
            if fp.per_coverage[k]:  # each day's records per unit of the coverage they were found under
                cov = self.history[days, k].T
                found = np.where(cov > 0, found / np.maximum(cov, 1e-12), 0.0)
            f = found.sum(axis=1)
            self.coverage[k] = allocate(f, self.persons, self.total[k], fp.uniform[k], fp.sharpness[k], self.coverage[k])


def allocate(found: np.ndarray, persons: np.ndarray, total: float, uniform: float, sharpness: float, current: np.ndarray) -> np.ndarray:
    """Coverage by region: ``total`` persons' worth shared uniformly (share ``uniform``) and by ``found ** sharpness``."""
    weight = np.where(found > 0, found, 0.0) ** sharpness if sharpness > 0 else (found > 0).astype(np.float64)
    if weight.sum() <= 0 or persons.sum() <= 0:
        return current
    share = uniform * persons / persons.sum() + (1.0 - uniform) * weight / weight.sum()
    alloc = total * share  # persons' worth of coverage per region
    cov = np.zeros_like(alloc)
    free = persons > 0
    for _ in range(persons.size):  # cap at 1, hand the excess to the regions below the cap
        cov[free] = alloc[free] / persons[free]
        over = free & (cov > 1.0)
        if not over.any():
            break
        excess = ((cov[over] - 1.0) * persons[over]).sum()
        cov[over] = 1.0
        free &= ~over
        alloc[over] = persons[over]
        if not free.any() or alloc[free].sum() <= 0:
            break
        alloc[free] += excess * alloc[free] / alloc[free].sum()
    return np.minimum(cov, 1.0)


def run(sim: Sim) -> None:
    """After detection: note the following channels' records, and reallocate on their period."""
    sv = sim.surveillance
    if sv is None:
        return
    person, beh = sim.handoffs.detected
    sv.note(sim.plan, sim.state.day, person, beh, sim.pop.persons.region)
    sv.reallocate(sim.plan, sim.state.day)
