"""`chs report` (chs/cli/report.py): roll-ups by column and parent, --json, errors. In
process through typer's CliRunner (see tests/test_cli.py): stdout and stderr apart,
plain ASCII tables 200 columns wide, no colour. Every file is written under tmp_path;
the repository's sample data is only read.
"""

from __future__ import annotations

import json
from pathlib import Path

import polars as pl
import pytest
from support import as_json, invoke

from chs.actions.report import report
from chs.actions.score import ScoreOptions, score
from chs.scheme import load_scheme

ROOT = Path(__file__).resolve().parent.parent
SAMPLE = ROOT / "sample_data" / "customers.csv"
SCHEMES = ROOT / "schemes"
SAAS = SCHEMES / "saas.yaml"


# -- chs report -------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def scored(tmp_path_factory) -> Path:
    path = tmp_path_factory.mktemp("report") / "scored.parquet"
    score(SAMPLE, load_scheme(SAAS), ScoreOptions(output=path))
    return path


def test_report_by_owner_and_parent_writes_the_rollups(scored: Path, tmp_path: Path) -> None:
    out = tmp_path / "r.csv"
    result = invoke("report", scored, "--by", "owner", "--parent", "parent_id", "-o", out)
    assert result.exit_code == 0, result.output
    assert result.stdout.splitlines()[0] == f"Roll-ups of {scored} (bands: green, orange, red)"
    assert result.stdout.splitlines()[-1] == f"Roll-ups written to {out}"
    written = pl.read_csv(out)
    assert written.columns == [
        "by", "group", "customers", "mean_score", "share_green", "share_orange", "share_red",
        "at_risk_share", "value", "value_at_risk", "mean_delta",
    ]  # fmt: skip
    frame = pl.read_parquet(scored)
    per_owner = (
        frame.group_by("owner")
        .agg(pl.len().alias("n"), pl.col("score").mean().alias("mean"), pl.col("mrr").sum())
        .sort("owner")
    )
    assert written["group"].to_list() == per_owner["owner"].to_list()
    assert written["customers"].to_list() == per_owner["n"].to_list()
    assert written["mean_score"].to_list() == [round(m, 1) for m in per_owner["mean"]]
    assert written["value"].to_list() == pytest.approx([round(v, 2) for v in per_owner["mrr"]])
    assert set(written["by"]) == {"owner"}
    assert written["customers"].sum() == 400


def test_report_json_is_report_file(scored: Path) -> None:
    result = invoke("report", scored, "--by", "owner", "--parent", "parent_id", "--json")
    assert result.exit_code == 0, result.output
    expected = report(scored, by=[["owner"]], parent="parent_id")
    assert json.loads(result.stdout) == as_json(expected)
    assert expected["value_column"] == "mrr"
    assert expected["at_risk_bands"] == ["red"]
    parents = pl.read_parquet(scored).filter(pl.col("parent_id").is_not_null())
    assert sum(p["children"] for p in expected["parents"]) == parents.height


def test_report_without_by_or_parent(scored: Path) -> None:
    result = invoke("report", scored)
    assert result.exit_code == 2
    assert result.stderr == "Error: give --by COLUMNS, --parent COLUMN, or both (or --html FILE)\n"
    assert result.stdout == ""


def test_report_on_a_raw_export() -> None:
    result = invoke("report", SAMPLE, "--by", "owner")
    assert result.exit_code == 4
    assert result.stderr == (
        f"Error: {SAMPLE}: not a scored file (no score and band columns); run chs score first\n"
    )


def test_a_repeated_by_adds_to_the_roll_ups() -> None:
    latest = (
        Path(__file__).resolve().parent.parent
        / "sample_data"
        / "history"
        / "as_of=2026-11-01"
        / "scores.parquet"
    )
    repeated = invoke("report", latest, "--by", "segment", "--by", "region+owner", "--json")
    listed = invoke("report", latest, "--by", "segment,region+owner", "--json")
    assert repeated.exit_code == listed.exit_code == 0, repeated.output
    assert repeated.stdout == listed.stdout
    assert [r["by"] for r in json.loads(repeated.stdout)["rollups"]] == [
        ["segment"],
        ["region", "owner"],
    ]
