"""The memory guard: estimate what a run needs before allocating it, and refuse what cannot fit.

The estimate builds the same rulebook twice at a tiny size (2,000 and 4,000
persons), sums the bytes of every array the simulation holds, and extends the
straight line through the two totals to the requested size. The per-person
slope covers the state, the population, the network (its mean degree is the
rulebook's) and the per-person records; the intercept covers the daily
tables, which grow with days, not persons. Added on top: the record log
(expected records per person-day times the days it must be kept, 5 bytes
each, with room for growth), the results tables, and the interpreter and
compiled kernels (about 0.5 GB).

A run whose estimate exceeds what the machine has free refuses to start with
a message giving the estimate, what is available and what to do; so no run
is killed by the kernel's out-of-memory killer halfway through.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from socialcredit.engine.sim import Sim
from socialcredit.engine.stages import friends_mean
from socialcredit.errors import SocialCreditError
from socialcredit.machine import HEADROOM, available_bytes, gib  # noqa: F401 - part of this module's interface

PROCESS_BYTES = 500e6  # interpreter, numpy, numba, duckdb and the compiled kernels (measured: 430-520 MB)
SMALL_SIZES = (2000, 4000)


@dataclass(frozen=True)
class MemoryEstimate:
    persons: int
    per_person: float  # bytes of arrays per person
    fixed: float  # bytes of arrays that do not grow with persons (daily tables)
    record_log: float  # bytes of the record log at its largest
    total: float  # everything, including the process itself

    def describe(self) -> str:
        return (
            f"about {gib(self.total)} ({self.per_person:,.0f} bytes per person x {self.persons:,} persons"
            f" = {gib(self.per_person * self.persons)}, record log {gib(self.record_log)},"
            f" daily tables and results {gib(self.fixed * 3)}, program {gib(PROCESS_BYTES)})"
        )

    def fits(self, available: float) -> int:
        """The most persons that would fit in ``available`` bytes."""
        per = self.per_person + self.record_log / max(1, self.persons)
        room = available * HEADROOM - PROCESS_BYTES - 3 * self.fixed
        return max(0, int(room / per)) if per > 0 else self.persons


def array_bytes(obj: object) -> int:
    """Bytes of all distinct numpy buffers reachable from a simulation object (views counted once)."""
    seen_obj: set[int] = set()
    seen_buf: set[int] = set()
    total = 0
    stack: list[tuple[object, int]] = [(obj, 0)]
    while stack:
        o, depth = stack.pop()
        if id(o) in seen_obj or depth > 6:
            continue
        seen_obj.add(id(o))
        if isinstance(o, np.ndarray):
            base = o
            while isinstance(base.base, np.ndarray):
                base = base.base
            if id(base) not in seen_buf:
                seen_buf.add(id(base))
                total += base.nbytes
        elif isinstance(o, dict):
            stack.extend((v, depth + 1) for v in o.values())
        elif isinstance(o, (list, tuple)):
            stack.extend((v, depth + 1) for v in o)
        elif type(o).__module__.startswith("socialcredit"):
            fields = getattr(o, "__dataclass_fields__", None)
            items = [getattr(o, k, None) for k in fields] if fields else list(getattr(o, "__dict__", {}).values())
            stack.extend((v, depth + 1) for v in items)
    return total


def estimate(rulebook) -> MemoryEstimate:
    """Estimate the peak memory of a run of ``rulebook`` from two tiny builds of it."""
    n = int(rulebook.population.persons)
    totals = []
    for k in SMALL_SIZES:
        small = rulebook.model_copy(deep=True)
        small.population.persons = k
        sim = Sim(small)
        sim.setup()
        totals.append(array_bytes(sim))
    rates = float(np.minimum(sim.state.class_rate.sum(axis=0), 1.0).mean())  # events per person-day (at most)
    plan = sim.plan
    (k1, k2), (t1, t2) = SMALL_SIZES, totals
    per_person = max(0.0, (t2 - t1) / (k2 - k1))
    if plan.needs_friends_mean and not plan.ties_change and n >= friends_mean.MIN_PERSONS:
        # the far-ties index of large runs (not built at the tiny sizes): 16 bytes per far tie, at most a quarter of them
        slots = sim.pop.network.indices.shape[0] / max(1, sim.state.n)
        per_person += friends_mean.MAX_FAR_SHARE * slots * 16
    fixed = max(0.0, t1 - per_person * k1)
    # the log keeps a day's records only if something reads them back within the run (see score.run)
    logged_days = plan.days if plan.appeals_on else max(0, plan.days - plan.first_readback_days)
    kept = min(plan.retention_days, logged_days) if plan.retention_days > 0 else 0
    record_log = rates * n * kept * 5 * 1.5  # 5 bytes a record; the log grows by half when full
    total = PROCESS_BYTES + per_person * n + record_log + 3 * fixed  # daily tables, then the results frames
    return MemoryEstimate(persons=n, per_person=per_person, fixed=fixed, record_log=record_log, total=total)


def check(rulebook, available: float | None = None) -> MemoryEstimate | None:
    """Refuse (exit status 2) a run whose estimated memory exceeds what is available.

    Returns the estimate, or None when even 5 kB per person would fit easily.
    """
    avail = available_bytes() if available is None else available
    if rulebook.population.persons * 5000 + 1e9 < avail * HEADROOM:
        return None  # far from the limit: skip the estimate (it costs two tiny builds)
    est = estimate(rulebook)
    if est.total > avail * HEADROOM:
        fit = est.fits(avail)
        raise SocialCreditError(
            f"this run would need {est.describe()}, but only {gib(avail)} is available on this machine;"
            " nothing was started.\n"
            f"  - run fewer persons: about {fit:,} would fit (--persons {fit}), and state results for the"
            " real population with simulation.scale_to\n"
            "  - free memory (close other programs), or run on a machine with more\n"
            "  - (running one population across a cluster is planned, not yet available)\n"
            "  - or skip this check with --no-memory-check, at the risk of the run being killed"
        )
    return est
