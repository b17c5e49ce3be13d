"""Collecting the persons a parallel pass picked, as ascending indices.

Several stages pick a few persons out of everyone (who acts today, who tries
a service, who can change tier or list). A parallel pass over the chunks of
persons notes each pick as its offset within the chunk (``uint16``: chunks
hold ``CHUNK`` persons) in a scratch array at the chunk's own place, and
counts the picks per chunk; :func:`gather_kernel` then copies the picks into
one array. This reads the population once; a mask followed by a second scan
(numpy's ``flatnonzero``) reads it twice, and at 10M persons each scan of a
byte mask costs 2-3 ms.
"""

from __future__ import annotations

import numpy as np
from numba import njit, prange

from socialcredit.engine.layout import CHUNK
from socialcredit.parallel import day_kernel


@day_kernel(cache=True)
def gather_kernel(local: np.ndarray, counts: np.ndarray) -> np.ndarray:
    """The picks noted in ``local`` (offsets within each chunk, ``counts[c]`` of them) as global indices.

    A day kernel (serial on a cold cache, socialcredit/parallel.py): its parallel version is half a second of a
    first run's compile time."""
    nchunks = counts.shape[0]
    start = np.zeros(nchunks + 1, np.int64)
    for c in range(nchunks):
        start[c + 1] = start[c] + counts[c]
    out = np.empty(start[nchunks], np.int64)
    for c in prange(nchunks):
        lo = c * CHUNK
        p = start[c]
        for q in range(counts[c]):
            out[p + q] = lo + np.int64(local[lo + q])
    return out


@njit(cache=True)
def gather_with_kernel(local: np.ndarray, counts: np.ndarray, values: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """:func:`gather_kernel`, and the values noted beside the picks (``values[lo + q]`` for the q-th pick of the
    chunk starting at ``lo``). Serial: it copies a few percent of the persons, and a parallel version would add
    about half a second to a first run's compile time."""
    nchunks = counts.shape[0]
    start = np.zeros(nchunks + 1, np.int64)
    for c in range(nchunks):
        start[c + 1] = start[c] + counts[c]
    out = np.empty(start[nchunks], np.int64)
    val = np.empty(start[nchunks], values.dtype)
    for c in range(nchunks):
        lo = c * CHUNK
        p = start[c]
        for q in range(counts[c]):
            out[p + q] = lo + np.int64(local[lo + q])
            val[p + q] = values[lo + q]
    return out, val


def in_sorted(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """``np.isin(a, b)`` for ``b`` sorted ascending: one binary search per element of ``a``.

    numpy's ``isin`` sorts both arrays on every call, about 0.1 ms on a few hundred persons; the day's services
    and the audit call it a few times a day.
    """
    if b.size == 0 or a.size == 0:
        return np.zeros(a.shape, bool)
    i = np.minimum(np.searchsorted(b, a), b.size - 1)
    return b[i] == a

