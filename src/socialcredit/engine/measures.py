"""Every measure of a run, declared once: name, label, unit, and how it adds up.

The engine's kernels keep flat arrays with fixed column indices; this module
supplies their column order, and everything downstream reads it: the day's
counters (:mod:`socialcredit.engine.counters`), the daily aggregates
(:mod:`socialcredit.engine.stages.daily`, :mod:`socialcredit.engine.stages.company`),
the tables of :meth:`socialcredit.results.Results.from_sim`, the summary
(:func:`socialcredit.results.summarise`), and the labels the CLI and the report show.

Families (each an ordered tuple of :class:`Measure`):

- :data:`EVENT_COUNTS`: the day's counts by breakdown cell (``DayCounters.counts``), plus
  the behaviour events by kind computed from :data:`BEHAVIOUR_COUNTS`;
- :data:`STATE`: sums over persons by cell (``aggregate_kernel``), plus what is computed
  from them (mean score, quantiles, tier shares, mean income);
- :data:`NETWORK`: friends by cell and the network's assortativity (``DailyAggregates.network``);
- :data:`COMPANY`: the companies, whole population only (``DailyAggregates.company``);
- :data:`BEHAVIOUR_COUNTS` and :data:`SERVICE_COUNTS`: the columns of the ``behaviours``
  and ``services`` tables (``DayCounters.bcounts``, ``DayCounters.scounts``);
- :data:`SUMMARY`: the entries of a run's summary, in order.

A family's measures with ``kernel=True`` are the columns of its engine array,
in order; the others are computed from them. :data:`DAILY` is the ``daily``
table's measure columns in order.

Adding a measure is one entry here (plus the kernel code that counts it): an
event count gets its column in ``DayCounters.counts`` (count it with
``DayCounters.persons(name, idx)``) and in the ``daily`` table; a summary
entry is one more :data:`SUMMARY` line (a count of the society's responses
needs only ``Measure(name, group=RESPONSES, summary="nonzero")``: its labels
come from the daily measure).
"""

from __future__ import annotations

from dataclasses import dataclass, replace

#: the kinds of behaviour, in the order of the ``events_<kind>`` columns and the summary's ``events_by_kind``
BEHAVIOUR_KINDS = ("harmful", "benign", "prosocial")

# how a measure adds up over days (``over_days``)
SUM = "sum"  # a daily count: the total over the run
LAST = "last"  # a level: its value on the last day
LAST_NETWORK = "last_network"  # its value on the last day the network was measured (see daily.NETWORK_EVERY)
LAST_VALID = "last_valid"  # its last value that is not NaN (NaN on the days it is not measured)
META = "meta"  # a property of the run (its metadata), not a daily series
GROUP = "group"  # a summary entry holding other entries (those with ``group`` = its name)
SERVICE_KIND = "service_kind"  # in a service's summary entry: the service's kind
OVER_DAYS = (SUM, LAST, LAST_NETWORK, LAST_VALID, META, GROUP, SERVICE_KIND)

# how a cell's value forms from the engine's sums over the cell's persons (``over_cells``)
CELL_SUM = "sum"  # the sum itself (a count, or a sum written by a kernel)
RATIO = "ratio"  # a ratio of two sums: of[0] / of[1] (for a summary entry over metadata: of[1] at least 1)
RATIO_REST = "ratio_rest"  # the ratio for the persons outside a part: (of[0] - of[1]) / (of[2] - of[3])
SD = "sd"  # standard deviation from sums: of = (sum, sum of squares, count)
QUANTILE = "quantile"  # quantile ``q`` of the day's score histogram (DailyAggregates.quant)
GINI = "gini"  # Gini coefficient of the day's score histogram (DailyAggregates.gini)
SHARE = "share"  # share of of[0] in each tier, one column per tier (DailyAggregates.tiers)
BY_KIND = "by_kind"  # of[0] (a behaviour count) summed over the behaviours of each kind, one column per kind
WHOLE = "whole"  # the whole population only: on the "all" rows of the table, NaN on the others
OVER_CELLS = (CELL_SUM, RATIO, RATIO_REST, SD, QUANTILE, GINI, SHARE, BY_KIND, WHOLE)

# whether the summary shows an entry (``summary``); "" for measures that are not summary entries
ALWAYS = "always"  # always (entries over days need a recorded day)
PRESENT = "present"  # when the run's table has the column and its value is not NaN
NONZERO = "nonzero"  # when the run's table has the column and the total is above zero (a group: when not empty)
SET = "set"  # when the run's metadata has a value for it
SHOWN = (ALWAYS, PRESENT, NONZERO, SET)

RESPONSES = "institutions_and_responses"  # the summary's group of responses and institutions
SERVICES = "services"  # the summary's group of services (one entry per service)


@dataclass(frozen=True)
class Measure:
    """One measure: a kernel column, a column of a results table, or an entry of the summary.

    ``name`` may hold ``{tier}`` or ``{kind}`` (with ``each``): one column per
    tier or behaviour kind. In ``of``, measures of another family are
    written ``family.name`` (``state.persons``); a summary entry's ``of``
    names the ``daily`` column (or metadata key) it comes from, by default
    its own name, and it takes its labels and unit from that column's
    measure unless it sets its own.
    """

    name: str
    label: str = ""  # the text the CLI shows
    unit: str = ""
    over_days: str = SUM
    over_cells: str = CELL_SUM
    of: tuple[str, ...] = ()
    kernel: bool = True  # a column of the family's engine array (False: computed from those columns)
    column: bool = True  # a column of the results table (False: a working sum only)
    summary: str = ""  # summary entries: when the summary shows it (SHOWN); "" for the families
    group: str = ""  # summary entries: the entry holding it ("" for the top level)
    row: str = ""  # summary entries: the entry whose row (in the CLI and the report) also shows this one
    dtype: str = "int"  # "int", "float", "float?" (None when NaN), "text", "" (as stored)
    report_label: str = ""  # the text the HTML report shows (default: the label)
    q: float = 0.0  # QUANTILE: the quantile
    each: str = ""  # "tier", "kind" or "service": one column (summary: one key) per tier, kind or service
    service_kind: str = ""  # a service's summary entries: only for services of this kind ("punishment", "reward")
    family: str = ""  # set by the family tuple holding it
    doc: str = ""

    def __post_init__(self) -> None:
        if self.over_days not in OVER_DAYS:
            raise ValueError(f"measure {self.name!r}: over_days {self.over_days!r} is not one of {OVER_DAYS}")
        if self.over_cells not in OVER_CELLS:
            raise ValueError(f"measure {self.name!r}: over_cells {self.over_cells!r} is not one of {OVER_CELLS}")
        if self.summary and self.summary not in SHOWN:
            raise ValueError(f"measure {self.name!r}: summary {self.summary!r} is not one of {SHOWN}")

    @property
    def report_text(self) -> str:
        """The text the HTML report shows for it: its report label, else its label, else its name with spaces."""
        return self.report_label or self.label or self.name.replace("_", " ")

    def names(self, items: tuple[str, ...] | list[str] = ()) -> list[str]:
        """The column names: one per item (tier, kind) for a measure with ``each``, else its name."""
        if not self.each:
            return [self.name]
        return [self.name.format(**{self.each: item}) for item in items]


def _family(family: str, measures: tuple[Measure, ...]) -> tuple[Measure, ...]:
    out = tuple(replace(m, family=family) for m in measures)
    names = [m.name for m in out]
    dup = {n for n in names if names.count(n) > 1}
    if dup:
        raise ValueError(f"measures declared twice in {family}: {sorted(dup)}")
    return out


def _count(name: str, label: str, unit: str, **kw) -> Measure:
    """A daily count (events, records, entries), summed over the run."""
    return Measure(name, label, unit, over_days=SUM, **kw)


def _level(name: str, label: str, unit: str, **kw) -> Measure:
    """A level (persons listed, a mean), read on the last day."""
    return Measure(name, label, unit, over_days=LAST, **kw)


# ------------------------------------------------------------------ event counts
#: the day's counts by breakdown cell: ``DayCounters.counts`` columns in this order (kernel=True)
EVENT_COUNTS: tuple[Measure, ...] = _family("events", (
    _count("events", "behaviour events", "events", doc="counted for the actor"),
    _count("detected", "behaviour events detected", "events"),
    _count("records_true", "true records", "records", doc="counted for the person the record is attached to"),
    _count("records_false", "false records", "records"),
    _count("records_fault", "false records written by faults", "records", doc="errors in bulk (faults); also in records_false"),
    _count("records_targeted", "records aimed at chosen persons", "records",
           doc="false records written on purpose (targeting); also in records_false"),
    _level("enrolled", "persons enrolled", "persons",
           doc="persons in the system today (everyone when the rulebook has no enrolment)"),
    _count("attempts", "service attempts", "attempts"),
    _count("denials", "denials", "denials"),
    _count("denials_wrongful", "wrongful denials", "denials", doc="denials only because of false records"),
    _count("rewards", "rewards granted", "rewards"),
    _count("rewards_lost", "rewards lost to false records", "rewards"),
    _count("blacklist_entries", "blacklist entries", "persons"),
    _count("blacklist_exits", "blacklist exits", "persons"),
    _count("redlist_entries", "redlist entries", "persons"),
    _count("redlist_exits", "redlist exits", "persons"),
    _count("ties_dropped_unfriending", "ties dropped by unfriending", "ties",
           report_label="friendships dropped by unfriending", doc="counted for the person who drops the friend"),
    _count("ties_rewired", "ties rewired", "ties", report_label="friendships made again with others (rewiring)"),
    _count("ties_dropped_shaming", "ties dropped after shaming", "ties",
           report_label="friendships dropped after public shaming", doc="counted for the newly listed person"),
    _count("partnerships_ended", "partnerships ended", "partnerships", doc="counted for the person who leaves"),
    _count("partnerships_formed", "persons who formed a partnership", "persons",
           doc="responses.partnering: counted for both partners"),
    _count("appeals_filed", "appeals filed", "appeals"),
    _count("appeals_won", "appeals won", "appeals"),
    _count("appeals_won_false", "false records overturned", "records", report_label="false records overturned on appeal"),
    _count("appeals_lost", "appeals lost", "appeals"),
    _count("appeal_days_false", "days overturned false records had counted", "days",
           report_label="days the overturned false records had counted",
           doc="days overturned false records had counted against the person"),
    _count("ratings_given", "ratings given", "ratings", doc="peer ratings (score.basis: ratings), counted for the rater"),
    _count("ratings_received", "ratings received", "ratings", doc="counted for the ratee, like the two below"),
    _count("ratings_low", "ratings of 1 or 2 stars", "ratings", doc="ratings of 1 or 2 stars received"),
    _count("stars_received", "stars received", "stars",
           doc="sum of the stars received (mean rating = stars_received / ratings_received)"),
    _count("loan_applications", "loan applications", "applications", doc="lending: counted for the applicant"),
    _count("loans_granted", "loans granted", "loans"),
    _count("loans_refused_wrongly", "loans refused only because of false records", "applications",
           doc="refused, but the counterfactual score (no false records) passes the threshold"),
    _count("loans_repaid", "loans to be repaid", "loans",
           doc="counted on the day granted (the outcome is drawn then); the record follows after the term"),
    _count("loans_defaulted", "loans to be defaulted", "loans", doc="counted on the day granted, like loans_repaid"),
    _level("children_of_listed", "children with a blacklisted parent", "children",
           doc="children of households where the guardian or the guardian's partner is blacklisted (population.children)"),
    _level("children_of_wrongly_listed", "children with a parent listed only because of false records", "children",
           doc="as children_of_listed, where no parent would be listed without false records"),
    _count("layoffs", "employees laid off by sanctioned companies", "persons",
           doc="company sanctions: employees of a company entering the company blacklist, laid off though they did nothing"),
    _count("layoffs_wrongful", "layoffs by companies listed only because of false records", "persons"),
    _count("layoff_income_lost", "yearly income lost by laid-off employees", "income",
           doc="the sum, at the day of the layoff, of the income each laid-off employee loses"),
    _count("emotion_checks", "emotion checks at work", "checks", doc="institutions.emotion_monitoring: checks of monitored employees"),
    _count("emotion_flags", "emotion flags at work", "flags", doc="persons flagged as emotional outliers"),
    _count("emotion_flags_false", "false emotion flags", "flags", doc="flagged though not an outlier at the check"),
    _count("dismissals_after_flags", "dismissals after emotion flags", "persons"),
    _count("dismissals_after_false_flags", "dismissals after false emotion flags", "persons"),
    _count("income_lost_to_false_flags", "yearly income lost to dismissals after false flags", "income"),
    _level("commercial_sum", "sum of commercial scores", "points", column=False,
           doc="rulebook commercial: each person's commercial score rounded to whole points"),
    _level("commercial_mean", "mean commercial score", "points", over_cells=RATIO, of=("events.commercial_sum", "state.persons"),
           kernel=False, dtype="float", doc="0 without a commercial score"),
    _level("stress_sum", "sum of stress indices", "stress points", column=False,
           doc="responses.stress: each person's index (0-1000) rounded to whole points"),
    _level("stress_mean", "mean stress index (0: none, 1000: the most)", "stress points", over_cells=RATIO,
           of=("events.stress_sum", "state.persons"), kernel=False, dtype="float",
           doc="0 when stress is off (responses.stress)"),
    _count("events_{kind}", "{kind} behaviour events", "events", over_cells=BY_KIND, of=("behaviour.events",),
           kernel=False, each="kind", doc="behaviour events of each kind (deterrence, chilling and gaming show here)"),
))  # fmt: skip

# ------------------------------------------------------------------ state measures
#: sums over the persons of each cell: the columns ``aggregate_kernel`` writes are those with kernel=True, in this order
STATE: tuple[Measure, ...] = _family("state", (
    _level("persons", "persons", "persons"),
    _level("score_sum", "sum of scores", "points", dtype="float", column=False),
    _level("score_sq", "sum of squared scores", "points squared", dtype="float", column=False),
    _level("score_mean", "mean score", "points", over_cells=RATIO, of=("state.score_sum", "state.persons"),
           kernel=False, dtype="float"),
    _level("score_sd", "standard deviation of scores", "points", over_cells=SD,
           of=("state.score_sum", "state.score_sq", "state.persons"), kernel=False, dtype="float"),
    _level("score_p10", "10th percentile of scores", "points", over_cells=QUANTILE, q=0.1, kernel=False, dtype="float"),
    _level("score_p50", "median score", "points", over_cells=QUANTILE, q=0.5, kernel=False, dtype="float"),
    _level("score_p90", "90th percentile of scores", "points", over_cells=QUANTILE, q=0.9, kernel=False, dtype="float"),
    _level("score_gini", "Gini coefficient of scores", "coefficient", over_cells=GINI, kernel=False, dtype="float",
           doc="NaN on a day when any score is negative"),
    _level("share_{tier}", "share in tier {tier}", "share of persons", over_cells=SHARE, of=("state.persons",),
           kernel=False, each="tier", dtype="float", doc="the tier as of the last classify stage"),
    _level("blacklisted", "blacklisted", "persons"),
    _level("redlisted", "redlisted", "persons"),
    _level("blacklisted_wrongly", "blacklisted only because of false records", "persons",
           doc="on the blacklist, but not in the counterfactual without false records"),
    _level("blacklisted_cf", "blacklisted without false records (counterfactual)", "persons"),
    _level("income_sum", "sum of incomes", "income", dtype="float", column=False),
    _level("income_mean", "mean income", "income", over_cells=RATIO, of=("state.income_sum", "state.persons"),
           kernel=False, dtype="float"),
    _level("risk_sum", "sum of perceived risks", "probability", dtype="float", column=False),
    _level("risk_mean", "mean perceived risk", "probability", over_cells=RATIO, of=("state.risk_sum", "state.persons"),
           kernel=False, dtype="float"),
))  # fmt: skip

# ------------------------------------------------------------------ network measures
#: friends by cell and assortativity: ``DailyAggregates.network`` columns are those with kernel=True, in this order.
#: Measured every ``daily.NETWORK_EVERY`` days and on the last day (NaN on the other days).
NETWORK: tuple[Measure, ...] = _family("network", (
    Measure("degree_sum", "friends, summed over persons", "friends", over_days=LAST_NETWORK, dtype="float", column=False),
    Measure("degree_blacklisted_sum", "friends of the blacklisted, summed", "friends", over_days=LAST_NETWORK,
            dtype="float", column=False),
    Measure("score_assortativity", "score assortativity of friendships", "coefficient", over_days=LAST_VALID,
            over_cells=WHOLE, dtype="float"),
    Measure("tier_assortativity", "tier assortativity of friendships", "coefficient", over_days=LAST_VALID,
            over_cells=WHOLE, dtype="float"),
    Measure("degree_mean", "friends per person", "friends", over_days=LAST_NETWORK, over_cells=RATIO,
            of=("network.degree_sum", "state.persons"), kernel=False, dtype="float"),
    Measure("degree_blacklisted", "friends per blacklisted person", "friends", over_days=LAST_NETWORK, over_cells=RATIO,
            of=("network.degree_blacklisted_sum", "state.blacklisted"), kernel=False, dtype="float"),
    Measure("degree_others", "friends per person not blacklisted", "friends", over_days=LAST_NETWORK,
            over_cells=RATIO_REST, of=("network.degree_sum", "network.degree_blacklisted_sum", "state.persons",
                                       "state.blacklisted"), kernel=False, dtype="float"),
))  # fmt: skip
#: the measure whose value marks a day the network was measured
NETWORK_DAY = "degree_mean"

# ------------------------------------------------------------------ company measures
#: the companies (whole population only): ``DailyAggregates.company`` columns in this order
COMPANY: tuple[Measure, ...] = _family("company", (
    _level("companies_blacklisted", "companies blacklisted", "companies", over_cells=WHOLE, dtype="float"),
    _count("company_blacklist_entries", "company blacklist entries", "companies", over_cells=WHOLE, dtype="float"),
    _count("company_blacklist_exits", "company blacklist exits", "companies", over_cells=WHOLE, dtype="float"),
    _count("company_records_true", "company records (true)", "records", over_cells=WHOLE, dtype="float"),
    _count("company_records_false", "company records (false)", "records", over_cells=WHOLE, dtype="float"),
    _level("company_score_mean", "mean company score", "points", over_cells=WHOLE, dtype="float"),
    _level("company_revenue_mean", "mean company revenue (1 at the start)", "index", over_cells=WHOLE, dtype="float",
           doc="company sanctions lower it: contracts, loans and bonds lost"),
))  # fmt: skip

# ------------------------------------------------------------------ behaviour and service counts
#: the ``behaviours`` table (by cell and behaviour): the first event counts, ``DayCounters.bcounts`` columns in this order
BEHAVIOUR_COUNTS: tuple[Measure, ...] = _family("behaviour", EVENT_COUNTS[:4])
#: the ``services`` table (by cell and service): ``DayCounters.scounts`` columns in this order
SERVICE_COUNTS: tuple[Measure, ...] = _family("service", (
    next(m for m in EVENT_COUNTS if m.name == "attempts"),
    _count("outcomes", "denials or rewards granted", "persons", doc="denials of a punishment, grants of a reward"),
    _count("wrongful", "wrongful denials or rewards lost to false records", "persons",
           doc="outcomes only because of false records"),
))  # fmt: skip

FAMILIES: dict[str, tuple[Measure, ...]] = {
    "events": EVENT_COUNTS,
    "state": STATE,
    "network": NETWORK,
    "company": COMPANY,
    "behaviour": BEHAVIOUR_COUNTS,
    "service": SERVICE_COUNTS,
}


def kernel_columns(family: str) -> tuple[str, ...]:
    """The columns of a family's engine array, in order."""
    return tuple(m.name for m in FAMILIES[family] if m.kernel)


EVENT_COLUMNS = kernel_columns("events")
STATE_COLUMNS = kernel_columns("state")
NETWORK_COLUMNS = kernel_columns("network")
COMPANY_COLUMNS = kernel_columns("company")
BEHAVIOUR_COLUMNS = kernel_columns("behaviour")
SERVICE_COLUMNS = kernel_columns("service")
_INDEX = {fam: {name: k for k, name in enumerate(kernel_columns(fam))} for fam in FAMILIES}


def column(family: str, name: str) -> int:
    """The index of a measure in its family's engine array."""
    return _INDEX[family][name]


def _table_columns(family: tuple[Measure, ...], whole: bool | None = None) -> tuple[Measure, ...]:
    return tuple(m for m in family if m.column and (whole is None or (m.over_cells == WHOLE) == whole))


#: the ``daily`` table's measure columns, in order (after day, breakdown, level): per cell, state, friends and
#: event counts; then the whole-population series, companies and assortativity
DAILY: tuple[Measure, ...] = (
    *_table_columns(STATE),
    *_table_columns(NETWORK, whole=False),
    *_table_columns(EVENT_COUNTS),
    *_table_columns(COMPANY),
    *_table_columns(NETWORK, whole=True),
)
_DAILY = {m.name: m for m in DAILY}


def daily_measure(name: str) -> Measure | None:
    """The measure of a ``daily`` column (``share_AAA`` and ``events_harmful`` included), or None."""
    if name in _DAILY:
        return _DAILY[name]
    for m in DAILY:
        if m.each:
            head, _, tail = m.name.partition("{" + m.each + "}")
            if name.startswith(head) and name.endswith(tail) and len(name) > len(head) + len(tail):
                return m
    return None


def daily_columns(tiers: list[str] | tuple[str, ...]) -> list[str]:
    """The ``daily`` table's measure columns of a run with these tiers, in order."""
    return [n for m in DAILY for n in m.names(tiers if m.each == "tier" else BEHAVIOUR_KINDS)]


def is_flow(name: str) -> bool:
    """A daily count of events (records, denials, list entries, behaviour events), as opposed to a level."""
    m = daily_measure(name)
    return m is not None and m.over_days == SUM


# ------------------------------------------------------------------ summary entries
#: the summary of a run (``Results.summary()``), in order; entries with ``group`` sit in the entry of that name
SUMMARY_ENTRIES: tuple[Measure, ...] = (
    Measure("scenario", "scenario", over_days=META, dtype="", summary=ALWAYS),
    Measure("persons", "population", "persons", over_days=META, summary=ALWAYS, report_label="synthetic residents"),
    Measure("days", "days", "days", over_days=META, summary=ALWAYS, report_label="days simulated"),
    Measure("seed", "seed", over_days=META, dtype="", summary=ALWAYS, report_label="seed"),
    Measure("score_mean", "mean score (p10 - p90)", over_days=LAST, dtype="float", summary=ALWAYS,
            report_label="mean score at the end (10th - 90th percentile)"),
    Measure("score_p10", "10th percentile of scores at the end", over_days=LAST, dtype="float", summary=ALWAYS,
            row="score_mean"),
    Measure("score_p90", "90th percentile of scores at the end", over_days=LAST, dtype="float", summary=ALWAYS,
            row="score_mean"),
    Measure("tier_shares", "final tier shares", "share of persons", over_days=LAST, of=("share_{tier}",),
            each="tier", dtype="float", summary=ALWAYS, report_label="tier shares at the end"),
    Measure("blacklisted", "blacklisted at the end (wrongly)", over_days=LAST, summary=ALWAYS,
            report_label="blacklisted at the end (only because of false records)"),
    Measure("blacklisted_wrongly", "blacklisted at the end only because of false records", over_days=LAST,
            summary=ALWAYS, row="blacklisted"),
    Measure("redlisted", "redlisted at the end", over_days=LAST, summary=ALWAYS),
    Measure("blacklist_entries", "blacklist entries", summary=ALWAYS, report_label="blacklist entries over the run"),
    Measure("records_true", "records true / false", summary=ALWAYS, report_label="records made: true / false"),
    Measure("records_false", "false records", summary=ALWAYS, row="records_true",
            report_label="false records over the run"),
    Measure("events", "behaviour events", summary=ALWAYS, report_label="behaviour events over the run"),
    Measure(SERVICES, "services", over_days=GROUP, each="service", dtype="", summary=ALWAYS),
    Measure("kind", "kind of service", over_days=SERVICE_KIND, dtype="text", summary=ALWAYS, group=SERVICES),
    Measure("attempts", summary=ALWAYS, group=SERVICES),
    Measure("denied", "denials (wrongful)", of=("outcomes",), summary=ALWAYS, group=SERVICES,
            service_kind="punishment",
            report_label="denials by punishing services (wrongful: only because of false records)"),
    Measure("granted", "rewards (lost to false records)", of=("outcomes",), summary=ALWAYS, group=SERVICES,
            service_kind="reward", report_label="rewards granted (lost to false records)"),
    Measure("wrongful", "wrongful denials", of=("wrongful",), summary=ALWAYS, group=SERVICES, row="denied",
            service_kind="punishment"),
    Measure("lost_to_false_records", "rewards lost to false records", of=("wrongful",), summary=ALWAYS,
            group=SERVICES, row="granted", service_kind="reward"),
    Measure("events_by_kind", "behaviour events: harmful / benign / prosocial", "events", of=("events_{kind}",),
            each="kind", summary=PRESENT),
    Measure(RESPONSES, "institutions and responses", over_days=GROUP, dtype="", summary=NONZERO),
    Measure("ties_dropped_unfriending", summary=NONZERO, group=RESPONSES),
    Measure("ties_rewired", summary=NONZERO, group=RESPONSES),
    Measure("ties_dropped_shaming", summary=NONZERO, group=RESPONSES),
    Measure("partnerships_ended", summary=NONZERO, group=RESPONSES),
    Measure("appeals_filed", summary=NONZERO, group=RESPONSES),
    Measure("appeals_won", summary=NONZERO, group=RESPONSES),
    Measure("appeals_won_false", summary=NONZERO, group=RESPONSES),
    Measure("appeals_lost", summary=NONZERO, group=RESPONSES),
    Measure("appeal_days_false", summary=NONZERO, group=RESPONSES),
    Measure("company_blacklist_entries", summary=NONZERO, group=RESPONSES),
    Measure("company_records_true", summary=NONZERO, group=RESPONSES),
    Measure("company_records_false", summary=NONZERO, group=RESPONSES),
    Measure("ratings_given", summary=NONZERO, group=RESPONSES),
    Measure("ratings_low", summary=NONZERO, group=RESPONSES),
    Measure("partnerships_formed", summary=NONZERO, group=RESPONSES),
    Measure("children_of_listed", "children with a blacklisted parent at the end", over_days=LAST, summary=NONZERO,
            group=RESPONSES),
    Measure("children_of_wrongly_listed", "children with a parent listed only because of false records, at the end",
            over_days=LAST, summary=NONZERO, group=RESPONSES),
    Measure("loans_granted", summary=NONZERO, group=RESPONSES),
    Measure("loans_defaulted", summary=NONZERO, group=RESPONSES),
    Measure("loans_refused_wrongly", summary=NONZERO, group=RESPONSES),
    Measure("layoffs", summary=NONZERO, group=RESPONSES),
    Measure("layoffs_wrongful", summary=NONZERO, group=RESPONSES),
    Measure("emotion_flags", summary=NONZERO, group=RESPONSES),
    Measure("emotion_flags_false", summary=NONZERO, group=RESPONSES),
    Measure("dismissals_after_false_flags", summary=NONZERO, group=RESPONSES),
    Measure("commercial_mean", "mean commercial score at the end", over_days=LAST, dtype="float", summary=NONZERO,
            group=RESPONSES),
    Measure("stress_mean", "mean stress index at the end (0-1000)", over_days=LAST, dtype="float", summary=NONZERO,
            group=RESPONSES),
    Measure("companies_blacklisted", "companies blacklisted at the end", over_days=LAST, summary=PRESENT),
    Measure("friends_of_blacklisted", "friends per person: blacklisted / others", over_days=LAST_NETWORK,
            of=("degree_blacklisted",), dtype="float?", summary=ALWAYS,
            report_label="friends per resident at the end: blacklisted / others"),
    Measure("friends_of_others", "friends per person not blacklisted, at the end", over_days=LAST_NETWORK,
            of=("degree_others",), dtype="float", summary=ALWAYS, row="friends_of_blacklisted"),
    Measure("score_assortativity", "score assortativity of friendships", over_days=LAST_VALID, dtype="float?",
            summary=ALWAYS, report_label="score assortativity of friendships at the end"),
    Measure("scale_to", "scaled to (residents)", "persons", over_days=META, dtype="float", summary=SET),
    Measure("scale_factor", "scale factor", over_days=META, over_cells=RATIO, of=("scale_to", "persons"),
            dtype="float", summary=SET),
)  # fmt: skip


def _resolve(entry: Measure) -> Measure:
    """A summary entry with its source (``of``) and, unless set, the labels and unit of its daily measure."""
    of = entry.of or ((entry.name,) if entry.over_days not in (GROUP, SERVICE_KIND) else ())
    source = None
    if entry.group == SERVICES:
        source = next((m for m in SERVICE_COUNTS if m.name == of[0]), None) if of else None
    elif of and entry.over_days != META:
        source = daily_measure(of[0])
    if source is None and entry.over_days not in (META, GROUP, SERVICE_KIND):
        raise ValueError(f"summary entry {entry.name!r}: no measure {of[0]!r} to read")
    return replace(
        entry,
        of=of,
        family="summary",
        label=entry.label or (source.label if source else entry.name),
        report_label=entry.report_label or (source.report_label if source else ""),
        unit=entry.unit or (source.unit if source else ""),
    )


SUMMARY: tuple[Measure, ...] = tuple(_resolve(e) for e in SUMMARY_ENTRIES)
_SUMMARY = {m.name: m for m in SUMMARY}
if len(_SUMMARY) != len(SUMMARY):
    raise ValueError("summary entries must have distinct names")


def summary_entries(group: str = "") -> tuple[Measure, ...]:
    """The summary's entries at the top level, or in the entry ``group``, in order."""
    return tuple(m for m in SUMMARY if m.group == group)


def summary_entry(name: str) -> Measure:
    """The summary entry of this key (top level or nested: ``appeals_won``, ``denied``)."""
    return _SUMMARY[name]


#: summary key -> the text the CLI shows for it
SUMMARY_LABELS: dict[str, str] = {m.name: m.label for m in SUMMARY}
#: summary key -> the text the HTML report shows for it
REPORT_LABELS: dict[str, str] = {m.name: m.report_text for m in SUMMARY}
#: counts of the society's responses and the institutions, summed over the run (in a summary only when non-zero)
RESPONSE_MEASURES: tuple[str, ...] = tuple(m.name for m in summary_entries(RESPONSES))
#: summary keys that describe the run's design (from its metadata), not its outcome
DESIGN_KEYS: tuple[str, ...] = tuple(m.name for m in summary_entries() if m.over_days == META)


# ------------------------------------------------------------------ the kernels' fixed columns
# Kernels write some columns by position; these are the positions they use, checked against the declaration.
#: ``daily.aggregate_kernel`` writes part[c, k, 0..8] in this order
AGGREGATE_KERNEL_COLUMNS = ("persons", "score_sum", "score_sq", "blacklisted", "redlisted", "blacklisted_wrongly",
                            "blacklisted_cf", "income_sum", "risk_sum")  # fmt: skip
#: ``detect.detect_kernel`` (events, detected) and ``counters.tally_records`` write counts[:, 0..3] and
#: bcounts[:, :, 0..3] in this order
TALLY_COLUMNS = ("events", "detected", "records_true", "records_false")
#: ``DailyAggregates.record_network`` writes the degree sums (degree_kernel) in columns 0, 1, assortativity in 2, 3
RECORD_NETWORK_COLUMNS = ("degree_sum", "degree_blacklisted_sum", "score_assortativity", "tier_assortativity")
#: ``DayCounters.service`` writes scounts[:, s, 0..2] in this order
SERVICE_TALLY_COLUMNS = ("attempts", "outcomes", "wrongful")


def _check_kernel_order() -> None:
    checks = (
        ("state (aggregate_kernel)", STATE_COLUMNS, AGGREGATE_KERNEL_COLUMNS),
        ("events (detect_kernel, tally_records)", EVENT_COLUMNS[: len(TALLY_COLUMNS)], TALLY_COLUMNS),
        ("behaviour (detect_kernel, tally_records)", BEHAVIOUR_COLUMNS, TALLY_COLUMNS),
        ("network (record_network)", NETWORK_COLUMNS, RECORD_NETWORK_COLUMNS),
        ("service (DayCounters.service)", SERVICE_COLUMNS, SERVICE_TALLY_COLUMNS),
    )
    for what, declared, kernel in checks:
        if tuple(declared) != tuple(kernel):
            raise AssertionError(f"measures of {what}: declared {list(declared)}, the kernel writes {list(kernel)}")


_check_kernel_order()
