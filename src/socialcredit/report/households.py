"""The report's figures of households, work and credit: each in the report only when the run has the mechanism.

Seven mechanisms reach people through the decisions of others or through
what the system does to them (docs/model.md, section 3.11):

- ``children``: a parent's listing reaches the children (``population.children``) and the services applied for on
  their behalf (``services[].applies_to: children``);
- ``lending``: loans granted by a score threshold, whose repayment or default moves the score (``lending``);
- ``work``: company sanctions that lay off employees (``institutions.company_sanctions``) and emotion monitoring
  whose flags cost records and jobs (``institutions.emotion_monitoring``);
- ``partnering``: partners chosen by score (``responses.partnering``);
- ``commercial``: a commercial score beside the government's (``commercial``);
- ``stress``: the stress of living under scoring (``responses.stress``), put next to the harmful behaviour the
  system deters, so a reader can weigh the cost against the benefit.

Each section is shown when the run's rulebook has the mechanism switched on (on day 0 or by a timeline change)
and the run's daily table has its columns: a run folder written before the mechanisms existed has none of their
sections, and no error. Without a rulebook (results from ``Sim.run``) the data decide. Every figure has a table
of the same numbers under it (:attr:`FigureSpec.facts`).
"""

from __future__ import annotations

from collections.abc import Callable

import matplotlib.ticker
import numpy as np
import pandas as pd
from matplotlib.figure import Figure

from socialcredit.errors import SocialCreditError
from socialcredit.report.common import (
    BASELINE,
    COUNT,
    JUST,
    KIND_COLOURS,
    LISTED,
    RED,
    RUN,
    WRONG,
    FigureSpec,
    _caption,
    _cells,
    _colours,
    _daily,
    _empty_panel,
    _figure,
    _finding,
    _levels,
    _pct,
    _rulebook,
)
from socialcredit.rulebook.schema import Rulebook
from socialcredit.rulebook.timeline import in_force_cached

ALL = "all residents"  # the whole population's column of the tables
AVERTED = "#239b56"  # harmful events averted: the deterrence benefit

CHILDREN_COLUMNS = ("children_of_listed", "children_of_wrongly_listed")
LENDING_COLUMNS = ("loan_applications", "loans_granted", "loans_refused_wrongly", "loans_repaid", "loans_defaulted")
SANCTION_COLUMNS = ("layoffs", "layoffs_wrongful", "layoff_income_lost", "company_revenue_mean")
EMOTION_COLUMNS = ("emotion_checks", "emotion_flags", "emotion_flags_false", "dismissals_after_flags",
                   "dismissals_after_false_flags", "income_lost_to_false_flags")  # fmt: skip
PARTNER_COLUMNS = ("partnerships_formed",)
COMMERCIAL_COLUMNS = ("commercial_mean",)
STRESS_COLUMNS = ("stress_mean", "events_harmful")


# --------------------------------------------------------------------------- whether the run has a mechanism


def rulebooks_in_force(rb: Rulebook) -> list[tuple[int, Rulebook]]:
    """``[(0, rulebook), (day, rulebook in force from that day), ...]``: the rulebook and its timeline's changes."""
    try:
        return [(0, rb), *in_force_cached(rb)]
    except (SocialCreditError, ValueError):  # a timeline this version cannot apply: the rulebook as written
        return [(0, rb)]


def _switched_on(res, columns: tuple[str, ...], rule: Callable[[Rulebook], bool], data: Callable[[pd.DataFrame], bool]) -> bool:
    """The daily table has ``columns`` and the rulebook switches the mechanism on (``rule``) on day 0 or by a timeline
    change; without a readable rulebook, ``data`` decides from the whole-population rows."""
    if not all(c in res.daily.columns for c in columns):
        return False  # a run folder from before the mechanism
    rb = _rulebook(res)
    if rb is not None:
        return any(rule(r) for _, r in rulebooks_in_force(rb))
    return bool(data(_daily(res)))


def _any(column: str) -> Callable[[pd.DataFrame], bool]:
    return lambda d: bool((d[column].fillna(0) != 0).any())


def has_children(res) -> bool:
    """Households have children (``population.children`` with a share above 0)."""
    return _switched_on(res, CHILDREN_COLUMNS, lambda rb: rb.population.children is not None and rb.population.children.share > 0,
                        _any("children_of_listed"))  # fmt: skip


def has_lending(res) -> bool:
    """The rulebook has ``lending`` with a demand above 0."""
    return _switched_on(res, LENDING_COLUMNS, lambda rb: rb.lending is not None and rb.lending.demand > 0, _any("loan_applications"))


def has_sanctions(res) -> bool:
    """Listed companies lose revenue (``institutions.company_sanctions``)."""
    def rule(rb: Rulebook) -> bool:
        return rb.institutions.company_sanctions is not None and rb.institutions.company_sanctions.revenue_loss > 0

    return _switched_on(res, SANCTION_COLUMNS, rule, lambda d: _any("layoffs")(d) or bool((d["company_revenue_mean"] < 1).any()))


def has_emotion(res) -> bool:
    """Employers check their workers' emotions (``institutions.emotion_monitoring``)."""
    def rule(rb: Rulebook) -> bool:
        em = rb.institutions.emotion_monitoring
        return em is not None and em.companies > 0 and em.checks > 0

    return _switched_on(res, EMOTION_COLUMNS, rule, _any("emotion_checks"))


def has_work(res) -> bool:
    """Company sanctions or emotion monitoring."""
    return has_sanctions(res) or has_emotion(res)


def has_partnering(res) -> bool:
    """Singles form partnerships matched on score (``responses.partnering`` with a rate above 0)."""
    return _switched_on(res, PARTNER_COLUMNS, lambda rb: rb.responses.partnering.rate > 0, _any("partnerships_formed"))


def has_commercial(res) -> bool:
    """A commercial score beside the government's (``commercial``)."""
    return _switched_on(res, COMMERCIAL_COLUMNS, lambda rb: rb.commercial is not None, _any("commercial_mean"))


def has_stress(res) -> bool:
    """The stress index is on (``responses.stress`` with a weight above 0)."""
    return _switched_on(res, STRESS_COLUMNS, lambda rb: rb.responses.stress.on, _any("stress_mean"))


# --------------------------------------------------------------------------- small helpers


def _cells_of(res) -> list[tuple[str, pd.DataFrame]]:
    """(label, daily rows in day order): everyone, then each group (when there are two or more)."""
    out = [(ALL, _daily(res))]
    names = _levels(res, "group")
    if len(names) >= 2:
        groups = _cells(res, "group")
        out += [(name, groups[groups["level"] == name].reset_index(drop=True)) for name in names]
    return out


def _groups(res) -> list[tuple[str, pd.DataFrame]]:
    """The groups' daily rows, or everyone's when the population has a single group."""
    cells = _cells_of(res)
    return cells[1:] if len(cells) > 1 else cells


def _sum(d: pd.DataFrame, column: str) -> float:
    return float(d[column].sum()) if column in d.columns and len(d) else 0.0


def _last(d: pd.DataFrame, column: str) -> float:
    return float(d[column].iloc[-1]) if column in d.columns and len(d) else 0.0


def _n(x: float) -> str:
    """A count as text: a whole number with thousands separators."""
    return f"{x:,.0f}" if np.isfinite(x) else "-"


def _share(part: float, whole: float) -> str:
    return _pct(part / whole) if whole > 0 else "-"


def _per_1000(d: pd.DataFrame, column: str) -> np.ndarray:
    """A column per 1,000 residents of the cell, day by day."""
    persons = d["persons"].where(d["persons"] > 0).to_numpy(np.float64)
    return d[column].to_numpy(np.float64) / persons * 1000


def _header(cells: list[tuple[str, pd.DataFrame]]) -> list[str]:
    return ["measure"] + [name if name == ALL else f"group {name}" for name, _ in cells]


def _cumulative(ax, days, series, **kwargs) -> None:
    ax.plot(days, np.cumsum(np.asarray(series, np.float64)), **kwargs)


def _finish(ax, title: str, ylabel: str, xlabel: bool = True, count: bool = True, legend: str | None = "upper left") -> None:
    ax.set_title(title)
    ax.set_ylabel(ylabel)
    ax.set_ylim(0, max(ax.get_ylim()[1], 1.0 if count else 0.1))  # an axis for counts of 0 reads 0 to 1, not 0, 0, 0
    if xlabel:
        ax.set_xlabel("day of the run")
    if count:
        ax.yaxis.set_major_locator(matplotlib.ticker.MaxNLocator(integer=True))
        ax.yaxis.set_major_formatter(COUNT)
    if legend and ax.get_legend_handles_labels()[0]:
        ax.legend(loc=legend)


# --------------------------------------------------------------------------- children


def child_services(res) -> list[str]:
    """The services applied for on behalf of children (``applies_to: children``) that the run's services table has."""
    rb = _rulebook(res)
    if rb is None or res.services is None or not len(res.services):
        return []
    present = set(res.services["service"].astype(str))
    return [s.name for s in rb.services if s.applies_to == "children" and s.name in present]


def _service_rows(res, service: str, breakdown: str) -> pd.DataFrame:
    sv = res.services[(res.services["breakdown"] == breakdown) & (res.services["service"].astype(str) == service)].copy()
    sv["level"] = sv["level"].astype(str)
    return sv.sort_values("day", kind="stable")


def _service_kind(res, service: str) -> str:
    sv = res.services[res.services["service"].astype(str) == service]
    return str(sv["kind"].iloc[0]) if len(sv) else "punishment"


def children(res, baseline=None) -> Figure | None:
    """Children with a blacklisted parent by group over time (and wrongly), and the child services' denials."""
    d = _daily(res)
    if d.empty or "children_of_listed" not in d.columns:
        return None
    services = child_services(res)
    fig, axes = _figure(1, 2, height=4.8)
    ax = axes[0, 0]
    groups = _groups(res)
    colour = _colours([name for name, _ in groups])
    for name, c in groups:
        ax.plot(c["day"], _per_1000(c, "children_of_listed"), color=colour[name], linewidth=1.8, label=name)
        ax.plot(c["day"], _per_1000(c, "children_of_wrongly_listed"), color=colour[name], linewidth=1.4, linestyle="--")
    ax.plot([], [], color=BASELINE, linewidth=1.8, label="solid: a parent blacklisted")
    ax.plot([], [], color=BASELINE, linewidth=1.4, linestyle="--", label="dashed: only because of false records")
    _finish(ax, "Children with a blacklisted parent, by group", "children per 1,000 residents of the group", count=False)
    ax = axes[0, 1]
    if services:
        for k, service in enumerate(services):
            sv = _service_rows(res, service, "all")
            what = "denied" if _service_kind(res, service) == "punishment" else "granted"
            style = ["-", ":", "-."][k % 3]
            _cumulative(ax, sv["day"], sv["outcomes"], color=LISTED, linewidth=1.8, linestyle=style, label=f"{service}: {what}")
            _cumulative(ax, sv["day"], sv["wrongful"], color=WRONG, linewidth=1.6, linestyle=style,
                        label=f"{service}: " + ("denied only because of false records" if what == "denied" else "lost to false records"))  # fmt: skip
        _finish(ax, "Services for children: " + ", ".join(services), "so far over the run (count)")
    else:
        _empty_panel(ax, "no service is applied for\non behalf of children\n(services[].applies_to: children)")
    last = d.iloc[-1]
    finding = (f"Children with a blacklisted parent on the last day: {_n(last['children_of_listed'])}, "
               f"{_n(last['children_of_wrongly_listed'])} of them only because of false records")  # fmt: skip
    for service in services:
        sv = _service_rows(res, service, "all")
        if _service_kind(res, service) == "punishment":
            finding += f"; {service}: {_n(_sum(sv, 'outcomes'))} denied, {_n(_sum(sv, 'wrongful'))} only because of false records"
        else:
            finding += f"; {service}: {_n(_sum(sv, 'outcomes'))} granted, {_n(_sum(sv, 'wrongful'))} lost to false records"
    _finding(fig, finding)
    _caption(fig, res, "children are counted in the cells of their guardian (docs/model.md, section 3.11.1); "
                       "dashed: no parent would be listed without false records")  # fmt: skip
    return fig


def _children_facts(res) -> tuple[list[str], list[list[str]]] | None:
    if not has_children(res):
        return None
    cells = _cells_of(res)
    rows = [
        ["children with a blacklisted parent, last day"] + [_n(_last(c, "children_of_listed")) for _, c in cells],
        ["of them, with no parent listed without false records"] + [_n(_last(c, "children_of_wrongly_listed")) for _, c in cells],
        ["most children with a blacklisted parent on one day"] + [_n(c["children_of_listed"].max()) for _, c in cells],
    ]
    for service in child_services(res):
        punish = _service_kind(res, service) == "punishment"
        by = {ALL: _service_rows(res, service, "all")}
        groups = _service_rows(res, service, "group")
        by.update({name: groups[groups["level"] == name] for name, _ in cells[1:]})
        rows += [
            [f"{service}: applications on behalf of children"] + [_n(_sum(by[name], "attempts")) for name, _ in cells],
            [f"{service}: " + ("denied" if punish else "granted")] + [_n(_sum(by[name], "outcomes")) for name, _ in cells],
            [f"{service}: " + ("denied only because of false records" if punish else "lost to false records")]
            + [_n(_sum(by[name], "wrongful")) for name, _ in cells],
        ]
    return _header(cells), rows


# --------------------------------------------------------------------------- lending


def lending(res, baseline=None) -> Figure | None:
    """Loans by group: the share of applications refused, the loans' outcomes, and refusals only because of false records."""
    d = _daily(res)
    if d.empty or "loan_applications" not in d.columns:
        return None
    fig, axes = _figure(1, 3, height=4.8)
    groups = _groups(res)
    colour = _colours([name for name, _ in groups])
    ax = axes[0, 0]
    for name, c in groups:
        apps = c["loan_applications"].rolling(30, min_periods=1).sum().to_numpy(np.float64)
        refused = apps - c["loans_granted"].rolling(30, min_periods=1).sum().to_numpy(np.float64)
        ax.plot(c["day"], np.where(apps > 0, refused / np.where(apps > 0, apps, 1) * 100, np.nan), color=colour[name], linewidth=1.8,
                label=name)  # fmt: skip
    ax.set_ylim(0, 105)
    _finish(ax, "Refused, by group (30-day window)", "refused (% of the applications)", count=False)
    ax = axes[0, 1]
    days = d["day"].to_numpy()
    _cumulative(ax, days, d["loans_granted"], color=RUN, linewidth=1.8, label="granted")
    _cumulative(ax, days, d["loans_repaid"], color=RED, linewidth=1.5, linestyle="--", label="to be repaid")
    _cumulative(ax, days, d["loans_defaulted"], color=WRONG, linewidth=1.5, linestyle=":", label="to be defaulted")
    _finish(ax, "Loans granted, and their outcome", "loans so far (count)")
    ax = axes[0, 2]
    for name, c in groups:
        _cumulative(ax, c["day"], c["loans_refused_wrongly"], color=colour[name], linewidth=1.8, label=name)
    _finish(ax, "Refused only by false records", "refusals so far (count)")
    apps, granted = _sum(d, "loan_applications"), _sum(d, "loans_granted")
    finding = (f"Loan applications granted: {_n(granted)} of {_n(apps)} ({_share(granted, apps)}); "
               f"refused only because of false records: {_n(_sum(d, 'loans_refused_wrongly'))}")  # fmt: skip
    if len(groups) > 1:
        rates = {name: (_sum(c, "loan_applications") - _sum(c, "loans_granted")) / _sum(c, "loan_applications")
                 for name, c in groups if _sum(c, "loan_applications") > 0}  # fmt: skip
        if rates and max(rates.values()) > 0:
            worst = max(rates, key=rates.get)
            finding += f"; the group '{worst}' is refused most ({_pct(rates[worst])} of its applications)"
    _finding(fig, finding)
    _caption(fig, res, "a loan's repayment or default is drawn on the day it is granted and counted then; its record reaches the "
                       "score after the term (docs/model.md, section 3.11.2)")  # fmt: skip
    return fig


def _lending_facts(res) -> tuple[list[str], list[list[str]]] | None:
    if not has_lending(res):
        return None
    cells = _cells_of(res)
    apps = [_sum(c, "loan_applications") for _, c in cells]
    granted = [_sum(c, "loans_granted") for _, c in cells]
    refused = [a - g for a, g in zip(apps, granted)]
    wrongly = [_sum(c, "loans_refused_wrongly") for _, c in cells]
    repaid = [_sum(c, "loans_repaid") for _, c in cells]
    defaulted = [_sum(c, "loans_defaulted") for _, c in cells]
    rows = [
        ["loan applications"] + [_n(x) for x in apps],
        ["loans granted"] + [_n(x) for x in granted],
        ["applications refused (share)"] + [f"{_n(r)} ({_share(r, a)})" for r, a in zip(refused, apps)],
        ["refused only because of false records (share of the refusals)"] + [f"{_n(w)} ({_share(w, r)})" for w, r in zip(wrongly, refused)],
        ["loans to be repaid"] + [_n(x) for x in repaid],
        ["loans to be defaulted (share of the loans granted)"] + [f"{_n(x)} ({_share(x, g)})" for x, g in zip(defaulted, granted)],
    ]
    rb = _rulebook(res)
    if rb is not None and rb.lending is not None:
        ln = rb.lending
        rows.append(["score threshold of the rulebook"] + ["-" if name == ALL else f"{ln.thresholds.get(name, ln.threshold):,.6g}"
                                                           for name, _ in cells])  # fmt: skip
    return _header(cells), rows


# --------------------------------------------------------------------------- work: company sanctions and emotion monitoring


def work(res, baseline=None) -> Figure | None:
    """Layoffs by sanctioned companies and the income they cost, company revenue; emotion flags and the dismissals after them."""
    d = _daily(res)
    parts = [p for p, on in (("sanctions", has_sanctions(res)), ("emotion", has_emotion(res))) if on]
    if d.empty or not parts:
        return None
    fig, axes = _figure(len(parts), 3, height=0.8 + 3.9 * len(parts))
    days = d["day"].to_numpy()
    finding = []
    for row, part in enumerate(parts):
        last_row = row == len(parts) - 1
        if part == "sanctions":
            ax = axes[row, 0]
            _cumulative(ax, days, d["layoffs"], color=LISTED, linewidth=2.6, label="laid off")
            _cumulative(ax, days, d["layoffs_wrongful"], color=WRONG, linewidth=1.5, label="by companies listed\nonly because of false records")
            _finish(ax, "Laid off by sanctioned companies", "persons so far (count)", xlabel=last_row)
            ax = axes[row, 1]
            _cumulative(ax, days, d["layoff_income_lost"], color=LISTED, linewidth=1.8)
            _finish(ax, "Income the laid-off lost", "yearly incomes lost so far (sum)", xlabel=last_row, legend=None)
            ax = axes[row, 2]
            revenue = d["company_revenue_mean"].to_numpy(np.float64)
            if np.isfinite(revenue).any():
                ax.plot(days, revenue, color=RUN, linewidth=1.8)
                ax.set_ylim(0, 1.05)
                ax.set_title("Mean company revenue")
                ax.set_ylabel("revenue (1 at the start)")
                if last_row:
                    ax.set_xlabel("day of the run")
            else:
                _empty_panel(ax, "the run did not measure\ncompany revenue")
            laid, wrong = _sum(d, "layoffs"), _sum(d, "layoffs_wrongful")
            finding.append(f"employees laid off by sanctioned companies: {_n(laid)}, {_n(wrong)} of them by companies listed only "
                           f"because of false records")  # fmt: skip
        else:
            ax = axes[row, 0]
            flags, false = d["emotion_flags"].to_numpy(np.float64), d["emotion_flags_false"].to_numpy(np.float64)
            _cumulative(ax, days, false, color=WRONG, linewidth=1.8, label="false flags")
            _cumulative(ax, days, flags - false, color=JUST, linewidth=1.8, label="true flags\n(an outlier at the check)")
            _finish(ax, "Emotion flags at work", "flags so far (count)", xlabel=last_row)
            ax = axes[row, 1]
            _cumulative(ax, days, d["dismissals_after_flags"], color=LISTED, linewidth=2.6, label="after any flag")
            _cumulative(ax, days, d["dismissals_after_false_flags"], color=WRONG, linewidth=1.5, label="after a false flag")
            _finish(ax, "Dismissals after flags", "persons so far (count)", xlabel=last_row)
            ax = axes[row, 2]
            _cumulative(ax, days, d["income_lost_to_false_flags"], color=WRONG, linewidth=1.8)
            _finish(ax, "Income lost to false flags", "yearly incomes lost so far (sum)", xlabel=last_row, legend=None)
            n_flags, n_false = _sum(d, "emotion_flags"), _sum(d, "emotion_flags_false")
            finding.append(f"false emotion flags: {_n(n_false)} of {_n(n_flags)} ({_share(n_false, n_flags)}); "
                           f"dismissals after false flags: {_n(_sum(d, 'dismissals_after_false_flags'))}")  # fmt: skip
    text = "; ".join(finding)
    _finding(fig, text[0].upper() + text[1:])
    _caption(fig, res, "incomes are yearly, in the rulebook's income units, at the day of the layoff or dismissal "
                       "(docs/model.md, section 3.11)")  # fmt: skip
    return fig



def _work_facts(res) -> tuple[list[str], list[list[str]]] | None:
    sanctions, emotion = has_sanctions(res), has_emotion(res)
    if not (sanctions or emotion):
        return None
    cells = _cells_of(res)
    rows: list[list[str]] = []
    if sanctions:
        laid = [_sum(c, "layoffs") for _, c in cells]
        rows += [
            ["employees laid off by sanctioned companies"] + [_n(x) for x in laid],
            ["of them, by companies listed only because of false records"] + [
                f"{_n(_sum(c, 'layoffs_wrongful'))} ({_share(_sum(c, 'layoffs_wrongful'), x)})" for (_, c), x in zip(cells, laid)],
            ["yearly income the laid-off lost (sum)"] + [_n(_sum(c, "layoff_income_lost")) for _, c in cells],
            ["mean company revenue on the last day (1 at the start)"] + [
                f"{_last(c, 'company_revenue_mean'):.3f}" if name == ALL else "-" for name, c in cells],
        ]  # fmt: skip
    if emotion:
        flags = [_sum(c, "emotion_flags") for _, c in cells]
        dismissed = [_sum(c, "dismissals_after_flags") for _, c in cells]
        rows += [
            ["emotion checks at work"] + [_n(_sum(c, "emotion_checks")) for _, c in cells],
            ["emotion flags"] + [_n(x) for x in flags],
            ["of them false (share)"] + [f"{_n(_sum(c, 'emotion_flags_false'))} ({_share(_sum(c, 'emotion_flags_false'), x)})"
                                         for (_, c), x in zip(cells, flags)],
            ["dismissals after flags"] + [_n(x) for x in dismissed],
            ["of them after false flags"] + [_n(_sum(c, "dismissals_after_false_flags")) for _, c in cells],
            ["yearly income lost to dismissals after false flags (sum)"] + [_n(_sum(c, "income_lost_to_false_flags")) for _, c in cells],
        ]  # fmt: skip
    return _header(cells), rows


# --------------------------------------------------------------------------- partners chosen by score


def partnering(res, baseline=None) -> Figure | None:
    """Persons who formed a partnership, per 1,000 residents of each group, over the run."""
    d = _daily(res)
    if d.empty or "partnerships_formed" not in d.columns:
        return None
    fig, axes = _figure(height=4.3)
    ax = axes[0, 0]
    groups = _groups(res)
    colour = _colours([name for name, _ in groups])
    for name, c in groups:
        persons = c["persons"].where(c["persons"] > 0).to_numpy(np.float64)
        ax.plot(c["day"], np.cumsum(c["partnerships_formed"].to_numpy(np.float64)) / persons * 1000, color=colour[name],
                linewidth=1.8, label=name, drawstyle="steps-post")  # fmt: skip
    _finish(ax, "Persons who formed a partnership, by group", "so far, per 1,000\nresidents of the group", count=False)
    total = _sum(d, "partnerships_formed")
    _finding(fig, f"Persons who formed a partnership during the run: {_n(total)} ({_share(total, float(d['persons'].iloc[-1]))} "
                  "of residents)")  # fmt: skip
    _caption(fig, res, "partners are matched on score (responses.partnering); both partners are counted, in their own cells")
    return fig


def _partnering_facts(res) -> tuple[list[str], list[list[str]], str] | None:
    if not has_partnering(res):
        return None
    cells = _cells_of(res)
    formed = [_sum(c, "partnerships_formed") for _, c in cells]
    rows = [
        ["persons who formed a partnership"] + [_n(x) for x in formed],
        ["per 1,000 residents"] + [f"{x / _last(c, 'persons') * 1000:,.1f}" if _last(c, "persons") > 0 else "-"
                                   for x, (_, c) in zip(formed, cells)],
    ]  # fmt: skip
    note = ""
    fs = getattr(res, "final_state", None)
    if fs is not None and {"partner", "partner_since", "score"} <= set(fs.columns):
        from socialcredit.analysis.couples import couple_correlation

        table = couple_correlation(fs)
        new, old = table.loc["formed during the run"], table.loc["from the start"]
        if new["couples"] >= 3 and np.isfinite(new["score_correlation"]):
            note = (f"At the end of the run the scores of the {int(new['couples']):,} couples formed during it correlate "
                    f"{new['score_correlation']:.2f} (couples from the start: {old['score_correlation']:.2f}); couples formed "
                    "while scores were still alike were matched almost at random, so early in a run this understates the "
                    "matching (socialcredit.analysis.couples).")  # fmt: skip
    return _header(cells), rows, note


# --------------------------------------------------------------------------- the commercial score


def commercial(res, baseline=None) -> Figure | None:
    """The commercial score's mean by group over time."""
    d = _daily(res)
    if d.empty or "commercial_mean" not in d.columns:
        return None
    fig, axes = _figure(height=4.3)
    ax = axes[0, 0]
    cells = _cells_of(res)
    colour = _colours([name for name, _ in cells[1:]])
    for name, c in cells:
        if name == ALL:
            ax.plot(c["day"], c["commercial_mean"], color=LISTED, linewidth=1.4, linestyle="--", label=ALL)
        else:
            ax.plot(c["day"], c["commercial_mean"], color=colour[name], linewidth=1.8, label=name)
    ax.set_title("Mean commercial score, by group")
    ax.set_ylabel("commercial score (points)")
    ax.set_xlabel("day of the run")
    ax.legend(loc="best")
    first, last = d["commercial_mean"].iloc[0], d["commercial_mean"].iloc[-1]
    finding = f"Mean commercial score {first:,.1f} → {last:,.1f} points"
    if len(cells) > 1:
        ends = {name: _last(c, "commercial_mean") for name, c in cells[1:]}
        finding += "; at the end: " + ", ".join(f"{name} {v:,.1f}" for name, v in ends.items())
    _finding(fig, finding)
    _caption(fig, res, "the commercial score reads the government blacklist and income (rulebook commercial; docs/model.md, section 3.11)")
    return fig


def _commercial_facts(res) -> tuple[list[str], list[list[str]], str] | None:
    if not has_commercial(res):
        return None
    cells = _cells_of(res)
    rows = [
        ["mean commercial score on the first day"] + [f"{float(c['commercial_mean'].iloc[0]):,.1f}" if len(c) else "-" for _, c in cells],
        ["mean commercial score on the last day"] + [f"{_last(c, 'commercial_mean'):,.1f}" for _, c in cells],
    ]
    note = ""
    fs = getattr(res, "final_state", None)
    if fs is not None and {"commercial", "commercial_without_false_records", "blacklisted",
                           "blacklisted_without_false_records"} <= set(fs.columns):  # fmt: skip
        from socialcredit.analysis.scorers import commercial_by_listing

        t = commercial_by_listing(fs)
        listed, free, wrong = t.loc["listed"], t.loc["not listed"], t.loc["listed only because of false records"]
        if listed["persons"] and free["persons"]:
            note = (f"At the end, residents on the government blacklist have a mean commercial score of {listed['commercial_mean']:,.1f} "
                    f"against {free['commercial_mean']:,.1f} for the others")  # fmt: skip
            if wrong["persons"]:
                note += (f"; the {int(wrong['persons']):,} listed only because of false records lost "
                         f"{wrong['commercial_lost_to_false_records']:,.1f} points of it to them")  # fmt: skip
            note += "."
    return _header(cells), rows, note


# --------------------------------------------------------------------------- stress next to deterrence


def harmful_rates(rb: Rulebook, days: np.ndarray) -> dict[str, np.ndarray]:
    """Each harmful person behaviour's expected events per person on each day, at the rulebook's rate in force that day
    (``rate / 365``; 0 on days a timeline change makes it not harmful): what the rates give with no response lowering
    them, since the lognormal heterogeneity multiplier has mean 1."""
    days = np.asarray(days)
    out: dict[str, np.ndarray] = {}
    for start, rb_t in rulebooks_in_force(rb):
        for b in rb_t.behaviours:
            harmful = b.kind == "harmful" and b.actor == "person"
            if harmful or b.name in out:
                out.setdefault(b.name, np.zeros(days.size, np.float64))[days >= start] = b.rate / 365.0 if harmful else 0.0
    return out


def harmful_rate(rb: Rulebook, days: np.ndarray) -> np.ndarray:
    """The harmful person behaviours' expected events per person on each day: the sum of :func:`harmful_rates`."""
    rates = list(harmful_rates(rb, days).values())
    return np.sum(rates, axis=0) if rates else np.zeros(np.asarray(days).size)


def harm_averted(res) -> pd.DataFrame | None:
    """Harmful behaviour events the rulebook's rates give without deterrence, against those observed, by cell.

    One row per cell (all residents, then each group when there are two or more): ``cell``, ``persons`` (on the last
    day), ``expected`` (the sum over days of the cell's persons times :func:`harmful_rate`), ``observed`` (its
    ``events_harmful``), ``averted`` (expected - observed), ``averted_per_person``, ``chance_sd`` and ``stress_end``
    (the mean stress index on the last day). None when the results carry no readable rulebook.

    ``chance_sd`` is the standard deviation of the count the rates give: the events of the days (Poisson, variance
    E_b for behaviour b's expected count E_b) and the draw of the persons' multipliers (their mean over the cell's N
    persons has variance (exp(sigma_b ** 2) - 1) / N, independent across behaviours): ``sqrt(sum_b E_b + E_b ** 2 *
    (exp(sigma_b ** 2) - 1) / N)``.
    """
    rb = _rulebook(res)
    if rb is None or "events_harmful" not in res.daily.columns:
        return None
    sigma = {b.name: b.heterogeneity for b in rb.behaviours}
    rows = []
    for name, c in _cells_of(res):
        persons_by_day = c["persons"].to_numpy(np.float64)
        by = {b: float((persons_by_day * r).sum()) for b, r in harmful_rates(rb, c["day"].to_numpy()).items()}
        expected = sum(by.values())
        observed = _sum(c, "events_harmful")
        persons = _last(c, "persons")
        var = sum(e + (e * e * np.expm1(sigma.get(b, 0.0) ** 2) / persons if persons > 0 else 0.0) for b, e in by.items())
        rows.append({"cell": name, "persons": persons, "expected": expected, "observed": observed, "averted": expected - observed,
                     "averted_per_person": (expected - observed) / persons if persons > 0 else np.nan,
                     "chance_sd": float(np.sqrt(var)),
                     "stress_end": _last(c, "stress_mean") if "stress_mean" in c.columns else np.nan})  # fmt: skip
    return pd.DataFrame(rows)


def _deterrence_on(rb: Rulebook) -> bool:
    return any(r.responses.deterrence.elasticity > 0 for _, r in rulebooks_in_force(rb))


def stress(res, baseline=None) -> Figure | None:
    """The mean stress index by group over time, above the harmful events observed against the rulebook's rates."""
    d = _daily(res)
    if d.empty or "stress_mean" not in d.columns:
        return None
    fig, axes = _figure(2, 1, height=7.4, sharex=True)
    ax = axes[0, 0]
    cells = _cells_of(res)
    colour = _colours([name for name, _ in cells[1:]])
    for name, c in cells[1:]:
        ax.plot(c["day"], c["stress_mean"], color=colour[name], linewidth=1.8, label=name)
    ax.plot(d["day"], d["stress_mean"], color=LISTED, linewidth=1.4, linestyle="--", label=ALL)
    ax.set_ylim(bottom=0)
    ax.set_title("The cost: mean stress index, by group (0: none, 1000: the most)")
    ax.set_ylabel("mean stress index")
    ax.legend(loc="upper left", title="group" if len(cells) > 1 else None)
    ax = axes[1, 0]
    days = d["day"].to_numpy()
    persons = d["persons"].where(d["persons"] > 0).to_numpy(np.float64)
    observed = pd.Series(d["events_harmful"].to_numpy(np.float64) / persons * 1000).rolling(7, min_periods=1).mean().to_numpy()
    ax.plot(days, observed, color=KIND_COLOURS["harmful"], linewidth=1.8, label="observed (7-day mean)")
    table = harm_averted(res)
    rb = _rulebook(res)
    if table is not None:
        expected = harmful_rate(rb, days) * 1000
        ax.plot(days, expected, color=BASELINE, linewidth=1.6, linestyle="--", label="at the rulebook's rates, without deterrence")
        ax.fill_between(days, observed, expected, where=expected >= observed, color=AVERTED, alpha=0.25, linewidth=0,
                        interpolate=True, label="averted")  # fmt: skip
        top = max(float(np.nanmax(observed)) if np.isfinite(observed).any() else 0.0, float(expected.max()))
    else:
        top = float(np.nanmax(observed)) if np.isfinite(observed).any() else 0.0
    if baseline is not None and "events_harmful" in baseline.daily.columns:  # the same run with the responses off
        b = _daily(baseline)
        base = pd.Series(b["events_harmful"].to_numpy(np.float64) / b["persons"].where(b["persons"] > 0).to_numpy(np.float64) * 1000)
        base = base.rolling(7, min_periods=1).mean().to_numpy()
        ax.plot(b["day"], base, color=BASELINE, linewidth=1.2, linestyle=":", label="baseline run, responses off (7-day mean)")
        top = max(top, float(np.nanmax(base)) if np.isfinite(base).any() else 0.0)
    ax.set_ylim(0, 1.25 * max(top, 1e-9))
    ax.set_title("The benefit: harmful behaviour events, observed and at the rulebook's rates")
    ax.set_ylabel("events per 1,000 residents per day")
    ax.set_xlabel("day of the run")
    ax.legend(loc="lower left", ncol=2)
    finding = f"Mean stress index {d['stress_mean'].iloc[-1]:,.0f} of 1000 at the end"
    if len(cells) > 1:
        finding += " (" + ", ".join(f"{name} {_last(c, 'stress_mean'):,.0f}" for name, c in cells[1:]) + ")"
    if table is not None:
        whole = table.iloc[0]
        if whole["averted"] >= 0:
            finding += (f"; {_n(whole['averted'])} harmful events averted: {_share(whole['averted'], whole['expected'])} fewer than "
                        f"the {_n(whole['expected'])} the rulebook's rates give ({whole['averted_per_person']:.2f} per resident)")  # fmt: skip
        else:
            finding += (f"; none averted: {_n(-whole['averted'])} more harmful events than the {_n(whole['expected'])} the "
                        f"rulebook's rates give ({_share(-whole['averted'], whole['expected'])} more)")  # fmt: skip
        if abs(whole["averted"]) < 2 * whole["chance_sd"]:
            finding += f", within chance (±{_n(2 * whole['chance_sd'])})"
    _finding(fig, finding)
    _caption(fig, res, "the stress index's form is assumed (rulebook responses.stress; docs/model.md, section 3.11); "
                       "averted: the rulebook's harmful rates minus the events observed, which counts every response "
                       "that lowers harmful behaviour, not only deterrence, and chance")  # fmt: skip
    return fig


def _stress_facts(res) -> tuple[list[str], list[list[str]], str] | None:
    if not has_stress(res):
        return None
    cells = _cells_of(res)
    rows = [["mean stress index on the last day (0-1000)"] + [f"{_last(c, 'stress_mean'):,.1f}" for _, c in cells]]
    table = harm_averted(res)
    note = ("The stress index's form is assumed: it moves toward a target that rises with perceived risk, being "
            "blacklisted and the share of one's first friends lost, with the rulebook's weights (responses.stress; "
            "docs/model.md, section 3.11, and the class Stress of the rulebook's schema); no published study measures "
            "wellbeing under a score.")  # fmt: skip
    if table is None:
        return _header(cells), rows, note + " The results carry no rulebook, so the harmful events averted cannot be counted."
    rows += [
        ["harmful events at the rulebook's rates, without deterrence (expected)"] + [_n(x) for x in table["expected"]],
        ["harmful events observed"] + [_n(x) for x in table["observed"]],
        ["harmful events averted (expected − observed)"] + [_n(x) for x in table["averted"]],
        ["averted per resident over the run"] + [f"{x:,.3f}" if np.isfinite(x) else "-" for x in table["averted_per_person"]],
        ["averted (share of the expected)"] + [_share(a, e) for a, e in zip(table["averted"], table["expected"])],
        ["chance alone moves the count by about (95%)"] + [f"±{_n(2 * x)}" for x in table["chance_sd"]],
    ]
    whole = table.iloc[0]
    note += (" The expected count is the sum over days of each harmful behaviour's rate / 365 per resident (the "
             "heterogeneity multiplier has mean 1). The events averted include anything else that lowers (or raises) "
             "harmful rates besides deterrence when the rulebook has it, such as the income feedback, and chance: the "
             "days' events and the draw of the residents' rates move the count by about "
             f"±{_n(2 * whole['chance_sd'])} (95%) for everyone, with no response at all.")  # fmt: skip
    rb = _rulebook(res)
    if rb is not None and not _deterrence_on(rb):
        note += " Deterrence is off in this run (responses.deterrence.elasticity 0): the difference is not deterrence."
    return _header(cells), rows, note


# --------------------------------------------------------------------------- the list

#: the figures of households, work and credit, after the other mechanisms'; each is in the report only when the run has it
HOUSEHOLD_FIGURES: list[FigureSpec] = [
    FigureSpec(
        "children", "Children of listed parents",
        "Children whose guardian or the guardian's partner is blacklisted, per 1,000 residents of each group (dashed: "
        "those whose parents would not be listed without false records), and the services applied for on behalf of "
        "children: denied (or granted) so far, in red those decided only by false records. The table gives the counts.",
        children, "The run's daily table does not count the children of listed parents.", shown_when=has_children,
        facts=_children_facts,
    ),
    FigureSpec(
        "lending", "Loans by score",
        "The share of loan applications refused by each group (30-day window), the loans granted and whether they will "
        "be repaid or defaulted, and the applications refused only because of false records (the score without them "
        "passes the threshold). The table gives the counts by group over the run.",
        lending, "The run's daily table does not count loans.", shown_when=has_lending, facts=_lending_facts,
    ),
    FigureSpec(
        "work", "Work: company sanctions and emotion monitoring",
        "Employees laid off when their company enters the company blacklist (in red: by companies listed only because "
        "of false records), the yearly income they lost and the mean company revenue; emotion flags at work, true and "
        "false, the dismissals after them and the income lost to dismissals after false flags. Counts are summed from "
        "the start of the run.",
        work, "The run's daily table counts neither layoffs nor emotion checks.", shown_when=has_work, facts=_work_facts,
    ),
    FigureSpec(
        "partnering", "Partners chosen by score",
        "Persons who formed a partnership during the run, per 1,000 residents of each group (partners are matched on "
        "score).",
        partnering, "The run's daily table does not count new partnerships.", shown_when=has_partnering,
        facts=_partnering_facts,
    ),
    FigureSpec(
        "commercial", "The commercial score",
        "The mean commercial score (beside the government's, reading its blacklist and income) by group and of "
        "everyone (dashed), day by day.",
        commercial, "The run's daily table has no commercial score.", shown_when=has_commercial, facts=_commercial_facts,
    ),
    FigureSpec(
        "stress", "Stress next to deterrence",
        "The cost and the benefit side by side. Above, the mean stress index of each group (0: none, 1000: the most). "
        "Below, harmful behaviour events per 1,000 residents a day as observed, against what the rulebook's harmful "
        "rates give with nothing lowering them: the shaded gap is the harmful behaviour averted. The table gives the "
        "stress at the end and the events averted over the run.",
        stress, "The run's daily table has no stress index.", shown_when=has_stress, facts=_stress_facts,
    ),
]  # fmt: skip
