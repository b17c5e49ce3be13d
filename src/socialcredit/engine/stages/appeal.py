"""Appeals (part of stage 6, institutions): a sanctioned person contests the record behind it.

A person who is denied a service or put on the blacklist today, and who has a
penalising record not yet appealed, appeals their latest such record with
probability ``probability`` (stream ``appeal``). The decision comes ``delay``
days later and is drawn at filing: a false record is overturned with
probability ``success_false``, a true one with ``success_true``.

An overturned record is taken out of the score: its points (as they stand
after any relaxation) are reversed, it leaves the ``count()`` windows, and
it is marked in the record log so that expiry skips it. A true record
overturned leaves the counterfactual score too (the record is gone from the
system); a false one never was in it. Sanctions already suffered stay
counted. For each overturned false record, the days it counted against the
person (decision day minus the day it was applied) are recorded as
``appeal_days_false`` (up to its expiry, if it expired before the decision).
Records older than ``window`` days cannot be appealed (no appeal is filed,
and the person can appeal their next penalising record). An appeal won on a
record that expired before the decision reverses nothing but is counted.
"""

from __future__ import annotations

from bisect import bisect_right
from typing import TYPE_CHECKING

import numpy as np

from socialcredit import rng
from socialcredit.engine.stages.score import apply_records

if TYPE_CHECKING:
    from socialcredit.engine.sim import Sim


def file(sim: Sim) -> None:
    """File today's appeals (persons sanctioned today who have an appealable record)."""
    plan = sim.plan
    st = sim.state
    day = st.day
    sanctioned = np.concatenate((sim.handoffs.sanctioned.astype(np.int64), sim.handoffs.black_entered.astype(np.int64)))
    if sanctioned.size == 0:
        return
    who = np.unique(sanctioned)
    who = who[st.latest_penalty[who] >= 0]
    if who.size == 0:
        return
    u = rng.uniforms_at(rng.key(plan.seed, "appeal", day, 0), who)
    who = who[u < plan.institutions.appeal_p]
    if who.size == 0:
        return
    log = st.log
    idx = st.latest_penalty[who].copy()
    st.latest_penalty[who] = -1  # this record is now under appeal; a newer one can be appealed later
    pos = idx - log.base
    ok = (idx >= (log.day_start[0] if log.day_start else log.base + log.size)) & (pos < log.size)
    rec_day = _record_days(log, idx)
    ok &= day - rec_day <= plan.institutions.appeal_window
    who, idx, pos, rec_day = who[ok], idx[ok], pos[ok], rec_day[ok]
    if who.size == 0:
        return
    is_false = (log.code[pos] >> np.uint8(7)).astype(bool)
    success = np.where(is_false, plan.institutions.appeal_success_false, plan.institutions.appeal_success_true)
    won = rng.uniforms_at(rng.key(plan.seed, "appeal", day, 1), who) < success
    sim.counters.persons("appeals_filed", who)
    sim.audit.persons(day, "appeal_filed", who, is_false=is_false, behaviour=log.code[pos] & np.uint8(127))
    due = day + plan.institutions.appeal_delay
    sim.pending_appeals.setdefault(due, []).append((who, idx, won, is_false, rec_day))


def _record_days(log, idx: np.ndarray) -> np.ndarray:
    """The day each record (by global log index) was applied."""
    return np.array([log.first_day + bisect_right(log.day_start, int(i)) - 1 for i in idx], dtype=np.int64)


def decide(sim: Sim) -> None:
    """Decide the appeals due today and reverse the records overturned."""
    plan = sim.plan
    st = sim.state
    day = st.day
    batches = sim.pending_appeals.pop(day, [])
    if not batches:
        return
    who = np.concatenate([b[0] for b in batches])
    idx = np.concatenate([b[1] for b in batches])
    won = np.concatenate([b[2] for b in batches])
    is_false = np.concatenate([b[3] for b in batches])
    rec_day = np.concatenate([b[4] for b in batches])
    log = st.log
    region = sim.pop.persons.region
    reversed_ = []
    for k in np.flatnonzero(won):
        p, i = int(who[k]), int(idx[k])
        pos = i - log.base
        if i < (log.day_start[0] if log.day_start else log.base + log.size) or pos >= log.size or log.person[pos] != p:
            continue  # the record left the log (moot)
        age = day - int(rec_day[k])
        if plan.score.recovery_mode == "expire" and age >= plan.score.expire_days:
            continue  # it already expired
        b = int(log.code[pos] & np.uint8(127))
        weight = plan.score.relax_factor ** (age + 1) if plan.score.recovery_mode == "relax" else 1.0
        one = np.array([p], np.int32)
        apply_records(one, np.array([b], np.uint8), np.array([int(is_false[k])], np.uint8), -weight, region, sim.points_on(int(rec_day[k])), st.points, st.points_cf)
        for slot, (sb, days) in enumerate(plan.conditions.count_slots):
            if sb == b and age < days:
                st.counts[slot, p] = max(int(st.counts[slot, p]) - 1, 0)
                if not is_false[k]:
                    st.counts_cf[slot, p] = max(int(st.counts_cf[slot, p]) - 1, 0)
        log.person[pos] = -1  # expiry and count windows skip it from now on
        reversed_.append(p)
    if reversed_:
        sim.handoffs.rescore = np.concatenate((sim.handoffs.rescore, np.array(reversed_, np.int32)))
    won_false = won & is_false
    sim.counters.persons("appeals_won", who[won])
    sim.counters.persons("appeals_won_false", who[won_false])
    counted = day - rec_day[won_false]
    if plan.score.recovery_mode == "expire":
        counted = np.minimum(counted, plan.score.expire_days)
    sim.counters.persons("appeal_days_false", who[won_false], weight=counted)
    sim.counters.persons("appeals_lost", who[~won])
    sim.audit.persons(day, "appeal_won", who[won], is_false=is_false[won])
    sim.audit.persons(day, "appeal_lost", who[~won], is_false=is_false[~won])


def run(sim: Sim) -> None:
    if not sim.plan.appeals_on:
        return
    file(sim)
    decide(sim)
