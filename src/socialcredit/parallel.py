"""Kernels compiled both serially and in parallel, so that a run compiles the parallel version only where it pays.

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

:func:`day_kernel` is for the kernels of the day. A run uses their parallel
versions when the simulation asks for more than one thread, when this
process has compiled them already, when Numba's cache holds them, or on
large arrays; on a cold cache (a new user's first run, a new version) it
runs the serial versions, which compile in half the time, and notes the
kernels in :data:`COLD`: the engine then compiles their parallel versions
in a background process for the next run (engine/compile_ahead.py).
``SOCIALCREDIT_KERNELS=parallel`` or ``serial`` forces one version.
"""

from __future__ import annotations

import os
import types
from collections.abc import Callable
from typing import Any

import numba
import numpy as np
from numba import njit

PARALLEL_FROM = 4_000_000  # elements of the largest array argument (the ties of 100,000 persons are below, of 200,000 above)
PER_PERSON = 8  # a kernel over persons (not their ties) counts each as 8 elements: parallel from 500,000 persons
PREFER = "auto"  # day kernels: "parallel", "serial" or "auto" (see above); set by the simulation from its threads
FORCE = os.environ.get("SOCIALCREDIT_KERNELS", "")  # "parallel" or "serial" overrides PREFER (the compile-ahead process)
COLD: set[str] = set()  # day kernels this process ran serially because their parallel version was not compiled yet


_threads_started = False


def start_threads() -> None:
    """Start Numba's threading layer, once per process, before a kernel runs.

    A kernel that reads its thread id (``numba.get_thread_id``, for per-thread
    partial sums), loaded from Numba's cache, crashes the process if no
    parallel code has started the threading layer yet: compiling it starts the
    layer, loading it from the cache does not. Simulations start it when they
    choose their threads; this covers a kernel called on its own.
    """
    global _threads_started
    if not _threads_started:
        numba.get_num_threads()  # starts the layer
        _threads_started = True


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

    def _size(self, args: tuple[Any, ...]) -> int:
        if self.size is not None:
            return int(self.size(*args))
        return max((a.size for a in args if isinstance(a, np.ndarray)), default=0)

    def __call__(self, *args: Any) -> Any:
        start_threads()
        return (self.parallel if self._size(args) >= PARALLEL_FROM else self.serial)(*args)


def cached(dispatcher: Any) -> bool:
    """Whether Numba's cache holds a compiled version of ``dispatcher`` for its current source."""
    try:
        return bool(dispatcher._cache._cache_file._load_index())
    except Exception:  # no cache, or another Numba: treat as not cached
        return False


class DayKernel(SizedKernel):
    """A kernel of the day: its parallel version once compiled or cached (see the module's docstring)."""

    def __init__(self, f: Callable[..., Any], size: Callable[..., int] | None = None, **options: Any) -> None:
        super().__init__(f, size=size, **options)
        self._auto: Any = None

    def version(self, args: tuple[Any, ...]) -> Any:
        start_threads()
        prefer = FORCE or PREFER
        if prefer == "parallel":
            return self.parallel
        if prefer == "serial":
            return self.serial
        if self._auto is None:
            if self.parallel.signatures or cached(self.parallel) or self._size(args) >= PARALLEL_FROM:
                self._auto = self.parallel
            else:
                self._auto = self.serial
                COLD.add(f"{self.py_func.__module__}.{self.__name__}")
        return self._auto

    def __call__(self, *args: Any) -> Any:
        v = self._auto
        if v is None or FORCE or PREFER != "auto":  # the common case (decided, default threads) first: a call a kernel
            v = self.version(args)
        return v(*args)


def sized_kernel(size: Callable[..., int] | None = None, **options: Any) -> Callable[[Callable[..., Any]], SizedKernel]:
    """Decorator: ``@sized_kernel(cache=True)`` in place of ``@njit(parallel=True, cache=True)``.

    The size is the largest array argument's, or ``size(*args)`` when given (for kernels told the number of
    persons rather than given an array of them)."""

    def wrap(f: Callable[..., Any]) -> SizedKernel:
        return SizedKernel(f, size=size, **options)

    return wrap


def day_kernel(size: Callable[..., int] | None = None, **options: Any) -> Callable[[Callable[..., Any]], DayKernel]:
    """Decorator: ``@day_kernel(cache=True)`` in place of ``@njit(parallel=True, cache=True)`` for a kernel of the day."""

    def wrap(f: Callable[..., Any]) -> DayKernel:
        return DayKernel(f, size=size, **options)

    return wrap


def persons(n: int) -> int:
    """The size of a kernel over ``n`` persons (each weighs :data:`PER_PERSON` elements)."""
    return int(n) * PER_PERSON


def persons_in_offsets(offsets: np.ndarray, *rest: Any) -> int:
    """The size of a kernel over persons whose first argument is the regions' offsets (the last is the persons)."""
    return persons(offsets[-1]) if offsets.size else 0
