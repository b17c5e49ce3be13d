"""Stage 4, classify: tiers, then blacklist and redlist entries and exits.

A person's tier is the first (best) tier whose ``min`` their score reaches.
A list rule puts a person on the list the day its ``enter`` condition holds;
they leave once they have been listed at least ``min_days`` and the ``exit``
condition holds (by default: the entry condition no longer holds). The
blacklist is decided before the redlist, so a redlist rule may read
``blacklisted``. Counterfactual tiers and lists are kept alongside.
"""

from __future__ import annotations

import numpy as np
from numba import njit, prange

from socialcredit.engine.behave import CHUNK
from socialcredit.engine.env import Env

ENTERED = np.uint8(1)
LEFT = np.uint8(2)


@njit(parallel=True, cache=True)
def tier_kernel(score: np.ndarray, score_cf: np.ndarray, mins: np.ndarray, tier: np.ndarray, tier_cf: np.ndarray) -> None:
    n = score.shape[0]
    t_last = mins.shape[0]
    nchunks = (n + CHUNK - 1) // CHUNK
    for c in prange(nchunks):
        for i in range(c * CHUNK, min(n, (c + 1) * CHUNK)):
            s = score[i]
            t = t_last
            for k in range(t_last):
                if s >= mins[k]:
                    t = k
                    break
            tier[i] = t
            s = score_cf[i]
            t = t_last
            for k in range(t_last):
                if s >= mins[k]:
                    t = k
                    break
            tier_cf[i] = t


@njit(parallel=True, cache=True)
def list_kernel(
    enter: np.ndarray, exit_: np.ndarray, has_exit: bool, since: np.ndarray, day: int, min_days: int, change: np.ndarray
) -> None:
    """Update one list's entry days; mark entries (1) and exits (2) in ``change``."""
    n = since.shape[0]
    nchunks = (n + CHUNK - 1) // CHUNK
    for c in prange(nchunks):
        for i in range(c * CHUNK, min(n, (c + 1) * CHUNK)):
            ch = np.uint8(0)
            if since[i] < 0:
                if enter[i]:
                    since[i] = day
                    ch = np.uint8(1)
            elif day - since[i] >= min_days:
                leave = exit_[i] if has_exit else not enter[i]
                if leave:
                    since[i] = -1
                    ch = np.uint8(2)
            change[i] = ch


@njit(parallel=True, cache=True)
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
            ch = np.uint8(0)
            if since[i] < 0:
                if enter_tab[code]:
                    since[i] = day
                    ch = np.uint8(1)
            elif day - since[i] >= min_days:
                leave = exit_tab[code] if has_exit else not enter_tab[code]
                if leave:
                    since[i] = -1
                    ch = np.uint8(2)
            change[i] = ch


def _update_list(sim, lp, since: np.ndarray, cf: bool) -> np.ndarray:
    change = sim.scratch_u8
    if lp.tabulated:
        pers = sim.pop.persons
        tab = sim.tally
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
    env = Env(sim, cf=cf)
    enter = lp.enter(env, n=sim.state.n)
    if lp.exit is not None:
        exit_ = lp.exit(env, n=sim.state.n)
        has_exit = True
    else:
        exit_ = enter
        has_exit = False
    list_kernel(enter, exit_, has_exit, since, sim.state.day, lp.min_days, change)
    return change


def run(sim) -> None:
    st = sim.state
    plan = sim.plan
    tier_kernel(st.score, st.score_cf, plan.tier_mins, st.tier, st.tier_cf)
    for name, lp, since, since_cf in (
        ("blacklist", plan.blacklist, st.black_since, st.black_since_cf),
        ("redlist", plan.redlist, st.red_since, st.red_since_cf),
    ):
        if lp is None:
            continue
        change = _update_list(sim, lp, since, cf=False)
        entered = np.flatnonzero(change == ENTERED)
        left = np.flatnonzero(change == LEFT)
        sim.tally.list_changes(name, entered, left)
        sim.audit.list_changes(st.day, name, entered, left)
        _update_list(sim, lp, since_cf, cf=True)
    sim.audit.tiers(st.day)
