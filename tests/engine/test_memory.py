"""The memory guard: the estimate tracks what a run really holds, and a run that cannot fit is refused."""

from __future__ import annotations

import pytest

import socialcredit as sc
from socialcredit.engine import memory
from socialcredit.engine.sim import Sim
from socialcredit.errors import SocialCreditError


def test_estimate_matches_the_arrays_of_a_real_build() -> None:
    """The straight line through two tiny builds predicts a 30,000-person build's arrays within 5%."""
    rb = sc.load("reference", persons=30000, days=365)
    est = memory.estimate(rb)
    sim = Sim(rb)
    sim.setup()
    held = memory.array_bytes(sim)
    predicted = est.per_person * 30000 + est.fixed
    assert abs(predicted - held) / held < 0.05, (predicted, held)
    # the reference holds its 20 friendships per person (4 bytes a slot) and ~20 float32/int32 fields: 150-300 B
    assert 150 < est.per_person < 300


def test_record_log_is_counted_only_when_records_are_read_back() -> None:
    """A 365-day run with 365-day expiry never reads a record back (nothing logged); a longer run does."""
    short = memory.estimate(sc.load("reference", persons=10000, days=365))
    long = memory.estimate(sc.load("reference", persons=10000, days=730))
    assert short.record_log == 0
    # about 30 events a year per person at most, kept 365 days, 5 bytes each with room to grow by half
    assert 0 < long.record_log < 10000 * 31 * 7.5


def test_a_run_that_cannot_fit_is_refused_with_what_to_do() -> None:
    rb = sc.load("reference", persons=50_000_000)
    with pytest.raises(SocialCreditError) as info:
        memory.check(rb, available=4 * 2**30)
    text = str(info.value)
    assert "would need about" in text and "available" in text and "--persons" in text and "scale_to" in text
    fit = int(text.split("--persons ")[1].split(")")[0])
    assert 5_000_000 < fit < 20_000_000  # 4 GiB at about 200 B per person, less the program
    assert memory.check(sc.load("reference", persons=1000), available=4 * 2**30) is None  # small: not even estimated
