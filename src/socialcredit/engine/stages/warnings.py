"""Warnings on the spot (``institutions.warnings``): loudspeakers and screens that warn instead of recording.

A person who does a harmful behaviour today is warned with probability
``coverage``, one counter draw per person and day on stream ``warnings``:

    warned_i(t) = [event_i(t) is harmful] * [u_i(t) < coverage],   u_i(t) = rng.uniform(key(seed, "warnings", t), i)

A warning adds ``weight`` to the person's perceived risk and nothing else: no
record is written, no points move, nobody is listed. It runs after the
perceived-risk step, so a warning counts in full on its day and decays from
the next. Under deterrence (``responses.deterrence.elasticity`` > 0) the raised
risk lowers the person's penalised rates from the next day on; without it,
warnings change nothing but the perceived risk.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np
from numba import prange

from socialcredit import rng
from socialcredit.engine.layout import CHUNK, NO_EVENT
from socialcredit.parallel import day_kernel

if TYPE_CHECKING:
    from socialcredit.engine.sim import Sim


@day_kernel(cache=True)
def warn_kernel(key: np.uint64, event: np.ndarray, harmful: np.ndarray, coverage: float, weight: float, risk: np.ndarray) -> None:
    """Add ``weight`` to the perceived risk of each person warned today."""
    n = event.shape[0]
    w = np.float32(weight)
    nchunks = (n + CHUNK - 1) // CHUNK
    for c in prange(nchunks):
        for i in range(c * CHUNK, min(n, (c + 1) * CHUNK)):
            b = event[i]
            if b != NO_EVENT and harmful[b] and rng.uniform(key, i) < coverage:
                risk[i] += w


def run(sim: Sim) -> None:
    w = sim.rulebook.institutions.warnings  # two scalars: read from the rulebook, no plan entry needed
    if w.coverage <= 0.0 or w.weight <= 0.0:
        return
    st = sim.state
    warn_kernel(rng.key(sim.plan.seed, "warnings", st.day), st.event, sim.plan.behaviours.harmful, w.coverage, w.weight, st.risk)
