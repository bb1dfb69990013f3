"""The report's charts: Vega-Lite specifications built with Altair from the report's
numbers (already aggregated: a few hundred rows), rendered to SVG text by
vl-convert, which needs no browser, no JavaScript in the page and no network.

Altair and vl-convert are imported here only, by the HTML report."""

from __future__ import annotations

from typing import Any

import altair as alt
import polars as pl
import vl_convert as vlc

WIDTH = 640
FONT = "Helvetica, Arial, sans-serif"


def svg(chart: alt.TopLevelMixin) -> str:
    """The chart as an SVG element, with the page's font."""
    spec = chart.configure(font=FONT).configure_view(strokeWidth=0).to_dict()
    text = vlc.vegalite_to_svg(spec)
    return text[text.index("<svg") :]


def band_scale(numbers: dict[str, Any]) -> alt.Scale:
    bands = numbers["bands"]
    return alt.Scale(domain=[b["band"] for b in bands], range=[b["color"] for b in bands])


def band_shares(numbers: dict[str, Any]) -> str:
    """One bar of customers and one of value, split by band."""
    rows = []
    for b in numbers["tiles"]["bands"]:
        rows.append({"what": "customers", "band": b["band"], "share": b["share"]})
        if b["value_share"] is not None:
            rows.append({"what": "value", "band": b["band"], "share": b["value_share"]})
    order = {b["band"]: i for i, b in enumerate(numbers["bands"])}
    frame = pl.DataFrame(rows).with_columns(
        pl.col("band").replace_strict(order, return_dtype=pl.Int64).alias("order")
    )
    chart = (
        alt.Chart(frame)
        .mark_bar()
        .encode(
            y=alt.Y("what:N", title=None),
            x=alt.X("share:Q", stack="normalize", axis=alt.Axis(format="%"), title="share"),
            color=alt.Color("band:N", scale=band_scale(numbers), title="band"),
            order=alt.Order("order:Q"),
        )
        .properties(width=WIDTH, height=70)
    )
    return svg(chart)


def distribution(numbers: dict[str, Any], measure: str) -> str:
    """The histogram of scores (by `customers` or `value`), coloured by band, with the
    bands' lower edges drawn."""
    frame = pl.DataFrame(
        numbers["distribution"] or [{"start": 0, "end": 5, "band": "", measure: 0}],
        infer_schema_length=None,
    ).fill_null(0)
    bars = (
        alt.Chart(frame)
        .mark_bar(stroke="white", strokeWidth=0.5)
        .encode(
            x=alt.X("start:Q", bin=alt.Bin(binned=True, step=5), title="score",
                    scale=alt.Scale(domain=[0, 100])),
            x2="end:Q",
            y=alt.Y(f"sum({measure}):Q", title=measure),
            color=alt.Color("band:N", scale=band_scale(numbers), title="band"),
        )
    )  # fmt: skip
    edges = [{"edge": b["from"]} for b in numbers["bands"] if b["from"]]
    rules = (
        alt.Chart(pl.DataFrame(edges or [{"edge": None}], schema={"edge": pl.Float64}))
        .mark_rule(color="#333333", strokeDash=[4, 3])
        .encode(x="edge:Q")
    )
    return svg(alt.layer(bars, rules).properties(width=WIDTH, height=220))


def migration(movement: dict[str, Any], bands: list[str]) -> str:
    """Band to band: a heatmap of customers, each cell with its count."""
    frame = pl.DataFrame(movement["matrix"], infer_schema_length=None)
    order = ["(new)", *bands]
    base = alt.Chart(frame).encode(
        x=alt.X("to:N", sort=[*bands, "(lost)"], title="this snapshot"),
        y=alt.Y("from:N", sort=order, title="previous snapshot"),
    )
    cells = base.mark_rect().encode(
        color=alt.Color("customers:Q", scale=alt.Scale(scheme="blues"), title="customers")
    )
    text = base.mark_text(fontSize=12).encode(
        text="customers:Q",
        color=alt.condition("datum.customers > 0", alt.value("#111111"), alt.value("#111111")),
    )
    return svg(alt.layer(cells, text).properties(width=WIDTH * 0.6, height=220))


def trend(trend: dict[str, Any], numbers: dict[str, Any]) -> str:
    """Band shares per snapshot (stacked) beside the mean score."""
    rows = [
        {"as_of": s["as_of"], "band": band, "share": share}
        for s in trend["overall"]
        for band, share in s["shares"].items()
    ]
    shares = (
        alt.Chart(pl.DataFrame(rows))
        .mark_area()
        .encode(
            x=alt.X("as_of:T", title="snapshot"),
            y=alt.Y("share:Q", stack="normalize", axis=alt.Axis(format="%"), title="share"),
            color=alt.Color("band:N", scale=band_scale(numbers), title="band"),
        )
        .properties(width=WIDTH * 0.55, height=200)
    )
    means = (
        alt.Chart(pl.DataFrame(trend["overall"]).select("as_of", "mean_score"))
        .mark_line(point=True, color="#0072B2")
        .encode(
            x=alt.X("as_of:T", title="snapshot"),
            y=alt.Y("mean_score:Q", title="mean score", scale=alt.Scale(zero=False)),
        )
        .properties(width=WIDTH * 0.35, height=200)
    )
    return svg(alt.hconcat(shares, means))


def trend_by(rows: list[dict[str, Any]], column: str, at_risk: list[str]) -> str:
    """Per snapshot, one line for each value of `column` (charted as `group`): the mean
    score, and the share of its customers in the at-risk bands."""
    frame = pl.DataFrame(
        [{"as_of": r["as_of"], "group": str(r[column]), "mean_score": r["mean_score"],
          "at_risk": sum(r["shares"].get(b, 0.0) for b in at_risk)} for r in rows],
        infer_schema_length=None,
    )  # fmt: skip
    color = alt.Color("group:N", scale=alt.Scale(range=PALETTE_LINES), title=column)
    base = alt.Chart(frame).mark_line(point=True).properties(width=WIDTH * 0.45, height=200)
    means = base.encode(
        x=alt.X("as_of:T", title="snapshot"),
        y=alt.Y("mean_score:Q", title="mean score", scale=alt.Scale(zero=False)),
        color=color,
    )
    risky = base.encode(
        x=alt.X("as_of:T", title="snapshot"),
        y=alt.Y("at_risk:Q", title="share at risk", axis=alt.Axis(format="%")),
        color=color,
    )
    return svg(alt.hconcat(means, risky))


PALETTE_LINES = ["#0072B2", "#E69F00", "#009E73", "#D55E00", "#CC79A7", "#56B4E9", "#999999"]


def risk_map(risk: dict[str, Any]) -> str:
    """The value at risk per group: bars for one column, a heatmap for a pair. The
    columns are charted as k0, k1 (Vega-Lite would read `a.b` or `a[0]` as a path)."""
    spec = risk["by"]
    rows = [
        {**{f"k{i}": g["group"][c] for i, c in enumerate(spec)},
         **{k: g[k] for k in ("customers", "value", "value_at_risk", "at_risk_share")}}
        for g in risk["groups"]
    ]  # fmt: skip
    keys = [f"k{i}" for i in range(len(spec))]
    frame = pl.DataFrame(rows, infer_schema_length=None).with_columns(
        [pl.col(k).cast(pl.String).fill_null("(none)") for k in keys]
    )
    if len(spec) == 1:
        valued = frame["value_at_risk"].null_count() < frame.height  # else: no value column
        measure = (
            alt.X("value_at_risk:Q", title="value at risk")
            if valued
            else alt.X("at_risk_share:Q", title="share at risk", axis=alt.Axis(format="%"))
        )
        chart = (
            alt.Chart(frame)
            .mark_bar(color="#D55E00")
            .encode(y=alt.Y("k0:N", sort="-x", title=spec[0]), x=measure)
            .properties(width=WIDTH * 0.7, height=max(60, 22 * frame.height))
        )
        return svg(chart)
    base = alt.Chart(frame).encode(x=alt.X("k0:N", title=spec[0]), y=alt.Y("k1:N", title=spec[1]))
    cells = base.mark_rect().encode(
        color=alt.Color("at_risk_share:Q", scale=alt.Scale(scheme="oranges", domain=[0, 1]),
                        legend=alt.Legend(format="%"), title="share at risk")
    )  # fmt: skip
    text = base.mark_text(fontSize=11, color="#111111").encode(
        text=alt.Text("at_risk_share:Q", format=".0%")
    )
    height = 40 * frame["k1"].n_unique()
    return svg(alt.layer(cells, text).properties(width=WIDTH * 0.7, height=height))


def gauges(at_risk: list[dict[str, Any]], numbers: dict[str, Any]) -> str:
    """Each listed customer's score on a 0-100 gauge, in the band's colour."""
    frame = pl.DataFrame(
        [{"id": str(r["id"]), "score": r["score"], "band": r["band"], "rank": i}
         for i, r in enumerate(at_risk)] or [{"id": "", "score": 0.0, "band": "", "rank": 0}],
    )  # fmt: skip
    order = frame["id"].to_list()
    track = (
        alt.Chart(frame)
        .mark_bar(color="#EEEEEE")
        .encode(y=alt.Y("id:N", sort=order, title=None), x=alt.datum(100))
    )
    bars = (
        alt.Chart(frame)
        .mark_bar()
        .encode(
            y=alt.Y("id:N", sort=order, title=None),
            x=alt.X("score:Q", scale=alt.Scale(domain=[0, 100]), title="score"),
            color=alt.Color("band:N", scale=band_scale(numbers), legend=None),
        )
    )
    return svg(
        alt.layer(track, bars).properties(width=WIDTH * 0.35, height=max(40, 20 * frame.height))
    )


def churn_by_band(outcomes: dict[str, Any], numbers: dict[str, Any]) -> str:
    """The churn rate of each band, and the lift of each score decile."""
    bands = (
        alt.Chart(pl.DataFrame(outcomes["bands"]).select("band", "churn_rate"))
        .mark_bar()
        .encode(
            x=alt.X("band:N", sort=[b["band"] for b in numbers["bands"]]),
            y=alt.Y("churn_rate:Q", axis=alt.Axis(format="%"), title="churn rate"),
            color=alt.Color("band:N", scale=band_scale(numbers), legend=None),
        )
        .properties(width=WIDTH * 0.35, height=200)
    )
    deciles = pl.DataFrame(outcomes["deciles"]).select("decile", "lift")
    lift = (
        alt.Chart(deciles)
        .mark_bar(color="#0072B2")
        .encode(
            x=alt.X("decile:O", title="score decile (1: lowest)"), y=alt.Y("lift:Q", title="lift")
        )
        .properties(width=WIDTH * 0.5, height=200)
    )
    return svg(alt.hconcat(bands, lift))


def forecast(steps: list[dict[str, Any]], measure: str) -> str:
    """The expected customers (or value) lost by each snapshot ahead."""
    frame = pl.DataFrame([{"ahead": s["step"], "lost": s[measure]} for s in steps])
    chart = (
        alt.Chart(frame)
        .mark_line(point=True, color="#D55E00")
        .encode(
            x=alt.X("ahead:O", title="snapshots ahead"),
            y=alt.Y("lost:Q", title="value lost" if measure == "value_lost" else "customers lost"),
        )
        .properties(width=WIDTH * 0.6, height=200)
    )
    return svg(chart)
