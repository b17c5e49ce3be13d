"""Scaled counts: what a simulated count stands for in a real population.

A run simulates ``persons`` people standing for a real population of
``scale_to`` people (``simulation.scale_to`` in the rulebook, or given
here). A count scales by

    factor = scale_to / persons,

so 37 wrongful denials among 10,000 simulated persons standing for 1.4
billion are 37 x 140,000 = 5.18 million. Shares, rates and means do not
scale. A scaled count carries the sampling noise of the simulated one,
multiplied by the same factor: small simulated counts give rough figures.
"""

from __future__ import annotations

import math
from typing import Any

import pandas as pd

from socialcredit.errors import InputError
from socialcredit.results import Results


def scale_factor(res: Results, to: float | None = None) -> float:
    """``to / persons``; ``to`` defaults to the run's ``simulation.scale_to`` (an InputError when neither is set)."""
    target = to if to is not None else res.meta.get("scale_to")
    if target is None:
        raise InputError(
            "no real population is stated to scale to",
            hint="set simulation.scale_to in the rulebook (or --set simulation.scale_to=N), or pass the population to scale to",
        )
    if isinstance(target, bool) or not isinstance(target, (int, float)) or not math.isfinite(target) or target <= 0:
        raise InputError(f"the population to scale to must be a number above 0; found {target!r}")
    persons = int(res.meta.get("persons", 0))
    if persons <= 0:
        raise InputError(f"the run has no persons to scale from (persons = {persons})")
    return float(target) / persons


def scaled(count: float, res: Results, to: float | None = None) -> float:
    """A simulated count scaled to the real population: ``count * scale_factor(res, to)``."""
    return float(count) * scale_factor(res, to)


def _counts(summary: dict[str, Any]) -> list[tuple[str, int]]:
    """The summary's counts, flattened to (dotted name, value); shares, means and scores left out."""
    items: list[tuple[str, int]] = []
    for key in ("blacklisted", "blacklisted_wrongly", "redlisted", "blacklist_entries", "records_true", "records_false", "events"):
        if key in summary:
            items.append((key, int(summary[key])))
    for name, svc in summary.get("services", {}).items():
        for key, value in svc.items():
            if key != "kind":
                items.append((f"services.{name}.{key}", int(value)))
    for kind, value in summary.get("events_by_kind", {}).items():
        items.append((f"events_by_kind.{kind}", int(value)))
    for key, value in summary.get("institutions_and_responses", {}).items():
        items.append((f"institutions_and_responses.{key}", int(value)))
    if "companies_blacklisted" in summary:
        items.append(("companies_blacklisted", int(summary["companies_blacklisted"])))
    return items


def scaled_counts(res: Results, to: float | None = None) -> pd.DataFrame:
    """Every count of the run summary, simulated and scaled to the real population.

    Columns: measure (the summary key, dotted for nested ones), simulated,
    scaled. ``attrs`` hold ``scale_to`` and ``factor``.
    """
    factor = scale_factor(res, to)
    items = _counts(res.summary())
    out = pd.DataFrame(items, columns=["measure", "simulated"])
    out["scaled"] = out["simulated"].astype(float) * factor
    out.attrs["factor"] = factor
    out.attrs["scale_to"] = factor * int(res.meta["persons"])
    return out
