"""The HTML report of a run: one self-contained file that opens offline in any browser.

``write_report(run_dir)`` reads a run folder, draws the figures of
:mod:`socialcredit.report.figures`, saves each as ``figures/<name>.png`` and
writes ``report.html`` with the scenario's description and sources, the
summary and every figure embedded as a base64 PNG. The page loads nothing
from the network: no external CSS, scripts, fonts or images; the only links
are the scenario's sources. A figure the run has nothing for is replaced by
a one-line note saying why; the figures of a mechanism the rulebook does not
have (enrolment, faults, targeting, surveillance that follows its findings;
households, work and credit) have no section at all (:func:`socialcredit.report.figures.figures_for`).

Nothing already in the run folder is changed: each file is written to a
temporary name and renamed into place, so an interrupted report leaves the
previous one (or none), never half a file.
"""

from __future__ import annotations

import base64
import html
import math
import os
from pathlib import Path
from typing import Any

from socialcredit.analysis.behaviour import baseline_overrides, behaviour_change
from socialcredit.analysis.errors import error_summary
from socialcredit.analysis.mobility import mobility_summary
from socialcredit.analysis.scale import scaled
from socialcredit.engine.measures import BEHAVIOUR_KINDS, RESPONSES
# the summary's entries in words, declared with the measures (engine/measures.py)
from socialcredit.engine.measures import REPORT_LABELS as LABELS
from socialcredit.errors import InputError
from socialcredit.files import write_atomic
from socialcredit.report.figures import draw_figures, figures_for
from socialcredit.results.reader import read_results
from socialcredit.rulebook.document import parse_document

CSS = """
body { font-family: -apple-system, "Segoe UI", Helvetica, Arial, sans-serif; color: #1d1d1d;
       max-width: 1140px; margin: 2em auto; padding: 0 1em; line-height: 1.5; }
h1 { font-size: 1.7em; margin-bottom: 0.2em; }
h2 { font-size: 1.3em; margin-top: 2em; border-bottom: 1px solid #ddd; padding-bottom: 0.2em; }
.sub { color: #555; margin-top: 0; }
.note { background: #f4f6f8; border-left: 4px solid #8899aa; padding: 0.6em 1em; }
table { border-collapse: collapse; margin: 0.5em 0; }
td, th { padding: 0.25em 0.9em 0.25em 0; text-align: left; vertical-align: top; border-bottom: 1px solid #eee; }
td.num { text-align: right; font-variant-numeric: tabular-nums; }
figure { margin: 0.5em 0 1.5em 0; }
figure img { width: 100%; height: auto; border: 1px solid #eee; }
figcaption, .about { color: #444; }
.skipped { color: #666; font-style: italic; }
nav a { margin-right: 1em; }
footer { margin-top: 3em; color: #666; font-size: 0.9em; }
"""


def figure_sections(figures: list[tuple[str, str, str, bytes]]) -> list[str]:
    """One ``<section>`` per (name, heading, caption, png) figure, the PNG embedded as base64."""
    out = []
    for name, heading, caption, png in figures:
        data = base64.b64encode(png).decode("ascii")
        out.append(f'<section id="fig-{_e(name)}"><h2>{_e(heading)}</h2><figure><img class="figure" alt="{_e(heading)}" '
                   f'src="data:image/png;base64,{data}"><figcaption>{_e(caption)}</figcaption></figure></section>')  # fmt: skip
    return out


def facts_table(header: list[str], rows: list[list[str]]) -> str:
    """A small table of text under a figure: a header row, then rows whose first cell names the measure."""
    out = ['<table class="facts"><tr>' + "".join(f"<th>{_e(h)}</th>" for h in header) + "</tr>"]
    for row in rows:
        out.append(f"<tr><td>{_e(row[0])}</td>" + "".join(f'<td class="num">{_e(x)}</td>' for x in row[1:]) + "</tr>")
    out.append("</table>")
    return "".join(out)


def save_page(folder: Path, page: str, figures: list[tuple[str, str, str, bytes]]) -> Path:
    """Write ``figures/<name>.png`` and ``report.html`` into ``folder``, each atomically; returns the page's path."""
    fig_dir = folder / "figures"
    fig_dir.mkdir(exist_ok=True)
    for name, _, _, png in figures:
        write_atomic(fig_dir / f"{name}.png", png)
    path = folder / "report.html"
    write_atomic(path, page.encode("utf-8"))
    return path


def scenario_meta(res) -> dict[str, Any]:
    """The rulebook's ``meta`` section (title, description, sources) as plain data; empty when the run kept no rulebook."""
    if not res.rulebook_yaml:
        return {}
    data = parse_document(res.rulebook_yaml, "rulebook.yaml of the run").data  # alias and size limits: a run folder may come from anyone
    meta = data.get("meta") or {}
    return meta if isinstance(meta, dict) else {}


def _e(x: Any) -> str:
    return html.escape(str(x), quote=True)


def _num(x: Any) -> str:
    if isinstance(x, float):
        return f"{x:,.4g}" if abs(x) < 1e4 else f"{x:,.0f}"
    if isinstance(x, int):
        return f"{x:,}"
    return str(x)


def summary_rows(res, baseline=None) -> list[tuple[str, str]]:
    """The run's key figures as (measure, value) rows, in the order a reader needs them."""
    s = res.summary()
    rows: list[tuple[str, str]] = [
        (LABELS["persons"], f"{s['persons']:,}"),
        (LABELS["days"], f"{s['days']:,}"),
        (LABELS["seed"], str(s.get("seed"))),
    ]
    if "score_mean" in s:
        rows.append((LABELS["score_mean"], f"{s['score_mean']:.4g} ({s['score_p10']:.4g} - {s['score_p90']:.4g}) points"))
        rows.append((LABELS["tier_shares"], ", ".join(f"{k} {v:.1%}" for k, v in s["tier_shares"].items())))
        rows.append((LABELS["blacklisted"], f"{s['blacklisted']:,} ({s['blacklisted_wrongly']:,})"))
        rows.append((LABELS["redlisted"], f"{s['redlisted']:,}"))
    rows.append((LABELS["blacklist_entries"], f"{s['blacklist_entries']:,}"))
    total = s["records_true"] + s["records_false"]
    rows.append((LABELS["records_true"], f"{s['records_true']:,} / {s['records_false']:,} ({(s['records_false'] / total if total else 0):.2%} false)"))
    services = s.get("services", {}).values()
    punish = [v for v in services if v["kind"] == "punishment"]
    reward = [v for v in services if v["kind"] == "reward"]
    if punish:
        denied, wrongful = sum(v["denied"] for v in punish), sum(v["wrongful"] for v in punish)
        rows.append((LABELS["denied"],
                     f"{denied:,} ({wrongful:,}) of {sum(v['attempts'] for v in punish):,} attempts"))  # fmt: skip
    if reward:
        rows.append((LABELS["granted"],
                     f"{sum(v['granted'] for v in reward):,} ({sum(v['lost_to_false_records'] for v in reward):,}) "
                     f"of {sum(v['attempts'] for v in reward):,} attempts"))  # fmt: skip
    kinds = s.get("events_by_kind")
    if kinds:
        rows.append((LABELS["events_by_kind"], " / ".join(f"{kinds[k]:,}" for k in BEHAVIOUR_KINDS)))
    if s.get("friends_of_others") is not None:
        bl = s.get("friends_of_blacklisted")
        rows.append((LABELS["friends_of_blacklisted"], f"{'-' if bl is None else f'{bl:.2f}'} / {s['friends_of_others']:.2f}"))
    if s.get("score_assortativity") is not None:
        rows.append((LABELS["score_assortativity"], f"{s['score_assortativity']:.3f}"))
    for key, value in s.get(RESPONSES, {}).items():
        rows.append((LABELS.get(key, key.replace("_", " ")), f"{value:,}"))
    e = error_summary(res)
    if e["person_days_blacklisted"] > 0:
        rows.append((
            "days spent on the blacklist only because of false records (person-days)",
            f"{e['person_days_wrongly_blacklisted']:,} of {e['person_days_blacklisted']:,} ({e['wrongly_blacklisted_share_of_person_days']:.1%})",
        ))  # fmt: skip
    if e["false_records_audited"] > 0:
        rows.append((
            "false records of the audited residents: cleared by appeal / by expiry / still counting",
            f"{e['cleared_by_appeal']:,} / {e['cleared_by_expiry']:,} / {e['still_counting']:,}",
        ))  # fmt: skip
        median = e["median_days_to_clear"]
        rows.append((
            "median days a false record counts (audited residents, Kaplan-Meier)",
            f"{median:,.0f}" if not math.isnan(median) else "more than the run (over half still count at the end)",
        ))  # fmt: skip
    mob = mobility_summary(res)
    if mob["sample"] and mob["ever_in_bottom"]:
        years = mob["median_years_to_leave"]
        rows.append((
            f"audited residents ever in the bottom tiers ({', '.join(mob['tiers'])}); of them, never left",
            f"{mob['share_ever_in_bottom']:.1%} of {mob['sample']:,}; {mob['share_never_left']:.1%}",
        ))  # fmt: skip
        rows.append((
            "median time to leave the bottom tiers (Kaplan-Meier)",
            f"{years:.2g} years" if not math.isnan(years) else "longer than the run (over half never left)",
        ))  # fmt: skip
    if s.get("scale_to"):
        to = s["scale_to"]
        for label, count in (
            ("blacklisted at the end", s.get("blacklisted", 0)),
            ("blacklisted at the end only because of false records", s.get("blacklisted_wrongly", 0)),
            ("false records over the run", s["records_false"]),
            ("wrongful denials over the run", e["wrongful_denials"]),
        ):
            rows.append((f"scaled to {to:,.0f} residents: {label}", f"about {scaled(count, res):,.0f}"))
    if baseline is not None:
        for r in behaviour_change(res, baseline).itertuples():
            if r.baseline_events == 0 and r.events == 0:
                rows.append((f"{r.effect}: {r.kind} events against the baseline", f"no {r.kind} events in either run"))
                continue
            se = "" if math.isnan(r.se) else f" ± {r.se:.1%}"  # NaN when the runs cannot be paired
            rows.append((f"{r.effect}: {r.kind} events against the baseline", f"{r.events:,} vs {r.baseline_events:,} ({r.effect_size:+.1%}{se})"))
    return rows


def _has_responses(res) -> bool:
    """Whether the run's rulebook has behavioural responses a baseline would switch off."""
    return bool(res.rulebook_yaml) and bool(baseline_overrides(res))


def _sources(meta: dict[str, Any]) -> str:
    items = []
    for src in meta.get("sources") or []:
        if not isinstance(src, dict):
            continue
        title = _e(src.get("title") or src.get("id") or "")
        url = str(src.get("url") or "")
        if url.startswith(("http://", "https://")):
            title = f'<a href="{_e(url)}">{title}</a> <span class="sub">({_e(url)})</span>'
        used = f" <span class=\"sub\">used for: {_e(src['used_for'])}</span>" if src.get("used_for") else ""
        items.append(f"<li>{title}{used}</li>")
    if not items:
        return "<p class=\"skipped\">The rulebook lists no sources.</p>"
    return "<ul>" + "\n".join(items) + "</ul>"


def render_report(res, figures: dict[str, bytes | None], baseline=None, preface: list[str] = ()) -> str:
    """The report page as one HTML string, figures embedded as base64 PNG; ``preface``: HTML put before the summary."""
    meta = scenario_meta(res)
    title = meta.get("title") or res.meta.get("title") or res.meta.get("scenario") or "run"
    description = " ".join(str(meta.get("description") or "").split())
    m = res.meta
    parts = [
        "<!DOCTYPE html>",
        '<html lang="en"><head><meta charset="utf-8">',
        '<meta name="viewport" content="width=device-width, initial-scale=1">',
        f"<title>{_e(title)}: report</title>",
        f"<style>{CSS}</style></head><body>",
        f"<h1>{_e(title)}</h1>",
        f'<p class="sub">scenario <b>{_e(m.get("scenario", ""))}</b>: {m.get("persons", 0):,} synthetic residents, '
        f'{m.get("days", 0):,} days, seed {_e(m.get("seed"))}, socialcredit {_e(m.get("version", ""))}</p>',
        '<p class="note">A simulation on a <b>synthetic</b> population: no real person is described here. '
        "The numbers show what the rules, as written in the scenario's rulebook, do to a made-up society.</p>",
    ]
    if description:
        parts.append(f'<p><b>The scenario.</b> {_e(description)} <span class="sub">(The scenario\'s own description; '
                     f'this run\'s size is given above.)</span></p>')  # fmt: skip
    parts.extend(preface)
    specs = figures_for(res)
    links = [("summary", "Summary")] + [(f"fig-{s.name}", s.heading) for s in specs] + [("sources", "Sources")]
    parts.append("<nav>" + "".join(f'<a href="#{i}">{_e(h)}</a>' for i, h in links) + "</nav>")
    parts.append('<h2 id="summary">Summary</h2><table>')
    for label, value in summary_rows(res, baseline):
        parts.append(f'<tr><td>{_e(label)}</td><td class="num">{_e(value)}</td></tr>')
    parts.append("</table>")
    if baseline is None and _has_responses(res):
        parts.append(
            '<p class="sub">No baseline run: run with <code>socialcredit run ... --report --baseline</code> '
            "to measure how much the system changes behaviour (deterrence, chilling, gaming) with effect sizes.</p>"
        )
    for spec in specs:
        parts.append(f'<section id="fig-{spec.name}"><h2>{_e(spec.heading)}</h2>')
        png = figures.get(spec.name)
        if png is None:
            parts.append(f'<p class="skipped">Not shown: {_e(spec.skipped)}</p>')
        else:
            data = base64.b64encode(png).decode("ascii")
            parts.append(
                f'<figure><img class="figure" alt="{_e(spec.heading)}" src="data:image/png;base64,{data}">'
                f"<figcaption>{_e(spec.about)}</figcaption></figure>"
            )
        facts = spec.facts(res) if spec.facts is not None else None
        if facts:
            parts.append(facts_table(*facts[:2]))
            if len(facts) > 2 and facts[2]:  # a sentence under the table: what the numbers include, what is assumed
                parts.append(f'<p class="about">{_e(facts[2])}</p>')
        parts.append("</section>")
    parts.append('<h2 id="sources">Sources</h2>')
    parts.append("<p>The publications the scenario's numbers come from (each value in the rulebook names its source "
                 "or says it was assumed: <code>socialcredit scenarios show NAME</code>).</p>")  # fmt: skip
    parts.append(_sources(meta))
    parts.append(
        "<footer>Written by <code>socialcredit report</code>. Each figure is also in the run folder as "
        "<code>figures/&lt;name&gt;.png</code>; the data behind them are in <code>results.duckdb</code>.</footer>"
    )
    parts.append("</body></html>")
    return "\n".join(parts)


def write_report(run_dir: str | os.PathLike, baseline_dir: str | os.PathLike | None = None) -> Path:
    """Write ``report.html`` and ``figures/<name>.png`` into a run folder; returns the report's path.

    ``baseline_dir``: a run of the same rulebook and seed with the behavioural
    responses off, for the behaviour figure's effect sizes; by default
    ``run_dir/baseline`` when it exists.
    """
    run_dir = Path(run_dir)
    res = read_results(run_dir)
    if not res.rulebook_yaml:  # the scenario's description, sources and responses come from it
        raise InputError(
            "not a complete run folder: rulebook.yaml is missing",
            file=str(run_dir),
            hint="pass a folder written by 'socialcredit run' (or sc.run(...).save(folder))",
        )
    if baseline_dir is None and (run_dir / "baseline").is_dir():
        baseline_dir = run_dir / "baseline"
    baseline = None
    if baseline_dir is not None:
        if Path(baseline_dir).resolve() == run_dir.resolve():
            raise InputError("the baseline is the run itself", file=str(baseline_dir), hint="pass another run folder as --baseline")
        baseline = read_results(baseline_dir)
    figures = draw_figures(res, baseline)
    page = render_report(res, figures, baseline).encode("utf-8")  # everything is made before anything is written
    fig_dir = run_dir / "figures"
    fig_dir.mkdir(exist_ok=True)
    for name, png in figures.items():
        if png is not None:
            write_atomic(fig_dir / f"{name}.png", png)
    report = run_dir / "report.html"
    write_atomic(report, page)
    return report
