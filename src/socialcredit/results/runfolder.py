"""The run folder: everything needed to read and reproduce a run.

```
runs/<scenario>-<timestamp>/
  run.json        seed, version, command, timings, summary (written last)
  rulebook.yaml   the exact rulebook after overrides
  results.duckdb  tables: daily, services, behaviours, audit, audit_persons, stage_times
  figures/main.png      the main series (unless --no-plot)
  final_state.parquet   (only with --final-state)
  report.html, figures/*.png   the report (socialcredit report, or run --report)
  checkpoint/     while a run started with --checkpoint-every is unfinished
```

A run is written into a hidden ``.<name>.partial`` folder next to the target
and renamed into place only when complete, so an interrupted or failed run
never leaves a folder that looks finished, and an existing folder is never
overwritten.
"""

from __future__ import annotations

import json
import os
import shutil
import time
from collections.abc import Callable
from pathlib import Path
from typing import IO, Any

import pandas as pd

from socialcredit.errors import InputError

TABLES = ("daily", "services", "behaviours", "audit")
OPTIONAL_TABLES = ("audit_persons",)  # absent from run folders written before it existed


def default_run_dir(scenario: str, root: str | os.PathLike = "runs") -> Path:
    stamp = time.strftime("%Y%m%d-%H%M%S")
    base = Path(root) / f"{scenario}-{stamp}"
    path = base
    k = 2
    while path.exists():
        path = Path(f"{base}-{k}")
        k += 1
    return path


def check_target(run_dir: Path, resuming: bool = False) -> None:
    """Refuse to write over an existing, non-empty folder (a resumed run may hold its own checkpoint)."""
    from socialcredit.engine import checkpoint

    run_dir = Path(run_dir)
    if run_dir.exists() and checkpoint.has_checkpoint(run_dir) and not resuming:
        raise InputError(
            "the output folder holds the checkpoint of an unfinished run; nothing was written",
            file=str(run_dir),
            hint=f"continue it with: socialcredit resume {run_dir}  (or choose another --out folder)",
        )
    others = [p for p in run_dir.iterdir() if not (resuming and p.name == checkpoint.FOLDER)] if run_dir.is_dir() else []
    if run_dir.exists() and (not run_dir.is_dir() or others):
        raise InputError(
            "the output folder already exists and is not empty; nothing was written",
            file=str(run_dir),
            hint="choose another --out folder, or remove this one",
        )


def write_atomic(path: Path, data: bytes | None = None, write: Callable[[IO[bytes]], None] | None = None) -> None:
    """Write a file so that it is never seen half-written: a temporary file, flushed to disk, renamed over.

    Give the bytes, or ``write`` to stream them into the open file (large
    checkpoints). A kill at any moment leaves the previous file intact.
    """
    tmp = path.with_name(path.name + ".tmp")
    try:
        with open(tmp, "wb") as fh:
            if write is not None:
                write(fh)
            else:
                fh.write(data or b"")
            fh.flush()
            os.fsync(fh.fileno())
        os.replace(tmp, path)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise
    try:  # make the rename itself durable
        dfd = os.open(path.parent, os.O_RDONLY)
        try:
            os.fsync(dfd)
        finally:
            os.close(dfd)
    except OSError:  # pragma: no cover - some filesystems refuse fsync on folders
        pass


def partial_dir(run_dir: Path) -> Path:
    return run_dir.parent / f".{run_dir.name}.partial"


def write_results(
    results,
    run_dir: str | os.PathLike,
    rulebook_yaml: str | None = None,
    extra: dict[str, Any] | None = None,
    plot: bool = False,
) -> Path:
    """Write a complete run folder atomically (temp folder, then rename)."""
    import duckdb

    from socialcredit.engine import checkpoint

    final = Path(run_dir)
    resuming = checkpoint.has_checkpoint(final)
    check_target(final, resuming=resuming)
    tmp = partial_dir(final)
    if tmp.exists():
        shutil.rmtree(tmp)
    tmp.mkdir(parents=True)
    try:
        con = duckdb.connect(str(tmp / "results.duckdb"))
        try:
            for name in TABLES:
                df = getattr(results, name)
                con.register("_frame", df)
                con.execute(f"CREATE TABLE {name} AS SELECT * FROM _frame")
                con.unregister("_frame")
            for name in OPTIONAL_TABLES:
                df = getattr(results, name)
                if df is not None:
                    con.register("_frame", df)
                    con.execute(f"CREATE TABLE {name} AS SELECT * FROM _frame")
                    con.unregister("_frame")
            st = pd.DataFrame({"stage": list(results.stage_times), "seconds": list(results.stage_times.values())})
            con.register("_frame", st)
            con.execute("CREATE TABLE stage_times AS SELECT * FROM _frame")
            con.unregister("_frame")
        finally:
            con.close()
        if rulebook_yaml is None:
            rulebook_yaml = results.rulebook_yaml
        if rulebook_yaml:
            (tmp / "rulebook.yaml").write_text(rulebook_yaml, encoding="utf-8")
        if results.final_state is not None:
            results.final_state.to_parquet(tmp / "final_state.parquet", index=False)
        if plot:
            import matplotlib.pyplot as plt

            (tmp / "figures").mkdir()
            fig = results.plot(path=str(tmp / "figures" / "main.png"))
            plt.close(fig)
        info = {
            "status": "complete",
            "meta": results.meta,
            "summary": results.summary(),
            "stage_seconds": results.stage_times,
            **(extra or {}),
        }
        (tmp / "run.json").write_text(json.dumps(info, indent=2, default=_jsonable), encoding="utf-8")
        if resuming:  # the run is complete: its checkpoint is no longer needed
            checkpoint.remove(final)
        if final.exists():  # an empty folder the user made, or the checkpoint's: replace it
            final.rmdir()
        final.parent.mkdir(parents=True, exist_ok=True)
        os.replace(tmp, final)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise
    return final


def _jsonable(x: Any) -> Any:
    try:
        import numpy as np

        if isinstance(x, np.generic):
            return x.item()
        if isinstance(x, np.ndarray):
            return x.tolist()
    except ImportError:  # pragma: no cover
        pass
    return str(x)


def read_json(path: Path, what: str) -> dict:
    """A JSON file of a run folder, or an InputError naming ``what`` is unreadable and why."""
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except (OSError, json.JSONDecodeError) as exc:
        raise InputError(f"{what} is unreadable: {exc}", file=str(path)) from None


def read_results(run_dir: str | os.PathLike):
    """Load a run folder back into a :class:`~socialcredit.results.Results`."""
    import duckdb

    from socialcredit.results import Results

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
    info = read_json(info_path, "run.json")
    con = duckdb.connect(str(db_path), read_only=True)
    try:
        frames = {name: con.execute(f"SELECT * FROM {name}").df() for name in TABLES}
        st = con.execute("SELECT * FROM stage_times").df()
        present = {r[0] for r in con.execute("SELECT table_name FROM information_schema.tables").fetchall()}
        for name in OPTIONAL_TABLES:
            frames[name] = con.execute(f"SELECT * FROM {name}").df() if name in present else None
    except duckdb.Error as exc:
        raise InputError(f"results.duckdb is unreadable: {exc}", file=str(db_path)) from None
    finally:
        con.close()
    rb_path = path / "rulebook.yaml"
    final_path = path / "final_state.parquet"
    return Results(
        daily=frames["daily"],
        services=frames["services"],
        behaviours=frames["behaviours"],
        audit=frames["audit"],
        audit_persons=frames["audit_persons"],
        meta=info.get("meta", {}),
        rulebook_yaml=rb_path.read_text(encoding="utf-8") if rb_path.exists() else None,
        final_state=pd.read_parquet(final_path) if final_path.exists() else None,
        stage_times=dict(zip(st["stage"], st["seconds"])),
    )
