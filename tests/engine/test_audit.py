"""engine/audit.py: the audit trail's frame decodes its codes to names exactly as a categorical would."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

import socialcredit as sc
from socialcredit.engine.audit import EVENT_ORDER, EVENTS
from socialcredit.engine.sim import Sim


def _by_categorical(codes: np.ndarray, vocab: list[str]) -> pd.Series:
    """The reference decoding: codes through a categorical into Python strings (NaN where a code is -1)."""
    cat = pd.Categorical.from_codes(codes, categories=vocab) if vocab else pd.Categorical([None] * len(codes))
    return pd.DataFrame({"x": cat.astype(object)})["x"]


@pytest.mark.parametrize("name", ["full-system", "corporate-credit"])  # services and details; and no services at all
def test_frame_names_equal_the_categorical_decoding(name: str) -> None:
    sim = Sim(sc.load(name, persons=3000, days=60)).run()
    audit = sim.audit
    plan = sim.plan
    frame = audit.frame()
    cols = audit.columns()
    rank = np.array([EVENT_ORDER.get(e, 3) for e in EVENTS], np.int64)
    order = np.lexsort((rank[cols["event"]], cols["day"], cols["person"]))
    vocab = {
        "event": EVENTS, "behaviour": plan.behaviours.names, "channel": plan.detection.channel_names,
        "service": [s.name for s in plan.services], "tier": plan.tiers.names, "detail": audit.details,
    }  # fmt: skip
    assert len(frame) > 100
    for col, names in vocab.items():
        expect = _by_categorical(cols[col][order], list(names)).rename(col)
        got = frame[col]
        if col == "event":  # never missing: strings
            expect = expect.astype(str)
        pd.testing.assert_series_equal(got.reset_index(drop=True), expect, check_exact=True)
        if got.dtype == object:  # a column with no value at all: NaN objects, as the categorical gives
            assert all(isinstance(v, float) and np.isnan(v) for v in got)
    if name == "corporate-credit":
        assert frame["service"].dtype == object  # no services: nothing to decode


def test_string_column_is_the_column_pandas_makes_of_the_strings() -> None:
    """Codes decoded by pyarrow (with the process's allocator) give the column pandas builds from the words."""
    from socialcredit.engine.audit import string_column

    vocab = ["record", "denial", "tier"]
    codes = np.array([2, -1, 0, 0, 1, -1, 2], np.int32)
    got = pd.Series(string_column(codes, vocab))
    words = np.array([vocab[c] if c >= 0 else None for c in codes], dtype=object)
    pd.testing.assert_series_equal(got, pd.Series(pd.array(words, dtype=pd.Series(["x"]).dtype)), check_exact=True)
    assert got.isna().tolist() == [False, True, False, False, False, True, False]
    assert pd.Series(string_column(np.full(3, -1), vocab)).isna().all()  # nothing to decode: all missing
