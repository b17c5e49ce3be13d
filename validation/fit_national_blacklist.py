"""Fit the ``national-blacklist`` scenario to the published court-list figures, and check it.

    python validation/fit_national_blacklist.py            # re-fit, rewrite the scenario, check, write JSON and plot
    python validation/fit_national_blacklist.py --check    # only simulate the shipped scenario and compare

The targets are ``data/national_blacklist_targets.csv``: the cumulative number
of entries on the court list of dishonest judgment debtors (2013-11-30,
2014-07-31, 2017-02-14, 2017-12-31), the cumulative flight and train ticket
denials (the two 2017 dates) and the persons barred from senior management
(2017-02-14, a bonus target). Day 0 is 2013-10-01; simulated counts are
multiplied by ``scale_to / persons`` (1.4 billion / persons).

Method (docs/validation.md explains it):

1. Simulate the scenario at the fit size (``--fit-persons``, default 1,000,000)
   and keep the number of listed persons S(t) on every day.
2. List entries. Every person not on the list has a judgment recorded on day t
   with probability rate/365 x ramp(t), so the expected cumulative entries are
   linear in (rate x ramp knots). With the last knot fixed at 1 (all courts
   report by the end of 2017), the four published list sizes give four linear
   equations for the rate and the three other knots: solved exactly.
3. Denials. Every listed person tries a service with probability demand/365 a
   day, so the expected cumulative denials are demand/365 x sum of S(t). Given
   S, each demand is the geometric-mean least-squares fit to its published
   points (closed form).
4. Steps 1-3 are repeated (S depends on the demands: denials raise the
   pressure to repay) until these parameters change by less than 1%.
5. The pressure to repay (``responses.gaming.elasticity``) shapes S: the more
   listed persons repay, the less S grows after 2017-02-14, and the smaller the
   ratio of the 2017-12-31 to the 2017-02-14 denials. It is moved (secant steps
   on its logarithm, each with steps 1-4 done anew) until that ratio is within
   1% of the geometric mean of the published flight and train ratios, which
   minimises the squared log errors of the four travel points.

Then the fitted values are written into the scenario, and the shipped scenario
is run at its default size and seed and compared with every published point
(``--check`` does only this).
"""

from __future__ import annotations

import argparse
import csv
import json
import math
import re
import sys
import time
from dataclasses import asdict, dataclass, field
from datetime import date, timedelta
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT / "src") not in sys.path:  # run from a checkout without installing
    sys.path.insert(0, str(ROOT / "src"))

import socialcredit as sc

SCENARIO = ROOT / "src" / "socialcredit" / "scenarios" / "national-blacklist.yaml"
TARGETS = ROOT / "data" / "national_blacklist_targets.csv"
OUT_JSON = ROOT / "validation" / "national_blacklist_fit.json"
OUT_PNG = ROOT / "docs" / "validation" / "national_blacklist.png"

DAY0 = date(2013, 10, 1)
TOLERANCE = 0.15
RAMP_DAYS = (0, 303, 730, 1552)  # knots of the court channel's ramp; the last is fixed at 1
TRAVEL = ("flight_denials", "train_denials")
SERVICE_OF = {"flight_denials": "flight", "train_denials": "train", "management_bans": "management"}
REQUIRED = ("debtors_listed", "flight_denials", "train_denials")  # management_bans is a bonus target
LABEL = {
    "debtors_listed": "persons listed (cumulative entries)",
    "flight_denials": "flight ticket denials (cumulative)",
    "train_denials": "train ticket denials (cumulative)",
    "management_bans": "senior management bans (cumulative)",
}


# ------------------------------------------------------------------ targets
@dataclass(frozen=True)
class Target:
    date: str
    day: int
    series: str
    value: float
    source: str


def day_of(d: str | date) -> int:
    """Day index of a date (day 0 = 2013-10-01)."""
    if isinstance(d, str):
        d = date.fromisoformat(d)
    return (d - DAY0).days


def date_of(day: int) -> date:
    return DAY0 + timedelta(days=int(day))


def load_targets(path: Path = TARGETS) -> list[Target]:
    with open(path, newline="", encoding="utf-8") as f:
        return [Target(r["date"], day_of(r["date"]), r["series"], float(r["value"]), r["source"]) for r in csv.DictReader(f)]


# ------------------------------------------------------------------ simulation
@dataclass
class Params:
    """The fitted numbers of the scenario."""

    rate: float  # unpaid_judgment: yearly rate at full ramp
    ramp: list[float]  # multipliers at RAMP_DAYS (last = 1)
    gaming: float  # responses.gaming.elasticity: the pressure to repay
    flight: float  # services demands, attempts per person per year
    train: float
    management: float

    def overrides(self) -> dict[str, object]:
        return {
            "behaviours.unpaid_judgment.rate": self.rate,
            "detection.channels.court.ramp": [[d, m] for d, m in zip(RAMP_DAYS, self.ramp)],
            "responses.gaming.elasticity": self.gaming,
            "services.flight.demand": self.flight,
            "services.train.demand": self.train,
            "services.management.demand": self.management,
        }

    def rounded(self, digits: int = 4) -> Params:
        def r(x: float) -> float:
            return float(f"{x:.{digits}g}")

        ramp = [r(m) for m in self.ramp[:-1]] + [1.0]
        return Params(r(self.rate), ramp, r(self.gaming), r(self.flight), r(self.train), r(self.management))


def read_params(path: Path = SCENARIO) -> Params:
    """The fitted numbers as they stand in the scenario file."""
    rb = sc.load(str(path))
    beh = {b.name: b for b in rb.behaviours}
    srv = {s.name: s for s in rb.services}
    ramp = rb.detection.channels["court"].ramp
    if [d for d, _ in ramp] != list(RAMP_DAYS):
        raise SystemExit(f"the court ramp's days are {[d for d, _ in ramp]}; this script fits knots at {list(RAMP_DAYS)}")
    return Params(
        rate=beh["unpaid_judgment"].rate,
        ramp=[m for _, m in ramp],
        gaming=rb.responses.gaming.elasticity,
        flight=srv["flight"].demand,
        train=srv["train"].demand,
        management=srv["management"].demand,
    )


@dataclass
class Run:
    """Daily counts of one run (not scaled): cumulative entries and exits, stock, cumulative denials."""

    persons: int
    seed: int
    scale: float  # scale_to / persons
    seconds: float
    entries: np.ndarray  # cumulative list entries at the end of each day
    exits: np.ndarray
    stock: np.ndarray  # persons on the list at the end of each day
    denials: dict[str, np.ndarray]  # service -> cumulative denials
    summary: dict = field(default_factory=dict)

    def cumulative(self, series: str) -> np.ndarray:
        """The simulated cumulative count of a target series, scaled to the real population."""
        if series == "debtors_listed":
            return self.entries * self.scale
        return self.denials[SERVICE_OF[series]] * self.scale


THREADS: int | None = None  # threads of the compiled kernels (results do not depend on it); --threads


def simulate(params: Params | None = None, persons: int | None = None, seed: int | None = None,
             days: int | None = None) -> Run:  # fmt: skip
    """Run the scenario (with ``params`` overriding the fitted numbers, if given)."""
    rb = sc.load(str(SCENARIO), params.overrides() if params else None, persons=persons, days=days, seed=seed)
    t0 = time.perf_counter()
    res = sc.run(rb, threads=THREADS)
    seconds = time.perf_counter() - t0
    daily = res.to_df("daily")
    daily = daily[daily["breakdown"] == "all"].sort_values("day")
    services = res.to_df("services")
    services = services[services["breakdown"] == "all"]
    denials = {}
    for name in SERVICE_OF.values():
        s = services[services["service"] == name].sort_values("day")
        denials[name] = np.cumsum(s["outcomes"].to_numpy(np.float64))
    n = rb.population.persons
    scale_to = rb.simulation.scale_to or n
    return Run(
        persons=n,
        seed=rb.simulation.seed,
        scale=scale_to / n,
        seconds=seconds,
        entries=np.cumsum(daily["blacklist_entries"].to_numpy(np.float64)),
        exits=np.cumsum(daily["blacklist_exits"].to_numpy(np.float64)),
        stock=daily["blacklisted"].to_numpy(np.float64),
        denials=denials,
        summary=res.summary(),
    )


# ------------------------------------------------------------------ comparison
def compare(run: Run, targets: list[Target] | None = None) -> list[dict]:
    """One row per published point: published, simulated (scaled), relative error, simulated count."""
    rows = []
    for t in targets or load_targets():
        cum = run.cumulative(t.series)
        if t.day >= cum.size:
            continue
        sim = float(cum[t.day])
        rows.append(
            {
                "date": t.date,
                "day": t.day,
                "series": t.series,
                "published": t.value,
                "simulated": sim,
                "rel_error": sim / t.value - 1.0,
                "within": abs(sim / t.value - 1.0) <= TOLERANCE,
                "required": t.series in REQUIRED,
                "simulated_count": round(sim / run.scale),
                "poisson_sd": 1.0 / math.sqrt(max(sim / run.scale, 1.0)),
                "source": t.source,
            }
        )
    return rows


def table(rows: list[dict]) -> str:
    lines = [
        f"{'date':<11} {'series':<16} {'published':>12} {'simulated':>12} {'error':>8} {'count':>8} {'±1 sd':>7}  within 15%",
        "-" * 92,
    ]
    for r in rows:
        mark = "yes" if r["within"] else "NO"
        if not r["required"]:
            mark += " (bonus)"
        lines.append(
            f"{r['date']:<11} {r['series']:<16} {r['published']:>12,.0f} {r['simulated']:>12,.0f} "
            f"{r['rel_error']:>+8.1%} {r['simulated_count']:>8,} {r['poisson_sd']:>7.1%}  {mark}"
        )
    return "\n".join(lines)


def passed(rows: list[dict], required_only: bool = True) -> bool:
    return all(r["within"] for r in rows if r["required"] or not required_only)


def check(persons: int | None = None, seed: int | None = None) -> tuple[list[dict], Run]:
    """Simulate the shipped scenario (default size and seed unless given) and compare with every published point."""
    run = simulate(persons=persons, seed=seed)
    return compare(run), run


# ------------------------------------------------------------------ the fit, in closed form given S(t)
def expected_entries(rate: float, ramp: list[float], stock: np.ndarray, persons: int, scale_to: float) -> np.ndarray:
    """Expected cumulative list entries (scaled) given the daily stock S(t) of a run.

    A person not on the list at the end of day t-1 gets a judgment recorded on
    day t with probability rate/365 x ramp(t), and is listed that day.
    """
    days = stock.size
    t = np.arange(days)
    free = 1.0 - np.concatenate([[0.0], stock[:-1]]) / persons
    daily = rate / 365.0 * np.interp(t, RAMP_DAYS, ramp) * free
    return np.cumsum(daily) * scale_to


def solve_entries(stock: np.ndarray, persons: int, scale_to: float, targets: list[Target]) -> tuple[float, list[float]]:
    """Rate and ramp knots that give the published list sizes exactly (in expectation)."""
    pts = sorted((t.day, t.value) for t in targets if t.series == "debtors_listed")
    days = stock.size
    t = np.arange(days)
    free = 1.0 - np.concatenate([[0.0], stock[:-1]]) / persons
    k = len(RAMP_DAYS)
    if len(pts) != k:
        raise SystemExit(f"need {k} published list sizes for {k} ramp knots; found {len(pts)}")
    a = np.zeros((k, k))
    for j in range(k):
        hat = np.zeros(k)
        hat[j] = 1.0
        cum = np.cumsum(np.interp(t, RAMP_DAYS, hat) * free) * scale_to / 365.0
        a[:, j] = [cum[d] for d, _ in pts]
    x = np.linalg.solve(a, np.array([v for _, v in pts]))  # x_j = rate * ramp_j
    rate = float(x[-1])
    ramp = [float(v / rate) for v in x]
    if not all(0.0 < m <= 1.0 + 1e-9 for m in ramp):
        raise SystemExit(f"the fitted ramp {ramp} leaves [0, 1]: move the knot days RAMP_DAYS")
    ramp[-1] = 1.0
    return rate, ramp


def exposure(stock: np.ndarray, scale: float) -> np.ndarray:
    """Cumulative listed person-years, scaled: expected denials are demand x exposure."""
    return np.cumsum(stock) * scale / 365.0


def solve_demand(stock: np.ndarray, scale: float, targets: list[Target], series: str) -> float:
    """Demand whose expected denials match the published points in the least-squares log sense."""
    ex = exposure(stock, scale)
    logs = [math.log(t.value / ex[t.day]) for t in targets if t.series == series]
    return math.exp(sum(logs) / len(logs))


def travel_ratio(targets: list[Target]) -> float:
    """Geometric mean over flights and trains of the published ratio of the last to the first travel point."""
    logs = []
    for s in TRAVEL:
        pts = sorted((t.day, t.value) for t in targets if t.series == s)
        logs.append(math.log(pts[-1][1] / pts[0][1]))
    return math.exp(sum(logs) / len(logs))


def travel_days(targets: list[Target]) -> tuple[int, int]:
    days = sorted({t.day for t in targets if t.series in TRAVEL})
    return days[0], days[-1]


def expected_rows(params: Params, run: Run, targets: list[Target]) -> list[dict]:
    """Published points against their expectation given the run's stock (what the fit matches)."""
    scale_to = run.scale * run.persons
    ent = expected_entries(params.rate, params.ramp, run.stock, run.persons, scale_to)
    ex = exposure(run.stock, run.scale)
    demand = {"flight": params.flight, "train": params.train, "management": params.management}
    rows = []
    for t in targets:
        e = ent[t.day] if t.series == "debtors_listed" else demand[SERVICE_OF[t.series]] * ex[t.day]
        rows.append({"date": t.date, "series": t.series, "published": t.value, "expected": float(e), "rel_error": float(e / t.value - 1)})
    return rows


def _change(a: Params, b: Params, keys=("rate", "flight", "train", "management")) -> float:
    """Largest relative difference of the closed-form parameters (and the ramp knots)."""
    ch = [abs(getattr(a, k) / getattr(b, k) - 1) for k in keys]
    ch += [abs(x / y - 1) for x, y in zip(a.ramp, b.ramp)]
    return max(ch)


def fit(persons: int, seed: int | None, start: Params, max_outer: int = 6, max_inner: int = 4, tol: float = 0.01,
        log=print) -> tuple[Params, list[dict], Run]:  # fmt: skip
    """Nested fit: for each pressure to repay, the closed-form parameters to a fixed point; secant steps on the pressure.

    Returns the parameters, the history of every run, and the last run at the returned parameters'
    pressure (its stock gave the returned closed-form values).
    """
    targets = load_targets()
    q_target = math.log(travel_ratio(targets))
    d1, d2 = travel_days(targets)
    history: list[dict] = []
    evals: list[tuple[float, float, Params, Run]] = []  # (log gaming, log ratio, fitted params, run)
    p = start
    for outer in range(max_outer):
        # inner: judgment rate, ramp and demands at this pressure, to a fixed point
        for inner in range(max_inner):
            run = simulate(p, persons=persons, seed=seed)
            scale_to = run.scale * run.persons
            rate, ramp = solve_entries(run.stock, run.persons, scale_to, targets)
            new = Params(
                rate=rate,
                ramp=ramp,
                gaming=p.gaming,
                flight=solve_demand(run.stock, run.scale, targets, "flight_denials"),
                train=solve_demand(run.stock, run.scale, targets, "train_denials"),
                management=solve_demand(run.stock, run.scale, targets, "management_bans"),
            )
            ex = exposure(run.stock, run.scale)
            q = math.log(ex[d2] / ex[d1])
            change = _change(new, p)
            history.append({"outer": outer, "inner": inner, "seconds": round(run.seconds, 1), "params_run": asdict(p),
                            "denial_ratio": math.exp(q), "params_next": asdict(new), "max_change": change})  # fmt: skip
            log(
                f"pressure {p.gaming:.4g}, step {inner}: {run.seconds:.0f} s; denial ratio {math.exp(q):.3f} "
                f"(target {math.exp(q_target):.3f}); rate {new.rate:.5g}, ramp {[round(m, 4) for m in new.ramp]}, "
                f"demands {new.flight:.4g} / {new.train:.4g} / {new.management:.4g}; change {change:.2%}"
            )
            p = new
            if change < tol:
                break
        evals.append((math.log(p.gaming), q, p, run))
        if abs(q - q_target) < tol:
            break
        # outer: a secant step on log(pressure) toward the target ratio (the ratio falls as the pressure rises)
        slope = -0.1  # d log(ratio) / d log(pressure), from trial runs
        if len(evals) >= 2:
            (g0, q0, *_), (g1, q1, *_) = evals[-2], evals[-1]
            if abs(g1 - g0) > 1e-6 and (q1 - q0) / (g1 - g0) < -0.01:
                slope = (q1 - q0) / (g1 - g0)
        step = max(-1.0, min(1.0, (q_target - q) / slope))
        p = Params(p.rate, p.ramp, float(min(100.0, max(0.01, math.exp(math.log(p.gaming) + step)))), p.flight, p.train, p.management)
    else:
        log(f"the denial ratio did not come within {tol:.0%} of its target in {max_outer} pressures; keeping the closest")
    _, q, best, run = min(evals, key=lambda e: abs(e[1] - q_target))
    log(f"chosen: pressure {best.gaming:.4g}, denial ratio {math.exp(q):.3f} (target {math.exp(q_target):.3f})")
    return best, history, run


# ------------------------------------------------------------------ writing
def write_params(params: Params, path: Path = SCENARIO) -> None:
    """Rewrite the fitted numbers in the scenario file (only those; comments and layout are kept)."""
    text = path.read_text(encoding="utf-8")
    ramp = "[" + ", ".join(f"[{d}, {m:g}]" for d, m in zip(RAMP_DAYS, params.ramp)) + "]"
    subs = [
        (r"(\{name: unpaid_judgment, rate: )[0-9.e+-]+", rf"\g<1>{params.rate:g}"),
        (r"(\n\s+ramp: )\[.*\]", rf"\g<1>{ramp}"),
        (r"(gaming: \{elasticity: )[0-9.e+-]+", rf"\g<1>{params.gaming:g}"),
        (r"(\{name: flight, demand: )[0-9.e+-]+", rf"\g<1>{params.flight:g}"),
        (r"(\{name: train, demand: )[0-9.e+-]+", rf"\g<1>{params.train:g}"),
        (r"(\{name: management, demand: )[0-9.e+-]+", rf"\g<1>{params.management:g}"),
    ]
    for pattern, repl in subs:
        text, n = re.subn(pattern, repl, text, count=1)
        if n != 1:
            raise SystemExit(f"{path}: could not find {pattern!r} to rewrite")
    path.write_text(text, encoding="utf-8")
    if read_params(path) != params:
        raise SystemExit(f"{path}: the rewritten values do not read back as written")


def plot(run: Run, rows: list[dict], path: Path = OUT_PNG) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.dates as mdates
    import matplotlib.pyplot as plt

    days = np.arange(run.entries.size)
    dates = [date_of(d) for d in days]
    fig, ax = plt.subplots(figsize=(9, 5.6), dpi=110)
    colours = {"debtors_listed": "C0", "flight_denials": "C1", "train_denials": "C2", "management_bans": "C4"}
    for series, c in colours.items():
        y = run.cumulative(series)
        start = int(np.argmax(y > 0)) if (y > 0).any() else 0
        ax.plot(dates[start:], y[start:], color=c, lw=1.6, label=f"simulated: {LABEL[series]}")
        pts = [r for r in rows if r["series"] == series]
        if pts:
            x = [date.fromisoformat(r["date"]) for r in pts]
            v = np.array([r["published"] for r in pts])
            ax.errorbar(x, v, yerr=[v * TOLERANCE, v * TOLERANCE], fmt="o", color=c, mec="black", ms=6, capsize=4,
                        label=f"published ±15%: {series.replace('_', ' ')}")  # fmt: skip
    stock = run.stock * run.scale
    ax.plot(dates[1:], stock[1:], color="C0", lw=1.0, ls="--", label="simulated: persons on the list that day")
    ax.set_yscale("log")
    ax.set_ylim(1e4, 3e7)
    ax.set_ylabel("count, scaled to 1.4 billion people (log scale)")
    ax.xaxis.set_major_locator(mdates.YearLocator())
    ax.xaxis.set_major_formatter(mdates.DateFormatter("%Y"))
    ax.set_xlim(DAY0, date(2018, 1, 31))
    worst = max(abs(r["rel_error"]) for r in rows if r["required"])
    ax.set_title(
        "Court list of dishonest judgment debtors, 2013-2017: simulated vs published\n"
        f"({run.persons:,} simulated persons, seed {run.seed}; largest error at a required point {worst:.1%})",
        fontsize=11,
    )
    ax.grid(True, which="major", alpha=0.3)
    ax.legend(fontsize=7.5, loc="upper left", ncol=1, framealpha=0.9)
    fig.tight_layout()
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path)
    plt.close(fig)


def run_info(run: Run) -> dict:
    s = run.summary
    last = run.entries.size - 1
    return {
        "persons": run.persons,
        "seed": run.seed,
        "days": int(run.entries.size),
        "scale_factor": run.scale,
        "seconds": round(run.seconds, 1),
        "end_of_2017": {
            "entries_scaled": float(run.entries[last] * run.scale),
            "exits_scaled": float(run.exits[last] * run.scale),
            "on_list_scaled": float(run.stock[last] * run.scale),
            "share_of_entries_exited": float(run.exits[last] / max(run.entries[last], 1)),
        },
        "summary": {k: s[k] for k in ("blacklisted", "blacklist_entries", "services", "events_by_kind") if k in s},
    }


def write_json(payload: dict, path: Path = OUT_JSON) -> None:
    old = json.loads(path.read_text(encoding="utf-8")) if path.exists() else {}
    old.update(payload)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(old, indent=2, default=float) + "\n", encoding="utf-8")


# ------------------------------------------------------------------ main
def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--check", action="store_true", help="only simulate the shipped scenario and compare (no fit)")
    ap.add_argument("--persons", type=int, default=None, help="size of the check run (default: the scenario's)")
    ap.add_argument("--seed", type=int, default=None, help="seed of the check run (default: the scenario's)")
    ap.add_argument("--fit-persons", type=int, default=1_000_000, help="size of the fit runs (default 1,000,000)")
    ap.add_argument("--fit-only", action="store_true", help="fit and rewrite the scenario, but skip the check run")
    ap.add_argument("--threads", type=int, default=None, help="threads for the compiled kernels (default: all)")
    ap.add_argument("--no-write", action="store_true", help="write neither the JSON nor the plot")
    args = ap.parse_args(argv)
    global THREADS
    THREADS = args.threads

    targets = load_targets()
    payload: dict = {"targets": [asdict(t) for t in targets], "tolerance": TOLERANCE, "day0": DAY0.isoformat()}
    if not args.check:
        start = read_params()
        print(f"fitting at {args.fit_persons:,} persons from {start}")
        t0 = time.perf_counter()
        params, history, last = fit(args.fit_persons, None, start)
        params = params.rounded()  # 4 significant digits: far below the sampling noise
        write_params(params)
        print(f"fitted in {time.perf_counter() - t0:.0f} s; wrote {SCENARIO.relative_to(ROOT)}: {params}")
        payload["fit"] = {
            "persons": args.fit_persons,
            "ramp_days": list(RAMP_DAYS),
            "ramp_dates": [date_of(d).isoformat() for d in RAMP_DAYS],
            "params": asdict(params),
            "history": history,
            "target_denial_ratio": travel_ratio(targets),
        }
        # the fitted numbers against the published points, in expectation given the last fit run's stock
        payload["fit"]["expected"] = expected_rows(params, last, targets)
        if args.fit_only:
            if not args.no_write:
                write_json(payload)
            return 0

    rows, run = check(args.persons, args.seed)
    print(f"\n{run.persons:,} simulated persons, seed {run.seed}, {run.seconds:.0f} s; counts x {run.scale:,.0f}")
    print(table(rows))
    ok = passed(rows)
    print("\nevery required point within 15%" if ok else "\nSOME REQUIRED POINT IS OUTSIDE 15%")
    defaults = args.persons is None and args.seed is None
    if not args.no_write and (defaults or not args.check):
        payload["check"] = {"run": run_info(run), "rows": rows, "passed": ok, "params": asdict(read_params())}
        write_json(payload)
        plot(run, rows)
        print(f"wrote {OUT_JSON.relative_to(ROOT)} and {OUT_PNG.relative_to(ROOT)}")
    elif not args.no_write:
        print("(not the scenario's default size and seed: the JSON and the plot are left as they are)")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
