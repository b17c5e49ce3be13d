"""Global sensitivity analysis: which of a rulebook's assumptions drive a result (SALib on the experiment executor).

The factors are rulebook values with a range: given as ``KEY=LO:HI``, or by
default every number of the rulebook marked ``assumed:`` (see
:func:`assumed_factors`). SALib draws the sample (Morris trajectories or
Saltelli's Sobol design) with one extra **dummy** factor that changes
nothing: its index is the noise floor, the size an index reaches by chance
with this many samples and seeds. Every sample point runs for the same seeds
(common random numbers) as one experiment (``sweep.design: points``), so it
is stored, resumed and reported like any other; SALib then computes the
indices from the per-point means over seeds.

Work in progress (issue 15): the sampling, the default factors and the
analysis are here; the command, the report section and the docs follow.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from socialcredit import strict_json
from socialcredit.errors import InputError, SocialCreditError, did_you_mean
from socialcredit.files import write_atomic
from socialcredit.rulebook import Loaded, load_rulebook

DUMMY = "dummy (noise floor)"
NOISE = "seed noise (without common random numbers)"
FLOORS = (DUMMY, NOISE)  # rows that are not factors: what an index reaches by chance
DEFAULT_SPREAD = 0.5  # default range: the assumed value times 1 - spread .. 1 + spread, within the schema's limits
_NOT_FACTORS = frozenset({"share", "seed", "days", "persons", "count", "min_days", "period", "delay", "window", "days_listed"})
_UNIT = frozenset({"probability", "coverage", "false_attribution", "success_false", "success_true", "within_share", "employment",
                   "strangers", "rewiring", "partners"})  # fmt: skip
_PARAM = re.compile(r"\A(?P<key>[^=]+)=(?P<lo>[^:]+):(?P<hi>.+)\Z")


@dataclass(frozen=True)
class Factor:
    """A rulebook value varied by the analysis, over ``low`` .. ``high``."""

    key: str
    low: float
    high: float
    value: float | None = None  # the rulebook's own value
    origin: str = "--param"  # or "assumed" (a default factor)


def parse_factor(text: str) -> Factor:
    """``KEY=LO:HI`` as a factor; an InputError saying what is wrong otherwise."""
    m = _PARAM.match(text.strip())
    if m is None:
        raise InputError(f"--param {text!r}: expected KEY=LO:HI, e.g. responses.deterrence.elasticity=0:2")
    try:
        lo, hi = float(m["lo"]), float(m["hi"])
    except ValueError:
        raise InputError(f"--param {text!r}: LO and HI must be numbers") from None
    if not (math.isfinite(lo) and math.isfinite(hi)) or not lo < hi:
        raise InputError(f"--param {text!r}: LO must be a finite number below HI")
    return Factor(m["key"].strip(), lo, hi)


def check_factors(source: str, overrides: list[str], factors: list[Factor]) -> list[Factor]:
    """Each factor's key must exist and hold a number, and both ends of its range must give a valid rulebook."""
    base = load_rulebook(source, overrides)
    out = []
    for f in factors:
        value = _value_at(base, f.key)
        if isinstance(value, bool) or not isinstance(value, (int, float)):
            raise InputError(f"--param {f.key}: the rulebook holds {value!r} there, not a number")
        for end in (f.low, f.high):
            load_rulebook(source, [*overrides, f"{f.key}={end!r}"])  # located errors
        out.append(Factor(f.key, f.low, f.high, float(value), f.origin))
    return out


def assumed_factors(source: str, overrides: list[str] = (), spread: float = DEFAULT_SPREAD) -> tuple[list[Factor], list[str]]:
    """Every number of the rulebook marked ``assumed:``, with its default range; and notes on numbers left out.

    A number is assumed when the mapping that holds it has an ``assumed:``
    note and no ``source:``, or a source and a note that names its key
    (``source: fp2018, assumed: rate`` marks the rate, not the points).
    Shares (which must add up to 1), seeds, sizes, days and counts are not
    varied. The range is the value times ``1 - spread`` .. ``1 + spread``
    (probabilities and coverages at most 1); a number whose range the
    rulebook refuses at either end, or whose value is 0, is left out with a note.
    """
    base = load_rulebook(source, list(overrides))
    found: list[tuple[str, float, tuple[float, float] | None]] = []
    _walk(base.document.data, "", found)
    factors, notes = [], []
    for key, value, declared in found:
        if declared is not None:  # the rulebook's own plausible range
            lo, hi = (float(x) for x in declared)
        elif value == 0:
            notes.append(f"{key}: 0, no relative range")
            continue
        else:
            lo, hi = sorted((value * (1 - spread), value * (1 + spread)))
            if key.rsplit(".", 1)[-1] in _UNIT:
                hi = min(hi, 1.0)
        try:
            for end in (lo, hi):
                load_rulebook(source, [*overrides, f"{key}={end!r}"])
        except SocialCreditError as exc:
            notes.append(f"{key}: the range {lo:g}..{hi:g} is refused ({str(exc).splitlines()[0]})")
            continue
        if lo < hi:
            factors.append(Factor(key, float(lo), float(hi), float(value), "assumed" if declared is None else "assumed range"))
    return factors, notes


def _walk(node: Any, path: str, out: list[tuple[str, float, tuple[float, float] | None]]) -> None:
    if isinstance(node, dict):
        note = node.get("assumed")
        ranges: dict[str, Any] = {}
        if isinstance(note, dict):  # {reason, range}: the range of the one number, or of each named key
            rng = note.get("range")
            ranges = dict(rng) if isinstance(rng, dict) else {"": rng} if rng is not None else {}
            note = " ".join([str(note.get("reason", "")), *ranges])
        sourced = node.get("source") is not None
        words = set(re.findall(r"[a-z_]+", str(note).lower())) if note is not None else set()
        for k, v in node.items():
            key = f"{path}.{k}" if path else str(k)
            # with a source as well, only the numbers the note names are assumed ("assumed: rate")
            assumed = note is not None and (not sourced or str(k) in words or str(k) in ranges)
            if assumed and k not in _NOT_FACTORS and isinstance(v, (int, float)) and not isinstance(v, bool):
                declared = ranges.get(str(k), ranges.get(""))
                out.append((key, float(v), tuple(declared) if declared is not None else None))  # continuous ranges
            elif isinstance(v, (dict, list)):
                _walk(v, key, out)
    elif isinstance(node, list):
        for i, item in enumerate(node):
            name = item.get("name") if isinstance(item, dict) else None
            _walk(item, f"{path}.{name}" if isinstance(name, str) else f"{path}.{i}", out)


def _value_at(loaded: Loaded, key: str) -> Any:
    """The validated rulebook's value at a ``--set`` key (defaults included); list items by name or index."""
    node: Any = loaded.rulebook
    for part in key.split("."):
        here = node
        if isinstance(node, (list, tuple)):
            match = [x for x in node if getattr(x, "name", None) == part]
            node = match[0] if match else (node[int(part)] if part.isdigit() and int(part) < len(node) else None)
        elif isinstance(node, dict):
            node = node.get(part)
        else:
            node = getattr(node, part, None) if part in getattr(type(node), "model_fields", {}) else None
        if node is None:
            if isinstance(here, (list, tuple)):
                names = [str(getattr(x, "name", "")) for x in here if getattr(x, "name", None)]
            elif isinstance(here, dict):
                names = [str(k) for k in here]
            else:
                names = list(getattr(type(here), "model_fields", {}))
            guess = did_you_mean(part, names)
            raise InputError(f"--param {key}: the rulebook has no number at {key} (nothing named {part!r} there)",
                             file="command line", hint=f"did you mean {guess!r}?" if guess else
                             (f"there: {', '.join(names[:12])}" if names else None))  # fmt: skip
    return node


# ------------------------------------------------------------------ sampling and analysis


def problem(factors: list[Factor]) -> dict[str, Any]:
    """SALib's problem: the factors and the dummy, each over its range."""
    return {
        "num_vars": len(factors) + 1,
        "names": [f.key for f in factors] + [DUMMY],
        "bounds": [[f.low, f.high] for f in factors] + [[0.0, 1.0]],
    }


def sample(method: str, prob: dict[str, Any], samples: int, seed: int = 0) -> np.ndarray:
    """The SALib design: ``samples`` Morris trajectories, or a Saltelli design of ``samples`` base points."""
    if method == "morris":
        from SALib.sample import morris

        return morris.sample(prob, samples, num_levels=4, seed=seed)
    if method == "sobol":
        from SALib.sample import sobol

        return sobol.sample(prob, samples, calc_second_order=False, seed=seed)
    raise InputError(f"--method {method!r}: allowed: morris, sobol")


def points(factors: list[Factor], design: np.ndarray) -> dict[str, list[float | int]]:
    """The sweep (``design: points``) that runs a design: the dummy column is dropped."""
    return {f.key: [float(v) for v in design[:, k]] for k, f in enumerate(factors)}


def analyse(method: str, prob: dict[str, Any], design: np.ndarray, y: np.ndarray, seed: int = 0) -> pd.DataFrame:
    """Indices of one measure, one row per factor (the dummy included), ranked by the total or mu*."""
    if method == "morris":
        from SALib.analyze import morris

        r = morris.analyze(prob, design, y, num_levels=4, seed=seed)
        df = pd.DataFrame({"factor": prob["names"], "mu_star": r["mu_star"], "mu_star_conf": r["mu_star_conf"],
                           "sigma": r["sigma"]})  # fmt: skip
        key = "mu_star"
    else:
        from SALib.analyze import sobol

        r = sobol.analyze(prob, y, calc_second_order=False, seed=seed)
        df = pd.DataFrame({"factor": prob["names"], "S1": r["S1"], "S1_conf": r["S1_conf"], "ST": r["ST"], "ST_conf": r["ST_conf"]})
        key = "ST"
    df = df.sort_values(key, ascending=False, kind="stable").reset_index(drop=True)
    df.insert(0, "rank", np.arange(1, len(df) + 1))
    return df


# ------------------------------------------------------------------ the whole analysis

DEFAULT_MEASURES = ("blacklisted", "blacklisted_wrongly", "records_false")
SPEC_SEED = 0  # the SALib design's seed


@dataclass
class Sensitivity:
    """A finished analysis: the indices (one row per measure and factor) and where they are stored."""

    method: str
    factors: list[Factor]
    indices: pd.DataFrame
    folder: Any


def experiment_spec(source: str, factors: list[Factor], design: np.ndarray, *, method: str, measures: list[str],
                    seeds: int, persons: int | None, days: int | None, overrides: list[str], name: str) -> dict[str, Any]:  # fmt: skip
    """The experiment that runs a design: every sample point for the same seeds (common random numbers)."""
    # kept as text: the rulebook's override parser reads it, as for a single run (see spec.ensemble_spec)
    sets = {key.strip(): value.strip() for key, _, value in (text.partition("=") for text in overrides)}
    spec: dict[str, Any] = {
        "name": name,
        "title": f"{method} sensitivity of {source}",
        "description": f"{len(factors)} factors and a dummy; {design.shape[0]} sample points x {seeds} seeds",
        "base": source,
        "set": sets,
        "seeds": seeds,
        "sweep": {"design": "points", "parameters": {k: {"values": v} for k, v in points(factors, design).items()}},
        "measures": {"summary": list(measures), "daily": [], "breakdowns": ["all"]},
    }
    if persons is not None:
        spec["persons"] = persons
    if days is not None:
        spec["days"] = days
    return spec


def indices_from(folder: Any, method: str, factors: list[Factor], design: np.ndarray, measures: list[str]) -> pd.DataFrame:
    """The indices of every measure from a finished experiment folder (means over seeds per sample point)."""
    from socialcredit.experiments.results import read_experiment

    res = read_experiment(folder)
    wide = res.to_df("summary", tidy=False)
    failed = res.to_df("runs")
    failed = failed[failed["status"] != "ok"]
    if len(failed):
        raise InputError(f"{len(failed)} runs of the sensitivity experiment did not finish (first: {failed['error'].iloc[0]}); "
                         "indices need every sample point", file=str(folder))  # fmt: skip
    means = wide.groupby("point", sort=True)[list(measures)].mean()
    if len(means) != design.shape[0]:
        raise InputError(f"the experiment holds {len(means)} sample points; the design has {design.shape[0]}", file=str(folder))
    prob = problem(factors)
    frames = []
    for m in measures:
        y = means[m].to_numpy(dtype=np.float64)
        if not np.isfinite(y).all():
            raise InputError(f"measure {m} is not a number at some sample points", file=str(folder))
        df = analyse(method, prob, design, y, seed=SPEC_SEED)
        se = wide.groupby("point", sort=True)[m].sem().to_numpy(dtype=np.float64)
        if np.isfinite(se).all():  # two seeds or more: the size of an index made of seed noise alone
            df = pd.concat([df, pd.DataFrame([seed_noise(method, y, se)])], ignore_index=True)
        df = df.sort_values("mu_star" if method == "morris" else "ST", ascending=False, kind="stable")
        df.insert(0, "measure", m)
        frames.append(df)
    return pd.concat(frames, ignore_index=True)


def seed_noise(method: str, y: np.ndarray, se: np.ndarray, levels: int = 4) -> dict[str, Any]:
    """The index seed noise alone would give if the sample points did not share their seeds.

    ``se`` is each point's standard error of its mean over seeds. Morris: an
    elementary effect is a difference of two point means over the step
    delta = levels / (2 (levels - 1)), so noise alone gives effects of standard
    deviation sqrt(2) x SE / delta and a mean absolute effect (mu*) of
    sqrt(2 / pi) times that. Sobol: the share of the measure's variance that
    is noise, mean(SE^2) / var(y). Under common random numbers the noise of
    two points is correlated and partly cancels, so this is an upper bound
    on the noise in the indices (the dummy's index is the lower one).
    """
    noise = float(np.sqrt(np.mean(se**2)))
    if method == "morris":
        delta = levels / (2 * (levels - 1))
        mu = math.sqrt(2 / math.pi) * math.sqrt(2) * noise / delta
        return {"factor": NOISE, "mu_star": mu, "mu_star_conf": float("nan"), "sigma": math.sqrt(2) * noise / delta}
    var = float(np.var(y))
    share = min(1.0, noise**2 / var) if var > 0 else float("nan")
    return {"factor": NOISE, "S1": share, "S1_conf": float("nan"), "ST": share, "ST_conf": float("nan")}


def run_sensitivity(source: str, out: Any, *, method: str = "morris", factors: list[Factor] | None = None,
                    measures: list[str] | None = None, samples: int = 10, seeds: int = 2, persons: int | None = None,
                    days: int | None = None, overrides: list[str] = (), workers: int | None = None,
                    scheduler: str | None = None, progress: bool = True, on_message=None) -> Sensitivity:  # fmt: skip
    """Sample, run every point for every seed on the executor, analyse, and store the indices in ``out``.

    Rerunning the same command in the same folder runs only what is missing
    (the design is seeded, so it is the same design).
    """
    import duckdb

    from socialcredit.experiments.runner import run_experiment
    from socialcredit.experiments.spec import spec_from_dict

    overrides = list(overrides)
    size = [f"population.persons={persons}"] if persons is not None else []
    size += [f"simulation.days={days}"] if days is not None else []
    notes: list[str] = []
    if factors:
        factors = check_factors(source, overrides + size, factors)
    else:
        factors, notes = assumed_factors(source, overrides + size)
        if on_message is not None and notes:
            on_message(f"{len(factors)} assumed numbers are varied; {len(notes)} are not (see sensitivity.json)")
    if not factors:
        raise InputError(f"{source}: no factors to vary (give --param KEY=LO:HI)")
    measures = list(measures or DEFAULT_MEASURES)
    prob = problem(factors)
    design = sample(method, prob, samples, seed=SPEC_SEED)
    out = Path(out)
    spec = experiment_spec(source, factors, design, method=method, measures=measures, seeds=seeds, persons=persons,
                           days=days, overrides=overrides, name=out.name or "sensitivity")  # fmt: skip
    loaded = spec_from_dict(spec, base_dir=".", name="<sensitivity>")
    run_experiment(loaded, out, workers=workers, scheduler=scheduler, progress=progress, on_message=on_message)
    indices = indices_from(out, method, factors, design, measures)
    about = {"method": method, "samples": samples, "seeds": seeds, "measures": measures, "design_seed": SPEC_SEED,
             "factors": [vars(f) for f in factors], "not_varied": notes}  # fmt: skip
    write_atomic(out / "sensitivity.json", strict_json.dumps(about, indent=2).encode("utf-8"))
    con = duckdb.connect(str(out / "results.duckdb"))
    try:
        con.execute("CREATE OR REPLACE TABLE sensitivity AS SELECT * FROM indices")
        design_df = pd.DataFrame(design, columns=prob["names"])
        design_df.insert(0, "point", np.arange(len(design_df)))
        con.execute("CREATE OR REPLACE TABLE sensitivity_design AS SELECT * FROM design_df")
    finally:
        con.close()
    return Sensitivity(method, factors, indices, out)


def read_sensitivity(folder: Any) -> pd.DataFrame | None:
    """The stored indices of an experiment folder written by ``socialcredit sensitivity``, or None."""
    import duckdb

    db = Path(folder) / "results.duckdb"
    if not db.is_file():
        return None
    con = duckdb.connect(str(db), read_only=True)
    try:
        names = {r[0] for r in con.execute("SELECT table_name FROM information_schema.tables").fetchall()}
        return con.execute("SELECT * FROM sensitivity").df() if "sensitivity" in names else None
    finally:
        con.close()
