"""Numbers as results report them (scores to one decimal, money to cents, None kept), and
as people read them printed: money with thousands separators and two decimals
(`12,345.60`), counts with thousands separators (`1,234`). JSON keeps the raw numbers."""

from __future__ import annotations


def rounded(x: float | None, digits: int = 1) -> float | None:
    """`x` rounded for a report; None (no value) stays None."""
    return None if x is None else round(float(x), digits)


def money(x: float | None) -> float | None:
    """An amount to the cent."""
    return rounded(x, 2)


def amount_text(x: float | None) -> str:
    """An amount as a finance reader expects it, `12,345.60`; no value prints empty."""
    return "" if x is None else f"{x:,.2f}"


def count_text(n: int) -> str:
    """A count with thousands separators, `1,234`."""
    return f"{n:,}"
