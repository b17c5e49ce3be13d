"""The simulation loop: eight stages per day, in a fixed order, each timed.

1. behave   2. detect   3. score   4. classify
5. services 6. institutions 7. respond 8. record

``Sim(rulebook).run()`` builds the society (population, network), then steps
through the days. Stages are plain modules with a ``run(sim)`` function; the
compiled kernels live in those modules and only ever see arrays.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

import numpy as np

from socialcredit.engine import behave, classify, detect, friends, institutions, record, respond, score, services
from socialcredit.engine.audit import Audit
from socialcredit.engine.behave import CHUNK
from socialcredit.engine.company import CompanyBook
from socialcredit.engine.plan import Plan, build_plan
from socialcredit.engine.record import Recorder
from socialcredit.engine.state import State, new_state
from socialcredit.engine.tally import Tally
from socialcredit.population import Population, build_population
from socialcredit.rulebook.schema import Rulebook

if TYPE_CHECKING:
    from socialcredit.results import Results

STAGES: list[tuple[str, Callable]] = [
    ("behave", behave.run),
    ("detect", detect.run),
    ("score", score.run),
    ("classify", classify.run),
    ("services", services.run),
    ("institutions", institutions.run),
    ("respond", respond.run),
    ("record", record.run),
]


@dataclass
class Timings:
    setup: dict[str, float] = field(default_factory=dict)
    stages: dict[str, float] = field(default_factory=lambda: {name: 0.0 for name, _ in STAGES})

    @property
    def total_stages(self) -> float:
        return sum(self.stages.values())


class Sim:
    """One run of one rulebook. Build with a validated :class:`Rulebook`."""

    def __init__(self, rulebook: Rulebook, base_dir: str | None = None, threads: int | None = None) -> None:
        self.rulebook = rulebook
        self.base_dir = base_dir
        self.threads = check_threads(threads)
        self.timings = Timings()
        self.plan: Plan = build_plan(rulebook)
        self.pop: Population | None = None
        self.state: State | None = None
        self.today: tuple[np.ndarray, np.ndarray, np.ndarray] = _empty_records()
        self.sanctioned = np.zeros(0, np.int64)
        self.chan_cum = None
        self.touched: np.ndarray | None = None  # persons whose score changed today (None: anyone may have)
        self.list_watch: np.ndarray | None = None  # persons on a list or whose list status changed (classify)
        self.scratch_u16: np.ndarray | None = None
        self.candidate_mark: np.ndarray | None = None
        self.full_score_pass = False  # update every score every day
        self.rescore = np.zeros(0, np.int32)  # persons whose points changed after the score stage (appeals)
        self.black_entered = np.zeros(0, np.int64)  # persons blacklisted today (classify)
        self.ties_changed_today = False
        self.far_ties = None  # the friends' mean's index of far ties (fixed networks only; see engine.friends)

    # ---------------------------------------------------------------- setup
    def setup(self) -> None:
        if self.threads:
            import numba

            numba.set_num_threads(int(self.threads))
        t0 = time.perf_counter()
        self.pop = build_population(self.rulebook, self.base_dir)
        t1 = time.perf_counter()
        self.state = new_state(self.plan, self.pop)
        n = self.state.n
        if self.plan.needs_friends_mean and not self.plan.ties_change and n >= friends.MIN_PERSONS:
            self.far_ties = friends.index_far_ties(self.pop.network.indptr, self.pop.network.indices, self.plan.composite)
        self.chunk_counts = np.zeros((n + CHUNK - 1) // CHUNK, np.int64)
        self.scratch_u8 = np.zeros(n, np.uint8)
        self.picked = np.zeros(n, np.uint16)  # picks of a parallel pass, as offsets within chunks (engine.collect)
        g = self.plan.group_mult
        self.gnorm = (g / g.max()).astype(np.float64)
        self.median_income = float(np.median(self.pop.persons.income)) if n else 1.0
        if self.plan.w_partner > 0:
            self.partner_score = np.full(n, np.nan, np.float32)
            self.partner_score_cf = np.full(n, np.nan, np.float32)
        else:
            self.partner_score = np.zeros(0, np.float32)
            self.partner_score_cf = np.zeros(0, np.float32)
        top = float(self.state.class_rate.sum(axis=1).max()) if n else 0.0
        if top > 1.0:
            import warnings

            warnings.warn(
                f"some persons' total daily behaviour rate reaches {top:.2f} > 1: at most one behaviour event per "
                "person-day can happen, so their rates are capped (lower the rates or the heterogeneity)",
                stacklevel=2,
            )
        self.pending_appeals: dict[int, list[tuple[np.ndarray, ...]]] = {}
        self.company_book = CompanyBook(self) if self.pop.companies is not None and self.plan.companies_active else None
        self.tally = Tally(self)
        self.audit = Audit(self)
        self.recorder = Recorder(self)
        self.timings.setup = {"population": t1 - t0, "state": time.perf_counter() - t1}

    # ---------------------------------------------------------------- helpers for stages
    def schedule(self, person: np.ndarray, beh: np.ndarray, flags: np.ndarray, delay: np.ndarray | int) -> None:
        """Queue records to reach the score ``delay`` days from today (one delay per record, or one for all)."""
        st = self.state
        if person.size == 0:
            return
        person = person.astype(np.int32, copy=False)
        beh = beh.astype(np.uint8, copy=False)
        flags = flags.astype(np.uint8, copy=False)
        if np.ndim(delay) == 0:
            st.pending.setdefault(st.day + int(delay), []).append((person, beh, flags))
            return
        delay = np.asarray(delay, dtype=np.int64)
        if (delay == delay[0]).all():  # the common case: one delay for the whole batch
            st.pending.setdefault(st.day + int(delay[0]), []).append((person, beh, flags))
            return
        for d in np.unique(delay):
            sel = delay == d
            st.pending.setdefault(st.day + int(d), []).append((person[sel], beh[sel], flags[sel]))

    def take_due(self, day: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        batches = self.state.pending.pop(day, [])
        if not batches:
            return _empty_records()
        if len(batches) == 1:
            return batches[0]
        return (
            np.concatenate([b[0] for b in batches]),
            np.concatenate([b[1] for b in batches]),
            np.concatenate([b[2] for b in batches]),
        )

    # ---------------------------------------------------------------- the loop
    def step(self) -> None:
        """Advance one day through the eight stages."""
        self.tally.reset()
        stages = self.timings.stages
        for name, fn in STAGES:
            t = time.perf_counter()
            fn(self)
            stages[name] += time.perf_counter() - t
        self.state.day += 1

    def run(
        self,
        progress: Callable[[int, int], None] | None = None,
        checkpoint_every: int | None = None,
        checkpoint_dir: str | None = None,
    ) -> "Results":
        """Step to the last day (continuing from wherever the state is) and return the results.

        With ``checkpoint_every``, the full state is saved to ``checkpoint_dir``
        every that many days (see :mod:`socialcredit.engine.checkpoint`).
        """
        if self.state is None:
            self.setup()
        days = self.plan.days
        t0 = time.perf_counter()
        while self.state.day < days:
            self.step()
            if progress is not None:
                progress(self.state.day, days)
            if checkpoint_every and self.state.day % checkpoint_every == 0 and self.state.day < days:
                from socialcredit.engine import checkpoint

                checkpoint.save(self, checkpoint_dir)
        self.timings.setup["run"] = time.perf_counter() - t0
        from socialcredit.results import Results

        return Results.from_sim(self)


def check_threads(threads: int | None) -> int | None:
    """Validate a thread count against what this machine's compiled kernels can use."""
    if threads is None:
        return None
    import numba

    limit = numba.config.NUMBA_NUM_THREADS
    if not 1 <= int(threads) <= limit:
        from socialcredit.errors import SocialCreditError

        raise SocialCreditError(f"--threads must be between 1 and {limit} on this machine; found {threads}")
    return int(threads)


def _empty_records() -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    return np.zeros(0, np.int32), np.zeros(0, np.uint8), np.zeros(0, np.uint8)
