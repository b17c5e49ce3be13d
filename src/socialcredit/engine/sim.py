"""The simulation: a society built from a rulebook, stepped day by day through the steps of :data:`DAY`.

``Sim(rulebook).run()`` builds the society (population, network), then steps
through the days in the order of :mod:`socialcredit.engine.day` (one table
of every step), timing each step. Steps are plain modules with a
``run(sim)`` function; the compiled kernels live in those modules and only
ever see arrays. What one step hands to the next goes through
``sim.handoffs`` (:class:`Handoffs`); scratch arrays through ``sim.buffers``.

The engine does not write files or build result tables: ``run`` takes a
per-day callback (progress bars, checkpoints) and returns the simulation;
:meth:`socialcredit.results.Results.from_sim` makes its results.
"""

from __future__ import annotations

import time
import warnings
from collections.abc import Callable
from dataclasses import dataclass, field

import numba
import numpy as np

from socialcredit import parallel
from socialcredit.engine import compile_ahead, compile_alongside
from socialcredit.engine.audit import Audit
from socialcredit.engine.cores import Cores
from socialcredit.engine.counters import DayCounters
from socialcredit.engine.day import DAY
from socialcredit.engine.handoffs import Buffers, Handoffs
from socialcredit.engine.layout import CHUNK
from socialcredit.engine.plan import Plan, build_plan
from socialcredit.engine.stages import commercial, friends_mean
from socialcredit.engine.stages.company import CompanyBook
from socialcredit.engine.stages.daily import DailyAggregates
from socialcredit.engine.stages.enrolment import Enrolment
from socialcredit.engine.stages.surveillance import Surveillance
from socialcredit.engine.stages.rating import RatingBook
from socialcredit.engine.state import State, class_rates, new_state
from socialcredit.errors import SocialCreditError
from socialcredit.population import Population, build_population
from socialcredit.rulebook.schema import Rulebook
from socialcredit.rulebook.timeline import in_force_cached


@dataclass
class Timings:
    """Seconds spent: setup parts, and each step of the day summed over the days run."""

    setup: dict[str, float] = field(default_factory=dict)
    stages: dict[str, float] = field(default_factory=lambda: {s.name: 0.0 for s in DAY})

    @property
    def total_stages(self) -> float:
        return sum(self.stages.values())


class Sim:
    """One run of one rulebook. Build with a validated :class:`Rulebook`."""

    def __init__(self, rulebook: Rulebook, base_dir: str | None = None, threads: int | None = None) -> None:
        self.rulebook = rulebook
        self.base_dir = base_dir
        self.threads = check_threads(threads)  # None: as many as the cores other processes leave free (Cores)
        self.cores: Cores | None = None
        self.timings = Timings()
        self.plan: Plan = build_plan(rulebook)
        self.base_plan = self.plan
        # the timeline: the plan in force from each day a dated change falls on (the base plan before the first)
        self.changes: dict[int, Plan] = {day: build_plan(rb) for day, rb in in_force_cached(rulebook)}
        plans = (self.plan, *self.changes.values())
        self.steps = tuple(s for s in DAY if any(s.active(p) for p in plans))
        self.switched_today = False  # a timeline change took effect today: every score and tier is recomputed
        self.pop: Population | None = None
        self.state: State | None = None
        self.handoffs = Handoffs()
        self.full_score_pass = False  # update every score every day (tests compare it with the partial update)
        self.far_ties = None  # the friends' mean's index of far ties (fixed networks only; see stages.friends_mean)
        self.enrolment: Enrolment | None = None  # who is in the system (stages.enrolment), with an enrolment section
        self.surveillance: Surveillance | None = None  # channels following their findings (stages.surveillance)

    # ---------------------------------------------------------------- setup
    def setup(self) -> None:
        self.choose_threads()
        compile_alongside.start(self)  # a first run (cold cache): a second process compiles the kernels last first
        t0 = time.perf_counter()
        self.pop = build_population(self.rulebook, self.base_dir)
        t1 = time.perf_counter()
        plan = self.plan
        self.state = new_state(plan, self.pop)
        n = self.state.n
        if plan.needs_friends_mean and not plan.ties_change and n >= friends_mean.MIN_PERSONS:
            self.far_ties = friends_mean.index_far_ties(self.pop.network.indptr, self.pop.network.indices, plan.score.composite)
        self.buffers = Buffers(
            chunk_counts=np.zeros((n + CHUNK - 1) // CHUNK, np.int64),
            picked=np.zeros(n, np.uint16),
            scratch_u8=np.zeros(n, np.uint8),
        )
        g = plan.detection.group_mult
        self.gnorm = (g / g.max()).astype(np.float64)  # misidentification weights, the largest 1
        self.median_income = float(np.median(self.pop.persons.income)) if n else 1.0
        if plan.commercial is not None:
            commercial.start(self)  # conditions read the commercial score from day 0
        top = float(self.state.class_rate.sum(axis=0).max()) if n else 0.0
        if top > 1.0:
            warnings.warn(
                f"some persons' total daily behaviour rate reaches {top:.2f} > 1: at most one behaviour event per "
                "person-day can happen, so their rates are capped (lower the rates or the heterogeneity)",
                stacklevel=2,
            )
        self.pending_appeals: dict[int, list[tuple[np.ndarray, ...]]] = {}
        book = plan.companies_active or plan.emotion is not None  # emotion monitoring notes who lost their job
        self.company_book = CompanyBook(self) if self.pop.companies is not None and book else None
        self.rating_book = RatingBook(self) if plan.ratings is not None else None
        self.enrolment = Enrolment(self) if plan.enrolment is not None else None
        self.surveillance = Surveillance(self) if plan.follows is not None else None
        self.counters = DayCounters(self)
        self.audit = Audit(self)
        self.daily = DailyAggregates(self)
        self.timings.setup = {"population": t1 - t0, "state": time.perf_counter() - t1}

    def choose_threads(self) -> None:
        """Fix the kernels' threads when asked for a number; else follow the cores left free (engine.cores).

        One thread asked for runs the kernels' serial versions, more their parallel versions; by default, the
        parallel versions once compiled (socialcredit.parallel, engine.compile_ahead)."""
        if self.threads:
            numba.set_num_threads(int(self.threads))
            parallel.PREFER = "serial" if self.threads == 1 else "parallel"
        else:
            parallel.PREFER = "auto"
            if self.cores is None:
                self.cores = Cores(numba.get_num_threads())

    def threads_used(self) -> list[int]:
        """The thread counts the kernels ran with (several when the load changed during the run)."""
        if self.cores is not None:
            return sorted(self.cores.used)
        return [int(self.threads or numba.get_num_threads())]

    # ---------------------------------------------------------------- helpers for steps
    def schedule(self, person: np.ndarray, beh: np.ndarray, flags: np.ndarray, delay: np.ndarray | int) -> None:
        """Queue records to reach the score ``delay`` days from today (one delay per record, or one for all)."""
        st = self.state
        if person.size == 0:
            return
        person = person.astype(np.int32, copy=False)
        beh = beh.astype(np.uint8, copy=False)
        flags = flags.astype(np.uint8, copy=False)
        if self.enrolment is not None and not self.enrolment.everyone:  # nothing is recorded about the unenrolled
            keep = self.enrolment.mask[person]
            if not keep.all():
                person, beh, flags = person[keep], beh[keep], flags[keep]
                delay = delay if np.ndim(delay) == 0 else np.asarray(delay)[keep]
                if person.size == 0:
                    return
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

    def scale_income(self, person: np.ndarray, factor: float) -> None:
        """Multiply the income of ``person`` by ``factor`` (a denial's consequence, a layoff, a job lost), and keep the
        economic feedback's multiplier ((initial income / income) ** elasticity) in step."""
        if person.size == 0 or factor == 1.0:
            return
        st = self.state
        st.income[person] *= np.float32(factor)
        if st.income_mult.size:
            ratio = self.pop.persons.income[person] / st.income[person]
            st.income_mult[person] = (ratio ** np.float32(self.plan.responses.income_elasticity)).astype(np.float32)

    def take_due(self, day: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        batches = self.state.pending.pop(day, [])
        if not batches:
            return np.zeros(0, np.int32), np.zeros(0, np.uint8), np.zeros(0, np.uint8)
        if len(batches) == 1:
            return batches[0]
        return (
            np.concatenate([b[0] for b in batches]),
            np.concatenate([b[1] for b in batches]),
            np.concatenate([b[2] for b in batches]),
        )

    # ---------------------------------------------------------------- the loop
    def plan_on(self, day: int) -> Plan:
        """The plan in force on ``day``: the latest timeline change on or before it, else the rulebook's own."""
        in_force = self.base_plan
        for d, p in self.changes.items():  # in day order
            if d <= day:
                in_force = p
        return in_force

    def points_on(self, day: int) -> np.ndarray:
        """The points table (B, R) records applied on ``day`` were worth."""
        return (self.plan_on(day) if self.changes else self.plan).behaviours.points

    def switch_plan(self, new: Plan) -> None:
        """Put a timeline change in force: derived arrays follow the new plan; every score is recomputed today.

        Records keep the points of the day they were applied: expiry and appeals take them out at those points
        (``points_on``), so a change of points applies to new records only."""
        old, self.plan = self.plan, new
        st, n = self.state, self.state.n
        st.class_rate = class_rates(new, self.pop.persons.het)
        if new.appeals_on and st.latest_penalty.size != n:
            st.latest_penalty = np.full(n, -1, np.int64)  # records from before appeals began cannot be appealed
        if new.score.w_partner > 0 and st.partner_score.size != n:
            st.partner_score = np.full(n, np.nan, np.float32)
            st.partner_score_cf = np.full(n, np.nan, np.float32)
        self.buffers.chan_cum = None
        if new.ties_change:
            self.far_ties = None
        elif new.needs_friends_mean and self.far_ties is None and n >= friends_mean.MIN_PERSONS and not old.ties_change:
            self.far_ties = friends_mean.index_far_ties(self.pop.network.indptr, self.pop.network.indices, new.score.composite)
        if self.surveillance is not None:
            self.surveillance.restart(new)  # a change to a following channel restarts from its coverage
        if self.enrolment is not None:
            self.enrolment.base = self.enrolment.base[:0]  # the shares may have changed: recompute today
        self.switched_today = True

    def step(self) -> None:
        """Advance one day through the steps of :data:`DAY` the rulebook uses, timing each."""
        self.counters.reset()
        self.handoffs.new_day()
        self.switched_today = False
        change = self.changes.get(self.state.day)
        if change is not None:
            self.switch_plan(change)
        if self.cores is not None:
            self.cores.look()
        times = self.timings.stages
        for s in self.steps:
            t = time.perf_counter()
            s.run(self)
            times[s.name] += time.perf_counter() - t
        self.state.day += 1

    def run(self, on_day: Callable[["Sim"], None] | None = None) -> "Sim":
        """Step to the last day (continuing from wherever the state is); returns this simulation.

        ``on_day(sim)`` is called after each day (progress, checkpoints). Make
        the results with ``Results.from_sim(sim)`` (or use ``socialcredit.run``).
        """
        if self.state is None:
            self.setup()  # chooses the threads too
        else:
            self.choose_threads()  # resumed from a checkpoint, or run again after steps
        if self.changes:  # resumed from a checkpoint after a change: its state was saved under that plan
            self.plan = self.plan_on(self.state.day - 1) if self.state.day > 0 else self.plan
        days = self.plan.days
        t0 = time.perf_counter()
        try:
            while self.state.day < days:
                self.step()
                if parallel.COLD and not self.threads:  # a first run: compile the parallel kernels for the next
                    compile_ahead.start(self)
                if on_day is not None:
                    on_day(self)
        finally:
            if self.cores is not None:
                self.cores.release()
        self.timings.setup["run"] = time.perf_counter() - t0
        return self


def check_threads(threads: int | None) -> int | None:
    """Validate a thread count against what this machine's compiled kernels can use."""
    if threads is None:
        return None
    limit = numba.config.NUMBA_NUM_THREADS
    if not 1 <= int(threads) <= limit:
        raise SocialCreditError(f"--threads must be between 1 and {limit} on this machine; found {threads}")
    return int(threads)
