"""Stage 3, score: points of new records, expiry or relaxation, the social term, bounds.

Each person's own score is ``own_i = clip(initial + points_i, lo, hi)`` where
``points_i`` is the sum of the points of their active records. Records stop
counting ``days`` after they were applied (``recovery.mode: expire``), or all
points relax toward zero with a half-life (``relax``), or never (``none``).

The composite score mixes in a social term that is recomputed every
``period`` days and held in between:

    score_i = clip(w_own_i * own_i + w_f * F_i + w_p * P_i + w_e * E_i, lo, hi)

with ``F_i`` the mean score of i's friends (their composite scores if
``composite: true``, which lets scores propagate, else their own scores),
``P_i`` the partner's score and ``E_i`` the employer's company score. Weights
of terms a person lacks (no friends, no partner, no employer) go to the own
score: ``w_own_i = 1 - sum of the weights of the terms i has``.

Everything is computed twice: factually and counterfactually (without false
records), so that each sanction can be judged wrongful or not.

With ``score.basis: ratings`` the records are still applied (they feed
``points`` and ``count()``), but the score comes from peer ratings
(:mod:`socialcredit.engine.stages.rating`) instead of the kernels below.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np
from numba import njit, prange

from socialcredit import parallel
from socialcredit.engine.layout import CHUNK
from socialcredit.engine.stages import friends_mean
from socialcredit.parallel import day_kernel

if TYPE_CHECKING:
    from socialcredit.engine.sim import Sim


@njit(cache=True)
def apply_records(
    person: np.ndarray,
    beh: np.ndarray,
    flags: np.ndarray,
    sign: float,
    region: np.ndarray,
    points_tab: np.ndarray,
    points: np.ndarray,
    points_cf: np.ndarray,
) -> None:
    """Add (sign=+1) or remove (sign=-1) records' points; false records skip the counterfactual.

    Person -1 marks a record overturned on appeal (its points were already removed)."""
    for k in range(person.shape[0]):
        if person[k] < 0:
            continue
        p = np.uint64(person[k])  # unsigned: no index wrap (layout.py)
        pts = sign * points_tab[beh[k], region[p]]
        points[p] += pts
        if (flags[k] & 1) == 0:
            points_cf[p] += pts


@njit(cache=True)
def update_counts(
    person: np.ndarray, beh: np.ndarray, flags: np.ndarray, b: int, delta: int, counts: np.ndarray, counts_cf: np.ndarray
) -> None:
    """Adjust one count() window for the records of behaviour ``b``."""
    for k in range(person.shape[0]):
        p = person[k]
        if beh[k] != b or p < 0:
            continue
        v = int(counts[p]) + delta
        counts[p] = min(max(v, 0), 65535)
        if (flags[k] & 1) == 0:
            v = int(counts_cf[p]) + delta
            counts_cf[p] = min(max(v, 0), 65535)


@njit(cache=True)
def note_latest_penalty(person: np.ndarray, beh: np.ndarray, region: np.ndarray, points_tab: np.ndarray, start: int, latest: np.ndarray) -> None:
    """Remember each person's latest penalising record by its global index in the record log (for appeals)."""
    for k in range(person.shape[0]):
        p = person[k]
        if points_tab[beh[k], region[p]] < 0:
            latest[p] = start + k


@njit(cache=True)
def partner_terms(partner: np.ndarray, score: np.ndarray, score_cf: np.ndarray, ps: np.ndarray, ps_cf: np.ndarray) -> None:
    for i in range(partner.shape[0]):
        j = partner[i]
        if j >= 0:
            ps[i] = score[j]
            ps_cf[i] = score_cf[j]
        else:
            ps[i] = np.nan
            ps_cf[i] = np.nan


@day_kernel(cache=True, fastmath=False)
def score_kernel(
    points: np.ndarray,
    points_cf: np.ndarray,
    relax: float,
    fm: np.ndarray,
    fm_cf: np.ndarray,
    ps: np.ndarray,
    ps_cf: np.ndarray,
    employer: np.ndarray,
    company_score: np.ndarray,
    company_score_cf: np.ndarray,
    w_f: float,
    w_p: float,
    w_e: float,
    initial: float,
    lo: float,
    hi: float,
    score: np.ndarray,
    score_cf: np.ndarray,
) -> None:
    """Every person's score: own points (relaxed first under ``recovery.mode: relax``) and the social terms.

    Two loops: own and friends' terms only (the common case), which never names
    the partner and employer arrays, and all terms. A vectorised loop reads the
    arrays of a term that is off with masked loads whose lanes are all off, and
    on this machine's processors (AMD, AVX-512) a masked load that points at
    unmapped memory takes a slow assist: at 6M persons the loaded-from-cache
    kernel took 115-130 ms a call against 16-24 ms freshly compiled (where the
    compiler's heap happened to be mapped there), 4-5 ms with its own loop. So
    the caller passes full arrays for an absent partner term (``run`` passes the
    friends' means; they are not read), never empty ones. See docs/performance.md.
    """
    n = score.shape[0]
    nchunks = (n + CHUNK - 1) // CHUNK
    use_p = ps.shape[0] == n and w_p > 0.0
    use_e = employer.shape[0] == n and company_score.shape[0] > 0 and w_e > 0.0
    for c in prange(nchunks):
        if not use_p and not use_e:  # own and friends only: the loop never names the partner and employer arrays
            for i in range(np.uint64(c * CHUNK), np.uint64(min(n, (c + 1) * CHUNK))):  # unsigned: no index wrap (layout.py)
                if relax < 1.0:
                    points[i] *= relax
                    points_cf[i] *= relax
                own = min(max(initial + points[i], lo), hi)
                own_cf = min(max(initial + points_cf[i], lo), hi)
                w_own = 1.0
                s = 0.0
                s_cf = 0.0
                if w_f > 0.0 and not np.isnan(fm[i]):
                    w_own -= w_f
                    s += w_f * fm[i]
                    s_cf += w_f * fm_cf[i]
                score[i] = min(max(w_own * own + s, lo), hi)
                score_cf[i] = min(max(w_own * own_cf + s_cf, lo), hi)
            continue
        for i in range(np.uint64(c * CHUNK), np.uint64(min(n, (c + 1) * CHUNK))):
            if relax < 1.0:
                points[i] *= relax
                points_cf[i] *= relax
            own = min(max(initial + points[i], lo), hi)
            own_cf = min(max(initial + points_cf[i], lo), hi)
            w_own = 1.0
            s = 0.0
            s_cf = 0.0
            if w_f > 0.0 and not np.isnan(fm[i]):
                w_own -= w_f
                s += w_f * fm[i]
                s_cf += w_f * fm_cf[i]
            if use_p and not np.isnan(ps[i]):
                w_own -= w_p
                s += w_p * ps[i]
                s_cf += w_p * ps_cf[i]
            if use_e and employer[i] >= 0:  # employer is a full array even without companies (-1 for none)
                w_own -= w_e
                s += w_e * company_score[employer[i]]
                s_cf += w_e * company_score_cf[employer[i]]
            score[i] = min(max(w_own * own + s, lo), hi)
            score_cf[i] = min(max(w_own * own_cf + s_cf, lo), hi)


@njit(cache=True)
def score_touched_kernel(
    who: np.ndarray,
    points: np.ndarray,
    points_cf: np.ndarray,
    fm: np.ndarray,
    fm_cf: np.ndarray,
    ps: np.ndarray,
    ps_cf: np.ndarray,
    employer: np.ndarray,
    company_score: np.ndarray,
    company_score_cf: np.ndarray,
    w_f: float,
    w_p: float,
    w_e: float,
    initial: float,
    lo: float,
    hi: float,
    score: np.ndarray,
    score_cf: np.ndarray,
    ext: np.ndarray,
) -> None:
    """:func:`score_kernel` (without relaxation) for the listed persons only.

    The body repeats score_kernel's on purpose: sharing it as an inline
    function made this kernel three times slower (measured at 1M persons).

    Between social updates a score changes only when the person's own points
    do, so on those days only persons with new or expired records are updated.
    ``ext`` gets the lowest and highest score before and after among them
    (lowest before, highest before, lowest after, highest after; it starts at
    +inf, -inf, +inf, -inf), for :func:`update_range`. A person listed twice
    counts their new score as a score before too, which only makes the check
    there stricter.
    """
    n = score.shape[0]
    use_p = ps.shape[0] == n
    use_e = employer.shape[0] == n and company_score.shape[0] > 0
    lo_before, hi_before, lo_after, hi_after = ext[0], ext[1], ext[2], ext[3]  # in registers through the loop
    for k in range(who.shape[0]):
        i = np.uint64(who[k])  # unsigned: no index wrap (layout.py)
        own = min(max(initial + points[i], lo), hi)
        own_cf = min(max(initial + points_cf[i], lo), hi)
        w_own = 1.0
        s = 0.0
        s_cf = 0.0
        if w_f > 0.0 and not np.isnan(fm[i]):
            w_own -= w_f
            s += w_f * fm[i]
            s_cf += w_f * fm_cf[i]
        if use_p and w_p > 0.0 and not np.isnan(ps[i]):
            w_own -= w_p
            s += w_p * ps[i]
            s_cf += w_p * ps_cf[i]
        if use_e and w_e > 0.0 and employer[i] >= 0:
            w_own -= w_e
            s += w_e * company_score[employer[i]]
            s_cf += w_e * company_score_cf[employer[i]]
        before = np.float64(score[i])
        score[i] = min(max(w_own * own + s, lo), hi)
        score_cf[i] = min(max(w_own * own_cf + s_cf, lo), hi)
        after = np.float64(score[i])
        lo_before = min(lo_before, before)
        hi_before = max(hi_before, before)
        lo_after = min(lo_after, after)
        hi_after = max(hi_after, after)
    ext[0], ext[1], ext[2], ext[3] = lo_before, hi_before, lo_after, hi_after


PARALLEL_TOUCHED = 8_192  # from two chunks of touched persons the parallel kernel pays (1M persons, 90k touched: 0.53 -> 0.30 ms; 2k: 0.026 -> 0.029)


@day_kernel(cache=True)
def score_touched_parallel(
    who, points, points_cf, fm, fm_cf, ps, ps_cf, employer, company_score, company_score_cf,
    w_f, w_p, w_e, initial, lo, hi, score, score_cf, ext,
) -> None:  # fmt: skip
    """:func:`score_touched_kernel` over chunks of ``who`` in parallel (same results: each score is its own).

    A person listed twice may be updated by two threads at once; both write the same value (and one of them
    reads the score before). Each chunk notes its extremes apart, then they are combined into ``ext``.
    """
    m = who.shape[0]
    nchunks = (m + CHUNK - 1) // CHUNK
    part = np.empty((nchunks, 4), np.float64)
    for c in prange(nchunks):
        part[c, 0] = np.inf
        part[c, 1] = -np.inf
        part[c, 2] = np.inf
        part[c, 3] = -np.inf
        score_touched_kernel(
            who[c * CHUNK : min(m, (c + 1) * CHUNK)], points, points_cf, fm, fm_cf, ps, ps_cf, employer,
            company_score, company_score_cf, w_f, w_p, w_e, initial, lo, hi, score, score_cf, part[c],
        )  # fmt: skip
    for c in range(nchunks):
        ext[0] = min(ext[0], part[c, 0])
        ext[1] = max(ext[1], part[c, 1])
        ext[2] = min(ext[2], part[c, 2])
        ext[3] = max(ext[3], part[c, 3])


def update_range(known: tuple[float, float] | None, ext: np.ndarray) -> tuple[float, float] | None:
    """The lowest and highest score after a partial update, from the range before it and the updated persons'
    extremes (``ext``, see :func:`score_touched_kernel`), or None when it cannot be told without a scan.

    If no updated person held the lowest score before, whoever held it still does, so the lowest is now the
    lower of it and the updated persons' lowest; likewise the highest. If one of them held it, their score may
    have risen and the new lowest is somewhere among the others: unknown.
    """
    if known is None:
        return None
    lo, hi = known
    if ext[0] > lo and ext[1] < hi:
        return min(lo, float(ext[2])), max(hi, float(ext[3]))
    return None


def run(sim: Sim) -> None:
    st = sim.state
    plan = sim.plan
    pers = sim.pop.persons
    day = st.day
    person, beh, flags = sim.take_due(day)
    sim.handoffs.records = (person, beh, flags)
    apply_records(person, beh, flags, 1.0, pers.region, plan.behaviours.points, st.points, st.points_cf)
    for k, (b, _days) in enumerate(plan.conditions.count_slots):
        update_counts(person, beh, flags, b, 1, st.counts[k], st.counts_cf[k])
    sim.counters.records(person, beh, flags)
    sim.audit.records(day, person, beh, flags)
    # Records leave the score (expiry) and the count() windows.
    expired = np.zeros(0, np.int32)
    if plan.score.recovery_mode == "expire":
        op, ob, of = st.log.day(day - plan.score.expire_days)
        if op.size:  # at the points they were applied with (a timeline may have changed the table since)
            apply_records(op, ob, of, -1.0, pers.region, sim.points_on(day - plan.score.expire_days), st.points, st.points_cf)
            expired = op.copy()  # a view into the log, which compaction below may overwrite
    for k, (b, days) in enumerate(plan.conditions.count_slots):
        op, ob, of = st.log.day(day - days)
        if op.size:
            update_counts(op, ob, of, b, -1, st.counts[k], st.counts_cf[k])
    if plan.appeals_on and expired.size:
        expired = expired[expired >= 0]  # records overturned on appeal are marked -1
    keep = plan.retention_days
    # keep the day's records if anything reads them back within the run (the earliest read-back decides)
    if keep > 0 and (day + plan.first_readback_days < plan.days or plan.appeals_on):
        start = st.log.base + st.log.size
        st.log.append_day(day, person, beh, flags)
        if plan.appeals_on:
            note_latest_penalty(person, beh, pers.region, plan.behaviours.points, start, st.latest_penalty)
    else:  # never read back within this run (expiry and count windows end after the last day)
        st.log.append_day(day, person[:0], beh[:0], flags[:0])
    st.log.forget_before(day - keep + 1 if keep > 0 else day + 1)
    # Social term on its period (from the scores as they stand before today's update).
    needs_fm = plan.needs_friends_mean
    social_day = day % plan.score.social_period == 0
    if social_day and (needs_fm or plan.score.w_partner > 0):
        if needs_fm:
            friends_mean.update_mean(sim)
        if plan.score.w_partner > 0:
            partner_terms(pers.partner, st.score, st.score_cf, st.partner_score, st.partner_score_cf)
    if plan.ratings is not None:  # score.basis: ratings: the rating step computes the scores, not the points
        return
    relax = plan.score.relax_factor if plan.score.recovery_mode == "relax" else 1.0
    comp = sim.pop.companies
    company_score = comp.score if comp is not None else np.zeros(0, np.float32)
    company_score_cf = comp.score_cf if comp is not None else company_score
    # without a partner term its arrays are empty: the friends' means stand in (full arrays, never read; see score_kernel)
    absent = st.partner_score.size == 0 and plan.score.w_partner <= 0
    ps, ps_cf = (st.friends_mean, st.friends_mean_cf) if absent else (st.partner_score, st.partner_score_cf)
    args = (
        st.friends_mean, st.friends_mean_cf, ps, ps_cf, pers.employer, company_score, company_score_cf,
        plan.score.w_friends, plan.score.w_partner, plan.score.w_employer, plan.score.initial, plan.score.lo, plan.score.hi, st.score, st.score_cf,
    )  # fmt: skip
    if relax < 1.0 or social_day or day == 0 or sim.full_score_pass or sim.switched_today:
        score_kernel(st.points, st.points_cf, relax, *args)
        sim.handoffs.rescore = sim.handoffs.rescore[:0]
        sim.handoffs.touched = None  # everyone may have changed
        sim.handoffs.score_range = None
    else:
        who = np.concatenate((person, expired)) if expired.size else person
        if sim.handoffs.rescore.size:  # points changed after yesterday's score stage (appeals)
            who = np.concatenate((who, sim.handoffs.rescore))
        if who.size:
            # the compile-ahead copy (parallel forced, 1,000 persons) calls the parallel one at any size, so that larger
            # runs find it compiled (engine/compile_ahead.py)
            big = who.size >= PARALLEL_TOUCHED or parallel.FORCE == "parallel"
            kernel = score_touched_parallel if big else score_touched_kernel
            ext = np.array([np.inf, -np.inf, np.inf, -np.inf])
            kernel(who, st.points, st.points_cf, *args, ext)
            sim.handoffs.score_range = update_range(sim.handoffs.score_range, ext)
        sim.handoffs.touched = who  # only these scores changed today
        sim.handoffs.rescore = sim.handoffs.rescore[:0]
