"""Counter-based random numbers.

Every draw is a pure function of (seed, stream, step, sub, agent): a SplitMix64
finaliser applied to a per-(seed, stream, step, sub) key plus the agent index
times the golden ratio constant. There is no generator state, so results do not
depend on the thread count or on how persons are split into chunks, and two
scenarios run with the same seed share every draw whose stream, step and agent
agree (common random numbers).

Streams are small integers named in :data:`STREAMS`; never reuse one stream for
two decisions.
"""

from __future__ import annotations

import numpy as np
from numba import njit

U64 = np.uint64
GOLDEN = np.uint64(0x9E3779B97F4A7C15)
_M1 = np.uint64(0xBF58476D1CE4E5B9)
_M2 = np.uint64(0x94D049BB133111EB)
_INV53 = 1.0 / 9007199254740992.0  # 2**-53
_INV24 = np.float32(1.0 / 16777216.0)  # 2**-24

#: One stream per decision. Append new streams at the end; never renumber.
STREAMS: dict[str, int] = {
    "heterogeneity": 1,  # per-person behaviour propensity multipliers
    "population": 2,  # region/group/income/partner assignment
    "network": 3,  # network generators
    "behave": 4,  # which behaviour (if any) a person does today
    "detect": 5,  # whether an event is detected
    "misattribute": 6,  # whether a detected event is attached to the wrong person
    "victim": 7,  # who the wrong person is
    "spurious": 8,  # spurious records
    "demand": 9,  # service attempts (sub = service index)
    "audit": 10,  # which persons are sampled for the audit trail
    "companies": 11,  # company attributes (step 7: whether a company monitors emotions, engine/stages/emotion.py)
    "appeal": 12,
    "shaming": 13,
    "unfriend": 14,
    "rewire": 15,
    "partner": 16,
    "company_behave": 17,  # company behaviours (sub = behaviour index)
    "company_detect": 18,  # whether a company behaviour is recorded (sub = behaviour index)
    "rating": 19,  # peer ratings: interactions, partners, rating noise, likeability (see engine/stages/rating.py)
    "warnings": 20,  # whether a harmful act is warned about on the spot (engine/stages/warnings.py)
    "enrolment": 21,  # each person's fixed draw against the enrolment share (engine/stages/enrolment.py)
    "fault": 22,  # who a fault hits (step = day, sub = fault index; engine/stages/faults.py)
    "targeting": 23,  # who is aimed at today (step = day, sub = targeting index; engine/stages/targeting.py)
    "lending": 24,  # loan applications (sub 0) and whether a loan is repaid (sub 1; engine/stages/lending.py)
    "emotion": 26,  # emotion monitoring at work: checks, outliers, flags, dismissals (step = day, sub 0-3)
    "commercial": 27,  # the commercial score's fixed personal term (engine/stages/commercial.py)
    "layoff": 25,  # whether an employee of a company entering the blacklist is laid off (engine/stages/company_sanctions.py)
}


@njit(inline="always", cache=True)
def mix64(z: np.uint64) -> np.uint64:
    """SplitMix64 finaliser: a bijective 64-bit mix with good avalanche."""
    z = (z ^ (z >> U64(30))) * _M1
    z = (z ^ (z >> U64(27))) * _M2
    return z ^ (z >> U64(31))


@njit(cache=True)
def make_key(seed: int, stream: int, step: int, sub: int) -> np.uint64:
    """Key of one (seed, stream, step, sub) combination; agents are counters under it."""
    k = mix64(U64(seed) * GOLDEN + U64(0x632BE59BD9B4E019))
    k = mix64(k ^ (U64(stream) * GOLDEN))
    k = mix64(k ^ (U64(step) * _M1))
    k = mix64(k ^ (U64(sub) * _M2))
    return k


@njit(inline="always", cache=True)
def bits(key: np.uint64, agent: int) -> np.uint64:
    """64 random bits for one agent under a key."""
    return mix64(key + U64(agent) * GOLDEN)


@njit(inline="always", cache=True)
def uniform(key: np.uint64, agent: int) -> float:
    """A float64 uniform in [0, 1) with 53 random bits."""
    return float(np.int64(bits(key, agent) >> U64(11))) * _INV53


@njit(inline="always", cache=True)
def uniform32(key: np.uint64, agent: int) -> np.float32:
    """A float32 uniform in [0, 1) with 24 random bits (vectorises well)."""
    return np.float32(np.int64(bits(key, agent) >> U64(40))) * _INV24


@njit(inline="always", cache=True)
def normal(key: np.uint64, agent: int) -> float:
    """A standard normal draw (Box-Muller on two counter draws)."""
    h1 = bits(key, agent)
    h2 = mix64(h1 ^ U64(0xD1B54A32D192ED03))
    u1 = (float(np.int64(h1 >> U64(11))) + 1.0) * _INV53  # (0, 1]
    u2 = float(np.int64(h2 >> U64(11))) * _INV53
    return np.sqrt(-2.0 * np.log(u1)) * np.cos(2.0 * np.pi * u2)


@njit(inline="always", cache=True)
def below(key: np.uint64, agent: int, n: int) -> int:
    """A uniform integer in [0, n) (multiply-shift; bias below 2**-32 for n < 2**32)."""
    return int((bits(key, agent) >> U64(32)) * U64(n) >> U64(32))


@njit(cache=True)
def poisson(key: np.uint64, agent: int, lam: float) -> int:
    """A Poisson draw by inversion (small means) or a rounded normal (lam > 50)."""
    if lam <= 0.0:
        return 0
    if lam > 50.0:
        x = lam + np.sqrt(lam) * normal(key, agent)
        return max(0, int(np.floor(x + 0.5)))
    u = uniform(key, agent)
    p = np.exp(-lam)
    c = p
    k = 0
    while u > c and k < 1000:
        k += 1
        p *= lam / k
        c += p
    return k


def stream_id(name: str) -> int:
    """The integer id of a named stream (KeyError lists the valid names)."""
    try:
        return STREAMS[name]
    except KeyError:
        raise KeyError(f"unknown random stream {name!r}; known: {', '.join(STREAMS)}") from None


def key(seed: int, stream: str, step: int = 0, sub: int = 0) -> np.uint64:
    """Python-side convenience for :func:`make_key` with a stream name."""
    return np.uint64(make_key(int(seed) & 0xFFFFFFFFFFFFFFFF, stream_id(stream), int(step), int(sub)))


@njit(cache=True)
def uniforms(k: np.uint64, n: int) -> np.ndarray:
    """Uniforms for agents 0..n-1 under one key (tests and setup code)."""
    out = np.empty(n, np.float64)
    for i in range(n):
        out[i] = uniform(k, i)
    return out


@njit(cache=True)
def normals(k: np.uint64, n: int) -> np.ndarray:
    """Standard normals for agents 0..n-1 under one key (setup code)."""
    out = np.empty(n, np.float64)
    for i in range(n):
        out[i] = normal(k, i)
    return out


@njit(cache=True)
def normals_at(k: np.uint64, agents: np.ndarray) -> np.ndarray:
    """Standard normals for the given agents under one key (the draw of agent a is the same as in :func:`normals`)."""
    out = np.empty(agents.shape[0], np.float64)
    for j in range(agents.shape[0]):
        out[j] = normal(k, agents[j])
    return out


@njit(cache=True)
def uniforms_at(k: np.uint64, agents: np.ndarray) -> np.ndarray:
    """Uniforms for the given agents under one key (the draw of agent a is the same as in :func:`uniforms`)."""
    out = np.empty(agents.shape[0], np.float64)
    for j in range(agents.shape[0]):
        out[j] = uniform(k, agents[j])
    return out
