"""Shared fixtures: small rulebooks built in code, and a helper to run them."""

from __future__ import annotations

import copy
import os
from typing import Any

import numba
import numpy as np
import pytest

# tests never leave a background compile behind (engine/compile_ahead.py; its own test runs it in the foreground)
os.environ["SOCIALCREDIT_COMPILE_AHEAD"] = "0"

from socialcredit.engine.sim import Sim
from socialcredit.results import Results
from socialcredit.rulebook.schema import Rulebook


@pytest.fixture(autouse=True)
def one_thread_per_test_worker():
    """Under pytest-xdist each worker holds a core: kernels run on one thread, or two workers' parallel kernels
    would wait for each other's threads at every barrier (several times slower; docs/performance.md). A test that
    asks for threads (``Sim(threads=2)``, the reproducibility tests) still gets them: this only resets the default
    before each test."""
    if os.environ.get("PYTEST_XDIST_WORKER"):
        numba.set_num_threads(1)
    yield


def base_rulebook(persons: int = 2000, days: int = 60, seed: int = 7) -> dict[str, Any]:
    """A small, fully specified rulebook as plain data (tests edit it before validating)."""
    return {
        "meta": {"name": "test", "title": "test rulebook"},
        "population": {
            "persons": persons,
            "regions": [{"name": "north", "share": 0.6}, {"name": "south", "share": 0.4}],
            "groups": [{"name": "majority", "share": 0.8, "misidentification": 1}, {"name": "minority", "share": 0.2, "misidentification": 5}],
            "network": {"generator": "small_world", "mean_degree": 6, "rewiring": 0.1},
        },
        "behaviours": [
            {"name": "littering", "rate": 6, "heterogeneity": 0.0, "kind": "harmful", "channel": "camera", "points": -10},
            {"name": "fraud", "rate": 0.5, "heterogeneity": 0.0, "kind": "harmful", "channel": "records", "points": -50},
            {"name": "volunteering", "rate": 3, "heterogeneity": 0.0, "kind": "prosocial", "channel": "records", "points": 5},
        ],
        "detection": {
            "channels": {
                "camera": {"coverage": {"north": 0.8, "south": 0.4}, "false_attribution": 0.0},
                "records": {"coverage": 1.0, "false_attribution": 0.0},
            }
        },
        "score": {"initial": 1000, "bounds": [0, 2000], "recovery": {"mode": "expire", "days": 365}, "social": {"friends": 0.0}},
        "tiers": [{"name": "A", "min": 1000}, {"name": "B", "min": 950}, {"name": "C", "min": 900}, {"name": "D"}],
        "lists": {"blacklist": {"enter": "tier in ('C', 'D')", "min_days": 30}},
        "services": [
            {"name": "flight", "demand": 2, "denied_when": "blacklisted"},
            {"name": "loan", "demand": 1, "denied_when": "tier <= 'C'", "consequences": {"income": -0.1}},
        ],
        "responses": {"deterrence": {"elasticity": 0.0}},
        "simulation": {"days": days, "seed": seed, "audit_sample": 50},
    }


def build(data: dict[str, Any]) -> Rulebook:
    return Rulebook.model_validate(copy.deepcopy(data))


def run(data: dict[str, Any], threads: int | None = None):
    """Run a rulebook given as data; returns (sim, results)."""
    sim = Sim(build(data), threads=threads)
    res = Results.from_sim(sim.run())
    return sim, res


def run_stepwise(data: dict[str, Any], before=None, after=None):
    """Run day by day; ``before(sim)`` / ``after(sim, day)`` are called around each day's stages."""
    sim = Sim(build(data))
    sim.setup()
    while sim.state.day < sim.plan.days:
        day = sim.state.day
        if before is not None:
            before(sim)
        sim.step()
        if after is not None:
            after(sim, day)
    return sim, Results.from_sim(sim)


def listed_days(audit, n: int, days: int) -> np.ndarray:
    """(persons, days) bool: on the blacklist that day (after classify), from the audit's entries and exits."""
    listed = np.zeros((n, days), bool)
    changes = audit[audit["event"].isin(["blacklist_enter", "blacklist_exit"])].sort_values(["person", "day"], kind="stable")
    for person, g in changes.groupby("person"):
        on_list, since = False, 0
        for day, event in g[["day", "event"]].itertuples(index=False):
            if on_list:
                listed[person, since:day] = True
            on_list, since = event == "blacklist_enter", day
        if on_list:
            listed[person, since:] = True
    return listed


@pytest.fixture
def rulebook_data() -> dict[str, Any]:
    return base_rulebook()
