"""The analyses that read a run's final state (employment, couples, the two scorers) take the frame or results that
carry it, and say clearly what is missing."""

from __future__ import annotations

import copy

import pytest

from socialcredit import analysis
from socialcredit.errors import InputError
from socialcredit.results.final_state import final_state_frame
from tests.conftest import base_rulebook, run


@pytest.fixture(scope="module")
def plain():
    sim, res = run(base_rulebook(persons=500, days=5))
    return sim, res


@pytest.mark.parametrize("fn, needs", [(analysis.employees_of_sanctioned, "companies"),
                                       (analysis.couple_correlation, None),
                                       (analysis.commercial_by_listing, "commercial")])  # fmt: skip
def test_missing_final_state_or_column_is_a_clear_error(plain, fn, needs) -> None:
    sim, res = plain
    with pytest.raises(InputError, match="no final state"):
        fn(res)  # results of Sim.run carry no final state
    fs = final_state_frame(sim)
    if needs is None:
        out = fn(fs)
        assert list(out.index) == ["from the start", "formed during the run"]
        carrying = copy.copy(res)
        carrying.final_state = fs
        assert fn(carrying).equals(out)  # results that carry one give the same
    else:
        with pytest.raises(InputError, match=needs):
            fn(fs)
