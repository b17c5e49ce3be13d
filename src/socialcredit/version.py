"""The version of socialcredit, written into every run folder and checkpoint."""

__version__ = "0.1.0"
