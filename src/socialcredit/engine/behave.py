"""Stage 1, behave: each person draws today's behaviour, if any.

A person's daily rate of behaviour b is ``rate_b / 365 * het_ib * m_i(class b)``,
where ``het`` is the person's fixed propensity multiplier and ``m`` the
response multiplier of the behaviour's class (deterrence lowers penalised
behaviours: ``m = 1 / (1 + elasticity * risk)``).

One counter draw ``u`` per person-day is compared with the total rate
``L_i = sum_b lambda_ib``; if ``u < L_i`` the person does exactly one
behaviour, chosen with probability ``lambda_ib / L_i`` by walking the
cumulative rates with the same ``u``. The expected yearly count of each
behaviour therefore equals its rate exactly (as long as ``L_i <= 1``); at most
one behaviour event per person per day is the price of drawing one number
instead of one per behaviour.
"""

from __future__ import annotations

import numpy as np
from numba import njit, prange

from socialcredit.engine import rng
from socialcredit.engine.plan import DETERRED, GAMED, N_CLASSES

# Persons per parallel work item. Results do not depend on it (every draw is keyed by person),
# but kernels in other modules import it and Numba's on-disk cache does not notice a change here:
# after changing it in a working tree, delete the cache (find src -name '*.nbi' -delete).
CHUNK = 4096
NONE = np.uint8(255)


@njit(parallel=True, cache=True, fastmath=True)
def behave_kernel(
    key: np.uint64,
    class_rate: np.ndarray,  # (N, K) float32
    het: np.ndarray,  # (N, B) float32
    rate_day: np.ndarray,  # (B,) float32
    beh_class: np.ndarray,  # (B,) int64
    risk: np.ndarray,  # (N,) float32
    elasticity: float,
    event: np.ndarray,  # out (N,) uint8
    chunk_counts: np.ndarray,  # out (nchunks,) int64
) -> None:
    """Three passes per chunk, for speed: a branch-free pass finds who acts today; their
    propensity rows are gathered with independent loads (many cache misses in flight);
    then each picks a behaviour from the gathered rows."""
    n = event.shape[0]
    nb = rate_day.shape[0]
    nchunks = (n + CHUNK - 1) // CHUNK
    e = np.float32(elasticity)
    one = np.float32(1.0)
    for c in prange(nchunks):
        lo = c * CHUNK
        hi = min(n, lo + CHUNK)
        idx = np.empty(hi - lo, np.int64)
        m = 0
        for i in range(lo, hi):  # 1: does the person do anything today? (vectorises)
            m0 = one / (one + e * risk[i])
            total = m0 * class_rate[i, DETERRED] + class_rate[i, GAMED] + class_rate[i, 2]
            event[i] = NONE
            idx[m] = i
            m += rng.uniform32(key, i) < total
        buf = np.empty((m, nb), np.float32)
        for k in range(m):  # 2: gather the propensity rows of those who act
            i = idx[k]
            for b in range(nb):
                buf[k, b] = het[i, b]
        mult = np.empty(N_CLASSES, np.float32)
        cnt = 0
        for k in range(m):  # 3: which behaviour (same uniform, walked over the cumulative rates)
            i = idx[k]
            u = rng.uniform32(key, i)
            mult[DETERRED] = one / (one + e * risk[i])
            mult[GAMED] = 1.0
            mult[2] = 1.0
            acc = np.float32(0.0)
            pick = -1
            last = -1
            for b in range(nb):
                lam = rate_day[b] * buf[k, b] * mult[beh_class[b]]
                if lam > 0.0:
                    last = b
                acc += lam
                if u < acc:
                    pick = b
                    break
            if pick < 0:  # rounding between the class sums and the walk
                pick = last
            if pick >= 0:
                event[i] = np.uint8(pick)
                cnt += 1
        chunk_counts[c] = cnt


def run(sim) -> None:
    """Draw today's behaviour events into ``state.event`` and count them per chunk."""
    st = sim.state
    plan = sim.plan
    key = rng.key(plan.seed, "behave", st.day)
    n = st.n
    nchunks = (n + CHUNK - 1) // CHUNK
    if sim.chunk_counts.shape[0] != nchunks:
        sim.chunk_counts = np.zeros(nchunks, np.int64)
    behave_kernel(
        key,
        st.class_rate,
        sim.pop.persons.het,
        plan.rate_day,
        plan.beh_class,
        st.risk,
        plan.deter_elasticity,
        st.event,
        sim.chunk_counts,
    )
