"""The order of a day: every step, in order, in one table.

``DAY`` is the whole loop. Each :class:`Step` names the stage it belongs to
(the eight stages of the design: behave, detect, score, classify, services,
institutions, respond, record), the mechanism, the module that runs it, and
the hand-offs (:class:`socialcredit.engine.handoffs.Handoffs`) it reads and
writes. ``Sim.step`` runs the steps in this order and times each one
(``socialcredit run --profile`` prints the times).

To add a mechanism: write its module in ``engine/stages/`` with a
``run(sim)`` function that returns at once when the rulebook leaves it off,
and add one row here where it belongs in the day (see docs/architecture.md).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING

from socialcredit.engine.stages import (
    appeal,
    behave,
    children,
    classify,
    commercial,
    company,
    company_sanctions,
    daily,
    detect,
    emotion,
    enrolment,
    faults,
    lending,
    partners,
    perceived_risk,
    rating,
    score,
    services,
    shaming,
    stress,
    surveillance,
    targeting,
    unfriending,
    warnings,
)

if TYPE_CHECKING:
    from socialcredit.engine.plan import Plan
    from socialcredit.engine.sim import Sim


@dataclass(frozen=True)
class Step:
    """One mechanism's place in the day."""

    stage: str
    name: str
    run: Callable[["Sim"], None]
    reads: tuple[str, ...] = ()  # hand-offs read (fields of Handoffs)
    writes: tuple[str, ...] = ()  # hand-offs written
    when: Callable[["Plan"], bool] | None = None  # runs only when this holds for the rulebook's plan (None: always)
    does: str = ""

    def active(self, plan: "Plan") -> bool:
        return self.when is None or self.when(plan)


DAY: tuple[Step, ...] = (
    Step("behave", "enrolment", enrolment.run, writes=("rescore",), when=lambda plan: plan.enrolment is not None,
         does="who is in the system today (pilots, then mandatory); the newly enrolled are scored again"),
    Step("behave", "behave", behave.run, does="each person's behaviour event of the day (one at most), by rate and perceived risk"),
    Step("detect", "detect", detect.run, writes=("detected",),
         does="channels detect events, misidentify persons, add spurious records; queued by delay"),
    Step("detect", "surveillance", surveillance.run, reads=("detected",), when=lambda plan: plan.follows is not None,
         does="channels that follow their findings note today's records by region and reallocate on their period"),
    Step("detect", "faults", faults.run, when=lambda plan: bool(plan.faults),
         does="errors in bulk: a fault writes false records to many persons on its day"),
    Step("detect", "targeting", targeting.run, when=lambda plan: bool(plan.targeting),
         does="records aimed at people: false records written on purpose against persons matching a condition"),
    Step("detect", "emotion", emotion.run, when=lambda plan: plan.emotion is not None,
         does="monitored employers check workers' emotions; flags (some false) make records and cost jobs"),
    Step("score", "score", score.run, reads=("rescore", "score_range"), writes=("records", "touched", "rescore", "score_range"),
         does="apply due records, expire or relax points, social terms, update scores"),
    Step("score", "rating", rating.run, reads=("rescore",), writes=("touched", "rescore", "score_range"),
         when=lambda plan: plan.ratings is not None, does="scores from peer ratings instead of points (score.basis: ratings)"),
    Step("score", "unenrolled", enrolment.hold, writes=("score_range",), when=lambda plan: plan.enrolment is not None,
         does="scores of persons not enrolled are held at the initial score"),
    Step("classify", "classify", classify.run, reads=("touched", "list_watch", "records"), writes=("list_watch", "black_entered"),
         does="tiers, blacklist and redlist entries and exits"),
    Step("classify", "commercial", commercial.run, when=lambda plan: plan.commercial is not None,
         does="the commercial score moves toward a target that reads income and the government blacklist"),
    Step("services", "services", services.run, writes=("sanctioned",),
         does="persons try services; denials, rewards, their consequences (income, records)"),
    Step("services", "lending", lending.run, when=lambda plan: plan.lending is not None,
         does="loans granted by a score threshold; repayment or default is drawn by score and recorded after the term"),
    Step("institutions", "appeal", appeal.run, reads=("sanctioned", "black_entered"), writes=("rescore",),
         does="sanctions appealed; due decisions overturn records"),
    Step("institutions", "shaming", shaming.run, reads=("black_entered",), does="friends drop persons blacklisted today"),
    Step("institutions", "company", company.run, reads=("black_entered",),
         does="company behaviours, records, scores, company blacklist, coupling with representatives"),
    Step("institutions", "company_sanctions", company_sanctions.run, when=lambda plan: plan.institutions.revenue_loss > 0,
         does="companies entering the company blacklist lose revenue and lay off employees, who lose income"),
    Step("respond", "perceived_risk", perceived_risk.run, reads=("records", "sanctioned"), does="perceived risk decays and grows with penalties and sanctions"),
    Step("respond", "warnings", warnings.run, does="harmful acts warned about on the spot: perceived risk rises, no record"),
    Step("respond", "unfriending", unfriending.run, does="friends of low-tier or listed persons drop them, and rewire"),
    Step("respond", "partners", partners.run, does="partnerships with a blacklisted person end; persons without a partner pair up, matched on score"),
    Step("respond", "stress", stress.run, when=lambda plan: plan.responses.stress_step > 0,
         does="each person's stress index moves toward a target set by perceived risk, listing and friends lost"),
    Step("record", "children", children.run, when=lambda plan: plan.children,
         does="children of households with a blacklisted parent, and those only because of false records"),
    Step("record", "daily", daily.run, reads=("score_range",), writes=("score_range",), does="the day's aggregates by region, group and tier"),
)

STAGE_NAMES: tuple[str, ...] = tuple(dict.fromkeys(s.stage for s in DAY))


def table() -> list[dict[str, str]]:
    """The day's order as rows (stage, step, module, reads, writes, does), for docs and ``--profile``."""
    return [
        {"stage": s.stage, "step": s.name, "module": s.run.__module__, "reads": ", ".join(s.reads),
         "writes": ", ".join(s.writes), "does": s.does}
        for s in DAY
    ]  # fmt: skip
