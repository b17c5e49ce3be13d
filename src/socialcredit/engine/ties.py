"""Ties that change during a run: unfriending, rewiring, shaming, and network measures.

The friendship network is CSR (``indptr`` int64, ``indices`` int32) whose slot
array never grows and whose rows never move. A slot ``indices[k] == -1`` is
empty (a dropped tie). After changes the network may be asymmetric, so a row is
read as "the persons i counts as friends".

Unfriending. Person i drops each friend f in slot k with ``low[f] == 1`` when

    u_drop(k) < p,        u_drop(k) = rng.uniform(key_drop, k),

and the tie goes on both sides (f's slot holding i, if any, is emptied). With
rewiring the slot is refilled: try t = 0..63 draws 64 bits
``h = rng.bits(key_rewire, 64 k + t)``; the high 32 bits pick a candidate j
uniformly in i's region block ``[lo, hi)``, ``j = lo + floor(h_hi * (hi - lo) / 2**32)``,
and the low 32 bits give ``u = h_lo / 2**32``. A droppable person (``low[i] == 1``)
is not rewired: nobody who is not droppable befriends them, and they would
not befriend a droppable person. Candidates equal to i or f, already in i's
row, or low are rejected; otherwise j is accepted when

    u < pref[max(tier[i], tier[j])],        pref[t] = exp(-bias * t)   (tier 0 is best, weight 1),

the product of i's wish for a better tier, ``pref[tier[j]]``, and j's
reluctance to befriend a worse one, ``pref[tier[i] - tier[j]]`` when i is
below j. Among eligible candidates a new friend is in tier t with
probability proportional to ``pref[max(tier_i, t)] * (eligible persons of tier t)``:
persons in the best tier pick better tiers in proportion to ``pref``, persons
in the worst pick any tier alike. This mutual choice is what sorts the
network by score. The tie is mutual
when j has an empty slot (j's first empty slot gets i), else one-sided. After
64 rejected tries the slot stays empty.

Shaming. When s is newly blacklisted, each friend j in slot k of s's row drops
s when ``rng.uniform(key, k) < p``: both sides of the tie are emptied.

Every draw is keyed by a slot index (never a thread id or an iteration
order) and every step that mutates the network is serial, so the results are
identical for any thread count.

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
from numba import njit, prange

from socialcredit.engine import rng
from socialcredit.engine.behave import CHUNK
from socialcredit.engine.record import NGROUPS

REWIRE_TRIES = 64  # rejection tries per rewired slot; try t of slot k uses counter k * REWIRE_TRIES + t
_INV32 = 1.0 / 4294967296.0


def tier_preference(n_tiers: int, bias: float) -> np.ndarray:
    """Acceptance weights ``exp(-bias * t)`` of tiers t = 0..n_tiers-1 (tier 0 weight 1, so max 1 for bias >= 0)."""
    if bias < 0:
        raise ValueError("bias must be >= 0 (weights must not exceed 1)")
    return np.exp(-float(bias) * np.arange(int(n_tiers), dtype=np.float64))


@njit(parallel=True, cache=True)
def droppable_kernel(tier: np.ndarray, black_since: np.ndarray, low_tier: np.ndarray, drop_blacklisted: bool, out: np.ndarray) -> None:
    """``out[i] = 1`` if person i is someone friends drop: in a low tier, or blacklisted (when enabled)."""
    n = out.shape[0]
    nchunks = (n + CHUNK - 1) // CHUNK
    for c in prange(nchunks):
        for i in range(c * CHUNK, min(n, (c + 1) * CHUNK)):
            if low_tier[tier[i]] or (drop_blacklisted and black_since[i] >= 0):
                out[i] = 1
            else:
                out[i] = 0


@njit(parallel=True, cache=True)
def _count_drops(indptr: np.ndarray, indices: np.ndarray, low: np.ndarray, p: float, key_drop: np.uint64, scratch: np.ndarray) -> None:
    """Phase A: per person, the number of slots that would drop (capped at 65535); reads only."""
    n = indptr.shape[0] - 1
    nchunks = (n + CHUNK - 1) // CHUNK
    for c in prange(nchunks):
        for i in range(c * CHUNK, min(n, (c + 1) * CHUNK)):
            cnt = 0
            for k in range(indptr[i], indptr[i + 1]):
                f = indices[k]
                if f >= 0 and low[f] == 1 and rng.uniform(key_drop, k) < p:
                    cnt += 1
            scratch[i] = min(cnt, 65535)


@njit(inline="always", cache=True)
def _clear(indptr: np.ndarray, indices: np.ndarray, row: int, who: int) -> None:
    """Empty the first slot of ``row`` that holds ``who`` (if any)."""
    for k in range(indptr[row], indptr[row + 1]):
        if indices[k] == who:
            indices[k] = -1
            return


@njit(inline="always", cache=True)
def _in_row(indptr: np.ndarray, indices: np.ndarray, row: int, who: int) -> bool:
    for k in range(indptr[row], indptr[row + 1]):
        if indices[k] == who:
            return True
    return False


@njit(cache=True)
def _pick_friend(
    indptr: np.ndarray, indices: np.ndarray, i: int, f: int, k: int, lo: int, hi: int,
    low: np.ndarray, tier: np.ndarray, pref: np.ndarray, key_rewire: np.uint64,
) -> int:  # fmt: skip
    """A new friend for slot k of row i, or -1 after REWIRE_TRIES rejections (see the module docstring)."""
    size = hi - lo
    if size <= 1 or low[i] == 1:  # nobody who is not droppable befriends a droppable person
        return -1
    ti = tier[i]
    for t in range(REWIRE_TRIES):
        h = rng.bits(key_rewire, k * REWIRE_TRIES + t)
        j = lo + int(((h >> np.uint64(32)) * np.uint64(size)) >> np.uint64(32))
        if j == i or j == f or low[j] == 1:
            continue
        if _in_row(indptr, indices, i, j):
            continue
        u = float(np.int64(h & np.uint64(0xFFFFFFFF))) * _INV32
        if u < pref[max(ti, tier[j])]:  # i's wish for a better tier, j's reluctance to befriend a worse one
            return j
    return -1


@njit(cache=True)
def _apply_drops(
    indptr: np.ndarray, indices: np.ndarray, low: np.ndarray, region: np.ndarray, region_offsets: np.ndarray,
    tier: np.ndarray, pref: np.ndarray, p: float, rewire: bool, key_drop: np.uint64, key_rewire: np.uint64,
    scratch: np.ndarray,
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:  # fmt: skip
    """Phase B (serial, ascending persons): drop, clear the other side, rewire; reset ``scratch``."""
    n = indptr.shape[0] - 1
    bound = 0  # each slot of a processed row yields at most one event
    for i in range(n):
        if scratch[i] > 0:
            bound += indptr[i + 1] - indptr[i]
    dropper = np.empty(bound, np.int32)
    dropped = np.empty(bound, np.int32)
    new_friend = np.empty(bound, np.int32)
    m = 0
    for i in range(n):
        if scratch[i] == 0:
            continue
        scratch[i] = 0
        r = region[i]
        lo = region_offsets[r]
        hi = region_offsets[r + 1]
        for k in range(indptr[i], indptr[i + 1]):
            f = indices[k]
            if f < 0 or low[f] != 1 or rng.uniform(key_drop, k) >= p:
                continue
            _clear(indptr, indices, f, i)
            j = -1
            if rewire:
                j = _pick_friend(indptr, indices, i, f, k, lo, hi, low, tier, pref, key_rewire)
            indices[k] = j
            if j >= 0 and not _in_row(indptr, indices, j, i):
                for q in range(indptr[j], indptr[j + 1]):
                    if indices[q] == -1:
                        indices[q] = i  # mutual when j has room, else one-sided
                        break
            dropper[m] = i
            dropped[m] = f
            new_friend[m] = j
            m += 1
    return dropper[:m], dropped[:m], new_friend[:m]


def unfriend(
    indptr: np.ndarray,
    indices: np.ndarray,
    low: np.ndarray,
    region: np.ndarray,
    region_offsets: np.ndarray,
    tier: np.ndarray,
    pref: np.ndarray,
    p: float,
    rewire: bool,
    key_drop: np.uint64,
    key_rewire: np.uint64,
    scratch: np.ndarray,
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Every person drops each low friend with probability p, in place; optionally rewires the slot.

    Phase A counts drops per person in parallel (no mutation) into ``scratch``
    (uint16, all zero on entry and on return); phase B walks the persons with a
    count in ascending order, serially, so the result does not depend on the
    thread count. Returns ``(dropper, dropped, new_friend)`` int32 event arrays
    in processing order (``new_friend`` -1 when the slot was left empty).
    """
    _count_drops(indptr, indices, low, float(p), np.uint64(key_drop), scratch)
    return _apply_drops(
        indptr, indices, low, region, region_offsets, tier, pref, float(p), bool(rewire),
        np.uint64(key_drop), np.uint64(key_rewire), scratch,
    )  # fmt: skip


@njit(cache=True)
def shame(indptr: np.ndarray, indices: np.ndarray, listed: np.ndarray, p: float, key: np.uint64) -> tuple[np.ndarray, np.ndarray]:
    """Friends of newly blacklisted persons drop them with probability p (both sides emptied), in place.

    ``listed`` is ascending; slot k of a listed person's row is decided by
    ``uniform(key, k)``. Only ties in the listed person's own row are
    considered. Returns ``(dropper j, dropped s)`` int32 arrays.
    """
    bound = 0
    for t in range(listed.shape[0]):
        s = listed[t]
        bound += indptr[s + 1] - indptr[s]
    dropper = np.empty(bound, np.int32)
    dropped = np.empty(bound, np.int32)
    m = 0
    for t in range(listed.shape[0]):
        s = listed[t]
        for k in range(indptr[s], indptr[s + 1]):
            j = indices[k]
            if j < 0 or rng.uniform(key, k) >= p:
                continue
            indices[k] = -1
            _clear(indptr, indices, j, s)
            dropper[m] = j
            dropped[m] = s
            m += 1
    return dropper[:m], dropped[:m]


@njit(parallel=True, cache=True)
def degree_kernel(indptr: np.ndarray, indices: np.ndarray, out: np.ndarray) -> None:
    """``out[i]`` = number of non-empty slots in i's row (i's current friends)."""
    n = out.shape[0]
    nchunks = (n + CHUNK - 1) // CHUNK
    for c in prange(nchunks):
        for i in range(c * CHUNK, min(n, (c + 1) * CHUNK)):
            d = 0
            for k in range(indptr[i], indptr[i + 1]):
                if indices[k] >= 0:
                    d += 1
            out[i] = d


@njit(parallel=True, cache=True, fastmath=False)
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
        for i in range(c * step, min(n, (c + 1) * step)):
            dx = np.float64(score[i]) - shift
            k = 0
            ry = 0.0
            ryy = 0.0
            for q in range(indptr[i], indptr[i + 1]):
                j = indices[q]
                if j < 0:
                    continue
                dy = np.float64(score[j]) - shift
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


@njit(parallel=True, cache=True)
def _tier_mixing(indptr: np.ndarray, indices: np.ndarray, tier: np.ndarray, part: np.ndarray) -> None:
    """Per fixed group of rows, slot counts by (tier of row, tier of friend)."""
    n = indptr.shape[0] - 1
    step = (n + NGROUPS - 1) // NGROUPS
    for c in prange(NGROUPS):
        for i in range(c * step, min(n, (c + 1) * step)):
            a = tier[i]
            for k in range(indptr[i], indptr[i + 1]):
                j = indices[k]
                if j >= 0:
                    part[c, a, tier[j]] += 1


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
