"""Apply ``--set KEY=VALUE`` overrides from the command line to a parsed rulebook.

Keys are dotted paths into the document; list items can be selected by ``name``
(preferred) or index, dotted or in brackets: ``behaviours.jaywalking.rate``,
``behaviours.0.rate``, ``services[flight].demand``. Values are read as YAML.
The :class:`~socialcredit.rulebook.document.Document` records which paths were
set, so that later errors about them point at the ``--set`` text instead of the file.
"""

from __future__ import annotations

import copy
import re
from collections.abc import Sequence
from typing import Any

from ruamel.yaml.error import YAMLError

from socialcredit.errors import Location, RulebookError, did_you_mean
from socialcredit.rulebook.document import (
    COMMAND_LINE,
    Document,
    Path,
    _check_events,
    _convert,
    _display_path,
    _yaml,
    _yaml_type,
)


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
    path, created = set_value(data, segments, value, text)
    for old in [p for p in recorded if p[: len(path)] == path]:
        del recorded[old]  # a later override replaces what earlier ones set beneath it
    for p in created:
        recorded[p] = text
    recorded[path] = text


def set_value(data: dict[Any, Any], segments: Sequence[str], value: Any, text: str) -> tuple[Path, list[Path]]:
    """Set ``value`` at the key path ``segments`` of ``data`` (list items by name or index; missing mapping
    keys are created). Returns the path set and the paths created on the way; errors name ``text``."""
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
    return path, created


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
