"""Stage 5, services: demand, denials and rewards, and their consequences.

Each service has its own random stream: person i tries to use service s on a
day with probability ``demand_s / 365 * (income_i / median income) ** e_s``.
A punishment service denies the attempt when ``denied_when`` holds; a reward
service grants its perk when ``granted_when`` holds. The same condition is
evaluated on the counterfactual state (no false records): a denial that would
not have happened there is *wrongful*; a reward lost only because of false
records is counted as ``wrongful`` for reward services.
Consequences: income changes by a fraction; optionally a record of a named
behaviour is made against the person (applied the next day).
"""

from __future__ import annotations

import numpy as np
from numba import njit, prange

from socialcredit.engine import rng
from socialcredit.engine.behave import CHUNK
from socialcredit.engine.detect import FALSE, SERVICE
from socialcredit.engine.env import Env


@njit(parallel=True, cache=True)
def attempts_kernel(
    keys: np.ndarray,  # (S,) uint64, one stream per service
    p: np.ndarray,  # (S,) float64 daily attempt probability at median income
    elasticity: np.ndarray,  # (S,) float64
    income: np.ndarray,
    median: float,
    mask: np.ndarray,  # out (N,) uint8: bit s set if the person tries service s (S <= 8)
    counts: np.ndarray,  # out (nchunks, S) int64
) -> None:
    """Every service's attempts in one pass; each service keeps its own random stream."""
    n = mask.shape[0]
    ns = keys.shape[0]
    nchunks = (n + CHUNK - 1) // CHUNK
    for c in prange(nchunks):
        lo = c * CHUNK
        hi = min(n, lo + CHUNK)
        for i in range(lo, hi):
            mask[i] = 0
        for s in range(ns):
            k = keys[s]
            bit = np.uint8(1 << s)
            cnt = 0
            if elasticity[s] == 0.0:
                pf = np.float32(p[s])
                for i in range(lo, hi):
                    hit = rng.uniform32(k, i) < pf
                    mask[i] |= bit * np.uint8(hit)
                    cnt += hit
            else:
                for i in range(lo, hi):
                    hit = rng.uniform(k, i) < p[s] * (income[i] / median) ** elasticity[s]
                    mask[i] |= bit * np.uint8(hit)
                    cnt += hit
            counts[c, s] = cnt


@njit(parallel=True, cache=True)
def compact_kernel(mask: np.ndarray, offsets: np.ndarray, out: np.ndarray) -> None:
    """Indices of persons with bit s set, per service: ``out[offsets[c, s] + j]`` (ascending within s)."""
    n = mask.shape[0]
    ns = offsets.shape[1]
    nchunks = (n + CHUNK - 1) // CHUNK
    for c in prange(nchunks):
        pos = offsets[c].copy()
        for i in range(c * CHUNK, min(n, (c + 1) * CHUNK)):
            m = mask[i]
            if m == 0:
                continue
            for s in range(ns):
                if m & (1 << s):
                    out[pos[s]] = i
                    pos[s] += 1


def all_attempts(sim, services: list[int]) -> list[np.ndarray]:
    """For each listed service (at most 8), the persons who try to use it today (ascending)."""
    st = sim.state
    plan = sim.plan
    keys = np.array([rng.key(plan.seed, "demand", st.day, s) for s in services], dtype=np.uint64)
    p = np.array([plan.services[s].demand_day for s in services], dtype=np.float64)
    e = np.array([plan.services[s].income_elasticity for s in services], dtype=np.float64)
    nchunks = sim.chunk_counts.shape[0]
    counts = np.zeros((nchunks, len(services)), np.int64)
    attempts_kernel(keys, p, e, st.income, sim.median_income, sim.scratch_u8, counts)
    # offsets: service-major, chunk order inside each service
    per_service = counts.sum(axis=0)
    starts = np.concatenate(([0], np.cumsum(per_service)[:-1]))
    offsets = starts[None, :] + np.cumsum(counts, axis=0) - counts
    out = np.empty(int(per_service.sum()), np.int64)
    compact_kernel(sim.scratch_u8, offsets, out)
    return [out[starts[j] : starts[j] + per_service[j]] for j in range(len(services))]


def run(sim) -> None:
    st = sim.state
    plan = sim.plan
    sanctioned: list[np.ndarray] = []
    active = [s for s, sp in enumerate(plan.services) if sp.demand_day > 0]
    tries: dict[int, np.ndarray] = {}
    for k in range(0, len(active), 8):  # eight services per pass (one bit each)
        batch = active[k : k + 8]
        tries.update(zip(batch, all_attempts(sim, batch)))
    for s in active:
        sp = plan.services[s]
        idx = tries[s]
        if idx.size == 0:
            sim.tally.service(s, idx, idx, idx)
            continue
        hit = sp.condition(Env(sim, idx=idx), n=idx.size)
        hit_cf = sp.condition(Env(sim, cf=True, idx=idx), n=idx.size)
        if sp.is_reward:
            outcome = idx[hit]
            wrongful = idx[~hit & hit_cf]  # reward lost only because of false records
        else:
            outcome = idx[hit]
            wrongful = idx[hit & ~hit_cf]
            sanctioned.append(outcome)
        sim.tally.service(s, idx, outcome, wrongful)
        sim.audit.service(st.day, s, sp.is_reward, outcome, wrongful)
        if sp.income_change != 0.0 and outcome.size:
            st.income[outcome] *= np.float32(1.0 + sp.income_change)
        if sp.record_behaviour >= 0 and outcome.size:
            # the consequence record is false when the outcome itself exists only because of false records
            flags = np.full(outcome.size, SERVICE, np.uint8)
            only_factual = wrongful if not sp.is_reward else idx[hit & ~hit_cf]
            flags[np.isin(outcome, only_factual, assume_unique=True)] |= FALSE
            beh = np.full(outcome.size, sp.record_behaviour, np.uint8)
            sim.schedule(outcome.astype(np.int32), beh, flags, np.ones(outcome.size, np.int64))
    sim.sanctioned = np.concatenate(sanctioned) if sanctioned else np.zeros(0, np.int64)
