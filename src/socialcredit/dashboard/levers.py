"""The dashboard's levers: the values people argue about, generated from a rulebook.

A lever is one ``--set`` key of the rulebook with its current value, a range
a slider can cover, and the basis of the value (the source it comes from or
the reason it was assumed, as ``socialcredit scenarios show`` gives it).
:func:`levers` finds them in any rulebook: camera and data coverage by
region, false attribution, misidentification by group, secret or public
rules, appeals, tier thresholds and list durations, unfriending, shaming
and breakups, the points of each behaviour, and the run's size (capped so
that a run stays interactive).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from socialcredit.rulebook import Loaded
from socialcredit.scenarios.catalogue import values_of

MAX_PERSONS = 200_000  # a run must stay interactive: about 6 s for a year on two cores
DEFAULT_PERSONS = 50_000
MAX_DAYS = 1825
RUN_KEYS = ("population.persons", "simulation.days")  # the run's size: the same in the baseline and the changed run


@dataclass(frozen=True)
class Lever:
    """One value of the rulebook a user can move."""

    key: str  # the --set key: detection.channels.camera.coverage.old_town
    label: str  # in words, for the page
    section: str  # the heading it is shown under
    value: Any  # the rulebook's value (persons and days: the dashboard's default)
    low: float = 0.0
    high: float = 1.0
    step: float = 0.01
    kind: str = "number"  # number, integer or choice
    choices: tuple[str, ...] = ()
    basis: str = ""  # "source: ..." / "assumed: ..." / "the model's default"
    rulebook_value: Any = field(default=None)  # persons and days as the rulebook has them

    def help(self) -> str:
        """The basis in words, for the page."""
        return self.basis or "not set in the rulebook: the model's default"


def _dotted(key: str) -> str:
    """A key path with list items dotted: 'services[flight].demand' -> 'services.flight.demand'."""
    return str(key).replace("][", ".").replace("[", ".").replace("]", "")


def _bases(data: dict[str, Any]) -> dict[str, str]:
    """Each value's basis by --set key ('services[flight].demand' -> 'services.flight.demand')."""
    _, found = values_of(data)
    out = {}
    for v in found:
        key = _dotted(v.key)
        if v.basis == "source":
            out[key] = f"source: {v.detail}"
        elif v.basis == "assumed":
            out[key] = f"assumed: {v.detail}"
    return out


def _declared_range(data: dict[str, Any], key: str) -> tuple[float, float] | None:
    """A range declared beside the value (``assumed: {reason, range}``), if any."""
    parts = key.split(".")
    node: Any = data
    for part in parts[:-1]:
        if isinstance(node, list):
            node = next((x for x in node if isinstance(x, dict) and str(x.get("name")) == part), None)
        elif isinstance(node, dict):
            node = node.get(part)
        if node is None:
            return None
    note = node.get("assumed") if isinstance(node, dict) else None
    if not isinstance(note, dict):
        return None
    rng = note.get("range")
    if isinstance(rng, dict):
        rng = rng.get(parts[-1])
    if isinstance(rng, (list, tuple)) and len(rng) == 2:
        return float(rng[0]), float(rng[1])
    return None


def levers(loaded: Loaded) -> list[Lever]:
    """Every lever of a loaded rulebook, in the order the page shows them."""
    rb = loaded.rulebook
    data = loaded.document.data
    bases = _bases(data)

    def basis(key: str, holder: str | None = None) -> str:
        # a value inherits its basis from the item that holds it (coverage.east -> coverage -> the channel)
        probe = key
        while probe:
            if probe in bases:
                return bases[probe]
            probe = probe.rpartition(".")[0]
        return bases.get(holder or "", "")

    out: list[Lever] = []
    start = rb.simulation.start
    timeline = [(c.day_number(start), _dotted(k)) for c in rb.timeline for k in c.set]

    def later(key: str) -> str:
        """A note when the rulebook's timeline sets this value again: the lever holds only until then."""
        days = sorted({d for d, k in timeline if key == k or key.startswith(k + ".") or k.startswith(key + ".")})
        return f" (the rulebook's timeline sets it again from day {', '.join(map(str, days))})" if days else ""

    def add(key: str, label: str, section: str, value: Any, low: float, high: float, step: float, kind: str = "number",
            choices: tuple[str, ...] = ()) -> None:  # fmt: skip
        declared = _declared_range(data, key) if kind != "choice" else None
        if declared is not None:
            low, high = min(low, declared[0]), max(high, declared[1])
        if kind != "choice":
            low, high = min(low, value), max(high, value)
        out.append(Lever(key, label, section, value, low, high, step, kind, choices, basis(key).rstrip() + later(key)))

    run = "Population and run"
    persons, days = rb.population.persons, rb.simulation.days
    out.append(Lever("population.persons", "persons (synthetic residents)", run, min(persons, DEFAULT_PERSONS), 1_000,
                     MAX_PERSONS, 1_000, "integer", (), basis("population.persons") or
                     f"the rulebook has {persons:,}; the dashboard runs at most {MAX_PERSONS:,}", persons))  # fmt: skip
    out.append(Lever("simulation.days", "days", run, min(days, MAX_DAYS), 30, MAX_DAYS, 5, "integer", (),
                     f"the rulebook runs {days:,} days", days))  # fmt: skip

    cams = "Cameras and data"
    for name, ch in rb.detection.channels.items():
        prefix = f"detection.channels.{name}"
        if isinstance(ch.coverage, dict):
            for region, cov in ch.coverage.items():
                add(f"{prefix}.coverage.{region}", f"{name}: coverage in {region}", cams, float(cov), 0, 1, 0.01)
        else:
            add(f"{prefix}.coverage", f"{name}: coverage", cams, float(ch.coverage), 0, 1, 0.01)
        add(f"{prefix}.false_attribution", f"{name}: share of records on the wrong person", cams, float(ch.false_attribution), 0, 0.2, 0.001)
    if len(rb.population.groups) > 1:
        for g in rb.population.groups:
            add(f"population.groups.{g.name}.misidentification", f"misidentification of {g.name} (x the reference)", cams,
                float(g.misidentification), 0.1, 100, 0.1)  # fmt: skip

    rules = "Rules and appeals"
    add("institutions.transparency", "rules are", rules, rb.institutions.transparency, 0, 0, 0, "choice", ("public", "secret"))
    ap = rb.institutions.appeals
    add("institutions.appeals.probability", "appeals: share of the sanctioned who appeal", rules, float(ap.probability), 0, 1, 0.01)
    add("institutions.appeals.success_false", "appeals: chance a false record is overturned", rules, float(ap.success_false), 0, 1, 0.01)
    add("institutions.appeals.delay", "appeals: days to a decision", rules, int(ap.delay), 0, 365, 1, "integer")

    lists = "Tiers and lists"
    lo, hi = (float(b) for b in rb.score.bounds) if rb.score.basis == "points" else (1.0, 5.0)
    for t in rb.tiers:
        if t.min is not None:
            add(f"tiers.{t.name}.min", f"tier {t.name} from score", lists, float(t.min), lo, hi, 1 if rb.score.basis == "points" else 0.01)
    for name in ("blacklist", "redlist", "company_blacklist"):
        rule = getattr(rb.lists, name)
        if rule is not None:
            add(f"lists.{name}.min_days", f"{name.replace('_', ' ')}: minimum days on it", lists, int(rule.min_days), 0, 1825, 5, "integer")

    social = "Friends, partners and shaming"
    add("responses.unfriending.probability", "unfriending: chance a friend in a low tier is dropped", social,
        float(rb.responses.unfriending.probability), 0, 1, 0.01)  # fmt: skip
    add("institutions.shaming.probability", "public shaming: chance a blacklisted person is shown", social,
        float(rb.institutions.shaming.probability), 0, 1, 0.01)  # fmt: skip
    if rb.population.partners > 0:
        add("responses.breakup.probability", "breakups: chance a partner leaves a blacklisted partner", social,
            float(rb.responses.breakup.probability), 0, 1, 0.01)  # fmt: skip

    power = "Power and time"  # only for rulebooks that have these mechanisms
    for name, ch in rb.detection.channels.items():
        ff = ch.follows_findings
        if ff is not None:
            prefix = f"detection.channels.{name}.follows_findings"
            add(f"{prefix}.uniform", f"{name}: share of coverage kept even (damping)", power, float(ff.uniform), 0, 1, 0.01)
            add(f"{prefix}.sharpness", f"{name}: pull toward where records were found", power, float(ff.sharpness), 0, 5, 0.1)
            add(f"{prefix}.per_coverage", f"{name}: count records per unit of coverage", power, "true" if ff.per_coverage else "false",
                0, 0, 0, "choice", ("false", "true"))  # fmt: skip
    en = rb.enrolment
    if en is not None:
        if isinstance(en.share, dict):
            for region, share in en.share.items():
                add(f"enrolment.share.{region}", f"enrolled share in {region}", power, float(share), 0, 1, 0.01)
        else:
            add("enrolment.share", "enrolled share", power, float(en.share), 0, 1, 0.01)
        if en.mandatory is not None:
            add("enrolment.mandatory", "everyone enrolled from day", power, int(en.mandatory), 0, MAX_DAYS, 1, "integer")
    for i, f in enumerate(rb.faults):
        if f.share is not None:
            add(f"faults.{i}.share", f"fault on day {f.day_number(rb.simulation.start)}: share hit", power, float(f.share), 0, 1, 0.005)
        add(f"faults.{i}.records", f"fault on day {f.day_number(rb.simulation.start)}: false records each", power,
            int(f.records), 1, 100, 1, "integer")  # fmt: skip
    for i, t in enumerate(rb.targeting):
        add(f"targeting.{i}.rate", f"records aimed at {t.where}: per person per year", power, float(t.rate), 0, 52, 0.5)

    work = "Households, work and credit"  # only for rulebooks that have these mechanisms
    ch = rb.population.children
    if ch is not None:
        add("population.children.share", "households with children (share)", work, float(ch.share), 0.01, 1, 0.01)  # a school service needs some
    pn = rb.responses.partnering
    if pn.rate > 0:
        add("responses.partnering.assortativity", "partners matched on score (0: at random, 1: by score alone)", work,
            float(pn.assortativity), 0, 1, 0.05)  # fmt: skip
    ln = rb.lending
    if ln is not None:
        add("lending.threshold", "loans granted from score", work, float(ln.threshold), lo, hi, 1)
        add("lending.demand", "loan applications per person per year", work, float(ln.demand), 0, 12, 0.1)
    cs = rb.institutions.company_sanctions
    if cs is not None:
        add("institutions.company_sanctions.layoffs", "listed firms: staff laid off per share of revenue lost", work,
            float(cs.layoffs), 0, 5, 0.05)  # fmt: skip
        add("institutions.company_sanctions.income_loss", "laid-off worker: share of income lost", work, float(cs.income_loss), 0, 0.95, 0.05)
    em = rb.institutions.emotion_monitoring
    if em is not None:
        add("institutions.emotion_monitoring.companies", "firms watching their staff's emotions (share)", work, float(em.companies), 0, 1, 0.01)
        add("institutions.emotion_monitoring.false_positive", "emotion sensors: false-positive rate", work,
            float(em.false_positive), 0, 0.5, 0.005)  # fmt: skip
        add("institutions.emotion_monitoring.dismissal", "emotion flag: chance it costs the job", work, float(em.dismissal), 0, 1, 0.01)
    if rb.commercial is not None:
        c_lo, c_hi = (float(b) for b in rb.commercial.bounds)
        add("commercial.listed", "commercial score: points lost while on the government list", work,
            float(rb.commercial.listed), -(c_hi - c_lo), c_hi - c_lo, 1)  # fmt: skip

    points = "Points of behaviours"
    for b in rb.behaviours:
        if isinstance(b.points, (int, float)):
            span = max(100.0, 3 * abs(float(b.points)))
            add(f"behaviours.{b.name}.points", f"{b.name} ({b.kind}, {b.channel})", points, float(b.points), -span, span, 1)
    return out


def changes(all_levers: list[Lever], values: dict[str, Any]) -> dict[str, Any]:
    """The rule levers moved away from the rulebook's value (the run's size is not a change of the rules)."""
    out = {}
    for lever in all_levers:
        if lever.key in RUN_KEYS or lever.key not in values:
            continue
        v = values[lever.key]
        if v != lever.value:
            out[lever.key] = v
    return out


def as_overrides(values: dict[str, Any]) -> list[str]:
    """``--set`` items for a mapping of keys to values."""
    return [f"{k}={v!r}" if isinstance(v, float) else f"{k}={v}" for k, v in values.items()]

