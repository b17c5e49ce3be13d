"""Running an experiment: plan its runs, store what is finished, submit what is missing.

:func:`run_experiment` is what ``socialcredit experiment SPEC.yaml`` and
``socialcredit run SCENARIO --seeds N`` call. It validates the whole spec
(and every run's rulebook) before it writes anything, then fills one
experiment folder as runs finish. Running it again on the same folder runs
only what is missing; a spec that would change finished runs is refused.
"""

from __future__ import annotations

import shutil
import sys
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from socialcredit.engine.sim import Sim
from socialcredit.errors import SocialCreditError
from socialcredit.experiments.executor import Executor
from socialcredit.experiments.spec import LoadedSpec, Plan, PlannedRun, check_measures, plan_runs
from socialcredit.experiments.store import RUNS_DIR, Store, is_experiment, read_spec_yaml
from socialcredit.experiments.task import RunOutcome, RunTask, kept_daily, run_summary, simulate
from socialcredit.results import Results
from socialcredit.results.runfolder import default_run_dir, write_results
from socialcredit.rulebook.document import parse_document
from socialcredit.rulebook.overrides import apply_overrides
from socialcredit.rulebook.schema import Rulebook
from socialcredit.rulebook.validation import validate


class ExperimentInterrupted(SocialCreditError):
    """Ctrl-C during an experiment: finished runs are stored; the same command finishes the rest."""

    exit_code = 130


@dataclass
class Session:
    """What one invocation did."""

    folder: Path
    total: int
    already: int  # finished before this invocation
    executed: int  # run by this invocation
    failed: int  # failed runs in the folder now
    seconds: float
    where: str = ""


def default_folder(name: str) -> Path:
    return default_run_dir(name, root="experiments")


def run_experiment(
    loaded: LoadedSpec,
    out: str | Path | None = None,
    *,
    workers: int | None = None,
    scheduler: str | None = None,
    keep_runs: bool = False,
    progress: bool = True,
    command: list[str] | None = None,
    on_message: Callable[[str], None] | None = None,
    on_run: Callable[[RunOutcome], None] | None = None,
    executor: Executor | None = None,
) -> Session:
    """Run (or finish) an experiment into a folder; returns what this invocation did.

    ``on_message`` receives one-line notes for the user; ``on_run`` each finished
    run's outcome (after it is stored), for progress displays. ``executor``: a
    started :class:`Executor` to use (and leave running), so that several
    experiments share one warm cluster; by default one is started and closed here.
    """
    t0 = time.perf_counter()
    say = on_message or (lambda text: None)
    combos = len(loaded.spec.arm_list()) * (loaded.spec.sweep.size() if loaded.spec.sweep else 1)
    if combos > 50:
        say(f"checking the rulebooks of {combos:,} arm and sweep-point combinations (about {combos * 0.03:.0f} s)")
    plan = plan_runs(loaded)  # every spec error is raised here, before anything is written
    if plan.keep.summary is not None or plan.keep.daily is not None:
        _check_kept_measures(loaded, plan)
    if workers is not None and scheduler is not None:
        raise SocialCreditError("give either --workers (a local cluster) or --scheduler (an existing cluster), not both")
    folder = Path(out) if out is not None else default_folder(loaded.spec.name)
    Store.check_target(folder)
    store = Store(folder)
    spec_yaml = loaded.resolved_yaml()
    if is_experiment(folder):
        stored = store.stored()
        _refuse_changes(folder, plan, stored.status, stored.fingerprint, spec_yaml)
        new = [r.run_id for r in plan.runs if r.run_id not in stored.status]
        store.add_planned(plan, new, spec_yaml)
        status = {**stored.status, **{rid: "pending" for rid in new}}
    else:
        store.create(spec_yaml, plan)
        status = {r.run_id: ("failed" if r.error else "pending") for r in plan.runs}
    already = sum(1 for s in status.values() if s == "ok")
    todo = [r for r in plan.runs if status.get(r.run_id) != "ok" and r.rulebook_yaml is not None]
    store.begin_session(command if command is not None else list(sys.argv))
    where = ""
    executed = 0
    try:
        if todo and executor is not None:
            where = executor.describe()
            say(f"{len(todo):,} run(s) to do ({already:,} already stored) on {where}")
            executed = _execute(executor, store, plan, todo, folder, keep_runs, progress, on_run)
        elif todo:
            with Executor(workers=workers, scheduler=scheduler) as ex:
                where = ex.describe()
                say(f"{len(todo):,} run(s) to do ({already:,} already stored) on {where}")
                executed = _execute(ex, store, plan, todo, folder, keep_runs, progress, on_run)
        else:
            say(f"all {len(plan.runs):,} runs are stored already; nothing to do")
    except KeyboardInterrupt:
        store.flush()
        counts = store.write_status()
        raise ExperimentInterrupted(
            f"interrupted: {counts['ok']:,} of {len(plan.runs):,} runs are stored in {folder}; "
            "run the same command again to finish the rest"
        ) from None
    finally:
        store.flush()
    counts = store.write_status()
    return Session(folder, len(plan.runs), already, executed, counts["failed"], time.perf_counter() - t0, where)


def _tasks(plan: Plan, todo: list[PlannedRun], keep_runs: bool) -> Iterator[RunTask]:
    for r in todo:
        assert r.rulebook_yaml is not None
        yield RunTask(r.run_id, r.rulebook_yaml, r.seed, r.base_dir, plan.keep, keep_run=keep_runs)


def _execute(ex: Executor, store: Store, plan: Plan, todo: list[PlannedRun], folder: Path, keep_runs: bool, progress: bool,
             on_run: Callable[[RunOutcome], None] | None) -> int:  # fmt: skip
    from rich.console import Console
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn, TimeRemainingColumn

    console = Console(stderr=True)
    bar = Progress(
        TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(), TextColumn("runs"),
        TimeElapsedColumn(), TextColumn("ETA"), TimeRemainingColumn(), console=console,
        disable=not progress or not console.is_terminal,
    )  # fmt: skip
    done = 0
    failed = 0
    with bar:
        job = bar.add_task("running", total=len(todo))
        for task, outcome, error in ex.map(simulate, _tasks(plan, todo, keep_runs), key=lambda t: t.run_id):
            if error is not None or outcome is None:
                outcome = RunOutcome(task.run_id, False, error=error or "no result")
            if not outcome.ok:
                failed += 1
            if keep_runs and outcome.ok and outcome.results is not None:
                _write_run_folder(folder, outcome)
            outcome.results = None
            store.add(outcome)
            if on_run is not None:
                on_run(outcome)
            done += 1
            bar.update(job, advance=1, description="running" + (f" ({failed} failed)" if failed else ""))
    return done


def _write_run_folder(folder: Path, outcome: RunOutcome) -> None:
    target = folder / RUNS_DIR / outcome.run_id
    if target.exists():  # written before a killed client could store the run: replace it
        shutil.rmtree(target)
    write_results(outcome.results, target, extra={"experiment": str(folder), "run_id": outcome.run_id})


def _check_kept_measures(loaded: LoadedSpec, plan: Plan) -> None:
    """Names in measures.summary and measures.daily must be measures a run produces (a tiny run tells)."""
    first = next((r for r in plan.runs if r.rulebook_yaml is not None), None)
    if first is None:
        return
    assert first.rulebook_yaml is not None
    doc = apply_overrides(parse_document(first.rulebook_yaml), ["population.persons=60", "simulation.days=2",
                                                                 "simulation.audit_sample=0"])  # fmt: skip
    res = Results.from_sim(Sim(validate(Rulebook, doc), base_dir=first.base_dir, threads=1).run())
    summary_names = list(run_summary(res))
    daily_names = [c for c in kept_daily(res.daily, plan.keep.__class__(None, None, ("all",))).columns
                   if c not in ("day", "cell", "breakdown", "level")]  # fmt: skip
    check_measures(plan.keep, summary_names, daily_names, loaded.document)


def _refuse_changes(folder: Path, plan: Plan, status: dict[str, str], fingerprints: dict[str, str], spec_yaml: str) -> None:
    """A spec that would change or drop finished runs is refused, saying what differs."""
    planned = {r.run_id: r for r in plan.runs}
    changed = [rid for rid, s in status.items() if s == "ok" and rid in planned and planned[rid].fingerprint != fingerprints.get(rid)]
    dropped = [rid for rid, s in status.items() if s == "ok" and rid not in planned]
    if not changed and not dropped:
        return
    differences = spec_differences(read_spec_yaml(folder), spec_yaml)
    lines = [f"{folder}: this spec would change the experiment already stored there; nothing was run"]
    if changed:
        lines.append(f"  {len(changed):,} finished run(s) would get other rulebooks, seeds or measures (e.g. {changed[0]})")
    if dropped:
        lines.append(f"  {len(dropped):,} finished run(s) are not in this spec (e.g. {dropped[0]})")
    if differences:
        lines.append("  what differs from the stored experiment.yaml:")
        lines += [f"    {d}" for d in differences[:12]]
        if len(differences) > 12:
            lines.append(f"    ... and {len(differences) - 12} more")
    lines.append("  hint: use another --out folder for the new spec, or restore the spec to finish the stored one")
    raise SocialCreditError("\n".join(lines))


def spec_differences(old_yaml: str, new_yaml: str) -> list[str]:
    """``key: old -> new`` for every value that differs between two resolved specs."""
    old = _flatten(parse_document(old_yaml, "the stored experiment.yaml").data)  # the loader's alias and size limits
    new = _flatten(parse_document(new_yaml, "the new spec").data)
    out = []
    for key in sorted(set(old) | set(new)):
        a, b = old.get(key, "(absent)"), new.get(key, "(absent)")
        if a != b:
            out.append(f"{key}: {a!r} -> {b!r}")
    return out


def _flatten(data: Any, prefix: str = "") -> dict[str, Any]:
    if isinstance(data, dict):
        out: dict[str, Any] = {}
        for k, v in data.items():
            out.update(_flatten(v, f"{prefix}.{k}" if prefix else str(k)))
        return out
    if isinstance(data, list) and data and all(isinstance(x, dict) and "name" in x for x in data):
        out = {}
        for x in data:
            out.update(_flatten(x, f"{prefix}[{x['name']}]"))
        return out
    return {prefix: data}
