"""Validate a rulebook document against a pydantic model, with errors located in the file.

This module knows nothing about the rulebook schema: :func:`validate` takes any
pydantic model class. What it adds is *where*: each pydantic error is reported as
a one-screen :class:`~socialcredit.errors.RulebookError` naming file, line,
column, the dotted key path (``services[flight].demand``), what was found, what
is allowed, and a "did you mean" for misspelt keys or values, using the
positions the :class:`~socialcredit.rulebook.document.Document` recorded.

Typical use::

    doc = load_document("rules.yaml")                     # socialcredit.rulebook.document
    doc = apply_overrides(doc, ["score.initial=900"])     # socialcredit.rulebook.overrides
    rulebook = validate(Rulebook, doc)                    # raises RulebookErrors

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

import enum
import types
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Annotated, Any, Literal, TypeVar, Union, get_args, get_origin

import annotated_types
from pydantic import BaseModel, Discriminator, Tag, ValidationError
from pydantic.fields import FieldInfo

from socialcredit.errors import RulebookError, RulebookErrors, did_you_mean
from socialcredit.rulebook.document import COMMAND_LINE, Document, Path, _yaml_type

M = TypeVar("M", bound=BaseModel)


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
