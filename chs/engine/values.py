"""One signal's value per row: a column or an expression, as a number or as text, with
the row-level problem when the raw value is unusable."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

import polars as pl

from chs.columns import internal
from chs.errors import DataError, polars_gist
from chs.hints import suggest_column
from chs.scheme import FlatSignal, parse_sql_expr

NUMERIC = (pl.Float32, pl.Float64, pl.Decimal)


def require_column(
    column: str, what: str, columns: list[str], source: str, *, option: str | None = None
) -> None:
    """A column the scheme (or the caller's `option`, named in `what`) needs is there."""
    if column not in columns:
        raise DataError(
            f"{source}: column {column!r} ({what}) not found.{suggest_column(column, columns)}",
            option=option,
        )


@dataclass
class SignalValue:
    """A signal's value expression and its row-level problem, if any."""

    value: pl.Expr  # Float64 for numeric signals, String for categories; null when missing
    bad: tuple[pl.Expr, pl.Expr] | None  # (flag, message) where the raw value is unusable
    text: pl.Expr | None = None  # trimmed text to materialise first (`internal("t", signal)`)


@dataclass(frozen=True)
class RawSignal:
    """Where a signal reads its raw value, said in messages, and that value's type."""

    flat: FlatSignal
    raw: pl.Expr  # the column or the parsed expression
    where: str  # `signal <name>`
    origin: str  # `column <name>` or `expression`
    dtype: pl.DataType
    source: str


def signal_value(
    flat: FlatSignal,
    lf: pl.LazyFrame,
    columns: list[str],
    source: str,
    *,
    decimal_comma: bool,
    prefix: str = "",
    typed: Mapping[str, pl.Expr] | None = None,
) -> SignalValue:
    """The signal's value, typed for its points: text for a map, a number otherwise.
    `typed`: what an expression reads for a column read as text (plan.typed_columns)."""
    read = raw_signal(flat, lf, columns, source, typed)
    if read.dtype == pl.Null:  # a column with no value at all (Parquet, or a frame)
        return SignalValue(pl.lit(None, pl.Float64 if flat.signal.numeric else pl.String), None)
    if not flat.signal.numeric:
        return category_value(read)
    return number_value(read, decimal_comma=decimal_comma, prefix=prefix)


def raw_signal(
    flat: FlatSignal,
    lf: pl.LazyFrame,
    columns: list[str],
    source: str,
    typed: Mapping[str, pl.Expr] | None = None,
) -> RawSignal:
    """The column or expression a signal reads, checked against the file's columns and
    typed once, so that a wrong name or type fails for the whole file. An expression
    reads a column read as text as its `typed` copy, a column as itself: a map on the
    value column reads its text, an expression its number."""
    sig = flat.signal
    where = f"signal {flat.name}"
    if sig.column is not None:
        require_column(sig.column, where, columns, source)
        raw = pl.col(sig.column)
        origin = f"column {sig.column}"
    else:
        assert sig.expr is not None
        raw = parse_sql_expr(sig.expr, typed)
        for name in dict.fromkeys(raw.meta.root_names()):
            require_column(name, f"used by the expression of {where}", columns, source)
        origin = "expression"
    try:
        dtype = lf.select(raw.alias("v")).collect_schema()["v"]
    except pl.exceptions.PolarsError as exc:
        raise DataError(
            f"{source}: the expression of {where} cannot be evaluated: {polars_gist(exc)}"
        ) from None
    return RawSignal(flat, raw, where, origin, dtype, source)


def category_value(read: RawSignal) -> SignalValue:
    """A map's value as text: trimmed (empty is missing), or numbers and booleans written."""
    raw, dtype = read.raw, read.dtype
    if dtype == pl.String:
        text = raw.str.strip_chars()
        text = pl.when(text == "").then(None).otherwise(text)
    elif dtype.is_numeric() or dtype == pl.Boolean:
        text = raw.cast(pl.String)
    else:
        raise DataError(
            f"{read.source}: {read.where} reads {read.origin} of type {dtype}; "
            "`map` needs text or numbers"
        )
    return SignalValue(text, None)


def number_value(read: RawSignal, *, decimal_comma: bool, prefix: str) -> SignalValue:
    """A numeric signal's value as Float64 (NaN is missing); text is parsed, and text that
    is not a number becomes the row's problem. `prefix`: the definition's, which names
    the working columns the value is materialised in (`text`, then the value)."""
    raw, dtype, name = read.raw, read.dtype, read.flat.name
    if dtype.is_numeric():
        value = raw.cast(pl.Float64)
        if dtype in NUMERIC or dtype.is_float():
            value = value.fill_nan(None)
        return SignalValue(value, None)
    if dtype == pl.Boolean:
        return SignalValue(raw.cast(pl.Float64), None)
    if dtype == pl.String:
        # Parsed in stages (text, then number, then the check) so each is computed once.
        stripped = raw.str.strip_chars()
        text = pl.col(internal("t", name, prefix))
        number_text = text.str.replace_all(",", ".", literal=True) if decimal_comma else text
        value = number_text.cast(pl.Float64, strict=False).fill_nan(None)
        bad = (
            text.is_not_null() & pl.col(internal("v", name, prefix)).is_null(),
            pl.format(f"{name}: '{{}}' is not a number ({read.origin})", text),
        )
        return SignalValue(value, bad, pl.when(stripped != "").then(stripped))
    raise DataError(
        f"{read.source}: {read.where} reads {read.origin} of type {dtype}; "
        "tiers and `linear` need numbers"
    )
