"""Statistics across seeds: means with t intervals, and paired differences under common random numbers.

Each seed is one independent replicate of the whole society, so intervals are
across seeds, never across days or persons. With ``n`` seeds, the interval of
a mean is ``mean +- t(1 - alpha/2, n - 1) * sd / sqrt(n)``: exact for normal
replicate means, and close for the sums over thousands of persons that the
measures are.

Two arms run with the same seed share their random draws wherever their logic
agrees (common random numbers), so the difference of seed ``s`` of arm B and
seed ``s`` of arm A is mostly the policy's. The paired standard error uses
those differences; the unpaired one treats the arms as independent samples
(Welch). Their squared ratio is how many times more seeds an unpaired design
would need for the same precision: what the pairing bought.
"""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
from scipy import stats

LEVEL = 0.95


def t_quantile(n: int, level: float = LEVEL) -> float:
    """The two-sided t critical value for ``n`` replicates (NaN below 2)."""
    return float(stats.t.ppf(0.5 + level / 2, n - 1)) if n >= 2 else float("nan")


def interval(values: np.ndarray | pd.Series, level: float = LEVEL) -> dict[str, float]:
    """Mean of replicate values with its t interval; NaN values (a failed measure) are left out."""
    x = np.asarray(values, dtype=float)
    x = x[~np.isnan(x)]
    n = int(x.size)
    if n == 0:
        return {"n": 0, "mean": math.nan, "sd": math.nan, "se": math.nan, "lo": math.nan, "hi": math.nan}
    mean = float(x.mean())
    sd = float(x.std(ddof=1)) if n > 1 else math.nan
    se = sd / math.sqrt(n) if n > 1 else math.nan
    half = t_quantile(n, level) * se
    return {"n": n, "mean": mean, "sd": sd, "se": se, "lo": mean - half, "hi": mean + half}


def paired(a: pd.Series, b: pd.Series, level: float = LEVEL) -> dict[str, float]:
    """B - A over the seeds both have: mean difference, paired interval, paired and unpaired standard errors."""
    both = pd.concat({"a": a, "b": b}, axis=1).dropna()
    n = len(both)
    nan = math.nan
    out: dict[str, float] = {"n": n, "mean_a": nan, "mean_b": nan, "difference": nan, "lo": nan, "hi": nan,
                             "se_paired": nan, "se_unpaired": nan, "lo_unpaired": nan, "hi_unpaired": nan,
                             "pairing_gain": nan}  # fmt: skip
    if n == 0:
        return out
    xa, xb = both["a"].to_numpy(float), both["b"].to_numpy(float)
    d = xb - xa
    out.update(mean_a=float(xa.mean()), mean_b=float(xb.mean()), difference=float(d.mean()))
    if n < 2:
        return out
    se_p = float(d.std(ddof=1) / math.sqrt(n))
    va, vb = xa.var(ddof=1) / n, xb.var(ddof=1) / n
    se_u = float(math.sqrt(va + vb))
    t = t_quantile(n, level)
    out.update(se_paired=se_p, se_unpaired=se_u, lo=out["difference"] - t * se_p, hi=out["difference"] + t * se_p)
    if se_u > 0:  # Welch-Satterthwaite degrees of freedom for the unpaired interval
        df_w = (va + vb) ** 2 / ((va**2 + vb**2) / (n - 1)) if (va + vb) > 0 else n - 1
        tu = float(stats.t.ppf(0.5 + level / 2, df_w))
        out.update(lo_unpaired=out["difference"] - tu * se_u, hi_unpaired=out["difference"] + tu * se_u)
    if se_p > 0:
        out["pairing_gain"] = (se_u / se_p) ** 2
    elif se_u > 0:
        out["pairing_gain"] = math.inf
    return out


def bands(frame: pd.DataFrame, by: list[str], measures: list[str], level: float = LEVEL) -> pd.DataFrame:
    """Mean and interval of each measure across the runs in each ``by`` group (e.g. arm, day).

    Vectorised: one groupby for all groups, the t quantile per group size.
    """
    g = frame.groupby(by, sort=False, observed=True)[measures]
    n = g.count()
    mean = g.mean()
    sd = g.std(ddof=1)
    tq = np.vectorize(lambda k: t_quantile(int(k), level))(n.to_numpy()) if n.size else n.to_numpy(float)
    half = tq * sd.to_numpy() / np.sqrt(n.to_numpy().clip(min=1))
    lo = pd.DataFrame(mean.to_numpy() - half, index=mean.index, columns=measures)
    hi = pd.DataFrame(mean.to_numpy() + half, index=mean.index, columns=measures)
    parts = {"n": n, "mean": mean, "lo": lo, "hi": hi}
    long = pd.concat({k: v.stack(future_stack=True) for k, v in parts.items()}, axis=1)
    long.index = long.index.set_names([*by, "measure"])
    return long.reset_index()
