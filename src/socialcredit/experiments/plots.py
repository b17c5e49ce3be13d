"""Figures of an experiment: daily series with bands across seeds, measures against swept values,
and paired differences between arms. Each returns a matplotlib figure."""

from __future__ import annotations

from typing import Any

import matplotlib

from socialcredit.literal import figures

matplotlib.use("Agg", force=False)
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
from matplotlib.figure import Figure  # noqa: E402

from socialcredit.experiments.task import is_flow  # noqa: E402

COLOURS = plt.rcParams["axes.prop_cycle"].by_key()["color"]


def _pick(available: list[str], wanted: list[str] | None, limit: int = 6) -> list[str]:
    """The measures asked for, or the first ``limit`` available (experiments list the key measures first)."""
    if wanted:
        return [m for m in wanted if m in available]
    return available[:limit]


def _grid(n: int, ncols: int = 2, height: float = 3.0) -> tuple[Figure, np.ndarray]:
    ncols = min(ncols, max(1, n))
    nrows = max(1, -(-n // ncols))
    fig, axes = plt.subplots(nrows, ncols, figsize=(5.6 * ncols, height * nrows), squeeze=False)
    for ax in axes.ravel()[n:]:
        ax.set_visible(False)
    return fig, axes


@figures
def series(res: Any, measures: list[str] | None = None) -> Figure:
    """One panel per measure: the mean over seeds per arm (and sweep point), with its 95% band."""
    names = _pick(res.key_series, measures)
    fig, axes = _grid(len(names))
    if not names:
        axes[0, 0].text(0.5, 0.5, "no daily series were kept", ha="center", va="center")
        return fig
    b = res.series(names, cumulative=True)
    groups = list(b.groupby(["arm", "point"], sort=False))
    if len(groups) > 4:  # a sweep: each arm's first and last point, so that the bands stay readable
        ends = b.groupby("arm", sort=False)["point"].agg(["min", "max"])
        groups = [((a, p), g) for (a, p), g in groups if p in (ends.at[a, "min"], ends.at[a, "max"])]
    labels = _point_labels(res)
    for ax, m in zip(axes.ravel(), names):
        for k, ((arm, point), g) in enumerate(groups):
            g = g[g["measure"] == m]
            label = arm if not res.parameters else f"{arm}, {labels.get(point, point)}"
            colour = COLOURS[k % len(COLOURS)]
            ax.plot(g["day"], g["mean"], color=colour, lw=1.4, label=label)
            ax.fill_between(g["day"], g["lo"], g["hi"], color=colour, alpha=0.18, lw=0)
        ax.set_title(f"{m} (cumulative)" if is_flow(m) else m, fontsize=10)
        ax.set_xlabel("day")
        ax.grid(alpha=0.3)
    axes.ravel()[0].legend(fontsize=8)
    n = int(res.runs.groupby("arm")["seed"].nunique().min()) if len(res.runs) else 0
    fig.suptitle(f"{res.name}: mean over {n} seeds with 95% intervals", fontsize=11)
    fig.tight_layout()
    return fig


def _point_labels(res: Any) -> dict[int, str]:
    """A short label per sweep point: its swept values (the last part of each key)."""
    if not res.parameters:
        return {}
    rows = res.runs.drop_duplicates("point").set_index("point")
    return {int(p): ", ".join(f"{k.split('.')[-1]}={r[k]:g}" if isinstance(r[k], float) else f"{k.split('.')[-1]}={r[k]}"
                             for k in res.parameters) for p, r in rows.iterrows()}  # fmt: skip


@figures
def sweep(res: Any, measures: list[str] | None = None) -> Figure:
    """Rows of measures, columns of swept values: the mean at each point with its 95% interval, per arm."""
    names = _pick(res.measures, measures, limit=4)
    params = res.parameters
    s = res.summary(names)
    fig, axes = plt.subplots(len(names), len(params), figsize=(5.2 * len(params), 2.9 * len(names)), squeeze=False)
    for i, m in enumerate(names):
        rows = s[s["measure"] == m]
        for j, p in enumerate(params):
            ax = axes[i, j]
            for k, arm in enumerate(res.arms):
                g = rows[rows["arm"] == arm]
                x = g[p].to_numpy()
                numeric = np.issubdtype(np.asarray(x).dtype, np.number)
                order = np.argsort(x) if numeric else np.arange(len(x))
                xs = x[order] if numeric else np.arange(len(x))
                mean, lo, hi = (g[c].to_numpy()[order] for c in ("mean", "lo", "hi"))
                colour = COLOURS[k % len(COLOURS)]
                if len(params) == 1 and numeric:
                    ax.plot(xs, mean, "o-", color=colour, ms=3, lw=1.2, label=arm)
                    ax.fill_between(xs, lo, hi, color=colour, alpha=0.25, lw=0)
                else:
                    ax.errorbar(xs, mean, yerr=[mean - lo, hi - mean], fmt="o", ms=3, color=colour, alpha=0.8, label=arm, lw=0.8)
                if not numeric:
                    ax.set_xticks(xs, [str(v) for v in x[order]], rotation=30, fontsize=8)
            ax.grid(alpha=0.3)
            if i == len(names) - 1:
                ax.set_xlabel(p, fontsize=9)
            if j == 0:
                ax.set_ylabel(m, fontsize=9)
    if len(res.arms) > 1:
        axes[0, 0].legend(fontsize=8)
    fig.suptitle(f"{res.name}: mean and 95% interval\nacross seeds at each point", fontsize=11)
    fig.tight_layout()
    return fig


@figures
def differences(res: Any, a: str, b: str, measures: list[str] | None = None) -> Figure:
    """Paired differences B - A, one panel per measure (each on its own scale), one row per sweep point:
    the paired 95% interval (thick) against the interval an unpaired comparison would give (thin)."""
    d = res.differences(a, b, measures or res.measures)
    changed = d.groupby("measure", sort=False).apply(lambda g: bool(((g["difference"] != 0) | (g["se_paired"] > 0)).any()),
                                                     include_groups=False)  # fmt: skip
    names = [m for m in (measures or res.measures) if changed.get(m, False)][:8]
    fig, axes = _grid(max(1, len(names)), ncols=2, height=1.2 + 0.35 * max(1, d["point"].nunique() if "point" in d else 1))
    if not names:
        axes[0, 0].text(0.5, 0.5, f"{a} and {b} give identical results, seed by seed", ha="center", va="center")
        axes[0, 0].set_axis_off()
        return fig
    labels = _point_labels(res)
    for ax, m in zip(axes.ravel(), names):
        g = d[d["measure"] == m]
        y = np.arange(len(g))[::-1]
        ax.hlines(y, g["lo_unpaired"], g["hi_unpaired"], color="#bbbbbb", lw=1.5, label="unpaired 95% interval")
        ax.hlines(y, g["lo"], g["hi"], color="#1f77b4", lw=5, label="paired 95% interval")
        ax.plot(g["difference"], y, "o", color="#1f2f4f", ms=4)
        ax.axvline(0, color="black", lw=0.8)
        ticks = [labels.get(int(p), str(p)) for p in g["point"]] if "point" in g else [""]
        ax.set_yticks(y, ticks, fontsize=7)
        ax.set_ylim(-0.7, len(g) - 0.3)
        ax.set_title(m, fontsize=9)
        ax.grid(axis="x", alpha=0.3)
    axes.ravel()[0].legend(fontsize=7, loc="best")
    fig.suptitle(f"{res.name}: {b} - {a}, paired by seed", fontsize=11)
    fig.tight_layout()
    return fig


@figures
def sensitivity(indices: Any, dummy: str | tuple[str, ...], top: int = 12) -> Figure:
    """One panel per measure: each factor's index (Sobol total ST with S1, or Morris mu*) with its confidence
    interval, the largest first; the ``dummy`` rows (the noise floors: the dummy factor, the seed noise) in grey."""
    floors = (dummy,) if isinstance(dummy, str) else tuple(dummy)
    measures = list(dict.fromkeys(indices["measure"]))
    sobol = "ST" in indices.columns
    key, conf = ("ST", "ST_conf") if sobol else ("mu_star", "mu_star_conf")
    rows_shown = min(top, indices.groupby("measure")["factor"].nunique().max()) + 1
    fig, axes = plt.subplots(len(measures), 1, figsize=(10, (0.32 * rows_shown + 1.3) * len(measures)), squeeze=False)
    for ax, m in zip(axes.ravel(), measures):
        rows = indices[indices["measure"] == m].sort_values(key, ascending=False)
        shown = rows.head(top)
        missing = rows[rows["factor"].isin(floors) & ~rows["factor"].isin(shown["factor"])]
        shown = np.concatenate([shown.to_records(index=False), missing.to_records(index=False)])
        y = np.arange(len(shown))[::-1]
        colour = ["#999999" if f in floors else COLOURS[0] for f in shown["factor"]]
        ax.barh(y, shown[key], xerr=np.nan_to_num(shown[conf].astype(float)), color=colour, alpha=0.85, capsize=2)
        if sobol:
            ax.scatter(shown["S1"], y, color="black", s=12, zorder=3, label="first order S1")
            ax.legend(loc="lower right", fontsize=8)
        ax.set_yticks(y, [str(f) for f in shown["factor"]], fontsize=8)
        ax.set_xlabel("total index ST (bars) with its interval" if sobol else "mu*, the mean absolute elementary effect, with its interval",
                      fontsize=8)
        ax.set_title(m)
        ax.axvline(0, color="black", lw=0.5)
    fig.tight_layout()
    return fig


def _plain_log(ax: Any) -> None:
    """A log y axis with plain tick labels (the figures do not parse math text, so 10^k would show as code)."""
    from matplotlib.ticker import FuncFormatter, NullFormatter

    ax.set_yscale("log")
    ax.yaxis.set_major_formatter(FuncFormatter(lambda v, _: f"{v:,.10g}"))
    ax.yaxis.set_minor_formatter(NullFormatter())


@figures
def calibration_fit(fit: Any, curves: Any, start: str | None = None) -> Figure:
    """One panel per fitted measure: the fitted curve (mean over seeds) and the published figures, fitted ones
    filled, forecast ones open, with the range across seeds as error bars."""
    import pandas as pd

    fit = fit[fit["measure"].fillna("").astype(str) != ""]
    groups = list(dict.fromkeys(zip(fit["measure"], fit["series"])))
    fig, axes = _grid(max(1, len(groups)), ncols=2, height=3.2)
    day0 = pd.Timestamp(start) if start else None

    def x(days: Any) -> Any:
        return day0 + pd.to_timedelta(np.asarray(days), unit="D") if day0 is not None else np.asarray(days)

    for ax, (measure, series_name) in zip(axes.ravel(), groups):
        rows = fit[(fit["measure"] == measure) & (fit["series"] == series_name)]
        curve = curves[curves["measure"] == measure]
        if len(curve):
            ax.plot(x(curve["day"]), curve["value"], color=COLOURS[0], lw=1.4, label="simulated (best fit)")
        shown = np.concatenate([rows["value"].to_numpy(float), curve["value"].to_numpy(float)])
        shown = shown[np.isfinite(shown) & (shown > 0)]
        if " / " not in measure and len(shown) and shown.max() / shown.min() > 100:
            _plain_log(ax)  # counts spanning orders of magnitude: the early figures stay visible
        for role, face in (("fitted", "black"), ("forecast", "white"), ("shown", "#bbbbbb")):
            r = rows[rows["role"] == role]
            if len(r):
                ax.scatter(x(r["day"]), r["value"], facecolor=face, edgecolor="black", zorder=3, s=28, label=f"published ({role})")
        ax.errorbar(x(rows["day"]), rows["simulated"], yerr=[rows["simulated"] - rows["simulated_min"], rows["simulated_max"] - rows["simulated"]],
                    fmt="x", color=COLOURS[1], ms=6, capsize=2, label="simulated at the date")  # fmt: skip
        ax.set_title(f"{series_name} ({measure})", fontsize=9)
        ax.grid(alpha=0.3)
        ax.tick_params(labelsize=8)
    axes.ravel()[0].legend(fontsize=7, loc="best")
    fig.tight_layout()
    return fig


@figures
def calibration_history(history: Any) -> Figure:
    """Each trial's objective and the best so far; with a holdout, the forecast error of each trial too."""
    fig, ax = plt.subplots(figsize=(9, 3.6))
    ok = history[history["state"] == "COMPLETE"]
    ax.scatter(ok["trial"], ok["objective"], s=10, color=COLOURS[0], alpha=0.6, label="trial (fitted targets)")
    ax.plot(ok["trial"], ok["best_so_far"], color="black", lw=1.4, drawstyle="steps-post", label="best so far")
    if "forecast_error" in ok and ok["forecast_error"].notna().any():
        ax.scatter(ok["trial"], ok["forecast_error"], s=10, color=COLOURS[1], alpha=0.5, marker="^", label="forecast error (held-out targets)")
    _plain_log(ax)
    ax.set_xlabel("trial")
    ax.set_ylabel("weighted mean relative error")
    ax.grid(alpha=0.3)
    ax.legend(fontsize=8)
    fig.tight_layout()
    return fig


@figures
def calibration_importance(importance: dict[str, float]) -> Figure:
    """Which parameters mattered to the objective (PED-ANOVA importance, summing to 1), largest first."""
    items = sorted(importance.items(), key=lambda kv: kv[1])
    fig, ax = plt.subplots(figsize=(9, 0.35 * len(items) + 1.2))
    ax.barh(np.arange(len(items)), [v for _, v in items], color=COLOURS[0], alpha=0.85)
    ax.set_yticks(np.arange(len(items)), [k for k, _ in items], fontsize=8)
    ax.set_xlabel("importance for the objective (PED-ANOVA; sums to 1)")
    ax.grid(axis="x", alpha=0.3)
    fig.tight_layout()
    return fig
