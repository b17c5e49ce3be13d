"""The rulebook compiled to flat numeric tables the kernels read.

A :class:`Plan` holds everything the stages need in array form (rates,
points per behaviour and region, coverage per channel and region, tier
thresholds, services and their compiled conditions), so that kernels never
touch pydantic models.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from socialcredit.rulebook.conditions import Condition, FieldSpec, compile_condition, count_key
from socialcredit.rulebook.schema import Rulebook

#: Behaviour classes for response multipliers.
DETERRED = 0  # penalised, deterrence applies
GAMED = 1  # rewarded (gaming arrives with the responses issue; multiplier 1 for now)
NEUTRAL = 2  # no response
N_CLASSES = 3


def condition_fields(rb: Rulebook) -> dict[str, FieldSpec]:
    """Per-person fields conditions may read."""
    return {
        "score": FieldSpec("number"),
        "points": FieldSpec("number"),
        "tier": FieldSpec("ordered", tuple(rb.tier_names)),
        "blacklisted": FieldSpec("bool"),
        "redlisted": FieldSpec("bool"),
        "days_listed": FieldSpec("number"),
        "days_redlisted": FieldSpec("number"),
        "region": FieldSpec("category", tuple(rb.region_names)),
        "group": FieldSpec("category", tuple(rb.group_names)),
        "income": FieldSpec("number"),
        "friends_mean": FieldSpec("number"),
        "risk": FieldSpec("number"),
    }


@dataclass
class ServicePlan:
    name: str
    demand_day: float
    income_elasticity: float
    is_reward: bool
    condition: Condition
    income_change: float
    record_behaviour: int  # -1 for none


TABULABLE = frozenset({"tier", "region", "group"})


def tabulate(cond: Condition, n_tiers: int, n_regions: int, n_groups: int) -> np.ndarray | None:
    """A lookup table over (tier, region, group) codes for conditions that read nothing else.

    Entry ``(tier * R + region) * G + group`` holds the condition's value; the
    classify kernels then read one byte per person instead of evaluating the
    expression with array temporaries.
    """
    if not cond.fields <= TABULABLE or cond.counts:
        return None
    t, r, g = np.meshgrid(np.arange(n_tiers), np.arange(n_regions), np.arange(n_groups), indexing="ij")
    env = {"tier": t.ravel(), "region": r.ravel(), "group": g.ravel()}
    return np.ascontiguousarray(cond(env, n=t.size), dtype=np.bool_)


@dataclass
class ListPlan:
    name: str
    enter: Condition
    exit: Condition | None
    min_days: int
    enter_table: np.ndarray | None = None  # see tabulate()
    exit_table: np.ndarray | None = None

    @property
    def tabulated(self) -> bool:
        return self.enter_table is not None and (self.exit is None or self.exit_table is not None)


@dataclass
class Plan:
    rulebook: Rulebook
    seed: int
    days: int
    behaviour_names: list[str]
    rate_day: np.ndarray  # float32 (B,) expected events per person per day
    het_sigma: np.ndarray  # float64 (B,)
    beh_class: np.ndarray  # int64 (B,)
    beh_channel: np.ndarray  # int64 (B,)
    beh_kind: list[str]
    points: np.ndarray  # float32 (B, R)
    base_points: np.ndarray  # float64 (B,) points outside regional overrides: the sign says penalised or rewarded
    channel_names: list[str]
    coverage: np.ndarray  # float64 (C, R)
    false_attribution: np.ndarray  # float64 (C,)
    spurious_rate: np.ndarray  # float64 (C,) per person per day
    delay: np.ndarray  # int64 (C,)
    group_mult: np.ndarray  # float64 (G,)
    tier_mins: np.ndarray  # float32 (T-1,) descending thresholds
    tier_names: list[str]
    initial: float
    lo: float
    hi: float
    recovery_mode: str
    expire_days: int
    relax_factor: float
    w_friends: float
    w_partner: float
    w_employer: float
    social_period: int
    composite: bool
    deter_elasticity: float
    deter_decay: float
    deter_scale: float
    sanction_weight: float
    secret: bool
    blacklist: ListPlan | None
    redlist: ListPlan | None
    services: list[ServicePlan]
    fields_used: frozenset[str] = frozenset()  # every per-person field some condition reads
    count_slots: list[tuple[int, int]] = field(default_factory=list)  # (behaviour index, days)
    count_keys: list[str] = field(default_factory=list)

    @property
    def n_behaviours(self) -> int:
        return len(self.behaviour_names)

    @property
    def retention_days(self) -> int:
        """How long the record log must keep a day's records (expiry and count windows)."""
        days = self.expire_days if self.recovery_mode == "expire" else 0
        for _, d in self.count_slots:
            days = max(days, d)
        return days


def _compile(text: str, fields: dict[str, FieldSpec], names: list[str], where: tuple) -> Condition:
    try:
        return compile_condition(text, fields, names)
    except Exception as exc:  # ConditionError: attach the rulebook path for the loader
        exc.rulebook_path = where
        raise


def build_plan(rb: Rulebook) -> Plan:
    """Compile a validated rulebook into numeric tables and compiled conditions."""
    regions = rb.region_names
    names = [b.name for b in rb.behaviours]
    if len(names) > 127:  # the record log packs the behaviour index into 7 bits
        raise ValueError("at most 127 behaviours are supported")
    channels = rb.channel_names
    secret = rb.institutions.transparency == "secret"
    classes = []
    for b in rb.behaviours:
        pts = b.base_points()
        if "deterrence" in b.responses and (pts < 0 or secret):
            classes.append(DETERRED)
        elif "gaming" in b.responses and pts > 0:
            classes.append(GAMED)
        else:
            classes.append(NEUTRAL)
    fields = condition_fields(rb)

    def list_plan(name: str) -> ListPlan | None:
        rule = getattr(rb.lists, name)
        if rule is None:
            return None
        enter = _compile(rule.enter, fields, names, ("lists", name, "enter"))
        exit_ = _compile(rule.exit, fields, names, ("lists", name, "exit")) if rule.exit else None
        dims = (len(rb.tiers), len(regions), len(rb.population.groups))
        return ListPlan(
            name=name,
            enter=enter,
            exit=exit_,
            min_days=rule.min_days,
            enter_table=tabulate(enter, *dims),
            exit_table=tabulate(exit_, *dims) if exit_ is not None else None,
        )

    services = []
    for i, s in enumerate(rb.services):
        key = "granted_when" if s.is_reward else "denied_when"
        cond = _compile(s.condition, fields, names, ("services", i, key))
        services.append(
            ServicePlan(
                name=s.name,
                demand_day=s.demand / 365.0,
                income_elasticity=s.income_elasticity,
                is_reward=s.is_reward,
                condition=cond,
                income_change=s.consequences.income,
                record_behaviour=names.index(s.consequences.record) if s.consequences.record else -1,
            )
        )
    blacklist = list_plan("blacklist")
    redlist = list_plan("redlist")
    slots: list[tuple[int, int]] = []
    conds = [s.condition for s in services] + [
        c for lp in (blacklist, redlist) if lp is not None for c in (lp.enter, lp.exit) if c is not None
    ]
    for c in conds:
        for bname, days in sorted(c.counts):
            slot = (names.index(bname), int(days))
            if slot not in slots:
                slots.append(slot)
    d = rb.responses.deterrence
    sc = rb.score
    plan = Plan(
        rulebook=rb,
        seed=rb.simulation.seed,
        days=rb.simulation.days,
        behaviour_names=names,
        rate_day=np.array([b.rate / 365.0 for b in rb.behaviours], dtype=np.float32),
        het_sigma=np.array([b.heterogeneity for b in rb.behaviours], dtype=np.float64),
        beh_class=np.array(classes, dtype=np.int64),
        beh_channel=np.array([channels.index(b.channel) for b in rb.behaviours], dtype=np.int64),
        beh_kind=[b.kind for b in rb.behaviours],
        base_points=np.array([b.base_points() for b in rb.behaviours], dtype=np.float64),
        points=np.array([[b.points_for(r) for r in regions] for b in rb.behaviours], dtype=np.float32).reshape(len(names), len(regions)),
        channel_names=channels,
        coverage=np.array([[rb.detection.channels[c].coverage_for(r) for r in regions] for c in channels], dtype=np.float64),
        false_attribution=np.array([rb.detection.channels[c].false_attribution for c in channels], dtype=np.float64),
        spurious_rate=np.array([rb.detection.channels[c].spurious_rate / 365.0 for c in channels], dtype=np.float64),
        delay=np.array([rb.detection.channels[c].delay for c in channels], dtype=np.int64),
        group_mult=np.array([g.misidentification for g in rb.population.groups], dtype=np.float64),
        tier_mins=np.array([t.min for t in rb.tiers[:-1]], dtype=np.float32),
        tier_names=rb.tier_names,
        initial=float(sc.initial),
        lo=float(sc.bounds[0]),
        hi=float(sc.bounds[1]),
        recovery_mode=sc.recovery.mode,
        expire_days=sc.recovery.days,
        relax_factor=float(0.5 ** (1.0 / sc.recovery.half_life)),
        w_friends=sc.social.friends,
        w_partner=sc.social.partner,
        w_employer=sc.social.employer,
        social_period=sc.social.period,
        composite=sc.social.composite,
        deter_elasticity=d.elasticity,
        deter_decay=float(0.5 ** (1.0 / d.half_life)),
        deter_scale=d.points_scale,
        sanction_weight=d.sanction_weight,
        secret=secret,
        blacklist=blacklist,
        redlist=redlist,
        services=services,
        fields_used=frozenset().union(*(c.fields for c in conds)) if conds else frozenset(),
        count_slots=slots,
        count_keys=[count_key(names[b], d_) for b, d_ in slots],
    )
    return plan
