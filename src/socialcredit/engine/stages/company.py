"""Companies (part of stage 6, institutions): behaviours, records, score, blacklist, coupling.

Each day, company j does company behaviour b with probability ``rate_b / 365``
(stream ``company_behave``); the behaviour's channel records it with
probability ``coverage[channel, region_j]`` (stream ``company_detect``),
``delay`` days later. Companies are never misattributed.

A company's score is ``clip(initial + points_j, lo, hi)`` with the persons'
bounds and recovery rule (records expire, points relax, or neither), and its
tier comes from the same thresholds. The company blacklist
(``lists.company_blacklist``) reads company fields: ``score``, ``points``,
``tier``, ``region``, ``size``, ``blacklisted``, ``days_listed``.

Coupling (``institutions.coupling``): when a company enters the blacklist, a
record of ``representative_record`` (a person behaviour) is made against its
legal representative; when a legal representative enters the personal
blacklist, a record of ``company_record`` (a company behaviour) is made
against their company. Both take effect the next day. A blacklisted company
also makes its representative ``represents_blacklisted`` (and its employees
``employer_blacklisted``), fields a ``management`` service can deny on.

Persons' employer term reads the company score whenever their score is
recomputed: for everyone on each social update, and in between for persons
whose own points changed that day.
Everything has a counterfactual twin: a coupling record caused by a wrongful
listing is false and stays out of the twin.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np

from socialcredit import rng
from socialcredit.engine.layout import FALSE, SERVICE
from socialcredit.engine.measures import COMPANY_COLUMNS
from socialcredit.engine.stages.classify import list_kernel, tier_kernel
from socialcredit.engine.stages.score import apply_records
from socialcredit.engine.state import RecordLog

if TYPE_CHECKING:
    from socialcredit.engine.sim import Sim

COMPANY_MEASURES = list(COMPANY_COLUMNS)  # columns of DailyAggregates.company, declared in engine/measures.py


def monitored_companies(seed: int, share: float, m: int) -> np.ndarray:
    """Whether each company monitors its employees' emotions (stream ``companies``, step 7; fixed for the run)."""
    return rng.uniforms(rng.key(seed, "companies", 7, 0), m) < share


class CompanyBook:
    """Company-side run state that is not a per-company array: pending records and the record log."""

    def __init__(self, sim: Sim) -> None:
        self.pending: dict[int, list[tuple[np.ndarray, np.ndarray, np.ndarray]]] = {}
        self.log = RecordLog()
        comp = sim.pop.companies
        n = sim.state.n
        # the company each person represents (-1 for none): a person represents at most one
        self.represents = np.full(n, -1, np.int32)
        has = comp.representative >= 0
        self.represents[comp.representative[has]] = np.flatnonzero(has).astype(np.int32)
        # persons laid off because their employer entered the company blacklist (company sanctions)
        self.laid_off = np.zeros(n, np.bool_)
        # the employees of companies that monitor emotions (emotion monitoring; empty without it)
        ep = sim.plan.emotion
        employer = sim.pop.persons.employer
        if ep is None:
            self.watched = np.zeros(0, np.int64)
        else:
            monitored = monitored_companies(sim.plan.seed, ep.companies, comp.n)
            self.watched = np.flatnonzero((employer >= 0) & monitored[np.maximum(employer, 0)])

    def schedule(self, day: int, company: np.ndarray, beh: np.ndarray, flags: np.ndarray) -> None:
        if company.size:
            self.pending.setdefault(day, []).append(
                (company.astype(np.int32), beh.astype(np.uint8), flags.astype(np.uint8))
            )

    def take_due(self, day: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        batches = self.pending.pop(day, [])
        if not batches:
            return np.zeros(0, np.int32), np.zeros(0, np.uint8), np.zeros(0, np.uint8)
        return tuple(np.concatenate([b[i] for b in batches]) for i in range(3))  # type: ignore[return-value]


def company_env(sim: Sim, cf: bool, tier_cf: np.ndarray) -> dict[str, np.ndarray]:
    """The fields company list conditions read (companies are few: built whole)."""
    comp = sim.pop.companies
    day = sim.state.day
    since = comp.black_since_cf if cf else comp.black_since
    return {
        "score": comp.score_cf if cf else comp.score,
        "points": comp.points_cf if cf else comp.points,
        "tier": tier_cf if cf else comp.tier,
        "region": comp.region,
        "size": comp.size,
        "blacklisted": since >= 0,
        "days_listed": np.where(since >= 0, day - since, 0),
    }


def _behave(sim: Sim) -> None:
    """Draw today's company behaviours and schedule the detected ones as records."""
    plan = sim.plan
    comp = sim.pop.companies
    day = sim.state.day
    m = comp.n
    coverage = plan.coverage_on(day)
    for b in plan.behaviours.company:
        rate = float(plan.behaviours.company_rate_day[b])
        if rate <= 0.0:
            continue
        acts = np.flatnonzero(rng.uniforms(rng.key(plan.seed, "company_behave", day, int(b)), m) < rate)
        if acts.size == 0:
            continue
        ch = int(plan.behaviours.channel[b])
        u = rng.uniforms_at(rng.key(plan.seed, "company_detect", day, int(b)), acts)
        rec = acts[u < coverage[ch, comp.region[acts]]]
        sim.company_book.schedule(
            day + int(plan.detection.delay[ch]), rec, np.full(rec.size, b, np.uint8), np.zeros(rec.size, np.uint8)
        )


def run(sim: Sim) -> None:
    plan = sim.plan
    comp = sim.pop.companies
    if comp is None or not plan.companies_active:
        return
    st = sim.state
    day = st.day
    book = sim.company_book
    _behave(sim)
    # coupling, person -> company: representatives blacklisted today cost their company a record
    if plan.institutions.company_record >= 0 and sim.handoffs.black_entered.size:
        reps = sim.handoffs.black_entered[book.represents[sim.handoffs.black_entered] >= 0]
        if reps.size:
            firms = book.represents[reps]
            flags = np.where(st.black_since_cf[reps] < 0, FALSE | SERVICE, SERVICE).astype(np.uint8)
            book.schedule(day + 1, firms, np.full(firms.size, plan.institutions.company_record, np.uint8), flags)
    # records due today, expiry or relaxation, score and tier
    firm, beh, flags = book.take_due(day)
    apply_records(firm, beh, flags, 1.0, comp.region, plan.behaviours.points, comp.points, comp.points_cf)
    rec = sim.daily.company[day]
    rec[COMPANY_MEASURES.index("company_records_true")] = int(((flags & 1) == 0).sum())
    rec[COMPANY_MEASURES.index("company_records_false")] = int((flags & 1).sum())
    if plan.score.recovery_mode == "expire":
        op, ob, of = book.log.day(day - plan.score.expire_days)
        if op.size:
            apply_records(op, ob, of, -1.0, comp.region, plan.behaviours.points, comp.points, comp.points_cf)
        book.log.append_day(day, firm, beh, flags)
        book.log.forget_before(day - plan.score.expire_days + 1)
    elif plan.score.recovery_mode == "relax":
        comp.points *= np.float32(plan.score.relax_factor)
        comp.points_cf *= np.float32(plan.score.relax_factor)
    np.clip(plan.score.initial + comp.points, plan.score.lo, plan.score.hi, out=comp.score)
    np.clip(plan.score.initial + comp.points_cf, plan.score.lo, plan.score.hi, out=comp.score_cf)
    tier_cf = np.empty_like(comp.tier)
    tier_kernel(comp.score, comp.score_cf, plan.tiers.mins, comp.tier, tier_cf)
    # the company blacklist, factual and counterfactual
    lp = plan.lists.company_blacklist
    entered = np.zeros(0, np.int64)
    left = np.zeros(0, np.int64)
    if lp is not None:
        change = np.zeros(comp.n, np.uint8)
        for cf, since in ((False, comp.black_since), (True, comp.black_since_cf)):
            env = company_env(sim, cf, tier_cf)
            enter = lp.enter(env, n=comp.n)
            exit_ = lp.exit(env, n=comp.n) if lp.exit is not None else enter
            list_kernel(enter, exit_, lp.exit is not None, since, day, lp.min_days, change)
            if not cf:
                entered = np.flatnonzero(change == 1)
                left = np.flatnonzero(change == 2)
    rec[COMPANY_MEASURES.index("company_blacklist_entries")] = entered.size
    rec[COMPANY_MEASURES.index("company_blacklist_exits")] = left.size
    rec[COMPANY_MEASURES.index("companies_blacklisted")] = int((comp.black_since >= 0).sum())
    rec[COMPANY_MEASURES.index("company_score_mean")] = float(comp.score.mean()) if comp.n else np.nan
    rec[COMPANY_MEASURES.index("company_revenue_mean")] = float(comp.revenue.mean()) if comp.n else np.nan
    # coupling, company -> person: a company's listing is recorded against its legal representative
    if plan.institutions.representative_record >= 0 and entered.size:
        reps = comp.representative[entered]
        ok = reps >= 0
        reps, firms = reps[ok], entered[ok]
        if reps.size:
            flags = np.where(comp.black_since_cf[firms] < 0, FALSE | SERVICE, SERVICE).astype(np.uint8)
            sim.schedule(reps, np.full(reps.size, plan.institutions.representative_record, np.uint8), flags, 1)
    if entered.size:
        reps = comp.representative[entered]
        sim.audit.persons(day, "company_blacklisted", reps[reps >= 0])
