"""Stage 6, institutions: appeals, public shaming, company-manager coupling.

The rulebook's ``institutions.transparency`` is already in force (the plan
makes deterrence fall on every behaviour under secret rules). Appeals,
shaming and the coupling of company and manager scores are the subject of
the institutions issue; until then this stage changes nothing, and a
rulebook cannot switch those mechanisms on (the schema has no keys for them).
"""

from __future__ import annotations


def run(sim) -> None:
    return None
