"""The report a user takes away from the dashboard: the run's report, led by what was changed and what it did.

It is the project's report page (:func:`socialcredit.report.html.render_report`
with the report's own figures), with two sections in front: the values
changed on the dashboard (with their values in the rulebook) and the key
measures of the changed run beside its baseline.
"""

from __future__ import annotations

import html
import math
from typing import Any

from socialcredit.report.figures import draw_figures
from socialcredit.report.html import render_report

from socialcredit.dashboard.panels import key_table


def _num(x: float) -> str:
    if not math.isfinite(x):
        return "–"
    return f"{x:,.4g}" if abs(x) < 1e4 else f"{x:,.0f}"


def report_page(baseline, changed, changes: dict[str, Any], was: dict[str, Any], baseline_name: str) -> str:
    """One self-contained HTML page (figures embedded), as the dashboard shows the two runs."""
    e = html.escape
    preface = ['<h2 id="changes">Changed on the dashboard</h2>']
    if changes:
        preface.append("<table><tr><th>value</th><th>in the rulebook</th><th>in this run</th></tr>")
        preface += [f"<tr><td><code>{e(k)}</code></td><td>{e(str(was.get(k)))}</td><td>{e(str(v))}</td></tr>" for k, v in changes.items()]
        preface.append("</table>")
    else:
        preface.append("<p>Nothing: this run is the rulebook as it is.</p>")
    table = key_table(baseline, changed)
    preface.append(f'<h2 id="against">Against the baseline ({e(baseline_name)}, the same seed and size)</h2><table>')
    preface.append("<tr><th>measure</th><th>baseline</th><th>changed</th><th>difference</th></tr>")
    for _, row in table.iterrows():
        preface.append(f'<tr><td>{e(row["measure"])}</td><td class="num">{_num(row["baseline"])}</td>'
                       f'<td class="num">{_num(row["changed"])}</td><td class="num">{_num(row["difference"])}</td></tr>')  # fmt: skip
    preface.append("</table>")
    if not table.attrs.get("same_design", True):
        preface.append('<p class="note">The two runs do not share a design, so their difference includes chance: '
                       + e("; ".join(table.attrs.get("design_differences", []))) + "</p>")  # fmt: skip
    preface.append("<p>Below: the report of the changed run.</p>")
    return render_report(changed, draw_figures(changed), None, preface)
