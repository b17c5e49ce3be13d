"""The experiment folder: the resolved spec and one DuckDB database that grows as runs finish.

```
experiments/<name>-<timestamp>/
  experiment.yaml   the resolved spec (defaults filled in, paths absolute)
  results.duckdb    runs (one row per planned run: arm, sweep values, seed, status,
                    seconds, error, worker, session, fingerprint), summary (one row
                    per finished run: its summary measures), daily (the kept daily
                    series, with run_id), sessions (each invocation)
  status.json       counts of done, failed and pending runs (readable while a run holds the database)
  runs/<run_id>/    each run's own folder (with --keep-runs)
  report.html, figures/   the experiment report (socialcredit report DIR)
```

Finished runs are written in transactions, a few at a time, by the client
only (workers never touch the folder). A killed client loses at most the
runs it had not yet written; running the same command again runs only what is
missing. Measures are stored as DOUBLE columns; a measure that one arm has and
another lacks (a tier, a service) is NULL for the other.
"""

from __future__ import annotations

import json
import os
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pandas as pd

from socialcredit.errors import InputError
from socialcredit.experiments.spec import Plan
from socialcredit.experiments.task import RunOutcome
from socialcredit.files import check_writable, write_atomic

SPEC = "experiment.yaml"
DB = "results.duckdb"
STATUS = "status.json"
RUNS_DIR = "runs"
ID_COLUMNS = ["run_id"]
DAILY_IDS = ["run_id", "day", "cell", "breakdown", "level"]


def is_experiment(folder: str | os.PathLike) -> bool:
    p = Path(folder)
    return (p / SPEC).is_file() and (p / DB).is_file()


def _connect(path: Path, read_only: bool = False, attempts: int = 50):
    """Open the database, waiting briefly while another process (the running client) holds it."""
    import duckdb

    for i in range(attempts):
        try:
            return duckdb.connect(str(path), read_only=read_only)
        except duckdb.IOException as exc:
            if "lock" not in str(exc).lower() or i == attempts - 1:
                raise InputError(f"results.duckdb cannot be opened: {exc}", file=str(path)) from None
            time.sleep(0.1)
    raise AssertionError("unreachable")  # pragma: no cover


def _q(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


@dataclass
class Stored:
    """What the folder already holds for each planned run."""

    status: dict[str, str]
    fingerprint: dict[str, str]


class Store:
    """Writes and reads one experiment folder."""

    def __init__(self, folder: str | os.PathLike) -> None:
        self.folder = Path(folder)
        self.db = self.folder / DB
        self.buffer: list[tuple[RunOutcome, int]] = []
        self.last_flush = time.monotonic()
        self.session = 0
        self.counts: dict[str, int] = {}

    # ---------------------------------------------------------------- creating and opening
    @staticmethod
    def check_target(folder: Path) -> None:
        """Refuse a folder that holds something other than an experiment."""
        if folder.exists() and not folder.is_dir():
            raise InputError("the output path exists and is not a folder; nothing was written", file=str(folder))
        if folder.is_symlink():
            raise InputError("the output path is a symbolic link; nothing was written", file=str(folder),
                             hint="give the path of a real folder")  # fmt: skip
        check_writable(folder)
        if folder.is_dir() and any(folder.iterdir()) and not is_experiment(folder):
            raise InputError(
                "the output folder exists and is not an experiment folder; nothing was written",
                file=str(folder),
                hint="choose another --out folder (an experiment folder holds experiment.yaml and results.duckdb)",
            )

    def create(self, spec_yaml: str, plan: Plan) -> None:
        """A new folder: the resolved spec, and every planned run as pending (or failed, if its rulebook is invalid)."""
        self.folder.mkdir(parents=True, exist_ok=True)
        tmp = self.folder / (DB + ".tmp")
        tmp.unlink(missing_ok=True)
        con = _connect(tmp)
        try:
            con.execute("CREATE TABLE sessions (session INTEGER, started TIMESTAMP, command VARCHAR, executed INTEGER)")
            cols = ", ".join(f"{_q(p)} {_sweep_type(plan, p)}" for p in plan.parameters)
            con.execute(
                "CREATE TABLE runs (run_id VARCHAR PRIMARY KEY, position INTEGER, arm VARCHAR, point INTEGER, seed UBIGINT"
                + (", " + cols if cols else "")
                + ", status VARCHAR, seconds DOUBLE, error VARCHAR, worker VARCHAR, session INTEGER, fingerprint VARCHAR)"
            )
            con.execute("CREATE TABLE summary (run_id VARCHAR PRIMARY KEY)")
            con.execute("CREATE TABLE daily (run_id VARCHAR, day INTEGER, cell INTEGER, breakdown VARCHAR, level VARCHAR)")
            self._insert_planned(con, plan, [r.run_id for r in plan.runs])
        finally:
            con.close()
        os.replace(tmp, self.db)
        _write_text(self.folder / SPEC, spec_yaml)
        self.write_status()

    def stored(self) -> Stored:
        con = _connect(self.db, read_only=True)
        try:
            rows = con.execute("SELECT run_id, status, fingerprint FROM runs").fetchall()
        finally:
            con.close()
        return Stored({r[0]: r[1] for r in rows}, {r[0]: r[2] for r in rows})

    def add_planned(self, plan: Plan, run_ids: list[str], spec_yaml: str) -> None:
        """Runs the spec now has that the folder lacks (more seeds, more points): add them as pending."""
        con = _connect(self.db)
        try:
            have = {r[1] for r in con.execute("PRAGMA table_info('runs')").fetchall()}
            for p in plan.parameters:
                if p not in have:
                    con.execute(f"ALTER TABLE runs ADD COLUMN {_q(p)} {_sweep_type(plan, p)}")
            if run_ids:
                self._insert_planned(con, plan, run_ids)
            positions = pd.DataFrame({"run_id": [r.run_id for r in plan.runs], "position": range(len(plan.runs))})
            con.register("_positions", positions)
            con.execute("UPDATE runs SET position = _positions.position FROM _positions WHERE runs.run_id = _positions.run_id")
            con.unregister("_positions")
        finally:
            con.close()
        _write_text(self.folder / SPEC, spec_yaml)

    @staticmethod
    def _insert_planned(con: Any, plan: Plan, run_ids: list[str]) -> None:
        wanted = set(run_ids)
        rows = []
        for position, r in enumerate(plan.runs):
            if r.run_id not in wanted:
                continue
            row = {"run_id": r.run_id, "position": position, "arm": r.arm, "point": r.point, "seed": r.seed}
            for p in plan.parameters:
                row[p] = r.values.get(p)
            row.update(status="failed" if r.error else "pending", seconds=None, error=r.error, worker=None, session=None,
                       fingerprint=r.fingerprint)  # fmt: skip
            rows.append(row)
        frame = pd.DataFrame(rows)
        for p in plan.parameters:
            if _sweep_type(plan, p) == "DOUBLE":
                frame[p] = frame[p].astype(float)
            else:
                frame[p] = frame[p].astype(str)
        frame["seed"] = frame["seed"].astype("uint64")
        for c in ("seconds",):
            frame[c] = frame[c].astype(float)
        for c in ("error", "worker"):
            frame[c] = frame[c].astype(object)
        frame["session"] = frame["session"].astype("Int32")
        con.register("_frame", frame)
        con.execute("INSERT INTO runs BY NAME SELECT * FROM _frame")
        con.unregister("_frame")

    def begin_session(self, command: list[str]) -> int:
        con = _connect(self.db)
        try:
            last = con.execute("SELECT coalesce(max(session), 0) FROM sessions").fetchone()[0]
            self.session = int(last) + 1
            con.execute("INSERT INTO sessions VALUES (?, current_timestamp, ?, 0)", [self.session, json.dumps(command)])
        finally:
            con.close()
        return self.session

    # ---------------------------------------------------------------- writing results
    def add(self, outcome: RunOutcome, every: float = 1.0) -> None:
        """Buffer a finished run; write the buffer when it is ``every`` seconds old."""
        self.buffer.append((outcome, self.session))
        if time.monotonic() - self.last_flush >= every:
            self.flush()

    def flush(self) -> None:
        """Write buffered runs in one transaction (all or none of them)."""
        if not self.buffer:
            self.last_flush = time.monotonic()
            return
        con = _connect(self.db)
        try:
            con.execute("BEGIN TRANSACTION")
            summaries = []
            dailies = []
            for outcome, session in self.buffer:
                con.execute(
                    "UPDATE runs SET status = ?, seconds = ?, error = ?, worker = ?, session = ? WHERE run_id = ?",
                    ["ok" if outcome.ok else "failed", outcome.seconds, outcome.error, outcome.worker, session, outcome.run_id],
                )
                if outcome.ok:
                    con.execute("DELETE FROM summary WHERE run_id = ?", [outcome.run_id])
                    con.execute("DELETE FROM daily WHERE run_id = ?", [outcome.run_id])
                    summaries.append({"run_id": outcome.run_id, **outcome.summary})
                    if outcome.daily is not None and len(outcome.daily):
                        d = outcome.daily.copy()
                        d.insert(0, "run_id", outcome.run_id)
                        dailies.append(d)
            if summaries:
                self._append(con, "summary", pd.DataFrame(summaries), ID_COLUMNS)
            if dailies:
                self._append(con, "daily", pd.concat(dailies, ignore_index=True), DAILY_IDS)
            ses = sum(1 for _, s in self.buffer if s == self.session)
            con.execute("UPDATE sessions SET executed = executed + ? WHERE session = ?", [ses, self.session])
            con.execute("COMMIT")
            self.write_status(con)
        except BaseException:
            try:
                con.execute("ROLLBACK")
            except Exception:  # noqa: BLE001 - the connection may already be gone
                pass
            raise
        finally:
            con.close()
        self.buffer.clear()
        self.last_flush = time.monotonic()

    @staticmethod
    def _append(con: Any, table: str, frame: pd.DataFrame, ids: list[str]) -> None:
        have = {r[1] for r in con.execute(f"PRAGMA table_info('{table}')").fetchall()}
        for col in frame.columns:
            if col in ids:
                continue
            frame[col] = pd.to_numeric(frame[col], errors="coerce").astype(float)
            if col not in have:
                con.execute(f"ALTER TABLE {table} ADD COLUMN {_q(col)} DOUBLE")
        con.register("_frame", frame)
        con.execute(f"INSERT INTO {table} BY NAME SELECT * FROM _frame")
        con.unregister("_frame")

    def write_status(self, con: Any = None) -> dict[str, int]:
        """Write status.json from the runs table (through ``con`` when the caller holds the database open)."""
        if con is None:
            con = _connect(self.db, read_only=True)
            try:
                return self.write_status(con)
            finally:
                con.close()
        counts = dict(con.execute("SELECT status, count(*) FROM runs GROUP BY status").fetchall())
        self.counts = {k: int(counts.get(k, 0)) for k in ("ok", "failed", "pending")}
        info = {**self.counts, "total": sum(self.counts.values()), "updated": time.strftime("%Y-%m-%dT%H:%M:%S"),
                "session": self.session}  # fmt: skip
        _write_text(self.folder / STATUS, json.dumps(info, indent=1))
        return self.counts

    # ---------------------------------------------------------------- reading
    def read(self) -> dict[str, pd.DataFrame]:
        """The tables runs, summary, daily and sessions as pandas frames, in plan order."""
        if not self.db.is_file():
            raise InputError("not an experiment folder (results.duckdb is missing)", file=str(self.folder))
        con = _connect(self.db, read_only=True)
        try:
            runs = con.execute("SELECT * FROM runs ORDER BY position").df()
            summary = con.execute("SELECT * FROM summary").df()
            daily = con.execute("SELECT * FROM daily").df()
            sessions = con.execute("SELECT * FROM sessions").df()
        except Exception as exc:  # noqa: BLE001 - a damaged database is the user's input
            import duckdb

            if isinstance(exc, duckdb.Error):
                raise InputError(f"results.duckdb is unreadable: {exc}", file=str(self.db)) from None
            raise
        finally:
            con.close()
        missing = [c for c in ("run_id", "position", "arm", "point", "seed", "status") if c not in runs.columns]
        missing += [f"daily.{c}" for c in ("run_id", "day") if c not in daily.columns]
        if missing or "run_id" not in summary.columns:
            raise InputError(f"results.duckdb lacks the columns {', '.join(missing) or 'summary.run_id'}: not an experiment "
                             "folder of this version", file=str(self.db))  # fmt: skip
        runs["seed"] = runs["seed"].astype("int64")
        runs = runs.drop(columns="position")
        rank = {rid: i for i, rid in enumerate(runs["run_id"])}
        summary = summary.assign(_o=summary["run_id"].map(rank)).sort_values("_o").drop(columns="_o").reset_index(drop=True)
        if len(daily):
            order = ["_o", "day", "cell"] if "cell" in daily.columns else ["_o", "day"]
            daily = daily.assign(_o=daily["run_id"].map(rank)).sort_values(order, kind="stable")
        daily = daily.drop(columns=["_o", "cell"], errors="ignore").reset_index(drop=True)
        return {"runs": runs, "summary": summary, "daily": daily, "sessions": sessions}


def _sweep_type(plan: Plan, parameter: str) -> str:
    values = [r.values.get(parameter) for r in plan.runs]
    numeric = all(isinstance(v, (int, float)) and not isinstance(v, bool) for v in values)
    return "DOUBLE" if numeric else "VARCHAR"


def _write_text(path: Path, text: str) -> None:
    write_atomic(path, text.encode("utf-8"))


def read_spec_yaml(folder: Path) -> str:
    try:
        return (folder / SPEC).read_text(encoding="utf-8")
    except OSError as exc:
        raise InputError(f"experiment.yaml is unreadable: {exc}", file=str(folder / SPEC)) from None


def ensure_experiment(folder: str | os.PathLike) -> Path:
    path = Path(folder)
    if not path.exists():
        raise InputError("no such experiment folder", file=str(path))
    if not is_experiment(path):
        raise InputError("not an experiment folder (experiment.yaml and results.duckdb are missing)", file=str(path),
                         hint="pass a folder written by 'socialcredit experiment' or 'socialcredit run --seeds N'")  # fmt: skip
    return path
