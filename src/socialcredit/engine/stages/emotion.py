"""Emotion monitoring at work (part of stage 2, detect): sensors flag "emotional outliers" among employees.

Company j monitors its employees when its draw ``u_j < companies`` (stream
``companies``, step 7: a company attribute fixed for the run). Each day each employee of a
monitored company who still has the job is checked with probability
``checks / 365`` (stream ``emotion``, step the day, sub 0); at a check the
person is an outlier with probability ``prevalence + stress * s_i / 1000``
(s_i the stress index; sub 1) and is flagged with probability
``sensitivity`` when an outlier, ``false_positive`` otherwise (sub 2). A flag
makes a record of ``record`` (flag EMOTION, and FALSE when the flag was
false: nobody was an outlier, so the counterfactual never sees it), reaching
the score the same day, and with probability ``dismissal`` (sub 3) costs the
job: the person loses the share ``income_loss`` of their income and is no
longer watched (``CompanyBook.laid_off``, shared with company sanctions).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np

from socialcredit import rng
from socialcredit.engine.layout import EMOTION, FALSE

if TYPE_CHECKING:
    from socialcredit.engine.sim import Sim


def run(sim: Sim) -> None:
    ep = sim.plan.emotion
    comp = sim.pop.companies
    if ep is None or comp is None or ep.check_day <= 0.0:
        return
    st = sim.state
    seed = sim.plan.seed
    employer = sim.pop.persons.employer
    book = sim.company_book
    staff = book.watched[~book.laid_off[book.watched]]  # the staff of monitored companies who still have the job
    checked = staff[rng.uniforms_at(rng.key(seed, "emotion", st.day, 0), staff) < ep.check_day]
    if checked.size == 0:
        return
    prevalence = np.full(checked.size, ep.prevalence)
    if ep.stress > 0.0 and st.stress.size:
        prevalence += ep.stress * st.stress[checked] / 1000.0
    outlier = rng.uniforms_at(rng.key(seed, "emotion", st.day, 1), checked) < prevalence
    u = rng.uniforms_at(rng.key(seed, "emotion", st.day, 2), checked)
    flagged = np.where(outlier, u < ep.sensitivity, u < ep.false_positive)
    who = checked[flagged]
    false = ~outlier[flagged]
    c = sim.counters
    c.persons("emotion_checks", checked)
    c.persons("emotion_flags", who)
    c.persons("emotion_flags_false", who[false])
    sim.audit.persons(st.day, "emotion_flagged", who, detail_text="flagged as an emotional outlier at work",
                      is_false=false, other=employer[who])  # fmt: skip
    if ep.record >= 0 and who.size:
        flags = np.where(false, FALSE | EMOTION, EMOTION).astype(np.uint8)
        sim.schedule(who.astype(np.int32), np.full(who.size, ep.record, np.uint8), flags, 0)
    if ep.dismissal > 0.0 and who.size:
        out = rng.uniforms_at(rng.key(seed, "emotion", st.day, 3), who) < ep.dismissal
        gone, gone_false = who[out], who[out & false]
        book.laid_off[gone] = True
        c.persons("dismissals_after_flags", gone)
        c.persons("dismissals_after_false_flags", gone_false)
        c.persons("income_lost_to_false_flags", gone_false, weight=np.rint(st.income[gone_false] * np.float32(ep.income_loss)))
        sim.scale_income(gone, 1.0 - ep.income_loss)
        sim.audit.persons(st.day, "dismissed", gone, detail_text="dismissed after an emotion flag", is_false=false[out],
                          other=employer[gone])  # fmt: skip
