"""Checkpoints from the command line: a run killed with SIGKILL mid-write resumes to identical results."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import duckdb
import pandas as pd

SRC = str(Path(__file__).resolve().parent.parent / "src")
RUN = ["smalltown", "--persons", "30000", "--days", "240", "--no-plot", "--json"]


def cli(*args: str, **kwargs) -> subprocess.CompletedProcess:
    env = dict(os.environ, PYTHONPATH=SRC + os.pathsep + os.environ.get("PYTHONPATH", ""))
    return subprocess.run([sys.executable, "-m", "socialcredit.cli", *args], capture_output=True, text=True, env=env, timeout=600, **kwargs)


def daily(run_dir: Path) -> pd.DataFrame:
    con = duckdb.connect(str(run_dir / "results.duckdb"), read_only=True)
    try:
        return con.execute("SELECT * FROM daily ORDER BY day, breakdown, level").df()
    finally:
        con.close()


def kill_while_writing(out: Path) -> bool:
    """Start a checkpointed run and SIGKILL it while it writes a checkpoint (after one is complete).

    Returns whether the kill landed mid-write (a half-written temporary file was left behind).
    """
    env = dict(os.environ, PYTHONPATH=SRC + os.pathsep + os.environ.get("PYTHONPATH", ""))
    proc = subprocess.Popen(
        [sys.executable, "-m", "socialcredit.cli", "run", *RUN, "--checkpoint-every", "4", "--out", str(out)],
        env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
    )  # fmt: skip
    state = out / "checkpoint" / "state.pkl"
    tmp = out / "checkpoint" / "state.pkl.tmp"
    deadline = time.monotonic() + 300
    try:
        while proc.poll() is None and time.monotonic() < deadline:
            if state.exists() and tmp.exists():
                os.kill(proc.pid, signal.SIGKILL)
                break
            time.sleep(0.0005)
    finally:
        if proc.poll() is None:
            proc.kill()
        proc.wait()
    assert proc.returncode == -signal.SIGKILL, "the run ended before it could be killed"
    return tmp.exists()


def test_sigkilled_run_resumes_to_identical_results(tmp_path: Path) -> None:
    killed = tmp_path / "killed"
    mid_write = kill_while_writing(killed)
    assert not (killed / "run.json").exists()
    # a new run into the folder is refused and points to resume
    again = cli("run", *RUN, "--out", str(killed))
    assert again.returncode == 2 and "socialcredit resume" in again.stderr and "Traceback" not in again.stderr
    resumed = cli("resume", str(killed))
    assert resumed.returncode == 0, resumed.stderr[-2000:]
    whole = cli("run", *RUN, "--out", str(tmp_path / "whole"))
    assert whole.returncode == 0, whole.stderr[-2000:]
    pd.testing.assert_frame_equal(daily(killed), daily(tmp_path / "whole"), check_exact=True)
    assert not (killed / "checkpoint").exists()  # removed once the run folder is complete
    assert mid_write, "the kill did not land while a checkpoint was being written"


def test_resume_errors_are_clear(tmp_path: Path) -> None:
    missing = cli("resume", str(tmp_path / "nope"))
    assert missing.returncode == 2 and "no such run folder" in missing.stderr
    empty = cli("resume", str(tmp_path))
    assert empty.returncode == 2 and "--checkpoint-every" in empty.stderr and "Traceback" not in empty.stderr


def test_memory_guard_refuses_before_writing(tmp_path: Path) -> None:
    res = cli("run", "reference", "--persons", "1000000000", "--out", str(tmp_path / "huge"))
    assert res.returncode == 2 and "would need about" in res.stderr and "Traceback" not in res.stderr
    assert not (tmp_path / "huge").exists()
