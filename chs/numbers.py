"""Numbers as results report them (scores to one decimal, money to cents, None kept), and
as people read them printed: money with thousands separators and two decimals
(`12,345.60`), counts with thousands separators (`1,234`). JSON keeps the raw numbers."""

from __future__ import annotations

from fractions import Fraction

from chs.errors import OPTION, OptionError


def rounded(x: float | None, digits: int = 1) -> float | None:
    """`x` rounded for a report; None (no value) stays None."""
    return None if x is None else round(float(x), digits)


def mean_of_tenths(tenths: int | None, n: int | None, digits: int = 1) -> float | None:
    """The mean of `n` one-decimal values (scores, deltas) that add up to `tenths`
    tenths (`exprs.tenths`), rounded half away from zero from the exact fraction, as
    chs rounds scores: the same figure whatever order the rows were added in. A float
    mean's last bit depends on that order, and a mean on a half (-4.05) then rounded
    either way from one run to the next. None when there is no value."""
    if not n or tenths is None:
        return None
    exact = Fraction(int(tenths), 10 * int(n)) * 10**digits
    whole = int(abs(exact) + Fraction(1, 2))  # floor: half away from zero
    return (whole if exact >= 0 else -whole) / 10**digits


def money(x: float | None) -> float | None:
    """An amount to the cent."""
    return rounded(x, 2)


def amount_text(x: float | None) -> str:
    """An amount as a finance reader expects it, `12,345.60`; no value prints empty."""
    return "" if x is None else f"{x:,.2f}"


def count_text(n: int) -> str:
    """A count with thousands separators, `1,234`."""
    return f"{n:,}"


MAX_COUNT = 1_000_000  # the most customers a list may ask for: more is a typo


def check_count(value: int, option: str, most: int = MAX_COUNT) -> int:
    """A count option (`top`) within 0..`most`, else an OptionError naming it: an
    unbounded one reached Polars as an overflow (`--top 99999999999999999999`)."""
    if isinstance(value, bool) or not isinstance(value, int) or not 0 <= value <= most:
        raise OptionError(f"{OPTION} must be from 0 to {most:,} (got {value!r})", option=option)
    return value
