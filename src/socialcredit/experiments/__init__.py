"""Experiments: ensembles of seeds, arms under common random numbers, and parameter sweeps, run on Dask.

    import socialcredit as sc

    res = sc.experiment({
        "name": "secret-rules", "base": "rongcheng", "persons": 20_000, "days": 365, "seeds": 10,
        "arms": [{"name": "public"}, {"name": "secret", "set": {"institutions.transparency": "secret"}}],
    }, workers=2)
    res.summary()                          # mean and 95% interval across seeds, per arm
    res.differences("public", "secret")    # paired by seed: what the policy changed

Modules: :mod:`.spec` (the experiment file), :mod:`.executor` (Dask),
:mod:`.task` (one run on a worker), :mod:`.store` (the experiment folder),
:mod:`.runner` (plan, store, submit), :mod:`.statistics` (intervals across
seeds, paired differences), :mod:`.results` and :mod:`.plots`.
"""

from __future__ import annotations

import os
import tempfile
from pathlib import Path
from typing import Any

from socialcredit.experiments.executor import Executor
from socialcredit.experiments.results import ExperimentResults, read_experiment
from socialcredit.experiments.runner import run_experiment
from socialcredit.experiments.spec import ExperimentSpec, LoadedSpec, load_spec, spec_from_dict

__all__ = ["experiment", "read_experiment", "ExperimentResults", "ExperimentSpec", "Executor", "load_spec"]


def experiment(spec: str | os.PathLike | dict[str, Any] | LoadedSpec, out: str | os.PathLike | None = None, *,
               workers: int | None = None, scheduler: str | None = None, keep_runs: bool = False,
               progress: bool = False) -> ExperimentResults:  # fmt: skip
    """Run an experiment (a spec file, a mapping, or a loaded spec) and return its results.

    With ``out``, the experiment folder is kept there (and an unfinished one
    is completed); without it, a temporary folder is used and removed once
    the tables are loaded. Call it under ``if __name__ == "__main__":`` in a
    script: the local cluster's worker processes import the script.
    """
    if isinstance(spec, LoadedSpec):
        loaded = spec
    elif isinstance(spec, dict):
        loaded = spec_from_dict(spec)
    else:
        loaded = load_spec(spec)
    if out is not None:
        session = run_experiment(loaded, out, workers=workers, scheduler=scheduler, keep_runs=keep_runs, progress=progress, command=[])
        return read_experiment(session.folder)
    with tempfile.TemporaryDirectory(prefix="socialcredit-experiment-") as tmp:
        session = run_experiment(loaded, Path(tmp) / "experiment", workers=workers, scheduler=scheduler,
                                 keep_runs=keep_runs, progress=progress, command=[])  # fmt: skip
        return read_experiment(session.folder)
