"""`report`: roll-ups over a scored file, its at-risk bands, output and errors."""

from __future__ import annotations

from pathlib import Path

import polars as pl
import pytest

from chs.actions.report import report
from chs.actions.score import ScoreOptions, score
from chs.cli.errors import error_text
from chs.errors import DataError, OutputError
from chs.rollup import rollup_table
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


def expected_deltas() -> dict[str, float]:
    """Mean of (November - October) per November segment, over customers in both."""
    oct_, nov = saas_scores(OCT), saas_scores(NOV)
    both = nov.join(oct_.select("customer_id", pl.col("score").alias("last")), on="customer_id")
    assert both.height == 388  # 396 in October, 400 in November, 388 in both
    means = both.group_by("segment").agg((pl.col("score") - pl.col("last")).mean().alias("d"))
    return {s: round(d, 1) for s, d in means.iter_rows()}


# --- chs report -----------------------------------------------------------------------------------
def test_report_matches_score_rollups(tmp_path):
    out = tmp_path / "crm.parquet"
    by = [["segment"], ["region"], ["owner"]]
    summary = score(SAMPLE, CRM, ScoreOptions(by=by, output=out, top=100))
    result = report(out, by=by, parent="parent_id", at_risk=["alert", "critical"])
    assert result["bands"] == CRM_BANDS  # every band has customers in the file
    assert result["at_risk_bands"] == ["alert", "critical"]
    assert result["value_column"] == "mrr"  # recorded in the Parquet metadata
    assert result["rollups"] == summary["rollups"]
    assert result["parents"] == summary["parents"]
    # Without --at-risk: the at-risk bands the Parquet file records (the scheme's).
    default = report(out, by=by)
    assert default["at_risk_bands"] == ["alert", "critical"]
    assert default["rollups"] == summary["rollups"]
    assert default["parents"] is None


def test_report_on_scored_csv_defaults_to_lowest_band(tmp_path):
    # A scored CSV records nothing: bands come from the file (best first, by their
    # highest score), at risk is the lowest band, and the value column must be given.
    out = tmp_path / "crm.csv"
    score(SAMPLE, CRM, ScoreOptions(output=out))
    result = report(out, by=[["segment"]], value_column="mrr")
    assert result["bands"] == CRM_BANDS
    assert result["at_risk_bands"] == ["critical"]
    scored = pl.read_csv(out, infer_schema_length=None)
    check_groups(
        result["rollups"][0], aggregate(scored, "segment", CRM_BANDS, ["critical"]), "segment"
    )
    no_value = report(out, by=[["segment"]])
    assert no_value["value_column"] is None
    assert all(g["value"] is None for g in no_value["rollups"][0]["groups"])


def test_report_mean_delta(tmp_path):
    out = tmp_path / "nov.parquet"
    summary = score(NOV, SAAS, ScoreOptions(by=[["segment"]], previous=OCT, output=out))
    result = report(out, by=[["segment"]])
    assert result["rollups"] == summary["rollups"]
    deltas = {g["group"]["segment"]: g["mean_delta"] for g in result["rollups"][0]["groups"]}
    assert deltas == expected_deltas()


def test_report_unknown_at_risk_band(tmp_path):
    out = tmp_path / "saas.parquet"
    score(SAMPLE, SAAS, ScoreOptions(output=out))
    with pytest.raises(DataError) as exc:
        report(out, by=[["segment"]], at_risk=["red", "amber"])
    assert exc.value.message == (
        f"{out}: at_risk band 'amber' is not a band of the file (green, orange, red)"
    )
    assert error_text(exc.value) == (
        f"{out}: --at-risk band 'amber' is not a band of the file (green, orange, red)"
    )
    with pytest.raises(DataError) as exc:
        report(out, by=[["segmnt"]])
    assert exc.value.message == f"{out}: by column 'segmnt' not found. Did you mean 'segment'?"
    assert error_text(exc.value) == (
        f"{out}: --by column 'segmnt' not found. Did you mean 'segment'?"
    )


def test_report_not_a_scored_file():
    with pytest.raises(DataError) as exc:
        report(SAMPLE, by=[["segment"]])
    assert exc.value.message == (
        f"{SAMPLE}: not a scored file (no score and band columns); run chs score first"
    )
    assert exc.value.exit_code == 4


def test_report_output_table(tmp_path):
    scored = tmp_path / "saas.parquet"
    score(SAMPLE, SAAS, ScoreOptions(output=scored))
    table_path = tmp_path / "rollups.csv"
    result = report(scored, by=[["segment"], ["segment", "region"]], output=table_path)
    assert result["output"] == str(table_path)
    table = pl.read_csv(table_path)
    assert table.columns == [
        "by",
        "group",
        "customers",
        "mean_score",
        "share_green",
        "share_orange",
        "share_red",
        "at_risk_share",
        "value",
        "value_at_risk",
        "mean_delta",
    ]
    expected = aggregate(saas_scores(SAMPLE), "segment", SAAS_BANDS, ["red"])
    segs = table.filter(pl.col("by") == "segment")
    assert segs["group"].to_list() == ["Enterprise", "Mid-Market", "SMB"]
    for r in segs.iter_rows(named=True):
        exp = expected[r["group"]]
        assert r["customers"] == exp["customers"]
        assert r["mean_score"] == exp["mean_score"]
        assert [r["share_green"], r["share_orange"], r["share_red"]] == [
            exp["shares"][b] for b in SAAS_BANDS
        ]
        assert r["at_risk_share"] == exp["at_risk_share"]
        assert r["value"] == pytest.approx(exp["value"], abs=0.006)
        assert r["value_at_risk"] == pytest.approx(exp["value_at_risk"], abs=0.006)
        assert r["mean_delta"] is None
    pairs = table.filter(pl.col("by") == "segment+region")
    assert pairs["customers"].sum() == 400
    assert "Enterprise / APAC" in pairs["group"].to_list()
    # the table is rollup_table's
    assert table.height == rollup_table(result["rollups"], SAAS_BANDS).height


def test_report_refuses_to_overwrite_its_input(tmp_path):
    scored = tmp_path / "saas.parquet"
    score(SAMPLE, SAAS, ScoreOptions(output=scored))
    before = scored.read_bytes()
    with pytest.raises(OutputError) as exc:
        report(scored, by=[["segment"]], output=scored)
    assert exc.value.message == f"{scored}: is an input of this run; inputs are never overwritten"
    assert exc.value.exit_code == 5
    assert scored.read_bytes() == before
