"""The layers of the code import only downwards (the contracts in pyproject.toml, checked by import-linter)."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent


def lint_imports() -> subprocess.CompletedProcess:
    """``lint-imports`` on this checkout's src/ (not an installed copy of the package)."""
    exe = shutil.which("lint-imports") or str(Path(sys.executable).with_name("lint-imports"))
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(filter(None, [str(ROOT / "src"), os.environ.get("PYTHONPATH")]))}
    return subprocess.run([exe, "--no-cache"], cwd=ROOT, capture_output=True, text=True, timeout=300, env=env)


def test_the_layer_contracts_hold() -> None:
    done = lint_imports()
    assert done.returncode == 0, done.stdout[-4000:] + done.stderr[-2000:]
    assert "Contracts: 2 kept, 0 broken" in done.stdout


def test_a_broken_layer_is_caught(tmp_path: Path) -> None:
    """The contract is not vacuous: a module of a lower layer importing a higher one breaks it."""
    bad = ROOT / "src" / "socialcredit" / "rulebook" / "_layer_probe.py"
    bad.write_text("from socialcredit.engine import sim  # noqa: F401\n")
    try:
        done = lint_imports()
    finally:
        bad.unlink()
    assert done.returncode != 0
    assert "socialcredit.rulebook is not allowed to import socialcredit.engine" in done.stdout


@pytest.mark.parametrize("package", ["engine", "engine.stages", "rulebook", "population", "results"])
def test_packages_import_on_their_own(package: str) -> None:
    """Each package imports in a fresh interpreter (no import order arranged by hand)."""
    done = subprocess.run([sys.executable, "-c", f"import socialcredit.{package}"], capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr[-2000:]
