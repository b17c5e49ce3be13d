"""Tier transitions and bottom-tier spells of the audit sample, against direct reconstructions."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

import socialcredit as sc
from socialcredit.analysis import (
    bottom_tier_spells,
    kaplan_meier_median,
    mobility_summary,
    tier_paths,
    transition_matrix,
)
from socialcredit.errors import InputError
from tests.analysis.conftest import MOVING_TIERS, hand_results


@pytest.fixture(scope="module")
def res():
    return sc.run(sc.load("smalltown", MOVING_TIERS, persons=3000, days=200))


def reconstruct(res, t: int) -> dict[int, str]:
    """Each audited person's tier at the start of day t, replaying the ``X -> Y`` details of tier events."""
    tier = dict(zip(res.audit_persons["person"], res.audit_persons["tier_start"].astype(str)))
    a = res.audit
    moves = a[(a["event"] == "tier") & (a["day"] < t)].sort_values(["person", "day"], kind="stable")
    for person, detail in zip(moves["person"], moves["detail"]):
        old, new = detail.split(" -> ")
        assert tier[person] == old, (person, detail)  # the path is consistent
        tier[person] = new
    return tier


def test_rows_are_shares_that_add_up_to_one(res) -> None:
    m = transition_matrix(res, horizon_days=200)
    tiers = res.meta["tiers"]
    assert list(m.index) == tiers and list(m.columns) == tiers
    assert m.index.name == "from" and m.columns.name == "to"
    held = [t for t, n in m.attrs["row_persons"].items() if n > 0]
    np.testing.assert_allclose(m.loc[held].sum(axis=1), 1.0, atol=1e-12)
    assert m.drop(index=held).isna().all().all()  # tiers nobody held at the start
    assert sum(m.attrs["row_persons"].values()) == len(res.audit_persons) == res.meta["audit_sample"]
    assert "1,000 of 3,000 persons" in m.attrs["sample"]


@pytest.mark.parametrize("start_day,horizon", [(0, 200), (50, 100), (120, 30), (199, 1), (80, 0)])
def test_counts_equal_a_direct_reconstruction(res, start_day: int, horizon: int) -> None:
    counts = transition_matrix(res, horizon_days=horizon, start_day=start_day, normalise=False)
    before, after = reconstruct(res, start_day), reconstruct(res, start_day + horizon)
    direct = pd.crosstab(pd.Series(before), pd.Series(after)).reindex(index=counts.index, columns=counts.columns, fill_value=0)
    np.testing.assert_array_equal(counts.to_numpy(), direct.to_numpy())
    if horizon == 0:
        assert (counts.to_numpy() == np.diag(np.diag(counts.to_numpy()))).all()
    else:
        assert counts.to_numpy().trace() < counts.to_numpy().sum()  # some moved: the check has teeth


def test_nobody_moves_when_no_score_can_change() -> None:
    """No records can be made (coverage and spurious rates 0) and no social term: every score stays at
    1000, so the matrix is the identity (everyone starts in tier A, the only row with persons)."""
    none = {f"detection.channels.{c}.coverage": 0 for c in ("camera", "records", "platform")}
    none |= {"detection.channels.records.spurious_rate": 0, "score.social.friends": 0, "score.social.partner": 0}
    still = sc.run(sc.load("smalltown", {**MOVING_TIERS, **none}, persons=2000, days=100))
    m = transition_matrix(still, horizon_days=100)
    assert m.attrs["row_persons"]["A"] == 1000
    held = m.loc[["A"]].to_numpy()
    np.testing.assert_array_equal(held, np.eye(len(m))[[list(m.index).index("A")]])
    assert (still.audit["event"] != "tier").all()
    assert bottom_tier_spells(still).empty and mobility_summary(still)["ever_in_bottom"] == 0


def test_bad_horizons_and_tiers_are_input_errors(res) -> None:
    with pytest.raises(InputError, match="the run has 200 days.*found 150 \\+ 100 = 250"):
        transition_matrix(res, horizon_days=100, start_day=150)
    with pytest.raises(InputError, match="whole days >= 0"):
        transition_matrix(res, horizon_days=-1)
    with pytest.raises(InputError, match="unknown tier.*'E'.*AAA, AA, A, B, C, D"):
        bottom_tier_spells(res, tiers=["D", "E"])


# ---------------------------------------------------------------- a constructed case
def constructed():
    """Four audited persons over a 100-day run with tiers A > B > C > D (bottom: C and D)."""
    moves = [  # person, day, from, to
        (0, 10, "A", "C"), (0, 20, "C", "D"), (0, 30, "D", "B"),  # one spell, 10 to 30
        (1, 5, "D", "B"), (1, 50, "B", "C"),  # started at the bottom (spell 0 to 5), back at 50 until the end
        (3, 99, "B", "C"),  # enters on the last day
    ]  # fmt: skip
    audit = pd.DataFrame(
        {
            "day": [m[1] for m in moves],
            "person": [m[0] for m in moves],
            "event": "tier",
            "tier": [m[3] for m in moves],
            "detail": [f"{m[2]} -> {m[3]}" for m in moves],
        }
    )
    persons = pd.DataFrame({"person": [0, 1, 2, 3], "tier_start": ["A", "D", "A", "B"]})
    return hand_results({"tiers": ["A", "B", "C", "D"], "days": 100, "persons": 40}, audit, persons)


def test_spells_of_a_constructed_case() -> None:
    res = constructed()
    spells = bottom_tier_spells(res)
    expected = pd.DataFrame(
        {
            "person": [0, 1, 1, 3],
            "entered": [10, 0, 50, 99],
            "left": [30.0, 5.0, np.nan, np.nan],
            "days": [20, 5, 50, 1],
            "censored": [False, False, True, True],
        }
    )
    pd.testing.assert_frame_equal(spells, expected, check_dtype=False)
    assert spells.attrs["tiers"] == ["C", "D"]
    only_d = bottom_tier_spells(res, tiers=["D"])
    assert list(only_d["entered"]) == [20, 0] and list(only_d["days"]) == [10, 5]
    s = mobility_summary(res)
    assert (s["sample"], s["ever_in_bottom"], s["never_left"], s["spells"], s["spells_completed"], s["spells_censored"]) == (4, 3, 1, 4, 2, 2)
    assert s["share_ever_in_bottom"] == 0.75 and s["share_never_left"] == pytest.approx(1 / 3)
    # Kaplan-Meier over 20, 5, 50+, 1+: at 5 three are at risk (S = 2/3), at 20 two (S = 1/3): median 20 days
    assert s["median_years_to_leave"] == pytest.approx(20 / 365)
    assert s["median_years_completed"] == pytest.approx(12.5 / 365)
    paths = tier_paths(res)
    assert list(paths.loc[paths["person"] == 1, "tier"].astype(str)) == ["D", "B", "C"]
    assert list(paths.loc[paths["person"] == 1, "start"]) == [True, False, False]
    m = transition_matrix(res, horizon_days=100, normalise=False)
    assert (m.loc["A", "B"], m.loc["D", "C"], m.loc["A", "A"], m.loc["B", "C"], m.to_numpy().sum()) == (1, 1, 1, 1, 4)
    m = transition_matrix(res, horizon_days=15, start_day=10, normalise=False)  # day 10 (start) to 25
    assert (m.loc["A", "D"], m.loc["B", "B"], m.loc["A", "A"]) == (1, 2, 1)


def test_kaplan_meier_median() -> None:
    assert kaplan_meier_median([1, 2, 3, 4], [False] * 4) == 2  # S: 3/4, 1/2
    assert kaplan_meier_median([1, 2, 3, 4], [False, True, True, True]) == pytest.approx(np.nan, nan_ok=True)  # S stays 3/4
    assert kaplan_meier_median([2, 2, 9, 9], [False, True, False, True]) == 9  # at 2: 3/4; at 9: 3/4 * 1/2
    assert np.isnan(kaplan_meier_median([], []))


def test_summary_of_the_run_is_consistent_with_its_spells(res) -> None:
    spells = bottom_tier_spells(res)
    s = mobility_summary(res)
    assert s["tiers"] == ["C", "D"] and s["sample"] == 1000
    assert s["ever_in_bottom"] == spells["person"].nunique() > 20
    assert 0 < s["share_never_left"] < 1 and 0 < s["share_ever_in_bottom"] < 1
    assert s["spells_completed"] + s["spells_censored"] == s["spells"] == len(spells)
    assert (spells["days"] >= 0).all() and (spells.loc[spells["censored"], "entered"] + spells.loc[spells["censored"], "days"] == 200).all()
    done = spells[~spells["censored"]]
    assert (done["left"] - done["entered"] == done["days"]).all()
    # the paths' bottom persons are exactly the persons with a spell
    paths = tier_paths(res)
    assert set(paths.loc[paths["tier"].isin(["C", "D"]), "person"]) == set(spells["person"])
