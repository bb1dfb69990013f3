"""SQL expressions in a scheme (signal `expr`, segment and alert `when`), as Polars
expressions. The hardening issue replaces the guard here with an allow-list over a tree."""

from __future__ import annotations

import re
from typing import Any

_SUBQUERY = re.compile(r"\bselect\b", re.IGNORECASE)


def parse_sql_expr(text: str) -> Any:
    """Parse a SQL expression with Polars; refuse subqueries. Returns a Polars Expr."""
    import polars as pl

    if _SUBQUERY.search(text):
        raise ValueError("subqueries are not allowed in an expression")
    try:
        return pl.sql_expr(text)
    except Exception as exc:  # polars raises several SQL error types
        raise ValueError(f"not a valid SQL expression: {exc}") from None
