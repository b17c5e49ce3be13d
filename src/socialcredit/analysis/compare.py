"""Two runs side by side, and their paired differences when they share a design.

:func:`compare` lines up the key measures of two runs (from their
summaries). Two runs share a *design* (:func:`same_design`) when they used
the same seed, the same number of persons and the same ``population``
section of the rulebook: they then build the same society and draw the same
random numbers for everything their rulebooks do not change (common random
numbers). Their difference is the policy, hardly any noise, and
:func:`paired_differences` measures it day by day and person by person, with
the paired standard error next to the unpaired one that independent runs
would have.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np
import pandas as pd

from socialcredit.errors import InputError
from socialcredit.rulebook.document import parse_document

# daily whole-population series compared day by day under a shared design
PAIRED_SERIES = (
    "score_mean", "blacklisted", "blacklisted_wrongly", "redlisted", "records_true", "records_false",
    "denials", "denials_wrongful", "rewards", "appeals_filed", "events_harmful", "events_benign", "events_prosocial",
)  # fmt: skip
_NOT_MODEL = ("assumed", "source")  # notes on where a value comes from; they change nothing in a run
# values of the population section that no draw of the society reads: the misidentification weight of a group
# picks who a false camera match names, at detection; two runs that differ only there build the same society
_NOT_DRAWN = ("misidentification",)


def _population(res) -> dict[str, Any] | None:
    """The rulebook's population section without ``persons``, source notes and misidentification (None: no rulebook)."""
    if not res.rulebook_yaml:
        return None
    data = parse_document(res.rulebook_yaml, "rulebook.yaml of the run").data  # alias and size limits: a run folder may come from anyone

    def strip(x: Any) -> Any:
        if isinstance(x, dict):
            return {k: strip(v) for k, v in x.items() if k not in _NOT_MODEL + _NOT_DRAWN}
        if isinstance(x, list):
            return [strip(v) for v in x]
        return x

    population = strip(data.get("population", {}) or {})
    population.pop("persons", None)
    return population


def _changed_keys(a: Any, b: Any, prefix: str = "population") -> list[str]:
    """Dotted paths of the values that differ between two nested sections."""
    if isinstance(a, dict) and isinstance(b, dict):
        out: list[str] = []
        for key in list(a) + [k for k in b if k not in a]:
            out += _changed_keys(a.get(key), b.get(key), f"{prefix}.{key}")
        return out
    if isinstance(a, list) and isinstance(b, list) and len(a) == len(b):
        out = []
        for i, (x, y) in enumerate(zip(a, b)):
            out += _changed_keys(x, y, f"{prefix}[{i}]")
        return out
    return [] if a == b else [prefix]


def design_differences(a, b) -> list[str]:
    """Why two runs do not share a design: one line for each of seed, persons and population that differ (empty: same design)."""
    out = []
    if a.meta.get("seed") != b.meta.get("seed"):
        out.append(f"seed differs ({a.meta.get('seed')} vs {b.meta.get('seed')})")
    if a.meta.get("persons") != b.meta.get("persons"):
        out.append(f"persons differ ({a.meta.get('persons'):,} vs {b.meta.get('persons'):,})")
    pa, pb = _population(a), _population(b)
    if pa is None or pb is None:
        which = " and ".join(name for name, p in (("A", pa), ("B", pb)) if p is None)
        out.append(f"the population section cannot be compared: run {which} has no rulebook")
    elif pa != pb:
        keys = _changed_keys(pa, pb)
        shown = ", ".join(keys[:5]) + (f" and {len(keys) - 5} more" if len(keys) > 5 else "")
        out.append(f"the population section differs ({shown})")
    return out


def same_design(a, b) -> bool:
    """True when two runs used the same seed, persons and ``population`` section (source notes aside)."""
    return not design_differences(a, b)


def key_measures(res) -> dict[str, float]:
    """The key figures of a run's summary as one flat mapping (name -> number; NaN when not measured)."""
    s = res.summary()
    out: dict[str, float] = {"persons": s["persons"], "days": s["days"]}
    for key in ("score_mean", "score_p10", "score_p90"):
        if key in s:
            out[key] = s[key]
    for tier, share in s.get("tier_shares", {}).items():
        out[f"share_{tier}"] = share
    for key in ("blacklisted", "blacklisted_wrongly", "redlisted", "blacklist_entries", "records_true", "records_false", "events"):
        if key in s:
            out[key] = s[key]
    total = s.get("records_true", 0) + s.get("records_false", 0)
    out["false_share_of_records"] = s.get("records_false", 0) / total if total else math.nan
    for kind, n in s.get("events_by_kind", {}).items():
        out[f"events_{kind}"] = n
    for name, v in s.get("services", {}).items():
        for key, n in v.items():
            if key != "kind":
                out[f"{name}.{key}"] = n
    for key, n in s.get("institutions_and_responses", {}).items():
        out[key] = n
    for key in ("companies_blacklisted", "friends_of_blacklisted", "friends_of_others", "score_assortativity"):
        if key in s:
            out[key] = math.nan if s[key] is None else s[key]
    return {k: float(v) for k, v in out.items()}


def compare(a, b) -> pd.DataFrame:
    """The key measures of two runs side by side: ``measure, a, b, difference`` (b - a) ``, ratio`` (b / a).

    A measure one run does not have is NaN on that side, except the counts
    of institutions and responses (appeals, ties dropped...), which are 0
    where nothing happened. ``attrs["same_design"]`` and
    ``attrs["design_differences"]`` say whether paired differences apply.
    """
    ma, mb = key_measures(a), key_measures(b)
    zero_when_absent = set(a.summary().get("institutions_and_responses", {})) | set(b.summary().get("institutions_and_responses", {}))
    names = list(ma) + [k for k in mb if k not in ma]
    rows = []
    for name in names:
        default = 0.0 if name in zero_when_absent else math.nan
        va, vb = ma.get(name, default), mb.get(name, default)
        rows.append({"measure": name, "a": va, "b": vb, "difference": vb - va, "ratio": vb / va if va != 0 else math.nan})
    df = pd.DataFrame(rows, columns=["measure", "a", "b", "difference", "ratio"])
    differences = design_differences(a, b)
    df.attrs["same_design"] = not differences
    df.attrs["design_differences"] = differences
    return df


def _paired_row(measure: str, unit: str, x: np.ndarray, y: np.ndarray) -> dict[str, Any]:
    """Mean of y - x with its paired standard error and the unpaired one (as for independent samples)."""
    ok = ~(np.isnan(x) | np.isnan(y))
    x, y = x[ok], y[ok]
    n = x.size
    if n < 2:
        return {"measure": measure, "unit": unit, "n": n, "mean_difference": float(np.mean(y - x)) if n else math.nan,
                "se_paired": math.nan, "se_unpaired": math.nan}  # fmt: skip
    d = y - x
    return {
        "measure": measure,
        "unit": unit,
        "n": n,
        "mean_difference": float(d.mean()),
        "se_paired": float(d.std(ddof=1) / math.sqrt(n)),
        "se_unpaired": float(math.sqrt(x.var(ddof=1) / n + y.var(ddof=1) / n)),
    }


def _daily_denials(res) -> pd.DataFrame:
    """Denials per day of each punishment service (whole population): columns are the services."""
    svc = res.to_df("services")
    svc = svc[svc["kind"] == "punishment"]
    if not len(svc):
        return pd.DataFrame(index=pd.Index([], name="day"))
    return svc.pivot_table(index="day", columns="service", values="outcomes", aggfunc="sum", observed=True)


def paired_differences(a, b) -> pd.DataFrame:
    """Paired differences of two runs that share a design: ``measure, unit, n, mean_difference, se_paired, se_unpaired``.

    Per day (``unit = "per day"``): the mean over the days both runs cover of
    b - a for the key daily series (:data:`PAIRED_SERIES`, and the denials of
    each punishment service as ``<service>.denied``). Per audited person
    (``unit = "per person"``): the mean of b - a of the final score
    (``score_end``) over the persons audited in both runs.

    ``se_paired`` is the standard error of that mean from the differences;
    ``se_unpaired`` is the one two independent runs would give,
    sqrt(var(a)/n + var(b)/n). Both treat days (persons) as independent
    draws: days of a drifting series are not, so read the daily SEs as the
    scale of the noise, not as a confidence interval. Raises an InputError
    saying why when the runs do not share a design.
    """
    differences = design_differences(a, b)
    if differences:
        raise InputError(
            "paired differences need two runs with the same seed, persons and population: " + "; ".join(differences),
            hint="run the second scenario with the first one's seed and population (compare() still lines them up)",
        )
    da = a.to_df("daily").set_index("day")
    db = b.to_df("daily").set_index("day")
    days = da.index.intersection(db.index)
    rows = [
        _paired_row(name, "per day", da.loc[days, name].to_numpy(float), db.loc[days, name].to_numpy(float))
        for name in PAIRED_SERIES
        if name in da.columns and name in db.columns
    ]
    sa, sb = _daily_denials(a), _daily_denials(b)
    for service in [s for s in sa.columns if s in sb.columns]:
        x = sa[service].reindex(days, fill_value=0).to_numpy(float)
        y = sb[service].reindex(days, fill_value=0).to_numpy(float)
        rows.append(_paired_row(f"{service}.denied", "per day", x, y))
    if a.audit_persons is not None and b.audit_persons is not None:
        both = a.audit_persons[["person", "score_end"]].merge(b.audit_persons[["person", "score_end"]], on="person", suffixes=("_a", "_b"))
        rows.append(_paired_row("score_end", "per person", both["score_end_a"].to_numpy(float), both["score_end_b"].to_numpy(float)))
    df = pd.DataFrame(rows, columns=["measure", "unit", "n", "mean_difference", "se_paired", "se_unpaired"])
    df.attrs["days"] = len(days)
    if a.meta.get("days") != b.meta.get("days"):
        df.attrs["note"] = (f"the runs last {a.meta.get('days')} and {b.meta.get('days')} days: daily series are paired over the "
                            f"{len(days)} days both cover; final scores are at different days")  # fmt: skip
    return df
