"""What the dashboard runs: a changed rulebook beside its baseline, one seed or a small ensemble.

Plain functions on the project's API (no Streamlit here), so that they are
tested without a browser:

* :func:`run_rulebook` loads a rulebook file with ``--set`` items, validates
  it (every error located in the file) and runs it, reporting each day.
* :func:`run_pair` runs the baseline (the unchanged rulebook, or ``control``)
  and the changed one with the same seed and size: under common random
  numbers their difference is the change, not noise.
* :func:`run_ensemble` runs both for several seeds as an experiment with two
  arms on the experiments' executor, for bands and paired intervals.
* :func:`changed_rulebook` writes the rulebook with the changed values,
  keeping its comments, so the same run can be made from the command line.
"""

from __future__ import annotations

import os
import tempfile
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from socialcredit.engine.sim import Sim
from socialcredit.errors import InputError
from socialcredit.experiments.executor import Executor
from socialcredit.experiments.results import ExperimentResults
from socialcredit.experiments.runner import run_experiment
from socialcredit.experiments.spec import spec_from_dict
from socialcredit.results import Results
from socialcredit.rulebook import Loaded, load_rulebook, scenario_path
from socialcredit.rulebook.rewrite import set_values

from socialcredit.dashboard.levers import RUN_KEYS, as_overrides
from socialcredit.dashboard.server import THREADS_VARIABLE

BASELINE_UNCHANGED = "the unchanged rulebook"
BASELINE_CONTROL = "control (no scoring at all)"
BASELINES = (BASELINE_UNCHANGED, BASELINE_CONTROL)
MAX_SEEDS = 10
# threads per simulation (socialcredit dashboard --threads, through the server's environment). One by default: the
# browser and the server share the machine with the run, and parallel kernels wait at their barriers for a thread
# the system has descheduled (issue 19): a 50,000-person year took 3.0 s on 2 threads in the dashboard on 2 cores
# (1.1 s alone) and 1.5 s on 1 thread (benchmarks/bench_dashboard.py)
THREADS = int(os.environ.get(THREADS_VARIABLE, "1"))


@dataclass(frozen=True)
class Source:
    """The rulebook the dashboard starts from: a shipped scenario or a file (an upload is saved under its own name)."""

    label: str
    path: Path

    @classmethod
    def scenario(cls, name: str) -> "Source":
        path = scenario_path(name)
        if path is None:
            raise InputError(f"no shipped scenario named {name!r}")
        return cls(f"scenario {name}", path)

    @classmethod
    def upload(cls, name: str, data: bytes, folder: str | os.PathLike) -> "Source":
        """Save an uploaded rulebook under its file name (so error messages name it) in ``folder``."""
        safe = Path(name).name or "rulebook.yaml"
        if not safe.lower().endswith((".yaml", ".yml")):
            raise InputError("a rulebook is a .yaml file", file=safe, hint="upload a file ending in .yaml or .yml")
        path = Path(folder) / safe
        path.write_bytes(data)
        return cls(f"file {safe}", path)

    def load(self, overrides: list[str] = ()) -> Loaded:
        return load_rulebook(self.path, list(overrides))


def run_overrides(values: dict[str, Any], seed: int) -> list[str]:
    """The run's size and seed, shared by the baseline and the changed run."""
    return as_overrides({k: values[k] for k in RUN_KEYS if k in values}) + [f"simulation.seed={seed}"]


def run_rulebook(path: str | os.PathLike, overrides: list[str], on_day: Callable[[int, int], None] | None = None,
                 threads: int | None = None) -> Results:  # fmt: skip
    """Validate and run a rulebook file with ``--set`` items; ``on_day(day, days)`` after each day."""
    loaded = load_rulebook(path, overrides)
    rb = loaded.rulebook
    sim = Sim(rb, base_dir=loaded.base_dir, threads=threads)
    days = rb.simulation.days
    callback = None if on_day is None else (lambda s: on_day(int(s.state.day), days))
    res = Results.from_sim(sim.run(on_day=callback))
    res.rulebook_yaml = loaded.yaml()
    return res


def baseline_path(source: Source, baseline: str) -> Path:
    if baseline == BASELINE_CONTROL:
        path = scenario_path("control")
        assert path is not None
        return path
    return source.path


def run_pair(source: Source, values: dict[str, Any], changed: dict[str, Any], seed: int, baseline: str = BASELINE_UNCHANGED,
             on_day: Callable[[str, int, int], None] | None = None,
             cached_baseline: Results | None = None) -> tuple[Results, Results]:  # fmt: skip
    """(baseline, changed run), same seed and size; ``on_day(which, day, days)`` reports progress."""
    size = run_overrides(values, seed)

    def progress(which: str) -> Callable[[int, int], None] | None:
        return None if on_day is None else (lambda day, days: on_day(which, day, days))

    base = cached_baseline
    if base is None:
        base = run_rulebook(baseline_path(source, baseline), size, progress("baseline"), threads=THREADS)
    run = run_rulebook(source.path, size + as_overrides(changed), progress("changed"), threads=THREADS)
    return base, run


def ensemble_spec(source: Source, values: dict[str, Any], changed: dict[str, Any], seeds: int, baseline: str) -> dict[str, Any]:
    """An experiment of two arms (``baseline``, ``changed``) over ``seeds`` seeds, as a mapping."""
    if not 2 <= seeds <= MAX_SEEDS:
        raise InputError(f"an ensemble on the dashboard has 2 to {MAX_SEEDS} seeds; found {seeds}")
    base_arm: dict[str, Any] = {"name": "baseline"}
    if baseline == BASELINE_CONTROL:
        base_arm["scenario"] = "control"
    return {
        "name": "dashboard",
        "base": str(source.path),
        "persons": int(values["population.persons"]),
        "days": int(values["simulation.days"]),
        "seeds": {"first": 1, "count": seeds},
        "arms": [base_arm, {"name": "changed", "set": {k: v for k, v in changed.items()}}],
    }


def run_ensemble(source: Source, values: dict[str, Any], changed: dict[str, Any], seeds: int, baseline: str,
                 executor: Executor, folder: str | os.PathLike | None = None,
                 on_run: Callable[[int, int], None] | None = None) -> ExperimentResults:  # fmt: skip
    """Run the two arms for each seed on ``executor``; ``on_run(done, total)`` after each run."""
    spec = ensemble_spec(source, values, changed, seeds, baseline)
    loaded = spec_from_dict(spec, base_dir=source.path.parent, name="dashboard ensemble")
    out = Path(folder) if folder is not None else Path(tempfile.mkdtemp(prefix="socialcredit-ensemble-")) / "experiment"
    total = 2 * seeds
    done = [0]

    def counted(_: Any) -> None:
        done[0] += 1
        if on_run is not None:
            on_run(done[0], total)

    run_experiment(loaded, out, executor=executor, progress=False, command=["socialcredit", "dashboard"], on_run=counted)
    return ExperimentResults.read(out)


def changed_rulebook(source: Source, changed: dict[str, Any], was: dict[str, Any]) -> str:
    """The rulebook's text with the changed values written in (comments and layout kept), the changes listed on top."""
    text = source.path.read_text(encoding="utf-8")
    if not changed:
        return text
    lines = [f"Changed on the socialcredit dashboard from {source.label}:"]
    lines += [f"  {key}: {was.get(key)} -> {value}" for key, value in changed.items()]
    lines += ["Run it again with: socialcredit run THIS_FILE.yaml", ""]
    return set_values(text, changed, "\n".join(lines))
