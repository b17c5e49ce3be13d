"""Error types the user sees.

Every error the command line reports without a traceback derives from
:class:`SocialCreditError`. Each carries enough context to point at the place
(file, line, column, key) and says what was found and what is allowed.
The CLI prints ``str(error)`` and exits with status 2.
"""

from __future__ import annotations

import difflib
from collections.abc import Iterable
from dataclasses import dataclass


def did_you_mean(word: str, choices: Iterable[str]) -> str | None:
    """Return the closest valid choice to a misspelt word, or None."""
    matches = difflib.get_close_matches(str(word), [str(c) for c in choices], n=1, cutoff=0.6)
    return matches[0] if matches else None


class SocialCreditError(Exception):
    """Base class of all errors reported to the user (exit status 2)."""

    exit_code: int = 2


@dataclass
class Location:
    """Where in an input something was found."""

    file: str | None = None
    line: int | None = None  # 1-based
    column: int | None = None  # 1-based
    key: str | None = None  # dotted path, e.g. "services[2].demand"

    def describe(self) -> str:
        parts: list[str] = []
        if self.file:
            where = self.file
            if self.line is not None:
                where += f":{self.line}"
                if self.column is not None:
                    where += f":{self.column}"
            parts.append(where)
        if self.key:
            parts.append(f"key '{self.key}'")
        return ", ".join(parts)


class RulebookError(SocialCreditError):
    """A rulebook value is malformed, unknown, of the wrong type or out of range."""

    def __init__(
        self,
        message: str,
        *,
        location: Location | None = None,
        found: object = None,
        allowed: str | None = None,
        hint: str | None = None,
        snippet: str | None = None,
    ) -> None:
        self.message = message
        self.location = location or Location()
        self.found = found
        self.allowed = allowed
        self.hint = hint
        self.snippet = snippet
        super().__init__(self.format())

    def format(self) -> str:
        where = self.location.describe()
        lines = [f"{where}: {self.message}" if where else self.message]
        if self.snippet:
            lines.append(self.snippet)
        if self.found is not None:
            found = repr(self.found)
            if len(found) > 120:
                found = found[:117] + "..."
            lines.append(f"  found:   {found}")
        if self.allowed:
            lines.append(f"  allowed: {self.allowed}")
        if self.hint:
            lines.append(f"  hint:    {self.hint}")
        return "\n".join(lines)


class RulebookErrors(SocialCreditError):
    """Several rulebook errors found in one pass (reported together, up to a screenful)."""

    def __init__(self, errors: list[RulebookError], limit: int = 8) -> None:
        self.errors = errors
        shown = [e.format() for e in errors[:limit]]
        more = len(errors) - limit
        text = "\n\n".join(shown)
        if more > 0:
            text += f"\n\n... and {more} more error(s)"
        super().__init__(text)


class ConditionError(SocialCreditError):
    """A condition expression cannot be parsed or refers to something unknown.

    ``column`` is 1-based within ``expression``. When the expression comes from a
    rulebook, the loader adds the file location with :meth:`at`.
    """

    def __init__(self, message: str, expression: str, column: int | None = None, hint: str | None = None) -> None:
        self.message = message
        self.expression = expression
        self.column = column
        self.hint = hint
        self.location: Location | None = None
        super().__init__(self.format())

    def at(self, location: Location) -> "ConditionError":
        self.location = location
        self.args = (self.format(),)
        return self

    def format(self) -> str:
        head = f"{self.location.describe()}: " if self.location else ""
        col = f" (column {self.column})" if self.column else ""
        lines = [f"{head}bad condition{col}: {self.message}", f"  {self.expression}"]
        if self.column:
            lines.append("  " + " " * (self.column - 1) + "^")
        if self.hint:
            lines.append(f"  hint: {self.hint}")
        return "\n".join(lines)

    def __str__(self) -> str:
        return self.format()


class InputError(SocialCreditError):
    """A data file (edge list, run folder) is missing or malformed."""

    def __init__(self, message: str, *, file: str | None = None, row: int | None = None, hint: str | None = None) -> None:
        self.message = message
        self.file = file
        self.row = row
        self.hint = hint
        where = file or "<input>"
        if row is not None:
            where += f", row {row}"
        text = f"{where}: {message}"
        if hint:
            text += f"\n  hint: {hint}"
        super().__init__(text)


class ResourceError(SocialCreditError):
    """A run would need more memory or disk than the machine has."""
