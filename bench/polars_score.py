"""The benchmark's scheme (bench/scheme.yaml) scored by hand in idiomatic Polars: lazy,
streaming from the CSV scan to the Parquet sink, writing the columns chs writes (the
input's, the points, score, band, coverage, reasons, scheme and scheme_hash).

    python bench/polars_score.py customers.csv out.parquet

The fair floor of "could I do this faster by hand in Polars?": the same tiers,
weights, bands, missing-value redistribution, rounding and top-3 reasons, without
chs's checks (row widths, ids, types, rejects, the summary). Benchmark-only.
"""

from __future__ import annotations

import itertools
import sys

import polars as pl

WEIGHTS = {
    "logins": 15, "premium": 15, "tickets": 10, "nps": 10, "growth": 10,
    "seats": 10, "email": 5, "webinars": 5, "recency": 10, "plan": 10,
}  # fmt: skip
SCHEME, SCHEME_HASH = "bench", "2cdc0ad074cd"


def tiers(column: str, rules: list[tuple[str, float, float]], other: float) -> pl.Expr:
    """First matching rule wins: ("ge"|"gt"|"le", bound, points); null stays null."""
    x = pl.col(column)
    expr = pl.when(x.is_null()).then(None)
    for op, bound, points in rules:
        cond = {"ge": x >= bound, "gt": x > bound, "le": x <= bound}[op]
        expr = expr.when(cond).then(float(points))
    return expr.otherwise(float(other))


def linear(column: str, knots: list[tuple[float, float]]) -> pl.Expr:
    """Straight lines between the knots, clamped at both ends."""
    x = pl.col(column).cast(pl.Float64)
    (x0, y0), yn = knots[0], knots[-1][1]
    expr = pl.when(x.is_null()).then(None).when(x <= x0).then(y0)
    for (a, ya), (c, yc) in itertools.pairwise(knots):
        expr = expr.when(x <= c).then(ya + (yc - ya) * (x - a) / (c - a))
    return expr.otherwise(yn)


LINEAR = ("growth", "seats")  # interpolated points: floats; the others are whole


def points() -> dict[str, pl.Expr]:
    plan = pl.col("plan").replace_strict(
        {"enterprise": 100.0, "pro": 70.0, "starter": 40.0}, default=0.0, return_dtype=pl.Float64
    )
    return {
        "logins": tiers("logins_month", [("ge", 40, 100), ("ge", 10, 50)], 0),
        "premium": tiers("premium_adoption_pct", [("gt", 70, 100), ("ge", 30, 50)], 0),
        "tickets": tiers("critical_tickets_q", [("le", 1, 100), ("le", 4, 50)], 0),
        "nps": tiers("nps", [("gt", 30, 100), ("ge", 0, 50)], 0),
        "growth": linear("usage_growth_yoy_pct", [(-20, 0), (0, 50), (20, 100)]),
        "seats": linear("seats_used_pct", [(20, 0), (90, 100)]),
        "email": tiers("email_open_rate_pct", [("ge", 40, 100), ("ge", 20, 50)], 0),
        "webinars": tiers("webinars_quarter", [("ge", 1, 100)], 0),
        "recency": tiers("days_since_login", [("le", 7, 100), ("le", 30, 50)], 0),
        "plan": pl.when(pl.col("plan").is_null()).then(None).otherwise(plan),
    }


def half_away(x: pl.Expr, digits: int) -> pl.Expr:
    return x.round(digits, mode="half_away_from_zero")


def reasons(names: list[str]) -> pl.Expr:
    """The three largest losses, `name -12.3`, ties in scheme order: each loss an integer
    code (its millionths, then the signal's rank), sorted, decoded."""
    n = len(names)
    codes = [
        (pl.col(f"_loss_{s}") * 1_000_000).round(0, mode="half_away_from_zero").cast(pl.Int64) * n
        + (n - 1 - i)
        for i, s in enumerate(names)
    ]
    top = pl.concat_list(codes).list.sort(descending=True).list.head(3)
    millionths = pl.element() // n
    tenths = (millionths + 50_000) // 100_000
    name = (n - 1 - pl.element() % n).replace_strict(dict(enumerate(names)), return_dtype=pl.String)
    text = pl.format("{} -{}.{}", name, tenths // 10, tenths % 10)
    shown = top.list.eval(pl.element().filter(millionths >= 50_000))  # a loss of 0.05 or more
    return shown.list.eval(text).list.join("; ")


def query(source: str) -> pl.LazyFrame:
    names = list(WEIGHTS)
    lf = pl.scan_csv(source, schema_overrides={"customer_id": pl.String})
    columns = lf.collect_schema().names()
    lf = lf.with_columns(**{f"_p_{s}": e for s, e in points().items()})
    present = {s: pl.col(f"_p_{s}").is_not_null() for s in names}
    den = pl.sum_horizontal([pl.when(present[s]).then(w).otherwise(0) for s, w in WEIGHTS.items()])
    num = pl.sum_horizontal([pl.col(f"_p_{s}").fill_null(0.0) * w for s, w in WEIGHTS.items()])
    lf = lf.with_columns(_den=den.cast(pl.Float64), _raw=num / den)
    lf = lf.with_columns(
        score=half_away(pl.col("_raw"), 1),
        **{
            f"_loss_{s}": pl.when(present[s])
            .then(w / pl.col("_den") * (100.0 - pl.col(f"_p_{s}")))
            .otherwise(0.0)
            for s, w in WEIGHTS.items()
        },
    )
    band = (
        pl.when(pl.col("score") > 70).then(pl.lit("green"))
        .when(pl.col("score") >= 50).then(pl.lit("orange"))
        .otherwise(pl.lit("red"))
    )  # fmt: skip
    return lf.select(
        *columns,
        *[
            (pl.col(f"_p_{s}").round(2) if s in LINEAR else pl.col(f"_p_{s}").cast(pl.Int16)).alias(
                f"points_{s}"
            )
            for s in names
        ],  # chs writes whole points as Int16
        "score",
        band.alias("band"),
        (pl.col("_den") / sum(WEIGHTS.values())).round(3).alias("coverage"),
        reasons(names).alias("reasons"),
        pl.lit(SCHEME).alias("scheme"),
        pl.lit(SCHEME_HASH).alias("scheme_hash"),
    )


def main() -> None:
    source, target = sys.argv[1], sys.argv[2]
    query(source).sink_parquet(target, engine="streaming")


if __name__ == "__main__":
    main()
