"""Running experiments end to end: a run of an experiment equals 'socialcredit run' with the same rulebook
and seed; reruns complete what is missing and refuse specs that would change finished runs; Ctrl-C stops
cleanly; status, summary and report read experiment folders."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pandas as pd
import pytest

import socialcredit as sc
from socialcredit.experiments import read_experiment
from socialcredit.results.reader import read_results
from tests.experiments.conftest import ENV, SMALL, cli, write_spec
from tests.test_cli import call

TINY = {**SMALL, "name": "tiny", "persons": 1500, "days": 40, "seeds": 2}


@pytest.fixture(scope="module")
def tiny(tmp_path_factory) -> Path:
    """The tiny experiment with --keep-runs and --report, on one worker."""
    folder = tmp_path_factory.mktemp("tiny")
    spec = write_spec(folder, TINY)
    done = cli("experiment", str(spec), "--out", str(folder / "exp"), "--workers", "1", "--keep-runs", "--report")
    assert done.returncode == 0, done.stderr[-3000:]
    assert "paired differences none - deterrence" in done.stdout
    return folder / "exp"


def test_a_run_of_an_experiment_equals_socialcredit_run(tiny: Path, tmp_path: Path) -> None:
    """Arm 'none', seed 2: the same rulebook and seed through 'socialcredit run' gives the identical daily table."""
    single = tmp_path / "single"
    done = cli("run", "reference", "--persons", "1500", "--days", "40", "--seed", "2", "--set",
               "responses.deterrence.elasticity=0", "--out", str(single), "--no-plot", "--json")  # fmt: skip
    assert done.returncode == 0, done.stderr[-2000:]
    expected = read_results(single).daily
    res = read_experiment(tiny)
    got = res.daily[res.daily["run_id"] == "none-s2"].drop(columns="run_id").reset_index(drop=True)
    exp = expected.copy()
    exp["breakdown"] = exp["breakdown"].astype(str)
    exp["level"] = exp["level"].astype(str)
    measures = [c for c in exp.columns if c not in ("day", "breakdown", "level")]
    exp[measures] = exp[measures].astype(float)
    assert list(got.columns) == list(exp.columns)
    pd.testing.assert_frame_equal(got, exp, check_exact=True, check_dtype=False)
    # the kept run folder is a complete run folder with the same table
    kept = read_results(tiny / "runs" / "none-s2")
    pd.testing.assert_frame_equal(kept.daily, expected, check_exact=True)
    # and the summary measures agree with the single run's summary
    summary = res.summary_table.set_index("run_id").loc["none-s2"]
    single_summary = read_results(single).summary()
    assert summary["blacklisted"] == single_summary["blacklisted"]
    assert summary["records_false"] == single_summary["records_false"]
    assert summary["tier_shares.C"] == single_summary["tier_shares"]["C"]


def test_rerunning_the_same_command_runs_nothing(tiny: Path, tmp_path: Path) -> None:
    again = cli("experiment", str(tiny.parent / "spec.yaml"), "--out", str(tiny), "--workers", "1", "--json")
    assert again.returncode == 0, again.stderr[-2000:]
    assert json.loads(again.stdout)["session"]["executed"] == 0
    assert json.loads(again.stdout)["session"]["already_stored"] == 4


def test_a_spec_that_would_change_finished_runs_is_refused(tiny: Path, capsys) -> None:
    before = (tiny / "results.duckdb").read_bytes()
    changed = write_spec(tiny.parent, {**TINY, "persons": 1600}, name="changed.yaml")
    code, _, err = call(["experiment", str(changed), "--out", str(tiny)], capsys)
    assert code == 2, err
    assert "would change the experiment already stored" in err and "persons: 1500 -> 1600" in err
    assert "Traceback" not in err
    fewer = write_spec(tiny.parent, {**TINY, "seeds": 1}, name="fewer.yaml")
    code, _, err = call(["experiment", str(fewer), "--out", str(tiny)], capsys)
    assert code == 2 and "not in this spec" in err
    assert (tiny / "results.duckdb").read_bytes() == before


def test_more_seeds_run_only_the_new_ones(tmp_path: Path) -> None:
    spec = {**TINY, "seeds": 1, "arms": TINY["arms"][:1]}
    out = tmp_path / "exp"
    first = sc.experiment(spec, out, workers=1)
    assert first.status() == {"ok": 1, "failed": 0, "pending": 0, "total": 1}
    more = sc.experiment({**spec, "seeds": 3}, out, workers=1)
    assert more.status()["ok"] == 3
    assert list(more.sessions.sort_values("session")["executed"]) == [1, 2]
    pd.testing.assert_frame_equal(first.summary_table, more.summary_table.iloc[:1][first.summary_table.columns])


def test_status_summary_and_report_on_an_experiment_folder(tiny: Path, capsys, monkeypatch) -> None:
    monkeypatch.setenv("COLUMNS", "200")
    code, out, err = call(["experiment", "status", str(tiny)], capsys)
    # the console's width is fixed when the CLI is first imported: compare the words, not where the lines break
    assert code == 0 and "complete: 4 done, 0 failed, 0 pending of 4 runs" in " ".join(out.split()), err
    code, out, err = call(["summary", str(tiny), "--json"], capsys)
    assert code == 0, err
    payload = json.loads(out)
    assert payload["arms"] == ["deterrence", "none"]
    rows = {(r["arm"], r["measure"]): r for r in payload["summary"]}
    r = rows[("none", "blacklisted")]
    assert r["n"] == 2 and r["lo"] <= r["mean"] <= r["hi"]
    diff = {d["measure"]: d for d in payload["differences"]["none - deterrence"]}["records_true"]
    assert diff["n"] == 2 and diff["se_paired"] > 0 and diff["se_unpaired"] > 0
    code, out, err = call(["summary", str(tiny)], capsys)
    assert "mean [95% interval] across 2 seed(s)" in out and "pairing gain" in out, err
    code, out, err = call(["summary", str(tiny), "--daily", "--json"], capsys)
    assert code == 0, err
    series = [r for r in json.loads(out)["series"] if r["measure"] == "blacklisted" and r["arm"] == "none"]
    assert [r["day"] for r in series] == list(range(40)) and all(r["n"] == 2 for r in series)
    code, out, err = call(["summary", str(tiny), "--daily"], capsys)
    assert "daily series, mean [95% interval] across seeds" in out, err
    page = (tiny / "report.html").read_text()
    assert page.count("data:image/png;base64,") == 2 and "Paired differences: none - deterrence" in page
    assert "<script" not in page and "http" not in page.split("<style>")[0]
    code, _, err = call(["report", str(tiny)], capsys)
    assert code == 0 and (tiny / "figures" / "series.png").stat().st_size > 5000, err


def test_the_experiment_report_in_a_real_browser(tiny: Path) -> None:
    from tests.report.test_report_browser import chromium_path

    from playwright.sync_api import sync_playwright

    problems: list[str] = []
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=chromium_path(), args=["--no-sandbox"], headless=True)
        try:
            page = browser.new_page(viewport={"width": 1280, "height": 900})
            page.on("pageerror", lambda exc: problems.append(str(exc)))
            page.route("**/*", lambda r: r.continue_() if r.request.url.startswith(("file:", "data:")) else r.abort())
            page.goto((tiny / "report.html").as_uri(), wait_until="load")
            page.wait_for_function("Array.from(document.images).every(img => img.complete)")
            widths = page.evaluate("() => Array.from(document.images).map(img => img.naturalWidth)")
            headings = page.evaluate("() => Array.from(document.querySelectorAll('h2')).map(h => h.textContent)")
        finally:
            browser.close()
    assert not problems
    assert len(widths) == 2 and min(widths) > 300
    assert "Daily series across seeds" in headings and "none against deterrence" in headings


def test_ctrl_c_stops_cleanly_and_the_same_command_finishes(tmp_path: Path) -> None:
    spec = write_spec(tmp_path, {**TINY, "persons": 3000, "days": 120, "seeds": 5})
    out = tmp_path / "exp"
    proc = subprocess.Popen([sys.executable, "-m", "socialcredit.cli", "experiment", str(spec), "--out", str(out), "--workers", "2"],
                            env=ENV, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)  # fmt: skip
    deadline = time.monotonic() + 300
    while time.monotonic() < deadline:
        status = out / "status.json"
        if status.exists() and json.loads(status.read_text()).get("ok", 0) >= 1:
            break
        assert proc.poll() is None
        time.sleep(0.05)
    os.kill(proc.pid, signal.SIGINT)
    _, stderr = proc.communicate(timeout=120)
    assert proc.returncode == 130, stderr[-2000:]
    assert "interrupted" in stderr and "run the same command again" in stderr and "Traceback" not in stderr
    stored = read_experiment(out).status()
    assert 1 <= stored["ok"] < 10
    again = cli("experiment", str(spec), "--out", str(out), "--workers", "2", "--json")
    assert again.returncode == 0, again.stderr[-2000:]
    assert json.loads(again.stdout)["session"]["executed"] == 10 - stored["ok"]


def test_python_api_tables_and_plots(tiny: Path) -> None:
    res = read_experiment(tiny)
    tidy = res.to_df("summary")
    assert {"run_id", "arm", "point", "seed", "measure", "value"} <= set(tidy.columns)
    assert len(tidy) == 4 * len(res.measures)
    daily = res.to_df("daily", polars=True)
    assert daily.height == len(res.to_df("daily"))
    wide = res.to_df("daily", tidy=False)
    assert len(wide) == len(res.daily)
    s = res.series("blacklisted")
    assert set(s["arm"]) == {"deterrence", "none"} and (s["lo"] <= s["mean"]).all()
    with pytest.raises(sc.errors.SocialCreditError, match="did you mean 'blacklisted'"):
        res.summary("blacklistd")
    with pytest.raises(sc.errors.SocialCreditError, match="no arm named"):
        res.differences("deterrence", "nope")
    fig = res.plot()
    assert len(fig.axes) >= 4


def test_arms_and_runs_keep_the_spec_order(tmp_path: Path) -> None:
    """Arms read back in the order the spec gives them (the first is what the others are compared with)."""
    spec = {**TINY, "days": 10, "seeds": [3, 1],
            "arms": [{"name": "zeta"}, {"name": "alpha", "set": {"responses.deterrence.elasticity": 0}}]}  # fmt: skip
    res = sc.experiment(spec, workers=1)
    assert res.arms == ["zeta", "alpha"]
    assert list(res.runs["run_id"]) == ["zeta-s3", "zeta-s1", "alpha-s3", "alpha-s1"]
    assert list(res.summary_table["run_id"]) == list(res.runs["run_id"])
    assert list(dict.fromkeys(res.daily["run_id"])) == list(res.runs["run_id"])


def test_a_damaged_experiment_folder_is_a_clean_error(tiny: Path, tmp_path: Path, capsys) -> None:
    bad = tmp_path / "bad"
    bad.mkdir()
    (bad / "experiment.yaml").write_text((tiny / "experiment.yaml").read_text())
    (bad / "results.duckdb").write_bytes(b"not a database")
    for args in (["summary", str(bad)], ["experiment", "status", str(bad)], ["report", str(bad)]):
        code, _, err = call(args, capsys)
        assert code == 2 and "results.duckdb" in err and "Traceback" not in err, err
    assert (bad / "results.duckdb").read_bytes() == b"not a database"
