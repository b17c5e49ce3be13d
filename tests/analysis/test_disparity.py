"""Disparate impact by group and region: rates from the run's tables, and the four-fifths flag.

smalltown's minority (10% of persons) is 10 times as likely as the majority
to be the wrong person a false camera match picks (``misidentification: 10``,
after NIST NISTIR 8280), so its false-record rate is several times the
majority's: it must be flagged, the majority never.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

import socialcredit as sc
from socialcredit.analysis import disparate_impact
from socialcredit.analysis.disparity import MEASURES
from socialcredit.errors import InputError
from tests.analysis.conftest import MOVING_TIERS, hand_results


@pytest.fixture(scope="module")
def res():
    return sc.run(sc.load("smalltown", {**MOVING_TIERS, "detection.channels.camera.false_attribution": 0.05}, persons=5000, days=120))


def test_the_misidentified_group_is_flagged_for_false_records(res) -> None:
    di = disparate_impact(res, by="group").set_index("level")
    assert list(di.index) == ["majority", "minority"]
    assert di.loc["minority", "false_records_per_1000"] > 3 * di.loc["majority", "false_records_per_1000"]
    assert di.loc["minority", "ratio_false_records"] < 0.8 and di.loc["minority", "flag_false_records"]
    assert di.loc["majority", "ratio_false_records"] == 1.0 and not di.loc["majority", "flag_false_records"]
    true = (di["records"] - di["false_records"]) / di["persons"]
    assert true.min() / true.max() > 0.8  # true records do not depend on the group: the false ones make the gap
    assert di.loc["minority", "false_records"] > 30  # not a handful of events


@pytest.mark.parametrize("by", ["group", "region"])
def test_rates_are_the_table_sums_over_persons(res, by: str) -> None:
    di = disparate_impact(res, by=by).set_index("level")
    levels = res.meta[f"{by}s"]
    assert list(di.index) == levels and di["persons"].sum() == res.meta["persons"]
    daily = res.to_df("daily", by)
    services = res.to_df("services", by)
    for level in levels:
        d = daily[daily["level"] == level]
        persons = int(d["persons"].iloc[0])
        assert (d["persons"] == persons).all() and di.loc[level, "persons"] == persons
        for name, columns in MEASURES.items():
            count = sum(int(d[c].sum()) for c in columns)
            assert di.loc[level, name] == count, (level, name)
            assert di.loc[level, f"{name}_per_1000"] == pytest.approx(1000 * count / persons, rel=1e-12)
        s = services[(services["level"] == level) & (services["kind"] == "punishment")]
        assert di.loc[level, "denials"] == s["outcomes"].sum()  # denials of the daily table = punishments denied
        assert di.loc[level, "wrongful_denials"] == s["wrongful"].sum()
        assert di.loc[level, "listed_share"] == pytest.approx((d["blacklisted"] / d["persons"]).mean(), rel=1e-12)
    for name in [*MEASURES, "listed"]:
        rate = di[f"{name}_per_1000"] if name != "listed" else di["listed_share"]
        ratio = di[f"ratio_{name}"]
        assert ratio.max() == 1.0 and ((ratio >= 0) & (ratio <= 1)).all()
        np.testing.assert_allclose(ratio, np.where(rate > 0, rate.min() / rate.where(rate > 0), 1.0), rtol=1e-12)
        np.testing.assert_array_equal(di[f"flag_{name}"], ratio < 0.8)


def test_ratio_and_flag_of_a_constructed_case() -> None:
    """Three groups of 1,000 with 10, 12 and 13 false records, one with none at all in another measure."""
    rows = []
    for day in range(2):
        for level, false, entries in (("a", 5, 0), ("b", 6, 1), ("c", 6.5, 0)):
            rows.append({"day": day, "breakdown": "group", "level": level, "persons": 1000, "records_true": 10, "records_false": false,
                         "blacklist_entries": entries, "denials": 0, "denials_wrongful": 0, "blacklisted": day})  # fmt: skip
    res = hand_results({"groups": ["a", "b", "c"], "persons": 3000})
    res.daily = pd.DataFrame(rows)
    di = disparate_impact(res).set_index("level")
    assert list(di["false_records"]) == [10, 12, 13]
    np.testing.assert_allclose(di["ratio_false_records"], [1.0, 10 / 12, 10 / 13])
    assert list(di["flag_false_records"]) == [False, False, True]  # 10/12 = 0.83 passes, 10/13 = 0.77 does not
    assert list(di["ratio_blacklist_entries"]) == [1.0, 0.0, 1.0] and list(di["flag_blacklist_entries"]) == [False, True, False]
    assert (di["ratio_denials"] == 1.0).all() and not di["flag_denials"].any()  # nobody denied: nobody worse off
    assert list(di["listed_share"]) == [0.0005, 0.0005, 0.0005]


def test_read_back_and_bad_breakdown(res, tmp_path) -> None:
    res.save(str(tmp_path / "run"))
    back = sc.read_run(str(tmp_path / "run"))
    pd.testing.assert_frame_equal(disparate_impact(back, "region"), disparate_impact(res, "region"))
    with pytest.raises(InputError, match="unknown breakdown 'tier' for disparate impact; allowed: group, region"):
        disparate_impact(res, by="tier")
