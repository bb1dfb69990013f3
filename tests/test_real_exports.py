"""Silent wrong numbers on files shaped like real exports (issue 11, section 1): category
maps written in another case, signal and value columns empty on every row, a scored
file scored again, and the same customer written two ways across months. Each test
asserts the exact warning and the numbers; each failed on the code before its fix.
The files are made here, small, and every figure below is worked by hand."""

from __future__ import annotations

import json
from pathlib import Path

import polars as pl
import pytest
from support import CLI_SCHEME, invoke, table_rows, write

from chs.actions.check import check_data
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
