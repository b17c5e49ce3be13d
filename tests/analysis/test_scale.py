"""Scaled counts: exact arithmetic, and a clear error when no real population is stated."""

from __future__ import annotations

import pytest

import socialcredit as sc
from socialcredit.analysis import scale_factor, scaled, scaled_counts
from socialcredit.errors import InputError
from tests.analysis.conftest import hand_results


@pytest.fixture(scope="module")
def res():
    return sc.run(sc.load("smalltown", {"simulation.scale_to": 1_400_000_000}, persons=2000, days=60))


def test_exact_arithmetic() -> None:
    r = hand_results({"persons": 10_000, "scale_to": 1.4e9})
    assert scale_factor(r) == 140_000.0
    assert scaled(37, r) == 5_180_000.0
    assert scaled(37, r, to=20_000) == 74.0  # a stated population wins over the rulebook's
    assert scale_factor(hand_results({"persons": 3, "scale_to": None}), to=1) == 1 / 3


def test_no_population_to_scale_to_is_an_input_error() -> None:
    r = hand_results({"persons": 10_000, "scale_to": None})
    with pytest.raises(InputError, match="(?s)no real population is stated.*simulation.scale_to"):
        scale_factor(r)
    with pytest.raises(InputError, match="no real population"):
        scaled(5, r)
    with pytest.raises(InputError, match="no real population"):
        scaled_counts(r)
    for bad in (0, -5, float("nan"), "many"):
        with pytest.raises(InputError, match="must be a number above 0"):
            scale_factor(r, to=bad)


def test_scaled_counts_are_the_summary_counts_times_the_factor(res) -> None:
    s = res.summary()
    assert s["scale_factor"] == 700_000.0
    table = scaled_counts(res)
    assert table.attrs["factor"] == 700_000.0 and table.attrs["scale_to"] == 1.4e9
    rows = table.set_index("measure")
    assert rows.loc["records_false", "simulated"] == s["records_false"]
    assert rows.loc["services.train.denied", "simulated"] == s["services"]["train"]["denied"]
    assert rows.loc["events_by_kind.harmful", "simulated"] == s["events_by_kind"]["harmful"]
    assert (table["scaled"] == table["simulated"] * 700_000).all()  # exact: integers times an integer-valued factor
    assert "score_mean" not in rows.index and "tier_shares" not in rows.index  # means and shares do not scale
    other = scaled_counts(res, to=2000)
    assert (other["scaled"] == other["simulated"]).all()
