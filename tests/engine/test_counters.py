"""engine/counters.py: the day's counts by combination, summed into breakdown cells."""

from __future__ import annotations

import numpy as np

from socialcredit.engine import counters


def test_expand_kernel_is_the_cells_matrix_product() -> None:
    """The compiled sum into cells equals numpy's tensordot of the 0/1 cells matrix, for 2- and 3-axis counts."""
    gen = np.random.default_rng(2)
    for R, G, T in ((3, 2, 6), (1, 1, 1), (5, 3, 4)):
        cells = counters.combo_cells(R, G, T)
        K = cells.shape[1]
        for shape in ((K, 7), (K, 12, 3), (K, 1, 3)):
            by_combo = gen.integers(0, 1000, shape).astype(np.int64)
            flat = by_combo.reshape(K, -1)
            out = np.zeros((cells.shape[0], flat.shape[1]), np.int64)
            counters.expand_kernel(cells, flat, out)
            np.testing.assert_array_equal(out.reshape((cells.shape[0],) + shape[1:]), np.tensordot(cells, by_combo, axes=(1, 0)))


def _codes(gen: np.random.Generator, n: int, R: int, G: int, T: int, region_dtype: type) -> tuple[np.ndarray, ...]:
    """Random region, group and tier codes for ``n`` persons."""
    return (gen.integers(0, R, n).astype(region_dtype), gen.integers(0, G, n).astype(np.uint8),
            gen.integers(0, T, n).astype(np.uint8))  # fmt: skip


def test_tally_service_equals_one_tally_per_measure() -> None:
    """One call counts attempts, outcomes and wrongful outcomes as six single tallies would."""
    gen = np.random.default_rng(3)
    n, R, G, T, S = 500, 3, 2, 6, 4
    region, group, tier = _codes(gen, n, R, G, T, np.uint8)
    K = R * G * T
    attempts = np.sort(gen.choice(n, 120, replace=False))
    outcome = attempts[gen.random(120) < 0.3]
    wrongful = outcome[gen.random(outcome.size) < 0.5]
    cols = np.array([0, 4, 5], np.int64)
    counts = np.zeros((K, 8), np.int64)
    scounts = np.zeros((K, S, 3), np.int64)
    counters.tally_service(attempts, outcome, wrongful, region, group, tier, R, G, counts, cols, scounts, 2)
    want = np.zeros((K, 8), np.int64)
    swant = np.zeros((K, S, 3), np.int64)
    for j, arr in enumerate((attempts, outcome, wrongful)):
        counters.tally_persons(arr, region, group, tier, R, G, want, cols[j])
        counters.tally_persons(arr, region, group, tier, R, G, swant[:, 2, :], j)
    np.testing.assert_array_equal(counts, want)
    np.testing.assert_array_equal(scounts, swant)
    assert counts[:, 0].sum() == 120 and scounts[:, 2, 1].sum() == outcome.size and not scounts[:, 0].any()


def test_parallel_tallies_equal_the_serial_ones() -> None:
    """Records counted over fixed parts at once give the serial counts exactly (sizes that do not divide into the
    parts, an empty part, repeated persons)."""
    gen = np.random.default_rng(4)
    n, R, G, T, B = 3000, 3, 2, 6, 12
    region, group, tier = _codes(gen, n, R, G, T, np.int16)
    K = R * G * T
    ncols = len(counters.EVENT_MEASURES)
    for m in (0, 5, 1001, 20_003):
        actor = np.sort(gen.integers(0, n, m)).astype(np.int32)
        beh = gen.integers(0, B, m).astype(np.uint8)
        target = np.where(gen.random(m) < 0.9, actor, -1).astype(np.int32)
        flags = gen.integers(0, 64, m).astype(np.uint8)
        base = gen.integers(0, 50, (K, ncols)).astype(np.int64), gen.integers(0, 50, (K, B, len(counters.BEH_MEASURES))).astype(np.int64)
        serial = base[0].copy(), base[1].copy()
        both = base[0].copy(), base[1].copy()
        counters.tally_records(target.clip(0), beh, flags, region, group, tier, R, G, *serial, 7, 8)
        counters.tally_records_parallel(target.clip(0), beh, flags, region, group, tier, R, G, *both, 7, 8)
        np.testing.assert_array_equal(both[0], serial[0])
        np.testing.assert_array_equal(both[1], serial[1])
        if m:
            assert (serial[0] != base[0]).any()  # something was counted
