"""One run of an experiment, as a worker executes it: rulebook text in, kept measures out.

A task carries its rulebook as YAML text (workers need no shared filesystem)
and its seed; the outcome carries the run's summary measures, its kept daily
series and, when asked, the whole :class:`~socialcredit.results.Results`.
Every simulation runs single-threaded, so that runs never fight for cores.
"""

from __future__ import annotations

import os
import socket
import time
import traceback
from dataclasses import dataclass, field
from typing import Any

import pandas as pd

from socialcredit.engine import measures
from socialcredit.engine.sim import Sim
from socialcredit.analysis.disparity import MEASURES as DISPARITY_MEASURES
from socialcredit.analysis.disparity import disparate_impact
from socialcredit.errors import SocialCreditError
from socialcredit.experiments.spec import Keep
from socialcredit.results import Results
from socialcredit.rulebook.document import dump_yaml, parse_document
from socialcredit.rulebook.overrides import apply_overrides
from socialcredit.rulebook.schema import Rulebook
from socialcredit.rulebook.validation import validate

DESIGN_KEYS = measures.DESIGN_KEYS  # in a run's summary, but they describe the design (scenario, persons, days, seed, scale)


@dataclass(frozen=True)
class RunTask:
    run_id: str
    rulebook_yaml: str
    seed: int
    base_dir: str | None
    keep: Keep
    keep_run: bool = False
    threads: int = 1


@dataclass
class RunOutcome:
    run_id: str
    ok: bool
    seconds: float = 0.0
    error: str | None = None
    summary: dict[str, float] = field(default_factory=dict)
    daily: pd.DataFrame | None = None
    results: Any = None  # the whole Results, with keep_run
    worker: str = ""


def flatten_summary(summary: dict[str, Any]) -> dict[str, float]:
    """A run's nested summary as flat numeric measures: ``tier_shares.AAA``, ``services.flight.denied``."""
    flat: dict[str, float] = {}

    def walk(prefix: str, value: Any) -> None:
        if isinstance(value, dict):
            for k, v in value.items():
                walk(f"{prefix}.{k}" if prefix else str(k), v)
        elif isinstance(value, bool):
            flat[prefix] = float(value)
        elif isinstance(value, (int, float)):
            flat[prefix] = float(value)
        elif value is None:
            flat[prefix] = float("nan")

    for key, value in summary.items():
        if key in DESIGN_KEYS:
            continue
        if key == measures.RESPONSES and isinstance(value, dict):
            for k, v in value.items():  # short names: appeals_won, ties_dropped_unfriending
                walk(k, v)
        else:
            walk(key, value)
    return flat


def run_summary(res: Any) -> dict[str, float]:
    """A run's summary measures, flat, with every response count present (0 when nothing happened),
    and the disparity between groups (``disparity.<measure>``, see :func:`group_disparity`)."""
    flat = flatten_summary(res.summary())
    all_rows = res.daily[res.daily["breakdown"] == "all"]
    for key in measures.RESPONSE_MEASURES:
        if key not in flat and key in all_rows:
            flat[key] = float(all_rows[key].sum())
    flat.update(group_disparity(res))
    return flat


def group_disparity(res: Any) -> dict[str, float]:
    """The four-fifths ratio of the worst-treated group for each measure of disparate impact.

    ``disparity.<measure>`` is the lowest group's rate per person divided by
    the highest group's (1: every group alike; below 0.8 the four-fifths rule
    flags it; NaN when no group has any). With one group there is nothing to compare.
    """
    groups = res.meta.get("groups") or []
    if len(groups) < 2:
        return {}
    table = disparate_impact(res, "group")
    out = {}
    for name in [*DISPARITY_MEASURES, "listed"]:
        ratio = table[f"ratio_{name}"]
        out[f"disparity.{name}"] = float(ratio.min()) if ratio.notna().any() else float("nan")
    return out


def is_flow(measure: str) -> bool:
    """A daily count of events (records, denials, list entries, behaviour events), as opposed to a level."""
    return measures.is_flow(measure)


def kept_daily(daily: pd.DataFrame, keep: Keep) -> pd.DataFrame:
    """The daily rows and columns an experiment keeps (categoricals as plain text)."""
    rows = daily[daily["breakdown"].astype(str).isin(keep.breakdowns)]
    ids = ["day", "breakdown", "level"]
    measures = [c for c in daily.columns if c not in ids] if keep.daily is None else [c for c in keep.daily if c in daily.columns]
    out = rows[ids + measures].reset_index(drop=True)
    out.insert(1, "cell", out.groupby("day").cumcount().astype("int32"))  # the row's place within its day (for ordering)
    out["breakdown"] = out["breakdown"].astype(str)
    out["level"] = out["level"].astype(str)
    return out


def run_text(rulebook_yaml: str, seed: int, base_dir: str | None, threads: int = 1, name: str = "rulebook") -> tuple[Any, Rulebook, Results]:
    """Validate a rulebook's text with its seed set, and run it: (its document, the rulebook, the results)."""
    doc = apply_overrides(parse_document(rulebook_yaml, name), [f"simulation.seed={seed}"])
    rb = validate(Rulebook, doc)
    base = base_dir if base_dir and os.path.isdir(base_dir) else None
    return doc, rb, Results.from_sim(Sim(rb, base_dir=base, threads=threads).run())


def failure(exc: BaseException) -> str:
    """A run's failure as one line: our own errors as they are, anything else as an internal error."""
    if isinstance(exc, SocialCreditError):
        return str(exc)
    if isinstance(exc, MemoryError):
        return "out of memory on the worker"
    return "internal error: " + traceback.format_exception_only(type(exc), exc)[-1].strip()


def simulate(task: RunTask) -> RunOutcome:
    """Run one simulation; every failure comes back as an outcome with its message, never as an exception."""
    t0 = time.perf_counter()
    worker = f"{socket.gethostname()}:{os.getpid()}"
    try:
        doc, _, res = run_text(task.rulebook_yaml, task.seed, task.base_dir, task.threads, f"rulebook of {task.run_id}")
        summary = run_summary(res)
        if task.keep.summary is not None:
            summary = {k: summary.get(k, float("nan")) for k in task.keep.summary}
        daily = kept_daily(res.daily, task.keep)
        outcome = RunOutcome(task.run_id, True, summary=summary, daily=daily, worker=worker)
        if task.keep_run:
            res.rulebook_yaml = dump_yaml(doc.data)
            outcome.results = res
    except Exception as exc:  # noqa: BLE001 - recorded with the run, the others go on
        outcome = RunOutcome(task.run_id, False, error=failure(exc), worker=worker)
    outcome.seconds = time.perf_counter() - t0
    return outcome
