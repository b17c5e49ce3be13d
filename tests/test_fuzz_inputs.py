"""Fuzzing the inputs: mutations of every shipped scenario, --set values, and edge lists.

Every case must end with exit status 0 (a valid rulebook) or 2 with a located
message (file and line, or the command line), within a bounded time, without
a traceback and without writing anything. The mutations are drawn with fixed
seeds, so a failure reproduces; hypothesis adds random --set values and edge
lists (derandomized in CI by its database-less default profile).
"""

from __future__ import annotations

import random
import re
import signal
import time
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from socialcredit.rulebook import scenario_names, scenario_path
from tests.test_cli import call

CASE_SECONDS = 10  # a case that takes longer has hung (validation takes well under a second)
NUMBER = re.compile(r"(?<=[:\[,] )-?\d+(?:\.\d+)?(?=[,\]}\s])")
CONDITION = re.compile(r"""(?:enter|exit|denied_when|granted_when): ("[^"\n]*"|'[^'\n]*')""")
NAME = re.compile(r"(?<=name: )[A-Za-z_][A-Za-z0-9_-]*")
BAD_NUMBERS = [".nan", ".inf", "-.inf", "1e308", "-1e308", "true", "false", "null", "'text'", "[]", "{}", "-1", "1e-320", "0x10",
               "99999999999999999999999"]  # fmt: skip
BAD_CONDITIONS = ['"tier in (\'C\'"', '"__import__(\'os\').system(\'true\')"', '"score < ٩٠٠"', '"score <"', '"nope == 1"',
                  '"count(x, days=-1) > 0"', '"' + "(" * 500 + "1" + ")" * 500 + '"', '"score\u00a0< 900"']  # fmt: skip
BAD_NAMES = ["../x", "/abs", "$\\\\frac{$", "'[bold]x[/]'", "'a b'", "''", "x" * 300, "'\\e[31m'"]


class Hung(Exception):
    pass


def _alarm(signum, frame):  # pragma: no cover - only when a case hangs
    raise Hung()


def check(args: list[str], capsys) -> tuple[int, str]:
    """Run the command line in-process with a time limit; it must exit 0 or 2, without a traceback."""
    old = signal.signal(signal.SIGALRM, _alarm)
    signal.alarm(CASE_SECONDS)
    t0 = time.perf_counter()
    try:
        code, out, err = call(args, capsys)
    except Hung:
        pytest.fail(f"no answer within {CASE_SECONDS} s: {args}")
    finally:
        signal.alarm(0)
        signal.signal(signal.SIGALRM, old)
    assert code in (0, 2), (args, code, err[-2000:])
    assert "Traceback" not in err and "Traceback" not in out, err[-2000:]
    if code == 2:
        assert err.startswith("error: ") and len(err.strip().splitlines()) <= 40, err
    return code, err


def mutants(text: str, rng: random.Random, count: int) -> list[tuple[str, str]]:
    """(label, mutated text) pairs: numbers, conditions and names replaced, keys added or removed, structure broken."""
    out: list[tuple[str, str]] = []
    numbers = list(NUMBER.finditer(text))
    conditions = list(CONDITION.finditer(text))
    names = list(NAME.finditer(text))
    lines = text.splitlines(keepends=True)
    for i in range(count):
        kind = i % 6
        if kind == 0 and numbers:
            m = rng.choice(numbers)
            bad = rng.choice(BAD_NUMBERS)
            out.append((f"number {m.group()} at {m.start()} -> {bad}", text[: m.start()] + bad + text[m.end():]))
        elif kind == 1 and conditions:
            m = rng.choice(conditions)
            bad = rng.choice(BAD_CONDITIONS)
            out.append((f"condition at {m.start(1)} -> {bad[:30]}", text[: m.start(1)] + bad + text[m.end(1):]))
        elif kind == 2 and names:
            m = rng.choice(names)
            bad = rng.choice(BAD_NAMES)
            out.append((f"name {m.group()} -> {bad[:20]}", text[: m.start()] + bad + text[m.end():]))
        elif kind == 3:
            k = rng.randrange(len(lines))
            out.append((f"line {k + 1} removed", "".join(lines[:k] + lines[k + 1:])))
        elif kind == 4:
            k = rng.randrange(len(lines))
            indent = re.match(r"\s*", lines[k]).group()
            out.append((f"unknown key after line {k + 1}", "".join(lines[: k + 1] + [f"{indent}zzz_unknown: 1\n"] + lines[k + 1:])))
        else:
            k = rng.randrange(len(lines))
            junk = rng.choice(["\t", ": : :", "- ", "{", "]", "&a", "*nope", "!!python/object:os.system x", "\x00", "\ufeff"])
            out.append((f"junk {junk!r} in line {k + 1}", "".join(lines[:k] + [junk + lines[k]] + lines[k + 1:])))
    return out


@pytest.mark.parametrize("scenario", scenario_names())
def test_mutated_scenarios_are_refused_cleanly_or_valid(scenario: str, tmp_path: Path, capsys) -> None:
    path = scenario_path(scenario)
    assert path is not None
    text = path.read_text(encoding="utf-8")
    rng = random.Random(f"fuzz-{scenario}")
    refused = 0
    unlocated: list[str] = []
    for label, mutant in mutants(text, rng, 36):
        f = tmp_path / "mutant.yaml"
        f.write_text(mutant, encoding="utf-8")
        code, err = check(["validate", str(f)], capsys)
        if code == 2:
            refused += 1
            if not re.search(r"mutant\.yaml:\d+:\d+", err):  # the message names the file, line and column
                unlocated.append(f"{label}: {err.strip()[:300]}")
    assert not unlocated, "\n".join(unlocated)
    assert refused >= 18  # most mutations break the rulebook; a fuzzer that never breaks anything tests nothing


def test_hostile_files(tmp_path: Path, capsys) -> None:
    cases = {
        "alias bomb": "a: &a [x, x, x, x, x, x, x, x, x]\nb: &b [*a, *a, *a, *a, *a, *a, *a, *a, *a]\nc: &c [*b, *b, *b, *b, *b, *b, *b, *b, *b]\n"
                      "d: &d [*c, *c, *c, *c, *c, *c, *c, *c, *c]\ne: &e [*d, *d, *d, *d, *d, *d, *d, *d, *d]\n"
                      "f: &f [*e, *e, *e, *e, *e, *e, *e, *e, *e]\ng: &g [*f, *f, *f, *f, *f, *f, *f, *f, *f]\n"
                      "h: &h [*g, *g, *g, *g, *g, *g, *g, *g, *g]\n",
        "deep nesting": "a:\n" + "".join("  " * (i + 1) + f"k{i}:\n" for i in range(800)) + "  " * 801 + "v: 1\n",
        "deep flow": "a: " + "[" * 5000 + "]" * 5000 + "\n",
        "NUL": "meta:\n  name: x\x00y\n",
        "python tag": "meta: !!python/object/apply:os.system ['true']\n",
        "null key": "meta: {name: x}\n: 1\n",
        "boolean key": "meta: {name: x}\ntrue: 1\n",
        "empty": "",
        "only a comment": "# nothing\n",
    }
    for label, text in cases.items():
        f = tmp_path / "hostile.yaml"
        f.write_text(text, encoding="utf-8")
        code, err = check(["validate", str(f)], capsys)
        assert code == 2, (label, err)
        assert "hostile.yaml" in err, (label, err)
    for label, data in {"utf-16": "meta: x\n".encode("utf-16"), "latin-1": "meta: caf\xe9\n".encode("latin-1")}.items():
        f = tmp_path / "hostile.yaml"
        f.write_bytes(data)
        code, err = check(["validate", str(f)], capsys)
        assert code == 2 and "hostile.yaml" in err, (label, err)


KEYS = ["population.persons", "simulation.days", "simulation.seed", "score.initial", "score.bounds", "behaviours.b01.points",
        "behaviours.b01.rate", "services.flight.demand", "services.flight.denied_when", "lists.blacklist.enter",
        "tiers.0.min", "population.regions.0.share", "meta.name", "detection.channels.camera.false_attribution",
        "score.social.friends", "nope.nope", "behaviours.9999.rate"]  # fmt: skip


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(key=st.sampled_from(KEYS), value=st.one_of(
    st.text(max_size=40), st.floats(allow_nan=True, allow_infinity=True).map(repr), st.integers().map(str),
    st.sampled_from([".nan", ".inf", "true", "[1, 2]", "{a: 1}", "'x'", "1e999", "-0", "0x1F", "٣"])))  # fmt: skip
def test_set_values(key: str, value: str, capsys) -> None:
    code, err = check(["validate", "reference", "--set", f"{key}={value}"], capsys)
    if code == 2:
        assert "command line" in err or "reference.yaml" in err, err


@settings(max_examples=20, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(rows=st.lists(st.tuples(st.one_of(st.integers(-5, 60), st.text(max_size=4)), st.one_of(st.integers(-5, 60), st.text(max_size=4))),
                     max_size=30), header=st.booleans())  # fmt: skip
def test_edge_lists(rows, header: bool, tmp_path_factory, capsys) -> None:
    folder = tmp_path_factory.mktemp("edges")
    lines = (["source,target"] if header else []) + [f"{a},{b}" for a, b in rows]
    (folder / "edges.csv").write_text("\n".join(lines) + "\n", encoding="utf-8")
    rulebook = (folder / "rb.yaml")
    code, _, err = call(["scenarios", "copy", "reference", str(rulebook), "--force"], capsys)
    assert code == 0, err
    text = rulebook.read_text()
    text = re.sub(r"network: \{[^}]*\}", "network: {generator: edgelist, path: edges.csv, source: design}", text)
    rulebook.write_text(text)
    check(["run", str(rulebook), "--persons", "50", "--days", "2", "--no-plot", "--out", str(folder / "run")], capsys)
