"""Companies as a struct of arrays: region, size, legal representative; and who works where.

Companies are placed in regions in proportion to the regions' shares; each
employed person works for a company of their own region chosen with
probability proportional to a heavy-tailed company weight (a few large
employers, many small ones). A company's legal representative is one of its
employees (the first in person order), or -1 if it has none.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from numba import njit

from socialcredit import rng
from socialcredit.rng import STREAMS
from socialcredit.population.persons import block_sizes, offsets_from_sizes


@dataclass
class Companies:
    """Static attributes (region, size, representative) and the company score state.

    The score state has a counterfactual twin (``_cf``) like the persons' one:
    it leaves out false records (coupling records caused by false records).
    """

    region: np.ndarray  # uint8
    size: np.ndarray  # int32, employees
    representative: np.ndarray  # int32 person id, -1 if no employees
    score: np.ndarray  # float32
    score_cf: np.ndarray = None  # type: ignore[assignment]  # float32; set in __post_init__
    points: np.ndarray = None  # type: ignore[assignment]
    points_cf: np.ndarray = None  # type: ignore[assignment]
    tier: np.ndarray = None  # type: ignore[assignment]  # uint8
    black_since: np.ndarray = None  # type: ignore[assignment]  # int32 day listed, -1 if not
    black_since_cf: np.ndarray = None  # type: ignore[assignment]
    revenue: np.ndarray = None  # type: ignore[assignment]  # float32, 1 at the start; company sanctions lower it

    def __post_init__(self) -> None:
        m = self.region.shape[0]
        if self.score_cf is None:
            self.score_cf = self.score.copy()
        for name in ("points", "points_cf"):
            if getattr(self, name) is None:
                setattr(self, name, np.zeros(m, np.float32))
        if self.tier is None:
            self.tier = np.zeros(m, np.uint8)
        for name in ("black_since", "black_since_cf"):
            if getattr(self, name) is None:
                setattr(self, name, np.full(m, -1, np.int32))
        if self.revenue is None:
            self.revenue = np.ones(m, np.float32)

    @property
    def n(self) -> int:
        return int(self.region.shape[0])


@njit(cache=True)
def _assign(seed: int, stream: int, region_offsets: np.ndarray, company_offsets: np.ndarray, employment: float):
    n = region_offsets[-1]
    m = company_offsets[-1]
    employer = np.full(n, -1, np.int32)
    size = np.zeros(m, np.int32)
    rep = np.full(m, -1, np.int32)
    kw = rng.make_key(seed, stream, 0, 0)
    ke = rng.make_key(seed, stream, 1, 0)
    kc = rng.make_key(seed, stream, 2, 0)
    for r in range(region_offsets.shape[0] - 1):
        c0 = company_offsets[r]
        c1 = company_offsets[r + 1]
        if c1 == c0:
            continue
        # Pareto(1.5)-like weights: a few large employers, many small ones.
        cum = np.empty(c1 - c0, np.float64)
        acc = 0.0
        for j in range(c0, c1):
            u = rng.uniform(kw, j)
            acc += (1.0 - u) ** (-1.0 / 1.5)
            cum[j - c0] = acc
        for i in range(region_offsets[r], region_offsets[r + 1]):
            if rng.uniform(ke, i) >= employment:
                continue
            target = rng.uniform(kc, i) * acc
            j = np.searchsorted(cum, target, side="right")
            if j >= c1 - c0:
                j = c1 - c0 - 1
            employer[i] = c0 + j
            size[c0 + j] += 1
            if rep[c0 + j] < 0:
                rep[c0 + j] = i
    return employer, size, rep


def build_companies(
    seed: int, region_offsets: np.ndarray, region_shares: list[float], count: int, employment: float, initial_score: float
) -> tuple[Companies, np.ndarray]:
    """Companies and the employer of each person (-1 for none)."""
    sizes = block_sizes(count, region_shares)
    company_offsets = offsets_from_sizes(sizes)
    region = np.repeat(np.arange(len(sizes), dtype=np.uint8), sizes)
    employer, size, rep = _assign(seed, STREAMS["companies"], region_offsets, company_offsets, float(employment))
    companies = Companies(region=region, size=size, representative=rep, score=np.full(count, initial_score, np.float32))
    return companies, employer
