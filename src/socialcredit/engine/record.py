"""Stage 8, record: the day's aggregates, overall and by region, group and tier.

State measures (persons, mean score, score quantiles, tier shares, list sizes,
wrongly blacklisted persons, mean income and perceived risk) come from one
parallel pass with fixed chunks, summed in chunk order so the result does
not depend on the thread count. Score quantiles come from a 512-bin
histogram between the day's lowest and highest score (resolution: the range
divided by 512).
"""

from __future__ import annotations

import numpy as np
from numba import njit, prange

from socialcredit.engine.behave import CHUNK

STATE_MEASURES = [
    "persons",
    "score_sum",
    "score_sq",
    "blacklisted",
    "redlisted",
    "blacklisted_wrongly",
    "blacklisted_cf",
    "income_sum",
    "risk_sum",
]
NBINS = 512


@njit(parallel=True, cache=True)
def minmax_kernel(score: np.ndarray) -> tuple[float, float]:
    n = score.shape[0]
    nchunks = (n + CHUNK - 1) // CHUNK
    mins = np.empty(nchunks, np.float64)
    maxs = np.empty(nchunks, np.float64)
    for c in prange(nchunks):
        lo = np.inf
        hi = -np.inf
        for i in range(c * CHUNK, min(n, (c + 1) * CHUNK)):
            s = score[i]
            lo = min(lo, s)
            hi = max(hi, s)
        mins[c] = lo
        maxs[c] = hi
    return mins.min(), maxs.max()


NGROUPS = 32  # fixed partition for the reduction: the sums do not depend on the thread count


@njit(parallel=True, cache=True)
def aggregate_kernel(
    score, tier, black_since, black_since_cf, red_since, income, risk, region, group, R, G, T, lo, width,
    part, tpart, hpart, out, tiers_out, hist,
) -> None:  # fmt: skip
    n = score.shape[0]
    ncells = 1 + R + G + T
    nm = out.shape[1]
    nh = hist.shape[0]
    nb = hist.shape[1]
    part[:] = 0.0
    tpart[:] = 0
    hpart[:] = 0
    step = (n + NGROUPS - 1) // NGROUPS
    for c in prange(NGROUPS):
        for i in range(c * step, min(n, (c + 1) * step)):
            s = float(score[i])
            t = tier[i]
            bl = 1.0 if black_since[i] >= 0 else 0.0
            blcf = 1.0 if black_since_cf[i] >= 0 else 0.0
            rl = 1.0 if red_since[i] >= 0 else 0.0
            inc = float(income[i])
            rk = float(risk[i])
            cells = (0, 1 + region[i], 1 + R + group[i], 1 + R + G + t)
            k = int((s - lo) / width) if width > 0 else 0
            if k >= nb:
                k = nb - 1
            if k < 0:
                k = 0
            for j in range(4):
                cc = cells[j]
                part[c, cc, 0] += 1.0
                part[c, cc, 1] += s
                part[c, cc, 2] += s * s
                part[c, cc, 3] += bl
                part[c, cc, 4] += rl
                part[c, cc, 5] += bl * (1.0 - blcf)
                part[c, cc, 6] += blcf
                part[c, cc, 7] += inc
                part[c, cc, 8] += rk
                tpart[c, cc, t] += 1
                hpart[c, cc, k] += 1
    for c in range(NGROUPS):  # fixed order
        for cc in range(ncells):
            for m in range(nm):
                out[cc, m] += part[c, cc, m]
            for t in range(T):
                tiers_out[cc, t] += tpart[c, cc, t]
        for h in range(nh):
            for b in range(nb):
                hist[h, b] += hpart[c, h, b]


def quantiles_from_hist(hist: np.ndarray, lo: float, width: float, qs: tuple[float, ...]) -> np.ndarray:
    """Quantiles per histogram row (linear within the bin)."""
    out = np.full((hist.shape[0], len(qs)), np.nan)
    for h in range(hist.shape[0]):
        row = hist[h]
        total = row.sum()
        if total == 0:
            continue
        cum = np.cumsum(row)
        for j, q in enumerate(qs):
            target = q * total
            k = int(np.searchsorted(cum, target, side="left"))
            k = min(k, len(row) - 1)
            before = cum[k - 1] if k > 0 else 0
            frac = (target - before) / row[k] if row[k] > 0 else 0.5
            out[h, j] = lo + (k + min(max(frac, 0.0), 1.0)) * width
    return out


class Recorder:
    """Holds the daily aggregates of a run as arrays (day x cell x measure)."""

    QUANTILES = (0.1, 0.5, 0.9)

    def __init__(self, sim) -> None:
        tally = sim.tally
        self.sim = sim
        days = sim.plan.days
        self.ncells = tally.ncells
        self.state = np.zeros((days, tally.ncells, len(STATE_MEASURES)), np.float64)
        self.tiers = np.zeros((days, tally.ncells, tally.T), np.int64)
        self.quant = np.full((days, tally.ncells, len(self.QUANTILES)), np.nan)
        self.events = np.zeros((days, tally.ncells, tally.counts.shape[1]), np.int64)
        self.beh = np.zeros((days,) + tally.bcounts.shape, np.int64)
        self.svc = np.zeros((days,) + tally.scounts.shape, np.int64)
        self.days_done = 0
        nm = len(STATE_MEASURES)
        self._part = np.zeros((NGROUPS, tally.ncells, nm), np.float64)
        self._tpart = np.zeros((NGROUPS, tally.ncells, tally.T), np.int64)
        self._hpart = np.zeros((NGROUPS, tally.ncells, NBINS), np.int32)

    def record_day(self) -> None:
        sim = self.sim
        st = sim.state
        d = st.day
        t = sim.tally
        pers = sim.pop.persons
        lo, hi = minmax_kernel(st.score)
        width = (hi - lo) / NBINS if hi > lo else 0.0
        out = np.zeros((t.ncells, len(STATE_MEASURES)), np.float64)
        tiers = np.zeros((t.ncells, t.T), np.int64)
        hist = np.zeros((t.ncells, NBINS), np.int64)
        aggregate_kernel(
            st.score, st.tier, st.black_since, st.black_since_cf, st.red_since, st.income, st.risk,
            pers.region, pers.group, t.R, t.G, t.T, float(lo), float(width),
            self._part, self._tpart, self._hpart, out, tiers, hist,
        )  # fmt: skip
        self.state[d] = out
        self.tiers[d] = tiers
        q = quantiles_from_hist(hist, float(lo), float(width) if width > 0 else 0.0, self.QUANTILES)
        if width == 0:
            q[:] = lo
            q[hist.sum(axis=1) == 0] = np.nan
        self.quant[d, : hist.shape[0]] = q
        self.events[d] = t.counts
        self.beh[d] = t.bcounts
        self.svc[d] = t.scounts
        self.days_done = d + 1


def run(sim) -> None:
    sim.recorder.record_day()
