"""The run summary: rows read/scored/rejected, customers and value per band, the at-risk list.

The at-risk list holds the lowest-scored customers of the at-risk bands only (the bands
flagged `at_risk: true`, else the lowest: the bands whose value is value at risk), so a
small file never shows a healthy customer under it; the summary says how many it was
asked for (`at_risk_top`) and which bands those are (`at_risk_bands`).

The aggregates are small lazy queries over the scoring plan; the caller collects them
together with the reject check, so the input is read once for the summary.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import polars as pl

from chs.alerts import flag_columns
from chs.columns import REASON, ROW, internal
from chs.exprs import tenths, value_or_null
from chs.numbers import mean_of_tenths, rounded
from chs.scheme import Scheme

REJECT_SAMPLE = 10


_V, _ID = internal("v"), internal("id")  # the at-risk order: value, then id


def summary_queries(
    scored: pl.LazyFrame,
    rejected: pl.LazyFrame,
    id_column: str,
    value_column: str | None,
    top: int,
    reasons: pl.Expr,
    at_risk: Sequence[str] | None = None,
) -> dict[str, pl.LazyFrame]:
    """Aggregate queries over the scored rows (score, band, coverage, the id and value
    columns, what `reasons` reads) and the rejected rows (row, reason, the id); collect
    them together. `at_risk`: the bands the at-risk list takes its customers from (the
    scheme's `at_risk_bands()`); without it, the list is the lowest scores of all, and
    `build_summary` keeps those of the at-risk bands, which is the same list when those
    are the lowest bands (the default, and every shipped scheme)."""
    value = value_or_null(value_column)
    ident = pl.col(id_column).cast(pl.String)
    candidates = scored if at_risk is None else scored.filter(pl.col("band").is_in(list(at_risk)))
    return {
        # the counts, the median, the mean and each band's figures from one table per
        # score (a thousand scores at one decimal, times the bands): one read of four
        # columns, not one per figure (10M: 0.30-0.42 s against 0.52-0.60 s)
        "by_score": scored.group_by("score", "band").agg(
            pl.len().alias("n"),
            value.sum().alias("value"),
            pl.col("coverage").sum().alias("coverage"),
            pl.col("coverage").count().alias("coverages"),
            (pl.col("coverage") < 0.5).sum().alias("below_half"),
        ),
        "rejected_n": rejected.select(pl.len().alias("n")),
        "reject_sample": rejected.head(REJECT_SAMPLE).select(ROW, ident.alias("id"), REASON),
        # lowest score first; on a tie the bigger value, then the id
        "at_risk": candidates.with_columns(value.fill_null(0.0).alias(_V), ident.alias(_ID))
        .bottom_k(top, by=["score", _V, _ID], reverse=[False, True, False])
        .sort(["score", _V, _ID], descending=[False, True, False])
        .select(
            ident.alias("id"),
            "score",
            "band",
            value.alias("value"),
            "coverage",
            reasons.alias("reasons"),
        ),
        # the length asked for, so that the summary can say when fewer are at risk
        "at_risk_top": pl.LazyFrame({"top": [top]}, schema={"top": pl.Int64}),
    }


def median_of_counts(counts: pl.DataFrame, value: str, n: str) -> float | None:
    """The median of the values a (value, count) table describes: the middle value, or
    the mean of the two middle ones. Nulls are left out, as `median()` does."""
    table = counts.filter(pl.col(value).is_not_null()).sort(value)
    total = int(table[n].sum())
    if total == 0:
        return None
    ends = table[n].cum_sum()
    values = table[value]

    def at(position: int) -> float:  # the value at a 0-based position in sorted order
        return float(values[int((ends > position).arg_max())])  # type: ignore[arg-type]

    middle = total // 2
    if total % 2:
        return at(middle)
    low, high = at(middle - 1), at(middle)
    return low + (high - low) * 0.5  # as Polars interpolates, to the last bit


def build_summary(
    scheme: Scheme, id_column: str, value_column: str | None, frames: dict[str, pl.DataFrame]
) -> dict[str, Any]:
    """Plain data (JSON-ready) from the collected aggregates."""
    by_score = frames["by_score"]
    stats = _stats(by_score)
    scored, rejected = int(stats["n"]), int(frames["rejected_n"].item())
    read = scored + rejected
    has_value = value_column is not None
    total_value = float(stats["value"] or 0.0)
    per_band = by_score.group_by("band").agg(
        pl.col("n").sum().alias("customers"), pl.col("value").sum()
    )
    bands = _bands(scheme, per_band, scored, total_value if has_value else None)
    risky = scheme.at_risk_bands()
    return {
        "scheme": {"name": scheme.name, "hash": scheme.digest},
        "id_column": id_column,
        "rows": {"read": read, "scored": scored, "rejected": rejected},
        "score": {
            "mean": mean_of_tenths(stats["tenths"], stats["scores"]),
            "median": rounded(median_of_counts(by_score, "score", "n"), 1),
            "min": rounded(stats["min"], 1),
            "max": rounded(stats["max"], 1),
        },
        "coverage": {
            "mean": rounded(stats["coverage_mean"], 3),
            "below_half": int(stats["below_half"] or 0),
        },
        "value": {"column": value_column, "total": rounded(total_value, 2) if has_value else None},
        "bands": bands,
        "at_risk": _at_risk(frames, risky),
        "at_risk_bands": risky,
        "at_risk_top": int(frames["at_risk_top"].item()),
    }


def _stats(by_score: pl.DataFrame) -> dict[str, Any]:
    """The whole file's figures from the table per score and band: rows, the scores'
    sum in tenths and count (an exact mean), lowest and highest, coverage, value."""
    scores, coverages = pl.col("score").is_not_null(), pl.col("coverages").sum()
    return by_score.select(
        pl.col("n").sum(),
        (tenths("score") * pl.col("n")).sum().alias("tenths"),
        pl.col("n").filter(scores).sum().alias("scores"),
        pl.col("score").min().alias("min"),
        pl.col("score").max().alias("max"),
        pl.when(coverages > 0).then(pl.col("coverage").sum() / coverages).alias("coverage_mean"),
        pl.col("below_half").sum(),
        pl.col("value").sum(),
    ).row(0, named=True)


def _at_risk(frames: dict[str, pl.DataFrame], bands: list[str]) -> list[dict[str, Any]]:
    """The lowest-scored customers of the at-risk `bands` (never a healthy customer, on a
    file with fewer at risk than the list's length), lowest first."""
    return [
        {
            "id": r["id"],
            "score": r["score"],
            "band": r["band"],
            "value": rounded(r["value"], 2),
            "coverage": r["coverage"],
            "reasons": r["reasons"],
        }
        for r in frames["at_risk"].filter(pl.col("band").is_in(bands)).iter_rows(named=True)
    ]


def _bands(
    scheme: Scheme, per_band: pl.DataFrame, scored: int, total_value: float | None
) -> list[dict[str, Any]]:
    """Customers and value per band, with their shares; `total_value` None: no value
    column, so no value figures."""
    found = {r["band"]: r for r in per_band.iter_rows(named=True)}
    has_value = total_value is not None
    bands = []
    for band in scheme.bands:
        row = found.get(band.name, {"customers": 0, "value": 0.0})
        customers = int(row["customers"])
        value = float(row["value"] or 0.0)
        bands.append(
            {
                "band": band.name,
                "label": band.shown,
                "from": band.threshold,
                "color": band.color,
                "customers": customers,
                "share": rounded(customers / scored, 4) if scored else 0.0,
                "value": rounded(value, 2) if has_value else None,
                "value_share": (rounded(value / total_value, 4) if total_value else 0.0)
                if has_value
                else None,
            }
        )
    return bands


def reject_lines(frames: dict[str, pl.DataFrame]) -> list[str]:
    """`row 12 (C0012): logins: 'abc' is not a number` for the first rejected rows."""
    return [
        f"row {r[ROW]} ({(r['id'] or '').strip() or 'no id'}): {r[REASON]}"
        for r in frames["reject_sample"].iter_rows(named=True)
    ]


# -- month over month --------------------------------------------------------------------


def alert_queries(frame: pl.LazyFrame, scheme: Scheme) -> dict[str, pl.LazyFrame]:
    """How many customers each alert flags, for `build_alerts`."""
    if not scheme.alerts:
        return {}
    return {"alerts": frame.select([pl.col(c).sum() for c in flag_columns(scheme)])}


def build_alerts(
    scheme: Scheme, frames: dict[str, pl.DataFrame], inactive: list[str]
) -> list[dict[str, Any]]:
    """Customers per alert; `active` is false for an alert that needs a previous snapshot
    this run did not have."""
    if not scheme.alerts:
        return []
    counts = frames["alerts"].row(0)
    return [
        {
            "alert": a.name,
            "label": a.shown,
            "severity": a.severity,
            "owner": a.owner,
            "action": a.action,
            "customers": int(n),
            "active": a.name not in inactive,
        }
        for a, n in zip(scheme.alerts, counts, strict=True)
    ]


def matrix_queries(
    frame: pl.LazyFrame, extras: list[tuple[str, Scheme]], value_column: str | None
) -> dict[str, pl.LazyFrame]:
    """Main band x each extra score's band: customers and value (health x inertia)."""
    value = value_or_null(value_column)
    return {
        f"matrix_{name}": frame.group_by("band", pl.col(f"{name}_band").alias("other")).agg(
            pl.len().alias("customers"), value.sum().alias("value")
        )
        for name, _ in extras
    }


def build_matrices(
    frames: dict[str, pl.DataFrame],
    scheme: Scheme,
    extras: list[tuple[str, Scheme]],
    value_column: str | None,
) -> list[dict[str, Any]]:
    """Each band x band matrix of `matrix_queries`, every cell present (0 when empty)."""
    out = []
    for name, other in extras:
        cells = {(r["band"], r["other"]): r for r in frames[f"matrix_{name}"].iter_rows(named=True)}
        out.append(
            {
                "score": name,
                "rows": [b.name for b in scheme.bands],
                "columns": [b.name for b in other.bands],
                "cells": [
                    {
                        "band": b.name,
                        "other": o.name,
                        "customers": int(cells[(b.name, o.name)]["customers"])
                        if (b.name, o.name) in cells
                        else 0,
                        "value": (
                            rounded(cells[(b.name, o.name)]["value"], 2)
                            if (b.name, o.name) in cells
                            else 0.0
                        )
                        if value_column
                        else None,
                    }
                    for b in scheme.bands
                    for o in other.bands
                ],
            }
        )
    return out
