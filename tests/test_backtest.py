"""`chs backtest` (chs/backtest.py, chs/outcomes.py, chs/actions/backtest.py): golden
figures from hand arithmetic, their properties, the leakage rules and bad input."""

from __future__ import annotations

import datetime as dt
import json
import math
from pathlib import Path

import polars as pl
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from support import as_json, assert_failed, invoke, write

from chs.actions.backtest import backtest
from chs.backtest import (
    CHURNED,
    auc,
    band_figures,
    counts_by,
    decile_figures,
    information_value,
    ks,
)

# -- golden figures ---------------------------------------------------------------------------


def counts(keys: list[float], churned: list[bool]) -> pl.DataFrame:
    rows = pl.LazyFrame({"k": keys, CHURNED: churned})
    return counts_by(rows, pl.col("k")).collect()


# churners score 10, 20, 50; stayers 20, 60, 80
SIX = counts([10, 20, 50, 20, 60, 80], [True, True, True, False, False, False])


def test_auc_counts_ties_as_half() -> None:
    # churner 10 is below all three stayers: 3; 20 ties one and is below two: 2.5;
    # 50 is below two: 2. (3 + 2.5 + 2) / (3 x 3) = 7.5 / 9
    assert auc(SIX) == pytest.approx(7.5 / 9)


def test_ks_is_the_largest_gap_of_the_cumulative_shares() -> None:
    # at 50 all churners are counted (3/3) and one stayer of three: 1 - 1/3 = 2/3
    assert ks(SIX) == pytest.approx(2 / 3)


def test_information_value_of_a_two_tier_signal() -> None:
    # tier 100: 3 stayers, 1 churner; tier 0: 1 stayer, 3 churners. Shares: stayers
    # 0.75 / 0.25, churners 0.25 / 0.75: (0.75 - 0.25) ln 3 + (0.25 - 0.75) ln(1/3) = ln 3
    tiers = counts([100, 100, 100, 100, 0, 0, 0, 0], [False] * 3 + [True] + [False] + [True] * 3)
    assert information_value(tiers) == pytest.approx(math.log(3))


def test_one_class_has_no_auc() -> None:
    assert auc(counts([1, 2], [False, False])) is None


def test_bands_and_deciles() -> None:
    bands = counts_by(
        pl.LazyFrame({"band": ["a", "a", "b", "b"], CHURNED: [False, False, True, False]}),
        pl.col("band"),
    ).collect()
    # overall 1 / 4 = 25 %; b: 1 / 2 = 50 %, lift 2
    assert band_figures(bands, ["a", "b"], 0.25) == [
        {"band": "a", "customers": 2, "churned": 0, "churn_rate": 0.0, "lift": 0.0,
         "share_of_churned": 0.0, "value": None, "value_churned": None},
        {"band": "b", "customers": 2, "churned": 1, "churn_rate": 0.5, "lift": 2.0,
         "share_of_churned": 1.0, "value": None, "value_churned": None},
    ]  # fmt: skip
    # ten scores, one customer each, churners the two lowest: deciles 1 and 2 churn 100 %
    ten = counts(list(range(10)), [True, True] + [False] * 8)
    deciles = decile_figures(ten, 0.2)
    assert [(d["decile"], d["min_score"], d["churn_rate"]) for d in deciles[:3]] == [
        (1, 0, 1.0),
        (2, 1, 1.0),
        (3, 2, 0.0),
    ]
    assert [d["cumulative_share_of_churned"] for d in deciles[:3]] == [0.5, 1.0, 1.0]
    assert deciles[0]["lift"] == 5.0


# -- properties -------------------------------------------------------------------------------

samples = st.lists(st.tuples(st.integers(0, 100), st.booleans()), min_size=2, max_size=60).filter(
    lambda rows: len({c for _, c in rows}) == 2
)


@settings(max_examples=60, deadline=None)
@given(samples)
def test_auc_of_the_negated_score_is_one_minus_auc(rows: list[tuple[int, bool]]) -> None:
    keys, labels = [k for k, _ in rows], [c for _, c in rows]
    a, b = auc(counts(keys, labels)), auc(counts([-k for k in keys], labels))
    assert a is not None and b is not None
    assert a + b == pytest.approx(1.0)


@settings(max_examples=60, deadline=None)
@given(samples)
def test_auc_is_unchanged_by_an_increasing_transform(rows: list[tuple[int, bool]]) -> None:
    keys, labels = [k for k, _ in rows], [c for _, c in rows]
    assert auc(counts(keys, labels)) == pytest.approx(
        auc(counts([math.exp(k / 10) + 3 for k in keys], labels))
    )


@settings(max_examples=60, deadline=None)
@given(samples)
def test_lift_weighted_by_customers_averages_to_one(rows: list[tuple[int, bool]]) -> None:
    keys, labels = [k // 25 for k, _ in rows], [c for _, c in rows]
    table = counts(keys, labels).with_columns(pl.col("key").cast(pl.String))
    rate = sum(labels) / len(labels)
    bands = band_figures(table, table["key"].to_list(), rate)
    weighted = sum(b["customers"] * b["churn_rate"] / rate for b in bands) / len(labels)
    assert weighted == pytest.approx(1.0, abs=1e-3)  # the rates are rounded to 4 places


# -- the command ------------------------------------------------------------------------------

# A scored file: scores 10..100 (C1..C10); churned: the three lowest, and C6.
SCORED = pl.DataFrame(
    {
        "id": [f"C{i}" for i in range(1, 11)],
        "score": [10.0 * i for i in range(1, 11)],
        "band": ["red"] * 4 + ["green"] * 6,
        "points_x": [0.0] * 4 + [100.0] * 6,
        "churned": ["yes", "Yes", "TRUE", "no", "no", "1", "no", "0", "false", "n"],
    }
)


@pytest.fixture
def flagged(tmp_path: Path) -> Path:
    path = tmp_path / "scored.parquet"
    SCORED.write_parquet(path)
    return path


def test_backtest_of_a_flag_column(flagged: Path) -> None:
    result = invoke("backtest", flagged, "--outcome", "churned", "--json")
    assert result.exit_code == 0, result.output
    out = json.loads(result.stdout)
    assert out == as_json(backtest([flagged], outcome="churned"))
    # churners score 10, 20, 30, 60; stayers 40, 50, 70, 80, 90, 100. Pairs where the
    # churner is lower: 10, 20, 30 below all six (18), 60 below four (4): 22 / 24
    assert (out["customers"], out["churned"], out["churn_rate"]) == (10, 4, 0.4)
    assert out["auc"] == round(22 / 24, 4)
    assert out["gini"] == round(2 * 22 / 24 - 1, 4)
    # at 30 three churners of four are counted and no stayer: KS 0.75
    assert out["ks"] == 0.75
    # red: 3 of 4 churned (75 %, lift 1.875); green 1 of 6
    assert [(b["band"], b["churned"], b["lift"]) for b in out["bands"]] == [
        ("green", 1, round((1 / 6) / 0.4, 4)),
        ("red", 3, 1.875),
    ]
    # x gives 0 points in red, 100 in green. Churners at 0 (C1-C3) are below the five
    # stayers at 100 (15) and tie C4 (1.5); C6 at 100 ties those five (2.5): 19 / 24.
    # IV: stayers 1/6 at 0 and 5/6 at 100, churners 3/4 and 1/4:
    # (1/6 - 3/4) ln((1/6) / (3/4)) + (5/6 - 1/4) ln((5/6) / (1/4))
    iv = (1 / 6 - 3 / 4) * math.log((1 / 6) / (3 / 4)) + (5 / 6 - 1 / 4) * math.log(10 / 3)
    assert out["signals"] == [
        {"signal": "x", "auc": round(19 / 24, 4), "iv": round(iv, 4), "coverage": 1.0}
    ]
    assert out["verdict"][0] == (
        "AUC 0.92 (strong): a churner scored lower than a customer who stayed 92 % of the "
        "time (0.5 is chance)."
    )
    assert "Only 4 churners: these figures are unstable." in out["verdict"]


def test_the_table_view(flagged: Path) -> None:
    result = invoke("backtest", flagged, "--outcome", "churned")
    assert result.exit_code == 0, result.output
    lines = result.stdout.splitlines()
    assert lines[0] == (
        "Backtest of 1 snapshot: 10 customers, 4 churned (40.0 %). AUC 0.917, Gini 0.833, KS 0.750"
    )
    start = lines.index("Churn by band")
    assert lines[start + 2 : start + 6] == [
        "| band  | customers | churned | churn rate |  lift | share of churned |",
        "|-------+-----------+---------+------------+-------+------------------|",
        "| green |         6 |       1 |     16.7 % | 0.42x |           25.0 % |",
        "| red   |         4 |       3 |     75.0 % | 1.88x |           75.0 % |",
    ]


def test_by_a_column_and_the_tables_written(tmp_path: Path) -> None:
    path, out = tmp_path / "scored.parquet", tmp_path / "tables.csv"
    SCORED.with_columns(pl.Series("segment", ["SMB", "ENT"] * 5)).write_parquet(path)
    result = invoke("backtest", path, "--outcome", "churned", "--by", "segment", "-o", out,
                    "--json")  # fmt: skip
    assert result.exit_code == 0, result.output
    by = json.loads(result.stdout)["by"]
    # SMB: churners 10, 30 below stayers 50, 70, 90: 1.0. ENT: churners 20, 60 and
    # stayers 40, 80, 100: 20 is below three, 60 below two: 5 / 6
    assert by == {
        "column": "segment",
        "groups": [
            {"value": "ENT", "customers": 5, "churned": 2, "churn_rate": 0.4, "auc": 0.8333},
            {"value": "SMB", "customers": 5, "churned": 2, "churn_rate": 0.4, "auc": 1.0},
        ],
    }
    written = pl.read_csv(out)
    assert written.group_by("table").len().sort("table").rows() == [
        ("bands", 2),
        ("deciles", 10),
        ("signals", 1),
    ]
    assert written.filter(pl.col("name") == "red").select("churned", "lift").row(0) == (3, 1.875)


def test_by_a_column_that_is_not_there(flagged: Path) -> None:
    assert_failed(
        invoke("backtest", flagged, "--outcome", "churned", "--by", "region"),
        4,
        f"Error: {flagged}: column 'region' (asked for with --by) not found. Columns in the "
        "file: id, score, band, points_x, churned",
    )


def test_a_value_that_is_not_yes_or_no_is_named(tmp_path: Path) -> None:
    path = tmp_path / "scored.parquet"
    SCORED.with_columns(pl.col("churned").replace("n", "maybe")).write_parquet(path)
    assert_failed(
        invoke("backtest", path, "--outcome", "churned"),
        4,
        f"Error: {path}: column 'churned', row 10: 'maybe' is not a yes/no outcome "
        "(true/false, yes/no, 1/0)",
    )


def test_an_outcome_column_that_is_not_there(flagged: Path) -> None:
    assert_failed(
        invoke("backtest", flagged, "--outcome", "churn"),
        4,
        f"Error: {flagged}: column 'churn' (the outcome) not found. Did you mean 'churned'? "
        "Columns in the file: id, score, band, points_x, churned",
    )


def test_one_class_is_an_error(tmp_path: Path) -> None:
    path = tmp_path / "scored.parquet"
    SCORED.with_columns(pl.lit("no").alias("churned")).write_parquet(path)
    assert_failed(
        invoke("backtest", path, "--outcome", "churned"),
        4,
        "Error: churned: no customer churned in the 10 rows used; a backtest needs both "
        "churners and customers who stayed",
    )


# -- churn dates and the time design ----------------------------------------------------------


def history(tmp_path: Path) -> Path:
    """Three monthly snapshots of C1..C10 as above, in a history folder."""
    folder = tmp_path / "history"
    for month in (9, 10, 11):
        part = folder / f"as_of=2026-{month:02d}-01"
        part.mkdir(parents=True)
        SCORED.drop("churned").write_parquet(part / "scores.parquet")
    return folder


def test_churn_dates_label_each_snapshot_without_leakage(tmp_path: Path) -> None:
    folder = history(tmp_path)
    # C1 churned before the first snapshot; C2 on 2026-09-15; C3 on 2026-12-20
    outcomes = write(
        tmp_path / "churn.csv",
        "id,churned_on\nC1,2026-08-20\nC2,2026-09-15\nC3,2026-12-20\nC4,\nZ9,2026-10-01\n",
    )
    result = backtest(
        history=folder, outcomes=outcomes, horizon_days=30, observed_until=dt.date(2026, 11, 30)
    )
    used = [(s["as_of"], s["used"], s["customers"], s["churned"]) for s in result["snapshots"]]
    # 2026-09-01: C1 left before it (not counted: 9 rows), C2 churned within 30 days;
    # 2026-10-01: C2 gone too (8 rows), nobody churns by 2026-10-31;
    # 2026-11-01: its horizon ends 2026-12-01, after the last date observed: left out
    assert used == [
        ("2026-09-01", True, 9, 1),
        ("2026-10-01", True, 8, 0),
        ("2026-11-01", False, 0, 0),
    ]
    assert result["snapshots"][2]["reason"] == (
        "its 30-day horizon ends after 2026-11-30, the last date observed"
    )
    assert (result["customers"], result["churned"]) == (17, 1)
    assert result["warnings"] == [
        f"{folder}/as_of=2026-11-01/scores.parquet is left out: its 30-day horizon ends "
        "after 2026-11-30, the last date observed",
        # Z9 is in no snapshot; C1, churned before the first, is not expected in one
        f"{outcomes}: 1 of 4 customers match no scored customer (ids written another way, "
        "or customers not scored)",
    ]


def test_the_observed_date_defaults_to_the_latest_churn_or_snapshot(tmp_path: Path) -> None:
    folder = history(tmp_path)
    outcomes = write(tmp_path / "churn.csv", "id,churned_on\nC2,2026-09-15\nC3,2026-12-20\n")
    result = backtest(history=folder, outcomes=outcomes, horizon_days=30)
    # the latest churn date, 2026-12-20, observes every 30-day horizon; C3 churns within
    # 30 days of no snapshot but is counted in all three
    assert result["observed_until"] == "2026-12-20"
    assert [s["used"] for s in result["snapshots"]] == [True, True, True]
    assert (result["customers"], result["churned"]) == (10 + 9 + 9, 1)


def test_a_churn_date_that_does_not_parse(tmp_path: Path) -> None:
    folder = history(tmp_path)
    outcomes = write(tmp_path / "churn.csv", "id,churned_on\nC2,2026-09-15\nC3,20/12/2026\n")
    assert_failed(
        invoke("backtest", "--history", folder, "--outcomes", outcomes),
        4,
        f"Error: {outcomes}: column 'churned_on', row 2: '20/12/2026' is not a date "
        "written YYYY-MM-DD",
    )


def test_a_bad_horizon_is_a_usage_error(flagged: Path) -> None:
    assert_failed(
        invoke("backtest", flagged, "--outcome", "churned", "--horizon", "3 months"),
        2,
        "Error: --horizon must be a number of days such as 90d (got '3 months')",
    )
