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

import errno
import os
import shutil
import time
from pathlib import Path
from typing import Any

import pandas as pd

from socialcredit import strict_json
from socialcredit.errors import InputError, ResourceError
from socialcredit.results import checkpoint
from socialcredit.files import check_writable

TABLES = ("daily", "services", "behaviours", "audit")
OPTIONAL_TABLES = ("audit_persons", "coverage")  # absent from older run folders; coverage only with follows_findings


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

    run_dir = Path(run_dir)
    if run_dir.exists() and checkpoint.has_checkpoint(run_dir) and not resuming:
        raise InputError(
            "the output folder holds the checkpoint of an unfinished run; nothing was written",
            file=str(run_dir),
            hint=f"continue it with: socialcredit resume {run_dir}  (or choose another --out folder)",
        )
    if run_dir.is_symlink():
        what = "points nowhere (a dangling link)" if not run_dir.exists() else "is a symbolic link"
        raise InputError(f"the output path {what}; nothing was written", file=str(run_dir),
                         hint="give the path of a new folder (not a link)")  # fmt: skip
    others = [p for p in run_dir.iterdir() if not (resuming and p.name == checkpoint.FOLDER)] if run_dir.is_dir() else []
    if run_dir.exists() and (not run_dir.is_dir() or others):
        raise InputError(
            "the output folder already exists and is not empty; nothing was written",
            file=str(run_dir),
            hint="choose another --out folder, or remove this one",
        )
    check_writable(run_dir)
    tmp = partial_dir(run_dir)
    if tmp.exists() and not (tmp / PARTIAL_MARK).is_file():
        raise InputError(
            f"{tmp.name} exists beside the output folder and was not made by socialcredit; nothing was written",
            file=str(tmp),
            hint="socialcredit writes a run there before renaming it into place: move that folder away, or choose another --out",
        )


PARTIAL_MARK = ".socialcredit-partial"  # inside a .NAME.partial folder: socialcredit made it and may delete it


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


    final = Path(run_dir)
    resuming = checkpoint.has_checkpoint(final)
    check_target(final, resuming=resuming)
    tmp = partial_dir(final)
    if tmp.exists():  # left by an interrupted write of ours (check_target refused anyone else's)
        shutil.rmtree(tmp)
    tmp.mkdir(parents=True)
    (tmp / PARTIAL_MARK).write_bytes(b"")
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
        (tmp / "run.json").write_text(strict_json.dumps(info, indent=2), encoding="utf-8")
        if resuming:  # the run is complete: its checkpoint is no longer needed
            checkpoint.remove(final)
        if final.exists():  # an empty folder the user made, or the checkpoint's: replace it
            final.rmdir()
        final.parent.mkdir(parents=True, exist_ok=True)
        (tmp / PARTIAL_MARK).unlink()
        os.replace(tmp, final)
    except OSError as exc:
        shutil.rmtree(tmp, ignore_errors=True)
        if exc.errno in (errno.ENOSPC, errno.EDQUOT, errno.EROFS, errno.EACCES):
            raise ResourceError(f"{final}: the run folder could not be written ({exc.strerror}); nothing was left half-written") from None
        raise
    except duckdb.Error as exc:
        shutil.rmtree(tmp, ignore_errors=True)
        if "space" in str(exc).lower() or "disk" in str(exc).lower():
            raise ResourceError(f"{final}: the run folder could not be written ({exc}); nothing was left half-written") from None
        raise
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise
    return final
