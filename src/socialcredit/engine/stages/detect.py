"""Stage 2, detect: channels turn events into records, some of them false.

For an event of behaviour b by person i in region r, detected by channel c:
- it is detected with probability ``coverage[c, r]``;
- a detected event is attached to the wrong person with probability
  ``false_attribution[c]``; the wrong person is drawn from the same region
  with weight proportional to their group's misidentification multiplier
  (rejection sampling), and the actor escapes the record;
- each channel also produces spurious records (events that never happened)
  at ``spurious_rate[c] * coverage[c, r]`` per person-year in region r, with
  the same group weighting, for one of the channel's penalised behaviours
  (chosen by base rate).
A record reaches the score ``delay[c]`` days after the event. A channel's
``ramp`` multiplies its coverage by a piecewise-linear function of the day
(a system being rolled out).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np
import numba
from numba import get_thread_id, njit, prange

from socialcredit import rng
from socialcredit.engine.layout import CHUNK, FALSE, SPURIOUS
from socialcredit.parallel import day_kernel

if TYPE_CHECKING:
    from socialcredit.engine.sim import Sim

VICTIM_TRIES = 1024  # rejection tries; with weights capped at 100x a failure is below 1e-8


@njit(inline="always", cache=True)
def pick_victim(vkey: np.uint64, agent: int, avoid: int, lo: int, hi: int, group: np.ndarray, gnorm: np.ndarray) -> int:
    """A person of block [lo, hi) other than ``avoid``, weighted by ``gnorm[group]`` (max weight 1).

    Rejection sampling; try t of agent a uses counter a * VICTIM_TRIES + t, so
    every (agent, try) pair has its own draw.
    """
    size = hi - lo
    if size <= 1:
        return avoid
    last = avoid
    for t in range(VICTIM_TRIES):
        h = rng.bits(vkey, agent * VICTIM_TRIES + t)
        j = lo + int(((h >> np.uint64(32)) * np.uint64(size)) >> np.uint64(32))
        if j == avoid:
            continue
        last = j
        acc = float(np.int64(h & np.uint64(0xFFFFFFFF))) * (1.0 / 4294967296.0)
        if acc < gnorm[group[j]]:
            return j
    return last


@day_kernel(cache=True)
def detect_kernel(
    key_det: np.uint64,
    key_mis: np.uint64,
    vkey: np.uint64,
    event: np.ndarray,
    local: np.ndarray,
    chunk_counts: np.ndarray,
    chunk_offsets: np.ndarray,
    region: np.ndarray,
    group: np.ndarray,
    tier: np.ndarray,
    R: int,
    G: int,
    region_offsets: np.ndarray,
    beh_channel: np.ndarray,
    coverage: np.ndarray,
    false_attr: np.ndarray,
    gnorm: np.ndarray,
    target: np.ndarray,
    false: np.ndarray,
    counts: np.ndarray,
    bcounts: np.ndarray,
    nth: int,
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Today's events (the actors behave noted in ``local``, in person order), their detection, and their records.

    Per event, ``target`` is the person the record goes to (-1: not detected) and
    ``false`` whether that is not the actor. Events and detected events are
    counted by the actor's combination into ``counts[:, 0:2]`` and
    ``bcounts[:, :, 0:2]`` (per thread, then added: integers, the same in any
    order; ``nth`` is at least the number of thread ids). Returns the records
    (person, behaviour, flags) in event order. One launch where the detection,
    the tally and the records took three passes.
    """
    n = event.shape[0]
    nchunks = (n + CHUNK - 1) // CHUNK
    K = counts.shape[0]
    nb = bcounts.shape[1]
    pc = np.zeros((nth * K, 2), np.int64)  # per thread id, then combination
    pb = np.zeros((nth * K * nb, 2), np.int64)  # per thread id, combination and behaviour
    found = np.zeros(nchunks + 1, np.int64)  # detected events per chunk, then before each chunk
    uR = np.uint64(R)
    uG = np.uint64(G)
    for c in prange(nchunks):
        th = get_thread_id()
        o = chunk_offsets[c]
        lo = c * CHUNK
        d = 0
        for q in range(chunk_counts[c]):
            i = lo + np.int64(local[lo + q])
            ui = np.uint64(i)  # unsigned: no index wrap (layout.py)
            b = event[ui]
            ch = beh_channel[b]
            r = region[ui]
            t = -1
            f = 0
            if rng.uniform(key_det, i) < coverage[ch, r]:
                t = i
                if false_attr[ch] > 0.0 and rng.uniform(key_mis, i) < false_attr[ch]:
                    t = pick_victim(vkey, i, i, region_offsets[r], region_offsets[r + 1], group, gnorm)
                    f = 1 if t != i else 0
            target[o] = t
            false[o] = f
            det = np.int64(t >= 0)
            k = (np.uint64(tier[ui]) * uR + np.uint64(r)) * uG + np.uint64(group[ui])
            row = np.uint64(th) * np.uint64(K) + k
            pc[row, 0] += 1
            pc[row, 1] += det
            pb[row * np.uint64(nb) + np.uint64(b), 0] += 1
            pb[row * np.uint64(nb) + np.uint64(b), 1] += det
            d += det
            o += 1
        found[c + 1] = d
    for c in range(nchunks):
        found[c + 1] += found[c]
    m = found[nchunks]
    person = np.empty(m, np.int32)
    beh = np.empty(m, np.uint8)
    flags = np.empty(m, np.uint8)
    for c in prange(nchunks):
        o = chunk_offsets[c]
        w = found[c]
        lo = c * CHUNK
        for q in range(chunk_counts[c]):
            if target[o] >= 0:
                person[w] = target[o]
                beh[w] = event[np.uint64(lo + np.int64(local[lo + q]))]
                flags[w] = false[o]
                w += 1
            o += 1
    for th in range(nth):
        for k in range(K):
            counts[k, 0] += pc[th * K + k, 0]
            counts[k, 1] += pc[th * K + k, 1]
            for b in range(nb):
                bcounts[k, b, 0] += pb[(th * K + k) * nb + b, 0]
                bcounts[k, b, 1] += pb[(th * K + k) * nb + b, 1]
    return person, beh, flags


@njit(cache=True)
def spurious_kernel(
    seed: int,
    day: int,
    stream: int,
    spurious_rate: np.ndarray,  # (C,) per person per day
    coverage: np.ndarray,  # (C, R)
    region_offsets: np.ndarray,
    group: np.ndarray,
    gnorm: np.ndarray,
    chan_cum: np.ndarray,  # (C, B) cumulative weights of behaviours per channel
):
    nch = spurious_rate.shape[0]
    nreg = region_offsets.shape[0] - 1
    total = 0
    counts = np.zeros((nch, nreg), np.int64)
    for ch in range(nch):
        if spurious_rate[ch] <= 0.0 or chan_cum[ch, chan_cum.shape[1] - 1] <= 0.0:
            continue
        for r in range(nreg):
            lam = spurious_rate[ch] * coverage[ch, r] * (region_offsets[r + 1] - region_offsets[r])
            k = rng.make_key(seed, stream, day, ch * 1024 + r)
            counts[ch, r] = rng.poisson(k, 0, lam)
            total += counts[ch, r]
    person = np.empty(total, np.int32)
    beh = np.empty(total, np.uint8)
    vkey = rng.make_key(seed, stream, day, 2_000_000_000)  # victims of spurious records: their own key
    kb = rng.make_key(seed, stream, day, 2_000_000_001)  # which behaviour each spurious record is
    o = 0
    for ch in range(nch):
        for r in range(nreg):
            for _ in range(counts[ch, r]):
                j = pick_victim(vkey, o, -1, region_offsets[r], region_offsets[r + 1], group, gnorm)
                u = rng.uniform(kb, o) * chan_cum[ch, chan_cum.shape[1] - 1]
                b = 0
                while b < chan_cum.shape[1] - 1 and u >= chan_cum[ch, b]:
                    b += 1
                person[o] = j
                beh[o] = b
                o += 1
    return person, beh


def _chan_cum(plan) -> np.ndarray:
    """Per channel, cumulative base rates of its penalised behaviours (all of them if none is penalised)."""
    nb = plan.n_behaviours
    out = np.zeros((len(plan.detection.channel_names), nb), np.float64)
    base_pts = plan.behaviours.base_points
    person = plan.behaviours.rate_day > 0  # company behaviours have no person rate: never spurious person records
    for ch in range(len(plan.detection.channel_names)):
        mine = (plan.behaviours.channel == ch) & person
        pen = mine & (base_pts < 0)
        sel = pen if pen.any() else mine  # a channel with no person behaviour makes no spurious records
        w = np.where(sel, plan.behaviours.rate_day.astype(np.float64), 0.0)
        out[ch] = np.cumsum(w)
    return out


def run(sim: Sim) -> None:
    """Turn today's events into records, queued (``Sim.schedule``) for the day their channel reports them."""
    st = sim.state
    plan = sim.plan
    pers = sim.pop.persons
    day = st.day
    counts = sim.buffers.chunk_counts
    offsets = np.zeros(counts.shape[0] + 1, np.int64)
    np.cumsum(counts, out=offsets[1:])
    m = int(offsets[-1])
    target = np.empty(m, np.int32)
    false = np.empty(m, np.uint8)
    seed = plan.seed
    S = rng.STREAMS
    coverage = plan.coverage_on(day) if sim.surveillance is None else sim.surveillance.today(plan, day)
    t = sim.counters
    rec_person, rec_beh, rec_flags = detect_kernel(
        rng.key(seed, "detect", day), rng.key(seed, "misattribute", day), rng.key(seed, "victim", day),
        st.event, sim.buffers.picked, counts, offsets, pers.region, pers.group, st.tier, t.R, t.G, pers.region_offsets,
        plan.behaviours.channel, coverage, plan.detection.false_attribution, sim.gnorm, target, false, t.counts, t.bcounts,
        numba.config.NUMBA_NUM_THREADS,
    )  # fmt: skip
    if plan.detection.spurious_rate.any():
        if sim.buffers.chan_cum is None:
            sim.buffers.chan_cum = _chan_cum(plan)
        sp_person, sp_beh = spurious_kernel(
            seed, day, S["spurious"], plan.detection.spurious_rate, coverage, pers.region_offsets, pers.group, sim.gnorm, sim.buffers.chan_cum
        )
        if sp_person.size:
            rec_person = np.concatenate([rec_person, sp_person])
            rec_beh = np.concatenate([rec_beh, sp_beh])
            rec_flags = np.concatenate([rec_flags, np.full(sp_person.size, FALSE | SPURIOUS, np.uint8)])
    if sim.surveillance is not None:
        sim.handoffs.detected = (rec_person, rec_beh)
    if plan.detection.delay.size and (plan.detection.delay == plan.detection.delay[0]).all():  # one delay for every channel
        sim.schedule(rec_person, rec_beh, rec_flags, int(plan.detection.delay[0]))
    else:
        sim.schedule(rec_person, rec_beh, rec_flags, plan.detection.delay[plan.behaviours.channel[rec_beh]] if rec_beh.size else np.zeros(0, np.int64))
