"""Stratification and mobility: how people move between tiers, and who stays at the bottom.

Everything here reads the audit sample: a uniform random sample of persons
whose every tier change is kept (``audit`` events ``tier``, and the tier each
started in, ``audit_persons.tier_start``). The sample size is stated in the
output (``attrs["sample"]``), and shares are shares of the sample.

Timing. A tier change logged on day d holds from the end of day d. The tier
a person holds "at the start of day t" is their starting tier changed by
every change logged on days before t, so t = 0 is the start of the run and
t = days its end.

Years to leave the bottom tiers are estimated from spells: a spell starts
when a person's tier moves into the bottom tiers and ends when it moves out.
Spells still going when the run ends are censored (their end is unknown,
only that it is later), so a plain median of finished spells is too short.
:func:`kaplan_meier_median` takes the censoring into account.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd

from socialcredit.errors import InputError
from socialcredit.results import Results


def audit_persons_of(res: Results) -> pd.DataFrame:
    """The run's table of audited persons, or an InputError for run folders written before it existed."""
    if res.audit_persons is None:
        raise InputError(
            "these results have no table of audited persons (run folders written before it existed lack it)",
            hint="run the scenario again to get one",
        )
    return res.audit_persons


def sample_note(res: Results) -> str:
    """One sentence stating the audit sample behind a measure."""
    k = len(audit_persons_of(res))
    n = int(res.meta.get("persons", 0))
    return f"the audit sample: {k:,} of {n:,} persons, chosen uniformly at random"


def _with_sample(df: pd.DataFrame, res: Results) -> pd.DataFrame:
    df.attrs["sample"] = sample_note(res)
    df.attrs["sample_size"] = len(audit_persons_of(res))
    return df


def tier_paths(res: Results) -> pd.DataFrame:
    """Each audited person's tier path: the starting tier (day 0, ``start`` True) and every change.

    Columns: person, day, tier, start. ``day`` of a change is the audit day
    (the tier holds from the end of that day); rows are ordered by person and
    day, the starting row first.
    """
    ap = audit_persons_of(res)
    tiers = list(res.meta["tiers"])
    a = res.audit
    ch = a[a["event"] == "tier"]
    start = pd.DataFrame({"person": ap["person"].to_numpy(np.int64), "day": 0, "tier": ap["tier_start"].astype(str).to_numpy(), "start": True})
    moves = pd.DataFrame({"person": ch["person"].to_numpy(np.int64), "day": ch["day"].to_numpy(np.int64), "tier": ch["tier"].astype(str).to_numpy(), "start": False})
    df = pd.concat([start, moves], ignore_index=True)
    df["tier"] = pd.Categorical(df["tier"], categories=tiers, ordered=True)
    df["day"] = df["day"].astype(np.int64)
    df = df.sort_values(["person", "day", "start"], ascending=[True, True, False], kind="stable").reset_index(drop=True)
    return _with_sample(df, res)


def tiers_at(paths: pd.DataFrame, t: int) -> pd.Series:
    """The tier each person of ``paths`` holds at the start of day ``t`` (indexed by person)."""
    held = paths[paths["start"] | (paths["day"] < t)]
    return held.groupby("person", sort=True)["tier"].last()


def transition_matrix(res: Results, horizon_days: int = 365, start_day: int = 0, normalise: bool = True) -> pd.DataFrame:
    """Where the audited persons' tiers went over ``horizon_days`` from the start of ``start_day``.

    Rows: the tier at the start of ``start_day`` (index name ``from``);
    columns: the tier ``horizon_days`` later (``to``); both in the rulebook's
    order, best first. With ``normalise`` each row holds shares that add up
    to 1 (NaN for a tier nobody held at the start), else counts of persons.
    ``attrs["row_persons"]`` holds the persons of each row.
    """
    days = int(res.meta["days"])
    if int(start_day) != start_day or int(horizon_days) != horizon_days or start_day < 0 or horizon_days < 0:
        raise InputError(f"start_day and horizon_days must be whole days >= 0; found start_day={start_day}, horizon_days={horizon_days}")
    if start_day + horizon_days > days:
        raise InputError(
            f"the run has {days} days, so start_day + horizon_days must be at most {days}; "
            f"found {start_day} + {horizon_days} = {start_day + horizon_days}",
            hint=f"pass horizon_days={max(days - start_day, 0)} or less",
        )
    tiers = list(res.meta["tiers"])
    paths = tier_paths(res)
    before = tiers_at(paths, int(start_day))
    after = tiers_at(paths, int(start_day + horizon_days))
    pair = pd.DataFrame({"from": before, "to": after.reindex(before.index)})
    counts = pd.crosstab(pair["from"], pair["to"], dropna=False).reindex(index=tiers, columns=tiers, fill_value=0)
    counts.index.name, counts.columns.name = "from", "to"
    row = counts.sum(axis=1)
    if normalise:
        out = counts.astype(np.float64).div(row.where(row > 0), axis=0)
    else:
        out = counts.astype(np.int64)
    out.attrs["row_persons"] = {t: int(v) for t, v in row.items()}
    out.attrs["start_day"] = int(start_day)
    out.attrs["horizon_days"] = int(horizon_days)
    return _with_sample(out, res)


def bottom_tiers(res: Results, tiers: list[str] | None = None) -> list[str]:
    """The tiers that count as the bottom: ``tiers`` checked against the rulebook, default the last two."""
    names = list(res.meta["tiers"])
    if tiers is None:
        return names[-2:]
    if isinstance(tiers, str):
        tiers = [tiers]
    unknown = [t for t in tiers if t not in names]
    if unknown or not tiers:
        raise InputError(f"unknown tier(s) {unknown or tiers!r}; the run's tiers, best first: {', '.join(names)}")
    return list(tiers)


def bottom_tier_spells(res: Results, tiers: list[str] | None = None) -> pd.DataFrame:
    """Spells of audited persons in the bottom tiers (default the last two), one row per spell.

    Columns: person, entered (day of the change into the bottom tiers, 0 for a
    person who started there), left (day of the change out of them, NaN if
    still there at the end), days (left - entered; for a censored spell the
    days up to the end of the run, ``days`` of the run - entered), censored.
    """
    bottom = set(bottom_tiers(res, tiers))
    n_days = int(res.meta["days"])
    paths = tier_paths(res)
    rows: list[tuple[int, int, float, int, bool]] = []
    person = paths["person"].to_numpy()
    day = paths["day"].to_numpy()
    low = paths["tier"].astype(str).isin(bottom).to_numpy()
    entered = -1
    for k in range(len(paths)):
        new_person = k == 0 or person[k] != person[k - 1]
        if new_person:
            if entered >= 0:
                rows.append((int(person[k - 1]), entered, np.nan, n_days - entered, True))
            entered = -1
        if low[k] and entered < 0:
            entered = int(day[k])
        elif not low[k] and entered >= 0:
            rows.append((int(person[k]), entered, float(day[k]), int(day[k]) - entered, False))
            entered = -1
    if entered >= 0:
        rows.append((int(person[-1]), entered, np.nan, n_days - entered, True))
    df = pd.DataFrame(rows, columns=["person", "entered", "left", "days", "censored"])
    df = df.astype({"person": np.int64, "entered": np.int64, "left": np.float64, "days": np.int64, "censored": bool})
    df.attrs["tiers"] = sorted(bottom, key=list(res.meta["tiers"]).index)
    return _with_sample(df, res)


def kaplan_meier_median(durations, censored) -> float:
    """Median duration by Kaplan-Meier: the first time the share still waiting falls to 1/2 or below.

    A censored duration counts as "at least this long". NaN when the share
    never falls to 1/2 (more than half are still waiting at the end) or
    there are no durations.
    """
    t = np.asarray(durations, dtype=np.float64)
    c = np.asarray(censored, dtype=bool)
    if t.size == 0:
        return float("nan")
    surviving = 1.0
    for time in np.unique(t[~c]):
        at_risk = np.count_nonzero(t >= time)
        ended = np.count_nonzero((t == time) & ~c)
        surviving *= 1.0 - ended / at_risk
        if surviving <= 0.5:
            return float(time)
    return float("nan")


def mobility_summary(res: Results, tiers: list[str] | None = None) -> dict[str, Any]:
    """Who reaches the bottom tiers, who never leaves them, and how long leaving takes.

    Keys: tiers, sample (audited persons), run_days, ever_in_bottom and
    share_ever_in_bottom, never_left and share_never_left (of those ever in:
    their first spell was still going at the end), spells, spells_completed,
    spells_censored, median_years_to_leave (Kaplan-Meier over all spells,
    NaN when more than half were still going at the end),
    median_years_completed (finished spells only: biased short) and a note.
    """
    spells = bottom_tier_spells(res, tiers)
    k = len(audit_persons_of(res))
    first = spells.drop_duplicates("person", keep="first")
    ever = len(first)
    never_left = int(first["censored"].sum())
    done = spells[~spells["censored"]]
    km = kaplan_meier_median(spells["days"], spells["censored"])
    return {
        "tiers": spells.attrs["tiers"],
        "sample": k,
        "run_days": int(res.meta["days"]),
        "ever_in_bottom": ever,
        "share_ever_in_bottom": ever / k if k else float("nan"),
        "never_left": never_left,
        "share_never_left": never_left / ever if ever else float("nan"),
        "spells": len(spells),
        "spells_completed": len(done),
        "spells_censored": int(spells["censored"].sum()),
        "median_years_to_leave": km / 365.0,
        "median_years_completed": float(done["days"].median()) / 365.0 if len(done) else float("nan"),
        "note": (
            f"{sample_note(res)}; spells still going at the end of the {int(res.meta['days'])}-day run are censored: "
            "the Kaplan-Meier median counts them as at least that long, the median of completed spells leaves them out"
        ),
    }
