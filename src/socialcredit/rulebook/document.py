"""Read rulebook YAML while keeping the line and column of every key and value.

:func:`load_document` and :func:`parse_document` turn YAML into a :class:`Document`:
plain python data plus where each part came from (every mapping key, sequence
item and scalar value with its 1-based line and column), so that an error can
be reported as a one-screen :class:`~socialcredit.errors.RulebookError` naming
file, line, column and the dotted key path (``services[flight].demand``).
:func:`dump_yaml` writes plain data back as readable YAML.

Overrides from the command line are applied by :mod:`socialcredit.rulebook.overrides`;
:mod:`socialcredit.rulebook.validation` checks a document against a pydantic model.

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
"""

from __future__ import annotations

import datetime
import enum
import io
import math
import os
import re
import sys
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from ruamel.yaml import YAML
from ruamel.yaml.constructor import RoundTripConstructor
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

from socialcredit.errors import Location, RulebookError, did_you_mean

Path = tuple[str | int, ...]

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


class _Constructor(RoundTripConstructor):
    """Reads dates as text, so the schema checks them (a bad date is a located error, not a crash)."""


_Constructor.add_constructor("tag:yaml.org,2002:timestamp", RoundTripConstructor.construct_yaml_str)


def _yaml() -> YAML:
    """A round-trip parser: it keeps the line/column of every key and item."""
    y = YAML(typ="rt")
    y.Constructor = _Constructor
    return y


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


def _safe_load(text: str, filename: str, lines: list[str], yaml: YAML | None = None) -> Any:
    """Parse YAML text after checking its size, depth and numbers on the event stream (``yaml``: a configured
    round-trip parser of :func:`_yaml`, e.g. one that keeps quotes for rewriting).

    The event parser is iterative, so the checks work on input that would make
    the (recursive) constructor overflow the stack or expand aliases without end.
    """
    try:
        _check_events(text, filename, lines)
        limit = sys.getrecursionlimit()
        sys.setrecursionlimit(max(limit, 20 * MAX_DEPTH + 1000))  # ruamel uses several frames per level
        try:
            return (yaml or _yaml()).load(text)
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
