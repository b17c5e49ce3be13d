"""The report's sections for enrolment, faults, targeting and surveillance that follows its findings.

Each is in the report only when the run has the mechanism: a tiny run with
each one on shows its section (and no other mechanism's), and a run with
none shows none. (All four at once, the fault's cascade table and old run
folders: test_report_mechanisms_all.py.)
"""

from __future__ import annotations

import base64
import html
import json
from pathlib import Path
from typing import Any

import pytest

from socialcredit.report import write_report
from socialcredit.report.figures import FIGURES, MECHANISM_FIGURES, figures_for
from tests.conftest import base_rulebook, run
from tests.report.test_report import figures_in

PERSONS, DAYS, FAULT_DAY = 1000, 60, 20
MECHANISMS = [spec.name for spec in MECHANISM_FIGURES]
HEADINGS = {spec.name: spec.heading for spec in MECHANISM_FIGURES}


def with_faults(data: dict[str, Any]) -> None:
    data["faults"] = [{"day": FAULT_DAY, "behaviour": "fraud", "share": 0.1, "records": 2}]
    data["institutions"] = {"appeals": {"probability": 0.5, "success_false": 0.6, "delay": 20}}


def with_enrolment(data: dict[str, Any]) -> None:
    data["enrolment"] = {"share": {"north": 0.5, "south": 0.1}, "mandatory": 50}


def with_targeting(data: dict[str, Any]) -> None:
    data["targeting"] = [{"behaviour": "fraud", "where": "group == 'minority'", "rate": 4}]


def with_coverage(data: dict[str, Any]) -> None:
    data["detection"]["channels"]["camera"]["follows_findings"] = {"period": 7, "memory": 14, "sharpness": 2}


SWITCH = {"faults": with_faults, "enrolment": with_enrolment, "targeting": with_targeting, "coverage": with_coverage}


def rulebook(*mechanisms: str) -> dict[str, Any]:
    data = base_rulebook(persons=PERSONS, days=DAYS)
    for name in mechanisms:
        SWITCH[name](data)
    return data


def report_of(data: dict[str, Any], folder: Path):
    """Run the rulebook, save the run folder with its rulebook, write its report; (results, page)."""
    _, res = run(data)
    res.rulebook_yaml = json.dumps(data)  # JSON is YAML: the run folder keeps its rulebook, as sc.run's does
    res.save(str(folder))
    page = write_report(folder).read_text(encoding="utf-8")
    return res, page


def mechanism_sections(page: str) -> list[str]:
    return [name for name in figures_in(page) if name in MECHANISMS]


@pytest.mark.parametrize("mechanism", MECHANISMS)
def test_each_mechanism_alone_has_its_section_and_no_other(mechanism, tmp_path):
    res, page = report_of(rulebook(mechanism), tmp_path / "run")
    assert mechanism_sections(page) == [mechanism]
    shown = figures_in(page)
    assert shown[mechanism] is not None, f"{mechanism}: a note instead of the figure"
    assert f"<h2>{html.escape(HEADINGS[mechanism])}</h2>" in page
    assert f'<a href="#fig-{mechanism}">' in page
    png = (tmp_path / "run" / "figures" / f"{mechanism}.png").read_bytes()
    assert png[:8] == b"\x89PNG\r\n\x1a\n" and len(png) > 5_000
    assert base64.b64decode(shown[mechanism]) == png
    for other in set(MECHANISMS) - {mechanism}:
        assert not (tmp_path / "run" / "figures" / f"{other}.png").exists()
        assert f'id="fig-{other}"' not in page


def test_a_run_without_any_mechanism_has_none_of_their_sections(tmp_path):
    res, page = report_of(rulebook(), tmp_path / "run")
    assert figures_for(res) == FIGURES
    assert mechanism_sections(page) == []
    assert list(figures_in(page)) == [spec.name for spec in FIGURES]
    for name in MECHANISMS:
        assert f"fig-{name}" not in page
        assert html.escape(HEADINGS[name]) not in page
        assert not (tmp_path / "run" / "figures" / f"{name}.png").exists()
    assert '<table class="facts">' not in page
