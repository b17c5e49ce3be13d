"""Counters of the day's events, by breakdown cell.

Cells are: 0 = everyone; then one per region, one per group, one per tier
(the person's tier as of the last classify stage). Events are counted for
the actor's cells; records for the cells of the person they were attached to.

For speed, counts are kept per *combination* ``(tier * R + region) * G + group``
(one increment per event instead of four) and expanded to cells with
:meth:`DayCounters.expand`.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np
from numba import njit, prange

from socialcredit import parallel
from socialcredit.engine import measures
from socialcredit.parallel import day_kernel

if TYPE_CHECKING:
    from socialcredit.engine.sim import Sim

# the column orders come from the declaration of the measures (engine/measures.py)
EVENT_MEASURES = list(measures.EVENT_COLUMNS)  # per-cell event measures: columns of DayCounters.counts
M = {name: k for k, name in enumerate(EVENT_MEASURES)}
BEH_MEASURES = list(measures.BEHAVIOUR_COLUMNS)  # columns of DayCounters.bcounts
SVC_MEASURES = list(measures.SERVICE_COLUMNS)  # columns of DayCounters.scounts


@njit(inline="always", cache=True)
def _combo(p: int, region: np.ndarray, group: np.ndarray, tier: np.ndarray, R: int, G: int) -> int:
    """The person's combination, unsigned (no negative-index wrap where it indexes; layout.py)."""
    u = np.uint64(p)
    return (np.uint64(tier[u]) * np.uint64(R) + np.uint64(region[u])) * np.uint64(G) + np.uint64(group[u])


@njit(cache=True)
def tally_records(person, beh, flags, region, group, tier, R, G, counts, bcounts, col_fault, col_targeted):
    for k in range(person.shape[0]):
        p = person[k]
        col = 3 if (flags[k] & 1) else 2
        c = _combo(p, region, group, tier, R, G)
        counts[c, col] += 1
        bcounts[c, beh[k], col] += 1
        if flags[k] & 8:  # layout.FAULT
            counts[c, col_fault] += 1
        if flags[k] & 16:  # layout.TARGETED
            counts[c, col_targeted] += 1


@njit(cache=True)
def tally_persons(idx, region, group, tier, R, G, counts, col):
    for k in range(idx.shape[0]):
        counts[_combo(idx[k], region, group, tier, R, G), col] += 1


@njit(cache=True)
def tally_service(attempts, outcome, wrongful, region, group, tier, R, G, counts, cols, scounts, s):
    """A service's day in one call: attempts, outcomes and wrongful outcomes by combination, into the day's
    counts (columns ``cols``) and the service's own counts (``scounts[:, s, 0..2]``)."""
    for j in range(3):
        idx = attempts if j == 0 else (outcome if j == 1 else wrongful)
        col = cols[j]
        for k in range(idx.shape[0]):
            c = _combo(idx[k], region, group, tier, R, G)
            counts[c, col] += 1
            scounts[c, s, j] += 1


PARALLEL_TALLY = 65_536  # from this many items a tally runs in parallel (10M persons, 820k records: 2.1 -> 1.2 ms)
PARTS = 8  # fixed parts of the items, each counted apart and then added: integers, so exact in any order


@njit(cache=True)
def _parts(counts: np.ndarray, bcounts: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Zeroed counts and behaviour counts for each of the :data:`PARTS` parts."""
    pc = np.zeros((PARTS, counts.shape[0], counts.shape[1]), np.int64)
    pb = np.zeros((PARTS, bcounts.shape[0], bcounts.shape[1], bcounts.shape[2]), np.int64)
    return pc, pb


@njit(cache=True)
def _add_parts(pc: np.ndarray, pb: np.ndarray, counts: np.ndarray, bcounts: np.ndarray) -> None:
    """Add every part's counts into the day's (integers: the same in any order)."""
    for p in range(PARTS):
        counts += pc[p]
        bcounts += pb[p]


@day_kernel(cache=True)
def tally_records_parallel(person, beh, flags, region, group, tier, R, G, counts, bcounts, col_fault, col_targeted):
    """:func:`tally_records` over fixed parts of the records at once (the counts are the same integers)."""
    m = person.shape[0]
    pc, pb = _parts(counts, bcounts)
    step = (m + PARTS - 1) // PARTS
    for p in prange(PARTS):
        a = min(m, p * step)
        b = min(m, a + step)
        tally_records(person[a:b], beh[a:b], flags[a:b], region, group, tier, R, G, pc[p], pb[p], col_fault, col_targeted)
    _add_parts(pc, pb, counts, bcounts)


def _parallel(m: int) -> bool:
    """Whether a tally of ``m`` items runs in parallel (always in the compile-ahead copy, so that it is compiled)."""
    return m >= PARALLEL_TALLY or parallel.FORCE == "parallel"


@njit(cache=True)
def tally_weighted(idx, weight, region, group, tier, R, G, counts, col):
    for k in range(idx.shape[0]):
        counts[_combo(idx[k], region, group, tier, R, G), col] += weight[k]


@day_kernel(cache=True)
def level_sums(values, region, group, tier, R, G, K, nparts):
    """Per combination, the sum over all persons of ``values`` rounded to whole numbers (int64, so the order of
    the additions, and the thread count, cannot change it): a daily level such as the stress index."""
    n = values.shape[0]
    part = np.zeros((nparts, K), np.int64)
    step = (n + nparts - 1) // nparts
    for c in prange(nparts):
        for i in range(c * step, min(n, (c + 1) * step)):
            part[c, (np.int64(tier[i]) * R + region[i]) * G + group[i]] += np.int64(np.rint(values[i]))
    return part.sum(axis=0)


@njit(cache=True)
def expand_kernel(cells: np.ndarray, by_combo: np.ndarray, out: np.ndarray) -> None:
    """``out += cells @ by_combo`` for a 0/1 matrix of cells and integer counts."""
    for c in range(cells.shape[0]):
        for k in range(cells.shape[1]):
            if cells[c, k]:
                for m in range(by_combo.shape[1]):
                    out[c, m] += by_combo[k, m]


def combo_cells(R: int, G: int, T: int) -> np.ndarray:
    """The 0/1 matrix (cells x combinations) that sums combinations into breakdown cells."""
    K = T * R * G
    m = np.zeros((1 + R + G + T, K), np.int64)
    for t in range(T):
        for r in range(R):
            for g in range(G):
                k = (t * R + r) * G + g
                m[0, k] = 1
                m[1 + r, k] = 1
                m[1 + R + g, k] = 1
                m[1 + R + G + t, k] = 1
    return m


class DayCounters:
    """The current day's counters; :meth:`reset` starts a new day."""

    def __init__(self, sim: Sim) -> None:
        self.sim = sim
        plan = sim.plan
        self.R = len(plan.rulebook.region_names)
        self.G = len(plan.rulebook.group_names)
        self.T = len(plan.tiers.names)
        self.ncells = 1 + self.R + self.G + self.T
        self.ncombos = self.T * self.R * self.G
        self.cells = combo_cells(self.R, self.G, self.T)
        self.cells_f = self.cells.astype(np.float64)
        self.counts = np.zeros((self.ncombos, len(EVENT_MEASURES)), np.int64)
        self.bcounts = np.zeros((self.ncombos, plan.n_behaviours, len(BEH_MEASURES)), np.int64)
        self.scounts = np.zeros((self.ncombos, max(1, len(plan.services)), len(SVC_MEASURES)), np.int64)
        self._denial_cols = np.array([M["attempts"], M["denials"], M["denials_wrongful"]], np.int64)
        self._reward_cols = np.array([M["attempts"], M["rewards"], M["rewards_lost"]], np.int64)

    def expand(self, by_combo: np.ndarray, out: np.ndarray | None = None) -> np.ndarray:
        """Sum per-combination counts (first axis) into breakdown cells (integers: exact in any order).

        ``out`` (int64, cells first, C-contiguous) receives the sums in place of a new array."""
        flat = np.ascontiguousarray(by_combo).reshape(by_combo.shape[0], -1)
        if out is None:
            out = np.zeros((self.cells.shape[0],) + by_combo.shape[1:], np.int64)
        else:
            if not out.flags.c_contiguous:  # the kernel writes through a flat view of it
                raise ValueError("expand: out must be C-contiguous")
            out[...] = 0
        expand_kernel(self.cells, flat, out.reshape(self.cells.shape[0], -1))  # compiled: np.tensordot cost 15 us a call
        return out

    def reset(self) -> None:
        self.counts[:] = 0
        self.bcounts[:] = 0
        self.scounts[:] = 0

    def _args(self):
        p = self.sim.pop.persons
        return p.region, p.group, self.sim.state.tier, self.R, self.G

    def records(self, person, beh, flags) -> None:
        tally = tally_records_parallel if _parallel(person.shape[0]) else tally_records
        tally(person, beh, flags, *self._args(), self.counts, self.bcounts, M["records_fault"], M["records_targeted"])

    def list_changes(self, name: str, entered: np.ndarray, left: np.ndarray) -> None:
        tally_persons(entered, *self._args(), self.counts, M[f"{name}_entries"])
        tally_persons(left, *self._args(), self.counts, M[f"{name}_exits"])

    def persons(self, measure: str, idx: np.ndarray, weight: np.ndarray | None = None) -> None:
        """Count one event (or ``weight``) of ``measure`` for each person in ``idx``."""
        if idx.size == 0:
            return
        if weight is None:
            tally_persons(idx, *self._args(), self.counts, M[measure])
        else:
            tally_weighted(idx, weight.astype(np.int64), *self._args(), self.counts, M[measure])

    def level(self, measure: str, values: np.ndarray) -> None:
        """Count every person's ``values`` (rounded to whole numbers) as ``measure``: a level over all persons."""
        self.counts[:, M[measure]] += level_sums(values, *self._args(), self.ncombos, 32)

    def service(self, s: int, attempts: np.ndarray, outcome: np.ndarray, wrongful: np.ndarray) -> None:
        cols = self._reward_cols if self.sim.plan.services[s].is_reward else self._denial_cols
        tally_service(attempts, outcome, wrongful, *self._args(), self.counts, cols, self.scounts, s)
