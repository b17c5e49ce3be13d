"""Tests of engine.stages.warnings: warnings on the spot raise perceived risk and write no record."""

from __future__ import annotations

import copy
import math

import numpy as np
import pandas as pd

from socialcredit import rng
from tests.conftest import base_rulebook, run, run_stepwise

COVERAGE, WEIGHT = 0.3, 0.5


def with_warnings(data: dict, coverage: float = COVERAGE, weight: float = WEIGHT) -> dict:
    """A copy of ``data`` with warnings on."""
    return {**copy.deepcopy(data), "institutions": {"warnings": {"coverage": coverage, "weight": weight, "assumed": "test"}}}


def test_off_by_default_and_at_zero_coverage() -> None:
    _, off = run(base_rulebook(days=30))
    _, zero = run(with_warnings(base_rulebook(days=30), coverage=0.0))
    pd.testing.assert_frame_equal(off.daily, zero.daily, check_exact=True)


def test_warnings_move_no_points_and_write_no_record() -> None:
    """Without deterrence, warnings change the perceived risk and nothing else (same seed, on and off)."""
    data = base_rulebook(days=40)
    data["responses"] = {"deterrence": {"elasticity": 0.0, "half_life": 20}}
    _, off = run(data)
    _, on = run(with_warnings(data))
    risk = [c for c in off.daily.columns if c.startswith("risk")]
    assert risk
    pd.testing.assert_frame_equal(off.daily.drop(columns=risk), on.daily.drop(columns=risk), check_exact=True)
    pd.testing.assert_frame_equal(off.behaviours, on.behaviours, check_exact=True)
    everyone_on, everyone_off = on.daily[on.daily["breakdown"] == "all"], off.daily[off.daily["breakdown"] == "all"]
    assert (everyone_on[risk[0]].to_numpy() >= everyone_off[risk[0]].to_numpy()).all()
    assert everyone_on[risk[0]].iloc[-1] > everyone_off[risk[0]].iloc[-1] + 0.1


def test_a_share_coverage_of_harmful_acts_is_warned() -> None:
    """Warned / harmful acts is Binomial(harmful acts, coverage) / harmful acts: within 4 standard errors."""
    data = with_warnings(base_rulebook(persons=4000, days=30))
    counts = {"harmful": 0, "warned": 0}

    def after(sim, day: int) -> None:
        harmful = sim.plan.behaviours.harmful[sim.state.event]
        u = rng.uniforms(rng.key(sim.plan.seed, "warnings", day), sim.state.n)
        warned = harmful & (u < COVERAGE)
        counts["harmful"] += int(harmful.sum())
        counts["warned"] += int(warned.sum())

    run_stepwise(data, after=after)
    h, w = counts["harmful"], counts["warned"]
    assert h > 1500
    assert abs(w / h - COVERAGE) < 4 * math.sqrt(COVERAGE * (1 - COVERAGE) / h)


def test_perceived_risk_follows_the_warnings_exactly() -> None:
    """Per person, risk_on - risk_off = WEIGHT * sum over days of warned(t) * f**(T-1-t), f the daily decay.

    Deterrence is on (so the perceived risk decays) but no behaviour responds to it, so both runs draw the
    same acts and the same records: the whole difference is the warnings.
    """
    data = base_rulebook(persons=1500, days=25)
    for b in data["behaviours"]:
        b["responses"] = []
    data["responses"] = {"deterrence": {"elasticity": 1.0, "half_life": 10}}
    f = 0.5 ** (1 / 10)
    extra = np.zeros(1500)

    def after(sim, day: int) -> None:
        harmful = sim.plan.behaviours.harmful[sim.state.event]
        u = rng.uniforms(rng.key(sim.plan.seed, "warnings", day), sim.state.n)
        extra[:] = extra * f + WEIGHT * (harmful & (u < COVERAGE))

    sim_on, _ = run_stepwise(with_warnings(data), after=after)
    sim_off, _ = run(data)
    got = sim_on.state.risk.astype(np.float64) - sim_off.state.risk.astype(np.float64)
    assert extra.max() > 0.8 and (extra > 0).sum() > 100
    np.testing.assert_allclose(got, extra, atol=1e-4)  # float32 risk: rounding only


def test_under_deterrence_warnings_cut_harmful_acts() -> None:
    data = base_rulebook(persons=3000, days=90)
    data["responses"] = {"deterrence": {"elasticity": 2.0, "half_life": 60}}
    _, off = run(data)
    _, on = run(with_warnings(data, coverage=0.5, weight=1.0))
    harmful = ["littering", "fraud"]

    def acts(res) -> int:
        b = res.behaviours
        return int(b[b["behaviour"].isin(harmful) & (b["breakdown"] == "all")]["events"].sum())

    assert acts(on) < 0.97 * acts(off)
