"""The Python API for notebooks: load with overrides, run, frames, plot, save and read back."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest

import socialcredit as sc
from socialcredit.errors import RulebookErrors


def test_load_run_frames_plot_and_round_trip(tmp_path: Path) -> None:
    rb = sc.load("smalltown", persons=2000, days=15, seed=4, **{"services.flight.demand": 3})
    assert rb.population.persons == 2000 and rb.services[0].demand == 3.0
    res = sc.run(rb, out=str(tmp_path / "run"))
    df = res.to_df()
    assert list(df["day"]) == list(range(15)) and (df["breakdown"] == "all").all()
    assert set(res.to_df("daily", None)["breakdown"]) == {"all", "region", "group", "tier"}
    assert res.to_polars().shape == df.shape
    fig = res.plot(str(tmp_path / "main.png"))
    assert len(fig.axes) == 4 and (tmp_path / "main.png").stat().st_size > 10_000
    back = sc.read_run(str(tmp_path / "run"))
    pd.testing.assert_frame_equal(back.daily, res.daily, check_dtype=False)
    assert back.summary() == res.summary()
    assert (tmp_path / "run" / "figures" / "main.png").exists() is False  # the API writes figures only when asked


def test_load_with_a_mapping_and_errors_are_ours() -> None:
    rb = sc.load("reference", {"population.persons": 1000, "score.initial": 990})
    assert rb.score.initial == 990
    with pytest.raises(RulebookErrors, match="did you mean 'initial'"):
        sc.load("reference", {"score.intial": 990})


def test_unknown_table_lists_the_valid_ones() -> None:
    res = sc.run("reference", persons=500, days=3)
    with pytest.raises(KeyError, match="daily"):
        res.to_df("dayly")
    assert "reference" in sc.list_scenarios()
