"""Tests of the HTML report. One small run with its baseline, made with the command line, is shared by the test modules."""

from __future__ import annotations

import sys
from pathlib import Path

from socialcredit import cli

# every mechanism at once (services, appeals, unfriending, secret rules), small enough for a test
RUN_ARGS = ["run", "full-system", "--persons", "2000", "--days", "60", "--seed", "5", "--no-plot", "--report", "--baseline"]
_shared: dict[str, Path] = {}


def call_cli(args: list[str]) -> int:
    """Run the command line in-process; returns the exit status."""
    old = sys.argv
    sys.argv = ["socialcredit", *args]
    try:
        cli.main()
    except SystemExit as exc:
        return int(exc.code or 0)
    finally:
        sys.argv = old
    return 0


def shared_run(tmp_path_factory) -> Path:
    """The folder of ``socialcredit run full-system ... --report --baseline``, made once per test session."""
    if "run" not in _shared:
        out = tmp_path_factory.mktemp("report") / "run"
        code = call_cli([*RUN_ARGS, "--out", str(out)])
        assert code == 0, f"the shared run failed with status {code}"
        _shared["run"] = out
    return _shared["run"]


def old_folder(folder: Path, to: Path, columns: tuple[str, ...], tables: tuple[str, ...] = ()) -> Path:
    """A copy of run folder ``folder`` as an older version wrote it: without these daily columns and tables."""
    import shutil

    import duckdb

    to.mkdir()
    for name in ("run.json", "results.duckdb", "rulebook.yaml"):
        shutil.copy(folder / name, to / name)
    con = duckdb.connect(str(to / "results.duckdb"))
    try:
        for table in tables:
            con.execute(f"DROP TABLE {table}")
        for column in columns:
            con.execute(f"ALTER TABLE daily DROP COLUMN {column}")
    finally:
        con.close()
    return to
