"""Friendship networks: the CSR type and the kernels the generators and orderings share.

Persons are ``0..n-1``, region-major: region ``r`` is the block
``region_offsets[r]:region_offsets[r+1]``. A network is undirected and stored as
CSR (``indptr`` int64, ``indices`` int32); every tie appears in both rows, rows are
sorted ascending, with no self loops and no duplicates.

The generators are in :mod:`socialcredit.population.generators`, the renumberings
for memory locality in :mod:`socialcredit.population.ordering` and the edge-list
loader in :mod:`socialcredit.population.edgelist`. They all draw on the
``"network"`` stream of :mod:`socialcredit.rng` through :func:`_key`, each with its
own ``_STEP_*`` below, and build rows with the shared kernels here
(:func:`_network_from_pairs`, :func:`_sort_rows`), which give the same result
for any numba thread count.
"""

from __future__ import annotations

from dataclasses import dataclass

import numba
import numpy as np
from numba import njit, prange

from socialcredit.parallel import sized_kernel
from socialcredit.rng import STREAMS, make_key

_STREAM = STREAMS["network"]
# ``step`` of the network stream, one per generator; ``sub`` separates decisions.
_STEP_SMALL_WORLD = 1
_STEP_SCALE_FREE = 2
_STEP_BLOCK_MODEL = 3
_STEP_SHUFFLE = 4

_MAX_NODES = 2**31 - 1  # indices are int32
_EMPTY_SLOT = 2**31 - 1  # marks a reserved CSR slot left unused (sorts last, then dropped)


# --------------------------------------------------------------------------- type


@dataclass(eq=False)
class Network:
    """An undirected network in CSR form (both directions stored, rows sorted)."""

    indptr: np.ndarray  # int64, n + 1
    indices: np.ndarray  # int32, 2 * n_edges
    duplicates_removed: int = 0  # duplicate ties dropped by from_edges / load_edgelist

    @property
    def n(self) -> int:
        """Number of persons (nodes)."""
        return int(self.indptr.shape[0] - 1)

    @property
    def n_edges(self) -> int:
        """Number of undirected ties."""
        return int(self.indices.shape[0] // 2)

    def degree(self) -> np.ndarray:
        """Number of friends of every person (int64); empty slots (-1, ties dropped during a run) do not count."""
        deg = np.diff(self.indptr)
        empty = np.flatnonzero(self.indices < 0)
        if empty.size:
            deg = deg - np.bincount(np.searchsorted(self.indptr, empty, side="right") - 1, minlength=self.n)
        return deg

    def neighbours(self, i: int) -> np.ndarray:
        """Friends of person ``i``, ascending (a view into ``indices``)."""
        return self.indices[self.indptr[i] : self.indptr[i + 1]]

    def permuted(self, perm: np.ndarray) -> Network:
        """The same network with person ``old`` relabelled ``perm[old]`` (rows re-sorted)."""
        perm = np.asarray(perm)
        if perm.shape != (self.n,) or not np.issubdtype(perm.dtype, np.integer):
            raise ValueError(f"perm must be an integer array of length n = {self.n}")
        if self.n and (int(perm.min()) < 0 or int(perm.max()) >= self.n):
            raise ValueError("perm is not a permutation of 0..n-1")
        p32 = perm.astype(np.int32)
        if not _is_permutation(p32):
            raise ValueError("perm is not a permutation of 0..n-1")
        indptr, indices = _permute(self.indptr, self.indices, p32)
        return Network(indptr, indices, self.duplicates_removed)

    def to_edges(self) -> np.ndarray:
        """All ties as an ``(m, 2)`` int64 array with ``u < v``, sorted by ``(u, v)``."""
        rows = np.repeat(np.arange(self.n, dtype=np.int64), self.degree())
        cols = self.indices.astype(np.int64)
        keep = rows < cols
        return np.stack([rows[keep], cols[keep]], axis=1)

    def nbytes(self) -> int:
        """Bytes held by the CSR arrays."""
        return int(self.indptr.nbytes + self.indices.nbytes)

    @staticmethod
    def from_edges(n: int, edges: np.ndarray) -> Network:
        """Build from an ``(m, 2)`` integer edge array (either direction).

        Duplicate ties (in either direction) are removed and counted in
        ``duplicates_removed``; ids outside ``0..n-1`` and self loops raise ValueError.
        """
        n = _check_n(n)
        edges = np.asarray(edges)
        if edges.size == 0:
            edges = edges.reshape(0, 2)
        if edges.ndim != 2 or edges.shape[1] != 2 or not np.issubdtype(edges.dtype, np.integer):
            raise ValueError("edges must be an integer array of shape (m, 2)")
        if edges.shape[0]:
            lo, hi = int(edges.min()), int(edges.max())
            if lo < 0 or hi >= n:
                raise ValueError(f"edge ids must lie in 0..{n - 1}; found {lo if lo < 0 else hi}")
            loops = np.flatnonzero(edges[:, 0] == edges[:, 1])
            if loops.size:
                raise ValueError(f"self loop at edge {int(loops[0])}: ({edges[loops[0], 0]}, {edges[loops[0], 1]})")
        pairs = np.ascontiguousarray(edges, dtype=np.int32).reshape(-1)
        return _network_from_pairs(n, pairs)


# ----------------------------------------------------------------- shared kernels


def _key(seed: int, step: int, sub: int) -> np.uint64:
    """A network-stream key as ``np.uint64``.

    A key passed to a kernel as a plain Python int is typed int64 by numba when
    it is below 2**63, which makes the mixing shifts arithmetic and the draws
    wrong; wrapping it in np.uint64 keeps the unsigned type.
    """
    return np.uint64(make_key(int(seed) & 0xFFFFFFFFFFFFFFFF, _STREAM, step, sub))


def _check_n(n: int) -> int:
    n = int(n)
    if n < 0 or n > _MAX_NODES:
        raise ValueError(f"n must be in 0..{_MAX_NODES} (indices are int32); got {n}")
    return n


def _check_offsets(region_offsets: np.ndarray) -> np.ndarray:
    """Validate region block offsets (int64, starts at 0, non-decreasing)."""
    ro = np.asarray(region_offsets)
    if ro.ndim != 1 or ro.shape[0] < 2 or not np.issubdtype(ro.dtype, np.integer):
        raise ValueError("region_offsets must be a 1-d integer array of length R + 1 >= 2")
    ro = ro.astype(np.int64)
    if ro[0] != 0 or np.any(np.diff(ro) < 0):
        raise ValueError("region_offsets must start at 0 and be non-decreasing")
    _check_n(int(ro[-1]))
    return ro


@njit(cache=True)
def _insertion_sort(a: np.ndarray, lo: int, hi: int) -> None:
    for k in range(lo + 1, hi):
        x = a[k]
        t = k - 1
        while t >= lo and a[t] > x:
            a[t + 1] = a[t]
            t -= 1
        a[t + 1] = x


@njit(cache=True)
def _heap_sort(a: np.ndarray, lo: int, hi: int) -> None:
    """Sort ``a[lo:hi]`` in place, O(m log m). Hand-written: numpy's sort inside a kernel
    costs about 2 s of compile time on a cold cache."""
    m = hi - lo
    for start in range(m // 2 - 1, -1, -1):
        _sift_down(a, lo, start, m)
    for end in range(m - 1, 0, -1):
        x = a[lo]
        a[lo] = a[lo + end]
        a[lo + end] = x
        _sift_down(a, lo, 0, end)


@njit(cache=True)
def _sift_down(a: np.ndarray, lo: int, root: int, m: int) -> None:
    while True:
        child = 2 * root + 1
        if child >= m:
            return
        if child + 1 < m and a[lo + child] < a[lo + child + 1]:
            child += 1
        if a[lo + root] >= a[lo + child]:
            return
        x = a[lo + root]
        a[lo + root] = a[lo + child]
        a[lo + child] = x
        root = child


@njit(cache=True)
def _sort_segment(a: np.ndarray, lo: int, hi: int) -> None:
    """Sort ``a[lo:hi]`` in place (insertion sort for short rows, heap sort for long ones)."""
    if hi - lo <= 48:
        _insertion_sort(a, lo, hi)
    else:
        _heap_sort(a, lo, hi)


@sized_kernel(cache=True)
def _sort_rows_dedupe(indptr: np.ndarray, indices: np.ndarray, newdeg: np.ndarray) -> None:
    """Sort every row and squeeze out repeats and empty slots; ``newdeg`` gets the counts."""
    n = indptr.shape[0] - 1
    for i in prange(n):
        lo = indptr[i]
        hi = indptr[i + 1]
        _sort_segment(indices, lo, hi)
        w = lo
        prev = -1
        for k in range(lo, hi):
            v = indices[k]
            if v != prev and v != _EMPTY_SLOT:
                indices[w] = v
                w += 1
                prev = v
        newdeg[i] = w - lo


@sized_kernel(cache=True)
def _sort_rows(indptr: np.ndarray, indices: np.ndarray) -> None:
    n = indptr.shape[0] - 1
    for i in prange(n):
        _sort_segment(indices, indptr[i], indptr[i + 1])


@njit(cache=True)
def _compact(indptr: np.ndarray, indices: np.ndarray, newptr: np.ndarray) -> None:
    """Move each row left to its new start (sequential: rows only move left)."""
    n = indptr.shape[0] - 1
    for i in range(n):
        src = indptr[i]
        dst = newptr[i]
        for t in range(newptr[i + 1] - dst):
            indices[dst + t] = indices[src + t]


@sized_kernel(cache=True)
def _count_pairs(n: int, pairs: np.ndarray, nparts: int) -> np.ndarray:
    """Degrees from a flat pair list ``(a0, b0, a1, b1, ...)``, self loops skipped.

    Each part owns a range of rows and scans all pairs, so no two threads write
    the same counter (numba has no atomics); the counts do not depend on nparts.
    """
    deg = np.zeros(n, np.int64)
    m = pairs.shape[0] // 2
    for t in prange(nparts):
        lo = n * t // nparts
        hi = n * (t + 1) // nparts
        for e in range(m):
            a = pairs[2 * e]
            b = pairs[2 * e + 1]
            if a == b:
                continue
            if lo <= a < hi:
                deg[a] += 1
            if lo <= b < hi:
                deg[b] += 1
    return deg


@sized_kernel(cache=True)
def _fill_pairs(indptr: np.ndarray, pairs: np.ndarray, nparts: int, indices: np.ndarray) -> None:
    """Scatter both directions of every pair into its rows (row ranges per part).

    Slots a row reserved but did not use (``indptr`` may over-reserve, e.g. for
    self loops) are set to the empty-slot marker. The order inside a row depends
    on nparts, but rows are sorted afterwards, so the final CSR does not.
    """
    n = indptr.shape[0] - 1
    cur = indptr[:-1].copy()
    m = pairs.shape[0] // 2
    for t in prange(nparts):
        lo = n * t // nparts
        hi = n * (t + 1) // nparts
        for e in range(m):
            a = pairs[2 * e]
            b = pairs[2 * e + 1]
            if a == b:
                continue
            if lo <= a < hi:
                indices[cur[a]] = b
                cur[a] += 1
            if lo <= b < hi:
                indices[cur[b]] = a
                cur[b] += 1
        for i in range(lo, hi):
            for k in range(cur[i], indptr[i + 1]):
                indices[k] = _EMPTY_SLOT


def _finish_rows(indptr: np.ndarray, indices: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Sort rows, drop repeated entries and shrink ``indices`` in place if any went."""
    n = indptr.shape[0] - 1
    newdeg = np.empty(n, np.int64)
    _sort_rows_dedupe(indptr, indices, newdeg)
    total = int(newdeg.sum())
    if total == indices.shape[0]:
        return indptr, indices
    newptr = np.zeros(n + 1, np.int64)
    np.cumsum(newdeg, out=newptr[1:])
    _compact(indptr, indices, newptr)
    try:
        indices.resize(total, refcheck=False)  # realloc: no second full-size copy
    except ValueError:
        indices = indices[:total].copy()
    return newptr, indices


def _network_from_pairs(n: int, pairs: np.ndarray, indptr: np.ndarray | None = None) -> Network:
    """CSR from a flat int32 pair list; self loops skipped, duplicates removed and counted.

    ``indptr`` may be given when the row sizes are known up to self loops (the
    configuration model's stub counts); it saves the counting pass.
    """
    nparts = max(1, numba.get_num_threads())
    if indptr is None:
        deg = _count_pairs(n, pairs, nparts)
        indptr = np.zeros(n + 1, np.int64)
        np.cumsum(deg, out=indptr[1:])
        del deg
    indices = np.empty(int(indptr[-1]), np.int32)  # numpy-owned so it can shrink in place
    _fill_pairs(indptr, pairs, nparts, indices)
    entries = indices.shape[0] - _count_empty(indices)
    indptr, indices = _finish_rows(indptr, indices)
    return Network(indptr, indices, duplicates_removed=(entries - indices.shape[0]) // 2)


@sized_kernel(cache=True)
def _count_empty(indices: np.ndarray) -> int:
    c = 0
    for k in prange(indices.shape[0]):
        if indices[k] == _EMPTY_SLOT:
            c += 1
    return c


@njit(cache=True)
def _is_permutation(perm: np.ndarray) -> bool:
    n = perm.shape[0]
    seen = np.zeros(n, np.uint8)
    for i in range(n):
        p = perm[i]
        if p < 0 or p >= n or seen[p]:
            return False
        seen[p] = 1
    return True


@sized_kernel(cache=True)
def _permute(indptr: np.ndarray, indices: np.ndarray, perm: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    n = indptr.shape[0] - 1
    deg = np.empty(n, np.int64)
    for i in prange(n):
        deg[perm[i]] = indptr[i + 1] - indptr[i]
    newptr = np.zeros(n + 1, np.int64)
    acc = 0
    for i in range(n):
        acc += deg[i]
        newptr[i + 1] = acc
    out = np.empty(indices.shape[0], np.int32)
    for i in prange(n):
        dst = newptr[perm[i]]
        lo = indptr[i]
        hi = indptr[i + 1]
        for k in range(lo, hi):
            out[dst + k - lo] = perm[indices[k]]
        _sort_segment(out, dst, dst + hi - lo)
    return newptr, out
