"""Stage 8, record: the day's aggregates, overall and by region, group and tier.

State measures (persons, mean score, score quantiles, tier shares, list sizes,
wrongly blacklisted persons, mean income and perceived risk) come from one
parallel pass with fixed chunks, summed in chunk order so the result does
not depend on the thread count. Score quantiles come from a 512-bin
histogram between the day's lowest and highest score (resolution: the range
divided by 512). The Gini coefficient of scores comes from the same
histogram (values uniform within a bin; error at most about the bin width
over the mean score), and is NaN on a day when any score is negative.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np
from numba import get_thread_id, njit, prange

from socialcredit.engine.assortativity import score_assortativity, tier_assortativity
from socialcredit.engine.layout import CHUNK, NGROUPS
from socialcredit.engine.measures import NETWORK_COLUMNS, STATE_COLUMNS
from socialcredit.engine.stages.company import COMPANY_MEASURES
from socialcredit.parallel import day_kernel, sized_kernel

if TYPE_CHECKING:
    from socialcredit.engine.sim import Sim

# column orders from the declaration of the measures (engine/measures.py); it checks that
# STATE_MEASURES is the order aggregate_kernel writes, and NETWORK_MEASURES the order record_network writes
STATE_MEASURES = list(STATE_COLUMNS)
NETWORK_MEASURES = list(NETWORK_COLUMNS)
NETWORK_EVERY = 30  # days between network measurements (and the last day); see DailyAggregates.record_network
NBINS = 512
BLOCK = 512  # persons whose combinations and bins the aggregate pass finds in one vectorised loop before summing


@day_kernel(cache=True)
def minmax_kernel(score: np.ndarray) -> tuple[float, float]:
    n = score.shape[0]
    nchunks = (n + CHUNK - 1) // CHUNK
    mins = np.empty(nchunks, np.float64)
    maxs = np.empty(nchunks, np.float64)
    for c in prange(nchunks):
        lo = np.inf
        hi = -np.inf
        for i in range(np.uint64(c * CHUNK), np.uint64(min(n, (c + 1) * CHUNK))):  # unsigned: no index wrap
            s = score[i]
            lo = min(lo, s)
            hi = max(hi, s)
        mins[c] = lo
        maxs[c] = hi
    lo = np.inf
    hi = -np.inf
    for c in range(nchunks):  # by hand: numpy's min and max cost about 1 s of compile time here
        lo = min(lo, mins[c])
        hi = max(hi, maxs[c])
    return lo, hi




@day_kernel(cache=True, fastmath=False)
def aggregate_kernel(
    score, tier, black_since, black_since_cf, red_since, income, risk, region, group, R, G, lo, width,
    part, hpart, out, hist,
) -> None:  # fmt: skip
    """Sums per (tier, region, group) combination.

    Float sums go through 32 fixed groups of persons added in a fixed order, so
    they do not depend on the thread count; histogram counts are integers, so
    one partial per thread is exact whatever the order. The persons per
    combination are the histogram's row sums, and the list counts are added
    only for persons on some list (a few percent): fewer operations per person.
    Each block of persons first gets its combinations and bins in a loop that
    vectorises (100k persons: 230 -> 190 us; 1M: within noise), then the sums.
    """
    n = score.shape[0]
    K = out.shape[0]
    nm = out.shape[1]
    nb = hist.shape[1]
    hpart[:] = 0  # (threads, K, bins)
    inv = 1.0 / width if width > 0 else 0.0
    step = (n + NGROUPS - 1) // NGROUPS
    uR = np.uint64(R)
    uG = np.uint64(G)
    top = np.int64(nb - 1)
    for c in prange(NGROUPS):
        # local sums (they stay in cache, no sharing between threads); counts as integers, which add faster
        acc = np.zeros((K, 4), np.float64)
        cnt = np.zeros((K, 4), np.int64)  # blacklisted, redlisted, wrongly blacklisted, blacklisted where no record is false
        h = hpart[get_thread_id()]
        kk = np.empty(BLOCK, np.uint64)
        bb = np.empty(BLOCK, np.uint64)
        listed = np.empty(BLOCK, np.bool_)
        a = np.uint64(c * step)
        e = np.uint64(min(n, (c + 1) * step))
        while a < e:  # unsigned: no index wrap (layout.py)
            m = min(np.uint64(BLOCK), e - a)
            for j in range(m):  # a block's combinations, bins and list flags: a loop that vectorises
                i = a + j
                kk[j] = (np.uint64(tier[i]) * uR + np.uint64(region[i])) * uG + np.uint64(group[i])
                b = np.int64((np.float64(score[i]) - lo) * inv)
                bb[j] = np.uint64(min(max(b, 0), top))
                listed[j] = (black_since[i] & red_since[i] & black_since_cf[i]) >= 0  # on some list (else all -1)
            for j in range(m):  # then the sums, in person order
                i = a + j
                k = kk[j]
                s = np.float64(score[i])
                acc[k, 0] += s
                acc[k, 1] += s * s
                acc[k, 2] += np.float64(income[i])
                acc[k, 3] += np.float64(risk[i])
                h[k, bb[j]] += 1  # the persons per combination are the histogram's rows
                if listed[j]:
                    bl = np.int64(black_since[i] >= 0)
                    cnt[k, 0] += bl
                    cnt[k, 1] += np.int64(red_since[i] >= 0)
                    cnt[k, 2] += bl & np.int64(black_since_cf[i] < 0)
                    cnt[k, 3] += np.int64(black_since_cf[i] >= 0)
            a += m
        for k in range(K):  # in STATE_MEASURES order (column 0, the persons, from the histogram below)
            part[c, k, 1] = acc[k, 0]
            part[c, k, 2] = acc[k, 1]
            part[c, k, 3] = cnt[k, 0]
            part[c, k, 4] = cnt[k, 1]
            part[c, k, 5] = cnt[k, 2]
            part[c, k, 6] = cnt[k, 3]
            part[c, k, 7] = acc[k, 2]
            part[c, k, 8] = acc[k, 3]
    for c in range(NGROUPS):  # fixed order: identical for any thread count
        for k in range(K):
            for m in range(1, nm):
                out[k, m] += part[c, k, m]
    for t in range(hpart.shape[0]):
        for k in range(K):
            for b in range(nb):
                hist[k, b] += hpart[t, k, b]
    for k in range(K):
        persons = 0
        for b in range(nb):
            persons += hist[k, b]
        out[k, 0] += persons


@sized_kernel(cache=True)
def degree_kernel(degree, tier, black_since, region, group, R, G, part, out) -> None:
    """Sums of friends per (tier, region, group) combination, for everyone and for the blacklisted.

    Integer sums, so exact whatever the order. Partials are copied element by
    element: assigning a whole row (``part[c] = acc``) made Numba compile its
    string formatting, 3.5 s on a cold cache.
    """
    n = degree.shape[0]
    K = out.shape[0]
    step = (n + NGROUPS - 1) // NGROUPS
    for c in prange(NGROUPS):
        acc = np.zeros((K, 2), np.int64)
        for i in range(c * step, min(n, (c + 1) * step)):
            k = (np.int64(tier[i]) * R + region[i]) * G + group[i]
            dg = np.int64(degree[i])
            acc[k, 0] += dg
            acc[k, 1] += dg * np.int64(black_since[i] >= 0)
        for k in range(K):
            part[c, k, 0] = acc[k, 0]
            part[c, k, 1] = acc[k, 1]
    for c in range(NGROUPS):
        for k in range(K):
            out[k, 0] += part[c, k, 0]
            out[k, 1] += part[c, k, 1]


@njit(cache=True)
def _quantiles_kernel(hist: np.ndarray, lo: float, width: float, qs: np.ndarray, out: np.ndarray) -> None:
    """Row by row, the arithmetic of numpy's vectorised version, so identical to the last bit (a dozen numpy calls
    on small arrays cost more than the day's pass over a hundred thousand persons)."""
    rows, nb = hist.shape
    cum = np.empty(nb, np.float64)
    for r in range(rows):
        total = 0.0
        for b in range(nb):
            total += hist[r, b]
            cum[b] = total
        for j in range(qs.shape[0]):
            if total <= 0:
                out[r, j] = np.nan
                continue
            target = qs[j] * total
            k = 0
            for b in range(nb):
                k += cum[b] < target
            k = min(k, nb - 1)
            before = cum[k - 1] if k > 0 else 0.0
            count = hist[r, k]
            frac = (target - before) / count if count > 0 else 0.5
            out[r, j] = lo + (k + min(max(frac, 0.0), 1.0)) * width


def quantiles_from_hist(hist: np.ndarray, lo: float, width: float, qs: tuple[float, ...]) -> np.ndarray:
    """Quantiles per histogram row, linear within the bin (NaN for empty rows)."""
    hist = np.ascontiguousarray(hist, dtype=np.float64)
    out = np.empty((hist.shape[0], len(qs)), np.float64)
    _quantiles_kernel(hist, float(lo), float(width), np.asarray(qs, np.float64), out)
    return out


@njit(cache=True)
def _block_sum(a: np.ndarray, lo: int, n: int) -> float:
    """numpy's sum of up to 128 numbers: eight running sums, combined pairwise, then the remainder."""
    if n < 8:
        res = 0.0
        for i in range(lo, lo + n):
            res += a[i]
        return res
    r0, r1, r2, r3 = a[lo], a[lo + 1], a[lo + 2], a[lo + 3]
    r4, r5, r6, r7 = a[lo + 4], a[lo + 5], a[lo + 6], a[lo + 7]
    i = 8
    while i < n - (n % 8):
        r0 += a[lo + i]
        r1 += a[lo + i + 1]
        r2 += a[lo + i + 2]
        r3 += a[lo + i + 3]
        r4 += a[lo + i + 4]
        r5 += a[lo + i + 5]
        r6 += a[lo + i + 6]
        r7 += a[lo + i + 7]
        i += 8
    res = ((r0 + r1) + (r2 + r3)) + ((r4 + r5) + (r6 + r7))
    while i < n:
        res += a[lo + i]
        i += 1
    return res


@njit(cache=True)
def _pairwise_sum(a: np.ndarray, lo: int, n: int) -> float:
    """numpy's pairwise summation of ``a[lo:lo + n]``: halves (cut at a multiple of 8) summed apart and added, down
    to blocks of at most 128 (:func:`_block_sum`), so that a row sum equals numpy's ``row.sum()`` to the last bit.
    Written with a stack instead of recursion (Numba's cache does not reload recursive functions safely)."""
    los = np.empty(64, np.int64)
    ns = np.empty(64, np.int64)
    step = np.zeros(64, np.int64)  # 0: left half next, 1: right half next, 2: both summed
    vals = np.empty(64, np.float64)
    los[0], ns[0], top, nv = lo, n, 1, 0
    while top > 0:
        i = top - 1
        if ns[i] <= 128:
            vals[nv] = _block_sum(a, los[i], ns[i])
            nv += 1
            top -= 1
            continue
        half = ns[i] // 2
        half -= half % 8
        if step[i] == 0:
            step[i] = 1
            los[top], ns[top], step[top] = los[i], half, 0
            top += 1
        elif step[i] == 1:
            step[i] = 2
            los[top], ns[top], step[top] = los[i] + half, ns[i] - half, 0
            top += 1
        else:
            vals[nv - 2] = vals[nv - 2] + vals[nv - 1]
            nv -= 1
            top -= 1
    return vals[0]


@njit(cache=True)
def _gini_kernel(hist: np.ndarray, lo: float, width: float, out: np.ndarray) -> None:
    """Row by row, the arithmetic of the vectorised numpy version (sums pairwise as numpy adds a row)."""
    rows, nb = hist.shape
    cx = np.empty(nb, np.float64)
    pair = np.empty(nb, np.float64)
    same = np.empty(nb, np.float64)
    for r in range(rows):
        h = hist[r]
        below_n = 0.0
        below_s = 0.0
        for b in range(nb):
            x = lo + (b + 0.5) * width
            cx[b] = h[b] * x
            cum_n = below_n + h[b]  # cumsum, then minus the bin itself, as numpy does
            cum_s = below_s + cx[b]
            pair[b] = cx[b] * (cum_n - h[b]) - h[b] * (cum_s - cx[b])
            same[b] = h[b] * (h[b] - 1)
            below_n = cum_n
            below_s = cum_s
        n = _pairwise_sum(h, 0, nb)
        between = _pairwise_sum(pair, 0, nb)
        within = _pairwise_sum(same, 0, nb) * width / 6.0
        total = n * (_pairwise_sum(cx, 0, nb) / (n if n > 0 else 1.0))
        if n == 0 or total <= 0 or lo < 0:
            out[r] = np.nan
        else:
            out[r] = (between + within) / (n * total)


def gini_from_hist(hist: np.ndarray, lo: float, width: float) -> np.ndarray:
    """Gini coefficient per histogram row: mean absolute difference over twice the mean (NaN if empty or lo < 0).

    Persons in a bin are taken as spread uniformly over it: pairs in different
    bins differ by the distance between bin centres, pairs in one bin by width/3.
    """
    hist = np.ascontiguousarray(hist, dtype=np.float64)
    out = np.empty(hist.shape[0], np.float64)
    _gini_kernel(hist, float(lo), float(width), out)
    return out


class DailyAggregates:
    """Holds the daily aggregates of a run as arrays (day x cell x measure)."""

    QUANTILES = (0.1, 0.5, 0.9)

    def __init__(self, sim: Sim) -> None:
        tally = sim.counters
        self.sim = sim
        days = sim.plan.days
        self.ncells = tally.ncells
        self.state = np.zeros((days, tally.ncells, len(STATE_MEASURES)), np.float64)
        self.tiers = np.zeros((days, tally.ncells, tally.T), np.int64)
        self.quant = np.full((days, tally.ncells, len(self.QUANTILES)), np.nan)
        self.gini = np.full((days, tally.ncells), np.nan)
        self.events = np.zeros((days, tally.ncells, tally.counts.shape[1]), np.int64)
        self.beh = np.zeros((days, tally.ncells) + tally.bcounts.shape[1:], np.int64)
        self.svc = np.zeros((days, tally.ncells) + tally.scounts.shape[1:], np.int64)
        self.company = np.full((days, len(COMPANY_MEASURES)), np.nan)  # whole population only
        # degree sums by cell, then score and tier assortativity: every NETWORK_EVERY days and the last day
        self.network = np.full((days, tally.ncells, len(NETWORK_MEASURES)), np.nan)
        self.days_done = 0
        nm = len(STATE_MEASURES)
        self._part = np.zeros((NGROUPS, tally.ncombos, nm), np.float64)
        self._dpart = np.zeros((NGROUPS, tally.ncombos, 2), np.int64)
        import numba

        self._hpart = np.zeros((numba.config.NUMBA_NUM_THREADS, tally.ncombos, NBINS), np.int32)  # one per thread id
        # tier of each combination, for the tier counts of each cell
        self._combo_tier = np.repeat(np.arange(tally.T), tally.R * tally.G)
        self._combo_index = np.arange(tally.ncombos)

    def record_network(self, d: int, assortativity: bool = True) -> None:
        """Friends per person (all, blacklisted) by cell, and the network's score and tier assortativity."""
        sim = self.sim
        st = sim.state
        t = sim.counters
        pers = sim.pop.persons
        net = sim.pop.network
        sums = np.zeros((t.ncombos, 2), np.int64)
        degree_kernel(st.degree, st.tier, st.black_since, pers.region, pers.group, t.R, t.G, self._dpart, sums)
        self.network[d, :, :2] = t.cells_f @ sums.astype(np.float64)  # exact: integer sums below 2**53
        if not assortativity:
            return
        self.network[d, 0, 2] = score_assortativity(net.indptr, net.indices, st.score)
        self.network[d, 0, 3] = tier_assortativity(net.indptr, net.indices, st.tier, t.T)

    def record_day(self) -> None:
        sim = self.sim
        st = sim.state
        d = st.day
        t = sim.counters
        pers = sim.pop.persons
        known = sim.handoffs.score_range  # kept by the score step on days it updates only some persons
        lo, hi = minmax_kernel(st.score) if known is None else known
        sim.handoffs.score_range = (lo, hi)
        width = (hi - lo) / NBINS if hi > lo else 0.0
        K = t.ncombos
        out = np.zeros((K, len(STATE_MEASURES)), np.float64)
        hist = np.zeros((K, NBINS), np.int64)
        last = d == self.network.shape[0] - 1
        network_day = d % NETWORK_EVERY == 0 or last
        aggregate_kernel(
            st.score, st.tier, st.black_since, st.black_since_cf, st.red_since, st.income, st.risk,
            pers.region, pers.group, t.R, t.G, float(lo), float(width), self._part, self._hpart, out, hist,
        )  # fmt: skip
        self.state[d] = t.cells_f @ out
        by_tier = np.zeros((K, t.T), np.int64)
        by_tier[self._combo_index, self._combo_tier] = out[:, 0]  # persons per combination (whole numbers)
        t.expand(by_tier, out=self.tiers[d])
        hist_cells = t.expand(hist).astype(np.float64)  # integer sums: exact
        q = quantiles_from_hist(hist_cells, float(lo), float(width) if width > 0 else 0.0, self.QUANTILES)
        if width == 0:
            q[:] = lo
            q[hist_cells.sum(axis=1) == 0] = np.nan
        self.quant[d] = q
        self.gini[d] = gini_from_hist(hist_cells, float(lo), float(width)) if width > 0 else np.where(hist_cells.sum(axis=1) > 0, 0.0, np.nan)
        t.expand(t.counts, out=self.events[d])
        t.expand(t.bcounts, out=self.beh[d])
        t.expand(t.scounts, out=self.svc[d])
        if network_day:
            # assortativity costs a pass over all ties: on a fixed network, only on the first and last day
            self.record_network(d, assortativity=sim.plan.ties_change or d == 0 or last)
        self.days_done = d + 1


def run(sim: Sim) -> None:
    sim.daily.record_day()
