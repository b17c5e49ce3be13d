"""Peer rating: scores made of the 1-5 star ratings people give each other (``score.basis: ratings``).

Stage 3 (score) calls :func:`run` instead of the points kernels. One day:

1. **Interactions.** Person i starts ``K_i ~ Poisson(interactions)`` interactions
   (stream ``rating``, step = day, sub 0, agent i; at most 255 a day).
   Interaction k of i has its own counter ``256 i + k``. It is with a stranger,
   a uniform person of i's region other than i, with probability ``strangers``
   (sub 1), and always when i's row of the network has no slots; otherwise
   with the friend in a uniform slot of i's row (sub 2 picks the slot, or the
   stranger). A slot emptied during the run (a dropped tie) means no
   interaction.
2. **Ratings.** In each interaction the two persons rate each other. The
   rating of ratee j by rater r is

       x = clip(round(mu + l_j + a (s_j - 3) + b (s_r - 3) - q f - p h_j + sigma z), 1, 5)

   with ``s`` the scores as they stood at the end of yesterday, ``l_j`` j's
   fixed likeability (normal with sd ``likeability``; stream ``rating``, step 0,
   sub 7, agent j), ``f = 1`` if the two are strangers (the partner was drawn
   as a stranger), ``h_j = 1`` if j did a harmful behaviour today (stage 1),
   ``z`` a standard normal (sub 3: one 64-bit draw per interaction, whose
   high and low 32 bits give, through the normal quantile function, the
   noise of the initiator's rating of the partner and of the partner's
   rating of the initiator).
3. **Memory.** Each person keeps ``A_j = sum_k w_k x_k d^(t - t_k)`` and
   ``W_j = sum_k w_k d^(t - t_k)`` over the ratings k they received, with rater
   weight ``w_k = (s_rater / 3) ** gamma`` and ``d = 2 ** (-1 / half_life)``:
   each day ``A <- d A + (today's weighted stars)``, ``W <- d W + (today's weights)``
   (the ageing by ``d`` is done at the end of the previous day, in the pass
   that computes the scores).
   The initial score ``S0`` enters as ``w0`` (``prior``) ratings received on
   day 0, aged like the others: ``A = w0 S0`` and ``W = w0`` before day 0.
4. **Score.** ``S_j = clip(A_j / W_j)`` (yesterday's score if ``W_j`` is 0:
   no information, e.g. ``prior: 0`` and no rating yet).

The counterfactual twin has no false ratings, so ``score_cf = score``: wrongful
sanctions are zero by construction where scores come from ratings. Records
still arrive (they feed ``points`` and ``count()``) but do not enter the score.

Ratings are drawn in parallel, each initiator writing its own range of the
day's arrays with every draw keyed by person and interaction; they are then
added to the accumulators serially, in the order of the initiators. The
result is identical for any thread count.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np
from numba import njit, prange

from socialcredit import rng
from socialcredit.engine.counters import M
from socialcredit.engine.layout import CHUNK
from socialcredit.parallel import day_kernel

if TYPE_CHECKING:
    from socialcredit.engine.sim import Sim

MID = 3.0  # the middle of the star scale: the rating equation and the rater weights are centred on it
MAX_PER_DAY = 255  # interactions a person can start in one day
AGENT = 256  # counter of interaction k of person i: AGENT * i + k
INV32 = 1.0 / 4294967296.0  # 2**-32


@day_kernel(cache=True)
def count_kernel(key: np.uint64, lam: float, offsets: np.ndarray) -> None:
    """``offsets[i + 1]`` = interactions person i starts today (Poisson, capped); the caller takes the cumulative sum.

    The draw equals :func:`rng.poisson` (inversion with the same uniform), with ``exp(-lam)`` computed once."""
    n = offsets.shape[0] - 1
    nchunks = (n + CHUNK - 1) // CHUNK
    offsets[0] = 0
    p0 = np.exp(-lam)
    for c in prange(nchunks):
        for i in range(c * CHUNK, min(n, (c + 1) * CHUNK)):
            if lam > 50.0:
                k = rng.poisson(key, i, lam)
            else:
                u = rng.uniform(key, i)
                p = p0
                cum = p
                k = 0
                while u > cum and k < MAX_PER_DAY:
                    k += 1
                    p *= lam / k
                    cum += p
            offsets[i + 1] = min(k, MAX_PER_DAY)


# Acklam's rational approximation of the inverse normal CDF (relative error below 1.2e-9)
_A = (-3.969683028665376e01, 2.209460984245205e02, -2.759285104469687e02, 1.383577518672690e02, -3.066479806614716e01, 2.506628277459239e00)
_B = (-5.447609879822406e01, 1.615858368580409e02, -1.556989798598866e02, 6.680131188771972e01, -1.328068155288572e01)
_C = (-7.784894002430293e-03, -3.223964580411365e-01, -2.400758277161838e00, -2.549732539343734e00, 4.374664141464968e00, 2.938163982698783e00)
_D = (7.784695709041462e-03, 3.224671290700398e-01, 2.445134137142996e00, 3.754408661907416e00)
_PLOW = 0.02425


@njit(inline="always", cache=True)
def normal_quantile(p: float) -> float:
    """The standard normal quantile of p in (0, 1) (Acklam's approximation: no logarithm for 95% of draws)."""
    if p < _PLOW:
        q = np.sqrt(-2.0 * np.log(p))
        return (((((_C[0] * q + _C[1]) * q + _C[2]) * q + _C[3]) * q + _C[4]) * q + _C[5]) / (
            (((_D[0] * q + _D[1]) * q + _D[2]) * q + _D[3]) * q + 1.0
        )
    if p > 1.0 - _PLOW:
        q = np.sqrt(-2.0 * np.log(1.0 - p))
        return -(((((_C[0] * q + _C[1]) * q + _C[2]) * q + _C[3]) * q + _C[4]) * q + _C[5]) / (
            (((_D[0] * q + _D[1]) * q + _D[2]) * q + _D[3]) * q + 1.0
        )
    q = p - 0.5
    r = q * q
    return (((((_A[0] * r + _A[1]) * r + _A[2]) * r + _A[3]) * r + _A[4]) * r + _A[5]) * q / (
        ((((_B[0] * r + _B[1]) * r + _B[2]) * r + _B[3]) * r + _B[4]) * r + 1.0
    )


@njit(inline="always", cache=True)
def normal_pair(key: np.uint64, agent: int) -> tuple[float, float]:
    """Two independent standard normals from the two 32-bit halves of one counter draw (by their quantiles)."""
    h = rng.bits(key, agent)
    u1 = (float(np.int64(h >> np.uint64(32))) + 0.5) * INV32  # in (0, 1)
    u2 = (float(np.int64(h & np.uint64(0xFFFFFFFF))) + 0.5) * INV32
    return normal_quantile(u1), normal_quantile(u2)


@njit(inline="always", cache=True)
def weight_of_rater(s: float, power: float) -> float:
    """Weight of a rating by a rater at score s: (s / 3) ** power."""
    x = np.float64(s) / MID
    if power == 0.0:
        return 1.0
    if power == 1.0:
        return x
    if power == 2.0:
        return x * x
    return x**power


@njit(inline="always", cache=True)
def stars(v: float) -> np.uint8:
    """Round to whole stars (half up) and clip to 1-5."""
    x = np.floor(v + 0.5)
    if x < 1.0:
        x = 1.0
    elif x > 5.0:
        x = 5.0
    return np.uint8(x)


@day_kernel(cache=True)
def interact_kernel(
    kpick: np.uint64,
    kwho: np.uint64,
    kz: np.uint64,
    offsets: np.ndarray,  # int64 (N+1,) cumulative interactions started
    indptr: np.ndarray,
    indices: np.ndarray,
    region: np.ndarray,
    region_offsets: np.ndarray,
    score: np.ndarray,  # float32, yesterday's scores
    trait: np.ndarray,  # float32 (N,) likeability, or empty
    event: np.ndarray,  # uint8 (N,) today's behaviour (255: none)
    harmful: np.ndarray,  # bool (256,)
    strangers: float,
    q: float,
    mu: float,
    a: float,
    b: float,
    sigma: float,
    penalty: float,
    ratee: np.ndarray,  # out int32: partner of each interaction (-1: none)
    x_out: np.ndarray,  # out uint8: the initiator's rating of the partner
    x_back: np.ndarray,  # out uint8: the partner's rating of the initiator
) -> None:
    n = offsets.shape[0] - 1
    nchunks = (n + CHUNK - 1) // CHUNK
    use_trait = trait.shape[0] == n
    for c in prange(nchunks):
        for i in range(c * CHUNK, min(n, (c + 1) * CHUNK)):
            o = offsets[i]
            m = offsets[i + 1] - o
            if m == 0:
                continue
            row = indptr[i]
            deg = indptr[i + 1] - row
            reg = region[i]
            lo = region_offsets[reg]
            size = region_offsets[reg + 1] - lo
            si = score[i] - MID
            for k in range(m):
                agent = np.int64(i) * AGENT + k
                j = -1
                stranger = deg == 0 or rng.uniform(kpick, agent) < strangers
                if stranger:
                    if size > 1:
                        j = lo + rng.below(kwho, agent, size - 1)
                        if j >= i:
                            j += 1
                else:
                    j = indices[row + rng.below(kwho, agent, deg)]
                ratee[o + k] = j
                if j < 0:
                    x_out[o + k] = 0
                    x_back[o + k] = 0
                    continue
                sj = score[j] - MID
                v_out = mu + a * sj + b * si
                v_back = mu + a * si + b * sj
                if stranger:
                    v_out -= q
                    v_back -= q
                if use_trait:
                    v_out += trait[j]
                    v_back += trait[i]
                if penalty > 0.0:
                    if harmful[event[j]]:
                        v_out -= penalty
                    if harmful[event[i]]:
                        v_back -= penalty
                if sigma > 0.0:
                    z1, z2 = normal_pair(kz, agent)
                    v_out += sigma * z1
                    v_back += sigma * z2
                x_out[o + k] = stars(v_out)
                x_back[o + k] = stars(v_back)


@njit(cache=True)
def accumulate_kernel(
    offsets, ratee, x_out, x_back, weight, acc, wsum, region, group, tier, R, G, counts, c_given, c_received, c_low, c_stars
) -> None:  # fmt: skip
    """Add today's ratings, weighted by their rater, to the ratees' sums, and count them by cell.

    Serial, so the order of the additions is fixed. Counted: ratings given (in the rater's cells),
    received, received with 1 or 2 stars, and stars received (in the ratee's cells). ``counts`` may
    be empty (no tally).
    """
    n = offsets.shape[0] - 1
    do_tally = counts.shape[0] > 0
    for i in range(n):
        if offsets[i + 1] == offsets[i]:
            continue
        wi = weight[i]
        ci = (np.int64(tier[i]) * R + region[i]) * G + group[i]
        for q in range(offsets[i], offsets[i + 1]):
            j = ratee[q]
            if j < 0:
                continue
            wj = weight[j]
            xo = x_out[q]
            xb = x_back[q]
            acc[j] += wi * xo
            wsum[j] += wi
            acc[i] += wj * xb
            wsum[i] += wj
            if do_tally:
                cj = (np.int64(tier[j]) * R + region[j]) * G + group[j]
                counts[ci, c_given] += 1
                counts[cj, c_given] += 1
                counts[cj, c_received] += 1
                counts[ci, c_received] += 1
                counts[cj, c_stars] += xo
                counts[ci, c_stars] += xb
                if xo <= 2:
                    counts[cj, c_low] += 1
                if xb <= 2:
                    counts[ci, c_low] += 1


@day_kernel(cache=True)
def score_kernel(
    acc: np.ndarray, wsum: np.ndarray, lo: float, hi: float, decay: float, power: float,
    score: np.ndarray, score_cf: np.ndarray, weight: np.ndarray,
) -> None:  # fmt: skip
    """S = clip(A / W); then the sums are aged by one day and the rater weights set for tomorrow.

    The twin's score is the same (ratings are never false). Between days ``acc`` and ``wsum`` therefore
    hold ``d A`` and ``d W``, and ``weight`` holds ``(S / 3) ** power`` of the scores just computed.
    """
    n = acc.shape[0]
    nchunks = (n + CHUNK - 1) // CHUNK
    for c in prange(nchunks):
        for i in range(c * CHUNK, min(n, (c + 1) * CHUNK)):
            if wsum[i] > 0.0:
                s = min(max(acc[i] / wsum[i], lo), hi)
                score[i] = s
                score_cf[i] = s
            else:  # no information: keep the score
                score_cf[i] = score[i]
            acc[i] *= decay
            wsum[i] *= decay
            weight[i] = weight_of_rater(score[i], power)


@day_kernel(cache=True)
def relax_kernel(points: np.ndarray, points_cf: np.ndarray, relax: float) -> None:
    """``recovery.mode: relax`` for the points (the score kernel of the points basis does it otherwise)."""
    n = points.shape[0]
    nchunks = (n + CHUNK - 1) // CHUNK
    for c in prange(nchunks):
        for i in range(c * CHUNK, min(n, (c + 1) * CHUNK)):
            points[i] *= relax
            points_cf[i] *= relax


class RatingBook:
    """Per-person rating state: the aged sums A (weighted stars) and W (weights), the rater weights, likeability."""

    def __init__(self, sim: Sim) -> None:
        n = sim.state.n
        rp = sim.plan.ratings
        # float64: the sums of a person who gets no ratings shrink by d a day; float32 would reach 0 after 150 half-lives
        self.acc = np.full(n, rp.prior * sim.plan.score.initial, np.float64)  # the prior: w0 ratings at S0 on day 0
        self.wsum = np.full(n, rp.prior, np.float64)
        self.weight = np.full(n, weight_of_rater(sim.plan.score.initial, rp.rater_power), np.float64)  # everyone starts at S0
        if rp.likeability > 0.0:
            z = rng.normals(rng.key(sim.plan.seed, "rating", 0, 7), n)
            self.trait = (rp.likeability * z).astype(np.float32)
        else:
            self.trait = np.zeros(0, np.float32)


def book_of(sim: Sim) -> RatingBook:
    """The run's rating state (made at setup when scores come from ratings)."""
    return sim.rating_book


def draw_day(sim: Sim, day: int) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Today's interactions and ratings: (offsets, ratee, x_out, x_back); interactions of i are offsets[i]:offsets[i+1]."""
    plan = sim.plan
    rp = plan.ratings
    st = sim.state
    pers = sim.pop.persons
    net = sim.pop.network
    book = book_of(sim)
    n = st.n
    offsets = np.empty(n + 1, np.int64)
    count_kernel(rng.key(plan.seed, "rating", day, 0), rp.interactions, offsets)
    np.cumsum(offsets, out=offsets)
    total = int(offsets[-1])
    ratee = np.empty(total, np.int32)
    x_out = np.empty(total, np.uint8)
    x_back = np.empty(total, np.uint8)
    keys = [rng.key(plan.seed, "rating", day, sub) for sub in (1, 2, 3)]
    interact_kernel(
        *keys, offsets, net.indptr, net.indices, pers.region, pers.region_offsets, st.score, book.trait, st.event, plan.behaviours.harmful,
        rp.strangers, rp.stranger_penalty, rp.mean, rp.ratee_weight, rp.rater_weight, rp.noise, rp.harmful_penalty, ratee, x_out, x_back,
    )  # fmt: skip
    return offsets, ratee, x_out, x_back


def run(sim: Sim) -> None:
    """Stage 3 under ``score.basis: ratings``: today's ratings, then everyone's score from the aged sums."""
    plan = sim.plan
    rp = plan.ratings
    st = sim.state
    book = book_of(sim)
    if plan.score.recovery_mode == "relax":
        relax_kernel(st.points, st.points_cf, plan.score.relax_factor)
    # book.acc and book.wsum were aged at the end of yesterday; book.weight holds yesterday's rater weights
    if rp.interactions > 0.0:
        offsets, ratee, x_out, x_back = draw_day(sim, st.day)
        t = sim.counters
        pers = sim.pop.persons
        accumulate_kernel(
            offsets, ratee, x_out, x_back, book.weight, book.acc, book.wsum, pers.region, pers.group, st.tier, t.R, t.G, t.counts,
            M["ratings_given"], M["ratings_received"], M["ratings_low"], M["stars_received"],
        )  # fmt: skip
    score_kernel(book.acc, book.wsum, plan.score.lo, plan.score.hi, rp.decay, rp.rater_power, st.score, st.score_cf, book.weight)
    sim.handoffs.touched = None  # everyone's score may have changed
    sim.handoffs.score_range = None
    sim.handoffs.rescore = sim.handoffs.rescore[:0]
