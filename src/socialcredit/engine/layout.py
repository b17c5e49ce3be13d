"""Layout constants every stage shares: how persons are chunked, how sums are grouped, what record flags mean.

Kept in one small module so that no stage imports another for a constant.
Numba's on-disk cache does not notice a change to a constant imported by a
cached kernel: after changing one here in a working tree, delete the cache
(``find src -name '*.nbi' -delete``).
"""

from __future__ import annotations

import numpy as np

#: One, unsigned. Hot loops index with unsigned integers (``np.uint64(i)``): Numba wraps a negative signed index
#: around (a compare and a select on every access, and vectorised loads become gathers), which cost 20-30 % of
#: the friends' mean and the daily aggregates. Mixing signed and unsigned makes a float in Numba: add ``U1``, not 1.
U1 = np.uint64(1)

#: Persons per parallel work item. Results do not depend on it (every draw is keyed by person).
CHUNK = 4096

#: Fixed partition of persons for float reductions: sums do not depend on the thread count.
NGROUPS = 32

#: No behaviour event today (``State.event``).
NO_EVENT = np.uint8(255)

# Flags of a detection record (bit field, one byte per record).
FALSE = np.uint8(1)  #: the record is false: the person did not do it (misidentified or spurious)
SPURIOUS = np.uint8(2)  #: a record of an event that never happened (a channel's spurious rate)
SERVICE = np.uint8(4)  #: written by a service's consequence or a company coupling, not by a channel
FAULT = np.uint8(8)  #: written by a fault (errors in bulk); always FALSE too
TARGETED = np.uint8(16)  #: written on purpose against a person aimed at (records aimed at people); always FALSE too
EMOTION = np.uint8(32)  #: written after a flag of emotion monitoring at work; FALSE too when the flag was false
