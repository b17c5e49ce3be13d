"""Tests of two scorers that feed each other (engine/stages/commercial.py, analysis.scorers): a commercial score
reads the government blacklist and income; a government service reads the commercial band."""

from __future__ import annotations

import copy

import numpy as np

from socialcredit.analysis.scorers import commercial_by_listing
from socialcredit.results.final_state import final_state_frame
from tests.conftest import base_rulebook, run

HALF_LIFE = 10.0
LISTED = -150.0


def commercial(data: dict, **kw) -> dict:
    out = copy.deepcopy(data)
    out["commercial"] = {"initial": 650, "bounds": [350, 950], "income": 50, "spread": 40, "listed": LISTED,
                         "half_life": HALF_LIFE, "assumed": "test",
                         "bands": [{"name": "excellent", "min": 700}, {"name": "good", "min": 600}, {"name": "poor"}]} | kw  # fmt: skip
    return out


def whole(res):
    return res.daily[res.daily["breakdown"] == "all"].reset_index(drop=True)


def test_the_score_starts_at_its_target_and_reads_the_list() -> None:
    """At setup: the base (initial + income * ln(income / median) + spread * z); a person listed for k days (and never
    before) is LISTED * (1 - (1 - step) ** k) below the unlisted path, to float32 precision."""
    data = commercial(base_rulebook(persons=4000, days=120))
    data["lists"]["blacklist"]["exit"] = "day < 0"  # nobody leaves the list
    data["services"] = [{"name": "flight", "demand": 2, "denied_when": "blacklisted"}]  # income never changes
    sim, res = run(data)
    st = sim.state
    base = st.commercial_base.astype(np.float64)
    listed = st.black_since >= 0
    assert listed.sum() > 50
    step = 1 - 0.5 ** (1 / HALF_LIFE)
    k = sim.plan.days - st.black_since[listed]
    clip = lambda x: np.clip(x, 350, 950)  # noqa: E731
    free = clip(base[listed])
    expected = free + (clip(base[listed] + LISTED) - free) * (1 - (1 - step) ** k)
    assert np.allclose(st.commercial[listed], expected, atol=0.05)
    assert np.allclose(st.commercial[~listed], clip(base[~listed]), atol=1e-3)
    assert abs(np.std(base) - np.sqrt(40**2 + (50 * 0.6) ** 2)) < 1.5  # spread and income (income sigma 0.6 in the base)
    assert abs(whole(res)["commercial_mean"].iloc[-1] - np.rint(st.commercial).astype(float).mean()) < 1e-9


def test_each_scorer_moves_the_other_and_false_records_reach_both() -> None:
    """A government service denied in the 'poor' band: listing lowers the commercial score, so the listed are denied
    more with the listed term than without it (same seed); false records lower both scores, and the denials
    they cause through the band are wrongful."""
    data = base_rulebook(persons=5000, days=150)
    data["detection"]["channels"]["camera"]["false_attribution"] = 0.3
    data["services"].append({"name": "rental", "demand": 6, "denied_when": "commercial_band == 'poor'"})
    sim, on = run(commercial(data))
    _, off = run(commercial(data, listed=0.0))
    rental = lambda r: r.services[(r.services["breakdown"] == "all") & (r.services["service"] == "rental")]  # noqa: E731
    assert rental(on)["outcomes"].sum() > 1.2 * rental(off)["outcomes"].sum()  # seed 7: 2,482 against 1,925
    assert rental(on)["wrongful"].sum() > 0 and rental(off)["wrongful"].sum() == 0
    table = commercial_by_listing(final_state_frame(sim))
    gap = table.loc["not listed", "commercial_mean"] - table.loc["listed", "commercial_mean"]
    assert gap > 0.5 * -LISTED
    assert table.loc["listed only because of false records", "commercial_lost_to_false_records"] > 0.5 * -LISTED
    # the government score does not read the commercial one: the same in both runs
    assert whole(on)["score_mean"].equals(whole(off)["score_mean"])


def test_conditions_read_the_score_from_day_0() -> None:
    """A list that reads the band lists on day 0 only those whose starting commercial score is poor (not everyone)."""
    data = commercial(base_rulebook(persons=3000, days=3))
    data["lists"]["blacklist"] = {"enter": "commercial_band == 'poor'", "min_days": 1}
    sim, res = run(data)
    first = res.daily[(res.daily["breakdown"] == "all") & (res.daily["day"] == 0)]["blacklist_entries"].iloc[0]
    poor = (np.clip(sim.state.commercial_base, 350, 950) < 600).sum()
    assert first == poor and 0 < poor < 3000 / 2


def test_a_condition_on_the_band_needs_the_commercial_score(tmp_path) -> None:
    """Without a commercial score the field is unknown: a located error at the condition."""
    import pytest
    import yaml

    from socialcredit.errors import SocialCreditError
    from socialcredit.rulebook import load_rulebook

    data = base_rulebook()
    data["services"].append({"name": "rental", "demand": 6, "denied_when": "commercial_band == 'poor'"})
    path = tmp_path / "city.yaml"
    path.write_text(yaml.safe_dump(data, sort_keys=False), encoding="utf-8")
    with pytest.raises(SocialCreditError) as info:
        load_rulebook(path)
    assert "commercial_band" in str(info.value) and "city.yaml" in str(info.value)
    data = commercial(data)
    path.write_text(yaml.safe_dump(data, sort_keys=False), encoding="utf-8")
    assert load_rulebook(path).rulebook.commercial is not None
