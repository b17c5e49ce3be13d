"""Files written so that a kill never leaves them half-written, and JSON read strictly.

Ground-level helpers for everything that writes or reads the project's own
files (run folders, checkpoints, experiment stores, reports).
"""

from __future__ import annotations

import json
import os
import stat
from collections.abc import Callable
from pathlib import Path
from typing import IO, Any

from socialcredit.errors import InputError


def check_writable(path: Path) -> None:
    """Refuse, before any simulated day, an output path that cannot be created: its nearest existing
    ancestor must be a folder this user can write into."""
    path = Path(os.path.abspath(path))
    ancestor = path.parent
    while not ancestor.exists() and not ancestor.is_symlink() and ancestor != ancestor.parent:
        ancestor = ancestor.parent
    if not ancestor.is_dir():
        raise InputError(f"cannot create the output folder: {ancestor} is not a folder; nothing was written", file=str(path))
    if not os.access(ancestor, os.W_OK | os.X_OK):
        raise InputError(f"cannot create the output folder: {ancestor} is not writable; nothing was written", file=str(path),
                         hint="choose an --out folder you can write to")  # fmt: skip


def write_atomic(path: Path, data: bytes | None = None, write: Callable[[IO[bytes]], None] | None = None) -> None:
    """Write a file so that it is never seen half-written: a temporary file, flushed to disk, renamed over.

    Give the bytes, or ``write`` to stream them into the open file (large
    checkpoints). A kill at any moment leaves the previous file intact.
    """
    tmp = path.with_name(path.name + ".tmp")
    try:
        with open(tmp, "wb") as fh:
            if write is not None:
                write(fh)
            else:
                fh.write(data or b"")
            fh.flush()
            os.fsync(fh.fileno())
        os.replace(tmp, path)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise
    try:  # make the rename itself durable
        dfd = os.open(path.parent, os.O_RDONLY)
        try:
            os.fsync(dfd)
        finally:
            os.close(dfd)
    except OSError:  # pragma: no cover - some filesystems refuse fsync on folders
        pass


def read_json(path: Path, what: str) -> dict:
    """A JSON object from a run folder, parsed strictly, or an InputError naming ``what`` and why.

    Strict: only a regular file of at most 64 MiB (not a FIFO, device or
    folder), standard JSON only (no NaN or Infinity), no repeated keys, and
    an object at the top level.
    """
    check_regular(path, what, _JSON_MAX_BYTES)
    try:
        data = json.loads(path.read_text(encoding="utf-8"), parse_constant=_no_constant, object_pairs_hook=_no_repeats)
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise InputError(f"{what} is unreadable: {exc}", file=str(path)) from None
    except _BadJson as exc:
        raise InputError(f"{what} is not standard JSON: {exc}", file=str(path), hint="NaN, Infinity and repeated keys are not allowed") from None
    if not isinstance(data, dict):
        raise InputError(f"{what} must hold a JSON object, found {json_kind(data)}", file=str(path))
    return data


_JSON_MAX_BYTES = 64 << 20


class _BadJson(ValueError):
    """A JSON value that standard JSON does not allow (NaN, Infinity) or a repeated key."""


def _no_constant(token: str) -> Any:
    raise _BadJson(f"found {token}")


def _no_repeats(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for key, value in pairs:
        if key in out:
            raise _BadJson(f"the key {key!r} appears twice in one object")
        out[key] = value
    return out


def json_kind(x: Any) -> str:
    """How a JSON value is described in messages: its JSON type and a short repr."""
    kind = {dict: "an object", list: "a list", str: "a string", bool: "a boolean", int: "a number", float: "a number"}.get(type(x), "null")
    shown = repr(x)
    return f"{kind} ({shown[:57] + '...' if len(shown) > 60 else shown})" if x is not None else kind


def check_regular(path: Path, what: str, max_bytes: int | None = None, follow: bool = True) -> None:
    """Refuse anything but a regular file (a FIFO would hang, a device never end), and files over ``max_bytes``.

    ``follow=False`` also refuses symbolic links, so a run folder from elsewhere
    cannot make the reader open a file outside it.
    """
    try:
        st = os.stat(path) if follow else os.lstat(path)
    except OSError as exc:
        raise InputError(f"{what} cannot be read: {exc.strerror or exc}", file=str(path)) from None
    if stat.S_ISLNK(st.st_mode):
        raise InputError(f"{what} is a symbolic link; a run folder must hold its own files", file=str(path), hint="copy the file into the folder instead of linking it")
    if not stat.S_ISREG(st.st_mode):
        raise InputError(f"{what} is not a regular file (found a {_file_kind(st.st_mode)})", file=str(path))
    if max_bytes is not None and st.st_size > max_bytes:
        raise InputError(f"{what} is {st.st_size:,} bytes; at most {max_bytes:,} are read", file=str(path))


def _file_kind(mode: int) -> str:
    for test, name in ((stat.S_ISDIR, "folder"), (stat.S_ISFIFO, "named pipe"), (stat.S_ISCHR, "character device"),
                       (stat.S_ISBLK, "block device"), (stat.S_ISSOCK, "socket")):  # fmt: skip
        if test(mode):
            return name
    return "special file"
