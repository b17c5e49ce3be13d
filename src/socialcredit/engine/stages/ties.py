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

The network's assortativity is measured in :mod:`socialcredit.engine.assortativity`.
"""

from __future__ import annotations

import numpy as np
from numba import njit, prange

from socialcredit import rng
from socialcredit.engine.layout import CHUNK
from socialcredit.parallel import day_kernel

REWIRE_TRIES = 64  # rejection tries per rewired slot; try t of slot k uses counter k * REWIRE_TRIES + t
_INV32 = 1.0 / 4294967296.0


def tier_preference(n_tiers: int, bias: float) -> np.ndarray:
    """Acceptance weights ``exp(-bias * t)`` of tiers t = 0..n_tiers-1 (tier 0 weight 1, so max 1 for bias >= 0)."""
    if bias < 0:
        raise ValueError("bias must be >= 0 (weights must not exceed 1)")
    return np.exp(-float(bias) * np.arange(int(n_tiers), dtype=np.float64))


@day_kernel(cache=True)
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


@day_kernel(cache=True)
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
