"""Behaviour change: how the system bends what people do, measured against a run without responses.

The rulebook labels every behaviour harmful, benign or prosocial. The
society's behavioural responses change their rates (see
docs/model.md, stage 7):

- deterrence: penalised behaviours (all behaviours under secret rules) are
  multiplied by 1 / (1 + e r), with r a person's perceived risk;
- chilling: the same deterrence falling on benign behaviours, which happens
  under secret rules (people avoid whatever might be penalised);
- gaming: rewarded behaviours multiplied by 1 + g r under public rules.

Each is measured against a baseline run: the same rulebook and seed with
deterrence, gaming and economic feedback switched off
(:func:`baseline_overrides`). Because the seed fixes every random draw, the
two runs differ only by what the responses did. For each kind of behaviour:

    ratio = events in the run / events in the baseline,
    effect_size = ratio - 1        (the relative change: -0.2 = 20% fewer)

named deterrence (harmful), chilling (benign) and gaming (prosocial). When
both runs share their design (seed, persons and population: see
:func:`~socialcredit.analysis.compare.same_design`) and their days, the daily
event counts are paired, and the standard error of the effect size is
``sqrt(days * var(d)) / baseline events`` with ``d`` the daily differences
(days taken as independent; the shared draws cancel most of the noise).
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from socialcredit.analysis.compare import same_design
from socialcredit.errors import InputError
from socialcredit.results import KINDS, Results
from socialcredit.rulebook.document import parse_document
from socialcredit.rulebook.schema import Rulebook
from socialcredit.rulebook.validation import validate

EFFECTS = {"harmful": "deterrence", "benign": "chilling", "prosocial": "gaming"}
RESPONSES = ("deterrence", "gaming", "income")  # the responses that change behaviour rates


def rulebook_of(res: Results) -> Rulebook:
    """The validated rulebook a run was made with (from the run folder's rulebook.yaml or ``sc.run``)."""
    if not res.rulebook_yaml:
        raise InputError(
            "these results carry no rulebook",
            hint="use results from socialcredit.run or a run folder (it keeps rulebook.yaml), not from Sim.run",
        )
    return validate(Rulebook, parse_document(res.rulebook_yaml, "rulebook.yaml"))


def final_state_of(res: Results | pd.DataFrame, column: str, needs: str) -> pd.DataFrame:
    """The final state (one row per person) of ``res`` (results that carry one, or the frame itself), holding
    ``column``; a clear error otherwise, saying what the run needs (``needs``)."""
    fs = res if isinstance(res, pd.DataFrame) else getattr(res, "final_state", None)
    if fs is None:
        raise InputError("these results carry no final state",
                         hint="run with --final-state and read the run folder with socialcredit.read_run")  # fmt: skip
    if column not in fs.columns:
        raise InputError(f"the final state has no column {column!r}", hint=f"this needs {needs}")
    return fs


def baseline_overrides(res_or_rulebook: Results | Rulebook) -> list[str]:
    """The ``--set`` overrides that switch off deterrence, gaming and economic feedback, keeping the rest.

    Only responses that are on are listed (an empty list: the run has no
    behavioural response). Run the same rulebook and seed with them for the
    baseline of :func:`behaviour_change`::

        socialcredit run my_city.yaml --seed 3 --set responses.deterrence.elasticity=0
    """
    rb = res_or_rulebook if isinstance(res_or_rulebook, Rulebook) else rulebook_of(res_or_rulebook)
    return [f"responses.{name}.elasticity=0" for name in RESPONSES if getattr(rb.responses, name).elasticity > 0]


def _daily_kinds(res: Results) -> pd.DataFrame:
    d = res.daily[res.daily["breakdown"] == "all"].sort_values("day")
    return d[[f"events_{k}" for k in KINDS]].reset_index(drop=True)


def behaviour_change(res: Results, baseline: Results) -> pd.DataFrame:
    """Events by kind of behaviour in a run against its baseline run, with the effect of the responses.

    One row per kind (harmful, benign, prosocial). Columns: kind, events,
    baseline_events, ratio (run / baseline), effect (deterrence, chilling,
    gaming), effect_size (ratio - 1), se (standard error of effect_size from
    paired daily differences; NaN when the runs do not share their design
    and days), paired.
    """
    run_days, base_days = _daily_kinds(res), _daily_kinds(baseline)
    paired = same_design(res, baseline) and len(run_days) == len(base_days)
    rows = []
    for kind in KINDS:
        col = f"events_{kind}"
        x = run_days[col].to_numpy(np.float64)
        y = base_days[col].to_numpy(np.float64)
        events, base = int(x.sum()), int(y.sum())
        ratio = events / base if base > 0 else float("nan")
        se = float("nan")
        if paired and base > 0 and len(x) > 1:
            se = float(np.sqrt(len(x) * np.var(x - y, ddof=1)) / base)
        rows.append((kind, events, base, ratio, EFFECTS[kind], ratio - 1.0, se, paired))
    return pd.DataFrame(rows, columns=["kind", "events", "baseline_events", "ratio", "effect", "effect_size", "se", "paired"])
