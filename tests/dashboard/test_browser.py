"""The dashboard in a real browser (Debian's chromium through Playwright), offline and on 127.0.0.1 only."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

import psutil
from playwright.sync_api import TimeoutError as PlaywrightTimeout

import socialcredit as sc
from socialcredit.rulebook import load_rulebook, scenario_path
from tests.dashboard import page as P


def start(page, url: str) -> None:
    page.goto(url)
    page.get_by_text(P.READY).wait_for(timeout=P.TIMEOUT)


def test_the_page_works_offline_and_more_camera_coverage_gives_more_records(dashboard, browser_page) -> None:
    """With every request beyond 127.0.0.1 refused (and none attempted), no console error: a lever moved, a run,
    figures that changed in the expected direction, values on hover."""
    page, refused, errors = browser_page
    start(page, dashboard[0])
    P.small_run(page)
    P.open_section(page, "Cameras and data")
    for region in ("old_town", "new_district", "villages"):
        assert P.set_slider(page, f"camera: coverage in {region}", "1", "End") == "1"
    P.run(page, 1)
    table = P.key_table(page)
    baseline, changed = table["true records (over the run)"]
    assert changed > 1.3 * baseline  # coverage 0.7 / 0.5 / 0.15 -> 1 everywhere
    assert table["flight: attempts"][0] == table["flight: attempts"][1]  # common random numbers: demand is the same
    page.get_by_text(re.compile(r"Changed:.*detection\.channels\.camera\.coverage\.villages")).wait_for()
    P.open_tab(page, "Blacklist", "Persons on the blacklist, and those on it only because of false records")
    tip = P.hover_tooltip(page, page.locator(".vega-embed:visible .marks").first)  # anywhere: the nearest point answers
    assert "day" in tip and "share of persons (%)" in tip  # values on hover
    assert refused == [], f"the page asked for addresses beyond this machine: {refused}"
    assert errors == [], errors


def test_each_lever_shows_its_source_or_why_it_was_assumed(dashboard, browser_page) -> None:
    page, _, _ = browser_page
    start(page, dashboard[0])
    P.open_section(page, "Cameras and data")
    for lever, basis in (("misidentification of minority (x the reference)", "source: nist8280: NIST NISTIR 8280"),
                         ("camera: coverage in villages", "assumed: coverage by district density")):  # fmt: skip
        page.mouse.move(0, 0)  # away from the last tooltip
        button = P.sidebar(page).get_by_role("button", name=f"Help for {lever}")
        tip = page.get_by_text(re.compile(re.escape(basis)))
        for _ in range(20):  # the section may still be opening and move the button: hover again until it answers
            button.scroll_into_view_if_needed()
            button.hover()
            try:
                tip.wait_for(timeout=1000)
                break
            except PlaywrightTimeout:
                page.mouse.move(0, 0)
        tip.wait_for(timeout=1000)


def test_secret_rules_lower_benign_behaviour(dashboard, browser_page) -> None:
    page, _, _ = browser_page
    start(page, dashboard[0])
    P.choose(page, "scenario", "sesame")  # its benign purchases earn points: only secret rules chill them
    P.idle(page, load_rulebook("sesame").rulebook.meta.title)  # the page of the new scenario, drawn to the end
    P.small_run(page)
    P.open_section(page, "Rules and appeals")
    P.choose(page, "rules are", "secret")
    P.run(page, 1)
    baseline, changed = P.key_table(page)["benign behaviour events (over the run)"]
    assert changed < 0.97 * baseline
    P.choose(page, "scenario", "smalltown")  # another rulebook: the last run's figures are not shown as its own
    page.get_by_text("The last run was of scenario sesame. Press Run to run scenario smalltown.").wait_for()


def test_the_rulebook_and_the_report_can_be_taken_away_and_the_people_met(dashboard, browser_page, tmp_path: Path) -> None:
    page, _, _ = browser_page
    start(page, dashboard[0])
    P.small_run(page)
    P.open_section(page, "Rules and appeals")
    P.choose(page, "rules are", "secret")
    P.run(page, 1)
    with page.expect_download() as download:
        page.get_by_role("button", name="the rulebook with these values (.yaml)").click()
    path = tmp_path / "changed.yaml"
    download.value.save_as(path)
    text = path.read_text()
    assert "institutions.transparency: public -> secret" in text
    assert load_rulebook(path).rulebook.institutions.transparency == "secret"
    # the first download may rerun the page: a click during the rerun can be lost (CI once waited 240 s for it)
    page.get_by_test_id("stStatusWidget").wait_for(state="detached", timeout=P.TIMEOUT)
    with page.expect_download(timeout=P.TIMEOUT) as download:
        page.get_by_role("button", name="the report of what is on screen (.html)").click()
    report = tmp_path / "report.html"
    download.value.save_as(report)
    html = report.read_text()
    assert "Changed on the dashboard" in html and "institutions.transparency" in html and "data:image/png;base64," in html
    # the people of the run: filtered, and one person's story
    count = page.get_by_text(re.compile(r"^[\d,]+ of [\d,]+ audited persons"))
    everyone = int(count.inner_text().split()[0].replace(",", ""))
    P.choose(page, "group", "minority", where=page.get_by_test_id("stMain"))
    P.idle(page, "where group == 'minority'")
    minority = int(page.get_by_text(re.compile(r"audited persons where group == 'minority'")).inner_text().split()[0].replace(",", ""))
    assert 0 < minority < everyone / 3  # a tenth of the population
    story = page.get_by_test_id("stTable").last.inner_text()
    assert "what" in story and "details" in story and ("record" in story or "reward" in story or "score drift" in story)


def test_an_invalid_rulebook_shows_the_located_message_never_a_traceback(dashboard, browser_page, tmp_path: Path) -> None:
    page, _, _ = browser_page
    start(page, dashboard[0])
    text = scenario_path("smalltown").read_text().replace("coverage: 0.9", "coverage: 9", 1)
    line = next(i for i, x in enumerate(text.splitlines(), 1) if "coverage: 9" in x)
    bad = tmp_path / "broken.yaml"
    bad.write_text(text)
    P.sidebar(page).get_by_text("a rulebook file", exact=True).click()
    P.sidebar(page).locator("input[type=file]").set_input_files(str(bad))
    alert = page.get_by_test_id("stAlert").filter(has_text="broken.yaml")
    alert.wait_for(timeout=P.TIMEOUT)
    message = alert.inner_text()
    assert f"broken.yaml:{line}:" in message and "coverage must be between 0 and 1" in message
    assert "Traceback" not in page.content()


def test_a_run_folder_can_be_looked_at(dashboard, browser_page, tmp_path: Path) -> None:
    page, _, errors = browser_page
    sc.run("smalltown", persons=2000, days=30, out=str(tmp_path / "run"))
    start(page, dashboard[0])
    P.sidebar(page).get_by_text("a run or experiment folder", exact=True).click()
    box = P.sidebar(page).get_by_role("textbox", name="folder")
    box.fill(str(tmp_path / "run"))
    box.press("Enter")
    page.get_by_text("Run of smalltown: 2,000 persons, 30 days").wait_for(timeout=P.TIMEOUT)
    box.fill(str(tmp_path / "nothing-here"))
    box.press("Enter")
    page.get_by_test_id("stAlert").get_by_text("nothing-here").wait_for(timeout=P.TIMEOUT)
    assert errors == []


def test_a_small_ensemble_shows_bands_and_paired_intervals(dashboard, browser_page) -> None:
    page, _, _ = browser_page
    start(page, dashboard[0])
    P.small_run(page)
    page.get_by_role("spinbutton", name="seeds (1 = one run; more: an ensemble with bands)").fill("2")
    P.run(page, 1)
    page.get_by_text("2 seeds: changed minus baseline, paired by seed").wait_for()
    page.locator(".vega-embed:visible canvas, .vega-embed:visible svg").first.wait_for()
    with page.expect_download(timeout=P.TIMEOUT) as download:
        page.get_by_role("button", name="the report of what is on screen (.html)").click()
    html = Path(download.value.path()).read_text()
    assert "baseline" in html and "changed" in html and "data:image/png;base64," in html


def test_the_server_listens_on_127_0_0_1_only(dashboard) -> None:
    listening = [c for c in psutil.Process(dashboard[1]).net_connections("inet") if c.status == psutil.CONN_LISTEN]
    assert listening and {c.laddr.ip for c in listening} == {"127.0.0.1"}


def test_another_address_is_allowed_only_with_a_warning() -> None:
    from socialcredit.dashboard.server import free_port

    proc = subprocess.Popen([sys.executable, "-m", "socialcredit.cli", "dashboard", "--host", "0.0.0.0", "--port", str(free_port()), "--no-browser"],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)  # fmt: skip
    try:
        line = proc.stderr.readline()
    finally:
        for child in psutil.Process(proc.pid).children(recursive=True):
            child.kill()
        proc.kill()
        proc.wait()
    assert "warning: listening on 0.0.0.0" in line and "other machines" in line
