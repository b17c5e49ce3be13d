"""The per-person and per-company fields conditions read, and every condition of a rulebook compiled.

The loader compiles every condition when it loads a rulebook (so that an
error points into the file), and the engine's plan uses the same compiled
conditions; neither needs the other.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from socialcredit.errors import ConditionError
from socialcredit.rulebook.conditions import Condition, FieldSpec, compile_condition
from socialcredit.rulebook.document import Document
from socialcredit.rulebook.schema import Rulebook


def condition_fields(rb: Rulebook) -> dict[str, FieldSpec]:
    """Per-person fields conditions may read."""
    return {
        "score": FieldSpec("number"),
        "points": FieldSpec("number"),
        "tier": FieldSpec("ordered", tuple(rb.tier_names)),
        "blacklisted": FieldSpec("bool"),
        "redlisted": FieldSpec("bool"),
        "days_listed": FieldSpec("number"),
        "days_redlisted": FieldSpec("number"),
        "region": FieldSpec("category", tuple(rb.region_names)),
        "group": FieldSpec("category", tuple(rb.group_names)),
        "income": FieldSpec("number"),
        "friends_mean": FieldSpec("number"),
        "risk": FieldSpec("number"),
        "represents_blacklisted": FieldSpec("bool"),
        "employer_blacklisted": FieldSpec("bool"),
        "partner_blacklisted": FieldSpec("bool"),
        "children": FieldSpec("number"),
        "day": FieldSpec("number"),
    } | (
        {"commercial": FieldSpec("number"), "commercial_band": FieldSpec("ordered", tuple(b.name for b in rb.commercial.bands))}
        if rb.commercial is not None
        else {}
    )


def company_fields(rb: Rulebook) -> dict[str, FieldSpec]:
    """Per-company fields company list conditions may read."""
    return {
        "score": FieldSpec("number"),
        "points": FieldSpec("number"),
        "tier": FieldSpec("ordered", tuple(rb.tier_names)),
        "region": FieldSpec("category", tuple(rb.region_names)),
        "size": FieldSpec("number"),
        "blacklisted": FieldSpec("bool"),
        "days_listed": FieldSpec("number"),
    }


@dataclass
class CompiledConditions:
    """Every condition of a rulebook: ``services[i]`` for service i, ``lists[name]`` as (enter, exit or None)."""

    services: list[Condition] = field(default_factory=list)
    lists: dict[str, tuple[Condition, Condition | None]] = field(default_factory=dict)
    faults: list[Condition] = field(default_factory=list)
    targeting: list[Condition] = field(default_factory=list)


def compile_conditions(rb: Rulebook) -> CompiledConditions:
    """Compile every condition of a validated rulebook; a ConditionError carries its rulebook path."""
    names = [b.name for b in rb.behaviours]
    fields = condition_fields(rb)
    out = CompiledConditions()
    for i, s in enumerate(rb.services):
        key = "granted_when" if s.is_reward else "denied_when"
        out.services.append(_compile(s.condition, fields, names, ("services", i, key)))
    for name in ("blacklist", "redlist", "company_blacklist"):
        rule = getattr(rb.lists, name)
        if rule is None:
            continue
        f, n = (company_fields(rb), []) if name == "company_blacklist" else (fields, names)
        enter = _compile(rule.enter, f, n, ("lists", name, "enter"))
        exit_ = _compile(rule.exit, f, n, ("lists", name, "exit")) if rule.exit else None
        out.lists[name] = (enter, exit_)
    for section in ("faults", "targeting"):
        for i, item in enumerate(getattr(rb, section)):
            getattr(out, section).append(_compile(item.where, fields, names, (section, i, "where")))
    return out


def compile_located(rb: Rulebook, doc: Document) -> CompiledConditions:
    """:func:`compile_conditions`, with a condition's error placed at its key in ``doc``'s file."""
    try:
        return compile_conditions(rb)
    except ConditionError as exc:
        where = getattr(exc, "rulebook_path", None)
        if where is not None:
            loc = doc.locate(tuple(where))
            loc.key = doc.key_name(tuple(where))
            exc.at(loc)
        raise


def _compile(text: str, fields: dict[str, FieldSpec], names: list[str], where: tuple) -> Condition:
    try:
        return compile_condition(text, fields, names)
    except Exception as exc:  # ConditionError: attach the rulebook path for the loader
        exc.rulebook_path = where
        raise
