"""The Mesa peer (benchmarks/peers/mesa_reference.py) implements the same reference model as socialcredit.

Both implementations run the reference model at 2,000 persons for 365 days with seeds 1-5, each with its
own random numbers (the engine's counter-based draws; Mesa's ``self.random`` and ``self.rng``), so their
outcomes agree only in distribution. Compared per seed: the mean, standard deviation and 10th, 50th and
90th percentiles of the final composite scores, the share of each of the six tiers, and the sizes of the
blacklist and the redlist (13 statistics).

Tolerances (derived from the between-seed spread):

- for each statistic x with per-seed values x_a (Mesa) and x_b (socialcredit) over k = 5 seeds,
  ``|mean(x_a) - mean(x_b)| < 4 * sqrt(se_a**2 + se_b**2)``, with ``se = sd(x, ddof=1) / sqrt(k)``. The
  ratio is t-distributed with about 8 degrees of freedom when the models agree: P(|t| > 4) = 0.4 %, so
  the 13 comparisons together fail by chance with probability below 5 %. With seeds 1-5 the bounds are
  2.9 points on the mean score (0.07 of its SD of 44), 1.7 on the SD, 2.0 percentage points on the B
  share and 25 persons on the blacklist (of about 118): missing deterrence (about +5 points on the mean)
  or a missing social term (SD about 48) would fail;
- a two-sample Kolmogorov-Smirnov test on the pooled final scores (10,000 per implementation) must not
  reject at the 0.1 % level (that is, the KS distance is below about 0.028).

With 20 seeds at 2,000 persons, 6 at 20,000 and 3 at 100,000 (run once while writing the peer) no
statistic differed systematically. The file takes about 10 s on an idle 2-core machine (Mesa about 1.2 s
per run), 40-70 s on a busy one or with a cold compile cache.
"""

from __future__ import annotations

import sys
from pathlib import Path

import numpy as np
import pytest
from scipy import stats

ROOT = Path(__file__).resolve().parents[2]
if str(ROOT) not in sys.path:  # the peers live in benchmarks/, outside the package
    sys.path.insert(0, str(ROOT))

from benchmarks.peers import mesa_reference as mr

PERSONS = 2000
DAYS = 365
SEEDS = (1, 2, 3, 4, 5)
Z = 4.0
KS_ALPHA = 0.001
STATS = ("mean", "sd", "p10", "p50", "p90", *(f"share_{t}" for t in mr.TIER_NAMES), "blacklisted", "redlisted")


def summary(o: dict) -> dict[str, float]:
    s = o["scores"]
    p10, p50, p90 = np.percentile(s, [10, 50, 90])
    out = {"mean": float(s.mean()), "sd": float(s.std()), "p10": p10, "p50": p50, "p90": p90}
    out.update({f"share_{t}": v for t, v in o["tier_shares"].items()})
    out["blacklisted"] = float(o["blacklisted"])
    out["redlisted"] = float(o["redlisted"])
    return out


@pytest.fixture(scope="module")
def runs() -> dict[str, dict]:
    out = {}
    for name, fn in (("mesa", mr.run_mesa), ("socialcredit", mr.run_socialcredit)):
        per_seed = [fn(PERSONS, seed, DAYS) for seed in SEEDS]
        out[name] = {
            "stats": {k: np.array([summary(o)[k] for o in per_seed]) for k in STATS},
            "scores": np.concatenate([o["scores"] for o in per_seed]),
        }
    return out


def test_constants_match_the_reference_scenario() -> None:
    """The peer's hard-coded numbers are those of scenarios/reference.yaml."""
    import socialcredit as sc

    rb = sc.load("reference")
    pop = rb.population
    assert tuple(r.share for r in pop.regions) == mr.REGION_SHARES
    assert tuple(g.share for g in pop.groups) == mr.GROUP_SHARES
    assert tuple(float(g.misidentification) for g in pop.groups) == mr.MISIDENTIFICATION
    assert (pop.network.generator, pop.network.mean_degree, pop.network.rewiring) == ("small_world", mr.MEAN_DEGREE, mr.REWIRING)
    assert tuple(b.rate for b in rb.behaviours) == mr.RATES
    assert tuple(b.points for b in rb.behaviours) == mr.POINTS
    assert tuple(b.channel for b in rb.behaviours) == mr.CHANNELS
    assert all(b.heterogeneity == mr.HETEROGENEITY for b in rb.behaviours)
    ch = rb.detection.channels
    assert tuple(ch["camera"].coverage[r.name] for r in pop.regions) == mr.CAMERA_COVERAGE
    assert ch["records"].coverage == mr.RECORDS_COVERAGE
    assert {k: c.false_attribution for k, c in ch.items()} == mr.FALSE_ATTRIBUTION
    assert all(c.spurious_rate == 0 for c in ch.values())
    s = rb.score
    assert (s.initial, *s.bounds) == (mr.INITIAL, mr.LOW, mr.HIGH)
    assert (s.recovery.mode, s.recovery.days) == ("expire", mr.EXPIRE_DAYS)
    assert (s.social.friends, s.social.period, s.social.composite) == (mr.W_FRIENDS, mr.SOCIAL_PERIOD, True)
    assert tuple(t.name for t in rb.tiers) == mr.TIER_NAMES
    assert tuple(t.min for t in rb.tiers[:-1]) == mr.TIER_MINS
    assert rb.lists.blacklist.min_days == mr.BLACKLIST_MIN_DAYS
    assert [(x.name, x.demand) for x in rb.services] == [("flight", mr.FLIGHT), ("train", mr.TRAIN), ("loan", mr.LOAN)]
    assert rb.services[2].consequences.income == mr.LOAN_INCOME_CHANGE
    d = rb.responses.deterrence
    assert (d.elasticity, d.half_life, d.points_scale, d.sanction_weight) == (
        mr.ELASTICITY, mr.HALF_LIFE, mr.POINTS_SCALE, mr.SANCTION_WEIGHT
    )  # fmt: skip


def test_small_world_network_matches_the_engine_generator() -> None:
    """Same ties as the engine's generator in distribution: within regions, symmetric, degree 20 +- the same spread."""
    from socialcredit.population.generators import small_world

    sizes = mr.largest_remainder(6000, mr.REGION_SHARES)
    nbrs = mr.small_world(sizes, mr.MEAN_DEGREE, mr.REWIRING, np.random.default_rng(5))
    region = np.repeat(np.arange(3), sizes)
    deg = np.array([len(x) for x in nbrs])
    assert deg.mean() == mr.MEAN_DEGREE
    for i, row in enumerate(nbrs):
        assert i not in row and len(set(row)) == len(row)
        assert (region[row] == region[i]).all()
        assert all(i in nbrs[j] for j in row)
    # the share of ties that left the lattice (ring distance > 10 within the block), and the degree spread
    offsets = np.concatenate(([0], np.cumsum(sizes)))
    net = small_world(offsets, mr.MEAN_DEGREE, mr.REWIRING, 5)
    deg_engine = np.diff(net.indptr)

    def far_share(rows) -> float:
        far = total = 0
        for i, row in enumerate(rows):
            s = sizes[region[i]]
            d = (np.asarray(row) - i) % s
            far += int((np.minimum(d, s - d) > mr.MEAN_DEGREE // 2).sum())
            total += len(row)
        return far / total

    engine_rows = [net.indices[net.indptr[i] : net.indptr[i + 1]] for i in range(6000)]
    assert abs(far_share(nbrs) - far_share(engine_rows)) < 0.01  # both about 0.1 (rewired ties)
    assert abs(deg.std() - deg_engine.std()) < 0.15  # both about 1.37


@pytest.mark.parametrize("stat", STATS)
def test_statistics_agree_within_the_between_seed_spread(runs, stat: str) -> None:
    a = runs["mesa"]["stats"][stat]
    b = runs["socialcredit"]["stats"][stat]
    k = len(SEEDS)
    se = np.sqrt(a.var(ddof=1) / k + b.var(ddof=1) / k)
    diff = a.mean() - b.mean()
    assert abs(diff) < Z * se, f"{stat}: Mesa {a.mean():.4f} vs socialcredit {b.mean():.4f} (diff {diff:.4f}, bound {Z * se:.4f})"


def test_final_score_distributions_agree(runs) -> None:
    res = stats.ks_2samp(runs["mesa"]["scores"], runs["socialcredit"]["scores"])
    assert res.pvalue > KS_ALPHA, f"KS distance {res.statistic:.4f}, p = {res.pvalue:.2g}"
