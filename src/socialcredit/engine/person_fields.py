"""The per-person fields conditions read, built lazily from the state.

``PersonFields(sim, cf=False)`` maps a field name (``score``, ``tier``, ``blacklisted``,
``count(b,d)`` ...) to an array over all persons, or over the persons in
``idx`` when given. Only the fields a condition declares are ever built. The
counterfactual env (``cf=True``) reads the twin arrays that exclude false
records.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from typing import TYPE_CHECKING

import numpy as np

from socialcredit import rng

if TYPE_CHECKING:
    from socialcredit.engine.sim import Sim


def matching_draws(sim: Sim, where, stream: str, sub: int) -> tuple[np.ndarray, np.ndarray]:
    """The persons matching condition ``where`` today (in person order) and each one's uniform draw on
    ``stream`` (step the day, ``sub``): who a fault hits or a record is aimed at."""
    n = sim.state.n
    matching = np.flatnonzero(where(PersonFields(sim), n=n))
    return matching, rng.uniforms(rng.key(sim.plan.seed, stream, sim.state.day, sub), n)[matching]


class PersonFields(Mapping):
    def __init__(self, sim: Sim, cf: bool = False, idx: np.ndarray | None = None) -> None:
        self.sim = sim
        self.cf = cf
        self.idx = idx
        self._cache: dict[str, np.ndarray] = {}

    def _take(self, arr: np.ndarray) -> np.ndarray:
        return arr if self.idx is None else arr[self.idx]

    def _build(self, key: str) -> np.ndarray:
        st = self.sim.state
        pers = self.sim.pop.persons
        cf = self.cf
        day = st.day
        if key == "score":
            return self._take(st.score_cf if cf else st.score)
        if key == "points":
            return self._take(st.points_cf if cf else st.points)
        if key == "tier":
            return self._take(st.tier_cf if cf else st.tier)
        if key == "blacklisted":
            return self._take(st.black_since_cf if cf else st.black_since) >= 0
        if key == "redlisted":
            return self._take(st.red_since_cf if cf else st.red_since) >= 0
        if key == "days_listed":
            s = self._take(st.black_since_cf if cf else st.black_since)
            return np.where(s >= 0, day - s, 0)
        if key == "days_redlisted":
            s = self._take(st.red_since_cf if cf else st.red_since)
            return np.where(s >= 0, day - s, 0)
        if key == "region":
            return self._take(pers.region)
        if key == "group":
            return self._take(pers.group)
        if key == "income":
            return self._take(st.income)
        if key == "friends_mean":
            return self._take(st.friends_mean_cf if cf else st.friends_mean)
        if key == "risk":
            return self._take(st.risk)
        if key == "day":
            return np.full(len(self), day, np.int32)
        if key == "partner_blacklisted":
            partner = self.sim.pop.persons.partner
            since = st.black_since_cf if cf else st.black_since
            return self._take((partner >= 0) & (since[np.maximum(partner, 0)] >= 0))
        if key == "commercial":
            return self._take(st.commercial_cf if cf else st.commercial)
        if key == "commercial_band":
            c = self._take(st.commercial_cf if cf else st.commercial)
            return (c[:, None] < self.sim.plan.commercial.mins[None, :]).sum(axis=1).astype(np.uint8)
        if key == "children":
            return self._take(pers.children)
        if key in ("represents_blacklisted", "employer_blacklisted"):
            return self._take(self._company_flag(key))
        plan = self.sim.plan
        if key in plan.conditions.count_keys:
            k = plan.conditions.count_keys.index(key)
            return self._take(st.counts_cf[k] if cf else st.counts[k])
        raise KeyError(key)

    def _company_flag(self, key: str) -> np.ndarray:
        """Whether each person represents (or works for) a company on the company blacklist."""
        n = self.sim.state.n
        comp = self.sim.pop.companies
        if comp is None:
            return np.zeros(n, dtype=bool)
        listed = (comp.black_since_cf if self.cf else comp.black_since) >= 0
        if key == "employer_blacklisted":
            employer = self.sim.pop.persons.employer
            return (employer >= 0) & listed[np.maximum(employer, 0)]
        out = np.zeros(n, dtype=bool)
        rep = comp.representative[listed]
        out[rep[rep >= 0]] = True
        return out

    def __getitem__(self, key: str) -> np.ndarray:
        arr = self._cache.get(key)
        if arr is None:
            arr = self._build(key)
            self._cache[key] = arr
        return arr

    def __iter__(self) -> Iterator[str]:
        return iter(self._cache)

    def __len__(self) -> int:
        return self.sim.state.n if self.idx is None else int(self.idx.shape[0])
