"""Small builders of sqlglot nodes, each with the semantics chs's Polars engine has,
pinned so that every target dialect computes the same number: doubles everywhere (a
bare `0.5` is a DECIMAL in Spark), true division, rounding done by hand (PostgreSQL
rounds a double half to even, Spark a DECIMAL half up), GREATEST that skips NULLs
(BigQuery and Snowflake return NULL), sums added left to right with parentheses.
Values of the scheme only ever enter as literals."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Sequence

from sqlglot import exp

DOUBLE = exp.DataType.build("DOUBLE")
BIGINT = exp.DataType.build("BIGINT")
TEXT = exp.DataType.build("VARCHAR")
DATE = exp.DataType.build("DATE")
WHOLE_DECIMAL = exp.DataType.build("DECIMAL(5, 0)")  # tenths of points: 0 to 1000
TENTH = exp.DataType.build("DECIMAL(2, 1)")


def col(name: str, table: str | None = None) -> exp.Column:
    """A column, always quoted (a scheme's names are data, never SQL)."""
    return exp.column(
        exp.to_identifier(name, quoted=True), table=table and exp.to_identifier(table, quoted=True)
    )


def ident(name: str) -> exp.Identifier:
    return exp.to_identifier(name, quoted=True)


def alias(node: exp.Expression, name: str) -> exp.Alias:
    return exp.alias_(node, ident(name))


def number(value: float | int) -> exp.Expression:
    """A number literal typed DOUBLE (a negative one through a cast of its text)."""
    text = repr(float(value))
    if text in ("inf", "-inf", "nan"):
        raise ValueError(f"not a finite number: {value}")
    return exp.cast(exp.Literal.number(text), DOUBLE)


def integer(value: int) -> exp.Expression:
    return exp.cast(exp.Literal.number(str(int(value))), BIGINT)


def text(value: str) -> exp.Literal:
    return exp.Literal.string(value)


def date(value: dt.date) -> exp.Expression:
    return exp.cast(exp.Literal.string(value.isoformat()), DATE)


def null(to: exp.DataType = DOUBLE) -> exp.Expression:
    return exp.cast(exp.Null(), to)


def double(node: exp.Expression) -> exp.Expression:
    return exp.cast(node, DOUBLE)


def paren(node: exp.Expression) -> exp.Paren:
    return exp.Paren(this=node)


def case(
    pairs: Iterable[tuple[exp.Expression, exp.Expression]], default: exp.Expression | None = None
) -> exp.Expression:
    """CASE WHEN c1 THEN v1 … ELSE default END; no pair: the default (or NULL)."""
    pairs = list(pairs)
    if not pairs:
        return default if default is not None else exp.Null()
    node = exp.Case()
    for cond, value in pairs:
        node = node.when(cond, value)
    return node.else_(default) if default is not None else node


def added(terms: Sequence[exp.Expression]) -> exp.Expression:
    """((a + b) + c), as the Polars engine adds (chs.exprs.added)."""
    if not terms:
        return number(0.0)
    total = terms[0]
    for term in terms[1:]:
        total = exp.Add(this=paren(total), expression=paren(term))
    return paren(total)


def mul(a: exp.Expression, b: exp.Expression) -> exp.Expression:
    return paren(exp.Mul(this=paren(a), expression=paren(b)))


def div(a: exp.Expression, b: exp.Expression) -> exp.Expression:
    """a / b in doubles (never integer division)."""
    return paren(exp.Div(this=paren(double(a)), expression=paren(double(b))))


def sub(a: exp.Expression, b: exp.Expression) -> exp.Expression:
    return paren(exp.Sub(this=paren(a), expression=paren(b)))


def add(a: exp.Expression, b: exp.Expression) -> exp.Expression:
    return paren(exp.Add(this=paren(a), expression=paren(b)))


def floor(a: exp.Expression) -> exp.Expression:
    return exp.Floor(this=a)


def rounded(value: exp.Expression, decimals: int, *, even: bool) -> exp.Expression:
    """Polars' rounding of a double to `decimals`: v = x * 10^d rounded to a whole number
    (ties away from zero, or to even), then divided back (`rounded_scaled`). The value
    is written several times: give a column, or stage x * 10^d first."""
    scale = 10.0**decimals
    return rounded_scaled(mul(value, number(scale)), scale, even=even)


def rounded_up_from_half(v: exp.Expression) -> exp.Expression:
    """A value known to be >= 0 (best a column) rounded to a whole number, ties up, with
    no branch: FLOOR(2v) - FLOOR(v) is FLOOR(v) plus one exactly when the fraction is at
    least a half, and 2v is exact in binary floating point."""
    return sub(floor(mul(number(2.0), v.copy())), floor(v.copy()))


def rounded_scaled(v: exp.Expression, scale: float, *, even: bool) -> exp.Expression:
    """v (= x * scale, best a column: it is read several times) rounded to a whole number
    and divided by `scale`. By hand, since engines round doubles differently: ties away
    from zero are SIGN(v) times |v| rounded up from a half; ties to even test the
    fraction |v| - floor(|v|), which is exact."""
    size = exp.Abs(this=v.copy())
    if not even:
        return div(mul(exp.Sign(this=v.copy()), rounded_up_from_half(size)), number(scale))
    whole = floor(size)
    part = sub(size.copy(), whole.copy())
    up = add(whole.copy(), number(1.0))
    half = floor(div(whole.copy(), number(2.0)))
    odd = exp.EQ(this=sub(whole.copy(), mul(number(2.0), half)), expression=number(1.0))
    picked = case(
        [
            (exp.GT(this=part, expression=number(0.5)), up),
            (exp.LT(this=part.copy(), expression=number(0.5)), whole.copy()),
            (odd, up.copy()),
        ],
        whole.copy(),
    )
    signed = case(
        [(exp.LT(this=v.copy(), expression=number(0.0)), exp.Neg(this=paren(picked)))],
        picked.copy(),
    )
    return div(signed, number(scale))


def greatest(values: Sequence[exp.Expression], floor_value: int = -1) -> exp.Expression:
    """GREATEST of integers that skips NULLs (each NULL read as `floor_value`, below every
    value, then NULL again): BigQuery and Snowflake return NULL if any argument is. No
    argument is NULL once coalesced, so the NULL guard sqlglot otherwise wraps around
    DuckDB's GREATEST is left out (Snowflake gets GREATEST_IGNORE_NULLS)."""
    if len(values) == 1:
        return values[0]
    items = [exp.Coalesce(this=v, expressions=[integer(floor_value)]) for v in values]
    top = exp.Greatest(this=items[0], expressions=items[1:], ignore_nulls=True)
    return exp.Nullif(this=top, expression=integer(floor_value))


def clipped(v: exp.Expression, low: float, high: float) -> exp.Expression:
    """A value that is never NULL held within [low, high] without a branch (GREATEST and
    LEAST with no NULL guard, see `greatest`)."""
    below = exp.Least(this=v, expressions=[number(high)], ignore_nulls=True)
    return exp.Greatest(this=below, expressions=[number(low)], ignore_nulls=True)


def concat(parts: Sequence[exp.Expression]) -> exp.Expression:
    """a || b || …: NULL if any part is NULL, in every dialect."""
    node = parts[0]
    for part in parts[1:]:
        node = exp.DPipe(this=node, expression=part, safe=False)
    return paren(node)


def as_text(node: exp.Expression) -> exp.Expression:
    return exp.cast(node, TEXT)


def whole_text(node: exp.Expression) -> exp.Expression:
    """A whole number written without a decimal point (`12`, not `12.0`)."""
    return as_text(exp.cast(node, BIGINT))


def tenths_text(tenths: exp.Expression, dialect: str) -> exp.Expression:
    """A whole number of tenths (0 to 1000) with one decimal, `123` as `12.3` and `120`
    as `12.0`: the exact DECIMAL product tenths * 0.1, whose text keeps its scale (one
    cast, cheaper than two texts joined). BigQuery's NUMERIC has a fixed scale and its
    text drops trailing zeros, so there the whole part and the digit are written apart."""
    if dialect == "bigquery":
        whole = floor(div(tenths, number(10)))
        digit = sub(tenths.copy(), mul(whole.copy(), number(10)))
        return concat([whole_text(whole), text("."), whole_text(digit)])
    tenth = exp.cast(exp.Literal.number("0.1"), TENTH)
    return as_text(paren(exp.Mul(this=exp.cast(tenths, WHOLE_DECIMAL), expression=tenth)))
