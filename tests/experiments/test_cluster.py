"""The executor on real Dask clusters: one worker, two workers, an external scheduler with its worker,
a worker killed mid-experiment and the client killed mid-experiment all give the same tables."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import psutil
import pytest

from tests.experiments.conftest import ENV, SMALL, assert_same_tables, cli, tables, write_spec

#: longer runs for the kill tests, so that a kill lands while runs are in flight
# runs long enough that a client killed after three of twelve cannot have finished them all in the meantime
# (3,000 persons for 150 days became too quick once the day got faster; at 6,000 persons status.json, written
# once a second, went from 1 to 12 stored runs in one step; at 50,000 it shows several steps between)
LONG = {**SMALL, "name": "long", "persons": 50_000, "days": 300, "seeds": 6}


def _run_on_two_workers(tmp_path_factory, data: dict) -> Path:
    """The experiment on a local cluster of two workers: the tables every other execution must equal."""
    folder = tmp_path_factory.mktemp(data["name"])
    spec = write_spec(folder, data)
    done = cli("experiment", str(spec), "--out", str(folder / "exp"), "--workers", "2", "--json")
    assert done.returncode == 0, done.stderr[-3000:]
    return folder / "exp"


@pytest.fixture(scope="module")
def reference(tmp_path_factory) -> Path:
    return _run_on_two_workers(tmp_path_factory, SMALL)


@pytest.fixture(scope="module")
def long_reference(tmp_path_factory) -> Path:
    return _run_on_two_workers(tmp_path_factory, LONG)


def test_one_worker_gives_the_tables_of_two(reference: Path, tmp_path: Path) -> None:
    spec = write_spec(tmp_path, SMALL)
    done = cli("experiment", str(spec), "--out", str(tmp_path / "exp"), "--workers", "1", "--json")
    assert done.returncode == 0, done.stderr[-3000:]
    payload = json.loads(done.stdout)
    assert payload["session"]["executed"] == 6 and payload["session"]["cluster"].startswith("a local cluster: 1 worker")
    assert_same_tables(reference, tmp_path / "exp")


def _start(args: list[str]) -> subprocess.Popen:
    return subprocess.Popen([sys.executable, "-m", *args], env=ENV, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                            start_new_session=True)  # fmt: skip


def _stop(proc: subprocess.Popen) -> None:
    if proc.poll() is None:
        os.killpg(proc.pid, signal.SIGTERM)
        try:
            proc.wait(timeout=20)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait()


def test_an_external_cluster_gives_the_same_tables(reference: Path, tmp_path: Path) -> None:
    """A real 'dask scheduler' and 'dask worker' on 127.0.0.1, started as separate processes."""
    sched_file = tmp_path / "scheduler.json"
    scheduler = _start(["distributed.cli.dask_scheduler", "--host", "127.0.0.1", "--port", "0", "--no-dashboard",
                        "--scheduler-file", str(sched_file)])  # fmt: skip
    worker = None
    try:
        deadline = time.monotonic() + 60
        while not sched_file.exists() and time.monotonic() < deadline:
            time.sleep(0.1)
        address = json.loads(sched_file.read_text())["address"]
        assert address.startswith("tcp://127.0.0.1:")
        worker = _start(["distributed.cli.dask_worker", address, "--nthreads", "1", "--nworkers", "1", "--host", "127.0.0.1",
                         "--no-dashboard"])  # fmt: skip
        spec = write_spec(tmp_path, SMALL)
        done = cli("experiment", str(spec), "--out", str(tmp_path / "exp"), "--scheduler", address, "--json")
        assert done.returncode == 0, done.stderr[-3000:]
        payload = json.loads(done.stdout)
        assert payload["session"]["cluster"].startswith(f"the cluster at {address}")
        assert_same_tables(reference, tmp_path / "exp")
        workers = set(tables(tmp_path / "exp")["runs"]["status"])
        assert workers == {"ok"}
    finally:
        if worker is not None:
            _stop(worker)
        _stop(scheduler)


def test_an_unreachable_scheduler_is_a_clean_error(tmp_path: Path) -> None:
    spec = write_spec(tmp_path, {**SMALL, "seeds": 1})
    done = cli("experiment", str(spec), "--out", str(tmp_path / "exp"), "--scheduler", "tcp://127.0.0.1:9", timeout=120)
    assert done.returncode == 2, done.stderr[-2000:]
    assert "cannot reach the Dask scheduler at tcp://127.0.0.1:9" in done.stderr and "Traceback" not in done.stderr


def _wait_for(folder: Path, proc: subprocess.Popen, finished: int, timeout: float = 300) -> dict:
    """Wait until the experiment folder reports ``finished`` stored runs (status.json); returns it."""
    deadline = time.monotonic() + timeout
    status = folder / "status.json"
    while time.monotonic() < deadline:
        assert proc.poll() is None, "the experiment ended before the test could interfere"
        if status.exists():
            try:
                info = json.loads(status.read_text())
            except json.JSONDecodeError:  # pragma: no cover - written atomically
                info = {}
            if info.get("ok", 0) >= finished:
                return info
        time.sleep(0.05)
    raise AssertionError("the experiment did not progress")


def _spawned_workers(pid: int) -> list[psutil.Process]:
    found = []
    for child in psutil.Process(pid).children(recursive=True):
        try:
            if "spawn_main" in " ".join(child.cmdline()):
                found.append(child)
        except psutil.NoSuchProcess:
            continue
    return found


def test_a_killed_worker_does_not_change_the_results(long_reference: Path, tmp_path: Path) -> None:
    spec = write_spec(tmp_path, LONG)
    folder = tmp_path / "exp"
    proc = subprocess.Popen([sys.executable, "-m", "socialcredit.cli", "experiment", str(spec), "--out", str(folder),
                             "--workers", "2", "--json"], env=ENV, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)  # fmt: skip
    try:
        _wait_for(folder, proc, finished=2)
        workers = _spawned_workers(proc.pid)
        assert len(workers) >= 2, [w.cmdline() for w in workers]
        os.kill(workers[0].pid, signal.SIGKILL)
        stdout, stderr = proc.communicate(timeout=600)
    finally:
        if proc.poll() is None:
            proc.kill()
    assert proc.returncode == 0, stderr[-3000:]
    payload = json.loads(stdout)
    failed = tables(folder)["runs"].query("status != 'ok'")[["run_id", "error"]].to_dict("records")
    assert payload["status"]["ok"] == 12 and payload["status"]["failed"] == 0, failed
    assert_same_tables(long_reference, folder)


def test_a_sigkilled_client_resumes_running_only_the_missing_runs(long_reference: Path, tmp_path: Path) -> None:
    spec = write_spec(tmp_path, LONG)
    folder = tmp_path / "exp"
    proc = subprocess.Popen([sys.executable, "-m", "socialcredit.cli", "experiment", str(spec), "--out", str(folder),
                             "--workers", "2", "--json"], env=ENV, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)  # fmt: skip
    try:
        info = _wait_for(folder, proc, finished=3)
        workers = _spawned_workers(proc.pid)
        os.kill(proc.pid, signal.SIGKILL)  # the client only: its workers are orphaned
        proc.wait()
    finally:
        if proc.poll() is None:
            proc.kill()
    assert proc.returncode == -signal.SIGKILL
    stored = tables(folder)["runs"]
    done_before = int((stored["status"] == "ok").sum())
    assert info["ok"] <= done_before < 12, done_before
    gone = psutil.wait_procs(workers, timeout=30)[1]
    assert not gone, "the killed client's worker processes outlived it"
    again = cli("experiment", str(spec), "--out", str(folder), "--workers", "2", "--json")
    assert again.returncode == 0, again.stderr[-3000:]
    payload = json.loads(again.stdout)
    assert payload["session"]["already_stored"] == done_before
    assert payload["session"]["executed"] == 12 - done_before
    sessions = read_sessions(folder)
    assert list(sessions["executed"]) == [done_before, 12 - done_before]
    assert_same_tables(long_reference, folder)


def read_sessions(folder: Path):
    from socialcredit.experiments import read_experiment

    return read_experiment(folder).sessions.sort_values("session")
