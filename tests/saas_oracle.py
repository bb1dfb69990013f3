"""An independent scorer of schemes/saas.yaml and the roll-up arithmetic, written by hand
in Polars, that the roll-up tests (`chs.rollup`, `chs report`) check chs against."""

from __future__ import annotations

from pathlib import Path

import polars as pl
import pytest

from chs.scheme import load_scheme

ROOT = Path(__file__).resolve().parent.parent
SAMPLE = ROOT / "sample_data" / "customers.csv"
OCT = ROOT / "sample_data" / "months" / "customers_2026-10.csv"
NOV = ROOT / "sample_data" / "months" / "customers_2026-11.csv"
SAAS = load_scheme(ROOT / "schemes" / "saas.yaml")
CRM = load_scheme(ROOT / "schemes" / "simple-crm.yaml")
SAAS_BANDS = ["green", "orange", "red"]
CRM_BANDS = ["ambassador", "engaged", "alert", "critical"]


# --- an independent saas.yaml scorer ---------------------------------------------------------
def _tiers(column: str, tiers: list[tuple[str, float, float]], rest: float) -> pl.Expr:
    """Tiers top to bottom, (op, bound, points), then the catch-all; null stays null."""
    c = pl.col(column).cast(pl.Float64)
    ops = {">=": c.__ge__, ">": c.__gt__, "<=": c.__le__}
    expr = pl.when(c.is_null()).then(None)
    for op, bound, points in tiers:
        expr = expr.when(ops[op](bound)).then(pl.lit(points))
    return expr.otherwise(pl.lit(rest))


SAAS_SIGNALS = {  # signal: (weight, points expression)
    "logins": (30, _tiers("logins_month", [(">=", 40, 100), (">=", 10, 50)], 0)),
    "premium": (25, _tiers("premium_adoption_pct", [(">", 70, 100), (">=", 30, 50)], 0)),
    "critical": (20, _tiers("critical_tickets_q", [("<=", 1, 100), ("<=", 4, 50)], 0)),
    "nps": (15, _tiers("nps", [(">", 30, 100), (">=", 0, 50)], 0)),
    "growth": (10, _tiers("usage_growth_yoy_pct", [(">=", 20, 100), (">=", 0, 50)], 0)),
}


def saas_scores(path: Path) -> pl.DataFrame:
    """customer_id, segment, region, mrr, score (one decimal, half up) and band, per saas.yaml:
    missing signals drop out and the others share their weight (redistribute)."""
    frame = pl.read_csv(path, infer_schema_length=None)
    points = frame.select(
        "customer_id",
        "segment",
        "region",
        "mrr",
        *[expr.alias(name) for name, (_, expr) in SAAS_SIGNALS.items()],
    )
    num = pl.sum_horizontal([pl.col(n).fill_null(0) * w for n, (w, _) in SAAS_SIGNALS.items()])
    den = pl.sum_horizontal(
        [pl.when(pl.col(n).is_null()).then(0).otherwise(w) for n, (w, _) in SAAS_SIGNALS.items()]
    )
    # Numerators are multiples of 50 over 100, 90, 85, 80, 75 ...: never a tie at .x5.
    score = (num / den).round(1)
    band = (
        pl.when(pl.col("score") > 70)
        .then(pl.lit("green"))
        .when(pl.col("score") >= 50)
        .then(pl.lit("orange"))
        .otherwise(pl.lit("red"))
    )
    return points.with_columns(score.alias("score")).with_columns(band.alias("band"))


def aggregate(
    frame: pl.DataFrame, by: str, bands: list[str], at_risk: list[str]
) -> dict[str, dict]:
    """The roll-up of one column, computed here: group -> expected numbers."""
    out = {}
    for key, g in frame.group_by(by):
        n = g.height
        counts = {b: g.filter(pl.col("band") == b).height for b in bands}
        out[key[0]] = {
            "customers": n,
            "bands": counts,
            "shares": {b: round(counts[b] / n, 4) for b in bands},
            "at_risk_share": round(sum(counts[b] for b in at_risk) / n, 4),
            "mean_score": round(g["score"].mean(), 1),
            "value": g["mrr"].sum(),
            "value_at_risk": g.filter(pl.col("band").is_in(at_risk))["mrr"].sum(),
        }
    return out


def check_groups(rollup: dict, expected: dict[str, dict], column: str) -> None:
    groups = {g["group"][column]: g for g in rollup["groups"]}
    assert set(groups) == set(expected)
    for key, exp in expected.items():
        got = groups[key]
        for field in ("customers", "bands", "shares", "at_risk_share", "mean_score"):
            assert got[field] == exp[field], (key, field)
        assert got["value"] == pytest.approx(exp["value"], abs=0.006), key
        assert got["value_at_risk"] == pytest.approx(exp["value_at_risk"], abs=0.006), key
