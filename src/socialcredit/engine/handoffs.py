"""What one step of the day hands to later steps, in one typed record.

Every field names the step that writes it and the steps that read it (the
step names of :data:`socialcredit.engine.day.DAY`). Fields under "today" are
reset by :meth:`Handoffs.new_day` at the start of each day, so a step never
reads a value left from yesterday by accident; the fields under "carried"
are meant to reach the next day. Working buffers (scratch arrays a step
reuses to avoid allocations) are not hand-offs: they live in
:class:`Buffers`.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np


def _no_records() -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    return np.zeros(0, np.int32), np.zeros(0, np.uint8), np.zeros(0, np.uint8)


def _none_int64() -> np.ndarray:
    return np.zeros(0, np.int64)


@dataclass
class Handoffs:
    """The day's hand-offs between steps."""

    # ---- today (reset at the start of each day)
    #: Records applied today as (person int32, behaviour uint8, flags uint8).
    #: Written by ``score``; read by ``perceived_risk`` (lost points raise it) and by ``classify`` for the audit trail.
    records: tuple[np.ndarray, np.ndarray, np.ndarray] = field(default_factory=_no_records)
    #: Persons whose score changed today, or None when anyone's may have (a full pass).
    #: Written by ``score`` (``rating`` sets None); read by ``classify``.
    touched: np.ndarray | None = None
    #: Persons blacklisted today (int64). Written by ``classify``; read by ``appeal``, ``shaming``, ``company``.
    black_entered: np.ndarray = field(default_factory=_none_int64)
    #: Persons denied a service (or refused a reward) today, one entry per sanction (int64).
    #: Written by ``services``; read by ``appeal`` and ``perceived_risk``.
    sanctioned: np.ndarray = field(default_factory=_none_int64)
    #: Records the channels made today (person int32, behaviour uint8), before delays.
    #: Written by ``detect`` when a channel follows its findings; read by ``surveillance``.
    detected: tuple[np.ndarray, np.ndarray] = field(default_factory=lambda: _no_records()[:2])

    # ---- carried to the next day
    #: Persons on a list or whose list status changed (int64), or None before the first partial pass.
    #: Written by ``classify``; read by ``classify`` the next day (they may leave, or re-enter).
    list_watch: np.ndarray | None = None
    #: Persons whose points changed after the score step (int32): appeals overturned their records.
    #: Written by ``appeal``; read (and emptied) by ``score`` (or ``rating``) the next day.
    rescore: np.ndarray = field(default_factory=lambda: np.zeros(0, np.int32))
    #: The lowest and highest score as they stand, or None when not known (then ``daily`` scans the scores).
    #: Written by ``daily`` (the range of the day's histogram), kept up to date by ``score`` on days it updates
    #: only some persons (and set to None on a full pass), set to None by ``rating`` and ``unenrolled``,
    #: which write scores too; read by ``score`` and ``daily``. Not saved in checkpoints (None on resume).
    score_range: tuple[float, float] | None = None

    def new_day(self) -> None:
        """Reset today's hand-offs; the carried ones stay."""
        self.records = _no_records()
        self.touched = None
        self.black_entered = _none_int64()
        self.sanctioned = _none_int64()
        self.detected = _no_records()[:2]


@dataclass
class Buffers:
    """Working arrays the steps reuse (no meaning between days; never read before being written)."""

    #: Picks per chunk of persons of a parallel pass (behave, detect, services): see :mod:`socialcredit.engine.picks`.
    chunk_counts: np.ndarray
    #: Picks as offsets within their chunk (uint16), filled by a parallel pass.
    picked: np.ndarray
    #: One byte per person (classify's changes, unfriending's droppable persons).
    scratch_u8: np.ndarray
    #: Two bytes per person, made on first use (classify, unfriending).
    scratch_u16: np.ndarray | None = None
    #: One byte per person, all zero between uses (classify's candidates), made on first use.
    candidate_mark: np.ndarray | None = None
    #: Cumulative channel weights for spurious records (detect), made on first use.
    chan_cum: np.ndarray | None = None
