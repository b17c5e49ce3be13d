"""The shipped scenarios as a catalogue: list them, show one with the basis of every value, copy one.

``show`` walks the scenario's YAML and gives each value the basis of the
nearest item around it that carries one: ``source:`` (an id from
``meta.sources``, shown with the source's title) or ``assumed:`` (the
reason). Values with neither are structural settings (run length, seed,
conditions), shown as such.
"""

from __future__ import annotations

import shutil
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from socialcredit.errors import SocialCreditError, did_you_mean
from socialcredit.rulebook import scenario_names, scenario_path

#: keys that describe an item rather than give it a value
_LABELS = {"source", "assumed", "name"}


def scenario_file(name: str) -> Path:
    """The YAML file of a shipped scenario (a clear error naming the valid ones if unknown)."""
    path = scenario_path(name)
    if path is None:
        names = scenario_names()
        guess = did_you_mean(name, names)
        hint = f" (did you mean {guess!r}?)" if guess else ""
        raise SocialCreditError(f"unknown scenario {name!r}{hint}; shipped scenarios: {', '.join(names)}")
    return path


def _load(name: str) -> dict[str, Any]:
    from ruamel.yaml import YAML

    return YAML(typ="safe").load(scenario_file(name).read_text(encoding="utf-8"))


def catalogue() -> list[dict[str, Any]]:
    """One row per shipped scenario: name, title, persons, days and what it models."""
    rows = []
    for name in scenario_names():
        data = _load(name)
        meta = data.get("meta", {})
        rows.append(
            {
                "name": name,
                "title": meta.get("title", ""),
                "persons": data.get("population", {}).get("persons"),
                "days": data.get("simulation", {}).get("days", 365),
                "description": " ".join(str(meta.get("description", "")).split()),
            }
        )
    return rows


@dataclass
class Value:
    key: str  # dotted path, list items by name: services[flight].demand
    value: Any
    basis: str  # "source", "assumed" or "setting"
    detail: str  # the source's title (with its id) or the reason


def _basis(item: dict[str, Any], inherited: tuple[str, str], titles: dict[str, str]) -> tuple[str, str]:
    if "source" in item and item["source"] is not None:
        sid = str(item["source"])
        detail = f"{sid}: {titles.get(sid, '(not in meta.sources)')}"
        if item.get("assumed"):  # a sourced item can also say what in it is assumed
            detail += f" [assumed: {note_text(item['assumed'])}]"
        return "source", detail
    if "assumed" in item and item["assumed"] is not None:
        return "assumed", note_text(item["assumed"])
    return inherited


def note_text(note: Any) -> str:
    """An ``assumed:`` note as words: the reason, and the declared range if any."""
    if isinstance(note, dict):
        rng = note.get("range")
        if isinstance(rng, dict):
            extra = "; ".join(f"{k} {lo:g} to {hi:g}" for k, (lo, hi) in rng.items())
        elif isinstance(rng, (list, tuple)) and len(rng) == 2:
            extra = f"{rng[0]:g} to {rng[1]:g}"
        else:
            extra = ""
        return str(note.get("reason", "")) + (f" (plausible range: {extra})" if extra else "")
    return str(note)


def _walk(node: Any, key: str, inherited: tuple[str, str], titles: dict[str, str], out: list[Value]) -> None:
    if isinstance(node, dict):
        basis = _basis(node, inherited, titles)
        for k, v in node.items():
            if k in _LABELS:
                continue
            _walk(v, f"{key}.{k}" if key else str(k), basis, titles, out)
    elif isinstance(node, list) and any(isinstance(x, dict) for x in node):
        for i, x in enumerate(node):
            label = x.get("name", i) if isinstance(x, dict) else i
            _walk(x, f"{key}[{label}]", inherited, titles, out)
    else:
        out.append(Value(key, node, inherited[0], inherited[1]))


def values(name: str) -> tuple[dict[str, Any], list[Value]]:
    """The scenario's meta and every value with its basis (meta itself excluded)."""
    return values_of(_load(name))


def values_of(data: dict[str, Any]) -> tuple[dict[str, Any], list[Value]]:
    """A rulebook's meta and every value with its basis (meta itself excluded), from its parsed YAML."""
    meta = data.get("meta", {}) or {}
    titles = {str(s.get("id")): str(s.get("title", "")) for s in meta.get("sources", []) or []}
    out: list[Value] = []
    for section, node in data.items():
        if section == "meta":
            continue
        _walk(node, section, ("setting", ""), titles, out)
    return meta, out


def copy(name: str, target: Path, force: bool = False) -> Path:
    """Write a copy of a shipped scenario to edit; never overwrites an existing file unless ``force``."""
    src = scenario_file(name)
    target = Path(target)
    if target.is_dir():
        target = target / src.name
    if target.exists() and not force:
        raise SocialCreditError(f"{target}: the file already exists; nothing was written (use --force to overwrite it)")
    if not target.parent.exists():
        raise SocialCreditError(f"{target.parent}: no such folder; nothing was written")
    tmp = target.with_name(f".{target.name}.partial")
    shutil.copyfile(src, tmp)
    tmp.replace(target)
    return target
