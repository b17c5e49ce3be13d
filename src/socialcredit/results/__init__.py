"""Results of a run: tidy tables, a summary, plots, and the run folder."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from socialcredit.engine.record import STATE_MEASURES
from socialcredit.engine.tally import BEH_MEASURES, EVENT_MEASURES, SVC_MEASURES

BREAKDOWNS = ["all", "region", "group", "tier"]
#: counts of the society's responses and the institutions, summed over the run (in a summary only when non-zero)
RESPONSE_MEASURES = (
    "ties_dropped_unfriending", "ties_rewired", "ties_dropped_shaming", "partnerships_ended",
    "appeals_filed", "appeals_won", "appeals_won_false", "appeals_lost", "appeal_days_false",
    "company_blacklist_entries", "company_records_true", "company_records_false", "ratings_given", "ratings_low",
)  # fmt: skip
KINDS = ["harmful", "benign", "prosocial"]


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
    stage_times: dict[str, float] = field(default_factory=dict)

    # ---------------------------------------------------------------- building
    @classmethod
    def from_sim(cls, sim) -> "Results":
        rb = sim.rulebook
        rec = sim.recorder
        days = rec.days_done
        breakdown, level = _cell_labels(rb)
        ncells = len(level)
        bcode = np.array([BREAKDOWNS.index(b) for b in breakdown])
        day_col = np.repeat(np.arange(days), ncells)
        st = rec.state[:days]
        persons = st[:, :, 0]
        with np.errstate(invalid="ignore", divide="ignore"):
            mean = st[:, :, 1] / persons
            var = np.maximum(st[:, :, 2] / persons - mean**2, 0.0)
            cols: dict[str, Any] = {
                "day": day_col.astype(np.int32),
                "breakdown": _cat(np.tile(bcode, days), BREAKDOWNS),
                "level": _cat(np.tile(np.arange(ncells), days), level),
                "persons": persons.ravel().astype(np.int64),
                "score_mean": mean.ravel(),
                "score_sd": np.sqrt(var).ravel(),
                "score_p10": rec.quant[:days, :, 0].ravel(),
                "score_p50": rec.quant[:days, :, 1].ravel(),
                "score_p90": rec.quant[:days, :, 2].ravel(),
                "score_gini": rec.gini[:days].ravel(),
            }
            tiers = rec.tiers[:days]
            for t, name in enumerate(rb.tier_names):
                cols[f"share_{name}"] = (tiers[:, :, t] / persons).ravel()
            for m, name in enumerate(STATE_MEASURES):
                if name in ("persons", "score_sum", "score_sq", "degree_sum", "degree_blacklisted_sum"):
                    continue
                if name in ("income_sum", "risk_sum"):
                    cols[name.replace("_sum", "_mean")] = (st[:, :, m] / persons).ravel()
                else:
                    cols[name] = st[:, :, m].ravel().astype(np.int64)
            sm = STATE_MEASURES.index
            blacklisted = st[:, :, sm("blacklisted")]
            net = rec.network[:days]  # NaN except on network days
            cols["degree_mean"] = (net[:, :, 0] / persons).ravel()
            cols["degree_blacklisted"] = (net[:, :, 1] / blacklisted).ravel()
            cols["degree_others"] = ((net[:, :, 0] - net[:, :, 1]) / (persons - blacklisted)).ravel()
            ev = rec.events[:days]
            for m, name in enumerate(EVENT_MEASURES):
                cols[name] = ev[:, :, m].ravel()
            # behaviour events by kind (deterrence, chilling and gaming show here)
            kinds = np.array([KINDS.index(k) for k in sim.plan.beh_kind])
            for kcode, kind in enumerate(KINDS):
                cols[f"events_{kind}"] = rec.beh[:days, :, kinds == kcode, 0].sum(axis=2).ravel()
            # whole-population series: companies and network assortativity (NaN on other rows)
            is_all = np.tile(bcode == 0, days)
            from socialcredit.engine.company import COMPANY_MEASURES

            for m, name in enumerate(COMPANY_MEASURES):
                cols[name] = np.where(is_all, np.repeat(rec.company[:days, m], ncells), np.nan)
            for m, name in enumerate(("score_assortativity", "tier_assortativity")):
                cols[name] = net[:, :, 2 + m].ravel()
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
                    "kind": np.tile(["reward" if s.is_reward else "punishment" for s in plan.services], days * ncells).astype(object),
                    **{name: sv[:, :, :S, k].ravel() for k, name in enumerate(SVC_MEASURES)},
                }
            )
        else:
            svc_frames = pd.DataFrame(columns=["day", "breakdown", "level", "service", "kind", *SVC_MEASURES])
        B = plan.n_behaviours
        bv = rec.beh[:days]
        behaviours = pd.DataFrame(
            {
                "day": np.repeat(np.arange(days), ncells * B).astype(np.int32),
                "breakdown": _cat(np.tile(np.repeat(bcode, B), days), BREAKDOWNS),
                "level": _cat(np.tile(np.repeat(np.arange(ncells), B), days), level),
                "behaviour": _cat(np.tile(np.arange(B), days * ncells), plan.behaviour_names),
                "kind": _cat(np.tile([KINDS.index(k) for k in plan.beh_kind], days * ncells), KINDS),
                "channel": _cat(np.tile(plan.beh_channel, days * ncells), plan.channel_names),
                **{name: bv[:, :, :, k].ravel() for k, name in enumerate(BEH_MEASURES)},
            }
        )
        from socialcredit import __version__

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
        }
        return cls(
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
        from socialcredit.report.plots import plot_main

        return plot_main(self, path=path, show=show)

    def save(self, run_dir: str, **kwargs) -> None:
        from socialcredit.results.runfolder import write_results

        write_results(self, run_dir, **kwargs)


def summarise(daily: pd.DataFrame, services: pd.DataFrame, meta: dict[str, Any]) -> dict[str, Any]:
    all_rows = daily[daily["breakdown"] == "all"].sort_values("day")
    last = all_rows.iloc[-1] if len(all_rows) else None
    tiers = meta.get("tiers", [])
    out: dict[str, Any] = {
        "scenario": meta.get("scenario"),
        "persons": int(meta.get("persons", 0)),
        "days": int(meta.get("days", 0)),
        "seed": meta.get("seed"),
    }
    if last is not None:
        out["score_mean"] = float(last["score_mean"])
        out["score_p10"] = float(last["score_p10"])
        out["score_p90"] = float(last["score_p90"])
        out["tier_shares"] = {t: float(last[f"share_{t}"]) for t in tiers}
        out["blacklisted"] = int(last["blacklisted"])
        out["blacklisted_wrongly"] = int(last["blacklisted_wrongly"])
        out["redlisted"] = int(last["redlisted"])
    out["blacklist_entries"] = int(all_rows["blacklist_entries"].sum())
    out["records_true"] = int(all_rows["records_true"].sum())
    out["records_false"] = int(all_rows["records_false"].sum())
    out["events"] = int(all_rows["events"].sum())
    svc: dict[str, dict[str, Any]] = {}
    if len(services):
        s_all = services[services["breakdown"] == "all"]
        for name, kind in zip(meta.get("services", []), meta.get("service_kinds", [])):
            rows = s_all[s_all["service"] == name]
            svc[name] = {
                "kind": kind,
                "attempts": int(rows["attempts"].sum()),
                "denied" if kind == "punishment" else "granted": int(rows["outcomes"].sum()),
                "wrongful" if kind == "punishment" else "lost_to_false_records": int(rows["wrongful"].sum()),
            }
    out["services"] = svc
    # the society's responses and the institutions: only what happened in this run
    if "events_harmful" in all_rows:
        out["events_by_kind"] = {k: int(all_rows[f"events_{k}"].sum()) for k in KINDS}
    extra = {}
    for key in RESPONSE_MEASURES:
        if key in all_rows and all_rows[key].sum() > 0:
            extra[key] = int(all_rows[key].sum())
    if extra:
        out["institutions_and_responses"] = extra
    if last is not None and "companies_blacklisted" in all_rows and not np.isnan(last["companies_blacklisted"]):
        out["companies_blacklisted"] = int(last["companies_blacklisted"])
    if last is not None and "degree_blacklisted" in all_rows:
        net = all_rows.dropna(subset=["degree_mean"])
        if len(net):
            end = net.iloc[-1]
            out["friends_of_blacklisted"] = None if np.isnan(end["degree_blacklisted"]) else float(end["degree_blacklisted"])
            out["friends_of_others"] = float(end["degree_others"])
            out["score_assortativity"] = float(all_rows["score_assortativity"].dropna().iloc[-1]) if all_rows["score_assortativity"].notna().any() else None
    scale = meta.get("scale_to")
    if scale:
        out["scale_to"] = float(scale)
        out["scale_factor"] = float(scale) / max(1, out["persons"])
    return out
