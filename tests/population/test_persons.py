"""Persons and companies: shares, incomes, partners, employers."""

from __future__ import annotations

import numpy as np

from socialcredit.population.companies import build_companies
from socialcredit.population.persons import block_sizes, build_persons, region_blocks


def test_block_sizes_add_up_and_follow_shares() -> None:
    sizes = block_sizes(1001, [0.5, 0.3, 0.2])
    assert sizes.sum() == 1001
    assert list(sizes) == [501, 300, 200] or list(sizes) == [500, 301, 200]


def test_persons_groups_incomes_and_heterogeneity() -> None:
    off = region_blocks(100_000, [0.7, 0.3])
    p = build_persons(3, off, [0.9, 0.1], [50000, 20000], [0.5, 0.5], 0.0, [0.0, 0.6])
    assert p.n == 100_000
    assert (p.region[: off[1]] == 0).all() and (p.region[off[1] :] == 1).all()
    share = (p.group == 1).mean()
    assert abs(share - 0.1) < 4 * np.sqrt(0.09 / 100_000)
    assert abs(np.median(p.income[: off[1]]) / 50000 - 1) < 0.02
    assert abs(np.median(p.income[off[1] :]) / 20000 - 1) < 0.03
    assert (p.het[:, 0] == 1).all()
    assert abs(p.het[:, 1].mean() - 1) < 0.01  # mean-one lognormal
    assert abs(np.log(p.het[:, 1]).std() - 0.6) < 0.01
    again = build_persons(3, off, [0.9, 0.1], [50000, 20000], [0.5, 0.5], 0.0, [0.0, 0.6])
    np.testing.assert_array_equal(p.income, again.income)


def test_partners_are_mutual_and_within_region() -> None:
    off = region_blocks(20_000, [0.5, 0.5])
    p = build_persons(1, off, [1.0], [1.0, 1.0], [0.0, 0.0], 0.6, [0.0])
    has = p.partner >= 0
    assert abs(has.mean() - 0.6) < 0.02
    idx = np.flatnonzero(has)
    assert (p.partner[p.partner[idx]] == idx).all()
    assert (p.region[p.partner[idx]] == p.region[idx]).all()
    assert (p.partner[idx] != idx).all()


def test_companies_employ_within_region_with_a_representative() -> None:
    off = region_blocks(30_000, [0.6, 0.4])
    comp, employer = build_companies(2, off, [0.6, 0.4], 300, 0.5, 1000.0)
    assert comp.n == 300
    assert abs((employer >= 0).mean() - 0.5) < 0.02
    emp = np.flatnonzero(employer >= 0)
    region = np.repeat([0, 1], np.diff(off))
    assert (comp.region[employer[emp]] == region[emp]).all()
    assert comp.size.sum() == emp.size
    has_staff = comp.size > 0
    assert (employer[comp.representative[has_staff]] == np.flatnonzero(has_staff)).all()
    assert (comp.representative[~has_staff] == -1).all()
    assert comp.size.max() > 5 * np.median(comp.size[has_staff])  # heavy-tailed sizes
