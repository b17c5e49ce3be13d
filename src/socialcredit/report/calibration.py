"""The HTML report of a calibration: what was fitted to what, simulated against published at every target,
the forecast errors on held-out targets, the optimisation history and which parameters mattered.

``write_calibration_report(folder)`` writes ``report.html`` (self-contained,
figures embedded, nothing from the network) and ``figures/*.png`` into the
calibration folder, each atomically.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import matplotlib.pyplot as plt
import numpy as np

from socialcredit.experiments import plots
from socialcredit.experiments.calibration import read_calibration
from socialcredit.report.figures import png_bytes
from socialcredit.report.html import CSS, _e, _num, figure_sections, save_page


def _figures(cal: dict[str, Any]) -> list[tuple[str, str, str, bytes]]:
    out = []
    if cal["fit"] is not None and cal["curves"] is not None:
        fig = plots.calibration_fit(cal["fit"], cal["curves"], cal.get("start"))
        out.append(("fit", "Simulated against published", "Lines: the fitted run (mean over seeds). Dots: published figures "
                    "(filled: fitted; open: held out and forecast). Crosses: the simulated value at each date, with its range across seeds.", png_bytes(fig)))  # fmt: skip
        plt.close(fig)
    if cal["history"] is not None and len(cal["history"]):
        fig = plots.calibration_history(cal["history"])
        out.append(("history", "Optimisation history", "Each trial's objective (weighted mean absolute relative error over "
                    "the fitted targets, averaged over seeds) and the best so far.", png_bytes(fig)))  # fmt: skip
        plt.close(fig)
    if cal.get("importance"):
        fig = plots.calibration_importance(cal["importance"])
        out.append(("importance", "Which parameters mattered", "Optuna's PED-ANOVA importance of each parameter for the objective "
                    "over the finished trials (how much the best trials differ from the rest in it; the importances sum to 1).", png_bytes(fig)))  # fmt: skip
        plt.close(fig)
    return out


def _pct(x: float) -> str:
    return "-" if x != x else f"{x:+.1%}"


def render_calibration_report(cal: dict[str, Any], figures: list[tuple[str, str, str, bytes]]) -> str:
    best = cal.get("best") or {}
    title = f"Calibration of {cal['source']}"
    parts = [
        "<!DOCTYPE html>", '<html lang="en"><head><meta charset="utf-8">',
        '<meta name="viewport" content="width=device-width, initial-scale=1">',
        f"<title>{_e(title)}</title>", f"<style>{CSS}</style></head><body>", f"<h1>{_e(title)}</h1>",
        f'<p class="sub">Optuna {_e(cal["sampler"])}, {cal["trials"]} trials x {len(cal["seeds"])} seed(s) at '
        f'{cal["persons"]:,} persons; best objective <b>{_num(best.get("objective", float("nan")))}</b> (trial {best.get("trial", "-")})'
        + (f'; fitted up to <b>{_e(cal["holdout_after"])}</b>, mean forecast error after it <b>{cal["forecast_error"]:.1%}</b>'
           if cal.get("holdout_after") and "forecast_error" in cal else "") + "</p>",
        '<p class="note">Simulations on <b>synthetic</b> populations. The objective is the weighted mean absolute '
        "relative error between simulated and published figures over the fitted targets, averaged over seeds "
        "(the same seeds in every trial).</p>",
        '<h2 id="values">Fitted values</h2><table><tr><th>key</th><th>range</th><th>before</th><th>fitted</th></tr>',
    ]  # fmt: skip
    for p in cal["params"]:
        v = (best.get("values") or {}).get(p["key"], float("nan"))
        parts.append(f'<tr><td><code>{_e(p["key"])}</code></td><td>{_num(p["low"])} to {_num(p["high"])}{" (log)" if p["log"] else ""}</td>'
                     f'<td class="num">{_num(p["value"])}</td><td class="num"><b>{v:.4g}</b></td></tr>')  # fmt: skip
    parts.append("</table>")
    fit = cal["fit"]
    if fit is not None:
        parts.append('<h2 id="targets">Every target</h2><table><tr><th>date</th><th>series</th><th>measure</th><th>role</th>'
                     "<th>published</th><th>simulated [range over seeds]</th><th>error</th><th>source</th></tr>")  # fmt: skip
        for r in fit.to_dict("records"):
            sim = "-" if r["simulated"] != r["simulated"] else f'{r["simulated"]:,.4g} [{r["simulated_min"]:,.4g}, {r["simulated_max"]:,.4g}]'
            parts.append(f'<tr><td>{_e(r["date"] if isinstance(r["date"], str) else r["day"])}</td><td>{_e(r["series"])}</td>'
                         f'<td><code>{_e(r["measure"] if isinstance(r["measure"], str) else "")}</code></td><td>{_e(r["role"])}</td>'
                         f'<td class="num">{r["value"]:,.4g}</td><td class="num">{_e(sim)}</td><td class="num">{_e(_pct(r["error"]))}</td>'
                         f'<td>{_e(r["source"] if isinstance(r["source"], str) else "")}</td></tr>')  # fmt: skip
        parts.append("</table>")
        for role in ("fitted", "forecast"):
            e = fit.loc[fit["role"] == role, "error"].dropna()
            if len(e):
                parts.append(f'<p>{role}: {len(e)} targets, mean absolute error {np.abs(e).mean():.1%}, largest {np.abs(e).max():.1%}.</p>')
    if cal.get("importance"):
        parts.append('<h2 id="importance-table">Which parameters mattered</h2><table><tr><th>key</th><th>importance</th></tr>')
        for k, v in sorted(cal["importance"].items(), key=lambda kv: -kv[1]):
            parts.append(f'<tr><td><code>{_e(k)}</code></td><td class="num">{v:.3f}</td></tr>')
        parts.append("</table>")
    if cal.get("notes"):
        parts.append("<h2>Notes</h2><ul>" + "".join(f"<li>{_e(n)}</li>" for n in cal["notes"]) + "</ul>")
    parts.extend(figure_sections(figures))
    parts.append("<footer>Written by <code>socialcredit calibrate</code>. The fitted rulebook is <code>fitted.yaml</code>; "
                 "the tables are <code>fit.csv</code>, <code>curves.csv</code> and <code>history.csv</code>; the study is "
                 "<code>study.db</code> (Optuna).</footer></body></html>")  # fmt: skip
    return "\n".join(parts)


def write_calibration_report(folder: str | os.PathLike) -> Path:
    """Write ``report.html`` and ``figures/*.png`` into a calibration folder; returns the report's path."""
    cal = read_calibration(folder)
    figures = _figures(cal)
    return save_page(Path(folder), render_calibration_report(cal, figures), figures)


__all__ = ["render_calibration_report", "write_calibration_report"]
