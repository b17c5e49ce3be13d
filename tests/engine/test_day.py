"""Tests of engine.day and engine.handoffs: the day's table is complete, and steps touch only the hand-offs they declare."""

from __future__ import annotations

import dataclasses
import importlib
import pkgutil

import pytest

import socialcredit as sc
import socialcredit.engine.stages as stages_pkg
from socialcredit.engine.day import DAY, STAGE_NAMES, table
from socialcredit.engine.handoffs import Handoffs
from socialcredit.engine.sim import Sim

FIELDS = {f.name for f in dataclasses.fields(Handoffs)}
CARRIED = {"list_watch", "rescore", "score_range"}  # reach the next day (see Handoffs)


def test_every_stage_module_with_a_run_function_is_a_step() -> None:
    modules = {m.name for m in pkgutil.iter_modules(stages_pkg.__path__)}
    with_run = {m for m in modules if callable(getattr(importlib.import_module(f"socialcredit.engine.stages.{m}"), "run", None))}
    in_day = {s.run.__module__.rsplit(".", 1)[1] for s in DAY}
    assert with_run == in_day
    assert len({s.name for s in DAY}) == len(DAY)  # step names are unique (they key the timings)


def test_the_eight_stages_in_their_order() -> None:
    assert STAGE_NAMES == ("behave", "detect", "score", "classify", "services", "institutions", "respond", "record")
    rows = table()
    assert [r["step"] for r in rows] == [s.name for s in DAY] and all(r["does"] for r in rows)


def test_declared_handoffs_exist_and_are_written_before_they_are_read() -> None:
    written: set[str] = set()
    for s in DAY:
        assert set(s.reads) <= FIELDS and set(s.writes) <= FIELDS, s.name
        for r in s.reads:
            assert r in written or r in CARRIED, f"{s.name} reads {r} before any step writes it"
        written |= set(s.writes)


def test_new_day_resets_today_and_keeps_what_is_carried() -> None:
    h = Handoffs()
    h.touched = h.black_entered = h.sanctioned = pytest.importorskip("numpy").arange(3)
    h.list_watch = h.rescore = h.touched
    h.new_day()
    assert h.touched is None and h.black_entered.size == 0 and h.sanctioned.size == 0 and h.records[0].size == 0
    assert h.list_watch is not None and h.rescore.size == 3


class _Watch(Handoffs):
    """Handoffs that note which step reads and writes which field."""

    step = ""
    seen: set[tuple[str, str, str]] = set()

    def __getattribute__(self, name: str):
        if name in FIELDS:
            _Watch.seen.add((_Watch.step, "reads", name))
        return object.__getattribute__(self, name)

    def __setattr__(self, name: str, value) -> None:
        if name in FIELDS:
            _Watch.seen.add((_Watch.step, "writes", name))
        object.__setattr__(self, name, value)


@pytest.mark.parametrize("scenario", ["full-system", "nosedive"])
def test_steps_touch_only_the_handoffs_they_declare(scenario: str) -> None:
    """Run every step under a watch: a step reading or writing an undeclared hand-off fails here."""
    sim = Sim(sc.load(scenario, persons=3000, days=40))
    sim.setup()
    sim.handoffs = _Watch()
    _Watch.seen = set()
    for _ in range(sim.plan.days):
        sim.counters.reset()
        _Watch.step = "new_day"
        sim.handoffs.new_day()
        for s in sim.steps:
            _Watch.step = s.name
            s.run(sim)
        sim.state.day += 1
    declared = {(s.name, "reads", f) for s in DAY for f in s.reads} | {(s.name, "writes", f) for s in DAY for f in s.writes}
    undeclared = {x for x in _Watch.seen if x[0] != "new_day"} - declared
    assert not undeclared, sorted(undeclared)
    used = {x for x in _Watch.seen if x[0] != "new_day"}
    assert any(w == "writes" for _, w, _ in used)  # the watch saw the steps at work


def test_the_architecture_page_names_every_step_and_handoff() -> None:
    """docs/architecture.md stays in step with the code: every step, its module and every hand-off appear in it."""
    from pathlib import Path

    page = (Path(__file__).resolve().parents[2] / "docs" / "architecture.md").read_text()
    for s in DAY:
        assert f"| {s.stage} | {s.name} | `engine/stages/{s.run.__module__.rsplit('.', 1)[1]}.py` |" in page, s.name
    for name in FIELDS:
        assert f"`{name}`" in page, name
