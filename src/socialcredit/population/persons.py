"""Persons as a struct of arrays: region, group, income, partner, employer, propensities.

Persons are numbered region-major: region r holds the contiguous block
``region_offsets[r]:region_offsets[r+1]``. Every attribute is drawn from the
counter-based RNG keyed by the person's final index, so a person's attributes
do not depend on thread count or on how the network was generated.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from numba import njit, prange

from socialcredit import rng
from socialcredit.parallel import persons, sized_kernel
from socialcredit.rng import STREAMS
from socialcredit.rulebook.feasibility import (  # noqa: F401 - used here and by companies
    block_sizes,
    offsets_from_sizes,
    region_blocks,
)

CHUNK = 16384


@sized_kernel(size=lambda seed, stream, step, n, cum: persons(n), cache=True)
def _categorical(seed: int, stream: int, step: int, n: int, cum: np.ndarray) -> np.ndarray:
    """Per-person category index from cumulative shares (one counter draw each)."""
    k = rng.make_key(seed, stream, step, 0)
    out = np.empty(n, np.uint8)
    nchunks = (n + CHUNK - 1) // CHUNK
    for c in prange(nchunks):
        for i in range(c * CHUNK, min(n, (c + 1) * CHUNK)):
            u = rng.uniform(k, i)
            g = 0
            while g < cum.shape[0] - 1 and u >= cum[g]:
                g += 1
            out[i] = g
    return out


@sized_kernel(size=lambda seed, stream, offsets, medians, sigmas: persons(offsets[-1]), cache=True)
def _lognormal_income(seed: int, stream: int, region_offsets: np.ndarray, medians: np.ndarray, sigmas: np.ndarray) -> np.ndarray:
    n = region_offsets[-1]
    k = rng.make_key(seed, stream, 1, 0)
    out = np.empty(n, np.float32)
    for r in range(region_offsets.shape[0] - 1):
        lo = region_offsets[r]
        hi = region_offsets[r + 1]
        med = medians[r]
        sig = sigmas[r]
        nchunks = (hi - lo + CHUNK - 1) // CHUNK
        for c in prange(nchunks):
            for i in range(lo + c * CHUNK, min(hi, lo + (c + 1) * CHUNK)):
                out[i] = med * np.exp(sig * rng.normal(k, i))
    return out


@sized_kernel(size=lambda seed, stream, n, sigmas: persons(n), cache=True)
def _heterogeneity(seed: int, stream: int, n: int, sigmas: np.ndarray) -> np.ndarray:
    """Lognormal multipliers with mean 1: exp(sigma z - sigma^2 / 2), one column per behaviour.

    Filled row by row (a person's multipliers are contiguous), which at 10M
    persons is several times faster than column by column; the draws are the same.
    """
    nb = sigmas.shape[0]
    out = np.empty((n, nb), np.float32)
    keys = np.empty(nb, np.uint64)
    for b in range(nb):
        keys[b] = rng.make_key(seed, stream, 0, b)
    nchunks = (n + CHUNK - 1) // CHUNK
    for c in prange(nchunks):
        for i in range(c * CHUNK, min(n, (c + 1) * CHUNK)):
            for b in range(nb):
                s = sigmas[b]
                if s == 0.0:
                    out[i, b] = 1.0
                else:
                    shift = -0.5 * s * s
                    out[i, b] = np.exp(s * rng.normal(keys[b], i) + shift)
    return out


@njit(cache=True)
def _pair_partners(seed: int, stream: int, region_offsets: np.ndarray, share: float) -> np.ndarray:
    """Pair a share of persons within their region: candidates in hashed order, paired two by two."""
    n = region_offsets[-1]
    partner = np.full(n, -1, np.int32)
    kc = rng.make_key(seed, stream, 2, 0)
    ko = rng.make_key(seed, stream, 3, 0)
    for r in range(region_offsets.shape[0] - 1):
        lo = region_offsets[r]
        hi = region_offsets[r + 1]
        cand = np.empty(hi - lo, np.int64)
        m = 0
        for i in range(lo, hi):
            if rng.uniform(kc, i) < share:
                cand[m] = i
                m += 1
        cand = cand[:m]
        keys = np.empty(m, np.uint64)
        for j in range(m):
            keys[j] = rng.bits(ko, cand[j])
        order = np.argsort(keys)
        for j in range(0, m - 1, 2):
            a = cand[order[j]]
            b = cand[order[j + 1]]
            partner[a] = b
            partner[b] = a
    return partner


@njit(cache=True)
def _children(seed: int, stream: int, partner: np.ndarray, share: float, mean: float) -> np.ndarray:
    """Children per household, on its guardian (the partner with the lower number, or the single person): with
    probability ``share`` the household has 1 + Poisson(mean - 1) children (capped at 20), else none."""
    n = partner.shape[0]
    out = np.zeros(n, np.uint8)
    kh = rng.make_key(seed, stream, 4, 0)
    kc = rng.make_key(seed, stream, 5, 0)
    for i in range(n):
        j = partner[i]
        if j >= 0 and j < i:  # the household's guardian is its partner
            continue
        if rng.uniform(kh, i) < share:
            out[i] = min(20, 1 + rng.poisson(kc, i, mean - 1.0))
    return out


@dataclass
class Persons:
    """Per-person attributes that are fixed at setup (income changes during a run)."""

    region_offsets: np.ndarray  # int64, R+1
    region: np.ndarray  # uint8
    group: np.ndarray  # uint8
    income: np.ndarray  # float32, yearly
    partner: np.ndarray  # int32, -1 for none
    employer: np.ndarray  # int32, -1 for none
    het: np.ndarray  # float32 (N, B) propensity multipliers, mean 1
    children: np.ndarray  # uint8: children in the household this person is the guardian of (0 for everyone else)
    partner_since: np.ndarray | None = None  # int32: day the partnership formed (-1: from the start, or none)

    def __post_init__(self) -> None:
        if self.partner_since is None:
            self.partner_since = np.full(self.region.shape[0], -1, np.int32)

    @property
    def n(self) -> int:
        return int(self.region.shape[0])

    def nbytes(self) -> int:
        return sum(a.nbytes for a in (self.region, self.group, self.income, self.partner, self.employer, self.het, self.children))


def region_index(region_offsets: np.ndarray) -> np.ndarray:
    n = int(region_offsets[-1])
    out = np.empty(n, np.uint8)
    for r in range(len(region_offsets) - 1):
        out[region_offsets[r] : region_offsets[r + 1]] = r
    return out


def build_persons(
    seed: int,
    region_offsets: np.ndarray,
    group_shares: list[float],
    income_medians: list[float],
    income_sigmas: list[float],
    partner_share: float,
    het_sigmas: list[float],
    children: tuple[float, float] | None = None,
) -> Persons:
    """Draw every per-person attribute from the counter RNG (keyed by final person index)."""
    n = int(region_offsets[-1])
    cum = np.cumsum(np.asarray(group_shares, dtype=np.float64))
    cum[-1] = 1.0 + 1e-12
    group = _categorical(seed, STREAMS["population"], 0, n, cum)
    income = _lognormal_income(
        seed,
        STREAMS["population"],
        region_offsets,
        np.asarray(income_medians, dtype=np.float64),
        np.asarray(income_sigmas, dtype=np.float64),
    )
    partner = (
        _pair_partners(seed, STREAMS["partner"], region_offsets, float(partner_share))
        if partner_share > 0
        else np.full(n, -1, np.int32)
    )
    het = _heterogeneity(seed, STREAMS["heterogeneity"], n, np.asarray(het_sigmas, dtype=np.float64))
    kids = (
        _children(seed, STREAMS["population"], partner, float(children[0]), float(children[1]))
        if children is not None and children[0] > 0
        else np.zeros(n, np.uint8)
    )
    return Persons(
        region_offsets=region_offsets,
        region=region_index(region_offsets),
        group=group,
        income=income,
        partner=partner,
        employer=np.full(n, -1, np.int32),
        het=het,
        children=kids,
    )
