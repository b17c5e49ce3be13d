"""Audit trails of the sampled persons: who they are, what happened to them, their score over time.

A run keeps the full history of a random sample of persons (the audit sample,
``simulation.audit_sample``; the same persons for any rulebook with the same
seed and population size). :func:`audited_persons` gives one row per sampled
person with counts drawn from their history, and filters it with the
rulebook's own condition language; :func:`person_history` lists one person's
events in order with readable text; :func:`plot_person` draws their score.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd

from socialcredit.analysis.behaviour import rulebook_of
from socialcredit.analysis.mobility import audit_persons_of
from socialcredit.engine.audit import EVENT_ORDER
from socialcredit.errors import ConditionError, SocialCreditError
from socialcredit.literal import figures
from socialcredit.rulebook.conditions import FieldSpec, compile_condition

# counts derived from the audit table: column -> (event, extra condition on the rows)
_COUNTS: dict[str, tuple[str, str | None]] = {
    "records": ("record", None),
    "false_records": ("record", "is_false"),
    "denials": ("denial", None),
    "wrongful_denials": ("denial", "wrongful"),
    "rewards": ("reward", None),
    "rewards_lost": ("reward_lost", None),
    "appeals": ("appeal_filed", None),
    "appeals_won": ("appeal_won", None),
    "friends_lost": ("friend_lost", None),
    "blacklist_entries": ("blacklist_enter", None),
    "wrongful_blacklistings": ("blacklist_enter", "wrongful"),
}
_TIER_COLUMNS = ("tier_start", "tier_end")
_SMALL_DRIFT = 0.001  # score changes no record caused, below this share of the starting score, fold together


def _listed_days(audit: pd.DataFrame, persons: np.ndarray, days: int, name: str = "blacklist") -> np.ndarray:
    """Days each person spent on a list: from each entry to the exit (or to the end of the run)."""
    changes = audit[audit["event"].isin([f"{name}_enter", f"{name}_exit"])]
    total = {p: sum(b - a for a, b in _spans(g, name, days)) for p, g in changes.groupby("person", sort=False)}
    return np.array([total.get(p, 0) for p in persons.tolist()], dtype=np.int64)


def audited_persons(res, where: str | None = None) -> pd.DataFrame:
    """One row per audited person: who they are, where they started and ended, and what happened.

    The columns of the run's audited-persons table (region, group, income,
    score, tier and friends at the start and the end, listed at the end) plus
    counts from their audit trail: ``records``, ``false_records``,
    ``denials``, ``wrongful_denials``, ``rewards``, ``rewards_lost``,
    ``appeals``, ``appeals_won``, ``friends_lost``, ``blacklist_entries``,
    ``wrongful_blacklistings`` (entries that false records alone caused), ``days_blacklisted`` and ``blacklisted`` (ever on the blacklist during
    the run).

    ``where`` keeps the rows that meet a condition written in the rulebook's
    condition language, e.g. ``"blacklisted and group == 'minority'"`` or
    ``"tier_end <= 'C' and false_records >= 1"`` (tiers compare best first:
    ``tier_end >= 'A'`` is A or better). A bad condition raises a
    :class:`~socialcredit.errors.ConditionError` pointing at the column,
    with the fields listed.
    """
    base = audit_persons_of(res)
    audit = res.audit
    persons = base["person"].to_numpy()
    df = base.copy()
    for column, (event, flag) in _COUNTS.items():
        rows = audit[audit["event"] == event]
        if flag is not None:
            rows = rows[rows[flag].fillna(False).astype(bool)]
        counts = rows["person"].value_counts()
        df[column] = counts.reindex(persons, fill_value=0).to_numpy().astype(np.int64)
    df["days_blacklisted"] = _listed_days(audit, persons, int(res.meta.get("days", 0)))
    df["blacklisted"] = (df["blacklist_entries"] > 0) | df["blacklisted_end"].astype(bool)
    df.attrs["sample"] = f"{len(df):,} audited persons of {int(res.meta.get('persons', 0)):,}"
    if where is None:
        return df
    keep = _condition(df, where, res.meta)
    out = df[keep].reset_index(drop=True)
    out.attrs = dict(df.attrs, where=where)
    return out


def _levels(df: pd.DataFrame, column: str, meta: dict) -> tuple[str, ...]:
    """Levels of a category column: the run's regions, groups or tiers (best first), then any others found."""
    known = {"region": "regions", "group": "groups", "tier_start": "tiers", "tier_end": "tiers"}
    levels = list(meta.get(known.get(column, ""), []) or [])
    extra = sorted(set(df[column].dropna().astype(str)) - set(levels))
    return tuple(levels + extra)


def _fields(df: pd.DataFrame, meta: dict) -> dict[str, FieldSpec]:
    """What a ``where`` condition may read: every column, typed by its content (tiers ordered, best first)."""
    fields: dict[str, FieldSpec] = {}
    for column in df.columns:
        series = df[column]
        if column in _TIER_COLUMNS:
            fields[column] = FieldSpec("ordered", _levels(df, column, meta))
        elif pd.api.types.is_bool_dtype(series):
            fields[column] = FieldSpec("bool")
        elif pd.api.types.is_numeric_dtype(series):
            fields[column] = FieldSpec("number")
        elif len(levels := _levels(df, column, meta)):
            fields[column] = FieldSpec("category", levels)
    return fields


def _condition(df: pd.DataFrame, where: str, meta: dict) -> np.ndarray:
    """Evaluate ``where`` over the columns of ``df`` (one bool per row)."""
    fields = _fields(df, meta)
    try:
        condition = compile_condition(where, fields=fields, behaviours=())
    except ConditionError as exc:
        hint = exc.hint or ""
        if "fields:" not in hint:  # an unknown name already lists them
            hint = (f"{hint}; " if hint else "") + "fields: " + ", ".join(fields)
        raise ConditionError(exc.message, exc.expression, exc.column, hint=hint) from None
    env: dict[str, np.ndarray] = {}
    for name in condition.fields:
        spec = fields[name]
        if spec.kind in ("category", "ordered"):
            env[name] = pd.Categorical(df[name].astype(str), categories=list(spec.levels)).codes.astype(np.int64)
        elif spec.kind == "bool":
            env[name] = df[name].to_numpy(dtype=bool)
        else:
            env[name] = df[name].to_numpy(dtype=np.float64)
    return condition(env, n=len(df))


def _not_in_sample(res, person: int) -> SocialCreditError:
    """The error for a person outside the audit sample: how many were sampled, a few of them, how to list them."""
    base = audit_persons_of(res)
    n = len(base)
    if n == 0:
        return SocialCreditError(
            f"person {person} was not audited: this run has no audit sample\n"
            "  hint: set simulation.audit_sample above 0 (e.g. --set simulation.audit_sample=1000) and run again"
        )
    examples = ", ".join(str(p) for p in base["person"].head(5))
    return SocialCreditError(
        f"person {person} is not in the audit sample: {n:,} of {int(res.meta.get('persons', 0)):,} persons were sampled, "
        f"for instance {examples}\n"
        "  hint: list them with `socialcredit explain RUN_DIR --list` (in Python: audited_persons(res))"
    )


def _fmt(x: float) -> str:
    """A score as text: six significant figures (star scales keep their decimals)."""
    return f"{x:.6g}" if abs(x) < 1e6 else f"{x:,.0f}"


def _describe(row) -> tuple[str, str]:
    """What happened, in a few words, and the details, for one audit row."""
    event = row.event
    false = bool(row.is_false) if not pd.isna(row.is_false) else False
    wrongful = bool(row.wrongful) if not pd.isna(row.wrongful) else False
    other = "" if pd.isna(row.other) else f" {int(row.other)}"
    detail = "" if pd.isna(row.detail) else str(row.detail)
    if event == "record":
        kind = "false" if false else "true"
        return ("FALSE record" if false else "record",
                f"{row.behaviour} by {row.channel}, {kind} ({detail}), {row.points:+g} points")  # fmt: skip
    if event == "score":
        before = row.score - row.points
        return "score", f"{_fmt(before)} -> {_fmt(row.score)} ({row.points:+.3g}; {detail})"
    if event == "tier":
        return "tier", f"{detail} (score {_fmt(row.score)})"
    if event in ("blacklist_enter", "redlist_enter"):
        name = event.split("_")[0]
        why = "; WRONGLY: without false records they would not be listed" if wrongful else ""
        return f"{name}ed", f"put on the {name} at score {_fmt(row.score)}{why}"
    if event in ("blacklist_exit", "redlist_exit"):
        name = event.split("_")[0]
        return f"off the {name}", f"taken off the {name} at score {_fmt(row.score)}"
    if event == "denial":
        why = "; WRONGLY: because of false records" if wrongful else ""
        return ("denied wrongly" if wrongful else "denied"), f"{row.service} refused at score {_fmt(row.score)}{why}"
    if event == "reward":
        return "reward", f"{row.service} granted at score {_fmt(row.score)}"
    if event == "reward_lost":
        return "reward lost", f"{row.service} not granted because of false records"
    if event == "appeal_filed":
        kind = "false" if false else "true"
        behaviour = "" if pd.isna(row.behaviour) else f" {row.behaviour}"
        return "appeal filed", f"against their latest{behaviour} record ({kind})"
    if event in ("appeal_won", "appeal_lost"):
        kind = "false" if false else "true"
        result = "the record is taken out of the score" if event == "appeal_won" else "the record stands"
        return event.replace("_", " "), f"appeal against a {kind} record: {result}"
    if event == "friend_lost":
        return "friend lost", f"person{other} ended the friendship: {detail}"
    if event == "friend_dropped":
        return "dropped a friend", f"ended the friendship with person{other}: {detail}"
    if event == "friend_added":
        return "new friend", f"person{other} became a friend: {detail}"
    if event == "partner_left":
        return "partnership ended", f"{detail} (person{other})"
    if event == "partner_formed":
        return "new partner", f"formed a partnership with person{other}"
    if event == "loan_granted":
        return "loan granted", f"at score {_fmt(row.score)}; its outcome, recorded after the term: {row.behaviour}"
    if event == "loan_refused":
        why = "; WRONGLY: because of false records" if wrongful else ""
        return ("loan refused wrongly" if wrongful else "loan refused"), f"at score {_fmt(row.score)}{why}"
    if event == "laid_off":
        why = " (a listing only because of false records)" if wrongful else ""
        return "laid off", f"their employer company{other} entered the company blacklist{why}"
    if event == "emotion_flagged":
        return ("flagged falsely" if false else "flagged"), f"as an emotional outlier at work (company{other})"
    if event == "dismissed":
        return "dismissed", f"after {'a false' if false else 'an'} emotion flag (company{other})"
    if event == "company_blacklisted":
        return "company blacklisted", "the company they represent entered the company blacklist"
    return event.replace("_", " "), detail


def person_history(res, person: int, fold_drift: bool = True) -> pd.DataFrame:
    """One audited person's history in order: day, what happened, details, and the audit columns.

    Every record (behaviour, channel, true or false, points), score and tier
    change, list entry and exit, denial and reward, appeal and its outcome,
    and friend lost (and why). With ``fold_drift`` small score changes that no
    record caused (the pull of friends' and partners' scores; each smaller
    than 0.1% of the starting score) are folded into one ``score drift`` row
    per stretch between other events (rewards do not end a stretch), so the
    history stays readable; ``False`` keeps every row. A person outside the
    sample raises a SocialCreditError naming the sample and how to list it.
    """
    base = audit_persons_of(res)
    person = int(person)
    if person not in set(base["person"].tolist()):
        raise _not_in_sample(res, person)
    rows = res.audit[res.audit["person"] == person].reset_index(drop=True)
    start = float(base.loc[base["person"] == person, "score_start"].iloc[0])
    threshold = _SMALL_DRIFT * max(abs(start), 1e-3)
    drift = (rows["event"] == "score") & (rows["detail"] != "records") & (rows["points"].abs() < threshold)
    kept: list[dict] = []
    pending: list = []

    def flush() -> None:
        if len(pending) == 1:
            kept.append(_with_text(pending[0]))
        elif pending:
            first, last = pending[0], pending[-1]
            net = sum(r.points for r in pending)
            text = (f"{_fmt(first.score - first.points)} -> {_fmt(last.score)} ({net:+.3g}) in {len(pending)} small "
                    f"changes, days {first.day}-{last.day} ({last.detail})")  # fmt: skip
            kept.append(last._asdict() | {"points": net, "what": "score drift", "details": text})
        pending.clear()

    for row, small in zip(rows.itertuples(index=False), drift.to_numpy()):
        if fold_drift and small:
            pending.append(row)
            continue
        if row.event not in ("reward", "reward_lost"):  # rewards come often: they do not end a stretch of drift
            flush()
        kept.append(_with_text(row))
    flush()
    out = pd.DataFrame(kept, columns=list(rows.columns) + ["what", "details"])
    order = out["event"].map(EVENT_ORDER).fillna(3)  # the audit's own order within a day
    out = out.assign(_order=order).sort_values(["day", "_order"], kind="stable")
    columns = ["day", "what", "details", "event", "behaviour", "channel", "is_false", "points", "service", "wrongful", "score", "tier",
               "other", "detail"]  # fmt: skip
    out = out[columns].reset_index(drop=True)
    out.attrs["person"] = person
    return out


def _with_text(row) -> dict:
    """An audit row as a dict with its ``what`` and ``details`` text."""
    what, details = _describe(row)
    return row._asdict() | {"what": what, "details": details}


def score_path(res, person: int) -> pd.DataFrame:
    """A sampled person's score and tier on every day of the run (after the day's changes)."""
    base = audit_persons_of(res)
    if int(person) not in set(base["person"].tolist()):
        raise _not_in_sample(res, int(person))
    me = base[base["person"] == int(person)].iloc[0]
    days = int(res.meta.get("days", 0))
    rows = res.audit[(res.audit["person"] == int(person)) & res.audit["event"].isin(["score", "tier"])]
    score = np.full(days, float(me["score_start"]))
    tier = np.full(days, str(me["tier_start"]), dtype=object)
    for day, event, value, name in zip(rows["day"], rows["event"], rows["score"], rows["tier"]):
        if event == "score":
            score[int(day):] = value
        else:
            tier[int(day):] = name
    return pd.DataFrame({"day": np.arange(days), "score": score, "tier": tier})


def _tier_minimums(res) -> list[tuple[str, float]]:
    """(tier, lowest score) from the run's rulebook, when it is known."""
    try:
        tiers = rulebook_of(res).tiers
    except SocialCreditError:  # no rulebook, or one that no longer validates: only a missing decoration here
        return []
    return [(t.name, float(t.min)) for t in tiers if t.min is not None]


@figures
def plot_person(res, person: int, path: str | Path | None = None):
    """Plot a sampled person's score over the run; returns the matplotlib figure (saved to ``path`` if given).

    Shaded: days on the blacklist (grey) and the redlist (green). Marked:
    false records (red crosses), denials (black triangles; red when wrongful),
    true records (small dots). Dotted lines: the tiers' lower bounds.
    """
    import matplotlib.pyplot as plt

    import socialcredit.results.plots  # noqa: F401  (chooses a headless backend outside notebooks)

    path_df = score_path(res, person)
    me = audit_persons_of(res).set_index("person").loc[int(person)]
    rows = res.audit[res.audit["person"] == int(person)]
    days = path_df["day"].to_numpy()
    score = path_df["score"].to_numpy()
    fig, ax = plt.subplots(figsize=(10, 4.5), constrained_layout=True)
    ax.step(days, score, where="post", color="navy", lw=1.5, label="score")
    n_days = len(days)
    for name, color in (("blacklist", "dimgray"), ("redlist", "seagreen")):
        spans = _spans(rows, name, n_days)
        for k, (a, b) in enumerate(spans):
            ax.axvspan(a, b, color=color, alpha=0.2, lw=0, label=f"on the {name}" if k == 0 else None)

    def on_line(d: pd.Series) -> np.ndarray:
        return score[np.clip(d.to_numpy(dtype=np.int64), 0, max(0, n_days - 1))] if n_days else np.zeros(0)

    records = rows[rows["event"] == "record"]
    false = records["is_false"].fillna(False).astype(bool).to_numpy()
    true_rec = records[~false]
    false_rec = records[false]
    if len(true_rec):
        ax.plot(true_rec["day"], on_line(true_rec["day"]), ".", color="gray", ms=4, label="record")
    if len(false_rec):
        ax.plot(false_rec["day"], on_line(false_rec["day"]), "x", color="crimson", ms=9, mew=2, label="FALSE record")
    denials = rows[rows["event"] == "denial"]
    wrong = denials["wrongful"].fillna(False).astype(bool).to_numpy()
    if (~wrong).any():
        d = denials[~wrong]
        ax.plot(d["day"], on_line(d["day"]), "v", color="black", ms=6, label="denial")
    if wrong.any():
        d = denials[wrong]
        ax.plot(d["day"], on_line(d["day"]), "v", color="crimson", ms=7, label="wrongful denial")
    low, high = (float(np.nanmin(score)), float(np.nanmax(score))) if n_days else (0.0, 1.0)
    pad = max((high - low) * 0.15, abs(high) * 0.01, 1e-3)
    ax.set_ylim(low - pad, high + pad)
    for name, minimum in _tier_minimums(res):
        if low - pad < minimum < high + pad:
            ax.axhline(minimum, color="gray", ls=":", lw=0.8)
            ax.annotate(f"{name} from {minimum:g}", (0, minimum), xytext=(2, 2), textcoords="offset points", fontsize=7, color="gray")
    ax.set_xlim(0, max(1, n_days - 1))
    ax.set_xlabel("day")
    ax.set_ylabel("score (points)")
    ax.set_title(f"Person {int(person)} ({me['region']}, {me['group']}): tier {me['tier_start']} -> {me['tier_end']}, "
                 f"score {_fmt(me['score_start'])} -> {_fmt(me['score_end'])}")  # fmt: skip
    ax.legend(loc="best", fontsize=8)
    if path is not None:
        Path(path).parent.mkdir(parents=True, exist_ok=True)
        fig.savefig(path, dpi=110)
    return fig


def _spans(rows: pd.DataFrame, name: str, days: int) -> list[tuple[int, int]]:
    """(first day, day after the last) of each stay on a list."""
    spans: list[tuple[int, int]] = []
    since = None
    changes = rows[rows["event"].isin([f"{name}_enter", f"{name}_exit"])]
    for day, event in zip(changes["day"].to_numpy(), changes["event"].to_numpy()):
        if event.endswith("_enter"):
            since = int(day)
        elif since is not None:
            spans.append((since, int(day)))
            since = None
    if since is not None:
        spans.append((since, days))
    return spans
