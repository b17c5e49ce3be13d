"""Errors and their cost, checked against the run's summary and daily counts, and zero without false records."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

import socialcredit as sc
from socialcredit.analysis import (
    blacklist_false_share,
    error_summary,
    false_records_by_channel,
    time_to_clear,
    wrongful_denials_by_service,
)
from socialcredit.engine.sim import Sim
from socialcredit.errors import InputError
from socialcredit.results import Results
from tests.analysis.conftest import MOVING_TIERS

EXPIRE = MOVING_TIERS["score.recovery.days"]
# many false camera records, and everyone sanctioned appeals their latest penalising record (decided 20 days later)
ERRORS = {
    "detection.channels.camera.false_attribution": 0.4,
    "institutions.appeals.probability": 1,
    "institutions.appeals.success_false": 0.8,
    "institutions.appeals.delay": 20,
}
NO_FALSE_RECORDS = {  # detection error rates are set per channel (docs/rulebook.md, detection)
    "detection.channels.camera.false_attribution": 0,
    "detection.channels.records.false_attribution": 0,
    "detection.channels.records.spurious_rate": 0,
    "detection.channels.platform.false_attribution": 0,
}


@pytest.fixture(scope="module")
def res():
    """3,000 persons for 150 days, every one of them audited (so audit counts equal the run's)."""
    return sc.run(sc.load("smalltown", {**MOVING_TIERS, **ERRORS, "simulation.audit_sample": 3000}, persons=3000, days=150))


def test_false_records_by_channel_add_up_to_the_summary(res) -> None:
    ch = false_records_by_channel(res)
    s = res.summary()
    assert list(ch["channel"]) == ["camera", "records", "platform"]
    assert ch["records_true"].sum() == s["records_true"] and ch["records_false"].sum() == s["records_false"]
    assert ((ch["false_share"] >= 0) & (ch["false_share"] <= 1)).all()
    camera = ch.set_index("channel").loc["camera"]
    assert camera["false_share"] == pytest.approx(camera["records_false"] / (camera["records_true"] + camera["records_false"]))
    assert camera["false_share"] > ch.set_index("channel").loc["records", "false_share"]  # 40% misattributed vs 0.2%


def test_wrongful_denials_by_service_add_up_to_the_summary(res) -> None:
    svc = wrongful_denials_by_service(res)
    summary = res.summary()["services"]
    assert list(svc["service"]) == res.meta["services"]
    for row in svc.itertuples(index=False):
        s = summary[row.service]
        assert row.kind == s["kind"] and row.attempts == s["attempts"]
        if row.kind == "punishment":
            assert (row.denied, row.wrongful) == (s["denied"], s["wrongful"])
        else:
            assert (row.denied, row.wrongful) == (s["attempts"] - s["granted"], s["lost_to_false_records"])
        assert 0 <= row.wrongful <= row.denied <= row.attempts
    assert svc["wrongful"].sum() > 0
    shares = svc["wrongful_share"].dropna()
    assert ((shares >= 0) & (shares <= 1)).all()


def test_blacklist_false_share_matches_the_daily_table(res) -> None:
    bl = blacklist_false_share(res)
    s = res.summary()
    assert len(bl) == res.meta["days"] and list(bl["day"]) == list(range(res.meta["days"]))
    last = bl.iloc[-1]
    assert (last["blacklisted"], last["blacklisted_wrongly"]) == (s["blacklisted"], s["blacklisted_wrongly"])
    shares = bl["share"].dropna()
    assert len(shares) > 100 and ((shares >= 0) & (shares <= 1)).all() and shares.max() > 0


def test_time_to_clear_accounts_for_every_false_record(res) -> None:
    """Everyone is audited, so: one row per false record of the run; the days of the records whose appeal
    was won add up to the run's ``appeal_days_false`` (the days each counted, up to its expiry)."""
    t = time_to_clear(res)
    d = res.to_df()
    days = res.meta["days"]
    assert len(t) == d["records_false"].sum() > 500
    assert set(t["how"]) == {"appeal", "expiry", "censored"}
    expiry = t[t["how"] == "expiry"]
    assert (expiry["days"] == EXPIRE).all() and (expiry["cleared_day"] == expiry["day"] + EXPIRE).all()
    appeal = t[t["how"] == "appeal"]
    assert (appeal["appeal"] == "won").all() and (appeal["days"] < EXPIRE).all()
    assert (appeal["cleared_day"] == appeal["day"] + appeal["days"]).all()
    censored = t[t["how"] == "censored"]
    assert censored["cleared_day"].isna().all() and (censored["day"] + censored["days"] == days).all()
    assert (censored["day"] + EXPIRE >= days).all()  # only records too young to have expired
    won = t[t["appeal"] == "won"]
    assert len(won) == d["appeals_won_false"].sum() > 5
    assert won["days"].sum() == d["appeal_days_false"].sum()
    filed_false = res.audit[(res.audit["event"] == "appeal_filed") & res.audit["is_false"].fillna(False).astype(bool)]
    assert t["appeal"].notna().sum() == len(filed_false)
    assert set(t["origin"]) <= {"misattributed", "spurious", "service"}
    assert (t["points"] < 0).any()


def test_error_summary_is_consistent(res) -> None:
    e = error_summary(res)
    s = res.summary()
    d = res.to_df()
    t = time_to_clear(res)
    assert (e["records_false"], e["records_true"]) == (s["records_false"], s["records_true"])
    assert e["wrongful_denials"] == sum(v["wrongful"] for v in s["services"].values() if v["kind"] == "punishment")
    assert e["perks_lost_to_false_records"] == sum(v["lost_to_false_records"] for v in s["services"].values() if v["kind"] == "reward")
    assert e["person_days_wrongly_blacklisted"] == d["blacklisted_wrongly"].sum() > 0
    assert (e["final_blacklisted"], e["final_blacklisted_wrongly"]) == (s["blacklisted"], s["blacklisted_wrongly"])
    for key in ("false_share", "wrongly_blacklisted_share_of_person_days", "final_blacklist_false_share"):
        assert 0 < e[key] < 1, key
    assert e["cleared_by_appeal"] + e["cleared_by_expiry"] + e["still_counting"] == e["false_records_audited"] == len(t)
    assert e["median_days_to_clear"] == EXPIRE  # most false records are never appealed and expire


def test_read_back_from_a_run_folder_gives_the_same_measures(res, tmp_path) -> None:
    res.save(str(tmp_path / "run"))
    back = sc.read_run(str(tmp_path / "run"))
    pd.testing.assert_frame_equal(time_to_clear(back), time_to_clear(res))
    assert error_summary(back) == pytest.approx(error_summary(res), nan_ok=True)


def test_everything_is_zero_without_false_detections() -> None:
    clean = sc.run(sc.load("smalltown", {**MOVING_TIERS, **NO_FALSE_RECORDS}, persons=2000, days=90))
    assert clean.summary()["records_true"] > 1000  # records are made, just none false
    assert (false_records_by_channel(clean)["records_false"] == 0).all()
    assert (false_records_by_channel(clean)["false_share"] == 0).all()
    assert (wrongful_denials_by_service(clean)["wrongful"] == 0).all()
    bl = blacklist_false_share(clean)
    assert bl["blacklisted"].sum() > 0 and (bl["blacklisted_wrongly"] == 0).all()
    assert time_to_clear(clean).empty
    e = error_summary(clean)
    for key in ("records_false", "false_share", "wrongful_denials", "perks_lost_to_false_records", "person_days_wrongly_blacklisted",
                "wrongly_blacklisted_share_of_person_days", "final_blacklisted_wrongly", "false_records_audited"):  # fmt: skip
        assert e[key] == 0, key
    assert np.isnan(e["median_days_to_clear"])


def test_time_to_clear_needs_the_rulebook() -> None:
    sim = Sim(sc.load("smalltown", persons=500, days=5))
    with pytest.raises(InputError, match="carry no rulebook"):
        time_to_clear(Results.from_sim(sim.run()))
