"""Audit trails of a sample of persons: every record, score and tier change, list entry, denial.

The sample is the ``audit_sample`` persons with the smallest hash under the
``audit`` stream: a uniform random sample that is the same for any rulebook
with the same seed and population size. Rows are collected as column
arrays per day and joined at the end.
"""

from __future__ import annotations

import numpy as np

from socialcredit.engine import rng

COLUMNS = ["day", "person", "event", "behaviour", "channel", "is_false", "points", "service", "wrongful", "score", "tier", "detail"]


def sample_persons(seed: int, n: int, k: int) -> np.ndarray:
    k = min(k, n)
    if k <= 0:
        return np.zeros(0, np.int64)
    h = rng.uniforms(rng.key(seed, "audit"), n)
    idx = np.argpartition(h, k - 1)[:k] if k < n else np.arange(n)
    return np.sort(idx).astype(np.int64)


class Audit:
    def __init__(self, sim) -> None:
        self.sim = sim
        plan = sim.plan
        n = sim.state.n
        self.idx = sample_persons(plan.seed, n, plan.rulebook.simulation.audit_sample)
        self.mask = np.zeros(n, dtype=bool)
        self.mask[self.idx] = True
        self.rows: list[dict[str, np.ndarray | list]] = []
        st = sim.state
        self.prev_score = st.score[self.idx].copy()
        self.prev_tier = st.tier[self.idx].copy()

    @property
    def enabled(self) -> bool:
        return self.idx.size > 0

    def _add(self, **cols) -> None:
        m = len(cols["person"])
        if m == 0:
            return
        row: dict[str, np.ndarray | list] = {}
        for c in COLUMNS:
            v = cols.get(c)
            if v is None:
                row[c] = [None] * m
            elif np.isscalar(v) or isinstance(v, str):
                row[c] = [v] * m
            else:
                row[c] = v
        self.rows.append(row)

    def records(self, day: int, person: np.ndarray, beh: np.ndarray, flags: np.ndarray) -> None:
        if not self.enabled or person.size == 0:
            return
        sel = self.mask[person]
        if not sel.any():
            return
        plan = self.sim.plan
        p = person[sel]
        b = beh[sel]
        f = flags[sel]
        region = self.sim.pop.persons.region[p]
        names = np.array(plan.behaviour_names, dtype=object)
        chans = np.array(plan.channel_names, dtype=object)
        origin = np.where(f & 2, "spurious", np.where(f & 4, "service", np.where(f & 1, "misattributed", "observed")))
        self._add(
            day=np.full(p.size, day),
            person=p,
            event="record",
            behaviour=list(names[b]),
            channel=list(chans[plan.beh_channel[b]]),
            is_false=list((f & 1).astype(bool)),
            points=list(plan.points[b, region].astype(float)),
            detail=list(origin),
        )

    def list_changes(self, day: int, name: str, entered: np.ndarray, left: np.ndarray) -> None:
        if not self.enabled:
            return
        st = self.sim.state
        cf_since = st.black_since_cf if name == "blacklist" else st.red_since_cf
        for arr, what in ((entered, "enter"), (left, "exit")):
            if arr.size == 0:
                continue
            p = arr[self.mask[arr]]
            if p.size == 0:
                continue
            # wrongful entry: the counterfactual person (no false records) is not listed
            wrong = list((cf_since[p] < 0)) if what == "enter" else [None] * p.size
            self._add(day=np.full(p.size, day), person=p, event=f"{name}_{what}", wrongful=wrong, score=list(st.score[p].astype(float)))

    def service(self, day: int, s: int, is_reward: bool, outcome: np.ndarray, wrongful: np.ndarray) -> None:
        if not self.enabled:
            return
        name = self.sim.plan.services[s].name
        if outcome.size:
            p = outcome[self.mask[outcome]]
            if p.size:
                w = np.isin(p, wrongful)
                self._add(
                    day=np.full(p.size, day),
                    person=p,
                    event="reward" if is_reward else "denial",
                    service=name,
                    wrongful=list(w) if not is_reward else [False] * p.size,
                    score=list(self.sim.state.score[p].astype(float)),
                )
        if is_reward and wrongful.size:
            p = wrongful[self.mask[wrongful]]
            if p.size:
                self._add(day=np.full(p.size, day), person=p, event="reward_lost", service=name, wrongful=True)

    def tiers(self, day: int) -> None:
        """Log score changes and tier changes of sampled persons (after classify)."""
        if not self.enabled:
            return
        st = self.sim.state
        names = np.array(self.sim.plan.tier_names, dtype=object)
        score = st.score[self.idx]
        tier = st.tier[self.idx]
        ch = np.flatnonzero(np.abs(score - self.prev_score) > 1e-3)
        if ch.size:
            had_record = np.isin(self.idx[ch], self.sim.today[0])
            self._add(
                day=np.full(ch.size, day),
                person=self.idx[ch],
                event="score",
                points=list((score[ch] - self.prev_score[ch]).astype(float)),
                score=list(score[ch].astype(float)),
                tier=list(names[tier[ch]]),
                detail=list(np.where(had_record, "records", "social term or expiry")),
            )
        tc = np.flatnonzero(tier != self.prev_tier)
        if tc.size:
            self._add(
                day=np.full(tc.size, day),
                person=self.idx[tc],
                event="tier",
                score=list(score[tc].astype(float)),
                tier=list(names[tier[tc]]),
                detail=[f"{names[a]} -> {names[b]}" for a, b in zip(self.prev_tier[tc], tier[tc])],
            )
        self.prev_score = score
        self.prev_tier = tier

    def frame(self):
        import pandas as pd

        if not self.rows:
            return pd.DataFrame({c: pd.Series(dtype="object") for c in COLUMNS})
        cols = {c: [] for c in COLUMNS}
        for row in self.rows:
            for c in COLUMNS:
                v = row[c]
                cols[c].extend(list(v))
        df = pd.DataFrame(cols)
        df["day"] = df["day"].astype("int32")
        df["person"] = df["person"].astype("int64")
        for c in ("points", "score"):
            df[c] = pd.to_numeric(df[c], errors="coerce").astype("float64")
        for c in ("is_false", "wrongful"):
            df[c] = df[c].astype("boolean")
        order = {"record": 0, "score": 1, "tier": 2, "blacklist_enter": 3, "blacklist_exit": 3, "redlist_enter": 3, "redlist_exit": 3, "denial": 4, "reward": 4, "reward_lost": 4}
        df["_o"] = df["event"].map(order).fillna(9)
        df = df.sort_values(["person", "day", "_o"], kind="stable").drop(columns="_o").reset_index(drop=True)
        return df
