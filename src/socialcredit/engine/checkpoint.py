"""Checkpoints: the full state of a run on disk, so a killed run can continue.

A checkpoint is the whole :class:`~socialcredit.engine.sim.Sim` pickled at the
end of a day: the state arrays, the record log and pending records, appeals
in flight, the recorder's tables so far and the audit trail. Random numbers
are counter-based (a hash of seed, stream, day and person), so a run resumed
from day ``d`` draws exactly what the uninterrupted run drew: the results are
identical.

Layout inside the run folder, while the run is unfinished::

    RUN_DIR/checkpoint/settings.json   how the run was started (command options, version)
    RUN_DIR/checkpoint/rulebook.yaml   the exact rulebook (to restart when no state exists yet)
    RUN_DIR/checkpoint/state.pkl       the latest complete state

``state.pkl`` is written to a temporary file, flushed to disk and renamed
over the previous one, so a kill at any moment (even SIGKILL mid-write)
leaves the previous checkpoint intact. The folder is removed when the run
folder is complete.

A checkpoint is a Python pickle: load only checkpoints your own runs wrote.
"""

from __future__ import annotations

import json
import os
import pickle
from pathlib import Path
from typing import TYPE_CHECKING, Any

from socialcredit.errors import InputError
from socialcredit.results.runfolder import read_json, write_atomic

if TYPE_CHECKING:
    from socialcredit.engine.sim import Sim

FOLDER = "checkpoint"
STATE = "state.pkl"
SETTINGS = "settings.json"
RULEBOOK = "rulebook.yaml"


def folder(run_dir: str | os.PathLike) -> Path:
    return Path(run_dir) / FOLDER


def has_checkpoint(run_dir: str | os.PathLike) -> bool:
    """Whether ``run_dir`` holds an unfinished run that ``socialcredit resume`` can continue."""
    return (folder(run_dir) / SETTINGS).exists()


# The layout of the pickled simulation. Bump it whenever the engine's state changes shape (new
# arrays, other dtypes), so that an older checkpoint is refused with a message, not a crash mid-run.
STATE_FORMAT = 2  # 2: the picks scratch of engine.collect, audit rows kept as given, integer degree partials


def start(run_dir: str | os.PathLike, settings: dict[str, Any], rulebook_yaml: str) -> Path:
    """Create the checkpoint folder of a new run with its settings and rulebook."""
    from socialcredit import __version__

    path = folder(run_dir)
    path.mkdir(parents=True, exist_ok=True)
    write_atomic(path / RULEBOOK, rulebook_yaml.encode("utf-8"))
    write_atomic(path / SETTINGS, json.dumps({**settings, "version": __version__, "state_format": STATE_FORMAT}, indent=2, default=str).encode("utf-8"))
    return path


def save(sim: "Sim", run_dir: str | os.PathLike) -> Path:
    """Write the state at the end of the current day, atomically."""
    path = folder(run_dir) / STATE
    write_atomic(path, write=lambda fh: pickle.dump(sim, fh, protocol=pickle.HIGHEST_PROTOCOL))
    return path


def read_settings(run_dir: str | os.PathLike) -> dict[str, Any]:
    """The settings of an unfinished run, or an InputError saying what the folder is instead."""
    from socialcredit import __version__

    run_dir = Path(run_dir)
    path = folder(run_dir) / SETTINGS
    if not run_dir.is_dir():
        raise InputError("no such run folder", file=str(run_dir))
    if not path.exists():
        if (run_dir / "run.json").exists():
            raise InputError("this run is complete; there is nothing to resume", file=str(run_dir))
        raise InputError(
            "no checkpoint in this folder",
            file=str(run_dir),
            hint="only runs started with --checkpoint-every DAYS can be resumed",
        )
    settings = read_json(path, "the checkpoint settings")
    if settings.get("version") != __version__:
        raise InputError(
            f"the checkpoint was written by socialcredit {settings.get('version')}; this is {__version__}",
            file=str(path),
            hint="resume with the version that started the run",
        )
    if settings.get("state_format", 1) != STATE_FORMAT:
        raise InputError(
            f"the checkpoint's state has format {settings.get('state_format', 1)}; this version reads format {STATE_FORMAT}",
            file=str(path),
            hint="resume with the version (or commit) that started the run, or start the run again",
        )
    return settings


def load(run_dir: str | os.PathLike) -> "Sim | None":
    """The latest saved state of an unfinished run, or None when no day was checkpointed yet."""
    path = folder(run_dir) / STATE
    if not path.exists():
        return None
    try:
        with open(path, "rb") as fh:
            sim = pickle.load(fh)
    except Exception as exc:  # a truncated or foreign file: say so instead of a traceback
        raise InputError(f"the checkpoint state is unreadable ({type(exc).__name__}: {exc})", file=str(path)) from None
    if sim.threads:
        import numba

        numba.set_num_threads(min(int(sim.threads), numba.config.NUMBA_NUM_THREADS))
    return sim


def remove(run_dir: str | os.PathLike) -> None:
    import shutil

    shutil.rmtree(folder(run_dir), ignore_errors=True)
