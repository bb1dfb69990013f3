"""Portfolio roll-ups: per segment, region or owner, and per parent account.

Per group: customers and their share in each band, mean score, value, value at risk
(value in the at-risk bands) and, when a previous snapshot is known, the mean change of
score. Per parent account: the value-weighted score of its children and the share of the
children's value in each band; without a value column, the plain mean of the children's
scores and the share of the children in each band. The aggregates are lazy queries, collected with the rest
of a run.
"""

from __future__ import annotations

from typing import Any

import polars as pl

from chs.columns import column_part, internal
from chs.errors import OPTION, DataError
from chs.exprs import tenths, trimmed_id
from chs.hints import close_matches
from chs.numbers import mean_of_tenths

# The aggregates of a roll-up, beside its group-by columns (which may be named anything:
# `--by value`), and the parent roll-up's working ones.
_N, _SCORE, _VALUE, _DELTA = (internal(n) for n in ("customers", "score", "value", "delta"))
_DELTA_N, _SCORES = internal("deltas"), internal("scores")
_WEIGHTED, _WEIGHT, _MEAN = internal("weighted"), internal("weight"), internal("mean")


def _in_band(band: str) -> str:
    return internal("band", band)


def _value_in_band(band: str) -> str:
    return internal("value", band)


def check_by(by: list[list[str]], columns: list[str], source: str) -> None:
    """Refuse a roll-up column the file lacks before anything is read (a `by` error)."""
    for spec in by:
        for col in spec:
            if col not in columns:
                close = close_matches(col, columns)
                hint = f" Did you mean {close[0]!r}?" if close else ""
                raise DataError(f"{source}: {OPTION} column {col!r} not found.{hint}", option="by")


def _value(value_column: str | None) -> pl.Expr:
    """The value as a float, or a null one, so the aggregates read alike without a value."""
    return pl.col(value_column).cast(pl.Float64) if value_column else pl.lit(None, pl.Float64)


def rollup_queries(
    frame: pl.LazyFrame,
    by: list[list[str]],
    bands: list[str],
    value_column: str | None,
    *,
    delta: bool,
) -> dict[str, pl.LazyFrame]:
    """One aggregate query per roll-up; `frame` has score, band (and delta if `delta`)."""
    value = _value(value_column)
    queries = {}
    for i, spec in enumerate(by):
        aggs = [
            pl.len().alias(_N),
            tenths("score").sum().alias(_SCORE),
            pl.col("score").count().alias(_SCORES),
            value.sum().alias(_VALUE),
            *[(pl.col("band") == b).sum().alias(_in_band(b)) for b in bands],
            *[value.filter(pl.col("band") == b).sum().alias(_value_in_band(b)) for b in bands],
        ]
        if delta:
            aggs += [tenths("delta").sum().alias(_DELTA), pl.col("delta").count().alias(_DELTA_N)]
        queries[f"rollup_{i}"] = frame.group_by(spec).agg(aggs).sort(spec, nulls_last=True)
    return queries


def build_rollups(
    frames: dict[str, pl.DataFrame],
    by: list[list[str]],
    bands: list[str],
    at_risk: list[str],
    *,
    has_value: bool,
    delta: bool,
) -> list[dict[str, Any]]:
    """The collected roll-up queries as rows for JSON and rendering: counts, shares and
    rounded figures, value ones only when the file has a value column."""
    out = []
    for i, spec in enumerate(by):
        groups = []
        for r in frames[f"rollup_{i}"].iter_rows(named=True):
            n = int(r[_N])
            value = float(r[_VALUE] or 0.0)
            risk = sum(float(r[_value_in_band(b)] or 0.0) for b in at_risk)
            count = {b: int(r[_in_band(b)]) for b in bands}
            groups.append(
                {
                    "group": {c: r[c] for c in spec},
                    "customers": n,
                    "bands": count,
                    "shares": {b: round(count[b] / n, 4) if n else 0.0 for b in bands},
                    "at_risk_share": round(sum(count[b] for b in at_risk) / n, 4) if n else 0.0,
                    "mean_score": mean_of_tenths(r[_SCORE], r[_SCORES]),
                    "value": round(value, 2) if has_value else None,
                    "value_at_risk": round(risk, 2) if has_value else None,
                    "mean_delta": mean_of_tenths(r[_DELTA], r[_DELTA_N]) if delta else None,
                }
            )
        out.append({"by": spec, "at_risk_bands": at_risk, "groups": groups})
    return out


def parent_query(
    frame: pl.LazyFrame, parent: str, bands: list[str], value_column: str | None
) -> pl.LazyFrame:
    """Per parent account: children, score and share per band, weighted by the children's
    value, or without a value column, each child counting once (the plain mean, and
    shares of customers)."""
    parent_id = trimmed_id(parent)  # " P1 " is P1, in NFC as every id
    if value_column:
        weight = _value(value_column).fill_null(0.0)
        weighted = [
            (pl.col("score") * weight).sum().alias(_WEIGHTED),
            weight.sum().alias(_WEIGHT),
            *[weight.filter(pl.col("band") == b).sum().alias(_in_band(b)) for b in bands],
        ]
    else:  # a literal weight would be one per group, not one per child; the mean is exact
        weighted = [
            pl.lit(None, dtype=pl.Float64).alias(_WEIGHTED),
            pl.len().cast(pl.Float64).alias(_WEIGHT),
            *[(pl.col("band") == b).sum().cast(pl.Float64).alias(_in_band(b)) for b in bands],
        ]
    return (
        frame.filter(parent_id.is_not_null() & (parent_id != ""))
        .group_by(parent_id.alias("parent"))
        .agg(
            pl.len().alias("children"),
            *weighted,
            tenths("score").sum().alias(_MEAN),
            pl.col("score").count().alias(_SCORES),
            _value(value_column).sum().alias("value"),
        )
        .sort("parent")
    )


def build_parents(
    frame: pl.DataFrame, bands: list[str], *, has_value: bool
) -> list[dict[str, Any]]:
    """The collected parent query as rows, weakest parent first: the accounts to call.
    `value_shares` are shares of the children's value, or of the children without one."""
    out = []
    for r in frame.iter_rows(named=True):
        weight = float(r[_WEIGHT] or 0.0)
        by_value = r[_WEIGHTED]
        score = (
            round(by_value / weight, 1)
            if by_value is not None and weight
            else mean_of_tenths(r[_MEAN], r[_SCORES])
        )
        out.append(
            {
                "parent": r["parent"],
                "children": int(r["children"]),
                "score": score,
                "value": round(float(r["value"] or 0.0), 2) if has_value else None,
                "value_shares": {
                    b: round(float(r[_in_band(b)] or 0.0) / weight, 4) if weight else 0.0
                    for b in bands
                },
            }
        )
    out.sort(key=lambda p: (p["score"] if p["score"] is not None else 101.0, p["parent"]))
    return out


def rollup_table(rollups: list[dict[str, Any]], bands: list[str]) -> pl.DataFrame:
    """The roll-ups as one table (for -o): a row per group of each roll-up."""
    rows = []
    for rollup in rollups:
        for g in rollup["groups"]:
            rows.append(
                {
                    "by": "+".join(rollup["by"]),
                    "group": " / ".join("" if v is None else str(v) for v in g["group"].values()),
                    "customers": g["customers"],
                    "mean_score": g["mean_score"],
                    **{f"share_{column_part(b)}": g["shares"][b] for b in bands},
                    "at_risk_share": g["at_risk_share"],
                    "value": g["value"],
                    "value_at_risk": g["value_at_risk"],
                    "mean_delta": g["mean_delta"],
                }
            )
    return pl.DataFrame(rows, infer_schema_length=None)
