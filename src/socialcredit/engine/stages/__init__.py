"""The stages of a day: one module per mechanism, run in the order of :data:`socialcredit.engine.day.DAY`."""
