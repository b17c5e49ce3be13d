"""What an experiment produced: tidy tables, means with intervals across seeds, paired differences, plots.

    res = sc.read_experiment("experiments/camera-errors-20261206-101500")
    res.summary()                       # every measure per arm (and sweep point): mean, 95% interval
    res.differences("public", "secret") # paired differences B - A under common random numbers
    res.to_df("daily")                  # tidy: one row per run, day, breakdown, level and measure
    res.plot()                          # daily series with bands, or measures against the swept values
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import pandas as pd

from socialcredit.errors import SocialCreditError, did_you_mean
from socialcredit.experiments.statistics import LEVEL, bands, interval, paired
from socialcredit.experiments.store import Store, ensure_experiment, read_spec_yaml
from socialcredit.experiments.task import is_flow
from socialcredit.rulebook.document import parse_document

DESIGN = ["run_id", "arm", "point", "seed"]
#: measures shown first in tables and figures when present
KEY_MEASURES = [
    "score_mean", "blacklisted", "blacklisted_wrongly", "records_false", "blacklist_entries", "records_true",
    "redlisted", "score_assortativity",
]  # fmt: skip
KEY_SERIES = ["score_mean", "blacklisted", "blacklisted_wrongly", "records_false", "denials", "denials_wrongful"]


class ExperimentResults:
    """The tables of an experiment folder, with statistics across seeds."""

    def __init__(self, folder: Path, spec: dict[str, Any], tables: dict[str, pd.DataFrame]) -> None:
        self.folder = folder
        self.spec = spec
        self.runs: pd.DataFrame = tables["runs"]
        self.summary_table: pd.DataFrame = tables["summary"]
        self.daily: pd.DataFrame = tables["daily"]
        self.sessions: pd.DataFrame = tables["sessions"]

    @classmethod
    def read(cls, folder: str | os.PathLike) -> "ExperimentResults":
        path = ensure_experiment(folder)
        spec = parse_document(read_spec_yaml(path), str(path / "experiment.yaml")).data
        return cls(path, spec, Store(path).read())

    # ---------------------------------------------------------------- design
    @property
    def name(self) -> str:
        return str(self.spec.get("name", self.folder.name))

    @property
    def arms(self) -> list[str]:
        return list(dict.fromkeys(self.runs["arm"]))

    @property
    def parameters(self) -> list[str]:
        """The swept rulebook keys (columns of ``runs``)."""
        fixed = {"run_id", "arm", "point", "seed", "status", "seconds", "error", "worker", "session", "fingerprint"}
        return [c for c in self.runs.columns if c not in fixed]

    @property
    def measures(self) -> list[str]:
        """Summary measures, the key ones first."""
        names = [c for c in self.summary_table.columns if c != "run_id"]
        return [m for m in KEY_MEASURES if m in names] + [m for m in names if m not in KEY_MEASURES]

    @property
    def daily_measures(self) -> list[str]:
        return [c for c in self.daily.columns if c not in ("run_id", "day", "breakdown", "level")]

    @property
    def key_series(self) -> list[str]:
        """Daily measures, the key ones first (what figures show by default)."""
        names = self.daily_measures
        return [m for m in KEY_SERIES if m in names] + [m for m in names if m not in KEY_SERIES]

    def status(self) -> dict[str, int]:
        counts = self.runs["status"].value_counts()
        return {k: int(counts.get(k, 0)) for k in ("ok", "failed", "pending")} | {"total": len(self.runs)}

    def _design(self) -> pd.DataFrame:
        return self.runs[DESIGN + self.parameters]

    # ---------------------------------------------------------------- tables
    def to_df(self, table: str = "summary", tidy: bool = True, polars: bool = False):
        """A table with each run's design (arm, point, seed, swept values).

        ``summary``: tidy, one row per run and measure; ``daily``: one row per
        run, day, breakdown, level and measure; ``runs``: one row per run.
        ``tidy=False`` keeps one column per measure. ``polars=True`` returns a
        polars frame.
        """
        if table == "runs":
            df = self.runs.copy()
        elif table in ("summary", "daily"):
            values = self.summary_table if table == "summary" else self.daily
            df = self._design().merge(values, on="run_id", how="inner", sort=False)
            if tidy:
                ids = [c for c in df.columns if c in DESIGN + self.parameters + ["day", "breakdown", "level"]]
                df = df.melt(id_vars=ids, var_name="measure", value_name="value")
        else:
            guess = did_you_mean(table, ["summary", "daily", "runs"])
            raise SocialCreditError(f"unknown table {table!r}; tables: summary, daily, runs" + (f" (did you mean {guess!r}?)" if guess else ""))
        if polars:
            import polars as pl

            return pl.from_pandas(df)
        return df

    def _check_measures(self, measures: list[str] | str | None, known: list[str]) -> list[str]:
        if measures is None:
            return known
        names = [measures] if isinstance(measures, str) else list(measures)
        for m in names:
            if m not in known:
                guess = did_you_mean(m, known)
                raise SocialCreditError(f"unknown measure {m!r}" + (f"; did you mean {guess!r}?" if guess else f"; measures: {', '.join(known[:30])}"))
        return names

    def summary(self, measures: list[str] | str | None = None, level: float = LEVEL) -> pd.DataFrame:
        """Each measure per arm and sweep point: replicates ``n``, ``mean``, ``sd``, ``se`` and the interval ``lo``..``hi``."""
        names = self._check_measures(measures, self.measures)
        wide = self.to_df("summary", tidy=False)
        by = ["arm", "point"] + self.parameters
        rows = []
        for key, group in wide.groupby(by, sort=False, dropna=False):
            design = dict(zip(by, key))
            for m in names:
                rows.append({**design, "measure": m, **interval(group[m], level)})
        cols = by + ["measure", "n", "mean", "sd", "se", "lo", "hi"]
        out = pd.DataFrame(rows, columns=cols)
        if not self.parameters:
            out = out.drop(columns="point")
        return out

    def differences(self, a: str, b: str, measures: list[str] | str | None = None, level: float = LEVEL) -> pd.DataFrame:
        """Arm ``b`` minus arm ``a``, paired by seed (and sweep point): the mean difference with its interval,
        the paired and unpaired standard errors, and ``pairing_gain`` = (unpaired / paired SE)^2, how many
        times more seeds an unpaired comparison would need for the same precision."""
        for arm in (a, b):
            if arm not in self.arms:
                guess = did_you_mean(arm, self.arms)
                raise SocialCreditError(f"no arm named {arm!r}; arms: {', '.join(self.arms)}" + (f" (did you mean {guess!r}?)" if guess else ""))
        names = self._check_measures(measures, self.measures)
        wide = self.to_df("summary", tidy=False)
        rows = []
        for point, group in wide.groupby("point", sort=True):
            ga = group[group["arm"] == a].set_index("seed")
            gb = group[group["arm"] == b].set_index("seed")
            design = {p: ga[p].iloc[0] if len(ga) else None for p in self.parameters}
            for m in names:
                rows.append({"point": point, **design, "measure": m, **paired(ga[m], gb[m], level)})
        out = pd.DataFrame(rows)
        if not self.parameters and len(out):
            out = out.drop(columns="point")
        return out

    def series(self, measures: list[str] | str | None = None, breakdown: str = "all", level_name: str = "all",
               level: float = LEVEL, cumulative: bool = False) -> pd.DataFrame:  # fmt: skip
        """Daily series per arm and sweep point: mean and interval across seeds for each day.

        ``cumulative=True`` sums the daily counts (records, denials, entries:
        the :func:`is_flow` measures) over the run before taking the bands, which
        reads better than their day-to-day noise; levels (scores, list sizes) are
        left as they are.
        """
        names = self._check_measures(measures, self.daily_measures)
        d = self.daily[(self.daily["breakdown"] == breakdown) & (self.daily["level"] == level_name)]
        d = self.runs[["run_id", "arm", "point"]].merge(d, on="run_id")
        if cumulative:
            flows = [m for m in names if is_flow(m)]
            if flows:
                d = d.sort_values(["run_id", "day"], kind="stable")
                d[flows] = d.groupby("run_id", sort=False)[flows].cumsum()
        return bands(d, ["arm", "point", "day"], names, level)

    # ---------------------------------------------------------------- figures
    def plot(self, measures: list[str] | None = None, path: str | os.PathLike | None = None):
        """The main figure: measures against the swept values when there is a sweep, else daily series with bands."""
        from socialcredit.experiments import plots  # lazy: it imports matplotlib

        fig = plots.sweep(self, measures) if self.parameters else plots.series(self, measures)
        if path is not None:
            fig.savefig(path, dpi=110, bbox_inches="tight")
        return fig


def read_experiment(folder: str | os.PathLike) -> ExperimentResults:
    """Load an experiment folder written by ``socialcredit experiment`` or ``socialcredit run --seeds N``."""
    return ExperimentResults.read(folder)
