"""Kernels that run in parallel only on large arrays, so that small runs do not compile the parallel version.

A parallel Numba kernel takes about twice as long to compile as the same
loop compiled serially (docs/performance.md: a new user's first run spent
half its time compiling the parallel versions), and on a few hundred
thousand persons its setup passes gain little from a second thread.
:func:`sized_kernel` compiles a function both ways, each on first use
only, and calls the parallel version when the largest array argument has at
least :data:`PARALLEL_FROM` elements. The code is the same loop either way
(``prange`` is ``range`` in the serial version), and kernels give the same
result on any number of threads, so the choice changes nothing but time.

Use it for kernels called from Python (not from other kernels) that run a
few times a run: the population's and network's setup passes.
"""

from __future__ import annotations

import types
from collections.abc import Callable
from typing import Any

import numpy as np
from numba import njit

PARALLEL_FROM = 4_000_000  # elements of the largest array argument (1M persons' arrays, or 100k persons' ties, are below)


def _renamed(f: Callable[..., Any], suffix: str) -> Callable[..., Any]:
    """A copy of ``f`` under another name, so that its compiled version is cached apart from ``f``'s."""
    g = types.FunctionType(f.__code__, f.__globals__, f.__name__ + suffix, f.__defaults__, f.__closure__)
    g.__qualname__ = f.__qualname__ + suffix
    g.__module__ = f.__module__
    g.__doc__ = f.__doc__
    return g


class SizedKernel:
    """One function compiled serially and in parallel; the size of its arguments picks which runs."""

    def __init__(self, f: Callable[..., Any], size: Callable[..., int] | None = None, **options: Any) -> None:
        self.py_func = f
        self.size = size
        self.__doc__ = f.__doc__
        self.__name__ = f.__name__
        self.parallel = njit(parallel=True, **options)(f)
        self.serial = njit(**options)(_renamed(f, "_serial"))

    def __call__(self, *args: Any) -> Any:
        if self.size is not None:
            n = int(self.size(*args))
        else:
            n = max((a.size for a in args if isinstance(a, np.ndarray)), default=0)
        return (self.parallel if n >= PARALLEL_FROM else self.serial)(*args)


def sized_kernel(size: Callable[..., int] | None = None, **options: Any) -> Callable[[Callable[..., Any]], SizedKernel]:
    """Decorator: ``@sized_kernel(cache=True)`` in place of ``@njit(parallel=True, cache=True)``.

    The size is the largest array argument's, or ``size(*args)`` when given (for kernels told the number of
    persons rather than given an array of them)."""

    def wrap(f: Callable[..., Any]) -> SizedKernel:
        return SizedKernel(f, size=size, **options)

    return wrap


def persons_in_offsets(offsets: np.ndarray, *rest: Any) -> int:
    """The size of a kernel whose first argument is the regions' offsets (its last entry is the number of persons)."""
    return int(offsets[-1]) if offsets.size else 0
