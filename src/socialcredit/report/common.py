"""What every figure of the reports shares: the style, the colours, the small helpers, and :class:`FigureSpec`.

:mod:`socialcredit.report.figures` (the run's figures and the list of them) and
:mod:`socialcredit.report.households` (the figures of households, work and
credit) both draw with these.
"""

from __future__ import annotations

import functools
import io
import textwrap
from collections.abc import Callable
from dataclasses import dataclass

import matplotlib
import matplotlib.ticker
import numpy as np
import pandas as pd
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure

from socialcredit.errors import SocialCreditError
from socialcredit.rulebook.document import parse_document
from socialcredit.rulebook.schema import Rulebook
from socialcredit.rulebook.validation import validate

STYLE = {
    "font.size": 10.5,
    "axes.titlesize": 11.5,
    "axes.titleweight": "bold",
    "axes.labelsize": 10.5,
    "axes.spines.top": False,
    "axes.spines.right": False,
    "axes.grid": True,
    "grid.alpha": 0.3,
    "legend.fontsize": 9,
    "legend.frameon": False,
    "figure.titlesize": 13,
    "figure.titleweight": "bold",
}
WIDTH = 11.0  # inches; at 100 dpi a 1100-pixel image, readable on a laptop screen
DPI = 100

# one colour per meaning, the same in every figure
RUN = "#1f4e79"
BASELINE = "#8c8c8c"
WRONG = "#c0392b"  # anything caused by false records
JUST = "#5d6d7e"  # the same thing, caused by true records
LISTED = "#222222"
RED = "#2e8b57"  # the redlist (a reward list)
COUNT = matplotlib.ticker.StrMethodFormatter("{x:,.0f}")  # 1,956,381 rather than 1.96 with an offset of 1e6
KIND_COLOURS = {"harmful": "#c0392b", "benign": "#2874a6", "prosocial": "#239b56"}


def _figure(nrows: int = 1, ncols: int = 1, height: float = 4.8, **kwargs) -> tuple[Figure, np.ndarray]:
    fig = Figure(figsize=(WIDTH, height), dpi=DPI, layout="constrained")
    FigureCanvasAgg(fig)
    axes = fig.subplots(nrows, ncols, squeeze=False, **kwargs)
    return fig, axes


def _daily(res) -> pd.DataFrame:
    """The whole-population daily rows, in day order."""
    return res.to_df("daily").sort_values("day").reset_index(drop=True)


def _persons(res) -> int:
    return max(1, int(res.meta.get("persons", 1)))


def _pct(x: float) -> str:
    return f"{x:.1%}" if x >= 0.001 or x == 0 else f"{x:.2%}"


def _run_label(res) -> str:
    m = res.meta
    return f"{m.get('persons', 0):,} synthetic residents, {m.get('days', 0):,} days, seed {m.get('seed')}"


def _caption(fig: Figure, res, extra: str = "") -> None:
    """The run's name and size (and a note) in small type under the figure."""
    text = f"{res.meta.get('title') or res.meta.get('scenario', 'run')}: {_run_label(res)}" + (f". {extra}" if extra else "")
    fig.supxlabel(textwrap.fill(text, 170), x=0.0, ha="left", fontsize=8.5, color="#555555")


def _finding(fig: Figure, text: str) -> None:
    """The figure's headline: what it shows, with the numbers, wrapped to fit."""
    fig.suptitle(textwrap.fill(text, 95))


def _empty_panel(ax, text: str) -> None:
    ax.set_axis_off()
    ax.text(0.5, 0.5, text, ha="center", va="center", fontsize=10.5, color="#555555", wrap=True, transform=ax.transAxes)


# --------------------------------------------------------------------------- the run's rulebook and its breakdown cells


@functools.lru_cache(maxsize=8)
def _parsed_rulebook(text: str) -> Rulebook | None:
    try:
        return validate(Rulebook, parse_document(text, "rulebook.yaml of the run"))
    except (SocialCreditError, ValueError):  # a rulebook this version no longer reads: the data decide
        return None


def _rulebook(res) -> Rulebook | None:
    """The run's validated rulebook, or None when the results carry none (or one this version cannot read)."""
    return _parsed_rulebook(res.rulebook_yaml) if res.rulebook_yaml else None


def _cells(res, breakdown: str) -> pd.DataFrame:
    """The daily rows of one breakdown (region, group), level as text, in day order."""
    d = res.daily[res.daily["breakdown"] == breakdown].copy()
    d["level"] = d["level"].astype(str)
    return d.sort_values("day", kind="stable")


def _levels(res, breakdown: str) -> list[str]:
    """The regions or groups in the rulebook's order (from the metadata, else as found in the table)."""
    names = [str(x) for x in res.meta.get(f"{breakdown}s", [])]
    return names or list(dict.fromkeys(_cells(res, breakdown)["level"]))


def _colours(names: list[str]) -> dict[str, tuple]:
    return dict(zip(names, matplotlib.colormaps["tab10"](np.arange(len(names)) % 10)))


def _total(d: pd.DataFrame, column: str) -> int:
    return int(d[column].sum()) if column in d.columns else 0


@dataclass(frozen=True)
class FigureSpec:
    """One figure of the report: its file name, heading, how to read it, and why it may be missing.

    ``shown_when``: for a figure of a mechanism the rulebook may not have (enrolment, faults, ...), whether
    the run has it; without it, the report has no section for the figure at all. ``facts``: a small table
    shown under the figure, as (header, rows) of text, or (header, rows, note) with a sentence shown under the
    table, or None.
    """

    name: str
    heading: str
    about: str
    draw: Callable
    skipped: str
    shown_when: Callable | None = None
    facts: Callable | None = None


def png_bytes(fig: Figure) -> bytes:
    """The figure as PNG bytes (Agg, no software metadata)."""
    buf = io.BytesIO()
    fig.savefig(buf, format="png", dpi=DPI, metadata={"Software": None}, facecolor="white")
    return buf.getvalue()

