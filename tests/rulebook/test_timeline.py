"""Tests of rulebook.timeline: every dated change is checked like the rulebook, with errors at the change."""

from __future__ import annotations

from pathlib import Path

import pytest

from socialcredit.errors import ConditionError, RulebookError, RulebookErrors
from socialcredit.rulebook import load_rulebook, scenario_path
from socialcredit.rulebook.timeline import in_force

REFERENCE = Path(str(scenario_path("reference"))).read_text(encoding="utf-8")


def write(tmp_path: Path, timeline: str, extra: str = "") -> Path:
    path = tmp_path / "timeline.yaml"
    path.write_text(REFERENCE + extra + "timeline:\n" + timeline, encoding="utf-8")
    return path


def test_changes_accumulate_in_day_order(tmp_path: Path) -> None:
    path = write(tmp_path, "  - {day: 100, set: {detection.channels.camera.coverage: 0.3, services.flight.demand: 2}, assumed: t}\n"
                           "  - {day: 50, set: {tiers.A.min: 1010}, assumed: t}\n")  # fmt: skip
    rb = load_rulebook(path).rulebook
    days = [d for d, _ in rb._timeline]
    assert days == [50, 100]
    day50, day100 = rb._timeline[0][1], rb._timeline[1][1]
    assert day50.tiers[2].min == 1010 and day50.services[0].demand == rb.services[0].demand
    assert day100.tiers[2].min == 1010 and day100.services[0].demand == 2 and day100.detection.channels["camera"].coverage == 0.3
    assert rb.tiers[2].min == 960  # the rulebook itself is unchanged
    # without the document (a rulebook built in code) the same rulebooks come out
    again = in_force(rb)
    assert [d for d, _ in again] == days and again[1][1].services[0].demand == 2


def test_dates_count_from_simulation_start(tmp_path: Path) -> None:
    path = write(tmp_path, "  - {date: 2015-03-01, set: {score.initial: 990}, assumed: t}\n")
    path.write_text(path.read_text().replace("  audit_sample: 1000\n", "  audit_sample: 1000\n  start: 2015-01-01\n"))
    rb = load_rulebook(path).rulebook
    assert [d for d, _ in rb._timeline] == [59]


@pytest.mark.parametrize(
    "timeline, kind, words",
    [
        ("  - {day: 100, set: {detection.channels.camera.coverag: 0.3}, assumed: t}\n", RulebookErrors, ["unknown key 'coverag'", "did you mean 'coverage'"]),
        ("  - day: 100\n    set:\n      detection.channels.camera.coverage: 1.3\n    assumed: t\n", RulebookErrors,
         ["coverage must be between 0 and 1", "changed on day 100"]),
        ("  - {day: 100, set: {services.flights.demand: 1}, assumed: t}\n", RulebookError, ["no item named 'flights'", "did you mean 'flight'"]),
        ("  - {day: 100, set: {population.persons: 5}, assumed: t}\n", RulebookError, ["cannot change 'population'"]),
        ("  - {day: 100, set: {lists.blacklist: null}, assumed: t}\n", RulebookError, ["cannot change which lists exist"]),
        ("  - {date: 2020-01-01, set: {score.initial: 900}, assumed: t}\n", RulebookErrors, ["a date needs the calendar date of day 0"]),
        ("  - {day: 3, set: {services.flight.denied_when: 'tier < Q'}, assumed: t}\n", ConditionError, ["unknown name 'Q'"]),
        ("  - {day: 3, set: {tiers.A.min: 1100}, assumed: t}\n", RulebookErrors, ["each 'min' must be below the one before"]),
        ("  - {day: 3, set: {}, assumed: t}\n", RulebookErrors, ["timeline"]),
        ("  - {set: {score.initial: 900}, assumed: t}\n", RulebookErrors, ["exactly one of 'day'"]),
    ],
)
def test_a_bad_change_is_a_located_error(tmp_path: Path, timeline: str, kind: type, words: list[str]) -> None:
    path = write(tmp_path, timeline)
    with pytest.raises(kind) as info:
        load_rulebook(path)
    text = str(info.value)
    assert f"{path}:" in text and ":9" in text  # file and line (the timeline starts on line 96)
    for w in words:
        assert w in text
