"""Results of a run: tidy tables, a summary, plots, and the run folder."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from socialcredit.engine import measures as ms
from socialcredit.engine.audit import string_column
from socialcredit.results.runfolder import write_results
from socialcredit.version import __version__

BREAKDOWNS = ["all", "region", "group", "tier"]
#: counts of the society's responses and the institutions, summed over the run (in a summary only when non-zero)
RESPONSE_MEASURES = ms.RESPONSE_MEASURES
KINDS = list(ms.BEHAVIOUR_KINDS)


def _cat(codes: np.ndarray, names: list[str]) -> pd.Categorical:
    """A categorical column from integer codes into ``names`` (far cheaper than building strings).

    Names may repeat (a region and a tier can share a name): codes are mapped
    onto the distinct names.
    """
    distinct = list(dict.fromkeys(names))
    remap = np.array([distinct.index(n) for n in names], dtype=np.int64)
    return pd.Categorical.from_codes(remap[np.asarray(codes, dtype=np.int64)], categories=distinct, ordered=True)


def _cell_labels(rb) -> tuple[list[str], list[str]]:
    breakdown = ["all"] + ["region"] * len(rb.region_names) + ["group"] * len(rb.group_names) + ["tier"] * len(rb.tier_names)
    level = ["all"] + rb.region_names + rb.group_names + rb.tier_names
    return breakdown, level


@dataclass
class Results:
    """What a run produced. ``daily`` has one row per day and breakdown cell."""

    daily: pd.DataFrame
    services: pd.DataFrame
    behaviours: pd.DataFrame
    audit: pd.DataFrame
    meta: dict[str, Any]
    rulebook_yaml: str | None = None
    final_state: pd.DataFrame | None = None
    audit_persons: pd.DataFrame | None = None  # one row per audited person: region, group, start and end
    coverage: pd.DataFrame | None = None  # channels following their findings: coverage and records by day and region
    stage_times: dict[str, float] = field(default_factory=dict)

    # ---------------------------------------------------------------- building
    @classmethod
    def from_sim(cls, sim) -> "Results":
        rb = sim.rulebook
        rec = sim.daily
        days = rec.days_done
        breakdown, level = _cell_labels(rb)
        ncells = len(level)
        bcode = np.array([BREAKDOWNS.index(b) for b in breakdown])
        day_col = np.repeat(np.arange(days), ncells)
        cols: dict[str, Any] = {
            "day": day_col.astype(np.int32),
            "breakdown": _cat(np.tile(bcode, days), BREAKDOWNS),
            "level": _cat(np.tile(np.arange(ncells), days), level),
        }
        with np.errstate(invalid="ignore", divide="ignore"):
            cols.update(_daily_columns(sim, days, np.tile(bcode == 0, days)))
        daily = pd.DataFrame(cols)

        plan = sim.plan
        s_names = [s.name for s in plan.services]
        svc_frames = []
        if s_names:
            sv = rec.svc[:days]  # (days, cells, S, 3)
            S = len(s_names)
            svc_frames = pd.DataFrame(
                {
                    "day": np.repeat(np.arange(days), ncells * S).astype(np.int32),
                    "breakdown": _cat(np.tile(np.repeat(bcode, S), days), BREAKDOWNS),
                    "level": _cat(np.tile(np.repeat(np.arange(ncells), S), days), level),
                    "service": _cat(np.tile(np.arange(S), days * ncells), s_names),
                    "kind": string_column(np.tile([int(s.is_reward) for s in plan.services], days * ncells), ["punishment", "reward"]),
                    **{name: sv[:, :, :S, k].ravel() for k, name in enumerate(ms.SERVICE_COLUMNS)},
                }
            )
        else:
            svc_frames = pd.DataFrame(  # typed, so the run folder's table has number columns even when empty
                {
                    "day": np.zeros(0, np.int32),
                    "breakdown": _cat(np.zeros(0, np.int64), BREAKDOWNS),
                    "level": _cat(np.zeros(0, np.int64), level),
                    "service": pd.Categorical([]),
                    "kind": pd.Series([], dtype="string"),
                    **{name: np.zeros(0, np.int64) for name in ms.SERVICE_COLUMNS},
                }
            )
        B = plan.n_behaviours
        bv = rec.beh[:days]
        behaviours = pd.DataFrame(
            {
                "day": np.repeat(np.arange(days), ncells * B).astype(np.int32),
                "breakdown": _cat(np.tile(np.repeat(bcode, B), days), BREAKDOWNS),
                "level": _cat(np.tile(np.repeat(np.arange(ncells), B), days), level),
                "behaviour": _cat(np.tile(np.arange(B), days * ncells), plan.behaviours.names),
                "kind": _cat(np.tile([KINDS.index(k) for k in plan.behaviours.kind], days * ncells), KINDS),
                "channel": _cat(np.tile(plan.behaviours.channel, days * ncells), plan.detection.channel_names),
                **{name: bv[:, :, :, k].ravel() for k, name in enumerate(ms.BEHAVIOUR_COLUMNS)},
            }
        )
        meta = {
            "scenario": rb.meta.name,
            "title": rb.meta.title,
            "persons": sim.state.n,
            "days": days,
            "seed": plan.seed,
            "version": __version__,
            "friendships": int(sim.pop.network.n_edges),
            "audit_sample": int(sim.audit.idx.size),
            "tiers": rb.tier_names,
            "regions": rb.region_names,
            "groups": rb.group_names,
            "services": s_names,
            "service_kinds": ["reward" if s.is_reward else "punishment" for s in plan.services],
            "setup_seconds": dict(sim.timings.setup),
            "scale_to": rb.simulation.scale_to,
            "timeline_days": sorted(d for d in sim.changes if d < days),  # days a timeline change took effect
        }
        return cls(
            coverage=_coverage_table(sim, days),
            daily=daily,
            services=svc_frames,
            behaviours=behaviours,
            audit=sim.audit.frame(),
            audit_persons=sim.audit.persons_frame(),
            meta=meta,
            stage_times=dict(sim.timings.stages),
        )

    # ---------------------------------------------------------------- views
    def to_df(self, table: str = "daily", breakdown: str | None = "all") -> pd.DataFrame:
        """A table as a pandas frame; ``breakdown='all'`` keeps the whole-population rows only (None keeps every row)."""
        tables = {"daily": self.daily, "services": self.services, "behaviours": self.behaviours, "audit": self.audit}
        if self.audit_persons is not None:
            tables["audit_persons"] = self.audit_persons
        if self.coverage is not None:
            tables["coverage"] = self.coverage
        if table not in tables:
            raise KeyError(f"unknown table {table!r}; tables: {', '.join(tables)}")
        df = tables[table]
        if breakdown is not None and "breakdown" in df.columns:
            df = df[df["breakdown"] == breakdown].reset_index(drop=True)
        return df

    def to_polars(self, table: str = "daily", breakdown: str | None = "all"):
        """The same as :meth:`to_df`, as a polars frame (needs the ``polars`` extra)."""
        import polars as pl

        return pl.from_pandas(self.to_df(table, breakdown))

    def summary(self) -> dict[str, Any]:
        """The key figures of the run, as plain numbers (what ``socialcredit summary`` prints)."""
        return summarise(self.daily, self.services, self.meta)

    def plot(self, path: str | None = None, show: bool = False):
        """Plot the main series (scores, tiers, lists, denials); returns the matplotlib figure."""
        from socialcredit.results.plots import plot_main  # lazy: it imports matplotlib

        return plot_main(self, path=path, show=show)

    def save(self, run_dir: str, **kwargs) -> None:
        """Write a run folder (see :mod:`socialcredit.results.runfolder`); read it back with ``read_run``."""
        write_results(self, run_dir, **kwargs)


def _coverage_table(sim, days: int) -> pd.DataFrame | None:
    """One row per day, following channel and region: its coverage that day and the records it found."""
    sv = sim.surveillance
    if sv is None:
        return None
    plan = sim.plan
    chans = [plan.detection.channel_names[c] for c in plan.follows.channels]
    regions = sim.rulebook.region_names
    F, R = len(chans), len(regions)
    return pd.DataFrame(
        {
            "day": np.repeat(np.arange(days), F * R).astype(np.int32),
            "channel": string_column(np.tile(np.repeat(np.arange(F), R), days), chans),
            "region": string_column(np.tile(np.arange(R), days * F), regions),
            "coverage": sv.history[:days].ravel(),
            "records": sv.found_history[:days].ravel().astype(np.int64),
        }
    )


def _daily_columns(sim, days: int, is_all: np.ndarray) -> dict[str, np.ndarray]:
    """The ``daily`` table's measure columns, in the order of :data:`socialcredit.engine.measures.DAILY`.

    Each measure's value in a cell is formed from the engine's sums as its
    declaration says (``over_cells``); ``is_all`` marks the whole-population rows.
    """
    rec = sim.daily
    ncells = rec.state.shape[1]
    arrays = {
        "state": rec.state[:days],
        "network": rec.network[:days],  # NaN except on network days
        "events": rec.events[:days],
        "company": rec.company[:days],  # (days, measures): whole population only
        "behaviour": rec.beh[:days],  # (days, cells, behaviours, measures)
    }

    def raw(ref: str) -> np.ndarray:
        family, name = ref.split(".")
        return arrays[family][..., ms.column(family, name)]

    cols: dict[str, np.ndarray] = {}
    for m in ms.DAILY:
        how = m.over_cells
        if how == ms.CELL_SUM:
            v = raw(f"{m.family}.{m.name}").ravel()
            cols[m.name] = v.astype(np.int64) if m.dtype == "int" else v
        elif how == ms.RATIO:
            cols[m.name] = (raw(m.of[0]) / raw(m.of[1])).ravel()
        elif how == ms.RATIO_REST:
            a, part, b, bpart = (raw(r) for r in m.of)
            cols[m.name] = ((a - part) / (b - bpart)).ravel()
        elif how == ms.SD:
            total, squares, n = (raw(r) for r in m.of)
            mean = total / n
            cols[m.name] = np.sqrt(np.maximum(squares / n - mean**2, 0.0)).ravel()
        elif how == ms.QUANTILE:
            cols[m.name] = rec.quant[:days, :, list(rec.QUANTILES).index(m.q)].ravel()
        elif how == ms.GINI:
            cols[m.name] = rec.gini[:days].ravel()
        elif how == ms.SHARE:
            tiers = rec.tiers[:days]
            n = raw(m.of[0])
            for t, name in enumerate(m.names(sim.rulebook.tier_names)):
                cols[name] = (tiers[:, :, t] / n).ravel()
        elif how == ms.BY_KIND:
            counts = raw(m.of[0])  # (days, cells, behaviours)
            kinds = np.array([KINDS.index(k) for k in sim.plan.behaviours.kind])
            for kcode, name in enumerate(m.names(KINDS)):
                cols[name] = counts[:, :, kinds == kcode].sum(axis=2).ravel()
        elif how == ms.WHOLE:
            v = raw(f"{m.family}.{m.name}")
            if v.ndim == 2:  # recorded by cell: only the whole population's cell is filled
                cols[m.name] = v.ravel()
            else:
                cols[m.name] = np.where(is_all, np.repeat(v, ncells), np.nan)
        else:  # pragma: no cover - measures.py checks the vocabulary
            raise ValueError(f"measure {m.name!r}: unknown over_cells {how!r}")
    if sim.plan.enrolment is None:  # everyone is in: the engine counts enrolment only when there is one
        cols["enrolled"] = cols["persons"].astype(np.int64)
    return cols


_SKIP = object()


class _Run:
    """What a summary entry is read from: the whole-population rows, the services rows, the metadata."""

    def __init__(self, daily: pd.DataFrame, services: pd.DataFrame, meta: dict[str, Any]) -> None:
        self.all_rows = daily[daily["breakdown"] == "all"].sort_values("day")
        self.last = self.all_rows.iloc[-1] if len(self.all_rows) else None
        self.services = services
        self.meta = meta
        # the days the network was measured (a table without friend counts has none)
        network_columns = {ms.NETWORK_DAY} | {m.of[0] for m in ms.SUMMARY if m.over_days == ms.LAST_NETWORK}
        if self.last is not None and network_columns <= set(self.all_rows.columns):
            self.network_days = self.all_rows.dropna(subset=[ms.NETWORK_DAY])
        else:
            self.network_days = self.all_rows.iloc[:0]


def _cast(m: ms.Measure, value: Any) -> Any:
    if m.dtype == "int":
        return int(value)
    if m.dtype == "float":
        return float(value)
    if m.dtype == "float?":
        return None if np.isnan(value) else float(value)
    return value


def _entry(m: ms.Measure, run: _Run, rows: pd.DataFrame | None = None, kind: str = "") -> Any:
    """The value of one summary entry, or ``_SKIP`` when the summary does not show it for this run."""
    how = m.over_days
    rows = run.all_rows if rows is None else rows
    if how == ms.META:
        source = m.of[0]
        if m.summary == ms.SET and not run.meta.get(source):
            return _SKIP
        if m.over_cells == ms.RATIO:
            return _cast(m, float(run.meta[source]) / max(1, int(run.meta.get(m.of[1], 0))))
        return _cast(m, run.meta.get(source, 0 if m.dtype in ("int", "float") else None))
    if how == ms.SERVICE_KIND:
        return kind
    if how == ms.GROUP:
        if m.each == "service":
            return _services(m, run)
        values = {}
        for child in ms.summary_entries(m.name):
            v = _entry(child, run)
            if v is not _SKIP:
                values[child.name] = v
        return _SKIP if m.summary == ms.NONZERO and not values else values
    source = m.of[0]
    if m.each:
        items = run.meta.get("tiers", []) if m.each == "tier" else ms.BEHAVIOUR_KINDS
        columns = {i: source.format(**{m.each: i}) for i in items}  # item -> daily column (share_AAA)
        if m.summary == ms.PRESENT and not all(c in rows for c in columns.values()):
            return _SKIP
        if how == ms.LAST:
            return _SKIP if run.last is None else {i: _cast(m, run.last[c]) for i, c in columns.items()}
        return {i: _cast(m, rows[c].sum()) for i, c in columns.items()}
    if how == ms.SUM:
        if m.summary in (ms.PRESENT, ms.NONZERO) and source not in rows:
            return _SKIP
        total = rows[source].sum()
        if m.summary == ms.NONZERO and not total > 0:
            return _SKIP
        return _cast(m, total)
    if how == ms.LAST:
        if run.last is None:
            return _SKIP
        if m.summary == ms.PRESENT and (source not in rows or np.isnan(run.last[source])):
            return _SKIP
        if m.summary == ms.NONZERO and (source not in rows or not rows[source].sum() > 0):  # a level never above 0: off
            return _SKIP
        return _cast(m, run.last[source])
    if how in (ms.LAST_NETWORK, ms.LAST_VALID):
        if not len(run.network_days):
            return _SKIP
        if how == ms.LAST_NETWORK:
            return _cast(m, run.network_days.iloc[-1][source])
        valid = rows[source].dropna()
        return _cast(m, valid.iloc[-1]) if len(valid) else None
    raise ValueError(f"summary entry {m.name!r}: unknown over_days {how!r}")  # pragma: no cover


def _services(group: ms.Measure, run: _Run) -> dict[str, dict[str, Any]]:
    """One entry per service: its kind and its counts summed over the run (whole population)."""
    svc: dict[str, dict[str, Any]] = {}
    if not len(run.services):
        return svc
    s_all = run.services[run.services["breakdown"] == "all"]
    for name, kind in zip(run.meta.get("services", []), run.meta.get("service_kinds", [])):
        rows = s_all[s_all["service"] == name]
        svc[name] = {
            m.name: _entry(m, run, rows, kind) for m in ms.summary_entries(group.name) if m.service_kind in ("", kind)
        }
    return svc


def summarise(daily: pd.DataFrame, services: pd.DataFrame, meta: dict[str, Any]) -> dict[str, Any]:
    """The summary of a run from its tables: the entries of :data:`socialcredit.engine.measures.SUMMARY`, in order."""
    run = _Run(daily, services, meta)
    out: dict[str, Any] = {}
    for m in ms.summary_entries():
        value = _entry(m, run)
        if value is not _SKIP:
            out[m.name] = value
    return out
