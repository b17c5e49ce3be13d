"""Tests of the anonymous edge-list loader (CSV and Parquet)."""

from __future__ import annotations

import gzip
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from socialcredit.errors import InputError
from socialcredit.population.edgelist import load_edgelist
from socialcredit.population.network import Network

EDGES = [(0, 1), (1, 2), (2, 3), (0, 3), (4, 1)]
EXPECTED = [[0, 1], [0, 3], [1, 2], [1, 4], [2, 3]]


def write(tmp_path: Path, name: str, text: str) -> Path:
    path = tmp_path / name
    path.write_text(text)
    return path


def error_of(path: Path, n: int | None = None) -> InputError:
    with pytest.raises(InputError) as info:
        load_edgelist(path, n)
    return info.value


# ------------------------------------------------------------------ good input


@pytest.mark.parametrize(
    "name, text",
    [
        ("header.csv", "source,target\n" + "".join(f"{a},{b}\n" for a, b in EDGES)),
        ("plain.csv", "".join(f"{a},{b}\n" for a, b in EDGES)),
        ("tabs.tsv", "u\tv\n" + "".join(f"{a}\t{b}\n" for a, b in EDGES)),
        ("spaces.txt", "".join(f"{a}   {b}\n" for a, b in EDGES)),  # runs of spaces: row-by-row path
        ("crlf_blank.csv", "\r\n".join(f"{a}, {b}" for a, b in EDGES[:2]) + "\r\n\r\n" + "\n".join(f"{a},{b}" for a, b in EDGES[2:])),
    ],
)
def test_good_csv_variants(tmp_path: Path, name: str, text: str) -> None:
    net = load_edgelist(write(tmp_path, name, text))
    assert net.n == 5  # max id + 1
    assert net.to_edges().tolist() == EXPECTED
    assert net.duplicates_removed == 0


def test_gzip_csv_and_explicit_population_size(tmp_path: Path) -> None:
    path = tmp_path / "edges.csv.gz"
    with gzip.open(path, "wt") as f:
        f.write("".join(f"{a},{b}\n" for a, b in EDGES))
    net = load_edgelist(path, n=8)
    assert net.n == 8 and net.degree()[5:].tolist() == [0, 0, 0]
    assert net.to_edges().tolist() == EXPECTED


def test_duplicates_in_either_direction_are_removed_and_counted(tmp_path: Path) -> None:
    text = "0,1\n1,0\n1,2\n0,1\n2,1\n"
    net = load_edgelist(write(tmp_path, "dup.csv", text))
    assert net.to_edges().tolist() == [[0, 1], [1, 2]]
    assert net.duplicates_removed == 3


def test_matches_from_edges_on_a_larger_file(tmp_path: Path) -> None:
    rng = np.random.default_rng(0)  # test data only; the library never uses np.random
    e = rng.integers(0, 3000, size=(20000, 2))
    e = e[e[:, 0] != e[:, 1]]
    path = tmp_path / "big.csv"
    np.savetxt(path, e, fmt="%d", delimiter=",", header="u,v", comments="")
    net = load_edgelist(path, n=3000)
    ref = Network.from_edges(3000, e)
    assert np.array_equal(net.indptr, ref.indptr) and np.array_equal(net.indices, ref.indices)
    assert net.duplicates_removed == ref.duplicates_removed > 0


@pytest.mark.parametrize(
    "columns",
    [
        {"source": [0, 1, 2, 0, 4], "target": [1, 2, 3, 3, 1]},
        {"weight": [0.5] * 5, "V": [1, 2, 3, 3, 1], "U": [0, 1, 2, 0, 4]},  # by name, any case/order
        {"label": ["a"] * 5, "from": [0, 1, 2, 0, 4], "to": [1, 2, 3, 3, 1]},  # first two integer columns
    ],
)
def test_good_parquet(tmp_path: Path, columns: dict[str, list[object]]) -> None:
    path = tmp_path / "edges.parquet"
    pq.write_table(pa.table(columns), path)
    net = load_edgelist(path)
    assert net.to_edges().tolist() == EXPECTED


def test_parquet_int32_columns_and_duplicates(tmp_path: Path) -> None:
    path = tmp_path / "edges.parquet"
    table = pa.table({"u": pa.array([0, 1, 1], pa.int32()), "v": pa.array([1, 0, 2], pa.int32())})
    pq.write_table(table, path)
    net = load_edgelist(path)
    assert net.to_edges().tolist() == [[0, 1], [1, 2]] and net.duplicates_removed == 1


# ------------------------------------------------------------------- bad input


def test_missing_file(tmp_path: Path) -> None:
    err = error_of(tmp_path / "nope.csv")
    assert "not found" in str(err) and "nope.csv" in str(err)


@pytest.mark.parametrize("text, message", [("", "empty"), ("\n  \n", "empty"), ("source,target\n", "no edges")])
def test_empty_files(tmp_path: Path, text: str, message: str) -> None:
    err = error_of(write(tmp_path, "e.csv", text))
    assert message in err.message and err.file and err.file.endswith("e.csv")


def test_binary_file(tmp_path: Path) -> None:
    path = tmp_path / "x.csv"
    path.write_bytes(b"\xff\xfe\x00\x01garbage")
    assert "cannot decode" in error_of(path).message


# (file text, n, expected 1-based row, words the message must contain)
BAD_CSV = [
    ("u,v\n0,1\n1,2,3\n", None, 3, ["expected 2 fields", "found 3"]),
    ("0,1\n\n\n7\n", None, 4, ["expected 2 fields", "found 1"]),  # blank lines count as lines
    ("0,1\n1,2.5\n", None, 2, ["integer", "'2.5'"]),
    ("source,target\n0,1\nx,2\n", None, 3, ["integer", "'x'"]),
    ("0,1\n1,\n", None, 2, ["integer", "empty"]),
    ("0\t1\n2\t-3\n", None, 2, ["negative", "-3"]),
    ("u,v\n0,1\n\n1,2\n9,2\n", 5, 5, ["9", "population size n = 5"]),  # fast parse, then mapped to the line
    ("0 1\n2  3\n3 3\n", None, 3, ["self loop", "3"]),  # row-by-row parse (runs of spaces)
    ("source,target\n0,1\n4,4\n", None, 3, ["self loop", "4"]),
]


@pytest.mark.parametrize("text, n, row, words", BAD_CSV)
def test_bad_csv_rows_are_named(tmp_path: Path, text: str, n: int | None, row: int, words: list[str]) -> None:
    err = error_of(write(tmp_path, "bad.csv", text), n)
    assert err.row == row, str(err)
    assert f"bad.csv, row {row}:" in str(err)
    for w in words:
        assert w in str(err), (w, str(err))


def test_bad_parquet_rows_are_named(tmp_path: Path) -> None:
    path = tmp_path / "bad.parquet"
    pq.write_table(pa.table({"source": [0, 1, 2], "target": [1, -2, 0]}), path)
    err = error_of(path)
    assert err.row == 2 and "negative" in err.message
    pq.write_table(pa.table({"source": [0, 1, 2], "target": [1, 2, 7]}), path)
    err = error_of(path, n=5)
    assert err.row == 3 and "n = 5" in err.message
    pq.write_table(pa.table({"source": pa.array([0, None, 2], pa.int64()), "target": [1, 2, 3]}), path)
    err = error_of(path)
    assert err.row == 2 and "missing" in err.message
    pq.write_table(pa.table({"source": [0.0, 1.0], "target": [1.0, 2.0]}), path)
    assert "must be integers" in error_of(path).message
    pq.write_table(pa.table({"a": ["x"], "b": ["y"]}), path)
    assert "two integer columns" in error_of(path).message


def test_corrupt_parquet(tmp_path: Path) -> None:
    path = tmp_path / "broken.parquet"
    path.write_bytes(b"PAR1" + b"\x00" * 20)
    assert "cannot read the Parquet file" in error_of(path).message


@pytest.mark.parametrize("sep", [",", "  "])
def test_row_numbers_across_pieces(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, sep: str) -> None:
    """The row-precise pass reads the file in pieces; line numbers must run on across them."""
    import socialcredit.population.edgelist as el

    monkeypatch.setattr(el, "_PIECE_BYTES", 37)  # many tiny pieces
    lines = ["a,b" if sep == "," else "a b"]
    for i in range(200):
        lines.append(f"{i}{sep}{i + 1}")
        if i % 7 == 0:
            lines.append("")  # blank lines are skipped but counted
    good = "\n".join(lines) + "\n"
    net = load_edgelist(write(tmp_path, "ok.csv", good))
    assert net.n_edges == 200 and net.to_edges()[:, 1].tolist() == list(range(1, 201))
    bad_row = 150  # of 230 lines
    broken = lines[: bad_row - 1] + [f"5{sep}oops"] + lines[bad_row - 1 :]
    err = error_of(write(tmp_path, "bad.csv", "\n".join(broken) + "\n"))
    assert err.row == bad_row and "'oops'" in err.message
    looped = lines[: bad_row - 1] + [f"9{sep}9"] + lines[bad_row - 1 :]
    err = error_of(write(tmp_path, "loop.csv", "\n".join(looped) + "\n"))
    assert err.row == bad_row and "self loop" in err.message
