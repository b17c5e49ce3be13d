"""The rulebook schema's cross-checks, each located at the offending key."""

from __future__ import annotations

import copy

import pytest

from socialcredit.errors import RulebookErrors
from socialcredit.rulebook.document import dump_yaml, parse_document
from socialcredit.rulebook.schema import Rulebook
from socialcredit.rulebook.validation import validate
from tests.conftest import base_rulebook


def check(data: dict, *needles: str) -> None:
    doc = parse_document(dump_yaml(data), "city.yaml")
    with pytest.raises(RulebookErrors) as info:
        validate(Rulebook, doc)
    text = str(info.value)
    for needle in needles:
        assert needle in text, (needle, text)


EMOTION = {"companies": 0.5, "prevalence": 0.02, "sensitivity": 0.7, "false_positive": 0.05}
LENDING = {"demand": 1, "threshold": 950, "midpoint": 950, "scale": 30, "repaid": "volunteering", "defaulted": "fraud"}


def test_the_base_rulebook_is_valid() -> None:
    rb = validate(Rulebook, parse_document(dump_yaml(base_rulebook()), "city.yaml"))
    assert rb.tier_names == ["A", "B", "C", "D"]


@pytest.mark.parametrize(
    "edit, needles",
    [
        (lambda d: d["behaviours"][0].update(channel="drone"), ["behaviours[littering].channel", "unknown detection channel 'drone'", "camera, records"]),
        (lambda d: d["behaviours"][0].update(actor="corporation"), ["behaviours[littering].actor", "'company'"]),
        (lambda d: d["behaviours"][0].update(actor="company"), ["population.companies.count", "need companies"]),
        (lambda d: d["population"]["regions"][0].update(share=0.9), ["population.regions", "add up to 1"]),
        (lambda d: d["tiers"][-1].update(min=100), ["tiers[D].min", "omit its 'min'"]),
        (lambda d: d["tiers"][1].update(min=1200), ["tiers[B].min", "best first"]),
        (lambda d: d["score"].update(initial=5000), ["score.initial", "within the bounds"]),
        (lambda d: d["services"][0].update(granted_when="true"), ["services[flight]", "exactly one"]),
        (lambda d: d["behaviours"][0].update(source="nope"), ["behaviours[littering].source", "unknown source id 'nope'"]),
        (lambda d: d["meta"].update(sources=[{"id": "a", "title": "x"}, {"id": "a", "title": "y"}]), ["duplicate source id 'a'"]),
        (lambda d: d["detection"]["channels"]["camera"].update(coverage={"north": 0.5}), ["coverage", "south"]),
        (lambda d: d["behaviours"].append(copy.deepcopy(d["behaviours"][0])), ["duplicate behaviour name 'littering'"]),
        (lambda d: d["score"]["social"].update(friends=0.7, partner=0.5), ["social", "add up to 1.2"]),
        (lambda d: d["population"]["groups"][1].update(misidentification=1000), ["misidentification", "<= 100"]),
        (lambda d: d.update(lending=LENDING | {"repaid": "repay"}), ["lending.repaid", "unknown person behaviour 'repay'"]),
        (lambda d: d.update(lending=LENDING | {"thresholds": {"minorty": 900}}), ["lending.thresholds.minorty", "unknown group"]),
        (lambda d: d["services"][0].update(applies_to="children"), ["services[flight].applies_to", "households with children"]),
        (lambda d: d.update(institutions={"company_sanctions": {"loans": 0.2}}), ["institutions.company_sanctions", "need a company blacklist"]),
        (lambda d: d.update(institutions={"emotion_monitoring": EMOTION}), ["institutions.emotion_monitoring", "needs companies"]),
        (lambda d: d["population"].update(companies={"count": 5}) or d.update(institutions={"emotion_monitoring": EMOTION | {"record": "anger"}}),
         ["institutions.emotion_monitoring.record", "unknown person behaviour 'anger'"]),
        (lambda d: d["population"].update(companies={"count": 5}) or d.update(institutions={"emotion_monitoring": EMOTION | {"stress": 0.5}}),
         ["institutions.emotion_monitoring.stress", "only when stress is recorded"]),
        (lambda d: d.update(lending=LENDING | {"source": "nosuch"}), ["lending.source", "unknown source id 'nosuch'"]),
        (lambda d: d.update(lending=LENDING | {"scale": 0}), ["lending.scale", "out of range", "> 0"]),
    ],
)
def test_cross_checks_name_the_key(edit, needles) -> None:
    data = base_rulebook()
    edit(data)
    check(data, *needles)
