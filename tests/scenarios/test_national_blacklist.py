"""The `national-blacklist` scenario: it validates, runs, lists, denies and removes, and matches the published figures.

The published points are checked twice: in expectation (the fitted judgment
rate and ramp give the expected list size at every published date, including
the two small early ones, without noise), and by simulation at 500,000
persons, where only the 2017 points are asserted: the 2013 and 2014 list sizes
are 11 and 72 simulated persons there (Poisson noise of 30% and 12%), which
is too few for a 15% test. `python validation/fit_national_blacklist.py --check`
checks every point at the scenario's default size (docs/validation.md).
"""

from __future__ import annotations

import importlib.util
import itertools
import math
import sys
from pathlib import Path

import numpy as np
import pytest

import socialcredit as sc

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture(scope="module")
def fitmod():
    path = ROOT / "validation" / "fit_national_blacklist.py"
    spec = importlib.util.spec_from_file_location("fit_national_blacklist", path)
    mod = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = mod  # dataclasses look their module up
    spec.loader.exec_module(mod)
    return mod


@pytest.fixture(scope="module")
def small(fitmod):
    """The shipped scenario at 50,000 persons over its whole span (2013-10-01 to 2017-12-31)."""
    return fitmod.simulate(persons=50_000)


def test_the_scenario_validates_and_spans_2013_to_2017(fitmod) -> None:
    rb = sc.load("national-blacklist")
    assert rb.simulation.scale_to == 1.4e9
    assert fitmod.date_of(rb.simulation.days - 1).isoformat() == "2017-12-31"
    ramp = rb.detection.channels["court"].ramp
    assert [d for d, _ in ramp] == list(fitmod.RAMP_DAYS)
    mult = [m for _, m in ramp]
    assert all(0 < a <= b <= 1 for a, b in itertools.pairwise(mult)) and mult[-1] == 1.0  # courts join, none leaves
    # every fitted number says it was fitted, and by what
    text = (ROOT / "src/socialcredit/scenarios/national-blacklist.yaml").read_text(encoding="utf-8")
    for name in ("unpaid_judgment", "flight", "train", "management"):
        line = next(ln for ln in text.splitlines() if f"name: {name}," in ln)
        assert "fitted to" in line and "validation/fit_national_blacklist.py" in line, name
    assert "fitted to" in rb.detection.channels["court"].assumed
    assert "fitted to" in rb.responses.gaming.assumed


def test_a_small_run_lists_denies_and_removes(small) -> None:
    assert small.entries[-1] > 100
    assert small.exits[-1] > 0
    assert np.all(small.stock == small.entries - small.exits)  # nobody leaves without having entered
    for service in ("flight", "train", "management"):
        assert small.denials[service][-1] > 0, service
    # no one is listed before the first recorded judgment, and no one is denied before the first listing
    first = int(np.argmax(small.entries > 0))
    assert first > 0
    for service in ("flight", "train", "management"):
        assert small.denials[service][first - 1] == 0, service


def test_entries_and_denials_follow_their_expectation(fitmod, small) -> None:
    """Simulated counts agree with the closed forms the fit uses, within 4 Poisson standard deviations."""
    p = fitmod.read_params()
    scale_to = small.scale * small.persons
    expected = fitmod.expected_entries(p.rate, p.ramp, small.stock, small.persons, scale_to) / small.scale
    e, o = expected[-1], small.entries[-1]
    assert abs(o - e) < 4 * math.sqrt(e), (o, e)
    exposure = fitmod.exposure(small.stock, small.scale) / small.scale  # listed person-years, simulated
    for service, demand in (("flight", p.flight), ("train", p.train)):
        e, o = demand * exposure[-1], small.denials[service][-1]
        assert abs(o - e) < 4 * math.sqrt(e), (service, o, e)


def test_the_expected_list_size_matches_every_published_date(fitmod, small) -> None:
    """In expectation (no sampling noise), the fitted rate and ramp give every published list size within 15%."""
    p = fitmod.read_params()
    scale_to = small.scale * small.persons
    expected = fitmod.expected_entries(p.rate, p.ramp, small.stock, small.persons, scale_to)
    points = [t for t in fitmod.load_targets() if t.series == "debtors_listed"]
    assert len(points) == 4
    for t in points:
        err = expected[t.day] / t.value - 1
        assert abs(err) < 0.15, (t.date, err)


def test_the_check_at_500k_matches_the_2017_points(fitmod) -> None:
    rows, run = fitmod.check(persons=500_000)
    assert run.persons == 500_000 and run.seed == 1
    late = [r for r in rows if r["required"] and r["date"].startswith("2017")]
    assert {r["series"] for r in late} == {"debtors_listed", "flight_denials", "train_denials"} and len(late) == 6
    bad = [(r["date"], r["series"], round(r["rel_error"], 3)) for r in late if not r["within"]]
    assert not bad, bad
