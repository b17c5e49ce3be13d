"""The report of a run with every mechanism on (enrolment, faults, targeting, surveillance following its findings),
the fault's cascade table and figure, and a run folder written before the mechanisms existed (no coverage table,
no ``enrolled`` column): its report has none of their sections, and no error."""

from __future__ import annotations

import html
from dataclasses import replace

import matplotlib
import numpy as np
import pytest

from socialcredit.report import write_report
from socialcredit.report.figures import FIGURES, STYLE, faults, figures_for
from tests.report import old_folder
from tests.conftest import run
from tests.report.test_report import figures_in
from tests.report.test_report_mechanisms import FAULT_DAY, MECHANISMS, mechanism_sections, report_of, rulebook


@pytest.fixture(scope="module")
def everything(tmp_path_factory):
    folder = tmp_path_factory.mktemp("mechanisms") / "all"
    res, page = report_of(rulebook(*MECHANISMS), folder)
    return folder, res, page


def test_a_run_with_every_mechanism_shows_all_four_after_the_others(everything):
    folder, res, page = everything
    assert list(figures_in(page)) == [spec.name for spec in FIGURES] + MECHANISMS
    for name in MECHANISMS:
        assert (folder / "figures" / f"{name}.png").exists()
    assert res.coverage is not None and len(res.coverage)


def test_the_fault_section_has_the_cascade_table(everything):
    _, res, page = everything
    section = page.split('<section id="fig-faults">', 1)[1].split("</section>", 1)[0]
    assert '<table class="facts">' in section
    assert f"<th>fault of day {FAULT_DAY}</th>" in section
    written = int(res.to_df("daily")["records_fault"].sum())
    assert written > 0
    assert f'<td>false records written</td><td class="num">{written:,}</td>' in section
    for label in ("peak rise of those", "wrongful denials in the 30 days from the fault", "false records overturned on appeal",
                  "days from the fault until the rise is below half of its peak"):  # fmt: skip
        assert html.escape(label) in section
    # the 90 and 180 days after day 20 reach past this 60-day run
    assert "the run ends first" in section


def test_the_fault_figure_marks_the_fault_day_in_every_panel(everything):
    _, res, _ = everything
    with matplotlib.rc_context(STYLE):
        fig = faults(res)
    assert len(fig.axes) == 4
    for ax in fig.axes:
        vertical = [line for line in ax.get_lines() if np.allclose(line.get_xdata(), FAULT_DAY)]
        assert vertical, ax.get_title()


def test_an_old_run_folder_without_the_new_data_gets_its_report_without_them(everything, tmp_path):
    """A folder from before the mechanisms: no coverage table and no enrolled, records_fault or records_targeted."""
    folder, _, _ = everything
    old = old_folder(folder, tmp_path / "old", ("enrolled", "records_fault", "records_targeted"), tables=("coverage",))
    page = write_report(old).read_text(encoding="utf-8")
    assert mechanism_sections(page) == []
    assert list(figures_in(page)) == [spec.name for spec in FIGURES]
    assert sorted(p.stem for p in (old / "figures").iterdir()) == sorted(
        name for name, png in figures_in(page).items() if png)  # fmt: skip


def test_without_a_readable_rulebook_the_data_decide(everything):
    """Results that carry no rulebook (from Sim.run), or one this version cannot read: the data say which mechanisms ran."""
    _, res, _ = everything
    for text in (None, "meta: {name: old}\n"):
        bare = replace(res, rulebook_yaml=text)
        assert [spec.name for spec in figures_for(bare)] == [spec.name for spec in FIGURES] + MECHANISMS
    _, plain = run(rulebook())
    assert plain.rulebook_yaml is None and figures_for(plain) == FIGURES
