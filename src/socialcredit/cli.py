"""The command line: ``socialcredit run | experiment | resume | report | explain | compare | validate | summary | scenarios``.

Errors in the user's input (rulebook, overrides, files) are printed as one
screen of text on stderr with exit status 2, never as a traceback.
"""

from __future__ import annotations

import json
import sys
import time
from pathlib import Path
from typing import TYPE_CHECKING, Any

import typer
from rich.console import Console
from rich.table import Table

from socialcredit.engine.measures import BEHAVIOUR_KINDS, RESPONSES, SUMMARY_LABELS
from socialcredit.errors import SocialCreditError
from socialcredit.literal import (
    terminal as _lit,  # rulebook, file and path text, printed literally
)
from socialcredit.strict_json import dumps

# the heavy modules (the numba engine, the pydantic rulebook, pandas, duckdb, matplotlib, dask) are
# imported inside the commands, not here, so that `socialcredit --help` starts fast

if TYPE_CHECKING:
    from socialcredit.results import Results

app = typer.Typer(
    add_completion=False,
    no_args_is_help=True,
    help="Simulate social credit systems on synthetic populations and measure what they do.",
    pretty_exceptions_enable=False,
)
out = Console()
err = Console(stderr=True)

DEFAULT_SCENARIO = "rongcheng"  # the municipal points system, sourced (docs/scenarios/rongcheng.md)


def _overrides(sets: list[str] | None, persons: int | None, days: int | None, seed: int | None) -> list[str]:
    from socialcredit.rulebook import shortcut_overrides

    return list(sets or []) + shortcut_overrides(persons, days, seed)


def _print_json(obj: Any) -> None:
    """Machine-readable output: standard JSON (NaN and infinities as null), printed without markup."""
    sys.stdout.write(dumps(obj, indent=2) + "\n")
    sys.stdout.flush()


SET_HELP = "Override a rulebook value, e.g. --set services.flight.demand=1 (repeatable)."


@app.command()
def run(
    scenario: str = typer.Argument(DEFAULT_SCENARIO, help="A shipped scenario name or a rulebook .yaml file."),
    out_dir: Path | None = typer.Option(None, "--out", help="Run folder to write (default runs/<scenario>-<timestamp>)."),
    set_: list[str] | None = typer.Option(None, "--set", help=SET_HELP),
    persons: int | None = typer.Option(None, help="Shortcut for --set population.persons=N."),
    days: int | None = typer.Option(None, help="Shortcut for --set simulation.days=N."),
    seed: int | None = typer.Option(None, help="Shortcut for --set simulation.seed=N."),
    threads: int | None = typer.Option(None, min=1, help="Threads for the compiled kernels (default: the cores other processes leave free, looked at as the run goes; results do not depend on it)."),
    profile: bool = typer.Option(False, "--profile", help="Print the time spent in each stage."),
    final_state: bool = typer.Option(False, "--final-state", help="Also write every person's final state as Parquet."),
    as_json: bool = typer.Option(False, "--json", help="Print the summary as JSON (for scripts)."),
    plot: bool = typer.Option(True, "--plot/--no-plot", help="Draw the main series to figures/main.png in the run folder."),
    checkpoint_every: int | None = typer.Option(
        None, "--checkpoint-every", min=1, metavar="DAYS",
        help="Save the full state every DAYS days; continue a killed run with 'socialcredit resume RUN_DIR'.",
    ),  # fmt: skip
    memory_check: bool = typer.Option(
        True, "--memory-check/--no-memory-check", help="Refuse a run whose estimated memory exceeds what is available."
    ),
    report: bool = typer.Option(False, "--report", help="Write report.html (figures, summary, sources) into the run folder at the end."),
    baseline: bool = typer.Option(
        False, "--baseline",
        help="Also run the same rulebook and seed with the behavioural responses off into RUN_DIR/baseline (the report's effect sizes).",
    ),  # fmt: skip
    seeds: int | None = typer.Option(
        None, "--seeds", min=1, max=1_000_000,
        help="Run an ensemble of N seeds (1..N, or from --seed) into an experiment folder; report means with 95% intervals.",
    ),  # fmt: skip
    workers: int | None = typer.Option(None, "--workers", min=1, max=4096, help="With --seeds: worker processes of the local cluster (default: one per usable core)."),
    scheduler: str | None = typer.Option(None, "--scheduler", metavar="ADDRESS", help="With --seeds: send the runs to an existing Dask cluster, e.g. tcp://10.0.0.5:8786."),
    keep_runs: bool = typer.Option(False, "--keep-runs", help="With --seeds: also keep each run's own folder under DIR/runs/."),
) -> None:
    """Run a scenario, print its summary and write a run folder (with --seeds N: an ensemble into an experiment folder)."""
    from socialcredit.engine import memory
    from socialcredit.engine.sim import Sim
    from socialcredit.results import checkpoint
    from socialcredit.results.runfolder import check_target, default_run_dir
    from socialcredit.rulebook import load_rulebook

    t_start = time.perf_counter()
    if seeds is None:
        for flag, given in (("--workers", workers is not None), ("--scheduler", scheduler is not None), ("--keep-runs", keep_runs)):
            if given:
                raise SocialCreditError(f"{flag} is for ensembles: add --seeds N (or use 'socialcredit experiment SPEC.yaml')")
    else:
        for flag, given in (("--checkpoint-every", checkpoint_every is not None), ("--baseline", baseline),
                            ("--final-state", final_state), ("--profile", profile), ("--threads", threads is not None)):  # fmt: skip
            if given:
                raise SocialCreditError(f"{flag} applies to a single run, not to an ensemble (--seeds)")
        from socialcredit.experiments.spec import ensemble_spec

        load_rulebook(scenario, _overrides(set_, persons, days, seed))  # errors name the --set text, as for a single run
        loaded_spec = ensemble_spec(scenario, seeds, seed, list(set_ or []), persons=persons, days=days)
        _run_experiment(loaded_spec, out_dir, workers, scheduler, keep_runs, as_json, report)
        return
    overrides = _overrides(set_, persons, days, seed)
    loaded = load_rulebook(scenario, overrides)
    rb = loaded.rulebook
    run_dir = out_dir if out_dir is not None else default_run_dir(rb.meta.name)
    check_target(run_dir)
    if memory_check:
        memory.check(rb)
    sim = Sim(rb, base_dir=loaded.base_dir, threads=threads)
    settings: dict[str, Any] = {
        "command": sys.argv, "overrides": overrides, "threads": threads, "profile": profile, "final_state": final_state,
        "as_json": as_json, "plot": plot, "checkpoint_every": checkpoint_every,
        "base_dir": str(loaded.base_dir) if loaded.base_dir else None, "report": report, "baseline": baseline,
    }  # fmt: skip
    rulebook_yaml = loaded.yaml()
    if checkpoint_every:
        checkpoint.start(run_dir, settings, rulebook_yaml)
    _simulate(sim, run_dir, settings, rulebook_yaml, t_start)
    _baseline_and_report(run_dir, settings, scenario, overrides)


def _baseline_and_report(run_dir: Path, settings: dict[str, Any], scenario: str, overrides: list[str]) -> None:
    """After the run folder is written: the baseline run (--baseline) and the report (--report)."""
    if settings.get("baseline"):
        _run_baseline(scenario, overrides, run_dir, settings["threads"], as_json=settings["as_json"])
    if settings.get("report"):
        _write_report(run_dir, as_json=settings["as_json"])


def _simulate(sim, run_dir: Path, settings: dict[str, Any], rulebook_yaml: str, t_start: float) -> None:
    """Set up (unless resuming), step to the last day, write the run folder and print the summary."""
    from socialcredit.results.final_state import final_state_frame
    from socialcredit.results.runfolder import write_results

    rb = sim.rulebook
    as_json, profile = settings["as_json"], settings["profile"]
    quiet = as_json or not err.is_terminal
    if not quiet:
        err.print(f"[bold]{_lit(rb.meta.title or rb.meta.name)}[/]: {rb.population.persons:,} persons, {rb.simulation.days} days")
    results = _run_with_progress(sim, quiet, checkpoint_every=settings.get("checkpoint_every"), checkpoint_dir=str(run_dir))
    if settings["final_state"]:
        results.final_state = final_state_frame(sim)
    elapsed = time.perf_counter() - t_start
    extra = {k: settings[k] for k in ("command", "overrides", "threads")} | {"elapsed_seconds": elapsed}
    extra["threads_used"] = sim.threads_used()
    if settings.get("resumed"):
        extra["resumed"] = settings["resumed"]
    path = write_results(results, run_dir, rulebook_yaml=rulebook_yaml, extra=extra, plot=settings["plot"])
    summary = results.summary()
    if as_json:
        payload: dict[str, Any] = {"run_dir": str(path), "summary": summary}
        if profile:
            payload["profile"] = _profile_rows(sim)
        _print_json(payload)
        return
    print_summary(summary, title=f"{rb.meta.title or rb.meta.name}")
    if profile:
        print_profile(sim)
    out.print(f"run folder: [bold]{_lit(path)}[/]  ({elapsed:.1f} s)")


def _run_with_progress(sim, quiet: bool, label: str = "", checkpoint_every: int | None = None,
                       checkpoint_dir: str | None = None) -> Results:  # fmt: skip
    """Set up (unless resuming) and step to the last day under a progress bar; returns the results.

    With ``checkpoint_every``, the full state is saved to ``checkpoint_dir``
    every that many days (not on the last day: the run folder follows).
    """
    from socialcredit.results import Results, checkpoint

    days = sim.plan.days
    save = checkpoint.every(checkpoint_every, checkpoint_dir) if checkpoint_every else None

    def on_day(s) -> None:
        bar.update(task, completed=s.state.day)
        if save is not None:
            save(s)

    with _progress(quiet) as bar:
        task = bar.add_task(f"{label}building the society", total=days)
        if sim.state is None:
            sim.setup()
        bar.update(task, description=f"{label}simulating", completed=sim.state.day)
        return Results.from_sim(sim.run(on_day=on_day))


def _progress(quiet: bool):
    from rich.progress import (
        BarColumn,
        MofNCompleteColumn,
        Progress,
        TextColumn,
        TimeElapsedColumn,
    )

    return Progress(
        TextColumn("{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        TextColumn("days"),
        TimeElapsedColumn(),
        console=err,
        disable=quiet,
        transient=False,
    )


def print_summary(s: dict[str, Any], title: str = "summary") -> None:
    """The summary as a table; the labels come from the summary entries of ``engine/measures.py``."""
    label = SUMMARY_LABELS
    t = Table(title=_lit(title), show_header=True, header_style="bold")
    t.add_column("measure")
    t.add_column("value", justify="right")
    t.add_row(label["persons"], f"{s['persons']:,}")
    t.add_row(label["days"], f"{s['days']:,}")
    if "score_mean" in s:
        t.add_row(label["score_mean"], f"{s['score_mean']:.4g} ({s['score_p10']:.4g} - {s['score_p90']:.4g})")
        shares = "  ".join(f"{_lit(k)} {v:.1%}" for k, v in s["tier_shares"].items())
        t.add_row(label["tier_shares"], shares)
        t.add_row(label["blacklisted"], f"{s['blacklisted']:,} ({s['blacklisted_wrongly']:,})")
        t.add_row(label["redlisted"], f"{s['redlisted']:,}")
    t.add_row(label["blacklist_entries"], f"{s['blacklist_entries']:,}")
    total = s["records_true"] + s["records_false"]
    share = s["records_false"] / total if total else 0.0
    t.add_row(label["records_true"], f"{s['records_true']:,} / {s['records_false']:,} ({share:.2%} false)")
    for name, v in s.get("services", {}).items():
        if v["kind"] == "punishment":
            t.add_row(f"{_lit(name)}: {label['denied']}", f"{v['denied']:,} ({v['wrongful']:,}) of {v['attempts']:,} attempts")
        else:
            t.add_row(f"{_lit(name)}: {label['granted']}", f"{v['granted']:,} ({v['lost_to_false_records']:,}) of {v['attempts']:,}")
    kinds = s.get("events_by_kind")
    if kinds:
        t.add_row(label["events_by_kind"], " / ".join(f"{kinds[k]:,}" for k in BEHAVIOUR_KINDS))
    if s.get("friends_of_others") is not None:
        bl = s.get("friends_of_blacklisted")
        t.add_row(label["friends_of_blacklisted"], f"{'-' if bl is None else f'{bl:.2f}'} / {s['friends_of_others']:.2f}")
    if s.get("score_assortativity") is not None:
        t.add_row(label["score_assortativity"], f"{s['score_assortativity']:.3f}")
    for key, value in s.get(RESPONSES, {}).items():
        t.add_row(_lit(label.get(key, key)), f"{value:,}" if not isinstance(value, float) else f"{value:,.1f}")
    if "companies_blacklisted" in s:
        t.add_row(label["companies_blacklisted"], f"{s['companies_blacklisted']:,}")
    out.print(t)


def _profile_rows(sim) -> list[dict[str, Any]]:
    """One row per step of the day (engine.day.DAY, in order; steps the rulebook leaves out show 0), then setup."""
    from socialcredit.engine.day import DAY

    days = max(1, sim.state.day)
    total = sim.timings.total_stages
    stage_of = {s.name: s.stage for s in DAY}
    rows = [
        {"stage": stage_of.get(name, ""), "step": name, "seconds": sec, "share": sec / total if total else 0.0,
         "ms_per_day": 1000 * sec / days}
        for name, sec in sim.timings.stages.items()
    ]  # fmt: skip
    for name, sec in sim.timings.setup.items():
        if name != "run":
            rows.append({"stage": "setup", "step": name, "seconds": sec, "share": None, "ms_per_day": None})
    return rows


def print_profile(sim) -> None:
    t = Table(title="time per step of the day", header_style="bold")
    for col in ("stage", "step", "seconds", "share", "ms/day"):
        t.add_column(col, justify="left" if col in ("stage", "step") else "right")
    for r in _profile_rows(sim):
        t.add_row(
            r["stage"],
            r["step"],
            f"{r['seconds']:.3f}",
            f"{r['share']:.1%}" if r["share"] is not None else "",
            f"{r['ms_per_day']:.2f}" if r["ms_per_day"] is not None else "",
        )
    n = sim.state.n * sim.state.day
    total = sim.timings.total_stages
    t.add_row("[bold]all steps[/]", "", f"{total:.3f}", "100%", f"{1000 * total / max(1, sim.state.day):.2f}")
    out.print(t)
    if total > 0:
        out.print(f"{n / total / 1e6:.1f} M person-days per second")
    used = ", ".join(str(t) for t in sim.threads_used())
    how = "fixed by --threads" if sim.threads else "the cores other processes left free"
    out.print(f"threads: {used} ({how})")


@app.command()
def validate(
    file: str = typer.Argument(..., help="A rulebook .yaml file or a shipped scenario name."),
    set_: list[str] | None = typer.Option(None, "--set", help=SET_HELP),
    as_json: bool = typer.Option(False, "--json", help="Print the result as JSON."),
) -> None:
    """Check a rulebook without running it."""
    from socialcredit.rulebook import load_rulebook

    loaded = load_rulebook(file, list(set_ or []))
    rb = loaded.rulebook
    info = {
        "valid": True,
        "file": str(loaded.path),
        "name": rb.meta.name,
        "persons": rb.population.persons,
        "behaviours": len(rb.behaviours),
        "services": len(rb.services),
        "tiers": rb.tier_names,
    }
    if as_json:
        _print_json(info)
    else:
        out.print(
            f"[green]valid[/]: {loaded.path} ({rb.meta.name}: {rb.population.persons:,} persons, "
            f"{len(rb.behaviours)} behaviours, {len(rb.services)} services, tiers {' '.join(rb.tier_names)})"
        )


@app.command()
def summary(
    run_dir: Path = typer.Argument(..., help="A run folder written by 'socialcredit run', or an experiment folder."),
    as_json: bool = typer.Option(False, "--json", help="Print the summary as JSON."),
    daily: bool = typer.Option(False, "--daily", help="Experiment folders: the daily series instead, mean [95% interval] across seeds."),
) -> None:
    """Print the summary table of a finished run (or of an experiment folder: means with 95% intervals) again."""
    from socialcredit.experiments.store import is_experiment
    from socialcredit.results.reader import read_results

    if is_experiment(run_dir):
        from socialcredit.experiments import read_experiment

        if daily:
            _print_experiment_daily(read_experiment(run_dir), as_json)
        else:
            _print_experiment(read_experiment(run_dir), as_json)
        return
    if daily:
        raise SocialCreditError("--daily is for experiment folders; a run's daily table is in its results.duckdb (table daily)")
    res = read_results(run_dir)
    s = res.summary()
    if as_json:
        _print_json(s)
    else:
        print_summary(s, title=str(res.meta.get("title") or res.meta.get("scenario")))


scenarios_app = typer.Typer(
    help="The shipped scenarios: list them, show one with the source of every value, copy one to edit.",
    no_args_is_help=False,
)
app.add_typer(scenarios_app, name="scenarios")


@scenarios_app.callback(invoke_without_command=True)
def scenarios(ctx: typer.Context, as_json: bool = typer.Option(False, "--json", help="Print the list as JSON.")) -> None:
    """List the shipped scenarios (name, title, population, what it models)."""
    if ctx.invoked_subcommand is not None:
        return
    from socialcredit.scenarios.catalogue import catalogue

    rows = catalogue()
    if as_json:
        _print_json(rows)
        return
    t = Table(header_style="bold")
    for col in ("name", "title", "persons", "what it models"):
        t.add_column(col)
    for r in rows:
        t.add_row(_lit(r["name"]), _lit(r["title"]), f"{r['persons']:,}", _lit(r["description"][:200] + ("..." if len(r["description"]) > 200 else "")))
    out.print(t)
    out.print("socialcredit scenarios show NAME: every value with its source; socialcredit scenarios copy NAME FILE: a copy to edit")


@scenarios_app.command("show")
def scenarios_show(
    name: str = typer.Argument(..., help="A shipped scenario's name."),
    as_json: bool = typer.Option(False, "--json", help="Print the values as JSON."),
) -> None:
    """Print a scenario's rulebook, each value with its source or the reason it was assumed."""
    from dataclasses import asdict

    from socialcredit.scenarios.catalogue import values

    meta, rows = values(name)
    if as_json:
        _print_json({"meta": meta, "values": [asdict(r) for r in rows]})
        return
    out.print(f"[bold]{_lit(name)}[/]: {_lit(meta.get('title', ''))}")
    desc = " ".join(str(meta.get("description", "")).split())
    if desc:
        out.print(_lit(desc))
    src = Table(title="sources", header_style="bold")
    for col in ("id", "title", "used for"):
        src.add_column(col)
    for s in meta.get("sources", []) or []:
        src.add_row(_lit(s.get("id", "")), _lit(str(s.get("title", "")) + (f"\n{s['url']}" if s.get("url") else "")), _lit(s.get("used_for", "") or ""))
    out.print(src)
    t = Table(title="values", header_style="bold")
    t.add_column("key", overflow="fold", ratio=3)
    t.add_column("value", overflow="fold", ratio=2)
    t.add_column("basis", ratio=4)

    style = {"source": "green", "assumed": "yellow", "setting": "dim"}
    for r in rows:
        detail = r.detail
        if r.basis == "source":  # the id (titles are listed above), and any assumption the item adds
            extra = r.detail.split(" [assumed: ", 1)
            detail = r.detail.split(":", 1)[0] + (f"; assumed: {extra[1][:-1]}" if len(extra) == 2 else "")
        basis = f"[{style[r.basis]}]{r.basis}[/]" + (f": {_lit(detail)}" if detail else "")
        t.add_row(_lit(r.key), _lit(str(r.value)), basis)
    out.print(t)
    counts = {b: sum(r.basis == b for r in rows) for b in ("source", "assumed", "setting")}
    out.print(f"{counts['source']} values sourced, {counts['assumed']} assumed, {counts['setting']} settings")


@scenarios_app.command("copy")
def scenarios_copy(
    name: str = typer.Argument(..., help="A shipped scenario's name."),
    file: Path = typer.Argument(..., help="Where to write the copy (a .yaml file or a folder)."),
    force: bool = typer.Option(False, "--force", help="Overwrite the file if it exists."),
) -> None:
    """Write a copy of a scenario's rulebook to edit; run it with `socialcredit run FILE`."""
    from socialcredit.scenarios.catalogue import copy

    target = copy(name, file, force=force)
    out.print(f"wrote {_lit(target)}; edit it, check it with `socialcredit validate {target}`, run it with `socialcredit run {target}`")


@app.command()
def resume(
    run_dir: Path = typer.Argument(..., help="The folder of a run started with --checkpoint-every."),
    threads: int | None = typer.Option(None, min=1, help="Threads for the compiled kernels (default: the cores other processes leave free, looked at as the run goes; results do not depend on it)."),
) -> None:
    """Continue a run that was stopped or killed, from its latest checkpoint (results equal an uninterrupted run)."""
    from socialcredit.engine.sim import Sim, check_threads
    from socialcredit.results import checkpoint
    from socialcredit.rulebook import load_rulebook

    t_start = time.perf_counter()
    settings = checkpoint.read_settings(run_dir)
    rulebook_yaml = (checkpoint.folder(run_dir) / checkpoint.RULEBOOK).read_text(encoding="utf-8")
    sim = checkpoint.load(run_dir)
    if sim is None:  # killed before the first checkpoint: start again from the saved rulebook
        loaded = load_rulebook(str(checkpoint.folder(run_dir) / checkpoint.RULEBOOK), [])
        sim = Sim(loaded.rulebook, base_dir=settings.get("base_dir") or loaded.base_dir, threads=threads)
    elif threads is not None:
        import numba

        sim.threads = check_threads(threads)
        numba.set_num_threads(sim.threads)
    day = sim.state.day if sim.state is not None else 0
    if not (settings["as_json"] or not err.is_terminal):
        err.print(f"resuming from day {day} of {sim.plan.days}")
    settings["resumed"] = {"from_day": day, "command": sys.argv}
    _simulate(sim, run_dir, settings, rulebook_yaml, t_start)
    _baseline_and_report(run_dir, settings, str(run_dir / "rulebook.yaml"), [])  # the rulebook as the run used it


# ---------------------------------------------------------------- explain and compare: audit trails, two runs side by side
def _num(x: Any, signed: bool = False) -> str:
    """A number for a table: whole numbers with thousands separators, others to four significant figures; '-' for none."""
    import math

    if x is None or (isinstance(x, float) and math.isnan(x)):
        return "-"
    x = float(x)
    sign = "+" if signed and x != 0 else ""
    if x.is_integer() and abs(x) < 1e15:
        return f"{int(x):{sign},}"
    if 1e3 <= abs(x) < 1e15:
        return f"{x:{sign},.0f}" if abs(x) >= 1e4 else f"{x:{sign},.1f}"
    return f"{x:{sign},.4g}"


def _records(df) -> list[dict[str, Any]]:
    """A frame as JSON-ready rows (missing values as null)."""
    return json.loads(df.to_json(orient="records"))


@app.command()
def explain(
    run_dir: Path = typer.Argument(..., help="A run folder written by 'socialcredit run'."),
    person: int | None = typer.Option(None, "--person", help="A sampled person: print their history in order and plot their score."),
    list_: bool = typer.Option(False, "--list", help="List the sampled persons (what happens without --person)."),
    where: str | None = typer.Option(None, "--where", help="List only the persons meeting a condition, e.g. \"blacklisted and group == 'minority'\"."),
    limit: int = typer.Option(50, "--limit", min=1, help="List at most this many persons."),
    plot: Path | None = typer.Option(None, "--plot", help="Where to save the score plot (default RUN_DIR/figures/person-ID.png)."),
    no_plot: bool = typer.Option(False, "--no-plot", help="Do not draw the score plot."),
    all_rows: bool = typer.Option(False, "--all", help="Show every small score change instead of folding them into one row."),
    as_json: bool = typer.Option(False, "--json", help="Print the rows as JSON (for scripts)."),
) -> None:
    """Explain what happened to one sampled person (--person ID), or list the sampled persons (--list, --where)."""

    from socialcredit.analysis.history import (
        audited_persons,
        person_history,
        plot_person,
    )
    from socialcredit.results.reader import read_results

    if person is not None and (list_ or where is not None):
        raise SocialCreditError("--person prints one history; --list and --where list persons: give one or the other")
    res = read_results(run_dir)
    if person is None:
        table = audited_persons(res, where=where)
        sample = len(res.audit_persons)
        shown = table.head(limit)
        if as_json:
            payload = {"run_dir": str(run_dir), "sampled": sample, "where": where, "count": len(table), "persons": _records(shown)}
            _print_json(payload)
            return
        title = f"{len(table):,} of {sample:,} audited persons" + (f" where {where}" if where else "")
        t = Table(title=_lit(title), header_style="bold")
        for col in ("person", "region", "group", "tier", "score", "records\n(false)", "denials\n(wrongful)", "blacklisted"):
            t.add_column(col, justify="right" if col in ("person", "score") else "left")
        for r in shown.itertuples(index=False):
            listed = f"{r.days_blacklisted:,} days" if r.blacklisted else "no"
            t.add_row(str(r.person), _lit(r.region), _lit(r.group), _lit(f"{r.tier_start} -> {r.tier_end}"),
                      f"{r.score_start:.5g} -> {r.score_end:.5g}", f"{r.records:,} ({r.false_records:,})",
                      f"{r.denials:,} ({r.wrongful_denials:,})", listed)  # fmt: skip
        out.print(t)
        if len(table) > limit:
            out.print(f"showing the first {limit:,} of {len(table):,}; --limit N shows more")
        out.print(f"one person's history: socialcredit explain {_lit(run_dir)} --person ID")
        return
    history = person_history(res, person, fold_drift=not all_rows)
    me = audited_persons(res, where=f"person == {int(person)}").iloc[0]
    figure = None
    if not no_plot:
        import matplotlib.pyplot as plt

        figure = plot if plot is not None else Path(run_dir) / "figures" / f"person-{int(person)}.png"
        plt.close(plot_person(res, person, path=figure))
    if as_json:
        payload = {"run_dir": str(run_dir), "person": _records(me.to_frame().T)[0], "events": _records(history),
                   "figure": None if figure is None else str(figure)}  # fmt: skip
        _print_json(payload)
        return
    out.print(
        f"[bold]person {int(person)}[/]: {_lit(me['region'])}, {_lit(me['group'])}, income {me['income']:,.0f}; "
        f"tier {_lit(me['tier_start'])} -> {_lit(me['tier_end'])}, score {_num(me['score_start'])} -> {_num(me['score_end'])}, "
        f"friends {me['friends_start']} -> {me['friends_end']}"
    )
    t = Table(header_style="bold")
    t.add_column("day", justify="right")
    t.add_column("what")
    t.add_column("details")
    for r in history.itertuples(index=False):
        style = "red" if r.what in ("FALSE record", "denied wrongly", "reward lost") or "WRONGLY" in r.details else None
        style = style or ("bold" if r.what in ("blacklisted", "off the blacklist", "tier") else None)
        t.add_row(str(r.day), _lit(r.what), _lit(r.details), style=style)
    out.print(t)
    out.print(
        f"records {me['records']:,} ({me['false_records']:,} false), denials {me['denials']:,} ({me['wrongful_denials']:,} wrongful), "
        f"appeals {me['appeals']:,} ({me['appeals_won']:,} won), friends lost {me['friends_lost']:,}, "
        f"days on the blacklist {me['days_blacklisted']:,}"
    )
    if figure is not None:
        out.print(f"figure: {_lit(figure)}")


@app.command()
def compare(
    run_a: Path = typer.Argument(..., help="The first run folder (A)."),
    run_b: Path = typer.Argument(..., help="The second run folder (B)."),
    as_json: bool = typer.Option(False, "--json", help="Print the comparison as JSON (for scripts)."),
) -> None:
    """Compare two runs: key measures side by side, and paired differences when they share seed and population."""
    from socialcredit.analysis.compare import compare as compare_runs
    from socialcredit.analysis.compare import paired_differences
    from socialcredit.results.reader import read_results

    a, b = read_results(run_a), read_results(run_b)
    table = compare_runs(a, b)
    same = table.attrs["same_design"]
    paired = paired_differences(a, b) if same else None
    if as_json:
        payload = {
            "a": str(run_a), "b": str(run_b), "same_design": same, "design_differences": table.attrs["design_differences"],
            "measures": _records(table), "paired": None if paired is None else _records(paired),
            "note": None if paired is None else paired.attrs.get("note"),
        }  # fmt: skip
        _print_json(payload)
        return
    t = Table(title=_lit(f"A: {run_a}   B: {run_b}"), header_style="bold")
    for col in ("measure", "A", "B", "B - A", "B / A"):
        t.add_column(col, justify="left" if col == "measure" else "right")
    both_zero = 0
    for r in table.itertuples(index=False):
        if r.a == 0 and r.b == 0:
            both_zero += 1
            continue
        t.add_row(_lit(r.measure), _num(r.a), _num(r.b), _num(r.difference, signed=True), "-" if r.ratio != r.ratio else f"{r.ratio:.3f}")
    out.print(t)
    if both_zero:
        out.print(f"({both_zero} measures are 0 in both runs and not shown; --json lists every one)")
    if paired is None:
        out.print("[yellow]not the same design[/]: " + _lit("; ".join(table.attrs["design_differences"])))
        out.print("paired differences need the same seed, persons and population; only the side-by-side applies")
        return
    out.print(
        f"[green]same design[/]: seed {a.meta.get('seed')}, {a.meta.get('persons'):,} persons and the same population. "
        "The runs share their random numbers (common random numbers), so the paired differences below are the rules', not noise."
    )
    t = Table(title="paired differences (B - A)", header_style="bold")
    for col in ("measure", "per", "n", "mean difference", "SE paired", "SE unpaired"):
        t.add_column(col, justify="left" if col in ("measure", "per") else "right")
    for r in paired.itertuples(index=False):
        t.add_row(_lit(r.measure), _lit(r.unit.replace("per ", "")), f"{r.n:,}", _num(r.mean_difference, signed=True), _num(r.se_paired), _num(r.se_unpaired))
    out.print(t)
    if paired.attrs.get("note"):
        out.print(paired.attrs["note"])


# ---------------------------------------------------------------- experiments: ensembles, arms and sweeps on Dask
@app.command()
def experiment(
    spec: str = typer.Argument(..., metavar="SPEC.yaml | status", help="An experiment file, or 'status' followed by an experiment folder."),
    folder: Path | None = typer.Argument(None, metavar="[DIR]", help="With 'status': the experiment folder."),
    out_dir: Path | None = typer.Option(None, "--out", help="Experiment folder (default experiments/<name>-<timestamp>); an unfinished one is completed."),
    workers: int | None = typer.Option(None, "--workers", min=1, max=4096, help="Worker processes of the local cluster (default: one per usable core)."),
    scheduler: str | None = typer.Option(None, "--scheduler", metavar="ADDRESS", help="Send the runs to an existing Dask cluster, e.g. tcp://10.0.0.5:8786."),
    keep_runs: bool = typer.Option(False, "--keep-runs", help="Also keep each run's own folder under DIR/runs/."),
    report: bool = typer.Option(False, "--report", help="Write DIR/report.html at the end."),
    as_json: bool = typer.Option(False, "--json", help="Print the result as JSON (for scripts)."),
) -> None:
    """Run an experiment file (arms, seeds, a sweep) on Dask, or show how far one is: 'experiment status DIR'."""
    if spec == "status":
        if folder is None:
            raise SocialCreditError("usage: socialcredit experiment status DIR")
        _experiment_status(folder, as_json)
        return
    if folder is not None:
        raise SocialCreditError(f"unexpected argument {str(folder)!r}: give the experiment file only (the folder with --out DIR)")
    from socialcredit.experiments.spec import load_spec

    _run_experiment(load_spec(spec), out_dir, workers, scheduler, keep_runs, as_json, report)


def _run_experiment(loaded, out_dir: Path | None, workers: int | None, scheduler: str | None, keep_runs: bool,
                    as_json: bool, report: bool) -> None:  # fmt: skip
    from socialcredit.experiments import read_experiment
    from socialcredit.experiments.runner import run_experiment

    quiet = as_json or not err.is_terminal
    spec = loaded.spec
    if not quiet:
        err.print(f"[bold]{_lit(spec.title or spec.name)}[/]: {len(spec.arm_list())} arm(s) x {len(spec.seed_list())} seed(s)"
                  + (f" x {spec.sweep.design} sweep of {_lit(', '.join(spec.sweep.parameters))}" if spec.sweep else ""))  # fmt: skip
    session = run_experiment(loaded, out_dir, workers=workers, scheduler=scheduler, keep_runs=keep_runs,
                             progress=not quiet, command=sys.argv, on_message=None if quiet else err.print)  # fmt: skip
    res = read_experiment(session.folder)
    path = None
    if report:
        from socialcredit.report.experiment import write_experiment_report

        path = write_experiment_report(session.folder)
    session_info = {"folder": str(session.folder), "runs": session.total, "already_stored": session.already,
                    "executed": session.executed, "failed": session.failed, "seconds": session.seconds,
                    "cluster": session.where, "report": None if path is None else str(path)}  # fmt: skip
    _print_experiment(res, as_json, session_info)
    if not as_json:
        out.print(f"experiment folder: [bold]{_lit(session.folder)}[/]  ({session.executed:,} run(s) executed, "
                  f"{session.already:,} already stored, {session.seconds:.1f} s)")  # fmt: skip
        if path is not None:
            out.print(f"report: [bold]{_lit(path)}[/]")
        else:
            out.print(_lit(f"daily series with their bands: socialcredit summary {session.folder} --daily, or socialcredit report {session.folder}"))


@app.command()
def sensitivity(
    scenario: str = typer.Argument(DEFAULT_SCENARIO, help="A shipped scenario name or a rulebook .yaml file."),
    method: str = typer.Option("morris", "--method", help="morris (screening: mu*, sigma) or sobol (first-order and total indices)."),
    param: list[str] | None = typer.Option(None, "--param", metavar="KEY=LO:HI", help="A factor and its range (repeat); default: every number marked assumed:."),
    measure: list[str] | None = typer.Option(None, "--measure", metavar="NAME", help="A summary measure to explain (repeat); default: blacklisted, blacklisted_wrongly, records_false."),
    seeds: int = typer.Option(2, "--seeds", min=1, max=10_000, help="Seeds per sample point (the same for every point: common random numbers)."),
    samples: int = typer.Option(10, "--samples", min=2, max=100_000, help="Morris trajectories, or Saltelli base points (a power of two) for sobol."),
    set_: list[str] | None = typer.Option(None, "--set", help=SET_HELP),
    persons: int | None = typer.Option(None, help="Shortcut for --set population.persons=N."),
    days: int | None = typer.Option(None, help="Shortcut for --set simulation.days=N."),
    out_dir: Path | None = typer.Option(None, "--out", help="Experiment folder (default experiments/sensitivity-<scenario>-<timestamp>); an unfinished one is completed."),
    workers: int | None = typer.Option(None, "--workers", min=1, max=4096, help="Worker processes of the local cluster (default: one per usable core)."),
    scheduler: str | None = typer.Option(None, "--scheduler", metavar="ADDRESS", help="Send the runs to an existing Dask cluster, e.g. tcp://10.0.0.5:8786."),
    as_json: bool = typer.Option(False, "--json", help="Print the indices as JSON (for scripts)."),
) -> None:
    """Which assumptions drive a result: global sensitivity indices (SALib) over runs on Dask."""
    from socialcredit.experiments.runner import default_folder
    from socialcredit.experiments.sensitivity import parse_factor, run_sensitivity

    if method not in ("morris", "sobol"):
        raise SocialCreditError(f"--method {method!r}: allowed: morris, sobol")
    factors = [parse_factor(text) for text in (param or [])]
    out_path = out_dir or default_folder(f"sensitivity-{Path(scenario).stem}")
    quiet = as_json or not err.is_terminal
    result = run_sensitivity(scenario, out_path, method=method, factors=factors, measures=measure, samples=samples,
                             seeds=seeds, persons=persons, days=days, overrides=list(set_ or []), workers=workers,
                             scheduler=scheduler, progress=not quiet, on_message=None if quiet else err.print)  # fmt: skip
    if as_json:
        _print_json({"folder": str(result.folder), "method": method, "indices": result.indices.to_dict(orient="records")})
        return
    key = "mu_star" if method == "morris" else "ST"
    for m, rows in result.indices.groupby("measure", sort=False):
        t = Table(title=f"{_lit(m)}: what drives it ({method})", header_style="bold")
        cols = [c for c in rows.columns if c not in ("measure",)]
        for c in cols:
            t.add_column(c, justify="left" if c == "factor" else "right", overflow="fold")
        for r in rows.head(12).itertuples(index=False):
            t.add_row(*[_lit(v) if c == "factor" else (f"{v:.3g}" if isinstance(v, float) else str(v)) for c, v in zip(rows.columns, r) if c != "measure"])
        out.print(t)
    out.print(f"indices in [bold]{_lit(result.folder)}[/] (table sensitivity of results.duckdb); ranked by {key}")


@app.command()
def calibrate(
    scenario: str = typer.Argument(..., help="A shipped scenario name or a rulebook .yaml file."),
    targets: list[Path] = typer.Option(..., "--targets", metavar="CSV", help="Published figures with their measure, scale and weight (repeat; docs/calibration.md)."),
    param: list[str] | None = typer.Option(None, "--param", metavar="KEY=LO:HI", help="A value to fit and its range (repeat); log scale when LO > 0 and HI/LO >= 10."),
    trials: int = typer.Option(100, "--trials", min=1, max=100_000, help="Finished trials the study should hold (a resumed study counts those it has)."),
    seeds: int = typer.Option(1, "--seeds", min=1, max=1000, help="Seeds per trial (the same in every trial: common random numbers); the objective is averaged over them."),
    holdout_after: str | None = typer.Option(None, "--holdout-after", metavar="DATE", help="Fit the targets up to DATE (YYYY-MM-DD) only and report the forecast error on the later ones."),
    sampler: str = typer.Option("tpe", "--sampler", help="Optuna sampler: tpe, cmaes or random."),
    batch: int = typer.Option(4, "--batch", min=1, max=1000, help="Trials asked at once (run in parallel); fixed, so the study does not depend on the worker count."),
    study_seed: int = typer.Option(0, "--study-seed", min=0, help="Seed of the sampler."),
    set_: list[str] | None = typer.Option(None, "--set", help=SET_HELP),
    persons: int | None = typer.Option(None, help="Shortcut for --set population.persons=N."),
    days: int | None = typer.Option(None, help="Shortcut for --set simulation.days=N."),
    out_dir: Path | None = typer.Option(None, "--out", help="Calibration folder (default calibrations/<scenario>-<timestamp>); an unfinished one is resumed."),
    workers: int | None = typer.Option(None, "--workers", min=1, max=4096, help="Worker processes of the local cluster (default: one per usable core)."),
    scheduler: str | None = typer.Option(None, "--scheduler", metavar="ADDRESS", help="Send the runs to an existing Dask cluster, e.g. tcp://10.0.0.5:8786."),
    as_json: bool = typer.Option(False, "--json", help="Print the best values and the fit as JSON (for scripts)."),
) -> None:
    """Fit rulebook values to published figures (Optuna, runs on Dask); writes the fitted rulebook and a fit report."""
    from socialcredit.experiments.calibration import build_problem, run_calibration
    from socialcredit.experiments.sensitivity import parse_factor
    from socialcredit.report.calibration import write_calibration_report

    params = [parse_factor(text) for text in (param or [])]
    problem = build_problem(scenario, [str(t) for t in targets], params, trials=trials, seeds=seeds,
                            holdout_after=holdout_after, persons=persons, days=days, overrides=list(set_ or []),
                            sampler=sampler, batch=batch, seed=study_seed)  # fmt: skip
    stamp = time.strftime("%Y%m%d-%H%M%S")
    out_path = out_dir or Path("calibrations") / f"{Path(scenario).stem}-{stamp}"
    quiet = as_json  # messages go to stderr, also into a log file; the progress bar only to a terminal
    say = None if quiet else err.print
    for note in problem.notes if not quiet else ():
        err.print(f"[dim]note: {_lit(note)}[/]")
    cal = run_calibration(problem, out_path, workers=workers, scheduler=scheduler, progress=not quiet, on_message=say)
    report = write_calibration_report(cal.folder)
    if as_json:
        _print_json({"folder": str(cal.folder), "best": cal.best, "objective": cal.study.best_value,
                     "fit": cal.fit.to_dict(orient="records"), "report": str(report)})  # fmt: skip
        return
    t = Table(title="simulated against published (best values, mean over seeds)", header_style="bold")
    for c in ("target", "role", "published", "simulated", "error"):
        t.add_column(c, justify="left" if c in ("target", "role") else "right")
    for r in cal.fit.itertuples(index=False):
        err_txt = "-" if r.error != r.error else f"{r.error:+.1%}"
        t.add_row(_lit(f"{r.series} {r.date or r.day}"), r.role, _figure(r.value), "-" if r.simulated != r.simulated else _figure(r.simulated), err_txt)
    out.print(t)
    for k, v in cal.best.items():
        out.print(f"  {_lit(k)} = {v:.4g}")
    out.print(f"fitted rulebook: [bold]{_lit(cal.folder / 'fitted.yaml')}[/]; report: [bold]{_lit(report)}[/]")


def _figure(x: float) -> str:
    """A published or simulated figure: whole numbers with thousands separators, small ones to 3 digits."""
    return f"{x:,.0f}" if abs(x) >= 100 else f"{x:.3g}"


def _experiment_status(folder: Path, as_json: bool) -> None:
    from socialcredit.experiments import read_experiment

    res = read_experiment(folder)
    counts = res.status()
    runs = res.runs
    per_arm = runs.groupby("arm", sort=False)["status"].value_counts().unstack(fill_value=0)
    failed = runs[runs["status"] == "failed"][["run_id", "error"]]
    seconds = runs["seconds"].dropna()
    if as_json:
        payload = {"folder": str(folder), "name": res.name, **counts,
                   "arms": {a: {k: int(v) for k, v in row.items()} for a, row in per_arm.iterrows()},
                   "sessions": len(res.sessions), "run_seconds_mean": float(seconds.mean()) if len(seconds) else None,
                   "failed_runs": _records(failed.head(50))}  # fmt: skip
        _print_json(payload)
        return
    state = "complete" if counts["pending"] == 0 and counts["failed"] == 0 else ("finished with failures" if counts["pending"] == 0 else "unfinished")
    out.print(f"[bold]{_lit(res.name)}[/] ({_lit(folder)}): {state}: {counts['ok']:,} done, {counts['failed']:,} failed, "
              f"{counts['pending']:,} pending of {counts['total']:,} runs; {len(res.sessions)} session(s)")  # fmt: skip
    t = Table(header_style="bold")
    t.add_column("arm")
    for col in ("ok", "failed", "pending"):
        t.add_column(col, justify="right")
    for arm, row in per_arm.iterrows():
        t.add_row(_lit(arm), *(f"{int(row.get(c, 0)):,}" for c in ("ok", "failed", "pending")))
    out.print(t)
    if len(seconds):
        out.print(f"mean time per run: {seconds.mean():.2f} s")
    for r in failed.head(5).itertuples(index=False):
        out.print(f"[red]failed[/] {_lit(r.run_id)}: {_lit(str(r.error).splitlines()[0]) if r.error else ''}")
    if counts["pending"] or counts["failed"]:
        out.print("run the same command again (with --out this folder) to run what is missing")


def _ci(mean: float, lo: float, hi: float, signed: bool = False) -> str:
    if lo != lo:  # NaN: a single seed
        return _num(mean, signed)
    return f"{_num(mean, signed)} [{_num(lo, signed)}, {_num(hi, signed)}]"


def _print_experiment_daily(res, as_json: bool) -> None:
    """The kept daily series of the whole population: mean and 95% interval across seeds, per arm and point."""
    if not len(res.daily):
        raise SocialCreditError("this experiment kept no daily series (measures.daily) or has no finished runs")
    if as_json:
        bands = res.series()
        _print_json({"name": res.name, "series": _records(bands)})
        return
    names = res.key_series[:4]
    bands = res.series(names)
    last = int(bands["day"].max())
    days = sorted({round(last * k / 4) for k in range(5)})
    t = Table(title=_lit(f"{res.name}: daily series, mean [95% interval] across seeds (whole population)"), header_style="bold")
    for col in ["arm", *(["point"] if res.parameters else []), "day", *names]:
        t.add_column(col, justify="left" if col == "arm" else "right")
    rows = bands[bands["day"].isin(days)]
    for (arm, point, day), g in rows.groupby(["arm", "point", "day"], sort=False):
        g = g.set_index("measure")
        t.add_row(_lit(arm), *([str(point)] if res.parameters else []), str(day), *(_ci(g.at[m, "mean"], g.at[m, "lo"], g.at[m, "hi"]) for m in names))
    out.print(t)
    out.print("every day and kept measure: socialcredit summary DIR --daily --json, or read_experiment(DIR).series()")


def _print_experiment(res, as_json: bool, session: dict[str, Any] | None = None) -> None:
    """An experiment's summary: each measure per arm (mean and 95% interval across seeds), paired differences."""
    counts = res.status()
    ok = res.runs[res.runs["status"] == "ok"]
    if not len(ok):
        if as_json:
            _print_json({"session": session, "status": counts, "summary": [], "differences": {}})
            return
        out.print(f"[yellow]no finished runs yet[/] ({counts['failed']:,} failed, {counts['pending']:,} pending)")
        for r in res.runs[res.runs["status"] == "failed"].head(5).itertuples(index=False):
            out.print(f"[red]failed[/] {_lit(r.run_id)}: {_lit(str(r.error).splitlines()[0]) if r.error else ''}")
        return
    summary = res.summary()
    arms = res.arms
    diffs = {}
    if len(arms) > 1:
        for b in arms[1:]:
            diffs[f"{b} - {arms[0]}"] = res.differences(arms[0], b)
    if as_json:
        payload = {"session": session, "status": counts, "name": res.name, "arms": arms, "parameters": res.parameters,
                   "summary": _records(summary), "differences": {k: _records(v) for k, v in diffs.items()}}  # fmt: skip
        _print_json(payload)
        return
    n_seeds = int(ok.groupby(["arm", "point"])["seed"].nunique().min())
    title = f"{res.name}: mean [95% interval] across {n_seeds} seed(s)" + (", per sweep point" if res.parameters else "")
    measures = [m for m in res.measures if not (summary.loc[summary["measure"] == m, "mean"].fillna(0) == 0).all()]
    shown = [m for m in measures if m in ("score_mean", "blacklisted", "blacklisted_wrongly", "records_false")][:4] or measures[:4]
    if not res.parameters:
        t = Table(title=_lit(title), header_style="bold")
        t.add_column("measure")
        for a in arms:
            t.add_column(_lit(a), justify="right")
        for m in measures:
            rows = summary[summary["measure"] == m].set_index("arm")
            t.add_row(_lit(m), *(_ci(rows.at[a, "mean"], rows.at[a, "lo"], rows.at[a, "hi"]) if a in rows.index else "-" for a in arms))
        out.print(t)
    else:
        t = Table(title=_lit(title), header_style="bold")
        for col in ["arm", *res.parameters, *shown]:
            t.add_column(_lit(col), justify="left" if col == "arm" else "right")
        pts = summary[summary["measure"].isin(shown)]
        for (arm, point), g in list(pts.groupby(["arm", "point"], sort=False))[:40]:
            g = g.set_index("measure")
            vals = [_lit(g[p].iloc[0]) for p in res.parameters]
            t.add_row(_lit(arm), *vals, *(_ci(g.at[m, "mean"], g.at[m, "lo"], g.at[m, "hi"]) for m in shown))
        out.print(t)
        out.print("every measure at every point: socialcredit summary DIR --json, or read_experiment(DIR).summary()")
    for label, d in diffs.items():
        t = Table(title=_lit(f"paired differences {label} (same seeds: common random numbers)"), header_style="bold")
        for col in ["measure", *res.parameters, "difference [95% interval]", "SE paired", "SE unpaired", "pairing gain"]:
            t.add_column(_lit(col), justify="left" if col == "measure" else "right")
        d = d[d["measure"].isin(shown if res.parameters else measures)]
        same = d[(d["difference"] == 0) & ~(d["se_paired"] > 0)]
        for r in d.drop(same.index).head(60).to_dict("records"):
            g = r["pairing_gain"]
            gain = "-" if g != g else ("inf" if g == float("inf") else f"{g:.1f}x")
            t.add_row(_lit(r["measure"]), *(_lit(r[p]) for p in res.parameters), _ci(r["difference"], r["lo"], r["hi"], signed=True),
                      _num(r["se_paired"]), _num(r["se_unpaired"]), gain)  # fmt: skip
        out.print(t)
        if len(same):
            out.print(f"identical in both arms, seed by seed: {_lit(', '.join(dict.fromkeys(same['measure'])))}")
    if diffs:
        out.print("pairing gain: (unpaired / paired standard error)^2, how many times the seeds an unpaired comparison would need")
    if counts["failed"] or counts["pending"]:
        out.print(f"[yellow]{counts['failed']:,} failed and {counts['pending']:,} pending run(s)[/]: socialcredit experiment status DIR")


def _click_errors() -> tuple[tuple[type, ...], tuple[type, ...]]:
    """Click's usage-error and abort classes (newer typer versions ship their own copy of click)."""
    usage: list[type] = []
    abort: list[type] = []
    for name in ("click.exceptions", "typer._click.exceptions"):
        try:
            mod = __import__(name, fromlist=["ClickException"])
        except ImportError:
            continue
        usage.append(mod.ClickException)
        if hasattr(mod, "Abort"):
            abort.append(mod.Abort)
    return tuple(usage), tuple(abort)


# ---------------------------------------------------------------- the report: one HTML page with the figures
def _run_baseline(scenario: str, overrides: list[str], run_dir: Path, threads: int | None, as_json: bool) -> Path | None:
    """Run the same rulebook and seed with the behavioural responses off into RUN_DIR/baseline (messages on stderr)."""
    from socialcredit.analysis.behaviour import baseline_overrides
    from socialcredit.engine.sim import Sim
    from socialcredit.results.runfolder import write_results
    from socialcredit.rulebook import load_rulebook

    off = baseline_overrides(load_rulebook(scenario, overrides).rulebook)
    if not off:
        if not as_json:
            err.print("no baseline: this rulebook has no behavioural responses, so a baseline would equal the run")
        return None
    loaded = load_rulebook(scenario, overrides + off)
    rb = loaded.rulebook
    sim = Sim(rb, base_dir=loaded.base_dir, threads=threads)
    if not as_json:
        err.print(f"[bold]baseline[/]: the same rulebook and seed with {', '.join(o.split('=')[0] for o in off)} set to 0")
    results = _run_with_progress(sim, as_json or not err.is_terminal, label="baseline: ")
    extra = {"command": sys.argv, "overrides": overrides + off, "threads": threads, "baseline_of": str(run_dir)}
    path = write_results(results, run_dir / "baseline", rulebook_yaml=loaded.yaml(), extra=extra, plot=False)
    if not as_json:
        err.print(f"baseline run folder: {_lit(path)}")
    return path


def _write_report(run_dir: Path, as_json: bool = False) -> Path:
    """Write the report of a finished run (and its baseline, when RUN_DIR/baseline exists)."""
    from socialcredit.report import write_report

    path = write_report(run_dir)
    if not as_json:
        out.print(f"report: [bold]{_lit(path)}[/]")
    return path


@app.command()
def report(
    run_dir: Path = typer.Argument(..., help="A run folder written by 'socialcredit run', or an experiment folder."),
    baseline: Path | None = typer.Option(
        None, "--baseline",
        help="A run of the same rulebook and seed with the behavioural responses off (default: RUN_DIR/baseline when present).",
    ),  # fmt: skip
) -> None:
    """Write RUN_DIR/report.html: one self-contained page with the scenario, its sources, the summary and the figures."""
    from socialcredit.experiments.store import is_experiment
    from socialcredit.report import write_report

    if is_experiment(run_dir):
        if baseline is not None:
            raise SocialCreditError("--baseline is for a run folder; an experiment's report compares its arms")
        from socialcredit.report.experiment import write_experiment_report

        path = write_experiment_report(run_dir)
        out.print(f"report: [bold]{_lit(path)}[/] (figures in {_lit(path.parent / 'figures')})")
        return
    path = write_report(run_dir, baseline)
    out.print(f"report: [bold]{_lit(path)}[/] (figures in {_lit(path.parent / 'figures')})")


@app.command()
def dashboard(
    port: int | None = typer.Option(None, "--port", min=1, max=65535, help="Port to listen on (default: a free one)."),
    host: str = typer.Option("127.0.0.1", "--host", help="Address to listen on; anything but 127.0.0.1 lets other machines in."),
    no_browser: bool = typer.Option(False, "--no-browser", help="Do not open the page in a browser."),
    threads: int = typer.Option(1, "--threads", min=1, max=1024, help="Threads per simulation (default 1: on two cores, beside the browser, one is fastest)."),
) -> None:
    """Explore a scenario in the browser: move its levers, run, compare with a baseline, meet the people, take it away."""
    from socialcredit.dashboard import server

    if host not in ("127.0.0.1", "localhost"):
        err.print(f"[bold yellow]warning:[/] listening on {_lit(host)}: other machines that reach it can use the dashboard "
                  "run simulations on this one and read the run folders it can reach (it has no login)")  # fmt: skip
    try:
        port = server.free_port("127.0.0.1" if host == "localhost" else host, port or 0)
    except OSError as exc:
        where = f"{host}:{port}" if port else host
        raise SocialCreditError(f"cannot listen on {where}: {exc.strerror or exc}" + (" (choose another --port)" if port else "")) from None
    out.print(f"dashboard: [bold]http://{_lit(host)}:{port}[/] (Ctrl-C stops it)")
    proc = server.start(port, host, browser=not no_browser, threads=threads)
    try:
        code = proc.wait()
    except KeyboardInterrupt:  # the usual way to stop it
        proc.terminate()
        proc.wait()
        out.print("dashboard stopped")
        return
    if code:
        raise SocialCreditError(f"the dashboard's server stopped with status {code}")


_INTERRUPT_SEEN = False  # set by the Ctrl-C handler: whatever error follows is reported as the interruption


def _on_interrupt(signum: int, frame: object) -> None:
    """Ctrl-C: note it, then raise KeyboardInterrupt as Python's own handler does.

    Noted because the exception can be lost on its way up: raised inside a callback from compiled code (Numba's
    compiler calls Python back while it compiles a kernel), it is printed and dropped, and the compiler then fails
    with an error of its own. The note lets ``main`` report that error as what it is, an interruption."""
    global _INTERRUPT_SEEN
    _INTERRUPT_SEEN = True
    raise KeyboardInterrupt


def _unraisable(info: Any) -> None:
    """Drop a KeyboardInterrupt that a callback could not pass on (``main`` reports the interruption); print the rest."""
    if info.exc_type is not None and issubclass(info.exc_type, KeyboardInterrupt):
        return
    sys.__unraisablehook__(info)


def main() -> None:
    """Entry point: run the app, turning our errors into exit status 2 without a traceback."""
    import signal
    import threading

    if threading.current_thread() is threading.main_thread():  # only the main thread may set a signal handler
        signal.signal(signal.SIGINT, _on_interrupt)
        sys.unraisablehook = _unraisable
    try:
        code = app(standalone_mode=False)
        if code == 130:  # typer turns Ctrl-C into this status instead of raising
            raise KeyboardInterrupt
        if isinstance(code, int) and code:
            sys.exit(code)
    except SocialCreditError as exc:
        sys.stderr.write(f"{'' if exc.exit_code == 130 else 'error: '}{exc}\n")
        sys.exit(exc.exit_code)
    except KeyboardInterrupt:
        _interrupted()
    except SystemExit:
        raise
    except Exception as exc:  # click usage errors arrive here with standalone_mode=False
        usage, abort = _click_errors()
        if isinstance(exc, usage):
            exc.show()
            sys.exit(2)
        if isinstance(exc, abort):
            sys.stderr.write("aborted\n")
            sys.exit(1)
        # Ctrl-C during a DuckDB query: its own InterruptException, or (some versions) a RuntimeError saying so
        if type(exc).__name__ == "InterruptException" or (isinstance(exc, RuntimeError) and str(exc) == "Query interrupted"):
            _interrupted()
        if _caused_by_interrupt(exc):  # Ctrl-C inside a compiled kernel's call: Numba raises a SystemError from it
            _interrupted()
        if _INTERRUPT_SEEN:  # Ctrl-C lost inside a callback, leaving another error (see _on_interrupt)
            _interrupted()
        raise


def _caused_by_interrupt(exc: BaseException) -> bool:
    """Whether a KeyboardInterrupt is among the exceptions that led to ``exc``."""
    seen: set[int] = set()
    stack: list[BaseException | None] = [exc.__cause__, exc.__context__]
    while stack:
        e = stack.pop()
        if e is None or id(e) in seen:
            continue
        if isinstance(e, KeyboardInterrupt):
            return True
        seen.add(id(e))
        stack += [e.__cause__, e.__context__]
    return False


def _interrupted() -> None:
    sys.stderr.write("interrupted: nothing half-written was left (a run folder appears only when it is complete; "
                     "a checkpointed run continues with 'socialcredit resume RUN_DIR')\n")  # fmt: skip
    sys.exit(130)


if __name__ == "__main__":
    main()
