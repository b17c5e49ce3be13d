"""socialcredit: a fast simulator of social credit systems on synthetic populations.

For notebooks::

    import socialcredit as sc

    rb = sc.load("smalltown", persons=20_000, **{"services.flight.demand": 1})
    res = sc.run(rb)              # or sc.run("reference", persons=10_000)
    res.to_df()                   # daily whole-population rows, a pandas frame
    res.to_df("services", None)   # every breakdown of the services table
    res.plot()                    # the main series in one figure

    ens = sc.experiment({"name": "e", "base": "reference", "persons": 10_000, "seeds": 10})
    ens.summary()                 # every measure: mean and 95% interval across the seeds
"""

from __future__ import annotations

from typing import Any

from socialcredit.version import __version__

# the rest of the package (the numba engine, the pydantic rulebook, pandas, dask) is imported inside the
# functions below, not here, so that `import socialcredit` stays fast

__all__ = ["load", "run", "experiment", "read_experiment", "Sim", "Results", "read_run", "list_scenarios", "__version__"]


def load(source: str, overrides: list[str] | dict[str, Any] | None = None, *, persons: int | None = None,
         days: int | None = None, seed: int | None = None, **settings: Any):  # fmt: skip
    """Load a shipped scenario or a rulebook file, with overrides, validated.

    ``overrides`` is a list of ``"path.to.key=value"`` strings or a mapping of
    dotted paths to values; keyword ``settings`` are dotted paths too (pass
    them with ``**{"services.flight.demand": 1}``). Returns the validated
    :class:`~socialcredit.rulebook.schema.Rulebook`; its source file location
    is kept for relative paths (edge lists).
    """
    from socialcredit.rulebook import load_rulebook, shortcut_overrides

    items: list[str] = []
    if isinstance(overrides, dict):
        settings = {**overrides, **settings}
    elif overrides:
        items.extend(overrides)
    for key, value in settings.items():
        items.append(f"{key}={_yaml_value(value)}")
    items += shortcut_overrides(persons, days, seed)
    loaded = load_rulebook(source, items)
    rb = loaded.rulebook
    rb._base_dir = loaded.base_dir
    rb._yaml = loaded.yaml()
    return rb


def _yaml_value(value: Any) -> str:
    import json

    if isinstance(value, str):
        return value
    return json.dumps(value)


def run(rulebook_or_source: Any, *, threads: int | None = None, out: str | None = None, progress: bool = False,
        **load_kwargs: Any):  # fmt: skip
    """Run a rulebook (or load one by name/path first) and return its :class:`Results`.

    With ``out``, also write a run folder there.
    """
    from socialcredit.engine.sim import Sim
    from socialcredit.results import Results
    from socialcredit.rulebook.schema import Rulebook

    rb = rulebook_or_source if isinstance(rulebook_or_source, Rulebook) else load(rulebook_or_source, **load_kwargs)
    sim = Sim(rb, base_dir=rb._base_dir, threads=threads)
    callback = None
    if progress:
        from rich.progress import Progress

        bar = Progress()
        bar.start()
        task = bar.add_task("simulating", total=rb.simulation.days)
        callback = lambda s: bar.update(task, completed=s.state.day)  # noqa: E731
    try:
        res = Results.from_sim(sim.run(on_day=callback))
    finally:
        if progress:
            bar.stop()
    res.rulebook_yaml = rb._yaml
    if out is not None:
        res.save(out)
    return res


def read_run(run_dir: str):
    """Load a run folder written by ``socialcredit run`` (or ``Results.save``)."""
    from socialcredit.results.reader import read_results

    return read_results(run_dir)


def experiment(spec: Any, out: str | None = None, *, workers: int | None = None, scheduler: str | None = None,
               keep_runs: bool = False, progress: bool = False):  # fmt: skip
    """Run an experiment (a spec file, or the same as a mapping) on Dask; returns its results.

    ``sc.experiment({"name": "x", "base": "rongcheng", "seeds": 10, "arms": [...]})`` gives an
    :class:`~socialcredit.experiments.ExperimentResults` with ``summary()``,
    ``differences(a, b)``, ``to_df()`` and ``plot()``. With ``out`` the experiment
    folder is kept (and an unfinished one completed). Call it under
    ``if __name__ == "__main__":`` in scripts (docs/experiments.md).
    """
    from socialcredit.experiments import experiment as run_experiment

    return run_experiment(spec, out, workers=workers, scheduler=scheduler, keep_runs=keep_runs, progress=progress)


def read_experiment(folder: str):
    """Load an experiment folder written by ``socialcredit experiment`` or ``run --seeds N``."""
    from socialcredit.experiments import read_experiment as read

    return read(folder)


def list_scenarios() -> list[str]:
    """Names of the shipped scenarios."""
    from socialcredit.rulebook import scenario_names

    return scenario_names()


def __getattr__(name: str):
    if name == "Sim":
        from socialcredit.engine.sim import Sim

        return Sim
    if name == "Results":
        from socialcredit.results import Results

        return Results
    raise AttributeError(name)
