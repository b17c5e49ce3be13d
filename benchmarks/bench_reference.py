"""Benchmark the `reference` scenario (DESIGN section 6): person-days per second, time per stage, memory.

Each size runs in its own process, after a small warm-up run in that process
so that compile time is excluded (it is reported separately). Peak memory is
the process's peak resident set size minus its size before the population
was built, per person and per friendship.

    python benchmarks/bench_reference.py                      # 100k and 1M, default threads
    python benchmarks/bench_reference.py --suite --json benchmarks/results/mine.json
                       # the full suite: 10k, 100k, 1M, 10M persons with the default threads, 10k-1M at 1 and 2
                       # threads, the busy-core ratios, cold and cached compile, cached CLI start
    python benchmarks/bench_reference.py --persons 10000 100000 1000000 --threads 1 2 auto
    python benchmarks/bench_reference.py --busy --persons 100000 1000000
                       # one core kept busy by another process: the default threads against 1 and 2 threads

``--threads auto`` is the default of ``socialcredit run`` (no ``--threads``): as many threads as the cores other
processes leave free, looked at as the run goes (engine/cores.py); a number fixes the threads. ``--busy`` runs
the default against one thread, pair by pair, while another process spins on one core, and reports the ratios
(target: at most 1.1), then the same pairs idle against two threads (the default must be no slower).

With ``--society`` it runs the reference model with every response and
institution switched on as well (see :func:`society_rulebook`): the figure to
compare with the plain reference (target: at most 2x its time at 1M persons).

Targets (DESIGN section 7): 100k persons <= 1 s, 1M <= 10 s (>= 36 M person-days/s),
memory <= 250 bytes per person + 10 per friendship.
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

# Measure this checkout's code (not an older installed copy): its src/ comes first.
sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "src"))
os.environ.setdefault("SOCIALCREDIT_COMPILE_AHEAD", "0")  # no background compile beside the timed runs


def rss_mb() -> float:
    with open("/proc/self/statm") as f:
        pages = int(f.read().split()[1])
    return pages * os.sysconf("SC_PAGE_SIZE") / 1e6


def society_rulebook(persons: int, days: int):
    """The reference model with every response and institution on (values assumed for benchmarking).

    Public rules (so gaming acts; chilling needs secret rules, which switch gaming off), one company
    per 50 persons, half the persons in partnerships, company behaviours, coupling both ways, a
    company blacklist, a management service, appeals, shaming, unfriending with rewiring, breakups,
    friends' sanctions in the perceived risk, gaming and economic feedback on loan defaults.
    """
    import socialcredit as sc
    from socialcredit.rulebook.schema import Rulebook

    data = sc.load("reference", persons=persons, days=days).model_dump(exclude_none=True)
    data["population"]["companies"] = {"count": max(1, persons // 50), "employment": 0.6, "assumed": "benchmark"}
    data["population"]["partners"] = 0.5
    for b in data["behaviours"]:
        if b["kind"] == "prosocial":
            b["responses"] = ["deterrence", "gaming"]
    data["behaviours"] += [
        {"name": "loan_default", "rate": 0.2, "kind": "harmful", "channel": "records", "points": -50,
         "responses": ["deterrence", "income"], "assumed": "benchmark"},
        {"name": "criticism", "rate": 2, "kind": "benign", "channel": "camera", "points": 0, "assumed": "benchmark"},
        {"name": "company_listed", "rate": 0, "kind": "harmful", "channel": "records", "points": -50, "assumed": "benchmark"},
        {"name": "company_violation", "actor": "company", "rate": 2, "kind": "harmful", "channel": "records", "points": -60,
         "assumed": "benchmark"},
        {"name": "manager_listed", "actor": "company", "rate": 0, "kind": "harmful", "channel": "records", "points": -100,
         "assumed": "benchmark"},
    ]  # fmt: skip
    data["score"]["social"].update(partner=0.05, employer=0.05)
    data["lists"]["company_blacklist"] = {"enter": "score < 900", "min_days": 180, "assumed": "benchmark"}
    data["services"].append({"name": "management", "demand": 0.1, "denied_when": "blacklisted or represents_blacklisted", "assumed": "benchmark"})
    data["institutions"] = {
        "transparency": "public",
        "appeals": {"probability": 0.3, "success_false": 0.5, "success_true": 0.05, "delay": 30},
        "shaming": {"probability": 0.05},
        "coupling": {"representative_record": "company_listed", "company_record": "manager_listed"},
    }
    data["responses"]["deterrence"]["friends_weight"] = 0.1
    data["responses"].update(
        gaming={"elasticity": 0.5},
        income={"elasticity": 1.0},
        unfriending={"probability": 0.1, "tiers": ["C", "D"], "preference": 1.0},
        breakup={"probability": 0.05},
    )
    return Rulebook.model_validate(data)


def one(persons: int, days: int, threads: str, society: bool = False) -> dict:
    """Run one size in this process and return its figures (``threads``: a number, or "auto" for the default)."""
    t0 = time.perf_counter()
    import socialcredit as sc
    from socialcredit.engine.sim import Sim
    from socialcredit.results import Results

    from socialcredit import parallel

    fixed = None if threads == "auto" else int(threads)
    t_import = time.perf_counter() - t0
    # warm-up: compiles (or loads from the cache) every kernel the run uses, the parallel versions of the day's
    # kernels included (a run with the default threads uses them once compiled: socialcredit/parallel.py)
    t1 = time.perf_counter()
    warm = society_rulebook(2000, 40) if society else sc.load("reference", persons=2000, days=20)
    parallel.FORCE = "" if fixed == 1 else "parallel"
    Results.from_sim(Sim(warm, threads=fixed).run())
    parallel.FORCE = ""
    # and once as the run itself chooses: the serial versions of kernels picked by size (tallies of a few records,
    # the touched scores) load from the cache here, not in the timed run (100k persons: about 10 ms)
    Results.from_sim(Sim(warm, threads=fixed).run())
    compile_s = time.perf_counter() - t1
    base = rss_mb()
    rb = society_rulebook(persons, days) if society else sc.load("reference", persons=persons, days=days)
    sim = Sim(rb, threads=fixed)
    t2 = time.perf_counter()
    sim.setup()
    setup_s = time.perf_counter() - t2
    t3 = time.perf_counter()
    res = Results.from_sim(sim.run())
    run_s = time.perf_counter() - t3
    stages = dict(sim.timings.stages)
    stage_s = sum(stages.values())
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1e3  # kB -> MB
    net = sim.pop.network
    friendships = int(net.n_edges)
    extra_bytes = max(0.0, (peak - base) * 1e6)
    network_bytes = float(net.indices.nbytes + net.indptr.nbytes)
    return {
        "model": "reference + society" if society else "reference",
        "persons": persons,
        "days": days,
        "threads": threads,
        "threads_used": sim.threads_used(),  # every thread count the run used (the default follows the load)
        "serial_kernels": sorted(parallel.COLD),  # day kernels that ran serially (none, after the warm-up)
        "thread_changes": sim.cores.changes if sim.cores is not None else 0,
        "friendships": friendships,
        "import_s": t_import,
        "warmup_compile_s": compile_s,
        "setup_s": setup_s,
        "run_s": run_s,
        "stages_s": stage_s,
        "results_s": run_s - stage_s,
        "person_days_per_s": persons * days / run_s,
        "stage_seconds": stages,
        "peak_rss_mb": peak,
        "base_rss_mb": base,
        "bytes_per_friendship": network_bytes / max(1, friendships),  # the network's arrays (two slots a tie)
        "bytes_per_person": (extra_bytes - network_bytes) / persons,  # everything else at the peak
        "bytes_per_person_plus_friendship_budget": 250 * persons + 10 * friendships,
        "extra_bytes": extra_bytes,
        "within_memory_budget": extra_bytes <= 250 * persons + 10 * friendships,
        "blacklisted_end": int(res.summary().get("blacklisted", 0)),
    }


def compile_times() -> dict:
    """Cold compile (an empty Numba cache) and a cached start, each a fresh CLI process on a tiny run.

    The CLI runs `reference` at 2,000 persons for 1 day; the wall time is an upper bound on the time
    before the first simulated day (it includes writing the tiny run folder). A cold run compiles its
    kernels with a second process (engine/compile_alongside.py), uses the serial versions and compiles the
    parallel ones in a background process (engine/compile_ahead.py): the cached start is timed after both
    have ended, and the time they take after the run is reported too.
    """
    import tempfile

    from socialcredit.engine import compile_ahead, compile_alongside

    src = str(Path(__file__).resolve().parent.parent / "src")
    out = {}
    with tempfile.TemporaryDirectory() as tmp:
        env = dict(os.environ, NUMBA_CACHE_DIR=str(Path(tmp) / "numba-cache"), PYTHONPATH=src)
        env.pop("SOCIALCREDIT_COMPILE_AHEAD", None)
        for label in ("cold_compile_cli_s", "cached_cli_s"):
            run_dir = Path(tmp) / label
            cmd = [sys.executable, "-m", "socialcredit.cli", "run", "reference", "--persons", "2000", "--days", "1",
                   "--no-plot", "--json", "--out", str(run_dir)]  # fmt: skip
            t = time.perf_counter()
            proc = subprocess.run(cmd, env=env, capture_output=True, text=True)
            out[label] = time.perf_counter() - t
            if proc.returncode != 0:
                raise SystemExit(proc.stderr[-3000:])
            if label == "cold_compile_cli_s":
                t = time.perf_counter()
                locks = (compile_ahead.lock_path(), compile_alongside.lock_path())
                while any(lock.exists() for lock in locks) and time.perf_counter() - t < 300:
                    time.sleep(0.2)
                out["compile_ahead_after_s"] = time.perf_counter() - t
    return out


def threads_arg(value: str) -> str:
    if value != "auto" and not (value.isdigit() and int(value) >= 1):
        raise argparse.ArgumentTypeError(f"a thread count (1, 2, ...) or 'auto'; found {value!r}")
    return value


def run_one(n: int, days: int, threads: str, society: bool) -> dict:
    """One size in a fresh process (see :func:`one`)."""
    cmd = [sys.executable, __file__, "--one", "--persons", str(n), "--days", str(days), "--threads", threads]
    if society:
        cmd.append("--society")
    proc = subprocess.run(cmd, capture_output=True, text=True)
    if proc.returncode != 0:
        print(proc.stderr[-3000:], file=sys.stderr)
        raise SystemExit(f"benchmark failed at {n} persons, {threads} threads")
    return json.loads(proc.stdout.strip().splitlines()[-1])


class BusyCore:
    """Another process spinning on one core while the block runs (as a second job, a browser or a CI run)."""

    def __enter__(self) -> "BusyCore":
        self.proc = subprocess.Popen([sys.executable, "-c", "while True: pass"])
        time.sleep(0.5)
        return self

    def __exit__(self, *exc: object) -> None:
        self.proc.kill()
        self.proc.wait()
        time.sleep(0.5)


def busy_ratios(sizes: list[int], days: int, pairs: int, society: bool) -> list[dict]:
    """The default threads against 1 thread with one core busy, and against 2 threads idle, pair by pair."""
    out = []
    for n in sizes:
        with BusyCore():
            for _ in range(pairs):
                auto, single, double = (run_one(n, days, t, society) for t in ("auto", "1", "2"))
                out.append({"persons": n, "load": "one core busy", "default_s": auto["run_s"], "one_thread_s": single["run_s"],
                            "two_threads_s": double["run_s"], "default_over_one": auto["run_s"] / single["run_s"],
                            "two_over_one": double["run_s"] / single["run_s"], "default_threads_used": auto["threads_used"]})  # fmt: skip
                r = out[-1]
                print(f"{n:>10,} busy: default {r['default_s']:.2f} s, 1 thread {r['one_thread_s']:.2f} s, 2 threads "
                      f"{r['two_threads_s']:.2f} s; default / 1 thread = {r['default_over_one']:.2f}")  # fmt: skip
        for _ in range(pairs):
            auto, double = (run_one(n, days, t, society) for t in ("auto", "2"))
            out.append({"persons": n, "load": "idle", "default_s": auto["run_s"], "two_threads_s": double["run_s"],
                        "default_over_two": auto["run_s"] / double["run_s"], "default_threads_used": auto["threads_used"]})  # fmt: skip
            r = out[-1]
            print(f"{n:>10,} idle: default {r['default_s']:.2f} s, 2 threads {r['two_threads_s']:.2f} s; "
                  f"default / 2 threads = {r['default_over_two']:.2f}")
    return out


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--persons", type=int, nargs="+", default=[100_000, 1_000_000])
    ap.add_argument("--days", type=int, default=365)
    ap.add_argument("--threads", type=threads_arg, nargs="+", default=["auto"], help="thread counts, or 'auto' (the default)")
    ap.add_argument("--json", type=Path, default=None, help="write all figures to this JSON file")
    ap.add_argument("--society", action="store_true", help="switch every response and institution on as well")
    ap.add_argument("--busy", action="store_true", help="only the busy-core ratios (see above)")
    ap.add_argument("--pairs", type=int, default=2, help="pairs per size for --busy (default 2)")
    ap.add_argument("--suite", action="store_true", help="the full suite (see above); overrides --persons and --threads")
    ap.add_argument("--one", action="store_true", help=argparse.SUPPRESS)
    args = ap.parse_args()
    if args.one:
        print(json.dumps(one(args.persons[0], args.days, args.threads[0], args.society)))
        return
    plan = [] if args.busy else [(n, t) for n in args.persons for t in args.threads]
    compile_info = {}
    busy_sizes = args.persons if args.busy else []
    if args.suite:
        plan = [(n, "auto") for n in (10_000, 100_000, 1_000_000, 10_000_000)]
        plan += [(n, t) for t in ("1", "2") for n in (10_000, 100_000, 1_000_000)]
        busy_sizes = [10_000, 100_000, 1_000_000]
        compile_info = compile_times()
        print(f"cold compile (CLI, empty cache): {compile_info['cold_compile_cli_s']:.1f} s (then the background compile"
              f" of the parallel kernels: {compile_info['compile_ahead_after_s']:.1f} s more);"
              f" cached CLI start: {compile_info['cached_cli_s']:.2f} s")  # fmt: skip
    rows = []
    if plan:
        print(f"{'persons':>10} {'thr':>4} {'run s':>8} {'M pd/s':>8} {'setup s':>8} {'peak MB':>8} {'B/person*':>10}  slowest stages")
    for n, t in plan:
        r = run_one(n, args.days, t, args.society)
        rows.append(r)
        top = sorted(r["stage_seconds"].items(), key=lambda kv: -kv[1])[:3]
        # below about 100k persons the peak is set by fixed costs (thread pools, the audit, result tables), and
        # the figure per person can even come out negative: print it only where the population sets the peak
        per_person = f"{r['bytes_per_person']:.0f}" if n >= 100_000 else "(fixed)"
        print(
            f"{n:>10,} {t:>4} {r['run_s']:>8.2f} {r['person_days_per_s'] / 1e6:>8.1f} {r['setup_s']:>8.2f} "
            f"{r['peak_rss_mb']:>8.0f} {per_person:>10}  " + ", ".join(f"{k} {v:.2f}" for k, v in top)
        )
    if rows:
        print("* extra peak memory per person after the network's arrays (budget 250 B per person + 10 B per friendship;"
              f" the network holds {rows[-1]['bytes_per_friendship']:.1f} B per friendship)")  # fmt: skip
    busy = busy_ratios(busy_sizes, args.days, args.pairs, args.society) if busy_sizes else []
    info = {
        "when": time.strftime("%Y-%m-%dT%H:%M:%S"),
        "machine": {"cpus": os.cpu_count(), "platform": platform.platform(), "python": platform.python_version()},
        "compile": compile_info,
        "runs": rows,
        "busy": busy,
    }
    if args.json:
        args.json.parent.mkdir(parents=True, exist_ok=True)
        args.json.write_text(json.dumps(info, indent=2))
        print(f"wrote {args.json}")


if __name__ == "__main__":
    main()
