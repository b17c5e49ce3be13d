"""What the dashboard runs: paired runs under common random numbers, uploads, ensembles' specs, take-away files."""

from __future__ import annotations

from pathlib import Path

import pytest

from socialcredit.dashboard.levers import levers
from socialcredit.dashboard.panels import key_table
from socialcredit.dashboard.report import report_page
from socialcredit.dashboard.runs import BASELINE_CONTROL, Source, changed_rulebook, ensemble_spec, run_pair
from socialcredit.errors import InputError, SocialCreditError
from socialcredit.rulebook import load_rulebook

SIZE = {"population.persons": 3000, "simulation.days": 60}
COVERAGE = {f"detection.channels.camera.coverage.{r}": 1.0 for r in ("old_town", "new_district", "villages")}


@pytest.fixture(scope="module")
def pair():
    """smalltown with cameras everywhere, beside the unchanged rulebook."""
    return run_pair(Source.scenario("smalltown"), SIZE, COVERAGE, seed=3)


def test_an_unchanged_run_is_its_baseline_exactly() -> None:
    base, run = run_pair(Source.scenario("smalltown"), SIZE, {}, seed=3)
    table = key_table(base, run)
    assert table.attrs["same_design"]
    assert (table["difference"].fillna(0) == 0).all()


def test_more_camera_coverage_gives_more_records_and_the_pair_shares_its_design(pair) -> None:
    base, run = pair
    table = key_table(base, run).set_index("key")
    assert table.attrs["same_design"]
    # camera coverage rises from 0.7 / 0.5 / 0.15 to 1 everywhere: camera records rise by about half at least
    assert table.loc["records_true", "changed"] > 1.3 * table.loc["records_true", "baseline"]
    # under common random numbers the behaviour that nobody responds to is the same: attempts at services do not move
    assert table.loc["flight.attempts", "changed"] == table.loc["flight.attempts", "baseline"]


def test_the_control_baseline_is_the_society_without_scoring() -> None:
    base, run = run_pair(Source.scenario("rongcheng"), SIZE, {}, seed=3, baseline=BASELINE_CONTROL)
    assert base.meta["scenario"] == "control" and run.meta["scenario"] == "rongcheng"
    assert base.summary()["blacklist_entries"] == 0
    assert key_table(base, run).attrs["same_design"]  # control keeps rongcheng's population


def test_an_uploaded_rulebook_is_checked_with_its_errors_located(tmp_path: Path) -> None:
    good = Source.upload("mine.yaml", Source.scenario("smalltown").path.read_bytes(), tmp_path)
    assert good.load().rulebook.meta.name == "smalltown"
    bad_text = Source.scenario("smalltown").path.read_text().replace("coverage: 0.9", "coverage: 9", 1)
    bad = Source.upload("bad.yaml", bad_text.encode(), tmp_path)
    with pytest.raises(SocialCreditError) as exc:
        bad.load()
    message = str(exc.value)
    line = next(i for i, x in enumerate(bad_text.splitlines(), 1) if "coverage: 9" in x)
    assert "bad.yaml" in message and f":{line}:" in message and "9" in message
    with pytest.raises(InputError, match="a rulebook is a .yaml file"):
        Source.upload("notes.txt", b"x", tmp_path)
    with pytest.raises(SocialCreditError):  # not YAML at all: our own error, never a parser's traceback
        Source.upload("junk.yaml", b"{: [", tmp_path).load()


def test_an_ensemble_is_an_experiment_of_two_arms_with_the_same_seeds() -> None:
    spec = ensemble_spec(Source.scenario("smalltown"), SIZE, COVERAGE, 3, BASELINE_CONTROL)
    assert spec["seeds"] == {"first": 1, "count": 3} and spec["persons"] == 3000 and spec["days"] == 60
    assert spec["arms"] == [{"name": "baseline", "scenario": "control"}, {"name": "changed", "set": COVERAGE}]
    with pytest.raises(InputError, match="2 to 10 seeds"):
        ensemble_spec(Source.scenario("smalltown"), SIZE, {}, 11, BASELINE_CONTROL)


def test_the_rulebook_to_take_away_has_the_changed_values_and_its_comments(tmp_path: Path) -> None:
    source = Source.scenario("smalltown")
    was = {lv.key: lv.value for lv in levers(source.load())}
    changed = {**COVERAGE, "institutions.transparency": "secret", "institutions.appeals.probability": 0.3}
    text = changed_rulebook(source, changed, was)
    assert text.startswith("# Changed on the socialcredit dashboard from scenario smalltown:")
    assert "#   detection.channels.camera.coverage.villages: 0.15 -> 1.0" in text
    assert "# A small city" not in source.path.read_text() or "Numbers carry `source:`" in text  # the file's own comments stay
    path = tmp_path / "changed.yaml"
    path.write_text(text)
    rb = load_rulebook(path).rulebook
    assert rb.detection.channels["camera"].coverage == {"old_town": 1.0, "new_district": 1.0, "villages": 1.0}
    assert rb.institutions.transparency == "secret" and rb.institutions.appeals.probability == 0.3
    assert changed_rulebook(source, {}, was) == source.path.read_text()


def test_the_report_to_take_away_leads_with_the_changes_and_the_comparison(pair) -> None:
    base, run = pair
    page = report_page(base, run, COVERAGE, {k: 0.5 for k in COVERAGE}, "the unchanged rulebook")
    assert "Changed on the dashboard" in page and "detection.channels.camera.coverage.villages" in page
    assert "Against the baseline (the unchanged rulebook" in page and "true records (over the run)" in page
    assert page.count("data:image/png;base64,") >= 4  # the report's own figures, embedded


def test_a_port_in_use_is_refused_with_a_clear_message() -> None:
    import socket
    import subprocess
    import sys

    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        r = subprocess.run([sys.executable, "-m", "socialcredit.cli", "dashboard", "--port", str(port), "--no-browser"],
                           capture_output=True, text=True, timeout=60)  # fmt: skip
    assert r.returncode == 2 and "Traceback" not in r.stderr
    assert f"cannot listen on 127.0.0.1:{port}" in r.stderr and "choose another --port" in r.stderr


def test_the_server_is_started_offline_on_127_0_0_1() -> None:
    from socialcredit.dashboard.server import command

    line = " ".join(command(8501, browser=False))
    for option in ("--server.address 127.0.0.1", "--browser.gatherUsageStats false", "--client.showErrorDetails none",
                   "--server.headless true"):  # fmt: skip
        assert option in line


def test_threads_per_simulation_reach_the_server_through_its_environment() -> None:
    import subprocess
    import sys

    from socialcredit.dashboard.server import environment

    code = "import socialcredit.dashboard.runs as r; print(r.THREADS)"
    for threads in (1, 3):
        got = subprocess.run([sys.executable, "-c", code], env=environment(threads), capture_output=True, text=True, check=True)
        assert got.stdout.strip() == str(threads)


def test_writing_values_into_a_rulebook_executes_nothing_it_holds(tmp_path: Path) -> None:
    from socialcredit.rulebook.rewrite import set_values

    marker = tmp_path / "ran"
    text = Source.scenario("smalltown").path.read_text() + f'\nextra: !!python/object/apply:os.system ["touch {marker}"]\n'
    out = set_values(text, {"institutions.transparency": "secret"}, "changed")
    assert not marker.exists() and "!!python/object/apply:os.system" in out  # kept as a tagged scalar, never run
    bomb = "a: &a [x, x, x, x, x, x, x, x, x]\n" + "".join(f"{c}: &{c} [*{p}, *{p}, *{p}, *{p}, *{p}, *{p}, *{p}, *{p}, *{p}]\n"
                                                       for p, c in zip("abcdefgh", "bcdefghi"))  # fmt: skip
    with pytest.raises(SocialCreditError):  # the rulebook's own limits: refused with a message, not expanded
        set_values(bomb, {"a": 1}, "changed")
