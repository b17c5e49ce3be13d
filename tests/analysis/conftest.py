"""Shared settings of the analysis tests: small smalltown runs whose tiers move within a few months."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pandas as pd

from socialcredit.results import Results

# smalltown's tiers moved close to the starting 1000 points, so that a few records change a tier, and
# records expire after 60 days, so that people also leave the bottom tiers within a 200-day run
MOVING_TIERS: dict[str, Any] = {
    "tiers[AAA].min": 1010,
    "tiers[AA].min": 1003,
    "tiers[A].min": 995,
    "tiers[B].min": 980,
    "tiers[C].min": 960,
    "score.recovery.days": 60,
}


def write_rulebook(data: dict[str, Any], path: Path) -> Path:
    """Write a rulebook given as data to a .yaml file (JSON is valid YAML 1.2)."""
    path.write_text(json.dumps(data), encoding="utf-8")
    return path


def hand_results(meta: dict[str, Any], audit: pd.DataFrame | None = None, audit_persons: pd.DataFrame | None = None) -> Results:
    """Results built by hand, for constructed cases (tables the case does not need are empty)."""
    empty = pd.DataFrame()
    return Results(daily=empty, services=empty, behaviours=empty, audit=audit if audit is not None else empty, meta=meta, audit_persons=audit_persons)
