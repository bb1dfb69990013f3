"""Portfolio roll-ups (`--by`, parent accounts, `chs report`, `chs diff --by`).

The expected numbers are computed independently with Polars: for saas.yaml from the raw
CSV with the scheme's tiers written out below; for simple-crm.yaml from the scored
output file's score and band columns.
"""

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

from chs.actions.diff import diff
from chs.actions.report import report
from chs.actions.score import ScoreOptions, score
from chs.cli.options import parse_by
from chs.errors import DataError
from chs.rollup import build_rollups, check_by, rollup_queries
from chs.scheme import parse_scheme


# --- parse_by / check_by ------------------------------------------------------------------------
def test_parse_by():
    assert parse_by("segment,region") == [["segment"], ["region"]]
    assert parse_by("segment+region, owner") == [["segment", "region"], ["owner"]]
    assert parse_by(" segment , ,+region+ ") == [["segment"], ["region"]]
    assert parse_by("") == []
    assert parse_by(None) == []


def test_check_by_unknown_column():
    columns = ["segment", "region", "owner"]
    check_by([["segment", "region"], ["owner"]], columns, "f.csv")  # all there: no error
    with pytest.raises(DataError) as exc:
        check_by([["segment"], ["regoin"]], columns, "f.csv")
    assert exc.value.message == "f.csv: by column 'regoin' not found. Did you mean 'region'?"
    assert exc.value.option == "by"
    assert exc.value.exit_code == 4
    with pytest.raises(DataError) as exc:
        check_by([["zzz"]], columns, "f.csv")
    assert exc.value.message == "f.csv: by column 'zzz' not found."


def test_score_file_unknown_by_column(tmp_path):
    out = tmp_path / "out.parquet"
    with pytest.raises(DataError) as exc:
        score(SAMPLE, SAAS, ScoreOptions(by=[["segmnt"]], output=out))
    assert exc.value.message == f"{SAMPLE}: by column 'segmnt' not found. Did you mean 'segment'?"
    assert not out.exists()


# --- score --by --------------------------------------------------------------------------------
def test_independent_scorer_agrees_with_chs(tmp_path):
    out = tmp_path / "saas.parquet"
    score(SAMPLE, SAAS, ScoreOptions(output=out))
    written = pl.read_parquet(out).select("customer_id", "score", "band")
    mine = saas_scores(SAMPLE).select("customer_id", "score", "band")
    joined = written.join(mine, on="customer_id", suffix="_mine")
    assert joined.height == 400
    assert joined.filter(pl.col("score") != pl.col("score_mine")).height == 0
    assert joined.filter(pl.col("band") != pl.col("band_mine")).height == 0


def test_score_by_segment_saas(tmp_path):
    out = tmp_path / "saas.parquet"
    summary = score(SAMPLE, SAAS, ScoreOptions(by=[["segment"], ["segment", "region"]], output=out))
    rollup, both = summary["rollups"]
    assert rollup["by"] == ["segment"]
    assert rollup["at_risk_bands"] == ["red"]  # no band flagged: the lowest
    assert [g["group"]["segment"] for g in rollup["groups"]] == ["Enterprise", "Mid-Market", "SMB"]
    mine = saas_scores(SAMPLE)
    check_groups(rollup, aggregate(mine, "segment", SAAS_BANDS, ["red"]), "segment")
    # The same numbers from the scored output file itself.
    check_groups(rollup, aggregate(pl.read_parquet(out), "segment", SAAS_BANDS, ["red"]), "segment")
    assert all(g["mean_delta"] is None for g in rollup["groups"])  # no previous snapshot
    assert sum(g["customers"] for g in rollup["groups"]) == 400
    assert sum(g["value"] for g in rollup["groups"]) == pytest.approx(mine["mrr"].sum(), abs=0.02)
    # segment + region: one group per pair present, sorted
    pairs = mine.group_by("segment", "region").len().sort("segment", "region")
    assert both["by"] == ["segment", "region"]
    assert [
        (g["group"]["segment"], g["group"]["region"], g["customers"]) for g in both["groups"]
    ] == [tuple(r) for r in pairs.iter_rows()]


def test_score_by_segment_simple_crm_at_risk_bands(tmp_path):
    out = tmp_path / "crm.parquet"
    summary = score(SAMPLE, CRM, ScoreOptions(by=[["segment"]], output=out))
    assert CRM.at_risk_bands() == ["alert", "critical"]
    [rollup] = summary["rollups"]
    assert rollup["at_risk_bands"] == ["alert", "critical"]
    scored = pl.read_parquet(out)
    expected = aggregate(scored, "segment", CRM_BANDS, ["alert", "critical"])
    check_groups(rollup, expected, "segment")
    for g in rollup["groups"]:
        seg = scored.filter(pl.col("segment") == g["group"]["segment"])
        # value at risk sums both at-risk bands; at_risk_share counts both
        alert = seg.filter(pl.col("band") == "alert")
        critical = seg.filter(pl.col("band") == "critical")
        assert g["value_at_risk"] == pytest.approx(
            alert["mrr"].sum() + critical["mrr"].sum(), abs=0.006
        )
        assert g["at_risk_share"] == round((alert.height + critical.height) / seg.height, 4)
        assert g["at_risk_share"] == pytest.approx(
            g["shares"]["alert"] + g["shares"]["critical"], abs=1e-4
        )
    # Mid-Market has customers in both at-risk bands, so both are really summed.
    mid = next(g for g in rollup["groups"] if g["group"]["segment"] == "Mid-Market")
    assert mid["bands"]["alert"] > 0 and mid["bands"]["critical"] > 0


def expected_deltas() -> dict[str, float]:
    """Mean of (November - October) per November segment, over customers in both."""
    oct_, nov = saas_scores(OCT), saas_scores(NOV)
    both = nov.join(oct_.select("customer_id", pl.col("score").alias("last")), on="customer_id")
    assert both.height == 388  # 396 in October, 400 in November, 388 in both
    means = both.group_by("segment").agg((pl.col("score") - pl.col("last")).mean().alias("d"))
    return {s: round(d, 1) for s, d in means.iter_rows()}


def test_score_by_with_previous_mean_delta():
    summary = score(NOV, SAAS, ScoreOptions(by=[["segment"]], previous=OCT))
    [rollup] = summary["rollups"]
    deltas = {g["group"]["segment"]: g["mean_delta"] for g in rollup["groups"]}
    assert deltas == expected_deltas()
    assert deltas == {"Enterprise": -2.6, "Mid-Market": -1.0, "SMB": -1.1}
    # the groups are still this month's customers, new ones included
    assert sum(g["customers"] for g in rollup["groups"]) == 400


def test_a_rollup_by_a_column_named_like_an_aggregate():
    # `--by value` or `--by customers`: the group column and the aggregates do not meet
    frame = pl.LazyFrame(
        {
            "value": ["v1", "v1", "v2"],
            "customers": ["c", "c", "c"],
            "score": [80.0, 30.0, 60.0],
            "band": ["high", "low", "high"],
            "mrr": [100.0, 200.0, 50.0],
        }
    )
    by, bands = [["value"], ["customers"]], ["high", "low"]
    queries = rollup_queries(frame, by, bands, "mrr", delta=False)
    frames = dict(zip(queries, pl.collect_all(list(queries.values())), strict=True))
    [by_value, by_customers] = build_rollups(
        frames, by, bands, ["low"], has_value=True, delta=False
    )
    assert [(g["group"], g["customers"], g["value"]) for g in by_value["groups"]] == [
        ({"value": "v1"}, 2, 300.0),
        ({"value": "v2"}, 1, 50.0),
    ]
    [group] = by_customers["groups"]
    # the three: mean score (80 + 30 + 60) / 3 = 56.7; mrr at risk: the low one's 200
    assert (group["group"], group["customers"], group["mean_score"]) == (
        {"customers": "c"},
        3,
        56.7,
    )
    assert (group["value"], group["value_at_risk"], group["bands"]) == (
        350.0,
        200.0,
        {"high": 2, "low": 1},
    )


# --- parent accounts ------------------------------------------------------------------------------
def test_parents_simple_crm(tmp_path):
    out = tmp_path / "crm.parquet"
    summary = score(SAMPLE, CRM, ScoreOptions(output=out, top=100))
    scored = pl.read_parquet(out)
    children = scored.filter(pl.col("parent_id").is_not_null())
    assert children.height == 37  # 400 rows, 363 without a parent
    expected = {}
    for (parent,), g in children.group_by("parent_id"):
        total = g["mrr"].sum()
        expected[parent] = {
            "children": g.height,
            "score": round((g["mrr"] * g["score"]).sum() / total, 1),
            "value": total,
            "value_shares": {
                b: round(g.filter(pl.col("band") == b)["mrr"].sum() / total, 4) for b in CRM_BANDS
            },
        }
    parents = summary["parents"]
    assert len(parents) == len(expected) == 30
    for p in parents:
        exp = expected[p["parent"]]
        assert p["children"] == exp["children"]
        assert p["score"] == exp["score"], p["parent"]
        assert p["value"] == pytest.approx(exp["value"], abs=0.006)
        assert p["value_shares"] == exp["value_shares"]
        assert sum(p["value_shares"].values()) == pytest.approx(1.0, abs=5e-4)
    # lowest score first, ties by parent id
    assert [p["parent"] for p in parents] == sorted(
        expected, key=lambda k: (expected[k]["score"], k)
    )
    assert parents[0]["score"] == min(e["score"] for e in expected.values())
    # top limits the list
    assert len(score(SAMPLE, CRM, ScoreOptions(top=5))["parents"]) == 5


PARENTS = """\
name: tiny
id: id
value: mrr
parent: parent_id
signals:
  x: {column: x, weight: 1, linear: [[0, 0], [100, 100]]}
bands:
  - {name: high, from: 50}
  - {name: low, from: 0}
"""


def test_empty_parent_is_not_a_group(tmp_path):
    # score = x. P1's children: a (80, mrr 100) and b (20, mrr 300):
    # (80*100 + 20*300) / 400 = 35.0; value shares high 100/400, low 300/400.
    data = tmp_path / "in.csv"
    data.write_text('id,mrr,x,parent_id\na,100,80,P1\nb,300,20,P1\nc,50,10,\nd,70,90,"  "\n')
    summary = score(data, parse_scheme(PARENTS), ScoreOptions())
    assert summary["parents"] == [
        {
            "parent": "P1",
            "children": 2,
            "score": 35.0,
            "value": 400.0,
            "value_shares": {"high": 0.25, "low": 0.75},
        }
    ]
    # Neither the empty parent of c nor the blank one of d makes a group.
    # (the roll-up by segment still counts them: see the score --by tests)
    assert summary["rows"]["scored"] == 4


NO_VALUE = PARENTS.replace("value: mrr\n", "")


def no_value_data(tmp_path):
    """score = x. P1: a 66.3 (high), b 39.2, c 20.0 (low); P2: d 90.0; P3: e 80.0, f 70.0."""
    rows = ["a,66.3,P1", "b,39.2,P1", "c,20.0,P1", "d,90.0,P2", "e,80.0,P3", "f,70.0,P3"]
    data = tmp_path / "in.csv"
    data.write_text("id,x,parent_id\n" + "\n".join(rows) + "\n")
    return data


# Each child counts once: P1 (66.3 + 39.2 + 20.0) / 3 = 125.5 / 3 = 41.83 -> 41.8, one of
# three children high; P3 (80 + 70) / 2 = 75.0, both high; P2 90.0. Weakest first.
NO_VALUE_PARENTS = [
    {
        "parent": "P1",
        "children": 3,
        "score": 41.8,
        "value": None,
        "value_shares": {"high": 0.3333, "low": 0.6667},
    },
    {
        "parent": "P3",
        "children": 2,
        "score": 75.0,
        "value": None,
        "value_shares": {"high": 1.0, "low": 0.0},
    },
    {
        "parent": "P2",
        "children": 1,
        "score": 90.0,
        "value": None,
        "value_shares": {"high": 1.0, "low": 0.0},
    },
]


def test_parents_without_a_value_column_average_their_children(tmp_path):
    # Before: the weight was a literal 1 per parent, so P1 showed 125.5 (the sum of its
    # children's scores), shares of 100 % high and 200 % low, and sorted last.
    summary = score(no_value_data(tmp_path), parse_scheme(NO_VALUE), ScoreOptions())
    assert summary["parents"] == NO_VALUE_PARENTS


def test_report_parents_of_a_scored_file_without_a_value_column(tmp_path):
    out = tmp_path / "scored.parquet"
    score(no_value_data(tmp_path), parse_scheme(NO_VALUE), ScoreOptions(output=out))
    result = report(out, by=[["parent_id"]], parent="parent_id")
    assert result["value_column"] is None
    assert result["parents"] == NO_VALUE_PARENTS
    # the --by roll-up of the same column agrees (a plain mean there already)
    groups = {g["group"]["parent_id"]: g for g in result["rollups"][0]["groups"]}
    assert {k: (g["customers"], g["mean_score"], g["value"]) for k, g in groups.items()} == {
        "P1": (3, 41.8, None),
        "P2": (1, 90.0, None),
        "P3": (2, 75.0, None),
    }


# --- chs diff --by ----------------------------------------------------------------------------------
def test_diff_by_segment(tmp_path):
    last, this = tmp_path / "oct.parquet", tmp_path / "nov.parquet"
    score(OCT, SAAS, ScoreOptions(output=last))
    score(NOV, SAAS, ScoreOptions(output=this))
    result = diff(last, this, by=[["segment"]])
    [rollup] = result["rollups"]
    assert rollup["by"] == ["segment"]
    assert rollup["at_risk_bands"] == ["red"]
    # this month's customers: 400, new ones included (their delta is null, not counted)
    mine = saas_scores(NOV)
    check_groups(rollup, aggregate(mine, "segment", SAAS_BANDS, ["red"]), "segment")
    assert sum(g["customers"] for g in rollup["groups"]) == 400
    deltas = {g["group"]["segment"]: g["mean_delta"] for g in rollup["groups"]}
    assert deltas == expected_deltas()
    # the per-customer table is unchanged by --by (no segment column)
    out = tmp_path / "diff.csv"
    diff(last, this, by=[["segment"]], output=out)
    assert "segment" not in pl.read_csv(out).columns


def test_diff_unknown_by_column(tmp_path):
    last, this = tmp_path / "oct.parquet", tmp_path / "nov.parquet"
    score(OCT, SAAS, ScoreOptions(output=last))
    score(NOV, SAAS, ScoreOptions(output=this))
    with pytest.raises(DataError) as exc:
        diff(last, this, by=[["segment"], ["segmnt"]])
    assert exc.value.message == (
        f"{last} and {this}: by column 'segmnt' not found. Did you mean 'segment'?"
    )


def test_diff_by_uses_the_recorded_at_risk_bands(tmp_path):
    # simple-crm flags alert and critical as at risk; its scored Parquet files record
    # that (as chs report reads it). diff --by over two of them should count the same
    # value at risk as score --previous --by on the same months.
    last, this = tmp_path / "oct.parquet", tmp_path / "nov.parquet"
    score(OCT, CRM, ScoreOptions(output=last))
    summary = score(NOV, CRM, ScoreOptions(output=this, previous=OCT, by=[["segment"]]))
    assert summary["rollups"][0]["at_risk_bands"] == ["alert", "critical"]
    # With the scheme given, diff counts both bands and agrees with score.
    with_scheme = diff(last, this, scheme=CRM, by=[["segment"]])
    assert with_scheme["rollups"] == summary["rollups"]
    # Without it, the files' own record should give the same roll-up.
    recorded = diff(last, this, by=[["segment"]])
    assert recorded["rollups"][0]["at_risk_bands"] == ["alert", "critical"]
    assert recorded["rollups"] == summary["rollups"]


def test_diff_by_without_a_value_column_shows_no_value(tmp_path):
    # Before: diff --by always counted a value, so files without one showed 0.00 value
    # and 0.00 value at risk per group.
    scheme = parse_scheme(NO_VALUE)
    last, this = tmp_path / "last.parquet", tmp_path / "this.parquet"
    score(no_value_data(tmp_path), scheme, ScoreOptions(output=last))
    score(no_value_data(tmp_path), scheme, ScoreOptions(output=this))
    [rollup] = diff(last, this, by=[["parent_id"]])["rollups"]
    assert [
        (g["group"]["parent_id"], g["customers"], g["mean_score"], g["value"], g["value_at_risk"])
        for g in rollup["groups"]
    ] == [("P1", 3, 41.8, None, None), ("P2", 1, 90.0, None, None), ("P3", 2, 75.0, None, None)]
    assert [g["mean_delta"] for g in rollup["groups"]] == [0.0, 0.0, 0.0]
