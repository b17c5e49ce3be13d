"""Checkpoints: a run continued from a saved state gives the uninterrupted run's results exactly."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest

import socialcredit as sc
from socialcredit.engine import checkpoint
from socialcredit.engine.sim import Sim
from socialcredit.errors import InputError

TABLES = ("daily", "services", "behaviours", "audit", "audit_persons")


def assert_same_results(a, b) -> None:
    for name in TABLES:
        pd.testing.assert_frame_equal(getattr(a, name), getattr(b, name), check_exact=True)


@pytest.mark.parametrize("scenario", ["full-system", "nosedive"])
def test_resumed_run_equals_uninterrupted(scenario: str, tmp_path: Path) -> None:
    """Everything at once (companies, appeals in flight, unfriending, ratings): state saved at day 20, resumed."""
    rb = sc.load(scenario, persons=2500, days=45)
    whole = Sim(rb).run()

    sim = Sim(rb)
    checkpoint.start(tmp_path, {"scenario": scenario}, "meta: {}\n")
    sim.run(checkpoint_every=20, checkpoint_dir=str(tmp_path))  # saves on days 20 and 40
    assert (tmp_path / "checkpoint" / "state.pkl").exists()
    resumed = checkpoint.load(tmp_path)
    assert resumed is not None and resumed.state.day == 40
    assert_same_results(whole, resumed.run())


def test_interrupted_loop_resumes_from_last_save(tmp_path: Path) -> None:
    """Stop after day 33 (as a kill would), resume from the day-30 save: identical to the whole run."""
    rb = sc.load("smalltown", persons=2000, days=50)
    whole = Sim(rb).run()
    sim = Sim(rb)
    sim.setup()
    checkpoint.start(tmp_path, {}, "meta: {}\n")
    for _ in range(33):
        sim.step()
        if sim.state.day % 15 == 0:
            checkpoint.save(sim, tmp_path)
    del sim
    resumed = checkpoint.load(tmp_path)
    assert resumed.state.day == 30
    assert_same_results(whole, resumed.run())


def test_half_written_state_leaves_the_previous_checkpoint(tmp_path: Path) -> None:
    rb = sc.load("smalltown", persons=1000, days=20)
    sim = Sim(rb)
    checkpoint.start(tmp_path, {}, "meta: {}\n")
    sim.setup()
    for _ in range(10):
        sim.step()
    checkpoint.save(sim, tmp_path)
    # a write killed half way leaves only a temporary file next to the good one
    (tmp_path / "checkpoint" / "state.pkl.tmp").write_bytes(b"\x80\x05truncated")
    assert checkpoint.load(tmp_path).state.day == 10


def test_no_state_yet_and_unreadable_state(tmp_path: Path) -> None:
    checkpoint.start(tmp_path, {}, "meta: {}\n")
    assert checkpoint.load(tmp_path) is None
    (tmp_path / "checkpoint" / "state.pkl").write_bytes(b"not a pickle")
    with pytest.raises(InputError, match="unreadable"):
        checkpoint.load(tmp_path)


def test_settings_errors_say_what_the_folder_is(tmp_path: Path) -> None:
    with pytest.raises(InputError, match="no such run folder"):
        checkpoint.read_settings(tmp_path / "missing")
    with pytest.raises(InputError, match="no checkpoint"):
        checkpoint.read_settings(tmp_path)
    (tmp_path / "run.json").write_text("{}")
    with pytest.raises(InputError, match="complete"):
        checkpoint.read_settings(tmp_path)
    other = tmp_path / "old"
    checkpoint.start(other, {}, "meta: {}\n")
    settings = (other / "checkpoint" / "settings.json")
    settings.write_text(settings.read_text().replace('"version": "', '"version": "0.0.0-'))
    with pytest.raises(InputError, match="written by socialcredit 0.0.0-"):
        checkpoint.read_settings(other)
    # a checkpoint from before the current state layout (no state_format: format 1) is refused, not unpickled
    older = tmp_path / "older"
    checkpoint.start(older, {}, "meta: {}\n")
    settings = older / "checkpoint" / "settings.json"
    settings.write_text(settings.read_text().replace(f'"state_format": {checkpoint.STATE_FORMAT}', '"unused": 0'))
    with pytest.raises(InputError, match=f"format 1; this version reads format {checkpoint.STATE_FORMAT}"):
        checkpoint.read_settings(older)
