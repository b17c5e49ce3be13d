"""A fingerprint of every scenario's results, to check that a change to the engine changes no number.

For each built-in scenario it runs a copy (20,000 persons, at most 200 days, default threads) and hashes the
final state arrays, the daily table and the audit trail. Run it in two checkouts and compare the lines: a
performance change that keeps the results keeps every line.

    python benchmarks/fingerprint.py                      # this checkout
    python benchmarks/fingerprint.py --persons 5000 --json fingerprints.json
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import sys
from pathlib import Path

# Fingerprint this checkout's code (not an older installed copy): its src/ comes first.
sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "src"))
os.environ.setdefault("SOCIALCREDIT_COMPILE_AHEAD", "0")


def fingerprint(name: str, persons: int, days: int) -> str:
    import numpy as np

    import socialcredit as sc
    from socialcredit.engine.sim import Sim
    from socialcredit.results import Results

    rulebook = sc.load(name)
    rulebook = sc.load(name, persons=persons, days=min(days, rulebook.simulation.days))
    sim = Sim(rulebook).run()
    h = hashlib.sha256()
    n = sim.state.n
    for field in sorted(vars(sim.state)):
        value = getattr(sim.state, field)
        if isinstance(value, np.ndarray):
            if field == "class_rate" and value.ndim == 2 and value.shape[0] != n:
                value = value.T  # person by person, whichever way round it is stored (it was (N, k), now (k, N))
            h.update(field.encode())
            h.update(np.ascontiguousarray(value).tobytes())
    results = Results.from_sim(sim)
    h.update(results.to_df("daily").to_csv().encode())
    h.update(results.audit.to_csv().encode())
    return h.hexdigest()[:16]


def main() -> None:
    import socialcredit as sc

    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--persons", type=int, default=20_000)
    ap.add_argument("--days", type=int, default=200)
    ap.add_argument("--json", help="also write the fingerprints to this file")
    args = ap.parse_args()
    out = {}
    for name in sc.list_scenarios():
        out[name] = fingerprint(name, args.persons, args.days)
        print(f"{name:24s} {out[name]}", flush=True)
    if args.json:
        Path(args.json).write_text(json.dumps(out, indent=1) + "\n")


if __name__ == "__main__":
    main()
