"""The state of a run, as arrays over the population.

Each per-person quantity is one NumPy array (never one object per person).
Factual quantities have a counterfactual twin (suffix ``_cf``) that evolves
identically except that false records never enter it: comparing the two
tells, for every sanction, whether it would have happened without false
records.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from socialcredit.engine.plan import Plan
from socialcredit.population import Population


class RecordLog:
    """Applied records, segmented by day, kept as long as expiry or count windows need them.

    A record is stored in 5 bytes: the person (int32) and one byte holding the
    behaviour index (7 bits, so at most 127 behaviours) with the false-record
    flag in the top bit. ``day_start[k]`` is the global offset of the first
    record of day ``first_day + k``.
    """

    FALSE_BIT = np.uint8(128)

    def __init__(self, capacity: int = 1024) -> None:
        self.person = np.empty(capacity, np.int32)
        self.code = np.empty(capacity, np.uint8)
        self.base = 0  # global index of element 0
        self.size = 0  # number of elements held
        self.day_start: list[int] = []
        self.first_day = 0

    def append_day(self, day: int, person: np.ndarray, behaviour: np.ndarray, flags: np.ndarray) -> None:
        assert day == self.first_day + len(self.day_start)
        m = person.shape[0]
        if self.size + m > self.person.shape[0]:
            cap = max(int(1.5 * self.person.shape[0]), self.size + m)
            for name in ("person", "code"):
                old = getattr(self, name)
                new = np.empty(cap, old.dtype)
                new[: self.size] = old[: self.size]
                setattr(self, name, new)
        self.day_start.append(self.base + self.size)
        self.person[self.size : self.size + m] = person
        self.code[self.size : self.size + m] = behaviour | ((flags & 1) << 7).astype(np.uint8)
        self.size += m

    def day(self, day: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """The records applied on ``day`` as (person, behaviour, flags); empty outside the kept window."""
        k = day - self.first_day
        if k < 0 or k >= len(self.day_start):
            return np.empty(0, np.int32), np.empty(0, np.uint8), np.empty(0, np.uint8)
        start = self.day_start[k] - self.base
        end = (self.day_start[k + 1] - self.base) if k + 1 < len(self.day_start) else self.size
        code = self.code[start:end]
        return self.person[start:end], code & np.uint8(127), code >> np.uint8(7)

    def forget_before(self, day: int) -> None:
        """Drop days before ``day``; storage is compacted once more than half of it is dead."""
        k = min(day - self.first_day, len(self.day_start))
        if k <= 0:
            return
        cut = self.day_start[k] - self.base if k < len(self.day_start) else self.size
        self.day_start = self.day_start[k:]
        self.first_day += k
        if cut > self.size // 2:
            for name in ("person", "code"):
                arr = getattr(self, name)
                arr[: self.size - cut] = arr[cut : self.size].copy()
            self.base += cut
            self.size -= cut

    def nbytes(self) -> int:
        return self.person.nbytes + self.code.nbytes


@dataclass
class State:
    """Everything that changes during a run."""

    n: int
    day: int
    # scoring
    points: np.ndarray  # float32, sum of active record points (factual)
    points_cf: np.ndarray  # float32, without false records
    friends_mean: np.ndarray  # float32, friends' mean at the last social update
    friends_mean_cf: np.ndarray
    partner_score: np.ndarray  # float32 partner's score at the last social update (NaN: no partner), or empty
    partner_score_cf: np.ndarray
    score: np.ndarray  # float32 composite score
    score_cf: np.ndarray
    tier: np.ndarray  # uint8, 0 = best
    tier_cf: np.ndarray
    # lists: day entered, -1 if not listed
    black_since: np.ndarray  # int32
    black_since_cf: np.ndarray
    red_since: np.ndarray
    red_since_cf: np.ndarray
    # responses
    risk: np.ndarray  # float32 perceived risk
    income: np.ndarray  # float32 yearly income (changes with consequences)
    # behaviour propensity: per-class sums of daily rate x heterogeneity
    class_rate: np.ndarray  # float32 (3 or 6, N): one row per response class (plan.DETERRED ...)
    income_mult: np.ndarray  # float32 (N,) (income0 / income) ** elasticity, or empty when unused
    # count() windows: one row per (behaviour, days) slot
    counts: np.ndarray  # uint16 (K, N)
    counts_cf: np.ndarray
    # institutions and ties
    latest_penalty: np.ndarray  # int64 (N,) log index of the latest penalising record (appeals), or empty
    degree: np.ndarray  # int32 (N,) friends (non-empty slots) of each person
    # scratch
    event: np.ndarray  # uint8 behaviour index of today's event, 255 = none
    # wellbeing
    stress: np.ndarray  # float32 (N,) stress index 0-1000 (responses.stress), or empty when unused
    # the commercial score (rulebook ``commercial``), and its twin that reads the counterfactual blacklist; or empty
    commercial: np.ndarray
    commercial_cf: np.ndarray
    commercial_base: np.ndarray  # its target without the listing term, before income changes (set on day 0)
    log: RecordLog = field(default_factory=RecordLog)
    pending: dict[int, list[tuple[np.ndarray, np.ndarray, np.ndarray]]] = field(default_factory=dict)

    def nbytes(self) -> int:
        total = 0
        for v in self.__dict__.values():
            if isinstance(v, np.ndarray):
                total += v.nbytes
        return total + self.log.nbytes()


def class_rates(plan: Plan, het: np.ndarray) -> np.ndarray:
    """Per-person daily rate of each behaviour class: sum over its behaviours of rate x heterogeneity."""
    from threadpoolctl import threadpool_limits

    n = het.shape[0]
    k = plan.n_classes
    out = np.zeros((k, n), np.float32)  # one row per class: the behave stage reads only the rows in use, each in a stream
    # One BLAS thread: a multithreaded product leaves OpenBLAS's threads spinning for a while after it returns, and
    # the first days' parallel kernels then wait for a core (100k persons: about 40 ms of 4 ms stalls in the first
    # two weeks). Each person's rate is the same sum either way.
    with threadpool_limits(limits=1, user_api="blas"):
        for c in range(k):
            idx = np.flatnonzero(plan.behaviours.response_class == c)
            if idx.size:
                out[c] = het[:, idx] @ plan.behaviours.rate_day[idx].astype(np.float32)
    return out


def new_state(plan: Plan, pop: Population) -> State:
    n = pop.persons.n
    k = len(plan.conditions.count_slots)
    f32 = lambda v: np.full(n, v, np.float32)  # noqa: E731
    i32 = lambda: np.full(n, -1, np.int32)  # noqa: E731
    init = np.float32(plan.score.initial)
    st = State(
        n=n,
        day=0,
        points=f32(0.0),
        points_cf=f32(0.0),
        friends_mean=f32(init),
        friends_mean_cf=f32(init),
        partner_score=f32(np.nan) if plan.score.w_partner > 0 else np.zeros(0, np.float32),
        partner_score_cf=f32(np.nan) if plan.score.w_partner > 0 else np.zeros(0, np.float32),
        score=f32(init),
        score_cf=f32(init),
        tier=np.zeros(n, np.uint8),
        tier_cf=np.zeros(n, np.uint8),
        black_since=i32(),
        black_since_cf=i32(),
        red_since=i32(),
        red_since_cf=i32(),
        risk=f32(0.0),
        income=pop.persons.income.copy(),
        class_rate=class_rates(plan, pop.persons.het),
        income_mult=f32(1.0) if plan.income_response else np.zeros(0, np.float32),
        counts=np.zeros((k, n), np.uint16),
        counts_cf=np.zeros((k, n), np.uint16),
        latest_penalty=np.full(n, -1, np.int64) if plan.appeals_on else np.zeros(0, np.int64),
        degree=np.diff(pop.network.indptr).astype(np.int32),
        event=np.full(n, 255, np.uint8),
        stress=f32(0.0) if plan.responses.stress_step > 0 else np.zeros(0, np.float32),
        commercial=np.zeros(n if plan.commercial is not None else 0, np.float32),
        commercial_cf=np.zeros(n if plan.commercial is not None else 0, np.float32),
        commercial_base=np.zeros(n if plan.commercial is not None else 0, np.float32),
    )
    # everyone starts at the initial score: one tier for all (the number of tier minimums above it)
    st.tier[:] = st.tier_cf[:] = np.uint8(np.count_nonzero(init < plan.tiers.mins))
    return st
