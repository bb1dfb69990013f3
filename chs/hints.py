"""`Did you mean` hints for names that are not there (columns, keys, ids).

Every such hint goes through `close_matches`, so they all judge closeness alike."""

from __future__ import annotations

import difflib
from collections.abc import Iterable


def close_matches(name: str, choices: Iterable[str], n: int = 1, cutoff: float = 0.6) -> list[str]:
    """The `n` choices closest to `name` (difflib's ratio at least `cutoff`), closest first."""
    return difflib.get_close_matches(name, list(choices), n=n, cutoff=cutoff)


def close_ids(name: str, ids: Iterable[str]) -> str:
    """`; close ids: C001, C010` for a customer id that is not there, or nothing."""
    close = close_matches(name, ids, n=3)
    return f"; close ids: {', '.join(close)}" if close else ""


def suggest_column(name: str, columns: list[str]) -> str:
    """A `did you mean` hint followed by the columns that are there."""
    close = close_matches(name, columns)
    if not close:
        lowered = {c.lower(): c for c in columns}
        close = [lowered[name.lower()]] if name.lower() in lowered else []
    hint = f" Did you mean {close[0]!r}?" if close else ""
    shown = ", ".join(columns[:30]) + (f", … ({len(columns)} in all)" if len(columns) > 30 else "")
    return f"{hint} Columns in the file: {shown}"
