"""Strict JSON out: every file and ``--json`` output the project writes is standard JSON.

Python's ``json`` writes ``NaN`` and ``Infinity`` for non-finite floats, which
are not JSON and break other readers. Here they become ``null`` (a measure
that has no value, such as the friends of the blacklisted when nobody is
blacklisted), NumPy scalars and arrays become numbers and lists, and anything
else unknown becomes its text.
"""

from __future__ import annotations

import json
import math
from typing import Any


def plain(obj: Any) -> Any:
    """``obj`` with non-finite floats as None, NumPy values as Python ones, tuples as lists."""
    if isinstance(obj, float):
        return obj if math.isfinite(obj) else None
    if isinstance(obj, (str, int, bool)) or obj is None:
        return obj
    if isinstance(obj, dict):
        return {str(k): plain(v) for k, v in obj.items()}
    if isinstance(obj, (list, tuple)):
        return [plain(v) for v in obj]
    try:
        import numpy as np

        if isinstance(obj, np.ndarray):
            return plain(obj.tolist())
        if isinstance(obj, np.generic):
            return plain(obj.item())
    except ImportError:  # pragma: no cover
        pass
    return str(obj)


def dumps(obj: Any, **kwargs: Any) -> str:
    """``json.dumps`` that always writes standard JSON (``allow_nan=False`` after :func:`plain`)."""
    return json.dumps(plain(obj), allow_nan=False, **kwargs)
