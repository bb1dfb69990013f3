"""Score drift between two snapshots: the population stability index over ten bins."""

from __future__ import annotations

import math

import polars as pl

PSI_BINS = 10


PSI_FLOOR = 1e-4  # an empty bin counts as this share, so the logarithm stays finite


def score_bins(column: pl.Expr, dtype: pl.DataType) -> pl.Expr:
    """Ten bins over 0-100 (100 and above in the last, below 0 in the first), as Int8; a
    missing value (or NaN) is its own bin (-1). `dtype`: the column's, so that integer
    points are binned as integers. Chosen by `when`s, then cast unchecked (each value
    then lies within 0-9): `clip` and a checked cast took 92-124 ms for 10M Int16
    points made floats, 140 ms for 10M floats, against 9-12 ms and 52 ms."""
    width = 100 // PSI_BINS
    if dtype.is_integer():
        binned = (
            pl.when(column >= 100)
            .then(pl.lit(PSI_BINS - 1, dtype))
            .when(column < 0)
            .then(pl.lit(0, dtype))
            .otherwise(column // width)
        )
    else:
        numbers = column.cast(pl.Float64)
        binned = (
            pl.when(numbers.is_nan())
            .then(None)
            .when(numbers >= 100)
            .then(float(PSI_BINS - 1))
            .when(numbers < 0)
            .then(0.0)
            .otherwise(numbers // width)
        )
    return binned.cast(pl.Int8, wrap_numerical=True).fill_null(-1)


def bin_counts(bins: pl.Series) -> pl.DataFrame:
    """The rows in each bin of `score_bins` (those with any): one comparison per bin,
    summed (10M bins: 2-4 ms, where a sort and a search for the edges took 30-96 ms and
    a group-by per column made the first read of a 10M diff 0.35 s slower)."""
    edges = list(range(-1, PSI_BINS))
    counts = bins.to_frame("b").select((pl.col("b") == k).sum().alias(str(k)) for k in edges)
    found = pl.DataFrame(
        {
            bins.name: pl.Series(edges, dtype=bins.dtype),
            "len": pl.Series(counts.row(0), dtype=pl.UInt32),
        }
    )
    return found.filter(pl.col("len") > 0)


def psi(before: dict[int, int], after: dict[int, int]) -> float:
    """Population stability index: sum of (p_after - p_before) * ln(p_after / p_before)."""
    n_before, n_after = sum(before.values()), sum(after.values())
    if not n_before or not n_after:
        return 0.0
    total = 0.0
    for b in sorted(set(before) | set(after)):
        p = max(before.get(b, 0) / n_before, PSI_FLOOR)
        q = max(after.get(b, 0) / n_after, PSI_FLOOR)
        total += (q - p) * math.log(q / p)
    return round(total, 4)


def psi_label(value: float) -> str:
    """The usual reading of a PSI: below 0.1 stable, up to 0.25 moderate, above major."""
    return "stable" if value < 0.1 else "moderate shift" if value <= 0.25 else "major shift"
