"""Benchmark a calibration: wall time of fitting ``national-blacklist`` to the published court-list figures.

    python benchmarks/bench_calibration.py                          # 9 values, 150 trials at 200,000 persons
    python benchmarks/bench_calibration.py --trials 20 --persons 100000
    python benchmarks/bench_calibration.py --holdout-after 2016-12-31 --fit-only-flows --out calibrations/to-2016
    python benchmarks/bench_calibration.py --json benchmarks/calibration-mine.json

It runs ``socialcredit calibrate`` as a user would (a local cluster of one
worker per core) with both data files (``data/national_blacklist_targets.csv``
and ``data/national_blacklist_flows.csv``) and the parameters the scenario
fits (:data:`PARAMS`), and reports the wall time from the command's start to
the written report, the trials, the mean simulation time of a trial, and the
fit: the best objective and the mean absolute errors of the fitted and the
forecast targets. Run it on an idle machine (``uptime`` first).
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
TARGETS = [ROOT / "data" / "national_blacklist_targets.csv", ROOT / "data" / "national_blacklist_flows.csv"]
#: what the scenario fits, and the ranges searched (log scale where HI / LO >= 10)
PARAMS = [
    "behaviours.unpaid_judgment.rate=0.0005:0.01",  # yearly rate of an unpaid judgment once all courts report
    "detection.channels.court.ramp.0.1=0.005:0.5",  # share of courts reporting on 2013-10-01
    "detection.channels.court.ramp.1.1=0.02:1",  # ... on 2014-07-31
    "detection.channels.court.ramp.2.1=0.2:1",  # ... on 2015-10-01 (1 on 2017-12-31)
    "behaviours.repay.rate=0.002:0.5",  # yearly repayment rate without pressure
    "responses.gaming.elasticity=0.5:100",  # how much perceived risk raises it
    "services.flight.demand=0.3:10",  # plane ticket attempts per listed person per year
    "services.train.demand=0.1:5",  # high-speed and first-class rail attempts
    "services.management.demand=0.002:0.2",  # appointments to senior management
]
DEMANDS = ("services.",)  # not identified before 2017: no denial figure was published earlier


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--scenario", default="national-blacklist", help="the scenario, or a rulebook file of it (e.g. a fitted.yaml to start from)")
    ap.add_argument("--persons", type=int, default=200_000)
    ap.add_argument("--trials", type=int, default=150)
    ap.add_argument("--seeds", type=int, default=1)
    ap.add_argument("--sampler", default="tpe", help="tpe, cmaes or random (a folder's study can go on with another sampler)")
    ap.add_argument("--workers", type=int, default=None)
    ap.add_argument("--holdout-after", default=None, help="fit up to this date, forecast after it")
    ap.add_argument("--fit-only-flows", action="store_true", help="leave the service demands out (nothing before 2017 identifies them)")
    ap.add_argument("--out", type=Path, default=None, help="keep the calibration folder here (default: a temporary one)")
    ap.add_argument("--json", type=Path, default=None, help="write the figures to this JSON file")
    args = ap.parse_args()

    params = [p for p in PARAMS if not (args.fit_only_flows and p.startswith(DEMANDS))]
    with tempfile.TemporaryDirectory() as tmp:
        out = args.out or Path(tmp) / "calibration"
        cmd = [sys.executable, "-m", "socialcredit.cli", "calibrate", args.scenario, "--json",
               *[a for t in TARGETS for a in ("--targets", str(t))], *[a for p in params for a in ("--param", p)],
               "--persons", str(args.persons), "--trials", str(args.trials), "--seeds", str(args.seeds), "--out", str(out)]  # fmt: skip
        cmd += ["--sampler", args.sampler]
        if args.workers:
            cmd += ["--workers", str(args.workers)]
        if args.holdout_after:
            cmd += ["--holdout-after", args.holdout_after]
        env = dict(os.environ, PYTHONPATH=str(ROOT / "src") + os.pathsep + os.environ.get("PYTHONPATH", ""))
        load = os.getloadavg()[0]
        import pandas as pd

        before = pd.read_csv(out / "history.csv") if (out / "history.csv").exists() else None
        done_before = int((before["state"] == "COMPLETE").sum()) if before is not None else _complete(out)
        t0 = time.perf_counter()
        proc = subprocess.run(cmd, capture_output=True, text=True, env=env)
        wall = time.perf_counter() - t0
        if proc.returncode != 0:
            sys.exit(proc.stderr)
        result = json.loads(proc.stdout)
        about = json.loads((out / "calibration.json").read_text())
        hist = pd.read_csv(out / "history.csv")
    ran = args.trials - done_before
    fit = pd.DataFrame(result["fit"])
    errors = {role: float(fit.loc[fit["role"] == role, "error"].abs().mean()) for role in ("fitted", "forecast") if (fit["role"] == role).any()}
    figures = {
        "scenario": args.scenario, "persons": args.persons, "trials": args.trials, "seeds": args.seeds,
        "params": len(params), "holdout_after": args.holdout_after, "sampler": args.sampler,
        "trials_this_session": ran, "wall_seconds": round(wall, 1), "seconds_per_trial": round(wall / max(ran, 1), 2),
        "best_objective": round(result["objective"], 4), "mean_abs_error": {k: round(v, 4) for k, v in errors.items()},
        "best": result["best"], "importance": about.get("importance", {}),
        "trials_failed": int((hist["state"] == "FAIL").sum()),
        "machine": {"cpus": os.cpu_count(), "python": platform.python_version(), "load_before": load},
    }  # fmt: skip
    print(f"national-blacklist: {len(params)} values, {ran} trials ({args.sampler}) at {args.persons:,} persons in {wall:.0f} s "
          f"({wall / max(ran, 1):.1f} s per trial); best objective {result['objective']:.3f}; "
          + ", ".join(f"{k} targets within {v:.1%} on average" for k, v in errors.items()))  # fmt: skip
    if args.json:
        args.json.write_text(json.dumps(figures, indent=2) + "\n")


def _complete(folder: Path) -> int:
    """Finished trials of a study left without a history (a killed calibration), 0 for a new folder."""
    if not (folder / "study.db").exists():
        return 0
    import optuna

    optuna.logging.set_verbosity(optuna.logging.WARNING)
    study = optuna.load_study(study_name="calibration", storage=f"sqlite:///{folder / 'study.db'}")
    return sum(t.state.name == "COMPLETE" for t in study.get_trials(deepcopy=False))


if __name__ == "__main__":
    main()
