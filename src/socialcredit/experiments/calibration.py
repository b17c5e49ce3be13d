"""Calibration: fit rulebook values to published figures (Optuna on the experiment executor).

The parameters are rulebook values with a range (``KEY=LO:HI``, sampled on a
log scale when LO > 0 and HI / LO >= 10). The targets are published figures,
each mapped to a simulated measure and its scaling
(:mod:`socialcredit.experiments.targets`). A trial runs the rulebook with its
values for every seed (the same seeds in every trial: common random numbers);
its objective is the weighted mean absolute relative error over the fitted
targets, averaged over the seeds.

Trials are asked from Optuna in batches of a fixed size (``batch``, not the
number of workers, so the same command gives the same study on any cluster),
their runs go to the executor, and each trial is told in trial order once all
its seeds are back. The study lives in ``OUT/study.db`` (Optuna's SQLite
storage): a calibration that was stopped or killed is resumed by the same
command; finished trials are kept, trials that were running are run again
with the same values.

At the end, the best values are run once more for every seed to draw the
fitted curves, and the folder receives ``fitted.yaml`` (the rulebook with the
best values, each with a note saying what it was fitted to and how),
``fit.csv`` (simulated against published at every target),
``curves.csv``, ``calibration.json`` and, from the CLI, ``report.html``.
"""

from __future__ import annotations

import datetime
import hashlib
import json
import math
import os
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from socialcredit import strict_json
from socialcredit.errors import InputError, SocialCreditError
from socialcredit.experiments.sensitivity import Factor, check_factors
from socialcredit.experiments.targets import (
    Target,
    as_rows,
    measure_curve,
    objective,
    place,
    read_targets,
    relative_errors,
    scale_of,
    series_of,
    simulated,
)
from socialcredit.files import read_json, write_atomic
from socialcredit.rulebook import load_rulebook

STUDY = "study.db"
ABOUT = "calibration.json"
SAMPLERS = ("tpe", "cmaes", "random")
DEFAULT_BATCH = 4
FAIL_LIMIT = 0.5  # stop when more than this share of the trials fail (after the first batch)


@dataclass(frozen=True)
class TrialTask:
    """One run of one trial, as a worker executes it."""

    trial: int
    seed: int
    rulebook_yaml: str
    base_dir: str | None
    targets: tuple[Target, ...]
    curves: bool = False  # also return the whole comparable series of every measure (for the fitted curves)


@dataclass
class TrialOutcome:
    trial: int
    seed: int
    ok: bool
    values: list[float] = field(default_factory=list)
    curves: dict[str, list[float]] = field(default_factory=dict)
    error: str | None = None
    seconds: float = 0.0


def evaluate(task: TrialTask) -> TrialOutcome:
    """Run one simulation and read the simulated value at every target; failures come back as messages."""
    from socialcredit.experiments.task import failure, run_text

    t0 = time.perf_counter()
    try:
        _, rb, res = run_text(task.rulebook_yaml, task.seed, task.base_dir, name=f"rulebook of trial {task.trial}")
        values = simulated(list(task.targets), res.daily, res.services, rb.simulation.scale_to, rb.population.persons)
        out = TrialOutcome(task.trial, task.seed, True, [float(v) for v in values])
        if task.curves:
            for t in task.targets:
                for name in t.measure.split(" / ") if t.measure else ():
                    if name not in out.curves:
                        out.curves[name] = series_of(name, res.daily, res.services).tolist()
    except Exception as exc:  # noqa: BLE001 - recorded with the trial, the others go on
        out = TrialOutcome(task.trial, task.seed, False, error=failure(exc))
    out.seconds = time.perf_counter() - t0
    return out


# ------------------------------------------------------------------ the problem

@dataclass
class Problem:
    """What is fitted, to what, and how: everything that must not change when a calibration is resumed."""

    source: str
    rulebook_yaml: str
    base_dir: str
    params: list[Factor]
    targets: list[Target]
    use: np.ndarray  # 1 for the targets the objective uses, 0 for the rest
    holdout: np.ndarray  # 1 for the targets after --holdout-after
    notes: list[str]
    seeds: list[int]
    trials: int
    sampler: str
    batch: int
    seed: int
    holdout_after: str | None
    persons: int
    scale_to: float | None
    start: str | None
    set_overrides: list[str] = field(default_factory=list)  # --set items (part of the model); --persons and --days are not

    def fingerprint(self) -> dict[str, Any]:
        return {
            "rulebook_sha256": hashlib.sha256(self.rulebook_yaml.encode("utf-8")).hexdigest(),
            "params": [f"{p.key}={p.low!r}:{p.high!r}" for p in self.params],
            "targets": [f"{t.file}:{t.line} {t.series} {t.date or t.day} {t.value!r} {t.measure} {t.scale} {t.weight!r}" for t in self.targets],
            "seeds": self.seeds, "holdout_after": self.holdout_after,
        }  # fmt: skip  (the sampler, batch and study seed may change between sessions: they change how, not what)


def is_log(p: Factor) -> bool:
    """Parameters spanning a factor of 10 or more are sampled on a log scale."""
    return p.low > 0 and p.high / p.low >= 10


def build_problem(source: str, targets_files: list[str], params: list[Factor], *, trials: int = 100, seeds: int = 1,
                  first_seed: int | None = None, holdout_after: str | None = None, persons: int | None = None,
                  days: int | None = None, overrides: list[str] = (), sampler: str = "tpe", batch: int = DEFAULT_BATCH,
                  seed: int = 0) -> Problem:  # fmt: skip
    """Check everything the user gave (located errors, exit 2) before anything runs or is written."""
    if not params:
        raise InputError("nothing to fit: give at least one --param KEY=LO:HI", file="command line",
                         hint="e.g. --param behaviours.unpaid_judgment.rate=0.0005:0.01")  # fmt: skip
    if not targets_files:
        raise InputError("no targets: give --targets CSV (see docs/calibration.md for its columns)", file="command line")
    if sampler not in SAMPLERS:
        raise InputError(f"--sampler {sampler!r}: allowed: {', '.join(SAMPLERS)}", file="command line")
    if not 1 <= trials <= 100_000:
        raise InputError(f"--trials must be between 1 and 100000; found {trials}", file="command line")
    if not 1 <= seeds <= 1000:
        raise InputError(f"--seeds must be between 1 and 1000; found {seeds}", file="command line")
    if not 1 <= batch <= 1000:
        raise InputError(f"--batch must be between 1 and 1000; found {batch}", file="command line")
    keys = [p.key for p in params]
    dup = sorted({k for k in keys if keys.count(k) > 1})
    if dup:
        raise InputError(f"--param {dup[0]} is given twice", file="command line")
    set_overrides = list(overrides)
    size = [f"population.persons={persons}"] if persons is not None else []
    size += [f"simulation.days={days}"] if days is not None else []
    overrides = [*overrides, *size]
    params = check_factors(source, overrides, params)
    loaded = load_rulebook(source, overrides)
    rb = loaded.rulebook
    targets: list[Target] = []
    for f in targets_files:
        targets.extend(read_targets(f))
    placed, notes = place(targets, rb.simulation.start, rb.simulation.days, [t.name for t in rb.tiers],
                          [s.name for s in rb.services], rb.simulation.scale_to, rb.population.persons)  # fmt: skip
    fitted = np.array([t.fitted for t in placed], dtype=np.float64)
    holdout = np.zeros(len(placed))
    if holdout_after is not None:
        try:
            cut = datetime.date.fromisoformat(holdout_after)
        except ValueError:
            raise InputError(f"--holdout-after {holdout_after!r}: allowed: a date as YYYY-MM-DD", file="command line") from None
        if any(not t.date for t in placed):
            raise InputError("--holdout-after needs dated targets; some are placed by day only", file="command line")
        holdout = np.array([datetime.date.fromisoformat(t.date) > cut for t in placed], dtype=np.float64)
        holdout_after = cut.isoformat()
    use = fitted * (1 - holdout)
    if use.sum() == 0:
        raise InputError("no target left to fit" + (f" up to {holdout_after}" if holdout_after else "")
                         + ": every row has no measure, weight 0, or a date after the run", file=",".join(targets_files))  # fmt: skip
    if holdout_after is not None and (fitted * holdout).sum() == 0:
        notes.append(f"no fitted target is after {holdout_after}: there is nothing to forecast")
    first = rb.simulation.seed if first_seed is None else first_seed
    start = rb.simulation.start.isoformat() if rb.simulation.start else None
    return Problem(source, loaded.yaml(), loaded.base_dir, params, placed, use, holdout * fitted, notes,
                   list(range(first, first + seeds)), trials, sampler, batch, seed, holdout_after,
                   rb.population.persons, rb.simulation.scale_to, start, set_overrides)  # fmt: skip


# ------------------------------------------------------------------ the study

def _sampler(problem: Problem, number: int, best: dict[str, float] | None = None) -> Any:
    """The sampler for the batch starting at trial ``number``, seeded from the study's seed and that number, so a
    batch draws the same values whatever ran before it in this process. CMA-ES starts from ``best`` (the study's
    best values so far) or else from the rulebook's values."""
    import optuna

    seed = (problem.seed * 1_000_003 + number) % 2**32
    if problem.sampler == "cmaes":
        import warnings

        x0 = best or {p.key: p.value for p in problem.params if p.value is not None and p.low <= p.value <= p.high}
        with warnings.catch_warnings():  # x0 is deprecated from Optuna 4.9 (removal planned for 6.0) but still honoured
            warnings.simplefilter("ignore", FutureWarning)
            return optuna.samplers.CmaEsSampler(seed=seed, x0=x0 if len(x0) == len(problem.params) else None)
    if problem.sampler == "random":
        return optuna.samplers.RandomSampler(seed=seed)
    return optuna.samplers.TPESampler(seed=seed, multivariate=True, constant_liar=True)


def open_study(problem: Problem, folder: Path) -> Any:
    """Create or reopen the study in ``folder``; refuse a folder holding a different calibration."""
    import optuna

    optuna.logging.set_verbosity(optuna.logging.WARNING)
    about_path = folder / ABOUT
    if about_path.exists():
        old = read_json(about_path, "a calibration record").get("fingerprint", {})
        new = json.loads(strict_json.dumps(problem.fingerprint()))
        diff = [k for k in sorted(new) if old.get(k) != new.get(k)]
        if diff:
            raise InputError(f"the folder holds a different calibration (differs in: {', '.join(diff)})", file=str(folder),
                             hint="give another --out, or the same command as before to resume it")  # fmt: skip
    storage = f"sqlite:///{(folder / STUDY).resolve()}"
    study = optuna.create_study(study_name="calibration", storage=storage, direction="minimize", load_if_exists=True,
                                sampler=_sampler(problem, 0))  # fmt: skip
    return study


def _recover(study: Any) -> int:
    """Trials left running by a killed calibration: marked failed and queued again with the same values."""
    from optuna.trial import TrialState

    lost = [t for t in study.get_trials(deepcopy=False) if t.state == TrialState.RUNNING]
    for t in lost:
        study.tell(t.number, state=TrialState.FAIL)
        study.set_user_attr(f"interrupted_{t.number}", True)
        study.enqueue_trial(t.params, user_attrs={"rerun_of": t.number})
    return len(lost)


def _suggest(trial: Any, params: list[Factor]) -> dict[str, float]:
    return {p.key: trial.suggest_float(p.key, p.low, p.high, log=is_log(p)) for p in params}


def _rulebook_with(problem: Problem, values: dict[str, float]) -> str:
    from socialcredit.rulebook.document import dump_yaml, parse_document
    from socialcredit.rulebook.overrides import apply_overrides

    doc = apply_overrides(parse_document(problem.rulebook_yaml, "calibrated rulebook"), [f"{k}={v!r}" for k, v in values.items()])
    return dump_yaml(doc.data)


@dataclass
class Calibration:
    """A finished calibration: the study, the problem, the best values and the fit at every target."""

    problem: Problem
    study: Any
    best: dict[str, float]
    fit: pd.DataFrame
    curves: pd.DataFrame
    folder: Path
    resumed: int = 0


def run_calibration(problem: Problem, out: str | os.PathLike, *, workers: int | None = None, scheduler: str | None = None,
                    progress: bool = True, on_message: Callable[[str], None] | None = None) -> Calibration:  # fmt: skip
    """Run (or resume) the study until it holds ``problem.trials`` finished trials; then fit, save and return."""
    from optuna.trial import TrialState

    from socialcredit.experiments.executor import Executor

    say = on_message or (lambda text: None)
    folder = Path(out)
    folder.mkdir(parents=True, exist_ok=True)
    study = open_study(problem, folder)
    _write_about(problem, folder, None)
    resumed = _recover(study)
    if not study.get_trials(deepcopy=False):
        start = {p.key: p.value for p in problem.params if p.value is not None and p.low <= p.value <= p.high}
        if len(start) == len(problem.params):  # the rulebook's own values first: a fit never ends worse than its start
            study.enqueue_trial(start, user_attrs={"start": True})
    done = _complete(study)
    if resumed or done:
        say(f"resuming: {done} trials finished before" + (f", {resumed} interrupted trials run again" if resumed else ""))
    from rich.console import Console
    from rich.progress import (
        BarColumn,
        MofNCompleteColumn,
        Progress,
        TextColumn,
        TimeElapsedColumn,
        TimeRemainingColumn,
    )

    console = Console(stderr=True)
    bar = Progress(TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(), TextColumn("trials"),
                   TimeElapsedColumn(), TextColumn("ETA"), TimeRemainingColumn(), console=console,
                   disable=not progress or not console.is_terminal)  # fmt: skip
    with Executor(workers=workers, scheduler=scheduler) as ex:
        if done < problem.trials:
            say(f"fitting {len(problem.params)} values to {int(problem.use.sum())} targets on {ex.describe()}")
            ex.warm_up()
        with bar:
            job = bar.add_task("calibrating", total=problem.trials, completed=done)
            while done < problem.trials:
                k = min(problem.batch, problem.trials - done)
                best = dict(study.best_trial.params) if done else None
                study.sampler = _sampler(problem, len(study.get_trials(deepcopy=False)), best)
                asked = [study.ask() for _ in range(k)]
                values = {t.number: _suggest(t, problem.params) for t in asked}
                tasks = [TrialTask(t.number, s, _rulebook_with(problem, values[t.number]), problem.base_dir, tuple(problem.targets))
                         for t in asked for s in problem.seeds]  # fmt: skip
                results: dict[int, list[TrialOutcome]] = {t.number: [] for t in asked}
                for task, outcome, error in ex.map(evaluate, tasks, key=lambda t: f"trial{t.trial}-seed{t.seed}"):
                    if error is not None or outcome is None:
                        outcome = TrialOutcome(task.trial, task.seed, False, error=error or "no result")
                    results[task.trial].append(outcome)
                for t in asked:  # told in trial order, so the study does not depend on which run finished first
                    _tell(study, problem, t, results[t.number])
                done = _complete(study)
                failed = len([t for t in study.get_trials(deepcopy=False, states=(TrialState.FAIL,)) if "error" in t.user_attrs])
                best = study.best_value if done else float("nan")
                bar.update(job, completed=done, description=f"calibrating (best {best:.3g})" + (f", {failed} failed" if failed else ""))
                if failed and (done == 0 or failed > FAIL_LIMIT * (done + failed)):
                    first = next(t for t in study.get_trials(deepcopy=False, states=(TrialState.FAIL,)) if "error" in t.user_attrs)
                    raise SocialCreditError(f"{failed} of {done + failed} trials failed; first, trial {first.number}: "
                                            f"{first.user_attrs['error']}")  # fmt: skip
        say(f"best objective {study.best_value:.4g} (trial {study.best_trial.number}); running it for {len(problem.seeds)} seed(s) "
            "to draw the fitted curves")  # fmt: skip
        best = {p.key: float(study.best_trial.params[p.key]) for p in problem.params}
        yaml_text = _rulebook_with(problem, best)
        tasks = [TrialTask(-1, s, yaml_text, problem.base_dir, tuple(problem.targets), curves=True) for s in problem.seeds]
        finals = []
        for task, outcome, error in ex.map(evaluate, tasks, key=lambda t: f"best-seed{t.seed}"):
            if error is not None or outcome is None or not outcome.ok:
                raise SocialCreditError(f"the best values failed to run again (seed {task.seed}): {error or outcome.error}")
            finals.append(outcome)
    finals.sort(key=lambda o: o.seed)
    fit = fit_table(problem, np.array([o.values for o in finals]))
    curves = _curves(problem, finals)
    cal = Calibration(problem, study, best, fit, curves, folder, resumed)
    save(cal)
    return cal


def _complete(study: Any) -> int:
    from optuna.trial import TrialState

    return len(study.get_trials(deepcopy=False, states=(TrialState.COMPLETE,)))


def _tell(study: Any, problem: Problem, trial: Any, outcomes: list[TrialOutcome]) -> None:
    from optuna.trial import TrialState

    bad = [o for o in outcomes if not o.ok]
    if bad or len(outcomes) != len(problem.seeds):
        trial.set_user_attr("error", (bad[0].error if bad else "runs missing") or "failed")
        study.tell(trial, state=TrialState.FAIL)
        return
    outcomes.sort(key=lambda o: o.seed)
    per_seed = [objective(problem.targets, np.array(o.values), problem.use) for o in outcomes]
    mean = np.array([o.values for o in outcomes]).mean(axis=0)
    trial.set_user_attr("simulated", [None if not math.isfinite(v) else float(v) for v in mean])
    trial.set_user_attr("objective_per_seed", per_seed)
    trial.set_user_attr("seconds", float(sum(o.seconds for o in outcomes)))
    if problem.holdout.sum():
        trial.set_user_attr("holdout_error", [objective(problem.targets, np.array(o.values), problem.holdout) for o in outcomes])
    study.tell(trial, float(np.mean(per_seed)))


def fit_table(problem: Problem, values: np.ndarray) -> pd.DataFrame:
    """Simulated (mean over seeds, with the range across seeds) against published at every target."""
    rows = pd.DataFrame(as_rows(problem.targets))
    rows["simulated"] = values.mean(axis=0)
    rows["simulated_min"] = values.min(axis=0)
    rows["simulated_max"] = values.max(axis=0)
    rows["error"] = relative_errors(problem.targets, rows["simulated"].to_numpy())
    rows["role"] = np.where(problem.use > 0, "fitted", np.where(problem.holdout > 0, "forecast", "shown"))
    return rows


def _curves(problem: Problem, finals: list[TrialOutcome]) -> pd.DataFrame:
    """The fitted curve of every measure, scaled as its targets are, mean over seeds."""
    frames = []
    names = sorted({n for o in finals for n in o.curves})
    means = {n: np.array([o.curves[n] for o in finals], dtype=np.float64).mean(axis=0) for n in names}
    for measure in dict.fromkeys(t.measure for t in problem.targets if t.measure):
        t = next(t for t in problem.targets if t.measure == measure)
        curve = measure_curve(measure, means) * scale_of(t, problem.scale_to, problem.persons)
        frames.append(pd.DataFrame({"measure": measure, "day": np.arange(len(curve)), "value": curve}))
    return pd.concat(frames, ignore_index=True) if frames else pd.DataFrame(columns=["measure", "day", "value"])


def importances(study: Any) -> dict[str, float]:
    """Which parameters mattered to the objective (Optuna's PED-ANOVA importance); empty when it cannot be computed."""
    import optuna

    try:  # PED-ANOVA (Optuna's default): no random forest, so the same study gives the same figures
        evaluator = optuna.importance.PedAnovaImportanceEvaluator()
        return {k: float(v) for k, v in optuna.importance.get_param_importances(study, evaluator=evaluator).items()}
    except (RuntimeError, ValueError, ZeroDivisionError, ImportError):
        return {}


def history(study: Any) -> pd.DataFrame:
    """Every trial: its number, state, objective, running best, forecast error and values."""
    rows = []
    for t in study.get_trials(deepcopy=False):
        row = {"trial": t.number, "state": t.state.name, "objective": t.value if t.value is not None else float("nan")}
        hold = t.user_attrs.get("holdout_error")
        row["forecast_error"] = float(np.mean(hold)) if hold else float("nan")
        row["error"] = t.user_attrs.get("error", "")
        row.update(t.params)
        rows.append(row)
    df = pd.DataFrame(rows)
    if len(df):
        df["best_so_far"] = df["objective"].where(df["state"] == "COMPLETE").cummin()
    return df


def fitted_note(problem: Problem, cal_objective: float) -> str:
    series = sorted({t.series for t, u in zip(problem.targets, problem.use) if u > 0})
    files = sorted({Path(t.file).name for t in problem.targets})
    up_to = f" up to {problem.holdout_after}" if problem.holdout_after else ""
    return (f"by socialcredit calibrate to {', '.join(series)}{up_to} ({', '.join(files)}): Optuna {problem.sampler}, "
            f"{problem.trials} trials x {len(problem.seeds)} seed(s) at {problem.persons:,} persons, "
            f"weighted mean relative error {cal_objective:.3f}")  # fmt: skip


def save(cal: Calibration) -> None:
    """Write fitted.yaml, fit.csv, curves.csv, history.csv and calibration.json (each atomically)."""
    from socialcredit.rulebook.rewrite import rewrite_values

    p, folder = cal.problem, cal.folder
    rounded = {k: float(f"{v:.4g}") for k, v in cal.best.items()}
    text = _source_text(p)
    fitted = rewrite_values(text, rounded, fitted_note(p, cal.study.best_value))
    write_atomic(folder / "fitted.yaml", fitted.encode("utf-8"))
    write_atomic(folder / "fit.csv", cal.fit.to_csv(index=False).encode("utf-8"))
    write_atomic(folder / "curves.csv", cal.curves.to_csv(index=False).encode("utf-8"))
    write_atomic(folder / "history.csv", history(cal.study).to_csv(index=False).encode("utf-8"))
    _write_about(p, folder, cal)


def _source_text(p: Problem) -> str:
    """The rulebook file's own text (comments kept); with ``--set`` items, the exact rulebook after them.
    The population size and days of the fit (``--persons``, ``--days``) are not carried over."""
    from socialcredit.rulebook import resolve

    if p.set_overrides:
        return load_rulebook(p.source, p.set_overrides).yaml()
    return resolve(p.source).read_text(encoding="utf-8")


def _write_about(p: Problem, folder: Path, cal: Calibration | None) -> None:
    about: dict[str, Any] = {
        "source": p.source, "fingerprint": p.fingerprint(), "trials": p.trials, "seeds": p.seeds, "sampler": p.sampler,
        "batch": p.batch, "seed": p.seed, "holdout_after": p.holdout_after, "persons": p.persons, "start": p.start,
        "params": [{"key": f.key, "low": f.low, "high": f.high, "value": f.value, "log": is_log(f)} for f in p.params],
        "targets": as_rows(p.targets), "notes": p.notes,
    }  # fmt: skip
    if cal is not None:
        about["best"] = {"values": cal.best, "objective": cal.study.best_value, "trial": cal.study.best_trial.number}
        about["importance"] = importances(cal.study)
        fc = cal.fit[cal.fit["role"] == "forecast"]
        if len(fc):
            about["forecast_error"] = float(np.abs(fc["error"]).mean())
    write_atomic(folder / ABOUT, strict_json.dumps(about, indent=2).encode("utf-8"))


def read_calibration(folder: str | os.PathLike) -> dict[str, Any]:
    """What a calibration folder holds: calibration.json's content plus the fit, curves and history tables."""
    f = Path(folder)
    if not (f / ABOUT).is_file():
        raise InputError(f"not a calibration folder (no {ABOUT})", file=str(f))
    about = read_json(f / ABOUT, "a calibration record")
    for name in ("fit", "curves", "history"):
        path = f / f"{name}.csv"
        about[name] = pd.read_csv(path) if path.is_file() else None
    return about
