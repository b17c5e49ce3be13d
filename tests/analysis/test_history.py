"""Audit trails: the audited persons' table and its filter, one person's history in order, the score plot."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

import socialcredit as sc
from socialcredit.analysis.history import audited_persons, person_history, plot_person, score_path
from socialcredit.engine.audit import COLUMNS as AUDIT_COLUMNS
from socialcredit.errors import ConditionError, InputError, SocialCreditError
from socialcredit.results import Results
from tests.conftest import listed_days

# smalltown where a lot happens to a sample of persons within five months: tiers close to the starting
# 1000 points, records expiring after 60 days, 10% of camera matches on the wrong person, appeals,
# shaming and unfriending, and a third of the population audited
AUDITED_CITY: dict[str, object] = {
    "tiers[AAA].min": 1010,
    "tiers[AA].min": 1003,
    "tiers[A].min": 995,
    "tiers[B].min": 985,
    "tiers[C].min": 975,
    "score.recovery.days": 60,
    "lists.blacklist.min_days": 30,
    "detection.channels.camera.false_attribution": 0.1,
    "institutions.appeals.probability": 0.5,
    "institutions.appeals.delay": 10,
    "institutions.shaming.probability": 0.2,
    "responses.unfriending.probability": 0.3,
    "responses.unfriending.tiers": ["C", "D"],
    "simulation.audit_sample": 1000,
}
PERSONS, DAYS = 3000, 150


@pytest.fixture(scope="module")
def res():
    return sc.run(sc.load("smalltown", AUDITED_CITY, persons=PERSONS, days=DAYS))


@pytest.fixture(scope="module")
def persons(res) -> pd.DataFrame:
    return audited_persons(res)


def test_the_run_gives_the_tests_something_to_check(persons) -> None:
    """Every count is non-zero somewhere in the sample, so the comparisons below can fail."""
    assert len(persons) == 1000
    for column in ("records", "false_records", "denials", "wrongful_denials", "rewards", "rewards_lost", "appeals",
                   "appeals_won", "friends_lost", "blacklist_entries", "days_blacklisted"):  # fmt: skip
        assert persons[column].sum() > 0, column


def test_counts_equal_counts_from_the_audit_table(res, persons) -> None:
    audit = res.audit
    by_event = pd.crosstab(audit["person"], audit["event"]).reindex(persons["person"], fill_value=0)
    expected = {
        "records": by_event["record"],
        "denials": by_event["denial"],
        "rewards": by_event["reward"],
        "rewards_lost": by_event["reward_lost"],
        "appeals": by_event["appeal_filed"],
        "appeals_won": by_event["appeal_won"],
        "friends_lost": by_event["friend_lost"],
        "blacklist_entries": by_event["blacklist_enter"],
    }
    false = audit[(audit["event"] == "record") & audit["is_false"].fillna(False).astype(bool)]
    wrongful = audit[(audit["event"] == "denial") & audit["wrongful"].fillna(False).astype(bool)]
    expected["false_records"] = false["person"].value_counts().reindex(persons["person"], fill_value=0)
    expected["wrongful_denials"] = wrongful["person"].value_counts().reindex(persons["person"], fill_value=0)
    for column, values in expected.items():
        np.testing.assert_array_equal(persons[column].to_numpy(), values.to_numpy(), err_msg=column)
    listed = listed_days(audit, PERSONS, DAYS)[persons["person"].to_numpy()]
    np.testing.assert_array_equal(persons["days_blacklisted"].to_numpy(), listed.sum(axis=1))
    np.testing.assert_array_equal(persons["blacklisted"].to_numpy(), listed.any(axis=1))
    # listed on the last day according to the audit trail = listed at the end according to the persons table
    np.testing.assert_array_equal(persons["blacklisted_end"].to_numpy(), listed[:, -1])


def test_history_is_in_day_order_and_holds_every_record(res, persons) -> None:
    audit = res.audit
    busy = persons.sort_values(["false_records", "denials", "friends_lost", "records"], ascending=False)["person"].head(40)
    for person in busy.tolist():
        history = person_history(res, person)
        days = history["day"].to_numpy()
        assert (np.diff(days) >= 0).all(), person
        mine = audit[audit["person"] == person]
        key = ["day", "behaviour", "channel", "points"]
        got = history[history["event"] == "record"][key + ["is_false"]].astype(str).values.tolist()
        want = mine[mine["event"] == "record"][key + ["is_false"]].astype(str).values.tolist()
        assert sorted(got) == sorted(want), person
        # every event except small score drift is its own row, with text
        for event in ("tier", "denial", "blacklist_enter", "blacklist_exit", "appeal_filed", "friend_lost"):
            assert (history["event"] == event).sum() == (mine["event"] == event).sum(), (person, event)
        assert history["details"].str.len().gt(0).all()
        records = history[history["event"] == "record"]
        assert (records["what"] == "FALSE record").tolist() == records["is_false"].fillna(False).astype(bool).tolist()
        # unfolded, the history is the audit trail row for row
        full = person_history(res, person, fold_drift=False)
        assert len(full) == len(mine)
        np.testing.assert_allclose(full["points"].to_numpy(float), mine["points"].to_numpy(float), equal_nan=True)


def test_folded_drift_adds_up_to_the_changes_it_replaces(res, persons) -> None:
    folded_any = False
    for person in persons["person"].head(200).tolist():
        folded = person_history(res, person)
        full = person_history(res, person, fold_drift=False)
        assert folded["points"].sum() == pytest.approx(full["points"].sum(), abs=1e-9)
        drift = folded[folded["what"] == "score drift"]
        folded_any |= len(drift) > 0
        assert len(folded) == len(full) - sum(int(t.split(" in ")[1].split()[0]) - 1 for t in drift["details"])
    assert folded_any  # smalltown's pull of friends' scores makes small changes every week


def test_score_path_ends_at_the_final_score(res, persons) -> None:
    for person, end in zip(persons["person"].head(300), persons["score_end"].head(300)):
        path = score_path(res, person)
        assert len(path) == DAYS
        # changes under 0.001 point are not logged, so the path may lag by a few of them
        assert path["score"].iloc[-1] == pytest.approx(end, abs=0.01), person


def test_where_matches_a_pandas_filter(res, persons) -> None:
    tiers = res.meta["tiers"]
    worse_than_b = tiers[tiers.index("B") + 1 :]
    cases = {
        "blacklisted and group == 'minority'": persons["blacklisted"] & (persons["group"] == "minority"),
        "tier_end <= 'C' or false_records >= 1": persons["tier_end"].isin(tiers[tiers.index("C") :]) | (persons["false_records"] >= 1),
        "tier_end < 'B'": persons["tier_end"].isin(worse_than_b),
        "region in ('villages', 'new_district') and not blacklisted_end and score_end < 1000":
            persons["region"].isin(["villages", "new_district"]) & ~persons["blacklisted_end"] & (persons["score_end"] < 1000),
        "friends_lost > 2 * appeals and income >= 50000": (persons["friends_lost"] > 2 * persons["appeals"]) & (persons["income"] >= 50000),
    }  # fmt: skip
    for where, mask in cases.items():
        got = audited_persons(res, where=where)
        assert 0 < mask.sum() < len(persons), where  # the filter keeps some and drops some
        assert got["person"].tolist() == persons.loc[mask, "person"].tolist(), where
        assert got.attrs["where"] == where


def test_a_bad_filter_points_at_the_column_and_lists_the_fields(res) -> None:
    with pytest.raises(ConditionError) as info:
        audited_persons(res, where="blacklisted and grup == 'minority'")
    text = str(info.value)
    assert "column 17" in text and "unknown name 'grup'" in text and "did you mean 'group'" in text
    with pytest.raises(ConditionError) as info:
        audited_persons(res, where="false_records >= ")
    text = str(info.value)
    assert "ends too early" in text and "fields: person, region, group" in text and "days_blacklisted" in text
    with pytest.raises(ConditionError, match="not a level of 'tier_end'"):
        audited_persons(res, where="tier_end == 'Z'")


def test_an_unknown_person_names_the_sample(res, persons) -> None:
    outside = min(set(range(PERSONS)) - set(persons["person"]))
    with pytest.raises(SocialCreditError) as info:
        person_history(res, outside)
    text = str(info.value)
    assert f"person {outside} is not in the audit sample" in text
    assert "1,000 of 3,000 persons were sampled" in text
    assert ", ".join(str(p) for p in persons["person"].head(5)) in text and "--list" in text
    with pytest.raises(SocialCreditError, match="not in the audit sample"):
        plot_person(res, -1)


def test_a_run_without_the_persons_table_is_a_clear_error(res) -> None:
    old = Results(daily=res.daily, services=res.services, behaviours=res.behaviours, audit=res.audit, meta=res.meta)
    with pytest.raises(InputError, match="no table of audited persons"):
        audited_persons(old)


def test_plot_marks_false_records_list_periods_and_denials(res, persons, tmp_path) -> None:
    import matplotlib.pyplot as plt

    who = persons[(persons["false_records"] > 0) & (persons["denials"] > 0) & persons["blacklisted"]]
    assert len(who)
    person = int(who["person"].iloc[0])
    path = tmp_path / "person.png"
    fig = plot_person(res, person, path=path)
    labels = {h.get_label() for h in fig.axes[0].get_legend().legend_handles}
    plt.close(fig)
    assert {"score", "FALSE record", "on the blacklist"} <= labels
    assert "denial" in labels or "wrongful denial" in labels
    assert path.stat().st_size > 5000


def _hand_made(rows: list[dict]) -> Results:
    """A one-person run built by hand, to check the folding of small score changes exactly."""
    audit = pd.DataFrame([{c: r.get(c) for c in AUDIT_COLUMNS} for r in rows], columns=AUDIT_COLUMNS)
    audit["points"] = audit["points"].astype(float)
    audit["score"] = audit["score"].astype(float)
    persons = pd.DataFrame({"person": [4], "region": ["north"], "group": ["majority"], "income": [1.0], "score_start": [1000.0],
                            "tier_start": ["A"], "friends_start": [3], "score_end": [994.97], "tier_end": ["A"], "friends_end": [3],
                            "blacklisted_end": [False], "redlisted_end": [False]})  # fmt: skip
    meta = {"persons": 10, "days": 30, "tiers": ["A", "B"], "regions": ["north"], "groups": ["majority"]}
    return Results(daily=pd.DataFrame(), services=pd.DataFrame(), behaviours=pd.DataFrame(), audit=audit, meta=meta, audit_persons=persons)


def test_small_drift_folds_between_other_events_and_large_changes_stay() -> None:
    drift = "social term or expiry"
    res = _hand_made([
        {"day": 3, "person": 4, "event": "score", "points": -0.01, "score": 999.99, "detail": drift},
        {"day": 5, "person": 4, "event": "reward", "service": "bike", "wrongful": False, "score": 999.99},
        {"day": 7, "person": 4, "event": "score", "points": -0.02, "score": 999.97, "detail": drift},
        {"day": 9, "person": 4, "event": "record", "behaviour": "littering", "channel": "camera", "is_false": True, "points": -5.0,
         "detail": "misattributed"},
        {"day": 9, "person": 4, "event": "score", "points": -5.0, "score": 994.97, "detail": "records"},
        {"day": 12, "person": 4, "event": "score", "points": 0.5, "score": 995.47, "detail": drift},  # 0.05% of 1000: small
        {"day": 20, "person": 4, "event": "score", "points": -1.5, "score": 993.97, "detail": drift},  # 0.15%: its own row
    ])  # fmt: skip
    history = person_history(res, 4)
    assert history["what"].tolist() == ["reward", "score drift", "FALSE record", "score", "score", "score"]
    assert history["day"].tolist() == [5, 7, 9, 9, 12, 20]
    assert history.loc[1, "points"] == pytest.approx(-0.03)
    assert "in 2 small changes, days 3-7" in history.loc[1, "details"]
    assert "1000 -> 999.97" in history.loc[1, "details"]
    assert "WRONGLY" not in " ".join(history["details"])
    assert len(person_history(res, 4, fold_drift=False)) == 7
