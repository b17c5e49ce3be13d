"""The dashboard's levers: generated from any rulebook, valid at both ends of their range, each with its basis."""

from __future__ import annotations

import pytest

from socialcredit.dashboard.levers import MAX_PERSONS, RUN_KEYS, as_overrides, changes, levers
from socialcredit.rulebook import load_rulebook, scenario_names


@pytest.mark.parametrize("name", scenario_names())
def test_every_lever_is_valid_at_both_ends_of_its_range(name: str) -> None:
    all_levers = levers(load_rulebook(name))
    assert {lv.key for lv in all_levers} >= {"population.persons", "simulation.days", "institutions.transparency"}
    # tier thresholds must stay in order, so they move one at a time; everything else moves together
    together = [lv for lv in all_levers if lv.kind != "choice" and not lv.key.startswith("tiers.")]
    for end in ("low", "high"):
        load_rulebook(name, as_overrides({lv.key: getattr(lv, end) if lv.kind == "number" else int(getattr(lv, end)) for lv in together}))
    for lv in all_levers:
        if lv.kind == "choice":
            for choice in lv.choices:
                load_rulebook(name, [f"{lv.key}={choice}"])
        assert lv.low <= (lv.value if lv.kind != "choice" else lv.low) <= lv.high


def test_levers_cover_what_people_argue_about_and_say_where_each_value_comes_from() -> None:
    by_key = {lv.key: lv for lv in levers(load_rulebook("smalltown"))}
    for region in ("old_town", "new_district", "villages"):
        assert f"detection.channels.camera.coverage.{region}" in by_key
    assert by_key["population.groups.minority.misidentification"].value == 10
    assert by_key["population.groups.minority.misidentification"].help().startswith("source: nist8280: NIST")
    assert by_key["detection.channels.camera.coverage.villages"].help().startswith("assumed: coverage by district density")
    assert by_key["institutions.appeals.probability"].help() == "not set in the rulebook: the model's default"
    assert by_key["behaviours.drunk_driving.points"].value == -160
    assert by_key["lists.blacklist.min_days"].value == 180 and by_key["tiers.C.min"].value == 600
    for key in ("responses.unfriending.probability", "institutions.shaming.probability", "institutions.appeals.success_false"):
        assert key in by_key


def test_the_population_is_capped_so_that_a_run_stays_interactive() -> None:
    persons = {lv.key: lv for lv in levers(load_rulebook("national-blacklist"))}["population.persons"]
    assert persons.rulebook_value == load_rulebook("national-blacklist").rulebook.population.persons > MAX_PERSONS
    assert persons.value <= persons.high == MAX_PERSONS


def test_changes_are_the_moved_rule_levers_only() -> None:
    all_levers = levers(load_rulebook("smalltown"))
    values = {lv.key: lv.value for lv in all_levers}
    assert changes(all_levers, values) == {}
    values.update({"population.persons": 1000, "simulation.days": 30, "institutions.transparency": "secret",
                   "detection.channels.camera.coverage.villages": 0.9})  # fmt: skip
    assert changes(all_levers, values) == {"institutions.transparency": "secret", "detection.channels.camera.coverage.villages": 0.9}
    assert not set(changes(all_levers, values)) & set(RUN_KEYS)


def test_power_and_time_levers_appear_only_with_their_mechanisms() -> None:
    """Surveillance that follows its findings, faults and enrolment get levers; a timeline's later change is named."""
    power = {name: {lv.key: lv for lv in levers(load_rulebook(name)) if lv.section == "Power and time"}
             for name in ("smalltown", "runaway-surveillance", "it-fault", "mandatory-2020")}  # fmt: skip
    assert power["smalltown"] == {}
    ff = "detection.channels.patrol.follows_findings"
    assert power["runaway-surveillance"][f"{ff}.sharpness"].value == 2.0
    assert power["runaway-surveillance"][f"{ff}.per_coverage"].choices == ("false", "true")
    assert power["it-fault"]["faults.0.share"].value == 0.05 and power["it-fault"]["faults.0.records"].value == 16
    share = power["mandatory-2020"]["enrolment.share.early_pilots"]
    assert share.value == 0.9 and "timeline sets it again from day 932" in share.help()
    damped = load_rulebook("runaway-surveillance", as_overrides({f"{ff}.uniform": 0.6, f"{ff}.per_coverage": "true"})).rulebook
    assert damped.detection.channels["patrol"].follows_findings.uniform == 0.6
    assert damped.detection.channels["patrol"].follows_findings.per_coverage is True


def test_households_work_and_credit_levers_appear_only_with_their_mechanisms() -> None:
    """Children, partnering, lending, company sanctions, emotion monitoring and the commercial score get levers in
    full-system; corporate-credit has only the sanctions'; smalltown none; moving one changes the rulebook."""
    work = {name: {lv.key: lv for lv in levers(load_rulebook(name)) if lv.section == "Households, work and credit"}
            for name in ("smalltown", "full-system", "corporate-credit")}  # fmt: skip
    assert work["smalltown"] == {}
    assert set(work["corporate-credit"]) == {"institutions.company_sanctions.layoffs", "institutions.company_sanctions.income_loss"}
    fs = work["full-system"]
    assert fs["lending.threshold"].value == 650 and fs["responses.partnering.assortativity"].value == 0.3
    assert fs["institutions.emotion_monitoring.false_positive"].value == 0.05 and fs["commercial.listed"].value == -150
    assert fs["population.children.share"].low > 0  # a service for children needs households with children
    moved = load_rulebook("full-system", as_overrides({"lending.threshold": 700, "commercial.listed": -50})).rulebook
    assert moved.lending.threshold == 700 and moved.commercial.listed == -50
