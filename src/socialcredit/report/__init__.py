"""The report of a run: the figures (:mod:`~socialcredit.report.figures`) and one self-contained HTML page (:func:`write_report`)."""

from socialcredit.report.html import write_report

__all__ = ["write_report"]
