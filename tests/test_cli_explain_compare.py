"""`socialcredit explain` and `socialcredit compare` as a user meets them, and their bad inputs (exit 2, no traceback)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

import socialcredit as sc
from socialcredit.analysis.history import audited_persons, person_history
from tests.analysis.test_history import AUDITED_CITY
from tests.test_cli import assert_clean_failure, call

PERSONS, DAYS = 2000, 90


@pytest.fixture(scope="module")
def runs(tmp_path_factory) -> dict[str, Path]:
    """Three run folders of the audited city: A, B (same seed, twice the train demand) and C (another seed)."""
    root = tmp_path_factory.mktemp("runs")
    folders = {}
    for name, extra in (("a", {}), ("b", {"services.train.demand": 6}), ("c", {"simulation.seed": 2})):
        folders[name] = root / name
        sc.run(sc.load("smalltown", {**AUDITED_CITY, **extra}, persons=PERSONS, days=DAYS), out=str(folders[name]))
    return folders


@pytest.fixture(scope="module")
def res_a(runs):
    return sc.read_run(runs["a"])


def test_list_shows_the_sample_and_where_filters_it(runs, res_a, capsys) -> None:
    code, out, err = call(["explain", str(runs["a"]), "--list", "--limit", "5"], capsys)
    assert code == 0, err
    assert "1,000 of 1,000 audited persons" in out and "showing the first 5 of 1,000" in out
    assert out.count("│ ") >= 5 * 8  # five rows of eight columns
    where = "blacklisted and group == 'minority'"
    code, out, err = call(["explain", str(runs["a"]), "--where", where, "--json", "--limit", "1000"], capsys)
    assert code == 0, err
    got = json.loads(out)
    table = audited_persons(res_a)
    expected = table[table["blacklisted"] & (table["group"] == "minority")]["person"].tolist()
    assert 0 < len(expected) and got["count"] == len(expected)
    assert [p["person"] for p in got["persons"]] == expected and got["sampled"] == len(table)


def test_person_history_table_and_plot(runs, res_a, capsys) -> None:
    table = audited_persons(res_a)
    person = int(table[(table["false_records"] > 0) & table["blacklisted"]]["person"].iloc[0])
    code, out, err = call(["explain", str(runs["a"]), "--person", str(person)], capsys)
    assert code == 0, err
    assert f"person {person}" in out and "FALSE record" in out and "blacklisted" in out
    assert (runs["a"] / "figures" / f"person-{person}.png").stat().st_size > 5000
    code, out, err = call(["explain", str(runs["a"]), "--person", str(person), "--json", "--no-plot"], capsys)
    assert code == 0, err
    got = json.loads(out)
    assert got["figure"] is None and got["person"]["person"] == person
    history = person_history(res_a, person)
    assert [e["day"] for e in got["events"]] == history["day"].tolist()
    assert [e["what"] for e in got["events"]] == history["what"].tolist()
    elsewhere = runs["a"].parent / "plots" / "one.png"
    code, out, err = call(["explain", str(runs["a"]), "--person", str(person), "--plot", str(elsewhere)], capsys)
    assert code == 0, err
    assert elsewhere.stat().st_size > 5000 and f"figure: {elsewhere}" in out


def test_compare_same_design_gives_paired_differences(runs, capsys) -> None:
    code, out, err = call(["compare", str(runs["a"]), str(runs["b"])], capsys)
    assert code == 0, err
    assert "train.denied" in out and "same design" in out and "paired differences" in out and "SE paired" in out
    code, out, err = call(["compare", str(runs["a"]), str(runs["b"]), "--json"], capsys)
    got = json.loads(out)
    assert got["same_design"] is True and got["design_differences"] == []
    paired = {r["measure"]: r for r in got["paired"]}
    assert paired["train.denied"]["mean_difference"] > 0
    assert paired["blacklisted"]["se_paired"] < paired["blacklisted"]["se_unpaired"]


def test_compare_another_seed_says_why_and_gives_only_the_side_by_side(runs, capsys) -> None:
    code, out, err = call(["compare", str(runs["a"]), str(runs["c"])], capsys)
    assert code == 0, err
    assert "not the same design" in out and "seed differs (1 vs 2)" in out and "SE paired" not in out
    code, out, err = call(["compare", str(runs["a"]), str(runs["c"]), "--json"], capsys)
    got = json.loads(out)
    assert got["same_design"] is False and got["paired"] is None and got["design_differences"] == ["seed differs (1 vs 2)"]


def test_an_unknown_person_exits_2_with_the_sample(runs, res_a, capsys) -> None:
    sampled = audited_persons(res_a)["person"]
    outside = min(set(range(PERSONS)) - set(sampled))
    code, _, err = call(["explain", str(runs["a"]), "--person", str(outside)], capsys)
    needles = (f"person {outside} is not in the audit sample", f"{len(sampled):,} of {PERSONS:,}", str(sampled.iloc[0]), "--list")
    assert_clean_failure(code, err, *needles)


def test_a_bad_filter_exits_2_pointing_at_the_column(runs, capsys) -> None:
    code, _, err = call(["explain", str(runs["a"]), "--where", "blacklisted and tier_end <= 'Q'"], capsys)
    assert_clean_failure(code, err, "bad condition (column 29)", "'Q' is not a level of 'tier_end'", "fields: person, region")
    code, _, err = call(["explain", str(runs["a"]), "--where", "blacklisted an"], capsys)
    assert_clean_failure(code, err, "bad condition", "fields:")


def test_missing_folders_and_conflicting_options_exit_2(runs, tmp_path, capsys) -> None:
    missing = tmp_path / "no-such-run"
    code, _, err = call(["explain", str(missing), "--list"], capsys)
    assert_clean_failure(code, err, "no such run folder", str(missing))
    code, _, err = call(["compare", str(runs["a"]), str(missing)], capsys)
    assert_clean_failure(code, err, "no such run folder", str(missing))
    not_a_run = tmp_path / "empty"
    not_a_run.mkdir()
    code, _, err = call(["compare", str(not_a_run), str(runs["a"])], capsys)
    assert_clean_failure(code, err, "not a complete run folder")
    code, _, err = call(["explain", str(runs["a"]), "--person", "1", "--list"], capsys)
    assert_clean_failure(code, err, "give one or the other")
