"""Stage 6, institutions: appeals, public shaming, companies and their coupling to managers.

The rulebook's ``institutions.transparency`` acts through the plan (under
secret rules deterrence falls on every behaviour and nobody games). The
mechanisms run in this order, each in its own module:

1. :mod:`appeal`: today's sanctions are appealed; due decisions reverse records;
2. :mod:`shaming`: friends of persons blacklisted today drop them;
3. :mod:`company`: company behaviours, records, scores and blacklist, and the
   coupling between a company's listing and its legal representative's.
"""

from __future__ import annotations

from socialcredit.engine import appeal, company, shaming


def run(sim) -> None:
    appeal.run(sim)
    shaming.run(sim)
    company.run(sim)
