"""Text cells read as the scheme says (`columns:`) or as its use implies: numbers with a
percent sign, a currency and grouping, or a decimal comma; integers; dates in ISO or a
declared format; booleans; text as written. Each is a vectorised Polars expression, and
a cell that does not parse is its row's problem, with the cell's text as written and
the setting that would read it."""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from dataclasses import dataclass, field

import polars as pl

from chs.scheme import parse_sql_expr
from chs.scheme.column_types import ColumnKind, ColumnType

# trimmed, a cell is missing when empty, one of the column's `na`, or NaN (a number)
_NAN = ("nan",)
_CURRENCY = r"[€$£¥₹]|\b(?:EUR|USD|GBP|CHF|CAD|AUD|JPY|SEK|NOK|DKK|PLN)\b"
_SPACES = "\\s\u00a0\u202f"  # a space, a no-break space, a narrow no-break space
_GROUPED_POINT = rf"^[+-]?\d{{1,3}}(?:[,{_SPACES}]\d{{3}})+(?:\.\d+)?$"  # 1,234,567.89
_GROUPS_COMMA = rf"\d{{1,3}}(?:[.{_SPACES}]\d{{3}})+"  # 1.234.567
_GROUPED_COMMA = rf"^[+-]?{_GROUPS_COMMA}(?:,\d+)?$"  # 1.234.567,89
_ISO_DATE = r"^\d{4}-\d{2}-\d{2}(?:[T ].*)?$"  # a date, or a timestamp read as its day
_TRUE = ["true", "yes", "y", "t", "1"]
_FALSE = ["false", "no", "n", "f", "0"]
# what exports write for "no value": the hint offers to declare it missing
_MARKER_LIKE = (
    r"(?i)^(?:-+|\u2014|\u2013|\?+|\.|n/?a|#n/?a|na|null|none|nil|missing|unknown|#value!|#div/0!)$"
)
_ARTICLES = {"number": "a number", "integer": "a whole number", "date": "a date"}


@dataclass(frozen=True)
class ColumnReader:
    """How this run reads the file's cells: the decimal mark, the scheme's declarations,
    the run's date (CURRENT_DATE, `days_until`), and what an expression reads for a
    column held as text (`typed`: parsed to its kind) or read as a date (`dates`)."""

    decimal_comma: bool = False
    declared: Mapping[str, ColumnType] = field(default_factory=dict)
    as_of: dt.date | None = None
    typed: Mapping[str, pl.Expr] = field(default_factory=dict)
    dates: frozenset[str] = frozenset()

    @property
    def today(self) -> dt.date:
        return self.as_of if self.as_of is not None else dt.date.today()

    def expression(self, text: str) -> pl.Expr:
        """A scheme expression over this run's columns, typed as read."""
        return parse_sql_expr(text, self.typed, dates=self.dates, today=self.today)

    def number(self, column: str, text: pl.Expr) -> pl.Expr:
        """A numeric signal's trimmed text as Float64, as its column is declared."""
        declared = self.declared.get(column)
        kind: ColumnKind = (
            "integer" if declared is not None and declared.type == "integer" else "number"
        )
        return parse_text(text, kind, declared, self.decimal_comma).cast(pl.Float64)

    def date(self, column: str, text: pl.Expr) -> pl.Expr:
        """A date column's trimmed text as a Date, ISO or in its declared format."""
        return parse_text(text, "date", self.declared.get(column), self.decimal_comma)

    def present(self, column: str | None, raw: pl.Expr, kind: ColumnKind) -> pl.Expr:
        """The trimmed text of a cell, null where it means missing (empty, NaN for a
        number, one of the column's `na`)."""
        return _present(raw, kind, self.declared.get(column) if column else None)

    def hint(self, column: str, text: pl.Expr, kind: ColumnKind) -> pl.Expr:
        """The setting that would read this cell of `column` (or an empty text)."""
        return _hint(text, column, kind, self.declared.get(column), self.decimal_comma)


def parse_text(
    column: pl.Expr, kind: ColumnKind, declared: ColumnType | None, decimal_comma: bool
) -> pl.Expr:
    """A text column as `kind`: null where it is missing or does not parse."""
    if kind == "text":
        return pl.when(_present(column, kind, declared).is_not_null()).then(column)
    text = _present(column, kind, declared)
    if kind in ("number", "integer"):
        return _number(text, kind, declared, decimal_comma)
    if kind == "date":
        return _date(text, declared)
    lower = text.str.to_lowercase()
    return pl.when(lower.is_in(_TRUE)).then(True).when(lower.is_in(_FALSE)).then(False)


def _present(column: pl.Expr, kind: ColumnKind, declared: ColumnType | None) -> pl.Expr:
    """The trimmed text, null where it means missing."""
    text = column.str.strip_chars()
    markers = [*(declared.na if declared else []), *(_NAN if kind in ("number", "integer") else [])]
    if not markers:  # only an empty cell is missing: one trim, no lowering (0.3 s at 10M)
        return pl.when(text != "").then(text)
    missing = (text == "") | text.str.to_lowercase().is_in([m.lower() for m in markers])
    return pl.when(~missing).then(text)


def _number(
    text: pl.Expr, kind: ColumnKind, declared: ColumnType | None, decimal_comma: bool
) -> pl.Expr:
    """`85%`, `€1,234.50`, `1 234,50 €`, `-3.5` as a number (Float64, or Int64 for an
    integer); grouping is dropped only where it groups by three."""
    comma = (
        decimal_comma
        if declared is None or declared.decimal_comma is None
        else declared.decimal_comma
    )
    if declared is not None and declared.percent:
        text = text.str.replace(r"\s*%$", "")
    if declared is not None and declared.currency:
        text = text.str.replace_all(_CURRENCY, "").str.strip_chars()
        grouped, marks = (
            (_GROUPED_COMMA, f"[.{_SPACES}]") if comma else (_GROUPED_POINT, f"[,{_SPACES}]")
        )
        text = (
            pl.when(text.str.contains(grouped))
            .then(text.str.replace_all(marks, ""))
            .otherwise(text)
        )
    if comma:
        text = text.str.replace(",", ".", literal=True)
    number = text.cast(pl.Float64, strict=False)
    number = pl.when(number.is_finite()).then(number)
    if kind == "integer":
        return pl.when(number == number.floor()).then(number.cast(pl.Int64, strict=False))
    return number


def _date(text: pl.Expr, declared: ColumnType | None) -> pl.Expr:
    """A date in the declared format, else in ISO (`2026-11-30`, or a timestamp read
    as its day: what an Excel date cell holds, beside dates typed as text)."""
    iso = text.str.contains(_ISO_DATE)
    iso_date = pl.when(iso).then(text.str.slice(0, 10).str.to_date("%Y-%m-%d", strict=False))
    if declared is not None and declared.format is not None:
        return pl.coalesce(text.str.to_date(declared.format, strict=False), iso_date)
    return iso_date


def parse_problem(
    name: str,
    kind: ColumnKind,
    declared: ColumnType | None,
    decimal_comma: bool,
    origin: str,
) -> tuple[pl.Expr, pl.Expr] | None:
    """(flag, message) for a cell of column `name` that is there but does not parse as
    `kind`; `origin` says what reads it (`column mrr`, `the value column`)."""
    if kind == "text":
        return None
    text = _present(pl.col(name), kind, declared)
    parsed = parse_text(pl.col(name), kind, declared, decimal_comma)
    what = _ARTICLES.get(kind, "true or false")
    message = pl.format(
        f"{name}: '{{}}' is not {what} ({origin}){{}}",
        text,
        _hint(text, name, kind, declared, decimal_comma),
    )
    return text.is_not_null() & parsed.is_null(), message


def _date_hint(hint: pl.Expr, text: pl.Expr, declare: str, declared: ColumnType | None) -> pl.Expr:
    """For a day, a month and a year written with `/`, `.` or `-`: the formats that read
    them (day first or month first; a two-digit year as %y), but the one declared."""
    for sep in "/.-":
        for digits, year in (("4", "%Y"), ("2", "%y")):
            formats = [f"%d{sep}%m{sep}{year}", f"%m{sep}%d{sep}{year}"]
            formats = [f for f in formats if declared is None or f != declared.format]
            pattern = rf"^\d{{1,2}}\{sep}\d{{1,2}}\{sep}\d{{{digits}}}$"
            first, *more = formats
            also = f" (or '{more[0]}')" if more else ""
            hint = hint.when(text.str.contains(pattern)).then(
                pl.lit(f"{declare}, format: '{first}'}}}}{also}")
            )
    return hint


def _hint(
    text: pl.Expr, name: str, kind: ColumnKind, declared: ColumnType | None, decimal_comma: bool
) -> pl.Expr:
    """The setting that would read a cell that does not parse, when its look says which."""
    declare = f"; to read it, declare columns: {{{name}: {{type: {kind}"
    hint = pl.when(pl.lit(False)).then(pl.lit(""))
    if kind in ("number", "integer"):
        if declared is None or not declared.percent:
            hint = hint.when(text.str.contains(r"%\s*$")).then(
                pl.lit(f"{declare}, percent: true}}}}")
            )
        if declared is None or not declared.currency:
            hint = hint.when(text.str.contains(_CURRENCY)).then(
                pl.lit(f"{declare}, currency: true}}}}")
            )
        if not decimal_comma and (declared is None or declared.decimal_comma is None):
            # `1,5`, or `1.234,50` once a currency and a percent sign are set aside
            bare = text.str.replace_all(_CURRENCY, "").str.replace(r"\s*%$", "").str.strip_chars()
            comma_number = rf"^[+-]?(?:\d+|{_GROUPS_COMMA}),\d+$"
            extra = ", currency: true" if declared is not None and declared.currency else ""
            hint = hint.when(bare.str.contains(comma_number)).then(
                pl.lit(f"{declare}{extra}, decimal_comma: true}}}}")
            )
    if kind == "date":
        hint = _date_hint(hint, text, declare, declared)
    missing = f"; if it means missing, declare columns: {{{name}: {{type: {kind}, na: ['"
    hint = hint.when(text.str.contains(_MARKER_LIKE)).then(
        pl.concat_str(pl.lit(missing), text, pl.lit("']}}"))
    )
    return hint.otherwise(pl.lit(""))
