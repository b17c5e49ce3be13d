"""Partners chosen by score: how alike the scores of couples are.

From a run's final state (``socialcredit run --final-state``): couples are
split into those together from the start (``partner_since`` = -1) and those
formed during the run (``responses.partnering``), and for each the number of
couples and the Pearson correlation of the two partners' scores at the end of
the run (each couple counted once). Matching on score shows as a higher
correlation among the new couples; the partner term of the score
(``score.social.partner``) pulls both kinds together over time.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from socialcredit.analysis.behaviour import final_state_of


def couple_correlation(final_state, formed_from: int = 0) -> pd.DataFrame:
    """Rows ``from the start`` and ``formed during the run`` (on or after day ``formed_from``) of a final state (or
    results that carry one): couples,
    score_correlation (NaN below 3 couples). Scores drift apart after a couple forms, and persons paired when
    every score was the same were paired at random: ``formed_from`` near the end reads the matching itself."""
    fs = final_state_of(final_state, "partner_since", "a final state written by this version").set_index("person")  # partners are person numbers, whatever the rows' order
    partner = fs["partner"].to_numpy()
    me = fs.index.to_numpy()
    since = fs["partner_since"].to_numpy()
    first = (partner >= 0) & (me < partner) & np.isin(partner, me)  # each couple once (both in the frame)
    rows = []
    for name, sel in (("from the start", first & (since < 0)), ("formed during the run", first & (since >= max(0, formed_from)))):
        a = fs["score"].to_numpy(np.float64)[sel]
        b = fs["score"].reindex(partner[sel]).to_numpy(np.float64)
        r = float(np.corrcoef(a, b)[0, 1]) if a.size >= 3 and a.std() > 0 and b.std() > 0 else np.nan
        rows.append({"couples": int(sel.sum()), "score_correlation": r, "kind": name})
    return pd.DataFrame(rows).set_index("kind")
