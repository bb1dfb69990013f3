"""`report`: roll-ups over a scored file, its at-risk bands, output and errors."""

from __future__ import annotations

import polars as pl
import pytest
from saas_oracle import (
    CRM,
    CRM_BANDS,
    NOV,
    OCT,
    SAAS,
    SAAS_BANDS,
    SAMPLE,
    aggregate,
    check_groups,
    saas_scores,
)

from chs.actions.report import report
from chs.actions.score import ScoreOptions, score
from chs.cli.errors import error_text
from chs.errors import DataError, OutputError
from chs.rollup import rollup_table


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
