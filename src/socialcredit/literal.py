"""Text from rulebooks, files and paths, shown literally wherever it is shown.

A rulebook title such as ``[/oops]`` is rich markup to a terminal table,
``$\\frac{$`` is math text to matplotlib, and an escape sequence moves a
terminal's cursor. Names are restricted by the schema, but titles,
descriptions, paths and messages are free text: they pass through here.
"""

from __future__ import annotations

import functools
import re
from collections.abc import Callable
from typing import Any, TypeVar

F = TypeVar("F", bound=Callable[..., Any])
_CONTROL = re.compile("[\x00-\x08\x0b-\x1f\x7f-\x9f]")


def terminal(text: Any) -> str:
    """``text`` for a rich console: markup escaped, control characters (escape sequences) shown as '?'."""
    from rich.markup import escape

    return escape(_CONTROL.sub("?", str(text)))


def figures(draw: F) -> F:
    """Decorate a function that draws figures: no text in them is parsed as math (``$...$`` stays as typed)."""

    @functools.wraps(draw)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        import warnings

        import matplotlib

        with matplotlib.rc_context({"text.parse_math": False}), warnings.catch_warnings():
            warnings.filterwarnings("ignore", message="Glyph .* missing")  # control characters in a title
            return draw(*args, **kwargs)

    return wrapper  # type: ignore[return-value]
