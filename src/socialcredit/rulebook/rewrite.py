"""Write new values into a rulebook file, keeping its comments, order and layout, and say why beside them.

Used to save a fitted rulebook (``socialcredit calibrate``): each changed
number gets a note in the ``assumed:`` of the mapping that holds it, naming
the keys that changed and how they were found, in front of what the note said
before. An earlier ``fitted: KEYS by ... |`` part loses the keys fitted now,
and is dropped when none is left, so a note says how each value was last fitted.

:func:`set_values` is the plain form, for the dashboard's rulebook with changed
values: the values set (sections the rulebook left to their defaults made),
the changes listed as comment lines on top.
"""

from __future__ import annotations

import io
from collections.abc import Mapping
from typing import Any

from socialcredit.rulebook.document import _safe_load, _yaml
from socialcredit.rulebook.overrides import _dict_key, _list_index, _split_override_key

FITTED = "fitted: "
SEPARATOR = " | "


def rewrite_values(text: str, values: Mapping[str, float], how: str) -> str:
    """``text`` with every ``--set``-style key in ``values`` set, and a note ``fitted: KEYS how`` beside them."""
    yaml = _round_trip()
    data = _load(text, yaml)
    holders: dict[int, tuple[Any, list[str]]] = {}
    for key, value in values.items():
        holder, relative = _set(data, key, value)
        holders.setdefault(id(holder), (holder, []))[1].append(relative)
    for holder, keys in holders.values():
        parts = str(holder.get("assumed") or "").split(SEPARATOR) if holder.get("assumed") else []
        kept = []  # earlier fits of keys not fitted now stay; those of keys fitted now are replaced
        while parts and parts[0].startswith(FITTED):
            earlier, _, rest = parts.pop(0).removeprefix(FITTED).partition(" by ")
            left = [k for k in earlier.split(", ") if k not in keys]
            if left:
                kept.append(f"{FITTED}{', '.join(left)} by {rest}")
        holder["assumed"] = SEPARATOR.join([f"{FITTED}{', '.join(keys)} {how}", *kept, *parts])
    buf = io.StringIO()
    yaml.dump(data, buf)
    return buf.getvalue()


def set_values(text: str, values: Mapping[str, Any], header: str) -> str:
    """``text`` with every ``--set``-style key in ``values`` set (missing mappings made), ``header`` as comment lines on top."""
    yaml = _round_trip()
    data = _load(text, yaml)
    for key, value in values.items():
        _set(data, key, value)
    buf = io.StringIO()
    yaml.dump(data, buf)
    return "".join(f"# {line}".rstrip() + "\n" for line in header.splitlines()) + buf.getvalue()


def _load(text: str, yaml: Any) -> Any:
    """The rulebook's parse (the project's round-trip loader, as for every rulebook), with its size, depth and alias
    checks and located errors: plain mappings, lists and scalars only; no Python object a file names is constructed
    (unknown tags stay tagged scalars), and nothing of the file is executed."""
    return _safe_load(text, "rulebook", text.splitlines(), yaml)


def _round_trip():
    """The dumper: the layout of the shipped rulebooks, long flow lines kept on one line."""
    yaml = _yaml()
    yaml.width = 4096
    yaml.indent(mapping=2, sequence=4, offset=2)
    yaml.preserve_quotes = True
    return yaml


def _set(data: Any, key: str, value: Any) -> tuple[Any, str]:
    """Set one value; returns the innermost mapping on its path and the key relative to it."""
    segments = _split_override_key(key, f"{key}={value}")
    current, holder, relative = data, data, []
    for depth, segment in enumerate(segments):
        last = depth == len(segments) - 1
        if isinstance(current, dict):
            holder, relative = current, []
            k = _dict_key(current, segment)
            relative.append(str(k))
            if last:
                current[k] = value
            else:
                if k not in current:  # a section the rulebook leaves to its defaults (institutions.appeals)
                    current[k] = type(current)()
                current = current[k]
        else:
            i = _list_index(current, segment, key, key)
            relative.append(str(i))
            if last:
                current[i] = value
            else:
                current = current[i]
    return holder, ".".join(relative)
