"""Checkpoints of runs with a timeline, enrolment, faults, targeting and surveillance that follows its findings."""

from __future__ import annotations

from pathlib import Path

import yaml

from socialcredit.engine.sim import Sim
from socialcredit.results import Results, checkpoint
from socialcredit.rulebook import load_rulebook
from tests.conftest import base_rulebook
from tests.results.test_checkpoint import assert_same_results, state_file


def everything(tmp_path: Path):
    data = base_rulebook(persons=2500, days=60)
    data["institutions"] = {"appeals": {"probability": 0.5, "success_false": 0.6, "delay": 10}}
    data["enrolment"] = {"share": {"north": 0.6, "south": 0.2}, "ramp": [[0, 0.5], [30, 1.0]], "mandatory": 45}
    data["faults"] = [{"day": 12, "behaviour": "fraud", "share": 0.1, "records": 2}]
    data["targeting"] = [{"behaviour": "fraud", "where": "group == 'minority'", "rate": 3}]
    data["detection"]["channels"]["camera"]["follows_findings"] = {"period": 5, "memory": 10, "sharpness": 2}
    data["timeline"] = [{"day": 25, "set": {"services.flight.demand": 6, "tiers.B.min": 960}},
                        {"day": 40, "set": {"detection.channels.camera.coverage": 0.5}}]  # fmt: skip
    path = tmp_path / "everything.yaml"
    path.write_text(yaml.safe_dump(data, sort_keys=False), encoding="utf-8")
    return load_rulebook(path).rulebook


def test_resumed_after_changes_equals_uninterrupted(tmp_path: Path) -> None:
    """Saved on day 30 (after a timeline change, during the enrolment ramp), resumed: identical tables."""
    rb = everything(tmp_path)
    whole = Results.from_sim(Sim(rb).run())
    run_dir = tmp_path / "run"
    sim = Sim(rb)
    checkpoint.start(run_dir, {}, rb._yaml or Path(tmp_path / "everything.yaml").read_text())
    sim.setup()
    while sim.state.day < 33:
        sim.step()
        if sim.state.day == 30:
            checkpoint.save(sim, run_dir)
    assert state_file(run_dir).name.startswith("state-000030-")
    resumed = checkpoint.load(run_dir)
    assert resumed.state.day == 30 and resumed.plan is not resumed.base_plan or resumed.plan_on(29) is resumed.changes[25]
    again = Results.from_sim(resumed.run())
    assert_same_results(whole, again)
    assert whole.coverage.equals(again.coverage)
