"""Comparisons of two runs: side by side, the shared-design check, and paired differences under common random numbers."""

from __future__ import annotations

import dataclasses
import math

import numpy as np
import pytest

import socialcredit as sc
from socialcredit.analysis.compare import compare, design_differences, paired_differences, same_design
from socialcredit.errors import InputError
from tests.analysis.test_history import AUDITED_CITY

PERSONS, DAYS = 2000, 100


def _run(**settings):
    return sc.run(sc.load("smalltown", {**AUDITED_CITY, **settings}, persons=PERSONS, days=DAYS))


@pytest.fixture(scope="module")
def a():
    return _run()


@pytest.fixture(scope="module")
def b():
    """The same society and seed; twice the train demand (more denials of listed persons)."""
    return _run(**{"services.train.demand": 6})


@pytest.fixture(scope="module")
def other_seed():
    return _run(**{"simulation.seed": 2})


def test_a_run_against_itself_differs_by_nothing(a) -> None:
    table = compare(a, a)
    assert table.attrs["same_design"] and table.attrs["design_differences"] == []
    numbers = table.dropna(subset=["a"])
    assert (numbers["difference"] == 0).all()
    nonzero = numbers[numbers["a"] != 0]
    assert (nonzero["ratio"] == 1).all() and len(nonzero) > 20
    paired = paired_differences(a, a)
    assert (paired["mean_difference"] == 0).all() and (paired["se_paired"] == 0).all()
    assert paired.set_index("measure").loc["blacklisted", "se_unpaired"] > 0  # the list grows: days differ from each other


def test_side_by_side_values_are_the_summaries(a, b) -> None:
    table = compare(a, b).set_index("measure")
    sa, sb = a.summary(), b.summary()
    for measure, va, vb in (
        ("train.attempts", sa["services"]["train"]["attempts"], sb["services"]["train"]["attempts"]),
        ("train.denied", sa["services"]["train"]["denied"], sb["services"]["train"]["denied"]),
        ("blacklisted", sa["blacklisted"], sb["blacklisted"]),
        ("records_false", sa["records_false"], sb["records_false"]),
        ("share_C", sa["tier_shares"]["C"], sb["tier_shares"]["C"]),
    ):
        assert table.loc[measure, "a"] == va and table.loc[measure, "b"] == vb, measure
        assert table.loc[measure, "difference"] == pytest.approx(vb - va)
        assert table.loc[measure, "ratio"] == pytest.approx(vb / va), measure
    # twice the demand, twice the attempts: Poisson counts of about 1,650 and 3,300 give the ratio an sd of
    # about 3% even if the runs shared no draws; 10% is over three of them
    assert table.loc["train.attempts", "ratio"] == pytest.approx(2.0, rel=0.1)


def test_paired_standard_errors_are_smaller_than_unpaired_under_common_random_numbers(a, b) -> None:
    """Stated: with the same seed the two runs share every draw the train demand does not touch, so day-by-day
    differences vary far less than the days themselves, and the paired SE is below the unpaired one."""
    assert same_design(a, b)
    paired = paired_differences(a, b).set_index("measure")
    for measure in ("score_mean", "blacklisted", "denials", "train.denied", "score_end"):
        row = paired.loc[measure]
        assert row["se_paired"] < row["se_unpaired"], (measure, row["se_paired"], row["se_unpaired"])
    assert paired.loc["train.denied", "mean_difference"] > 3 * paired.loc["train.denied", "se_paired"]  # more demand, more denials
    assert paired.loc["score_end", "unit"] == "per person" and paired.loc["score_end", "n"] == 1000
    assert paired.loc["blacklisted", "unit"] == "per day" and paired.loc["blacklisted", "n"] == DAYS


def test_paired_differences_equal_their_definition(a, b) -> None:
    paired = paired_differences(a, b).set_index("measure")
    for measure in ("blacklisted", "score_mean", "records_false"):
        x = a.to_df()[measure].to_numpy(float)
        y = b.to_df()[measure].to_numpy(float)
        d = y - x
        assert paired.loc[measure, "mean_difference"] == pytest.approx(d.mean(), abs=1e-12)
        assert paired.loc[measure, "se_paired"] == pytest.approx(d.std(ddof=1) / math.sqrt(DAYS), abs=1e-12)
        assert paired.loc[measure, "se_unpaired"] == pytest.approx(math.sqrt((x.var(ddof=1) + y.var(ddof=1)) / DAYS), abs=1e-12)
    # the train's daily denials from the services table: the total difference over the run, per day
    sa, sb = a.summary()["services"]["train"]["denied"], b.summary()["services"]["train"]["denied"]
    assert paired.loc["train.denied", "mean_difference"] == pytest.approx((sb - sa) / DAYS, abs=1e-12)
    ends = a.audit_persons.merge(b.audit_persons, on="person")
    d = (ends["score_end_y"] - ends["score_end_x"]).to_numpy()
    assert paired.loc["score_end", "mean_difference"] == pytest.approx(d.mean(), abs=1e-12)


def test_another_seed_is_another_design(a, other_seed) -> None:
    assert not same_design(a, other_seed)
    assert design_differences(a, other_seed) == ["seed differs (1 vs 2)"]
    table = compare(a, other_seed)
    assert not table.attrs["same_design"] and len(table) > 20
    with pytest.raises(InputError, match=r"same seed, persons and population: seed differs \(1 vs 2\)"):
        paired_differences(a, other_seed)


def test_the_population_section_decides_the_design_but_source_notes_do_not(a) -> None:
    text = a.rulebook_yaml
    assert "  network:\n    generator: small_world\n    mean_degree: 12\n" in text
    denser = dataclasses.replace(a, rulebook_yaml=text.replace("    mean_degree: 12\n", "    mean_degree: 14\n", 1))
    assert design_differences(a, denser) == ["the population section differs (population.network.mean_degree)"]
    note = "    assumed: friends mostly in one's own district\n"
    assert note in text
    noted = dataclasses.replace(a, rulebook_yaml=text.replace(note, "    assumed: a different note\n    source: a survey\n", 1))
    assert noted.rulebook_yaml != text and same_design(a, noted)
    bigger = dataclasses.replace(a, meta={**a.meta, "persons": 4000})
    assert design_differences(a, bigger) == ["persons differ (2,000 vs 4,000)"]
    unknown = dataclasses.replace(a, rulebook_yaml=None)
    assert design_differences(a, unknown) == ["the population section cannot be compared: run B has no rulebook"]


def test_measures_missing_from_one_run(a) -> None:
    """Counts of institutions are 0 where nothing happened; a measure a run lacks is NaN on its side."""
    no_appeals = dataclasses.replace(a, daily=a.daily.assign(appeals_filed=0))
    assert "appeals_filed" not in no_appeals.summary().get("institutions_and_responses", {})
    table = compare(no_appeals, a).set_index("measure")
    filed = a.summary()["institutions_and_responses"]["appeals_filed"]
    assert table.loc["appeals_filed", "a"] == 0 and table.loc["appeals_filed", "b"] == filed > 0
    meta = {**a.meta, "services": a.meta["services"][:-1], "service_kinds": a.meta["service_kinds"][:-1]}
    fewer_services = dataclasses.replace(a, meta=meta)
    table = compare(fewer_services, a).set_index("measure")
    assert np.isnan(table.loc["deposit_free_bike.attempts", "a"]) and table.loc["deposit_free_bike.attempts", "b"] > 0
    assert np.isnan(table.loc["deposit_free_bike.attempts", "difference"])


def test_misidentification_weights_change_no_draw_of_the_society() -> None:
    """Stated: a group's misidentification weight is read at detection only (who a false match names), so two runs
    that differ only there build the same persons and network and share their design."""
    a = sc.run("smalltown", persons=3000, days=30, seed=4)
    b = sc.run("smalltown", persons=3000, days=30, seed=4, **{"population.groups.minority.misidentification": 50})
    assert same_design(a, b) and design_differences(a, b) == []
    cols = ["person", "region", "group", "income", "friends_start"]
    assert a.audit_persons[cols].equals(b.audit_persons[cols])
    assert a.summary()["records_false"] == b.summary()["records_false"]  # as many false records, on other persons
