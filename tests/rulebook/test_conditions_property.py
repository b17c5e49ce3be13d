"""Property tests of the condition language.

1. Random well-typed expressions, rendered to text, evaluate vectorised exactly as
   the per-person reference interpreter does, on random populations that include
   zeros (division by zero), -0.0, nan, inf and float32 arrays.
2. No input text, random or a mutation of a valid expression, raises anything
   but ConditionError.
"""

from __future__ import annotations

import numpy as np
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from socialcredit.errors import ConditionError
from socialcredit.rulebook.conditions import MAX_LENGTH, Condition, compile_condition, count_key

from tests.rulebook.fields import FIELDS, GROUPS, REGIONS, TIERS
BEHAVIOURS = ("jaywalking", "drunk_driving", "late_payment")
NUMBER_FIELDS = ("score", "income", "friends_mean", "days_listed")
BOOL_FIELDS = ("blacklisted", "redlisted")
CATEGORY_FIELDS = {"region": REGIONS, "group": GROUPS, "tier": TIERS}
DAYS = (1, 7, 30, 365)

SETTINGS = settings(
    max_examples=250,
    deadline=None,
    derandomize=True,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)

# ---------------------------------------------------------------------------- expression strategies
# Each strategy yields source text of one type. Sub-expressions are parenthesised or
# not at random: both parse to valid (if different) trees, which is all property 1 needs.

NUMBER_LITERALS = ("0", "1", "2", "0.5", "0.1", "3.25", "900", "1e3", "1e-3", "1e308", ".5", "2.")


def _paren(text: str, wrap: bool) -> str:
    return f"({text})" if wrap else text


def count_calls() -> st.SearchStrategy[str]:
    behaviour = st.sampled_from(BEHAVIOURS)
    quoted = st.booleans()
    days = st.one_of(st.none(), st.sampled_from(DAYS))

    def render(b: str, q: bool, d: int | None) -> str:
        name = f"'{b}'" if q else b
        return f"count({name})" if d is None else f"count({name}, days={d})"

    return st.builds(render, behaviour, quoted, days)


number_leaves = st.one_of(st.sampled_from(NUMBER_FIELDS), st.sampled_from(NUMBER_LITERALS), count_calls())


def _number_branches(child: st.SearchStrategy[str]) -> st.SearchStrategy[str]:
    binary = st.builds(
        lambda a, op, b, wa, wb: f"{_paren(a, wa)} {op} {_paren(b, wb)}",
        child,
        st.sampled_from("+-*/"),
        child,
        st.booleans(),
        st.booleans(),
    )
    negate = st.builds(lambda a: f"-({a})", child)
    absolute = st.builds(lambda a: f"abs({a})", child)
    minmax = st.builds(
        lambda f, xs: f"{f}({', '.join(xs)})", st.sampled_from(("min", "max")), st.lists(child, min_size=2, max_size=3)
    )
    return st.one_of(binary, negate, absolute, minmax)


numbers = st.recursive(number_leaves, _number_branches, max_leaves=6)

COMPARISONS = ("==", "!=", "<", "<=", ">", ">=")


def category_tests() -> st.SearchStrategy[str]:
    """Comparisons and memberships of category fields against valid levels."""

    @st.composite
    def build(draw: st.DrawFn) -> str:
        field = draw(st.sampled_from(sorted(CATEGORY_FIELDS)))
        levels = CATEGORY_FIELDS[field]
        if draw(st.booleans()):
            ops = COMPARISONS if field == "tier" else ("==", "!=")
            op = draw(st.sampled_from(ops))
            level = draw(st.sampled_from(levels))
            return f"'{level}' {op} {field}" if draw(st.booleans()) else f"{field} {op} '{level}'"
        chosen = draw(st.lists(st.sampled_from(levels), min_size=1, max_size=len(levels) + 1))
        word = draw(st.sampled_from(("in", "not in")))
        items = ", ".join(f"'{lv}'" for lv in chosen)
        return f"{field} {word} ({items})" if draw(st.booleans()) else f"{field} {word} [{items}]"

    return build()


bool_leaves = st.one_of(
    st.sampled_from(BOOL_FIELDS),
    st.sampled_from(("true", "false", "True")),
    st.builds(lambda a, op, b: f"{a} {op} {b}", numbers, st.sampled_from(COMPARISONS), numbers),
    st.builds(
        lambda a, word, xs: f"{a} {word} ({', '.join(xs)},)",
        numbers,
        st.sampled_from(("in", "not in")),
        st.lists(st.sampled_from(NUMBER_LITERALS), min_size=1, max_size=3),
    ),
    category_tests(),
)


def _bool_branches(child: st.SearchStrategy[str]) -> st.SearchStrategy[str]:
    junction = st.builds(
        lambda op, xs, wrap: f" {op} ".join(_paren(x, w) for x, w in zip(xs, wrap)),
        st.sampled_from(("and", "or")),
        st.lists(child, min_size=2, max_size=3),
        st.lists(st.booleans(), min_size=3, max_size=3),
    )
    negation = st.builds(lambda a, w: f"not {_paren(a, w)}", child, st.booleans())
    equality = st.builds(lambda a, op, b: f"({a}) {op} ({b})", child, st.sampled_from(("==", "!=")), child)
    return st.one_of(junction, negation, equality)


conditions = st.recursive(bool_leaves, _bool_branches, max_leaves=8)

# ---------------------------------------------------------------------------- populations
SPECIAL_NUMBERS = (0.0, -0.0, 1.0, -1.0, 0.1, 0.5, 2.0, 900.0, 1000.0, 1e-3, 1e308, -1e308, np.inf, -np.inf, np.nan)
numbers_in_env = st.one_of(
    st.sampled_from(SPECIAL_NUMBERS),
    st.floats(allow_nan=True, allow_infinity=True),
    st.integers(-1000, 1000).map(float),
)


@st.composite
def populations(draw: st.DrawFn, cond: Condition) -> dict[str, np.ndarray]:
    """Arrays for exactly the keys the condition declares, as the engine supplies them."""
    n = draw(st.integers(1, 12))
    env: dict[str, np.ndarray] = {}
    for name in sorted(cond.fields):
        spec = FIELDS[name]
        if spec.kind == "number":
            values = draw(st.lists(numbers_in_env, min_size=n, max_size=n))
            dtype = draw(st.sampled_from((np.float64, np.float32)))
            with np.errstate(over="ignore"):
                env[name] = np.array(values, dtype=dtype)
        elif spec.kind == "bool":
            flags = draw(st.lists(st.booleans(), min_size=n, max_size=n))
            env[name] = np.array(flags, dtype=draw(st.sampled_from((np.bool_, np.int8))))
        else:
            codes = draw(st.lists(st.integers(0, len(spec.levels) - 1), min_size=n, max_size=n))
            env[name] = np.array(codes, dtype=draw(st.sampled_from((np.int8, np.uint8, np.int64))))
    for behaviour, days in sorted(cond.counts):
        counts = draw(st.lists(st.sampled_from((0, 0, 1, 2, 5, 400)), min_size=n, max_size=n))
        env[count_key(behaviour, days)] = np.array(counts, dtype=np.int32)
    return env


def reference(cond: Condition, env: dict[str, np.ndarray], n: int) -> list[bool]:
    return [cond.evaluate_one({k: v[i] for k, v in env.items()}) for i in range(n)]


# ---------------------------------------------------------------------------- property 1
@settings(SETTINGS, max_examples=500)
@given(data=st.data(), text=conditions)
def test_vectorised_equals_reference(data: st.DataObject, text: str) -> None:
    cond = compile_condition(text, FIELDS, BEHAVIOURS)
    assert cond.fields <= set(FIELDS)
    env = data.draw(populations(cond))
    n = data.draw(st.integers(1, 12)) if not env else len(next(iter(env.values())))
    snapshot = {k: v.copy() for k, v in env.items()}
    out = cond(env, n=n)
    assert out.dtype == bool and out.shape == (n,)
    assert out.tolist() == reference(cond, env, n), text
    for k, v in env.items():  # the env is never written to
        np.testing.assert_array_equal(v, snapshot[k])


# ---------------------------------------------------------------------------- property 2
ALPHABET = st.sampled_from(
    list("abcdefghijklmnopqrstuvwxyz_ ABCXYZ0123456789.eE+-*/()[],=<>!'\"&|#@\\\n\t") + ["é", "\x00"]
)
TOKENS = st.sampled_from(
    [
        "score", "tier", "region", "blacklisted", "count", "abs", "min", "max", "jaywalking", "days", "=", "and",
        "or", "not", "in", "true", "(", ")", "[", "]", ",", "'A'", "'east'", "==", "<", ">=", "!=", "+", "-",
        "*", "/", "1", "0.5", "1e3", "'", '"', " ",
    ]
)  # fmt: skip


def check_garbage(text: str) -> None:
    """Compiling must succeed or raise ConditionError; a compiled condition must evaluate."""
    try:
        cond = compile_condition(text, FIELDS, BEHAVIOURS)
    except ConditionError as e:
        assert e.column is None or 1 <= e.column <= len(text) + 1
        str(e)  # formatting must not fail either
        return
    env: dict[str, np.ndarray] = {name: np.zeros(3, dtype=np.int8) for name in cond.fields}
    env.update({count_key(b, d): np.arange(3) for b, d in cond.counts})
    out = cond(env, n=3)
    assert out.shape == (3,) and out.dtype == bool


@SETTINGS
@given(st.one_of(st.text(max_size=80), st.text(ALPHABET, max_size=120)))
def test_random_text_only_raises_condition_error(text: str) -> None:
    check_garbage(text)


@SETTINGS
@given(st.lists(TOKENS, max_size=40).map("".join))
def test_random_token_soup_only_raises_condition_error(text: str) -> None:
    check_garbage(text)


@st.composite
def mutations(draw: st.DrawFn) -> str:
    """A valid condition with a few characters deleted, inserted or replaced."""
    text = draw(conditions)
    for _ in range(draw(st.integers(1, 3))):
        i = draw(st.integers(0, len(text)))
        action = draw(st.sampled_from(("delete", "insert", "replace")))
        char = draw(ALPHABET)
        if action == "delete":
            text = text[:i] + text[i + 1 :]
        elif action == "insert":
            text = text[:i] + char + text[i:]
        else:
            text = text[:i] + char + text[i + 1 :]
    return text


@SETTINGS
@given(mutations())
def test_mutated_conditions_only_raise_condition_error(text: str) -> None:
    check_garbage(text)


@SETTINGS
@given(
    st.sampled_from(["(", "not ", "-", "abs(", "count(", "[", "((not ", "- -"]),
    st.integers(1, 1200),
    st.sampled_from(["", "score", "blacklisted", "1", ")"]),
)
def test_deep_or_long_prefixes_only_raise_condition_error(prefix: str, repeat: int, tail: str) -> None:
    text = prefix * repeat + tail
    check_garbage(text)
    if len(text) > MAX_LENGTH:
        try:
            compile_condition(text, FIELDS, BEHAVIOURS)
        except ConditionError as e:
            assert "too long" in e.message
