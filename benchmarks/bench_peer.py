"""Speed of socialcredit against the same reference model in Mesa (benchmarks/peers/mesa_reference.py).

For each population size, in separate processes:

- socialcredit: scenario ``reference``, 365 days (``--days``), after a small warm-up run that compiles (or
  loads) the kernels; ``--threads`` threads (default 2). Timed: ``Sim.run()`` (the daily loop and the
  results), and the set-up (population and network) separately.
- Mesa: ``ReferenceModel`` for ``--mesa-days`` days (default 28, a multiple of the 7-day social period, so
  the weekly friends pass has its share of the work). Timed: the steps; the set-up (agents, network)
  separately. Variant ``fused`` (the default peer: ``AgentSet.do`` passes, stages 3-7 in one pass per
  agent) and, unless ``--mesa-variants fused``, ``staged`` (one ``shuffle_do`` pass per stage, the
  textbook style).

Speeds are person-days per second of the daily loop (set-up excluded on both sides), the best of
``--repeat`` runs (default 3, each with a fresh model; the same for both implementations); the ratio is
socialcredit over the fastest Mesa variant. The load average is recorded around every measurement: on a
shared machine the figures are provisional.

    PYTHONPATH=src python benchmarks/bench_peer.py                       # 10k and 100k persons
    PYTHONPATH=src python benchmarks/bench_peer.py --persons 10000 --mesa-days 14 --json out.json

Needs the ``peers`` extra (``pip install -e .[peers]``: Mesa 3).
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import resource
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def load() -> list[float]:
    return [round(x, 2) for x in os.getloadavg()]


def ours(persons: int, days: int, threads: int, seed: int, repeat: int) -> dict:
    import numba

    import socialcredit as sc
    from socialcredit.engine.sim import Sim
    from socialcredit.results import Results

    numba.set_num_threads(threads)
    t0 = time.perf_counter()
    Results.from_sim(Sim(sc.load("reference", persons=2000, days=365)).run())  # compiles or loads every kernel the run uses
    compile_s = time.perf_counter() - t0
    load0 = load()
    setups, runs = [], []
    for _ in range(repeat):
        sim = Sim(sc.load("reference", persons=persons, days=days, overrides={"simulation.seed": seed}), threads=threads)
        t1 = time.perf_counter()
        sim.setup()
        setups.append(time.perf_counter() - t1)
        t2 = time.perf_counter()
        res = Results.from_sim(sim.run())
        runs.append(time.perf_counter() - t2)
    setup_s, run_s = min(setups), min(runs)
    return {
        "implementation": "socialcredit",
        "persons": persons,
        "days": days,
        "threads": threads,
        "warmup_compile_s": compile_s,
        "setup_s": setup_s,
        "run_s": run_s,
        "run_s_all": runs,
        "person_days_per_s": persons * days / run_s,
        "end_to_end_person_days_per_s": persons * days / (setup_s + run_s),
        "peak_rss_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1e3,
        "blacklisted_end": int(res.summary().get("blacklisted", 0)),
        "load_before": load0,
        "load_after": load(),
    }


def mesa(persons: int, days: int, seed: int, variant: str, repeat: int) -> dict:
    sys.path.insert(0, str(ROOT))
    import mesa as mesa_pkg

    from benchmarks.peers.mesa_reference import ReferenceModel, outcome

    load0 = load()
    setups, runs = [], []
    for _ in range(repeat):
        t1 = time.perf_counter()
        model = ReferenceModel(persons=persons, seed=seed, days=days, staged=variant == "staged")
        setups.append(time.perf_counter() - t1)
        t2 = time.perf_counter()
        model.run_model()
        runs.append(time.perf_counter() - t2)
    setup_s, run_s = min(setups), min(runs)
    return {
        "implementation": f"mesa ({variant})",
        "mesa_version": mesa_pkg.__version__,
        "persons": persons,
        "days": days,
        "threads": 1,
        "setup_s": setup_s,
        "run_s": run_s,
        "run_s_all": runs,
        "person_days_per_s": persons * days / run_s,
        "peak_rss_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1e3,
        "blacklisted_end": outcome(model)["blacklisted"],
        "load_before": load0,
        "load_after": load(),
    }


def child(args: list[str]) -> dict:
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join(p for p in (str(ROOT / "src"), env.get("PYTHONPATH", "")) if p)
    out = subprocess.run([sys.executable, __file__, *args], check=True, capture_output=True, text=True, env=env)
    return json.loads(out.stdout.strip().splitlines()[-1])


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--persons", type=int, nargs="+", default=[10_000, 100_000])
    ap.add_argument("--days", type=int, default=365, help="days of the socialcredit run")
    ap.add_argument("--mesa-days", type=int, default=28, help="days of the Mesa run (speed is scaled per person-day)")
    ap.add_argument("--mesa-variants", nargs="+", choices=["fused", "staged"], default=["fused", "staged"])
    ap.add_argument("--threads", type=int, default=2, help="socialcredit threads (Mesa uses one)")
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--repeat", type=int, default=3, help="runs per measurement (fresh model each); the fastest counts")
    ap.add_argument("--json", type=Path, default=None, help="write all figures to this JSON file")
    ap.add_argument("--one", choices=["ours", "fused", "staged"], help=argparse.SUPPRESS)
    args = ap.parse_args()
    if args.one:
        n = args.persons[0]
        if args.one == "ours":
            row = ours(n, args.days, args.threads, args.seed, args.repeat)
        else:
            row = mesa(n, args.mesa_days, args.seed, args.one, args.repeat)
        print(json.dumps(row))
        return
    rows, ratios = [], []
    print(f"{'persons':>8} {'implementation':>16} {'days':>5} {'setup s':>8} {'run s':>8} {'pd/s':>12} {'load':>16}")
    for n in args.persons:
        common = ["--persons", str(n), "--days", str(args.days), "--mesa-days", str(args.mesa_days), "--seed", str(args.seed)]
        common += ["--repeat", str(args.repeat)]
        here = [child([*common, "--threads", str(args.threads), "--one", "ours"])]
        here += [child([*common, "--one", v]) for v in args.mesa_variants]
        for r in here:
            print(
                f"{n:>8} {r['implementation']:>16} {r['days']:>5} {r['setup_s']:>8.2f} {r['run_s']:>8.2f} "
                f"{r['person_days_per_s']:>12,.0f} {r['load_before']!s:>16}"
            )
        best = max(r["person_days_per_s"] for r in here[1:])
        ratio = here[0]["person_days_per_s"] / best
        ratios.append({"persons": n, "socialcredit_over_fastest_mesa": ratio, "mesa_person_days_per_s": best})
        print(f"{n:>8} {'ratio':>16}  socialcredit / fastest Mesa = {ratio:,.1f}x")
        rows += here
    if args.json:
        meta = {
            "machine": platform.machine(),
            "python": platform.python_version(),
            "cpus": os.cpu_count(),
            "date": time.strftime("%Y-%m-%d %H:%M"),
            "command": " ".join(sys.argv),
            "note": "shared machine: figures are provisional; see load_before/load_after",
        }
        args.json.write_text(json.dumps({"meta": meta, "runs": rows, "ratios": ratios}, indent=2) + "\n")
        print(f"wrote {args.json}")


if __name__ == "__main__":
    main()
