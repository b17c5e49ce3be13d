"""Benchmark the experiment executor: throughput against the ideal, per-run overhead, client memory.

    python benchmarks/bench_experiment.py                       # the issue's case: 2 arms x 16 seeds, 100k x 365, 2 workers
    python benchmarks/bench_experiment.py --json benchmarks/experiment-2026-12-06.json
    python benchmarks/bench_experiment.py --persons 20000 --seeds 4     # a quick look

Three measurements, each on the local cluster of ``--workers`` processes:

1. **Throughput.** One single-threaded run of each arm is timed in this process
   (after a warm-up run, so compile and cache loading are excluded), the way a
   worker runs it: rulebook text in, summary and kept daily series out. The
   ideal throughput is ``workers / mean single-run time``. The experiment of
   ``arms x seeds`` runs is then timed from submission to the last stored run
   (cluster start reported apart), and its throughput compared with the ideal.
2. **Per-run overhead.** Dispatch, result transfer and storage:
   ``wall x workers / runs - mean worker-side run time``, as a share of one run.
3. **Client memory.** 200 runs of 10,000 persons (``--memory-runs``): the
   client's resident memory after every 20 stored runs. Flat means the client
   keeps nothing per run.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import statistics
import sys
import tempfile
import time
from pathlib import Path

# Measure this checkout's code (not an older installed copy): its src/ comes first.
sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "src"))


def rss_mb() -> float:
    with open("/proc/self/statm") as f:
        pages = int(f.read().split()[1])
    return pages * os.sysconf("SC_PAGE_SIZE") / 1e6


def spec(persons: int, days: int, seeds: int, name: str) -> dict:
    return {
        "name": name, "base": "reference", "persons": persons, "days": days, "seeds": seeds,
        "arms": [{"name": "reference"}, {"name": "no_deterrence", "set": {"responses.deterrence.elasticity": 0}}],
    }  # fmt: skip


def single_run_seconds(data: dict, repeats: int) -> dict[str, float]:
    """Median single-threaded time of one run of each arm, in this process, after a warm-up."""
    from socialcredit.experiments.spec import plan_runs, spec_from_dict
    from socialcredit.experiments.task import RunTask, simulate

    plan = plan_runs(spec_from_dict({**data, "seeds": 1}))
    out = {}
    for r in plan.runs:
        task = RunTask(r.run_id, r.rulebook_yaml, r.seed, r.base_dir, plan.keep)
        simulate(task)  # warm-up: compile or load the cached kernels
        times = []
        for _ in range(repeats):
            o = simulate(task)
            assert o.ok, o.error
            times.append(o.seconds)
        out[r.arm] = statistics.median(times)
    return out


def run_experiment_timed(data: dict, workers: int) -> dict:
    from socialcredit.experiments.executor import Executor
    from socialcredit.experiments.runner import run_experiment
    from socialcredit.experiments.spec import spec_from_dict

    loaded = spec_from_dict(data)
    seconds: list[float] = []
    marks: list[float] = []
    rss: list[tuple[int, float]] = []

    def on_run(outcome) -> None:
        marks.append(time.perf_counter())
        seconds.append(outcome.seconds)
        if len(marks) % 20 == 0:
            rss.append((len(marks), rss_mb()))

    # Start and warm the cluster first (timed apart), so the timed part is the experiment alone.
    t0 = time.perf_counter()
    with Executor(workers=workers) as ex:
        cluster_start = time.perf_counter() - t0
        ex.warm_up()  # import and load the compiled kernels in every worker
        warm = time.perf_counter() - t0 - cluster_start
        with tempfile.TemporaryDirectory() as tmp:
            t1 = time.perf_counter()
            session = run_experiment(loaded, Path(tmp) / "exp", progress=False, command=[], on_run=on_run, executor=ex)
            wall = time.perf_counter() - t1
    return {"wall": wall, "cluster_start": cluster_start, "warm_up": warm, "runs": session.total,
            "failed": session.failed, "run_seconds": seconds, "rss_mb": rss}  # fmt: skip


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--persons", type=int, default=100_000)
    ap.add_argument("--days", type=int, default=365)
    ap.add_argument("--seeds", type=int, default=16)
    ap.add_argument("--workers", type=int, default=2)
    ap.add_argument("--repeats", type=int, default=3, help="single-run timings per arm (median)")
    ap.add_argument("--memory-runs", type=int, default=200, help="runs of 10,000 persons for the client-memory check (0: skip)")
    ap.add_argument("--json", type=Path, default=None)
    args = ap.parse_args()

    print(f"host: {platform.node()}, {os.cpu_count()} cores, python {platform.python_version()}; load {os.getloadavg()[0]:.2f}")
    data = spec(args.persons, args.days, args.seeds, "bench")
    single = single_run_seconds(data, args.repeats)
    t1 = statistics.mean(single.values())
    print(f"single-threaded run ({args.persons:,} persons x {args.days} days): "
          + ", ".join(f"{k} {v:.3f} s" for k, v in single.items()))  # fmt: skip
    exp = run_experiment_timed(data, args.workers)
    runs = exp["runs"]
    ideal = args.workers / t1  # runs per second
    got = runs / exp["wall"]
    mean_run = statistics.mean(exp["run_seconds"])
    overhead = exp["wall"] * args.workers / runs - mean_run
    print(f"experiment: {runs} runs in {exp['wall']:.2f} s on {args.workers} workers "
          f"(cluster start {exp['cluster_start']:.2f} s and worker warm-up {exp['warm_up']:.2f} s, measured apart)")  # fmt: skip
    print(f"throughput: {got:.3f} runs/s against the ideal {ideal:.3f} ({args.workers} x one single-threaded run): "
          f"{100 * got / ideal:.1f}% (target >= 85%)")  # fmt: skip
    print(f"mean worker-side run time {mean_run:.3f} s (single run in this process {t1:.3f} s: "
          f"{100 * (mean_run / t1 - 1):+.1f}% from sharing the machine)")  # fmt: skip
    print(f"per-run overhead (dispatch, transfer, storage, idle tail): {overhead * 1000:.0f} ms = {100 * overhead / t1:.1f}% of a run "
          "(target <= 5%)")  # fmt: skip
    result = {"persons": args.persons, "days": args.days, "seeds": args.seeds, "workers": args.workers,
              "single_run_seconds": single, "experiment": {k: v for k, v in exp.items() if k != "rss_mb"},
              "throughput_share_of_ideal": got / ideal, "overhead_seconds_per_run": overhead,
              "overhead_share_of_run": overhead / t1}  # fmt: skip
    if args.memory_runs:
        mem = run_experiment_timed(spec(10_000, args.days, args.memory_runs // 2, "memory"), args.workers)
        curve = mem["rss_mb"]
        print("client memory, 10,000 persons per run: " + ", ".join(f"{n} runs {mb:.0f} MB" for n, mb in curve))
        if len(curve) >= 2:
            growth = (curve[-1][1] - curve[0][1]) / max(1, curve[-1][0] - curve[0][0])
            print(f"  growth {growth * 1000:.1f} kB per run between run {curve[0][0]} and run {curve[-1][0]}")
            result["client_memory"] = {"curve_mb": curve, "growth_kb_per_run": growth * 1000}
    if args.json:
        args.json.write_text(json.dumps(result, indent=1))
        print(f"wrote {args.json}")


if __name__ == "__main__":
    main()
