"""Stage 4, classify: tiers, then blacklist and redlist entries and exits.

A person's tier is the first (best) tier whose ``min`` their score reaches.
A list rule puts a person on the list the day its ``enter`` condition holds;
they leave once they have been listed at least ``min_days`` and the ``exit``
condition holds (by default: the entry condition no longer holds). The
blacklist is decided before the redlist, so a redlist rule may read
``blacklisted``. Counterfactual tiers and lists are kept alongside.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np
from numba import njit, prange

from socialcredit.engine import picks
from socialcredit.engine.layout import CHUNK
from socialcredit.engine.person_fields import PersonFields
from socialcredit.parallel import day_kernel

if TYPE_CHECKING:
    from socialcredit.engine.sim import Sim

ENTERED = np.uint8(1)
LEFT = np.uint8(2)


@njit(inline="always", cache=True)
def _tier_of(s: float, mins: np.ndarray) -> int:
    """Number of thresholds above the score = tier index (branch-free)."""
    t = 0
    for k in range(mins.shape[0]):
        t += s < mins[k]
    return t


@njit(inline="always", cache=True)
def _list_step(since: np.ndarray, i: int, enter: bool, leave: bool, day: int, min_days: int) -> int:
    """One person's day on a list: enter (1), leave after ``min_days`` (2), or neither (0).

    Written with selects and one store only when the entry day changes: as
    nested branches with conditional stores, the serial versions of the kernels
    that inline it ran 8-14 times slower than their parallel versions on one
    thread (1M persons, a full pass: 50 ms against 6.4 ms; the parallel versions
    are unchanged, 3.5 ms), masked stores most likely."""
    s = since[i]
    entered = s < 0 and enter
    left = s >= 0 and day - s >= min_days and leave
    new = day if entered else (-1 if left else s)
    if new != s:
        since[i] = new
    return np.int64(entered) + 2 * np.int64(left)


@day_kernel(cache=True)
def tier_kernel(score: np.ndarray, score_cf: np.ndarray, mins: np.ndarray, tier: np.ndarray, tier_cf: np.ndarray) -> None:
    n = score.shape[0]
    nchunks = (n + CHUNK - 1) // CHUNK
    for c in prange(nchunks):
        for i in range(c * CHUNK, min(n, (c + 1) * CHUNK)):
            tier[i] = _tier_of(score[i], mins)
            tier_cf[i] = _tier_of(score_cf[i], mins)


@day_kernel(cache=True)
def list_kernel(
    enter: np.ndarray, exit_: np.ndarray, has_exit: bool, since: np.ndarray, day: int, min_days: int, change: np.ndarray
) -> None:
    """Update one list's entry days; mark entries (1) and exits (2) in ``change``."""
    n = since.shape[0]
    nchunks = (n + CHUNK - 1) // CHUNK
    for c in prange(nchunks):
        for i in range(c * CHUNK, min(n, (c + 1) * CHUNK)):
            leave = exit_[i] if has_exit else not enter[i]
            change[i] = _list_step(since, i, enter[i], leave, day, min_days)


@day_kernel(cache=True)
def list_table_kernel(
    tier: np.ndarray,
    region: np.ndarray,
    group: np.ndarray,
    R: int,
    G: int,
    enter_tab: np.ndarray,
    exit_tab: np.ndarray,
    has_exit: bool,
    since: np.ndarray,
    day: int,
    min_days: int,
    change: np.ndarray,
) -> None:
    """:func:`list_kernel` for conditions tabulated over (tier, region, group)."""
    n = since.shape[0]
    nchunks = (n + CHUNK - 1) // CHUNK
    for c in prange(nchunks):
        for i in range(c * CHUNK, min(n, (c + 1) * CHUNK)):
            code = (np.int64(tier[i]) * R + region[i]) * G + group[i]
            leave = exit_tab[code] if has_exit else not enter_tab[code]
            change[i] = _list_step(since, i, enter_tab[code], leave, day, min_days)


@njit(inline="always", cache=True)
def _tier_of8(s: float, m0, m1, m2, m3, m4, m5, m6, m7) -> int:
    """:func:`_tier_of` for at most 8 thresholds padded with -inf: unrolled, so it vectorises."""
    return (
        np.int64(s < m0) + np.int64(s < m1) + np.int64(s < m2) + np.int64(s < m3)
        + np.int64(s < m4) + np.int64(s < m5) + np.int64(s < m6) + np.int64(s < m7)
    )  # fmt: skip


@day_kernel(cache=True)
def tiers8_kernel(score: np.ndarray, score_cf: np.ndarray, m: np.ndarray, tier: np.ndarray, tier_cf: np.ndarray) -> None:
    """Tiers for rulebooks with at most 9 tiers (thresholds padded to 8 with -inf)."""
    n = score.shape[0]
    m0, m1, m2, m3, m4, m5, m6, m7 = m[0], m[1], m[2], m[3], m[4], m[5], m[6], m[7]
    nchunks = (n + CHUNK - 1) // CHUNK
    for c in prange(nchunks):
        for i in range(c * CHUNK, min(n, (c + 1) * CHUNK)):
            tier[i] = _tier_of8(score[i], m0, m1, m2, m3, m4, m5, m6, m7)
            tier_cf[i] = _tier_of8(score_cf[i], m0, m1, m2, m3, m4, m5, m6, m7)


WATCH = np.uint16(256)  # change bit: on some list (factual or counterfactual) after today


@day_kernel(cache=True)
def classify_fused_kernel(
    mark, use_mark, score, score_cf, mins, m8, tier, tier_cf, region, group, R, G, day,
    bl_on, bl_enter, bl_exit, bl_min, bl_since, bl_since_cf,
    rl_on, rl_enter, rl_exit, rl_min, rl_since, rl_since_cf,
    local, bits_out, counts,
) -> None:  # fmt: skip
    """Tiers and both lists, factual and counterfactual, in one pass over each chunk.

    For rulebooks whose list conditions read only tier, region and group (so
    they are tables over those codes). Visits everyone, or, when ``use_mark``,
    only the persons marked in ``mark`` (the persons whose score changed are
    among them, so their tiers are computed here; the marks are cleared).
    Notes the persons whose bits are not zero as in :mod:`picks` (offsets in
    ``local``, per chunk ``counts``), with their bits at the same places in
    ``bits_out``: 1/2 blacklist entry/exit, 4/8 redlist entry/exit (factual),
    16/32 and 64/128 the same for the counterfactual lists, 256 on some list
    afterwards. One launch and one read of the marks, where a scan of the marks
    before and of the bits after took two more.

    A chunk's tiers come first, in a loop of their own (on a full pass with ``m8``, the
    thresholds padded to 8 with -inf, when there are at most 8: it vectorises), then its lists:
    a full pass takes half the time it took with both in one loop (1M persons:
    4-6.6 -> 1.9-3 ms).
    """
    n = score.shape[0]
    nchunks = (n + CHUNK - 1) // CHUNK
    uG = np.uint64(G)
    uRG = np.uint64(R * G)
    few = mins.shape[0] <= 8
    m0, m1, m2, m3, m4, m5, m6, m7 = m8[0], m8[1], m8[2], m8[3], m8[4], m8[5], m8[6], m8[7]
    for c in prange(nchunks):
        lo = np.uint64(c * CHUNK)
        size = np.uint64(min(n, (c + 1) * CHUNK)) - lo
        if use_mark:
            m = np.uint64(0)
            for q in range(size):  # branch-free: every offset is written, only marked ones advance
                local[lo + m] = np.uint16(q)
                m += np.uint64(mark[lo + q] != 0)
            for q in range(size):
                mark[lo + q] = 0
            for j in range(m):  # a gather: scalar code either way, so the plain count (less to compile)
                i = lo + np.uint64(local[lo + j])
                tier[i] = _tier_of(score[i], mins)
                tier_cf[i] = _tier_of(score_cf[i], mins)
        else:
            m = size
            if few:
                for i in range(lo, lo + size):
                    tier[i] = _tier_of8(score[i], m0, m1, m2, m3, m4, m5, m6, m7)
                    tier_cf[i] = _tier_of8(score_cf[i], m0, m1, m2, m3, m4, m5, m6, m7)
            else:
                for i in range(lo, lo + size):
                    tier[i] = _tier_of(score[i], mins)
                    tier_cf[i] = _tier_of(score_cf[i], mins)
        cnt = np.uint64(0)
        for j in range(m):  # the picks overwrite local behind the reads (cnt <= j)
            q = np.uint64(local[lo + j]) if use_mark else j
            i = lo + q
            base = np.uint64(region[i]) * uG + np.uint64(group[i])
            code = np.uint64(tier[i]) * uRG + base
            code_cf = np.uint64(tier_cf[i]) * uRG + base
            bits = 0
            if bl_on:
                bits |= _list_step(bl_since, i, bl_enter[code], bl_exit[code], day, bl_min)
                bits |= _list_step(bl_since_cf, i, bl_enter[code_cf], bl_exit[code_cf], day, bl_min) << 4
                if bl_since[i] >= 0 or bl_since_cf[i] >= 0:
                    bits |= 256
            if rl_on:
                bits |= _list_step(rl_since, i, rl_enter[code], rl_exit[code], day, rl_min) << 2
                bits |= _list_step(rl_since_cf, i, rl_enter[code_cf], rl_exit[code_cf], day, rl_min) << 6
                if rl_since[i] >= 0 or rl_since_cf[i] >= 0:
                    bits |= 256
            local[lo + cnt] = np.uint16(q)
            bits_out[lo + cnt] = np.uint16(bits)
            cnt += np.uint64(bits != 0)
        counts[c] = cnt


@njit(cache=True)
def tiers_touched_kernel(who: np.ndarray, score: np.ndarray, score_cf: np.ndarray, mins: np.ndarray, tier: np.ndarray, tier_cf: np.ndarray) -> None:
    """Tiers of the listed persons only (the others' scores did not change today)."""
    for k in range(who.shape[0]):
        i = who[k]
        tier[i] = _tier_of(score[i], mins)
        tier_cf[i] = _tier_of(score_cf[i], mins)


def compute_tiers(sim: Sim) -> bool:
    """Compute tiers (only for persons whose score changed, when the score stage says who); False if not done."""
    mins = sim.plan.tiers.mins
    st = sim.state
    if sim.handoffs.touched is not None:
        tiers_touched_kernel(sim.handoffs.touched, st.score, st.score_cf, mins, st.tier, st.tier_cf)
        return True
    if mins.shape[0] > 8:
        return False
    tiers8_kernel(st.score, st.score_cf, sim.plan.tiers.padded, st.tier, st.tier_cf)
    return True


def veto_unenrolled(sim: Sim, entered: np.ndarray, since: np.ndarray, since_cf: np.ndarray) -> np.ndarray:
    """A list takes no one who is not enrolled: undo today's entries of the unenrolled (and their twins'); returns the rest."""
    en = sim.enrolment
    if en is None or en.everyone or entered.size == 0:
        return entered
    out = ~en.mask[entered]
    if not out.any():
        return entered
    undo = entered[out]
    since[undo] = -1
    since_cf[undo] = -1
    return entered[~out]


_NO_TABLE = np.zeros(1, np.bool_)  # stands for the tables and days of a list the rulebook does not have (never read)
_NO_SINCE = np.zeros(1, np.int32)


def _tables(lp):
    """Entry and exit tables of a tabulated list (exit defaults to 'entry no longer holds', made once per list)."""
    if lp is None:
        return _NO_TABLE, _NO_TABLE
    return lp.enter_table, lp.leave_table


def _run_fused(sim: Sim) -> None:
    """Classify with the fused kernel.

    Between social updates only some persons can change: those whose score
    changed today (``sim.handoffs.touched``), and those on a list or whose list status
    changed yesterday (``sim.handoffs.list_watch``: they may leave, or re-enter under a
    custom exit rule). Everyone else's tier and list status stay as they were,
    so only these are visited; on other days everyone is.
    """
    st = sim.state
    plan = sim.plan
    pers = sim.pop.persons
    t = sim.counters
    bl = plan.lists.blacklist
    rl = plan.lists.redlist
    bl_enter, bl_exit = _tables(bl)
    rl_enter, rl_exit = _tables(rl)
    partial = sim.handoffs.touched is not None and sim.handoffs.list_watch is not None
    if sim.buffers.candidate_mark is None:
        sim.buffers.candidate_mark = np.zeros(st.n, np.uint8)
    mark = sim.buffers.candidate_mark  # all zero between uses: marked here, read back and cleared by the kernel
    if partial:
        mark[sim.handoffs.touched] = 1
        mark[sim.handoffs.list_watch] = 1
    if sim.buffers.scratch_u16 is None or sim.buffers.scratch_u16.shape[0] < st.n:
        sim.buffers.scratch_u16 = np.zeros(st.n, np.uint16)
    counts = sim.buffers.chunk_counts
    classify_fused_kernel(
        mark, partial, st.score, st.score_cf, plan.tiers.mins, plan.tiers.padded, st.tier, st.tier_cf,
        pers.region, pers.group, t.R, t.G, st.day,
        bl is not None, bl_enter, bl_exit, bl.min_days if bl else 0,
        st.black_since if bl else _NO_SINCE, st.black_since_cf if bl else _NO_SINCE,
        rl is not None, rl_enter, rl_exit, rl.min_days if rl else 0,
        st.red_since if rl else _NO_SINCE, st.red_since_cf if rl else _NO_SINCE,
        sim.buffers.picked, sim.buffers.scratch_u16, counts,
    )  # fmt: skip
    persons, bits = picks.gather_with_kernel(sim.buffers.picked, counts, sim.buffers.scratch_u16)
    sim.handoffs.list_watch = persons  # on a list, or changed today (bit 256 or any change bit)
    sim.handoffs.black_entered = persons[:0]
    changed = np.flatnonzero(bits & 15)  # entries and exits (factual): a few persons among the watched
    who, what = persons[changed], bits[changed]
    for name, lp, shift in (("blacklist", bl, 0), ("redlist", rl, 2)):
        if lp is None:
            continue
        entered = who[(what >> shift) & 1 == 1]
        left = who[(what >> shift) & 2 == 2]
        if sim.enrolment is not None:  # the unenrolled enter no list (docs/model.md section 3.10.2)
            since, since_cf = (st.black_since, st.black_since_cf) if name == "blacklist" else (st.red_since, st.red_since_cf)
            entered = veto_unenrolled(sim, entered, since, since_cf)
        if name == "blacklist":
            sim.handoffs.black_entered = entered
        if entered.size or left.size:
            sim.counters.list_changes(name, entered, left)
            sim.audit.list_changes(st.day, name, entered, left)


def _update_list(sim: Sim, lp, since: np.ndarray, cf: bool) -> np.ndarray:
    change = sim.buffers.scratch_u8
    if lp.tabulated:
        pers = sim.pop.persons
        tab = sim.counters
        exit_tab = lp.exit_table if lp.exit_table is not None else lp.enter_table
        list_table_kernel(
            sim.state.tier_cf if cf else sim.state.tier,
            pers.region,
            pers.group,
            tab.R,
            tab.G,
            lp.enter_table,
            exit_tab,
            lp.exit_table is not None,
            since,
            sim.state.day,
            lp.min_days,
            change,
        )
        return change
    env = PersonFields(sim, cf=cf)
    enter = lp.enter(env, n=sim.state.n)
    if lp.exit is not None:
        exit_ = lp.exit(env, n=sim.state.n)
        has_exit = True
    else:
        exit_ = enter
        has_exit = False
    list_kernel(enter, exit_, has_exit, since, sim.state.day, lp.min_days, change)
    return change


def run(sim: Sim) -> None:
    st = sim.state
    plan = sim.plan
    if all(lp is None or lp.tabulated for lp in (plan.lists.blacklist, plan.lists.redlist)):
        _run_fused(sim)
        sim.audit.tiers(st.day)
        return
    if not compute_tiers(sim):
        tier_kernel(st.score, st.score_cf, plan.tiers.mins, st.tier, st.tier_cf)
    sim.handoffs.black_entered = np.zeros(0, np.int64)
    for name, lp, since, since_cf in (
        ("blacklist", plan.lists.blacklist, st.black_since, st.black_since_cf),
        ("redlist", plan.lists.redlist, st.red_since, st.red_since_cf),
    ):
        if lp is None:
            continue
        change = _update_list(sim, lp, since, cf=False)
        entered = np.flatnonzero(change == ENTERED)
        left = np.flatnonzero(change == LEFT)
        _update_list(sim, lp, since_cf, cf=True)  # before the audit, which compares with it
        if sim.enrolment is not None:  # the unenrolled enter no list (docs/model.md section 3.10.2)
            entered = veto_unenrolled(sim, entered, since, since_cf)
        if name == "blacklist":
            sim.handoffs.black_entered = entered
        sim.counters.list_changes(name, entered, left)
        sim.audit.list_changes(st.day, name, entered, left)
    sim.audit.tiers(st.day)
