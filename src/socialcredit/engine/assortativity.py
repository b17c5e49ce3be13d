"""Assortativity of the friendship network: do friends share a score, or a tier?

Used by the daily aggregates (every 30 days and the last day) and by
:mod:`socialcredit.analysis.segregation`. The network is CSR with ``-1`` for
an empty slot; each non-empty slot (i, j) is one directed tie.

Measures. ``score_assortativity`` is the Pearson correlation of
``(score[i], score[j])`` over all non-empty slots (i, j):

    r = sum (x - mx)(y - my) / sqrt(sum (x - mx)^2 * sum (y - my)^2);

``tier_assortativity`` is Newman's categorical coefficient with the mixing
matrix ``e[a, b]`` = share of slots from tier a to tier b, ``a_t = sum_b e[t, b]``,
``b_t = sum_a e[a, t]``:

    r = (tr e - sum_t a_t b_t) / (1 - sum_t a_t b_t).

On a symmetric network they equal networkx's ``numeric_assortativity_coefficient``
and ``attribute_assortativity_coefficient``. Sums go through NGROUPS fixed groups
of rows added in a fixed order, so they do not depend on the thread count.
"""

from __future__ import annotations

import numpy as np
from numba import prange

from socialcredit.engine.layout import NGROUPS, U1
from socialcredit.parallel import sized_kernel


@sized_kernel(cache=True, fastmath=False)
def _score_sums(indptr: np.ndarray, indices: np.ndarray, score: np.ndarray, shift: float, part: np.ndarray) -> None:
    """Per fixed group of rows: slots, sum dx, sum dy, sum dx^2, sum dy^2, sum dx dy (d = minus ``shift``).

    Per row, the friends' sums are taken first and the row's own score enters
    once per row (``k * dx``), so each tie costs two additions.
    """
    n = indptr.shape[0] - 1
    step = (n + NGROUPS - 1) // NGROUPS
    for c in prange(NGROUPS):
        cnt = 0.0
        sx = 0.0
        sy = 0.0
        sxx = 0.0
        syy = 0.0
        sxy = 0.0
        for i in range(np.uint64(c * step), np.uint64(min(n, (c + 1) * step))):  # unsigned: no index wrap (layout.py)
            dx = np.float64(score[i]) - shift
            k = 0
            ry = 0.0
            ryy = 0.0
            for q in range(np.uint64(indptr[i]), np.uint64(indptr[i + U1])):
                j = indices[q]
                if j < 0:
                    continue
                dy = np.float64(score[np.uint64(j)]) - shift
                k += 1
                ry += dy
                ryy += dy * dy
            cnt += k
            sx += k * dx
            sy += ry
            sxx += k * dx * dx
            syy += ryy
            sxy += dx * ry
        part[c, 0] = cnt
        part[c, 1] = sx
        part[c, 2] = sy
        part[c, 3] = sxx
        part[c, 4] = syy
        part[c, 5] = sxy


def score_assortativity(indptr: np.ndarray, indices: np.ndarray, score: np.ndarray) -> float:
    """Pearson correlation of the scores at both ends of every non-empty slot (nan if undefined).

    One pass in float64 over fixed row groups, on scores shifted by their mean
    over persons (close to the mean over slots, so the centred sums below do
    not cancel).
    """
    if score.shape[0] == 0:
        return float("nan")
    part = np.zeros((NGROUPS, 6), np.float64)
    _score_sums(indptr, indices, score, float(np.mean(score, dtype=np.float64)), part)
    tot = np.zeros(6, np.float64)
    for c in range(NGROUPS):  # fixed order
        tot += part[c]
    m = tot[0]
    if m < 2:
        return float("nan")
    vx = tot[3] - tot[1] * tot[1] / m
    vy = tot[4] - tot[2] * tot[2] / m
    cov = tot[5] - tot[1] * tot[2] / m
    den = vx * vy
    if not den > 0.0:
        return float("nan")
    return float(cov / np.sqrt(den))


@sized_kernel(cache=True)
def _tier_mixing(indptr: np.ndarray, indices: np.ndarray, tier: np.ndarray, part: np.ndarray) -> None:
    """Per fixed group of rows, slot counts by (tier of row, tier of friend)."""
    n = indptr.shape[0] - 1
    step = (n + NGROUPS - 1) // NGROUPS
    for c in prange(NGROUPS):
        for i in range(np.uint64(c * step), np.uint64(min(n, (c + 1) * step))):  # unsigned: no index wrap (layout.py)
            a = tier[i]
            for k in range(np.uint64(indptr[i]), np.uint64(indptr[i + U1])):
                j = indices[k]
                if j >= 0:
                    part[c, a, tier[np.uint64(j)]] += 1


def tier_assortativity(indptr: np.ndarray, indices: np.ndarray, tier: np.ndarray, n_tiers: int) -> float:
    """Newman's categorical assortativity of tiers over non-empty slots (nan if undefined).

    Counts are integers, so the mixing matrix is exact for any thread count.
    """
    part = np.zeros((NGROUPS, int(n_tiers), int(n_tiers)), np.int64)
    _tier_mixing(indptr, indices, tier, part)
    counts = part.sum(axis=0)
    total = int(counts.sum())
    if total < 2:
        return float("nan")
    e = counts.astype(np.float64) / total
    ab = float(np.sum(e.sum(axis=1) * e.sum(axis=0)))
    if not 1.0 - ab > 0.0:
        return float("nan")
    return float((np.trace(e) - ab) / (1.0 - ab))
