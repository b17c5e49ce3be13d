"""Published figures a calibration fits, and the simulated measure each one is compared with.

A targets file is a CSV in the form of ``data/national_blacklist_targets.csv``:
``date,series,value,unit,source`` and three columns that declare the mapping:

``measure``
    the simulated measure: a column of the daily table of the whole population
    (``blacklisted``, ``blacklist_entries``, ``records_false``...), a
    service's ``SERVICE.attempts``, ``SERVICE.outcomes`` or
    ``SERVICE.wrongful``, or the ratio of two of them (``blacklist_exits /
    blacklist_entries``). A daily count (a flow) is compared as its running
    total from day 0 to the date, inclusive; a level as its value on the date.
    Empty: a published figure with no simulated counterpart (shown, not fitted).
``scale``
    what the simulated value is multiplied by: a number, or ``population``
    (``simulation.scale_to / persons``, so counts stand for the real
    population). Default: ``population`` for counts when the rulebook has
    ``scale_to``, else 1; always 1 for ratios.
``weight``
    the target's weight in the objective (default 1; 0 shows it without fitting it).

A target is dated (``date``, which needs ``simulation.start``, the date of day 0)
or placed on a ``day``. Every problem is reported at its file, line and column.
"""

from __future__ import annotations

import csv
import datetime
import io
import math
import re
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from socialcredit.engine import measures as ms
from socialcredit.errors import InputError, did_you_mean

REQUIRED = ("series", "value")
KNOWN = ("date", "day", "series", "value", "unit", "source", "measure", "scale", "weight")
SERVICE_FIELDS = ms.SERVICE_COLUMNS  # attempts, outcomes, wrongful
POPULATION = "population"
_NAME = r"[A-Za-z_][A-Za-z0-9_]*(?:\.[A-Za-z_][A-Za-z0-9_]*)?"
_MEASURE = re.compile(rf"\A\s*(?P<num>{_NAME})\s*(?:/\s*(?P<den>{_NAME})\s*)?\Z")


@dataclass(frozen=True)
class Target:
    """One published figure and how the simulation is compared with it."""

    file: str
    line: int
    series: str
    value: float
    measure: str  # "" when nothing simulated corresponds to it
    date: str = ""  # ISO date, or "" when placed by day
    day: int | None = None
    unit: str = ""
    source: str = ""
    scale: str = ""  # a number as text, "population", or "" (the default)
    weight: float = 1.0

    @property
    def label(self) -> str:
        return f"{self.series} {self.date or f'day {self.day}'}"

    @property
    def fitted(self) -> bool:
        return bool(self.measure) and self.weight > 0


def _error(path: str, line: int, column: str, columns: list[str], message: str, hint: str | None = None) -> InputError:
    where = f"column {columns.index(column) + 1} ({column})" if column in columns else f"column {column}"
    return InputError(message, file=f"{path}, line {line}, {where}", hint=hint)


def read_targets(path: str | Path) -> list[Target]:
    """Read a targets CSV; an :class:`InputError` at its line and column for anything malformed."""
    p = Path(path)
    name = str(path)
    try:
        text = p.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise InputError("no such targets file", file=name) from None
    except (OSError, UnicodeDecodeError) as exc:
        raise InputError(f"cannot read the targets file: {exc}", file=name) from None
    reader = csv.reader(io.StringIO(text))
    try:
        header = [h.strip() for h in next(reader)]
    except StopIteration:
        raise InputError("the targets file is empty; expected a header such as date,series,value,unit,source,measure", file=name) from None
    for col in header:
        if col not in KNOWN:
            guess = did_you_mean(col, KNOWN)
            raise InputError(f"line 1: unknown column {col!r}; allowed: {', '.join(KNOWN)}", file=name,
                             hint=f"did you mean {guess!r}?" if guess else None)  # fmt: skip
    for col in REQUIRED:
        if col not in header:
            raise InputError(f"line 1: the header has no {col!r} column (found: {', '.join(header)})", file=name)
    if "date" not in header and "day" not in header:
        raise InputError("line 1: a target needs a 'date' (with simulation.start) or a 'day' column", file=name)
    out: list[Target] = []
    try:
        rows = list(reader)
    except csv.Error as exc:
        raise InputError(f"malformed CSV: {exc}", file=name) from None
    for k, row in enumerate(rows):
        line = k + 2
        if not any(c.strip() for c in row):
            continue
        if len(row) != len(header):
            raise InputError(f"line {line}: {len(row)} fields, the header has {len(header)}", file=name,
                             hint="quote a field that holds a comma")  # fmt: skip
        cell = dict(zip(header, (c.strip() for c in row)))
        out.append(_target(name, line, header, cell))
    if not out:
        raise InputError("the targets file has a header but no rows", file=name)
    return out


def _target(name: str, line: int, header: list[str], cell: dict[str, str]) -> Target:
    def err(col: str, message: str, hint: str | None = None) -> InputError:
        return _error(name, line, col, header, message, hint)

    series = cell["series"]
    if not series:
        raise err("series", "empty; every row names its series")
    try:
        value = float(cell["value"])
    except ValueError:
        raise err("value", f"found {cell['value']!r}; allowed: a number") from None
    if not math.isfinite(value):
        raise err("value", f"found {cell['value']!r}; allowed: a finite number")
    date, day = cell.get("date", ""), None
    if date:
        try:
            date = datetime.date.fromisoformat(date).isoformat()
        except ValueError:
            raise err("date", f"found {cell['date']!r}; allowed: a date as YYYY-MM-DD") from None
    if cell.get("day"):
        try:
            day = int(cell["day"])
        except ValueError:
            raise err("day", f"found {cell['day']!r}; allowed: a whole number of days from day 0") from None
        if day < 0:
            raise err("day", f"found {day}; allowed: 0 or more")
    if not date and day is None:
        raise err("date" if "date" in header else "day", "empty; a target needs a date or a day")
    measure = cell.get("measure", "")
    if measure:
        m = _MEASURE.match(measure)
        if m is None:
            raise err("measure", f"found {measure!r}; allowed: a daily column, SERVICE.attempts|outcomes|wrongful, or A / B of two",
                      hint="e.g. blacklist_entries, flight.outcomes, blacklist_exits / blacklist_entries")  # fmt: skip
        measure = m["num"] if m["den"] is None else f"{m['num']} / {m['den']}"
    scale = cell.get("scale", "")
    if scale and scale != POPULATION:
        try:
            s = float(scale)
        except ValueError:
            raise err("scale", f"found {scale!r}; allowed: a number or 'population' (scale_to / persons)") from None
        if not (math.isfinite(s) and s > 0):
            raise err("scale", f"found {scale!r}; allowed: a number above 0")
    weight = 1.0
    if cell.get("weight"):
        try:
            weight = float(cell["weight"])
        except ValueError:
            raise err("weight", f"found {cell['weight']!r}; allowed: a number of 0 or more") from None
        if not (math.isfinite(weight) and weight >= 0):
            raise err("weight", f"found {cell['weight']!r}; allowed: a number of 0 or more")
    if measure and weight > 0 and value == 0:
        raise err("value", "0 cannot be fitted by relative error; give the row weight 0 or drop it")
    return Target(name, line, series, value, measure, date, day, cell.get("unit", ""), cell.get("source", ""), scale, weight)


# ------------------------------------------------------------------ against a rulebook

def place(targets: list[Target], start: datetime.date | None, days: int, tiers: list[str], services: list[str],
          scale_to: float | None, persons: int) -> tuple[list[Target], list[str]]:  # fmt: skip
    """Give every target its day and check its measure against the rulebook; returns the usable targets and notes
    on those left out (no measure, or after the last simulated day)."""
    columns = set(ms.daily_columns(tiers))
    kept: list[Target] = []
    unmapped: list[str] = []
    late: list[str] = []
    for t in targets:
        day = t.day
        if t.date:
            if start is None:
                raise InputError(f"line {t.line}: the target is dated ({t.date}) but the rulebook has no simulation.start",
                                 file=t.file, hint="add simulation.start (the date of day 0, e.g. 2013-10-01), "
                                 "or --set simulation.start=YYYY-MM-DD, or give the targets a 'day' column")  # fmt: skip
            day = (datetime.date.fromisoformat(t.date) - start).days
            if day < 0:
                raise InputError(f"line {t.line}: {t.date} is before day 0 ({start.isoformat()})", file=t.file)
        t = replace(t, day=day)
        if not t.measure:
            unmapped.append(t.label)
            kept.append(t)
            continue
        for name in t.measure.split(" / "):
            _check_name(t, name, columns, services)
        if day is not None and day >= days:
            late.append(t.label)
            continue
        if t.scale == POPULATION and scale_to is None:
            raise InputError(f"line {t.line}: scale 'population' needs simulation.scale_to in the rulebook", file=t.file)
        kept.append(t)
    notes = []
    if unmapped:
        notes.append(f"{len(unmapped)} target(s) without a measure, shown but not fitted: {', '.join(unmapped)}")
    if late:
        notes.append(f"{len(late)} target(s) after the last simulated day ({days - 1}), left out: {', '.join(late)}")
    return kept, notes


def _check_name(t: Target, name: str, columns: set[str], services: list[str]) -> None:
    if "." in name:
        svc, field = name.split(".", 1)
        if svc not in services:
            guess = did_you_mean(svc, services)
            raise InputError(f"line {t.line}: column measure: the rulebook has no service {svc!r}"
                             + (f"; its services: {', '.join(services)}" if services else "; it has no services"),
                             file=t.file, hint=f"did you mean {guess!r}?" if guess else None)  # fmt: skip
        if field not in SERVICE_FIELDS:
            raise InputError(f"line {t.line}: column measure: {name!r}; a service's measure is one of "
                             f"{', '.join(f'{svc}.{f}' for f in SERVICE_FIELDS)}", file=t.file)  # fmt: skip
        return
    if name not in columns:
        guess = did_you_mean(name, sorted(columns))
        raise InputError(f"line {t.line}: column measure: no daily measure named {name!r}", file=t.file,
                         hint=f"did you mean {guess!r}?" if guess else "see 'socialcredit measures' or docs/analysis.md")  # fmt: skip


def scale_of(t: Target, scale_to: float | None, persons: int) -> float:
    """The factor a target's simulated value is multiplied by."""
    if " / " in t.measure:
        return float(t.scale) if t.scale and t.scale != POPULATION else 1.0
    if t.scale == POPULATION or (not t.scale and scale_to is not None):
        return float(scale_to) / persons if scale_to is not None else 1.0
    return float(t.scale) if t.scale else 1.0


def series_of(name: str, daily: pd.DataFrame, services: pd.DataFrame) -> np.ndarray:
    """A measure's comparable series over days: running totals of flows, levels as they are."""
    if "." in name:
        svc, field = name.split(".", 1)
        rows = services[(services["breakdown"].astype(str) == "all") & (services["service"].astype(str) == svc)]
        values = rows.sort_values("day")[field].to_numpy(dtype=np.float64)
        return np.cumsum(values)
    rows = daily[daily["breakdown"].astype(str) == "all"].sort_values("day")
    values = rows[name].to_numpy(dtype=np.float64)
    return np.cumsum(values) if ms.is_flow(name) else values


def measure_curve(measure: str, series: dict[str, np.ndarray]) -> np.ndarray:
    """A measure's series from the series of its parts: the part itself, or a ratio (NaN where the denominator is 0)."""
    parts = measure.split(" / ")
    if len(parts) == 1:
        return series[measure]
    num, den = series[parts[0]], series[parts[1]]
    with np.errstate(divide="ignore", invalid="ignore"):
        return np.where(den > 0, num / den, np.nan)


def simulated(targets: list[Target], daily: pd.DataFrame, services: pd.DataFrame, scale_to: float | None,
              persons: int) -> np.ndarray:  # fmt: skip
    """The simulated value (scaled) at each target; NaN for targets without a measure."""
    cache: dict[str, np.ndarray] = {}

    def at(name: str, day: int) -> float:
        if name not in cache:
            cache[name] = series_of(name, daily, services)
        s = cache[name]
        return float(s[day]) if day < len(s) else float("nan")

    out = np.full(len(targets), np.nan)
    for i, t in enumerate(targets):
        if not t.measure or t.day is None:
            continue
        parts = t.measure.split(" / ")
        v = at(parts[0], t.day)
        if len(parts) == 2:
            d = at(parts[1], t.day)
            v = v / d if d > 0 else float("nan")
        out[i] = v * scale_of(t, scale_to, persons)
    return out


def relative_errors(targets: list[Target], values: np.ndarray) -> np.ndarray:
    """simulated / published - 1 at each target (NaN where there is no simulated value)."""
    published = np.array([t.value for t in targets], dtype=np.float64)
    with np.errstate(divide="ignore", invalid="ignore"):
        return values / published - 1.0


def objective(targets: list[Target], values: np.ndarray, use: np.ndarray) -> float:
    """The weighted mean absolute relative error over the targets in ``use`` (a missing value counts as 100%)."""
    err = np.abs(relative_errors(targets, values))
    err = np.where(np.isfinite(err), err, 1.0)
    w = np.array([t.weight for t in targets], dtype=np.float64) * use
    return float((w * err).sum() / w.sum())


def as_rows(targets: list[Target]) -> list[dict[str, Any]]:
    return [{"file": t.file, "line": t.line, "date": t.date, "day": t.day, "series": t.series, "value": t.value,
             "unit": t.unit, "measure": t.measure, "scale": t.scale, "weight": t.weight, "source": t.source}
            for t in targets]  # fmt: skip
