"""The command line as a user meets it: a run, the summary again, and every kind of bad input.

Each bad input must exit with status 2, print a one-screen message naming the
place, print no traceback, and leave no run folder that looks complete.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from socialcredit import cli
from socialcredit.rulebook import scenario_path

SMALL = ["--persons", "1500", "--days", "20"]


def call(args: list[str], capsys) -> tuple[int, str, str]:
    """Run the CLI in-process; returns (exit status, stdout, stderr)."""
    old = sys.argv
    sys.argv = ["socialcredit", *args]
    code = 0
    try:
        cli.main()
    except SystemExit as exc:
        code = int(exc.code or 0)
    finally:
        sys.argv = old
    captured = capsys.readouterr()
    return code, captured.out, captured.err


def assert_clean_failure(code: int, err: str, *needles: str) -> None:
    assert code == 2, err
    assert "Traceback" not in err
    assert len(err.strip().splitlines()) <= 25, err
    for needle in needles:
        assert needle in err, (needle, err)


def assert_no_run_folder(out: Path) -> None:
    assert not out.exists()
    assert not list(out.parent.glob(f".{out.name}*"))


@pytest.fixture
def rulebook_file(tmp_path: Path) -> Path:
    path = tmp_path / "city.yaml"
    path.write_text(scenario_path("smalltown").read_text())
    return path


def edit(path: Path, old: str, new: str) -> None:
    text = path.read_text()
    assert old in text, old
    path.write_text(text.replace(old, new, 1))


def test_run_writes_a_complete_run_folder_and_summary_reads_it(tmp_path: Path, capsys) -> None:
    out = tmp_path / "run1"
    code, stdout, err = call(["run", *SMALL, "--out", str(out), "--final-state", "--profile"], capsys)
    assert code == 0, err
    for name in ("run.json", "rulebook.yaml", "results.duckdb", "final_state.parquet"):
        assert (out / name).exists(), name
    assert "records true / false" in stdout and "flight: denials (wrongful)" in stdout
    assert "time per step of the day" in stdout
    for step in ("behave", "detect", "classify", "appeal", "shaming", "perceived_risk", "unfriending", "daily"):
        assert step in stdout, step  # every step of engine.day.DAY is timed, institutions and responses one by one
    info = json.loads((out / "run.json").read_text())
    assert info["status"] == "complete" and info["meta"]["persons"] == 1500 and info["meta"]["seed"] == 1
    import duckdb

    con = duckdb.connect(str(out / "results.duckdb"), read_only=True)
    tables = {r[0] for r in con.execute("SHOW TABLES").fetchall()}
    assert {"daily", "audit", "services", "behaviours", "stage_times"} <= tables
    n_days = con.execute("SELECT count(DISTINCT day) FROM daily").fetchone()[0]
    assert n_days == 20
    con.close()
    code, stdout2, _ = call(["summary", str(out), "--json"], capsys)
    assert code == 0
    assert json.loads(stdout2) == info["summary"]
    # the exact rulebook written with the run reproduces it
    code, _, err = call(["validate", str(out / "rulebook.yaml")], capsys)
    assert code == 0, err


def test_run_json_output(tmp_path: Path, capsys) -> None:
    code, stdout, err = call(["run", *SMALL, "--out", str(tmp_path / "r"), "--json"], capsys)
    assert code == 0, err
    payload = json.loads(stdout)
    assert payload["summary"]["persons"] == 1500
    assert set(payload["summary"]["services"]) >= {"flight", "train", "loan"}


def test_validate_good_file(rulebook_file: Path, capsys) -> None:
    code, stdout, _ = call(["validate", str(rulebook_file)], capsys)
    assert code == 0 and "valid" in stdout


def test_malformed_yaml(rulebook_file: Path, tmp_path: Path, capsys) -> None:
    edit(rulebook_file, "  persons: 100000", "  persons: [100000")
    out = tmp_path / "out"
    code, _, err = call(["run", str(rulebook_file), "--out", str(out)], capsys)
    assert_clean_failure(code, err, "city.yaml:", "malformed YAML")
    assert_no_run_folder(out)


def test_unknown_key_suggests_the_nearest(rulebook_file: Path, tmp_path: Path, capsys) -> None:
    edit(rulebook_file, "  initial: 1000", "  intial: 1000")
    out = tmp_path / "out"
    code, _, err = call(["run", str(rulebook_file), "--out", str(out)], capsys)
    assert_clean_failure(code, err, "city.yaml:", "unknown key 'intial'", "did you mean 'initial'")
    assert_no_run_folder(out)


def test_wrong_type(rulebook_file: Path, capsys) -> None:
    edit(rulebook_file, "demand: 0.5,", "demand: lots,")
    code, _, err = call(["validate", str(rulebook_file)], capsys)
    assert_clean_failure(code, err, "city.yaml:", "services[flight].demand", "wrong type", "'lots'")


def test_out_of_range(rulebook_file: Path, capsys) -> None:
    edit(rulebook_file, "coverage: 0.9", "coverage: 1.9")
    code, _, err = call(["validate", str(rulebook_file)], capsys)
    assert_clean_failure(code, err, "city.yaml:", "coverage")


def test_bad_expression_names_the_column(rulebook_file: Path, capsys) -> None:
    edit(rulebook_file, 'denied_when: "blacklisted"', 'denied_when: "blacklisted and scroe < 900"')
    code, _, err = call(["validate", str(rulebook_file)], capsys)
    assert_clean_failure(code, err, "city.yaml:", "column 17", "scroe", "did you mean 'score'")


def test_missing_file_and_unknown_scenario(tmp_path: Path, capsys) -> None:
    code, _, err = call(["run", str(tmp_path / "nope.yaml"), "--out", str(tmp_path / "o")], capsys)
    assert_clean_failure(code, err, "nope.yaml", "not found")
    code, _, err = call(["run", "smalltwon"], capsys)
    assert_clean_failure(code, err, "no scenario named 'smalltwon'", "did you mean 'smalltown'")


def test_bad_override(tmp_path: Path, capsys) -> None:
    code, _, err = call(["run", "--set", "services.flite.demand=1", "--out", str(tmp_path / "o")], capsys)
    assert_clean_failure(code, err, "command line", "flite")
    code, _, err = call(["run", "--set", "population.persons=5", "--out", str(tmp_path / "o")], capsys)
    assert_clean_failure(code, err, "command line", "out of range", ">= 10")
    assert_no_run_folder(tmp_path / "o")


def test_bad_edge_list_names_the_row(tmp_path: Path, capsys) -> None:
    edges = tmp_path / "edges.csv"
    edges.write_text("source,target\n0,1\n1,2\n2,oops\n")
    out = tmp_path / "o"
    code, _, err = call(
        [
            "run", *SMALL, "--out", str(out),
            "--set", "population.network.generator=edgelist", "--set", f"population.network.path={edges}",
        ],
        capsys,
    )  # fmt: skip
    assert_clean_failure(code, err, "edges.csv", "row 4", "oops")
    assert_no_run_folder(out)


def test_existing_run_folder_is_never_overwritten(tmp_path: Path, capsys) -> None:
    out = tmp_path / "taken"
    out.mkdir()
    (out / "precious.txt").write_text("keep me")
    code, _, err = call(["run", *SMALL, "--out", str(out)], capsys)
    assert_clean_failure(code, err, "already exists")
    assert (out / "precious.txt").read_text() == "keep me"
    assert list(out.iterdir()) == [out / "precious.txt"]


def test_too_many_threads(tmp_path: Path, capsys) -> None:
    code, _, err = call(["run", *SMALL, "--threads", "999", "--out", str(tmp_path / "o")], capsys)
    assert_clean_failure(code, err, "--threads")


def test_summary_of_a_folder_that_is_not_a_run(tmp_path: Path, capsys) -> None:
    code, _, err = call(["summary", str(tmp_path)], capsys)
    assert_clean_failure(code, err, "not a complete run folder")


def test_scenarios_lists_reference_and_default(capsys) -> None:
    code, stdout, _ = call(["scenarios", "--json"], capsys)
    names = {r["name"] for r in json.loads(stdout)}
    assert {"reference", "smalltown"} <= names


def test_scenarios_show_gives_every_value_its_basis(capsys) -> None:
    code, stdout, _ = call(["scenarios", "show", "smalltown", "--json"], capsys)
    assert code == 0
    data = json.loads(stdout)
    rows = {r["key"]: r for r in data["values"]}
    assert rows["population.groups[minority].misidentification"]["basis"] == "source"
    assert rows["population.groups[minority].misidentification"]["detail"].startswith("nist8280: NIST")
    assert rows["population.regions[old_town].share"]["basis"] == "assumed"
    assert rows["simulation.days"]["basis"] == "setting"
    assert {s["id"] for s in data["meta"]["sources"]} >= {"rongcheng", "nist8280"}
    code, stdout, _ = call(["scenarios", "show", "smalltown"], capsys)
    assert code == 0 and "values sourced" in stdout and "population.regions[old_" in stdout and "nist8280" in stdout


def test_scenarios_show_of_an_unknown_name(capsys) -> None:
    code, _, err = call(["scenarios", "show", "smaltown"], capsys)
    assert_clean_failure(code, err, "unknown scenario 'smaltown'", "did you mean 'smalltown'", "reference")


def test_scenarios_copy_writes_a_runnable_copy_and_never_overwrites(tmp_path: Path, capsys) -> None:
    target = tmp_path / "mine.yaml"
    code, stdout, _ = call(["scenarios", "copy", "reference", str(target)], capsys)
    assert code == 0 and "wrote" in stdout
    assert target.read_text() == (Path(cli.__file__).parent / "scenarios" / "reference.yaml").read_text()
    code, _, _ = call(["validate", str(target)], capsys)
    assert code == 0
    target.write_text("# my edits\n")
    code, _, err = call(["scenarios", "copy", "reference", str(target)], capsys)
    assert_clean_failure(code, err, "already exists", "--force")
    assert target.read_text() == "# my edits\n"  # nothing overwritten
    code, _, _ = call(["scenarios", "copy", "reference", str(target), "--force"], capsys)
    assert code == 0 and target.read_text().startswith("#") and "reference" in target.read_text()
    code, _, err = call(["scenarios", "copy", "reference", str(tmp_path / "no" / "such.yaml")], capsys)
    assert_clean_failure(code, err, "no such folder")


def test_entry_point_in_a_real_process(tmp_path: Path) -> None:
    """The installed command: exit status and message, with no traceback, as a shell sees them."""
    proc = subprocess.run(
        [sys.executable, "-m", "socialcredit.cli", "run", "--set", "score.intial=900", "--out", str(tmp_path / "o")],
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert proc.returncode == 2
    assert "did you mean 'initial'" in proc.stderr and "Traceback" not in proc.stderr


def test_impossible_network_parameters_are_a_clean_error(tmp_path: Path, capsys) -> None:
    out = tmp_path / "o"
    args = ["run", *SMALL, "--out", str(out), "--set", "population.network.generator=scale_free",
            "--set", "population.network.mean_degree=0.5"]  # fmt: skip
    code, _, err = call(args, capsys)
    assert_clean_failure(code, err, "population.network", "mean_degree")
    assert_no_run_folder(out)


def test_a_min_on_the_last_tier_is_an_error(capsys) -> None:
    code, _, err = call(["validate", "smalltown", "--set", "tiers.D.min=500"], capsys)
    assert_clean_failure(code, err, "last tier", "omit its 'min'")


def test_a_section_check_broken_by_an_override_names_the_override(capsys) -> None:
    code, _, err = call(["validate", "smalltown", "--set", "population.regions.villages.share=0.3"], capsys)
    assert_clean_failure(code, err, "add up to 1", "--set population.regions.villages.share=0.3")


def test_unknown_option_is_a_usage_error_without_traceback() -> None:
    """Newer typer versions ship their own copy of click; its usage errors must still exit 2 cleanly."""
    import os
    import subprocess
    import sys
    from pathlib import Path

    src = str(Path(__file__).resolve().parent.parent / "src")
    env = dict(os.environ, PYTHONPATH=src)
    res = subprocess.run([sys.executable, "-m", "socialcredit.cli", "run", "--no-such-option"], capture_output=True, text=True, env=env)
    assert res.returncode == 2
    assert "No such option" in res.stderr and "Traceback" not in res.stderr
