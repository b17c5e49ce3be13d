"""Plots of a run's main series: scores, tiers, lists and denials."""

from __future__ import annotations

import matplotlib

from socialcredit.literal import figures

if matplotlib.get_backend().lower() not in ("agg", "module://matplotlib_inline.backend_inline"):
    try:  # headless by default; notebooks keep their inline backend
        import IPython  # noqa: F401

        if IPython.get_ipython() is None:
            matplotlib.use("Agg")
    except ImportError:
        matplotlib.use("Agg")

import matplotlib.pyplot as plt
import numpy as np


@figures
def plot_main(results, path: str | None = None, show: bool = False):
    """Four panels: score band, tier shares, list sizes, cumulative denials (wrongful shaded)."""
    daily = results.to_df("daily")
    meta = results.meta
    days = daily["day"].to_numpy()
    fig, axes = plt.subplots(2, 2, figsize=(12, 8), constrained_layout=True)
    title = meta.get("title") or meta.get("scenario", "run")
    fig.suptitle(f"{title}: {meta.get('persons', 0):,} persons, {meta.get('days', 0)} days (seed {meta.get('seed')})")

    ax = axes[0, 0]
    ax.fill_between(days, daily["score_p10"], daily["score_p90"], alpha=0.3, label="10th-90th percentile")
    ax.plot(days, daily["score_p50"], label="median")
    ax.plot(days, daily["score_mean"], linestyle="--", label="mean")
    ax.set_title("Score distribution over time")
    ax.set_xlabel("day")
    ax.set_ylabel("score (points)")
    ax.legend(loc="best", fontsize=8)

    ax = axes[0, 1]
    tiers = meta.get("tiers", [])
    shares = np.vstack([daily[f"share_{t}"].to_numpy() for t in tiers]) if tiers else np.zeros((0, len(days)))
    if len(tiers):
        colors = plt.cm.RdYlGn(np.linspace(0.9, 0.1, len(tiers)))
        ax.stackplot(days, shares * 100, labels=tiers, colors=colors)
    ax.set_title("Share of the population in each tier")
    ax.set_xlabel("day")
    ax.set_ylabel("share (%)")
    ax.set_ylim(0, 100)
    ax.legend(loc="lower left", fontsize=8, ncol=len(tiers) or 1)

    ax = axes[1, 0]
    n = max(1, int(meta.get("persons", 1)))
    ax.plot(days, daily["blacklisted"] / n * 100, label="blacklisted", color="black")
    ax.plot(days, daily["blacklisted_wrongly"] / n * 100, label="blacklisted only because of false records", color="crimson")
    ax.plot(days, daily["redlisted"] / n * 100, label="redlisted", color="seagreen")
    ax.set_title("List sizes")
    ax.set_xlabel("day")
    ax.set_ylabel("share of the population (%)")
    ax.legend(loc="best", fontsize=8)

    ax = axes[1, 1]
    svc = results.to_df("services")
    names = [s for s, k in zip(meta.get("services", []), meta.get("service_kinds", [])) if k == "punishment"]
    if names:
        totals = svc[svc["service"].isin(names)].groupby("service")[["outcomes", "wrongful"]].sum().reindex(names)
        x = np.arange(len(names))
        ax.bar(x, totals["outcomes"] - totals["wrongful"], label="denied (would be denied anyway)", color="slategray")
        ax.bar(x, totals["wrongful"], bottom=totals["outcomes"] - totals["wrongful"], label="wrongful (false records)", color="crimson")
        ax.set_xticks(x, names, rotation=20)
        ax.legend(loc="best", fontsize=8)
    ax.set_title("Denials per service over the run")
    ax.set_ylabel("denials")
    if path:
        fig.savefig(path, dpi=110)
    if show:
        plt.show()
    return fig
