"""Tests of experiments.sensitivity: factors, default (assumed) factors, SALib sampling and analysis."""

from __future__ import annotations

import numpy as np
import pytest

from socialcredit.errors import InputError, SocialCreditError
from socialcredit.experiments.sensitivity import (
    DUMMY,
    Factor,
    analyse,
    assumed_factors,
    check_factors,
    parse_factor,
    points,
    problem,
    sample,
)


def test_parse_factor_and_its_errors() -> None:
    assert parse_factor("responses.deterrence.elasticity=0:2") == Factor("responses.deterrence.elasticity", 0.0, 2.0)
    for bad in ("x", "x=1", "x=a:b", "x=2:1", "x=1:nan"):
        with pytest.raises(InputError):
            parse_factor(bad)


def test_check_factors_refuses_unknown_keys_and_ranges_outside_the_schema() -> None:
    ok = check_factors("smalltown", [], [Factor("institutions.shaming.probability", 0.0, 0.5)])
    assert ok[0].value == pytest.approx(0.0) or ok[0].value is not None
    with pytest.raises(SocialCreditError):
        check_factors("smalltown", [], [Factor("institutions.shaming.probabilty", 0.0, 0.5)])
    with pytest.raises(SocialCreditError, match="shaming.probability"):
        check_factors("smalltown", [], [Factor("institutions.shaming.probability", 0.0, 1.5)])


def test_assumed_factors_take_the_named_numbers_of_sourced_items() -> None:
    factors, notes = assumed_factors("rongcheng")
    keys = {f.key for f in factors}
    assert "behaviours.traffic_ticket.rate" in keys  # source: fp2018, assumed: rate
    assert "behaviours.traffic_ticket.points" not in keys  # the points are the source's
    assert "population.network.mean_degree" in keys  # assumed, no source
    assert not any(k.endswith(".share") for k in keys)  # shares add up to 1: never varied alone
    assert all(f.low < f.value < f.high or f.value == f.high for f in factors)
    assert any("refused" in n for n in notes)  # tier minimums cannot move alone


def test_a_measure_of_one_factor_has_total_index_one_and_the_dummy_none() -> None:
    """Sobol indices of y = x0 (linear in the first factor only): ST(x0) = 1, others and the dummy ~ 0 (tolerance 0.05)."""
    factors = [Factor("a", 0.0, 1.0), Factor("b", 0.0, 1.0), Factor("c", 10.0, 20.0)]
    prob = problem(factors)
    design = sample("sobol", prob, 512, seed=3)
    assert design.shape == (512 * (len(factors) + 1 + 2), len(factors) + 1)
    y = 3.0 * design[:, 0]
    df = analyse("sobol", prob, design, y, seed=3).set_index("factor")
    assert df.loc["a", "ST"] == pytest.approx(1.0, abs=0.05) and df.loc["a", "S1"] == pytest.approx(1.0, abs=0.05)
    for name in ("b", "c", DUMMY):
        assert abs(df.loc[name, "ST"]) < 0.05
    assert df.index[0] == "a"
    sweep = points(factors, design)
    assert list(sweep) == ["a", "b", "c"] and len(sweep["a"]) == design.shape[0]  # the dummy column is not run


def test_morris_ranks_the_driver_first() -> None:
    factors = [Factor("a", 0.0, 1.0), Factor("b", 0.0, 1.0)]
    prob = problem(factors)
    design = sample("morris", prob, 40, seed=1)
    y = np.sin(3 * design[:, 1]) + 0.01 * design[:, 0]
    df = analyse("morris", prob, design, y, seed=1)
    assert df["factor"].iloc[0] == "b" and df.set_index("factor").loc[DUMMY, "mu_star"] < 1e-9


def test_the_command_finds_the_one_factor_a_measure_depends_on(tmp_path) -> None:
    """Sobol on the simulator, on a rulebook where false records depend on one factor only.

    Without deterrence or a social score, shaming changes friendships and nothing that makes records, so under
    common random numbers records_false is a function of the false-attribution rate alone: its total index is
    1 (estimated within 0.25 from 32 base points) and shaming's and the dummy's are exactly 0 (within 1e-9).
    """
    import json

    from socialcredit.rulebook.document import dump_yaml
    from tests.conftest import base_rulebook
    from tests.experiments.conftest import cli

    rulebook = tmp_path / "one_factor.yaml"
    rulebook.write_text(dump_yaml(base_rulebook(persons=1000, days=20)), encoding="utf-8")
    out = tmp_path / "sens"
    done = cli("sensitivity", str(rulebook), "--method", "sobol", "--param", "detection.channels.camera.false_attribution=0:0.2",
               "--param", "institutions.shaming.probability=0:0.5", "--measure", "records_false", "--samples", "32",
               "--seeds", "1", "--workers", "2", "--out", str(out), "--json")  # fmt: skip
    assert done.returncode == 0, done.stderr[-3000:]
    rows = {r["factor"]: r for r in json.loads(done.stdout)["indices"]}
    assert rows["detection.channels.camera.false_attribution"]["ST"] == pytest.approx(1.0, abs=0.25)
    assert abs(rows["institutions.shaming.probability"]["ST"]) < 1e-9 and abs(rows[DUMMY]["ST"]) < 1e-9
    import duckdb

    con = duckdb.connect(str(out / "results.duckdb"), read_only=True)
    try:
        stored = con.execute("SELECT count(*) FROM sensitivity").fetchone()[0]
        design = con.execute("SELECT count(*) FROM sensitivity_design").fetchone()[0]
    finally:
        con.close()
    assert stored == 3 and design == 32 * (3 + 2)  # Saltelli without second order: N (D + 2), D = 2 factors + the dummy
    about = json.loads((out / "sensitivity.json").read_text())
    assert about["method"] == "sobol" and about["not_varied"] == []
    assert [f["key"] for f in about["factors"]] == ["detection.channels.camera.false_attribution", "institutions.shaming.probability"]


def test_bad_factors_exit_2_and_write_nothing(tmp_path) -> None:
    from tests.experiments.conftest import cli

    for args, text in ((["--param", "behaviours.jaywalkin.rate=1:10"], "no number at behaviours.jaywalkin.rate"),
                       (["--param", "institutions.shaming.probability=0:1.5"], "out of range"),
                       (["--param", "x=2:1"], "LO must be a finite number below HI"),
                       (["--method", "fast"], "allowed: morris, sobol")):  # fmt: skip
        done = cli("sensitivity", "smalltown", *args, "--out", str(tmp_path / "never"))
        assert done.returncode == 2 and text in done.stderr and "Traceback" not in done.stderr, done.stderr
    assert not (tmp_path / "never").exists()


def test_a_declared_range_beside_the_reason_is_the_factor_range(tmp_path) -> None:
    """``assumed: {reason, range}`` gives the range; a plain reason keeps the default (value x 0.5 to 1.5)."""
    from socialcredit.rulebook import resolve

    text = resolve("smalltown").read_text(encoding="utf-8")
    old = "assumed: cameras at crossings; a small deduction}"
    assert old in text
    path = tmp_path / "ranged.yaml"
    path.write_text(text.replace(old, "assumed: {reason: cameras at crossings, range: {rate: [1, 9]}}}"), encoding="utf-8")
    factors = {f.key: f for f in assumed_factors(str(path))[0]}
    f = factors["behaviours.jaywalking.rate"]
    assert (f.low, f.high, f.origin) == (1.0, 9.0, "assumed range")
    assert factors["behaviours.jaywalking.points"].low == pytest.approx(-3.0)  # still the default range
    plain = {f.key: f for f in assumed_factors("smalltown")[0]}
    assert (plain["behaviours.jaywalking.rate"].low, plain["behaviours.jaywalking.rate"].high) == (1.5, 4.5)


@pytest.mark.parametrize(
    "note, message",
    [
        ("{reason: x, range: [1, 5]}", "[low, high] is for an item with one number; this one has 3"),
        ("{reason: x, range: {rat: [1, 5]}}", "'rat' is not a number of this item"),
        ("{reason: x, range: {rate: [5, 1]}}", "the low end must be below the high end"),
        ("{range: {rate: [1, 5]}}", "reason"),
    ],
)
def test_a_bad_declared_range_is_a_located_error(tmp_path, note: str, message: str) -> None:
    from socialcredit.rulebook import load_rulebook, resolve

    text = resolve("smalltown").read_text(encoding="utf-8").replace("assumed: cameras at crossings; a small deduction}", f"assumed: {note}}}")
    path = tmp_path / "bad.yaml"
    path.write_text(text, encoding="utf-8")
    with pytest.raises(SocialCreditError) as info:
        load_rulebook(str(path))
    assert message in str(info.value) and "bad.yaml:55:" in str(info.value) and "behaviours[jaywalking].assumed" in str(info.value)


def test_the_seed_noise_row_is_the_mu_star_of_pure_noise() -> None:
    """Morris on a measure that is independent noise of standard error 1 at every point: every factor's mu*
    is the closed form sqrt(2/pi) x sqrt(2) / delta (delta = 2/3 at 4 levels) = 1.693, within 5% at 4,000
    trajectories (seed 7), and seed_noise gives that closed form."""
    from socialcredit.experiments.sensitivity import NOISE, seed_noise

    factors = [Factor("a", 0.0, 1.0), Factor("b", 0.0, 1.0)]
    prob = problem(factors)
    design = sample("morris", prob, 4000, seed=7)
    y = np.random.default_rng(7).standard_normal(design.shape[0])
    df = analyse("morris", prob, design, y, seed=7)
    row = seed_noise("morris", y, np.ones(design.shape[0]))
    assert row["factor"] == NOISE and row["mu_star"] == pytest.approx(np.sqrt(2 / np.pi) * np.sqrt(2) * 1.5)
    assert df["mu_star"].to_numpy() == pytest.approx(np.full(3, row["mu_star"]), rel=0.05)
    # Sobol: the share of the variance that is noise
    share = seed_noise("sobol", np.array([0.0, 2.0, 0.0, 2.0]), np.full(4, 0.5))["ST"]
    assert share == pytest.approx(0.25 / 1.0)
