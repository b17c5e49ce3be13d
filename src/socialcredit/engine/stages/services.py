"""Stage 5, services: demand, denials and rewards, and their consequences.

Each service has its own random stream: person i tries to use service s on a
day with probability ``demand_s / 365 * (income_i / median income) ** e_s``.
A punishment service denies the attempt when ``denied_when`` holds; a reward
service grants its perk when ``granted_when`` holds. The same condition is
evaluated on the counterfactual state (no false records): a denial that would
not have happened there is *wrongful*; a reward lost only because of false
records is counted as ``wrongful`` for reward services.
Consequences: income changes by a fraction; optionally a record of a named
behaviour is made against the person (applied the next day).

A service with ``applies_to: children`` (a school place) is applied for on
behalf of children: the guardian of a household with c children applies on a
day with probability ``demand_s / 365 * c``, and the condition is read on the
guardian (``blacklisted or partner_blacklisted``: a parent's status). Its
counts are the children's applications, counted in the guardian's cell.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np
from numba import prange

from socialcredit import rng
from socialcredit.engine import picks
from socialcredit.engine.layout import CHUNK, FALSE, SERVICE
from socialcredit.engine.person_fields import PersonFields
from socialcredit.parallel import day_kernel

if TYPE_CHECKING:
    from socialcredit.engine.sim import Sim


@day_kernel(cache=True)
def attempt_kernel(
    key: np.uint64, p: float, income: np.ndarray, median: float, elasticity: float, local: np.ndarray, chunk_counts: np.ndarray
) -> None:
    """Who tries the service today: noted per chunk in ``local`` for :func:`picks.gather_kernel`."""
    n = local.shape[0]
    nchunks = (n + CHUNK - 1) // CHUNK
    pf = np.float32(p)
    for c in prange(nchunks):
        lo = c * CHUNK
        hi = min(n, lo + CHUNK)
        ulo = np.uint64(lo)
        # the draws first (a loop that vectorises; unsigned indices, layout.py), then the picks, skipping
        # eight persons at a time where none tries (most days most do not)
        hit = np.zeros(CHUNK, np.uint8)
        if elasticity == 0.0:
            for i in range(ulo, np.uint64(hi)):
                hit[i - ulo] = rng.uniform32(key, i) < pf
        elif elasticity == 1.0:  # x ** 1 is x exactly: the same draws without a power per person
            for i in range(ulo, np.uint64(hi)):
                hit[i - ulo] = rng.uniform(key, i) < p * (income[i] / median)
        else:
            for i in range(ulo, np.uint64(hi)):
                hit[i - ulo] = rng.uniform(key, i) < p * (income[i] / median) ** elasticity
        words = hit.view(np.uint64)
        cnt = 0
        for w in range(CHUNK // 8):
            if words[w] != 0:
                for q in range(w * 8, w * 8 + 8):
                    if hit[q]:
                        local[lo + cnt] = np.uint16(q)
                        cnt += 1
        chunk_counts[c] = cnt


def attempts(sim: Sim, key: np.uint64, demand_day: float, elasticity: float = 0.0) -> np.ndarray:
    """Indices of persons who try a service today (ascending), each with probability ``demand_day`` times the
    income term, drawn on ``key`` (one stream and sub per service: services, loans, school places)."""
    st = sim.state
    counts = sim.buffers.chunk_counts
    attempt_kernel(key, demand_day, st.income, sim.median_income, elasticity, sim.buffers.picked, counts)
    return picks.gather_kernel(sim.buffers.picked, counts)


def child_attempts(sim: Sim, key: np.uint64, demand_day: float) -> np.ndarray:
    """Guardians who apply for a child today (ascending): each with probability ``demand_day * children``
    (one application a day at most: demand per child is a few a year)."""
    children = sim.pop.persons.children
    guardians = np.flatnonzero(children)
    hit = rng.uniforms_at(key, guardians) < demand_day * children[guardians]
    return guardians[hit]


def run(sim: Sim) -> None:
    st = sim.state
    plan = sim.plan
    sanctioned: list[np.ndarray] = []
    for s, sp in enumerate(plan.services):
        if sp.demand_day <= 0:
            continue
        key = rng.key(plan.seed, "demand", st.day, s)
        idx = child_attempts(sim, key, sp.demand_day) if sp.for_children else attempts(sim, key, sp.demand_day, sp.income_elasticity)
        if idx.size == 0:
            sim.counters.service(s, idx, idx, idx)
            continue
        hit = sp.condition(PersonFields(sim, idx=idx), n=idx.size)
        hit_cf = sp.condition(PersonFields(sim, cf=True, idx=idx), n=idx.size)
        if sim.enrolment is not None and not sim.enrolment.everyone:  # the system neither denies nor rewards the unenrolled
            inside = sim.enrolment.mask[idx]
            hit = hit & inside
            hit_cf = hit_cf & inside
        if sp.is_reward:
            outcome = idx[hit]
            wrongful = idx[~hit & hit_cf]  # reward lost only because of false records
        else:
            outcome = idx[hit]
            wrongful = idx[hit & ~hit_cf]
            sanctioned.append(outcome)
        sim.counters.service(s, idx, outcome, wrongful)
        sim.audit.service(st.day, s, sp.is_reward, outcome, wrongful)
        if sp.income_change != 0.0 and outcome.size:
            sim.scale_income(outcome, 1.0 + sp.income_change)
        if sp.record_behaviour >= 0 and outcome.size:
            # the consequence record is false when the outcome itself exists only because of false records
            flags = np.full(outcome.size, SERVICE, np.uint8)
            only_factual = wrongful if not sp.is_reward else idx[hit & ~hit_cf]
            flags[picks.in_sorted(outcome, only_factual)] |= FALSE  # both ascending
            beh = np.full(outcome.size, sp.record_behaviour, np.uint8)
            sim.schedule(outcome.astype(np.int32), beh, flags, 1)
    sim.handoffs.sanctioned = np.concatenate(sanctioned) if sanctioned else np.zeros(0, np.int64)
