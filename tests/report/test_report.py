"""The report: one self-contained HTML page with every figure, the scenario and its sources; bad input exits 2."""

from __future__ import annotations

import base64
import html
import json
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from ruamel.yaml import YAML

import socialcredit as sc
from socialcredit.analysis.behaviour import behaviour_change
from socialcredit.report import write_report
from socialcredit.report.figures import FIGURES, figures_for
from tests.report import call_cli, shared_run

URL = re.compile(r"https?://[^\s\"'<>()]+")
IMG = re.compile(r'<img [^>]*src="data:image/png;base64,([A-Za-z0-9+/=]+)"')


def figures_in(page: str) -> dict[str, str | None]:
    """Each figure section of the page -> its embedded PNG (base64), or None when it shows a note instead."""
    out = {}
    for chunk in page.split('<section id="fig-')[1:]:
        name, body = chunk.split('"', 1)
        found = IMG.search(body.split("</section>", 1)[0])
        out[name] = found.group(1) if found else None
    return out


@pytest.fixture(scope="module")
def run_dir(tmp_path_factory) -> Path:
    return shared_run(tmp_path_factory)


@pytest.fixture(scope="module")
def page(run_dir) -> str:
    return (run_dir / "report.html").read_text(encoding="utf-8")


@pytest.fixture(scope="module")
def meta(run_dir) -> dict:
    return YAML(typ="safe", pure=True).load((run_dir / "rulebook.yaml").read_text())["meta"]


def test_run_with_report_and_baseline_writes_both(run_dir):
    assert (run_dir / "report.html").stat().st_size > 0
    info = json.loads((run_dir / "baseline" / "run.json").read_text())
    assert info["status"] == "complete"
    assert "responses.deterrence.elasticity=0" in info["overrides"]
    base = sc.read_run(run_dir / "baseline")
    res = sc.read_run(run_dir)
    assert base.meta["seed"] == res.meta["seed"] == 5
    assert base.meta["persons"] == res.meta["persons"] == 2000


def test_every_figure_has_its_section_and_this_run_draws_them_all(run_dir, page):
    for spec in FIGURES:
        assert f'<section id="fig-{spec.name}">' in page, spec.name
        assert html.escape(spec.heading) in page
    shown = figures_in(page)
    expected = [spec.name for spec in figures_for(sc.read_run(run_dir))]
    assert list(shown) == expected and len(expected) > len(FIGURES)  # and the mechanisms full-system has
    assert all(shown.values())  # full-system has services, appeals, unfriending, two groups
    assert "Not shown:" not in page


def test_title_description_and_sources(page, meta):
    assert f"<h1>{html.escape(meta['title'])}</h1>" in page
    assert html.escape(" ".join(meta["description"].split())) in page
    assert meta["sources"], "the scenario lists sources"
    for src in meta["sources"]:
        assert html.escape(src["title"]) in page
        if src.get("url"):
            assert f'href="{html.escape(src["url"])}"' in page


def test_figures_are_pngs_over_5kb_and_the_same_as_embedded(run_dir, page):
    embedded = figures_in(page)
    for spec in FIGURES:
        png = (run_dir / "figures" / f"{spec.name}.png").read_bytes()
        assert png[:8] == b"\x89PNG\r\n\x1a\n"
        assert len(png) > 5_000, (spec.name, len(png))
        assert base64.b64decode(embedded[spec.name]) == png


def test_no_link_but_the_scenario_sources(page, meta):
    allowed = {src["url"] for src in meta["sources"] if src.get("url")}
    found = {html.unescape(u) for u in URL.findall(page)}
    assert found == allowed
    assert "<script" not in page and "<link" not in page and "@import" not in page


def test_summary_shows_the_effect_sizes_against_the_baseline(run_dir, page):
    change = behaviour_change(sc.read_run(run_dir), sc.read_run(run_dir / "baseline"))
    assert change["paired"].all()
    for r in change.itertuples():
        assert f"{r.effect}: {r.kind} events against the baseline" in page
        assert f"{r.events:,} vs {r.baseline_events:,} ({r.effect_size:+.1%}" in page


def test_report_command_rewrites_the_page_and_leaves_the_run_alone(run_dir, capsys):
    before = {p: p.read_bytes() for p in (run_dir / "run.json", run_dir / "results.duckdb", run_dir / "rulebook.yaml")}
    page = (run_dir / "report.html").read_bytes()
    assert call_cli(["report", str(run_dir)]) == 0
    assert "report.html" in capsys.readouterr().out
    assert (run_dir / "report.html").read_bytes() == page  # same run, same baseline: the same page
    assert {p: p.read_bytes() for p in before} == before
    assert not [p.name for p in run_dir.rglob("*.tmp")]


def test_bad_baseline_exits_2_and_keeps_the_old_report(run_dir, tmp_path, capsys):
    page = (run_dir / "report.html").read_bytes()
    code = call_cli(["report", str(run_dir), "--baseline", str(tmp_path / "nope")])
    err = capsys.readouterr().err
    assert code == 2, err
    assert "no such run folder" in err and "Traceback" not in err
    assert (run_dir / "report.html").read_bytes() == page


def test_report_on_a_missing_folder_exits_2_without_traceback(tmp_path):
    proc = subprocess.run(
        [sys.executable, "-m", "socialcredit.cli", "report", str(tmp_path / "missing")],
        capture_output=True, text=True, timeout=120,
    )  # fmt: skip
    assert proc.returncode == 2, proc.stderr
    assert "no such run folder" in proc.stderr
    assert "Traceback" not in proc.stderr


def test_report_on_an_incomplete_folder_exits_2_and_writes_nothing(tmp_path, capsys):
    half = tmp_path / "half"
    half.mkdir()
    (half / "rulebook.yaml").write_text("meta: {name: x}\n")
    code = call_cli(["report", str(half)])
    err = capsys.readouterr().err
    assert code == 2, err
    assert "not a complete run folder" in err and "Traceback" not in err
    assert sorted(p.name for p in half.iterdir()) == ["rulebook.yaml"]


def test_report_on_a_folder_without_its_rulebook_exits_2(run_dir, tmp_path, capsys):
    copy = tmp_path / "copy"
    copy.mkdir()
    for name in ("run.json", "results.duckdb"):
        shutil.copy(run_dir / name, copy / name)
    code = call_cli(["report", str(copy)])
    err = capsys.readouterr().err
    assert code == 2, err
    assert "rulebook.yaml is missing" in err and "Traceback" not in err
    assert not (copy / "report.html").exists()


def test_a_run_with_a_fixed_network_and_no_baseline(tmp_path):
    """smalltown: no unfriending (the network figure is skipped with a note) and no baseline (events by kind only)."""
    res = sc.run(sc.load("smalltown", persons=2000, days=60, seed=2))
    res.save(str(tmp_path / "small"))
    path = write_report(tmp_path / "small")
    page = path.read_text(encoding="utf-8")
    drawn = [name for name, png in figures_in(page).items() if png]
    assert "network" not in drawn
    assert not (tmp_path / "small" / "figures" / "network.png").exists()
    assert "Not shown: The friendship network did not change" in page
    assert {"scores", "tiers", "lists", "errors", "disparities", "behaviour"} <= set(drawn)
    assert "No baseline run" in page
    assert "effect_size" not in page and "against the baseline" not in page
