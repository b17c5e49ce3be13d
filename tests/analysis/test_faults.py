"""A fault's cascade and coverage concentration, on small hand-made tables whose answers are known exactly."""

from __future__ import annotations

import json
import math

import numpy as np
import pandas as pd
import pytest

from socialcredit.analysis import coverage_concentration, fault_cascade, fault_cascades, fault_days
from socialcredit.errors import InputError
from tests.analysis.conftest import hand_results
from tests.conftest import base_rulebook

# ten days, one fault on day 3 (10 false records); the wrongly blacklisted are 1 the day before it
WRONG = [0, 1, 1, 2, 6, 9, 7, 5, 4, 3]  # excess from day 3: 1 5 8 6 4 3 2 (peak 8 on day 5; below 4 first on day 8)
COUNTS = {
    "records_fault": [0, 0, 0, 10, 0, 0, 0, 0, 0, 0],
    "denials_wrongful": [1, 0, 1, 2, 3, 0, 1, 1, 0, 4],
    "rewards_lost": [0, 0, 0, 0, 1, 0, 0, 0, 0, 2],
    "appeals_won_false": [0, 0, 0, 0, 0, 1, 2, 0, 3, 0],
}


def daily(wrong: list[int] = WRONG, drop: tuple[str, ...] = (), shuffle: bool = True) -> pd.DataFrame:
    """The whole-population rows, with region rows of other values mixed in (which must be ignored)."""
    n = len(wrong)
    rows = pd.DataFrame({"day": np.arange(n), "breakdown": "all", "level": "all", "blacklisted_wrongly": wrong,
                         **{k: v[:n] for k, v in COUNTS.items() if k not in drop}})  # fmt: skip
    noise = rows.assign(breakdown="region", level="north", blacklisted_wrongly=100, **{k: 50 for k in COUNTS if k not in drop})
    out = pd.concat([rows, noise], ignore_index=True)
    return out.sample(frac=1, random_state=3).reset_index(drop=True) if shuffle else out


def with_rulebook(faults: list[dict], start: str | None = None, table: pd.DataFrame | None = None):
    data = base_rulebook(persons=100, days=10)
    data["faults"] = faults
    if start:
        data["simulation"]["start"] = start
    res = hand_results({"persons": 100, "days": 10})
    res.daily = daily() if table is None else table
    res.rulebook_yaml = json.dumps(data)
    return res


def nan(x) -> bool:
    return isinstance(x, float) and math.isnan(x)


def same(a: dict, b: dict) -> bool:
    """Equal dicts, NaN equal to NaN."""
    return a.keys() == b.keys() and all(a[k] == b[k] or (nan(a[k]) and nan(b[k])) for k in a)


def test_the_cascade_of_one_fault() -> None:
    c = fault_cascade(daily(), 3, windows=(3, 5, 10))
    assert c["day"] == 3 and c["end"] == 10
    assert c["records_fault"] == 10
    assert c["blacklisted_wrongly_before"] == 1
    assert (c["excess_peak"], c["peak_day"]) == (8, 5)
    assert c["denials_wrongful_3d"] == 2 + 3 + 0  # days 3, 4, 5
    assert c["denials_wrongful_5d"] == 2 + 3 + 0 + 1 + 1  # days 3 to 7
    assert nan(c["denials_wrongful_10d"])  # days 3 to 12: past the run's end
    assert c["denials_wrongful_per_day_before"] == pytest.approx(2 / 3)  # days 0 to 2
    assert c["rewards_lost"] == 3
    assert c["appeals_won_false"] == 6
    # day 7's excess is 4, exactly half of the peak: not below it; day 8's is 3
    assert (c["half_day"], c["days_to_half"]) == (8, 5)


def test_the_default_windows_and_the_whole_population_rows_alone() -> None:
    whole = daily(shuffle=False)
    whole = whole[whole["breakdown"] == "all"].drop(columns=["breakdown", "level"])
    c = fault_cascade(whole, 3)
    assert same(c, fault_cascade(daily(), 3))
    assert [k for k in c if k.startswith("denials_wrongful_") and k.endswith("d")] == [
        "denials_wrongful_30d", "denials_wrongful_90d", "denials_wrongful_180d"]  # fmt: skip
    assert all(nan(c[k]) for k in ("denials_wrongful_30d", "denials_wrongful_90d", "denials_wrongful_180d"))


def test_a_window_closed_by_the_next_fault() -> None:
    c = fault_cascade(daily(), 3, end=7, windows=(3, 5))
    assert c["end"] == 7
    assert (c["excess_peak"], c["peak_day"]) == (8, 5)
    assert nan(c["half_day"]) and nan(c["days_to_half"])  # days 5 and 6 hold 8 and 6: never below 4 before day 7
    assert c["denials_wrongful_3d"] == 5 and nan(c["denials_wrongful_5d"])  # days 3 to 7 reach the next fault
    assert c["appeals_won_false"] == 1 + 2
    assert c["rewards_lost"] == 1


def test_a_fault_on_the_first_day_and_a_fault_that_listed_no_one() -> None:
    c = fault_cascade(daily(), 0, windows=(4,))
    assert c["blacklisted_wrongly_before"] == 0  # nobody is listed before the run
    assert (c["excess_peak"], c["peak_day"]) == (9, 5)
    assert (c["half_day"], c["days_to_half"]) == (8, 8)  # 7, 5, then 4 < 4.5 on day 8
    assert nan(c["denials_wrongful_per_day_before"])
    assert c["denials_wrongful_4d"] == 1 + 0 + 1 + 2
    flat = fault_cascade(daily([5, 5, 5, 4, 4, 5, 3, 2, 2, 2]), 3)
    assert flat["excess_peak"] == 0  # never above the day before's 5
    assert nan(flat["peak_day"]) and nan(flat["half_day"]) and nan(flat["days_to_half"])


def test_columns_an_old_run_lacks_are_nan() -> None:
    c = fault_cascade(daily(drop=("records_fault", "rewards_lost")), 3)
    assert nan(c["records_fault"]) and nan(c["rewards_lost"])
    assert c["appeals_won_false"] == 6 and c["excess_peak"] == 8


def test_one_row_per_fault_day_each_up_to_the_next() -> None:
    cas = fault_cascades(daily(), days=[7, 3, 7, 20], windows=(3,))  # day 20 is after the run: left out
    assert list(cas["day"]) == [3, 7] and list(cas["faults"]) == [1, 2] and list(cas["end"]) == [7, 10]
    first = cas.iloc[0]
    assert first["excess_peak"] == 8 and first["appeals_won_false"] == 3 and math.isnan(first["half_day"])
    second = cas.iloc[1]  # the day before day 7: 7 listed; excess 0 -2 -3 afterwards
    assert second["blacklisted_wrongly_before"] == 7 and second["excess_peak"] == 0 and math.isnan(second["peak_day"])
    assert second["denials_wrongful_3d"] == 1 + 0 + 4
    assert fault_cascades(daily(), days=[]).empty


def test_the_fault_days_come_from_the_rulebook() -> None:
    res = with_rulebook([{"date": "2024-01-04", "behaviour": "fraud", "share": 0.1}], start="2024-01-01")
    assert fault_days(res) == [3]
    assert same(fault_cascade(res), fault_cascade(daily(), 3))
    cas = fault_cascades(res, windows=(3,))
    assert list(cas["day"]) == [3] and cas.iloc[0]["records_fault"] == 10
    two = with_rulebook([{"day": 3, "behaviour": "fraud", "share": 0.1}, {"day": 7, "behaviour": "fraud", "count": 5}])
    assert fault_days(two) == [3, 7]
    with pytest.raises(InputError, match="faults on 2 days"):
        fault_cascade(two)
    assert fault_cascade(two, 7)["blacklisted_wrongly_before"] == 7
    with pytest.raises(InputError, match="no faults"):
        fault_cascade(with_rulebook([]))
    with pytest.raises(InputError, match="not within"):
        fault_cascade(daily(), 10)


def coverage_table() -> pd.DataFrame:
    rows = [  # day, channel, region, coverage, records
        (0, "camera", "north", 0.5, 3), (0, "camera", "south", 0.5, 1),
        (0, "records", "north", 0.2, 1), (0, "records", "south", 0.4, 4),
        (1, "camera", "north", 0.1, 0), (1, "camera", "south", 0.9, 0),
        (1, "records", "north", 0.4, 2), (1, "records", "south", 1.2, 2),
    ]  # fmt: skip
    return pd.DataFrame(rows, columns=["day", "channel", "region", "coverage", "records"])


EXPECTED = pd.DataFrame(
    [  # north has 300 persons, south 100
        ("camera", 0, "north", 150 / 200, 0.75, "north", 0.75),
        ("camera", 1, "south", 90 / 120, 0.25, None, np.nan),  # no records that day
        ("records", 0, "north", 60 / 100, 0.75, "south", 0.8),
        ("records", 1, "north", 0.5, 0.75, "north", 0.5),  # ties: the region listed first
    ],
    columns=["channel", "day", "coverage_region", "coverage_share", "persons_share", "records_region", "records_share"],
)


def test_coverage_concentration_with_persons_by_region() -> None:
    out = coverage_concentration(coverage_table(), {"north": 300, "south": 100})
    pd.testing.assert_frame_equal(out, EXPECTED)


def test_coverage_concentration_from_results_reads_the_region_rows() -> None:
    regions = pd.DataFrame({"day": [0, 0, 1, 1], "breakdown": "region", "level": ["north", "south"] * 2, "persons": [300, 100] * 2})
    whole = pd.DataFrame({"day": [0, 1], "breakdown": "all", "level": "all", "persons": [400, 400]})
    res = hand_results({"persons": 400, "days": 2})
    res.daily = pd.concat([whole, regions], ignore_index=True)
    res.coverage = coverage_table()
    pd.testing.assert_frame_equal(coverage_concentration(res), EXPECTED)
    # persons that change by day: on day 1 south has as many as north
    moved = regions.assign(persons=[300, 100, 200, 200])
    out = coverage_concentration(coverage_table(), moved)
    assert out.loc[1, "coverage_share"] == pytest.approx(180 / 200) and out.loc[1, "persons_share"] == 0.5
    assert out.loc[3, ["coverage_region", "coverage_share"]].tolist() == ["south", pytest.approx(240 / 320)]
    res.coverage = None
    assert coverage_concentration(res).empty


def test_coverage_concentration_refuses_unknown_regions() -> None:
    with pytest.raises(InputError, match="south"):
        coverage_concentration(coverage_table(), {"north": 300})
