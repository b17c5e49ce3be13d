"""The rulebook compiled to flat numeric tables the kernels read.

A :class:`Plan` holds everything the stages need in array form (rates,
points per behaviour and region, coverage per channel and region, tier
thresholds, services and their compiled conditions), so that kernels never
touch pydantic models.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from functools import cached_property

import numpy as np

from socialcredit.rulebook.conditions import Condition, count_key
from socialcredit.rulebook.fields import compile_conditions
from socialcredit.rulebook.schema import Rulebook, ramp_value

#: Response classes of behaviours: columns of ``State.class_rate``. A behaviour's rate
#: multiplier is the product of its responses' multipliers. The income columns (3-5)
#: exist only when some behaviour responds to income.
DETERRED = 0  # penalised (everything under secret rules): 1 / (1 + elasticity * risk)
GAMED = 1  # rewarded under public rules: 1 + gaming elasticity * risk
NEUTRAL = 2  # no risk response
INCOME = 3  # added to the above when the behaviour also responds to income: (income0 / income) ** elasticity


@dataclass
class ServicePlan:
    name: str
    demand_day: float
    income_elasticity: float
    is_reward: bool
    condition: Condition
    income_change: float
    record_behaviour: int  # -1 for none
    for_children: bool = False  # applied for on behalf of each child (applies_to: children)


@dataclass
class RatingPlan:
    """Peer rating (``score.basis: ratings``); see :mod:`socialcredit.engine.stages.rating`."""

    interactions: float  # expected interactions a person starts per day
    strangers: float  # probability an interaction is with a uniform person of the own region
    mean: float  # mu, stars between two persons at score 3
    ratee_weight: float  # a
    rater_weight: float  # b
    noise: float  # sigma, stars
    likeability: float  # sd of the per-person offset, stars
    stranger_penalty: float  # stars off both ratings of an interaction between strangers
    harmful_penalty: float  # stars off on a day of a harmful behaviour
    rater_power: float  # gamma
    decay: float  # 2 ** (-1 / half_life)
    prior: float  # w0, the initial score's weight on day 0


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

    @cached_property
    def leave_table(self) -> np.ndarray:
        """The exit table of a tabulated list: ``exit_table``, or by default "the entry no longer holds"."""
        return self.exit_table if self.exit_table is not None else ~self.enter_table


@dataclass
class BehaviourPlan:
    """``behaviours``: one entry per behaviour (B of them), in the rulebook's order."""

    names: list[str]
    rate_day: np.ndarray  # float32 (B,) expected events per person per day (0 for company behaviours)
    company_rate_day: np.ndarray  # float64 (B,) expected events per company per day (0 for person behaviours)
    het_sigma: np.ndarray  # float64 (B,)
    response_class: np.ndarray  # int64 (B,) row of State.class_rate: DETERRED, GAMED, NEUTRAL, + INCOME
    channel: np.ndarray  # int64 (B,) index of the detecting channel
    kind: list[str]
    points: np.ndarray  # float32 (B, R)
    base_points: np.ndarray  # float64 (B,) points outside regional overrides: the sign says penalised or rewarded
    company: np.ndarray  # int64 indices of company behaviours
    harmful: np.ndarray  # bool (256,): index -> a person's harmful behaviour (255, no event, is False)


@dataclass
class DetectionPlan:
    """``detection``: one entry per channel (C of them), and misidentification by group."""

    channel_names: list[str]
    coverage: np.ndarray  # float64 (C, R), before any ramp (see Plan.coverage_on)
    false_attribution: np.ndarray  # float64 (C,)
    spurious_rate: np.ndarray  # float64 (C,) per person per day
    delay: np.ndarray  # int64 (C,)
    group_mult: np.ndarray  # float64 (G,) misidentification multiplier of each group


@dataclass
class TierPlan:
    """``tiers``: names from best to worst and the minimum score of each but the last."""

    names: list[str]
    mins: np.ndarray  # float32 (T-1,) descending thresholds

    @cached_property
    def padded(self) -> np.ndarray:
        """The thresholds padded to at least 8 with -inf (which no score is below), for the unrolled tier count of
        the classify stage; made once per plan."""
        m8 = np.full(max(8, self.mins.shape[0]), -np.inf, np.float32)
        m8[: self.mins.shape[0]] = self.mins
        return m8


@dataclass
class ScorePlan:
    """``score``: the initial score, bounds, recovery and the social term."""

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


@dataclass
class ResponsePlan:
    """``responses``: how persons respond (deterrence, gaming, income, unfriending, breakups); all off at their defaults."""

    deter_elasticity: float
    deter_decay: float
    deter_scale: float
    sanction_weight: float
    friends_weight: float
    gaming_elasticity: float
    income_elasticity: float
    unfriend_p: float = 0.0
    unfriend_low: np.ndarray = field(default_factory=lambda: np.zeros(0, np.bool_))  # bool (T,)
    unfriend_blacklisted: bool = True
    rewire: bool = True
    rewire_preference: float = 1.0
    breakup_p: float = 0.0
    partnering_rate: float = 0.0  # market entries per single person per year
    partnering_a: float = 0.0  # assortativity of matching on score
    stress: tuple[float, float, float] = (0.0, 0.0, 0.0)  # weights of perceived risk, listing, friends lost
    stress_step: float = 0.0  # share of the way to the target the stress index moves each day (0: stress off)


@dataclass
class InstitutionPlan:
    """``institutions``: transparency, shaming, appeals and the coupling of companies and representatives."""

    shaming_p: float = 0.0
    appeal_p: float = 0.0
    appeal_success_false: float = 0.0
    appeal_success_true: float = 0.0
    appeal_delay: int = 0
    appeal_window: int = 365
    representative_record: int = -1  # person behaviour recorded against a blacklisted company's representative
    company_record: int = -1  # company behaviour recorded against a company whose representative is blacklisted
    revenue_loss: float = 0.0  # company sanctions: share of revenue a company entering the blacklist loses
    layoff_p: float = 0.0  # company sanctions: probability an employee of such a company is laid off
    layoff_income_loss: float = 0.0  # company sanctions: share of income a laid-off employee loses


@dataclass
class ListsPlan:
    """``lists``: the blacklist and redlist of persons and the company blacklist (None when absent)."""

    blacklist: ListPlan | None
    redlist: ListPlan | None
    company_blacklist: ListPlan | None = None


@dataclass
class FaultPlan:
    """``faults``: on ``day`` a fault writes ``records`` false records of ``behaviour`` to the persons it hits."""

    day: int
    behaviour: int
    share: float  # of the persons matching ``where`` (-1 when ``count`` is given)
    count: int  # persons hit (-1 when ``share`` is given)
    where: Condition
    records: int


@dataclass
class TargetPlan:
    """``targeting``: false records of ``behaviour`` written on purpose against persons matching ``where``."""

    behaviour: int
    where: Condition
    rate_day: float  # records per aimed-at person per day
    start: int
    end: int  # first day without records (the run's length when open-ended)


@dataclass
class EnrolmentPlan:
    """``enrolment``: person i is in on day t when u_i < base_i * ramp(t), or from ``mandatory`` on."""

    share: np.ndarray  # float64 (R,)
    groups: np.ndarray  # float64 (G,) multipliers
    income: float  # elasticity of the share to income / median income
    ramp: list[tuple[int, float]] | None
    mandatory: int  # day everyone is in (a day after the run when never)

    def ramp_at(self, day: int) -> float:
        return ramp_value(self.ramp, day)


@dataclass
class FollowPlan:
    """``detection.channels.X.follows_findings``: the channels whose coverage follows their findings."""

    channels: np.ndarray  # int64 (F,) channel indices
    period: np.ndarray  # int64 (F,)
    memory: np.ndarray  # int64 (F,)
    uniform: np.ndarray  # float64 (F,)
    sharpness: np.ndarray  # float64 (F,)
    per_coverage: np.ndarray  # bool (F,)


@dataclass
class LendingPlan:
    """``lending``: applications by rate, a threshold per group, repayment by a logistic of the score."""

    demand_day: float  # applications per person per day
    thresholds: np.ndarray  # float32 (G,): the lowest score granted, by group
    term: int
    midpoint: float
    scale: float
    repaid: int  # behaviour index of the repayment record
    defaulted: int  # behaviour index of the default record


@dataclass
class EmotionPlan:
    """``institutions.emotion_monitoring``: checks at monitored companies, flags, records and dismissals."""

    companies: float
    check_day: float  # checks per monitored employee per day
    prevalence: float
    stress: float
    sensitivity: float
    false_positive: float
    record: int  # behaviour index, -1 for none
    dismissal: float
    income_loss: float


@dataclass
class CommercialPlan:
    """``commercial``: a commercial score moving toward a target that reads the government blacklist."""

    initial: float
    lo: float
    hi: float
    income: float
    spread: float
    listed: float
    step: float  # share of the way to the target moved each day
    mins: np.ndarray  # float64 (bands - 1,): the bands' minimums, best first


@dataclass
class ConditionPlan:
    """What the compiled conditions read, across sections."""

    fields_used: frozenset[str] = frozenset()  # every per-person field some condition reads
    count_slots: list[tuple[int, int]] = field(default_factory=list)  # (behaviour index, days)
    count_keys: list[str] = field(default_factory=list)


@dataclass
class Plan:
    """The rulebook as numeric tables, one part per rulebook section."""

    rulebook: Rulebook
    seed: int
    days: int
    behaviours: BehaviourPlan
    detection: DetectionPlan
    tiers: TierPlan
    score: ScorePlan
    responses: ResponsePlan
    institutions: InstitutionPlan
    lists: ListsPlan
    services: list[ServicePlan]
    conditions: ConditionPlan
    ratings: RatingPlan | None = None  # scores come from peer ratings (score.basis: ratings)
    enrolment: EnrolmentPlan | None = None  # who is in the system (None: everyone, always)
    faults: list[FaultPlan] = field(default_factory=list)
    targeting: list[TargetPlan] = field(default_factory=list)
    follows: FollowPlan | None = None  # channels whose coverage follows their findings
    lending: LendingPlan | None = None  # loans that move scores
    children: bool = False  # households have children (population.children)
    emotion: EmotionPlan | None = None  # emotion monitoring at work
    commercial: CommercialPlan | None = None  # a commercial score beside the government's

    def coverage_on(self, day: int) -> np.ndarray:
        """Coverage (C, R) on ``day``: the channels' coverage times their ramp multiplier."""
        channels = self.rulebook.detection.channels
        if not any(channels[c].ramp for c in self.detection.channel_names):
            return self.detection.coverage
        mult = np.array([channels[c].ramp_at(day) for c in self.detection.channel_names])
        return self.detection.coverage * mult[:, None]

    @property
    def n_behaviours(self) -> int:
        return len(self.behaviours.names)

    @property
    def retention_days(self) -> int:
        """How long the record log must keep a day's records (expiry, count windows, appeals)."""
        days = self.score.expire_days if self.score.recovery_mode == "expire" else 0
        for _, d in self.conditions.count_slots:
            days = max(days, d)
        if self.appeals_on:
            days = max(days, self.institutions.appeal_window + self.institutions.appeal_delay + 1)
        return days

    @property
    def first_readback_days(self) -> int:
        """The shortest horizon at which a day's records are read back (0 if never)."""
        days = [self.score.expire_days] if self.score.recovery_mode == "expire" else []
        days += [d for _, d in self.conditions.count_slots]
        return min(days) if days else 0

    @property
    def appeals_on(self) -> bool:
        return self.institutions.appeal_p > 0.0

    @property
    def needs_friends_mean(self) -> bool:
        """Whether the friends' mean is computed (a social term on friends, or a condition reading it)."""
        return self.score.w_friends > 0 or "friends_mean" in self.conditions.fields_used

    @property
    def ties_change(self) -> bool:
        """Whether the friendship network can change during the run (empty slots may appear)."""
        return self.responses.unfriend_p > 0.0 or self.institutions.shaming_p > 0.0

    @property
    def companies_active(self) -> bool:
        """Whether company scores can change (company behaviours, coupling or a company list)."""
        return self.behaviours.company.size > 0 or self.lists.company_blacklist is not None or self.institutions.company_record >= 0

    @property
    def income_response(self) -> bool:
        """Whether some behaviour's rate follows income (economic feedback is on)."""
        return bool((self.behaviours.response_class >= INCOME).any())

    @property
    def n_classes(self) -> int:
        return 2 * INCOME if self.income_response else INCOME

    @cached_property
    def classes_used(self) -> np.ndarray:
        """Per response class (rows of ``State.class_rate``), whether some behaviour of it has a rate: an unused
        class's row is all zeros, and the behave stage does not read it. Found once per plan (behave asks daily)."""
        used = np.zeros(self.n_classes, np.bool_)
        for c, r in zip(self.behaviours.response_class, self.behaviours.rate_day):
            if r > 0:
                used[c] = True
        return used


def halving(half_life: float) -> float:
    """The daily factor that halves a quantity in ``half_life`` days: 0.5 ** (1 / half_life)."""
    return float(0.5 ** (1.0 / half_life))


def build_plan(rb: Rulebook) -> Plan:
    """Compile a validated rulebook into numeric tables and compiled conditions."""
    regions = rb.region_names
    names = [b.name for b in rb.behaviours]
    if len(names) > 127:  # the record log packs the behaviour index into 7 bits
        raise ValueError("at most 127 behaviours are supported")
    channels = rb.channel_names
    codes = []
    for b in rb.behaviours:
        pts = b.base_points()
        hidden = (b.transparency or rb.institutions.transparency) == "secret"  # a behaviour's own transparency wins
        if "deterrence" in b.responses and (pts < 0 or hidden):
            code = DETERRED
        elif "gaming" in b.responses and pts > 0 and not hidden:
            code = GAMED
        else:
            code = NEUTRAL
        if "income" in b.responses and rb.responses.income.elasticity > 0:
            code += INCOME
        codes.append(code)
    classes = codes
    is_company = np.array([b.actor == "company" for b in rb.behaviours])
    compiled = compile_conditions(rb)

    def list_plan(name: str) -> ListPlan | None:
        rule = getattr(rb.lists, name)
        if rule is None:
            return None
        enter, exit_ = compiled.lists[name]
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
        cond = compiled.services[i]
        services.append(
            ServicePlan(
                name=s.name,
                demand_day=s.demand / 365.0,
                income_elasticity=s.income_elasticity,
                is_reward=s.is_reward,
                condition=cond,
                income_change=s.consequences.income,
                record_behaviour=names.index(s.consequences.record) if s.consequences.record else -1,
                for_children=s.applies_to == "children",
            )
        )
    blacklist = list_plan("blacklist")
    redlist = list_plan("redlist")
    company_blacklist = None
    if rb.lists.company_blacklist is not None:
        rule = rb.lists.company_blacklist
        enter, exit_ = compiled.lists["company_blacklist"]
        company_blacklist = ListPlan(
            name="company_blacklist",
            enter=enter,
            exit=exit_,
            min_days=rule.min_days,
        )
    slots: list[tuple[int, int]] = []
    conds = [s.condition for s in services] + [
        c for lp in (blacklist, redlist) if lp is not None for c in (lp.enter, lp.exit) if c is not None
    ] + compiled.faults + compiled.targeting
    for c in conds:
        for bname, days in sorted(c.counts):
            slot = (names.index(bname), int(days))
            if slot not in slots:
                slots.append(slot)
    d = rb.responses.deterrence
    rs = rb.responses
    inst = rb.institutions
    sc = rb.score
    plan = Plan(
        rulebook=rb,
        seed=rb.simulation.seed,
        days=rb.simulation.days,
        behaviours=BehaviourPlan(
            names=names,
            rate_day=np.array([0.0 if c else b.rate / 365.0 for b, c in zip(rb.behaviours, is_company)], dtype=np.float32),
            company_rate_day=np.array([b.rate / 365.0 if c else 0.0 for b, c in zip(rb.behaviours, is_company)], dtype=np.float64),
            het_sigma=np.array([b.heterogeneity for b in rb.behaviours], dtype=np.float64),
            response_class=np.array(classes, dtype=np.int64),
            channel=np.array([channels.index(b.channel) for b in rb.behaviours], dtype=np.int64),
            kind=[b.kind for b in rb.behaviours],
            base_points=np.array([b.base_points() for b in rb.behaviours], dtype=np.float64),
            points=np.array([[b.points_for(r) for r in regions] for b in rb.behaviours], dtype=np.float32).reshape(len(names), len(regions)),
            company=np.flatnonzero(is_company).astype(np.int64),
            harmful=_harmful(rb),
        ),
        detection=DetectionPlan(
            channel_names=channels,
            coverage=np.array([[rb.detection.channels[c].coverage_for(r) for r in regions] for c in channels], dtype=np.float64),
            false_attribution=np.array([rb.detection.channels[c].false_attribution for c in channels], dtype=np.float64),
            spurious_rate=np.array([rb.detection.channels[c].spurious_rate / 365.0 for c in channels], dtype=np.float64),
            delay=np.array([rb.detection.channels[c].delay for c in channels], dtype=np.int64),
            group_mult=np.array([g.misidentification for g in rb.population.groups], dtype=np.float64),
        ),
        tiers=TierPlan(names=rb.tier_names, mins=np.array([t.min for t in rb.tiers[:-1]], dtype=np.float32)),
        score=ScorePlan(
            initial=float(sc.initial),
            lo=float(sc.bounds[0]),
            hi=float(sc.bounds[1]),
            recovery_mode=sc.recovery.mode,
            expire_days=sc.recovery.days,
            relax_factor=halving(sc.recovery.half_life),
            w_friends=sc.social.friends,
            w_partner=sc.social.partner,
            w_employer=sc.social.employer,
            social_period=sc.social.period,
            composite=sc.social.composite,
        ),
        responses=ResponsePlan(
            deter_elasticity=d.elasticity,
            deter_decay=halving(d.half_life),
            deter_scale=d.points_scale,
            sanction_weight=d.sanction_weight,
            friends_weight=d.friends_weight,
            gaming_elasticity=rs.gaming.elasticity,
            income_elasticity=rs.income.elasticity,
            unfriend_p=rs.unfriending.probability,
            unfriend_low=np.array([t in rs.unfriending.tiers for t in rb.tier_names], dtype=np.bool_),
            unfriend_blacklisted=rs.unfriending.blacklisted,
            rewire=rs.unfriending.rewire,
            rewire_preference=rs.unfriending.preference,
            breakup_p=rs.breakup.probability,
            partnering_rate=rs.partnering.rate,
            partnering_a=rs.partnering.assortativity,
            stress=(rs.stress.risk, rs.stress.listed, rs.stress.friends),
            stress_step=1.0 - halving(rs.stress.half_life) if rs.stress.on else 0.0,
        ),
        institutions=InstitutionPlan(
            shaming_p=inst.shaming.probability,
            appeal_p=inst.appeals.probability,
            appeal_success_false=inst.appeals.success_false,
            appeal_success_true=inst.appeals.success_true,
            appeal_delay=inst.appeals.delay,
            appeal_window=inst.appeals.window,
            representative_record=names.index(inst.coupling.representative_record) if inst.coupling.representative_record else -1,
            company_record=names.index(inst.coupling.company_record) if inst.coupling.company_record else -1,
            **_sanctions(inst.company_sanctions),
        ),
        lists=ListsPlan(blacklist=blacklist, redlist=redlist, company_blacklist=company_blacklist),
        services=services,
        conditions=ConditionPlan(
            fields_used=frozenset().union(*(c.fields for c in conds)) if conds else frozenset(),
            count_slots=slots,
            count_keys=[count_key(names[b], d_) for b, d_ in slots],
        ),
        ratings=_rating_plan(rb) if sc.basis == "ratings" else None,
        enrolment=_enrolment_plan(rb),
        faults=[
            FaultPlan(day=f.day_number(rb.simulation.start), behaviour=names.index(f.behaviour),
                      share=-1.0 if f.share is None else float(f.share), count=-1 if f.count is None else int(f.count),
                      where=compiled.faults[i], records=f.records)
            for i, f in enumerate(rb.faults)
        ],
        targeting=[
            TargetPlan(behaviour=names.index(t.behaviour), where=compiled.targeting[i], rate_day=t.rate / 365.0,
                       start=t.start, end=rb.simulation.days if t.end is None else t.end)
            for i, t in enumerate(rb.targeting)
        ],
        follows=_follow_plan(rb),
        lending=_lending_plan(rb, names),
        children=rb.population.children is not None and rb.population.children.share > 0,
        emotion=_emotion_plan(rb, names),
        commercial=_commercial_plan(rb),
    )  # fmt: skip
    return plan


def _enrolment_plan(rb: Rulebook) -> EnrolmentPlan | None:
    en = rb.enrolment
    if en is None:
        return None
    mandatory = en.mandatory_day(rb.simulation.start)
    return EnrolmentPlan(
        share=np.array([en.share_for(r) for r in rb.region_names], np.float64),
        groups=np.array([en.groups.get(g, 1.0) for g in rb.group_names], np.float64),
        income=float(en.income),
        ramp=en.ramp,
        mandatory=rb.simulation.days + 1 if mandatory is None else mandatory,
    )


def _sanctions(cs) -> dict[str, float]:
    if cs is None:
        return {}
    return {"revenue_loss": cs.revenue_loss, "layoff_p": min(1.0, cs.layoffs * cs.revenue_loss), "layoff_income_loss": cs.income_loss}


def _emotion_plan(rb: Rulebook, names: list[str]) -> EmotionPlan | None:
    em = rb.institutions.emotion_monitoring
    if em is None:
        return None
    return EmotionPlan(
        companies=em.companies, check_day=em.checks / 365.0, prevalence=em.prevalence, stress=em.stress,
        sensitivity=em.sensitivity, false_positive=em.false_positive,
        record=names.index(em.record) if em.record is not None else -1, dismissal=em.dismissal, income_loss=em.income_loss,
    )  # fmt: skip


def _commercial_plan(rb: Rulebook) -> CommercialPlan | None:
    c = rb.commercial
    if c is None:
        return None
    return CommercialPlan(
        initial=c.initial, lo=c.bounds[0], hi=c.bounds[1], income=c.income, spread=c.spread, listed=c.listed,
        step=1.0 - halving(c.half_life), mins=np.array([b.min for b in c.bands[:-1]], np.float64),
    )  # fmt: skip


def _lending_plan(rb: Rulebook, names: list[str]) -> LendingPlan | None:
    ln = rb.lending
    if ln is None:
        return None
    return LendingPlan(
        demand_day=ln.demand / 365.0,
        thresholds=np.array([ln.thresholds.get(g, ln.threshold) for g in rb.group_names], np.float32),
        term=ln.term,
        midpoint=float(ln.midpoint),
        scale=float(ln.scale),
        repaid=names.index(ln.repaid),
        defaulted=names.index(ln.defaulted),
    )


def _follow_plan(rb: Rulebook) -> FollowPlan | None:
    chans = [(i, ch.follows_findings) for i, ch in enumerate(rb.detection.channels.values()) if ch.follows_findings is not None]
    if not chans:
        return None
    return FollowPlan(
        channels=np.array([i for i, _ in chans], np.int64),
        period=np.array([f.period for _, f in chans], np.int64),
        memory=np.array([f.memory for _, f in chans], np.int64),
        uniform=np.array([f.uniform for _, f in chans], np.float64),
        sharpness=np.array([f.sharpness for _, f in chans], np.float64),
        per_coverage=np.array([f.per_coverage for _, f in chans], np.bool_),
    )


def _rating_plan(rb: Rulebook) -> RatingPlan:
    r = rb.ratings
    return RatingPlan(
        interactions=float(r.interactions),
        strangers=float(r.strangers),
        mean=float(r.mean),
        ratee_weight=float(r.ratee_weight),
        rater_weight=float(r.rater_weight),
        noise=float(r.noise),
        likeability=float(r.likeability),
        stranger_penalty=float(r.stranger_penalty),
        harmful_penalty=float(r.harmful_penalty),
        rater_power=float(r.rater_power),
        decay=halving(r.half_life),
        prior=float(r.prior),
    )


def _harmful(rb: Rulebook) -> np.ndarray:
    """bool (256,): behaviour index -> a person's harmful behaviour; index 255 (no event) is False."""
    harmful = np.zeros(256, np.bool_)
    for k, b in enumerate(rb.behaviours):
        harmful[k] = b.kind == "harmful" and b.actor == "person"
    return harmful
