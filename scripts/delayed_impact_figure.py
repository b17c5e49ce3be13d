"""Figures and checks of the delayed-impact scenario: the engine's lending against Liu et al.'s closed form.

    PYTHONPATH=src python scripts/delayed_impact_figure.py                 # 20,000 persons, seed 1 (a few seconds)
    PYTHONPATH=src python scripts/delayed_impact_figure.py --persons 200000 --seed 2

1. **Scores.** Runs the scenario for its warm-up (the days before its timeline turns
   lending on) and takes every person's score on the last warm-up day, by group.
2. **Closed form.** ``delayed_impact_curve`` of each group, its outcome regions and
   ``parity_case`` (:mod:`socialcredit.analysis.lending`), with the scenario's own
   repayment model and gains.
3. **The engine against the curve.** One run of the scenario whose timeline, from the
   warm-up's end, changes the groups' thresholds every WINDOW days (each window a
   threshold per group at a quantile of the group's warm-up scores, then the
   profit-maximising threshold, then demographic parity) with DEMAND applications a
   year, and stops the applications after the last window. The windows span no more
   than the loan term, so no loan record reaches a score before the last window ends:
   the scores the lender sees move only by the ordinary records, whose distribution is
   settled after the warm-up. The realised change of a group's mean score in window k
   is the points of the loan records that reach the group's scores ``term`` days after
   the window (``behaviours`` table, ``records_true`` times the points), divided by the
   group's persons and by the expected applications per person in the window,
   ``a = DEMAND * WINDOW / 365``; its standard error is that of the sum of the
   person-days' Bernoulli draws (apply, then repay), from the warm-up scores.
4. **Beyond one step.** The scenario as shipped (two years of lending at the
   profit-maximising threshold), under demographic parity (both groups' thresholds at
   the parity rate) and without lending (same seed): each group's mean score minus
   without lending, by day, against the one-step expectation.

Writes docs/scenarios/figures/delayed-impact.png and delayed-impact-years.png and prints
the tables docs/scenarios/delayed-impact.md quotes.
"""

from __future__ import annotations

import argparse
from dataclasses import dataclass
from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt
import numpy as np
import pandas as pd

import socialcredit as sc
from socialcredit.analysis.lending import (
    delayed_impact_curve,
    outcome_regions,
    parity_case,
    repay_probability,
)
from socialcredit.engine.sim import Sim
from socialcredit.results.final_state import final_state_frame

SCENARIO = "delayed-impact"
OUT = Path(__file__).resolve().parent.parent / "docs" / "scenarios" / "figures"
WINDOW = 15  # days a window's thresholds hold
DEMAND = 12.0  # applications per person per year during the check: a = 12 * 15 / 365 = 0.49 a window
TARGETS = (0.1, 0.2, 0.3, 0.4, 0.5, 0.6, 0.7, 0.8, 0.9, 1.0)  # acceptance rates of the grid windows
COLORS = {"majority": "steelblue", "minority": "crimson"}


@dataclass
class Model:
    """The scenario's lending: the repayment model, the points of the two outcomes, the rule and the warm-up."""

    midpoint: float
    scale: float
    gain: float
    loss: float
    threshold: float
    term: int
    warmup: int

    @property
    def kw(self) -> dict[str, float]:
        return {"midpoint": self.midpoint, "scale": self.scale, "gain": self.gain, "loss": self.loss}


def model_of(rb) -> Model:
    ln = rb.lending
    points = {b.name: b.base_points() for b in rb.behaviours}
    warmup = min(c.day for c in rb.timeline if float(c.set.get("lending.demand", 0)) > 0)
    return Model(ln.midpoint, ln.scale, points[ln.repaid], points[ln.defaulted], ln.threshold, ln.term, warmup)


def warmup_scores(persons: int | None, seed: int | None) -> tuple[dict[str, np.ndarray], Model]:
    """Every person's score at the end of the warm-up, by group (the run stops the day before lending starts)."""
    rb = sc.load(SCENARIO, persons=persons, seed=seed)
    m = model_of(rb)
    sim = Sim(sc.load(SCENARIO, persons=persons, seed=seed, days=m.warmup)).run()
    fs = final_state_frame(sim)
    groups = rb.group_names
    return {g: fs.loc[fs["group"] == g, "score"].to_numpy(np.float64) for g in groups}, m


def threshold_for(scores: np.ndarray, rate: float) -> float:
    """The score threshold whose acceptance rate (share at or above it) is nearest ``rate``; 0 accepts everyone."""
    if rate >= 1.0:
        return 0.0
    values = np.unique(scores)
    shares = np.array([(scores >= v).mean() for v in values])
    return float(values[int(np.argmin(np.abs(shares - rate)))])


def windows(scores: dict[str, np.ndarray], m: Model, parity_rate: float) -> list[tuple[str, dict[str, float]]]:
    """(label, {group: threshold}) of each window: the grid of rates, the profit-maximising rule, parity."""
    out = [(f"rate {t:g}", {g: threshold_for(s, t) for g, s in scores.items()}) for t in TARGETS]
    out.append(("max profit", {g: m.threshold for g in scores}))
    out.append(("parity", {g: threshold_for(s, parity_rate) for g, s in scores.items()}))
    return out


def check_run(persons: int | None, seed: int | None, m: Model, wins: list[tuple[str, dict[str, float]]],
              demand: float = DEMAND, window: int = WINDOW, lending: bool = True):  # fmt: skip
    """The scenario with the windows' thresholds on its timeline (applications stop after the last window)."""
    span = window * len(wins)
    if span > m.term:
        raise ValueError(f"{len(wins)} windows of {window} days outlast the term ({m.term} days): loans would land during them")
    timeline = []
    for k, (_, th) in enumerate(wins):
        change: dict[str, float] = {f"lending.thresholds.{g}": t for g, t in th.items()}
        if k == 0:
            change["lending.demand"] = demand if lending else 0.0
        timeline.append({"day": m.warmup + k * window, "set": change})
    timeline.append({"day": m.warmup + span, "set": {"lending.demand": 0.0}})
    rb = sc.load(SCENARIO, {"timeline": timeline}, persons=persons, seed=seed, days=m.warmup + span + m.term)
    return sc.run(rb)


def predicted(scores: np.ndarray, threshold: float, m: Model, a: float, window: int) -> tuple[float, float, float]:
    """(rate, closed-form mean change, standard error of the realised change) for one group and threshold.

    Every person-day of the window is a draw: apply with probability q = a / window; if the score is at or
    above the threshold, the loan adds ``gain`` with probability p(s), else ``loss``. The realised change is
    the sum over person-days divided by n * a; its variance is window * sum over accepted persons of
    q E[X^2] - (q E[X])^2, with the warm-up scores.
    """
    n = scores.size
    acc = scores >= threshold
    rate = float(acc.mean())
    change = float(delayed_impact_curve(scores, **m.kw, rates=[rate])["mean_change"].iloc[0])
    p = repay_probability(scores[acc], m.midpoint, m.scale)
    q = a / window
    mean = p * m.gain + (1 - p) * m.loss
    second = p * m.gain**2 + (1 - p) * m.loss**2
    var = window * float(np.sum(q * second - (q * mean) ** 2))
    return rate, change, float(np.sqrt(var) / (n * a))


def realised(res, group: str, m: Model, n: int, a: float, k: int, window: int) -> tuple[float, int]:
    """(realised mean change / a, loans) of window k for a group, from the loan records that reached the scores."""
    b = res.behaviours
    b = b[(b["breakdown"] == "group") & (b["level"] == group)]
    land0 = m.warmup + k * window + m.term
    sel = b[(b["day"] >= land0) & (b["day"] < land0 + window)]
    by = sel.groupby("behaviour", observed=True)["records_true"].sum()
    rep, dft = int(by.get("loan_repaid", 0)), int(by.get("loan_default", 0))
    # the same loans, counted on the day they were granted (daily table)
    d = res.daily
    d = d[(d["breakdown"] == "group") & (d["level"] == group)]
    granted = d[(d["day"] >= m.warmup + k * window) & (d["day"] < m.warmup + (k + 1) * window)]
    assert (int(granted["loans_repaid"].sum()), int(granted["loans_defaulted"].sum())) == (rep, dft), (group, k)
    return (rep * m.gain + dft * m.loss) / (n * a), rep + dft


def check_table(scores: dict[str, np.ndarray], m: Model, wins, res, demand: float = DEMAND, window: int = WINDOW) -> pd.DataFrame:
    a = demand * window / 365.0
    rows = []
    for k, (label, th) in enumerate(wins):
        for g, s in scores.items():
            rate, pred, se = predicted(s, th[g], m, a, window)
            sim, loans = realised(res, g, m, s.size, a, k, window)
            rows.append({"window": label, "group": g, "threshold": th[g], "rate": rate, "predicted": pred,
                         "simulated": sim, "se": se, "z": (sim - pred) / se if se > 0 else 0.0, "loans": loans})  # fmt: skip
    return pd.DataFrame(rows)


def rules(scores: dict[str, np.ndarray], m: Model, parity_rate: float) -> dict[str, dict[str, float]]:
    """Each rule's thresholds by group: the profit-maximising one (as shipped) and demographic parity."""
    return {
        "max profit (as shipped)": {g: m.threshold for g in scores},
        "demographic parity": {g: threshold_for(s, parity_rate) for g, s in scores.items()},
    }


def long_runs(persons: int | None, seed: int | None, thresholds: dict[str, dict[str, float]]):
    """The scenario under each rule, and without lending (the same seed: the same ordinary records)."""
    runs = {label: sc.run(sc.load(SCENARIO, {f"lending.thresholds.{g}": t for g, t in th.items()}, persons=persons, seed=seed))
            for label, th in thresholds.items()}  # fmt: skip
    runs["no lending"] = sc.run(sc.load(SCENARIO, {"timeline": []}, persons=persons, seed=seed))
    return runs


def one_step(m: Model, demand: float, days: np.ndarray) -> np.ndarray:
    """Expected loan records in force per person on each day, from one-step lending at ``demand`` a year.

    A loan granted on day d lands on d + term and counts for a year (the score's expiry): on day t the records
    in force are those of loans granted on days W..t - term that landed less than 365 days ago.
    """
    granted_from = np.maximum(days - m.term - 364, m.warmup)
    return demand / 365.0 * np.clip(days - m.term - granted_from + 1, 0, None) * (days - m.term >= m.warmup)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--persons", type=int, default=None, help="default: the scenario's 20,000")
    ap.add_argument("--seed", type=int, default=None, help="default: the scenario's 1")
    ap.add_argument("--out", type=Path, default=OUT)
    args = ap.parse_args()

    scores, m = warmup_scores(args.persons, args.seed)
    n_all = sum(s.size for s in scores.values())
    print(f"{SCENARIO}: {n_all:,} persons, seed {args.seed if args.seed is not None else 'as shipped'}; warm-up {m.warmup} days; "
          f"p(s) = 1/(1+exp(-(s-{m.midpoint:g})/{m.scale:g})), gain {m.gain:+g}, loss {m.loss:+g}, term {m.term} days")  # fmt: skip
    for g, s in scores.items():
        q = np.percentile(s, [10, 50, 90])
        print(f"  {g}: {s.size:,} persons, scores on day {m.warmup - 1}: mean {s.mean():.1f}, sd {s.std():.1f}, "
              f"10/50/90% {q[0]:g}/{q[1]:g}/{q[2]:g}, mean repayment probability {repay_probability(s, m.midpoint, m.scale).mean():.3f}")  # fmt: skip

    curves = {g: delayed_impact_curve(s, **m.kw, rates=np.linspace(0, 1, 1001)) for g, s in scores.items()}
    pc = parity_case(scores, **m.kw)
    parity_rate = float(pc["rate_parity"].iloc[0])
    print("\nclosed form (u_repay 1, u_default -4; curves on a grid of 0.001, the parity case on 0.01):")
    for g, c in curves.items():
        r = outcome_regions(c)
        print(f"  {g}: rate_best {r['rate_best']:.3f} (change {c['mean_change'].max():+.2f}), rate_zero {r['rate_zero']:.3f}, "
              f"change at rate 1 {c['mean_change'].iloc[-1]:+.2f}, rate_max_profit {r['rate_max_profit']:.3f}")  # fmt: skip
    print("\nparity case:")
    print(pc.to_string(index=False, float_format=lambda x: f"{x:.3f}"))

    wins = windows(scores, m, parity_rate)
    res = check_run(args.persons, args.seed, m, wins)
    off = check_run(args.persons, args.seed, m, wins, lending=False)
    table = check_table(scores, m, wins, res)
    a = DEMAND * WINDOW / 365.0
    print(f"\nthe engine against the closed form: {len(wins)} windows of {WINDOW} days from day {m.warmup}, "
          f"{DEMAND:g} applications a year (a = {a:.3f} per person a window); records land {m.term} days later")  # fmt: skip
    print(table.to_string(index=False, float_format=lambda x: f"{x:.3f}"))
    z = table["z"].to_numpy()
    print(f"  z = (simulated - predicted) / se: mean {z.mean():+.2f}, sd {z.std(ddof=1):.2f}, max |z| {np.abs(z).max():.2f} "
          f"over {z.size} comparisons")  # fmt: skip
    # with the same seed, lending on minus off moves each group's mean score by the loan records' points exactly
    for g, s in scores.items():
        d_on = res.daily[(res.daily["breakdown"] == "group") & (res.daily["level"] == g)]["score_mean"].iloc[-1]
        d_off = off.daily[(off.daily["breakdown"] == "group") & (off.daily["level"] == g)]["score_mean"].iloc[-1]
        pts = (table[table["group"] == g]["simulated"] * a).sum()
        print(f"  {g}: mean score on the last day, lending on minus off {d_on - d_off:+.4f}; loan records' points per person {pts:+.4f}")

    th = rules(scores, m, parity_rate)
    runs = long_runs(args.persons, args.seed, th)
    rb = sc.load(SCENARIO, persons=args.persons, seed=args.seed)
    demand = max(float(c.set.get("lending.demand", 0)) for c in rb.timeline)
    days = runs["no lending"].meta["days"]
    print(f"\nthe scenario over {days} days ({demand:g} application a year from day {m.warmup}): each rule against no lending "
          "(same seed), and the one-step expectation demand x Δμ(β) x (records in force)")  # fmt: skip
    diffs: dict[str, pd.DataFrame] = {}
    expected: dict[str, dict[str, float]] = {}
    base = runs["no lending"].daily
    base = base[base["breakdown"] == "group"].pivot(index="day", columns="level", values="score_mean")[list(scores)]
    in_force = one_step(m, demand, base.index.to_numpy())
    for label, r in runs.items():
        if label == "no lending":
            continue
        d = r.daily[r.daily["breakdown"] == "group"]
        diffs[label] = d.pivot(index="day", columns="level", values="score_mean")[list(scores)] - base
        g = d.groupby("level", observed=True)[["loan_applications", "loans_granted", "loans_repaid", "loans_defaulted"]].sum()
        expected[label] = {}
        for k, sk in scores.items():
            rate, change, _ = predicted(sk, th[label][k], m, 1.0, 1)
            expected[label][k] = change
            last = diffs[label][k].iloc[-1]
            print(f"  {label}, {k}: threshold {th[label][k]:g} (rate {rate:.3f} on day {m.warmup - 1}); "
                  f"{int(g.loc[k, 'loans_granted'])} of {int(g.loc[k, 'loan_applications'])} applications granted, "
                  f"{int(g.loc[k, 'loans_defaulted'])} defaulted; mean score minus no lending on day {m.warmup + m.term + 364}: "
                  f"{diffs[label][k].loc[m.warmup + m.term + 364]:+.2f}, on day {days - 1}: {last:+.2f} "
                  f"(one step: {change * in_force[-1]:+.2f})")  # fmt: skip
            for lo, hi in ((m.warmup, m.warmup + m.term), (days - m.term, days)):
                part = d[(d["level"] == k) & (d["day"] >= lo) & (d["day"] < hi)][["loan_applications", "loans_granted", "loans_defaulted"]].sum()
                print(f"      days {lo}-{hi - 1}: {part['loans_granted'] / part['loan_applications']:.3f} of applications granted, "
                      f"{part['loans_defaulted'] / part['loans_granted']:.3f} of loans defaulted")  # fmt: skip

    args.out.mkdir(parents=True, exist_ok=True)
    figure_curves(scores, m, curves, pc, table, args.out / "delayed-impact.png")
    figure_years(diffs, expected, in_force, m, args.out / "delayed-impact-years.png", n_all)
    print(f"\nwrote {args.out / 'delayed-impact.png'} and {args.out / 'delayed-impact-years.png'}")


def figure_curves(scores, m: Model, curves, pc: pd.DataFrame, table: pd.DataFrame, out: Path) -> None:
    fig, (ax1, ax2) = plt.subplots(1, 2, figsize=(14, 5.2), constrained_layout=True, gridspec_kw={"width_ratios": [1, 1.5]})
    lo = min(s.min() for s in scores.values())
    bins = np.arange(lo - 2.5, 1002.5 + 5, 5)
    for g, s in scores.items():
        ax1.hist(s, bins=bins, density=True, alpha=0.45, color=COLORS[g], label=f"{g} ({s.size:,}): mean {s.mean():.1f}")
    ax1.set_xlabel(f"score on day {m.warmup - 1} (the end of the warm-up)")
    ax1.set_ylabel("share of the group per point")
    ax1b = ax1.twinx()
    x = np.linspace(lo - 5, 1005, 300)
    ax1b.plot(x, repay_probability(x, m.midpoint, m.scale), color="black", linewidth=1)
    ax1b.axvline(m.threshold, color="black", linestyle=":", linewidth=0.8)
    ax1b.set_ylabel("repayment probability p(s) (black)")
    ax1b.set_ylim(0, 1.02)
    ax1.set_title(f"Scores after the warm-up, and p(s) = 1/(1+exp(-(s-{m.midpoint:g})/{m.scale:g}))\n"
                  f"dotted: the profit-maximising threshold {m.threshold:g} (p = 4/5)", fontsize=10)  # fmt: skip
    ax1.legend(fontsize=8, loc="upper left")

    pcg = pc.set_index("group")
    mino = curves["minority"]
    reg = outcome_regions(mino)
    ax2.axvspan(0, reg["rate_best"], color="seagreen", alpha=0.08, linewidth=0)
    ax2.axvspan(reg["rate_best"], reg["rate_zero"], color="gold", alpha=0.12, linewidth=0)
    ax2.axvspan(reg["rate_zero"], 1, color="crimson", alpha=0.07, linewidth=0)
    for text, xpos in (("relative\nimprovement", reg["rate_best"] / 2), ("relative\nharm", (reg["rate_best"] + reg["rate_zero"]) / 2),
                       ("active harm", (reg["rate_zero"] + 1) / 2)):  # fmt: skip
        ax2.text(xpos, 0.02, text + "\n(minority)", transform=ax2.get_xaxis_transform(), ha="center", va="bottom", fontsize=8, color="dimgrey")
    ax2.axhline(0, color="grey", linewidth=0.7)
    for g, c in curves.items():
        ax2.plot(c["rate"], c["mean_change"], color=COLORS[g], label=f"{g}: closed form")
        t = table[(table["group"] == g)]
        ax2.errorbar(t["rate"], t["simulated"], yerr=2 * t["se"], fmt="o", color=COLORS[g], markersize=4, capsize=2,
                     label=f"{g}: engine (±2 s.e.)")  # fmt: skip
        mp = pcg.loc[g]
        ax2.plot([mp["rate_max_profit"]], [mp["change_max_profit"]], marker="^", color=COLORS[g], markersize=10,
                 markeredgecolor="black", linestyle="none")  # fmt: skip
        ax2.plot([mp["rate_parity"]], [mp["change_parity"]], marker="s", color=COLORS[g], markersize=9,
                 markeredgecolor="black", linestyle="none")  # fmt: skip
    ax2.plot([], [], marker="^", color="white", markeredgecolor="black", linestyle="none", label="maximum profit, each group")
    ax2.plot([], [], marker="s", color="white", markeredgecolor="black", linestyle="none",
             label=f"demographic parity (rate {pcg['rate_parity'].iloc[0]:.2f})")  # fmt: skip
    ax2.set_xlim(0, 1)
    ax2.set_xlabel("acceptance rate of the group (β)")
    ax2.set_ylabel("change of the group's mean score per application round, Δμ(β)")
    ax2.set_title(f"Δμ(β) = (1/n) Σ accepted [p(s) ({m.gain:+g}) + (1 - p(s)) ({m.loss:+g})]\n"
                  "closed form on the warm-up scores (lines), and the engine (points)", fontsize=10)  # fmt: skip
    ax2.legend(fontsize=8, loc="lower left", bbox_to_anchor=(0.0, 0.12))
    n = sum(s.size for s in scores.values())
    fig.suptitle(f"delayed-impact: {n:,} simulated adults; the engine's points are the loan records of {WINDOW}-day windows "
                 f"({DEMAND:g} applications a year) divided by the expected applications per person", fontsize=10)  # fmt: skip
    fig.savefig(out, dpi=110)
    plt.close(fig)


def figure_years(diffs: dict[str, pd.DataFrame], expected: dict[str, dict[str, float]], in_force: np.ndarray, m: Model,
                 out: Path, n: int) -> None:  # fmt: skip
    fig, ax = plt.subplots(figsize=(11, 5), constrained_layout=True)
    styles = {"max profit (as shipped)": "-", "demographic parity": "--"}
    for label, d in diffs.items():
        for g in d.columns:
            ax.plot(d.index, d[g], color=COLORS[g], linestyle=styles[label], label=f"{g}, {label}")
            ax.plot(d.index, expected[label][g] * in_force, color=COLORS[g], linestyle=styles[label], linewidth=0.6, alpha=0.6)
    ax.axhline(0, color="grey", linewidth=0.7)
    for day, text in ((m.warmup, "lending starts"), (m.warmup + m.term, "first loans end"),
                      (m.warmup + m.term + 365, "first loan records expire")):  # fmt: skip
        ax.axvline(day, color="grey", linewidth=0.7, linestyle=":")
        ax.text(day + 4, 0.02, text, transform=ax.get_xaxis_transform(), fontsize=8, color="grey", rotation=90, va="bottom")
    ax.set_xlim(m.warmup - 30, d.index.max())
    ax.set_xlabel("day")
    ax.set_ylabel("mean score of the group minus without lending (same seed)")
    ax.set_title(f"delayed-impact: {n:,} adults, one application a year from day {m.warmup}; what the loans do to each group's "
                 "mean score\n(thin: one-step expectation, Δμ(β) of the warm-up scores times the loan records in force)", fontsize=10)  # fmt: skip
    ax.legend(fontsize=8, ncol=2, loc="center left")
    fig.savefig(out, dpi=110)
    plt.close(fig)


if __name__ == "__main__":
    main()
