"""Load an anonymous edge list (CSV or Parquet) into a :class:`Network`.

Nodes are anonymous integer ids ``0..n-1``; nothing else about a person is read.
CSV: two integer columns per line, comma, tab or whitespace separated, with an
optional header line. Parquet: two integer columns, taken by name
(``source``/``target`` or ``u``/``v``) or else the first two integer columns.

A person id is a plain ASCII decimal integer (``[0-9]+``, or ``-[0-9]+`` so
that a negative id is reported as such); spaces or tabs around it and double
quotes around it are ignored. Nothing else is an id: not ``+5``, ``0x10``,
``1e3``, ``5.0`` or non-ASCII digits.

Only a regular file is read (a FIFO would hang, ``/dev/zero`` never ends), and
a pre-pass over the (decompressed) bytes counts the lines and refuses a file
whose lines, read as ties, would not fit in the memory available. The same
pass looks for any byte other than digits, ``-``, separators, quotes and line
ends: such a file never reaches pyarrow's reader (which is laxer, e.g. it
reads ``0x10`` as 16) but goes to the row-precise pass, which names the line.

CSV is parsed by pyarrow's multithreaded reader. When that fails, a second,
row-by-row pass finds the first offending line so the error can name it
(1-based, counting the header line and blank lines, as an editor does). Ties are
undirected: repeats in either direction are dropped and counted in
``Network.duplicates_removed``.
"""

from __future__ import annotations

import io
import logging
import os
import re
import stat
from array import array
from collections.abc import Iterator

import numpy as np
import pyarrow as pa
import pyarrow.csv as pacsv
import pyarrow.parquet as pq
from numba import njit

from socialcredit.machine import HEADROOM, available_bytes, gib
from socialcredit.errors import InputError
from socialcredit.population.network import _MAX_NODES, Network, _network_from_pairs

log = logging.getLogger(__name__)

_INT = re.compile(r"-?[0-9]+")  # ASCII only: [0-9], not \d
_BLANKS = " \t"  # what may surround a field (not Unicode spaces such as U+00A0)
_MAX_LINE = 1 << 20  # a line longer than this is not an edge-list line
_BYTES_PER_TIE = 40  # peak while loading: int64 columns (16), int32 pairs (8), CSR and its sort (16)
# bytes a CSV data line may hold; any other byte sends the file to the row-precise pass
_PLAIN = np.zeros(256, bool)
_PLAIN[np.frombuffer(b"0123456789-,\t \r\n\"", np.uint8)] = True
_SNIFF_BYTES = 1 << 16
_PIECE_BYTES = 1 << 24  # 16 MiB pieces for the row-precise pass
_FORMAT_HINT = "an edge list has two integer person ids per line, e.g. '0,17' (an optional header line like 'source,target' is allowed)"

# problem codes of _first_bad
_OK, _NEGATIVE, _TOO_BIG, _SELF_LOOP = 0, 1, 2, 3


def load_edgelist(path: str | os.PathLike[str], n: int | None = None) -> Network:
    """Read an undirected edge list; ``n`` is the population size (default: max id + 1).

    Raises :class:`InputError` naming the file and row for: a missing or
    unreadable file, an empty file, a row with other than two fields, a
    non-integer value, a negative id, an id >= n, and a self loop.
    """
    name = os.fspath(path)
    _check_regular_file(name)
    if n is not None and not 0 <= int(n) <= _MAX_NODES:
        raise InputError(f"population size n = {n} is out of range (0..{_MAX_NODES})", file=name)
    try:
        with open(name, "rb") as f:
            magic = f.read(4)
    except OSError as e:
        raise InputError(f"cannot read the file: {e.strerror or e}", file=name) from None
    if magic == b"PAR1":
        _check_parquet_rows(name)
        table, row_of = _read_parquet(name)
    else:
        table, row_of = _read_csv(name)
    pairs, size = _table_to_pairs(table, n, name, row_of)
    del table  # free the parsed columns before the CSR is built
    net = _network_from_pairs(size, pairs)
    if net.duplicates_removed:
        log.info("%s: removed %d duplicate ties", name, net.duplicates_removed)
    return net


def _check_regular_file(name: str) -> None:
    """Refuse, before anything is opened, a path that is missing or not a regular file.

    Symbolic links are followed (a link to a regular file is fine); the check
    is on the file they resolve to.
    """
    resolved = os.path.realpath(name)
    try:
        st = os.stat(resolved)
    except FileNotFoundError:
        if os.path.islink(name):
            raise InputError(f"edge list file not found: the symbolic link points to {resolved}, which does not exist", file=name) from None
        raise InputError("edge list file not found", file=name, hint="check the path (relative paths are relative to the rulebook)") from None
    except OSError as e:
        raise InputError(f"cannot read the file: {e.strerror or e}", file=name) from None
    if stat.S_ISDIR(st.st_mode):
        raise InputError("is a directory, not an edge list file", file=name)
    if not stat.S_ISREG(st.st_mode):
        kind = "a named pipe (FIFO)" if stat.S_ISFIFO(st.st_mode) else "a device" if stat.S_ISCHR(st.st_mode) or stat.S_ISBLK(st.st_mode) else "a special file"
        raise InputError(f"is {kind}, not a regular file; only regular files are read as edge lists", file=name,
                         hint="save the edge list to a file first")  # fmt: skip


def _memory_budget() -> float:
    """Bytes the loaded ties may take: the memory guard's share of what is available now."""
    return available_bytes() * HEADROOM


def _refuse_size(name: str, ties: int, what: str) -> None:
    """Raise when ``ties`` ties would not fit in the memory available."""
    need = ties * _BYTES_PER_TIE
    budget = _memory_budget()
    if need > budget:
        raise InputError(
            f"{what}: loading up to {ties:,} ties would need about {gib(need)} ({_BYTES_PER_TIE} bytes a tie),"
            f" but only {gib(budget)} of memory is available; nothing was loaded",
            file=name, hint="use a smaller edge list, or free memory (or run on a machine with more)",
        )  # fmt: skip


def _check_parquet_rows(name: str) -> None:
    """Refuse a Parquet file whose row count (from its footer) would not fit in memory."""
    try:
        rows = pq.ParquetFile(name).metadata.num_rows
    except (OSError, pa.ArrowException) as e:
        raise InputError(f"cannot read the Parquet file: {e}", file=name) from None
    _refuse_size(name, rows, f"the file has {rows:,} rows")


# ------------------------------------------------------------------------ CSV


def _open_text(name: str) -> io.TextIOWrapper:
    """The file as text, decompressed if its extension says so (.gz, .bz2, ...)."""
    return io.TextIOWrapper(pa.input_stream(name, compression="detect"), encoding="utf-8", newline=None)


def _sniff(name: str) -> tuple[str | None, bool]:
    """Delimiter (',' or '\\t', None for runs of whitespace) and whether line 1 is a header."""
    try:
        with _open_text(name) as f:
            head = f.read(_SNIFF_BYTES)
    except UnicodeDecodeError:
        raise InputError("not a text CSV or a Parquet file (cannot decode it as UTF-8)", file=name, hint=_FORMAT_HINT) from None
    except (OSError, pa.ArrowException) as e:
        raise InputError(f"cannot read the file: {e}", file=name) from None
    if not head.strip():
        raise InputError("the file is empty", file=name, hint=_FORMAT_HINT)
    lines = head.splitlines()
    first = next(line for line in lines if line.strip())
    delim: str | None = "," if "," in first else "\t" if "\t" in first else None
    fields = _split(lines[0], delim)
    header = bool(lines[0].strip()) and not any(_numberish(fld) for fld in fields)
    return delim, header


def _numberish(field: str) -> bool:
    """Whether a field of line 1 looks like an attempt at a number (so line 1 is data, not a header)."""
    return bool(field) and (field[0] in "+-.0123456789" or field[0].isdigit())


def _split(line: str, delim: str | None) -> list[str]:
    """Fields of one line, stripped of ASCII spaces/tabs and surrounding double quotes."""
    line = line.rstrip("\r")
    parts = line.split(delim) if delim else re.split(r"[ \t]+", line.strip(_BLANKS))
    return [p.strip(_BLANKS).strip('"').strip(_BLANKS) for p in parts]


def _csv_options(delim: str | None, skip: int) -> dict[str, object]:
    return {
        "read_options": pacsv.ReadOptions(column_names=["u", "v"], skip_rows=skip, block_size=1 << 24),
        "parse_options": pacsv.ParseOptions(delimiter=delim or " "),
        "convert_options": pacsv.ConvertOptions(
            column_types={"u": pa.int64(), "v": pa.int64()}, null_values=[], quoted_strings_can_be_null=False
        ),
    }


def _read_csv(name: str) -> tuple[pa.Table, "_RowMap"]:
    delim, header = _sniff(name)
    try:
        if not _prescan(name, header):
            raise pa.ArrowInvalid("bytes outside plain decimal ids")  # to the row-precise pass
        table = pacsv.read_csv(name, **_csv_options(delim, 1 if header else 0))
    except pa.ArrowInvalid:
        # The fast reader does not say which line; the piecewise pass either
        # raises with the line number or (runs of spaces, odd quoting) parses it.
        table = _read_csv_pieces(name, delim, header)
    except (OSError, pa.ArrowException) as e:
        raise InputError(f"cannot read the file: {e}", file=name) from None
    if table.num_rows == 0:
        raise InputError("no edges in the file (only a header line)", file=name, hint=_FORMAT_HINT)
    return table, _RowMap(name, header)


def _prescan(name: str, header: bool) -> bool:
    """One pass over the decompressed bytes: refuse a file too large for memory; whether all bytes are plain.

    Counts the lines (at most one tie each) and raises :class:`InputError` as
    soon as they would not fit. Returns False when a data line holds a byte
    other than digits, '-', separators, quotes and line ends; such a file is
    parsed row by row, so that exactly one syntax is accepted.
    """
    lines = 0
    plain = True
    for lines_before, piece in _pieces(name):
        lines = lines_before + piece.count(b"\n") + 1
        _refuse_size(name, lines, f"the file has at least {lines:,} lines")
        if plain:
            data = piece
            if header and lines_before == 0:
                data = piece[piece.find(b"\n") + 1 :] if b"\n" in piece else b""
            plain = not _has_odd_bytes(np.frombuffer(data, np.uint8))
    return plain


def _has_odd_bytes(codes: np.ndarray) -> bool:
    """Whether any byte is outside the plain set."""
    return bool(codes.size) and not bool(_PLAIN[codes].all())


def _pieces(name: str) -> Iterator[tuple[int, bytes]]:
    """The file in pieces of about 16 MiB cut at line ends, with the number of lines before each.

    A line longer than 1 MiB is refused (no edge-list line is that long; it
    would otherwise be carried in memory whole).
    """
    lines_before = 0
    carry = b""
    with pa.input_stream(name, compression="detect") as f:
        while True:
            block = f.read(_PIECE_BYTES)
            data = carry + block
            if not block:
                if data:
                    yield lines_before, data
                return
            cut = data.rfind(b"\n") + 1
            carry = data[cut:]
            if len(carry) > _MAX_LINE:
                raise InputError(f"line longer than {_MAX_LINE:,} bytes; not an edge list", file=name, row=lines_before + data.count(b"\n", 0, cut) + 1, hint=_FORMAT_HINT)
            if cut:
                yield lines_before, data[:cut]
                lines_before += data.count(b"\n", 0, cut)


def _read_csv_pieces(name: str, delim: str | None, header: bool) -> pa.Table:
    """Parse piece by piece: pyarrow where it can, line by line where it cannot.

    Only a piece that pyarrow rejects is read line by line in Python, which then
    raises at the first bad line (numbered from the start of the file) or
    parses the piece (e.g. runs of spaces between the ids).
    """
    tables = []
    for lines_before, piece in _pieces(name):
        skip = 1 if header and lines_before == 0 else 0
        if not piece.strip(b" \t\r\n"):
            continue
        try:
            body = piece[piece.find(b"\n") + 1 :] if skip else piece
            if _has_odd_bytes(np.frombuffer(body, np.uint8)):
                raise pa.ArrowInvalid("bytes outside plain decimal ids")  # pyarrow is laxer (0x10): line by line
            tables.append(pacsv.read_csv(pa.BufferReader(piece), **_csv_options(delim, skip)))
        except pa.ArrowInvalid:
            tables.append(_parse_lines(name, piece, lines_before, delim, skip))
    if not tables:
        return pa.table({"u": pa.array([], pa.int64()), "v": pa.array([], pa.int64())})
    return pa.concat_tables(tables)


def _parse_lines(name: str, piece: bytes, lines_before: int, delim: str | None, skip: int) -> pa.Table:
    """Row-precise parse of one piece: raises at its first bad line, else its two columns."""
    us, vs = array("q"), array("q")
    sep = "tab" if delim == "\t" else "comma" if delim == "," else "whitespace"
    for i, raw in enumerate(piece.split(b"\n")):
        lineno = lines_before + i + 1
        if i < skip:
            continue
        if len(raw) > _MAX_LINE:
            raise InputError(f"line longer than {_MAX_LINE:,} bytes; not an edge list", file=name, row=lineno, hint=_FORMAT_HINT)
        try:
            line = raw.decode("utf-8")
        except UnicodeDecodeError:
            raise InputError("line is not valid UTF-8 text", file=name, row=lineno, hint=_FORMAT_HINT) from None
        if not line.strip(" \t\r"):  # as _RowMap counts blank lines
            continue
        fields = _split(line, delim)
        if len(fields) != 2:
            raise InputError(
                f"expected 2 fields ({sep}-separated), found {len(fields)}: {line.rstrip()!r}", file=name, row=lineno, hint=_FORMAT_HINT
            )
        for fld in fields:
            if not _INT.fullmatch(fld):
                what = "an empty value" if fld == "" else f"{fld!r}"
                raise InputError(f"person id must be an integer, found {what}", file=name, row=lineno, hint=_FORMAT_HINT)
        if max(len(fields[0]), len(fields[1])) > 20:  # int() of a huge digit string is slow (and limited)
            raise InputError(f"person id out of range: {line.strip()[:60]!r}", file=name, row=lineno)
        a, b = int(fields[0]), int(fields[1])
        if not (-(2**63) <= a < 2**63 and -(2**63) <= b < 2**63):
            raise InputError(f"person id out of range: {line.strip()!r}", file=name, row=lineno)
        us.append(a)
        vs.append(b)
    return pa.table({"u": np.frombuffer(us, np.int64), "v": np.frombuffer(vs, np.int64)})


class _RowMap:
    """Maps a 0-based data row index to the row number shown to the user.

    Parquet rows are numbered from 1; CSV rows are file lines, counting the
    header and blank lines, so the user can jump to them in an editor.
    """

    def __init__(self, name: str, header: bool | None) -> None:
        self.name = name
        self.header = header  # None: Parquet

    def __call__(self, index: int) -> int:
        if self.header is None:
            return index + 1
        seen = 0
        for lines_before, piece in _pieces(self.name):
            start = 1 if self.header and lines_before == 0 else 0
            lines = piece.split(b"\n")
            data = [i for i in range(start, len(lines)) if lines[i].strip(b" \t\r")]
            if seen + len(data) > index:
                return lines_before + data[index - seen] + 1
            seen += len(data)
        return index + 1 + int(self.header)  # not reached for a valid index


# -------------------------------------------------------------------- Parquet


def _read_parquet(name: str) -> tuple[pa.Table, _RowMap]:
    try:
        table = pq.read_table(name)
    except (OSError, pa.ArrowException) as e:
        raise InputError(f"cannot read the Parquet file: {e}", file=name) from None
    cols = {c.lower(): c for c in table.column_names}
    pick: list[str] | None = None
    for a, b in (("source", "target"), ("u", "v")):
        if a in cols and b in cols:
            pick = [cols[a], cols[b]]
            break
    if pick is None:
        ints = [f.name for f in table.schema if pa.types.is_integer(f.type)]
        if len(ints) < 2:
            found = ", ".join(f"{f.name} ({f.type})" for f in table.schema) or "no columns"
            raise InputError(f"needs two integer columns; found {found}", file=name, hint="name them source/target or u/v")
        pick = ints[:2]
    for c in pick:
        if not pa.types.is_integer(table.schema.field(c).type):
            raise InputError(f"column {c!r} has type {table.schema.field(c).type}; person ids must be integers", file=name)
    table = table.select(pick).rename_columns(["u", "v"])
    for c, col in zip(pick, table.columns):
        if col.null_count:
            first = int(np.flatnonzero(col.is_null().to_numpy(zero_copy_only=False))[0])
            raise InputError(f"missing value in column {c!r}", file=name, row=first + 1)
    try:
        table = table.cast(pa.schema([("u", pa.int64()), ("v", pa.int64())]))
    except pa.ArrowInvalid as e:
        raise InputError(f"person id out of range: {e}", file=name) from None
    if table.num_rows == 0:
        raise InputError("no edges in the file", file=name)
    return table, _RowMap(name, None)


# -------------------------------------------------------------- validation


@njit(cache=True)
def _first_bad(u: np.ndarray, v: np.ndarray, limit: int) -> tuple[int, int, int]:
    """First row with a negative id, an id >= limit or a self loop: (row, code, max id)."""
    top = -1
    for i in range(u.shape[0]):
        a = u[i]
        b = v[i]
        if a < 0 or b < 0:
            return i, _NEGATIVE, top
        if a >= limit or b >= limit:
            return i, _TOO_BIG, top
        if a == b:
            return i, _SELF_LOOP, top
        top = max(top, a, b)
    return -1, _OK, top


@njit(cache=True)
def _interleave(u: np.ndarray, v: np.ndarray, pairs: np.ndarray, start: int) -> None:
    for i in range(u.shape[0]):
        pairs[2 * (start + i)] = u[i]
        pairs[2 * (start + i) + 1] = v[i]


def _table_to_pairs(table: pa.Table, n: int | None, name: str, row_of: _RowMap) -> tuple[np.ndarray, int]:
    """Validate the id columns batch by batch; the ties as a flat int32 pair list, and n."""
    limit = _MAX_NODES if n is None else int(n)
    m = table.num_rows
    pairs = np.empty(2 * m, np.int32)
    top = -1
    start = 0
    for batch in table.to_batches():
        u = batch.column(0).to_numpy(zero_copy_only=False)
        v = batch.column(1).to_numpy(zero_copy_only=False)
        bad, code, batch_top = _first_bad(u, v, limit)
        if bad >= 0:
            a, b = int(u[bad]), int(v[bad])
            row = row_of(start + bad)
            if code == _NEGATIVE:
                raise InputError(f"negative person id in tie ({a}, {b})", file=name, row=row, hint="ids run from 0 to n-1")
            if code == _TOO_BIG and n is not None:
                raise InputError(
                    f"person id {max(a, b)} is not below the population size n = {n} (tie ({a}, {b}))",
                    file=name, row=row, hint=f"ids run from 0 to {n - 1}; raise the population size or renumber the file",
                )
            if code == _TOO_BIG:
                raise InputError(f"person id {max(a, b)} is too large (ids must be below {_MAX_NODES})", file=name, row=row)
            raise InputError(f"self loop: person {a} is tied to itself", file=name, row=row, hint="remove the line")
        top = max(top, batch_top)
        _interleave(u, v, pairs, start)
        start += u.shape[0]
    return pairs, top + 1 if n is None else int(n)
