"""Tests of engine.stages.enrolment: only the enrolled are scored and sanctioned; shares rise, then everyone."""

from __future__ import annotations

import copy

import numpy as np
import pandas as pd

from tests.conftest import base_rulebook, run

SHARE = {"north": 0.5, "south": 0.1}


def enrolled(data: dict, **kw) -> dict:
    out = copy.deepcopy(data)
    out["enrolment"] = {"share": dict(SHARE), "assumed": "test", **kw}
    return out


def rows(res, breakdown: str = "all") -> pd.DataFrame:
    return res.daily[res.daily["breakdown"] == breakdown].reset_index(drop=True)


def test_the_enrolled_share_is_binomial_by_region() -> None:
    """Enrolled in a region ~ Binomial(N_r, share_r): within 4 standard errors; 'enrolled' counts them."""
    sim, res = run(enrolled(base_rulebook(persons=6000, days=5)))
    reg = rows(res, "region")
    last = reg[reg["day"] == 4].set_index(reg[reg["day"] == 4]["level"].astype(str))
    for r, p in SHARE.items():
        n = int(last.loc[r, "persons"])
        k = int(last.loc[r, "enrolled"])
        assert abs(k / n - p) < 4 * np.sqrt(p * (1 - p) / n), (r, k, n)
    assert rows(res)["enrolled"].iloc[-1] == int(sim.enrolment.mask.sum())


def test_no_record_and_no_sanction_for_the_unenrolled() -> None:
    """Same seed, on and off: with enrolment no record is written about, and no service denied to, a person not in."""
    data = base_rulebook(persons=4000, days=90)
    sim, on = run(enrolled(data))
    _, off = run(data)
    out = ~sim.enrolment.mask
    recorded = on.audit[on.audit["event"] == "record"]["person"].to_numpy()
    denied = on.audit[on.audit["event"] == "denial"]["person"].to_numpy()
    assert not out[recorded].any() and not out[denied].any()
    assert (sim.state.score[out] == 1000).all() and (sim.state.black_since[out] < 0).all()
    # about 0.6*0.5 + 0.4*0.1 = 34% are in: records fall to about a third of the run without enrolment
    ratio = rows(on)["records_true"].sum() / rows(off)["records_true"].sum()
    assert 0.28 < ratio < 0.40, ratio
    assert rows(on)["blacklisted"].iloc[-1] < rows(off)["blacklisted"].iloc[-1]


def test_a_rising_share_keeps_the_enrolled_and_mandatory_takes_everyone() -> None:
    data = enrolled(base_rulebook(persons=3000, days=60), ramp=[[0, 0.2], [40, 1.0]], mandatory=50)
    seen = []
    from tests.conftest import run_stepwise

    def after(sim, day: int) -> None:
        seen.append(sim.enrolment.mask.copy())

    _, res = run_stepwise(data, after=after)
    counts = rows(res)["enrolled"].to_numpy()
    assert (np.diff(counts[:50]) >= 0).all() and counts[0] < counts[40]
    for a, b in zip(seen, seen[1:]):
        assert not (a & ~b).any()  # nobody leaves while the share rises
    assert (counts[50:] == 3000).all() and counts[49] < 3000
    events = res.audit[res.audit["event"] == "enrolled"]
    assert (events["day"] == 50).any() and events["person"].is_unique


def test_lists_take_no_one_who_is_not_enrolled() -> None:
    """A list whose condition holds without records (by group) lists only the enrolled: tabulated and general paths."""
    for condition in ("group == 'minority'", "group == 'minority' and score < 5000"):
        data = base_rulebook(persons=3000, days=20)
        data["lists"] = {"blacklist": {"enter": condition, "min_days": 0}}
        sim, res = run(enrolled(data))
        listed = sim.state.black_since >= 0
        minority = sim.pop.persons.group == 1
        assert listed.any() and not (listed & ~sim.enrolment.mask).any(), condition
        assert (listed == (minority & sim.enrolment.mask)).all(), condition
        assert (sim.state.black_since_cf[~sim.enrolment.mask] < 0).all()
