"""benchmarks/fingerprint.py: the check that a performance change keeps every number."""

from __future__ import annotations

import importlib.util
from pathlib import Path

import socialcredit as sc

SCRIPT = Path(__file__).resolve().parents[2] / "benchmarks" / "fingerprint.py"


def load():
    spec = importlib.util.spec_from_file_location("fingerprint", SCRIPT)
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return mod


def test_the_fingerprint_repeats_and_moves_with_the_results(monkeypatch) -> None:
    """Two runs of one rulebook give one fingerprint; another seed (other draws) gives another."""
    fp = load()
    first = fp.fingerprint("reference", 800, 20)
    assert first == fp.fingerprint("reference", 800, 20)
    assert len(first) == 16
    original = sc.load

    def other_seed(name, **kw):
        return original(name, **kw, seed=7) if kw else original(name)

    monkeypatch.setattr(sc, "load", other_seed)
    assert fp.fingerprint("reference", 800, 20) != first
