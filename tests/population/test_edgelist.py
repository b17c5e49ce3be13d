"""Tests of the anonymous edge-list loader (CSV and Parquet)."""

from __future__ import annotations

import gzip
import os
import subprocess
import sys
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


# ------------------------------------------------------- one syntax, both paths
# The fast path (pyarrow, whole file) and the row-precise path (line by line)
# must accept exactly the same ids. A run of spaces between the ids sends a
# file down the row-precise path; a comma keeps it on the fast path.

BOTH_PATHS = [",", "  "]


@pytest.mark.parametrize("sep", BOTH_PATHS)
@pytest.mark.parametrize("bad", ["0x10", "1e3", "+5", "\u0663", "5.0", "1_000", "\u00a05", "\uff15"])
def test_only_plain_ascii_decimal_ids(tmp_path: Path, sep: str, bad: str) -> None:
    """pyarrow alone reads '0x10' as 16; neither path may accept it (nor signs, exponents, non-ASCII digits)."""
    text = f"0{sep}1\n2{sep}{bad}\n3{sep}4\n"
    err = error_of(write(tmp_path, "ids.csv", text))
    assert err.row == 2 and err.file and err.file.endswith("ids.csv"), str(err)
    assert "must be an integer" in err.message and repr(bad) in err.message, err.message


@pytest.mark.parametrize("sep", BOTH_PATHS)
def test_bad_first_line_is_not_taken_for_a_header(tmp_path: Path, sep: str) -> None:
    """A first line of would-be numbers ('0x10', '+5') is an error at row 1, not a silently skipped header."""
    err = error_of(write(tmp_path, "first.csv", f"0x10{sep}+5\n1{sep}2\n"))
    assert err.row == 1 and "'0x10'" in err.message


@pytest.mark.parametrize("sep", BOTH_PATHS)
def test_spaces_and_quotes_around_ids_are_ignored(tmp_path: Path, sep: str) -> None:
    """' 5 ' (spaces or tabs around an id) and '"5"' read as 5 on both paths; so do leading zeros."""
    text = f" 0 {sep} 1 \n\t2\t{sep}\"3\"\n004{sep}1\n"
    net = load_edgelist(write(tmp_path, "pad.csv", text))
    assert net.to_edges().tolist() == [[0, 1], [1, 4], [2, 3]]


@pytest.mark.parametrize("sep", BOTH_PATHS)
def test_same_result_on_either_path_for_a_bad_id_past_the_first_piece(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, sep: str) -> None:
    """The row-precise pass hands clean pieces to pyarrow: a '0x10' in a later piece is still refused."""
    import socialcredit.population.edgelist as el

    monkeypatch.setattr(el, "_PIECE_BYTES", 64)
    lines = [f"{i}{sep}{i + 1}" for i in range(100)]
    lines[80] = f"0x10{sep}3"
    err = error_of(write(tmp_path, "late.csv", "\n".join(lines) + "\n"))
    assert err.row == 81 and "'0x10'" in err.message


# ------------------------------------------------------- what may be read at all


def test_dev_zero_is_refused_before_reading() -> None:
    err = error_of(Path("/dev/zero"))
    assert "not a regular file" in err.message and "device" in err.message and err.file == "/dev/zero"


def test_fifo_is_refused_without_hanging(tmp_path: Path) -> None:
    """Opening a FIFO with no writer blocks forever: the check must come first. Run in a child with a timeout."""
    fifo = tmp_path / "edges.csv"
    os.mkfifo(fifo)
    code = (
        "import sys\n"
        "from socialcredit.errors import InputError\n"
        "from socialcredit.population.edgelist import load_edgelist\n"
        "try:\n"
        "    load_edgelist(sys.argv[1])\n"
        "except InputError as e:\n"
        "    print(e)\n"
        "    sys.exit(2)\n"
    )
    proc = subprocess.run([sys.executable, "-c", code, str(fifo)], check=False, capture_output=True, text=True, timeout=60)
    assert proc.returncode == 2, proc.stderr
    assert "named pipe" in proc.stdout and "not a regular file" in proc.stdout and str(fifo) in proc.stdout


def test_directory_is_refused(tmp_path: Path) -> None:
    err = error_of(tmp_path)
    assert "directory" in err.message and err.file == str(tmp_path)


def test_symlink_to_a_regular_file_is_read(tmp_path: Path) -> None:
    target = write(tmp_path, "real.csv", "".join(f"{a},{b}\n" for a, b in EDGES))
    link = tmp_path / "link.csv"
    link.symlink_to(target)
    assert load_edgelist(link).to_edges().tolist() == EXPECTED


def test_dangling_symlink_is_a_clean_error(tmp_path: Path) -> None:
    link = tmp_path / "gone.csv"
    link.symlink_to(tmp_path / "missing.csv")
    err = error_of(link)
    assert "not found" in err.message and "missing.csv" in err.message and err.file == str(link)


def test_symlink_to_a_device_is_refused(tmp_path: Path) -> None:
    link = tmp_path / "zero.csv"
    link.symlink_to("/dev/zero")
    assert "not a regular file" in error_of(link).message


@pytest.mark.parametrize("compressed", [False, True])
def test_file_too_large_for_memory_is_refused(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, compressed: bool) -> None:
    """The line count (decompressed, for .gz) bounds the ties; more than memory allows is refused up front."""
    import socialcredit.population.edgelist as el

    text = "".join(f"{i},{i + 1}\n" for i in range(1000))
    if compressed:
        path = tmp_path / "edges.csv.gz"
        with gzip.open(path, "wt") as f:
            f.write(text)
    else:
        path = write(tmp_path, "edges.csv", text)
    monkeypatch.setattr(el, "_memory_budget", lambda: 500 * el._BYTES_PER_TIE)  # room for 500 ties
    err = error_of(path)
    assert "memory" in err.message and "nothing was loaded" in err.message
    monkeypatch.setattr(el, "_memory_budget", lambda: 2000 * el._BYTES_PER_TIE)
    assert load_edgelist(path).n_edges == 1000


def test_parquet_too_large_for_memory_is_refused(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    import socialcredit.population.edgelist as el

    path = tmp_path / "edges.parquet"
    pq.write_table(pa.table({"u": list(range(1000)), "v": list(range(1, 1001))}), path)
    monkeypatch.setattr(el, "_memory_budget", lambda: 500 * el._BYTES_PER_TIE)
    err = error_of(path)
    assert "1,000 rows" in err.message and "memory" in err.message


def test_endless_line_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "long.csv"
    path.write_bytes(b"0,1\n" + b"7" * (2 << 20) + b",1\n")
    err = error_of(path)
    assert err.row == 2 and "longer than" in err.message


@pytest.mark.parametrize("sep", BOTH_PATHS)
def test_id_with_too_many_digits_is_out_of_range(tmp_path: Path, sep: str) -> None:
    err = error_of(write(tmp_path, "big.csv", f"0{sep}1\n{'9' * 5000}{sep}1\n"))
    assert err.row == 2 and "out of range" in err.message
