"""Checkpoints of runs with households and children, lending, company sanctions, emotion monitoring, partnering, stress and a commercial score: resumed equals uninterrupted."""

from __future__ import annotations

from pathlib import Path

import yaml

from socialcredit.engine.sim import Sim
from socialcredit.results import Results, checkpoint
from socialcredit.rulebook import load_rulebook
from tests.conftest import base_rulebook
from tests.results.test_checkpoint import assert_same_results, state_file


def households_work_credit(tmp_path: Path):
    data = base_rulebook(persons=3000, days=80)
    data["population"]["partners"] = 0.6
    data["population"]["children"] = {"share": 0.4, "mean": 1.5}
    data["population"]["companies"] = {"count": 60, "employment": 0.6}
    data["services"].append({"name": "school", "demand": 2, "applies_to": "children",
                             "denied_when": "blacklisted or partner_blacklisted"})  # fmt: skip
    data["behaviours"] += [
        {"name": "tax_evasion", "actor": "company", "rate": 3, "kind": "harmful", "channel": "records", "points": -30},
        {"name": "loan_repaid", "rate": 0, "kind": "prosocial", "channel": "records", "points": 20},
        {"name": "loan_default", "rate": 0, "kind": "harmful", "channel": "records", "points": -40},
    ]
    data["lists"]["company_blacklist"] = {"enter": "score < 950", "min_days": 20}
    data["institutions"] = {"company_sanctions": {"loans": 0.4, "layoffs": 1.0, "income_loss": 0.3},
                            "emotion_monitoring": {"companies": 0.5, "checks": 24, "prevalence": 0.05, "stress": 0.5,
                                                   "sensitivity": 0.7, "false_positive": 0.05, "record": "fraud",
                                                   "dismissal": 0.3}}  # fmt: skip
    data["responses"]["partnering"] = {"rate": 4, "assortativity": 0.5}
    data["responses"]["stress"] = {"risk": 0.3, "listed": 0.5, "friends": 0.2, "half_life": 20}
    data["commercial"] = {"initial": 650, "bounds": [350, 950], "income": 50, "spread": 40, "listed": -150,
                          "bands": [{"name": "good", "min": 600}, {"name": "poor"}]}  # fmt: skip
    data["services"].append({"name": "rental", "demand": 4, "denied_when": "commercial_band == 'poor'"})
    data["lending"] = {"demand": 4, "threshold": 960, "term": 30, "midpoint": 980, "scale": 20,
                       "repaid": "loan_repaid", "defaulted": "loan_default"}  # fmt: skip
    path = tmp_path / "households.yaml"
    path.write_text(yaml.safe_dump(data, sort_keys=False), encoding="utf-8")
    return load_rulebook(path).rulebook, path


def test_resumed_equals_uninterrupted(tmp_path: Path) -> None:
    """Saved on day 40 (loans pending, companies sanctioned, employees laid off), resumed: identical tables."""
    rb, path = households_work_credit(tmp_path)
    whole = Results.from_sim(Sim(rb).run())
    d = whole.daily[whole.daily["breakdown"] == "all"]
    assert d["layoffs"].iloc[:40].sum() > 0 and d["loans_granted"].iloc[:40].sum() > 0  # the checkpoint holds them
    run_dir = tmp_path / "run"
    sim = Sim(rb)
    checkpoint.start(run_dir, {}, path.read_text(encoding="utf-8"))
    sim.setup()
    while sim.state.day < 43:
        sim.step()
        if sim.state.day == 40:
            checkpoint.save(sim, run_dir)
    assert state_file(run_dir).name.startswith("state-000040-")
    resumed = checkpoint.load(run_dir)
    again = Results.from_sim(resumed.run())
    assert_same_results(whole, again)
