"""The friendship-network generators: small world, scale free and block model.

Every random choice is a counter draw from :mod:`socialcredit.rng` on the
``"network"`` stream, keyed by a fixed index (edge id, stub id, pair chunk), and
every parallel loop writes disjoint outputs or works on fixed chunks whose partial
results are combined in chunk order. The result is therefore identical for any
numba thread count. The generators are compiled numba kernels that build the CSR
by counting, prefix sums and scatter, never through Python loops or networkx.
"""

from __future__ import annotations

import math

import numpy as np
from numba import njit, prange

from socialcredit.parallel import persons, persons_in_offsets, sized_kernel
from socialcredit.population.network import (
    _STEP_BLOCK_MODEL,
    _STEP_SCALE_FREE,
    _STEP_SMALL_WORLD,
    _STREAM,
    Network,
    _check_n,
    _check_offsets,
    _key,
    _network_from_pairs,
    _sort_rows,
)
from socialcredit.rng import below, make_key, uniform
from socialcredit.rulebook import feasibility
from socialcredit.rulebook.feasibility import check_mean_degree, expected_floor_degree

_CHUNK = 16384  # nodes per fixed chunk where per-chunk counts are combined
_ATTEMPTS = 8  # rewiring attempts before a small-world tie keeps its lattice end
_BUCKET = 1 << 16  # target stubs per bucket in the stub shuffle (fits in L2)
_EDGES_PER_PAIR_CHUNK = 1 << 16  # expected ties per chunk in the block model

# Small-world rewiring states.
_PENDING = 0
_CANDIDATE = 1
_ACCEPTED = 2
_REVERTED = 3


@njit(cache=True)
def _block_of(ptr: np.ndarray, x: int) -> int:
    """The block ``r`` with ``ptr[r] <= x < ptr[r + 1]`` (``np.searchsorted(ptr, x, "right") - 1``).
    Hand-written: numpy's searchsorted inside kernels cost about 2 s of compile time on a cold cache."""
    lo = 0
    hi = ptr.shape[0]
    while lo < hi:
        mid = (lo + hi) >> 1
        if ptr[mid] <= x:
            lo = mid + 1
        else:
            hi = mid
    return lo - 1


# ---------------------------------------------------------------- small world


@sized_kernel(cache=True)
def _sw_flags(ro: np.ndarray, h: int, p: float, key: np.uint64, flags: np.ndarray, counts: np.ndarray) -> None:
    """Mark lattice tie ``e = g*h + j-1`` (g to g+j) for rewiring; count marks per chunk."""
    n = ro[-1]
    for c in prange(counts.shape[0]):
        g0 = c * _CHUNK
        g1 = min(n, g0 + _CHUNK)
        r = _block_of(ro, g0)
        cnt = 0
        for g in range(g0, g1):
            while g >= ro[r + 1]:
                r += 1
            if ro[r + 1] - ro[r] <= 2 * h:  # complete-graph block: no lattice
                continue
            for j in range(h):
                e = g * h + j
                if uniform(key, e) < p:
                    flags[e] = 1
                    cnt += 1
        counts[c] = cnt


@sized_kernel(cache=True)
def _sw_list(h: int, n: int, flags: np.ndarray, starts: np.ndarray, eids: np.ndarray) -> None:
    """List the marked tie ids in ascending order (chunk c writes from starts[c])."""
    for c in prange(starts.shape[0] - 1):
        w = starts[c]
        e0 = c * _CHUNK * h
        e1 = min(n, (c + 1) * _CHUNK) * h
        for e in range(e0, e1):
            if flags[e]:
                eids[w] = e
                w += 1


@njit(inline="always", cache=True)
def _ring_dist(a: int, c: int, s: int) -> int:
    d = c - a
    if d < 0:
        d += s
    return min(d, s - d)


@sized_kernel(size=persons_in_offsets, cache=True)
def _sw_draw(
    ro: np.ndarray, h: int, keys: np.ndarray, eids: np.ndarray, att: np.ndarray, tgt: np.ndarray, state: np.ndarray
) -> None:
    """New far end for every pending tie: the first attempt landing outside the lattice.

    A target within ring distance h of the owner (itself, or any lattice pair)
    is rejected; after all attempts the tie keeps its lattice end.
    """
    for q in prange(eids.shape[0]):
        if state[q] != _PENDING:
            continue
        e = eids[q]
        g = e // h
        j = e - g * h + 1
        r = _block_of(ro, g)
        lo = ro[r]
        s = ro[r + 1] - lo
        a = g - lo
        t = att[q]
        c = 0
        while t < keys.shape[0]:
            c = below(keys[t], e, s)
            if _ring_dist(a, c, s) > h:
                break
            t += 1
        att[q] = t
        if t < keys.shape[0]:
            tgt[q] = lo + c
            state[q] = _CANDIDATE
        else:
            tgt[q] = lo + (a + j) % s
            state[q] = _REVERTED


@njit(cache=True)
def _sw_buckets(n: int, h: int, eids: np.ndarray, tgt: np.ndarray, state: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Group rewired ties by their lower endpoint (counting sort, stable in tie id)."""
    start = np.zeros(n + 1, np.int64)
    for q in range(eids.shape[0]):
        if state[q] == _CANDIDATE or state[q] == _ACCEPTED:
            start[min(eids[q] // h, tgt[q]) + 1] += 1
    for i in range(n):
        start[i + 1] += start[i]
    cur = start[:-1].copy()
    items = np.empty(start[n], np.int64)
    for q in range(eids.shape[0]):
        if state[q] == _CANDIDATE or state[q] == _ACCEPTED:
            lo = min(eids[q] // h, tgt[q])
            items[cur[lo]] = q
            cur[lo] += 1
    return start, items


@sized_kernel(size=lambda h, eids, *rest: persons(eids.size), cache=True)  # work per rewired tie
def _sw_resolve(h: int, eids: np.ndarray, tgt: np.ndarray, att: np.ndarray, state: np.ndarray, start: np.ndarray, items: np.ndarray) -> int:
    """Settle rewired ties that produced the same pair.

    Within a lower-endpoint bucket, a tie already accepted in an earlier round
    keeps its pair; otherwise the lowest tie id wins. Losers go back to pending
    with their next attempt. Returns the number of losers.
    """
    n = start.shape[0] - 1
    lost = np.zeros(n, np.int64)
    for i in prange(n):
        b0 = start[i]
        b1 = start[i + 1]
        if b1 - b0 < 2:
            if b1 > b0:
                state[items[b0]] = _ACCEPTED
            continue
        # insertion sort by (higher endpoint, accepted first, tie id)
        for k in range(b0 + 1, b1):
            x = items[k]
            hx = max(eids[x] // h, tgt[x])
            kx = 0 if state[x] == _ACCEPTED else 1
            t = k - 1
            while t >= b0:
                y = items[t]
                hy = max(eids[y] // h, tgt[y])
                ky = 0 if state[y] == _ACCEPTED else 1
                if hy > hx or (hy == hx and (ky > kx or (ky == kx and y > x))):
                    items[t + 1] = y
                    t -= 1
                else:
                    break
            items[t + 1] = x
        prev = -1
        nl = 0
        for k in range(b0, b1):
            q = items[k]
            hq = max(eids[q] // h, tgt[q])
            if hq == prev:
                state[q] = _PENDING
                att[q] += 1
                nl += 1
            else:
                state[q] = _ACCEPTED
                prev = hq
        lost[i] = nl
    return int(lost.sum())


@sized_kernel(cache=True)
def _sw_finalise_flags(eids: np.ndarray, state: np.ndarray, flags: np.ndarray) -> None:
    for q in prange(eids.shape[0]):
        if state[q] == _REVERTED:
            flags[eids[q]] = 0


@sized_kernel(cache=True)
def _sw_degrees(ro: np.ndarray, h: int, flags: np.ndarray, deg: np.ndarray, lat_in: np.ndarray) -> None:
    """Per node: h owned ties, kept lattice ties from the left; complete blocks s-1."""
    n = ro[-1]
    for g in prange(n):
        r = _block_of(ro, g)
        lo = ro[r]
        s = ro[r + 1] - lo
        if s <= 2 * h:
            deg[g] = s - 1
            lat_in[g] = 0
            continue
        a = g - lo
        cnt = 0
        for j in range(1, h + 1):
            src = a - j
            if src < 0:
                src += s
            if flags[(lo + src) * h + j - 1] == 0:
                cnt += 1
        deg[g] = h + cnt
        lat_in[g] = cnt


@njit(cache=True)
def _sw_add_landed(tgt: np.ndarray, state: np.ndarray, deg: np.ndarray) -> None:
    for q in range(tgt.shape[0]):
        if state[q] == _ACCEPTED:
            deg[tgt[q]] += 1


@sized_kernel(cache=True)
def _sw_fill_lattice(ro: np.ndarray, h: int, flags: np.ndarray, indptr: np.ndarray, indices: np.ndarray) -> None:
    """Row layout: kept lattice ties from the left, then the h owned lattice ends."""
    n = ro[-1]
    for g in prange(n):
        r = _block_of(ro, g)
        lo = ro[r]
        s = ro[r + 1] - lo
        w = indptr[g]
        if s <= 2 * h:
            for v in range(lo, lo + s):
                if v != g:
                    indices[w] = v
                    w += 1
            continue
        a = g - lo
        for j in range(h, 0, -1):
            src = a - j
            if src < 0:
                src += s
            if flags[(lo + src) * h + j - 1] == 0:
                indices[w] = lo + src
                w += 1
        for j in range(1, h + 1):
            indices[w] = lo + (a + j) % s
            w += 1


@sized_kernel(cache=True)
def _sw_fill_owned(h: int, eids: np.ndarray, tgt: np.ndarray, state: np.ndarray, lat_in: np.ndarray, indptr: np.ndarray, indices: np.ndarray) -> None:
    """Overwrite the owned slot of every rewired tie with its new far end."""
    for q in prange(eids.shape[0]):
        if state[q] == _ACCEPTED:
            e = eids[q]
            g = e // h
            indices[indptr[g] + lat_in[g] + (e - g * h)] = tgt[q]


@njit(cache=True)
def _sw_fill_landed(h: int, eids: np.ndarray, tgt: np.ndarray, state: np.ndarray, lat_in: np.ndarray, indptr: np.ndarray, indices: np.ndarray) -> None:
    """Append the owner of every rewired tie to its target's row (tie-id order)."""
    n = indptr.shape[0] - 1
    cur = np.empty(n, np.int64)
    for g in range(n):
        cur[g] = indptr[g] + h + lat_in[g]
    for q in range(eids.shape[0]):
        if state[q] == _ACCEPTED:
            t = tgt[q]
            indices[cur[t]] = eids[q] // h
            cur[t] += 1


def small_world(region_offsets: np.ndarray, mean_degree: int, rewiring: float, seed: int) -> Network:
    """Watts-Strogatz small world inside each region block.

    Ring lattice on each block with ``k = mean_degree`` rounded down to even
    (k/2 neighbours each side). Lattice tie (i, i+j) is rewired with
    probability ``rewiring``: its far end moves to a uniform node of the same
    region at ring distance > k/2 (so never a self loop or a lattice pair),
    retrying up to 8 counter draws and keeping the lattice end if all fail;
    rewired ties that happen to pick the same pair are settled deterministically
    (earlier tie id wins, the other redraws). Blocks of at most k nodes become
    complete graphs.
    """
    ro = _check_offsets(region_offsets)
    if mean_degree < 0 or not 0.0 <= rewiring <= 1.0:
        raise ValueError("mean_degree must be >= 0 and rewiring in [0, 1]")
    h = int(mean_degree) // 2
    n = int(ro[-1])
    if h == 0 or n == 0:
        return Network(np.zeros(n + 1, np.int64), np.empty(0, np.int32))
    flags = np.zeros(n * h, np.uint8)
    nch = (n + _CHUNK - 1) // _CHUNK
    counts = np.zeros(nch, np.int64)
    _sw_flags(ro, h, float(rewiring), _key(seed, _STEP_SMALL_WORLD, 0), flags, counts)
    starts = np.zeros(nch + 1, np.int64)
    np.cumsum(counts, out=starts[1:])
    eids = np.empty(int(starts[-1]), np.int64)
    _sw_list(h, n, flags, starts, eids)
    del counts, starts
    keys = np.array([_key(seed, _STEP_SMALL_WORLD, 1 + t) for t in range(_ATTEMPTS)], dtype=np.uint64)
    att = np.zeros(eids.shape[0], np.int32)
    tgt = np.empty(eids.shape[0], np.int32)
    state = np.full(eids.shape[0], _PENDING, np.uint8)
    while True:
        _sw_draw(ro, h, keys, eids, att, tgt, state)
        start, items = _sw_buckets(n, h, eids, tgt, state)
        lost = _sw_resolve(h, eids, tgt, att, state, start, items)
        del start, items
        if lost == 0:
            break
    _sw_finalise_flags(eids, state, flags)
    deg = np.empty(n, np.int64)
    lat_in = np.empty(n, np.int32)
    _sw_degrees(ro, h, flags, deg, lat_in)
    _sw_add_landed(tgt, state, deg)
    indptr = np.zeros(n + 1, np.int64)
    np.cumsum(deg, out=indptr[1:])
    del deg
    indices = np.empty(int(indptr[-1]), np.int32)
    _sw_fill_lattice(ro, h, flags, indptr, indices)
    del flags
    _sw_fill_owned(h, eids, tgt, state, lat_in, indptr, indices)
    _sw_fill_landed(h, eids, tgt, state, lat_in, indptr, indices)
    del eids, tgt, state, att, lat_in
    _sort_rows(indptr, indices)
    return Network(indptr, indices)


# ------------------------------------------------------------------ scale free


def _solve_xmin(mean: float, alpha: float, cap: int) -> float:
    """The Pareto scale whose floored, capped draws have mean ``mean`` (bisection)."""
    check_mean_degree(mean, alpha, cap)
    lo, hi = 1.0, float(cap)
    for _ in range(100):
        mid = 0.5 * (lo + hi)
        if expected_floor_degree(mid, alpha, cap) < mean:
            lo = mid
        else:
            hi = mid
    return 0.5 * (lo + hi)


@sized_kernel(size=persons_in_offsets, cache=True)
def _sf_degrees(ro: np.ndarray, xmin: np.ndarray, cap: np.ndarray, alpha: float, key: np.uint64) -> np.ndarray:
    """Inverse-CDF draw of floor(x), x ~ truncated Pareto, per node (region parameters)."""
    n = ro[-1]
    deg = np.zeros(n, np.int64)
    for g in prange(n):
        r = _block_of(ro, g)
        c = cap[r]
        if c <= 0:
            continue
        a = xmin[r]
        tail = (a / (c + 1.0)) ** alpha
        x = a * (1.0 - uniform(key, g) * (1.0 - tail)) ** (-1.0 / alpha)
        deg[g] = min(int(x), c)
    return deg


@sized_kernel(cache=True)
def _sf_bucket_counts(
    reg_stub: np.ndarray, nbuck: np.ndarray, base: np.ndarray, key: np.uint64, chunk: int, counts: np.ndarray
) -> None:
    """Per fixed chunk of stubs, how many fall in each bucket (buckets are per region)."""
    total = reg_stub[-1]
    for c in prange(counts.shape[0]):
        k0 = c * chunk
        k1 = min(total, k0 + chunk)
        r = _block_of(reg_stub, k0)
        for k in range(k0, k1):
            while k >= reg_stub[r + 1]:
                r += 1
            counts[c, base[r] + below(key, k, nbuck[r])] += 1


@njit(cache=True)
def _sf_bucket_offsets(counts: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Write position of (chunk, bucket): bucket-major, then chunk order."""
    nch, nb = counts.shape
    offs = np.empty((nch, nb), np.int64)
    bstart = np.empty(nb + 1, np.int64)
    acc = 0
    for b in range(nb):
        bstart[b] = acc
        for c in range(nch):
            offs[c, b] = acc
            acc += counts[c, b]
    bstart[nb] = acc
    return offs, bstart


@sized_kernel(cache=True)
def _sf_scatter(
    reg_stub: np.ndarray, nbuck: np.ndarray, base: np.ndarray, key: np.uint64, chunk: int,
    stub_ptr: np.ndarray, offs: np.ndarray, out: np.ndarray,
) -> None:
    """Write every stub's owner into its bucket (same draws as the counting pass).

    ``offs`` holds each chunk's start in each bucket and is consumed as cursors.
    """
    total = reg_stub[-1]
    for c in prange(offs.shape[0]):
        cur = offs[c]  # this chunk's write cursors (used up here)
        k0 = c * chunk
        k1 = min(total, k0 + chunk)
        r = _block_of(reg_stub, k0)
        g = _block_of(stub_ptr, k0)
        for k in range(k0, k1):
            while k >= reg_stub[r + 1]:
                r += 1
            while k >= stub_ptr[g + 1]:
                g += 1
            b = base[r] + below(key, k, nbuck[r])
            out[cur[b]] = g
            cur[b] += 1


@sized_kernel(cache=True)
def _sf_shuffle_buckets(bstart: np.ndarray, key: np.uint64, out: np.ndarray) -> None:
    """Fisher-Yates inside each bucket, keyed by position (a uniform permutation overall)."""
    for b in prange(bstart.shape[0] - 1):
        lo = bstart[b]
        for i in range(bstart[b + 1] - lo - 1, 0, -1):
            j = below(key, lo + i, i + 1)
            t = out[lo + i]
            out[lo + i] = out[lo + j]
            out[lo + j] = t


def scale_free(
    n: int, mean_degree: float, exponent: float, seed: int, region_offsets: np.ndarray | None = None
) -> Network:
    """Configuration model with a power-law degree sequence (erased: loops and repeats dropped).

    Degrees are ``min(floor(x), cap)`` with x Pareto, ``P(x > t) = (t/x_min)^-(exponent-1)``
    truncated at ``cap + 1``, ``cap = min(s - 1, floor(sqrt(mean_degree * s)))`` (the
    structural cutoff of a block of s nodes); ``x_min`` is solved so the expected degree is
    ``mean_degree``. Stubs are paired by a counter-RNG shuffle (bucketed
    Fisher-Yates); self loops and repeated pairs are then erased, which lowers
    the mean slightly (0.08 % of stubs at n = 1e6, mean 20, exponent 2.5). With
    ``region_offsets`` stubs are paired only within each region block.
    """
    n = _check_n(n)
    ro = np.array([0, n], np.int64) if region_offsets is None else _check_offsets(region_offsets)
    if int(ro[-1]) != n:
        raise ValueError(f"region_offsets end at {int(ro[-1])}, not n = {n}")
    if exponent <= 1.0:
        raise ValueError(f"exponent must be > 1 (got {exponent}); social networks have 2 < exponent < 3.5")
    if mean_degree < 0:
        raise ValueError("mean_degree must be >= 0")
    alpha = float(exponent) - 1.0
    sizes = np.diff(ro)
    nreg = sizes.shape[0]
    caps = np.zeros(nreg, np.int64)
    xmins = np.ones(nreg, np.float64)
    for r in range(nreg):
        s = int(sizes[r])
        if s < 2 or mean_degree == 0:
            continue
        caps[r] = max(1, min(s - 1, math.isqrt(int(mean_degree * s))))
        xmins[r] = _solve_xmin(float(mean_degree), alpha, int(caps[r]))
    deg = _sf_degrees(ro, xmins, caps, alpha, _key(seed, _STEP_SCALE_FREE, 0))
    # an even stub count per region: the region's last node gives or takes one stub
    for r in range(nreg):
        if sizes[r] > 0 and int(deg[ro[r] : ro[r + 1]].sum()) % 2 == 1:
            last = int(ro[r + 1]) - 1
            deg[last] += 1 if deg[last] < caps[r] else -1
    stub_ptr = np.zeros(n + 1, np.int64)
    np.cumsum(deg, out=stub_ptr[1:])
    del deg
    total = int(stub_ptr[-1])
    reg_stub = stub_ptr[ro]
    nbuck = np.maximum(1, -(-np.diff(reg_stub) // _BUCKET)).astype(np.int64)
    base = np.zeros(nreg, np.int64)
    np.cumsum(nbuck[:-1], out=base[1:])
    chunk = max(1 << 20, -(-total // 256))
    nch = max(1, -(-total // chunk))
    counts = np.zeros((nch, int(nbuck.sum())), np.int64)
    kb = _key(seed, _STEP_SCALE_FREE, 1)
    _sf_bucket_counts(reg_stub, nbuck, base, kb, chunk, counts)
    offs, bstart = _sf_bucket_offsets(counts)
    del counts
    pairs = np.empty(total, np.int32)
    _sf_scatter(reg_stub, nbuck, base, kb, chunk, stub_ptr, offs, pairs)
    del offs
    _sf_shuffle_buckets(bstart, _key(seed, _STEP_SCALE_FREE, 2), pairs)
    net = _network_from_pairs(n, pairs, indptr=stub_ptr)
    net.duplicates_removed = 0  # erased multi-edges are part of the model, not input duplicates
    return net


# ----------------------------------------------------------------- block model


@sized_kernel(cache=True)
def _bm_sample(
    base_key: np.uint64, blk_kind: np.ndarray, blk_lo: np.ndarray, blk_hi: np.ndarray, blk_cols: np.ndarray,
    blk_p: np.ndarray, ch_blk: np.ndarray, ch_start: np.ndarray, ch_end: np.ndarray,
    out_start: np.ndarray, counts: np.ndarray, pairs: np.ndarray, fill: bool,
) -> None:
    """Bernoulli(p) on every pair of a chunk by geometric skips (Batagelj-Brandes).

    Pair index t of a within block (kind 0) is the lower-triangle pair
    (i, j), j < i, t = i(i-1)/2 + j; of a between block (kind 1) it is
    (t // cols, t % cols). Pass 1 counts ties per chunk; pass 2 redraws the same
    skips (same chunk key) and writes the pairs.
    """
    for c in prange(ch_blk.shape[0]):
        b = ch_blk[c]
        p = blk_p[b]
        key = make_key(base_key, _STREAM, _STEP_BLOCK_MODEL, c + 1)
        end = ch_end[c]
        pos = ch_start[c] - 1
        lp = math.log1p(-p) if p < 1.0 else -math.inf
        draw = 0
        cnt = 0
        w = out_start[c] if fill else 0
        while True:
            if p >= 1.0:
                skip = 0.0
            else:
                skip = math.floor(math.log1p(-uniform(key, draw)) / lp)
                draw += 1
            if pos + 1 + skip >= end:
                break
            pos += 1 + int(skip)
            cnt += 1
            if fill:
                if blk_kind[b] == 0:
                    i = int((1.0 + math.sqrt(1.0 + 8.0 * pos)) / 2.0)
                    while i * (i - 1) // 2 > pos:
                        i -= 1
                    while (i + 1) * i // 2 <= pos:
                        i += 1
                    j = pos - i * (i - 1) // 2
                    pairs[2 * w] = blk_lo[b] + i
                    pairs[2 * w + 1] = blk_lo[b] + j
                else:
                    cols = blk_cols[b]
                    pairs[2 * w] = blk_lo[b] + pos // cols
                    pairs[2 * w + 1] = blk_hi[b] + pos % cols
                w += 1
        counts[c] = cnt


def block_probabilities(region_offsets: np.ndarray, mean_degree: float, within_share: float) -> tuple[np.ndarray, float]:
    """Tie probabilities of the block model (see :func:`socialcredit.rulebook.feasibility.block_probabilities`)."""
    return feasibility.block_probabilities(_check_offsets(region_offsets), mean_degree, within_share)


def block_model(region_offsets: np.ndarray, mean_degree: float, within_share: float, seed: int) -> Network:
    """Stochastic block model by region, sampled in O(n + ties) by geometric skips.

    Every pair of persons is a tie independently, with probability
    ``p_within[r]`` inside region r and ``p_between`` across regions (see
    :func:`block_probabilities`). Pair-index ranges are cut into fixed chunks of
    about 65536 expected ties; each chunk has its own counter key.
    """
    ro = _check_offsets(region_offsets)
    p_within, p_between = block_probabilities(ro, mean_degree, within_share)
    n = int(ro[-1])
    sizes = np.diff(ro)
    kinds: list[int] = []  # 0 = within a region, 1 = between two regions
    los: list[int] = []  # first node of the row region
    his: list[int] = []  # first node of the column region
    cols: list[int] = []  # column region size (between blocks)
    ps: list[float] = []
    npairs: list[int] = []
    nreg = sizes.shape[0]
    for r in range(nreg):
        for q in range(r, nreg):
            s_r, s_q = int(sizes[r]), int(sizes[q])
            kinds.append(0 if r == q else 1)
            los.append(int(ro[r]))
            his.append(int(ro[q]))
            cols.append(s_q)
            ps.append(float(p_within[r]) if r == q else p_between)
            npairs.append(s_r * (s_r - 1) // 2 if r == q else s_r * s_q)
    ch_blk, ch_start, ch_end = [], [], []
    for b, (p, m) in enumerate(zip(ps, npairs)):
        if p <= 0.0 or m == 0:
            continue
        span = max(1, int(_EDGES_PER_PAIR_CHUNK / p))
        for t0 in range(0, m, span):
            ch_blk.append(b)
            ch_start.append(t0)
            ch_end.append(min(m, t0 + span))
    blk = (np.array(kinds, np.int64), np.array(los, np.int64), np.array(his, np.int64), np.array(cols, np.int64), np.array(ps, np.float64))
    chunks = (np.array(ch_blk, np.int64), np.array(ch_start, np.int64), np.array(ch_end, np.int64))
    nch = chunks[0].shape[0]
    counts = np.zeros(nch, np.int64)
    out_start = np.zeros(nch + 1, np.int64)
    empty = np.empty(0, np.int32)
    _bm_sample(np.uint64(_key(seed, _STEP_BLOCK_MODEL, 0)), *blk, *chunks, out_start, counts, empty, False)
    np.cumsum(counts, out=out_start[1:])
    pairs = np.empty(2 * int(out_start[-1]), np.int32)
    _bm_sample(np.uint64(_key(seed, _STEP_BLOCK_MODEL, 0)), *blk, *chunks, out_start, counts, pairs, True)
    net = _network_from_pairs(n, pairs)
    return net
