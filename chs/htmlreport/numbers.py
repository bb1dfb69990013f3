"""The numbers of the HTML report, aggregated in Polars from the snapshots (a few
hundred rows whatever the portfolio's size): the headline, the distribution, the
movement since the previous snapshot, the trend over the history, the risk map, the
at-risk list and, with outcomes, how well the bands told churn. Plain data, JSON-ready:
the page's tables print these numbers, and `chs report --json` returns them."""

from __future__ import annotations

import datetime as dt
import itertools
from dataclasses import dataclass
from typing import Any

import polars as pl

from chs.backtest import CHURNED, auc, band_figures, counts_by, decile_figures
from chs.columns import KEY
from chs.exprs import tenths
from chs.forecast import count_matrix, probabilities, project, transition_counts
from chs.movement import per_customer
from chs.numbers import mean_of_tenths, money, rounded
from chs.outcomes import Outcomes, labelled
from chs.rollup import build_rollups, rollup_queries
from chs.snapshot import Snapshot, extra_column

VALUE = "__value"  # the value column as a number, in a Snapshot's frame
BIN = 5  # the histogram's bins: 0-5, 5-10, …, 95-100 (100 in the last)
# colour-blind safe (Okabe and Ito), best band first, for bands without a colour
PALETTE = ["#009E73", "#56B4E9", "#E69F00", "#D55E00", "#CC79A7", "#0072B2", "#999999"]
# the scheme's terminal colour names, as colours that keep their contrast on white
NAMED = {
    "green": "#009E73", "bright_green": "#009E73", "blue": "#0072B2", "bright_blue": "#0072B2",
    "cyan": "#56B4E9", "yellow": "#E0C200", "bright_yellow": "#E0C200", "orange": "#E69F00",
    "red": "#D55E00", "bright_red": "#D55E00", "magenta": "#CC79A7", "purple": "#7E57C2",
    "grey": "#888888", "white": "#BBBBBB",
}  # fmt: skip


@dataclass(frozen=True)
class Portfolio:
    """What the report reads: this snapshot (with its extra columns), the bands in
    order, those at risk, and the optional sources of the later sections."""

    this: Snapshot
    bands: list[str]
    at_risk: list[str]
    colors: list[str | None]
    edges: list[float | None]  # each band's lower bound, where known
    by: list[list[str]]
    owner: str | None
    top: int
    have: frozenset[str]  # the columns this snapshot's file has (kept as extras)
    previous: Snapshot | None = None
    past: tuple[tuple[dt.date, Snapshot], ...] = ()  # earlier snapshots, oldest first
    outcomes: Outcomes | None = None
    horizon: int = 90


# the palette's colours for n bands, best first: green to vermillion, the ends kept
_PICKS = {1: [0], 2: [0, 3], 3: [0, 2, 3], 4: [0, 1, 2, 3]}


def band_colors(colors: list[str | None]) -> list[str]:
    """Each band's colour: the scheme's where it gives one, else the palette's."""
    picks = _PICKS.get(len(colors), list(range(len(colors))))
    return [NAMED.get(c or "", PALETTE[picks[i] % len(PALETTE)]) for i, c in enumerate(colors)]


def extra(c: str) -> pl.Expr:
    return pl.col(extra_column(c))


def page_numbers(p: Portfolio) -> dict[str, Any]:
    """Every section's numbers (None for a section whose source was not given)."""
    rows = p.this.frame
    return {
        "bands": [
            {"band": b, "color": c, "from": e}
            for b, c, e in zip(p.bands, band_colors(p.colors), p.edges, strict=True)
        ],
        "at_risk_bands": p.at_risk,
        "tiles": _tiles(p),
        "distribution": _distribution(rows, p.this.value_column is not None),
        "movement": _movement(p) if p.previous is not None else None,
        "trend": _trend(p) if p.past else None,
        "risk": _risk(p),
        "at_risk": _at_risk(p),
        "outcomes": _outcomes(p) if p.outcomes is not None else None,
        "forecast": _forecast(p) if p.past else None,
    }


def _mean_parts() -> list[pl.Expr]:
    """The score's exact sum in tenths and its count, for `_mean`."""
    return [tenths("score").sum().alias("tenths"), pl.col("score").count().alias("scores")]


def _mean(row: dict[str, Any]) -> float | None:
    """The mean score of a row of `_mean_parts`, the same in any order of addition."""
    return mean_of_tenths(row["tenths"], row["scores"])


def _tiles(p: Portfolio) -> dict[str, Any]:
    """Customers, value, mean score (and its change), the share of each band, alerts."""
    rows = p.this.frame
    totals, per_band = pl.collect_all(
        [
            rows.select(
                pl.len().alias("customers"),
                pl.col(VALUE).sum().alias("value"),
                *_mean_parts(),
            ),
            rows.group_by("band").agg(
                pl.len().alias("customers"), pl.col(VALUE).sum().alias("value")
            ),
        ]
    )
    t = totals.row(0, named=True)
    found = {r["band"]: r for r in per_band.iter_rows(named=True)}
    before = (
        _mean(p.previous.frame.select(_mean_parts()).collect().row(0, named=True))
        if p.previous is not None
        else None
    )
    has_value = p.this.value_column is not None
    bands = []
    for band in p.bands:
        r = found.get(band, {"customers": 0, "value": 0.0})
        bands.append(
            {
                "band": band,
                "customers": r["customers"],
                "share": round(r["customers"] / t["customers"], 4) if t["customers"] else 0.0,
                "value": money(r["value"]) if has_value else None,
                "value_share": round(r["value"] / t["value"], 4)
                if has_value and t["value"]
                else None,
            }
        )
    mean = _mean(t)
    return {
        "customers": t["customers"],
        "value": money(t["value"]) if has_value else None,
        "mean_score": mean,
        "mean_change": rounded(mean - before) if before is not None and mean is not None else None,
        "bands": bands,
        "alerts": _alerts(p),
    }


def _alerts(p: Portfolio) -> list[dict[str, Any]] | None:
    """Customers per fired alert (the `alerts` column: names joined by `; `)."""
    if "alerts" not in p.have:
        return None
    fired = (
        p.this.frame.select(extra("alerts").str.split("; ").alias("alert"))
        .explode("alert")
        .filter(pl.col("alert").is_not_null() & (pl.col("alert") != ""))
        .group_by("alert")
        .agg(pl.len().alias("customers"))
        .sort(["customers", "alert"], descending=[True, False])
        .collect()
    )
    return fired.to_dicts()


def _distribution(rows: pl.LazyFrame, has_value: bool) -> list[dict[str, Any]]:
    """Customers and value per score bin of 5 points and band."""
    start = (pl.col("score") / BIN).floor().clip(0, 100 / BIN - 1) * BIN
    found = (
        rows.filter(pl.col("score").is_not_null())
        .group_by(start.alias("start"), "band")
        .agg(pl.len().alias("customers"), pl.col(VALUE).sum().alias("value"))
        .sort("start", "band")
        .collect()
    )
    return [
        {"start": r["start"], "end": r["start"] + BIN, "band": r["band"] or "(none)",
         "customers": r["customers"], "value": money(r["value"]) if has_value else None}
        for r in found.iter_rows(named=True)
    ]  # fmt: skip


def _movement(p: Portfolio) -> dict[str, Any]:
    """Band to band (new and lost customers as bands of their own), the biggest drops
    with the signals that fell, and the customers who came and went."""
    assert p.previous is not None
    has_value = p.this.value_column is not None
    rows = per_customer(p.previous, p.this).with_columns(
        pl.col("last_band").fill_null("(new)"),
        pl.col("this_band").fill_null("(lost)"),
        pl.coalesce("this_value", "last_value").alias("value"),
    )
    matrix, drops = pl.collect_all(
        [
            rows.group_by("last_band", "this_band").agg(
                pl.len().alias("customers"), pl.col("value").sum().alias("value")
            ),
            rows.filter(pl.col("delta") < 0)
            .sort(["delta", "value"], descending=[False, True])
            .head(p.top),
        ]
    )
    new = matrix.filter(pl.col("last_band") == "(new)").select(pl.col("customers", "value").sum())
    lost = matrix.filter(pl.col("this_band") == "(lost)").select(pl.col("customers", "value").sum())
    return {
        "previous": str(p.previous.path),
        "previous_as_of": p.previous.as_of,
        "matrix": [
            {"from": r["last_band"], "to": r["this_band"], "customers": r["customers"],
             "value": money(r["value"]) if has_value else None}
            for r in matrix.sort("last_band", "this_band").iter_rows(named=True)
        ],
        "drops": [
            {"id": r["id"], "previous_score": r["last_score"], "score": r["this_score"], "delta": r["delta"],
             "previous_band": r["last_band"], "band": r["this_band"], "value": money(r["value"]),
             "drivers": r["drivers"]}
            for r in drops.iter_rows(named=True)
        ],
        "new": _moved(new.row(0, named=True)),
        "lost": _moved(lost.row(0, named=True)),
    }  # fmt: skip


def _moved(r: dict[str, Any] | None) -> dict[str, Any]:
    return (
        {"customers": r["customers"], "value": money(r["value"])}
        if r
        else {"customers": 0, "value": 0.0}
    )


def _trend(p: Portfolio) -> dict[str, Any]:
    """Per snapshot, oldest first: customers, mean score and band shares, overall and
    for each value of each single `by` column."""
    snaps = [*p.past, (_date(p.this), p.this)]
    columns = [c for spec in p.by if len(spec) == 1 for c in spec]
    overall, by = [], {c: [] for c in columns}
    for when, snap in snaps:
        overall += _shares(snap.frame, when, [])
        for c in columns:
            by[c] += _shares(snap.frame.with_columns(extra(c).cast(pl.String).alias(c)), when, [c])
    return {"snapshots": [d.isoformat() for d, _ in snaps], "overall": overall, "by": by}


def _date(snap: Snapshot) -> dt.date:
    return dt.date.fromisoformat(snap.as_of) if snap.as_of else dt.date.today()


def _shares(rows: pl.LazyFrame, when: dt.date, keys: list[str]) -> list[dict[str, Any]]:
    """Customers, mean score and each band's share, per group of `keys` (one group if none)."""
    group = [pl.col(k) for k in keys] or [pl.lit("all").alias("__all")]
    found = (
        rows.group_by(*group)
        .agg(
            pl.len().alias("customers"),
            *_mean_parts(),
            pl.col("band").fill_null("(none)").value_counts().alias("bands"),
        )
        .collect()
    )
    out = []
    for r in found.sort(keys or "__all").iter_rows(named=True):
        counts = {b["band"]: b["count"] for b in r["bands"]}
        out.append(
            {"as_of": when.isoformat(), **{k: r[k] for k in keys}, "customers": r["customers"],
             "mean_score": _mean(r),
             "shares": {b: round(n / r["customers"], 4) for b, n in counts.items()}}
        )  # fmt: skip
    return out


def _risk(p: Portfolio) -> list[dict[str, Any]]:
    """For each `by` column and each pair of them, chs's roll-ups (chs.rollup): per
    group, customers, band shares, mean score, value, the value in the at-risk bands and
    the share of customers there."""
    singles = [spec[0] for spec in p.by if len(spec) == 1]
    specs = [*p.by, *([a, b] for a, b in itertools.combinations(singles, 2))]
    specs = [s for i, s in enumerate(specs) if s not in specs[:i]]
    columns = dict.fromkeys(c for spec in specs for c in spec)
    frame = p.this.frame.select(
        "score", "band", VALUE, *[extra(c).cast(pl.String).alias(c) for c in columns]
    )
    value = VALUE if p.this.value_column is not None else None
    queries = rollup_queries(frame, specs, p.bands, value, delta=False)
    frames = dict(zip(queries, pl.collect_all(list(queries.values())), strict=True))
    return build_rollups(
        frames, specs, p.bands, p.at_risk, has_value=value is not None, delta=False
    )


def _at_risk(p: Portfolio) -> list[dict[str, Any]]:
    """The `top` customers of the at-risk bands, lowest score first, then highest value."""
    rows = p.this.frame
    if p.previous is not None:
        last = p.previous.frame.select(KEY, pl.col("score").alias("__last"))
        rows = rows.join(last, on=KEY, how="left")
    else:
        rows = rows.with_columns(pl.lit(None, pl.Float64).alias("__last"))
    shown = [c for c in ("reasons", "coverage") if c in p.have]
    picked = (
        rows.filter(pl.col("band").is_in(p.at_risk))
        .sort(["score", VALUE], descending=[False, True], nulls_last=True)
        .head(p.top)
        .select(
            pl.col(KEY).alias("id"),
            "score",
            "band",
            (pl.col("score") - pl.col("__last")).round(1).alias("delta"),
            pl.col(VALUE).alias("value"),
            (extra(p.owner).cast(pl.String) if p.owner else pl.lit(None, pl.String)).alias("owner"),
            *[extra(c).alias(c) for c in shown],
        )
        .collect()
    )
    return [
        {**r, "value": money(r["value"]), "reasons": r.get("reasons") or ""}
        for r in picked.iter_rows(named=True)
    ]


def _outcomes(p: Portfolio) -> dict[str, Any]:
    """Churn per band and by score decile, and the AUC: with churn dates, over every
    snapshot whose horizon the outcomes cover (as chs backtest pools them), each
    customer churned when its date falls within the horizon; with a yes/no outcome,
    over this snapshot."""
    assert p.outcomes is not None
    used = _observed(p)
    columns = [KEY, "score", "band", VALUE]  # alike in every snapshot, whatever else each has
    rows = pl.concat(
        [labelled(s.frame.select(columns), p.outcomes, d, p.horizon) for d, s in used]
    ).filter(pl.col("score").is_not_null())
    value = VALUE if p.this.value_column is not None else None
    scores, bands, totals = pl.collect_all(
        [
            counts_by(rows, pl.col("score")),
            counts_by(rows, pl.col("band"), value),
            rows.select(pl.len().alias("customers"), pl.col(CHURNED).sum().alias("churned")),
        ]
    )
    t = totals.row(0, named=True)
    rate = t["churned"] / t["customers"] if t["customers"] else 0.0
    area = auc(scores)
    return {
        "outcomes": p.outcomes.path,
        "horizon_days": p.horizon if p.outcomes.dated else None,
        "snapshots": [d.isoformat() for d, _ in used],
        "customers": t["customers"],
        "churned": t["churned"],
        "churn_rate": round(rate, 4),
        "auc": round(area, 4) if area is not None else None,
        "bands": band_figures(bands, p.bands, rate),
        "deciles": decile_figures(scores, rate),
    }


def _observed(p: Portfolio) -> list[tuple[dt.date, Snapshot]]:
    """The snapshots the outcomes are measured on: this one for a yes/no outcome; with
    churn dates, those whose horizon ends by the latest churn date (else this one)."""
    assert p.outcomes is not None
    this = (_date(p.this), p.this)
    latest = p.outcomes.latest
    if latest is None:
        return [this]
    covered = [(d, s) for d, s in [*p.past, this] if d + dt.timedelta(days=p.horizon) <= latest]
    return covered or [this]


FORECAST_STEPS = 12  # snapshots ahead (months, for a monthly history)


def _forecast(p: Portfolio) -> dict[str, Any]:
    """The customers and value expected to be lost over the next snapshots, from the
    band-to-band moves between the history's snapshots (a Markov chain, as chs forecast)."""
    snaps = [s for _, s in p.past] + [p.this]
    pairs = [transition_counts(a.frame, b.frame) for a, b in itertools.pairwise(snaps)]
    matrix = probabilities(count_matrix(pl.collect_all(pairs), p.bands))
    start = (
        p.this.frame.group_by("band")
        .agg(pl.len().alias("n"), pl.col(VALUE).sum().alias("v"))
        .collect()
    )
    customers = {r["band"]: float(r["n"]) for r in start.iter_rows(named=True)}
    values = (
        {r["band"]: float(r["v"] or 0.0) for r in start.iter_rows(named=True)}
        if p.this.value_column is not None
        else None
    )
    return {"transitions": len(pairs), "steps": project(customers, values, matrix, FORECAST_STEPS)}
