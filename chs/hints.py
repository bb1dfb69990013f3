"""`Did you mean` hints for names that are not there (columns, keys, ids)."""

from __future__ import annotations

import difflib


def suggest_column(name: str, columns: list[str]) -> str:
    """A `did you mean` hint followed by the columns that are there."""
    close = difflib.get_close_matches(name, columns, n=1, cutoff=0.6)
    if not close:
        lowered = {c.lower(): c for c in columns}
        close = [lowered[name.lower()]] if name.lower() in lowered else []
    hint = f" Did you mean {close[0]!r}?" if close else ""
    shown = ", ".join(columns[:30]) + (f", … ({len(columns)} in all)" if len(columns) > 30 else "")
    return f"{hint} Columns in the file: {shown}"
