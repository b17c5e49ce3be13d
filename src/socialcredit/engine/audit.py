"""Audit trails of a sample of persons: every record, score and tier change, list entry, denial.

The sample is the ``audit_sample`` persons with the smallest hash under the
``audit`` stream: a uniform random sample that is the same for any rulebook
with the same seed and population size. Rows are collected as column
arrays per day and joined at the end.
"""

from __future__ import annotations

import functools
from typing import TYPE_CHECKING

import numpy as np
from numba import njit

from socialcredit import rng
from socialcredit.engine.picks import in_sorted

if TYPE_CHECKING:
    from socialcredit.engine.sim import Sim

COLUMNS = [
    "day", "person", "event", "behaviour", "channel", "is_false", "points", "service", "wrongful", "score", "tier", "other", "detail",
]  # fmt: skip


def sample_persons(seed: int, n: int, k: int) -> np.ndarray:
    k = min(k, n)
    if k <= 0:
        return np.zeros(0, np.int64)
    h = rng.uniforms(rng.key(seed, "audit"), n)
    idx = np.argpartition(h, k - 1)[:k] if k < n else np.arange(n)
    return np.sort(idx).astype(np.int64)


EVENTS = [
    "record", "score", "tier", "blacklist_enter", "blacklist_exit", "redlist_enter", "redlist_exit",
    "denial", "reward", "reward_lost",
    "appeal_filed", "appeal_won", "appeal_lost", "friend_dropped", "friend_lost", "friend_added", "partner_left",
    "company_blacklisted", "enrolled", "loan_granted", "loan_refused", "laid_off", "partner_formed", "emotion_flagged", "dismissed",
]  # fmt: skip
EVENT_ORDER = {"record": 0, "score": 1, "tier": 2, "denial": 4, "reward": 4, "reward_lost": 4}  # others: 3, then stages 6-7: 5
EVENT_ORDER |= {e: 5 for e in EVENTS[EVENTS.index("appeal_filed") :]}
EVENT_ORDER["enrolled"] = 0  # the first step of the day
EVENT_ORDER |= {"loan_granted": 4, "loan_refused": 4}  # beside the services
EVENT_ORDER |= {"emotion_flagged": -1, "dismissed": -1}  # detect stage: before the record the flag makes
_INT_COLS = ("day", "person", "event", "behaviour", "channel", "is_false", "service", "wrongful", "tier", "other", "detail")
_FLOAT_COLS = ("points", "score")


@njit(cache=True)
def sample_changes(
    idx: np.ndarray, score: np.ndarray, tier: np.ndarray, prev_score: np.ndarray, prev_tier: np.ndarray, recorded: np.ndarray
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """The sampled persons whose score moved by more than 0.001 or whose tier changed since the last call.

    Returns the positions in ``idx`` (ascending) of score changes, the changes, whether the person is in
    ``recorded`` (ascending: the sampled persons with a record today), the positions of tier changes and the
    tiers before; sets ``prev_score`` and ``prev_tier`` to today's. One pass instead of a dozen numpy calls a day.
    The comparison is in float32 (scores are float32), as numpy compares a float32 array with a Python float.
    """
    k = idx.shape[0]
    ch = np.empty(k, np.int64)
    points = np.empty(k, np.float32)
    had = np.empty(k, np.bool_)
    tc = np.empty(k, np.int64)
    before = np.empty(k, np.uint8)
    ns = 0
    nt = 0
    r = 0
    eps = np.float32(1e-3)
    for j in range(k):
        i = idx[j]
        s = score[i]
        d = s - prev_score[j]
        if abs(d) > eps:
            while r < recorded.shape[0] and recorded[r] < i:
                r += 1
            ch[ns] = j
            points[ns] = d
            had[ns] = r < recorded.shape[0] and recorded[r] == i
            ns += 1
        t = tier[i]
        if t != prev_tier[j]:
            tc[nt] = j
            before[nt] = prev_tier[j]
            nt += 1
        prev_score[j] = s
        prev_tier[j] = t
    return ch[:ns], points[:ns], had[:ns], tc[:nt], before[:nt]


@njit(cache=True)
def sampled_records(mask, person, beh, flags, region, points_tab, channel_tab, origin):  # type: ignore[no-untyped-def]
    """The records of sampled persons (``mask``), in record order, with the audit's columns: behaviour, channel,
    whether false, points (by behaviour and the person's region) and origin (``origin[flags]``). One pass."""
    m = 0
    for k in range(person.shape[0]):
        m += mask[person[k]]
    p = np.empty(m, person.dtype)
    b = np.empty(m, np.int32)
    channel = np.empty(m, channel_tab.dtype)
    is_false = np.empty(m, np.int32)
    points = np.empty(m, points_tab.dtype)
    detail = np.empty(m, np.int32)
    o = 0
    for k in range(person.shape[0]):
        i = person[k]
        if mask[i]:
            f = flags[k]
            p[o] = i
            b[o] = beh[k]
            channel[o] = channel_tab[beh[k]]
            is_false[o] = f & 1
            points[o] = points_tab[beh[k], region[i]]
            detail[o] = origin[f]
            o += 1
    return p, b, channel, is_false, points, detail


@functools.cache
def _text_dtype():
    """The dtype pandas gives a column of strings (pyarrow-backed in pandas 3, objects before)."""
    import pandas as pd

    return pd.DataFrame({"x": np.array(["x"], object)})["x"].dtype


def string_column(codes: np.ndarray, vocab: list[str]):
    """Codes into ``vocab`` as a pandas column of strings (-1: missing), decoded by pyarrow: the same column as
    going through a categorical and Python strings, five times faster (100k rows: 8 -> 1.6 ms).

    The strings are allocated with the process's own allocator, which reuses memory the run has freed;
    pyarrow's default pool maps fresh pages and pays a page fault for each (the first audit frame of a
    100,000-person run: 80 -> 48 ms)."""
    import pandas as pd
    import pyarrow as pa
    import pyarrow.compute as pc

    codes = np.asarray(codes)
    missing = codes < 0
    if not vocab or missing.all():  # no value at all: NaN objects, as the categorical made them
        return np.full(codes.shape[0], np.nan, object)
    text = _text_dtype()
    if getattr(text, "storage", None) != "pyarrow":  # a pandas that keeps strings as objects
        return pd.Categorical.from_codes(codes, categories=vocab).astype(object)
    pool = pa.system_memory_pool()
    idx = pa.array(np.where(missing, 0, codes).astype(np.int32), mask=missing, memory_pool=pool)
    words = pc.take(pa.array(vocab, pa.large_string(), memory_pool=pool), idx, memory_pool=pool)  # null stays null
    return pd.array(words, dtype=text)


class Audit:
    """Collects audit rows as compact code arrays (decoded to names only in :meth:`frame`)."""

    def __init__(self, sim: Sim) -> None:
        self.sim = sim
        plan = sim.plan
        n = sim.state.n
        self.idx = sample_persons(plan.seed, n, plan.rulebook.simulation.audit_sample)
        self.mask = np.zeros(n, dtype=bool)
        self.mask[self.idx] = True
        self.chunks: list[tuple[int, int, np.ndarray, dict]] = []  # (day, event code, persons, columns given)
        self.details: list[str] = []  # vocabulary of the detail column
        st = sim.state
        self.prev_score = st.score[self.idx].copy()
        self.prev_tier = st.tier[self.idx].copy()
        self.start = {"score": self.prev_score.copy(), "tier": self.prev_tier.copy(), "friends": st.degree[self.idx].copy()}
        self._recorded: tuple[int, np.ndarray] = (-1, np.zeros(0, np.int32))  # (day, sampled persons with a record that day)
        self._origin: np.ndarray | None = None  # detail code of a record by its flags (all 256 values), made on first use
        self._transition = np.zeros(0, np.int32)  # detail code of a tier change by from * tiers + to (-1: not named yet)

    @property
    def enabled(self) -> bool:
        return self.idx.size > 0

    def _detail(self, text: str) -> int:
        try:
            return self.details.index(text)
        except ValueError:
            self.details.append(text)
            return len(self.details) - 1

    def _add(self, day: int, person: np.ndarray, event: str, **cols) -> None:
        """Keep one batch of rows as given (arrays or one value per column); :meth:`columns` fills the rest."""
        if person.size == 0:
            return
        self.chunks.append((day, EVENTS.index(event), np.asarray(person), cols))

    def columns(self) -> dict[str, np.ndarray]:
        """All rows as column arrays (int32 codes, -1 where a row has no value; float64, NaN where none)."""
        m = sum(ch[2].size for ch in self.chunks)
        out = {c: np.full(m, -1, np.int32) for c in _INT_COLS} | {c: np.full(m, np.nan) for c in _FLOAT_COLS}
        o = 0
        for day, event, person, cols in self.chunks:
            k = person.size
            out["day"][o : o + k] = day
            out["event"][o : o + k] = event
            out["person"][o : o + k] = person
            for c, v in cols.items():
                out[c][o : o + k] = v
            o += k
        return out

    def persons(self, day: int, event: str, person: np.ndarray, detail_text: str | None = None, **cols) -> None:
        """Log ``event`` for the sampled persons among ``person``; column arrays are aligned with ``person``."""
        if not self.enabled or person.size == 0:
            return
        sel = self.mask[person]
        if not sel.any():
            return
        picked = {c: (np.asarray(v)[sel] if np.ndim(v) else v) for c, v in cols.items()}
        if detail_text is not None:
            picked["detail"] = self._detail(detail_text)
        for c in ("is_false", "wrongful"):
            if c in picked:
                picked[c] = np.asarray(picked[c]).astype(np.int32)
        self._add(day, person[sel], event, **picked)

    def records(self, day: int, person: np.ndarray, beh: np.ndarray, flags: np.ndarray) -> None:
        """Log the day's records of sampled persons (and remember who had one, for :meth:`tiers`)."""
        self._recorded = (day, np.zeros(0, np.int32))
        if not self.enabled or person.size == 0:
            return
        if self._origin is None:
            self._origin = self._origins()
        plan = self.sim.plan
        p, b, channel, is_false, points, detail = sampled_records(
            self.mask, person, beh, flags, self.sim.pop.persons.region, plan.behaviours.points, plan.behaviours.channel, self._origin
        )  # fmt: skip
        if p.size == 0:
            return
        self._recorded = (day, np.sort(p))
        self._add(day, p, "record", behaviour=b, channel=channel, is_false=is_false, points=points, detail=detail)

    def _origins(self) -> np.ndarray:
        """A record's origin (detail code) for every value of its flags: the first flag in this order names it."""
        f = np.arange(256, dtype=np.uint8)
        return np.where(f & 2, self._detail("spurious"), np.where(f & 4, self._detail("service"),
                        np.where(f & 8, self._detail("fault"), np.where(f & 16, self._detail("targeted"),
                        np.where(f & 32, self._detail("emotion flag"),
                        np.where(f & 1, self._detail("misattributed"), self._detail("observed"))))))).astype(np.int32)  # fmt: skip

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
            cols = {"score": st.score[p]}
            if what == "enter":  # wrongful entry: the counterfactual person (no false records) is not listed
                cols["wrongful"] = cf_since[p] < 0
            self._add(day, p, f"{name}_{what}", **cols)

    def service(self, day: int, s: int, is_reward: bool, outcome: np.ndarray, wrongful: np.ndarray) -> None:
        if not self.enabled:
            return
        if outcome.size:
            p = outcome[self.mask[outcome]]
            if p.size:
                w = in_sorted(p, wrongful) if not is_reward else np.zeros(p.size, bool)  # wrongful is ascending
                self._add(day, p, "reward" if is_reward else "denial", service=s, wrongful=w, score=self.sim.state.score[p])
        if is_reward and wrongful.size:
            p = wrongful[self.mask[wrongful]]
            if p.size:
                self._add(day, p, "reward_lost", service=s, wrongful=1)

    def tiers(self, day: int) -> None:
        """Log score changes and tier changes of sampled persons (after classify)."""
        if not self.enabled:
            return
        st = self.sim.state
        done, recorded = self._recorded
        if done != day:  # records() did not run today: look at the day's records
            today = self.sim.handoffs.records[0]
            recorded = np.sort(today[self.mask[today]])
        ch, points, had_record, tc, before = sample_changes(self.idx, st.score, st.tier, self.prev_score, self.prev_tier, recorded)
        if ch.size:
            other = "ratings" if self.sim.plan.ratings is not None else "social term or expiry"
            detail = np.where(had_record, self._detail("records"), self._detail(other))
            self._add(day, self.idx[ch], "score", points=points, score=self.prev_score[ch], tier=self.prev_tier[ch], detail=detail)
        if tc.size:
            after = self.prev_tier[tc]
            self._add(day, self.idx[tc], "tier", score=self.prev_score[tc], tier=after, detail=self._transitions(before, after))

    def _transitions(self, before: np.ndarray, after: np.ndarray) -> np.ndarray:
        """Detail codes of tier changes ("A -> B"), each pair named on its first appearance."""
        T = len(self.sim.plan.tiers.names)
        if self._transition.shape[0] != T * T:
            self._transition = np.full(T * T, -1, np.int32)
        pair = before.astype(np.int64) * T + after
        codes = self._transition[pair]
        if (codes < 0).any():
            names = self.sim.plan.tiers.names
            for k in np.flatnonzero(codes < 0):
                if self._transition[pair[k]] < 0:
                    self._transition[pair[k]] = self._detail(f"{names[before[k]]} -> {names[after[k]]}")
            codes = self._transition[pair]
        return codes

    def persons_frame(self):
        """One row per sampled person: who they are (region, group, income) and where they started and ended.

        ``--where`` filters of ``socialcredit explain --list`` and the per-person
        paired differences of ``socialcredit compare`` read this table.
        """
        import pandas as pd

        sim = self.sim
        plan = sim.plan
        st = sim.state
        pers = sim.pop.persons
        i = self.idx
        tiers = plan.tiers.names

        def cat(codes: np.ndarray, vocab: list[str]) -> np.ndarray:
            return np.asarray(vocab, dtype=object)[np.asarray(codes, dtype=np.int64)] if len(codes) else np.zeros(0, object)

        return pd.DataFrame(
            {
                "person": i.astype(np.int64),
                "region": cat(pers.region[i], plan.rulebook.region_names),
                "group": cat(pers.group[i], plan.rulebook.group_names),
                "income": pers.income[i].astype(np.float64),
                "score_start": self.start["score"].astype(np.float64),
                "tier_start": cat(self.start["tier"], tiers),
                "friends_start": self.start["friends"].astype(np.int64),
                "score_end": st.score[i].astype(np.float64),
                "tier_end": cat(st.tier[i], tiers),
                "friends_end": st.degree[i].astype(np.int64),
                "blacklisted_end": st.black_since[i] >= 0,
                "redlisted_end": st.red_since[i] >= 0,
            }
        )

    def frame(self):
        """The audit trail as a pandas frame, ordered by person, day and event."""
        import pandas as pd

        plan = self.sim.plan
        cols = self.columns()
        # order rows by person, day and event order (from the codes, before any column becomes strings)
        rank = np.array([EVENT_ORDER.get(e, 3) for e in EVENTS], np.int64)
        sort = np.lexsort((rank[cols["event"]], cols["day"], cols["person"]))
        cols = {c: v[sort] for c, v in cols.items()}

        def flag(codes: np.ndarray) -> pd.arrays.BooleanArray:  # -1: missing (built from a mask, not from objects)
            return pd.arrays.BooleanArray(codes > 0, codes < 0)

        df = pd.DataFrame(
            {
                "day": cols["day"],
                "person": cols["person"].astype(np.int64),
                "event": string_column(cols["event"], EVENTS),
                "behaviour": string_column(cols["behaviour"], plan.behaviours.names),
                "channel": string_column(cols["channel"], plan.detection.channel_names),
                "is_false": flag(cols["is_false"]),
                "points": cols["points"],
                "service": string_column(cols["service"], [s.name for s in plan.services]),
                "wrongful": flag(cols["wrongful"]),
                "score": cols["score"],
                "tier": string_column(cols["tier"], plan.tiers.names),
                "other": pd.arrays.IntegerArray(cols["other"].astype(np.int64), cols["other"] < 0),
                "detail": string_column(cols["detail"], self.details),
            }
        )
        return df
