"""The command line under interruption, bad destinations and hostile text: exit 130 or 2 with a message,
never a traceback, nothing half-written, nothing of the user's deleted, text printed literally."""

from __future__ import annotations

import errno
import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from socialcredit import strict_json
from tests.test_cli import call

SRC = str(Path(__file__).resolve().parent.parent / "src")
ENV = dict(os.environ, PYTHONPATH=SRC + os.pathsep + os.environ.get("PYTHONPATH", ""), COLUMNS="200")
BIG = ["reference", "--persons", "3000000", "--days", "365", "--no-plot"]  # about a minute: refusals must come first


def refuse_fast(args: list[str], capsys, *needles: str) -> str:
    t0 = time.perf_counter()
    code, _, err = call(args, capsys)
    assert code == 2, err
    assert time.perf_counter() - t0 < 15, "refused only after simulating"
    assert "Traceback" not in err
    for needle in needles:
        assert needle in err, (needle, err)
    return err


def test_a_users_partial_folder_is_never_deleted(tmp_path: Path, capsys) -> None:
    mine = tmp_path / ".out.partial"
    mine.mkdir()
    (mine / "notes.txt").write_text("mine")
    refuse_fast(["run", *BIG, "--out", str(tmp_path / "out")], capsys, ".out.partial", "was not made by socialcredit")
    assert (mine / "notes.txt").read_text() == "mine"
    assert not (tmp_path / "out").exists()


def test_bad_destinations_are_refused_before_the_first_day(tmp_path: Path, capsys) -> None:
    afile = tmp_path / "afile"
    afile.write_text("x")
    refuse_fast(["run", *BIG, "--out", str(afile)], capsys, "already exists")
    refuse_fast(["run", *BIG, "--out", str(afile / "run")], capsys, "is not a folder")
    dangling = tmp_path / "dangling"
    dangling.symlink_to(tmp_path / "nowhere")
    refuse_fast(["run", *BIG, "--out", str(dangling)], capsys, "dangling")
    empty = tmp_path / "empty"
    empty.mkdir()
    link = tmp_path / "link"
    link.symlink_to(empty)
    refuse_fast(["run", *BIG, "--out", str(link)], capsys, "symbolic link")
    refuse_fast(["run", "reference", "--seeds", "2", "--out", str(afile / "exp")], capsys, "is not a folder")
    assert afile.read_text() == "x" and list(empty.iterdir()) == []


def test_a_full_disk_while_writing_leaves_nothing_half_written(tmp_path: Path, monkeypatch) -> None:
    import socialcredit as sc
    from socialcredit.errors import ResourceError
    from socialcredit.results import runfolder

    res = sc.run(sc.load("reference", persons=500, days=5))

    def full(*args, **kwargs):
        raise OSError(errno.ENOSPC, "No space left on device")

    monkeypatch.setattr(runfolder.os, "replace", full)
    with pytest.raises(ResourceError, match="No space left on device"):
        runfolder.write_results(res, tmp_path / "run")
    assert list(tmp_path.iterdir()) == []


def _interrupt(out: Path, delay: float) -> subprocess.CompletedProcess:
    proc = subprocess.Popen([sys.executable, "-m", "socialcredit.cli", "run", "reference", "--persons", "400000", "--days", "250",
                             "--out", str(out)], env=ENV, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)  # fmt: skip
    time.sleep(delay)
    proc.send_signal(signal.SIGINT)
    stdout, stderr = proc.communicate(timeout=300)
    return subprocess.CompletedProcess(proc.args, proc.returncode, stdout, stderr)


@pytest.fixture(scope="module")
def kernels_of_the_interrupted_run(tmp_path_factory: pytest.TempPathFactory) -> None:
    """The interrupted run's kernels compiled beforehand: a signal inside Numba's compiler can crash the process
    (a kernel that runs in parallel only on large arrays, socialcredit/parallel.py, may not be compiled yet). Several
    days: the first is a full pass, later days compile the kernels of partial updates."""
    out = tmp_path_factory.mktemp("warm") / "run"
    subprocess.run([sys.executable, "-m", "socialcredit.cli", "run", "reference", "--persons", "400000", "--days", "10",
                    "--no-plot", "--out", str(out)], env=ENV, capture_output=True, check=True, timeout=600)  # fmt: skip


# Ctrl-C arriving while compiled code calls Python back (as Numba's compiler does while it caches a kernel): the
# callback's KeyboardInterrupt is printed and dropped, and the compiled code fails with an error of its own.
LOST_INTERRUPT = """
import ctypes, os, signal
import socialcredit.cli as cli

def app(**kwargs):
    @ctypes.CFUNCTYPE(None)
    def callback():
        os.kill(os.getpid(), signal.SIGINT)
        for _ in range(1000):  # the handler runs between bytecodes
            pass
    callback()
    raise RuntimeError("no compiled object yet")

cli.app = app
cli.main()
"""


def test_ctrl_c_lost_inside_a_callback_still_exits_130_without_a_traceback() -> None:
    done = subprocess.run([sys.executable, "-c", LOST_INTERRUPT], env=ENV, capture_output=True, text=True, timeout=120)
    assert done.returncode == 130, done.stderr
    assert "interrupted" in done.stderr
    assert "Traceback" not in done.stderr and "Exception ignored" not in done.stderr, done.stderr


def test_an_error_without_ctrl_c_still_shows_its_traceback() -> None:
    """The note of a Ctrl-C is what turns an error into an interruption: without one, errors stay errors."""
    script = LOST_INTERRUPT.replace("os.kill(os.getpid(), signal.SIGINT)", "pass")
    done = subprocess.run([sys.executable, "-c", script], env=ENV, capture_output=True, text=True, timeout=120)
    assert done.returncode == 1 and "RuntimeError: no compiled object yet" in done.stderr, done.stderr


@pytest.mark.parametrize("delay", [2.5, 4.0, 5.5])
def test_ctrl_c_exits_130_with_a_message_and_no_half_folder(tmp_path: Path, delay: float, kernels_of_the_interrupted_run: None) -> None:
    """Interrupted at several moments (building, simulating, writing): 130 and a message, or a complete run."""
    out = tmp_path / "run"
    done = _interrupt(out, delay)
    assert "Traceback" not in done.stderr, done.stderr[-3000:]
    if done.returncode in (0, -signal.SIGINT):  # the signal came after the run had finished (at exit: the default handler)
        assert (out / "run.json").exists() and "run folder:" in done.stdout, (done.returncode, done.stderr[-2000:])
    else:
        assert done.returncode == 130, done.stderr[-2000:]
        assert "interrupted" in done.stderr
        assert not out.exists() or (out / "run.json").exists()
    assert not (tmp_path / ".run.partial").exists()


def test_rulebook_text_is_printed_literally(tmp_path: Path, capsys) -> None:
    code, _, err = call(["scenarios", "copy", "reference", str(tmp_path / "evil.yaml")], capsys)
    assert code == 0, err
    path = tmp_path / "evil.yaml"
    title = '[/oops] [link=http://example.org]click[/link] \\e[31mred\\e[0m $\\\\frac{$'
    path.write_text(path.read_text().replace("title: Reference model for benchmarks", f'title: "{title}"'))
    code, out, err = call(["run", str(path), "--persons", "2000", "--days", "10", "--out", str(tmp_path / "run"), "--report"], capsys)
    assert code == 0, err
    assert "[/oops] [link=http://example.org]click[/link] ?[31mred?[0m $\\frac{$" in out
    assert "\x1b" not in out and "\x1b" not in err
    assert (tmp_path / "run" / "report.html").stat().st_size > 10000
    code, out, err = call(["summary", str(tmp_path / "run")], capsys)
    assert code == 0 and "[/oops]" in out, err


def test_json_output_is_strict_json(tmp_path: Path, capsys) -> None:
    def strict(text: str):
        return json.loads(text, parse_constant=lambda c: (_ for _ in ()).throw(ValueError(f"non-JSON token {c}")))

    assert strict(strict_json.dumps({"a": float("nan"), "b": [float("inf"), 1.5]})) == {"a": None, "b": [None, 1.5]}
    code, out, err = call(["run", "reference", "--persons", "1000", "--days", "5", "--no-plot", "--json", "--out", str(tmp_path / "r")], capsys)
    assert code == 0, err
    payload = strict(out)
    assert payload["summary"]["friends_of_blacklisted"] is None  # nobody is blacklisted after 5 days: null, not NaN
    strict((tmp_path / "r" / "run.json").read_text())


@pytest.mark.parametrize("interrupt", ["KeyboardInterrupt", "duckdb.InterruptException"])
def test_ctrl_c_while_the_database_is_written(tmp_path: Path, capsys, monkeypatch, interrupt: str) -> None:
    """Ctrl-C arriving inside DuckDB (as Python's KeyboardInterrupt or DuckDB's own exception): 130, no traceback."""
    import duckdb

    from socialcredit.results import runfolder

    real = duckdb.connect

    class Interrupting:
        def __init__(self, *args, **kwargs):
            self.con = real(*args, **kwargs)

        def __getattr__(self, name):
            return getattr(self.con, name)

        def execute(self, sql, *args):
            if sql.startswith("CREATE TABLE audit"):
                raise KeyboardInterrupt if interrupt == "KeyboardInterrupt" else duckdb.InterruptException("INTERRUPT")
            return self.con.execute(sql, *args)

    monkeypatch.setattr(duckdb, "connect", Interrupting)
    assert runfolder  # the run folder writer connects through duckdb.connect
    code, out, err = call(["run", "reference", "--persons", "1000", "--days", "3", "--no-plot", "--out", str(tmp_path / "run")], capsys)
    assert code == 130, err
    assert "interrupted" in err and "Traceback" not in err
    assert list(tmp_path.iterdir()) == []


def test_ctrl_c_inside_a_compiled_kernel(tmp_path: Path, capsys, monkeypatch) -> None:
    """Numba turns a KeyboardInterrupt raised during a kernel's call into a SystemError from it: still 130, no traceback."""
    from socialcredit.engine.stages import detect

    def interrupted(*args, **kwargs):
        try:
            raise KeyboardInterrupt
        except KeyboardInterrupt as exc:
            raise SystemError("CPUDispatcher(<function detect_kernel>) returned a result with an exception set") from exc

    monkeypatch.setattr(detect, "detect_kernel", interrupted)
    code, out, err = call(["run", "reference", "--persons", "1000", "--days", "3", "--no-plot", "--out", str(tmp_path / "run")], capsys)
    assert code == 130, err
    assert "interrupted" in err and "Traceback" not in err
    assert list(tmp_path.iterdir()) == []
