"""Loans that move scores (part of stage 5, services): the lending case of Liu et al. (ICML 2018).

Each day person i applies for a loan with probability ``lending.demand / 365``
(stream ``lending``, sub 0). The loan is granted when the score is at least
the threshold of the person's group. The borrower repays with probability
``p(s) = 1 / (1 + exp(-(s - midpoint) / scale))`` at the score of that day
(stream ``lending``, sub 1), else defaults; ``term`` days later a record of
``repaid`` or ``defaulted`` reaches the score (flag SERVICE: written by a
decision of the system, true in the counterfactual too). A refusal that the
counterfactual score (no false records) would have passed is wrongful.
Outcomes are counted on the day the loan is granted; the records follow.
The closed form of what this does to a group's mean score is
:mod:`socialcredit.analysis.lending`.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np
from scipy.special import expit

from socialcredit import rng
from socialcredit.engine.layout import SERVICE
from socialcredit.engine.stages.services import attempts

if TYPE_CHECKING:
    from socialcredit.engine.sim import Sim


def repay_probability(score: np.ndarray, midpoint: float, scale: float) -> np.ndarray:
    """The probability a borrower with ``score`` repays: the logistic ``1 / (1 + exp(-(score - midpoint) / scale))``,
    without overflow far from the midpoint (also the closed form's, socialcredit.analysis.lending)."""
    return np.asarray(expit((np.asarray(score, dtype=np.float64) - midpoint) / scale))


def run(sim: Sim) -> None:
    lp = sim.plan.lending
    if lp is None or lp.demand_day <= 0.0:
        return
    st = sim.state
    seed = sim.plan.seed
    idx = attempts(sim, rng.key(seed, "lending", st.day, 0), lp.demand_day)
    if sim.enrolment is not None and not sim.enrolment.everyone:  # the unenrolled have no score to lend on
        idx = idx[sim.enrolment.mask[idx]]
    if idx.size == 0:
        return
    threshold = lp.thresholds[sim.pop.persons.group[idx]]
    score = st.score[idx]
    granted = score >= threshold
    wrongly = ~granted & (st.score_cf[idx] >= threshold)  # refused, but the counterfactual score passes
    refused_wrongly = idx[wrongly]
    borrowers = idx[granted]
    repays = rng.uniforms_at(rng.key(seed, "lending", st.day, 1), borrowers) < repay_probability(score[granted], lp.midpoint, lp.scale)
    c = sim.counters
    c.persons("loan_applications", idx)
    c.persons("loans_granted", borrowers)
    c.persons("loans_refused_wrongly", refused_wrongly)
    c.persons("loans_repaid", borrowers[repays])
    c.persons("loans_defaulted", borrowers[~repays])
    beh = np.where(repays, lp.repaid, lp.defaulted).astype(np.uint8)
    sim.schedule(borrowers.astype(np.int32), beh, np.full(borrowers.size, SERVICE, np.uint8), lp.term)
    sim.audit.persons(st.day, "loan_granted", borrowers, detail_text="loan granted", score=score[granted],
                      behaviour=beh)  # fmt: skip
    refused = idx[~granted]
    sim.audit.persons(st.day, "loan_refused", refused, detail_text="loan refused: score below the threshold",
                      score=score[~granted], wrongful=wrongly[~granted])  # fmt: skip
