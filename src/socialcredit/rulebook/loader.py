"""Load rulebook YAML, apply ``--set`` overrides, and validate it against a pydantic model.

The loader knows nothing about the rulebook schema: :func:`validate` takes any
pydantic model class. What it adds is *where*: every mapping key, sequence item
and scalar value is recorded with its 1-based line and column, so that each
pydantic error can be reported as a one-screen :class:`~socialcredit.errors.RulebookError`
naming file, line, column, the dotted key path (``services[flight].demand``),
what was found, what is allowed, and a "did you mean" for misspelt keys.

Typical use::

    doc = load_document("rules.yaml")
    doc = apply_overrides(doc, ["score.initial=900", "behaviours.jaywalking.rate=0.2"])
    rulebook = validate(Rulebook, doc)   # raises RulebookErrors

Paths
    A :data:`Path` is a tuple of mapping keys and list indices into ``doc.data``,
    e.g. ``("behaviours", 2, "rate")``. This is the same shape as pydantic's
    ``loc`` once union-member labels are removed.

YAML
    Files are read as YAML 1.2 (``yes``/``no``/``on`` are strings; only
    ``true``/``false`` are booleans). Duplicate keys, custom ``!tags`` and
    several documents in one file are errors. Dates become ISO strings.

Limits (hostile or broken input is refused quickly, with a line and column)
    A document may hold at most :data:`MAX_NODES` values counting every value
    an alias (``*name``) repeats, and nest at most :data:`MAX_DEPTH` mappings
    or lists deep. Numbers must be finite and at most :data:`MAX_MAGNITUDE`
    in size (the engine keeps its state in float32). These are checked on the
    parser's event stream before anything is built, so an "alias bomb" of a
    few hundred bytes is refused in milliseconds.

Pointing at a precise place from a model validator
    A validator that raises ``ValueError`` is reported at the ``loc`` pydantic
    gives it, which for a ``model_validator`` is the whole model. To point at a
    nested place instead, raise a ``PydanticCustomError`` of type ``"located"``::

        raise PydanticCustomError(
            "located", "{message}",
            {"path": ("behaviours", 3, "channel"),      # relative to the model that raised
             "message": "channel 'sms' is not defined in detection.channels",
             "found": "sms",                            # optional
             "allowed": "email, camera",                # optional
             "hint": "did you mean 'email'?"},          # optional
        )

    ``path`` is appended to the error's ``loc``; a string element that meets a
    list selects the item with that ``name`` (``("behaviours", "jaywalking", "rate")``).
"""

from __future__ import annotations

import copy
import datetime
import enum
import io
import os
import math
import re
import sys
import types
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Annotated, Any, Literal, TypeVar, Union, get_args, get_origin

import annotated_types
from pydantic import BaseModel, Discriminator, Tag, ValidationError
from pydantic.fields import FieldInfo
from ruamel.yaml import YAML
from ruamel.yaml.comments import CommentedKeyMap, CommentedKeySeq, TaggedScalar
from ruamel.yaml.error import MarkedYAMLError, YAMLError
from ruamel.yaml.events import (
    AliasEvent,
    MappingEndEvent,
    MappingStartEvent,
    ScalarEvent,
    SequenceEndEvent,
    SequenceStartEvent,
)
from ruamel.yaml.nodes import MappingNode, Node, SequenceNode
from ruamel.yaml.reader import ReaderError
from ruamel.yaml.scalarbool import ScalarBoolean
from ruamel.yaml.scalarstring import LiteralScalarString

from socialcredit.errors import Location, RulebookError, RulebookErrors, did_you_mean

Path = tuple[str | int, ...]
M = TypeVar("M", bound=BaseModel)

COMMAND_LINE = "command line"

MAX_NODES = 1_000_000
"""Most values (mapping keys and values, list items) a document may expand to, aliases included.
The largest shipped scenario has a few hundred; a million is far beyond any real rulebook
but small enough to convert in about a second."""
MAX_DEPTH = 100
"""Most mappings/lists nested inside each other (real rulebooks nest fewer than 10)."""
MAX_MAGNITUDE = 3.4e38
"""Largest absolute value of a number: about the largest float32, the engine's state type."""


# --------------------------------------------------------------------------- document


@dataclass
class Document:
    """A parsed rulebook: plain data plus where each part came from."""

    data: Any
    filename: str
    positions: dict[Path, tuple[int, int]] = field(default_factory=dict)
    """1-based (line, column) of each mapping key and each sequence item."""
    overrides: dict[Path, str] = field(default_factory=dict)
    """Paths set (or created) from the command line -> the original ``--set`` text."""
    lines: list[str] = field(default_factory=list)
    """The source text, one string per line, for error snippets."""
    value_positions: dict[Path, tuple[int, int]] = field(default_factory=dict)
    """1-based (line, column) of scalar values, so type errors point at the value itself."""

    def locate(self, path: Path, *, at_value: bool = False) -> Location:
        """Where ``path`` is: the command line if it (or an ancestor) was overridden,
        else the nearest ancestor with a known position in the file.

        ``at_value`` prefers the position of a scalar value over that of its key.
        """
        path = tuple(path)
        overridden = self.override_for(path)
        if overridden is not None:
            return Location(file=COMMAND_LINE, key=f"--set {overridden[1]}")
        key = self.key_name(path) or None
        if at_value and path in self.value_positions:
            line, column = self.value_positions[path]
            return Location(self.filename, line, column, key)
        for i in range(len(path), 0, -1):
            if path[:i] in self.positions:
                line, column = self.positions[path[:i]]
                return Location(self.filename, line, column, key)
        return Location(self.filename, key=key)

    def override_for(self, path: Path) -> tuple[Path, str] | None:
        """The nearest overridden path at or above ``path`` and its ``--set`` text, if any."""
        for i in range(len(path), -1, -1):
            text = self.overrides.get(tuple(path[:i]))
            if text is not None:
                return tuple(path[:i]), text
        return None

    def key_name(self, path: Path) -> str:
        """Dotted display path, naming list items by their ``name`` when they have one."""
        return _display_path(self.data, tuple(path))

    def snippet(self, line: int | None, column: int | None) -> str | None:
        """The source line with a caret under ``column``, like a compiler."""
        return _snippet(self.lines, line, column)


_SIMPLE_KEY = re.compile(r"[A-Za-z0-9_\-]+")


def _display_path(data: Any, path: Path) -> str:
    """``("services", 1, "demand")`` -> ``services[flight].demand`` (using ``data`` for names)."""
    out = ""
    current = data
    for segment in path:
        if isinstance(segment, int) and isinstance(current, list):
            item = current[segment] if 0 <= segment < len(current) else None
            name = item.get("name") if isinstance(item, dict) else None
            out += f"[{name}]" if isinstance(name, str) and name else f"[{segment}]"
            current = item
            continue
        text = str(segment)
        if _SIMPLE_KEY.fullmatch(text):
            out += f".{text}" if out else text
        else:
            out += f"[{text!r}]"
        current = current.get(segment) if isinstance(current, dict) else None
    return out


def _snippet(lines: Sequence[str], line: int | None, column: int | None) -> str | None:
    """Format one source line and a caret, or None when the line is unknown."""
    if line is None or not 1 <= line <= len(lines):
        return None
    text = lines[line - 1].rstrip("\r\n")
    if len(text) > 150:
        text = text[:147] + "..."
    gutter = f"{line:>6} | "
    out = gutter + text
    if column is not None and 1 <= column <= len(text) + 1:
        # keep tabs so the caret lines up however the terminal expands them
        pad = "".join("\t" if ch == "\t" else " " for ch in text[: column - 1])
        out += "\n" + " " * (len(gutter) - 2) + "| " + pad + "^"
    return out


# --------------------------------------------------------------------------- loading


def load_document(path: str | os.PathLike[str]) -> Document:
    """Read and parse a rulebook file; every failure is a :class:`RulebookError` naming the file."""
    filename = os.fspath(path)
    where = Location(file=filename)
    if os.path.isdir(filename):
        yamls = sorted(n for n in os.listdir(filename) if n.endswith((".yaml", ".yml")))
        hint = f"YAML files in it: {', '.join(yamls[:6])}" if yamls else "give the path of a .yaml rulebook file"
        raise RulebookError("is a directory, not a rulebook file", location=where, hint=hint)
    if not os.path.exists(filename):
        parent = os.path.dirname(filename) or "."
        siblings = os.listdir(parent) if os.path.isdir(parent) else []
        close = did_you_mean(os.path.basename(filename), siblings)
        hint = f"did you mean '{os.path.join(os.path.dirname(filename), close)}'?" if close else None
        raise RulebookError("rulebook file not found", location=where, hint=hint)
    try:
        with open(filename, "rb") as handle:
            raw = handle.read()
    except OSError as exc:
        raise RulebookError(f"cannot read rulebook file: {exc.strerror or exc}", location=where) from None
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        line = raw[: exc.start].count(b"\n") + 1
        raise RulebookError(
            "file is not UTF-8 text", location=Location(filename, line), hint="save the rulebook as UTF-8"
        ) from None
    return parse_document(text, filename)


def _yaml() -> YAML:
    """A round-trip parser: it keeps the line/column of every key and item."""
    return YAML(typ="rt")


def parse_document(text: str, filename: str = "<string>") -> Document:
    """Parse rulebook YAML text; the top level must be a non-empty mapping."""
    lines = text.splitlines()
    loaded = _safe_load(text, filename, lines)
    if loaded is None:
        raise RulebookError(
            "rulebook is empty",
            location=Location(filename),
            hint="a rulebook is a mapping of sections (key: value lines)",
        )
    if not isinstance(loaded, dict):
        line = getattr(getattr(loaded, "lc", None), "line", None)
        col = getattr(getattr(loaded, "lc", None), "col", None)
        location = Location(filename, None if line is None else line + 1, None if col is None else col + 1)
        kind = _yaml_type([] if isinstance(loaded, list) else _plain_scalar(loaded))
        raise RulebookError(
            f"the top level of a rulebook must be a mapping of sections (key: value lines), not {kind}",
            location=location,
            snippet=_snippet(lines, location.line, location.column),
        )
    positions: dict[Path, tuple[int, int]] = {}
    value_positions: dict[Path, tuple[int, int]] = {}
    try:
        data = _convert(loaded, (), positions, value_positions, filename, lines)
    except RecursionError:  # e.g. an alias that refers to the mapping containing it
        message = "YAML refers to itself or is nested too deeply"
        raise RulebookError(message, location=Location(filename)) from None
    return Document(data, filename, positions, {}, lines, value_positions)


def _safe_load(text: str, filename: str, lines: list[str]) -> Any:
    """Parse YAML text after checking its size, depth and numbers on the event stream.

    The event parser is iterative, so the checks work on input that would make
    the (recursive) constructor overflow the stack or expand aliases without end.
    """
    try:
        _check_events(text, filename, lines)
        limit = sys.getrecursionlimit()
        sys.setrecursionlimit(max(limit, 20 * MAX_DEPTH + 1000))  # ruamel uses several frames per level
        try:
            return _yaml().load(text)
        finally:
            sys.setrecursionlimit(limit)
    except MarkedYAMLError as exc:
        raise _yaml_error(exc, text, filename, lines) from None
    except ReaderError as exc:  # e.g. a NUL or other control character: ruamel gives a character offset
        position = max(0, int(exc.position))
        line = text.count("\n", 0, position) + 1
        column = position - (text.rfind("\n", 0, position) + 1) + 1
        char = exc.character
        shown = f"U+{ord(char) if isinstance(char, str) else int(char):04X}"
        raise RulebookError(
            f"malformed YAML: the control character {shown} is not allowed",
            location=Location(filename, line, column),
            allowed="printable text, tabs and line breaks",
            hint="remove the character (a binary file or a copy-paste accident?)",
            snippet=_snippet(lines, line, column),
        ) from None
    except RecursionError:  # should not happen below MAX_DEPTH; never a traceback
        raise RulebookError(
            "YAML is nested too deeply", location=Location(filename), allowed=f"at most {MAX_DEPTH} levels"
        ) from None
    except YAMLError as exc:  # unmarked problems are rare, but must not become tracebacks
        raise RulebookError(f"malformed YAML: {exc}", location=Location(filename)) from None


def _mark_location(filename: str, lines: list[str], mark: Any) -> tuple[Location, str | None]:
    """A location (and snippet) from a 0-based ruamel mark."""
    line, column = mark.line + 1, mark.column + 1
    return Location(filename, line, column), _snippet(lines, line, column)


def _check_events(text: str, filename: str, lines: list[str]) -> None:
    """Refuse documents that nest deeper than MAX_DEPTH or expand past MAX_NODES values.

    Walks the parse events once, keeping the expanded size of each anchored
    node, so an alias adds the size of what it repeats without repeating it.
    The error names the alias (or value) at which a limit is crossed.
    """
    sizes: dict[str, int] = {}
    stack: list[tuple[str | None, int]] = []  # (anchor, running total when the collection started)
    total = 0
    for event in _yaml().parse(text):
        if isinstance(event, (MappingStartEvent, SequenceStartEvent)):
            total += 1
            stack.append((event.anchor, total))
            if len(stack) > MAX_DEPTH:
                location, snippet = _mark_location(filename, lines, event.start_mark)
                raise RulebookError(
                    f"YAML is nested too deeply: more than {MAX_DEPTH} mappings or lists inside each other",
                    location=location,
                    allowed=f"at most {MAX_DEPTH} levels of nesting",
                    snippet=snippet,
                )
        elif isinstance(event, (MappingEndEvent, SequenceEndEvent)):
            anchor, start = stack.pop()
            if anchor is not None:
                sizes[anchor] = total - start + 1
        elif isinstance(event, ScalarEvent):
            total += 1
            if event.anchor is not None:
                sizes[event.anchor] = 1
        elif isinstance(event, AliasEvent):
            total += sizes.get(event.anchor, 1)
            if total > MAX_NODES:
                location, snippet = _mark_location(filename, lines, event.start_mark)
                raise RulebookError(
                    f"the alias '*{event.anchor}' expands the document past {MAX_NODES:,} values",
                    location=location,
                    found=f"*{event.anchor} repeats {sizes.get(event.anchor, 1):,} values",
                    allowed=f"at most {MAX_NODES:,} values in all, counting every value an alias repeats",
                    hint="write the values out, or use fewer nested aliases",
                    snippet=snippet,
                )
            continue
        else:
            continue
        if total > MAX_NODES:
            location, snippet = _mark_location(filename, lines, event.start_mark)
            raise RulebookError(
                f"the document has more than {MAX_NODES:,} values",
                location=location,
                allowed=f"at most {MAX_NODES:,} values in all",
                snippet=snippet,
            )


def _yaml_error(exc: MarkedYAMLError, text: str, filename: str, lines: list[str]) -> RulebookError:
    """Turn a ruamel parse error into a RulebookError at the most useful mark."""
    problem = (exc.problem or "syntax error").strip()
    context = (exc.context or "").strip()
    mark = exc.problem_mark or exc.context_mark
    line = mark.line + 1 if mark is not None else None
    column = mark.column + 1 if mark is not None else None
    message = f"malformed YAML: {problem}"
    hint: str | None = None
    ctx_mark = exc.context_mark
    if "duplicate key" in problem:
        pair = _duplicate_pair(text, exc)
        if pair is not None:
            first, dup = pair
            message = f"duplicate key '{dup.value}'"
            hint = f"'{dup.value}' is first defined at line {first.start_mark.line + 1}; remove one of them"
        else:
            hint = "remove one of them"
    elif "'\\t'" in problem or "\t" in problem:
        message = "malformed YAML: a tab character is not allowed here"
        hint = "indent with spaces, not tabs"
    elif (
        ctx_mark is not None
        and context.startswith(("while parsing a flow", "while scanning a quoted"))
        and (mark is None or mark.line != ctx_mark.line)
    ):
        what = context.removeprefix("while parsing a ").removeprefix("while scanning a ")
        what, closer = {
            "flow sequence": ("list '['", "']'"),
            "flow mapping": ("mapping '{'", "'}'"),
        }.get(what, ("quoted string", "quote"))
        message = f"malformed YAML: this {what} is never closed"
        hint = f"add the closing {closer}; parsing failed at line {line}, column {column}: {problem}"
        line, column = ctx_mark.line + 1, ctx_mark.column + 1
    elif "<block end>" in problem or "mapping values are not allowed" in problem:
        message = f"malformed YAML (probably bad indentation): {problem}"
        hint = "keys of the same mapping must start in the same column"
    elif context and ctx_mark is not None:
        hint = f"{context} at line {ctx_mark.line + 1}, column {ctx_mark.column + 1}"
    elif context:
        hint = context
    return RulebookError(
        message, location=Location(filename, line, column), hint=hint, snippet=_snippet(lines, line, column)
    )


def _find_mapping(node: Node | None, line: int, column: int) -> MappingNode | None:
    """The mapping node starting at (line, column), 0-based, searching the node tree."""
    if node is None:
        return None
    if isinstance(node, MappingNode):
        if node.start_mark.line == line and node.start_mark.column == column:
            return node
        children = [n for pair in node.value for n in pair]
    elif isinstance(node, SequenceNode):
        children = list(node.value)
    else:
        return None
    for child in children:
        found = _find_mapping(child, line, column)
        if found is not None:
            return found
    return None


def _duplicate_pair(text: str, exc: MarkedYAMLError) -> tuple[Node, Node] | None:
    """(first key node, duplicate key node) for a duplicate-key error, found by composing again."""
    if exc.context_mark is None or exc.problem_mark is None:
        return None
    try:
        root = _yaml().compose(text)
    except YAMLError:
        return None
    mapping = _find_mapping(root, exc.context_mark.line, exc.context_mark.column)
    if mapping is None:
        return None
    keys = [k for k, _ in mapping.value]
    where = (exc.problem_mark.line, exc.problem_mark.column)
    dup = next((k for k in keys if (k.start_mark.line, k.start_mark.column) == where), None)
    if dup is None:
        return None
    first = next(k for k in keys if k.value == dup.value)
    return first, dup


def _located(message: str, filename: str, lines: list[str], path: Path, line: int | None, column: int | None,
             **details: Any) -> RulebookError:  # fmt: skip
    """An error while converting: at ``line``/``column`` of ``filename`` with the source line, keyed by ``path``."""
    location = Location(filename, line, column, _display_path(None, path) or None)
    return RulebookError(message, location=location, snippet=_snippet(lines, line, column), **details)


def _convert(
    node: Any,
    path: Path,
    positions: dict[Path, tuple[int, int]],
    value_positions: dict[Path, tuple[int, int]],
    filename: str,
    lines: list[str],
    active: set[int] | None = None,
) -> Any:
    """Copy ruamel's round-trip objects into plain python, recording positions on the way.

    ``active`` holds the ids of the mappings and lists being copied (the ancestors),
    so an alias to a collection that contains it is refused instead of recursing forever.
    """
    if isinstance(node, (dict, list)):
        active = set() if active is None else active
        if id(node) in active:
            line, column = positions.get(path) or (None, None)
            raise _located(
                "an alias refers to a mapping or list that contains it (the value would be infinite)",
                filename, lines, path, line, column,
                hint="an alias may only repeat a value defined before and outside it",
            )
        active.add(id(node))
        try:
            return _convert_collection(node, path, positions, value_positions, filename, lines, active)
        finally:
            active.discard(id(node))
    return _convert_leaf(node, path, positions, value_positions, filename, lines)


def _convert_collection(
    node: Any,
    path: Path,
    positions: dict[Path, tuple[int, int]],
    value_positions: dict[Path, tuple[int, int]],
    filename: str,
    lines: list[str],
    active: set[int],
) -> Any:
    """Copy one mapping or list (see :func:`_convert`)."""
    if isinstance(node, dict):
        lc = getattr(getattr(node, "lc", None), "data", {}) or {}
        out: dict[Any, Any] = {}
        for key, value in node.items():
            pos = lc.get(key)
            if isinstance(key, (CommentedKeySeq, CommentedKeyMap)):
                line, column = (pos[0] + 1, pos[1] + 1) if pos else (None, None)
                raise _located(
                    "a mapping key must be a plain word or number, not a list or mapping",
                    filename, lines, path, line, column,
                )
            plain_key = _plain_scalar(key)
            if plain_key is None or isinstance(plain_key, (bool, float)):
                line, column = (pos[0] + 1, pos[1] + 1) if pos else (None, None)
                raise _located(
                    f"a mapping key must be a plain word or whole number, not {_yaml_type(plain_key)}",
                    filename, lines, path, line, column,
                    found=plain_key,
                    hint="a line starting with ':' or an empty key before ':' makes a null key",
                )
            child = path + (plain_key,)
            if pos:
                positions[child] = (pos[0] + 1, pos[1] + 1)
                if value is not None and not isinstance(value, (dict, list)):
                    value_positions[child] = (pos[2] + 1, pos[3] + 1)
            out[plain_key] = _convert(value, child, positions, value_positions, filename, lines, active)
        return out
    if isinstance(node, list):
        lc = getattr(getattr(node, "lc", None), "data", {}) or {}
        items = []
        for index, value in enumerate(node):
            child = path + (index,)
            pos = lc.get(index)
            if pos:
                positions[child] = (pos[0] + 1, pos[1] + 1)
                if value is not None and not isinstance(value, (dict, list)):
                    value_positions[child] = (pos[0] + 1, pos[1] + 1)
            items.append(_convert(value, child, positions, value_positions, filename, lines, active))
        return items
    raise TypeError(f"not a collection: {type(node).__name__}")


def _convert_leaf(
    node: Any,
    path: Path,
    positions: dict[Path, tuple[int, int]],
    value_positions: dict[Path, tuple[int, int]],
    filename: str,
    lines: list[str],
) -> Any:
    """Copy one scalar, refusing tags, non-finite numbers and numbers too large for float32."""
    if isinstance(node, TaggedScalar):
        line, column = value_positions.get(path) or positions.get(path) or (None, None)
        raise _located(
            f"YAML tag '{node.tag.value if hasattr(node.tag, 'value') else node.tag}' is not supported",
            filename, lines, path, line, column,
            hint="remove the tag; write plain values only",
        )
    value = _plain_scalar(node)
    if isinstance(value, (int, float)) and not isinstance(value, bool) and not _number_ok(value):
        line, column = value_positions.get(path) or positions.get(path) or (None, None)
        raise _located(
            _number_problem(value),
            filename, lines, path, line, column,
            found=value,
            allowed=f"a finite number between -{MAX_MAGNITUDE:g} and {MAX_MAGNITUDE:g}",
        )
    return value


def _number_ok(value: int | float) -> bool:
    """True for finite numbers no larger in size than MAX_MAGNITUDE."""
    if isinstance(value, float) and not math.isfinite(value):
        return False
    return abs(value) <= MAX_MAGNITUDE


def _number_problem(value: int | float) -> str:
    """Why a number is refused, in words."""
    if isinstance(value, float) and math.isnan(value):
        return "not a number (.nan) is not allowed"
    if isinstance(value, float) and math.isinf(value):
        return "infinity is not allowed"
    return "number too large: it would overflow the engine's float32 state"


def _plain_scalar(value: Any) -> Any:
    """ruamel scalar subclasses -> bool / int / float / str; dates -> ISO text."""
    if value is None or type(value) in (bool, int, float, str):
        return value
    if isinstance(value, ScalarBoolean):  # an int subclass ruamel uses for anchored booleans
        return bool(value)
    if isinstance(value, int):
        return int(value)
    if isinstance(value, float):
        return float(value)
    if isinstance(value, str):
        return str(value)
    if isinstance(value, (datetime.date, datetime.datetime)):
        return value.isoformat()
    return value


# --------------------------------------------------------------------------- dumping


def dump_yaml(data: Any) -> str:
    """Readable block-style YAML of plain data (key order kept), e.g. the exact rulebook of a run."""
    def prepare(value: Any) -> Any:
        if isinstance(value, Mapping):
            return {prepare(k): prepare(v) for k, v in value.items()}
        if isinstance(value, (list, tuple, set, frozenset)):
            return [prepare(v) for v in value]
        if isinstance(value, enum.Enum):
            return prepare(value.value)
        if isinstance(value, str) and "\n" in value:
            return LiteralScalarString(value)
        return value

    yaml = YAML(typ="rt")
    yaml.default_flow_style = False
    yaml.indent(mapping=2, sequence=4, offset=2)
    yaml.width = 100
    stream = io.StringIO()
    yaml.dump(prepare(data), stream)
    return stream.getvalue()


# --------------------------------------------------------------------------- overrides


def apply_overrides(doc: Document, overrides: Sequence[str]) -> Document:
    """Apply ``--set path.to.key=value`` texts, in order, to a copy of ``doc``.

    List items can be selected by ``name`` (preferred) or index, dotted or in
    brackets: ``behaviours.jaywalking.rate``, ``behaviours.0.rate``,
    ``services[flight].demand``. Missing mapping keys are created; the schema
    then decides whether they are valid, and errors point at the command line.
    """
    data = copy.deepcopy(doc.data)
    recorded = dict(doc.overrides)
    for text in overrides:
        _apply_one(data, text, recorded)
    return Document(data, doc.filename, doc.positions, recorded, doc.lines, doc.value_positions)


def _cli_error(text: str, message: str, **kwargs: Any) -> RulebookError:
    return RulebookError(message, location=Location(file=COMMAND_LINE, key=f"--set {text}"), **kwargs)


def _apply_one(data: dict[Any, Any], text: str, recorded: dict[Path, str]) -> None:
    """Set one override in ``data`` and record which paths it set or created."""
    if "=" not in text:
        raise _cli_error(
            text,
            "an override must look like path.to.key=value",
            hint="e.g. --set score.initial=900 or --set behaviours.jaywalking.rate=0.2",
        )
    key, _, raw = text.partition("=")
    segments = _split_override_key(key.strip(), text)
    value = _parse_override_value(raw.strip(), text)
    current: Any = data
    path: Path = ()
    created: list[Path] = []
    for depth, segment in enumerate(segments):
        last = depth == len(segments) - 1
        if isinstance(current, dict):
            dict_key = _dict_key(current, segment)
            path += (dict_key,)
            if last:
                current[dict_key] = value
            else:
                if current.get(dict_key) is None:
                    current[dict_key] = {}
                    created.append(path)
                current = current[dict_key]
        elif isinstance(current, list):
            index = _list_index(current, segment, text, _display_path(data, path))
            path += (index,)
            if last:
                current[index] = value
            else:
                current = current[index]
        else:
            raise _cli_error(
                text,
                f"cannot set '{segment}' inside '{_display_path(data, path)}': "
                f"it is {_yaml_type(current)}, not a mapping or list",
                found=current,
            )
    for old in [p for p in recorded if p[: len(path)] == path]:
        del recorded[old]  # a later override replaces what earlier ones set beneath it
    for p in created:
        recorded[p] = text
    recorded[path] = text


def _split_override_key(key: str, text: str) -> list[str]:
    """``services[flight].demand`` -> ``["services", "flight", "demand"]``."""
    segments: list[str] = []
    pos = 0
    bad = _cli_error(
        text,
        f"cannot read the key path '{key}'",
        hint="write it as section.key or list[name].key, e.g. services.flight.demand or behaviours[0].rate",
    )
    if not key:
        raise bad
    while pos < len(key):
        if key[pos] == "[":
            end = key.find("]", pos)
            inner = key[pos + 1 : end].strip().strip("'\"") if end != -1 else ""
            if not inner:
                raise bad
            segments.append(inner)
            pos = end + 1
            continue
        if segments:
            if key[pos] != ".":
                raise bad
            pos += 1
        match = re.match(r"[^.\[\]]+", key[pos:])
        if not match or not match.group().strip():
            raise bad
        segments.append(match.group().strip())
        pos += match.end()
    return segments


def _parse_override_value(raw: str, text: str) -> Any:
    """Read the value as YAML (``0.5``, ``true``, ``[1, 2]``, ``{a: 1}``, ``'C'``); bare text is a string."""
    try:
        _check_events(raw, COMMAND_LINE, [])
        loaded = _yaml().load(raw)
    except RulebookError as exc:
        raise _cli_error(text, exc.message, found=exc.found, allowed=exc.allowed, hint=exc.hint) from None
    except YAMLError as exc:
        if raw[:1] in "[{'\"":
            problem = getattr(exc, "problem", None) or str(exc)
            raise _cli_error(
                text, f"cannot read the value {raw!r}: {problem}", hint="quote it, e.g. --set \"key='a b'\""
            ) from None
        return raw
    if isinstance(loaded, (dict, list)) and raw[:1] not in "[{":
        return raw  # block YAML such as "Policy: strict" is meant as text, not a mapping
    try:
        return _convert(loaded, (), {}, {}, COMMAND_LINE, [])
    except RulebookError as exc:
        raise _cli_error(text, exc.message, found=exc.found, allowed=exc.allowed, hint=exc.hint) from None


def _dict_key(mapping: dict[Any, Any], segment: str) -> Any:
    """The existing key ``segment`` names (numeric keys allowed), else ``segment`` itself."""
    if segment in mapping:
        return segment
    if re.fullmatch(r"-?\d+", segment) and int(segment) in mapping:
        return int(segment)
    return segment


def _list_index(items: list[Any], segment: str, text: str, where: str) -> int:
    """Select a list item by ``name`` (preferred) or by index."""
    for index, item in enumerate(items):
        if isinstance(item, dict) and str(item.get("name")) == segment and item.get("name") is not None:
            return index
    if re.fullmatch(r"\d+", segment):
        index = int(segment)
        if index < len(items):
            return index
        raise _cli_error(
            text,
            f"index {index} is out of range: '{where}' has {len(items)} item(s)",
            allowed=f"0 to {len(items) - 1}" if items else "nothing (the list is empty)",
        )
    names = [str(item["name"]) for item in items if isinstance(item, dict) and item.get("name") is not None]
    close = did_you_mean(segment, names)
    raise _cli_error(
        text,
        f"'{where}' has no item named '{segment}'",
        allowed=", ".join(names) if names else f"an index from 0 to {len(items) - 1}" if items else None,
        hint=f"did you mean '{close}'?" if close else None,
    )


# --------------------------------------------------------------------------- validation


def validate(model_cls: type[M], doc: Document) -> M:
    """Validate ``doc.data`` with ``model_cls``; raise :class:`RulebookErrors` that point into the file."""
    try:
        return model_cls.model_validate(doc.data)
    except ValidationError as exc:
        issues = [_issue(err, model_cls, doc) for err in exc.errors()]
        issues = _choose_union_members(issues)
        raise RulebookErrors(_to_errors(issues, doc)) from None


@dataclass
class _Issue:
    """One problem in data-path terms, before it is located in the file."""

    path: Path
    message: str
    found: Any = None
    allowed: str | None = None
    hint: str | None = None
    at_value: bool = False
    shape: bool = False  # the value is not even of this type (type or literal mismatch)
    literal: bool = False
    unions: tuple[tuple[Path, str], ...] = ()  # (data path of the union, member label) passed on the way


@dataclass
class _Walk:
    """What walking a pydantic ``loc`` through the model class found."""

    path: Path  # data path: union labels and '[key]' removed
    unions: tuple[tuple[Path, str], ...]
    annotation: Any  # type expected at the end (Any if unknown)
    metadata: list[Any]  # constraints (annotated_types) of the end
    parent_model: type[BaseModel] | None  # model owning the last key, if any
    is_key: bool  # the error is about a mapping key, not its value


def _unwrap(tp: Any, metadata: list[Any], discriminator: Any) -> tuple[Any, list[Any], Any]:
    """Strip ``Annotated`` (collecting constraints) and ``Optional`` (X | None -> X)."""
    while True:
        if get_origin(tp) is Annotated:
            base, *extras = get_args(tp)
            for extra in extras:
                if isinstance(extra, FieldInfo):
                    metadata.extend(extra.metadata)
                    discriminator = extra.discriminator or discriminator
                elif isinstance(extra, Discriminator):
                    discriminator = extra
                elif isinstance(extra, annotated_types.GroupedMetadata):
                    metadata.extend(extra)
                else:
                    metadata.append(extra)
            tp = base
            continue
        if _is_union(tp):
            members = [m for m in get_args(tp) if m is not type(None)]
            if len(members) == 1:
                tp = members[0]
                continue
        return tp, metadata, discriminator


def _is_union(tp: Any) -> bool:
    return get_origin(tp) in (Union, types.UnionType)


def _is_model(tp: Any) -> bool:
    return isinstance(tp, type) and issubclass(tp, BaseModel)


def _model_keys(model: type[BaseModel]) -> list[str]:
    return [f.alias or name for name, f in model.model_fields.items()]


def _model_field(model: type[BaseModel], key: Any) -> FieldInfo | None:
    for name, info in model.model_fields.items():
        if key == (info.alias or name):
            return info
    return None


def _walk(model_cls: type[BaseModel], loc: tuple[Any, ...]) -> _Walk:
    """Follow ``loc`` through the model class, telling data keys from union-member labels."""
    tp: Any = model_cls
    metadata: list[Any] = []
    discriminator: Any = None
    path: list[Any] = []
    unions: list[tuple[Path, str]] = []
    parent: type[BaseModel] | None = None
    is_key = False
    for position, element in enumerate(loc):
        if element == "[key]":
            is_key = True
            continue
        tp, metadata, discriminator = _unwrap(tp, metadata, discriminator)
        if _is_union(tp):  # pydantic adds the member's label (or the tag) as a loc element
            members = [m for m in get_args(tp) if m is not type(None)]
            unions.append((tuple(path), str(element)))
            tp = _union_member(members, str(element), discriminator)
            metadata, discriminator = [], None
            tp, metadata, discriminator = _unwrap(tp, metadata, discriminator)
            continue
        path.append(element)
        if _is_model(tp):
            parent = tp
            info = _model_field(tp, element)
            tp = info.annotation if info else Any
            metadata = list(info.metadata) if info else []
            discriminator = info.discriminator if info else None
            continue
        parent = None
        origin, args = get_origin(tp), get_args(tp)
        if origin is tuple and args and args[-1] is not Ellipsis:
            tp = args[element] if isinstance(element, int) and element < len(args) else Any
        elif isinstance(origin, type) and issubclass(origin, Mapping):
            about_key = loc[position + 1 : position + 2] == ("[key]",)
            tp = args[0 if about_key else 1] if len(args) == 2 else Any
        elif isinstance(origin, type) and issubclass(origin, (Sequence, set, frozenset)) and origin is not str:
            tp = args[0] if args else Any
        else:
            tp = Any
        metadata, discriminator = [], None
    tp, metadata, discriminator = _unwrap(tp, metadata, discriminator)
    return _Walk(tuple(path), tuple(unions), tp, metadata, parent, is_key)


def _union_member(members: list[Any], label: str, discriminator: Any) -> Any:
    """The union member a pydantic loc label (or discriminator tag) refers to, or Any."""
    if discriminator is not None:
        name = discriminator if isinstance(discriminator, str) else getattr(discriminator, "discriminator", None)
        for member in members:
            if get_origin(member) is Annotated and any(
                isinstance(x, Tag) and x.tag == label for x in get_args(member)[1:]
            ):
                return member
            base, _, _ = _unwrap(member, [], None)
            if isinstance(name, str) and _is_model(base):
                info = _model_field(base, name)
                if info and label in [str(v) for v in _allowed_values(_unwrap(info.annotation, [], None)[0])]:
                    return member
        return Any
    exact = [m for m in members if _type_label(m) == label]
    if exact:
        return exact[0]
    base = label.removeprefix("constrained-").split("[", 1)[0]
    loose = [m for m in members if _type_label(m).removeprefix("constrained-").split("[", 1)[0] == base]
    return loose[0] if len(loose) == 1 else Any


def _discriminator_values(union: Any, key: str) -> list[Any]:
    """The values the discriminator field ``key`` may take across a tagged union's models."""
    values: list[Any] = []
    for member in get_args(union) if _is_union(union) else ():
        model = _unwrap(member, [], None)[0]
        info = _model_field(model, key) if _is_model(model) else None
        if info is not None:
            values.extend(_allowed_values(_unwrap(info.annotation, [], None)[0]))
    return values


def _type_label(tp: Any) -> str:
    """Approximately the label pydantic gives a union member in ``loc`` (e.g. ``dict[str,float]``)."""
    tp, metadata, _ = _unwrap(tp, [], None)
    if get_origin(tp) is Literal:
        return "literal[" + ",".join(repr(v) for v in get_args(tp)) + "]"
    if isinstance(tp, type) and issubclass(tp, enum.Enum):
        return f"enum[{tp.__name__}]"
    if isinstance(tp, type) and not get_args(tp):
        name = tp.__name__
        return f"constrained-{name}" if metadata and tp in (int, float, str) else name
    origin = get_origin(tp)
    if origin is not None:
        args = ",".join(_type_label(a) for a in get_args(tp) if a is not Ellipsis)
        if origin is tuple and Ellipsis in get_args(tp):
            args += ", ..."
        return f"{getattr(origin, '__name__', str(origin))}[{args}]"
    return str(tp)


def _allowed_values(tp: Any) -> list[Any]:
    """Values of a Literal or Enum type (empty for other types)."""
    if get_origin(tp) is Literal:
        return list(get_args(tp))
    if isinstance(tp, type) and issubclass(tp, enum.Enum):
        return [member.value for member in tp]
    return []


def _yaml_repr(value: Any) -> str:
    """A value as it would be written in YAML, for messages."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if value is None:
        return "null"
    if isinstance(value, str):
        return repr(value)
    return _number(value) if isinstance(value, float) else str(value)


def _number(value: Any) -> str:
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value)


def _yaml_type(value: Any) -> str:
    """The kind of YAML value, as words for a message."""
    if isinstance(value, bool):
        return "true/false"
    if value is None:
        return "nothing (null)"
    if isinstance(value, int):
        return "an integer"
    if isinstance(value, float):
        return "a decimal number"
    if isinstance(value, str):
        return "a string"
    if isinstance(value, dict):
        return "a mapping"
    if isinstance(value, list):
        return "a list"
    return type(value).__name__


def _bounds(metadata: list[Any]) -> list[str]:
    """Numeric bounds from constraint metadata, lower bounds first: ``['>= 0', '<= 1']``."""
    lower, upper = [], []
    for item in metadata:
        if isinstance(item, annotated_types.Gt):
            lower.append(f"> {_number(item.gt)}")
        elif isinstance(item, annotated_types.Ge):
            lower.append(f">= {_number(item.ge)}")
        elif isinstance(item, annotated_types.Lt):
            upper.append(f"< {_number(item.lt)}")
        elif isinstance(item, annotated_types.Le):
            upper.append(f"<= {_number(item.le)}")
    return lower + upper


def _lengths(metadata: list[Any], ctx: dict[str, Any]) -> tuple[int | None, int | None]:
    low: int | None = ctx.get("min_length")
    high: int | None = ctx.get("max_length")
    for item in metadata:
        if isinstance(item, annotated_types.MinLen):
            low = item.min_length
        elif isinstance(item, annotated_types.MaxLen):
            high = item.max_length
    return low, high


def _describe(tp: Any, metadata: list[Any] | None = None, nested: bool = False) -> str:
    """What a type accepts, in words: 'a number >= 0 and <= 1', 'one of: 'a', 'b''."""
    tp, metadata, _ = _unwrap(tp, list(metadata or []), None)
    if _is_union(tp):
        parts = [_describe(m, nested=nested) for m in get_args(tp)]
        return " or ".join(dict.fromkeys(parts))
    if tp is type(None):
        return "null"
    if tp is Any:
        return "a value"
    if tp is bool:
        return "true or false"
    if tp in (int, float):
        text = "an integer" if tp is int else "a number"
        bounds = _bounds(metadata)
        return f"{text} {' and '.join(bounds)}" if bounds else text
    if tp is str:
        return "a string"
    values = _allowed_values(tp)
    if values:
        return "one of: " + ", ".join(_yaml_repr(v) for v in values)
    if _is_model(tp):
        keys = _model_keys(tp)
        if nested or len(keys) > 12:
            return "a mapping"
        return "a mapping with keys: " + ", ".join(keys)
    origin, args = get_origin(tp), get_args(tp)
    if isinstance(origin, type) and issubclass(origin, Mapping):
        return f"a mapping (each value {_describe(args[1], nested=True)})" if len(args) == 2 else "a mapping"
    if isinstance(origin, type) and issubclass(origin, (Sequence, set, frozenset)):
        return f"a list (each item {_describe(args[0], nested=True)})" if args else "a list"
    if tp in (list, tuple, set):
        return "a list"
    if tp is dict:
        return "a mapping"
    return f"a {getattr(tp, '__name__', tp)}"


_TYPE_ERRORS: dict[str, str] = {
    "float_type": "a number",
    "float_parsing": "a number",
    "decimal_type": "a number",
    "decimal_parsing": "a number",
    "int_type": "an integer",
    "int_parsing": "an integer",
    "int_parsing_size": "an integer",
    "int_from_float": "an integer",
    "bool_type": "true or false",
    "bool_parsing": "true or false",
    "string_type": "a string",
    "string_unicode": "a string",
    "bytes_type": "a string",
    "dict_type": "a mapping",
    "mapping_type": "a mapping",
    "model_type": "a mapping",
    "model_attributes_type": "a mapping",
    "dataclass_type": "a mapping",
    "list_type": "a list",
    "tuple_type": "a list",
    "set_type": "a list",
    "frozen_set_type": "a list",
    "iterable_type": "a list",
    "none_required": "null (leave it empty)",
    "date_type": "a date (YYYY-MM-DD)",
    "date_parsing": "a date (YYYY-MM-DD)",
    "date_from_datetime_parsing": "a date (YYYY-MM-DD)",
    "datetime_type": "a date and time",
    "datetime_parsing": "a date and time",
}

_RANGE_ERRORS = {"greater_than", "greater_than_equal", "less_than", "less_than_equal"}
_LENGTH_ERRORS = {"too_short", "too_long", "string_too_short", "string_too_long"}


def _scalar(value: Any) -> Any:
    """The value if it is a scalar worth showing as 'found', else None."""
    return value if isinstance(value, (str, int, float, bool)) else None


def _resolve_relative(data: Any, base: Path, relative: Any) -> Path:
    """Append a 'located' path to ``base``; string elements that meet a list select an item by name."""
    if isinstance(relative, (str, int)):
        relative = (relative,)
    current = data
    for segment in base:
        current = _child(current, segment)
    path = list(base)
    for segment in relative or ():
        if isinstance(current, list) and isinstance(segment, str):
            names = [item.get("name") if isinstance(item, dict) else None for item in current]
            segment = names.index(segment) if segment in names else segment
        path.append(segment)
        current = _child(current, segment)
    return tuple(path)


def _child(value: Any, segment: Any) -> Any:
    if isinstance(value, dict):
        return value.get(segment)
    if isinstance(value, list) and isinstance(segment, int) and 0 <= segment < len(value):
        return value[segment]
    return None


def _issue(err: Mapping[str, Any], model_cls: type[BaseModel], doc: Document) -> _Issue:
    """Translate one pydantic error dict into words and a data path."""
    kind: str = err["type"]
    ctx: dict[str, Any] = dict(err.get("ctx") or {})
    value = err.get("input")
    walk = _walk(model_cls, tuple(err["loc"]))
    path, tp, metadata = walk.path, walk.annotation, walk.metadata
    last = path[-1] if path else None
    issue = _Issue(path=path, message=str(err.get("msg", kind)), unions=walk.unions, at_value=True)

    if kind == "located":
        issue.path = _resolve_relative(doc.data, path, ctx.get("path", ()))
        issue.message = str(ctx.get("message") or err.get("msg"))
        issue.found, issue.allowed, issue.hint = ctx.get("found"), ctx.get("allowed"), ctx.get("hint")
    elif kind == "extra_forbidden":
        keys = _model_keys(walk.parent_model) if walk.parent_model else []
        close = did_you_mean(str(last), keys)
        issue.message = f"unknown key '{last}'"
        issue.allowed = ", ".join(keys) or None
        issue.hint = f"did you mean '{close}'?" if close else None
        issue.at_value = False
    elif kind == "missing":
        issue.message = f"missing item {last}" if isinstance(last, int) else f"missing required key '{last}'"
        issue.allowed = _describe(tp, metadata)
        issue.at_value = False
    elif kind in ("literal_error", "enum"):
        values = _allowed_values(tp)
        choices = [str(v) for v in values]
        close = did_you_mean(str(value), choices) if values else None
        issue.message = "not one of the allowed values"
        issue.found = value
        listed = ", ".join(_yaml_repr(v) for v in values) if values else ctx.get("expected")
        issue.allowed = f"one of: {listed}"
        issue.hint = f"did you mean {_yaml_repr(values[choices.index(close)])}?" if close else None
        issue.shape = issue.literal = True
    elif kind in _TYPE_ERRORS:
        issue.message = f"wrong type: found {_yaml_type(value)}"
        issue.found = value
        issue.allowed = _describe(tp, metadata) if tp is not Any else _TYPE_ERRORS[kind]
        issue.shape = True
    elif kind in _RANGE_ERRORS:
        bounds = _bounds(metadata)
        if not bounds:
            symbols = {"gt": ">", "ge": ">=", "lt": "<", "le": "<="}
            bounds = [f"{symbols[k]} {_number(v)}" for k, v in ctx.items() if k in symbols]
        issue.message = "out of range"
        issue.found = value
        issue.allowed = " and ".join(bounds)
    elif kind in _LENGTH_ERRORS:
        low, high = _lengths(metadata, ctx)
        unit = "characters" if isinstance(value, str) else "items"
        parts = [f"at least {low}"] if low is not None else []
        parts += [f"at most {high}"] if high is not None else []
        issue.message = "too short" if "short" in kind else "too long"
        issue.found = value
        issue.allowed = f"{' and '.join(parts)} {unit}" if parts else None
    elif kind in ("multiple_of", "finite_number", "string_pattern_mismatch"):
        issue.message = "not allowed"
        issue.found = value
        issue.allowed = {
            "multiple_of": f"a multiple of {_number(ctx.get('multiple_of'))}",
            "finite_number": "a finite number",
            "string_pattern_mismatch": f"text matching {ctx.get('pattern')}",
        }[kind]
    elif kind in ("value_error", "assertion_error"):
        message = str(err.get("msg", ""))
        for prefix in ("Value error, ", "Assertion failed, "):
            message = message.removeprefix(prefix)
        issue.message = message
        issue.found = _scalar(value)
    elif kind in ("union_tag_invalid", "union_tag_not_found"):
        key = str(ctx.get("discriminator", "")).strip("'\"")
        issue.path = path + (key,)
        if kind == "union_tag_invalid":
            tags = [t.strip().strip("'\"") for t in str(ctx.get("expected_tags", "")).split(",")]
            close = did_you_mean(str(ctx.get("tag")), tags)
            issue.message = "not one of the allowed values"
            issue.found = ctx.get("tag")
            issue.allowed = "one of: " + ", ".join(repr(t) for t in tags)
            issue.hint = f"did you mean '{close}'?" if close else None
        else:
            tags = _discriminator_values(tp, key)
            issue.message = f"missing required key '{key}'"
            issue.allowed = "one of: " + ", ".join(_yaml_repr(t) for t in tags) if tags else None
            issue.at_value = False
    else:
        issue.found = _scalar(value)
    if walk.is_key:
        issue.message = f"bad key '{last}': {issue.message}"
        issue.at_value = False
    return issue


def _choose_union_members(issues: list[_Issue], level: int = 0) -> list[_Issue]:
    """Keep one member's errors per failed union, or one combined 'wrong type' error.

    A member "fits" when at least one of its errors is deeper than the union
    value or is not a plain type mismatch (the value had the member's shape but
    failed inside it); the fitting member with the fewest errors wins. If no
    member fits, the value's type matched none: report it once, listing all.
    """
    out: list[_Issue] = []
    groups: dict[Path, list[_Issue]] = {}
    for issue in issues:
        if len(issue.unions) > level:
            groups.setdefault(issue.unions[level][0], []).append(issue)
        else:
            out.append(issue)
    for union_path, group in groups.items():
        by_member: dict[str, list[_Issue]] = {}
        for issue in group:
            by_member.setdefault(issue.unions[level][1], []).append(issue)
        fitting = [
            member
            for member in by_member.values()
            if any(not i.shape or len(i.path) > len(union_path) for i in member)
        ]
        if len(by_member) == 1:
            out.extend(_choose_union_members(group, level + 1))
        elif fitting:
            out.extend(_choose_union_members(min(fitting, key=len), level + 1))
        else:
            out.append(_combine(union_path, group))
    return out


def _combine(path: Path, group: list[_Issue]) -> _Issue:
    """One error for a value that matches no member of a union."""
    first = group[0]
    allowed = " or ".join(dict.fromkeys(i.allowed for i in group if i.allowed))
    literal = any(i.literal for i in group)
    message = "not one of the allowed values" if literal else f"wrong type: found {_yaml_type(first.found)}"
    hint = next((i.hint for i in group if i.hint), None)
    return _Issue(path, message, first.found, allowed or None, hint, at_value=True)


def _to_errors(issues: list[_Issue], doc: Document) -> list[RulebookError]:
    """Locate issues in the file, drop duplicates, and sort by position."""
    errors: list[RulebookError] = []
    seen: set[str] = set()
    for issue in issues:
        location = doc.locate(issue.path, at_value=issue.at_value)
        message = issue.message
        overridden = doc.override_for(issue.path)
        if overridden is not None and len(issue.path) > len(overridden[0]):
            # the --set text alone does not say where inside the value the problem is
            message = f"{doc.key_name(issue.path)}: {message}"
        snippet = doc.snippet(location.line, location.column) if location.file != COMMAND_LINE else None
        hint = issue.hint
        if overridden is None:
            # a check on a whole section can fail because of a value set inside it on the command line
            below = [t for p, t in doc.overrides.items() if tuple(p[: len(issue.path)]) == tuple(issue.path)]
            if below:
                extra = "it includes values set on the command line: " + ", ".join(f"--set {t}" for t in below)
                hint = f"{hint}; {extra}" if hint else extra
        error = RulebookError(
            message,
            location=location,
            found=issue.found,
            allowed=issue.allowed,
            hint=hint,
            snippet=snippet,
        )
        text = error.format()
        if text not in seen:
            seen.add(text)
            errors.append(error)
    errors.sort(
        key=lambda e: (e.location.file != COMMAND_LINE, e.location.line or 0, e.location.column or 0)
    )
    return errors
