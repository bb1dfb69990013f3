"""Comparing two snapshots: per-customer rows, drivers, compare(), PSI, diff."""

from __future__ import annotations

import math
from pathlib import Path

import polars as pl
import pytest
from support import TINY_LAST, TINY_SCHEME, write

from chs.actions.diff import compare, diff
from chs.actions.score import ScoreOptions, score
from chs.errors import DataError, OutputError
from chs.scheme import Scheme, load_scheme
from chs.snapshot import open_snapshot

# Three bands, for the band order.
THREE = """\
name: three
id: id
value: mrr
signals:
  x: {column: x, weight: 1, linear: [[0, 0], [100, 100]]}
bands:
  - {name: high, from: 70}
  - {name: mid, from: 40}
  - {name: low, from: 0}
"""


def make_scheme(tmp_path: Path, text: str = TINY_SCHEME, name: str = "s.yaml") -> Scheme:
    path = tmp_path / name
    path.write_text(text)
    return load_scheme(path)


@pytest.mark.parametrize("order", ["sorted", "shuffled"])
def test_a_customer_twice_in_a_snapshot_is_an_error(tmp_path, order):
    # Joined as it is, the customer would be counted twice.
    last = write(tmp_path / "last.csv", "id,score,band\na,70,high\nb,40,low\n")
    rows = ["a,60,high", "b,50,high", "b,55,high"]
    body = rows if order == "sorted" else [rows[1], rows[0], rows[2]]
    this = write(tmp_path / "this.csv", "id,score,band\n" + "\n".join(body) + "\n")
    with pytest.raises(DataError) as err:
        diff(last, this, output=tmp_path / "diff.csv")
    assert err.value.message == (
        f"{this}: customer 'b' is listed more than once; a snapshot has one row per customer"
    )
    assert not (tmp_path / "diff.csv").exists()


def test_compare_summary(tiny_pair):
    scheme, last, this = tiny_pair
    with open_snapshot(last, scheme) as a, open_snapshot(this, scheme) as b:
        result, _ = compare(a, b)
    # last: a b c d f = 5; this: a b c e f = 5; both: a b c f = 4
    assert result["rows"] == {"last": 5, "this": 5, "common": 4}
    assert result["movement"] == {
        "improved": 1,  # b
        "declined": 2,  # a, f
        "stayed": 1,  # c
        "arrived": 1,  # e
        "left": 1,  # d
    }
    # no bands given: inferred from the best score seen in each, high 80 > low 45
    assert result["bands"] == ["high", "low"]
    assert result["lowest_band"] == "low"
    # value: this month's, last month's for a leaver. Sorted by band rank, absent last.
    assert result["transitions"] == [
        {"from": "high", "to": "high", "customers": 2, "value": 930.0},  # c 330 + f 600
        {"from": "high", "to": "low", "customers": 1, "value": 110.0},  # a
        {"from": "low", "to": "high", "customers": 1, "value": 220.0},  # b
        {"from": "low", "to": None, "customers": 1, "value": 400.0},  # d left
        {"from": None, "to": "low", "customers": 1, "value": 500.0},  # e arrived
    ]
    # delta < 0, most negative first: a -40, f -5
    assert result["biggest_drops"] == [
        {
            "id": "a",
            "last_score": 80.0,
            "this_score": 40.0,
            "delta": -40.0,
            "last_band": "high",
            "this_band": "low",
            "value": 110.0,
            "drivers": "x 80 -> 40",
        },
        {
            "id": "f",
            "last_score": 55.0,
            "this_score": 50.0,
            "delta": -5.0,
            "last_band": "high",
            "this_band": "high",
            "value": 600.0,
            "drivers": "x 55 -> 50",
        },
    ]
    # into low: a (high -> low); e arrived in low but was in no band before: not counted
    assert result["newly_at_risk"] == {
        "count": 1,
        "value": 110.0,
        "customers": [
            {
                "id": "a",
                "last_score": 80.0,
                "this_score": 40.0,
                "last_band": "high",
                "this_band": "low",
                "value": 110.0,
                "drivers": "x 80 -> 40",
            }
        ],
    }
    # out of low: b (low -> high); d left low for no band: not a recovery
    assert result["recovered"] == {
        "count": 1,
        "value": 220.0,
        "customers": [
            {
                "id": "b",
                "last_score": 30.0,
                "this_score": 70.0,
                "last_band": "low",
                "this_band": "high",
                "value": 220.0,
                "drivers": "",
            }
        ],
    }
    # score bins (score // 10): last 8 3 6 4 5, this 4 7 6 2 5, one customer each (1/5).
    # Bins 4 5 6 hold 0.2 on both sides (0). Bins 2 and 7 are 0 -> 0.2 and bins 3 and 8
    # 0.2 -> 0, with the empty side at 1e-4: each (0.2 - 1e-4) * ln(0.2 / 1e-4)
    # = 0.1999 * ln 2000 = 1.51942; four of them = 0.7996 * 7.600902 = 6.0777
    assert math.isclose(4 * 0.1999 * math.log(2000), 6.0777, abs_tol=5e-5)
    assert result["drift"] == {
        "score": {"psi": 6.0777, "label": "major shift"},
        "signals": {"x": {"psi": 6.0777, "label": "major shift"}},  # points_x == score
    }
    assert result["warnings"] == []
    assert result["last"] == {
        "path": str(last),
        "scheme": "tiny",
        "hash": scheme.digest,
        "as_of": None,
        "rescored": True,
        "rejected": 0,
    }


@pytest.mark.parametrize("order", ["sorted", "shuffled"])
def test_compare_written_in_one_pass_is_the_summary_held_in_memory(tiny_pair, tmp_path, order):
    # With a store, the joined rows are written and every aggregate computed in one pass
    # over a cache of the join; without, the rows are held in memory and queried after.
    scheme, last, this = tiny_pair
    if order == "shuffled":  # hashed rather than merged
        lines = this.read_text().splitlines()
        this.write_text("\n".join([lines[0], *reversed(lines[1:])]) + "\n")
    store = tmp_path / "rows.parquet"
    with open_snapshot(last, scheme) as a, open_snapshot(this, scheme) as b:
        held, rows = compare(a, b, top=2)
        written, stored = compare(a, b, top=2, store=store)
        kept = rows.collect()
    assert written == held
    assert written["rows"] == {"last": 5, "this": 5, "common": 4}
    assert written["newly_at_risk"]["count"] == 1 and written["recovered"]["count"] == 1
    assert stored.collect().sort("id").equals(kept.sort("id"))
    assert pl.read_parquet(store)["id"].sort().to_list() == ["a", "b", "c", "d", "e", "f"]


def test_biggest_drops_top_and_ties(tmp_path):
    scheme = make_scheme(tmp_path)
    # m, n, o all fall 10 points; the bigger value first on a tie; top=2 keeps two
    last = write(tmp_path / "last.csv", "id,mrr,x\nm,100,60\nn,900,70\no,500,80\n")
    this = write(tmp_path / "this.csv", "id,mrr,x\nm,100,50\nn,900,60\no,500,70\n")
    with open_snapshot(last, scheme) as a, open_snapshot(this, scheme) as b:
        result, _ = compare(a, b, top=2)
    assert [(d["id"], d["delta"], d["value"]) for d in result["biggest_drops"]] == [
        ("n", -10.0, 900.0),
        ("o", -10.0, 500.0),
    ]


def test_band_order_from_scheme_or_inferred(tmp_path):
    scheme = make_scheme(tmp_path, THREE)
    # high >= 70, mid >= 40, low >= 0. Nobody is in low.
    # a: 90 high -> 60 mid; b: 50 mid -> 75 high.
    last = write(tmp_path / "last.csv", "id,mrr,x\na,100,90\nb,200,50\n")
    this = write(tmp_path / "this.csv", "id,mrr,x\na,100,60\nb,200,75\n")
    with open_snapshot(last, scheme) as a, open_snapshot(this, scheme) as b:
        inferred, _ = compare(a, b)
        declared, _ = compare(a, b, bands=["high", "mid", "low"])
    # inferred: best score per band high max(90, 75) = 90, mid max(50, 60) = 60
    assert inferred["bands"] == ["high", "mid"]
    assert inferred["lowest_band"] == "mid"
    assert (inferred["newly_at_risk"]["count"], inferred["recovered"]["count"]) == (1, 1)
    # from the scheme, the lowest band is low, which nobody entered or left
    assert declared["bands"] == ["high", "mid", "low"]
    assert declared["lowest_band"] == "low"
    assert declared["newly_at_risk"] == {"count": 0, "value": 0.0, "customers": []}
    assert declared["recovered"] == {"count": 0, "value": 0.0, "customers": []}
    # diff takes the order from its scheme
    assert diff(last, this, scheme=scheme)["bands"] == ["high", "mid", "low"]


def test_no_customer_in_common(tmp_path):
    scheme = make_scheme(tmp_path)
    last = write(tmp_path / "last.csv", "id,mrr,x\na,1,10\nb,2,20\nc,3,30\nd,4,40\n")
    this = write(tmp_path / "this.csv", "id,mrr,x\nx1,1,10\nx2,2,20\n")
    with pytest.raises(DataError) as err:
        diff(last, this, scheme=scheme)
    # at most three sample ids from each, this snapshot first
    assert err.value.message == (
        f"{this} and {last} have no customer in common: "
        "ids look like 'x1', 'x2' and 'a', 'b', 'c'; "
        "are they the same portfolio, with the same id column?"
    )
    assert err.value.exit_code == 4


def test_diff_files_csv_against_parquet(tmp_path):
    scheme = make_scheme(tmp_path)
    raw_last = write(tmp_path / "raw_last.csv", TINY_LAST)
    # the same customers as TINY_THIS with the columns in another order
    raw_this = write(
        tmp_path / "raw_this.csv",
        "x,mrr,id\n40,110,a\n70,220,b\n60,330,c\n20,500,e\n50,600,f\n",
    )
    last, this = tmp_path / "last.parquet", tmp_path / "this.csv"
    score(raw_last, scheme, ScoreOptions(output=last))
    score(raw_this, scheme, ScoreOptions(output=this))
    out = tmp_path / "diff.csv"
    result = diff(last, this, scheme=scheme, output=out)
    assert result["output"] == str(out)
    assert (result["last"]["rescored"], result["this"]["rescored"]) == (False, False)
    # the same numbers as the raw TINY_LAST/TINY_THIS pair
    assert result["rows"] == {"last": 5, "this": 5, "common": 4}
    assert result["movement"] == {
        "improved": 1,
        "declined": 2,
        "stayed": 1,
        "arrived": 1,
        "left": 1,
    }
    header = out.read_text().splitlines()[0]
    assert header == (
        "id,last_score,this_score,delta,last_band,this_band,movement,drivers,last_value,this_value"
    )
    written = pl.read_csv(out).sort("id")
    assert written.select("id", "delta", "movement", "last_value", "this_value").rows() == [
        ("a", -40.0, "down", 100.0, 110.0),
        ("b", 40.0, "up", 200.0, 220.0),
        ("c", 0.0, "same", 300.0, 330.0),
        ("d", None, "left", 400.0, None),
        ("e", None, "new", None, 500.0),
        ("f", -5.0, "down", 600.0, 600.0),
    ]
    assert written.filter(pl.col("id") == "a")["drivers"].item() == "x 80 -> 40"


def test_diff_files_refuses_to_overwrite_an_input(tiny_pair):
    scheme, last, this = tiny_pair
    before = this.read_text()
    with pytest.raises(OutputError) as err:
        diff(last, this, scheme=scheme, output=this)
    assert err.value.message == f"{this}: is an input of this run; inputs are never overwritten"
    assert err.value.exit_code == 5
    assert this.read_text() == before


def test_diff_files_warns_of_rows_that_cannot_be_scored(tmp_path):
    scheme = make_scheme(tmp_path)
    last = write(tmp_path / "last.csv", "id,mrr,x\na,1,80\nb,2,oops\n")
    this = write(tmp_path / "this.csv", "id,mrr,x\na,1,70\nb,2,60\n")
    result = diff(last, this, scheme=scheme)
    # b cannot be scored last month: it counts as absent, so it "arrives" this month
    assert result["last"]["rejected"] == 1
    assert result["rows"] == {"last": 1, "this": 2, "common": 1}
    assert result["movement"]["arrived"] == 1
    assert result["warnings"] == [f"{last}: 1 rows cannot be scored; they count as absent"]


def test_points_edited_outside_0_100_have_their_drivers_formatted(tmp_path):
    # A scored file edited by hand (a point of 120): its drivers cannot be
    # gathered from the texts of 0-100, and are formatted row by row, as written.
    scheme = make_scheme(tmp_path)
    last, this = tmp_path / "last.parquet", tmp_path / "this.parquet"
    score(write(tmp_path / "l.csv", TINY_LAST), scheme, ScoreOptions(output=last))
    score(write(tmp_path / "t.csv", TINY_LAST), scheme, ScoreOptions(output=this))
    edited = pl.read_parquet(last).with_columns(
        pl.when(pl.col("id") == "a").then(120.0).otherwise(pl.col("points_x")).alias("points_x")
    )
    edited.write_parquet(last)
    out = tmp_path / "diff.parquet"
    diff(last, this, scheme=scheme, output=out)
    drivers = dict(pl.read_parquet(out).select("id", "drivers").iter_rows())
    assert drivers["a"] == "x 120 -> 80"
    assert drivers["b"] == ""


@pytest.mark.parametrize("side", ["last", "this"])
def test_a_points_value_that_is_not_a_number_names_its_file_row_and_value(tmp_path, side):
    # A failed cast names neither the file (both are read together) nor the row.
    good = "id,score,band,points_x\na,70,high,50\nb,40,low,30\n"
    bad = "id,score,band,points_x\na,70,high,50\nb,40,low, abc\n"
    last = write(tmp_path / "last.csv", bad if side == "last" else good)
    this = write(tmp_path / "this.csv", bad if side == "this" else good)
    with pytest.raises(DataError) as err:
        diff(last, this, output=tmp_path / "diff.parquet")
    named = last if side == "last" else this
    assert err.value.message == f"{named}: column 'points_x', row 2: ' abc' is not a number"
    assert not (tmp_path / "diff.parquet").exists()
