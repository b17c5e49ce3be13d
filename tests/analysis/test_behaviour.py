"""Behaviour change against a baseline run: deterrence measured as the engine predicts it.

With deterrence elasticity e, a person-day's penalised rate is multiplied by
1 / (1 + e r), r the person's perceived risk at the start of the day
(docs/model.md, stage 7; tests/engine/test_responses.py). The baseline runs
the same rulebook and seed with deterrence off (the overrides of
``baseline_overrides``), so both runs draw the same random numbers and the
expected ratio of harmful events is the mean of 1 / (1 + e r) over
person-days, weighted by the baseline's daily harmful events. It is computed
exactly by stepping the deterred run and reading every person's risk
(behaviours without heterogeneity: every person has the same rates).
Tolerance 0.02 as in the engine's own test (the thinning sd is about 0.004).
"""

from __future__ import annotations

import numpy as np
import pytest

import socialcredit as sc
from socialcredit.analysis import baseline_overrides, behaviour_change
from socialcredit.engine.sim import Sim
from socialcredit.results import Results
from tests.analysis.conftest import write_rulebook
from tests.conftest import base_rulebook

E = 2.0


@pytest.fixture(scope="module")
def runs(tmp_path_factory):
    """A deterred run of 5,000 persons for 150 days (no lists or services: risk comes from own records),
    stepped to read the exact expected multiplier of each day, and its baseline."""
    data = base_rulebook(persons=5000, days=150, seed=11)
    data["lists"] = {}
    data["services"] = []
    data["responses"]["deterrence"] = {"elasticity": E, "half_life": 60, "points_scale": 20}
    path = write_rulebook(data, tmp_path_factory.mktemp("rulebook") / "deterred.yaml")
    rb = sc.load(str(path))
    sim = Sim(rb)
    sim.setup()
    multiplier = []
    while sim.state.day < sim.plan.days:
        multiplier.append(float(np.mean(1.0 / (1.0 + E * sim.state.risk.astype(np.float64)))))
        sim.step()
    deterred = Results.from_sim(sim)
    deterred.rulebook_yaml = rb._yaml
    baseline = sc.run(sc.load(str(path), baseline_overrides(rb)))
    return deterred, baseline, np.array(multiplier), path


def test_baseline_overrides_switch_off_only_the_responses_that_are_on(runs) -> None:
    deterred, baseline, _, _ = runs
    assert baseline_overrides(deterred) == ["responses.deterrence.elasticity=0"]
    assert baseline_overrides(baseline) == []
    all_on = sc.load("smalltown", {"responses.gaming.elasticity": 0.3, "responses.income.elasticity": 1}, persons=1000)
    assert baseline_overrides(all_on) == [f"responses.{r}.elasticity=0" for r in ("deterrence", "gaming", "income")]
    assert baseline_overrides(sc.load("smalltown", baseline_overrides(all_on), persons=1000)) == []


def test_deterrence_lowers_harmful_events_by_the_expected_factor(runs) -> None:
    deterred, baseline, multiplier, _ = runs
    bc = behaviour_change(deterred, baseline).set_index("kind")
    assert list(bc.index) == ["harmful", "benign", "prosocial"]
    assert list(bc["effect"]) == ["deterrence", "chilling", "gaming"]
    h_off = baseline.to_df()["events_harmful"].to_numpy()
    expected = float((multiplier * h_off).sum() / h_off.sum())
    harmful = bc.loc["harmful"]
    assert harmful["events"] == deterred.to_df()["events_harmful"].sum() and harmful["baseline_events"] == h_off.sum()
    assert harmful["ratio"] < 0.85, harmful["ratio"]
    assert abs(harmful["ratio"] - expected) < 0.02, (harmful["ratio"], expected)
    assert harmful["effect_size"] == pytest.approx(harmful["ratio"] - 1, abs=1e-15)
    assert harmful["paired"] and 0 < harmful["se"] < abs(harmful["effect_size"]) / 5
    # the rewarded behaviour is not deterred under public rules (and nothing is gamed)
    assert abs(bc.loc["prosocial", "ratio"] - 1) < 0.05
    assert bc.loc["benign", "baseline_events"] == 0 and np.isnan(bc.loc["benign", "ratio"])  # the rulebook has no benign behaviour


def test_a_run_against_itself_changes_nothing(runs) -> None:
    deterred, _, _, _ = runs
    bc = behaviour_change(deterred, deterred)
    present = bc["baseline_events"] > 0
    assert (bc.loc[present, "ratio"] == 1.0).all() and (bc.loc[present, "effect_size"] == 0.0).all()
    assert (bc.loc[present, "se"] == 0.0).all() and bc["paired"].all()


def test_runs_of_another_design_are_not_paired(runs) -> None:
    deterred, _, _, path = runs
    other = sc.run(sc.load(str(path), ["responses.deterrence.elasticity=0", "population.persons=500"]))
    bc = behaviour_change(deterred, other)
    assert not bc["paired"].any() and bc["se"].isna().all()
    assert bc.loc[bc["kind"] == "harmful", "ratio"].iloc[0] > 5  # ten times the persons, deterred
