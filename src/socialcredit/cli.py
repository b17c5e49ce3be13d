"""The command line: ``socialcredit run | validate | summary | scenarios [show NAME | copy NAME FILE]``.

Errors in the user's input (rulebook, overrides, files) are printed as one
screen of text on stderr with exit status 2, never as a traceback.
"""

from __future__ import annotations

import json
import sys
import time
from pathlib import Path
from typing import Any, Optional

import typer
from rich.console import Console
from rich.table import Table

from socialcredit.errors import SocialCreditError

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


SET_HELP = "Override a rulebook value, e.g. --set services.flight.demand=1 (repeatable)."


@app.command()
def run(
    scenario: str = typer.Argument(DEFAULT_SCENARIO, help="A shipped scenario name or a rulebook .yaml file."),
    out_dir: Optional[Path] = typer.Option(None, "--out", help="Run folder to write (default runs/<scenario>-<timestamp>)."),
    set_: Optional[list[str]] = typer.Option(None, "--set", help=SET_HELP),
    persons: Optional[int] = typer.Option(None, help="Shortcut for --set population.persons=N."),
    days: Optional[int] = typer.Option(None, help="Shortcut for --set simulation.days=N."),
    seed: Optional[int] = typer.Option(None, help="Shortcut for --set simulation.seed=N."),
    threads: Optional[int] = typer.Option(None, min=1, help="Threads for the compiled kernels (results do not depend on it)."),
    profile: bool = typer.Option(False, "--profile", help="Print the time spent in each stage."),
    final_state: bool = typer.Option(False, "--final-state", help="Also write every person's final state as Parquet."),
    as_json: bool = typer.Option(False, "--json", help="Print the summary as JSON (for scripts)."),
    plot: bool = typer.Option(True, "--plot/--no-plot", help="Draw the main series to figures/main.png in the run folder."),
) -> None:
    """Run a scenario, print its summary and write a run folder."""
    from socialcredit.engine.sim import Sim
    from socialcredit.results.runfolder import check_target, default_run_dir, write_results
    from socialcredit.rulebook import load_rulebook

    t_start = time.perf_counter()
    loaded = load_rulebook(scenario, _overrides(set_, persons, days, seed))
    rb = loaded.rulebook
    run_dir = out_dir if out_dir is not None else default_run_dir(rb.meta.name)
    check_target(run_dir)
    sim = Sim(rb, base_dir=loaded.base_dir, threads=threads)
    quiet = as_json or not err.is_terminal
    if not quiet:
        err.print(f"[bold]{rb.meta.title or rb.meta.name}[/]: {rb.population.persons:,} persons, {rb.simulation.days} days")
    with _progress(quiet) as bar:
        task = bar.add_task("building the society", total=rb.simulation.days)
        sim.setup()
        bar.update(task, description="simulating")
        results = sim.run(progress=lambda d, n: bar.update(task, completed=d))
    if final_state:
        results.final_state = final_state_frame(sim)
    elapsed = time.perf_counter() - t_start
    extra = {"command": sys.argv, "overrides": _overrides(set_, persons, days, seed), "threads": threads, "elapsed_seconds": elapsed}
    path = write_results(results, run_dir, rulebook_yaml=loaded.yaml(), extra=extra, plot=plot)
    summary = results.summary()
    if as_json:
        payload: dict[str, Any] = {"run_dir": str(path), "summary": summary}
        if profile:
            payload["profile"] = _profile_rows(sim)
        out.print_json(json.dumps(payload, default=str))
        return
    print_summary(summary, title=f"{rb.meta.title or rb.meta.name}")
    if profile:
        print_profile(sim)
    out.print(f"run folder: [bold]{path}[/]  ({elapsed:.1f} s)")


def _progress(quiet: bool):
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

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


def final_state_frame(sim):
    import pandas as pd

    st = sim.state
    pers = sim.pop.persons
    rb = sim.rulebook
    return pd.DataFrame(
        {
            "person": range(st.n),
            "region": pd.Categorical.from_codes(pers.region, rb.region_names),
            "group": pd.Categorical.from_codes(pers.group, rb.group_names),
            "income": st.income,
            "score": st.score,
            "score_without_false_records": st.score_cf,
            "tier": pd.Categorical.from_codes(st.tier, rb.tier_names),
            "blacklisted": st.black_since >= 0,
            "redlisted": st.red_since >= 0,
            "risk": st.risk,
            "friends": st.degree,
            "initial_income": pers.income,
            "partner": pers.partner,
            "employer": pers.employer,
        }
    )


def print_summary(s: dict[str, Any], title: str = "summary") -> None:
    t = Table(title=title, show_header=True, header_style="bold")
    t.add_column("measure")
    t.add_column("value", justify="right")
    t.add_row("population", f"{s['persons']:,}")
    t.add_row("days", f"{s['days']:,}")
    if "score_mean" in s:
        t.add_row("mean score (p10 - p90)", f"{s['score_mean']:.4g} ({s['score_p10']:.4g} - {s['score_p90']:.4g})")
        shares = "  ".join(f"{k} {v:.1%}" for k, v in s["tier_shares"].items())
        t.add_row("final tier shares", shares)
        t.add_row("blacklisted at the end (wrongly)", f"{s['blacklisted']:,} ({s['blacklisted_wrongly']:,})")
        t.add_row("redlisted at the end", f"{s['redlisted']:,}")
    t.add_row("blacklist entries", f"{s['blacklist_entries']:,}")
    total = s["records_true"] + s["records_false"]
    share = s["records_false"] / total if total else 0.0
    t.add_row("records true / false", f"{s['records_true']:,} / {s['records_false']:,} ({share:.2%} false)")
    for name, v in s.get("services", {}).items():
        if v["kind"] == "punishment":
            t.add_row(f"{name}: denials (wrongful)", f"{v['denied']:,} ({v['wrongful']:,}) of {v['attempts']:,} attempts")
        else:
            t.add_row(f"{name}: rewards (lost to false records)", f"{v['granted']:,} ({v['lost_to_false_records']:,}) of {v['attempts']:,}")
    kinds = s.get("events_by_kind")
    if kinds:
        t.add_row("behaviour events: harmful / benign / prosocial", " / ".join(f"{kinds[k]:,}" for k in ("harmful", "benign", "prosocial")))
    if s.get("friends_of_others") is not None:
        bl = s.get("friends_of_blacklisted")
        t.add_row("friends per person: blacklisted / others", f"{'-' if bl is None else f'{bl:.2f}'} / {s['friends_of_others']:.2f}")
    if s.get("score_assortativity") is not None:
        t.add_row("score assortativity of friendships", f"{s['score_assortativity']:.3f}")
    labels = {
        "ties_dropped_unfriending": "ties dropped by unfriending",
        "ties_rewired": "ties rewired",
        "ties_dropped_shaming": "ties dropped after shaming",
        "partnerships_ended": "partnerships ended",
        "appeals_filed": "appeals filed",
        "appeals_won": "appeals won",
        "appeals_won_false": "false records overturned",
        "appeals_lost": "appeals lost",
        "appeal_days_false": "days overturned false records had counted",
        "company_blacklist_entries": "company blacklist entries",
        "company_records_true": "company records (true)",
        "company_records_false": "company records (false)",
        "ratings_given": "ratings given",
        "ratings_low": "ratings of 1 or 2 stars",
    }
    for key, value in s.get("institutions_and_responses", {}).items():
        t.add_row(labels.get(key, key), f"{value:,}")
    if "companies_blacklisted" in s:
        t.add_row("companies blacklisted at the end", f"{s['companies_blacklisted']:,}")
    out.print(t)


def _profile_rows(sim) -> list[dict[str, Any]]:
    days = max(1, sim.state.day)
    total = sim.timings.total_stages
    rows = [
        {"stage": name, "seconds": sec, "share": sec / total if total else 0.0, "ms_per_day": 1000 * sec / days}
        for name, sec in sim.timings.stages.items()
    ]
    for name, sec in sim.timings.setup.items():
        if name != "run":
            rows.append({"stage": f"setup: {name}", "seconds": sec, "share": None, "ms_per_day": None})
    return rows


def print_profile(sim) -> None:
    t = Table(title="time per stage", header_style="bold")
    for col in ("stage", "seconds", "share", "ms/day"):
        t.add_column(col, justify="left" if col == "stage" else "right")
    for r in _profile_rows(sim):
        t.add_row(
            r["stage"],
            f"{r['seconds']:.3f}",
            f"{r['share']:.1%}" if r["share"] is not None else "",
            f"{r['ms_per_day']:.2f}" if r["ms_per_day"] is not None else "",
        )
    n = sim.state.n * sim.state.day
    total = sim.timings.total_stages
    t.add_row("[bold]all stages[/]", f"{total:.3f}", "100%", f"{1000 * total / max(1, sim.state.day):.2f}")
    out.print(t)
    if total > 0:
        out.print(f"{n / total / 1e6:.1f} M person-days per second")


@app.command()
def validate(
    file: str = typer.Argument(..., help="A rulebook .yaml file or a shipped scenario name."),
    set_: Optional[list[str]] = typer.Option(None, "--set", help=SET_HELP),
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
        out.print_json(json.dumps(info))
    else:
        out.print(
            f"[green]valid[/]: {loaded.path} ({rb.meta.name}: {rb.population.persons:,} persons, "
            f"{len(rb.behaviours)} behaviours, {len(rb.services)} services, tiers {' '.join(rb.tier_names)})"
        )


@app.command()
def summary(
    run_dir: Path = typer.Argument(..., help="A run folder written by 'socialcredit run'."),
    as_json: bool = typer.Option(False, "--json", help="Print the summary as JSON."),
) -> None:
    """Print the summary table of a finished run again."""
    from socialcredit.results.runfolder import read_results

    res = read_results(run_dir)
    s = res.summary()
    if as_json:
        out.print_json(json.dumps(s, default=str))
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
        out.print_json(json.dumps(rows))
        return
    t = Table(header_style="bold")
    for col in ("name", "title", "persons", "what it models"):
        t.add_column(col)
    for r in rows:
        t.add_row(r["name"], r["title"], f"{r['persons']:,}", r["description"][:200] + ("..." if len(r["description"]) > 200 else ""))
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
        out.print_json(json.dumps({"meta": meta, "values": [asdict(r) for r in rows]}, default=str))
        return
    out.print(f"[bold]{name}[/]: {meta.get('title', '')}")
    desc = " ".join(str(meta.get("description", "")).split())
    if desc:
        out.print(desc)
    src = Table(title="sources", header_style="bold")
    for col in ("id", "title", "used for"):
        src.add_column(col)
    for s in meta.get("sources", []) or []:
        src.add_row(str(s.get("id", "")), str(s.get("title", "")) + (f"\n{s['url']}" if s.get("url") else ""), str(s.get("used_for", "") or ""))
    out.print(src)
    t = Table(title="values", header_style="bold")
    t.add_column("key", overflow="fold", ratio=3)
    t.add_column("value", overflow="fold", ratio=2)
    t.add_column("basis", ratio=4)
    from rich.markup import escape

    style = {"source": "green", "assumed": "yellow", "setting": "dim"}
    for r in rows:
        detail = r.detail
        if r.basis == "source":  # the id (titles are listed above), and any assumption the item adds
            extra = r.detail.split(" [assumed: ", 1)
            detail = r.detail.split(":", 1)[0] + (f"; assumed: {extra[1][:-1]}" if len(extra) == 2 else "")
        basis = f"[{style[r.basis]}]{r.basis}[/]" + (f": {escape(detail)}" if detail else "")
        t.add_row(escape(r.key), escape(str(r.value)), basis)
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
    out.print(f"wrote {target}; edit it, check it with `socialcredit validate {target}`, run it with `socialcredit run {target}`")


def main() -> None:
    """Entry point: run the app, turning our errors into exit status 2 without a traceback."""
    try:
        app(standalone_mode=False)
    except SocialCreditError as exc:
        sys.stderr.write(f"error: {exc}\n")
        sys.exit(exc.exit_code)
    except KeyboardInterrupt:
        sys.stderr.write("interrupted; no run folder was written\n")
        sys.exit(130)
    except SystemExit:
        raise
    except Exception as exc:  # click usage errors arrive here with standalone_mode=False
        import click

        if isinstance(exc, click.exceptions.ClickException):
            exc.show()
            sys.exit(2)
        if isinstance(exc, click.exceptions.Abort):
            sys.stderr.write("aborted\n")
            sys.exit(1)
        raise


if __name__ == "__main__":
    main()
