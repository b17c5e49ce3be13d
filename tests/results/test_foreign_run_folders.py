"""Run folders from elsewhere: summary, report and explain must refuse bad ones cleanly and read nothing else.

A run folder someone sends may hold a run.json of the wrong shape or a
results.duckdb whose tables are views over local files. Each must exit with
status 2 and a message naming the file, with no traceback, and must never
read a file outside the folder.
"""

from __future__ import annotations

import json
import os
import shutil
from pathlib import Path

import duckdb
import pytest

import socialcredit as sc
from socialcredit.errors import InputError
from socialcredit.files import read_json
from socialcredit.results.reader import read_results
from tests.test_cli import assert_clean_failure, call

SECRET = "top-secret-line-7f3a"


@pytest.fixture(scope="module")
def good_run(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("foreign") / "run"
    sc.run(sc.load("reference", persons=2000, days=20)).save(out)
    return out


@pytest.fixture
def run_copy(good_run: Path, tmp_path: Path) -> Path:
    dst = tmp_path / "copy"
    shutil.copytree(good_run, dst)
    return dst


def edit_db(run: Path, *sql: str) -> None:
    con = duckdb.connect(str(run / "results.duckdb"))
    try:
        for stmt in sql:
            con.execute(stmt)
    finally:
        con.close()


def edit_info(run: Path, change) -> None:
    info = json.loads((run / "run.json").read_text())
    change(info)
    (run / "run.json").write_text(json.dumps(info))


def all_refuse(run: Path, tmp_path: Path, capsys, *needles: str) -> list[str]:
    """summary, report and explain each exit 2 with the needles in the message, no traceback, no secret."""
    errs = []
    for args in (["summary", str(run)], ["report", str(run)], ["explain", str(run), "--list"]):
        code, out, err = call(args, capsys)
        assert_clean_failure(code, err, *needles)
        assert SECRET not in out + err
        errs.append(err)
    return errs


def test_a_good_folder_still_reads(good_run: Path, capsys) -> None:
    res = read_results(good_run)
    assert res.meta["persons"] == 2000 and len(res.daily) > 0 and res.audit_persons is not None
    code, out, err = call(["summary", str(good_run), "--json"], capsys)
    assert code == 0, err
    assert json.loads(out)["persons"] == 2000


@pytest.mark.parametrize("table", ["daily", "audit", "stage_times", "audit_persons"])
def test_view_over_a_local_file_is_refused_and_the_file_not_read(run_copy: Path, tmp_path: Path, capsys, table: str) -> None:
    secret = tmp_path / "secret.csv"
    secret.write_text(f"a,b\n{SECRET},1\n")
    edit_db(run_copy, f"DROP TABLE {table}", f"CREATE VIEW {table} AS SELECT * FROM read_csv('{secret}')")
    for err in all_refuse(run_copy, tmp_path, capsys, "results.duckdb", f"'{table}'", "view"):
        assert "not a table" in err


def test_no_file_access_even_for_an_unexpected_view(run_copy: Path, tmp_path: Path, capsys) -> None:
    """An extra view or macro is ignored (never queried), and the connection could not read files anyway."""
    secret = tmp_path / "secret.csv"
    secret.write_text(f"a\n{SECRET}\n")
    edit_db(run_copy, f"CREATE VIEW leak AS SELECT * FROM read_csv('{secret}')", "CREATE MACRO twice(x) AS x * 2")
    from socialcredit.results import reader

    con = reader._connect_read_only(run_copy / "results.duckdb")
    try:
        with pytest.raises(duckdb.Error, match="disabled by configuration"):
            con.execute("SELECT * FROM leak").fetchall()
    finally:
        con.close()
    code, out, err = call(["summary", str(run_copy)], capsys)
    assert code == 0, err
    assert SECRET not in out + err


def test_extra_table_is_ignored(run_copy: Path, capsys) -> None:
    edit_db(run_copy, "CREATE TABLE notes AS SELECT 'hello' AS text")
    assert read_results(run_copy).meta["persons"] == 2000
    code, _, err = call(["explain", str(run_copy), "--list"], capsys)
    assert code == 0, err


def test_missing_table(run_copy: Path, tmp_path: Path, capsys) -> None:
    edit_db(run_copy, "DROP TABLE services")
    all_refuse(run_copy, tmp_path, capsys, "results.duckdb", "no table 'services'")


def test_missing_optional_table_is_fine(run_copy: Path) -> None:
    edit_db(run_copy, "DROP TABLE audit_persons")
    assert read_results(run_copy).audit_persons is None


@pytest.mark.parametrize(
    "sql, words",
    [
        ("ALTER TABLE daily DROP COLUMN score_mean", ["'daily'", "no column 'score_mean'"]),
        ("ALTER TABLE daily DROP COLUMN share_AAA", ["no column 'share_AAA'"]),  # one per tier in run.json
        ("ALTER TABLE stage_times ALTER seconds TYPE VARCHAR", ["'stage_times.seconds'", "VARCHAR", "number"]),
    ],
)
def test_wrong_columns(run_copy: Path, tmp_path: Path, capsys, sql: str, words: list[str]) -> None:
    edit_db(run_copy, sql)
    all_refuse(run_copy, tmp_path, capsys, "results.duckdb", *words)


def test_not_a_database(run_copy: Path, tmp_path: Path, capsys) -> None:
    (run_copy / "results.duckdb").write_bytes(b"this is not a database" * 100)
    all_refuse(run_copy, tmp_path, capsys, "results.duckdb", "unreadable")


@pytest.mark.parametrize(
    "key, value, words",
    [
        ("meta", [], ["'meta'", "an object", "found a list"]),
        ("meta.persons", "many", ["'meta.persons'", "whole number", "'many'"]),
        ("meta.persons", True, ["'meta.persons'", "whole number"]),
        ("meta.tiers", 5, ["'meta.tiers'", "list of strings", "found a number"]),
        ("meta.tiers", ["AAA", 3], ["'meta.tiers'", "list of strings"]),
        ("meta.days", -1, ["'meta.days'", ">= 0"]),
        ("meta.service_kinds", ["bribe", "punishment", "punishment"], ["'meta.service_kinds'"]),
        ("meta.scale_to", "lots", ["'meta.scale_to'"]),
        ("status", "partial", ["'status'", "'complete'"]),
    ],
)
def test_wrong_types_in_run_json(run_copy: Path, tmp_path: Path, capsys, key: str, value: object, words: list[str]) -> None:
    def change(info: dict) -> None:
        *head, last = key.split(".")
        d = info
        for k in head:
            d = d[k]
        d[last] = value

    edit_info(run_copy, change)
    all_refuse(run_copy, tmp_path, capsys, "run.json", *words)


@pytest.mark.parametrize("text, words", [("[1, 2]", ["JSON object", "a list"]), ('{"meta": {}, "meta": []}', ["'meta'", "twice"])])
def test_run_json_not_an_object_or_repeated_keys(run_copy: Path, tmp_path: Path, capsys, text: str, words: list[str]) -> None:
    (run_copy / "run.json").write_text(text)
    all_refuse(run_copy, tmp_path, capsys, "run.json", *words)


@pytest.mark.parametrize("token", ["NaN", "Infinity", "-Infinity"])
def test_nan_in_run_json(run_copy: Path, tmp_path: Path, capsys, token: str) -> None:
    text = (run_copy / "run.json").read_text().replace('"persons": 2000', f'"persons": {token}', 1)
    assert token in text
    (run_copy / "run.json").write_text(text)
    all_refuse(run_copy, tmp_path, capsys, "run.json", "not standard JSON", token)


def test_symlinked_file_in_the_folder_is_refused(run_copy: Path, tmp_path: Path, capsys) -> None:
    """rulebook.yaml linked to a local file would end up in the report: refused."""
    secret = tmp_path / "secret.yaml"
    secret.write_text(SECRET)
    (run_copy / "rulebook.yaml").unlink()
    (run_copy / "rulebook.yaml").symlink_to(secret)
    all_refuse(run_copy, tmp_path, capsys, "rulebook.yaml", "symbolic link")


def test_fifo_run_json_does_not_hang(tmp_path: Path) -> None:
    fifo = tmp_path / "run.json"
    os.mkfifo(fifo)
    with pytest.raises(InputError, match="not a regular file .*named pipe"):
        read_json(fifo, "run.json")  # checked before opening: no hang
