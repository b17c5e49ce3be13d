"""The condition language of rulebooks.

Rulebooks say *when* something happens with short expressions such as
``"blacklisted or tier in ('C', 'D')"`` or
``"score < 900 and count(drunk_driving, days=365) >= 1"``.

:func:`compile_condition` parses the text with a LALR grammar (lark), checks
names and types, and compiles the result into a tree of closures that evaluate
vectorised with numpy over per-person arrays. Nothing is ever evaluated as
Python. :meth:`Condition.evaluate_one` is a plain per-person interpreter of the
same checked tree; tests use it as the reference for the vectorised evaluator.

Pipeline: text -> lark parse tree -> typed AST (names, types and levels checked,
constants folded) -> numpy closures. Every failure is a :class:`ConditionError`
with a 1-based column into the expression.

Numbers are float64 throughout (IEEE: ``x/0`` is ``±inf``, ``0/0`` is ``nan``,
comparisons with ``nan`` are false except ``!=``). Category fields arrive as
integer codes indexing :attr:`FieldSpec.levels`.
"""

from __future__ import annotations

import math
import re
from collections.abc import Callable, Collection, Iterable, Mapping
from dataclasses import dataclass
from typing import Literal

import numpy as np
from lark import Lark, Token, Tree
from lark.exceptions import LarkError, UnexpectedCharacters, UnexpectedInput, UnexpectedToken

from socialcredit.errors import ConditionError, did_you_mean

__all__ = [
    "DEFAULT_DAYS",
    "FUNCTIONS",
    "MAX_DEPTH",
    "MAX_LENGTH",
    "Condition",
    "FieldSpec",
    "compile_condition",
    "count_key",
]

MAX_LENGTH = 2000
"""Longest accepted condition, in characters."""
MAX_DEPTH = 64
"""Deepest accepted nesting of the parse tree: ``not``, unary minus, calls, and/or/comparisons
inside parentheses each add a level (redundant parentheses and flat ``a or b or c`` chains do not)."""
DEFAULT_DAYS = 365
"""Window of ``count(behaviour)`` when ``days=`` is not given."""
FUNCTIONS = ("abs", "count", "max", "min")
"""The only functions a condition may call."""

Env = Mapping[str, np.ndarray]
Kind = Literal["number", "bool", "category", "ordered"]
_Type = Literal["number", "bool", "string", "category"]


# ---------------------------------------------------------------------------- public helpers
@dataclass(frozen=True)
class FieldSpec:
    """What a field holds, so conditions can be type-checked before they run.

    ``category`` and ``ordered`` fields are stored as integer codes indexing
    ``levels``. For ``ordered`` fields ``levels[0]`` is the best level and
    "better is greater": ``tier >= 'A'`` means A or better.
    """

    kind: Kind
    levels: tuple[str, ...] = ()

    def __post_init__(self) -> None:
        if self.kind not in ("number", "bool", "category", "ordered"):
            raise ValueError(f"unknown field kind {self.kind!r}")
        if self.kind in ("category", "ordered"):
            if not self.levels:
                raise ValueError(f"a {self.kind} field needs at least one level")
            if len(set(self.levels)) != len(self.levels):
                raise ValueError(f"levels must be unique: {self.levels!r}")
        elif self.levels:
            raise ValueError(f"a {self.kind} field has no levels")


def count_key(behaviour: str, days: int) -> str:
    """Env key holding, per person, how often ``behaviour`` happened in the last ``days`` days."""
    return f"count({behaviour},{days})"


# ---------------------------------------------------------------------------- grammar
# Flat (n-ary) rules for and/or/+/* keep the tree shallow for long chains.
# Comparisons accept a chain so that `a < b < c` gets a helpful error, not a parse error.
_GRAMMAR = r"""
?start: or_test

?or_test: and_test (_OR and_test)*
?and_test: not_test (_AND not_test)*
?not_test: _NOT not_test                        -> not_
         | comparison
?comparison: sum
           | sum ((EQ | NE | LT | LE | GT | GE) sum)+   -> compare
           | sum _IN seq                        -> in_
           | sum _NOT _IN seq                   -> not_in
?sum: product ((PLUS | MINUS) product)*
?product: unary ((STAR | SLASH) unary)*
?unary: MINUS unary                             -> neg
      | PLUS unary                              -> pos
      | atom
?atom: NUMBER                                   -> number
     | STRING                                   -> string
     | NAME                                     -> var
     | NAME _LPAR [arglist] _RPAR               -> call
     | _LPAR or_test _RPAR

arglist: arg (_COMMA arg)* _COMMA?
?arg: or_test
    | NAME _EQUAL or_test                       -> kwarg

seq: _LPAR [items] _RPAR
   | _LSQB [items] _RSQB
items: or_test (_COMMA or_test)* _COMMA?

NUMBER: /([0-9]+(\.[0-9]*)?|\.[0-9]+)([eE][+-]?[0-9]+)?/
STRING: /'[^']*'|"[^"]*"/
NAME: /[A-Za-z_][A-Za-z0-9_]*/
EQ: "=="
NE: "!="
LE: "<="
GE: ">="
LT: "<"
GT: ">"
PLUS: "+"
MINUS: "-"
STAR: "*"
SLASH: "/"
_LPAR: "("
_RPAR: ")"
_LSQB: "["
_RSQB: "]"
_COMMA: ","
_EQUAL: "="
_AND: "and"
_OR: "or"
_NOT: "not"
_IN: "in"

%ignore /[ \t\r\n]+/
"""

# The basic lexer (not the contextual one) so that keywords are keywords everywhere:
# with the contextual lexer "and score" would read "and" as a name.
_PARSER = Lark(_GRAMMAR, parser="lalr", lexer="basic", propagate_positions=True, maybe_placeholders=True)

# How lark's terminal names read in an error message, in the order they are listed.
_TOKEN_TEXT: dict[str, str] = {
    "_OR": "'or'",
    "_AND": "'and'",
    "_IN": "'in'",
    "_NOT": "'not'",
    "EQ": "'=='",
    "NE": "'!='",
    "LT": "'<'",
    "LE": "'<='",
    "GT": "'>'",
    "GE": "'>='",
    "PLUS": "'+'",
    "MINUS": "'-'",
    "STAR": "'*'",
    "SLASH": "'/'",
    "_LPAR": "'('",
    "_RPAR": "')'",
    "_LSQB": "'['",
    "_RSQB": "']'",
    "_COMMA": "','",
    "_EQUAL": "'='",
    "NUMBER": "a number",
    "STRING": "a string",
    "NAME": "a name",
    "$END": "the end of the condition",
}
_COMPARISON_TOKENS = {"EQ", "NE", "LT", "LE", "GT", "GE"}
_ARITHMETIC_TOKENS = {"PLUS", "MINUS", "STAR", "SLASH"}
_KEYWORDS = {"and", "or", "not", "in"}

# `a OP b` is the same as `b FLIP[OP] a`.
_FLIP = {"==": "==", "!=": "!=", "<": ">", "<=": ">=", ">": "<", ">=": "<="}
_ORDERING = {"<", "<=", ">", ">="}


# ---------------------------------------------------------------------------- typed AST
@dataclass(frozen=True)
class _Const:
    value: float | bool | str
    type: _Type
    pos: int


@dataclass(frozen=True)
class _Field:
    name: str
    type: _Type  # number, bool or category
    spec: FieldSpec
    pos: int


@dataclass(frozen=True)
class _Count:
    behaviour: str
    days: int
    pos: int
    type: _Type = "number"


@dataclass(frozen=True)
class _Neg:
    x: _Node
    pos: int
    type: _Type = "number"


@dataclass(frozen=True)
class _Abs:
    x: _Node
    pos: int
    type: _Type = "number"


@dataclass(frozen=True)
class _Arith:
    """``first op1 x1 op2 x2 ...`` evaluated left to right (ops: + - * /)."""

    first: _Node
    rest: tuple[tuple[str, _Node], ...]
    pos: int
    type: _Type = "number"


@dataclass(frozen=True)
class _MinMax:
    op: str  # "min" or "max"
    args: tuple[_Node, ...]
    pos: int
    type: _Type = "number"


@dataclass(frozen=True)
class _Compare:
    """Comparison of two numbers, or ``==``/``!=`` of two bools."""

    op: str
    left: _Node
    right: _Node
    pos: int
    type: _Type = "bool"


@dataclass(frozen=True)
class _CodeCompare:
    """``codes OP code`` on a category field; ordered comparisons are already turned into code order."""

    field: str
    spec: FieldSpec
    op: str
    code: int
    pos: int
    type: _Type = "bool"


@dataclass(frozen=True)
class _CodeIn:
    field: str
    spec: FieldSpec
    codes: frozenset[int]
    negate: bool
    pos: int
    type: _Type = "bool"


@dataclass(frozen=True)
class _ValueIn:
    """``x in (literals)`` for a number or bool ``x``."""

    x: _Node
    values: tuple[float | bool, ...]
    negate: bool
    pos: int
    type: _Type = "bool"


@dataclass(frozen=True)
class _Not:
    x: _Node
    pos: int
    type: _Type = "bool"


@dataclass(frozen=True)
class _BoolOp:
    op: str  # "and" or "or"
    items: tuple[_Node, ...]
    pos: int
    type: _Type = "bool"


_Node = (
    _Const | _Field | _Count | _Neg | _Abs | _Arith | _MinMax
    | _Compare | _CodeCompare | _CodeIn | _ValueIn | _Not | _BoolOp
)


def _children(node: _Node) -> tuple[_Node, ...]:
    """Sub-expressions of a node (leaves reading the env have none)."""
    match node:
        case _Neg(x=x) | _Abs(x=x) | _Not(x=x) | _ValueIn(x=x):
            return (x,)
        case _Arith(first=first, rest=rest):
            return (first, *(x for _, x in rest))
        case _MinMax(args=args):
            return args
        case _Compare(left=left, right=right):
            return (left, right)
        case _BoolOp(items=items):
            return items
    return ()


def _has_arithmetic(node: _Node) -> bool:
    """Whether the expression computes numbers (+ - * /, negation, abs, min, max) rather than only comparing them."""
    if isinstance(node, _Arith | _Neg | _Abs | _MinMax):
        return True
    return any(_has_arithmetic(x) for x in _children(node))


# ---------------------------------------------------------------------------- reference (scalar) interpreter
def _div(a: float, b: float) -> float:
    """IEEE division of Python floats (Python raises on /0; numpy does not)."""
    if b == 0.0:
        if a == 0.0 or math.isnan(a):
            return math.nan
        return math.copysign(math.inf, a) * math.copysign(1.0, b)
    return a / b


_SCALAR_ARITH: dict[str, Callable[[float, float], float]] = {
    "+": lambda a, b: a + b,
    "-": lambda a, b: a - b,
    "*": lambda a, b: a * b,
    "/": _div,
}
_SCALAR_COMPARE: dict[str, Callable[[object, object], bool]] = {
    "==": lambda a, b: a == b,
    "!=": lambda a, b: a != b,
    "<": lambda a, b: a < b,  # type: ignore[operator]
    "<=": lambda a, b: a <= b,  # type: ignore[operator]
    ">": lambda a, b: a > b,  # type: ignore[operator]
    ">=": lambda a, b: a >= b,  # type: ignore[operator]
}


def _scalar_code(value: object, spec: FieldSpec) -> int:
    """A category value as its code; accepts the code itself or the level name."""
    if isinstance(value, str):
        return spec.levels.index(value)
    return int(value)  # type: ignore[call-overload]


def _eval_one(node: _Node, values: Mapping[str, object]) -> float | bool | str:
    """Evaluate ``node`` for one person, with plain Python scalars."""
    match node:
        case _Const(value=value):
            return value
        case _Field(name=name, type="number"):
            return float(values[name])  # type: ignore[arg-type]
        case _Field(name=name, type="bool"):
            return bool(values[name])
        case _Field(name=name, spec=spec):
            return _scalar_code(values[name], spec)
        case _Count(behaviour=b, days=d):
            return float(values[count_key(b, d)])  # type: ignore[arg-type]
        case _Neg(x=x):
            return -_eval_one(x, values)  # type: ignore[operator]
        case _Abs(x=x):
            return abs(_eval_one(x, values))  # type: ignore[arg-type]
        case _Arith(first=first, rest=rest):
            acc = _eval_one(first, values)
            for op, x in rest:
                acc = _SCALAR_ARITH[op](acc, _eval_one(x, values))  # type: ignore[arg-type]
            return acc
        case _MinMax(op=op, args=args):
            xs = [_eval_one(a, values) for a in args]
            if any(math.isnan(x) for x in xs):  # type: ignore[arg-type]
                return math.nan
            # + 0.0 turns -0.0 into 0.0, so the result does not depend on argument order
            return (min(xs) if op == "min" else max(xs)) + 0.0  # type: ignore[type-var, operator]
        case _Compare(op=op, left=left, right=right):
            return _SCALAR_COMPARE[op](_eval_one(left, values), _eval_one(right, values))
        case _CodeCompare(field=f, spec=spec, op=op, code=code):
            return _SCALAR_COMPARE[op](_scalar_code(values[f], spec), code)
        case _CodeIn(field=f, spec=spec, codes=codes, negate=negate):
            return (_scalar_code(values[f], spec) in codes) != negate
        case _ValueIn(x=x, values=literals, negate=negate):
            v = _eval_one(x, values)
            return any(v == lit for lit in literals) != negate
        case _Not(x=x):
            return not _eval_one(x, values)
        case _BoolOp(op="and", items=items):
            return all(_eval_one(i, values) for i in items)
        case _BoolOp(items=items):
            return any(_eval_one(i, values) for i in items)
    raise TypeError(f"unknown node {node!r}")  # pragma: no cover


# ---------------------------------------------------------------------------- vectorised compiler
_VecFn = Callable[[Env], np.ndarray]


@dataclass(frozen=True)
class _Vec:
    """A compiled sub-expression: a constant ``value`` (when ``fn`` is None) or a function of the env.

    ``owned`` means ``fn`` returns a fresh array that later steps may overwrite in
    place; otherwise the array may alias an env array and must never be written to.
    """

    fn: _VecFn | None
    value: object = None
    owned: bool = False


_UFUNC_ARITH: dict[str, np.ufunc] = {"+": np.add, "-": np.subtract, "*": np.multiply, "/": np.divide}
_UFUNC_COMPARE: dict[str, np.ufunc] = {
    "==": np.equal,
    "!=": np.not_equal,
    "<": np.less,
    "<=": np.less_equal,
    ">": np.greater,
    ">=": np.greater_equal,
}


def _get(v: _Vec, env: Env) -> object:
    """The constant, or the array the compiled function computes."""
    return v.value if v.fn is None else v.fn(env)


def _codes(env: Env, name: str) -> np.ndarray:
    """Integer codes of a category field (any numeric or bool dtype is accepted)."""
    a = np.asarray(env[name])
    if a.dtype.kind not in "iu":
        a = a.astype(np.intp)
    return a


def _chain(first: _Vec, rest: list[tuple[np.ufunc, _Vec]]) -> _VecFn:
    """``first u1 x1 u2 x2 ...`` left to right, in place once the accumulator is a fresh array."""

    def run(env: Env) -> np.ndarray:
        acc = _get(first, env)
        owned = first.owned
        for ufunc, part in rest:
            rhs = _get(part, env)
            if owned and isinstance(acc, np.ndarray):
                ufunc(acc, rhs, out=acc)
            else:
                acc = ufunc(acc, rhs)
                owned = True
        return acc  # type: ignore[return-value]

    return run


def _unary(ufunc: np.ufunc, x: _Vec) -> _VecFn:
    """Apply a one-argument ufunc, in place when the operand is a fresh array."""
    fn = x.fn
    assert fn is not None  # constants are folded before compiling
    if x.owned:
        return lambda env: _inplace(ufunc, fn(env))
    return lambda env: ufunc(fn(env))


def _inplace(ufunc: np.ufunc, a: np.ndarray) -> np.ndarray:
    """Apply ``ufunc`` to a fresh array, overwriting it (saves an allocation on big populations)."""
    return ufunc(a, out=a)


def _vec(node: _Node) -> _Vec:
    """Compile a checked AST node into a numpy closure."""
    if isinstance(node, _Const):
        return _Vec(None, node.value)
    if isinstance(node, _Field):
        name = node.name
        if node.type == "number":
            return _Vec(lambda env: np.asarray(env[name], dtype=np.float64))
        if node.type == "bool":
            return _Vec(lambda env: np.asarray(env[name], dtype=bool))
        raise AssertionError("category fields are only read through comparisons")
    if isinstance(node, _Count):
        key = count_key(node.behaviour, node.days)
        return _Vec(lambda env: np.asarray(env[key], dtype=np.float64))
    if isinstance(node, _Neg):
        return _Vec(_unary(np.negative, _vec(node.x)), owned=True)
    if isinstance(node, _Abs):
        return _Vec(_unary(np.absolute, _vec(node.x)), owned=True)
    if isinstance(node, _Not):
        return _Vec(_unary(np.logical_not, _vec(node.x)), owned=True)
    if isinstance(node, _Arith):
        rest = [(_UFUNC_ARITH[op], _vec(x)) for op, x in node.rest]
        return _Vec(_chain(_vec(node.first), rest), owned=True)
    if isinstance(node, _MinMax):
        ufunc = np.minimum if node.op == "min" else np.maximum
        reduce = _chain(_vec(node.args[0]), [(ufunc, _vec(a)) for a in node.args[1:]])
        # + 0.0 turns -0.0 into 0.0 so the result does not depend on argument order (as in _eval_one)
        return _Vec(lambda env: _inplace_add_zero(reduce(env)), owned=True)
    if isinstance(node, _BoolOp):
        ufunc = np.logical_and if node.op == "and" else np.logical_or
        parts = [_vec(i) for i in node.items]
        return _Vec(_chain(parts[0], [(ufunc, p) for p in parts[1:]]), owned=True)
    if isinstance(node, _Compare):
        compare = _UFUNC_COMPARE[node.op]
        left, right = _vec(node.left), _vec(node.right)
        return _Vec(lambda env: compare(_get(left, env), _get(right, env)), owned=True)
    if isinstance(node, _CodeCompare):
        return _Vec(_code_compare(node.field, _UFUNC_COMPARE[node.op], node.code), owned=True)
    if isinstance(node, _CodeIn):
        return _Vec(_code_in(node), owned=True)
    if isinstance(node, _ValueIn):
        return _Vec(_value_in(node), owned=True)
    raise TypeError(f"unknown node {node!r}")  # pragma: no cover


def _inplace_add_zero(a: np.ndarray) -> np.ndarray:
    """Canonicalise -0.0 to 0.0 in place."""
    return np.add(a, 0.0, out=a)


def _code_compare(name: str, compare: np.ufunc, code: int) -> _VecFn:
    """``codes OP code`` (numpy compares small integer dtypes with any Python int correctly)."""
    return lambda env: compare(_codes(env, name), code)


def _code_in(node: _CodeIn) -> _VecFn:
    """Membership of category codes in a set of levels, negated for ``not in``."""
    name = node.field
    member = _membership(sorted(node.codes), len(node.spec.levels))
    negate = node.negate

    def run(env: Env) -> np.ndarray:
        out = member(_codes(env, name))
        return np.logical_not(out, out=out) if negate else out

    return run


def _membership(codes: list[int], n_levels: int) -> Callable[[np.ndarray], np.ndarray]:
    """Fastest test of ``code in codes``.

    Measured on 1M int8 codes, a comparison takes ~0.03 ms but a lookup
    ``table[codes]`` ~1.3 ms (``np.take`` ~0.8 ms). So a run of neighbouring
    levels (the usual ``tier in ('C', 'D')``) becomes two comparisons, a few
    scattered levels a chain of ``==``, and only many scattered levels a table
    (which, unlike the others, needs valid codes ``0 <= code < n_levels``).
    """
    lo, hi = codes[0], codes[-1]
    if lo == hi:
        return lambda a: np.equal(a, lo)
    if hi - lo + 1 == len(codes):
        return lambda a: _between(a, lo, hi)
    if len(codes) <= 8:
        return lambda a: _equal_any(a, codes)
    table = np.zeros(n_levels, dtype=bool)
    table[codes] = True
    return lambda a: np.take(table, a)


def _between(a: np.ndarray, lo: int, hi: int) -> np.ndarray:
    """``lo <= a <= hi`` as a fresh bool array."""
    out = np.greater_equal(a, lo)
    return np.logical_and(out, np.less_equal(a, hi), out=out)


def _equal_any(a: np.ndarray, values: list[int]) -> np.ndarray:
    """``a == v1 | a == v2 | ...`` as a fresh bool array."""
    out = np.equal(a, values[0])
    for v in values[1:]:
        np.logical_or(out, np.equal(a, v), out=out)
    return out


def _value_in(node: _ValueIn) -> _VecFn:
    """``x in (v1, v2, ...)`` for numbers or bools, as ``x == v1 | x == v2 | ...``."""
    x = _vec(node.x)
    literals = node.values
    negate = node.negate

    def run(env: Env) -> np.ndarray:
        v = _get(x, env)
        acc = np.equal(v, literals[0])
        for lit in literals[1:]:
            np.logical_or(acc, np.equal(v, lit), out=acc)
        if negate:
            np.logical_not(acc, out=acc)
        return acc

    return run


# ---------------------------------------------------------------------------- checking: parse tree -> typed AST
def _start(t: Tree | Token | None, default: int = 0) -> int:
    """0-based start offset of a parse-tree node in the expression."""
    if isinstance(t, Token):
        return t.start_pos if t.start_pos is not None else default
    if isinstance(t, Tree):
        return getattr(t.meta, "start_pos", default)
    return default


def _end(t: Tree | Token, default: int = 0) -> int:
    """0-based end offset (exclusive) of a parse-tree node."""
    if isinstance(t, Token):
        return t.end_pos if t.end_pos is not None else default
    return getattr(t.meta, "end_pos", default)


def _listing(names: Iterable[str], limit: int = 40) -> str:
    """``'a', 'b', 'c'``, shortened after ``limit`` names."""
    names = list(names)
    shown = ", ".join(f"'{n}'" for n in names[:limit])
    if len(names) > limit:
        shown += f", ... ({len(names)} in all)"
    return shown


def _join(parts: list[str]) -> str:
    """``a, b or c``."""
    return parts[0] if len(parts) == 1 else ", ".join(parts[:-1]) + " or " + parts[-1]


_WHITESPACE = re.compile(r"\s")
_NUMBER = re.compile(r"[+-]?(\d+(\.\d*)?|\.\d+)([eE][+-]?\d+)?")
_TYPE_WORDS = {"number": "a number", "bool": "true/false", "string": "a string", "category": "a category"}


class _Checker:
    """Turns a lark parse tree into a typed AST, raising ConditionError at the first problem."""

    def __init__(
        self, text: str, display: str, fields: Mapping[str, FieldSpec], behaviours: Collection[str], max_days: int
    ) -> None:
        self.text = text
        self.display = display
        self.fields = fields
        self.behaviours = behaviours
        self.max_days = max_days
        self.used_fields: set[str] = set()
        self.counts: set[tuple[str, int]] = set()

    # ------------------------------------------------------------ helpers
    def error(self, message: str, pos: int | None, hint: str | None = None) -> ConditionError:
        return ConditionError(message, self.display, None if pos is None else pos + 1, hint)

    def source(self, t: Tree | Token) -> str:
        return self.display[_start(t) : _end(t)].strip()

    def describe(self, node: _Node) -> str:
        """How a value reads in an error message, e.g. "'region' (a category)"."""
        if isinstance(node, _Field):
            word = "an ordered category" if node.spec.kind == "ordered" else _TYPE_WORDS[node.type]
            return f"'{node.name}' ({word})"
        if isinstance(node, _Const) and node.type == "string":
            return f"the string '{node.value}'"
        if isinstance(node, _Count):
            return "a count (a number)"
        return _TYPE_WORDS[node.type]

    def example_category(self) -> str:
        """A valid ``field == 'level'`` for hints, from the fields at hand when possible."""
        for name, spec in self.fields.items():
            if spec.kind in ("category", "ordered"):
                return f"{name} == '{spec.levels[0]}'"
        return "region == 'east'"

    def fix_hint(self, node: _Node, want: str) -> str | None:
        """Hint on how to turn ``node`` into a value of type ``want``."""
        if want == "bool":
            if node.type == "number":
                example = f"{node.name} > 0" if isinstance(node, _Field) else "score < 600"
                return f"compare the number with something, e.g. {example}"
            if isinstance(node, _Field) and node.type == "category":
                return f"compare it with a level, e.g. {node.name} == '{node.spec.levels[0]}'"
            if node.type == "string":
                example = self.example_category()
                return f"a string is a level of a category field; compare the field with it, e.g. {example}"
        if want == "number" and isinstance(node, _Field):
            if node.type == "category":
                example = f"{node.name} == '{node.spec.levels[0]}'"
                return f"'{node.name}' holds levels, not numbers; compare it with a level, e.g. {example}"
            if node.type == "bool":
                return f"'{node.name}' is true or false; it cannot be used in arithmetic"
        if want == "number" and isinstance(node, _Const) and _NUMBER.fullmatch(str(node.value).strip()):
            return "remove the quotes to write a number"
        return None

    def need(self, node: _Node, want: str, what: str) -> _Node:
        """Check that ``node`` has type ``want``; ``what`` names the operator or function that needs it."""
        if node.type != want:
            words = "true/false" if want == "bool" else "numbers" if want == "number" else _TYPE_WORDS[want]
            raise self.error(f"{what} needs {words}; got {self.describe(node)}", node.pos, self.fix_hint(node, want))
        return node

    def fold(self, node: _Node) -> _Node:
        """Replace a node whose operands are all constants by its value."""
        kids = _children(node)
        if kids and all(isinstance(k, _Const) for k in kids):
            return _Const(_eval_one(node, {}), node.type, node.pos)
        return node

    def level_code(self, field: _Field, level: str, pos: int) -> int:
        """Index of ``level`` in the field's levels, or a ConditionError listing them."""
        levels = field.spec.levels
        if level in levels:
            return levels.index(level)
        same_case = [lv for lv in levels if lv.lower() == level.lower()]
        guess = same_case[0] if same_case else did_you_mean(level, levels)
        order = " (best first)" if field.spec.kind == "ordered" else ""
        hint = (f"did you mean '{guess}'? " if guess else "") + f"levels of '{field.name}'{order}: {_listing(levels)}"
        raise self.error(f"'{level}' is not a level of '{field.name}'", pos, hint)

    # ------------------------------------------------------------ the tree
    def build(self, t: Tree) -> _Node:
        """Check one parse-tree node (recursively) and return its typed AST."""
        pos = _start(t)
        kind = t.data
        c = t.children
        if kind == "number":
            return _Const(float(c[0]), "number", pos)
        if kind == "string":
            return _Const(str(c[0])[1:-1], "string", pos)
        if kind == "var":
            return self.name(c[0])
        if kind == "call":
            return self.call(t)
        if kind == "neg":
            return self.fold(_Neg(self.need(self.build(c[1]), "number", "'-'"), pos))
        if kind == "pos":
            return self.need(self.build(c[1]), "number", "'+'")
        if kind in ("sum", "product"):
            first = self.need(self.build(c[0]), "number", f"'{c[1]}'")
            rest = tuple((str(op), self.need(self.build(x), "number", f"'{op}'")) for op, x in zip(c[1::2], c[2::2]))
            return self.fold(_Arith(first, rest, pos))
        if kind == "compare":
            return self.compare(t)
        if kind in ("in_", "not_in"):
            return self.membership(t, negate=kind == "not_in")
        if kind == "not_":
            return self.fold(_Not(self.need(self.build(c[0]), "bool", "'not'"), pos))
        if kind in ("and_test", "or_test"):
            op = "and" if kind == "and_test" else "or"
            return self.bool_op(op, [self.need(self.build(x), "bool", f"'{op}'") for x in c], pos)
        raise self.error(f"unexpected '{self.source(t)}'", pos)  # pragma: no cover (grammar has no other rules)

    def name(self, tok: Token) -> _Node:
        """A bare name: true/false, or a field."""
        name = str(tok)
        pos = _start(tok)
        if name.lower() in ("true", "false"):
            return _Const(name.lower() == "true", "bool", pos)
        spec = self.fields.get(name)
        if spec is not None:
            self.used_fields.add(name)
            type_: _Type = "category" if spec.kind in ("category", "ordered") else spec.kind  # type: ignore[assignment]
            return _Field(name, type_, spec, pos)
        hints: list[str] = []
        for fname, fspec in self.fields.items():
            if name in fspec.levels:
                hints.append(f"'{name}' is a level of '{fname}': put it in quotes, e.g. {fname} == '{name}'")
                break
        if name in self.behaviours:
            hints.append(f"'{name}' is a behaviour: count it, e.g. count({name}, days=365) >= 1")
        if name in FUNCTIONS:
            hints.append(f"'{name}' is a function: call it with parentheses")
        if name.lower() in _KEYWORDS:
            hints.append(f"keywords are lower case: write '{name.lower()}'")
        if not hints:  # nothing more specific to say: list what is valid
            hints.append(f"fields: {_listing(sorted(self.fields))}" if self.fields else "no fields are defined")
        guess = did_you_mean(name, self.fields)
        hint = (f"did you mean '{guess}'? " if guess else "") + "; ".join(hints)
        raise self.error(f"unknown name '{name}'", pos, hint)

    def bool_op(self, op: str, items: list[_Node], pos: int) -> _Node:
        """``and``/``or`` of checked bools, dropping constants that do not matter."""
        neutral = op == "and"  # true and x == x; false or x == x
        kept: list[_Node] = []
        for item in items:
            if isinstance(item, _Const):
                if item.value == neutral:
                    continue
                return _Const(not neutral, "bool", pos)
            kept.append(item)
        if not kept:
            return _Const(neutral, "bool", pos)
        if len(kept) == 1:
            return kept[0]
        return _BoolOp(op, tuple(kept), pos)

    def compare(self, t: Tree) -> _Node:
        """``a OP b`` with type rules per operand kind."""
        c = t.children
        if len(c) > 3:
            a, op1, b, op2, d = (self.source(x) for x in c[:5])
            raise self.error(
                "comparisons cannot be chained",
                _start(c[3]),
                f"join two comparisons with 'and': {a} {op1} {b} and {b} {op2} {d}",
            )
        left, op_tok, right = self.build(c[0]), c[1], self.build(c[2])
        op, op_pos = str(op_tok), _start(op_tok)
        lt, rt = left.type, right.type

        if lt == "category" or rt == "category":
            if lt == rt:
                raise self.error(
                    f"cannot compare two category fields, '{left.name}' and '{right.name}'",  # type: ignore[union-attr]
                    op_pos,
                    f"compare each with a level, e.g. {self.example_category()}",
                )
            flipped = rt == "category"
            field, other = (right, left) if flipped else (left, right)
            assert isinstance(field, _Field)
            if other.type != "string":
                raise self.error(
                    f"cannot compare {self.describe(field)} with {self.describe(other)}",
                    other.pos,
                    f"compare it with a level in quotes, e.g. {field.name} == '{field.spec.levels[0]}'; "
                    f"levels: {_listing(field.spec.levels)}",
                )
            assert isinstance(other, _Const)
            if op in _ORDERING and field.spec.kind != "ordered":
                raise self.error(
                    f"'{field.name}' is an unordered category: it supports ==, !=, in and not in, not '{op}'",
                    op_pos,
                )
            code = self.level_code(field, str(other.value), other.pos)
            # Ordered levels are listed best first and "better is greater": tier >= 'A' is code <= code('A').
            # Written as `'A' <= tier` the operator is already the code operator.
            code_op = op if flipped else _FLIP[op]
            return _CodeCompare(field.name, field.spec, code_op, code, left.pos)

        if lt == "string" or rt == "string":
            string, other = (left, right) if lt == "string" else (right, left)
            if other.type == "string":
                raise self.error(
                    "cannot compare two strings",
                    left.pos,
                    f"strings are levels of category fields; compare a field with one, e.g. {self.example_category()}",
                )
            hint = self.fix_hint(string, "number") if other.type == "number" else None
            raise self.error(f"cannot compare {self.describe(string)} with {self.describe(other)}", string.pos, hint)

        if lt != rt:
            boolean = left if lt == "bool" else right
            hint = (
                f"use '{boolean.name}' on its own, or 'not {boolean.name}'"
                if isinstance(boolean, _Field)
                else "compare true/false only with true/false"
            )
            raise self.error(f"cannot compare {self.describe(left)} with {self.describe(right)}", op_pos, hint)
        if lt == "bool" and op in _ORDERING:
            raise self.error(f"'{op}' needs numbers; true/false values support only == and !=", op_pos)
        return self.fold(_Compare(op, left, right, left.pos))

    def membership(self, t: Tree, negate: bool) -> _Node:
        """``x in (...)`` / ``x not in [...]`` against a list of literals."""
        word = "not in" if negate else "in"
        left = self.build(t.children[0])
        seq = t.children[-1]
        items = seq.children[0]
        if items is None:
            raise self.error(f"the list after '{word}' is empty", _start(seq, left.pos))
        nodes = [self.build(x) for x in items.children]
        for node in nodes:
            if not isinstance(node, _Const):
                raise self.error(
                    f"the list after '{word}' may only hold literal values",
                    node.pos,
                    "write the values themselves, e.g. tier in ('C', 'D') or score in (0, 1000)",
                )
        if isinstance(left, _Field) and left.type == "category":
            codes: set[int] = set()
            for node in nodes:
                if node.type != "string":
                    raise self.error(
                        f"'{left.name}' is a category: list its levels in quotes",
                        node.pos,
                        f"levels: {_listing(left.spec.levels)}",
                    )
                codes.add(self.level_code(left, str(node.value), node.pos))
            return _CodeIn(left.name, left.spec, frozenset(codes), negate, left.pos)
        if left.type == "string":
            raise self.error(
                f"'{word}' needs a category field, a number or true/false on its left; got {self.describe(left)}",
                left.pos,
                f"to test a category field write e.g. {self.example_category().split(' ==')[0]} in ('...', '...')",
            )
        for node in nodes:
            if node.type != left.type:
                raise self.error(
                    f"the list after '{word}' must hold {_TYPE_WORDS[left.type]} values like its left side; "
                    f"got {self.describe(node)}",
                    node.pos,
                )
        values = tuple(n.value for n in nodes)  # type: ignore[union-attr]
        return self.fold(_ValueIn(left, values, negate, left.pos))  # type: ignore[arg-type]

    def call(self, t: Tree) -> _Node:
        """A call of one of the whitelisted functions."""
        name_tok, arglist = t.children
        name, pos = str(name_tok), _start(name_tok)
        args = [] if arglist is None else list(arglist.children)
        keywords = [a for a in args if isinstance(a, Tree) and a.data == "kwarg"]
        positional = [a for a in args if not (isinstance(a, Tree) and a.data == "kwarg")]
        if name not in FUNCTIONS:
            guess = did_you_mean(name, FUNCTIONS)
            hint = (f"did you mean '{guess}'? " if guess else "") + f"functions: {', '.join(FUNCTIONS)}"
            if name in self.fields:
                hint = f"'{name}' is a field, not a function; " + hint
            raise self.error(f"unknown function '{name}'", pos, hint)
        if name == "count":
            return self.count(pos, positional, keywords)
        if keywords:
            raise self.error(f"{name}() takes no keyword arguments", _start(keywords[0]))
        xs = [self.need(self.build(a), "number", f"{name}()") for a in positional]
        if name == "abs":
            if len(xs) != 1:
                raise self.error(f"abs() takes exactly one number; got {len(xs)}", pos, "e.g. abs(score - 1000) < 50")
            return self.fold(_Abs(xs[0], pos))
        if len(xs) < 2:
            raise self.error(f"{name}() needs at least two numbers; got {len(xs)}", pos, f"e.g. {name}(score, 600)")
        return self.fold(_MinMax(name, tuple(xs), pos))

    def count(self, pos: int, positional: list[Tree], keywords: list[Tree]) -> _Node:
        """``count(behaviour, days=N)``: how often a behaviour happened in the last N days."""
        example = f"count({next(iter(sorted(self.behaviours)), 'jaywalking')}, days=365)"
        if len(positional) != 1:
            hint = f"e.g. {example}"
            if len(positional) == 2 and not keywords:
                hint = f"give the window as a keyword, e.g. {example}"
            raise self.error(
                f"count() takes one behaviour and optionally days=N; got {len(positional)} positional arguments",
                pos,
                hint,
            )
        arg = positional[0]
        if arg.data == "var":
            behaviour = str(arg.children[0])
        elif arg.data == "string":
            behaviour = str(arg.children[0])[1:-1]
        else:
            raise self.error("count() needs a behaviour name first", _start(arg), f"e.g. {example}")
        if behaviour not in self.behaviours:
            guess = did_you_mean(behaviour, self.behaviours)
            listing = "no behaviours are defined"
            if self.behaviours:
                listing = f"behaviours: {_listing(sorted(self.behaviours))}"
            hint = (f"did you mean '{guess}'? " if guess else "") + listing
            raise self.error(f"unknown behaviour '{behaviour}'", _start(arg), hint)
        days: int | None = None
        for kw in keywords:
            key_tok, value = kw.children
            if str(key_tok) != "days":
                raise self.error(
                    f"count() has no argument '{key_tok}'",
                    _start(key_tok),
                    f"the only keyword is days=N, e.g. {example}",
                )
            if days is not None:
                raise self.error("days is given twice", _start(key_tok))
            days = self.days(value)
        days = DEFAULT_DAYS if days is None else days
        self.counts.add((behaviour, days))
        return _Count(behaviour, days, pos)

    def days(self, t: Tree) -> int:
        """The ``days=`` value: a whole-number literal from 1 to max_days."""
        wanted = f"days must be a whole number from 1 to {self.max_days}"
        text = str(t.children[0]) if t.data == "number" else ""
        if not text.isdigit():
            raise self.error(f"{wanted}; got '{self.source(t)}'", _start(t))
        value = int(text)
        if not 1 <= value <= self.max_days:
            raise self.error(f"{wanted}; got {value}", _start(t))
        return value


# ---------------------------------------------------------------------------- parse errors
_CHAR_HINTS = {
    "&": "write 'and' instead of '&' or '&&'",
    "|": "write 'or' instead of '|' or '||'",
    "!": "write 'not' to negate ('!=' means 'not equal')",
    "%": "only + - * / are supported",
    "^": "only + - * / are supported",
}


def _expected(names: Iterable[str]) -> str:
    """Readable list of the terminals lark would have accepted."""
    names = set(names)
    if {"NUMBER", "NAME"} <= names:
        return "a value (a number, a name, a 'string' or '(')"
    parts: list[str] = []
    for name, text in _TOKEN_TEXT.items():
        if name not in names:
            continue
        if name == "_NOT":  # after a value, 'not' can only start 'not in'
            text = "'not in'"
        elif name in _COMPARISON_TOKENS:
            text = "a comparison (==, !=, <, <=, >, >=)"
        elif name in _ARITHMETIC_TOKENS:
            text = "an arithmetic operator (+, -, *, /)"
        if text not in parts:
            parts.append(text)
    return _join(parts) if parts else ""


def _describe_token(tok: Token) -> str:
    if tok.type == "NAME":
        return f"name '{tok}'"
    if tok.type == "NUMBER":
        return f"number {tok}"
    if tok.type == "STRING":
        return f"string {tok}"
    return _TOKEN_TEXT.get(tok.type, f"'{tok}'")


def _token_hint(tok: Token, expected: set[str]) -> str | None:
    """A likely fix for an unexpected token."""
    if tok.type == "$END":
        if "_RPAR" in expected:
            return "a '(' is not closed: add ')'"
        if "_RSQB" in expected:
            return "a '[' is not closed: add ']'"
        return None
    if tok.type == "_RPAR" and "_RPAR" not in expected:
        return "this ')' has no matching '('"
    if tok.type == "_RSQB" and "_RSQB" not in expected:
        return "this ']' has no matching '['"
    if tok.type == "_EQUAL":
        return "write '==' to test equality"
    if tok.type == "NAME" and tok.lower() in _KEYWORDS:
        return f"keywords are lower case: write '{tok.lower()}'"
    if {"_LPAR", "_LSQB"} <= expected and "NAME" not in expected:
        return "put the values in parentheses, e.g. tier in ('C', 'D')"
    if tok.type in ("NAME", "NUMBER", "STRING", "_LPAR") and "$END" in expected:
        return "join conditions with 'and' or 'or'"
    return None


def _parse_error(e: UnexpectedInput, text: str, display: str) -> ConditionError:
    """Turn a lark parse error into a ConditionError with a column and an 'expected ...' message."""
    end_col = len(text.rstrip()) + 1
    if isinstance(e, UnexpectedCharacters):
        pos = e.pos_in_stream
        char = text[pos] if 0 <= pos < len(text) else ""
        if char in ("'", '"'):
            return ConditionError("a string is not closed", display, pos + 1, f"add the closing {char}")
        # the basic lexer allows every terminal anywhere, so there is no useful "expected" here
        return ConditionError(f"unexpected character {char!r}", display, pos + 1, _CHAR_HINTS.get(char))
    if isinstance(e, UnexpectedToken):
        tok = e.token
        names = set(e.accepts or e.expected or ())
        column = end_col if tok.type == "$END" else _start(tok, end_col - 1) + 1
        message = "the condition ends too early" if tok.type == "$END" else f"unexpected {_describe_token(tok)}"
        expected = _expected(names)
        if expected:
            message += f"; expected {expected}"
        return ConditionError(message, display, column, _token_hint(tok, names))
    return ConditionError("the condition ends too early", display, end_col)  # UnexpectedEOF: not raised by LALR


def _too_deep(tree: Tree) -> Tree | None:
    """The first parse-tree node nested deeper than MAX_DEPTH, found without recursion."""
    stack: list[tuple[Tree, int]] = [(tree, 1)]
    while stack:
        t, depth = stack.pop()
        if depth > MAX_DEPTH:
            return t
        stack.extend((child, depth + 1) for child in t.children if isinstance(child, Tree))
    return None


# ---------------------------------------------------------------------------- public API


class Condition:
    """A compiled condition.

    Call it with an env of per-person arrays to get a fresh bool array, or use
    :meth:`evaluate_one` for one person. ``fields`` and ``counts`` say which env
    keys it reads (``counts`` as ``(behaviour, days)``; see :func:`count_key`).
    ``constant`` is the value of a condition that does not depend on anyone
    (``true``, ``1 < 2``), else None.
    """

    __slots__ = ("text", "fields", "counts", "constant", "_node", "_fn", "_owned", "_recipe", "_arithmetic")

    def __init__(
        self,
        text: str,
        node: _Node,
        fields: frozenset[str],
        counts: frozenset[tuple[str, int]],
        recipe: tuple[object, ...],
    ) -> None:
        self.text = text
        self.fields = fields
        self.counts = counts
        self._node = node
        self._recipe = recipe  # arguments of compile_condition, for pickling
        compiled = _vec(node)
        self._fn = compiled.fn
        self._owned = compiled.owned
        # only arithmetic can raise floating-point warnings (comparisons of NaN do not): other conditions skip
        # np.errstate, which costs about as much as evaluating a short condition on a few thousand persons
        self._arithmetic = _has_arithmetic(node)
        self.constant: bool | None = bool(compiled.value) if compiled.fn is None else None

    def __call__(self, env: Env, n: int | None = None) -> np.ndarray:
        """Evaluate for everyone: a new bool array as long as the env arrays (or ``n`` when env is empty).

        ``env`` must hold every name in :attr:`fields` and ``count_key(b, d)`` for
        each ``(b, d)`` in :attr:`counts`. Category fields are integer codes in
        ``range(len(levels))``; other codes give undefined results.
        """
        if self._fn is None:
            if n is None:
                if not env:
                    raise ValueError(f"condition {self.text!r} is constant: pass n= or a non-empty env to size it")
                n = len(next(iter(env.values())))
            return np.full(n, self.constant, dtype=bool)
        if self._arithmetic:
            with np.errstate(all="ignore"):
                out = self._fn(env)
        else:
            out = self._fn(env)
        if not self._owned:  # a bare bool field: never hand out an array aliasing the env
            out = np.array(out, dtype=bool, copy=True)
        if n is not None and out.shape[0] != n:
            raise ValueError(f"condition {self.text!r}: env arrays have {out.shape[0]} entries, expected n={n}")
        return out

    def evaluate_one(self, values: Mapping[str, object]) -> bool:
        """Evaluate for one person from scalar values (the reference for the vectorised evaluator).

        Category fields may be given as codes or as level names.
        """
        return bool(_eval_one(self._node, values))

    def __repr__(self) -> str:
        return f"Condition({self.text!r})"

    def __reduce__(self) -> tuple[object, tuple[object, ...]]:
        # closures do not pickle; recompile instead (e.g. when sent to worker processes)
        return (compile_condition, self._recipe)


def compile_condition(
    text: str, fields: Mapping[str, FieldSpec], behaviours: Collection[str], max_days: int = 36500
) -> Condition:
    """Parse, check and compile a condition, or raise ConditionError saying where and why.

    ``fields`` are the names the condition may read, ``behaviours`` the names
    ``count()`` accepts, ``max_days`` the longest ``days=`` window.
    A YAML ``true``/``false`` that arrives as a Python bool is accepted.
    """
    if isinstance(text, bool):
        text = "true" if text else "false"
    if not isinstance(text, str):
        raise ConditionError(f"a condition must be text; got {type(text).__name__}", repr(text))
    display = _WHITESPACE.sub(" ", text)  # newlines would break the caret under the column
    if len(text) > MAX_LENGTH:
        raise ConditionError(
            f"the condition is too long ({len(text)} characters; at most {MAX_LENGTH})",
            display[:60] + " ...",
            hint="split it into simpler conditions",
        )
    if not text.strip():
        raise ConditionError("the condition is empty", display, hint="write e.g. score < 600, or true to always apply")
    for index, char in enumerate(text):  # ASCII only: no look-alike digits, letters or spaces
        if not char.isascii() or (not char.isprintable() and char not in " \t\r\n"):
            raise ConditionError(
                f"the character {char!r} (U+{ord(char):04X}) is not allowed in a condition",
                display,
                index + 1,
                "write conditions in plain ASCII: digits 0-9, letters A-Z a-z, spaces",
            )
    try:
        tree = _PARSER.parse(text)
    except UnexpectedInput as e:
        raise _parse_error(e, text, display) from None
    except LarkError as e:  # pragma: no cover (lark raises UnexpectedInput for bad input)
        raise ConditionError(f"cannot parse: {e}", display) from None
    if not isinstance(tree, Tree):  # a lone token cannot happen with this grammar, but be safe
        tree = Tree("var", [tree])  # pragma: no cover
    deep = _too_deep(tree)
    if deep is not None:
        raise ConditionError(
            f"the condition is nested too deeply (more than {MAX_DEPTH} levels)",
            display,
            _start(deep) + 1,
            "split it into simpler conditions",
        )
    checker = _Checker(text, display, fields, behaviours, max_days)
    node = checker.build(tree)
    if node.type != "bool":
        raise ConditionError(
            f"a condition must be true or false; got {checker.describe(node)}",
            display,
            node.pos + 1,
            checker.fix_hint(node, "bool"),
        )
    recipe = (text, dict(fields), tuple(behaviours), max_days)
    return Condition(text, node, frozenset(checker.used_fields), frozenset(checker.counts), recipe)
