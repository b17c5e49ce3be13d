"""The reference model (DESIGN section 6, ``docs/model.md`` section 5) written in Mesa 3.

This is the peer that socialcredit's speed is measured against. It implements
the same model as ``src/socialcredit/scenarios/reference.yaml`` run by the
socialcredit engine, written the way a competent Mesa user would write it:

- one :class:`Person` agent per person, holding its own state (rates,
  points, records, score, tier, list dates, perceived risk, income) and a
  list of its friends (the network as neighbour lists of agent references);
- ``ReferenceModel.step()`` is one day; the day's stages are run with
  ``AgentSet.do`` in the engine's order (behave, detect, score, classify,
  services, respond);
- random numbers come from the model: ``self.rng`` (a NumPy Generator seeded
  from ``seed``) for the vectorised set-up (regions, groups, heterogeneity,
  incomes, the network), ``self.random`` (Python's generator, seeded from the
  same seed by Mesa) for the agents' scalar draws in the daily loop.

The stages and their equations follow ``docs/model.md`` section 3; see
``README.md`` in this folder for the mapping and what is left out (the
counterfactual twin, the daily aggregate tables, the audit trail: none of
them changes the simulated state).

    from benchmarks.peers.mesa_reference import ReferenceModel, outcome
    model = ReferenceModel(persons=10_000, seed=1, days=365)
    model.run_model()
    print(outcome(model)["tier_shares"])
"""

from __future__ import annotations

import math
from bisect import bisect_right
from collections import deque

import mesa
import numpy as np

# --------------------------------------------------------------------------- the reference model's numbers
# DESIGN section 6 / scenarios/reference.yaml (tests/benchmarks/test_mesa_peer.py checks they agree).
REGION_SHARES = (0.5, 0.3, 0.2)  # east, centre, west
CAMERA_COVERAGE = (0.8, 0.5, 0.2)  # by region
RECORDS_COVERAGE = 0.95
FALSE_ATTRIBUTION = {"camera": 0.01, "records": 0.001}
GROUP_SHARES = (0.9, 0.1)
MISIDENTIFICATION = (1.0, 10.0)
MEAN_DEGREE = 20
REWIRING = 0.1
RATES = (0.5, 1, 2, 4, 0.2, 0.1, 3, 6, 0.05, 12, 0.3, 1.5)  # per person-year
POINTS = (-5, -10, -20, -3, -50, -100, 5, 2, 30, -1, -30, 10)
CHANNELS = ("camera",) * 6 + ("records",) * 3 + ("camera",) + ("records",) * 2
HETEROGENEITY = 0.5  # sigma of the lognormal rate multiplier (mean 1)
INCOME_MEDIAN, INCOME_SIGMA = 30000.0, 0.6  # the schema's default income (only loan denials change it)
INITIAL, LOW, HIGH = 1000.0, 0.0, 1300.0
EXPIRE_DAYS = 365
W_FRIENDS = 0.1
SOCIAL_PERIOD = 7
TIER_NAMES = ("AAA", "AA", "A", "B", "C", "D")
TIER_MINS = (1050.0, 1030.0, 960.0, 900.0, 850.0)
BLACKLIST_TIERS = (4, 5)  # C, D
BLACKLIST_MIN_DAYS = 180
REDLIST_TIER = 0  # AAA, no minimum stay
FLIGHT, TRAIN, LOAN = 0.5, 4.0, 0.2  # attempts per person-year
LOAN_DENIED_FROM_TIER = 3  # B, C, D
LOAN_INCOME_CHANGE = -0.02
ELASTICITY = 0.5
HALF_LIFE = 90.0
POINTS_SCALE = 100.0
SANCTION_WEIGHT = 1.0

RATE_DAY = tuple(r / 365.0 for r in RATES)
DETERRED = tuple(p < 0 for p in POINTS)  # public rules: only penalised behaviours are deterred
RISK_DECAY = 0.5 ** (1.0 / HALF_LIFE)
TIER_MINS_ASC = tuple(sorted(TIER_MINS))
# per region: the coverage and false-attribution probability of each behaviour's channel
COVERAGE = tuple(
    tuple(CAMERA_COVERAGE[r] if ch == "camera" else RECORDS_COVERAGE for ch in CHANNELS) for r in range(len(REGION_SHARES))
)
MISATTRIBUTION = tuple(FALSE_ATTRIBUTION[ch] for ch in CHANNELS)


def clip(x: float) -> float:
    return LOW if x < LOW else min(x, HIGH)


def tier_of(score: float) -> int:
    """Tier index, 0 = best: the number of tier minimums above the score."""
    return len(TIER_MINS_ASC) - bisect_right(TIER_MINS_ASC, score)


# --------------------------------------------------------------------------- agents
class Person(mesa.Agent):
    """One person: their fixed traits, their friends, and the state the stages change."""

    def __init__(self, model: ReferenceModel, region: int, group: int, het: np.ndarray, income: float) -> None:
        super().__init__(model)
        self.region = int(region)
        self.group = int(group)
        self.rates = [RATE_DAY[b] * float(het[b]) for b in range(len(RATES))]  # daily rate x propensity
        self.deterred_rate = sum(r for r, d in zip(self.rates, DETERRED) if d)
        self.other_rate = sum(r for r, d in zip(self.rates, DETERRED) if not d)
        self.coverage = COVERAGE[self.region]
        self.income = float(income)
        self.friends: list[Person] = []  # filled by the model once every agent exists
        self.uniform = model.random.random  # the model's generator, bound once
        # state
        self.points = 0.0  # sum of the points of active records
        self.records: deque[tuple[int, float]] = deque()  # (day applied, points), oldest first
        self.inbox: list[float] = []  # points of records attached to this person today (detect stage)
        self.friends_mean = math.nan  # held between social updates
        self.score = INITIAL  # composite score
        self.tier = tier_of(INITIAL)
        self.black_since = -1
        self.red_since = -1
        self.risk = 0.0  # perceived risk
        self.lost_today = 0.0  # used with staged=True only
        self.denials_today = 0

    # -- social update (start of stage 3 on days t % 7 == 0): friends' composite scores at the end of yesterday
    def observe_friends(self) -> None:
        friends = self.friends
        if friends:
            self.friends_mean = sum(f.score for f in friends) / len(friends)

    # -- stages 1 and 2: behave, and let the channel see it
    def behave(self) -> None:
        u = self.uniform()
        m = 1.0 / (1.0 + ELASTICITY * self.risk)  # deterrence of penalised behaviours
        if u >= m * self.deterred_rate + self.other_rate:
            return  # nothing today (the usual case)
        # exactly one behaviour: walk the cumulative rates with the same uniform
        acc = 0.0
        b = -1
        for k, rate in enumerate(self.rates):
            acc += rate * m if DETERRED[k] else rate
            b = k
            if u < acc:
                break
        # detection: coverage of the channel in the actor's region, then false attribution
        if self.uniform() < self.coverage[b]:
            target = self
            if self.uniform() < MISATTRIBUTION[b]:
                target = self.model.pick_victim(self)  # the actor escapes the record
            target.inbox.append(POINTS[b])

    # -- stages 3, 4, 5, 7 for this person. Each reads only this person's state (today's records were all
    #    delivered by the behave pass, the friends' mean by observe_friends), so running them in one pass per
    #    agent gives the same result as one pass per stage.
    def settle(self) -> None:
        day = self.model.day
        lost = self.update_score(day)
        self.classify(day)
        denials = self.use_services()
        self.respond(lost, denials)

    # -- the same stages as separate methods, for ``ReferenceModel(staged=True)`` (one pass per stage)
    def score_stage(self) -> None:
        self.lost_today = self.update_score(self.model.day)

    def classify_stage(self) -> None:
        self.classify(self.model.day)

    def services_stage(self) -> None:
        self.denials_today = self.use_services()

    def respond_stage(self) -> None:
        self.respond(self.lost_today, self.denials_today)

    def update_score(self, day: int) -> float:
        """Apply today's records and expire old ones; rescore. Returns the points lost today (for the risk)."""
        changed = day % SOCIAL_PERIOD == 0  # social-update days (day 0 included): everyone is rescored
        lost = 0.0
        if self.inbox:
            for p in self.inbox:
                self.points += p
                self.records.append((day, p))
                if p < 0:
                    lost -= p
            self.inbox.clear()
            changed = True
        records = self.records
        while records and records[0][0] <= day - EXPIRE_DAYS:
            self.points -= records.popleft()[1]
            changed = True
        if changed:
            own = clip(INITIAL + self.points)
            fm = self.friends_mean
            if not math.isnan(fm):  # has friends: their mean gets W_FRIENDS, the own score the rest
                self.score = clip((1.0 - W_FRIENDS) * own + W_FRIENDS * fm)
            else:
                self.score = own
        return lost

    def classify(self, day: int) -> None:
        self.tier = tier = tier_of(self.score)
        if self.black_since < 0:
            if tier in BLACKLIST_TIERS:
                self.black_since = day
        elif day - self.black_since >= BLACKLIST_MIN_DAYS and tier not in BLACKLIST_TIERS:
            self.black_since = -1
        if self.red_since < 0:
            if tier == REDLIST_TIER:
                self.red_since = day
        elif tier != REDLIST_TIER:
            self.red_since = -1

    def use_services(self) -> int:
        """Flight, train and loan, in that order, each tried with its own draw. Returns today's denials."""
        denials = 0
        u = self.uniform
        black = self.black_since >= 0
        if u() < FLIGHT / 365.0 and black:
            denials += 1
        if u() < TRAIN / 365.0 and black:
            denials += 1
        if u() < LOAN / 365.0 and self.tier >= LOAN_DENIED_FROM_TIER:
            denials += 1
            self.income *= 1.0 + LOAN_INCOME_CHANGE
        return denials

    def respond(self, lost: float, denials: int) -> None:
        self.risk = self.risk * RISK_DECAY + lost / POINTS_SCALE + SANCTION_WEIGHT * denials


# --------------------------------------------------------------------------- the model
class ReferenceModel(mesa.Model):
    """The reference model; ``step()`` advances one day, ``run_model()`` runs ``days`` days."""

    def __init__(
        self, persons: int = 10_000, seed: int = 1, days: int = 365, collect: bool = False, staged: bool = False
    ) -> None:
        super().__init__(seed=seed)
        self.staged = staged
        self.days = int(days)
        self.day = 0
        n = int(persons)
        sizes = largest_remainder(n, REGION_SHARES)
        region = np.repeat(np.arange(len(sizes)), sizes)
        group = self.rng.choice(len(GROUP_SHARES), size=n, p=GROUP_SHARES)
        s = HETEROGENEITY
        het = np.exp(s * self.rng.standard_normal((n, len(RATES))) - 0.5 * s * s)
        income = INCOME_MEDIAN * np.exp(INCOME_SIGMA * self.rng.standard_normal(n))
        people = list(Person.create_agents(self, n, region=region, group=group, het=het, income=income))
        for person, nbrs in zip(people, small_world(sizes, MEAN_DEGREE, REWIRING, self.rng)):
            person.friends = [people[j] for j in nbrs]
        # false attribution: the wrong person is drawn from the actor's region with weight ~ misidentification
        self.members: list[list[Person]] = []
        self.cum_weights: list[list[float]] = []
        start = 0
        for size in sizes:
            block = people[start : start + size]
            start += size
            self.members.append(block)
            self.cum_weights.append(list(np.cumsum([MISIDENTIFICATION[p.group] for p in block])))
        self.datacollector = (
            mesa.DataCollector(
                model_reporters={
                    "mean_score": lambda m: float(np.mean([a.score for a in m.agents])),
                    "blacklisted": lambda m: sum(1 for a in m.agents if a.black_since >= 0),
                }
            )
            if collect
            else None
        )

    def pick_victim(self, actor: Person) -> Person:
        """A person of the actor's region other than the actor, with probability proportional to their group's
        misidentification multiplier."""
        block = self.members[actor.region]
        if len(block) < 2:
            return actor
        cum = self.cum_weights[actor.region]
        total = cum[-1]
        while True:
            victim = block[bisect_right(cum, self.random.random() * total)]
            if victim is not actor:
                return victim

    def step(self) -> None:
        """One day: (social update,) behave + detect, then score, classify, services, respond.

        The order of agents within a pass does not matter (every stage reads only what earlier passes
        wrote), so the default runs ``AgentSet.do`` in creation order, with stages 3-7 fused into one pass;
        ``staged=True`` runs one ``shuffle_do`` pass per stage instead (same model, slower)."""
        if self.day % SOCIAL_PERIOD == 0:
            self.agents.do("observe_friends")  # before anyone's score changes today: yesterday's scores
        if self.staged:  # textbook style: every stage a pass over all agents in random order
            for stage in ("behave", "score_stage", "classify_stage", "services_stage", "respond_stage"):
                self.agents.shuffle_do(stage)
        else:
            self.agents.do("behave")
            self.agents.do("settle")
        if self.datacollector is not None:
            self.datacollector.collect(self)
        self.day += 1
        if self.day >= self.days:
            self.running = False


# --------------------------------------------------------------------------- population helpers
def largest_remainder(n: int, shares) -> list[int]:
    """Block sizes n * share, rounded so that they add up to n (largest remainder), as the engine does."""
    raw = np.asarray(shares, float) * n
    sizes = np.floor(raw).astype(np.int64)
    rest = n - int(sizes.sum())
    if rest > 0:
        sizes[np.argsort(-(raw - sizes), kind="stable")[:rest]] += 1
    return [int(x) for x in sizes]


def small_world(sizes, mean_degree: int, rewiring: float, rng: np.random.Generator, attempts: int = 8) -> list[list[int]]:
    """Watts-Strogatz small world inside each region block, as the engine's generator in distribution.

    Ring lattice with k = mean_degree rounded down to even (k/2 neighbours each side); each lattice tie
    (i, i+j) has its far end moved, with probability ``rewiring``, to a uniform person of the same block at
    ring distance > k/2 (so never a self loop or a lattice pair), up to ``attempts`` draws, otherwise the
    lattice tie is kept; rewired ties that pick the same pair draw again. Blocks of at most k persons become
    complete graphs. Returns each person's neighbour list (global indices).
    """
    h = int(mean_degree) // 2
    src_parts, dst_parts = [], []
    lo = 0
    for s in sizes:
        if h == 0 or s < 2:
            lo += s
            continue
        if s <= 2 * h:
            a, c = np.triu_indices(s, 1)
        else:
            a = np.repeat(np.arange(s), h)
            c = (a + np.tile(np.arange(1, h + 1), s)) % s
            todo = np.flatnonzero(rng.random(a.size) < rewiring)
            rewired = np.zeros(a.size, bool)
            while todo.size:
                cand = rng.integers(0, s, size=(todo.size, attempts))
                d = (cand - a[todo, None]) % s
                ok = np.minimum(d, s - d) > h
                has = ok.any(axis=1)
                c[todo[has]] = cand[has, ok[has].argmax(axis=1)]
                rewired[todo[has]] = True
                # two rewired ties on the same pair: the earlier keeps it, the later draws again
                idx = np.flatnonzero(rewired)
                key = np.minimum(a[idx], c[idx]) * s + np.maximum(a[idx], c[idx])
                _, first = np.unique(key, return_index=True)
                dup = np.ones(idx.size, bool)
                dup[first] = False
                todo = idx[dup]
                c[todo] = (a[todo] + todo % h + 1) % s  # back to the lattice end until redrawn
                rewired[todo] = False
        src_parts.append(lo + a)
        dst_parts.append(lo + c)
        lo += s
    n = int(sum(sizes))
    if not src_parts:
        return [[] for _ in range(n)]
    src = np.concatenate(src_parts + dst_parts)
    dst = np.concatenate(dst_parts + src_parts)
    order = np.argsort(src, kind="stable")
    bounds = np.searchsorted(src[order], np.arange(n + 1))
    dst = dst[order]
    return [dst[bounds[i] : bounds[i + 1]].tolist() for i in range(n)]


# --------------------------------------------------------------------------- outcomes of both implementations
def outcome(model: ReferenceModel) -> dict:
    """Final composite scores, tier shares, blacklist and redlist sizes of a Mesa run."""
    agents = list(model.agents)
    scores = np.array([a.score for a in agents])
    tiers = np.bincount([a.tier for a in agents], minlength=len(TIER_NAMES))
    return {
        "scores": scores,
        "mean_score": float(scores.mean()),
        "tier_shares": {name: float(t) / len(agents) for name, t in zip(TIER_NAMES, tiers)},
        "blacklisted": sum(1 for a in agents if a.black_since >= 0),
        "redlisted": sum(1 for a in agents if a.red_since >= 0),
    }


def run_mesa(persons: int, seed: int, days: int) -> dict:
    model = ReferenceModel(persons=persons, seed=seed, days=days)
    model.run_model()
    return outcome(model)


def run_socialcredit(persons: int, seed: int, days: int, threads: int | None = None) -> dict:
    """The same outcome from the socialcredit engine running scenario ``reference``."""
    import socialcredit as sc
    from socialcredit.engine.sim import Sim

    rb = sc.load("reference", persons=persons, days=days, overrides={"simulation.seed": seed})
    sim = Sim(rb, threads=threads)
    sim.setup()
    sim.run()
    st = sim.state
    scores = st.score.astype(np.float64)
    tiers = np.bincount(st.tier, minlength=len(TIER_NAMES))
    return {
        "scores": scores,
        "mean_score": float(scores.mean()),
        "tier_shares": {name: float(t) / st.n for name, t in zip(TIER_NAMES, tiers)},
        "blacklisted": int((st.black_since >= 0).sum()),
        "redlisted": int((st.red_since >= 0).sum()),
    }
