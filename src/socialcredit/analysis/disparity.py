"""Disparate impact: are some groups or regions recorded, listed and denied more than others?

For each level of a breakdown (each synthetic group, or each region) and
each measure, the rate per 1,000 persons over the whole run:

- records: records made against persons of the level, true and false;
- false_records: the false ones among them;
- blacklist_entries: entries onto the blacklist;
- denials: services denied (punishments);
- wrongful_denials: denials the person would not have suffered without
  false records;

and ``listed``: the mean share of the level's persons on the blacklist over
the days of the run.

Each is compared with the best-treated level (the lowest rate):

    ratio = lowest rate among the levels / this level's rate,

so 1 means "as favourable as the best-treated level" and 0.5 "twice the
best-treated level's rate". A level whose ratio is below 0.8 is flagged
(``flag_<measure>``), after the four-fifths rule of US employment law: a
screening flag, not a statistical test. With few events the rates are
noisy; the counts are given next to them so the reader can judge.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from socialcredit.errors import InputError
from socialcredit.results import Results

MEASURES = {  # measure -> daily column(s) summed over the run
    "records": ("records_true", "records_false"),
    "false_records": ("records_false",),
    "blacklist_entries": ("blacklist_entries",),
    "denials": ("denials",),
    "wrongful_denials": ("denials_wrongful",),
}
FOUR_FIFTHS = 0.8
BY = ("group", "region")


def _ratio_to_best(rate: pd.Series) -> pd.Series:
    """Lowest rate / each rate; 1 for a level at a rate of 0, NaN for a level without persons."""
    best = rate.min()
    ratio = best / rate.where(rate > 0)
    return ratio.mask(rate == 0, 1.0)


def disparate_impact(res: Results, by: str = "group") -> pd.DataFrame:
    """Rates of records, false records, listing and denials by group or region, with four-fifths flags.

    One row per level. Columns: level, persons; for each measure of
    ``MEASURES``: the count over the run, ``<measure>_per_1000`` (per 1,000
    persons of the level), ``ratio_<measure>`` (lowest level's rate / this
    level's rate) and ``flag_<measure>`` (ratio below 0.8); then
    ``listed_share`` (mean share of persons on the blacklist), ``ratio_listed``
    and ``flag_listed``.
    """
    if by not in BY:
        raise InputError(f"unknown breakdown {by!r} for disparate impact; allowed: {', '.join(BY)}")
    levels = [str(x) for x in res.meta[f"{by}s"]]
    d = res.daily[res.daily["breakdown"] == by].copy()
    d["level"] = d["level"].astype(str)
    g = d.groupby("level", sort=False)
    persons = g["persons"].max().reindex(levels).fillna(0).astype(np.int64)
    out = pd.DataFrame({"level": levels, "persons": persons.to_numpy()})
    denom = persons.where(persons > 0).to_numpy(np.float64)
    for name, columns in MEASURES.items():
        count = sum(g[c].sum() for c in columns).reindex(levels).fillna(0).astype(np.int64)
        out[name] = count.to_numpy()
        out[f"{name}_per_1000"] = 1000.0 * count.to_numpy(np.float64) / denom
        out[f"ratio_{name}"] = _ratio_to_best(out[f"{name}_per_1000"]).to_numpy()
        out[f"flag_{name}"] = out[f"ratio_{name}"] < FOUR_FIFTHS
    share = (d["blacklisted"] / d["persons"].where(d["persons"] > 0)).groupby(d["level"], sort=False).mean()
    out["listed_share"] = share.reindex(levels).to_numpy(np.float64)
    out["ratio_listed"] = _ratio_to_best(out["listed_share"]).to_numpy()
    out["flag_listed"] = out["ratio_listed"] < FOUR_FIFTHS
    out.attrs["by"] = by
    out.attrs["rule"] = "ratio = lowest level's rate / this level's rate; flagged below 0.8 (the four-fifths rule)"
    return out
