"""Small Polars helpers that several stages share: the id as compared, picks by index,
the when/then fold, band order."""

from __future__ import annotations

import polars as pl


def pick(index: pl.Expr, values: list[pl.Expr]) -> pl.Expr:
    """Per row, values[index]."""
    chain = None
    for i, value in enumerate(values):
        cond = index == i
        chain = pl.when(cond).then(value) if chain is None else chain.when(cond).then(value)  # type: ignore[attr-defined]
    assert chain is not None
    return chain


def labelled(index: pl.Expr, labels: list[str]) -> pl.Expr:
    """Per row, labels[index]: one gather from a small literal, not a string per key."""
    return pl.lit(pl.Series(labels, dtype=pl.String)).gather(index)


def id_key(id_column: str) -> pl.Expr:
    """The id as compared for duplicates: text, trimmed; null when empty."""
    key = pl.col(id_column).cast(pl.String).str.strip_chars()
    return pl.when(key != "").then(key)


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
