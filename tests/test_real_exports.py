"""Silent wrong numbers on files shaped like real exports (issue 11, section 1): category
maps written in another case, signal and value columns empty on every row, a scored
file scored again, and the same customer written two ways across months. Each test
asserts the exact warning and the numbers; each failed on the code before its fix.
The files are made here, small, and every figure below is worked by hand."""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path

import polars as pl
import pytest
from support import CLI_SCHEME, invoke, table_rows, write

from chs.actions.check import check_data
from chs.actions.diff import diff
from chs.actions.history import history
from chs.actions.score import ScoreOptions, score
from chs.scheme import load_scheme

# -- category maps ------------------------------------------------------------------------

# score = (plan + logins) / 2, logins 0 on every row: Pro 50 (good), starter 25, other 0.
PLANS = """\
name: plans
id: id
signals:
  plan:
    column: plan
    weight: 50
    map: {Pro: 100, starter: 50}
    other: 0
  logins:
    column: logins
    weight: 50
    linear: [[0, 0], [10, 100]]
bands:
  - {name: good, from: 50}
  - {name: risk, from: 0}
"""

# 400 customers as a CRM writes them: 80 `Pro`, 70 `PRO ` (with its space), 63 `starter`,
# then what the map does not list: 120 `Premium`, 67 `Trial`.
PLAN_VALUES = ["Pro"] * 80 + ["PRO "] * 70 + ["starter"] * 63 + ["Premium"] * 120 + ["Trial"] * 67


def plans_csv(tmp_path: Path, values: list[str] = PLAN_VALUES) -> Path:
    rows = [f"c{i:03},{v},0" for i, v in enumerate(values, start=1)]
    return write(tmp_path / "customers.csv", "id,plan,logins\n" + "\n".join(rows) + "\n")


def test_a_map_matches_case_and_spaces_and_other_taking_many_rows_warns(tmp_path):
    # Before: the 150 `Pro` and `PRO ` took `other` (0) without a word; 400 rows scored,
    # 0 good. Now they match `Pro`; `other` takes 187 of 400 rows: 46.75 % -> 46.8 %.
    scheme, data = write(tmp_path / "plans.yaml", PLANS), plans_csv(tmp_path)
    out = tmp_path / "scored.csv"
    result = invoke("score", data, "-s", scheme, "-o", out)
    assert result.exit_code == 0, result.output
    assert result.stderr == (
        f"Warning: {data}: signal plan: 'other' took 187 of 400 rows (46.8%): 'Premium' 120, "
        "'Trial' 67\n"
    )
    scored = pl.read_csv(out)
    counts = scored.group_by("plan", "points_plan", "score", "band").len().sort("plan")
    assert counts.rows() == [
        ("PRO ", 100.0, 50.0, "good", 70),  # carried as written; compared trimmed
        ("Premium", 0.0, 0.0, "risk", 120),
        ("Pro", 100.0, 50.0, "good", 80),
        ("Trial", 0.0, 0.0, "risk", 67),
        ("starter", 50.0, 25.0, "risk", 63),
    ]
    assert table_rows(result.stdout, "Customers per band")[1:] == [
        ["good", "150", "37.5 %"],
        ["risk", "250", "62.5 %"],
    ]


def test_chs_check_data_gives_the_same_warning(tmp_path):
    scheme, data = write(tmp_path / "plans.yaml", PLANS), plans_csv(tmp_path)
    result = invoke("check", scheme, "--data", data)
    assert result.exit_code == 0, result.output
    assert result.stderr == (
        f"Warning: {data}: signal plan: 'other' took 187 of 400 rows (46.8%): 'Premium' 120, "
        "'Trial' 67\n"
    )
    checked = check_data(load_scheme(scheme), data)
    assert checked["warnings"] == [
        f"{data}: signal plan: 'other' took 187 of 400 rows (46.8%): 'Premium' 120, 'Trial' 67"
    ]
    assert checked["bands"] == [
        {"band": "good", "customers": 150},
        {"band": "risk", "customers": 250},
    ]


def test_match_exact_keeps_the_case_as_written(tmp_path):
    # `Pro` is the key as written; `PRO` (trimmed) is not: other takes
    # 120 Premium + 70 PRO + 67 Trial = 257 of 400 = 64.25 %.
    text = PLANS.replace("    other: 0\n", "    other: 0\n    match: exact\n")
    scheme, data = write(tmp_path / "plans.yaml", text), plans_csv(tmp_path)
    result = invoke("score", data, "-s", scheme, "-o", tmp_path / "scored.csv")
    assert result.exit_code == 0, result.output
    assert result.stderr == (
        f"Warning: {data}: signal plan: 'other' took 257 of 400 rows (64.2%): 'Premium' 120, "
        "'PRO' 70, 'Trial' 67\n"
    )
    scored = pl.read_csv(tmp_path / "scored.csv")
    assert scored.filter(pl.col("plan") == "PRO ")["points_plan"].unique().to_list() == [0.0]


@pytest.mark.parametrize(("others", "warned"), [(20, False), (21, True)])
def test_other_warns_above_five_percent_of_the_rows(tmp_path, others, warned):
    # 20 of 400 is 5.0 %: not more than 5 %, no warning; 21 of 400 is 5.25 %
    values = ["Pro"] * (400 - others) + ["Gold"] * others
    scheme, data = write(tmp_path / "plans.yaml", PLANS), plans_csv(tmp_path, values)
    result = score(data, load_scheme(scheme))
    expected = f"{data}: signal plan: 'other' took 21 of 400 rows (5.2%): 'Gold' 21"
    assert result["warnings"] == ([expected] if warned else [])


def test_other_lists_the_five_most_frequent_values_and_how_many_more(tmp_path):
    # seven unmapped values: 6, 5, 4, 4, 3, 2, 1 rows (ties by value); 25 of 40 rows
    unmapped = {"f": 6, "e": 5, "d": 4, "c": 4, "b": 3, "a": 2, "z": 1}
    values = ["pro"] * 15 + [v for v, n in unmapped.items() for _ in range(n)]
    scheme, data = write(tmp_path / "plans.yaml", PLANS), plans_csv(tmp_path, values)
    result = score(data, load_scheme(scheme))
    assert result["warnings"] == [
        f"{data}: signal plan: 'other' took 25 of 40 rows (62.5%): 'f' 6, 'e' 5, 'c' 4, 'd' 4, "
        "'b' 3, and 2 more values"
    ]


SEGMENTED = """\
name: seg
id: id
segments:
  - name: big
    when: "seats > 10"
    signals:
      plan: {column: plan, weight: 1, map: {pro: 100}, other: 0}
  - name: rest
    signals:
      plan: {column: plan, weight: 1, map: {pro: 100, gold: 80}, other: 0}
bands:
  - {name: ok, from: 0}
"""


def test_other_is_counted_among_the_rows_of_each_segment(tmp_path):
    # big: 4 rows, 2 Gold (not in its map) -> 2 of 4; rest: 6 rows, Gold is in its map and
    # 1 Trial -> 1 of 6 (16.7 %)
    rows = ["a,20,pro", "b,20,Gold", "c,20,gold", "d,20,PRO"]
    rows += ["e,1,gold", "f,1,pro", "g,1,Trial", "h,1,pro", "i,1,Gold", "j,1,pro"]
    scheme = write(tmp_path / "seg.yaml", SEGMENTED)
    data = write(tmp_path / "in.csv", "id,seats,plan\n" + "\n".join(rows) + "\n")
    result = score(data, load_scheme(scheme))
    assert result["warnings"] == [
        f"{data}: signal plan (segment big): 'other' took 2 of 4 rows (50.0%): 'Gold' 1, 'gold' 1",
        f"{data}: signal plan (segment rest): 'other' took 1 of 6 rows (16.7%): 'Trial' 1",
    ]


# -- empty columns ------------------------------------------------------------------------

# support.CLI_SCHEME: logins (weight 3, tiers 10 -> 100, 5 -> 50, else 0), nps (weight 1,
# linear 0-10), value mrr. With nps empty everywhere, score = the logins points.
EMPTY_NPS = "id,login,nps,mrr\nC1,12,,100\nC2,7,,250.5\nC3,0,,80\n"


def test_a_signal_column_empty_on_every_row_warns(tmp_path):
    # Before: nps dropped out of every score without a word.
    scheme = write(tmp_path / "scheme.yaml", CLI_SCHEME)
    data = write(tmp_path / "f.csv", EMPTY_NPS)
    out = tmp_path / "out.csv"
    result = invoke("score", data, "-s", scheme, "-o", out)
    assert result.exit_code == 0, result.output
    assert result.stderr == (
        f"Warning: {data}: column nps (signal nps) is empty on every row; its weight is "
        "redistributed\n"
    )
    assert pl.read_csv(out).select("id", "score", "coverage").rows() == [
        ("C1", 100.0, 0.75),
        ("C2", 50.0, 0.75),
        ("C3", 0.0, 0.75),
    ]


def test_chs_check_data_warns_of_an_empty_signal_column(tmp_path):
    scheme = write(tmp_path / "scheme.yaml", CLI_SCHEME)
    data = write(tmp_path / "f.csv", EMPTY_NPS)
    result = invoke("check", scheme, "--data", data)
    assert result.exit_code == 0, result.output
    assert result.stderr == (
        f"Warning: {scheme}:4: signal weights sum to 4, not 100; normalised to logins 75.0%, "
        "nps 25.0%\n"
        f"Warning: {data}: column nps (signal nps) is empty on every row; its weight is "
        "redistributed\n"
    )


@pytest.mark.parametrize(
    ("policy", "consequence", "scores"),
    [
        ("zero", "it scores 0 points on every row", [75.0, 37.5, 0.0]),
        ("40", "it scores 40 points on every row", [85.0, 47.5, 10.0]),
    ],
)
def test_an_empty_signal_column_says_what_its_missing_policy_gives(
    tmp_path, policy, consequence, scores
):
    # zero: (3 * logins + 0) / 4; 40 points: (3 * logins + 40) / 4
    text = CLI_SCHEME.replace("    column: nps\n", f"    column: nps\n    missing: {policy}\n")
    data, out = write(tmp_path / "f.csv", EMPTY_NPS), tmp_path / "out.csv"
    result = score(
        data, load_scheme(write(tmp_path / "scheme.yaml", text)), ScoreOptions(output=out)
    )
    assert result["warnings"] == [
        f"{data}: column nps (signal nps) is empty on every row; {consequence}"
    ]
    assert pl.read_csv(out)["score"].to_list() == scores


def test_a_null_typed_parquet_column_is_empty_too(tmp_path):
    frame = pl.DataFrame(
        {"id": ["C1", "C2"], "login": [12, 7], "nps": [None, None], "mrr": [100.0, 250.5]}
    )
    assert frame.schema["nps"] == pl.Null
    data = tmp_path / "f.parquet"
    frame.write_parquet(data)
    result = score(data, load_scheme(write(tmp_path / "scheme.yaml", CLI_SCHEME)))
    assert result["warnings"] == [
        f"{data}: column nps (signal nps) is empty on every row; its weight is redistributed"
    ]


def test_a_column_with_one_value_is_not_empty_and_blank_text_is(tmp_path):
    # nps: blanks and one 8 -> no warning; mrr: spaces only -> empty
    data = write(tmp_path / "f.csv", 'id,login,nps,mrr\nC1,12," ", \nC2,7,8,"  "\n')
    result = score(data, load_scheme(write(tmp_path / "scheme.yaml", CLI_SCHEME)))
    assert result["warnings"] == [
        f"{data}: column mrr (the value) is empty on every row; value totals are not shown"
    ]


def test_an_empty_value_column_warns_and_shows_no_value_totals(tmp_path):
    # Before: every band and the total showed a value of 0.00.
    scheme = write(tmp_path / "scheme.yaml", CLI_SCHEME)
    data = write(tmp_path / "f.csv", "id,login,nps,mrr\nC1,12,8,\nC2,7,5,\nC3,0,1,\n")
    result = invoke("score", data, "-s", scheme, "--json")
    assert result.exit_code == 0, result.output
    assert result.stderr == (
        f"Warning: {data}: column mrr (the value) is empty on every row; value totals are not "
        "shown\n"
    )
    summary = json.loads(result.stdout)
    assert summary["value"] == {"column": None, "total": None}
    # C1 (300 + 80) / 4 = 95.0 good; C2 (150 + 50) / 4 = 50.0 watch; C3 (0 + 10) / 4 = 2.5
    assert [
        (b["band"], b["customers"], b["value"], b["value_share"]) for b in summary["bands"]
    ] == [
        ("good", 1, None, None),
        ("watch", 1, None, None),
        ("risk", 1, None, None),
    ]
    # the at-risk list, lowest first, shows no value either
    at_risk = summary["at_risk"]
    assert (at_risk[0]["id"], at_risk[0]["score"]) == ("C3", 2.5)
    assert [r["value"] for r in at_risk] == [None] * len(at_risk)
    shown = invoke("score", data, "-s", scheme)
    assert table_rows(shown.stdout, "Customers per band") == [
        ["band", "customers", "share"],
        ["good", "1", "33.3 %"],
        ["watch", "1", "33.3 %"],
        ["risk", "1", "33.3 %"],
    ]


# -- a scored file scored again -----------------------------------------------------------

# score = (x + y) / 2. October: a (60, 50) 55.0 high, b (30, 20) 25.0 low; November:
# a (70, 50) 60.0 high, b (20, 20) 20.0 low: deltas +5.0 and -5.0, change_30d the same
# (October 1 is the snapshot nearest to 30 days before November 1), 2 snapshots in band.
TRENDED = """\
name: tiny
id: id
value: mrr
trends: [30]
signals:
  x: {column: x, weight: 1, linear: [[0, 0], [100, 100]]}
  y: {column: y, weight: 1, linear: [[0, 0], [100, 100]]}
bands:
  - {name: high, from: 50}
  - {name: low, from: 0}
"""
SCORED = ["points_x", "points_y", "score", "band", "coverage", "reasons", "scheme", "scheme_hash"]
EARLIER = ["as_of", "previous_score", "delta", "previous_band", "movement"]
TRENDS = ["change_30d", "snapshots_in_band"]


@pytest.fixture
def scored_twice(tmp_path: Path) -> tuple[Path, Path]:
    """The scheme, and November scored with a history holding October: the scored CSV
    has every column a run adds."""
    scheme = write(tmp_path / "s.yaml", TRENDED)
    october = write(tmp_path / "oct.csv", "id,x,y,mrr\na,60,50,100\nb,30,20,200\n")
    november = write(tmp_path / "nov.csv", "id,x,y,mrr\na,70,50,100\nb,20,20,200\n")
    history, scored = tmp_path / "history", tmp_path / "scored.csv"
    for month, more in ((october, ()), (november, ("-o", scored))):
        day = "2026-10-01" if month == october else "2026-11-01"
        result = invoke("score", month, "-s", scheme, "--history", history, "--as-of", day, *more)
        assert result.exit_code == 0, result.output
    written = pl.read_csv(scored)
    assert written.columns == ["id", "x", "y", "mrr", *SCORED, *EARLIER, *TRENDS]
    assert written.select("id", "score", *EARLIER[1:], *TRENDS).rows() == [
        ("a", 60.0, 55.0, 5.0, "high", "up", 5.0, 2),
        ("b", 20.0, 25.0, -5.0, "low", "down", -5.0, 2),
    ]
    return scheme, scored


def test_rescoring_a_scored_file_drops_what_an_earlier_run_added_with_one_warning(
    tmp_path, scored_twice
):
    # Before: as_of, the movement and the trends of November were carried silently
    # beside the new scores, as if this run (no date, no previous) had made them.
    scheme, scored = scored_twice
    out = tmp_path / "again.csv"
    result = invoke("score", scored, "-s", scheme, "-o", out)
    assert result.exit_code == 0, result.output
    assert result.stderr == (
        f"Warning: {scored}: input columns {', '.join(SCORED)} are replaced by the scored "
        f"values, and {', '.join(EARLIER + TRENDS)} (written by an earlier run, not by this "
        "one) are dropped\n"
    )
    again = pl.read_csv(out)
    assert again.columns == ["id", "x", "y", "mrr", *SCORED]
    assert again.select("id", "points_x", "points_y", "score", "band").rows() == [
        ("a", 70.0, 50.0, 60.0, "high"),
        ("b", 20.0, 20.0, 20.0, "low"),
    ]


def test_rescoring_a_scored_file_against_itself_replaces_the_movement(tmp_path, scored_twice):
    # --previous the same file: every customer the same, delta 0.0; its as_of and
    # trends (this run has no date) are dropped, not carried.
    scheme, scored = scored_twice
    out = tmp_path / "again.csv"
    result = invoke("score", scored, "-s", scheme, "-o", out, "--previous", scored)
    assert result.exit_code == 0, result.output
    assert result.stderr == (
        f"Warning: {scored}: input columns {', '.join(SCORED + EARLIER[1:])} are replaced by "
        "the scored values, and as_of, change_30d, snapshots_in_band (written by an earlier "
        "run, not by this one) are dropped\n"
    )
    again = pl.read_csv(out)
    assert again.columns == ["id", "x", "y", "mrr", *SCORED, *EARLIER[1:]]
    assert again.select("id", "score", *EARLIER[1:]).rows() == [
        ("a", 60.0, 60.0, 0.0, "high", "same"),
        ("b", 20.0, 20.0, 0.0, "low", "same"),
    ]
    assert "Since " in result.stdout and "0 up, 0 down, 2 same, 0 new, 0 lost." in result.stdout


def test_rescoring_with_a_date_and_the_previous_replaces_every_column(tmp_path, scored_twice):
    scheme, scored = scored_twice
    out = tmp_path / "again.csv"
    result = invoke(
        "score", scored, "-s", scheme, "-o", out, "--previous", scored, "--as-of", "2026-12-01"
    )
    assert result.exit_code == 0, result.output
    assert result.stderr == (
        f"Warning: {scored}: input columns {', '.join(SCORED + EARLIER + TRENDS)} are "
        "replaced by the scored values\n"
    )
    again = pl.read_csv(out)
    assert again.columns == ["id", "x", "y", "mrr", *SCORED, *EARLIER, *TRENDS]
    # change_30d against the previous (2026-11-01, 30 days before): 0.0; the previous
    # snapshot recorded 2 snapshots in band (October and November) and the streak goes
    # on from it: 3
    assert again.select("id", *EARLIER, *TRENDS).rows() == [
        ("a", "2026-12-01", 60.0, 0.0, "high", "same", 0.0, 3),
        ("b", "2026-12-01", 20.0, 0.0, "low", "same", 0.0, 3),
    ]


def test_rescoring_with_another_scheme_drops_the_points_of_its_signals(tmp_path, scored_twice):
    _, scored = scored_twice
    only_x = write(
        tmp_path / "x.yaml",
        TRENDED.replace("  y: {column: y, weight: 1, linear: [[0, 0], [100, 100]]}\n", ""),
    )
    out = tmp_path / "again.csv"
    result = score(scored, load_scheme(only_x), ScoreOptions(output=out))
    assert result["warnings"][0] == (
        f"{scored}: input columns points_x, score, band, coverage, reasons, scheme, "
        f"scheme_hash are replaced by the scored values, and points_y, "
        f"{', '.join(EARLIER + TRENDS)} (written by an earlier run, not by this one) are dropped"
    )
    again = pl.read_csv(out)
    assert again.columns == ["id", "x", "y", "mrr", *[c for c in SCORED if c != "points_y"]]
    assert again.select("id", "score").rows() == [("a", 70.0), ("b", 20.0)]


def test_an_export_with_columns_named_like_a_run_s_keeps_them_as_data(tmp_path):
    # not a scored file (no score, band, scheme_hash): its as_of and movement are its own
    scheme = write(tmp_path / "s.yaml", TRENDED)
    data = write(
        tmp_path / "in.csv", "id,as_of,movement,x,y,mrr\na,2026-01-31,churn risk,70,50,1\n"
    )
    out = tmp_path / "out.csv"
    result = score(data, load_scheme(scheme), ScoreOptions(output=out))
    assert result["warnings"] == []
    assert pl.read_csv(out).select("id", "as_of", "movement", "score").rows() == [
        ("a", "2026-01-31", "churn risk", 60.0)
    ]


def test_keep_carries_an_earlier_run_s_column_asked_for_by_name(tmp_path, scored_twice):
    scheme, scored = scored_twice
    out = tmp_path / "again.csv"
    result = score(scored, load_scheme(scheme), ScoreOptions(output=out, keep=["as_of"]))
    assert result["warnings"] == []
    assert pl.read_csv(out).select("id", "as_of", "score").rows() == [
        ("a", "2026-11-01", 60.0),
        ("b", "2026-11-01", 20.0),
    ]


# -- the same customer written two ways across months ------------------------------------

# One signal, score = x. Last month the CRM wrote ids with leading zeros, or as pandas
# writes a float column (`123.0`); this month it does not.
ONE = """\
name: one
id: id
signals:
  x: {column: x, weight: 1, linear: [[0, 0], [100, 100]]}
bands:
  - {name: high, from: 50}
  - {name: low, from: 0}
"""
LAST = "id,x\n00789,60\n123.0,30\n0042,10\nA7,50\n007,70\n0,20\ngone,40\n"
THIS = "id,x\n789,60\n123,30\n42,10\nA7,55\n7,70\n000,20\nnew,40\n"
# Exactly matched: A7 only. Loosened: 789 ~ 00789, 123 ~ 123.0, 42 ~ 0042, 7 ~ 007,
# 000 ~ 0 (all zeros keep one): 5. `new` and `gone` match nothing either way.
RESPELLED = (
    "5 customers of {this} match {last} only without leading zeros or a trailing .0 "
    "(000 ~ 0, 123 ~ 123.0, 42 ~ 0042, …); they count as {counted}"
)


def months(tmp_path: Path) -> tuple[Path, Path, Path]:
    scheme = write(tmp_path / "one.yaml", ONE)
    return scheme, write(tmp_path / "last.csv", LAST), write(tmp_path / "this.csv", THIS)


def test_previous_ids_that_match_only_without_leading_zeros_warn(tmp_path):
    # Before: 6 new and 6 lost customers, without a word.
    scheme, last, this = months(tmp_path)
    result = invoke("score", this, "-s", scheme, "--previous", last)
    assert result.exit_code == 0, result.output
    assert result.stderr == (
        "Warning: " + RESPELLED.format(this=this, last=last, counted="lost and new") + "\n"
    )
    # the matching itself is unchanged: A7 is the one customer in both
    assert "Since " in result.stdout
    assert f"Since {last}: 1 up, 0 down, 0 same, 6 new, 6 lost." in result.stdout


def test_diff_ids_that_match_only_without_leading_zeros_warn(tmp_path):
    scheme, last, this = months(tmp_path)
    result = diff(last, this, scheme=load_scheme(scheme))
    assert result["warnings"] == [
        RESPELLED.format(this=this, last=last, counted="left and arrived")
    ]
    assert result["rows"] == {"last": 7, "this": 7, "common": 1}
    assert (result["movement"]["arrived"], result["movement"]["left"]) == (6, 6)


def test_a_history_with_ids_written_two_ways_warns(tmp_path):
    scheme, last, this = months(tmp_path)
    folder = tmp_path / "history"
    for month, day in ((last, dt.date(2026, 10, 1)), (this, dt.date(2026, 11, 1))):
        score(month, load_scheme(scheme), ScoreOptions(history=folder, as_of=day))
    report = history(folder, [])
    assert report["warnings"] == [
        f"5 customers of {folder} are written two ways across its snapshots, matching only "
        "without leading zeros or a trailing .0 (0 ~ 000, 0042 ~ 42, 007 ~ 7, …); they count "
        "as different customers"
    ]


def test_ids_that_differ_otherwise_or_share_a_snapshot_do_not_warn(tmp_path):
    scheme = write(tmp_path / "one.yaml", ONE)
    # 0789 and 789 are both in this month: two customers, not one written two ways
    # (this month's 789 is matched exactly; 0789 is new and has nothing lost to match);
    # 1.5 and 15, 7A and 7 differ once loosened.
    last = write(tmp_path / "last.csv", "id,x\n789,10\n15,20\n7,30\n")
    this = write(tmp_path / "this.csv", "id,x\n789,10\n0789,10\n1.5,20\n7A,30\n")
    assert score(this, load_scheme(scheme), ScoreOptions(previous=last))["warnings"] == []
    assert diff(last, this, scheme=load_scheme(scheme))["warnings"] == []
    folder = tmp_path / "history"
    for month, day in ((last, dt.date(2026, 10, 1)), (this, dt.date(2026, 11, 1))):
        score(month, load_scheme(scheme), ScoreOptions(history=folder, as_of=day))
    assert history(folder, [])["warnings"] == []


def test_one_respelled_customer_is_one_customer(tmp_path):
    scheme = write(tmp_path / "one.yaml", ONE)
    last = write(tmp_path / "last.csv", "id,x\n00789,10\nA,20\n")
    this = write(tmp_path / "this.csv", "id,x\n789,10\nA,20\n")
    assert score(this, load_scheme(scheme), ScoreOptions(previous=last))["warnings"] == [
        f"1 customer of {this} matches {last} only without leading zeros or a trailing .0 "
        "(789 ~ 00789); they count as lost and new"
    ]
