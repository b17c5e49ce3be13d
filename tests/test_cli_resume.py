"""Checkpoints from the command line: a run killed with SIGKILL mid-write resumes to identical results."""

from __future__ import annotations

import os
import re
import signal
import subprocess
import sys
import time
from pathlib import Path

import duckdb
import pandas as pd
import pytest

from tests.results.test_checkpoint import rewrite, state_file

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
    manifest = out / "checkpoint" / "state.json"  # exists once a complete state is saved
    deadline = time.monotonic() + 300
    try:
        while proc.poll() is None and time.monotonic() < deadline:
            if manifest.exists() and tmps(out):
                os.kill(proc.pid, signal.SIGKILL)
                break
            time.sleep(0.0005)
    finally:
        if proc.poll() is None:
            proc.kill()
        proc.wait()
    assert proc.returncode == -signal.SIGKILL, "the run ended before it could be killed"
    return bool(tmps(out))


def tmps(out: Path) -> list[Path]:
    """Temporary files of checkpoint writes under way (state files or the manifest)."""
    return list((out / "checkpoint").glob("*.tmp")) if (out / "checkpoint").exists() else []


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


# ---------------------------------------------------------------- a full-system run resumed; damaged checkpoints refused
SMALL = ["full-system", "--persons", "3000", "--days", "30", "--no-plot", "--json"]


def unfinished_run(out: Path, upto: int = 12) -> None:
    """A full-system run folder (appeals, companies, shaming, unfriending) as a run killed after day ``upto`` leaves it."""
    import socialcredit as sc
    from socialcredit.results import checkpoint
    from socialcredit.engine.sim import Sim

    rb = sc.load("full-system", persons=3000, days=30)
    settings = {
        "command": ["socialcredit", "run", *SMALL], "overrides": [], "threads": None, "profile": False, "final_state": False,
        "as_json": True, "plot": False, "checkpoint_every": 6, "base_dir": rb._base_dir, "report": False, "baseline": False,
    }  # fmt: skip
    checkpoint.start(out, settings, rb._yaml)
    sim = Sim(rb)
    sim.setup()
    for _ in range(upto):
        sim.step()
        if sim.state.day % 6 == 0:
            checkpoint.save(sim, out)


def tables(run_dir: Path) -> dict[str, pd.DataFrame]:
    con = duckdb.connect(str(run_dir / "results.duckdb"), read_only=True)
    try:
        names = [r[0] for r in con.execute("SELECT table_name FROM information_schema.tables").fetchall()]
        return {n: con.execute(f"SELECT * FROM {n}").df() for n in names if n != "stage_times"}  # timings differ
    finally:
        con.close()


def test_full_system_run_resumes_to_identical_tables(tmp_path: Path) -> None:
    unfinished_run(tmp_path / "killed")
    resumed = cli("resume", str(tmp_path / "killed"))
    assert resumed.returncode == 0, resumed.stderr[-2000:]
    whole = cli("run", *SMALL, "--out", str(tmp_path / "whole"))
    assert whole.returncode == 0, whole.stderr[-2000:]
    a, b = tables(tmp_path / "killed"), tables(tmp_path / "whole")
    assert set(a) == set(b) >= {"daily", "audit", "audit_persons", "services", "behaviours"}
    for name in a:
        pd.testing.assert_frame_equal(a[name], b[name], check_exact=True)
    # the state carried across the resume includes dropped ties and company records (appeals are too rare at this size)
    assert a["daily"]["ties_dropped_unfriending"].sum() > 0 and a["daily"]["company_records_true"].sum() > 0


def _flip_bit(run_dir: Path) -> None:
    path = state_file(run_dir)
    data = bytearray(path.read_bytes())
    data[len(data) // 2] ^= 0x01
    path.write_bytes(bytes(data))


def _truncate(run_dir: Path) -> None:
    path = state_file(run_dir)
    path.write_bytes(path.read_bytes()[:1000])


def _wrong_shapes(run_dir: Path) -> None:
    import numpy as np

    with np.load(state_file(run_dir)) as npz:
        members = {k: npz[k] for k in npz.files}
    big = next(k for k in members if k.startswith("a"))  # a large array, one member of its own
    members[big] = members[big].reshape(-1)[:-1]
    rewrite(run_dir, members)


def _object_array(run_dir: Path) -> None:
    import numpy as np

    with np.load(state_file(run_dir)) as npz:
        members = {k: npz[k] for k in npz.files}
    big = next(k for k in members if k.startswith("a"))
    members[big] = np.array([None] * members[big].size, dtype=object).reshape(members[big].shape)
    rewrite(run_dir, members)


def _older_format(run_dir: Path) -> None:
    """A checkpoint written before format 3: a pickle and settings saying format 2."""
    folder = run_dir / "checkpoint"
    for p in folder.glob("state*"):
        p.unlink()
    (folder / "state.pkl").write_bytes(b"\x80\x05N.")
    settings = folder / "settings.json"
    settings.write_text(settings.read_text().replace('"state_format": 5', '"state_format": 2'))


@pytest.mark.parametrize(
    ("damage", "message"),
    [
        (_flip_bit, "SHA-256 checksum does not match"),
        (_truncate, "truncated or damaged"),
        (lambda d: rewrite(d, {"x": __import__("numpy").arange(5)}), "no meta member"),
        (_wrong_shapes, "is .* the state says"),
        (_object_array, "Object arrays cannot be loaded"),
        (_older_format, "format 2; this version reads format 5"),
    ],
    ids=["bit-flip", "truncated", "foreign-npz", "wrong-shapes", "object-array", "older-format"],
)
def test_damaged_checkpoint_exits_2_and_writes_nothing(tmp_path: Path, damage, message: str) -> None:
    run_dir = tmp_path / "run"
    unfinished_run(run_dir, upto=6)
    damage(run_dir)
    res = cli("resume", str(run_dir))
    assert res.returncode == 2, res.stderr[-2000:]
    assert re.search(message, res.stderr) and "error" in res.stderr
    assert "Traceback" not in res.stderr and len(res.stderr.splitlines()) <= 25
    assert not (run_dir / "results.duckdb").exists() and not (run_dir / "run.json").exists()
