"""Compile the parallel kernels ahead, in a background process, while a first run goes on with the serial ones.

On a cold Numba cache (a new user's first run, a new version of the
package) the day's kernels run their serial versions, which compile in about
half the time of the parallel ones (socialcredit/parallel.py). So that the
next run finds the parallel versions in the cache, :func:`start` launches,
once, a background process at low priority that runs a copy of the rulebook
at 1,000 persons for up to 60 days with the parallel versions forced
(``SOCIALCREDIT_KERNELS=parallel``): every kernel that copy calls is
compiled and cached. It writes nothing else and ends when done. A lock file
keeps to one such process at a time. ``SOCIALCREDIT_COMPILE_AHEAD=0``
switches it off (the test suite does).
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import TYPE_CHECKING

from socialcredit import parallel

if TYPE_CHECKING:
    from socialcredit.engine.sim import Sim

OFF = "SOCIALCREDIT_COMPILE_AHEAD"
PERSONS = 1000
DAYS = 60
STALE = 900  # seconds after which a lock left by a process that died no longer counts

_started = False  # at most one background process per process
process: subprocess.Popen | None = None  # the background process this process started, if any


def lock_path() -> Path:
    return Path(tempfile.gettempdir()) / f"socialcredit-compile-ahead-{os.getuid() if hasattr(os, 'getuid') else 0}.lock"


def small_copy(sim: Sim, persons: int = PERSONS, days: int = DAYS) -> dict:
    """The rulebook as data, at ``persons`` persons and at most ``days`` days."""
    data = sim.rulebook.model_dump(mode="json", exclude_none=True)
    data["population"]["persons"] = persons
    data["simulation"]["days"] = min(int(data["simulation"]["days"]), days)
    return data


def launch(module: str, lock: Path, stale: float, rulebook: dict, args: list[str], env: dict[str, str]) -> subprocess.Popen | None:
    """Start ``python -m module RULEBOOK.json *args`` in a session of its own, unless ``lock`` is younger than
    ``stale`` seconds (another such process is running). The process removes both files when done (:func:`finish`)."""
    if lock.exists() and time.time() - lock.stat().st_mtime < stale:
        return None
    fd, path = tempfile.mkstemp(prefix=f"socialcredit-{module.rsplit('.', 1)[-1].replace('_', '-')}-", suffix=".json")
    with os.fdopen(fd, "w") as f:
        json.dump(rulebook, f)
    lock.write_text(str(os.getpid()))
    env = dict(os.environ, **env, **{OFF: "0"})  # its own run starts no other process
    return subprocess.Popen(
        [sys.executable, "-m", module, path, *args],
        env=env, stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
        start_new_session=True,
    )  # fmt: skip


def finish(rulebook: str, lock: Path) -> None:
    """The launched process's last act: remove its rulebook and its lock."""
    for p in (Path(rulebook), lock):
        try:
            p.unlink()
        except OSError:
            pass


def start(sim: Sim) -> subprocess.Popen | None:
    """Launch the background process unless it is off, already done in this process, or running elsewhere."""
    global _started, process
    if _started or os.environ.get(OFF) == "0" or parallel.FORCE:
        return None
    _started = True
    try:
        process = launch("socialcredit.engine.compile_ahead", lock_path(), STALE, small_copy(sim), [sim.base_dir or ""],
                         {"SOCIALCREDIT_KERNELS": "parallel"})  # fmt: skip
        return process
    except OSError:
        return None


def main(argv: list[str]) -> int:
    """The background process: run the small copy (its kernels compile into the cache), then clean up."""
    rulebook, base_dir = argv[0], (argv[1] if len(argv) > 1 else "") or None
    try:
        if hasattr(os, "nice"):
            os.nice(10)
        from socialcredit.engine.sim import Sim
        from socialcredit.rulebook.schema import Rulebook

        with open(rulebook) as f:
            data = json.load(f)
        Sim(Rulebook.model_validate(data), base_dir=base_dir, threads=None).run()
        return 0
    except Exception:  # best effort: the next run compiles what is missing
        return 1
    finally:
        finish(rulebook, lock_path())


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
