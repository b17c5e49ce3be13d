"""A rulebook without services or lists still makes a run folder that reads back."""

from __future__ import annotations

from pathlib import Path

import socialcredit as sc
from tests.conftest import base_rulebook, run


def test_a_run_without_services_reads_back(tmp_path: Path) -> None:
    data = base_rulebook(persons=800, days=10)
    data["services"] = []
    data["lists"] = {}
    _, res = run(data)
    res.save(str(tmp_path / "run"))
    back = sc.read_run(tmp_path / "run")
    assert back.services.empty and list(back.services.columns) == list(res.services.columns)
    assert back.daily.shape == res.daily.shape
