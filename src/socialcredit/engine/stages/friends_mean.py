"""The friends' mean: each person's mean of their friends' scores, for the social term of the score.

It is recomputed on every social update (``score.social.period`` days) and
is the costliest pass of the score stage: a gather over every tie. On a
small-world network most ties join persons whose indices are close (their
scores share cache lines), but the rewired ties (10 % in the reference
model) point at random persons of the region, and at 10 million persons
those reads are cache misses bounded by memory latency (0.9 s an update).

So on a network that does not change during the run, the far ties (friend
more than ``NEAR`` places away) are indexed once at setup in the order of
the friend. On each update their values are first read in that order (the
reads stream through the score array) into a buffer in tie order, then each
row is summed in its usual order, taking far values from the buffer. The
sums are the same numbers added in the same order, so the results are
identical to the direct gather; at 10M persons an update takes 0.42 s
instead of 0.87 s. The buffer holds each far tie's factual and counterfactual
values side by side (one cache line written a tie instead of two: filling it
took 76-84 ms at 10M persons with two arrays, 51-65 ms with pairs). Below ``MIN_PERSONS`` the scores fit in the cache and
the index does not pay. The index costs 16 bytes per far tie, so it is used only
when at most a quarter of the ties are far (not on, e.g., a random network
read from an edge list). When ties can be dropped during the run
(unfriending, shaming), the direct gather, which skips empty slots, is used.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np
from numba import prange

from socialcredit.engine.layout import CHUNK, U1
from socialcredit.parallel import day_kernel, sized_kernel

if TYPE_CHECKING:
    from socialcredit.engine.sim import Sim

NEAR = 64  # a friend at most this many places away is read directly
MIN_PERSONS = 3_000_000  # below this the scores fit in the cache and the direct gather is as fast (1M: 30-42 ms both ways)
MAX_FAR_SHARE = 0.25  # above this share of far ties, the index would cost more memory than it saves time
BUCKET = 4096  # far ties are ordered by friend in blocks of this many persons (16 kB of scores)


@dataclass
class FarTies:
    """The far ties of a fixed network, ordered by friend, and a buffer for their values."""

    friend: np.ndarray  # int32 (m,) the friend of each far tie, in friend-block order
    rank: np.ndarray  # int32 (m,) the tie's position among far ties in tie order
    chunk_start: np.ndarray  # int64 (chunks + 1,) far ties before each chunk of CHUNK rows
    value: np.ndarray  # (m, 2) the friend's factual and counterfactual values, in tie order (float32 scores, or float64
    # clipped points): a pair shares a cache line, so filling the buffer in friend order touches one line a tie, not two


@sized_kernel(cache=True)
def _count_far(indptr: np.ndarray, indices: np.ndarray, near: int, per_chunk: np.ndarray) -> None:
    n = indptr.shape[0] - 1
    for c in prange(per_chunk.shape[0]):
        m = 0
        for i in range(c * CHUNK, min(n, (c + 1) * CHUNK)):
            for k in range(indptr[i], indptr[i + 1]):
                if abs(indices[k] - i) > near:
                    m += 1
        per_chunk[c] = m


PARTS = 16  # fixed row ranges for building the index in parallel (the index does not depend on it)


@sized_kernel(cache=True)
def _order_far(indptr: np.ndarray, indices: np.ndarray, near: int, m: int, bucket: int) -> tuple[np.ndarray, np.ndarray]:
    """Far ties by friend block, and in tie order within a block (a counting sort over PARTS row ranges).

    Each range counts its far ties per block, then fills its own slots of each
    block; ranges are in row order, so the result is the serial sort's.
    """
    n = indptr.shape[0] - 1
    nb = n // bucket + 1
    step = (n + PARTS - 1) // PARTS
    count = np.zeros((PARTS, nb), np.int64)
    for p in prange(PARTS):
        for i in range(p * step, min(n, (p + 1) * step)):
            for k in range(indptr[i], indptr[i + 1]):
                j = indices[k]
                if abs(j - i) > near:
                    count[p, j // bucket] += 1
    start = np.empty((PARTS, nb), np.int64)  # first slot of (range, block): blocks in order, ranges within
    first_rank = np.zeros(PARTS + 1, np.int64)  # far ties before each range, in tie order
    pos = 0
    for b in range(nb):
        for p in range(PARTS):
            start[p, b] = pos
            pos += count[p, b]
    for p in range(PARTS):
        first_rank[p + 1] = first_rank[p] + count[p].sum()
    friend = np.empty(m, np.int32)
    rank = np.empty(m, np.int32)
    for p in prange(PARTS):
        r = first_rank[p]
        at = start[p]
        for i in range(p * step, min(n, (p + 1) * step)):
            for k in range(indptr[i], indptr[i + 1]):
                j = indices[k]
                if abs(j - i) > near:
                    q = at[j // bucket]
                    at[j // bucket] += 1
                    friend[q] = j
                    rank[q] = r
                    r += 1
    return friend, rank


def index_far_ties(indptr: np.ndarray, indices: np.ndarray, composite: bool = True) -> FarTies | None:
    """Index the far ties of a fixed network, or None when too many ties are far for it to pay.

    The buffer holds friends' composite scores as they are stored (float32), or
    own scores clipped from points as the direct gather computes them (float64),
    so that every value summed is the same number.
    """
    n = indptr.shape[0] - 1
    if n == 0 or indices.shape[0] >= 2**31:
        return None
    per_chunk = np.zeros((n + CHUNK - 1) // CHUNK, np.int64)
    _count_far(indptr, indices, NEAR, per_chunk)
    m = int(per_chunk.sum())
    if m > MAX_FAR_SHARE * indices.shape[0]:
        return None
    friend, rank = _order_far(indptr, indices, NEAR, m, BUCKET)
    chunk_start = np.concatenate(([0], np.cumsum(per_chunk))).astype(np.int64)
    dtype = np.float32 if composite else np.float64
    return FarTies(friend, rank, chunk_start, np.empty((m, 2), dtype))


@day_kernel(cache=True)
def _read_far(friend, rank, score, score_cf, points, points_cf, composite, initial, lo, hi, value) -> None:
    m = friend.shape[0]
    for c in prange((m + CHUNK - 1) // CHUNK):
        for p in range(np.uint64(c * CHUNK), np.uint64(min(m, (c + 1) * CHUNK))):  # unsigned: no index wrap
            j = np.uint64(friend[p])
            r = np.uint64(rank[p])
            if composite:
                value[r, 0] = score[j]
                value[r, 1] = score_cf[j]
            else:
                value[r, 0] = min(max(initial + points[j], lo), hi)
                value[r, 1] = min(max(initial + points_cf[j], lo), hi)


@day_kernel(cache=True)
def _mean_with_far(
    indptr, indices, score, score_cf, points, points_cf, composite, initial, lo, hi, value, chunk_start, near, fm, fm_cf
) -> None:  # fmt: skip
    """Each person's mean of their friends' values (NaN without friends), a row at a time in tie order.

    Ties to friends more than ``near`` places away take their value from the
    far-ties buffer (filled by :func:`_read_far`), the others are read
    directly; with ``near`` at least the population size every tie is read
    directly. Summed in order without ``fastmath``: its vectorised gathers
    were slower on rows of ~20 ties (1M persons: 20-25 ms against 28-47 ms),
    and a row's float32 scores add exactly in float64 (scores of at least
    2**-14 or zero, sums below 2**16), so any order gives the same mean.
    Empty slots (-1: ties dropped during the run) are skipped;
    checking for them costs nothing measurable (at 1M persons and 20M ties
    21-34 ms against 25-33 ms without the check, identical results).
    """
    n = fm.shape[0]
    for c in prange((n + CHUNK - 1) // CHUNK):
        q = np.uint64(chunk_start[c] if chunk_start.shape[0] > 0 else 0)
        for i in range(c * CHUNK, min(n, (c + 1) * CHUNK)):
            ui = np.uint64(i)  # unsigned indices: no negative-index wrap (layout.py)
            s = 0.0
            s_cf = 0.0
            cnt = 0
            for k in range(np.uint64(indptr[ui]), np.uint64(indptr[ui + U1])):
                j = indices[k]
                if j < 0:
                    continue
                uj = np.uint64(j)
                cnt += 1
                if abs(j - i) > near:
                    s += value[q, 0]
                    s_cf += value[q, 1]
                    q += U1
                elif composite:
                    s += score[uj]
                    s_cf += score_cf[uj]
                else:
                    s += min(max(initial + points[uj], lo), hi)
                    s_cf += min(max(initial + points_cf[uj], lo), hi)
            if cnt == 0:
                fm[ui] = np.nan
                fm_cf[ui] = np.nan
            else:
                inv = 1.0 / cnt
                fm[ui] = s * inv
                fm_cf[ui] = s_cf * inv


@day_kernel(cache=True)
def _mean_direct(indptr, indices, score, score_cf, fm, fm_cf) -> None:
    """:func:`_mean_with_far` for composite scores read directly: the same sums in the same order, without the
    branches for far ties and clipped points in the inner loop (about a fifth faster at 1M persons)."""
    n = fm.shape[0]
    for c in prange((n + CHUNK - 1) // CHUNK):
        for i in range(np.uint64(c * CHUNK), np.uint64(min(n, (c + 1) * CHUNK))):
            s = 0.0
            s_cf = 0.0
            cnt = 0
            for k in range(np.uint64(indptr[i]), np.uint64(indptr[i + U1])):
                j = indices[k]
                if j >= 0:
                    cnt += 1
                    s += score[np.uint64(j)]
                    s_cf += score_cf[np.uint64(j)]
            if cnt == 0:
                fm[i] = np.nan
                fm_cf[i] = np.nan
            else:
                inv = 1.0 / cnt
                fm[i] = s * inv
                fm_cf[i] = s_cf * inv


def friends_mean_kernel(
    indptr: np.ndarray,
    indices: np.ndarray,
    score: np.ndarray,
    score_cf: np.ndarray,
    points: np.ndarray,
    points_cf: np.ndarray,
    composite: bool,
    initial: float,
    lo: float,
    hi: float,
    fm: np.ndarray,
    fm_cf: np.ndarray,
) -> None:
    """The friends' mean read directly, every tie (any network, including one whose ties change)."""
    if composite:
        _mean_direct(indptr, indices, score, score_cf, fm, fm_cf)
        return
    none = np.zeros((0, 2), np.float64)
    _mean_with_far(
        indptr, indices, score, score_cf, points, points_cf, composite, initial, lo, hi,
        none, np.zeros(0, np.int64), fm.shape[0], fm, fm_cf,
    )  # fmt: skip


def update_mean(sim: Sim) -> None:
    """Recompute ``friends_mean`` (and its counterfactual twin) from the scores as they stand."""
    st = sim.state
    plan = sim.plan
    net = sim.pop.network
    args = (st.score, st.score_cf, st.points, st.points_cf, plan.score.composite, plan.score.initial, plan.score.lo, plan.score.hi)
    far = sim.far_ties
    if far is None:
        friends_mean_kernel(net.indptr, net.indices, *args, st.friends_mean, st.friends_mean_cf)
        return
    _read_far(far.friend, far.rank, *args, far.value)
    _mean_with_far(net.indptr, net.indices, *args, far.value, far.chunk_start, NEAR, st.friends_mean, st.friends_mean_cf)
