"""Errors and their cost: false records, wrongful sanctions, and how long a false record lasts.

A record is false when it attaches an event to the wrong person
(misattribution), records an event that never happened (a spurious record),
or follows from a sanction that false records caused. The engine runs every
person twice, with and without their false records (the counterfactual
twin), so each sanction can be judged:

- a denial is wrongful when the twin would not have been denied;
- a perk is lost to false records when the twin would have got it;
- a person is wrongly blacklisted when the twin is not on the list.

A false record stops counting when an appeal against it is won, or when it
expires (``score.recovery.mode: expire``, after ``score.recovery.days``).
Under ``relax`` or ``none`` only an appeal clears it. Records still counting
when the run ends are censored.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd

from socialcredit.analysis.behaviour import rulebook_of
from socialcredit.analysis.mobility import kaplan_meier_median, sample_note
from socialcredit.results import Results


def false_records_by_channel(res: Results) -> pd.DataFrame:
    """Records true and false by detection channel over the run.

    Columns: channel, records_true, records_false, false_share (false / all
    records of the channel; NaN for a channel that recorded nothing).
    """
    b = res.behaviours[res.behaviours["breakdown"] == "all"].copy()
    b["channel"] = b["channel"].astype(str)
    g = b.groupby("channel", sort=False)[["records_true", "records_false"]].sum().reset_index()
    g = g.astype({"records_true": np.int64, "records_false": np.int64})
    total = g["records_true"] + g["records_false"]
    g["false_share"] = g["records_false"] / total.where(total > 0)
    return g


def wrongful_denials_by_service(res: Results) -> pd.DataFrame:
    """Attempts, denials and wrongful denials by service over the run.

    Columns: service, kind (punishment or reward), attempts, denied (a
    punishment's denials; for a reward, the attempts not granted), wrongful
    (denials the counterfactual twin would not have suffered; for a reward,
    perks lost to false records), wrongful_share (wrongful / denied).
    """
    s = res.services[res.services["breakdown"] == "all"].copy()
    s["service"] = s["service"].astype(str)
    g = s.groupby(["service", "kind"], sort=False)[["attempts", "outcomes", "wrongful"]].sum().reset_index()
    reward = (g["kind"] == "reward").to_numpy()
    denied = np.where(reward, g["attempts"] - g["outcomes"], g["outcomes"])
    out = pd.DataFrame(
        {
            "service": g["service"],
            "kind": g["kind"].astype(str),
            "attempts": g["attempts"].astype(np.int64),
            "denied": denied.astype(np.int64),
            "wrongful": g["wrongful"].astype(np.int64),
        }
    )
    out["wrongful_share"] = out["wrongful"] / out["denied"].where(out["denied"] > 0)
    order = {name: k for k, name in enumerate(res.meta.get("services", []))}
    return out.sort_values("service", key=lambda c: c.map(order), kind="stable").reset_index(drop=True)


def blacklist_false_share(res: Results) -> pd.DataFrame:
    """The blacklist each day and how much of it is due to false records.

    Columns: day, blacklisted, blacklisted_wrongly (listed persons whose twin
    without false records is not listed), share (wrongly / listed; NaN on a
    day nobody is listed).
    """
    d = res.daily[res.daily["breakdown"] == "all"].sort_values("day")
    out = pd.DataFrame(
        {
            "day": d["day"].to_numpy(np.int64),
            "blacklisted": d["blacklisted"].to_numpy(np.int64),
            "blacklisted_wrongly": d["blacklisted_wrongly"].to_numpy(np.int64),
        }
    )
    out["share"] = out["blacklisted_wrongly"] / out["blacklisted"].where(out["blacklisted"] > 0)
    return out


def _appeals(audit: pd.DataFrame) -> pd.DataFrame:
    """Each appeal of an audited person: filing day, decision day and outcome (None while pending)."""
    filed = audit[audit["event"] == "appeal_filed"].sort_values(["person", "day"], kind="stable")
    decided = audit[audit["event"].isin(["appeal_won", "appeal_lost"])].sort_values(["person", "day"], kind="stable")
    # the decision delay is the same for every appeal, so a person's k-th decision answers their k-th filing
    filed = filed.assign(k=filed.groupby("person").cumcount())
    decided = decided.assign(k=decided.groupby("person").cumcount(), decision_day=decided["day"], outcome=decided["event"].str[7:])
    return filed.merge(decided[["person", "k", "decision_day", "outcome"]], on=["person", "k"], how="left")


def time_to_clear(res: Results) -> pd.DataFrame:
    """Every false record of an audited person, and when and how it stopped counting.

    Columns: person, day (applied), behaviour, channel, points, origin
    (misattributed, spurious or service), appeal (won, lost, pending or None
    when not appealed), cleared_day, days, how. ``how`` is ``appeal`` (an
    appeal was won while it still counted), ``expiry`` or ``censored`` (still
    counting when the run ended). ``days`` is cleared_day - day, or for a
    censored record the days it counted up to the end of the run.
    """
    rb = rulebook_of(res)
    n_days = int(res.meta["days"])
    expire = rb.score.recovery.days if rb.score.recovery.mode == "expire" else None
    a = res.audit
    rec = a[a["event"] == "record"].copy()
    rec["is_false"] = rec["is_false"].fillna(False).astype(bool)
    appeals = _appeals(a)
    cols = ["person", "day", "behaviour", "channel", "points", "origin", "appeal", "cleared_day", "days", "how"]
    # an appeal targets the person's latest penalising record applied by the filing day (docs/model.md, appeals)
    target_of: dict[int, tuple[str, float]] = {}
    penal = rec[rec["points"] < 0]
    by_person = {p: g for p, g in penal.groupby("person", sort=False)}
    for row in appeals.itertuples(index=False):
        g = by_person.get(row.person)
        if g is None:
            continue
        before = g[g["day"] <= row.day]
        if len(before):
            outcome = row.outcome if isinstance(row.outcome, str) else "pending"
            target_of[before.index[-1]] = (outcome, row.decision_day)
    rows = []
    for idx, r in rec[rec["is_false"]].iterrows():
        day = int(r["day"])
        outcome, decision = target_of.get(idx, (None, np.nan))
        ends = []  # (day, rank, how): on the same day expiry comes first (an appeal won on the expiry day reverses nothing)
        if expire is not None:
            ends.append((day + expire, 0, "expiry"))
        if outcome == "won":
            ends.append((int(decision), 1, "appeal"))
        end = min(ends) if ends else None
        if end is not None and end[0] <= n_days - 1:
            cleared, days, how = float(end[0]), end[0] - day, end[2]
        else:
            cleared, days, how = np.nan, n_days - day, "censored"
        rows.append((int(r["person"]), day, r["behaviour"], r["channel"], float(r["points"]), r["detail"], outcome, cleared, days, how))
    df = pd.DataFrame(rows, columns=cols).astype({"person": np.int64, "day": np.int64, "points": np.float64, "cleared_day": np.float64, "days": np.int64})
    df.attrs["sample"] = sample_note(res)
    return df


def error_summary(res: Results) -> dict[str, Any]:
    """The cost of errors over the run, in a few numbers.

    Keys: records_false, records_true, false_share; wrongful_denials
    (punishments), perks_lost_to_false_records; person_days_blacklisted and
    person_days_wrongly_blacklisted (sums of the daily counts) with their
    share; final_blacklisted, final_blacklisted_wrongly and
    final_blacklist_false_share (the last day); then, for the false records
    of the audit sample: false_records_audited, cleared_by_appeal,
    cleared_by_expiry, still_counting, median_days_to_clear (Kaplan-Meier,
    censored records counted as at least that long) and
    median_days_to_clear_completed (cleared records only).
    """
    d = res.daily[res.daily["breakdown"] == "all"].sort_values("day")
    svc = wrongful_denials_by_service(res)
    bl = blacklist_false_share(res)
    true, false = int(d["records_true"].sum()), int(d["records_false"].sum())
    listed_days, wrong_days = int(bl["blacklisted"].sum()), int(bl["blacklisted_wrongly"].sum())
    last = bl.iloc[-1] if len(bl) else None
    clear = time_to_clear(res)
    done = clear[clear["how"] != "censored"]

    def share(a: float, b: float) -> float:
        return a / b if b > 0 else float("nan")

    return {
        "records_false": false,
        "records_true": true,
        "false_share": share(false, true + false),
        "wrongful_denials": int(svc.loc[svc["kind"] == "punishment", "wrongful"].sum()),
        "perks_lost_to_false_records": int(svc.loc[svc["kind"] == "reward", "wrongful"].sum()),
        "person_days_blacklisted": listed_days,
        "person_days_wrongly_blacklisted": wrong_days,
        "wrongly_blacklisted_share_of_person_days": share(wrong_days, listed_days),
        "final_blacklisted": int(last["blacklisted"]) if last is not None else 0,
        "final_blacklisted_wrongly": int(last["blacklisted_wrongly"]) if last is not None else 0,
        "final_blacklist_false_share": float(last["share"]) if last is not None else float("nan"),
        "false_records_audited": len(clear),
        "cleared_by_appeal": int((clear["how"] == "appeal").sum()),
        "cleared_by_expiry": int((clear["how"] == "expiry").sum()),
        "still_counting": int((clear["how"] == "censored").sum()),
        "median_days_to_clear": kaplan_meier_median(clear["days"], clear["how"] == "censored"),
        "median_days_to_clear_completed": float(done["days"].median()) if len(done) else float("nan"),
    }
