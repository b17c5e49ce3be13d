"""Counters of the day's events, by breakdown cell.

Cells are: 0 = everyone; then one per region, one per group, one per tier
(the person's tier as of the last classify stage). Events are counted for
the actor's cells; records for the cells of the person they were attached to.
"""

from __future__ import annotations

import numpy as np
from numba import njit

# per-cell event measures
EVENT_MEASURES = [
    "events",
    "detected",
    "records_true",
    "records_false",
    "attempts",
    "denials",
    "denials_wrongful",
    "rewards",
    "rewards_lost",
    "blacklist_entries",
    "blacklist_exits",
    "redlist_entries",
    "redlist_exits",
]
M = {name: k for k, name in enumerate(EVENT_MEASURES)}
BEH_MEASURES = ["events", "detected", "records_true", "records_false"]
SVC_MEASURES = ["attempts", "outcomes", "wrongful"]


@njit(inline="always", cache=True)
def _cells(p: int, region: np.ndarray, group: np.ndarray, tier: np.ndarray, R: int, G: int):
    return 1 + region[p], 1 + R + group[p], 1 + R + G + tier[p]


@njit(cache=True)
def tally_events(actor, beh, target, false, region, group, tier, R, G, counts, bcounts):
    for k in range(actor.shape[0]):
        p = actor[k]
        b = beh[k]
        c1, c2, c3 = _cells(p, region, group, tier, R, G)
        det = 1 if target[k] >= 0 else 0
        for c in (0, c1, c2, c3):
            counts[c, 0] += 1
            counts[c, 1] += det
            bcounts[c, b, 0] += 1
            bcounts[c, b, 1] += det


@njit(cache=True)
def tally_records(person, beh, flags, region, group, tier, R, G, counts, bcounts):
    for k in range(person.shape[0]):
        p = person[k]
        b = beh[k]
        col = 3 if (flags[k] & 1) else 2
        c1, c2, c3 = _cells(p, region, group, tier, R, G)
        for c in (0, c1, c2, c3):
            counts[c, col] += 1
            bcounts[c, b, col] += 1


@njit(cache=True)
def tally_persons(idx, region, group, tier, R, G, counts, col):
    for k in range(idx.shape[0]):
        p = idx[k]
        c1, c2, c3 = _cells(p, region, group, tier, R, G)
        counts[0, col] += 1
        counts[c1, col] += 1
        counts[c2, col] += 1
        counts[c3, col] += 1


class Tally:
    """The current day's counters; :meth:`reset` starts a new day."""

    def __init__(self, sim) -> None:
        self.sim = sim
        plan = sim.plan
        self.R = len(plan.rulebook.region_names)
        self.G = len(plan.rulebook.group_names)
        self.T = len(plan.tier_names)
        self.ncells = 1 + self.R + self.G + self.T
        self.counts = np.zeros((self.ncells, len(EVENT_MEASURES)), np.int64)
        self.bcounts = np.zeros((self.ncells, plan.n_behaviours, len(BEH_MEASURES)), np.int64)
        self.scounts = np.zeros((self.ncells, max(1, len(plan.services)), len(SVC_MEASURES)), np.int64)

    def reset(self) -> None:
        self.counts[:] = 0
        self.bcounts[:] = 0
        self.scounts[:] = 0

    def _args(self):
        p = self.sim.pop.persons
        return p.region, p.group, self.sim.state.tier, self.R, self.G

    def events(self, actor, beh, target, false) -> None:
        tally_events(actor, beh, target, false, *self._args(), self.counts, self.bcounts)

    def records(self, person, beh, flags) -> None:
        tally_records(person, beh, flags, *self._args(), self.counts, self.bcounts)

    def list_changes(self, name: str, entered: np.ndarray, left: np.ndarray) -> None:
        tally_persons(entered, *self._args(), self.counts, M[f"{name}_entries"])
        tally_persons(left, *self._args(), self.counts, M[f"{name}_exits"])

    def service(self, s: int, attempts: np.ndarray, outcome: np.ndarray, wrongful: np.ndarray) -> None:
        sp = self.sim.plan.services[s]
        args = self._args()
        tally_persons(attempts, *args, self.counts, M["attempts"])
        tally_persons(outcome, *args, self.counts, M["rewards" if sp.is_reward else "denials"])
        tally_persons(wrongful, *args, self.counts, M["rewards_lost" if sp.is_reward else "denials_wrongful"])
        for col, arr in enumerate((attempts, outcome, wrongful)):
            tmp = np.zeros((self.ncells, 1), np.int64)
            tally_persons(arr, *args, tmp, 0)
            self.scounts[:, s, col] += tmp[:, 0]
