"""Checkpoints: a run continued from a saved state gives the uninterrupted run's results exactly."""

from __future__ import annotations

import hashlib
import json
import pickle
import zipfile
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

import socialcredit as sc
from socialcredit.results import checkpoint
from socialcredit.engine.sim import Sim
from socialcredit.errors import InputError
from socialcredit.results import Results

TABLES = ("daily", "services", "behaviours", "audit", "audit_persons")


def state_file(run_dir: Path) -> Path:
    """The state file the checkpoint's manifest names."""
    manifest = json.loads((run_dir / "checkpoint" / "state.json").read_text())
    return run_dir / "checkpoint" / manifest["file"]


def assert_same_results(a, b) -> None:
    for name in TABLES:
        pd.testing.assert_frame_equal(getattr(a, name), getattr(b, name), check_exact=True)


@pytest.mark.parametrize("scenario", ["full-system", "nosedive"])
def test_resumed_run_equals_uninterrupted(scenario: str, tmp_path: Path) -> None:
    """Everything at once (companies, appeals in flight, unfriending, ratings): state saved at day 20, resumed."""
    rb = sc.load(scenario, persons=2500, days=45)
    whole = Results.from_sim(Sim(rb).run())

    sim = Sim(rb)
    checkpoint.start(tmp_path, {"scenario": scenario}, rb._yaml)
    sim.run(on_day=checkpoint.every(20, tmp_path))  # saves on days 20 and 40
    assert state_file(tmp_path).name.startswith("state-000040-")
    assert len(list((tmp_path / "checkpoint").glob("state-*"))) == 1  # the day-20 state was removed
    resumed = checkpoint.load(tmp_path)
    assert resumed is not None and resumed.state.day == 40
    assert_same_results(whole, Results.from_sim(resumed.run()))


def test_interrupted_loop_resumes_from_last_save(tmp_path: Path) -> None:
    """Stop after day 33 (as a kill would), resume from the day-30 save: identical to the whole run."""
    rb = sc.load("smalltown", persons=2000, days=50)
    whole = Results.from_sim(Sim(rb).run())
    sim = Sim(rb)
    sim.setup()
    checkpoint.start(tmp_path, {}, rb._yaml)
    for _ in range(33):
        sim.step()
        if sim.state.day % 15 == 0:
            checkpoint.save(sim, tmp_path)
    del sim
    resumed = checkpoint.load(tmp_path)
    assert resumed.state.day == 30
    assert_same_results(whole, Results.from_sim(resumed.run()))


def test_half_written_state_leaves_the_previous_checkpoint(tmp_path: Path) -> None:
    rb = sc.load("smalltown", persons=1000, days=20)
    sim = Sim(rb)
    checkpoint.start(tmp_path, {}, rb._yaml)
    sim.setup()
    for _ in range(10):
        sim.step()
    checkpoint.save(sim, tmp_path)
    # a write killed half way leaves only a temporary file next to the good one, which the manifest does not name
    (tmp_path / "checkpoint" / "state-000012-0123456789abcdef.npz.tmp").write_bytes(b"PK\x03\x04truncated")
    assert checkpoint.load(tmp_path).state.day == 10
    sim.step()
    checkpoint.save(sim, tmp_path)  # the next save clears the leftovers
    assert [p.name for p in (tmp_path / "checkpoint").glob("state-*")] == [state_file(tmp_path).name]


def test_no_state_yet_and_unreadable_state(tmp_path: Path) -> None:
    rb = sc.load("smalltown", persons=1000, days=20)
    checkpoint.start(tmp_path, {}, rb._yaml)
    assert checkpoint.load(tmp_path) is None
    sim = Sim(rb)
    sim.setup()
    sim.step()
    checkpoint.save(sim, tmp_path)
    state_file(tmp_path).write_bytes(b"not a checkpoint")
    with pytest.raises(InputError, match="bytes, its manifest says"):
        checkpoint.load(tmp_path)
    # an older checkpoint (a pickle, no manifest) is refused without being opened
    (tmp_path / "checkpoint" / "state.json").unlink()
    (tmp_path / "checkpoint" / "state.pkl").write_bytes(b"\x80\x05not loaded")
    with pytest.raises(InputError, match="older format"):
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


# ---------------------------------------------------------------- the state file: no pickle, checked before use
def saved_run(run_dir: Path, scenario: str = "full-system", persons: int = 1500, days: int = 20, upto: int = 8) -> Sim:
    """A run of ``scenario`` checkpointed at the end of day ``upto`` (the Sim is returned, still on that day)."""
    rb = sc.load(scenario, persons=persons, days=days)
    checkpoint.start(run_dir, {"base_dir": rb._base_dir}, rb._yaml)
    sim = Sim(rb)
    sim.setup()
    for _ in range(upto):
        sim.step()
    checkpoint.save(sim, run_dir)
    return sim


def rewrite(run_dir: Path, members: dict[str, np.ndarray]) -> None:
    """Replace the state file by an .npz of ``members`` and record its true size and checksum in the manifest."""
    path = state_file(run_dir)
    with open(path, "wb") as fh:
        np.savez(fh, **members)
    manifest_path = run_dir / "checkpoint" / "state.json"
    manifest = json.loads(manifest_path.read_text())
    manifest.update(bytes=path.stat().st_size, sha256=hashlib.sha256(path.read_bytes()).hexdigest())
    manifest_path.write_text(json.dumps(manifest))


def members_of(run_dir: Path) -> dict[str, np.ndarray]:
    with np.load(state_file(run_dir), allow_pickle=False) as npz:
        return {k: npz[k] for k in npz.files}


def test_state_file_is_plain_arrays_and_loads_without_pickle(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    saved_run(tmp_path)
    path = state_file(tmp_path)
    with zipfile.ZipFile(path) as zf:
        names = zf.namelist()
    assert names and all(n.endswith(".npy") for n in names) and "meta.npy" in names
    members = members_of(tmp_path)  # every member reads with allow_pickle=False: no object arrays
    assert all(a.dtype != object for a in members.values())
    json.loads(members["meta"].tobytes())  # the tree is plain JSON
    manifest = json.loads((tmp_path / "checkpoint" / "state.json").read_text())
    assert manifest["sha256"] == hashlib.sha256(path.read_bytes()).hexdigest()
    assert manifest["state_format"] == checkpoint.STATE_FORMAT == 5 and manifest["day"] == 8

    def no_pickle(*args, **kwargs):
        raise AssertionError("a checkpoint was unpickled")

    for name in ("load", "loads", "Unpickler"):
        monkeypatch.setattr(pickle, name, no_pickle)
    assert checkpoint.load(tmp_path).state.day == 8


def test_object_array_in_the_state_is_refused(tmp_path: Path) -> None:
    saved_run(tmp_path)
    members = members_of(tmp_path)
    name = next(k for k in members if k.startswith("pool_"))
    members[name] = np.array([object()] * members[name].size, dtype=object)  # would need pickle to read
    rewrite(tmp_path, members)
    with pytest.raises(InputError, match="unusable: .*Object arrays cannot be loaded"):
        checkpoint.load(tmp_path)


def test_damaged_state_is_refused_before_parsing(tmp_path: Path) -> None:
    saved_run(tmp_path)
    path = state_file(tmp_path)
    data = bytearray(path.read_bytes())
    data[len(data) // 2] ^= 0x10  # one flipped bit
    path.write_bytes(bytes(data))
    with pytest.raises(InputError, match="SHA-256 checksum does not match"):
        checkpoint.load(tmp_path)
    path.write_bytes(bytes(data[: len(data) // 3]))  # truncated
    with pytest.raises(InputError, match="truncated or damaged"):
        checkpoint.load(tmp_path)


def test_foreign_npz_with_the_right_checksum_is_refused(tmp_path: Path) -> None:
    saved_run(tmp_path)
    good = members_of(tmp_path)
    rewrite(tmp_path, {"x": np.arange(3)})  # some other .npz
    with pytest.raises(InputError, match="no meta member"):
        checkpoint.load(tmp_path)
    renamed = {("a999999" if k == "a6" else k): v for k, v in good.items()}  # another array name
    rewrite(tmp_path, renamed)
    with pytest.raises(InputError, match="is missing"):
        checkpoint.load(tmp_path)
    rewrite(tmp_path, good)
    assert checkpoint.load(tmp_path).state.day == 8  # the rewrite itself is sound


@pytest.mark.parametrize(
    ("damage", "message"),
    [
        (lambda sim: setattr(sim.state, "points", sim.state.points[:-1]), r"sim\.state\.points: shape"),
        (lambda sim: setattr(sim.state, "score", sim.state.score.astype(np.float64)), r"sim\.state\.score: dtype float64"),
        (lambda sim: setattr(sim.daily, "state", sim.daily.state[:, :, :-1]), r"sim\.daily\.state: shape"),
        (lambda sim: sim.pop.persons.region.__setitem__(0, 1 - sim.pop.persons.region[0]), "differs from the one the rulebook builds"),
        (lambda sim: setattr(sim.state, "day", 7), "holds day 7, the manifest says 8"),
        (lambda sim: setattr(sim.state, "log", None), r"sim\.state\.log: empty"),
        (lambda sim: setattr(sim.state, "newly_added", np.zeros(3)), r"unexpected \['newly_added'\]"),
        (lambda sim: delattr(sim.audit, "details"), r"missing \['details'\]"),
        (lambda sim: sim.state.pending.setdefault(30, []).append((np.array([10**7], np.int32), np.zeros(1, np.uint8), np.zeros(1, np.uint8))),
         r"pending records \(persons\) holds values outside"),
        (lambda sim: sim.state.tier.__setitem__(3, 200), "tier holds values outside"),
    ],
)  # fmt: skip
def test_state_that_does_not_fit_the_rebuilt_sim_is_refused(tmp_path: Path, damage, message: str) -> None:
    """A state with a valid checksum but other shapes, dtypes, attributes or out-of-range indices."""
    sim = saved_run(tmp_path)
    day = sim.state.day
    damage(sim)
    members = checkpoint.encode(sim)
    meta = json.loads(members["meta"].tobytes())
    meta["day"] = day  # as the manifest says
    members["meta"] = np.frombuffer(json.dumps(meta).encode(), np.uint8)
    rewrite(tmp_path, members)
    with pytest.raises(InputError, match=message):
        checkpoint.load(tmp_path)


def test_other_rulebook_and_older_format_are_refused(tmp_path: Path) -> None:
    saved_run(tmp_path)
    yaml_path = tmp_path / "checkpoint" / "rulebook.yaml"
    original = yaml_path.read_text()
    yaml_path.write_text(sc.load("full-system", persons=1500, days=21)._yaml)
    with pytest.raises(InputError, match="saved for another rulebook"):
        checkpoint.load(tmp_path)
    yaml_path.write_text(original)
    manifest_path = tmp_path / "checkpoint" / "state.json"
    manifest_path.write_text(manifest_path.read_text().replace('"state_format": 5', '"state_format": 2'))
    with pytest.raises(InputError, match="format 2; this version reads format 5"):
        checkpoint.load(tmp_path)


def test_unknown_attribute_types_fail_loudly_when_saving(tmp_path: Path) -> None:
    """An engine change that adds state of a kind the checkpoint does not know cannot be dropped silently."""
    sim = saved_run(tmp_path, upto=2)
    sim.state.something_new = {1: {"deep": [object()]}}
    with pytest.raises(TypeError, match=r"sim\.state\.something_new\[1\]\['deep'\]\[0\] holds a builtins.object"):
        checkpoint.save(sim, tmp_path)
    assert checkpoint.load(tmp_path).state.day == 2  # the failed save left the previous checkpoint
