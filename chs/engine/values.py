"""One signal's value per row: a column or an expression, as a number or as text, with
the row-level problem when the raw value is unusable."""

from __future__ import annotations

from dataclasses import dataclass

import polars as pl

from chs.columns import internal
from chs.engine.parsing import ColumnReader
from chs.errors import DataError, SchemeError, polars_gist
from chs.hints import suggest_column
from chs.scheme import FlatSignal, Scheme
from chs.scheme.column_types import ColumnKind

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
    reader: ColumnReader,
    scheme: Scheme,
    prefix: str = "",
) -> SignalValue:
    """The signal's value, typed for its points: text for a map, a number otherwise (for
    `days_until`/`days_since`, days from the run's date). `scheme`: the scheme as loaded,
    which locates an expression that cannot be evaluated."""
    read = raw_signal(flat, lf, columns, source, reader, scheme)
    if read.dtype == pl.Null:  # a column with no value at all (Parquet, or a frame)
        return SignalValue(pl.lit(None, pl.Float64 if flat.signal.numeric else pl.String), None)
    if flat.signal.dated is not None:
        return dated_value(read, reader, prefix)
    if not flat.signal.numeric:
        return category_value(read, reader)
    return number_value(read, reader, prefix)


def raw_signal(
    flat: FlatSignal,
    lf: pl.LazyFrame,
    columns: list[str],
    source: str,
    reader: ColumnReader,
    scheme: Scheme,
) -> RawSignal:
    """The column or expression a signal reads, checked against the file's columns and
    typed once, so that a wrong name or type fails for the whole file. An expression
    reads a column held as text as its typed copy (`reader.typed`), a column as itself:
    a map on the value column reads its text, an expression its number. An expression
    that cannot be evaluated is the scheme's error, at its line."""
    sig = flat.signal
    where = f"signal {flat.name}"
    column = sig.read_column
    if column is not None:
        require_column(column, where, columns, source)
        raw, origin = pl.col(column), f"column {column}"
    else:
        assert sig.expr is not None
        raw = reader.expression(sig.expr)
        for name in dict.fromkeys(raw.meta.root_names()):
            require_column(name, f"used by the expression of {where}", columns, source)
        origin = "expression"
    try:
        dtype = lf.select(raw.alias("v")).collect_schema()["v"]
    except pl.exceptions.PolarsError as exc:
        if column is not None:
            raise DataError(f"{source}: {where} cannot read {origin}: {polars_gist(exc)}") from None
        loc = scheme.signal_path(flat.name, "expr")
        raise SchemeError(
            f"{scheme.where(*loc)}: the expression of {where} cannot be evaluated on "
            f"{source}: {polars_gist(exc)}"
        ) from None
    return RawSignal(flat, raw, where, origin, dtype, source)


def category_value(read: RawSignal, reader: ColumnReader) -> SignalValue:
    """A map's value as text: trimmed (empty, or one of its column's `na`, is missing),
    or numbers and booleans written."""
    raw, dtype = read.raw, read.dtype
    if dtype == pl.String:
        text = reader.present(read.flat.signal.column, raw, "text")
    elif dtype.is_numeric() or dtype == pl.Boolean:
        text = raw.cast(pl.String)
    else:
        raise DataError(
            f"{read.source}: {read.where} reads {read.origin} of type {dtype}; "
            "`map` needs text or numbers"
        )
    return SignalValue(text, None)


def number_value(read: RawSignal, reader: ColumnReader, prefix: str) -> SignalValue:
    """A numeric signal's value as Float64 (NaN is missing); text is parsed as its column
    is declared, and text that is not a number becomes the row's problem. `prefix`: the
    definition's, which names the working columns the value is materialised in (`text`,
    then the value)."""
    raw, dtype, name = read.raw, read.dtype, read.flat.name
    if dtype.is_numeric():
        value = raw.cast(pl.Float64)
        if dtype in NUMERIC or dtype.is_float():
            value = value.fill_nan(None)
        return SignalValue(value, None)
    if dtype == pl.Boolean:
        return SignalValue(raw.cast(pl.Float64), None)
    if dtype == pl.String:
        column = read.flat.signal.column or ""
        declared = reader.declared.get(column)
        kind: ColumnKind = "integer" if declared and declared.type == "integer" else "number"
        return _parsed(read, reader, prefix, reader.number(column, _text(name, prefix)), kind)
    raise DataError(
        f"{read.source}: {read.where} reads {read.origin} of type {dtype}; "
        "tiers and `linear` need numbers"
    )


def dated_value(read: RawSignal, reader: ColumnReader, prefix: str) -> SignalValue:
    """The days from the run's date to a date (`days_until`), or from it (`days_since`);
    a date written as text is parsed as its column is declared (ISO by default)."""
    sig, dtype = read.flat.signal, read.dtype
    as_of = pl.lit(reader.today)

    def days(date: pl.Expr) -> pl.Expr:
        span = date - as_of if sig.days_until is not None else as_of - date
        return span.dt.total_days().cast(pl.Float64)

    if dtype == pl.Date:
        return SignalValue(days(read.raw), None)
    if isinstance(dtype, pl.Datetime):
        return SignalValue(days(read.raw.dt.date()), None)
    if dtype == pl.String:
        date = reader.date(sig.dated or "", _text(read.flat.name, prefix))
        return _parsed(read, reader, prefix, days(date), "date")
    raise DataError(
        f"{read.source}: {read.where} reads {read.origin} of type {dtype}; "
        f"`{'days_until' if sig.days_until is not None else 'days_since'}` needs dates"
    )


def _text(name: str, prefix: str) -> pl.Expr:
    """The materialised trimmed text of a signal read as text."""
    return pl.col(internal("t", name, prefix))


def _parsed(
    read: RawSignal, reader: ColumnReader, prefix: str, value: pl.Expr, kind: ColumnKind
) -> SignalValue:
    """A value parsed from text in stages (the trimmed text, then the value, then the
    check), so each is computed once; text that does not parse is the row's problem,
    with the setting that would read it when its column is read directly."""
    name = read.flat.name
    text = _text(name, prefix)
    column = read.flat.signal.read_column
    hint = reader.hint(column, text, kind) if column is not None else pl.lit("")
    article = {"number": "a number", "integer": "a whole number"}.get(kind, "a date")
    bad = (
        text.is_not_null() & pl.col(internal("v", name, prefix)).is_null(),
        pl.concat_str(
            pl.lit(f"{name}: '"), text, pl.lit(f"' is not {article} ({read.origin})"), hint
        ),
    )
    return SignalValue(value, bad, reader.present(column, read.raw, kind))
