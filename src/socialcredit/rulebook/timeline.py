"""The timeline: dated changes to rulebook values, and the rulebook in force on each day.

A rulebook's ``timeline`` lists changes, each on a ``day`` (or a ``date``, with
``simulation.start``) and each a mapping of key paths to new values, written as
for ``--set``::

    timeline:
      - {date: 2016-01-01, set: {detection.channels.cameras.coverage: 0.6}, assumed: the roll-out}
      - {day: 730, set: {services[flights].demand: 2, tiers[B].min: 900}, assumed: rules tightened}

Changes accumulate: from a change's day on, the run uses the rulebook with that
change and every earlier one applied. :func:`in_force` checks every changed
rulebook like the original (an unknown key or a value out of range is an error
at the change's place in the file) and refuses a change to what the run's
arrays are sized from on day 0 (the population, names, lists, count windows).
The engine switches to the changed rulebook's plan on the change's day only,
so a timeline costs nothing on the other days.
"""

from __future__ import annotations

import copy
from typing import Any

from socialcredit.errors import ConditionError, RulebookError, RulebookErrors
from socialcredit.rulebook.document import Document, Path
from socialcredit.rulebook.fields import compile_conditions, compile_located
from socialcredit.rulebook.overrides import _split_override_key, set_value
from socialcredit.rulebook.schema import Rulebook
from socialcredit.rulebook.validation import validate

#: sections a change cannot touch: the society is built once, on day 0, and the timeline is not itself dated
FIXED_SECTIONS = ("meta", "population", "simulation", "timeline")

ADVICE = (
    "give the rulebook this shape from day 0 and switch the part on with a value the timeline changes "
    "(a demand, rate, probability or coverage of 0)"
)


def in_force(rb: Rulebook, doc: Document | None = None) -> list[tuple[int, Rulebook]]:
    """``[(day, rulebook in force from that day), ...]`` for the days the timeline changes something, in order.

    Day 0 is not listed unless a change falls on it; the base rulebook holds before the first change. With
    ``doc`` (the loaded document) errors point into the file; without it the rulebook's own data is used.
    """
    if not rb.timeline:
        return []
    start = rb.simulation.start
    entries = sorted(enumerate(rb.timeline), key=lambda e: (e[1].day_number(start), e[0]))
    if doc is None:
        doc = Document(rb.model_dump(mode="python", exclude_unset=True), "rulebook")
    data = copy.deepcopy(doc.data)
    data.pop("timeline", None)
    positions = dict(doc.positions)
    values = dict(doc.value_positions)
    base_shape = shape(rb)
    out: list[tuple[int, Rulebook]] = []
    k = 0
    while k < len(entries):
        day = entries[k][1].day_number(start)
        changed: list[tuple[int, str]] = []
        while k < len(entries) and entries[k][1].day_number(start) == day:
            i, change = entries[k]
            for key, value in change.set.items():
                path = _apply(data, doc, i, key, value)
                where: Path = ("timeline", i, "set", key)
                for table, source in ((positions, doc.value_positions), (values, doc.value_positions)):
                    for p in [p for p in table if p[: len(path)] == path]:
                        del table[p]  # errors about the changed value point at the change
                    if where in source:
                        table[path] = source[where]
                changed.append((i, key))
            k += 1
        variant_doc = Document(copy.deepcopy(data), doc.filename, positions, {}, doc.lines, values)
        variant = _validated(variant_doc, day, changed)
        variant._base_dir = rb._base_dir
        problem = _shape_change(base_shape, shape(variant))
        if problem is not None:
            i, key = changed[-1]
            raise _error(doc, i, key, f"the timeline cannot change {problem}", hint=ADVICE)
        out.append((day, variant))
    return out


def in_force_cached(rb: Rulebook) -> list[tuple[int, Rulebook]]:
    """:func:`in_force`, kept on the rulebook (the loader stores it there with located errors)."""
    if rb._timeline is None:
        rb._timeline = in_force(rb)
    return rb._timeline


def _apply(data: dict[str, Any], doc: Document, i: int, key: str, value: Any) -> Path:
    try:
        segments = _split_override_key(str(key).strip(), str(key))
        if segments[0] in FIXED_SECTIONS:
            raise RulebookError(
                f"the timeline cannot change '{segments[0]}': the society and the run are set up once, on day 0",
                found=key, allowed="keys of the other sections (detection, behaviours, services, tiers, lists, score, ...)",
            )
        path, _ = set_value(data, segments, copy.deepcopy(value), str(key))
        return path
    except RulebookError as exc:
        raise _error(doc, i, key, exc.message, found=exc.found, allowed=exc.allowed, hint=exc.hint) from None


def _validated(doc: Document, day: int, changed: list[tuple[int, str]]) -> Rulebook:
    """The changed rulebook, validated and its conditions compiled; errors say which change made them."""
    what = ", ".join(f"timeline[{i}] {key}" for i, key in changed)
    prefix = f"the rulebook as changed on day {day} ({what}): "
    try:
        rb = validate(Rulebook, doc)
        compile_located(rb, doc)
        return rb
    except RulebookErrors as exc:
        raise RulebookErrors([_prefixed(e, prefix) for e in exc.errors]) from None
    except ConditionError as exc:
        exc.message = prefix + exc.message
        exc.args = (exc.format(),)
        raise


def _prefixed(e: RulebookError, prefix: str) -> RulebookError:
    return RulebookError(prefix + e.message, location=e.location, found=e.found, allowed=e.allowed, hint=e.hint, snippet=e.snippet)


def _error(doc: Document, i: int, key: str, message: str, **kw: Any) -> RulebookError:
    where: Path = ("timeline", i, "set", key)
    loc = doc.locate(where)
    loc.key = f"timeline[{i}].set.{key}"
    return RulebookError(message, location=loc, snippet=doc.snippet(loc.line, loc.column) if loc.line else None, **kw)


def shape(rb: Rulebook) -> dict[str, Any]:
    """What the run's arrays are sized from on day 0: a timeline change must leave all of it alone."""
    compiled = compile_conditions(rb)
    conds = list(compiled.services) + [c for pair in compiled.lists.values() for c in pair if c is not None]
    conds += compiled.faults + compiled.targeting
    coupling = rb.institutions.coupling
    income = rb.responses.income.elasticity > 0 and any("income" in b.responses for b in rb.behaviours)
    return {
        "the behaviours (names and actors)": [(b.name, b.actor) for b in rb.behaviours],
        "which channel detects a behaviour": [b.channel for b in rb.behaviours],
        "the channels": rb.channel_names,
        "the tiers' names": rb.tier_names,
        "the services": [(s.name, s.is_reward) for s in rb.services],
        "which lists exist": [n for n in ("blacklist", "redlist", "company_blacklist") if getattr(rb.lists, n) is not None],
        "score.basis": rb.score.basis,
        "the count() windows conditions read": sorted({c for cond in conds for c in cond.counts}),
        "whether behaviours respond to income": income,
        "the company coupling": (coupling.representative_record is not None, coupling.company_record is not None),
        "whether there is an enrolment": rb.enrolment is not None,
        "the faults": len(rb.faults),
        "the targeting entries": len(rb.targeting),
        "whether there is lending": rb.lending is not None,
        "whether stress is recorded": rb.responses.stress.on,
        "whether households have children": rb.population.children is not None,
        "whether there are company sanctions": rb.institutions.company_sanctions is not None,
        "whether there is emotion monitoring": rb.institutions.emotion_monitoring is not None,
        "the commercial score's bands": None if rb.commercial is None else [b.name for b in rb.commercial.bands],
        "which channels follow their findings": [c for c, ch in rb.detection.channels.items() if ch.follows_findings is not None],
    }


def _shape_change(old: dict[str, Any], new: dict[str, Any]) -> str | None:
    for what, value in old.items():
        if new[what] != value:
            return f"{what} (from {value!r} to {new[what]!r})"
    return None
