"""Unit tests of the condition language (socialcredit.rulebook.conditions)."""

from __future__ import annotations

import pickle

import numpy as np
import pytest

from socialcredit.errors import ConditionError
from socialcredit.rulebook.conditions import (
    MAX_DEPTH,
    MAX_LENGTH,
    Condition,
    FieldSpec,
    compile_condition,
    count_key,
)

from tests.rulebook.fields import FIELDS as BASE_FIELDS

FIELDS = {
    **BASE_FIELDS,
    "month": FieldSpec("category", tuple(f"m{i}" for i in range(12))),
}
BEHAVIOURS = ("jaywalking", "drunk_driving", "late_payment")


def cc(text: str) -> Condition:
    return compile_condition(text, FIELDS, BEHAVIOURS)


def run(text: str, **env: object) -> list[bool]:
    """Compile ``text``, evaluate it on ``env`` and check it against the scalar evaluator."""
    cond = cc(text)
    arrays = {k: np.asarray(v) for k, v in env.items()}
    out = cond(arrays)
    assert out.dtype == bool
    n = len(next(iter(arrays.values())))
    assert out.shape == (n,)
    reference = [cond.evaluate_one({k: a[i] for k, a in arrays.items()}) for i in range(n)]
    assert out.tolist() == reference
    return out.tolist()


def errors(text: str) -> ConditionError:
    with pytest.raises(ConditionError) as info:
        cc(text)
    return info.value


SCORES = [500.0, 899.0, 900.0, 901.0, 1100.0]


# ---------------------------------------------------------------------------- operators and precedence
@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("score < 900", [True, True, False, False, False]),
        ("score <= 900", [True, True, True, False, False]),
        ("score > 900", [False, False, False, True, True]),
        ("score >= 900", [False, False, True, True, True]),
        ("score == 900", [False, False, True, False, False]),
        ("score != 900", [True, True, False, True, True]),
        ("900 > score", [True, True, False, False, False]),
        ("score + 100 > 1000", [False, False, False, True, True]),
        ("score - 100 < 800", [True, True, False, False, False]),
        ("score * 2 >= 1800", [False, False, True, True, True]),
        ("score / 2 == 450", [False, False, True, False, False]),
        ("-score < -900", [False, False, False, True, True]),
        ("+score > 900", [False, False, False, True, True]),
        ("not score < 900", [False, False, True, True, True]),
    ],
)
def test_number_operators(text: str, expected: list[bool]) -> None:
    assert run(text, score=SCORES) == expected


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("1 + 2 * 3 == 7", True),
        ("(1 + 2) * 3 == 9", True),
        ("10 - 4 - 3 == 3", True),  # left associative
        ("12 / 4 / 3 == 1", True),
        ("-2 * 3 == -6", True),
        ("- 2 - -2 == 0", True),
        ("2 * -3 + 1 == -5", True),
        ("1 < 2 and 2 < 3", True),
        ("true or false and false", True),  # and binds tighter than or
        ("(true or false) and false", False),
        ("not false and false", False),  # not binds tighter than and
        ("not (false and false)", True),
        ("not 1 > 2", True),  # not binds looser than comparisons
        ("1e3 == 1000", True),
        ("0.5 * 4 == 2", True),
        (".5 == 0.5", True),
        ("TRUE and True", True),
        ("FALSE", False),
    ],
)
def test_precedence_and_literals_on_constants(text: str, expected: bool) -> None:
    cond = cc(text)
    assert cond.constant is expected
    assert cond({"score": np.zeros(3)}).tolist() == [expected] * 3
    assert cond.evaluate_one({}) is expected


def test_precedence_with_fields() -> None:
    env = dict(
        blacklisted=[True, True, False, False],
        redlisted=[True, False, True, False],
        score=[1.0, 1.0, 1.0, 1.0],
    )
    # `not a or b` is `(not a) or b`
    assert run("not blacklisted or redlisted", **env) == [True, False, True, True]
    # `a or b and c` is `a or (b and c)`
    assert run("blacklisted or redlisted and score > 5", **env) == [True, True, False, False]
    assert run("(blacklisted or redlisted) and score > 5", **env) == [False, False, False, False]


def test_arithmetic_precedence_with_fields() -> None:
    # score + income * 2 is score + (income * 2)
    assert run("score + income * 2 == 7", score=[1.0, 3.0], income=[3.0, 2.0]) == [True, True]
    assert run("(score + income) * 2 == 8", score=[1.0, 3.0], income=[3.0, 2.0]) == [True, False]


def test_bool_fields_and_equality() -> None:
    env = dict(blacklisted=[True, False], redlisted=[True, True])
    assert run("blacklisted", **env) == [True, False]
    assert run("not blacklisted", **env) == [False, True]
    assert run("blacklisted == true", **env) == [True, False]
    assert run("blacklisted == false", **env) == [False, True]
    assert run("blacklisted != true", **env) == [False, True]
    assert run("blacklisted == redlisted", **env) == [True, False]
    assert run("blacklisted and redlisted", **env) == [True, False]
    assert run("blacklisted or not redlisted", **env) == [True, False]


def test_bool_field_accepts_integer_arrays() -> None:
    assert run("blacklisted", blacklisted=np.array([0, 1, 2], dtype=np.int8)) == [False, True, True]


def test_bare_bool_field_result_does_not_alias_env() -> None:
    flags = np.array([True, False, True])
    out = cc("blacklisted")({"blacklisted": flags})
    assert not np.shares_memory(out, flags)
    out[:] = False
    assert flags.tolist() == [True, False, True]


def test_env_number_arrays_are_not_modified() -> None:
    score = np.array([1.0, -2.0, 0.0])
    income = np.array([2.0, 2.0, 2.0])
    cc("-abs(score) * income + max(score, income) - min(score, 0) / 2 > 0")({"score": score, "income": income})
    assert score.tolist() == [1.0, -2.0, 0.0]
    assert income.tolist() == [2.0, 2.0, 2.0]


def test_no_floating_point_warning_with_or_without_arithmetic() -> None:
    """Comparisons of NaN and infinities warn of nothing, so a condition without arithmetic is evaluated without
    np.errstate; one with arithmetic (0/0, inf - inf, overflow) still warns of nothing."""
    import warnings

    score = np.array([np.nan, np.inf, -np.inf, 0.0, 3e38], np.float32)
    income = np.array([0.0, np.inf, np.nan, 0.0, 3e38], np.float32)
    env = {"score": score, "income": income}
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        assert cc("score < 1 or income >= 2")(env).tolist() == [False, True, True, True, True]
        mixed = cc("score / income > 0 or score - income < 0 or score * income > 1")(env)
        signs = cc("-score < 0 and abs(score) > 1 and max(score, income) > 1")(env)
    with np.errstate(all="ignore"):
        assert mixed.tolist() == ((score / income > 0) | (score - income < 0) | (score * income > 1)).tolist()
        assert signs.tolist() == ((-score < 0) & (np.abs(score) > 1) & (np.maximum(score, income) > 1)).tolist()
    assert not cc("score < 1")._arithmetic and cc("score / 2 < 1")._arithmetic and cc("min(score, 1) < 1")._arithmetic


# ---------------------------------------------------------------------------- categories and tiers
CODES = list(range(6))  # AAA, AA, A, B, C, D


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("tier >= 'A'", [True, True, True, False, False, False]),  # A or better
        ("tier > 'A'", [True, True, False, False, False, False]),
        ("tier <= 'B'", [False, False, False, True, True, True]),  # B or worse
        ("tier < 'B'", [False, False, False, False, True, True]),  # worse than B
        ("tier == 'B'", [False, False, False, True, False, False]),
        ("tier != 'B'", [True, True, True, False, True, True]),
        ("'A' <= tier", [True, True, True, False, False, False]),  # same as tier >= 'A'
        ("'B' > tier", [False, False, False, False, True, True]),  # same as tier < 'B'
        ("tier >= 'AAA'", [True, False, False, False, False, False]),
        ("tier >= 'D'", [True] * 6),  # D or better: everyone
        ("tier <= 'D'", [False, False, False, False, False, True]),  # D or worse
        ("tier in ('C', 'D')", [False, False, False, False, True, True]),
        ("tier not in ('C', 'D')", [True, True, True, True, False, False]),
        ("tier in ['AAA', 'B', 'D']", [True, False, False, True, False, True]),
        ("tier not in ['AAA', 'B', 'D',]", [False, True, True, False, True, False]),
        ("tier in ('B',)", [False, False, False, True, False, False]),
        ("tier in ('B', 'B')", [False, False, False, True, False, False]),
        ('tier in ("AA", "A", "B")', [False, True, True, True, False, False]),
    ],
)
def test_ordered_tiers(text: str, expected: list[bool]) -> None:
    assert run(text, tier=np.array(CODES, dtype=np.int8)) == expected


@pytest.mark.parametrize("dtype", [np.int8, np.uint8, np.int32, np.int64, np.float64])
def test_category_codes_of_any_dtype(dtype: type) -> None:
    tier = np.array(CODES, dtype=dtype)
    assert run("tier in ('C', 'D')", tier=tier) == [False, False, False, False, True, True]
    assert run("tier >= 'A'", tier=tier) == [True, True, True, False, False, False]
    assert run("tier in ('AAA', 'B')", tier=tier) == [True, False, False, True, False, False]


def test_category_equality_and_membership() -> None:
    region = np.array([0, 1, 2, 1])  # east, centre, west, centre
    assert run("region == 'centre'", region=region) == [False, True, False, True]
    assert run("region != 'centre'", region=region) == [True, False, True, False]
    assert run("'west' == region", region=region) == [False, False, True, False]
    assert run("region in ('east', 'west')", region=region) == [True, False, True, False]
    assert run("region not in ['east', 'west']", region=region) == [False, True, False, True]


def test_many_scattered_levels_use_the_lookup_table() -> None:
    month = np.arange(12, dtype=np.uint8)
    odd = ", ".join(f"'m{i}'" for i in range(1, 12, 2))  # 6 scattered levels
    many = ", ".join(f"'m{i}'" for i in (0, 2, 3, 5, 6, 8, 9, 11, 1))  # 9 scattered levels
    assert run(f"month in ({odd})", month=month) == [i % 2 == 1 for i in range(12)]
    assert run(f"month in ({many})", month=month) == [i in (0, 1, 2, 3, 5, 6, 8, 9, 11) for i in range(12)]
    assert run(f"month not in ({many})", month=month) == [i in (4, 7, 10) for i in range(12)]


def test_evaluate_one_accepts_level_names() -> None:
    cond = cc("tier >= 'A' and region == 'east'")
    assert cond.evaluate_one({"tier": "AA", "region": "east"}) is True
    assert cond.evaluate_one({"tier": "B", "region": "east"}) is False
    assert cond.evaluate_one({"tier": 1, "region": 0}) is True


def test_number_and_bool_membership() -> None:
    assert run("days_listed in (0, 7, 30)", days_listed=[0, 1, 7, 30, 31]) == [True, False, True, True, False]
    assert run("days_listed not in [0, 7]", days_listed=[0, 1, 7]) == [False, True, False]
    assert run("score / 2 in (-1, 2.5)", score=[-2.0, 5.0, 4.0]) == [True, True, False]
    assert run("blacklisted in (true,)", blacklisted=[True, False]) == [True, False]
    assert run("blacklisted not in (true,)", blacklisted=[True, False]) == [False, True]


# ---------------------------------------------------------------------------- count() and functions
def test_count_default_days() -> None:
    cond = cc("count(drunk_driving) >= 1")
    assert cond.counts == frozenset({("drunk_driving", 365)})
    assert cond.fields == frozenset()
    key = count_key("drunk_driving", 365)
    assert key == "count(drunk_driving,365)"
    assert cond({key: np.array([0, 1, 3], dtype=np.int32)}).tolist() == [False, True, True]


def test_count_explicit_days_and_string_behaviour() -> None:
    cond = cc("count('jaywalking', days=30) > 2 or count(late_payment, days = 7,) == 0")
    assert cond.counts == frozenset({("jaywalking", 30), ("late_payment", 7)})
    env = {
        count_key("jaywalking", 30): np.array([3, 0, 0]),
        count_key("late_payment", 7): np.array([1, 0, 1]),
    }
    assert cond(env).tolist() == [True, True, False]


def test_count_with_max_days() -> None:
    cond = compile_condition("count(jaywalking, days=10) > 0", FIELDS, BEHAVIOURS, max_days=10)
    assert cond.counts == frozenset({("jaywalking", 10)})
    with pytest.raises(ConditionError, match="from 1 to 10"):
        compile_condition("count(jaywalking, days=11) > 0", FIELDS, BEHAVIOURS, max_days=10)


def test_abs_min_max() -> None:
    env = dict(score=[-3.0, 2.0, 5.0], income=[1.0, 4.0, -5.0])
    assert run("abs(score) > 2.5", **env) == [True, False, True]
    assert run("min(score, income) == -3", **env) == [True, False, False]
    assert run("max(score, income) == 4", **env) == [False, True, False]
    assert run("min(score, income, 0) == -5", **env) == [False, False, True]
    assert run("max(score, 0, income) == 0", **env) == [False, False, False]
    assert run("abs(min(score, income)) == 5", **env) == [False, False, True]


def test_min_max_propagate_nan() -> None:
    env = dict(score=[np.nan, 1.0], income=[1.0, np.nan])
    assert run("min(score, income) < 10", **env) == [False, False]
    assert run("max(score, income) != max(score, income)", **env) == [True, True]  # nan != nan


def test_fields_and_counts_are_declared() -> None:
    cond = cc("score < 900 and (tier in ('C', 'D') or count(jaywalking, days=30) > count(jaywalking))")
    assert cond.fields == frozenset({"score", "tier"})
    assert cond.counts == frozenset({("jaywalking", 30), ("jaywalking", 365)})
    assert cond.text == "score < 900 and (tier in ('C', 'D') or count(jaywalking, days=30) > count(jaywalking))"


# ---------------------------------------------------------------------------- numerics
def test_float32_env_compares_in_float64() -> None:
    # float32(0.1) is 0.100000001490116..., slightly above the float64 literal 0.1:
    # comparing in float32 would make these equal.
    score = np.array([0.1, 0.25], dtype=np.float32)
    assert run("score > 0.1", score=score) == [True, True]
    assert run("score == 0.1", score=score) == [False, False]
    assert run("score == 0.25", score=score) == [False, True]


def test_integer_env_arrays() -> None:
    big = 2**53 + 1  # not representable in float64: computation is float64 throughout
    assert run("days_listed >= 180", days_listed=np.array([179, 180, 181], dtype=np.int16)) == [False, True, True]
    assert run("days_listed == 9007199254740992", days_listed=np.array([big], dtype=np.int64)) == [True]


def test_division_by_zero_follows_ieee() -> None:
    env = dict(score=[1.0, -1.0, 0.0, 0.0], income=[0.0, 0.0, 0.0, -0.0])
    assert run("score / income > 1e308", **env) == [True, False, False, False]  # +inf
    assert run("score / income < -1e308", **env) == [False, True, False, False]  # -inf
    assert run("score / income == score / income", **env) == [True, True, False, False]  # nan != nan
    assert run("score / income != score / income", **env) == [False, False, True, True]
    assert run("1 / (score * income - 0) < 0", score=[1.0, -1.0], income=[-0.0, 0.0]) == [True, True]  # -0.0


def test_constant_division_by_zero_is_folded_without_error() -> None:
    assert cc("1 / 0 > 1e308").constant is True
    assert cc("0 / 0 == 0 / 0").constant is False
    assert cc("-1 / 0 < 0").constant is True
    assert cc("1 / -0 < 0").constant is True  # 1 / -0.0 is -inf


def test_nan_in_env_compares_false() -> None:
    assert run("friends_mean < 1 or friends_mean >= 1", friends_mean=[np.nan, 0.5]) == [False, True]


def test_no_numpy_warnings(recwarn: pytest.WarningsRecorder) -> None:
    cc("score / income > 0")({"score": np.zeros(3), "income": np.zeros(3)})
    assert len(recwarn) == 0


# ---------------------------------------------------------------------------- constant conditions
@pytest.mark.parametrize(("text", "value"), [("true", True), ("false", False), ("1 < 2", True), ("2 + 2 == 5", False)])
def test_constant_conditions_size_from_env_or_n(text: str, value: bool) -> None:
    cond = cc(text)
    assert cond.constant is value
    assert cond.fields == frozenset()
    out = cond({"score": np.zeros(4)})
    assert out.dtype == bool and out.tolist() == [value] * 4
    assert cond({}, n=3).tolist() == [value] * 3
    with pytest.raises(ValueError, match="constant"):
        cond({})


def test_constants_are_simplified_but_fields_still_declared() -> None:
    cond = cc("false and blacklisted")
    assert cond.constant is False
    assert cond.fields == frozenset({"blacklisted"})
    assert cond({"blacklisted": np.array([True, True])}).tolist() == [False, False]
    cond = cc("true and blacklisted")
    assert cond.constant is None
    assert run("true and blacklisted", blacklisted=[True, False]) == [True, False]
    assert run("false or blacklisted", blacklisted=[True, False]) == [True, False]


def test_n_must_match_env_length() -> None:
    with pytest.raises(ValueError, match="n=5"):
        cc("score > 1")({"score": np.zeros(3)}, n=5)


def test_yaml_bool_is_accepted() -> None:
    assert compile_condition(True, FIELDS, BEHAVIOURS).constant is True  # type: ignore[arg-type]
    assert compile_condition(False, FIELDS, BEHAVIOURS).constant is False  # type: ignore[arg-type]


def test_multiline_expression_and_whitespace() -> None:
    assert run("score < 900\n  and\tincome > 1", score=[1.0, 1000.0], income=[2.0, 2.0]) == [True, False]


def test_condition_pickles_by_recompiling() -> None:
    cond = cc("tier in ('C', 'D') and count(jaywalking) > 0")
    again = pickle.loads(pickle.dumps(cond))
    env = {"tier": np.array([4, 4, 1]), count_key("jaywalking", 365): np.array([1, 0, 1])}
    assert again(env).tolist() == cond(env).tolist() == [True, False, False]
    assert again.counts == cond.counts and again.fields == cond.fields


def test_fieldspec_validation() -> None:
    with pytest.raises(ValueError):
        FieldSpec("category")
    with pytest.raises(ValueError):
        FieldSpec("ordered", ("A", "A"))
    with pytest.raises(ValueError):
        FieldSpec("number", ("A",))
    with pytest.raises(ValueError):
        FieldSpec("text")  # type: ignore[arg-type]


# ---------------------------------------------------------------------------- errors
@pytest.mark.parametrize(
    ("text", "column", "message", "hint"),
    [
        # names
        ("scroe > 5", 1, "unknown name 'scroe'", "did you mean 'score'?"),
        ("xyz > 5", 1, "unknown name 'xyz'", "fields: 'blacklisted', 'days_listed'"),
        ("score > 1 and incme > 2", 15, "unknown name 'incme'", "did you mean 'income'?"),
        ("tier == A", 9, "unknown name 'A'", "put it in quotes"),
        ("drunk_driving > 0", 1, "unknown name 'drunk_driving'", "count(drunk_driving"),
        # behaviours and count()
        ("count(jaywalk) > 1", 7, "unknown behaviour 'jaywalk'", "did you mean 'jaywalking'?"),
        ("count(speeding) > 1", 7, "unknown behaviour 'speeding'", "behaviours: 'drunk_driving'"),
        ("count(jaywalking, days=0) > 1", 24, "whole number from 1 to 36500", None),
        ("count(jaywalking, days=1.5) > 1", 24, "whole number", None),
        ("count(jaywalking, days=-3) > 1", 24, "whole number", None),
        ("count(jaywalking, days=36501) > 1", 24, "got 36501", None),
        ("count(jaywalking, day=30) > 1", 19, "no argument 'day'", "days=N"),
        ("count(jaywalking, 30) > 1", 1, "count() takes one behaviour", "keyword"),
        ("count() > 1", 1, "count() takes one behaviour", None),
        ("count(score + 1) > 1", 7, "behaviour name", None),
        ("count(jaywalking, days=3, days=4) > 1", 27, "days is given twice", None),
        # functions
        ("cnt(jaywalking) > 1", 1, "unknown function 'cnt'", "did you mean 'count'? functions: abs, count, max, min"),
        ("sqrt(score) > 1", 1, "unknown function 'sqrt'", "functions: abs, count, max, min"),
        ("abs(score, 1) > 1", 1, "abs() takes exactly one number", None),
        ("min(score) > 1", 1, "min() needs at least two numbers", None),
        ("max(score, blacklisted) > 1", 12, "max() needs numbers", None),
        # levels
        ("tier >= 'a'", 9, "'a' is not a level of 'tier'", "did you mean 'A'?"),
        ("region == 'eastt'", 11, "'eastt' is not a level of 'region'", "did you mean 'east'?"),
        ("region in ('east', 'north')", 20, "'north' is not a level", "levels of 'region': 'east', 'centre', 'west'"),
        ("tier >= 'E'", 9, "not a level of 'tier'", "(best first): 'AAA', 'AA', 'A', 'B', 'C', 'D'"),
        # types
        ("score", 1, "a condition must be true or false; got 'score' (a number)", "compare"),
        ("score + 1", 1, "a condition must be true or false", None),
        ("count(jaywalking)", 1, "got a count (a number)", None),
        ("region", 1, "must be true or false", "region == 'east'"),
        ("'east'", 1, "must be true or false; got the string 'east'", None),
        ("score and blacklisted", 1, "'and' needs true/false; got 'score' (a number)", None),
        ("blacklisted or 3", 16, "'or' needs true/false; got a number", None),
        ("not score", 5, "'not' needs true/false", None),
        ("blacklisted + 1 > 0", 1, "'+' needs numbers; got 'blacklisted' (true/false)", None),
        ("score * region > 0", 9, "'*' needs numbers; got 'region' (a category)", "holds levels"),
        ("-blacklisted", 2, "'-' needs numbers", None),
        ("blacklisted == 1", 13, "cannot compare 'blacklisted' (true/false) with a number", "on its own"),
        ("blacklisted < true", 13, "'<' needs numbers", None),
        ("region < 'west'", 8, "'region' is an unordered category", None),
        ("region == group", 8, "cannot compare two category fields", None),
        ("tier == 3", 9, "cannot compare 'tier' (an ordered category) with a number", "levels: 'AAA'"),
        ("score == 'x'", 10, "cannot compare the string 'x' with 'score' (a number)", None),
        ("score == '900'", 10, "cannot compare the string '900'", "remove the quotes"),
        ("'a' == 'b'", 1, "cannot compare two strings", None),
        ("region in ('east', 1)", 20, "list its levels in quotes", None),
        ("score in (1, 'a')", 14, "must hold a number values", None),
        ("score in (1, income)", 14, "may only hold literal values", None),
        ("score in ()", 10, "is empty", None),
        ("'a' in ('a',)", 1, "'in' needs a category field", None),
        # chained comparisons
        ("1 < score < 3", 11, "comparisons cannot be chained", "1 < score and score < 3"),
        ("score == income == 1", 17, "comparisons cannot be chained", "and"),
        # syntax
        ("(score > 1", 11, "the condition ends too early; expected ')'", "'(' is not closed"),
        ("score in ('C'", 14, "ends too early", "'(' is not closed"),
        ("score in ['C'", 14, "ends too early", "'[' is not closed"),
        ("score > 1)", 10, "unexpected ')'", "no matching '('"),
        ("score > 1 foo", 11, "unexpected name 'foo'", "join conditions with 'and' or 'or'"),
        ("score > 1 2", 11, "unexpected number 2", None),
        ("score >", 8, "ends too early; expected a value", None),
        ("score = 5", 7, "unexpected '='", "'=='"),
        ("score > 1 AND blacklisted", 11, "unexpected name 'AND'", "write 'and'"),
        ("score > 1 && blacklisted", 11, "unexpected character '&'", "'and'"),
        ("score > 1 || blacklisted", 11, "unexpected character '|'", "'or'"),
        ("!blacklisted", 1, "unexpected character '!'", "'not'"),
        ("score > 'abc", 9, "a string is not closed", "closing '"),
        ("tier in 'C'", 9, "unexpected string 'C'", "parentheses"),
        ("score # 1", 7, "unexpected character '#'", None),
        ("and score", 1, "unexpected 'and'", None),
        ("score > 1 and", 14, "ends too early", None),
        ("", None, "the condition is empty", None),
        ("   \n ", None, "the condition is empty", None),
    ],
)
def test_errors(text: str, column: int | None, message: str, hint: str | None) -> None:
    error = errors(text)
    assert error.column == column
    assert message in error.message
    if hint is not None:
        assert error.hint is not None and hint in error.hint
    assert error.expression == text.replace("\n", " ")
    assert message in str(error)


def test_error_text_points_at_the_column() -> None:
    text = str(errors("score > 1 and scroe < 2"))
    assert text.splitlines() == [
        "bad condition (column 15): unknown name 'scroe'",
        "  score > 1 and scroe < 2",
        "                ^",
        (
            "  hint: did you mean 'score'? fields: 'blacklisted', 'days_listed', 'friends_mean', 'group', "
            "'income', 'month', 'redlisted', 'region', 'score', 'tier'"
        ),
    ]


def test_error_column_in_multiline_expression() -> None:
    error = errors("score > 1\nand scroe < 2")
    assert error.column == 15
    assert error.expression == "score > 1 and scroe < 2"


def test_too_long() -> None:
    text = " or ".join(["blacklisted"] * 200)
    assert len(text) > MAX_LENGTH
    error = errors(text)
    assert "too long" in error.message and str(MAX_LENGTH) in error.message


def test_long_flat_chains_are_fine() -> None:
    # and/or/+ chains are flat, so a long list does not count as deep nesting
    text = " or ".join(["blacklisted"] * 120)
    assert len(text) < MAX_LENGTH
    assert run(text, blacklisted=[True, False]) == [True, False]
    assert run(" + ".join(["score"] * 200) + " == 200", score=[1.0, 2.0]) == [True, False]


def nested(levels: int) -> str:
    """``(not (not (... blacklisted or redlisted) or redlisted) or redlisted)``: two tree levels per wrap."""
    text = "blacklisted"
    for _ in range(levels):
        text = f"(not {text} or redlisted)"
    return text


@pytest.mark.parametrize(
    "text",
    [
        nested(MAX_DEPTH // 2 + 1),
        "not " * (MAX_DEPTH + 1) + "blacklisted",
        "-" * (MAX_DEPTH + 1) + "score > 0",
        "abs(" * 70 + "score" + ")" * 70 + " > 0",
    ],
)
def test_too_deep(text: str) -> None:
    error = errors(text)
    assert "nested too deeply" in error.message
    assert error.column is not None and 1 <= error.column <= len(text)


def test_deep_but_allowed_nesting() -> None:
    text = "not " * 20 + "blacklisted"
    assert run(text, blacklisted=[True, False]) == [True, False]
    # an even number of wraps: blacklisted or redlisted, after negating blacklisted an even number of times
    env = dict(blacklisted=[True, False, True], redlisted=[False, False, True])
    assert run(nested(MAX_DEPTH // 2 - 4), **env) == [True, False, True]
    assert run(nested(MAX_DEPTH // 2 - 5), **env) == [False, True, True]
    # parentheses alone do not deepen the tree
    assert run("(" * 300 + "score > 0" + ")" * 300, score=[1.0, -1.0]) == [True, False]


def test_non_text_is_an_error() -> None:
    with pytest.raises(ConditionError, match="must be text"):
        compile_condition(5, FIELDS, BEHAVIOURS)  # type: ignore[arg-type]
    with pytest.raises(ConditionError, match="must be text"):
        compile_condition(None, FIELDS, BEHAVIOURS)  # type: ignore[arg-type]


def test_no_fields_or_behaviours() -> None:
    with pytest.raises(ConditionError) as info:
        compile_condition("score > 1", {}, [])
    assert info.value.hint == "no fields are defined"
    with pytest.raises(ConditionError) as info:
        compile_condition("count(x) > 1", {}, [])
    assert info.value.hint == "no behaviours are defined"
