"""Tests of engine.stages.faults: a fault writes false records to many persons on its day, and they cascade."""

from __future__ import annotations

import copy

import numpy as np
import pandas as pd

from tests.conftest import base_rulebook, run

DAY = 20


def faulty(data: dict, **kw) -> dict:
    out = copy.deepcopy(data)
    out["faults"] = [{"day": DAY, "behaviour": "fraud", "assumed": "test", **({"share": 0.1, "records": 2} | kw)}]
    return out


def rows(res) -> pd.DataFrame:
    return res.daily[res.daily["breakdown"] == "all"].reset_index(drop=True)


def test_a_fault_hits_a_binomial_share_on_its_day_only() -> None:
    """Persons hit ~ Binomial(N, 0.1), two records each, all false, all on day 20 (within 4 standard errors)."""
    _, res = run(faulty(base_rulebook(persons=5000, days=30)))
    d = rows(res)
    hits = d["records_fault"].to_numpy()
    assert hits[:DAY].sum() == 0 and hits[DAY + 1 :].sum() == 0
    persons = hits[DAY] / 2
    assert abs(persons / 5000 - 0.1) < 4 * np.sqrt(0.1 * 0.9 / 5000)
    assert d["records_false"].iloc[DAY] >= hits[DAY]
    rec = res.audit[(res.audit["event"] == "record") & (res.audit["detail"] == "fault")]
    assert len(rec) and rec["is_false"].all() and (rec["day"] == DAY).all()


def test_count_and_condition_choose_who_is_hit() -> None:
    _, res = run(faulty(base_rulebook(persons=3000, days=25), share=None, count=200, records=1, where="region == 'south'"))
    reg = res.daily[(res.daily["breakdown"] == "region") & (res.daily["day"] == DAY)].set_index("level")
    assert int(reg.loc["south", "records_fault"]) == 200 and int(reg.loc["north", "records_fault"]) == 0


def test_the_cascade_and_its_clearing_by_appeals() -> None:
    """On and off, same seed: identical before the fault; then wrongful listings and denials; appeals overturn them."""
    data = base_rulebook(persons=4000, days=120)
    data["institutions"] = {"appeals": {"probability": 0.8, "success_false": 0.9, "delay": 15}}
    _, off = run(data)
    _, on = run(faulty(data))
    a, b = rows(off), rows(on)
    pd.testing.assert_frame_equal(a.iloc[:DAY].drop(columns="records_fault"), b.iloc[:DAY].drop(columns="records_fault"), check_exact=True)
    # two fraud records (-100) take 10% of persons from 1000 to about 900: tier C, blacklisted after the fault
    assert b["blacklisted_wrongly"].iloc[DAY + 1] > a["blacklisted_wrongly"].iloc[DAY + 1] + 200
    assert b["denials_wrongful"].iloc[DAY:].sum() > a["denials_wrongful"].iloc[DAY:].sum() + 100
    assert b["appeals_won_false"].sum() > a["appeals_won_false"].sum() + 100
    peak = b["blacklisted_wrongly"].iloc[DAY:].max()
    # appeals clear it slowly: a person appeals only after a sanction (flights 2 and loans 1 a year here), one record at a time
    assert b["blacklisted_wrongly"].iloc[-1] < 0.8 * peak
