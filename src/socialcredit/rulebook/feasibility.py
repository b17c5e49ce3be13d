"""What a rulebook's numbers imply before anything is built: region blocks, and whether the network can be made.

Persons are numbered region by region; :func:`region_blocks` splits the
population by the regions' shares. :func:`network_problem` runs the network
generators' parameter checks (which depend on the region sizes) on the
rulebook alone, so that the loader can refuse an impossible network with the
file, line and column of the offending key. The generators
(:mod:`socialcredit.population.generators`) use the same functions.
"""

from __future__ import annotations

import math

import numpy as np

from socialcredit.rulebook.schema import Rulebook


def block_sizes(total: int, shares: list[float]) -> np.ndarray:
    """Split ``total`` into blocks by shares (largest remainder, so they add up exactly)."""
    raw = np.asarray(shares, dtype=np.float64) * total
    sizes = np.floor(raw).astype(np.int64)
    rest = total - int(sizes.sum())
    order = np.argsort(-(raw - sizes), kind="stable")
    sizes[order[:rest]] += 1
    return sizes


def offsets_from_sizes(sizes: np.ndarray) -> np.ndarray:
    out = np.zeros(len(sizes) + 1, dtype=np.int64)
    np.cumsum(sizes, out=out[1:])
    return out


def region_blocks(persons: int, shares: list[float]) -> np.ndarray:
    return offsets_from_sizes(block_sizes(persons, shares))


def expected_floor_degree(xmin: float, alpha: float, cap: int) -> float:
    """E[min(floor(x), cap)] for x ~ Pareto(xmin, alpha) truncated to [xmin, cap + 1)."""
    b = cap + 1.0
    d = np.arange(1, cap + 1, dtype=np.float64)
    t = np.maximum(d, xmin)
    return float(np.sum((t**-alpha - b**-alpha) / (xmin**-alpha - b**-alpha)))


def check_mean_degree(mean: float, alpha: float, cap: int) -> None:
    """Raise ValueError if no Pareto scale gives floored, capped degrees of mean ``mean``.

    Also used to validate rulebooks before anything is built (see
    :func:`network_problem`).
    """
    lo, hi = 1.0, float(cap)
    if mean < expected_floor_degree(lo, alpha, cap) - 1e-9:
        raise ValueError(
            f"mean_degree {mean} is below {expected_floor_degree(lo, alpha, cap):.3f}, the smallest mean "
            f"possible with exponent {alpha + 1.0} when every node has at least one tie; raise mean_degree "
            "or the exponent"
        )
    if mean > expected_floor_degree(hi, alpha, cap) + 1e-9:
        raise ValueError(
            f"mean_degree {mean} is too high for the degree cap {cap} = min(s - 1, sqrt(mean_degree * s)) "
            "of a block of s persons"
        )


def block_probabilities(ro: np.ndarray, mean_degree: float, within_share: float) -> tuple[np.ndarray, float]:
    """Tie probabilities of the block model: per-region within, and one between value.

    ``p_between = n d (1 - w) / (n^2 - sum s_r^2)`` so between ties are spread over
    other regions in proportion to their size and make up a share ``1 - w`` of
    all ties; ``p_within[r] = (d - p_between (n - s_r)) / (s_r - 1)`` so every
    node's expected degree is ``d``.
    """
    sizes = np.diff(ro).astype(np.float64)
    n = float(ro[-1])
    d = float(mean_degree)
    if d < 0 or not 0.0 <= within_share <= 1.0:
        raise ValueError("mean_degree must be >= 0 and within_share in [0, 1]")
    off_pairs = n * n - float(np.sum(sizes**2))
    p_between = n * d * (1.0 - within_share) / off_pairs if off_pairs > 0 else 0.0
    within_deg = d - p_between * (n - sizes)
    p_within = np.where(sizes > 1, within_deg / np.maximum(sizes - 1.0, 1.0), 0.0)
    if p_between > 1.0 or np.any(p_within > 1.0):
        raise ValueError("mean_degree too high for these region sizes (a tie probability exceeds 1)")
    if np.any((within_deg < -1e-12) & (sizes > 0)):
        # within_deg_r >= 0 for all r  <=>  1 - w <= off_pairs / (n * max_r (n - s_r))
        least = 1.0 - off_pairs / (n * float(np.max(n - sizes[sizes > 0])))
        raise ValueError(
            f"within_share {within_share} is too low for these region sizes: persons of the smallest "
            f"region would need more than mean_degree ties to other regions; use within_share >= {least:.3f}"
        )
    return np.clip(p_within, 0.0, 1.0), p_between


def network_problem(rb: Rulebook) -> tuple[str, str] | None:
    """(key in ``population.network``, message) if the generator cannot build this network, else None.

    Runs the generators' parameter checks (which depend on the region sizes)
    without building anything, so the loader can refuse the rulebook with the
    file, line and column of the offending key.
    """
    spec = rb.population.network
    if spec.generator not in ("scale_free", "block"):
        return None
    offsets = region_blocks(rb.population.persons, [r.share for r in rb.population.regions])
    try:
        if spec.generator == "block":
            block_probabilities(offsets, spec.mean_degree, spec.within_share)
        elif spec.mean_degree > 0:
            alpha = float(spec.exponent) - 1.0
            for s in sorted({int(x) for x in np.diff(offsets)}):
                if s >= 2:
                    cap = max(1, min(s - 1, int(math.isqrt(int(spec.mean_degree * s)))))
                    check_mean_degree(float(spec.mean_degree), alpha, cap)
    except ValueError as exc:
        text = str(exc)
        key = "within_share" if text.startswith("within_share") else "mean_degree"
        return key, text
    return None
