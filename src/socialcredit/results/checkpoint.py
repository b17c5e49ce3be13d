"""Checkpoints: the full state of a run on disk, so a killed run can continue.

A checkpoint holds, at the end of a day, everything in the
:class:`~socialcredit.engine.sim.Sim` that changes as days pass: the state
arrays, the record log and pending records, appeals in flight, company and
rating state, the network's dropped ties, the recorder's tables so far and the
audit trail. What is fixed by the rulebook (the compiled plan, its condition
objects, the population as built) is not trusted from the file: resuming
builds the Sim again from the saved rulebook (``Sim(rulebook).setup()``, which
is deterministic in the seed) and then overwrites every saved attribute.
Random numbers are counter-based (a hash of seed, stream, day and person), so
a run resumed from day ``d`` draws exactly what the uninterrupted run drew:
the results are identical.

Layout inside the run folder, while the run is unfinished::

    RUN_DIR/checkpoint/settings.json              how the run was started (command options, version)
    RUN_DIR/checkpoint/rulebook.yaml              the exact rulebook (the Sim is rebuilt from it)
    RUN_DIR/checkpoint/state.json                 manifest: state format, state file name, size, SHA-256, day
    RUN_DIR/checkpoint/state-DDDDDD-XXXX.npz      the latest complete state

The state file is a plain NumPy ``.npz`` (a zip of ``.npy`` arrays, written
with ``numpy.savez`` and read with ``allow_pickle=False``): loading it cannot
run code. Its member ``meta`` holds, as UTF-8 JSON, the object tree (which
attribute holds which array, scalars, list lengths, dict keys); small arrays
are packed into one ``pool_<dtype>`` member per dtype, large ones are members
of their own. Before anything is parsed, the file's size and SHA-256 are
checked against the manifest; then every array's dtype and shape are checked
against the freshly built Sim, arrays fixed by the rulebook must equal the
rebuilt ones, and indices the compiled kernels follow must be in range. A
damaged, truncated, foreign or older checkpoint raises
:class:`~socialcredit.errors.InputError` (exit status 2), never a crash.

A new state is written under a new name (temporary file, flushed, renamed),
then the manifest is replaced the same way, then older state files are
removed: a kill at any moment (even SIGKILL mid-write) leaves a manifest that
names a complete state with its checksum. The folder is removed when the run
folder is complete.
"""

from __future__ import annotations

import hashlib
import json
import os
import re
import secrets
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from socialcredit import strict_json
from socialcredit.engine.audit import Audit
from socialcredit.engine.counters import DayCounters
from socialcredit.engine.handoffs import Handoffs
from socialcredit.engine.sim import Sim, Timings
from socialcredit.engine.stages.company import CompanyBook
from socialcredit.engine.stages.daily import DailyAggregates
from socialcredit.engine.stages.enrolment import Enrolment
from socialcredit.engine.stages.friends_mean import FarTies
from socialcredit.engine.stages.rating import RatingBook
from socialcredit.engine.stages.surveillance import Surveillance
from socialcredit.engine.state import RecordLog, State
from socialcredit.errors import InputError, SocialCreditError
from socialcredit.files import read_json, write_atomic
from socialcredit.population import Population
from socialcredit.population.companies import Companies
from socialcredit.population.network import Network
from socialcredit.population.persons import Persons
from socialcredit.rulebook import load_rulebook
from socialcredit.version import __version__

if TYPE_CHECKING:
    from socialcredit.rulebook.schema import Rulebook

FOLDER = "checkpoint"
SETTINGS = "settings.json"
RULEBOOK = "rulebook.yaml"
MANIFEST = "state.json"
OLD_STATE = "state.pkl"  # format 1 and 2: a pickle, never loaded

# The layout of the saved state. Bump it whenever the engine's state changes shape (new
# arrays, other dtypes), so that an older checkpoint is refused with a message, not a crash mid-run.
STATE_FORMAT = 5  # 5: the far ties' values in pairs, class rates one row per class; 4: hand-offs in their own record; 3: .npz arrays + JSON tree with a SHA-256 manifest (1, 2: pickles)

_STATE_NAME = re.compile(r"state-[0-9]{6,}-[0-9a-f]{16}\.npz\Z")
_META = "meta"
_POOL = "pool_"
_POOL_MAX_BYTES = 1 << 16  # arrays up to this size share one member per dtype (audit chunks are many and small)
_DTYPES = frozenset(
    ("bool", "int8", "int16", "int32", "int64", "uint8", "uint16", "uint32", "uint64", "float32", "float64")
)

# Attributes never saved: rebuilt from the rulebook, given at load time, or scratch that is fully
# overwritten before being read (the recorder's per-thread partial sums have a machine-dependent shape), and the
# threads' governor (engine/cores.py: it watches this machine's load, not the society).
_SKIP: dict[str, frozenset[str]] = {
    "Sim": frozenset(("rulebook", "plan", "base_plan", "changes", "steps", "base_dir", "threads", "cores", "buffers")),
    "DailyAggregates": frozenset(("_part", "_dpart", "_hpart")),
    # the sampled persons with a record today (written and read within a day), and two caches of detail codes
    "Audit": frozenset(("_recorded", "_origin", "_transition")),
    "Handoffs": frozenset(("score_range",)),  # a shortcut: None on resume, and the recorder scans the scores
}
# Attributes made on first use, so absent from a freshly set-up Sim.
_LAZY: dict[str, frozenset[str]] = {}
# Arrays whose shape changes during a run (growing logs, today's batches); others must keep the setup shape.
_VARIABLE: frozenset[tuple[str, str]] = frozenset(
    (("RecordLog", "person"), ("RecordLog", "code"), ("State", "latest_penalty"), ("State", "partner_score"),
     ("State", "partner_score_cf"), ("Enrolment", "base"), ("Handoffs", "records"), ("Handoffs", "sanctioned"),
     ("Handoffs", "rescore"), ("Handoffs", "black_entered"), ("Handoffs", "touched"), ("Handoffs", "list_watch"),
     ("Handoffs", "detected"))
)  # fmt: skip
# Attributes that may be None on a later day although setup gives them a value.
_NULLABLE: frozenset[tuple[str, str]] = frozenset((("Handoffs", "touched"), ("Handoffs", "list_watch")))
# Arrays fixed by the rulebook and seed: the saved ones must equal the rebuilt ones (a foreign state is refused).
_CONSTANT: frozenset[tuple[str, str]] = frozenset(
    (("Persons", "region_offsets"), ("Persons", "region"), ("Persons", "group"), ("Persons", "employer"),
     ("Persons", "het"), ("Persons", "children"), ("Companies", "region"), ("Companies", "size"), ("Companies", "representative"),
     ("Network", "indptr"), ("CompanyBook", "represents"), ("CompanyBook", "watched"), ("Audit", "idx"), ("Audit", "mask"),
     ("DayCounters", "cells"), ("FarTies", "friend"), ("FarTies", "rank"), ("FarTies", "chunk_start"))
)  # fmt: skip


def _walked() -> dict[str, type]:
    """The classes whose instances are saved attribute by attribute; no other class is ever built from a file."""
    classes = (Sim, Timings, Handoffs, Population, Persons, Companies, Network, State, RecordLog, CompanyBook, DayCounters,
               Audit, DailyAggregates, RatingBook, FarTies, Enrolment, Surveillance)  # fmt: skip
    return {c.__name__: c for c in classes}


def every(days: int, run_dir: str | os.PathLike) -> Callable[[Sim], None]:
    """A ``Sim.run(on_day=...)`` callback that saves the state every ``days`` days (not on the last day).

    >>> sim.run(on_day=checkpoint.every(30, run_dir))  # after checkpoint.start(run_dir, ...)
    """

    def on_day(sim: Sim) -> None:
        day = sim.state.day
        if day % days == 0 and day < sim.plan.days:
            save(sim, run_dir)

    return on_day


def folder(run_dir: str | os.PathLike) -> Path:
    return Path(run_dir) / FOLDER


def has_checkpoint(run_dir: str | os.PathLike) -> bool:
    """Whether ``run_dir`` holds an unfinished run that ``socialcredit resume`` can continue."""
    return (folder(run_dir) / SETTINGS).exists()


def start(run_dir: str | os.PathLike, settings: dict[str, Any], rulebook_yaml: str) -> Path:
    """Create the checkpoint folder of a new run with its settings and rulebook."""

    path = folder(run_dir)
    path.mkdir(parents=True, exist_ok=True)
    write_atomic(path / RULEBOOK, rulebook_yaml.encode("utf-8"))
    settings_json = strict_json.dumps({**settings, "version": __version__, "state_format": STATE_FORMAT}, indent=2)
    write_atomic(path / SETTINGS, settings_json.encode("utf-8"))
    return path


# ---------------------------------------------------------------- saving
class _Writer:
    """Turns the Sim's object tree into a JSON tree plus a table of arrays (packed into .npz members)."""

    def __init__(self, root: object) -> None:
        self.root = root
        self.classes = _walked()
        self.table: list[dict[str, Any]] = []
        self.members: dict[str, np.ndarray] = {}
        self.pools: dict[str, list[np.ndarray]] = {}
        self.pool_size: dict[str, int] = {}
        self.seen: dict[int, int] = {}  # id(array) -> table index: one array held twice is restored as one
        self.alive: list[np.ndarray] = []  # keeps ids unique while writing

    def node(self, value: Any, path: str) -> dict[str, Any]:
        if value is None:
            return {"t": "none"}
        if value is self.root:
            return {"t": "root"}
        kind = type(value)
        if kind is bool:
            return {"t": "bool", "v": value}
        if kind is int:
            return {"t": "int", "v": value}
        if kind is float:
            return {"t": "float", "v": value.hex()}  # exact, and standard JSON even for NaN
        if kind is str:
            return {"t": "str", "v": value}
        if isinstance(value, np.generic):
            return {"t": "scalar", "k": self.array(np.asarray(value), path)}
        if kind is np.ndarray:
            return {"t": "array", "k": self.array(value, path)}
        if kind is list or kind is tuple:
            return {"t": kind.__name__, "items": [self.node(v, f"{path}[{i}]") for i, v in enumerate(value)]}
        if kind is dict:
            items = []
            for k, v in value.items():
                if type(k) not in (int, str):
                    raise TypeError(f"checkpoint: {path} has a key of type {type(k).__name__}; only int and str keys can be saved")
                items.append([type(k).__name__, k, self.node(v, f"{path}[{k!r}]")])
            return {"t": "dict", "items": items}
        if self.classes.get(kind.__name__) is kind:
            return self.obj(value, path)
        raise TypeError(
            f"checkpoint: {path} holds a {kind.__module__}.{kind.__qualname__}, which a checkpoint cannot save; "
            "teach socialcredit.results.checkpoint about it (a walked class, or arrays and plain scalars)"
        )

    def obj(self, value: object, path: str) -> dict[str, Any]:
        """An instance of a walked class: its attributes (``__dict__``), less those rebuilt from the rulebook."""
        name = type(value).__name__
        skip = _SKIP.get(name, frozenset())
        attrs = {a: self.node(v, f"{path}.{a}") for a, v in vars(value).items() if a not in skip}
        return {"t": "obj", "cls": name, "attrs": attrs}

    def array(self, a: np.ndarray, path: str) -> int:
        k = self.seen.get(id(a))
        if k is not None:
            return k
        dtype = a.dtype.name
        if dtype not in _DTYPES:
            raise TypeError(f"checkpoint: {path} is an array of dtype {a.dtype}, which a checkpoint cannot save")
        data = np.ascontiguousarray(a, dtype=a.dtype.newbyteorder("="))
        k = len(self.table)
        entry: dict[str, Any] = {"dtype": dtype, "shape": list(a.shape)}
        if data.nbytes <= _POOL_MAX_BYTES:
            entry["pool"] = dtype
            entry["at"] = self.pool_size.get(dtype, 0)
            self.pools.setdefault(dtype, []).append(data.reshape(-1))
            self.pool_size[dtype] = entry["at"] + data.size
        else:
            entry["member"] = f"a{k}"
            self.members[entry["member"]] = data
        self.table.append(entry)
        self.seen[id(a)] = k
        self.alive.append(a)
        return k


def rulebook_digest(rulebook: Rulebook) -> str:
    """A fingerprint of the validated rulebook: a state is only restored into the run it came from."""
    return hashlib.sha256(rulebook.model_dump_json().encode("utf-8")).hexdigest()


def encode(sim: Sim) -> dict[str, np.ndarray]:
    """The members of the state file: arrays, per-dtype pools of small arrays and the JSON tree (``meta``)."""
    w = _Writer(sim)
    tree = w.obj(sim, "sim")
    meta = {
        "state_format": STATE_FORMAT,
        "day": int(sim.state.day),
        "rulebook_sha256": rulebook_digest(sim.rulebook),
        "threads": sim.threads,
        "arrays": w.table,
        "tree": tree,
    }
    members = dict(w.members)
    for dtype, parts in w.pools.items():
        members[_POOL + dtype] = np.concatenate(parts)
    members[_META] = np.frombuffer(json.dumps(meta, separators=(",", ":")).encode("utf-8"), np.uint8)
    return members


def _sha256(path: Path) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as fh:
        for block in iter(lambda: fh.read(1 << 20), b""):
            h.update(block)
    return h.hexdigest()


def save(sim: Sim, run_dir: str | os.PathLike) -> Path:
    """Write the state at the end of the current day: a new state file, then the manifest naming it (both atomic)."""
    path = folder(run_dir)
    members = encode(sim)
    name = f"state-{sim.state.day:06d}-{secrets.token_hex(8)}.npz"
    state = path / name
    write_atomic(state, write=lambda fh: np.savez(fh, **members))
    manifest = {"state_format": STATE_FORMAT, "file": name, "bytes": state.stat().st_size, "sha256": _sha256(state), "day": int(sim.state.day)}
    write_atomic(path / MANIFEST, json.dumps(manifest, indent=2).encode("utf-8"))
    for old in path.glob("state-*.npz*"):  # earlier states, and temporary files of writes killed half way
        if old.name != name:
            old.unlink(missing_ok=True)
    return state


def read_settings(run_dir: str | os.PathLike) -> dict[str, Any]:
    """The settings of an unfinished run, or an InputError saying what the folder is instead."""

    run_dir = Path(run_dir)
    path = folder(run_dir) / SETTINGS
    if not run_dir.is_dir():
        raise InputError("no such run folder", file=str(run_dir))
    if not path.exists():
        if (run_dir / "run.json").exists():
            raise InputError("this run is complete; there is nothing to resume", file=str(run_dir))
        raise InputError(
            "no checkpoint in this folder",
            file=str(run_dir),
            hint="only runs started with --checkpoint-every DAYS can be resumed",
        )
    settings = read_json(path, "the checkpoint settings")
    if settings.get("version") != __version__:
        raise InputError(
            f"the checkpoint was written by socialcredit {settings.get('version')}; this is {__version__}",
            file=str(path),
            hint="resume with the version that started the run",
        )
    if settings.get("state_format", 1) != STATE_FORMAT:
        raise InputError(
            f"the checkpoint's state has format {settings.get('state_format', 1)}; this version reads format {STATE_FORMAT}",
            file=str(path),
            hint="resume with the version (or commit) that started the run, or start the run again",
        )
    return settings


# ---------------------------------------------------------------- loading
class _Refused(Exception):
    """The state file does not fit the rebuilt Sim (turned into an InputError naming the file)."""


def _no_constant(name: str) -> None:
    raise _Refused(f"the state's JSON holds {name}")


class _Reader:
    """Restores a JSON tree and its arrays into a freshly set-up Sim, checking kinds, dtypes and shapes."""

    def __init__(self, root: object, npz: Any, meta: dict[str, Any]) -> None:
        self.root = root
        self.npz = npz
        self.classes = _walked()
        self.table = meta.get("arrays")
        if not isinstance(self.table, list):
            raise _Refused("the state has no array table")
        self.loaded: dict[int, np.ndarray] = {}
        self.pools: dict[str, np.ndarray] = {}

    def array(self, k: Any, path: str) -> np.ndarray:
        if type(k) is not int or not 0 <= k < len(self.table):
            raise _Refused(f"{path} names no array")
        if k in self.loaded:
            return self.loaded[k]
        entry = self.table[k]
        if not isinstance(entry, dict) or entry.get("dtype") not in _DTYPES:
            raise _Refused(f"{path}: an array of unknown dtype")
        dtype = np.dtype(entry["dtype"])
        shape = entry.get("shape")
        if not isinstance(shape, list) or not all(type(s) is int and s >= 0 for s in shape):
            raise _Refused(f"{path}: a malformed array shape")
        size = int(np.prod(shape, dtype=np.int64)) if shape else 1
        if "member" in entry:
            member = entry["member"]
            if member not in self.npz.files or member == _META or str(member).startswith(_POOL):
                raise _Refused(f"{path}: array {member!r} is missing")
            arr = self.npz[member]
            if arr.dtype != dtype or list(arr.shape) != shape:
                raise _Refused(f"{path}: array {member!r} is {arr.dtype} {arr.shape}, the state says {dtype} {tuple(shape)}")
        else:
            pool = self._pool(entry.get("pool"), dtype, path)
            at = entry.get("at")
            if type(at) is not int or not 0 <= at <= pool.size - size:
                raise _Refused(f"{path}: an array outside its pool")
            arr = pool[at : at + size].reshape(shape)
        self.loaded[k] = arr
        return arr

    def _pool(self, name: Any, dtype: np.dtype, path: str) -> np.ndarray:
        if name != dtype.name:
            raise _Refused(f"{path}: an array in the wrong pool")
        if name not in self.pools:
            member = _POOL + name
            if member not in self.npz.files:
                raise _Refused(f"{path}: the {name} pool is missing")
            arr = self.npz[member]
            if arr.dtype != dtype or arr.ndim != 1:
                raise _Refused(f"the {name} pool is {arr.dtype} {arr.shape}")
            self.pools[name] = arr
        return self.pools[name]

    def value(self, node: Any, fresh: Any, path: str, variable: bool = False, constant: bool = False, nullable: bool = False) -> Any:
        """The restored value of ``node``; ``fresh`` is what the rebuilt Sim holds there (None: no template)."""
        if not isinstance(node, dict) or not isinstance(node.get("t"), str):
            raise _Refused(f"{path}: a malformed node")
        t = node["t"]
        if t == "none":
            if fresh is not None and not nullable:
                raise _Refused(f"{path}: empty where this version holds a {type(fresh).__name__}")
            return None
        if t == "root":
            if fresh is not None and fresh is not self.root:
                raise _Refused(f"{path}: refers to the simulation, the rebuilt one holds something else")
            return self.root
        if t in ("bool", "int", "str", "float"):
            v = node.get("v")
            if t == "float":
                try:
                    v = float.fromhex(v)
                except (TypeError, ValueError):
                    raise _Refused(f"{path}: a malformed number") from None
            want = {"bool": bool, "int": int, "str": str, "float": float}[t]
            if type(v) is not want:
                raise _Refused(f"{path}: expected a {t}")
            if fresh is not None and type(fresh) is not want:
                raise _Refused(f"{path}: a {t} where this version holds a {type(fresh).__name__}")
            return v
        if t == "scalar":
            arr = self.array(node.get("k"), path)
            if arr.ndim != 0:
                raise _Refused(f"{path}: a scalar of shape {arr.shape}")
            v = arr[()]
            if fresh is not None and (not isinstance(fresh, np.generic) or fresh.dtype != v.dtype):
                raise _Refused(f"{path}: a {v.dtype} scalar where this version holds a {type(fresh).__name__}")
            return v
        if t == "array":
            arr = self.array(node.get("k"), path)
            if fresh is not None:
                if type(fresh) is not np.ndarray:
                    raise _Refused(f"{path}: an array where this version holds a {type(fresh).__name__}")
                if arr.dtype != fresh.dtype:
                    raise _Refused(f"{path}: dtype {arr.dtype}, expected {fresh.dtype}")
                if arr.shape != fresh.shape and (not variable or arr.ndim != fresh.ndim):
                    raise _Refused(f"{path}: shape {arr.shape}, expected {fresh.shape}")
                if constant and not np.array_equal(arr, fresh):
                    raise _Refused(f"{path}: differs from the one the rulebook builds")
            return arr
        if t in ("list", "tuple"):
            items = node.get("items")
            if not isinstance(items, list):
                raise _Refused(f"{path}: a malformed {t}")
            want = list if t == "list" else tuple
            if fresh is not None and type(fresh) is not want:
                raise _Refused(f"{path}: a {t} where this version holds a {type(fresh).__name__}")
            if t == "tuple" and fresh is not None and len(fresh) != len(items):
                raise _Refused(f"{path}: a tuple of {len(items)} items, expected {len(fresh)}")
            tmpl = list(fresh) if fresh is not None else []
            out = [self.value(v, tmpl[i] if i < len(tmpl) else None, f"{path}[{i}]", variable) for i, v in enumerate(items)]
            return out if t == "list" else tuple(out)
        if t == "dict":
            items = node.get("items")
            if not isinstance(items, list):
                raise _Refused(f"{path}: a malformed dict")
            if fresh is not None and type(fresh) is not dict:
                raise _Refused(f"{path}: a dict where this version holds a {type(fresh).__name__}")
            tmpl = fresh if fresh is not None else {}
            out: dict[Any, Any] = {}
            for item in items:
                if not (isinstance(item, list) and len(item) == 3 and item[0] in ("int", "str") and type(item[1]).__name__ == item[0]):
                    raise _Refused(f"{path}: a malformed dict item")
                key = item[1]
                out[key] = self.value(item[2], tmpl.get(key), f"{path}[{key!r}]", variable)
            return out
        if t == "obj":
            return self.obj(node, fresh, path)
        raise _Refused(f"{path}: unknown node kind {t!r}")

    def obj(self, node: dict[str, Any], fresh: Any, path: str) -> Any:
        name = node.get("cls")
        cls = self.classes.get(name) if isinstance(name, str) else None
        attrs = node.get("attrs")
        if cls is None or not isinstance(attrs, dict):
            raise _Refused(f"{path}: an object of unknown kind {name!r}")
        skip = _SKIP.get(name, frozenset())
        if fresh is None:  # made on first use (lazy): build it from the saved attributes only
            target = cls.__new__(cls)
            expected = set(attrs)
        else:
            if type(fresh) is not cls:
                raise _Refused(f"{path}: a {name} where this version holds a {type(fresh).__name__}")
            target = fresh
            expected = set(vars(fresh)) - skip
        lazy = _LAZY.get(name, frozenset())
        missing = expected - set(attrs) - lazy
        extra = set(attrs) - expected - lazy
        if missing or extra or skip & set(attrs):
            raise _Refused(f"{path}: the saved {name} does not match this version (missing {sorted(missing)}, unexpected {sorted(extra)})")
        for a, sub in attrs.items():
            if not a.isidentifier() or a.startswith("__"):
                raise _Refused(f"{path}: a malformed attribute name")
            key = (name, a)
            setattr(target, a, self.value(sub, getattr(fresh, a, None), f"{path}.{a}", key in _VARIABLE, key in _CONSTANT, key in _NULLABLE))
        return target


def _check_ranges(sim: Sim) -> None:
    """Indices the compiled kernels follow without bounds checks must be in range (a foreign state cannot crash)."""
    plan = sim.plan
    st = sim.state
    n = st.n
    nb = plan.n_behaviours
    ntiers = len(plan.tiers.names)

    def within(what: str, a: np.ndarray, lo: int, hi: int) -> None:
        if a.size and (int(a.min()) < lo or int(a.max()) >= hi):
            raise _Refused(f"{what} holds values outside {lo}..{hi - 1}")

    def records(what: str, pending: Any, m: int) -> None:
        if type(pending) is not dict:
            raise _Refused(f"{what} is not a dict")
        for day, batches in pending.items():
            if type(day) is not int or type(batches) is not list:
                raise _Refused(f"{what}: a malformed entry for day {day!r}")
            for b in batches:
                if not (type(b) is tuple and len(b) == 3 and all(type(x) is np.ndarray and x.ndim == 1 for x in b)
                        and b[0].dtype == np.int32 and b[1].dtype == np.uint8 and b[2].dtype == np.uint8
                        and b[0].shape == b[1].shape == b[2].shape):  # fmt: skip
                    raise _Refused(f"{what}: a malformed batch on day {day}")
                within(f"{what} (persons)", b[0], 0, m)
                within(f"{what} (behaviours)", b[1], 0, nb)

    def log(what: str, lg: Any, m: int) -> None:
        if not (0 <= lg.size <= lg.person.shape[0] == lg.code.shape[0] and lg.base >= 0):
            raise _Refused(f"{what} has an inconsistent size")
        within(f"{what} (persons)", lg.person[: lg.size], -1, m)  # -1: a record overturned on appeal (kernels skip it)
        within(f"{what} (behaviours)", lg.code[: lg.size] & np.uint8(127), 0, nb)
        starts = np.asarray(lg.day_start, dtype=np.int64)
        if starts.size and (starts[0] < lg.base or starts[-1] > lg.base + lg.size or (np.diff(starts) < 0).any()):
            raise _Refused(f"{what} has inconsistent day offsets")

    if not 0 <= st.day <= plan.days:
        raise _Refused(f"day {st.day} is outside the run's {plan.days} days")
    records("the pending records", st.pending, n)
    log("the record log", st.log, n)
    for what, a in (("tier", st.tier), ("tier_cf", st.tier_cf)):
        within(what, a, 0, ntiers)
    ev = st.event[st.event != 255]
    within("today's events", ev, 0, nb)
    within("the network", sim.pop.network.indices, -1, n)
    within("partners", sim.pop.persons.partner, -1, n)
    within("latest penalties", st.latest_penalty, -1, st.log.base + st.log.size)
    if sim.pop.companies is not None:
        within("company tiers", sim.pop.companies.tier, 0, ntiers)
    if sim.company_book is not None:
        m = sim.pop.companies.n
        records("the pending company records", sim.company_book.pending, m)
        log("the company record log", sim.company_book.log, m)
    if type(sim.pending_appeals) is not dict:
        raise _Refused("the appeals in flight are not a dict")
    for day, batches in sim.pending_appeals.items():
        if type(day) is not int or type(batches) is not list:
            raise _Refused(f"the appeals in flight: a malformed entry for day {day!r}")
        for b in batches:
            if type(b) is not tuple or len(b) != 5 or not all(type(x) is np.ndarray for x in b):
                raise _Refused(f"the appeals in flight: a malformed batch on day {day}")
            within("the appeals in flight (persons)", b[0], 0, n)
    for what, a in (("today's records", sim.handoffs.records[0]), ("rescored persons", sim.handoffs.rescore), ("touched persons", sim.handoffs.touched),
                    ("listed persons", sim.handoffs.list_watch), ("sanctioned persons", sim.handoffs.sanctioned), ("blacklist entries", sim.handoffs.black_entered)):  # fmt: skip
        if a is not None:
            within(what, a, 0, n)


def _refuse(path: Path, why: str) -> InputError:
    return InputError(
        f"the checkpoint state is unusable: {why}",
        file=str(path),
        hint="the run cannot continue from this checkpoint; start it again (socialcredit run ... --checkpoint-every DAYS)",
    )


def _rebuild(run_dir: Path, rulebook: Rulebook | None, base_dir: str | None, threads: Any) -> Sim:
    """A set-up Sim for the run's rulebook (the saved one unless given), with the saved thread count if usable."""

    if rulebook is None:


        loaded = load_rulebook(str(folder(run_dir) / RULEBOOK), [])
        rulebook = loaded.rulebook
        if base_dir is None:
            settings_path = folder(run_dir) / SETTINGS
            settings = read_json(settings_path, "the checkpoint settings") if settings_path.exists() else {}
            base_dir = settings.get("base_dir") or loaded.base_dir
    if type(threads) is int and threads >= 1:
        import numba

        threads = min(threads, numba.config.NUMBA_NUM_THREADS)
    else:
        threads = None
    sim = Sim(rulebook, base_dir=base_dir, threads=threads)
    sim.setup()
    return sim


def _restore(run_dir: Path, npz: Any, day: int, rulebook: Rulebook | None, base_dir: str | None) -> Sim:
    """Rebuild the Sim and restore the state file's tree over it, checking everything against the rebuilt one."""
    if _META not in npz.files:
        raise _Refused("it has no meta member")
    strange = [m for m in npz.files if m != _META and not re.fullmatch(r"a[0-9]+|pool_[a-z0-9]+", m)]
    if strange:
        raise _Refused(f"it holds members this version does not write: {strange[:5]}")
    raw = npz[_META]
    if raw.dtype != np.uint8 or raw.ndim != 1:
        raise _Refused("a malformed meta member")
    meta = json.loads(raw.tobytes().decode("utf-8"), parse_constant=_no_constant)
    if not isinstance(meta, dict) or meta.get("state_format") != STATE_FORMAT or meta.get("day") != day:
        raise _Refused("its metadata does not match the manifest")
    tree = meta.get("tree")
    if not isinstance(tree, dict) or tree.get("t") != "obj" or tree.get("cls") != "Sim":
        raise _Refused("its tree does not hold a simulation")
    sim = _rebuild(run_dir, rulebook, base_dir, meta.get("threads"))
    if meta.get("rulebook_sha256") != rulebook_digest(sim.rulebook):
        raise _Refused("it was saved for another rulebook than the checkpoint's rulebook.yaml")
    _Reader(sim, npz, meta).obj(tree, sim, "sim")
    if sim.state.day != day:
        raise _Refused(f"it holds day {sim.state.day}, the manifest says {day}")
    _check_ranges(sim)
    return sim


def load(run_dir: str | os.PathLike, rulebook: Rulebook | None = None, base_dir: str | None = None) -> Sim | None:
    """The latest saved state of an unfinished run, or None when no day was checkpointed yet.

    The Sim is rebuilt from ``rulebook`` (default: the checkpoint's rulebook.yaml) and every saved
    attribute is restored over it. Anything wrong with the files raises InputError.
    """
    run_dir = Path(run_dir)
    path = folder(run_dir)
    manifest_path = path / MANIFEST
    if not manifest_path.exists():
        if (path / OLD_STATE).exists():
            raise InputError(
                "the checkpoint state is in an older format (a Python pickle, which this version does not load)",
                file=str(path / OLD_STATE),
                hint="resume with the version (or commit) that started the run, or start the run again",
            )
        return None
    manifest = read_json(manifest_path, "the checkpoint manifest")
    fmt = manifest.get("state_format")
    if fmt != STATE_FORMAT:
        raise InputError(
            f"the checkpoint's state has format {fmt}; this version reads format {STATE_FORMAT}",
            file=str(manifest_path),
            hint="resume with the version (or commit) that started the run, or start the run again",
        )
    name, size, digest, day = (manifest.get(k) for k in ("file", "bytes", "sha256", "day"))
    if not (isinstance(name, str) and _STATE_NAME.match(name) and type(size) is int and type(day) is int
            and isinstance(digest, str) and re.fullmatch(r"[0-9a-f]{64}", digest)):  # fmt: skip
        raise InputError("the checkpoint manifest is malformed", file=str(manifest_path), hint="it needs file, bytes, sha256 and day")
    state_path = path / name
    if not state_path.is_file():
        raise InputError("the checkpoint state file named by the manifest is missing", file=str(state_path))
    actual = state_path.stat().st_size
    if actual != size:
        raise _refuse(state_path, f"it has {actual} bytes, its manifest says {size} (truncated or damaged)")
    if _sha256(state_path) != digest:
        raise _refuse(state_path, "its SHA-256 checksum does not match the manifest (the file is damaged or was altered)")
    with open(state_path, "rb") as fh:
        if fh.read(4) != b"PK\x03\x04":
            raise _refuse(state_path, "it is not an .npz archive")
    try:
        with np.load(state_path, allow_pickle=False) as npz:
            sim = _restore(run_dir, npz, day, rulebook, base_dir)
    except SocialCreditError:  # the saved rulebook itself is wrong: its own message says where
        raise
    except _Refused as exc:
        raise _refuse(state_path, str(exc)) from None
    except Exception as exc:  # noqa: BLE001 - anything else a damaged or foreign file can provoke: a message, not a traceback
        raise _refuse(state_path, f"{type(exc).__name__}: {exc}") from None
    return sim


def remove(run_dir: str | os.PathLike) -> None:
    import shutil

    shutil.rmtree(folder(run_dir), ignore_errors=True)
