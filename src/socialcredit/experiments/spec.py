"""The experiment file: a base rulebook, arms, seeds, a sweep, and the measures to keep.

An experiment is validated to the rulebook standard: unknown keys are errors,
every message names the file, line and column (with a "did you mean"), and a
bad spec writes nothing. Example::

    name: camera-errors
    base: rongcheng                # a shipped scenario or a rulebook file (relative to this file)
    persons: 20000
    days: 365
    seeds: 10                      # seeds 1..10; or {first: 5, count: 10}; or a list [1, 4, 9]
    set: {services.flight.demand: 1}          # overrides for every arm
    arms:
      - name: public
      - name: secret
        set: {institutions.transparency: secret}
    sweep:
      design: grid                 # grid, lhs (Latin hypercube) or sobol
      parameters:
        detection.channels.camera.false_attribution: [0.001, 0.01, 0.1]
    measures:
      summary: all                 # or a list of summary measures
      daily: [score_mean, blacklisted, denials_wrongful]
      breakdowns: [all]            # all, region, group, tier

:func:`load_spec` reads such a file; :func:`spec_from_dict` takes the same as
a Python mapping; :func:`plan_runs` expands a spec into its runs.
"""

from __future__ import annotations

import hashlib
import itertools
import json
import math
import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

from pydantic import Field, field_validator, model_validator

from socialcredit.engine.plan import build_plan
from socialcredit.errors import Location, RulebookError, RulebookErrors, SocialCreditError, did_you_mean
from socialcredit.rulebook import resolve, shortcut_overrides
from socialcredit.rulebook.document import Document, dump_yaml, load_document, parse_document
from socialcredit.rulebook.overrides import apply_overrides
from socialcredit.rulebook.schema import NAME_RE, Rulebook, Strict, located
from socialcredit.rulebook.validation import validate

BREAKDOWNS = ("all", "region", "group", "tier")
DESIGNS = ("grid", "lhs", "sobol")
MAX_RUNS = 1_000_000
Scalar = float | int | str | bool


class Seeds(Strict):
    """Consecutive seeds ``first``, ``first + 1``, ... (``count`` of them)."""

    first: int = Field(1, ge=0, le=2**63 - 1 - MAX_RUNS)
    count: int = Field(ge=1, le=MAX_RUNS)


class Arm(Strict):
    """A named variant: another scenario or rulebook, and/or overrides on top of the base."""

    name: str
    scenario: str | None = Field(None, description="a shipped scenario or rulebook file instead of the base")
    set: dict[str, Scalar | list[Scalar]] = Field(default_factory=dict, description="overrides: dotted key -> value")
    description: str = ""

    @field_validator("name")
    @classmethod
    def _name(cls, value: str) -> str:
        if not NAME_RE.match(value):
            raise ValueError(f"arm names must start with a letter or underscore and hold only letters, digits and underscores; got {value!r}")
        return value


class Parameter(Strict):
    """One swept rulebook value: a list of ``values``, or a range ``low``..``high``.

    A grid takes the values, or ``steps`` evenly spaced values of the range;
    ``lhs`` and ``sobol`` sample the range. ``log`` spaces or samples it on a
    log scale; ``integer`` rounds each value to a whole number.
    """

    values: list[Scalar] | None = Field(None, min_length=1)
    low: float | None = None
    high: float | None = None
    steps: int | None = Field(None, ge=2, le=10_000)
    log: bool = False
    integer: bool = False

    @model_validator(mode="before")
    @classmethod
    def _shorthand(cls, data: Any) -> Any:
        return {"values": data} if isinstance(data, list) else data

    @model_validator(mode="after")
    def _shape(self) -> "Parameter":
        ranged = self.low is not None or self.high is not None
        if self.values is not None and (ranged or self.steps is not None):
            raise located(("values",), "give either values or a range (low, high), not both")
        if self.values is None:
            if self.low is None or self.high is None:
                raise located(("low" if self.low is None else "high",), "a swept range needs both low and high",
                              allowed="values: [a, b, ...]  or  low: X, high: Y")  # fmt: skip
            for key in ("low", "high"):
                v = getattr(self, key)
                if not math.isfinite(v):
                    raise located((key,), "must be a finite number", found=v)
            if not self.low < self.high:
                raise located(("high",), "high must be greater than low", found=self.high, allowed=f"> {self.low}")
            if self.log and self.low <= 0:
                raise located(("low",), "a log-scaled range needs low > 0", found=self.low)
        else:
            for i, v in enumerate(self.values):
                if isinstance(v, float) and not math.isfinite(v):
                    raise located(("values", i), "must be a finite number", found=v)
        return self


class Sweep(Strict):
    """Rulebook values varied together: every combination (grid), a space-filling sample (lhs, sobol),
    or given points (``points``: every parameter lists one value per point, paired by position)."""

    design: Literal["grid", "lhs", "sobol", "points"] = "grid"
    points: int | None = Field(None, ge=1, le=MAX_RUNS, description="sample size for lhs and sobol")
    seed: int = Field(0, ge=0, le=2**32 - 1, description="seed of the lhs or sobol sampler")
    parameters: dict[str, Parameter] = Field(min_length=1)

    @model_validator(mode="after")
    def _shape(self) -> "Sweep":
        names = list(self.parameters)
        if self.design == "points":
            if self.points is not None:
                raise located(("points",), "given points are counted from the values; leave points out")
            lengths = {}
            for name in names:
                p = self.parameters[name]
                if p.values is None or p.steps is not None:
                    raise located(("parameters", name), "given points need values (one per point) for every parameter",
                                  allowed="values: [a, b, ...]")  # fmt: skip
                lengths[name] = len(p.values)
            if len(set(lengths.values())) > 1:
                first = names[0]
                other = next(n for n in names if lengths[n] != lengths[first])
                raise located(("parameters", other, "values"),
                              f"{other} has {lengths[other]} values and {first} has {lengths[first]}; given points need one value each",
                              found=lengths[other], allowed=str(lengths[first]))  # fmt: skip
            if lengths[names[0]] > MAX_RUNS:
                raise located(("parameters",), f"{lengths[names[0]]:,} points; at most {MAX_RUNS:,} are allowed")
        elif self.design == "grid":
            if self.points is not None:
                raise located(("points",), "points is for lhs and sobol; a grid takes every combination of the values")
            for name in names:
                p = self.parameters[name]
                if p.values is None and p.steps is None:
                    raise located(("parameters", name, "steps"), "a range on a grid needs steps (how many evenly spaced values)")
            size = self.size()
            if size > MAX_RUNS:
                raise located(("parameters",), f"the grid has {size:,} points; at most {MAX_RUNS:,} are allowed",
                              allowed="fewer values or steps, or an lhs or sobol sample")  # fmt: skip
        else:
            if self.points is None:
                raise located(("points",), f"a {self.design} sample needs points (how many)")
            for name in names:
                p = self.parameters[name]
                if p.values is not None:
                    raise located(("parameters", name, "values"), f"a {self.design} sample draws from a range: give low and high, not values")
                if p.steps is not None:
                    raise located(("parameters", name, "steps"), "steps is for grids")
            if self.design == "sobol" and self.points & (self.points - 1):
                lower = 1 << (self.points.bit_length() - 1)
                raise located(("points",), "a Sobol sample keeps its balance only with a power of two points",
                              found=self.points, allowed=f"a power of two, e.g. {lower} or {lower * 2}")  # fmt: skip
        return self


    def size(self) -> int:
        """How many points the sweep has (without drawing or expanding them)."""
        if self.design == "points":
            return len(next(iter(self.parameters.values())).values or [])
        if self.design != "grid":
            return int(self.points or 0)
        size = 1
        for p in self.parameters.values():
            size *= len(p.values) if p.values is not None else int(p.steps or 1)
        return size


class Measures(Strict):
    """What each run keeps: summary measures, daily series and their breakdowns."""

    summary: Literal["all"] | list[str] = "all"
    daily: Literal["all"] | list[str] = "all"
    breakdowns: list[Literal["all", "region", "group", "tier"]] = Field(default_factory=lambda: ["all"], min_length=1)


class ExperimentSpec(Strict):
    """An experiment: arms x sweep points x seeds runs of a base rulebook."""

    name: str
    title: str = ""
    description: str = ""
    base: str = Field("rongcheng", description="a shipped scenario or a rulebook file (relative to the spec)")
    persons: int | None = Field(None, ge=10, le=2_000_000_000)
    days: int | None = Field(None, ge=1, le=36500)
    set: dict[str, Scalar | list[Scalar]] = Field(default_factory=dict, description="overrides for every arm")
    seeds: int | Seeds | list[int] = Field(10, description="a count (seeds 1..N), {first, count}, or a list")
    arms: list[Arm] = Field(default_factory=list)
    sweep: Sweep | None = None
    measures: Measures = Field(default_factory=Measures)

    @field_validator("name")
    @classmethod
    def _name(cls, value: str) -> str:
        if not value or any(c in value for c in "/\\\0") or value.startswith("."):
            raise ValueError(f"the name is used for the folder: no slashes, not empty, not starting with a dot; got {value!r}")
        return value

    @field_validator("seeds", "persons", "days", mode="before")
    @classmethod
    def _not_boolean(cls, value: Any) -> Any:
        if isinstance(value, bool) or (isinstance(value, list) and any(isinstance(v, bool) for v in value)):
            raise ValueError("a boolean is not a number")
        return value

    @field_validator("seeds")
    @classmethod
    def _seeds(cls, value: Any) -> Any:
        if isinstance(value, int) and not 1 <= value <= MAX_RUNS:
            raise ValueError(f"a seed count must be between 1 and {MAX_RUNS:,}; found {value}")
        if isinstance(value, list):
            if not value:
                raise ValueError("the list of seeds is empty")
            for i, s in enumerate(value):
                if not 0 <= s <= 2**63 - 1:
                    raise located((i,), "a seed must be between 0 and 2**63 - 1", found=s)
            if len(set(value)) != len(value):
                raise ValueError("the list of seeds repeats a seed")
        return value

    @model_validator(mode="after")
    def _arms(self) -> "ExperimentSpec":
        seen: dict[str, int] = {}
        for i, arm in enumerate(self.arms):
            if arm.name in seen:
                raise located(("arms", i, "name"), f"duplicate arm name {arm.name!r} (also arm {seen[arm.name]})", found=arm.name)
            seen[arm.name] = i
        return self

    # ---------------------------------------------------------------- derived
    def seed_list(self) -> list[int]:
        if isinstance(self.seeds, int):
            return list(range(1, self.seeds + 1))
        if isinstance(self.seeds, Seeds):
            return list(range(self.seeds.first, self.seeds.first + self.seeds.count))
        return list(self.seeds)

    def arm_list(self) -> list[Arm]:
        return self.arms or [Arm(name="base")]


# ---------------------------------------------------------------- loading
@dataclass
class LoadedSpec:
    """A validated spec with its document (for positions) and the folder relative paths start from."""

    spec: ExperimentSpec
    document: Document
    base_dir: Path

    def resolved_yaml(self) -> str:
        """The spec with defaults filled in and file paths made absolute (``experiment.yaml``)."""
        data = self.spec.model_dump(mode="json", exclude_none=True)
        data["base"] = _absolute(self.spec.base, self.base_dir)
        for arm in data.get("arms", []):
            if arm.get("scenario"):
                arm["scenario"] = _absolute(arm["scenario"], self.base_dir)
        head = "# The resolved experiment (defaults filled in, paths absolute); 'socialcredit experiment' reads it as it is.\n"
        return head + dump_yaml(data)


def _absolute(source: str, base_dir: Path) -> str:
    looks_like_file = source.lower().endswith((".yaml", ".yml")) or "/" in source or os.sep in source
    if not looks_like_file:  # a scenario name (an unknown one is reported with a suggestion when loaded)
        return source
    path = Path(source)
    return str(path if path.is_absolute() else (base_dir / path).resolve())


def load_spec(path: str | os.PathLike) -> LoadedSpec:
    """Read and validate an experiment file; errors name the file, line and column."""
    doc = load_document(path)
    spec = validate(ExperimentSpec, doc)
    return LoadedSpec(spec, doc, Path(path).resolve().parent)


def spec_from_dict(data: dict[str, Any], base_dir: str | os.PathLike = ".", name: str = "<experiment>") -> LoadedSpec:
    """Validate a spec given as a Python mapping (errors name its keys)."""
    text = dump_yaml(data)
    doc = parse_document(text, name)
    spec = validate(ExperimentSpec, doc)
    return LoadedSpec(spec, doc, Path(base_dir).resolve())


def ensemble_spec(source: str, seeds: int, first_seed: int | None, overrides: list[str],
                  persons: int | None = None, days: int | None = None, name: str | None = None) -> LoadedSpec:  # fmt: skip
    """The spec of ``socialcredit run SCENARIO --seeds N``: one arm, N seeds, the command line's overrides."""
    sets: dict[str, Any] = {}
    for text in overrides:
        key, sep, raw = text.partition("=")
        if not sep:
            raise RulebookError("an override must look like path.to.key=value", location=Location(file="command line", key=f"--set {text}"))
        sets[key.strip()] = raw.strip()  # kept as text: the rulebook's override parser reads it, as for a single run
    stem = Path(source).stem if source.lower().endswith((".yaml", ".yml")) else source
    data: dict[str, Any] = {
        "name": name or f"{stem}-{seeds}-seeds",
        "base": str(Path(source).resolve()) if source.lower().endswith((".yaml", ".yml")) else source,
        "seeds": {"first": 1 if first_seed is None else first_seed, "count": seeds},
    }
    if persons is not None:
        data["persons"] = persons
    if days is not None:
        data["days"] = days
    if sets:
        data["set"] = sets
    return spec_from_dict(data, name="command line")


# ---------------------------------------------------------------- expanding into runs
@dataclass(frozen=True)
class Keep:
    """The measures a run sends back (None: all)."""

    summary: tuple[str, ...] | None
    daily: tuple[str, ...] | None
    breakdowns: tuple[str, ...]


@dataclass
class PlannedRun:
    """One simulation of the experiment: arm, sweep point, seed and its exact rulebook."""

    run_id: str
    arm: str
    point: int
    seed: int
    values: dict[str, Any]
    rulebook_yaml: str | None  # None when the rulebook of this arm and point is invalid
    base_dir: str | None
    error: str | None = None
    fingerprint: str = ""


@dataclass
class Plan:
    """Every run of an experiment, in order (arm, point, seed), and what each keeps."""

    runs: list[PlannedRun]
    keep: Keep
    parameters: list[str] = field(default_factory=list)
    arms: list[str] = field(default_factory=list)
    points: list[dict[str, Any]] = field(default_factory=list)
    seeds: list[int] = field(default_factory=list)


def sweep_points(sweep: Sweep | None) -> list[dict[str, Any]]:
    """The sweep's points (one mapping of key -> value each); one empty point without a sweep."""
    if sweep is None:
        return [{}]
    names = list(sweep.parameters)
    params = [sweep.parameters[n] for n in names]
    if sweep.design == "points":
        columns = [[_finish(v, p) for v in (p.values or [])] for p in params]
        return [dict(zip(names, row)) for row in zip(*columns)]
    if sweep.design == "grid":
        axes = []
        for p in params:
            if p.values is not None:
                axes.append([_finish(v, p) for v in p.values])
            else:
                import numpy as np

                assert p.low is not None and p.high is not None and p.steps is not None
                grid = np.geomspace(p.low, p.high, p.steps) if p.log else np.linspace(p.low, p.high, p.steps)
                axes.append([_finish(float(v), p) for v in grid])
        return [dict(zip(names, combo)) for combo in itertools.product(*axes)]
    from scipy.stats import qmc

    d = len(params)
    assert sweep.points is not None
    sampler = qmc.LatinHypercube(d=d, seed=sweep.seed) if sweep.design == "lhs" else qmc.Sobol(d=d, scramble=True, seed=sweep.seed)
    unit = sampler.random(sweep.points)
    points = []
    for row in unit:
        point = {}
        for name, p, u in zip(names, params, row):
            assert p.low is not None and p.high is not None
            if p.log:
                v = math.exp(math.log(p.low) + float(u) * (math.log(p.high) - math.log(p.low)))
            else:
                v = p.low + float(u) * (p.high - p.low)
            point[name] = _finish(v, p)
        points.append(point)
    return points


def _finish(value: Any, p: Parameter) -> Any:
    """A swept value as the rulebook gets it: rounded when the parameter is ``integer``."""
    if p.integer and isinstance(value, (int, float)) and not isinstance(value, bool):
        return int(round(value))
    return value


def _override(key: str, value: Any) -> str:
    if isinstance(value, str):
        return f"{key}={value}"
    return f"{key}={json.dumps(value)}"


def plan_runs(loaded: LoadedSpec) -> Plan:
    """Expand a spec into its runs, each with its exact rulebook (validated here, on the client).

    A rulebook that fails at every sweep point of an arm is an error of the
    spec (exit 2, located in the spec file); one that fails at some points
    only is recorded as failed runs, with the message, and the others run.
    """
    spec, doc = loaded.spec, loaded.document
    points = sweep_points(spec.sweep)
    if len(points) * len(spec.arm_list()) * len(spec.seed_list()) > MAX_RUNS:
        raise RulebookError(
            f"the experiment has {len(points) * len(spec.arm_list()) * len(spec.seed_list()):,} runs; at most {MAX_RUNS:,} are allowed",
            location=doc.locate(("seeds",)),
        )
    keep = Keep(
        summary=None if spec.measures.summary == "all" else tuple(spec.measures.summary),
        daily=None if spec.measures.daily == "all" else tuple(spec.measures.daily),
        breakdowns=tuple(dict.fromkeys(spec.measures.breakdowns)),
    )
    common = [_override(k, v) for k, v in spec.set.items()]
    common_paths = {_override(k, v): ("set", k) for k, v in spec.set.items()}
    shortcuts = shortcut_overrides(spec.persons, spec.days, None)
    shortcut_paths = {t: ("persons",) if t.startswith("population.persons") else ("days",) for t in shortcuts}
    runs: list[PlannedRun] = []
    sweep_keys = list(spec.sweep.parameters) if spec.sweep else []
    for a, arm in enumerate(spec.arm_list()):
        source = _absolute(arm.scenario or spec.base, loaded.base_dir)
        source_path: tuple[Any, ...] = ("arms", a, "scenario") if arm.scenario else ("base",)
        arm_sets = [_override(k, v) for k, v in arm.set.items()]
        where = {**common_paths, **shortcut_paths,
                 **{_override(k, v): ("arms", a, "set", k) for k, v in arm.set.items()}}  # fmt: skip
        try:
            base_doc = _load_source(source)
        except RulebookError as exc:
            raise _relocate(exc, doc, source_path) from None
        errors: dict[int, SocialCreditError] = {}
        texts: dict[int, tuple[str, str]] = {}
        for k, point in enumerate(points):
            point_sets = [_override(key, value) for key, value in point.items()]
            point_where = {_override(key, value): ("sweep", "parameters", key) for key, value in point.items()}
            overrides = shortcuts + common + arm_sets + point_sets
            try:
                d = apply_overrides(base_doc, overrides)
                build_plan(validate(Rulebook, d))
            except (RulebookError, RulebookErrors) as exc:
                errors[k] = _relocate_all(exc, doc, {**where, **point_where})
                continue
            except SocialCreditError as exc:  # a bad condition
                errors[k] = exc
                continue
            texts[k] = (dump_yaml(_without_seed(d.data)), str(Path(source).parent) if Path(source).exists() else "")
        if errors and len(errors) == len(points):
            raise next(iter(errors.values()))
        for k, point in enumerate(points):
            for seed in spec.seed_list():
                run_id = f"{arm.name}-p{k:0{max(3, len(str(len(points) - 1)))}d}-s{seed}" if spec.sweep else f"{arm.name}-s{seed}"
                if k in texts:
                    text, base_dir = texts[k]
                    runs.append(PlannedRun(run_id, arm.name, k, seed, point, text, base_dir or None))
                else:
                    runs.append(PlannedRun(run_id, arm.name, k, seed, point, None, None, error=str(errors[k])))
    for r in runs:
        r.fingerprint = fingerprint(r.rulebook_yaml or f"invalid: {r.error}", r.seed, keep)
    return Plan(runs, keep, sweep_keys, [a.name for a in spec.arm_list()], points, spec.seed_list())


def _load_source(source: str) -> Document:
    path = resolve(source)
    return load_document(path)


def _without_seed(data: dict[str, Any]) -> dict[str, Any]:
    """The rulebook without its seed: the seed is set per run (``simulation.seed``)."""
    out = dict(data)
    sim = dict(out.get("simulation") or {})
    sim.pop("seed", None)
    out["simulation"] = sim
    return out


def fingerprint(rulebook_yaml: str, seed: int, keep: Keep) -> str:
    """What makes a run's stored results what they are: its rulebook, its seed and the measures kept."""
    h = hashlib.sha256()
    h.update(rulebook_yaml.encode())
    h.update(f"\nseed={seed}\nkeep={keep.summary}|{keep.daily}|{keep.breakdowns}".encode())
    return h.hexdigest()[:20]


def _relocate(exc: RulebookError, doc: Document, path: tuple[Any, ...]) -> RulebookError:
    """A rulebook error about a file the spec names, reported at the spec's key as well."""
    if exc.location.file and exc.location.file != "command line" and exc.location.line is not None:
        return exc  # an error inside the named rulebook: its own file and line say where
    loc = doc.locate(path, at_value=True)
    loc.key = doc.key_name(path)
    return RulebookError(exc.message, location=loc, found=exc.found, allowed=exc.allowed, hint=exc.hint,
                         snippet=doc.snippet(loc.line, loc.column))  # fmt: skip


def _relocate_all(exc: SocialCreditError, doc: Document, where: dict[str, tuple[Any, ...]]) -> SocialCreditError:
    """Errors from overrides (``--set`` texts) moved to the spec keys that produced them."""
    items = exc.errors if isinstance(exc, RulebookErrors) else [exc]
    moved: list[RulebookError] = []
    for e in items:
        if not isinstance(e, RulebookError):
            return exc
        key = e.location.key or ""
        text = key[len("--set "):] if key.startswith("--set ") else None
        if e.location.file == "command line" and text in where:
            path = where[text]
            about_key = any(t in e.message for t in ("unknown key", "has no item", "cannot set", "key path"))
            loc = doc.locate(path, at_value=not about_key)
            loc.key = doc.key_name(path)
            rule_key = text.partition("=")[0]
            message = e.message if rule_key in e.message else f"{e.message} (rulebook key {rule_key})"
            moved.append(RulebookError(message, location=loc, found=e.found, allowed=e.allowed, hint=e.hint,
                                       snippet=doc.snippet(loc.line, loc.column)))  # fmt: skip
        else:
            moved.append(e)
    return moved[0] if len(moved) == 1 else RulebookErrors(moved)


def check_measures(keep: Keep, summary_names: list[str], daily_names: list[str], doc: Document) -> None:
    """Refuse kept measures that no run produces (located at the spec's measures list)."""
    for key, wanted, known in (("summary", keep.summary, summary_names), ("daily", keep.daily, daily_names)):
        for i, name in enumerate(wanted or ()):
            if name not in known:
                guess = did_you_mean(name, known)
                loc = doc.locate(("measures", key, i), at_value=True)
                loc.key = f"measures.{key}[{i}]"
                raise RulebookError(
                    f"unknown {key} measure {name!r}",
                    location=loc,
                    found=name,
                    allowed=", ".join(known[:40]) + (" ..." if len(known) > 40 else ""),
                    hint=f"did you mean '{guess}'?" if guess else None,
                    snippet=doc.snippet(loc.line, loc.column),
                )
