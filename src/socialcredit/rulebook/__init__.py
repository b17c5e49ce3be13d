"""Rulebooks: load a shipped scenario or a YAML file, apply overrides, validate, compile.

>>> from socialcredit.rulebook import load_rulebook
>>> rb = load_rulebook("reference", ["population.persons=10000"]).rulebook
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from importlib import resources
from pathlib import Path
from typing import Sequence

from socialcredit.errors import RulebookError, did_you_mean
from socialcredit.rulebook.document import dump_yaml, load_document
from socialcredit.rulebook.feasibility import network_problem
from socialcredit.rulebook.fields import compile_located
from socialcredit.rulebook.overrides import apply_overrides
from socialcredit.rulebook.schema import Rulebook
from socialcredit.rulebook.timeline import in_force
from socialcredit.rulebook.validation import validate

SCENARIO_PACKAGE = "socialcredit.scenarios"


def scenario_names() -> list[str]:
    """Names of the shipped scenarios."""
    root = resources.files(SCENARIO_PACKAGE)
    return sorted(p.name[: -len(".yaml")] for p in root.iterdir() if p.name.endswith(".yaml"))


def scenario_path(name: str) -> Path | None:
    p = resources.files(SCENARIO_PACKAGE) / f"{name}.yaml"
    return Path(str(p)) if p.is_file() else None


def resolve(source: str | os.PathLike) -> Path:
    """A scenario name or a file path -> the YAML file (a clear error if neither)."""
    s = str(source)
    path = Path(s)
    looks_like_file = path.suffix.lower() in (".yaml", ".yml") or os.sep in s or "/" in s
    if not looks_like_file:
        found = scenario_path(s)
        if found is not None:
            return found
        names = scenario_names()
        guess = did_you_mean(s, names)
        raise RulebookError(
            f"no scenario named {s!r} and no such file",
            found=s,
            allowed="a shipped scenario (" + ", ".join(names) + ") or a path to a .yaml rulebook",
            hint=f"did you mean '{guess}'?" if guess else "run 'socialcredit scenarios' to list them",
        )
    return path


def shortcut_overrides(persons: int | None = None, days: int | None = None, seed: int | None = None) -> list[str]:
    """``--set`` items for the common shortcuts (population size, days, seed)."""
    items = []
    for path, value in (("population.persons", persons), ("simulation.days", days), ("simulation.seed", seed)):
        if value is not None:
            items.append(f"{path}={value}")
    return items


@dataclass
class Loaded:
    """A validated rulebook with its source document (for positions and the exact text)."""

    rulebook: Rulebook
    document: "object"
    path: Path

    @property
    def base_dir(self) -> str:
        return str(self.path.parent)

    def yaml(self) -> str:
        """The exact rulebook (after overrides) as YAML, for the run folder."""
        return dump_yaml(self.document.data)


def load_rulebook(source: str | os.PathLike, overrides: Sequence[str] = ()) -> Loaded:
    """Load, override, validate and compile-check a rulebook; raises our own errors only."""
    path = resolve(source)
    doc = load_document(path)
    if overrides:
        doc = apply_overrides(doc, list(overrides))
    rb = validate(Rulebook, doc)
    _check_network(rb, doc)
    compile_located(rb, doc)  # errors point into the file
    rb._timeline = in_force(rb, doc)  # every dated change checked like the rulebook, errors in the file
    return Loaded(rulebook=rb, document=doc, path=path)


def _check_network(rb: Rulebook, doc: "object") -> None:
    """Refuse network parameters the generator cannot satisfy, at the key's place in the file."""
    section = ("population", "network")
    where = doc.locate(section)
    where.key = doc.key_name(section)
    rb._network_location = where
    problem = network_problem(rb)
    if problem is None:
        return
    key, message = problem
    path = section + (key,)
    location = doc.locate(path, at_value=True)
    raise RulebookError(
        message,
        location=location,
        found=getattr(rb.population.network, key),
        snippet=doc.snippet(location.line, location.column) if location.line else None,
    )
