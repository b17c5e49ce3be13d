"""The simulation: the society's state as arrays, stepped day by day through the steps listed in :mod:`socialcredit.engine.day`.

Start at :mod:`socialcredit.engine.sim` (``Sim``) and docs/architecture.md.
"""
