"""The report's sections of households, work and credit (report/households.py): children, lending, work (company
sanctions and emotion monitoring), partners chosen by score, the commercial score, and stress next to deterrence.

Each section is in the report only when the run has its mechanism: a small run with each mechanism on alone shows its
section (and no other of these), a run with none shows none, a run with all of them shows all; the tables hold the
numbers of the daily table (the harmful events averted computed here from the rulebook's rates); a run folder written
before the mechanisms existed gets its report without them, and no error.
"""

from __future__ import annotations

import base64
import copy
import html
import json
import re
from dataclasses import replace
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from socialcredit.report import write_report
from socialcredit.report.figures import FIGURES, MECHANISM_FIGURES, figures_for
from socialcredit.report.households import HOUSEHOLD_FIGURES, harm_averted
from tests.report import old_folder
from tests.conftest import base_rulebook, run
from tests.report.test_report import figures_in

PERSONS, DAYS = 1000, 60
SECTIONS = [spec.name for spec in HOUSEHOLD_FIGURES]
HEADINGS = {spec.name: spec.heading for spec in HOUSEHOLD_FIGURES}
HARMFUL_RATE = 6 + 0.5  # the base rulebook's harmful behaviours a year: littering and fraud


def _companies(data: dict[str, Any]) -> None:
    data["population"]["companies"] = {"count": 40, "employment": 0.7}


def with_children(data: dict[str, Any]) -> None:
    data["population"]["partners"] = 0.6
    data["population"]["children"] = {"share": 0.5, "mean": 1.5, "assumed": "test"}
    data["services"].append({"name": "school", "demand": 3, "applies_to": "children", "denied_when": "blacklisted or partner_blacklisted"})


def with_lending(data: dict[str, Any]) -> None:
    data["behaviours"] += [
        {"name": "loan_repaid", "rate": 0, "kind": "prosocial", "channel": "records", "points": 20, "assumed": "test"},
        {"name": "loan_default", "rate": 0, "kind": "harmful", "channel": "records", "points": -40, "assumed": "test"},
    ]
    data["lending"] = {"demand": 6, "threshold": 960, "thresholds": {"minority": 990}, "term": 10, "midpoint": 980, "scale": 20,
                       "repaid": "loan_repaid", "defaulted": "loan_default", "assumed": "test"}  # fmt: skip


def with_sanctions(data: dict[str, Any]) -> None:
    _companies(data)
    data["behaviours"].append({"name": "tax_evasion", "actor": "company", "rate": 4, "kind": "harmful", "channel": "records",
                               "points": -30})  # fmt: skip
    data["lists"]["company_blacklist"] = {"enter": "score < 950", "min_days": 30}
    data["institutions"]["company_sanctions"] = {"contracts": 0.3, "loans": 0.15, "bonds": 0.05, "layoffs": 0.6, "income_loss": 0.4,
                                                 "assumed": "test"}  # fmt: skip


def with_emotion(data: dict[str, Any]) -> None:
    _companies(data)
    data["behaviours"].append({"name": "emotional_outlier", "rate": 0, "kind": "harmful", "channel": "records", "points": -40,
                               "assumed": "test"})  # fmt: skip
    data["institutions"]["emotion_monitoring"] = {
        "companies": 0.5, "checks": 24, "prevalence": 0.02, "sensitivity": 0.7, "false_positive": 0.05,
        "record": "emotional_outlier", "dismissal": 0.2, "income_loss": 0.5, "assumed": "test"}  # fmt: skip


def with_partnering(data: dict[str, Any]) -> None:
    data["population"].setdefault("partners", 0.4)
    data["score"]["social"] = {"friends": 0.0, "partner": 0.0, "period": 10}
    data["responses"]["partnering"] = {"rate": 6, "assortativity": 0.5, "assumed": "test"}


def with_commercial(data: dict[str, Any]) -> None:
    data["commercial"] = {"initial": 650, "bounds": [350, 950], "income": 50, "spread": 40, "listed": -150, "half_life": 10,
                          "assumed": "test", "bands": [{"name": "good", "min": 600}, {"name": "poor"}]}  # fmt: skip


def with_stress(data: dict[str, Any]) -> None:
    data["responses"]["stress"] = {"risk": 0.3, "listed": 0.5, "friends": 0.4, "half_life": 20, "assumed": "test"}
    data["responses"]["deterrence"] = {"elasticity": 5.0, "half_life": 30, "points_scale": 30}


SWITCH = {"children": with_children, "lending": with_lending, "sanctions": with_sanctions, "emotion": with_emotion,
          "partnering": with_partnering, "commercial": with_commercial, "stress": with_stress}  # fmt: skip
SECTION_OF = {"children": "children", "lending": "lending", "sanctions": "work", "emotion": "work", "partnering": "partnering",
              "commercial": "commercial", "stress": "stress"}  # fmt: skip


def rulebook(*mechanisms: str) -> dict[str, Any]:
    data = base_rulebook(persons=PERSONS, days=DAYS)
    data["detection"]["channels"]["camera"]["false_attribution"] = 0.2  # false records: wrongful parts to count
    data.setdefault("institutions", {})
    for name in mechanisms:
        SWITCH[name](data)
    return copy.deepcopy(data)


def report_of(data: dict[str, Any], folder: Path):
    """Run the rulebook, save the run folder with its rulebook, write its report; (sim, results, page)."""
    sim, res = run(data)
    res.rulebook_yaml = json.dumps(data)  # JSON is YAML: the run folder keeps its rulebook, as sc.run's does
    res.save(str(folder))
    page = write_report(folder).read_text(encoding="utf-8")
    return sim, res, page


def sections(page: str) -> list[str]:
    return [name for name in figures_in(page) if name in SECTIONS]


def section(page: str, name: str) -> str:
    return page.split(f'<section id="fig-{name}">', 1)[1].split("</section>", 1)[0]


def table(page: str, name: str) -> dict[str, list[str]]:
    """The facts table of a section: first cell (unescaped) -> the other cells (unescaped)."""
    body = section(page, name).split('<table class="facts">', 1)[1].split("</table>", 1)[0]
    out = {}
    for row in re.findall(r"<tr>(.*?)</tr>", body)[1:]:
        cells = [html.unescape(c) for c in re.findall(r"<td[^>]*>(.*?)</td>", row)]
        out[cells[0]] = cells[1:]
    return out


def header(page: str, name: str) -> list[str]:
    body = section(page, name).split('<table class="facts">', 1)[1]
    return [html.unescape(h) for h in re.findall(r"<th>(.*?)</th>", body.split("</tr>", 1)[0])]


def n(x: float) -> str:
    return f"{x:,.0f}"


@pytest.mark.parametrize("mechanism", list(SWITCH))
def test_each_mechanism_alone_has_its_section_and_no_other(mechanism, tmp_path):
    _, _, page = report_of(rulebook(mechanism), tmp_path / "run")
    name = SECTION_OF[mechanism]
    assert sections(page) == [name]
    shown = figures_in(page)
    assert shown[name] is not None, f"{name}: a note instead of the figure"
    assert f"<h2>{html.escape(HEADINGS[name])}</h2>" in page and f'<a href="#fig-{name}">' in page
    png = (tmp_path / "run" / "figures" / f"{name}.png").read_bytes()
    assert png[:8] == b"\x89PNG\r\n\x1a\n" and len(png) > 5_000
    assert base64.b64decode(shown[name]) == png
    assert '<table class="facts">' in section(page, name)  # every figure has its numbers as text
    for other in set(SECTIONS) - {name}:
        assert not (tmp_path / "run" / "figures" / f"{other}.png").exists()
        assert f'id="fig-{other}"' not in page
    assert not [spec.name for spec in MECHANISM_FIGURES if spec.name in shown]


def test_a_run_without_them_has_none_of_their_sections(tmp_path):
    _, res, page = report_of(rulebook(), tmp_path / "run")
    assert figures_for(res) == FIGURES
    assert sections(page) == []
    for name in SECTIONS:
        assert f"fig-{name}" not in page and html.escape(HEADINGS[name]) not in page


# --------------------------------------------------------------------------- every mechanism at once


@pytest.fixture(scope="module")
def everything(tmp_path_factory):
    folder = tmp_path_factory.mktemp("households") / "all"
    sim, res, page = report_of(rulebook(*SWITCH), folder)
    return folder, res, page, sim


def _whole(res):
    return res.daily[res.daily["breakdown"] == "all"].sort_values("day")


def _group(res, name: str):
    d = res.daily[(res.daily["breakdown"] == "group") & (res.daily["level"].astype(str) == name)]
    return d.sort_values("day")


def test_a_run_with_all_of_them_shows_every_section_after_the_others(everything):
    folder, _, page, _ = everything
    assert list(figures_in(page)) == [spec.name for spec in FIGURES] + SECTIONS
    for name in SECTIONS:
        png = (folder / "figures" / f"{name}.png").read_bytes()
        assert len(png) > 5_000, name
    assert header(page, "lending") == ["measure", "all residents", "group majority", "group minority"]


def test_the_stress_table_puts_the_events_averted_next_to_stress(everything):
    """Averted = the rulebook's harmful rates x residents x days - the harmful events observed, for everyone and by group."""
    _, res, page, _ = everything
    rows = table(page, "stress")
    d = _whole(res)
    expected = PERSONS * DAYS * HARMFUL_RATE / 365  # loan defaults and emotional outliers have rate 0; tax evasion is a company's
    observed = int(d["events_harmful"].sum())
    assert rows["harmful events at the rulebook's rates, without deterrence (expected)"][0] == n(expected)
    assert rows["harmful events observed"][0] == n(observed)
    assert rows["harmful events averted (expected − observed)"][0] == n(expected - observed)
    assert rows["averted per resident over the run"][0] == f"{(expected - observed) / PERSONS:,.3f}"
    assert expected - observed > 4 * np.sqrt(expected)  # deterrence (elasticity 5) averts more than chance
    # chance: Poisson only, as every rate here is the same for every resident (heterogeneity 0)
    assert rows["chance alone moves the count by about (95%)"][0] == f"±{n(2 * np.sqrt(expected))}"
    for k, name in enumerate(["majority", "minority"], start=1):
        g = _group(res, name)
        exp_g = float(g["persons"].sum()) * HARMFUL_RATE / 365
        assert rows["harmful events averted (expected − observed)"][k] == n(exp_g - g["events_harmful"].sum())
        assert rows["mean stress index on the last day (0-1000)"][k] == f"{g['stress_mean'].iloc[-1]:,.1f}"
    assert rows["mean stress index on the last day (0-1000)"][0] == f"{d['stress_mean'].iloc[-1]:,.1f}"
    assert d["stress_mean"].iloc[-1] > 1
    note = html.unescape(section(page, "stress").split("</table>", 1)[1])
    assert "form is assumed" in note and "income feedback" in note and "section 3.11" in note


def test_the_tables_hold_the_daily_counts(everything):
    _, res, page, _ = everything
    d, minority = _whole(res), _group(res, "minority")
    lend = table(page, "lending")
    apps, granted = d["loan_applications"].sum(), d["loans_granted"].sum()
    assert apps > 100 and granted > 0
    assert lend["loan applications"] == [n(apps), n(_group(res, "majority")["loan_applications"].sum()),
                                         n(minority["loan_applications"].sum())]  # fmt: skip
    assert lend["loans granted"][0] == n(granted)
    assert lend["applications refused (share)"][0].startswith(n(apps - granted) + " (")
    assert lend["refused only because of false records (share of the refusals)"][2].startswith(n(minority["loans_refused_wrongly"].sum()))
    assert lend["loans to be defaulted (share of the loans granted)"][0].startswith(n(d["loans_defaulted"].sum()))
    assert lend["score threshold of the rulebook"] == ["-", "960", "990"]

    kids = table(page, "children")
    assert kids["children with a blacklisted parent, last day"][0] == n(d["children_of_listed"].iloc[-1])
    assert kids["of them, with no parent listed without false records"][2] == n(minority["children_of_wrongly_listed"].iloc[-1])
    school = res.services[(res.services["breakdown"] == "all") & (res.services["service"].astype(str) == "school")]
    assert kids["school: applications on behalf of children"][0] == n(school["attempts"].sum())
    assert kids["school: denied"][0] == n(school["outcomes"].sum())
    assert kids["school: denied only because of false records"][0] == n(school["wrongful"].sum())

    work = table(page, "work")
    assert work["employees laid off by sanctioned companies"][0] == n(d["layoffs"].sum())
    assert work["emotion flags"][0] == n(d["emotion_flags"].sum()) and d["emotion_flags"].sum() > 0
    assert work["of them false (share)"][0].startswith(n(d["emotion_flags_false"].sum()))
    assert work["yearly income lost to dismissals after false flags (sum)"][0] == n(d["income_lost_to_false_flags"].sum())
    assert work["mean company revenue on the last day (1 at the start)"] == [f"{d['company_revenue_mean'].iloc[-1]:.3f}", "-", "-"]

    assert table(page, "partnering")["persons who formed a partnership"][0] == n(d["partnerships_formed"].sum())
    assert table(page, "commercial")["mean commercial score on the last day"][1] == f"{_group(res, 'majority')['commercial_mean'].iloc[-1]:,.1f}"


def test_an_old_run_folder_without_their_columns_gets_its_report_without_them(everything, tmp_path):
    folder, _, _, _ = everything
    old = old_folder(folder, tmp_path / "old", (
        "children_of_listed", "children_of_wrongly_listed", "loan_applications", "loans_granted",
        "loans_refused_wrongly", "loans_repaid", "loans_defaulted", "layoffs", "layoffs_wrongful",
        "layoff_income_lost", "company_revenue_mean", "emotion_checks", "emotion_flags", "emotion_flags_false",
        "dismissals_after_flags", "dismissals_after_false_flags", "income_lost_to_false_flags",
        "partnerships_formed", "commercial_mean", "stress_mean"))  # fmt: skip
    page = write_report(old).read_text(encoding="utf-8")
    assert sections(page) == []
    assert list(figures_in(page)) == [spec.name for spec in FIGURES]


def test_without_a_rulebook_the_data_decide(everything):
    _, res, _, _ = everything
    bare = replace(res, rulebook_yaml=None)
    assert [spec.name for spec in figures_for(bare)] == [spec.name for spec in FIGURES] + SECTIONS
    assert harm_averted(bare) is None  # no rates to compare with
    _, plain = run(rulebook())
    assert figures_for(plain) == FIGURES


def test_the_expected_harm_follows_the_timeline():
    """A timeline change of a harmful rate changes the expected events from its day on."""
    data = base_rulebook(persons=300, days=40)
    with_stress(data)
    data["timeline"] = [{"day": 25, "set": {"behaviours[littering].rate": 2}, "assumed": "test"}]
    _, res = run(data)
    res.rulebook_yaml = json.dumps(data)
    whole = harm_averted(res).iloc[0]
    assert whole["expected"] == pytest.approx(300 * (25 * 6.5 + 15 * 2.5) / 365)
    assert whole["observed"] == _whole(res)["events_harmful"].sum()


def test_without_deterrence_the_rates_are_what_the_run_does():
    """With deterrence off, the harmful events observed are the rulebook's rates within 4 standard errors (binomial
    person-days), and the table's note says the difference is not deterrence."""
    data = rulebook("stress")
    data["responses"]["deterrence"]["elasticity"] = 0.0
    _, res = run(data)
    res.rulebook_yaml = json.dumps(data)
    whole = harm_averted(res).iloc[0]
    p = HARMFUL_RATE / 365
    assert whole["expected"] == pytest.approx(PERSONS * DAYS * p)
    assert abs(whole["averted"]) < 4 * np.sqrt(PERSONS * DAYS * p * (1 - p))
    spec = next(s for s in HOUSEHOLD_FIGURES if s.name == "stress")
    _, rows, note = spec.facts(res)
    assert "Deterrence is off in this run" in note
    assert rows[0][0] == "mean stress index on the last day (0-1000)"


def test_with_a_final_state_the_couples_and_the_commercial_score_get_a_sentence(everything):
    from socialcredit.analysis.couples import couple_correlation
    from socialcredit.results.final_state import final_state_frame

    _, res, _, sim = everything
    facts = {spec.name: spec.facts for spec in HOUSEHOLD_FIGURES}
    assert facts["partnering"](res)[2] == "" and facts["commercial"](res)[2] == ""  # no final state: no sentence
    res = replace(res, final_state=final_state_frame(sim))
    r = couple_correlation(res.final_state).loc["formed during the run", "score_correlation"]
    assert f"correlate {r:.2f}" in facts["partnering"](res)[2]
    assert "residents on the government blacklist have a mean commercial score of" in facts["commercial"](res)[2]
