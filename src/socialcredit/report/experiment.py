"""The HTML report of an experiment: the design, every measure per arm with its 95% interval
across seeds, paired differences between arms with what the pairing bought, and the figures.

``write_experiment_report(folder)`` writes ``report.html`` (self-contained:
figures embedded as base64 PNG, no script, nothing from the network) and
``figures/*.png`` into the experiment folder, each through a temporary file
and a rename, so the stored results are never touched.
"""

from __future__ import annotations

import os
from pathlib import Path

import matplotlib.pyplot as plt

from socialcredit.experiments import plots
from socialcredit.experiments.results import ExperimentResults, read_experiment
from socialcredit.experiments.sensitivity import FLOORS, read_sensitivity
from socialcredit.report.figures import png_bytes
from socialcredit.report.html import CSS, _e, _num, figure_sections, save_page


def _ci(mean: float, lo: float, hi: float) -> str:
    if lo != lo:
        return _num(mean)
    return f"{_num(mean)} [{_num(lo)}, {_num(hi)}]"


def _figures(res: ExperimentResults) -> list[tuple[str, str, str, bytes]]:
    """(name, heading, caption, png) for each figure the experiment has data for."""
    out = []
    indices = read_sensitivity(res.folder)
    if indices is not None:
        fig = plots.sensitivity(indices, FLOORS)
        out.append(("sensitivity", "Which factors drive each measure",
                    "Global sensitivity indices, largest first, with their confidence intervals; in grey the dummy factor, "
                    "which changes nothing (an index not clearly above it is noise), and the seed noise: the index noise alone "
                    "would reach if the points did not share their seeds.", png_bytes(fig)))  # fmt: skip
        plt.close(fig)
    if len(res.daily):
        fig = plots.series(res)
        out.append(("series", "Daily series across seeds",
                    "The mean over seeds of each arm (and sweep point) on each day, with the 95% interval across seeds as a band.",
                    png_bytes(fig)))  # fmt: skip
        plt.close(fig)
    many = (res.spec.get("sweep") or {}).get("design") == "points" and len(res.parameters) > 4
    if res.parameters and res.measures and not many:  # a sensitivity design's points are read through its indices
        fig = plots.sweep(res)
        out.append(("sweep", "Measures against the swept values",
                    "Each point's mean over its seeds with the 95% interval, against each swept rulebook value.", png_bytes(fig)))  # fmt: skip
        plt.close(fig)
    arms = res.arms
    for b in arms[1:]:
        fig = plots.differences(res, arms[0], b)
        out.append((f"differences-{b}", f"{b} against {arms[0]}",
                    "Paired differences by seed, as a percentage of the first arm's mean: thick, the paired 95% interval; "
                    "thin, the interval an unpaired comparison of the same runs would give.", png_bytes(fig)))  # fmt: skip
        plt.close(fig)
    return out


def render_experiment_report(res: ExperimentResults, figures: list[tuple[str, str, str, bytes]]) -> str:
    spec = res.spec
    title = spec.get("title") or res.name
    counts = res.status()
    ok = res.runs[res.runs["status"] == "ok"]
    seeds = int(ok.groupby(["arm", "point"])["seed"].nunique().min()) if len(ok) else 0
    parts = [
        "<!DOCTYPE html>", '<html lang="en"><head><meta charset="utf-8">',
        '<meta name="viewport" content="width=device-width, initial-scale=1">',
        f"<title>{_e(title)}: experiment report</title>", f"<style>{CSS}</style></head><body>",
        f"<h1>{_e(title)}</h1>",
        f'<p class="sub">experiment <b>{_e(res.name)}</b>: base <b>{_e(spec.get("base", ""))}</b>, '
        f'{len(res.arms)} arm(s), {seeds} seed(s) per arm and point, {counts["ok"]:,} of {counts["total"]:,} runs finished'
        + (f', <b>{counts["failed"]:,} failed</b>' if counts["failed"] else "") + "</p>",
        '<p class="note">Simulations on <b>synthetic</b> populations: no real person is described here. '
        "Every figure is a mean over independent seeds with its 95% interval across seeds; arms share their "
        "random numbers seed by seed (common random numbers), so their paired differences are the rules', not noise.</p>",
    ]  # fmt: skip
    if spec.get("description"):
        parts.append(f"<p>{_e(' '.join(str(spec['description']).split()))}</p>")
    parts.append('<h2 id="design">Design</h2><table>')
    design = [("base rulebook", spec.get("base", "")), ("persons", spec.get("persons", "as in the rulebook")),
              ("days", spec.get("days", "as in the rulebook")), ("seeds", spec.get("seeds"))]  # fmt: skip
    for k, v in (spec.get("set") or {}).items():
        design.append((f"set {k}", v))
    for arm in spec.get("arms") or []:
        what = arm.get("scenario") or ""
        sets = ", ".join(f"{k}={v}" for k, v in (arm.get("set") or {}).items())
        design.append((f"arm {arm.get('name')}", "; ".join(x for x in (what, sets, arm.get("description", "")) if x) or "the base"))
    if spec.get("sweep"):
        sw = spec["sweep"]
        design.append(("sweep", f"{sw.get('design')}" + (f", {sw.get('points')} points" if sw.get("points") else "")))
        for k, p in (sw.get("parameters") or {}).items():
            design.append((f"swept {k}", p.get("values") if p.get("values") is not None else f"{p.get('low')} to {p.get('high')}"))
    for label, value in design[:40]:
        parts.append(f'<tr><td>{_e(label)}</td><td>{_e(value)}</td></tr>')
    if len(design) > 40:
        parts.append(f'<tr><td colspan="2">... and {len(design) - 40} more (experiment.yaml)</td></tr>')
    parts.append("</table>")
    indices = read_sensitivity(res.folder)
    if indices is not None:
        parts.append('<h2 id="sensitivity">Which factors drive each measure</h2>')
        parts.append("<p>Global sensitivity analysis (<code>socialcredit sensitivity</code>): each factor's index, "
                     "largest first; the dummy factor changes nothing, so its index is the noise floor under common random numbers; "
                     "the seed noise row is the index seed noise alone would reach if the points did not share their seeds (an upper bound).</p>")  # fmt: skip
        cols = [c for c in indices.columns if c not in ("measure",)]
        for m, rows in indices.groupby("measure", sort=False):
            parts.append(f"<h3>{_e(m)}</h3><table><tr>" + "".join(f"<th>{_e(c)}</th>" for c in cols) + "</tr>")
            for r in rows.head(12).itertuples(index=False):
                cells = "".join(f'<td class="num">{_e(_num(v))}</td>' if isinstance(v, float) else f"<td>{_e(v)}</td>"
                                for c, v in zip(rows.columns, r) if c != "measure")  # fmt: skip
                parts.append(f"<tr>{cells}</tr>")
            parts.append("</table>")
    if len(ok):
        summary = res.summary()
        measures = [m for m in res.measures if not (summary.loc[summary["measure"] == m, "mean"].fillna(0) == 0).all()]
        parts.append('<h2 id="summary">Every measure: mean [95% interval] across seeds</h2>')
        if res.parameters:
            parts.append(f"<p>Per sweep point ({', '.join(_e(p) for p in res.parameters)}); the table shows the key measures, "
                         "the figure below every point.</p>")  # fmt: skip
            measures = [m for m in measures if m in ("score_mean", "blacklisted", "blacklisted_wrongly", "records_false")]
        parts.append("<table><tr><th>arm</th>" + "".join(f"<th>{_e(p)}</th>" for p in res.parameters)
                     + "".join(f"<th>{_e(m)}</th>" for m in measures) + "</tr>")  # fmt: skip
        for (arm, point), g in summary.groupby(["arm", "point"] if "point" in summary.columns else ["arm", "arm"], sort=False):
            g = g.set_index("measure")
            vals = "".join(f"<td>{_e(g[p].iloc[0])}</td>" for p in res.parameters)
            cells = "".join(f'<td class="num">{_e(_ci(g.at[m, "mean"], g.at[m, "lo"], g.at[m, "hi"]))}</td>' for m in measures)
            parts.append(f"<tr><td>{_e(arm)}</td>{vals}{cells}</tr>")
        parts.append("</table>")
        arms = res.arms
        for b in arms[1:]:
            d = res.differences(arms[0], b)
            d = d[d["measure"].isin(measures)]
            same = d[(d["difference"] == 0) & ~(d["se_paired"] > 0)]
            d = d.drop(same.index)
            parts.append(f'<h2 id="diff-{_e(b)}">Paired differences: {_e(b)} - {_e(arms[0])}</h2>')
            parts.append("<table><tr><th>measure</th>" + "".join(f"<th>{_e(p)}</th>" for p in res.parameters)
                         + "<th>difference [95% interval]</th><th>SE paired</th><th>SE unpaired</th><th>pairing gain</th></tr>")  # fmt: skip
            for r in d.to_dict("records"):
                g = r["pairing_gain"]
                gain = "-" if g != g else ("inf" if g == float("inf") else f"{g:.1f}x")
                vals = "".join(f"<td>{_e(r[p])}</td>" for p in res.parameters)
                parts.append(f'<tr><td>{_e(r["measure"])}</td>{vals}<td class="num">{_e(_ci(r["difference"], r["lo"], r["hi"]))}</td>'
                             f'<td class="num">{_e(_num(r["se_paired"]))}</td><td class="num">{_e(_num(r["se_unpaired"]))}</td>'
                             f'<td class="num">{_e(gain)}</td></tr>')  # fmt: skip
            parts.append("</table>")
            if len(same):
                parts.append(f'<p class="sub">Identical in both arms, seed by seed: {_e(", ".join(dict.fromkeys(same["measure"])))}.</p>')
            parts.append("<p class=\"sub\">Pairing gain: (unpaired / paired standard error)<sup>2</sup>, how many "
                         "times the seeds an unpaired comparison would need for the same precision.</p>")  # fmt: skip
    failed = res.runs[res.runs["status"] == "failed"]
    if len(failed):
        parts.append('<h2 id="failed">Failed runs</h2><table><tr><th>run</th><th>error</th></tr>')
        for r in failed.head(50).itertuples(index=False):
            parts.append(f"<tr><td>{_e(r.run_id)}</td><td><pre>{_e(r.error)}</pre></td></tr>")
        parts.append("</table>")
    parts.extend(figure_sections(figures))
    parts.append("<footer>Written by <code>socialcredit report</code>. The figures are also in <code>figures/</code>; "
                 "the data are in <code>results.duckdb</code> (tables runs, summary, daily).</footer></body></html>")  # fmt: skip
    return "\n".join(parts)


def write_experiment_report(folder: str | os.PathLike) -> Path:
    """Write ``report.html`` and ``figures/*.png`` into an experiment folder; returns the report's path."""
    res = read_experiment(folder)
    figures = _figures(res)
    return save_page(res.folder, render_experiment_report(res, figures), figures)


__all__ = ["write_experiment_report", "render_experiment_report"]
