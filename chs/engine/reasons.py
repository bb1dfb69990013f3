"""Reasons: per row, the signals that cost the most weighted points, most first."""

from __future__ import annotations

from dataclasses import dataclass

import polars as pl


@dataclass(frozen=True)
class Place:
    """One of the k places of `top_keys`: which key holds it, and its rounded value."""

    index: pl.Expr  # the key's position in the dict
    flag: pl.Expr  # the key's flag, 0 or 1 (for example "missing")
    millionths: pl.Expr  # the key's value in millionths, an integer
    shown: pl.Expr  # whether the place is taken by a key of value `at_least` or more


def top_keys(
    lf: pl.LazyFrame,
    keys: dict[str, pl.Expr],
    k: int,
    *,
    at_least: float,
    work: str,
    flags: dict[str, pl.Expr] | None = None,
    most: float = 100.0,
) -> tuple[pl.LazyFrame, list[Place]]:
    """Per row, the k keys of largest value (compared to 1e-6, so that float noise does
    not decide; ties in dict order); a place goes unshown below `at_least`.

    Each key becomes one integer (its value in millionths, then its rank in the dict,
    then its flag), so one `max_horizontal` finds the first place and k of them the
    first k: O(k * n) integer operations, against O(n^2) comparisons for full ranks and
    a string pick per key. Values are clipped to [0, `most`]. Each place reads working
    columns `<work>0`, `<work>1`… added to `lf`."""
    names = list(keys)
    n = len(names)
    if k == 0 or n == 0:
        return lf, []
    scale = 1_000_000
    step = 2 * n  # per millionth: n ranks, each with a flag bit
    dtype = pl.Int32 if (most * scale + 1) * step < 2**31 else pl.Int64
    threshold = round(at_least * scale) * step
    flag = flags or {}
    coded = []
    for i, name in enumerate(names):
        rounded = (keys[name].fill_null(0.0).clip(0.0, most) * scale).round(
            0, mode="half_away_from_zero"
        )
        bit = flag[name].fill_null(False).cast(dtype) if name in flag else pl.lit(0, dtype)
        code = rounded.cast(dtype) * step + pl.lit(2 * (n - 1 - i), dtype) + bit
        coded.append(code.alias(f"{work}_{i}"))
    lf = lf.with_columns(coded)
    codes = [pl.col(f"{work}_{i}") for i in range(n)]
    places = []
    for rank in range(min(k, n)):
        column = f"{work}{rank}"
        if rank == 0:
            best = pl.max_horizontal(codes)
        else:
            above = pl.col(f"{work}{rank - 1}")
            best = pl.max_horizontal([pl.when(c < above).then(c) for c in codes])
        lf = lf.with_columns(best.alias(column))
        top = pl.col(column)
        places.append(
            Place(
                index=pl.lit(n - 1, dtype) - (top % step) // 2,
                flag=top % 2,
                millionths=top // step,
                shown=top >= threshold,
            )
        )
    return lf, places


TENTHS = 1001  # a loss is 0.0 to 100.0 points
