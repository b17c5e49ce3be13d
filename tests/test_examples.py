"""The examples run as they are (at a small size)."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

EXAMPLES = Path(__file__).resolve().parent.parent / "examples"


def run_example(name: str, days: int, out: Path) -> subprocess.CompletedProcess:
    """Run ``examples/<name>`` at 3,000 persons for ``days`` days, writing into ``out``."""
    return subprocess.run(
        [sys.executable, str(EXAMPLES / name), "--persons", "3000", "--days", str(days), "--out", str(out)],
        capture_output=True,
        text=True,
        timeout=600,
    )


def test_false_records_example_runs(tmp_path: Path) -> None:
    proc = run_example("false_records.py", 60, tmp_path)
    assert proc.returncode == 0, proc.stderr[-2000:]
    assert "false records" in proc.stdout and "perfect cameras" in proc.stdout
    assert (tmp_path / "false_records_by_group.png").stat().st_size > 5000


def test_unfriending_example_runs(tmp_path: Path) -> None:
    proc = run_example("unfriending.py", 90, tmp_path)
    assert proc.returncode == 0, proc.stderr[-2000:]
    assert "friends of blacklisted" in proc.stdout and "score assortativity (end)" in proc.stdout
    assert (tmp_path / "unfriending.png").stat().st_size > 5000


def test_compare_scenarios_example_runs(tmp_path: Path) -> None:
    proc = run_example("compare_scenarios.py", 120, tmp_path)
    assert proc.returncode == 0, proc.stderr[-2000:]
    assert "same design" in proc.stdout and "paired differences" in proc.stdout and "events_prosocial" in proc.stdout
    assert (tmp_path / "compare_secret_rules.png").stat().st_size > 5000


def test_experiment_example_runs(tmp_path: Path) -> None:
    proc = subprocess.run(
        [sys.executable, str(EXAMPLES / "experiment.py"), "--persons", "3000", "--days", "60", "--seeds", "3",
         "--workers", "2", "--out", str(tmp_path)],
        capture_output=True, text=True, timeout=600,
    )  # fmt: skip
    assert proc.returncode == 0, proc.stderr[-2000:]
    assert "mean [95% interval] across 3 seeds" in proc.stdout and "paired differences, secret - public" in proc.stdout
    assert (tmp_path / "experiment_secret_rules.png").stat().st_size > 5000


def test_the_example_experiment_file_is_valid() -> None:
    from socialcredit.experiments.spec import load_spec, plan_runs

    plan = plan_runs(load_spec(EXAMPLES / "camera-errors.yaml"))
    assert len(plan.runs) == 2 * 4 * 8 and not any(r.error for r in plan.runs)
    assert plan.parameters == ["detection.channels.traffic.false_attribution"]
