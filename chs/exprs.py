"""Small Polars helpers that several stages share: the id as compared, picks by index,
the when/then fold, the value column, band order."""

from __future__ import annotations

import unicodedata
from collections.abc import Iterable

import polars as pl
from polars.expr.whenthen import ChainedThen, Then


def added(terms: Iterable[pl.Expr]) -> pl.Expr:
    """The sum of the terms, added left to right: ((a + b) + c). `pl.sum_horizontal`
    reduces in parallel, in an order that depends on the threads, so its last bit may
    differ from run to run and from any SQL engine; the SQL compiler adds in this order
    too, so both give the same numbers to the bit."""
    total: pl.Expr | None = None
    for term in terms:
        total = term if total is None else total + term
    return pl.lit(0.0) if total is None else total


def tenths(column: str) -> pl.Expr:
    """A one-decimal column (scores, deltas) as whole tenths (Int64), to be summed
    exactly in any order; `numbers.mean_of_tenths` makes the mean of the sum."""
    return (pl.col(column) * 10).round().cast(pl.Int64)


def first_match(
    pairs: Iterable[tuple[pl.Expr, pl.Expr]], otherwise: pl.Expr | None = None
) -> pl.Expr:
    """Per row, the value of the first (condition, value) pair whose condition holds, else
    `otherwise` (null if not given): one `when/then` chain, which streams where
    `replace_strict` does not. No pairs: `otherwise`, or a null literal."""
    chain: Then | ChainedThen | None = None
    for cond, value in pairs:
        chain = pl.when(cond).then(value) if chain is None else chain.when(cond).then(value)
    if chain is None:
        return pl.lit(None) if otherwise is None else otherwise
    return chain if otherwise is None else chain.otherwise(otherwise)


def value_or_null(
    column: str | None, dtype: type[pl.DataType] | pl.DataType = pl.Float64
) -> pl.Expr:
    """The value column as a number, or a null literal when the scheme names none, so that
    sums and weights read one expression either way."""
    return pl.col(column).cast(dtype) if column else pl.lit(None, dtype)


def pick(index: pl.Expr, values: list[pl.Expr]) -> pl.Expr:
    """Per row, values[index]."""
    assert values
    return first_match((index == i, value) for i, value in enumerate(values))


def labelled(index: pl.Expr, labels: list[str]) -> pl.Expr:
    """Per row, labels[index]: one gather from a small literal, not a string per key."""
    return pl.lit(pl.Series(labels, dtype=pl.String)).gather(index)


def trimmed_id(id_column: str) -> pl.Expr:
    """The id as compared: text without surrounding spaces, in Unicode NFC. ` C1 ` is
    the customer `C1`; `Café` typed as `e` + a combining accent (NFD, as macOS file
    names and some exports write it) is the customer `Café` written with `é`, so that the
    same customer in two exports (or twice in one) is one customer, not two.

    Only ids with a non-ASCII character are normalised (ASCII text is NFC already):
    normalising every id of a 2M-row file cost 0.3 s, the test 0.03 s. Normalised
    before it is stripped, so that the test reads the plain column: stripped first, the
    nested expression stripped every id once per reference (10M ids: 0.24-0.27 s against
    0.14-0.17 s). The two orders give the same id for every code point (tests)."""
    return _in_nfc(pl.col(id_column).cast(pl.String)).str.strip_chars()


def _stripped(id_column: str) -> pl.Expr:
    return pl.col(id_column).cast(pl.String).str.strip_chars()


def _in_nfc(text: pl.Expr) -> pl.Expr:
    """Text in NFC, normalising only the text with a non-ASCII character."""
    ascii_only = text.str.len_bytes() == text.str.len_chars()
    return pl.when(ascii_only).then(text).otherwise(text.str.normalize("NFC"))


def _known(key: pl.Expr) -> pl.Expr:
    """A key, null when empty (no id)."""
    return pl.when(key != "").then(key)


def id_text(value: object) -> str:
    """An id given as a Python value (on the command line, say) as `trimmed_id` compares it."""
    return unicodedata.normalize("NFC", str(value).strip())


def id_key(id_column: str) -> pl.Expr:
    """The id as compared for duplicates: text, trimmed; null when empty."""
    return _known(trimmed_id(id_column))


def with_trimmed_id(lf: pl.LazyFrame, id_column: str, into: str) -> pl.LazyFrame:
    """`lf` with the `trimmed_id` of `id_column` in the column `into`, made in stages
    that each read a plain column: the nested expression trimmed every id three times
    (10M ids: 1.11 s against 0.60 s)."""
    stripped = lf.with_columns(_stripped(id_column).alias(into))
    return stripped.with_columns(_in_nfc(pl.col(into)).alias(into))


def with_id_key(lf: pl.LazyFrame, id_column: str, into: str) -> pl.LazyFrame:
    """`lf` with the `id_key` of `id_column` in the column `into`, in stages."""
    return with_trimmed_id(lf, id_column, into).with_columns(_known(pl.col(into)).alias(into))


def id_hash(key: pl.Expr) -> pl.Expr:
    """A 64-bit hash of an `id_key`; null for no id (Polars hashes null to a constant)."""
    return pl.when(key.is_not_null()).then(key.hash())


def repeated_hashes(ordered: pl.Series) -> pl.Series:
    """The values that occur more than once in a sorted series of hashes: each against
    the next, on zero-copy slices (a bit a row, not a shifted copy)."""
    after = ordered.slice(1)
    return after.filter(after == ordered.slice(0, max(ordered.len() - 1, 0))).unique()


def band_order(frames: list[pl.DataFrame]) -> list[str]:
    """Bands from best to worst, by the highest score seen in each."""
    tops: dict[str, float] = {}
    for frame in frames:
        for band, top in frame.iter_rows():
            if band is not None:
                tops[band] = max(tops.get(band, -1.0), top)
    return sorted(tops, key=lambda b: -tops[b])
