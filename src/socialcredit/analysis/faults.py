"""Errors in bulk and surveillance that follows its findings: a fault's cascade, and where coverage goes.

**A fault's cascade.** A fault (rulebook ``faults``) writes false records to
many persons on one day. What follows is read from the run's daily counts
(whole-population rows), over the fault's *window*: from its day up to the
next fault's day, or the end of the run.

- ``records_fault``: the false records the fault wrote;
- the excess wrongful listings: ``blacklisted_wrongly`` on each day minus its
  level the day before the fault (0 for a fault on the first day: nobody is
  listed before the run); ``excess_peak`` is their largest value in the
  window and ``peak_day`` the first day it is reached;
- ``denials_wrongful_30d`` (90d, 180d): wrongful denials on the fault's day
  and the 29 (89, 179) days after; NaN when that stretch reaches past the
  window (it would count days the run did not see, or another fault's);
  ``denials_wrongful_per_day_before``: their mean a day over the (up to) 30
  days before the fault, to set them against;
- ``rewards_lost`` and ``appeals_won_false`` (false records overturned on
  appeal) over the window; both also count false records that were not the
  fault's;
- ``half_day``: the first day on or after the peak when the excess wrongful
  listings are below half of the peak, and ``days_to_half`` = half_day - the
  fault's day: how long appeals (and expiry, and leaving the list) take to
  clear half of it. NaN when it never happens within the window, or when
  the fault listed no one.

**Coverage concentration.** A channel that follows its findings
(``detection.channels.X.follows_findings``) moves its coverage between
regions. Its coverage in a region is a detection probability per person,
so the region's part of the channel's total coverage is
``coverage_r * persons_r / sum over regions``. For each channel and day,
:func:`coverage_concentration` gives the region with the largest part and
its share (with that region's share of the persons, the share it would have
with coverage spread evenly), and the region with the largest share of the
records the channel found.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np
import pandas as pd

from socialcredit.analysis.behaviour import rulebook_of
from socialcredit.errors import InputError
from socialcredit.results import Results
from socialcredit.rulebook.schema import Rulebook

WINDOWS = (30, 90, 180)  # days after a fault over which wrongful denials are summed
BEFORE = 30  # days before a fault over which the usual wrongful denials a day are averaged
CONCENTRATION_COLUMNS = ["channel", "day", "coverage_region", "coverage_share", "persons_share", "records_region", "records_share"]


def _whole_population(daily: pd.DataFrame) -> pd.DataFrame:
    """The whole-population rows of a daily table (all of it when it has no ``breakdown``), indexed by day."""
    if "breakdown" in daily.columns:
        daily = daily[daily["breakdown"] == "all"]
    if "day" not in daily.columns:
        raise InputError("the daily table has no column 'day'", hint="pass Results or its daily table (res.daily)")
    return daily.sort_values("day").set_index("day")


def _daily_of(source: Results | pd.DataFrame) -> pd.DataFrame:
    if isinstance(source, Results):
        return _whole_population(source.daily)
    if isinstance(source, pd.DataFrame):
        return _whole_population(source)
    raise TypeError(f"expected Results or a daily DataFrame, got {type(source).__name__}")


def fault_days(source: Results | Rulebook) -> list[int]:
    """The day number of each fault of the rulebook, in the rulebook's order (dated faults need ``simulation.start``)."""
    rb = source if isinstance(source, Rulebook) else rulebook_of(source)
    return [f.day_number(rb.simulation.start) for f in rb.faults]


def _sum(s: pd.DataFrame, column: str, first: int, stop: int) -> float | int:
    """The sum of a daily count over the days first .. stop - 1; NaN when the table has no such column."""
    if column not in s.columns:
        return float("nan")
    return int(s.loc[first : stop - 1, column].sum())


def fault_cascade(
    source: Results | pd.DataFrame,
    day: int | None = None,
    *,
    end: int | None = None,
    windows: Sequence[int] = WINDOWS,
) -> dict[str, Any]:
    """The cascade of one fault, from the daily counts (see the module's text for each key).

    ``source``: a run's :class:`~socialcredit.results.Results`, or its daily
    table (every row, or the whole-population rows only). ``day``: the
    fault's day; with Results it may be left out when the rulebook has faults
    on one day only. ``end``: the first day that is no longer the fault's
    (the next fault's day; default the end of the run).

    Keys: day, end, records_fault, blacklisted_wrongly_before, excess_peak,
    peak_day, denials_wrongful_<n>d for each of ``windows``,
    denials_wrongful_per_day_before, rewards_lost, appeals_won_false,
    half_day, days_to_half. Counts are ints; a value that cannot be measured
    is NaN.
    """
    if day is None:
        if not isinstance(source, Results):
            raise TypeError("give the fault's day: a daily table does not say when faults happened")
        days = sorted(set(fault_days(source)))
        if len(days) != 1:
            raise InputError(
                f"the rulebook has faults on {len(days)} days" if days else "the rulebook has no faults",
                hint="pass day= the fault's day, or use fault_cascades(res) for one row per fault day",
            )
        day = days[0]
    s = _daily_of(source)
    if s.empty:
        raise InputError("the daily table has no rows")
    first, stop = int(s.index[0]), int(s.index[-1]) + 1
    day = int(day)
    end = stop if end is None else min(int(end), stop)
    if not first <= day < end:
        raise InputError(f"day {day} is not within the run's days {first} to {stop - 1} (before end={end})")

    wrong = s["blacklisted_wrongly"]
    before = int(wrong.loc[day - 1]) if day - 1 in wrong.index else 0
    excess = wrong.loc[day : end - 1].astype(np.int64) - before
    peak = int(excess.max())
    out: dict[str, Any] = {
        "day": day,
        "end": end,
        "records_fault": _sum(s, "records_fault", day, end),
        "blacklisted_wrongly_before": before,
        "excess_peak": max(peak, 0),
        "peak_day": int(excess.idxmax()) if peak > 0 else float("nan"),
    }
    for n in windows:
        out[f"denials_wrongful_{n}d"] = _sum(s, "denials_wrongful", day, day + n) if day + n <= end else float("nan")
    prior = s.loc[max(first, day - BEFORE) : day - 1]
    has_denials = "denials_wrongful" in s.columns and len(prior) > 0
    out["denials_wrongful_per_day_before"] = float(prior["denials_wrongful"].mean()) if has_denials else float("nan")
    out["rewards_lost"] = _sum(s, "rewards_lost", day, end)
    out["appeals_won_false"] = _sum(s, "appeals_won_false", day, end)
    half_day = float("nan")
    if peak > 0:
        after = excess.loc[out["peak_day"] :]
        below = after[after < peak / 2]
        if len(below):
            half_day = int(below.index[0])
    out["half_day"] = half_day
    out["days_to_half"] = half_day - day if isinstance(half_day, int) else float("nan")
    return out


def fault_cascades(
    source: Results | pd.DataFrame, days: Sequence[int] | None = None, windows: Sequence[int] = WINDOWS
) -> pd.DataFrame:
    """One row per day with a fault within the run: ``faults`` (how many that day) and the keys of
    :func:`fault_cascade`, each fault's window ending at the next fault's day. Empty without faults.

    ``days``: the faults' days; by default the rulebook's (:func:`fault_days`),
    which needs Results that carry their rulebook. With a daily table, give them.
    """
    if days is None:
        if not isinstance(source, Results):
            raise TypeError("give the faults' days: a daily table does not say when faults happened")
        days = fault_days(source)
    s = _daily_of(source)
    first, last = (int(s.index[0]), int(s.index[-1])) if len(s) else (0, -1)
    days = [int(d) for d in days if first <= d <= last]
    distinct = sorted(set(days))
    rows = []
    for k, day in enumerate(distinct):
        end = distinct[k + 1] if k + 1 < len(distinct) else None
        rows.append({"faults": days.count(day), **fault_cascade(s.reset_index(), day, end=end, windows=windows)})
    columns = ["faults", "day", "end", "records_fault", "blacklisted_wrongly_before", "excess_peak", "peak_day",
               *[f"denials_wrongful_{n}d" for n in windows], "denials_wrongful_per_day_before", "rewards_lost",
               "appeals_won_false", "half_day", "days_to_half"]  # fmt: skip
    return pd.DataFrame(rows, columns=columns)


def region_persons(res: Results) -> pd.DataFrame:
    """Persons by day and region, from the daily table's region rows. Columns: day, region, persons."""
    d = res.daily[res.daily["breakdown"] == "region"]
    return pd.DataFrame(
        {"day": d["day"].to_numpy(np.int64), "region": d["level"].astype(str).to_numpy(object), "persons": d["persons"].to_numpy(np.float64)}
    )


def coverage_concentration(
    source: Results | pd.DataFrame, persons: Mapping[str, float] | pd.DataFrame | None = None
) -> pd.DataFrame:
    """Per channel and day, how much of the coverage and of the records the largest region holds.

    ``source``: Results (its ``coverage`` table, persons from its daily
    region rows) or a coverage table (columns day, channel, region, coverage,
    records) with ``persons``: region -> persons, or a frame with columns day,
    region and persons.

    Columns: channel, day, coverage_region (the region with the largest part
    of the channel's total coverage, coverage x persons), coverage_share (its
    part), persons_share (its share of the persons), records_region (the
    region with the most records; None on a day with none) and records_share
    (its share of the day's records; NaN on a day with none); a day the
    channel covers nothing has None and NaN for the coverage. Empty when no
    channel follows its findings. Ties go to the region listed first.
    """
    if isinstance(source, Results):
        if persons is None:
            persons = region_persons(source)
        coverage = source.coverage
    else:
        coverage = source
    if coverage is None or len(coverage) == 0:
        return pd.DataFrame(columns=CONCENTRATION_COLUMNS)
    if persons is None:
        raise TypeError("give persons: region -> persons, or a frame of day, region and persons")
    cov = pd.DataFrame(
        {
            "channel": coverage["channel"].astype(str).to_numpy(object),
            "day": coverage["day"].to_numpy(np.int64),
            "region": coverage["region"].astype(str).to_numpy(object),
            "coverage": coverage["coverage"].to_numpy(np.float64),
            "records": coverage["records"].to_numpy(np.float64),
        }
    )
    if isinstance(persons, pd.DataFrame):
        p = persons.rename(columns={"level": "region"})[["day", "region", "persons"]]
        p = p.astype({"day": np.int64, "region": object, "persons": np.float64})
        cov = cov.merge(p, on=["day", "region"], how="left", validate="many_to_one")
    else:
        cov["persons"] = cov["region"].map({str(k): float(v) for k, v in persons.items()})
    if cov["persons"].isna().any():
        missing = sorted(set(cov.loc[cov["persons"].isna(), "region"]))
        raise InputError(f"no persons for region(s) {', '.join(missing)}")
    cov["weight"] = cov["coverage"] * cov["persons"]
    g = cov.groupby(["channel", "day"], sort=False)
    with np.errstate(invalid="ignore", divide="ignore"):
        cov["coverage_share"] = cov["weight"] / g["weight"].transform("sum").where(lambda x: x > 0)
        cov["records_share"] = cov["records"] / g["records"].transform("sum").where(lambda x: x > 0)
        cov["persons_share"] = cov["persons"] / g["persons"].transform("sum").where(lambda x: x > 0)
    rows = []
    for (channel, day), part in cov.groupby(["channel", "day"], sort=False):
        c = part["coverage_share"].to_numpy()
        r = part["records_share"].to_numpy()
        has_coverage, has_records = bool(np.isfinite(c).any()), bool(np.isfinite(r).any())
        top_c = int(np.argmax(np.nan_to_num(c, nan=-1.0)))
        top_r = int(np.argmax(np.nan_to_num(r, nan=-1.0)))
        rows.append((
            channel, int(day),
            part["region"].iloc[top_c] if has_coverage else None, float(c[top_c]) if has_coverage else float("nan"),
            float(part["persons_share"].iloc[top_c]) if has_coverage else float("nan"),
            part["region"].iloc[top_r] if has_records else None, float(r[top_r]) if has_records else float("nan"),
        ))  # fmt: skip
    out = pd.DataFrame(rows, columns=CONCENTRATION_COLUMNS)
    order = {c: k for k, c in enumerate(dict.fromkeys(cov["channel"]))}
    return out.sort_values(["channel", "day"], key=lambda col: col.map(order) if col.name == "channel" else col, kind="stable").reset_index(drop=True)
