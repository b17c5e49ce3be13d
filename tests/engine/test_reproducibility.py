"""Reproducibility: thread count never changes results; policy changes share random numbers."""

from __future__ import annotations

import copy

import numba
import numpy as np
import pandas as pd

from tests.conftest import base_rulebook, run


def rich_rulebook() -> dict:
    """Every mechanism of the engine on: false records, spurious records, delays, social term, deterrence."""
    data = base_rulebook(persons=6000, days=90, seed=3)
    data["detection"]["channels"]["camera"]["false_attribution"] = 0.05
    data["detection"]["channels"]["records"]["spurious_rate"] = 0.5
    data["detection"]["channels"]["records"]["delay"] = 3
    data["score"]["social"] = {"friends": 0.2, "period": 7, "composite": True}
    data["population"]["partners"] = 0.5
    data["score"]["social"]["partner"] = 0.1
    data["responses"]["deterrence"] = {"elasticity": 0.5, "half_life": 30, "sanction_weight": 1.0}
    for b in data["behaviours"]:
        b["heterogeneity"] = 0.5
    return data


def test_same_seed_same_tables_with_one_and_two_threads() -> None:
    data = rich_rulebook()
    before = numba.get_num_threads()
    try:
        _, one = run(data, threads=1)
        _, two = run(data, threads=2 if numba.config.NUMBA_NUM_THREADS >= 2 else 1)
    finally:
        numba.set_num_threads(before)
    for table in ("daily", "services", "behaviours", "audit"):
        pd.testing.assert_frame_equal(one.to_df(table, None), two.to_df(table, None), check_exact=True)
    assert one.summary()["records_false"] > 0  # the mechanisms under test were active


def test_same_seed_repeats_exactly_and_another_seed_differs() -> None:
    data = rich_rulebook()
    _, a = run(data)
    _, b = run(data)
    pd.testing.assert_frame_equal(a.daily, b.daily, check_exact=True)
    other = copy.deepcopy(data)
    other["simulation"]["seed"] = 4
    _, c = run(other)
    assert not a.daily["records_true"].equals(c.daily["records_true"])


def test_changing_a_service_leaves_behaviour_and_detection_draws_unchanged() -> None:
    """Common random numbers: a policy change in one stage does not reshuffle the others' draws.

    Denials feed perceived risk, which would change behaviour by design; the
    sanction weight is set to 0 so that only the draws themselves are compared.
    """
    data = rich_rulebook()
    data["responses"]["deterrence"]["sanction_weight"] = 0.0
    changed = copy.deepcopy(data)
    changed["services"][0]["demand"] = 9.0  # flights: far more attempts
    sim_a, a = run(data)
    sim_b, b = run(changed)
    sa = a.to_df("services")
    sb = b.to_df("services")
    assert sb.loc[sb["service"] == "flight", "attempts"].sum() > 3 * sa.loc[sa["service"] == "flight", "attempts"].sum()
    # every behaviour event, detection and record is the same, day by day and cell by cell
    pd.testing.assert_frame_equal(a.to_df("behaviours", None), b.to_df("behaviours", None), check_exact=True)
    # and for each person: the same audit trail of records, and the same final points
    ra = a.audit[a.audit["event"] == "record"].reset_index(drop=True)
    rb_ = b.audit[b.audit["event"] == "record"].reset_index(drop=True)
    pd.testing.assert_frame_equal(ra, rb_, check_exact=True)
    np.testing.assert_array_equal(sim_a.state.points, sim_b.state.points)
    # the other service (loans) draws its own stream: its attempts are identical too
    la = sa[sa["service"] == "loan"]["attempts"].to_numpy()
    lb = sb[sb["service"] == "loan"]["attempts"].to_numpy()
    np.testing.assert_array_equal(la, lb)


def test_parallel_rescoring_gives_the_serial_results(monkeypatch) -> None:
    """Between social updates, the touched persons are rescored in parallel from 200,000 a day (10M-person
    runs). Forced on at every size, it must give exactly the serial kernel's tables, with one thread or two."""
    from socialcredit.engine.stages import score

    data = rich_rulebook()
    _, serial = run(data)
    monkeypatch.setattr(score, "PARALLEL_TOUCHED", 0)
    called = []
    kernel = score.score_touched_parallel
    monkeypatch.setattr(score, "score_touched_parallel", lambda *a: (called.append(1), kernel(*a)))
    before = numba.get_num_threads()
    try:
        tables = []
        for threads in (1, 2 if numba.config.NUMBA_NUM_THREADS >= 2 else 1):
            _, res = run(data, threads=threads)
            tables.append(res)
    finally:
        numba.set_num_threads(before)
    assert called  # the parallel kernel did the rescoring
    for res in tables:
        for table in ("daily", "services", "audit"):
            pd.testing.assert_frame_equal(serial.to_df(table, None), res.to_df(table, None), check_exact=True)
