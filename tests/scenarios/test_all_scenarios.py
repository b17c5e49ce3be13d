"""Every shipped scenario validates, runs at a small size, and sources or justifies its numbers."""

from __future__ import annotations

import pytest

import socialcredit as sc
from socialcredit.rulebook import scenario_names
from socialcredit.scenarios.catalogue import values

#: run settings rather than claims about the world: they need no source
SETTINGS = ("population.persons", "simulation.", "institutions.transparency")


@pytest.mark.parametrize("name", scenario_names())
def test_every_number_has_a_source_or_an_assumption(name: str) -> None:
    _, rows = values(name)
    bare = [
        (r.key, r.value)
        for r in rows
        if r.basis == "setting"
        and isinstance(r.value, (int, float))
        and not isinstance(r.value, bool)
        and not r.key.startswith(SETTINGS)
    ]
    assert not bare, f"{name}: numbers with neither source: nor assumed: {bare}"


@pytest.mark.parametrize("name", scenario_names())
def test_every_scenario_runs_at_a_small_size(name: str) -> None:
    rb = sc.load(name, persons=2000, days=40)
    res = sc.run(rb)
    s = res.summary()
    assert s["persons"] == 2000 and s["days"] == 40
    daily = res.to_df("daily")
    assert len(daily) == 40 and (daily["persons"] == 2000).all()
