"""The experiment file: validated like a rulebook (located messages, did-you-mean, exit 2, nothing written),
and expanded into runs: arms, grid, Latin hypercube and Sobol sweeps, seeds."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from socialcredit.errors import SocialCreditError
from socialcredit.experiments.spec import load_spec, plan_runs, spec_from_dict, sweep_points
from tests.experiments.conftest import cli
from tests.test_cli import call

GOOD = """\
name: camera
base: reference
persons: 2000
days: 30
seeds: 2
arms:
  - name: public
  - name: strict
    set: {lists.blacklist.min_days: 360}
sweep:
  design: grid
  parameters:
    detection.channels.camera.false_attribution: [0.001, 0.01]
"""


def spec_file(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "spec.yaml"
    path.write_text(text, encoding="utf-8")
    return path


def refused(tmp_path: Path, capsys, text: str, *needles: str) -> str:
    """Run the spec (the command line, in-process); it must fail with exit 2, no traceback, the given text,
    and no folder written."""
    out = tmp_path / "exp"
    code, _, err = call(["experiment", str(spec_file(tmp_path, text)), "--out", str(out)], capsys)
    assert code == 2, (code, err[-2000:])
    assert "Traceback" not in err
    for needle in needles:
        assert needle in err, (needle, err)
    assert not out.exists(), "a refused spec wrote something"
    return err


def test_a_good_spec_expands_into_arms_points_and_seeds(tmp_path: Path) -> None:
    plan = plan_runs(load_spec(spec_file(tmp_path, GOOD)))
    assert [r.run_id for r in plan.runs] == [f"{a}-p{p:03d}-s{s}" for a in ("public", "strict") for p in (0, 1) for s in (1, 2)]
    assert plan.parameters == ["detection.channels.camera.false_attribution"]
    assert [r.values for r in plan.runs[:4:2]] == [{"detection.channels.camera.false_attribution": v} for v in (0.001, 0.01)]
    assert all(r.rulebook_yaml and "min_days: 360" in r.rulebook_yaml for r in plan.runs if r.arm == "strict")
    assert len({r.fingerprint for r in plan.runs}) == 8
    # the seed is set per run, not in the rulebook text: seed s of every arm shares the rulebook's draws
    assert all("seed:" not in r.rulebook_yaml.split("simulation:")[1] for r in plan.runs)


@pytest.mark.parametrize(
    "edit, needles",
    [
        (("seeds: 2", "seedz: 2"), ["spec.yaml:5:1", "unknown key 'seedz'", "did you mean 'seeds'?"]),
        (("design: grid", "design: grdi"), ["spec.yaml:11:11", "grid", "lhs", "sobol"]),
        (("    set: {lists.blacklist.min_days: 360}", "    set: {lists.blacklist.min_dayz: 360}"),
         ["spec.yaml:9:11", "unknown key 'min_dayz'", "did you mean 'min_days'?"]),
        (("detection.channels.camera.false_attribution", "detection.channels.camra.false_attribution"),
         ["spec.yaml:13:5", "camra"]),
        (("[0.001, 0.01]", "[2, 3]"), ["spec.yaml:13:5", "out of range", "<= 1"]),
        (("persons: 2000", "persons: lots"), ["spec.yaml:3:10", "wrong type"]),
        (("base: reference", "base: refrence"), ["spec.yaml:2:7", "did you mean 'reference'?"]),
        (("  - name: strict", "  - name: public"), ["spec.yaml:8:11", "duplicate arm name 'public'"]),
    ],
)
def test_bad_specs_are_located_and_write_nothing(tmp_path: Path, capsys, edit: tuple[str, str], needles: list[str]) -> None:
    assert edit[0] in GOOD
    refused(tmp_path, capsys, GOOD.replace(edit[0], edit[1]), *needles)


def test_sweep_shape_errors(tmp_path: Path, capsys) -> None:
    sobol = GOOD.replace("design: grid", "design: sobol\n  points: 6").replace("[0.001, 0.01]", "{low: 0.001, high: 0.01}")
    refused(tmp_path, capsys, sobol, "spec.yaml:12:11", "power of two", "4 or 8")
    no_steps = GOOD.replace("[0.001, 0.01]", "{low: 0.001, high: 0.01}")
    refused(tmp_path, capsys, no_steps, "spec.yaml:13", "needs steps")
    backwards = GOOD.replace("[0.001, 0.01]", "{low: 0.01, high: 0.001, steps: 3}")
    refused(tmp_path, capsys, backwards, "spec.yaml:13", "high must be greater than low")
    lhs_values = GOOD.replace("design: grid", "design: lhs\n  points: 4")
    refused(tmp_path, capsys, lhs_values, "spec.yaml:14", "draws from a range")


def test_unknown_kept_measures_are_refused_with_a_suggestion(tmp_path: Path, capsys) -> None:
    text = GOOD + "measures:\n  summary: [blacklisted, score_maen]\n"
    refused(tmp_path, capsys, text, "spec.yaml:15:26", "unknown summary measure 'score_maen'", "did you mean 'score_mean'?")
    text = GOOD + "measures:\n  daily: [blacklistd]\n"
    refused(tmp_path, capsys, text, "spec.yaml:15:11", "unknown daily measure", "did you mean 'blacklisted'?")


def test_not_a_spec_file(tmp_path: Path, capsys) -> None:
    refused(tmp_path, capsys, "- just\n- a list\n", "spec.yaml:1:1", "mapping")
    code, _, err = call(["experiment", str(tmp_path / "missing.yaml")], capsys)
    assert code == 2 and "not found" in err and "Traceback" not in err


def test_points_failing_only_somewhere_are_recorded_not_fatal(tmp_path: Path) -> None:
    """A sweep whose range leaves the allowed values at some points: those runs fail with the message, the others run."""
    text = GOOD.replace("[0.001, 0.01]", "[0.01, 1.5]").replace("seeds: 2", "seeds: 1")
    plan = plan_runs(load_spec(spec_file(tmp_path, text)))
    bad = [r for r in plan.runs if r.error]
    assert [r.run_id for r in bad] == ["public-p001-s1", "strict-p001-s1"]
    assert "out of range" in bad[0].error and "spec.yaml:13:5" in bad[0].error
    done = cli("experiment", str(tmp_path / "spec.yaml"), "--out", str(tmp_path / "exp"), "--workers", "1", "--json")
    assert done.returncode == 0, done.stderr[-2000:]
    status = cli("experiment", "status", str(tmp_path / "exp"), "--json")
    import json

    info = json.loads(status.stdout)
    assert (info["ok"], info["failed"], info["pending"]) == (2, 2, 0)
    assert {r["run_id"] for r in info["failed_runs"]} == {"public-p001-s1", "strict-p001-s1"}


def test_grid_lhs_and_sobol_designs() -> None:
    grid = spec_from_dict({"name": "g", "sweep": {"parameters": {"a.b": [1, 2, 3], "c.d": {"low": 1, "high": 100, "steps": 3, "log": True}}}})
    pts = sweep_points(grid.spec.sweep)
    assert len(pts) == 9 and pts[0] == {"a.b": 1, "c.d": 1.0} and pts[-1] == {"a.b": 3, "c.d": 100.0}
    assert sorted({p["c.d"] for p in pts}) == pytest.approx([1, 10, 100])
    # Latin hypercube: each parameter's n points fall one in each of n equal strata of its range
    lhs = spec_from_dict({"name": "l", "sweep": {"design": "lhs", "points": 20, "seed": 3,
                                                 "parameters": {"x": {"low": 0, "high": 2}, "y": {"low": 10, "high": 30}}}})  # fmt: skip
    pts = sweep_points(lhs.spec.sweep)
    for key, lo, hi in (("x", 0, 2), ("y", 10, 30)):
        strata = np.floor((np.array([p[key] for p in pts]) - lo) / (hi - lo) * 20).astype(int)
        assert sorted(strata) == list(range(20))
    assert pts == sweep_points(lhs.spec.sweep)  # the sampler's seed makes the design reproducible
    sobol = spec_from_dict({"name": "s", "sweep": {"design": "sobol", "points": 16,
                                                   "parameters": {"x": {"low": 0, "high": 1}, "n": {"low": 1, "high": 9, "integer": True}}}})  # fmt: skip
    pts = sweep_points(sobol.spec.sweep)
    xs = np.array([p["x"] for p in pts])
    assert len(pts) == 16 and xs.min() >= 0 and xs.max() <= 1
    # a scrambled Sobol sample of 16 points has exactly 2 points in each eighth of each axis
    assert np.bincount(np.floor(xs * 8).astype(int), minlength=8).tolist() == [2] * 8
    assert all(isinstance(p["n"], int) and 1 <= p["n"] <= 9 for p in pts)


def test_seeds_forms() -> None:
    assert spec_from_dict({"name": "a", "seeds": 3}).spec.seed_list() == [1, 2, 3]
    assert spec_from_dict({"name": "a", "seeds": {"first": 7, "count": 2}}).spec.seed_list() == [7, 8]
    assert spec_from_dict({"name": "a", "seeds": [4, 9]}).spec.seed_list() == [4, 9]
    for bad in (0, True, [], [1, 1], -2):
        with pytest.raises(SocialCreditError):
            spec_from_dict({"name": "a", "seeds": bad})


def test_run_seeds_option_errors(tmp_path: Path, capsys) -> None:
    code, _, err = call(["run", "reference", "--workers", "2", "--out", str(tmp_path / "x")], capsys)
    assert code == 2 and "--seeds" in err
    code, _, err = call(["run", "reference", "--seeds", "2", "--checkpoint-every", "5", "--out", str(tmp_path / "x")], capsys)
    assert code == 2 and "single run" in err
    code, _, err = call(["run", "reference", "--seeds", "2", "--set", "score.social.frends=0.1", "--out", str(tmp_path / "x")], capsys)
    assert code == 2 and "did you mean 'friends'?" in err and "Traceback" not in err
    assert "key '--set score.social.frends=0.1'" in err  # named as for a single run
    assert not (tmp_path / "x").exists()
