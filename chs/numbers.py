"""Numbers as results report them: scores to one decimal, money to cents, None kept."""

from __future__ import annotations


def rounded(x: float | None, digits: int = 1) -> float | None:
    """`x` rounded for a report; None (no value) stays None."""
    return None if x is None else round(float(x), digits)


def money(x: float | None) -> float | None:
    """An amount to the cent."""
    return rounded(x, 2)
