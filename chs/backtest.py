"""Does the score predict churn? The figures of a backtest, from rows that hold a score,
a band, the signals' points, a value and whether the customer churned.

Every figure is computed from counts grouped by a few keys (a score has at most 1,001
values, 0.0 to 100.0; a band or a signal's points a handful), so a backtest over
millions of rows is a streaming group-by, never a sort of the rows. A low score should
mean churn: `auc` is the probability that a churner scored lower than a customer who
stayed, ties counting half.
"""

from __future__ import annotations

import math
from typing import TypedDict

import polars as pl

from chs.numbers import money

CHURNED = "__chs·churned"  # the label of a row: True when the customer churned
IV_SMOOTHING = 0.5  # a tier with no churner (or no stayer) counts this many, so ln stays finite
AUC_LABELS = ((0.8, "strong"), (0.7, "good"), (0.6, "fair"), (0.0, "weak"))
NO_INFORMATION = 0.02  # a signal whose information value is below this tells nothing


class BandFigures(TypedDict):
    band: str
    customers: int
    churned: int
    churn_rate: float
    lift: float | None
    share_of_churned: float
    value: float | None
    value_churned: float | None


class DecileFigures(TypedDict):
    decile: int
    min_score: float
    max_score: float
    customers: int
    churned: int
    churn_rate: float
    cumulative_share_of_churned: float
    lift: float | None


class SignalFigures(TypedDict):
    signal: str
    auc: float | None
    iv: float | None
    coverage: float


def counts_by(rows: pl.LazyFrame, key: pl.Expr, value: str | None = None) -> pl.LazyFrame:
    """Customers and churners (and their value) per distinct `key` (named `key`)."""
    churned = pl.col(CHURNED)
    aggs = [pl.len().alias("customers"), churned.sum().alias("churned")]
    if value is not None:
        aggs += [
            pl.col(value).sum().alias("value"),
            pl.col(value).filter(churned).sum().alias("value_churned"),
        ]
    return rows.group_by(key.alias("key")).agg(aggs)


def auc(counts: pl.DataFrame) -> float | None:
    """P(a churner's key < a stayer's key) + half P(equal), from counts per key (the
    Mann-Whitney statistic); None without both churners and stayers."""
    table = _sorted(counts)
    churners, stayers = table["churned"].sum(), table["stayed"].sum()
    if not churners or not stayers:
        return None
    above = stayers - table["stayed"].cum_sum()  # stayers with a strictly higher key
    wins = (table["churned"] * (above + 0.5 * table["stayed"])).sum()
    return float(wins / (churners * stayers))


def ks(counts: pl.DataFrame) -> float | None:
    """The largest gap between the cumulative key distributions of churners and stayers."""
    table = _sorted(counts)
    churners, stayers = table["churned"].sum(), table["stayed"].sum()
    if not churners or not stayers:
        return None
    gap = table["churned"].cum_sum() / churners - table["stayed"].cum_sum() / stayers
    return float(gap.abs().max())  # type: ignore[arg-type]


def information_value(counts: pl.DataFrame) -> float | None:
    """Sum over keys of (stayers' share - churners' share) x ln(stayers' share /
    churners' share), an empty cell counting IV_SMOOTHING; None with one class only."""
    table = _sorted(counts)
    churners, stayers = table["churned"].sum(), table["stayed"].sum()
    if not churners or not stayers:
        return None
    total = 0.0
    for c, s in zip(table["churned"].to_list(), table["stayed"].to_list(), strict=True):
        p_c = max(c, IV_SMOOTHING) / churners
        p_s = max(s, IV_SMOOTHING) / stayers
        total += (p_s - p_c) * math.log(p_s / p_c)
    return total


def _sorted(counts: pl.DataFrame) -> pl.DataFrame:
    return counts.sort("key").with_columns(
        (pl.col("customers") - pl.col("churned")).alias("stayed")
    )


def auc_label(value: float) -> str:
    """The usual reading of an AUC: below 0.6 weak, 0.6-0.7 fair, 0.7-0.8 good, above strong."""
    return next(label for floor, label in AUC_LABELS if value >= floor)


def band_figures(counts: pl.DataFrame, order: list[str], rate: float) -> list[BandFigures]:
    """Per band (in `order`, highest first): customers, churners, rate, lift over the
    overall `rate`, share of all churners, value and value churned (None without a value)."""
    rows = {r["key"]: r for r in counts.iter_rows(named=True)}
    churners = sum(r["churned"] for r in rows.values())
    out: list[BandFigures] = []
    for band in order:
        r = rows.get(band, {"customers": 0, "churned": 0})
        band_rate = r["churned"] / r["customers"] if r["customers"] else 0.0
        out.append(
            {
                "band": band,
                "customers": r["customers"],
                "churned": r["churned"],
                "churn_rate": round(band_rate, 4),
                "lift": round(band_rate / rate, 4) if rate else None,
                "share_of_churned": round(r["churned"] / churners, 4) if churners else 0.0,
                "value": money(r.get("value")),
                "value_churned": money(r.get("value_churned")),
            }
        )
    return out


def decile_figures(counts: pl.DataFrame, rate: float) -> list[DecileFigures]:
    """Score deciles, lowest first, from counts per score: a score's customers all go to
    the decile in which the first of them falls (ties are not split), so deciles may be
    uneven and fewer than ten on a file of few distinct scores."""
    table = _sorted(counts)
    total, churners = table["customers"].sum(), table["churned"].sum()
    before = table["customers"].cum_sum() - table["customers"]
    table = table.with_columns((before * 10 // total + 1).cast(pl.Int64).alias("decile"))
    grouped = (
        table.group_by("decile")
        .agg(
            pl.col("key").min().alias("min_score"),
            pl.col("key").max().alias("max_score"),
            pl.col("customers").sum(),
            pl.col("churned").sum(),
        )
        .sort("decile")
    )
    out: list[DecileFigures] = []
    seen = 0
    for r in grouped.iter_rows(named=True):
        seen += r["churned"]
        decile_rate = r["churned"] / r["customers"]
        out.append(
            {
                "decile": r["decile"],
                "min_score": r["min_score"],
                "max_score": r["max_score"],
                "customers": r["customers"],
                "churned": r["churned"],
                "churn_rate": round(decile_rate, 4),
                "cumulative_share_of_churned": round(seen / churners, 4) if churners else 0.0,
                "lift": round(decile_rate / rate, 4) if rate else None,
            }
        )
    return out


def signal_figures(name: str, counts: pl.DataFrame, rows: int) -> SignalFigures:
    """A signal's AUC and information value over its points (the rows where it had a
    value: a null key is left out), and the share of rows where it had one."""
    known = counts.filter(pl.col("key").is_not_null())
    found = int(known["customers"].sum())
    value = information_value(known)
    area = auc(known)
    return {
        "signal": name,
        "auc": round(area, 4) if area is not None else None,
        "iv": round(value, 4) if value is not None else None,
        "coverage": round(found / rows, 4) if rows else 0.0,
    }
