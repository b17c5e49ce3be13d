"""Hostile and broken rulebooks are refused quickly, with file, line and column.

Each test edits one line of the shipped reference scenario (or writes a tiny
file) and checks the error class or the CLI exit status 2, the location and
that no traceback is printed.
"""

from __future__ import annotations

import time
from pathlib import Path

import pytest

from socialcredit.errors import ConditionError, RulebookError, RulebookErrors
from socialcredit.rulebook import load_rulebook, scenario_path
from socialcredit.rulebook.document import MAX_DEPTH, MAX_NODES, parse_document
from tests.test_cli import call

REFERENCE = scenario_path("reference").read_text(encoding="utf-8")  # type: ignore[union-attr]


def edited(tmp_path: Path, old: str, new: str, name: str = "rules.yaml") -> Path:
    """The reference scenario with one piece of text replaced, written to ``tmp_path``."""
    assert old in REFERENCE
    path = tmp_path / name
    path.write_text(REFERENCE.replace(old, new, 1), encoding="utf-8")
    return path


def line_of(path: Path, text: str) -> int:
    """1-based line of the first occurrence of ``text`` in ``path``."""
    for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
        if text in line:
            return number
    raise AssertionError(text)


def first_error(exc: pytest.ExceptionInfo) -> RulebookError:
    error = exc.value
    return error.errors[0] if isinstance(error, RulebookErrors) else error


def assert_cli_refuses(path: Path, capsys, where: str, *words: str, extra: list[str] | None = None) -> str:
    """``validate`` exits 2 and prints ``where`` (file:line:column) and ``words``, without a traceback."""
    code, out, err = call(["validate", str(path), *(extra or [])], capsys)
    text = out + err
    assert code == 2, text
    assert "Traceback" not in text
    assert where in text, text
    for word in words:
        assert word in text, text
    return text


# ----------------------------------------------------------------- 1. alias bombs


def bomb_text() -> str:
    lines = ["a: &a [x, x, x, x, x, x, x, x, x]"]
    previous = "a"
    for name in "bcdefgh":
        lines.append(f"{name}: &{name} [" + ", ".join([f"*{previous}"] * 9) + "]")
        previous = name
    return "\n".join(lines) + "\n"


def test_alias_bomb_is_refused_quickly_at_the_alias(tmp_path: Path, capsys) -> None:
    path = tmp_path / "bomb.yaml"
    path.write_text(bomb_text(), encoding="utf-8")
    assert len(bomb_text()) < 400  # expands to about 10**8 values
    started = time.perf_counter()
    with pytest.raises(RulebookError) as exc:
        load_rulebook(path)
    assert time.perf_counter() - started < 1.0
    error = first_error(exc)
    assert (error.location.file, error.location.line, error.location.column) == (str(path), 7, 8)
    assert "alias '*f'" in error.message and f"{MAX_NODES:,}" in error.message
    assert_cli_refuses(path, capsys, f"{path}:7:8", "alias")


def test_small_aliases_still_work() -> None:
    doc = parse_document("a: &a [1, 2]\nb: *a\nc: {d: *a}\n")
    assert doc.data == {"a": [1, 2], "b": [1, 2], "c": {"d": [1, 2]}}


def test_alias_inside_its_own_value_is_refused_or_harmless() -> None:
    doc = parse_document("a: &a [1, *a]\n")  # ruamel reads the inner alias as null: no infinite value
    assert doc.data["a"][0] == 1


# ----------------------------------------------------------------- 2. numbers


@pytest.mark.parametrize("value", [".nan", ".inf", "-.inf", "1e308", "-1e39"])
def test_non_finite_and_huge_points_are_refused_in_the_file(tmp_path: Path, capsys, value: str) -> None:
    path = edited(tmp_path, "points: -5,", f"points: {value},")
    line = line_of(path, f"points: {value},")
    column = path.read_text().splitlines()[line - 1].index(value) + 1
    with pytest.raises(RulebookError) as exc:
        load_rulebook(path)
    error = first_error(exc)
    assert (error.location.line, error.location.column) == (line, column)
    assert "finite number" in (error.allowed or "")
    assert_cli_refuses(path, capsys, f"{path}:{line}:{column}", "allowed")


@pytest.mark.parametrize(
    "override", ["behaviours.0.points=.nan", "behaviours.0.points=1e308", "population.regions.0.income.median=.inf"]
)
def test_non_finite_overrides_are_refused(override: str) -> None:
    with pytest.raises(RulebookError) as exc:
        load_rulebook("reference", [override])
    error = first_error(exc)
    assert error.location.file == "command line" and "finite" in (error.allowed or "")


def test_points_have_a_documented_bound() -> None:
    with pytest.raises(RulebookErrors) as exc:
        load_rulebook("reference", ["behaviours.0.points=2e9"])
    assert "out of range" in str(exc.value)


def test_text_that_reads_as_infinity_is_refused() -> None:
    with pytest.raises(RulebookErrors):
        load_rulebook("reference", ["behaviours.0.points='inf'"])


# ----------------------------------------------------------------- 3. booleans are not numbers


def test_boolean_days_are_refused_in_the_file(tmp_path: Path, capsys) -> None:
    path = edited(tmp_path, "  days: 365", "  days: true")
    line = line_of(path, "days: true")
    with pytest.raises(RulebookErrors) as exc:
        load_rulebook(path)
    error = first_error(exc)
    assert (error.location.line, error.location.column) == (line, 9)
    assert "true/false" in error.message and error.allowed == "an integer"
    assert_cli_refuses(path, capsys, f"{path}:{line}:9", "true/false")


@pytest.mark.parametrize(
    "override",
    ["simulation.days=true", "behaviours.0.points=false", "behaviours.0.points={default: true}", "score.bounds=[0, true]"],
)
def test_boolean_numbers_are_refused_on_the_command_line(override: str) -> None:
    with pytest.raises(RulebookErrors) as exc:
        load_rulebook("reference", [override])
    assert "true/false" in str(exc.value)


# ----------------------------------------------------------------- 4. names


@pytest.mark.parametrize("name", ["../../x", "/tmp/x", "a/b", "x" * 300, ".hidden", "a..b"])
def test_meta_name_must_be_a_plain_name(tmp_path: Path, capsys, name: str) -> None:
    path = edited(tmp_path, "  name: reference", f"  name: '{name}'")
    with pytest.raises(RulebookErrors) as exc:
        load_rulebook(path)
    error = first_error(exc)
    assert (error.location.line, error.location.column) == (4, 9)
    assert_cli_refuses(path, capsys, f"{path}:4:9", "plain name")


@pytest.mark.parametrize(
    "override",
    ["tiers.0.name=A/A", "behaviours.0.name=a b", "population.regions.0.name=../x", "tiers.0.name=" + "A" * 65],
)
def test_item_names_follow_the_name_pattern(override: str) -> None:
    with pytest.raises(RulebookErrors) as exc:
        load_rulebook("reference", [override])
    assert "not a valid name" in str(exc.value)


def test_channel_names_follow_the_name_pattern(tmp_path: Path) -> None:
    path = edited(tmp_path, "    camera:", "    'cam era':")
    with pytest.raises(RulebookErrors) as exc:
        load_rulebook(path)
    assert "not a valid channel name" in str(exc.value)


# ----------------------------------------------------------------- 5. located messages


def test_nul_character_is_located_by_line_and_column(tmp_path: Path, capsys) -> None:
    path = edited(tmp_path, "  name: reference", "  name: ref\x00erence")
    with pytest.raises(RulebookError) as exc:
        load_rulebook(path)
    assert (exc.value.location.line, exc.value.location.column) == (4, 12)
    assert "position" not in str(exc.value)
    assert_cli_refuses(path, capsys, f"{path}:4:12", "U+0000")


@pytest.mark.parametrize("flow", [False, True])
def test_deep_nesting_names_the_line_where_the_limit_is_crossed(tmp_path: Path, capsys, flow: bool) -> None:
    path = tmp_path / "deep.yaml"
    if flow:
        path.write_text("meta: " + "{a: " * 800 + "1" + "}" * 800 + "\n", encoding="utf-8")
        line, column = 1, 7 + 4 * (MAX_DEPTH - 1)  # the first '{' beyond the limit (the top mapping is level 1)
    else:
        path.write_text("meta:\n" + "".join("  " * (i + 1) + f"k{i}:\n" for i in range(800)) + "  " * 801 + "v: 1\n")
        line, column = MAX_DEPTH + 1, 2 * MAX_DEPTH + 1
    started = time.perf_counter()
    with pytest.raises(RulebookError) as exc:
        load_rulebook(path)
    assert time.perf_counter() - started < 1.0
    assert "nested too deeply" in exc.value.message
    assert (exc.value.location.line, exc.value.location.column) == (line, column)
    assert_cli_refuses(path, capsys, f"{path}:{line}:{column}", "nested too deeply")


def test_nesting_up_to_the_limit_is_read() -> None:
    depth = MAX_DEPTH - 1  # plus the top-level mapping
    doc = parse_document("a: " + "[" * depth + "1" + "]" * depth + "\n")
    value = doc.data["a"]
    for _ in range(depth - 1):
        value = value[0]
    assert value == [1]


@pytest.mark.parametrize(
    ("network", "key"),
    [
        ("{generator: scale_free, mean_degree: 0.5, source: design}", "mean_degree: 0.5"),
        ("{generator: block, mean_degree: 20, within_share: 0.0, source: design}", "within_share: 0.0"),
    ],
)
def test_network_generator_errors_name_file_line_and_column(tmp_path: Path, capsys, network: str, key: str) -> None:
    path = edited(tmp_path, "{generator: small_world, mean_degree: 20, rewiring: 0.1, source: design}", network)
    line = line_of(path, key)
    column = path.read_text().splitlines()[line - 1].index(key) + len(key.split(":")[0]) + 3
    with pytest.raises(RulebookError) as exc:
        load_rulebook(path)
    assert (exc.value.location.file, exc.value.location.line, exc.value.location.column) == (str(path), line, column)
    assert_cli_refuses(path, capsys, f"{path}:{line}:{column}", key.split(":")[0])


# ----------------------------------------------------------------- 6. conditions are ASCII


@pytest.mark.parametrize(("condition", "column"), [("score < ٩٠٠", 9), ("score\u00a0< 900", 6), ("tier == 'ＡＡＡ'", 10)])
def test_conditions_accept_ascii_only(condition: str, column: int) -> None:
    with pytest.raises(ConditionError) as exc:
        load_rulebook("reference", [f"lists.blacklist.enter={condition}"])
    assert exc.value.column == column
    assert "not allowed" in exc.value.message


def test_non_ascii_condition_in_the_file_is_located(tmp_path: Path, capsys) -> None:
    path = edited(tmp_path, "enter: \"tier in ('C', 'D')\"", 'enter: "score < ٩٠٠"')
    line = line_of(path, "score < ٩٠٠")
    text = assert_cli_refuses(path, capsys, f"{path}:{line}", "U+0669")
    assert "column 9" in text
