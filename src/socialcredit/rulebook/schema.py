"""The rulebook schema: the policy as data, validated strictly.

Every model forbids unknown keys, so a misspelt key is an error (the loader
adds the file position and a "did you mean"). Items that hold published or
assumed numbers carry ``source:`` (an id from ``meta.sources``) or
``assumed:`` (the reason) so a reader can tell one from the other.

Cross-field checks raise ``PydanticCustomError("located", ...)`` with a path
relative to the model, so the loader can point at the exact key.
"""

from __future__ import annotations

import datetime
import re
import types
from collections.abc import Mapping, Sequence
from typing import Annotated, Any, Literal, Union, get_args, get_origin

from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    PrivateAttr,
    field_validator,
    model_validator,
)
from pydantic_core import PydanticCustomError

NAME_PATTERN = r"^[A-Za-z_][A-Za-z0-9_]{0,63}$"
"""Names of tiers, behaviours, services, regions, groups and detection channels: a letter or
underscore, then letters, digits and underscores, at most 64 characters. Conditions refer to
these names as identifiers, and they become column and file names in results."""
NAME_RE = re.compile(NAME_PATTERN)
NAME_RULE = "a letter or underscore, then letters, digits or underscores (at most 64 characters)"

RUN_NAME_PATTERN = r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$"
"""``meta.name``: it names the run folder ``runs/<name>-<timestamp>``, so it must be a plain
file name (no '/', no '..', not hidden, at most 64 characters)."""
RUN_NAME_RE = re.compile(RUN_NAME_PATTERN)

POINTS_LIMIT = 1e9
"""Largest size of a behaviour's points per record."""
SCORE_LIMIT = 1e12
"""Largest size of scores: initial score, bounds and tier minimums (kept well inside float32)."""


def located(path: tuple[str | int, ...], message: str, found: Any = None, allowed: str | None = None) -> PydanticCustomError:
    """An error the loader places at ``path`` (relative to the model raising it)."""
    return PydanticCustomError(
        "located", "{message}", {"path": path, "message": message, "found": found, "allowed": allowed}
    )


class Strict(BaseModel):
    """Base model: unknown keys are errors; values are validated on assignment too.

    Numbers must be finite (``.nan`` and ``.inf`` are refused) and numeric fields take
    numbers only: ``true`` is not 1 and the text ``"12"`` is not 12.
    """

    model_config = ConfigDict(extra="forbid", validate_assignment=True, allow_inf_nan=False)

    @model_validator(mode="before")
    @classmethod
    def _numbers_only(cls, data: Any) -> Any:
        """Refuse booleans and text where a field expects a number (pydantic would coerce them)."""
        if not isinstance(data, Mapping):
            return data
        for name, info in cls.model_fields.items():
            key = info.alias or name
            if key in data:
                bad = _non_number(info.annotation, data[key])
                if bad is not None:
                    where, value, wanted = bad
                    kind = "true/false" if isinstance(value, bool) else "a string"
                    raise located((key, *where), f"wrong type: found {kind}", found=value, allowed=wanted)
        return data


def _non_number(tp: Any, value: Any) -> tuple[tuple[str | int, ...], Any, str] | None:
    """(relative path, value, what is allowed) of a bool or str given where ``tp`` wants a number, or None."""
    while get_origin(tp) is Annotated:
        tp = get_args(tp)[0]
    if get_origin(tp) in (Union, types.UnionType):
        members = [m for m in get_args(tp) if m is not type(None)]
        if value is None and len(members) < len(get_args(tp)):
            return None
        if isinstance(value, (bool, str)):
            plain = [get_args(m)[0] if get_origin(m) is Annotated else m for m in members]
            if any(m in (bool, str, Any) or get_origin(m) is Literal for m in plain):
                return None
        for member in members:  # the members of the value's shape (number, mapping or list)
            base = get_args(member)[0] if get_origin(member) is Annotated else member
            origin = get_origin(base)
            if isinstance(value, Mapping):
                fits = isinstance(origin, type) and issubclass(origin, Mapping)
            elif isinstance(value, (list, tuple)):
                fits = origin in (list, tuple, Sequence)
            else:
                fits = base in (int, float)
            bad = _non_number(member, value) if fits else None
            if bad is not None:
                return bad
        return None
    if tp in (int, float):
        if isinstance(value, (bool, str)):
            return (), value, "an integer" if tp is int else "a number"
        return None
    origin, args = get_origin(tp), get_args(tp)
    if isinstance(origin, type) and issubclass(origin, Mapping) and isinstance(value, Mapping) and len(args) == 2:
        for k, v in value.items():
            bad = _non_number(args[1], v)
            if bad is not None:
                return (k, *bad[0]), bad[1], bad[2]
    elif origin in (list, tuple, Sequence) and isinstance(value, (list, tuple)):
        for i, v in enumerate(value):
            if origin is tuple and args and args[-1] is not Ellipsis:
                if i >= len(args):
                    break
                item_tp = args[i]
            else:
                item_tp = args[0] if args else Any
            bad = _non_number(item_tp, v)
            if bad is not None:
                return (i, *bad[0]), bad[1], bad[2]
    return None


Range = tuple[float, float]


class Assumed(Strict):
    """An assumption with the range its value plausibly takes (read by ``socialcredit sensitivity``)."""

    reason: str = Field(description="why the value was assumed")
    range: Range | dict[str, Range] | None = Field(
        None, description="[low, high] for the item's one number, or {key: [low, high]} for several")

    @field_validator("range")
    @classmethod
    def _ordered(cls, value: Any) -> Any:
        pairs = value.items() if isinstance(value, dict) else [((), value)] if value is not None else []
        for key, (lo, hi) in pairs:
            if not lo < hi:
                raise located(key if isinstance(key, tuple) else (key,), "the low end must be below the high end",
                              found=[lo, hi], allowed="[low, high] with low < high")  # fmt: skip
        return value

    def __str__(self) -> str:
        return self.reason


class Sourced(Strict):
    """An item whose numbers come from a published source or an explicit assumption."""

    source: str | None = Field(None, description="id of an entry in meta.sources")
    assumed: str | Assumed | None = Field(None, description="why the value was assumed: a reason, or {reason, range}")

    @model_validator(mode="after")
    def _ranges_name_numbers(self) -> Sourced:
        note = self.assumed
        if not isinstance(note, Assumed) or note.range is None:
            return self
        numbers = [k for k in sorted(self.model_fields_set) if isinstance(getattr(self, k), (int, float)) and not isinstance(getattr(self, k), bool)]
        if isinstance(note.range, dict):
            for key in note.range:
                if key not in numbers:
                    raise located(("assumed", "range", key), f"{key!r} is not a number of this item",
                                  found=key, allowed=", ".join(numbers) or "nothing (the item holds no number)")  # fmt: skip
        elif len(numbers) != 1:
            raise located(("assumed", "range"), "[low, high] is for an item with one number; this one has "
                          f"{len(numbers)}", allowed="{key: [low, high]}, e.g. {" + (numbers[0] if numbers else "rate") + ": [0.1, 0.5]}")  # fmt: skip
        return self


def _check_name(value: str) -> str:
    """A tier, behaviour, service, region, group or channel name must match NAME_PATTERN."""
    if not NAME_RE.match(value):
        raise PydanticCustomError(
            "located", "{message}",
            {"path": (), "message": "not a valid name", "found": value, "allowed": NAME_RULE},
        )  # fmt: skip
    return value


def _unique(items: list[Any], what: str, key: str = "name") -> None:
    seen: dict[str, int] = {}
    for i, item in enumerate(items):
        name = getattr(item, key)
        if name in seen:
            raise located((i, key), f"duplicate {what} name {name!r} (also item {seen[name]})", found=name)
        seen[name] = i


Points = Annotated[float, Field(ge=-POINTS_LIMIT, le=POINTS_LIMIT)]
ScoreValue = Annotated[float, Field(ge=-SCORE_LIMIT, le=SCORE_LIMIT)]


# ---------------------------------------------------------------- meta
class SourceRef(Strict):
    """A published source the rulebook's numbers come from."""

    id: str
    title: str
    url: str | None = None
    used_for: str | None = None


class Meta(Strict):
    name: str = Field(description="names the run folder runs/<name>-<timestamp>: a plain file name")
    title: str = ""
    description: str = ""
    sources: list[SourceRef] = []

    @field_validator("name")
    @classmethod
    def _plain_name(cls, value: str) -> str:
        """The name becomes a folder name: refuse paths, '..', hidden names and very long names."""
        if not RUN_NAME_RE.match(value) or ".." in value:
            raise PydanticCustomError(
                "located", "{message}",
                {"path": (), "message": "meta.name must be a plain name: it names the run folder", "found": value,
                 "allowed": "a letter or digit, then letters, digits, '_', '.' or '-' (no '..'; at most 64 characters)"},
            )  # fmt: skip
        return value


# ---------------------------------------------------------------- population
class Income(Sourced):
    """Lognormal yearly income: median and log-scale sigma."""

    median: float = Field(30000.0, gt=0, le=1e9)
    sigma: float = Field(0.6, ge=0, le=3)


class Region(Sourced):
    name: str
    share: float = Field(gt=0, le=1)
    income: Income = Income()

    _name = field_validator("name")(_check_name)


class Group(Sourced):
    """A synthetic demographic label, used to measure disparate impact."""

    name: str
    share: float = Field(gt=0, le=1)
    misidentification: float = Field(1.0, gt=0, le=100, description="weight of being the wrong person in a false attribution (NIST: 10-100x)")

    _name = field_validator("name")(_check_name)


class Companies(Sourced):
    """Companies; each has one legal representative among its employees."""

    count: int = Field(0, ge=0, le=500_000_000)
    employment: float = Field(0.6, ge=0, le=1, description="share of persons employed by a company")


class NetworkSpec(Sourced):
    generator: Literal["small_world", "scale_free", "block", "edgelist"] = "small_world"
    mean_degree: float = Field(20, ge=0, le=1000)
    rewiring: float = Field(0.1, ge=0, le=1, description="small_world: probability a lattice tie is rewired")
    exponent: float = Field(2.5, gt=2, le=5, description="scale_free: power-law exponent of the degree distribution")
    within_share: float = Field(0.9, ge=0, le=1, description="block: share of ties inside the own region")
    path: str | None = Field(None, description="edgelist: CSV or Parquet file of anonymous integer pairs")
    locality: bool = Field(True, description="renumber persons for memory locality within regions")

    @model_validator(mode="after")
    def _path_for_edgelist(self) -> NetworkSpec:
        if self.generator == "edgelist" and not self.path:
            raise located(("path",), "the edgelist generator needs 'path' (a CSV or Parquet file of integer pairs)")
        return self


class Children(Sourced):
    """Households with children: a household is a person with their partner, if any; a share has children.

    Children are not simulated persons: they are counted in the household of their guardian (the partner with the
    lower number, or the single person), and a service with ``applies_to: children`` is applied for on their behalf.
    """

    share: float = Field(0.0, ge=0, le=1, description="share of households with children under 18")
    mean: float = Field(1.0, ge=1, le=10, description="mean number of children in a household that has children")


class Population(Sourced):
    persons: int = Field(ge=10, le=2_000_000_000)
    regions: list[Region] = Field(min_length=1, max_length=250)
    groups: list[Group] = Field(min_length=1, max_length=250)
    companies: Companies = Companies()
    partners: float = Field(0.0, ge=0, le=1, description="share of persons who live with a partner")
    children: Children | None = Field(None, description="households with children (default: none)")
    network: NetworkSpec = NetworkSpec()

    @model_validator(mode="after")
    def _shares(self) -> Population:
        _unique(self.regions, "region")
        _unique(self.groups, "group")
        for what, items in (("regions", self.regions), ("groups", self.groups)):
            total = sum(x.share for x in items)
            if abs(total - 1.0) > 1e-6:
                raise located(
                    (what,), f"the shares of {what} must add up to 1; they add up to {total:g}", allowed="shares summing to 1"
                )
        return self


# ---------------------------------------------------------------- behaviours
class Behaviour(Sourced):
    """A behaviour people (or companies) do at a yearly rate, and what the system makes of it."""

    name: str
    actor: Literal["person", "company"] = Field("person", description="who acts: a person, or a company (its records feed the company score)")
    rate: float = Field(ge=0, le=365, description="expected events per actor per year")
    heterogeneity: float = Field(0.0, ge=0, le=3, description="sigma of the lognormal per-actor rate multiplier (mean 1)")
    kind: Literal["harmful", "benign", "prosocial"]
    channel: str
    points: Points | dict[str, Points] = Field(description="points per record; a mapping gives them per region, with 'default'")
    responses: list[Literal["deterrence", "gaming", "income"]] = ["deterrence", "gaming"]
    transparency: Literal["public", "secret"] | None = Field(
        None, description="whether people know this behaviour is scored; default: institutions.transparency (partly secret rules)"
    )

    _name = field_validator("name")(_check_name)

    def points_for(self, region: str) -> float:
        if isinstance(self.points, dict):
            return float(self.points.get(region, self.points.get("default", 0.0)))
        return float(self.points)

    def base_points(self) -> float:
        """Points outside any regional override (the sign decides penalised or rewarded)."""
        if isinstance(self.points, dict):
            if "default" in self.points:
                return float(self.points["default"])
            vals = list(self.points.values())
            return float(sum(vals) / len(vals)) if vals else 0.0
        return float(self.points)


# ---------------------------------------------------------------- detection
def _check_ramp(v: list[tuple[int, float]] | None) -> list[tuple[int, float]] | None:
    """[[day, multiplier], ...]: days increasing from 0, multipliers between 0 and 1."""
    if v is None:
        return v
    if not v:
        raise ValueError("a ramp needs at least one [day, multiplier] point")
    days = [d for d, _ in v]
    if any(b <= a for a, b in zip(days, days[1:])):
        raise ValueError(f"ramp days must increase; got {days}")
    for d, m in v:
        if d < 0 or not 0.0 <= m <= 1.0:
            raise ValueError(f"ramp points need day >= 0 and a multiplier between 0 and 1; got [{d}, {m}]")
    return v


def ramp_value(ramp: list[tuple[int, float]] | None, day: int) -> float:
    """A piecewise-linear ramp's value on ``day`` (1 without a ramp; held flat outside its points)."""
    if not ramp:
        return 1.0
    import numpy as np

    days, mult = zip(*ramp)
    return float(np.interp(day, days, mult))


class FollowsFindings(Sourced):
    """Surveillance that follows its findings (Ensign et al. 2018): coverage goes where records were found.

    Every ``period`` days the channel's total coverage (summed over persons, so a fixed
    number of cameras or officers) is shared between regions: a ``uniform`` share in
    proportion to the regions' populations, the rest in proportion to ``found_r ** sharpness``,
    the channel's records in region r over the last ``memory`` days (divided by the region's
    coverage when ``per_coverage``, which estimates the true rate instead).
    """

    period: int = Field(7, ge=1, le=3650, description="days between reallocations")
    memory: int = Field(28, ge=1, le=3650, description="days of records a reallocation counts")
    uniform: float = Field(0.0, ge=0, le=1, description="share of the coverage kept in proportion to population (damping)")
    sharpness: float = Field(1.0, ge=0, le=20, description="allocation in proportion to found ** sharpness: 1 proportional, above 1 toward hot spots")
    per_coverage: bool = Field(False, description="count records per unit of coverage (an estimate of the true rate) instead of records")


class Channel(Sourced):
    """A way the system learns of behaviour: cameras, records, platform data, informants."""

    coverage: float | dict[str, float] = Field(description="probability an event is detected; a mapping gives it per region")
    false_attribution: float = Field(0.0, ge=0, le=1, description="probability a detected event is attached to the wrong person")
    spurious_rate: float = Field(0.0, ge=0, le=365, description="records of events that never happened, per person per year")
    delay: int = Field(0, ge=0, le=3650, description="days between the event and its record")
    ramp: list[tuple[int, float]] | None = Field(
        None,
        description="[[day, multiplier], ...]: coverage is multiplied by a piecewise-linear function of the day "
        "(held constant before the first and after the last point), e.g. a system being rolled out",
    )
    follows_findings: FollowsFindings | None = Field(
        None, description="the coverage by region is reallocated on a period in proportion to the records the channel found there"
    )

    _ramp = field_validator("ramp")(_check_ramp)

    def ramp_at(self, day: int) -> float:
        """The coverage multiplier on ``day`` (1 without a ramp)."""
        return ramp_value(self.ramp, day)

    @field_validator("coverage")
    @classmethod
    def _coverage_range(cls, v: float | dict[str, float]) -> float | dict[str, float]:
        values = v.values() if isinstance(v, dict) else [v]
        for x in values:
            if not 0.0 <= float(x) <= 1.0:
                raise ValueError(f"coverage must be between 0 and 1; got {x}")
        return v

    def coverage_for(self, region: str) -> float:
        if isinstance(self.coverage, dict):
            return float(self.coverage.get(region, self.coverage.get("default", 0.0)))
        return float(self.coverage)


class Detection(Strict):
    channels: dict[str, Channel] = Field(min_length=1)

    @field_validator("channels")
    @classmethod
    def _channel_names(cls, value: dict[str, Channel]) -> dict[str, Channel]:
        """Channel names follow NAME_PATTERN like every other name."""
        for name in value:
            if not NAME_RE.match(str(name)):
                raise located((name,), "not a valid channel name", found=name, allowed=NAME_RULE)
        return value


# ---------------------------------------------------------------- score
class Recovery(Strict):
    """How records stop counting: expire after ``days``, relax toward zero with ``half_life``, or never."""

    mode: Literal["expire", "relax", "none"] = "expire"
    days: int = Field(365, ge=1, le=36500)
    half_life: float = Field(365.0, gt=0, le=36500)


class Social(Strict):
    """The social term: weights of friends' mean, partner and employer scores, updated every ``period`` days."""

    friends: float = Field(0.0, ge=0, le=1)
    partner: float = Field(0.0, ge=0, le=1)
    employer: float = Field(0.0, ge=0, le=1)
    period: int = Field(7, ge=1, le=3650)
    composite: bool = Field(True, description="use friends' composite scores (propagates) rather than their own points")

    @model_validator(mode="after")
    def _weights(self) -> Social:
        total = self.friends + self.partner + self.employer
        if total > 1.0 + 1e-9:
            raise located(("friends",), f"social weights add up to {total:g}; they must leave room for the own score (<= 1)")
        return self


class Score(Sourced):
    basis: Literal["points", "ratings"] = Field(
        "points",
        description="where scores come from: 'points' (initial score plus the points of records, with the social term) "
        "or 'ratings' (the rater-weighted mean of the 1-5 star ratings a person received; see the ratings section)",
    )
    initial: ScoreValue
    bounds: tuple[ScoreValue, ScoreValue] = (0.0, 1e9)
    recovery: Recovery = Recovery()
    social: Social = Social()

    @model_validator(mode="after")
    def _bounds(self) -> Score:
        lo, hi = self.bounds
        if not lo < hi:
            raise located(("bounds",), "bounds must be [low, high] with low < high", found=list(self.bounds))
        if not lo <= self.initial <= hi:
            raise located(("initial",), "the initial score must lie within the bounds", found=self.initial, allowed=f"{lo:g} to {hi:g}")
        return self


class Tier(Sourced):
    """A letter grade; tiers are listed best first, each with the lowest score it admits."""

    name: str
    min: ScoreValue | None = Field(None, description="lowest score in this tier; omit for the last (lowest) tier")

    _name = field_validator("name")(_check_name)


class Ratings(Sourced):
    """Peer rating (``score.basis: ratings``): after each interaction both persons rate each other 1 to 5 stars.

    The rating of ratee j by rater r is ``clip(round(mean + l_j + ratee_weight * (s_j - 3) + rater_weight * (s_r - 3)
    - stranger_penalty * [strangers] - harmful_penalty * [j did harm today] + noise * z), 1, 5)``; the score is the
    mean of the ratings received, weighted by ``(s_r / 3) ** rater_power`` and by their age (``half_life``), with
    ``prior`` ratings at the initial score on day 0.
    """

    interactions: float = Field(
        0.0, ge=0, le=50, description="expected interactions a person starts per day (Poisson); in each, both persons rate each other"
    )
    strangers: float = Field(
        0.0, ge=0, le=1, description="probability that an interaction is with a uniform person of the own region rather than a friend"
    )
    mean: float = Field(4.0, ge=1, le=5, description="stars given, before noise and rounding, between two persons at score 3")
    ratee_weight: float = Field(0.0, ge=-5, le=5, description="stars added per point of the ratee's score above 3 (deference to status)")
    rater_weight: float = Field(
        0.0, ge=-5, le=5, description="stars added per point of the rater's score above 3 (> 0: high scorers are generous, < 0: harsh)"
    )
    noise: float = Field(0.0, ge=0, le=5, description="standard deviation, in stars, of the normal noise of each rating")
    likeability: float = Field(
        0.0, ge=0, le=5, description="standard deviation, in stars, of a fixed per-person offset added to every rating the person receives"
    )
    stranger_penalty: float = Field(
        0.0, ge=0, le=4, description="stars taken off both ratings of an interaction with a stranger rather than a friend"
    )
    harmful_penalty: float = Field(
        0.0, ge=0, le=4, description="stars taken off the ratings a person receives on a day they do a harmful behaviour"
    )
    rater_power: float = Field(0.0, ge=0, le=10, description="a rating counts with weight (rater's score / 3) ** rater_power")
    half_life: float = Field(90.0, gt=0, le=36500, description="half-life, in days, of a rating's weight in the score")
    prior: float = Field(
        10.0, ge=0, le=1e6,
        description="weight of the initial score, counted in ratings by a rater at score 3 received on day 0; it fades like them",
    )  # fmt: skip


# ---------------------------------------------------------------- lists and services
class ListRule(Sourced):
    enter: str = Field(description="condition to be put on the list")
    exit: str | None = Field(None, description="condition to leave after min_days; default: the entry condition no longer holds")
    min_days: int = Field(0, ge=0, le=36500)


class Lists(Strict):
    blacklist: ListRule | None = None
    redlist: ListRule | None = None
    company_blacklist: ListRule | None = Field(
        None, description="list of companies; its conditions read company fields (score, tier, region, size)"
    )


class Consequences(Strict):
    income: float = Field(0.0, ge=-1, le=10, description="relative change of yearly income, e.g. -0.02")
    record: str | None = Field(None, description="a behaviour recorded against the person (its points apply)")


class Service(Sourced):
    """A service people try to use: denied to some (joint punishment) or granted as a reward."""

    name: str
    demand: float = Field(ge=0, le=365, description="attempts per person per year")
    income_elasticity: float = Field(0.0, ge=-5, le=5, description="demand scales with (income / median income) ** elasticity")
    denied_when: str | None = None
    granted_when: str | None = None
    applies_to: Literal["persons", "children"] = Field(
        "persons", description="'children': applied for on behalf of each child (demand per child), the condition read "
        "on the guardian (e.g. blacklisted or partner_blacklisted); needs population.children",
    )
    consequences: Consequences = Consequences()

    _name = field_validator("name")(_check_name)

    @model_validator(mode="after")
    def _one_rule(self) -> Service:
        if (self.denied_when is None) == (self.granted_when is None):
            raise located(
                ("denied_when",),
                "a service needs exactly one of 'denied_when' (a punishment) or 'granted_when' (a reward)",
            )
        return self

    @property
    def is_reward(self) -> bool:
        return self.granted_when is not None

    @property
    def condition(self) -> str:
        return self.granted_when if self.granted_when is not None else str(self.denied_when)


# ---------------------------------------------------------------- institutions, responses, simulation
class Appeals(Sourced):
    """A sanctioned person may appeal the record behind it; the decision comes ``delay`` days later."""

    probability: float = Field(0.0, ge=0, le=1, description="probability a sanctioned person appeals their latest penalising record")
    success_false: float = Field(0.5, ge=0, le=1, description="probability a false record is overturned")
    success_true: float = Field(0.05, ge=0, le=1, description="probability a true record is overturned (connections, error)")
    delay: int = Field(30, ge=0, le=3650, description="days from filing to decision")
    window: int = Field(365, ge=1, le=36500, description="records older than this many days can no longer be appealed")


class Shaming(Sourced):
    """The blacklist is published: each friend of a newly listed person drops the tie with a probability."""

    probability: float = Field(0.0, ge=0, le=1)


class Warnings(Sourced):
    """Warnings on the spot (loudspeakers, screens): a harmful act is warned about, not recorded."""

    coverage: float = Field(0.0, ge=0, le=1, description="probability a person's harmful behaviour is warned about on the spot")
    weight: float = Field(1.0, ge=0, le=1e6, description="perceived risk a warning adds (no record, no points)")


class Coupling(Sourced):
    """Company-manager coupling: a listing on one side is recorded against the other."""

    representative_record: str | None = Field(
        None, description="a person behaviour recorded against the legal representative when their company is blacklisted"
    )
    company_record: str | None = Field(
        None, description="a company behaviour recorded against the company when its legal representative is blacklisted"
    )


class CompanySanctions(Sourced):
    """What the company blacklist costs a company and its employees (joint punishment of companies).

    A company entering the company blacklist loses the shares ``contracts`` (government procurement), ``loans``
    (bank credit) and ``bonds`` (the right to issue them) of its revenue, at most all of it; each of its employees is
    then laid off with probability ``layoffs`` times the share of revenue lost, and loses ``income_loss`` of their
    income, though they did nothing.
    """

    contracts: float = Field(0.0, ge=0, le=1, description="share of revenue lost with government contracts")
    loans: float = Field(0.0, ge=0, le=1, description="share of revenue lost with bank loans")
    bonds: float = Field(0.0, ge=0, le=1, description="share of revenue lost with the right to issue bonds")
    layoffs: float = Field(0.0, ge=0, le=5, description="employees laid off per share of revenue lost (an employee's probability is layoffs x revenue lost, at most 1)")
    income_loss: float = Field(0.5, ge=0, lt=1, description="share of income a laid-off employee loses")

    @property
    def revenue_loss(self) -> float:
        return min(1.0, self.contracts + self.loans + self.bonds)


class EmotionMonitoring(Sourced):
    """Employers watching their workers' emotions with sensors: flags of "emotional outliers" (anxiety, anger).

    A share ``companies`` of companies monitor their employees. Each monitored employee is checked ``checks`` times a
    year; at a check the person is an outlier with probability ``prevalence + stress * s_i / 1000`` (s_i the stress
    index, when responses.stress is on), and is flagged with probability ``sensitivity`` if an outlier, else
    ``false_positive``. A flag leads to a record of ``record`` (false when the flag was) and, with probability
    ``dismissal``, to the loss of the job and of the share ``income_loss`` of income.
    """

    companies: float = Field(ge=0, le=1, description="share of companies that monitor their employees")
    checks: float = Field(12.0, ge=0, le=365, description="checks per monitored employee per year")
    prevalence: float = Field(ge=0, le=1, description="probability a person is an emotional outlier at a check")
    stress: float = Field(0.0, ge=0, le=1, description="added to the prevalence at the highest stress index (1000)")
    sensitivity: float = Field(ge=0, le=1, description="probability an outlier is flagged (true-positive rate)")
    false_positive: float = Field(ge=0, le=1, description="probability a person who is not an outlier is flagged")
    record: str | None = Field(None, description="person behaviour recorded against a flagged person (none: no record)")
    dismissal: float = Field(0.0, ge=0, le=1, description="probability a flag costs the job")
    income_loss: float = Field(0.5, ge=0, lt=1, description="share of income a dismissed person loses")


class Institutions(Strict):
    transparency: Literal["public", "secret"] = "public"
    appeals: Appeals = Appeals()
    shaming: Shaming = Shaming()
    warnings: Warnings = Warnings()
    coupling: Coupling = Coupling()
    company_sanctions: CompanySanctions | None = Field(None, description="what a listed company loses, and its employees with it")
    emotion_monitoring: EmotionMonitoring | None = Field(None, description="employers flag workers' emotions; a flag costs a record or the job")


class Deterrence(Sourced):
    """Perceived risk r decays with ``half_life``; penalised rates are multiplied by 1 / (1 + elasticity * r)."""

    elasticity: float = Field(0.0, ge=0, le=100)
    half_life: float = Field(90.0, gt=0, le=36500)
    points_scale: float = Field(100.0, gt=0, le=1e12, description="points lost that add one unit of perceived risk")
    sanction_weight: float = Field(1.0, ge=0, le=100, description="perceived risk added by one denial")
    friends_weight: float = Field(0.0, ge=0, le=100, description="perceived risk added by one friend's denial")


class Gaming(Sourced):
    """Rewarded behaviours' rates are multiplied by 1 + elasticity * r (public rules only)."""

    elasticity: float = Field(0.0, ge=0, le=100)


class IncomeFeedback(Sourced):
    """Behaviours with the ``income`` response are multiplied by (initial income / income) ** elasticity."""

    elasticity: float = Field(0.0, ge=0, le=20)


class Unfriending(Sourced):
    """On each social update a person drops each friend in a low tier (or blacklisted) with a probability."""

    probability: float = Field(0.0, ge=0, le=1, description="probability per social update of dropping one such friend")
    tiers: list[str] = Field([], description="tiers whose members are dropped")
    blacklisted: bool = Field(True, description="blacklisted friends are dropped too")
    rewire: bool = Field(True, description="refill the slot with a person of the same region")
    preference: float = Field(1.0, ge=0, le=20, description="bias toward better tiers when rewiring: weight exp(-preference * tier index)")


class Breakup(Sourced):
    """On each social update a person whose partner is blacklisted ends the partnership with a probability."""

    probability: float = Field(0.0, ge=0, le=1)


class Stress(Sourced):
    """The stress of living under scoring: an index from 0 (none) to 1000 that moves toward a target each day.

    ``target_i = 1000 * min(1, risk * r_i / (1 + r_i) + listed * [i blacklisted] + friends * lost_i)`` with r_i the
    perceived risk and lost_i the share of the person's first friends they no longer have; the index moves a share
    ``1 - 0.5 ** (1 / half_life)`` of the way each day. Its form is assumed (see docs/model.md): no published study
    measures wellbeing under a score, so it is the simplest index rising with the three stressors the reporting names.
    """

    risk: float = Field(0.0, ge=0, le=1, description="weight of perceived risk (as r / (1 + r))")
    listed: float = Field(0.0, ge=0, le=1, description="weight of being on the blacklist")
    friends: float = Field(0.0, ge=0, le=1, description="weight of the share of one's first friends lost")
    half_life: float = Field(30.0, gt=0, le=36500, description="days for the index to move half way to its target")

    @property
    def on(self) -> bool:
        return self.risk > 0 or self.listed > 0 or self.friends > 0


class Partnering(Sourced):
    """Persons without a partner form partnerships, matched assortatively on score.

    On each social update a single person enters the market of their region with probability
    ``rate * period / 365``; the market is sorted by ``sqrt(a) z + sqrt(1 - a) e`` (z the score standardised within
    the market, e a standard normal draw, a = ``assortativity``) and neighbours in that order pair up, so the scores of
    new couples correlate about ``a`` (0: at random, 1: by score alone).
    """

    rate: float = Field(0.0, ge=0, le=12, description="market entries per single person per year")
    assortativity: float = Field(0.0, ge=0, le=1, description="strength of matching on score: the new couples' score correlation, about")


class Responses(Strict):
    deterrence: Deterrence = Deterrence()
    gaming: Gaming = Gaming()
    income: IncomeFeedback = IncomeFeedback()
    unfriending: Unfriending = Unfriending()
    breakup: Breakup = Breakup()
    partnering: Partnering = Partnering()
    stress: Stress = Stress()


# ---------------------------------------------------------------- power and time
class Dated(Sourced):
    """Something that happens on a day: ``day`` (days since day 0) or ``date`` (needs ``simulation.start``)."""

    day: int | None = Field(None, ge=0, le=36500, description="the day number (day 0 is the first simulated day)")
    date: datetime.date | None = Field(None, description="the calendar date (YYYY-MM-DD); needs simulation.start")

    @model_validator(mode="after")
    def _one_of(self) -> Dated:
        if (self.day is None) == (self.date is None):
            raise located(("day",), "give exactly one of 'day' (a day number) or 'date' (YYYY-MM-DD)",
                          found=None if self.day is None else self.day, allowed="day: 0 to 36500, or date: YYYY-MM-DD")  # fmt: skip
        return self

    def day_number(self, start: datetime.date | None) -> int:
        """The day number, from ``date`` and ``simulation.start`` when dated."""
        if self.day is not None:
            return self.day
        assert start is not None and self.date is not None
        return (self.date - start).days


class Change(Dated):
    """A dated change to rulebook values: from its day on, the run uses the rulebook with ``set`` applied."""

    set: dict[str, Any] = Field(
        min_length=1, description="key path -> new value, as for --set: detection.channels.cameras.coverage: 0.6"
    )


class Enrolment(Sourced):
    """Who is in the system: a share of persons by region (and group, income), rising, then everyone (mandatory).

    Person i is enrolled on day t when ``u_i < share_r(i) * ramp(t) * groups[g(i)] * (income_i / median) ** income``
    with a fixed uniform draw ``u_i`` (so the enrolled stay enrolled while the share rises), or when t is on or
    after ``mandatory``. Persons not enrolled are neither scored nor sanctioned.
    """

    share: float | dict[str, float] = Field(description="share of persons enrolled; a mapping gives it per region, with 'default'")
    ramp: list[tuple[int, float]] | None = Field(
        None, description="[[day, multiplier], ...]: the share is multiplied by a piecewise-linear function of the day (pilots growing)"
    )
    groups: dict[str, float] = Field({}, description="group -> multiplier of the share (default 1)")
    income: float = Field(0.0, ge=-5, le=5, description="the share is multiplied by (income / median income) ** this")
    mandatory: int | None = Field(None, ge=0, le=36500, description="day from which everyone is enrolled")
    mandatory_date: datetime.date | None = Field(None, description="the same as a date (needs simulation.start)")

    @field_validator("share")
    @classmethod
    def _shares(cls, v: float | dict[str, float]) -> float | dict[str, float]:
        for x in v.values() if isinstance(v, dict) else [v]:
            if not 0.0 <= float(x) <= 1.0:
                raise ValueError(f"an enrolment share must be between 0 and 1; got {x}")
        return v

    _ramp = field_validator("ramp")(_check_ramp)

    @field_validator("groups")
    @classmethod
    def _multipliers(cls, v: dict[str, float]) -> dict[str, float]:
        for g, x in v.items():
            if not 0.0 <= float(x) <= 100.0:
                raise located((g,), "a group's multiplier must be between 0 and 100", found=x, allowed="0 to 100")
        return v

    def share_for(self, region: str) -> float:
        if isinstance(self.share, dict):
            return float(self.share.get(region, self.share.get("default", 0.0)))
        return float(self.share)

    def ramp_at(self, day: int) -> float:
        return ramp_value(self.ramp, day)

    def mandatory_day(self, start: datetime.date | None) -> int | None:
        if self.mandatory is not None:
            return self.mandatory
        if self.mandatory_date is not None and start is not None:
            return (self.mandatory_date - start).days
        return None


class Fault(Dated):
    """Errors in bulk: on one day a fault writes false records of ``behaviour`` to many persons at once."""

    behaviour: str = Field(description="the person behaviour the false records are of")
    share: float | None = Field(None, ge=0, le=1, description="share of the persons matching 'where' hit")
    count: int | None = Field(None, ge=0, le=10**10, description="number of persons hit (at most all matching)")
    where: str = Field("true", description="condition the persons hit match (default everyone)")
    records: int = Field(1, ge=1, le=100, description="false records written to each person hit")

    @model_validator(mode="after")
    def _how_many(self) -> Fault:
        if (self.share is None) == (self.count is None):
            raise located(("share",), "give exactly one of 'share' (of the persons matching 'where') or 'count'")
        return self


class Targeting(Sourced):
    """Records aimed at people: false records written on purpose against persons matching ``where``, at a rate."""

    behaviour: str = Field(description="the person behaviour the records are of")
    where: str = Field(description="condition on the persons aimed at, e.g. group == critic or count(criticise_online, 365) > 0")
    rate: float = Field(ge=0, le=365, description="records per aimed-at person per year")
    start: int = Field(0, ge=0, le=36500, description="first day records are written")
    end: int | None = Field(None, ge=0, le=36500, description="day from which no more are written (default: never)")


# ---------------------------------------------------------------- households, work and credit
class Lending(Sourced):
    """Loans granted by a score threshold that move scores (Liu et al., ICML 2018, "Delayed Impact of Fair ML").

    A person applies ``demand`` times a year; the loan is granted when the score is at least the threshold (of the
    person's group in ``thresholds``, else ``threshold``). The borrower repays with probability
    ``1 / (1 + exp(-(score - midpoint) / scale))`` at the score of the day granted, else defaults; ``term`` days
    later a record of ``repaid`` (its points are the gain) or ``defaulted`` (the loss) reaches the score.
    """

    demand: float = Field(ge=0, le=365, description="loan applications per person per year")
    threshold: float = Field(description="lowest score granted a loan")
    thresholds: dict[str, float] = Field({}, description="group -> that group's own threshold (default: threshold)")
    term: int = Field(180, ge=1, le=3650, description="days from the loan to its repayment or default")
    midpoint: float = Field(description="score at which a borrower repays with probability 1/2")
    scale: float = Field(gt=0, le=1e9, description="points over which the repayment probability rises (logistic scale)")
    repaid: str = Field(description="person behaviour recorded when a loan is repaid (its points are the gain)")
    defaulted: str = Field(description="person behaviour recorded when a loan is not repaid (its points are the loss)")


class CommercialBand(Strict):
    """A band of the commercial score, listed best first, each with the lowest score it admits (omit for the last)."""

    name: str
    min: float | None = None

    _name = field_validator("name")(_check_name)


class Commercial(Sourced):
    """A commercial credit score beside the government's (as Sesame Credit): each reads the other.

    Person i's commercial score moves each day a share ``1 - 0.5 ** (1 / half_life)`` of the way toward
    ``initial + income * ln(income_i / median income) + spread * z_i + listed * [i on the government blacklist]``,
    within ``bounds`` (z_i a fixed standard normal: the dimensions the model does not simulate, such as shopping).
    Government conditions read it as the fields ``commercial`` and ``commercial_band``.
    """

    initial: float = Field(description="the score a person of median income starts from")
    bounds: tuple[float, float] = Field(description="[low, high]")
    income: float = Field(0.0, ge=-1e6, le=1e6, description="points per unit of ln(income / median income): ability to pay")
    spread: float = Field(0.0, ge=0, le=1e6, description="standard deviation of the personal term (dimensions not simulated)")
    listed: float = Field(0.0, ge=-1e6, le=1e6, description="points while on the government blacklist (the commercial score reads list status)")
    half_life: float = Field(30.0, gt=0, le=36500, description="days to move half way to the target")
    bands: list[CommercialBand] = Field(min_length=1, max_length=50, description="bands, best first")

    @model_validator(mode="after")
    def _ordered(self) -> Commercial:
        lo, hi = self.bounds
        if not lo < hi:
            raise located(("bounds",), "bounds must be [low, high] with low < high", found=list(self.bounds))
        names = [b.name for b in self.bands]
        for i, name in enumerate(names):
            if name in names[:i]:
                raise located(("bands", i, "name"), f"duplicate band name {name!r}", found=name)
        if self.bands[-1].min is not None:
            raise located(("bands", len(self.bands) - 1, "min"), "the last band takes every lower score: omit its 'min'")
        mins = [b.min for b in self.bands[:-1]]
        for i, m in enumerate(mins):
            if m is None:
                raise located(("bands", i, "min"), f"band {self.bands[i].name!r} needs 'min' (only the last may omit it)")
            if i and not m < mins[i - 1]:
                raise located(("bands", i, "min"), "bands are listed best first: each 'min' must be below the one before", found=m)
        return self


class Simulation(Strict):
    days: int = Field(365, ge=1, le=36500)
    seed: int = Field(0, ge=0, le=2**63 - 1)
    audit_sample: int = Field(1000, ge=0, le=1_000_000, description="persons whose full history is kept")
    scale_to: float | None = Field(None, gt=0, le=1e11, description="real population the simulated one stands for")
    start: datetime.date | None = Field(None, description="the calendar date of day 0 (YYYY-MM-DD); dated targets of a calibration need it")


# ---------------------------------------------------------------- the rulebook
class Rulebook(Strict):
    meta: Meta
    population: Population
    behaviours: list[Behaviour] = Field(min_length=1, max_length=127)
    detection: Detection
    score: Score
    tiers: list[Tier] = Field(min_length=1, max_length=250)
    lists: Lists = Lists()
    services: list[Service] = []
    institutions: Institutions = Institutions()
    responses: Responses = Responses()
    ratings: Ratings = Field(Ratings(), description="peer rating; read only when score.basis is 'ratings'")
    enrolment: Enrolment | None = Field(None, description="who is in the system (default: everyone from day 0)")
    faults: list[Fault] = Field([], description="errors in bulk: one-off false records to many persons")
    targeting: list[Targeting] = Field([], description="records aimed at people: false records written on purpose")
    timeline: list[Change] = Field([], description="dated changes to rulebook values")
    lending: Lending | None = Field(None, description="loans by a score threshold whose repayment or default moves the score")
    commercial: Commercial | None = Field(None, description="a commercial credit score beside the government's, each reading the other")
    simulation: Simulation = Simulation()

    #: where the rulebook was loaded from (relative edge-list paths) and its exact YAML text
    _base_dir: str | None = PrivateAttr(None)
    _yaml: str | None = PrivateAttr(None)
    #: where population.network is in the file (a socialcredit.errors.Location), for errors found while building
    _network_location: Any = PrivateAttr(None)
    #: the rulebooks in force after each timeline change, [(day, rulebook)] (see rulebook.timeline.in_force)
    _timeline: Any = PrivateAttr(None)

    @model_validator(mode="after")
    def _cross_checks(self) -> Rulebook:
        regions = [r.name for r in self.population.regions]
        _check_in_list(self.behaviours, "behaviours", "behaviour")
        _check_in_list(self.services, "services", "service")
        _check_in_list(self.tiers, "tiers", "tier")
        for i, b in enumerate(self.behaviours):
            if b.channel not in self.detection.channels:
                raise located(
                    ("behaviours", i, "channel"),
                    f"unknown detection channel {b.channel!r}",
                    found=b.channel,
                    allowed=", ".join(self.detection.channels),
                )
            if isinstance(b.points, dict):
                _check_region_keys(("behaviours", i, "points"), b.points, regions)
        for name, ch in self.detection.channels.items():
            if isinstance(ch.coverage, dict):
                _check_region_keys(("detection", "channels", name, "coverage"), ch.coverage, regions)
        for i, t in enumerate(self.tiers[:-1]):
            if t.min is None:
                raise located(("tiers", i, "min"), f"tier {t.name!r} needs 'min' (only the last tier may omit it)")
        if self.tiers[-1].min is not None:
            raise located(("tiers", len(self.tiers) - 1, "min"), f"the last tier {self.tiers[-1].name!r} takes every lower score: omit its 'min'")
        mins = [t.min for t in self.tiers if t.min is not None]
        for i in range(1, len(mins)):
            if not mins[i] < mins[i - 1]:
                raise located(("tiers", i, "min"), "tiers are listed best first: each 'min' must be below the one before", found=mins[i])
        behaviours = {b.name for b in self.behaviours if b.actor == "person"}
        company_behaviours = {b.name for b in self.behaviours if b.actor == "company"}
        for i, s in enumerate(self.services):
            if s.consequences.record is not None and s.consequences.record not in behaviours:
                raise located(
                    ("services", i, "consequences", "record"),
                    f"unknown person behaviour {s.consequences.record!r}",
                    found=s.consequences.record,
                    allowed=", ".join(sorted(behaviours)),
                )
        if not behaviours:
            raise located(("behaviours",), "at least one behaviour must have actor: person")
        for i, s in enumerate(self.services):
            if s.applies_to == "children" and (self.population.children is None or self.population.children.share == 0):
                raise located(("services", i, "applies_to"), "a service for children needs households with children",
                              found="children", allowed="persons, or set population.children.share above 0")  # fmt: skip
        coupling = self.institutions.coupling
        for key, name, allowed in (
            ("representative_record", coupling.representative_record, behaviours),
            ("company_record", coupling.company_record, company_behaviours),
        ):
            if name is not None and name not in allowed:
                kind = "person" if key == "representative_record" else "company"
                raise located(
                    ("institutions", "coupling", key),
                    f"unknown {kind} behaviour {name!r}",
                    found=name,
                    allowed=", ".join(sorted(allowed)) or f"(no behaviour has actor: {kind})",
                )
        if self.institutions.company_sanctions is not None and self.lists.company_blacklist is None:
            raise located(("institutions", "company_sanctions"), "company sanctions need a company blacklist",
                          allowed="set lists.company_blacklist")  # fmt: skip
        em = self.institutions.emotion_monitoring
        if em is not None and em.record is not None and em.record not in behaviours:
            raise located(("institutions", "emotion_monitoring", "record"), f"unknown person behaviour {em.record!r}",
                          found=em.record, allowed=", ".join(sorted(behaviours)))  # fmt: skip
        if em is not None and em.stress > 0 and not self.responses.stress.on:
            raise located(("institutions", "emotion_monitoring", "stress"), "stress raises the prevalence only when stress is recorded",
                          found=em.stress, allowed="0, or set responses.stress")  # fmt: skip
        if em is not None and self.population.companies.count == 0:
            raise located(("institutions", "emotion_monitoring"), "emotion monitoring at work needs companies",
                          allowed="set population.companies.count")  # fmt: skip
        needs_companies = company_behaviours or self.lists.company_blacklist is not None or coupling.company_record
        if needs_companies and self.population.companies.count == 0:
            raise located(
                ("population", "companies", "count"),
                "company behaviours, the company blacklist and company coupling need companies",
                found=0,
                allowed="a count of at least 1",
            )
        sc = self.score
        if sc.basis == "ratings":
            if not 1.0 <= sc.initial <= 5.0:
                raise located(
                    ("score", "initial"), "with score.basis: ratings the initial score is a rating: it must lie between 1 and 5",
                    found=sc.initial, allowed="1 to 5",
                )  # fmt: skip
            for key in ("friends", "partner", "employer"):
                if getattr(sc.social, key) > 0:
                    raise located(
                        ("score", "social", key), "the social term is not combined with rating-based scores (score.basis: ratings)",
                        found=getattr(sc.social, key), allowed="0",
                    )  # fmt: skip
        elif self.ratings.interactions > 0:
            raise located(
                ("ratings", "interactions"), "ratings make the score only with score.basis: ratings",
                found=self.ratings.interactions, allowed="0, or set score.basis: ratings",
            )  # fmt: skip
        tiers = self.tier_names
        for i, t in enumerate(self.responses.unfriending.tiers):
            if t not in tiers:
                raise located(("responses", "unfriending", "tiers", i), f"unknown tier {t!r}", found=t, allowed=", ".join(tiers))
        self._check_power_and_time(regions, behaviours)
        seen_ids: set[str] = set()
        for i, src in enumerate(self.meta.sources):
            if src.id in seen_ids:
                raise located(("meta", "sources", i, "id"), f"duplicate source id {src.id!r}", found=src.id)
            seen_ids.add(src.id)
        source_ids = seen_ids
        for path, item in _sourced_items(self):
            if item.source is not None and item.source not in source_ids:
                raise located(
                    path + ("source",),
                    f"unknown source id {item.source!r}",
                    found=item.source,
                    allowed=", ".join(sorted(source_ids)) or "(meta.sources is empty)",
                )
        return self

    def _check_power_and_time(self, regions: list[str], behaviours: set[str]) -> None:
        """Cross-checks of enrolment, faults, targeting and the timeline (names exist, dates have a calendar)."""
        start = self.simulation.start
        no_start = "set simulation.start (the calendar date of day 0), or give 'day'"
        for section, items in (("faults", self.faults), ("targeting", self.targeting)):
            for i, item in enumerate(items):
                if item.behaviour not in behaviours:
                    raise located((section, i, "behaviour"), f"unknown person behaviour {item.behaviour!r}",
                                  found=item.behaviour, allowed=", ".join(sorted(behaviours)))  # fmt: skip
        for section, items in (("faults", self.faults), ("timeline", self.timeline)):
            for i, item in enumerate(items):
                if item.date is not None and start is None:
                    raise located((section, i, "date"), "a date needs the calendar date of day 0", found=str(item.date), allowed=no_start)
                if item.date is not None and item.date < start:
                    raise located((section, i, "date"), f"the date is before day 0 ({start})", found=str(item.date),
                                  allowed=f"{start} or later")  # fmt: skip
        for i, t in enumerate(self.targeting):
            if t.end is not None and t.end <= t.start:
                raise located(("targeting", i, "end"), "'end' must come after 'start'", found=t.end, allowed=f"above {t.start}")
        self._check_households_work_credit(behaviours)
        en = self.enrolment
        if en is None:
            return
        if isinstance(en.share, dict):
            _check_region_keys(("enrolment", "share"), en.share, regions)
        groups = self.group_names
        for g in en.groups:
            if g not in groups:
                raise located(("enrolment", "groups", g), f"unknown group {g!r}", found=g, allowed=", ".join(groups))
        if en.mandatory is not None and en.mandatory_date is not None:
            raise located(("enrolment", "mandatory_date"), "give 'mandatory' (a day) or 'mandatory_date', not both")
        if en.mandatory_date is not None and start is None:
            raise located(("enrolment", "mandatory_date"), "a date needs the calendar date of day 0",
                          found=str(en.mandatory_date), allowed=no_start)  # fmt: skip
        if en.mandatory_date is not None and en.mandatory_date < start:
            raise located(("enrolment", "mandatory_date"), f"the date is before day 0 ({start})", found=str(en.mandatory_date))

    def _check_households_work_credit(self, behaviours: set[str]) -> None:
        """Cross-checks of lending (and the other mechanisms of households, work and credit): names exist."""
        ln = self.lending
        if ln is not None:
            for key in ("repaid", "defaulted"):
                name = getattr(ln, key)
                if name not in behaviours:
                    raise located(("lending", key), f"unknown person behaviour {name!r}", found=name,
                                  allowed=", ".join(sorted(behaviours)))  # fmt: skip
            for g in ln.thresholds:
                if g not in self.group_names:
                    raise located(("lending", "thresholds", g), f"unknown group {g!r}", found=g, allowed=", ".join(self.group_names))

    # convenience -------------------------------------------------------
    @property
    def region_names(self) -> list[str]:
        return [r.name for r in self.population.regions]

    @property
    def group_names(self) -> list[str]:
        return [g.name for g in self.population.groups]

    @property
    def tier_names(self) -> list[str]:
        return [t.name for t in self.tiers]

    @property
    def channel_names(self) -> list[str]:
        return list(self.detection.channels)


def _check_in_list(items: list[Any], section: str, what: str) -> None:
    seen: dict[str, int] = {}
    for i, item in enumerate(items):
        if item.name in seen:
            raise located((section, i, "name"), f"duplicate {what} name {item.name!r}", found=item.name)
        seen[item.name] = i


def _check_region_keys(path: tuple[str | int, ...], mapping: dict[str, float], regions: list[str]) -> None:
    for key in mapping:
        if key != "default" and key not in regions:
            raise located(path + (key,), f"unknown region {key!r}", found=key, allowed=", ".join(regions + ["default"]))
    missing = [r for r in regions if r not in mapping]
    if missing and "default" not in mapping:
        raise located(path, f"no value for region(s) {', '.join(missing)}; give them or a 'default'", allowed=", ".join(regions + ["default"]))


def _sourced_items(rb: Rulebook) -> list[tuple[tuple[str | int, ...], Sourced]]:
    out: list[tuple[tuple[str | int, ...], Sourced]] = [(("population",), rb.population)]
    for i, r in enumerate(rb.population.regions):
        out.append((("population", "regions", i), r))
        out.append((("population", "regions", i, "income"), r.income))
    for i, g in enumerate(rb.population.groups):
        out.append((("population", "groups", i), g))
    out.append((("population", "companies"), rb.population.companies))
    out.append((("population", "network"), rb.population.network))
    for i, b in enumerate(rb.behaviours):
        out.append((("behaviours", i), b))
    for name, ch in rb.detection.channels.items():
        out.append((("detection", "channels", name), ch))
    out.append((("score",), rb.score))
    for i, t in enumerate(rb.tiers):
        out.append((("tiers", i), t))
    for name in ("blacklist", "redlist"):
        rule = getattr(rb.lists, name)
        if rule is not None:
            out.append((("lists", name), rule))
    for i, s in enumerate(rb.services):
        out.append((("services", i), s))
    for name in ("company_blacklist",):
        rule = getattr(rb.lists, name)
        if rule is not None:
            out.append((("lists", name), rule))
    for name in ("appeals", "shaming", "warnings", "coupling", "company_sanctions", "emotion_monitoring"):
        item = getattr(rb.institutions, name)
        if item is not None:
            out.append((("institutions", name), item))
    for name in ("deterrence", "gaming", "income", "unfriending", "breakup", "partnering", "stress"):
        out.append((("responses", name), getattr(rb.responses, name)))
    if rb.population.children is not None:
        out.append((("population", "children"), rb.population.children))
    for name in ("lending", "commercial"):
        if getattr(rb, name) is not None:
            out.append(((name,), getattr(rb, name)))
    out.append((("ratings",), rb.ratings))
    for name, ch in rb.detection.channels.items():
        if ch.follows_findings is not None:
            out.append((("detection", "channels", name, "follows_findings"), ch.follows_findings))
    if rb.enrolment is not None:
        out.append((("enrolment",), rb.enrolment))
    for section in ("faults", "targeting", "timeline"):
        for i, item in enumerate(getattr(rb, section)):
            out.append(((section, i), item))
    return out
