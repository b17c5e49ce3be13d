"""Reading run folders, strictly: a folder from anywhere is checked before it is trusted.

``read_results(folder)`` returns the :class:`Results` of a folder written by
:mod:`socialcredit.results.runfolder` (``socialcredit run`` or
``Results.save``). Every file is checked first (a regular file of bounded
size, standard JSON, the tables' columns and types), read-only and without
external access, so a damaged or hostile folder gives an ``InputError``
naming the file, never a traceback.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pandas as pd

from socialcredit.errors import InputError
from socialcredit.files import check_regular, json_kind, read_json
from socialcredit.results import Results
from socialcredit.results.runfolder import OPTIONAL_TABLES, TABLES

# ------------------------------------------------------------- run.json shape
# What the readers (summary, report, explain, compare) take from run.json's
# "meta"; every key is optional (older folders lack some), but a key that is
# present must have this type. Other keys are kept as they are.

def _is_count(x: Any) -> bool:
    return isinstance(x, int) and not isinstance(x, bool) and 0 <= x < 2**63


def _is_number(x: Any) -> bool:
    return isinstance(x, (int, float)) and not isinstance(x, bool)


def _is_names(x: Any) -> bool:
    return isinstance(x, list) and all(isinstance(s, str) for s in x)


_META_KEYS: dict[str, tuple[Callable[[Any], bool], str]] = {
    "scenario": (lambda x: x is None or isinstance(x, str), "a string"),
    "title": (lambda x: x is None or isinstance(x, str), "a string"),
    "version": (lambda x: x is None or isinstance(x, str), "a string"),
    "persons": (_is_count, "a whole number >= 0"),
    "days": (_is_count, "a whole number >= 0"),
    "seed": (lambda x: x is None or (isinstance(x, int) and not isinstance(x, bool)), "a whole number"),
    "friendships": (_is_count, "a whole number >= 0"),
    "audit_sample": (_is_count, "a whole number >= 0"),
    "tiers": (_is_names, "a list of strings"),
    "regions": (_is_names, "a list of strings"),
    "groups": (_is_names, "a list of strings"),
    "services": (_is_names, "a list of strings"),
    "service_kinds": (lambda x: isinstance(x, list) and all(k in ("reward", "punishment") for k in x), "a list of 'reward' or 'punishment'"),
    "setup_seconds": (lambda x: isinstance(x, dict) and all(_is_number(v) for v in x.values()), "an object of numbers"),
    "scale_to": (lambda x: x is None or (_is_number(x) and x > 0), "a number > 0, or null"),
    "timeline_days": (lambda x: isinstance(x, list) and all(_is_count(d) for d in x), "a list of whole numbers >= 0"),
}


def _check_run_info(info: dict[str, Any], path: Path) -> dict[str, Any]:
    """The ``meta`` object of run.json, after checking the types of the keys the readers use."""

    def bad(key: str, allowed: str, found: Any) -> InputError:
        return InputError(f"key '{key}' must be {allowed}, found {json_kind(found)}", file=str(path),
                          hint="this run.json was not written by 'socialcredit run', or was edited")  # fmt: skip

    if "status" in info and info["status"] != "complete":
        raise bad("status", "'complete'", info["status"])
    if "stage_seconds" in info and not (isinstance(info["stage_seconds"], dict) and all(_is_number(v) for v in info["stage_seconds"].values())):
        raise bad("stage_seconds", "an object of numbers", info["stage_seconds"])
    meta = info.get("meta", {})
    if not isinstance(meta, dict):
        raise bad("meta", "an object", meta)
    for key, (ok, allowed) in _META_KEYS.items():
        if key in meta and not ok(meta[key]):
            raise bad(f"meta.{key}", allowed, meta[key])
    if len(meta.get("services", [])) != len(meta.get("service_kinds", [])):
        raise InputError("keys 'meta.services' and 'meta.service_kinds' must have the same length", file=str(path))
    return meta


# --------------------------------------------------------- results.duckdb shape
# The columns the readers need, by kind: "num" (integer or floating), "text"
# (VARCHAR or ENUM), "bool"; a trailing "?" also allows an all-null column
# (DuckDB type "NULL", as pandas writes a column with no values). Each table
# must be a real table in the main schema (no views), so that reading it
# cannot read anything else; other tables, views and macros are ignored:
# they are never queried, and the connection has no file access anyway.

_DAILY_COLUMNS = {
    "day": "num", "breakdown": "text", "level": "text", "persons": "num", "score_mean": "num", "score_p10": "num",
    "score_p50": "num", "score_p90": "num", "blacklisted": "num", "blacklisted_wrongly": "num", "redlisted": "num",
    "blacklist_entries": "num", "records_true": "num", "records_false": "num", "events": "num",
}  # fmt: skip
_COLUMNS: dict[str, dict[str, str]] = {
    "daily": _DAILY_COLUMNS,
    "services": {"day": "num", "breakdown": "text", "level": "text", "service": "text", "kind": "text",
                 "attempts": "num", "outcomes": "num", "wrongful": "num"},
    "behaviours": {"day": "num", "breakdown": "text", "level": "text", "behaviour": "text", "kind": "text",
                   "channel": "text", "events": "num", "detected": "num", "records_true": "num", "records_false": "num"},
    "audit": {"day": "num", "person": "num", "event": "text", "behaviour": "text?", "channel": "text?", "is_false": "bool?",
              "points": "num?", "service": "text?", "wrongful": "bool?", "score": "num?", "tier": "text?"},
    "audit_persons": {"person": "num", "region": "text", "group": "text", "score_start": "num", "tier_start": "text",
                      "score_end": "num", "tier_end": "text"},
    "coverage": {"day": "num", "channel": "text", "region": "text", "coverage": "num", "records": "num"},
    "stage_times": {"stage": "text", "seconds": "num"},
}  # fmt: skip
_NUMERIC = {"TINYINT", "SMALLINT", "INTEGER", "BIGINT", "HUGEINT", "UTINYINT", "USMALLINT", "UINTEGER", "UBIGINT",
            "UHUGEINT", "FLOAT", "DOUBLE", "REAL"}  # fmt: skip


def _type_ok(data_type: str, kind: str) -> bool:
    t = data_type.upper()
    if kind.endswith("?") and t.strip('"') == "NULL":
        return True
    kind = kind.rstrip("?")
    if kind == "num":
        return t in _NUMERIC or t.startswith("DECIMAL")
    if kind == "text":
        return t == "VARCHAR" or t.startswith("ENUM(")
    return t == "BOOLEAN"


def _connect_read_only(db_path: Path) -> Any:
    """Open results.duckdb read-only with all file and network access off (nothing but this file is read)."""
    import duckdb

    config = {"enable_external_access": False, "autoinstall_known_extensions": False, "autoload_known_extensions": False}
    try:
        return duckdb.connect(str(db_path), read_only=True, config=config)
    except duckdb.Error as exc:
        raise InputError(f"results.duckdb is unreadable: {exc}", file=str(db_path)) from None


def _check_tables(con: Any, db_path: Path, tiers: list[str]) -> set[str]:
    """Check that the run's tables are real tables with the columns the readers need; the names present."""
    rows = con.execute(
        "SELECT table_name, table_type FROM information_schema.tables WHERE table_schema = 'main' AND table_catalog = current_database()"
    ).fetchall()
    types = {name: kind for name, kind in rows}
    expected = (*TABLES, "stage_times", *OPTIONAL_TABLES)
    for name in expected:
        if name not in types:
            if name in OPTIONAL_TABLES:
                continue
            raise InputError(f"results.duckdb has no table '{name}'", file=str(db_path),
                             hint=f"a run folder's database holds the tables {', '.join(expected)}")  # fmt: skip
        if types[name] != "BASE TABLE":
            raise InputError(f"'{name}' in results.duckdb is a {types[name].lower()}, not a table; it is not read",
                             file=str(db_path), hint="a run folder's database holds plain tables only (no views)")  # fmt: skip
        cols = dict(con.execute(
            "SELECT column_name, data_type FROM information_schema.columns"
            " WHERE table_schema = 'main' AND table_catalog = current_database() AND table_name = ?", [name]
        ).fetchall())  # fmt: skip
        wanted = dict(_COLUMNS[name])
        if name == "daily":
            wanted.update({f"share_{t}": "num" for t in tiers})
        for col, kind in wanted.items():
            if col not in cols:
                raise InputError(f"table '{name}' in results.duckdb has no column '{col}'", file=str(db_path))
            if not _type_ok(cols[col], kind):
                allowed = {"num": "a number type", "text": "a text type", "bool": "BOOLEAN"}[kind.rstrip("?")]
                raise InputError(f"column '{name}.{col}' in results.duckdb has type {cols[col]}; it must be {allowed}", file=str(db_path))
    return set(types)


def read_results(run_dir: str | os.PathLike):
    """Load a run folder back into a :class:`~socialcredit.results.Results`.

    The folder may come from elsewhere, so everything is checked before use:
    its files must be regular files (no links, pipes or devices), run.json
    strict JSON of the expected shape, and results.duckdb is opened read-only
    without file access, reading only real tables with the expected columns.
    Anything else is an :class:`InputError` naming the file.
    """
    import duckdb

    path = Path(run_dir)
    if not path.exists():
        raise InputError("no such run folder", file=str(path))
    info_path = path / "run.json"
    db_path = path / "results.duckdb"
    if not path.is_dir() or not info_path.exists() or not db_path.exists():
        raise InputError(
            "not a complete run folder (run.json and results.duckdb are missing)",
            file=str(path),
            hint="pass a folder written by 'socialcredit run' (or an experiment folder, for summary and report)",
        )
    rb_path = path / "rulebook.yaml"
    final_path = path / "final_state.parquet"
    for p in (info_path, db_path, rb_path, final_path):
        if p.is_symlink() or p.exists():
            check_regular(p, p.name, follow=False)
    meta = _check_run_info(read_json(info_path, "run.json"), info_path)
    con = _connect_read_only(db_path)
    try:
        present = _check_tables(con, db_path, list(meta.get("tiers", [])))
        frames = {name: con.execute(f"SELECT * FROM main.{name}").df() for name in TABLES}
        st = con.execute("SELECT * FROM main.stage_times").df()
        for name in OPTIONAL_TABLES:
            frames[name] = con.execute(f"SELECT * FROM main.{name}").df() if name in present else None
    except duckdb.Error as exc:
        raise InputError(f"results.duckdb is unreadable: {exc}", file=str(db_path)) from None
    finally:
        con.close()
    try:
        rulebook_yaml = rb_path.read_text(encoding="utf-8") if rb_path.exists() else None
    except (OSError, UnicodeDecodeError) as exc:
        raise InputError(f"rulebook.yaml is unreadable: {exc}", file=str(rb_path)) from None
    try:
        final_state = pd.read_parquet(final_path) if final_path.exists() else None
    except (OSError, ValueError) as exc:  # pyarrow's errors derive from these
        raise InputError(f"final_state.parquet is unreadable: {exc}", file=str(final_path)) from None
    return Results(
        daily=frames["daily"],
        services=frames["services"],
        behaviours=frames["behaviours"],
        audit=frames["audit"],
        audit_persons=frames["audit_persons"],
        coverage=frames["coverage"],
        meta=meta,
        rulebook_yaml=rulebook_yaml,
        final_state=final_state,
        stage_times=dict(zip(st["stage"], st["seconds"])),
    )
