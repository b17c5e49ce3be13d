"""Baseline: exact summary figures of small runs, so that any change to results is noticed.

If a change is meant to alter results, regenerate the baseline and say why in
the commit:

    SOCIALCREDIT_UPDATE_BASELINE=1 python -m pytest tests/test_baseline.py

The figures are exact for a given CPU family; counts come from float32
comparisons, so another instruction set could move a borderline draw.
"""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest

import socialcredit as sc

BASELINE = Path(__file__).parent / "baseline" / "summaries.json"
CASES = {
    "reference": dict(persons=5000, days=120, seed=1),
    "smalltown": dict(persons=5000, days=120, seed=2),
}


def summary_of(name: str) -> dict:
    res = sc.run(name, **CASES[name])
    s = res.summary()
    daily = res.to_df("daily")
    s["score_mean_day_60"] = round(float(daily.loc[daily["day"] == 60, "score_mean"].item()), 6)
    for key in ("score_mean", "score_p10", "score_p90"):
        s[key] = round(float(s[key]), 6)
    s["tier_shares"] = {k: round(v, 6) for k, v in s["tier_shares"].items()}
    s["audit_rows"] = int(len(res.audit))
    return json.loads(json.dumps(s))


@pytest.mark.parametrize("name", sorted(CASES))
def test_summary_matches_the_baseline(name: str) -> None:
    got = summary_of(name)
    stored = json.loads(BASELINE.read_text()) if BASELINE.exists() else {}
    if os.environ.get("SOCIALCREDIT_UPDATE_BASELINE"):
        stored[name] = got
        BASELINE.write_text(json.dumps(stored, indent=2, sort_keys=True) + "\n")
    assert name in stored, "no baseline stored; run with SOCIALCREDIT_UPDATE_BASELINE=1"
    assert got == stored[name]
