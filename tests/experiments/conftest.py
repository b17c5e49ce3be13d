"""Shared helpers for the experiment tests: write a spec, call the command line, read an experiment's tables."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pandas as pd

from socialcredit.experiments import read_experiment
from socialcredit.rulebook.document import dump_yaml

SRC = str(Path(__file__).resolve().parents[2] / "src")
ENV = dict(os.environ, PYTHONPATH=SRC + os.pathsep + os.environ.get("PYTHONPATH", ""), COLUMNS="200")

#: a small experiment: two arms of the reference model (deterrence on and off), three seeds, every breakdown kept
SMALL = {
    "name": "small",
    "base": "reference",
    "persons": 3000,
    "days": 80,
    "seeds": 3,
    "arms": [{"name": "deterrence"}, {"name": "none", "set": {"responses.deterrence.elasticity": 0}}],
    "measures": {"breakdowns": ["all", "region", "group", "tier"]},
}


def write_spec(folder: Path, data: dict[str, Any], name: str = "spec.yaml") -> Path:
    path = folder / name
    path.write_text(dump_yaml(data), encoding="utf-8")
    return path


def cli(*args: str, timeout: float = 600, **kwargs: Any) -> subprocess.CompletedProcess:
    """The command line in a real process."""
    return subprocess.run([sys.executable, "-m", "socialcredit.cli", *args], capture_output=True, text=True, env=ENV,
                          timeout=timeout, **kwargs)  # fmt: skip


def tables(folder: Path) -> dict[str, pd.DataFrame]:
    """The stored results without what differs between executions (wall times, workers, sessions)."""
    res = read_experiment(folder)
    runs = res.runs.drop(columns=["seconds", "worker", "session"])
    return {"runs": runs, "summary": res.summary_table, "daily": res.daily}


def assert_same_tables(a: Path, b: Path) -> None:
    ta, tb = tables(a), tables(b)
    for name in ta:
        x, y = ta[name], tb[name]
        assert list(x.columns) == list(y.columns) or set(x.columns) == set(y.columns), name
        pd.testing.assert_frame_equal(x, y[x.columns], check_exact=True, obj=name)
