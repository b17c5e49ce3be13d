"""Tests of engine.stages.targeting: records written on purpose against persons matching a condition."""

from __future__ import annotations

import copy

import numpy as np

from tests.conftest import base_rulebook, run

RATE = 4.0


def aimed(data: dict, **kw) -> dict:
    out = copy.deepcopy(data)
    out["targeting"] = [{"behaviour": "fraud", "where": "group == 'minority'", "rate": RATE, "assumed": "test", **kw}]
    return out


def by_group(res, col: str):
    g = res.daily[res.daily["breakdown"] == "group"]
    return g.groupby(g["level"].astype(str), observed=True)[col]


def test_only_the_aimed_at_are_hit_at_the_rate() -> None:
    """Targeted records ~ Poisson(N_minority * rate/365 * days): within 4 standard errors; none for the majority."""
    days = 60
    sim, res = run(aimed(base_rulebook(persons=5000, days=days)))
    total = by_group(res, "records_targeted").sum()
    n_min = int((sim.pop.persons.group == 1).sum())
    expected = n_min * RATE / 365 * days
    assert total["majority"] == 0
    assert abs(total["minority"] - expected) < 4 * np.sqrt(expected)
    rec = res.audit[(res.audit["event"] == "record") & (res.audit["detail"] == "targeted")]
    assert len(rec) and rec["is_false"].all()


def test_on_and_off_the_aimed_at_are_wrongly_listed() -> None:
    data = base_rulebook(persons=4000, days=90)
    _, off = run(data)
    _, on = run(aimed(data))
    wl_on = by_group(on, "blacklisted_wrongly").last()
    wl_off = by_group(off, "blacklisted_wrongly").last()
    assert wl_on["minority"] > wl_off["minority"] + 50
    assert wl_on["majority"] == wl_off["majority"]


def test_start_and_end_bound_the_campaign() -> None:
    _, res = run(aimed(base_rulebook(persons=3000, days=60), start=10, end=30))
    d = res.daily[res.daily["breakdown"] == "all"]["records_targeted"].to_numpy()
    assert d[:10].sum() == 0 and d[30:].sum() == 0 and d[10:30].sum() > 0
