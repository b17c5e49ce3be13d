"""Stage 1, behave: each person draws today's behaviour, if any.

A person's daily rate of behaviour b is ``rate_b / 365 * het_ib * m_i(b)``,
where ``het`` is the person's fixed propensity multiplier and ``m`` the
product of the responses the behaviour has: deterrence lowers penalised
behaviours (all behaviours under secret rules, which is chilling for benign
ones), ``1 / (1 + elasticity * risk)``; gaming raises rewarded ones under
public rules, ``1 + gaming * risk``; economic feedback raises behaviours with
the ``income`` response, ``(income0 / income) ** elasticity``.

One counter draw ``u`` per person-day is compared with the total rate
``L_i = sum_b lambda_ib``; if ``u < L_i`` the person does exactly one
behaviour, chosen with probability ``lambda_ib / L_i`` by walking the
cumulative rates with the same ``u``. The expected yearly count of each
behaviour therefore equals its rate exactly (as long as ``L_i <= 1``); at most
one behaviour event per person per day is the price of drawing one number
instead of one per behaviour.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np
from numba import prange

from socialcredit import rng
from socialcredit.engine.layout import CHUNK, NO_EVENT
from socialcredit.engine.plan import DETERRED, GAMED, NEUTRAL
from socialcredit.parallel import day_kernel

if TYPE_CHECKING:
    from socialcredit.engine.sim import Sim



@day_kernel(cache=True, fastmath=True)
def behave_kernel(
    key: np.uint64,
    class_rate: np.ndarray,  # (3, N) or (6, N) float32: deterred, gamed, neutral [, the same with income]
    used: np.ndarray,  # (3,) or (6,) bool: the classes some behaviour has (the others' rows are zero and not read)
    het: np.ndarray,  # (N, B) float32
    rate_day: np.ndarray,  # (B,) float32
    beh_class: np.ndarray,  # (B,) int64 row of class_rate
    risk: np.ndarray,  # (N,) float32
    elasticity: float,
    gaming: float,
    income_mult: np.ndarray,  # (N,) float32; read only when class_rate has the income rows
    event: np.ndarray,  # out (N,) uint8
    local: np.ndarray,  # out (N,) uint16: who acts, as offsets within each chunk (engine.picks)
    chunk_counts: np.ndarray,  # out (nchunks,) int64
) -> None:
    """Three passes per chunk, for speed: a pass finds who acts today; their propensity rows
    are gathered with independent loads (many cache misses in flight); then each picks a
    behaviour from the gathered rows, also without branches (1M persons: 1.86 -> 1.54 ms a
    day, the same picks). Those who act are also noted in ``local`` so that detect visits
    only them.

    The first pass computes each person's total rate, then flags who acts in one loop of
    draws, both loops that vectorise, then collects the flagged persons eight flags at a
    time; noting each person's index as it went kept it scalar (the whole kernel, 100k
    persons: 127 -> 97 us; 1M: 1.5 -> 1.45 ms; full-system 100k: 295 -> 233 us; the same
    totals, draws and comparisons, so the same events). The draws are one loop for the
    three cases: a vectorised loop of draws in each case compiled 0.15 s longer.

    When every behaviour is deterred (the reference model, and any rulebook without
    gaming or neutral behaviours) the first pass reads one row of class rates, not three
    (the whole kernel with cold caches, medians: 1M persons 3.20 -> 3.00 ms, 10M 27.9 ->
    26.4 ms). The rows it skips are zero for everyone, and adding zero changes no sum, so
    the totals are the same."""
    n = event.shape[0]
    nb = rate_day.shape[0]
    with_income = class_rate.shape[0] > 3
    nchunks = (n + CHUNK - 1) // CHUNK
    e = np.float32(elasticity)
    gm = np.float32(gaming)
    one = np.float32(1.0)
    cd = class_rate[DETERRED]
    cg = class_rate[GAMED]
    cn = class_rate[NEUTRAL]
    use_g = used[GAMED]
    use_n = used[NEUTRAL]
    if with_income:
        yd = class_rate[3 + DETERRED]
        yg = class_rate[3 + GAMED]
        yn = class_rate[3 + NEUTRAL]
    else:
        yd = cd
        yg = cg
        yn = cn
    for c in prange(nchunks):
        lo = c * CHUNK
        hi = min(n, lo + CHUNK)
        ulo = np.uint64(lo)  # unsigned: no index wrap (layout.py)
        # 1: does the person do anything today? A flag per person, in loops that vectorise (three: with income,
        # the general case, and deterred behaviours only, which reads one row of class rates) ...
        total = np.empty(CHUNK, np.float32)  # each person's total rate today
        if with_income:
            for i in range(ulo, np.uint64(hi)):
                d = one / (one + e * risk[i])
                g = one + gm * risk[i]
                t = d * cd[i] + g * cg[i] + cn[i]
                total[i - ulo] = t + income_mult[i] * (d * yd[i] + g * yg[i] + yn[i])
        elif use_g or use_n:  # the general case (a class without behaviours adds zeros)
            for i in range(ulo, np.uint64(hi)):
                d = one / (one + e * risk[i])
                g = one + gm * risk[i]
                total[i - ulo] = d * cd[i] + g * cg[i] + cn[i]
        else:
            for i in range(ulo, np.uint64(hi)):
                total[i - ulo] = one / (one + e * risk[i]) * cd[i]
        hit = np.zeros(CHUNK, np.uint8)
        for i in range(ulo, np.uint64(hi)):  # the draws, in one loop for all three (less to compile)
            event[i] = NO_EVENT
            hit[i - ulo] = rng.uniform32(key, i) < total[i - ulo]
        # ... then who they are, eight flags at a time (on most days most persons do nothing)
        idx = np.empty(CHUNK + 8, np.int64)  # (a word's last flags may be written past the chunk's persons)
        m = 0
        words = hit.view(np.uint64)
        for w in range((hi - lo + 7) // 8):
            if words[w] != 0:
                for q in range(w * 8, w * 8 + 8):
                    idx[m] = lo + q
                    m += hit[q]
        buf = np.empty((m, nb), np.float32)
        for j in range(m):  # 2: gather the propensity rows of those who act
            i = np.uint64(idx[j])
            for b in range(nb):
                buf[j, b] = het[i, b]
        mult = np.empty(6, np.float32)
        cnt = 0
        for j in range(m):  # 3: which behaviour (same uniform, walked over the cumulative rates)
            i = idx[j]
            ui = np.uint64(i)
            u = rng.uniform32(key, i)
            mult[DETERRED] = one / (one + e * risk[ui])
            mult[GAMED] = one + gm * risk[ui]
            mult[NEUTRAL] = one
            y = income_mult[ui] if with_income else one
            for k in range(3):
                mult[3 + k] = y * mult[k]
            # the cumulative rates over every behaviour, with no early exit (an exit at a random behaviour is a
            # mispredicted branch per person): the same sums in the same order, so the same pick as walking to the
            # first cumulative rate above u; past the end (rounding between the class sums and these), the last
            # behaviour with a positive rate
            acc = np.float32(0.0)
            below = 0
            last = -1
            for b in range(nb):
                lam = rate_day[b] * buf[j, b] * mult[beh_class[b]]
                last = b if lam > 0.0 else last
                acc += lam
                below += acc <= u
            pick = below if below < nb else last
            if pick >= 0:
                event[ui] = np.uint8(pick)
                local[lo + cnt] = np.uint16(i - lo)
                cnt += 1
        chunk_counts[c] = cnt


def run(sim: Sim) -> None:
    """Draw today's behaviour events into ``state.event`` and count them per chunk."""
    st = sim.state
    plan = sim.plan
    key = rng.key(plan.seed, "behave", st.day)
    n = st.n
    nchunks = (n + CHUNK - 1) // CHUNK
    if sim.buffers.chunk_counts.shape[0] != nchunks:
        sim.buffers.chunk_counts = np.zeros(nchunks, np.int64)
    behave_kernel(
        key,
        st.class_rate,
        plan.classes_used,
        sim.pop.persons.het,
        plan.behaviours.rate_day,
        plan.behaviours.response_class,
        st.risk,
        plan.responses.deter_elasticity,
        plan.responses.gaming_elasticity,
        st.income_mult,
        st.event,
        sim.buffers.picked,
        sim.buffers.chunk_counts,
    )
