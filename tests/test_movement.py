"""Per-customer movement between two snapshots: the joined rows, delta, drivers."""

from __future__ import annotations

from pathlib import Path

import polars as pl
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from support import TINY_LAST, TINY_SCHEME, TINY_THIS, write

from chs.columns import KEY
from chs.movement import loose_id, per_customer, points_bounded, respelled_query, respelled_warning
from chs.scheme import Scheme, load_scheme
from chs.snapshot import one_row_per_customer, open_snapshot

# Two signals of equal weight: score == (x + y) / 2.
TWO = """\
name: two
id: id
value: mrr
signals:
  x: {column: x, weight: 1, linear: [[0, 0], [100, 100]]}
  y: {column: y, weight: 1, linear: [[0, 0], [100, 100]]}
bands:
  - {name: high, from: 50}
  - {name: low, from: 0}
"""


def make_scheme(tmp_path: Path, text: str = TINY_SCHEME, name: str = "s.yaml") -> Scheme:
    path = tmp_path / name
    path.write_text(text)
    return load_scheme(path)


def test_per_customer_rows(tiny_pair):
    scheme, last, this = tiny_pair
    with open_snapshot(last, scheme) as a, open_snapshot(this, scheme) as b:
        frame = per_customer(a, b).collect().sort("id")
    assert frame.columns == [
        "id",
        "last_score",
        "this_score",
        "delta",
        "last_band",
        "this_band",
        "movement",
        "drivers",
        "last_value",
        "this_value",
    ]
    assert frame.rows() == [
        # 40 - 80 = -40; points_x fell 80 -> 40
        ("a", 80.0, 40.0, -40.0, "high", "low", "down", "x 80 -> 40", 100.0, 110.0),
        # 70 - 30 = +40; nothing fell, so no driver
        ("b", 30.0, 70.0, 40.0, "low", "high", "up", "", 200.0, 220.0),
        # 60 - 60 = 0
        ("c", 60.0, 60.0, 0.0, "high", "high", "same", "", 300.0, 330.0),
        # only last month: no delta
        ("d", 45.0, None, None, "low", None, "left", "", 400.0, None),
        # only this month
        ("e", None, 20.0, None, None, "low", "new", "", None, 500.0),
        # 50 - 55 = -5
        ("f", 55.0, 50.0, -5.0, "high", "high", "down", "x 55 -> 50", 600.0, 600.0),
    ]


def test_customers_in_id_order_are_merged_with_the_same_rows(tmp_path):
    # TINY_LAST and TINY_THIS list their ids in order: the join merges them, with the same result
    # as the hash join. Out of order, or with an empty id, they are joined by hash.
    scheme = make_scheme(tmp_path)
    last, this = write(tmp_path / "last.csv", TINY_LAST), write(tmp_path / "this.csv", TINY_THIS)
    shuffled = write(tmp_path / "shuffled.csv", "id,mrr,x\nb,220,70\na,110,40\n")
    blank = write(tmp_path / "blank.csv", "id,score,band\n,50,high\na,40,low\n")
    with (
        open_snapshot(last, scheme) as a,
        open_snapshot(this, scheme) as b,
        open_snapshot(shuffled, scheme) as c,
        open_snapshot(blank, None, id_column="id") as d,
    ):
        assert [one_row_per_customer(s) for s in (a, b, c, d)] == [True, True, False, False]
        merged = per_customer(a, b, ordered=True).collect().sort("id")
        hashed = per_customer(a, b).collect().sort("id")
    assert merged.equals(hashed)
    assert merged["id"].to_list() == ["a", "b", "c", "d", "e", "f"]


def test_delta_is_rounded_to_one_decimal(tmp_path):
    scheme = make_scheme(tmp_path)
    last = write(tmp_path / "last.csv", "id,mrr,x\ng,1,50.1\nh,1,33.3\n")
    this = write(tmp_path / "this.csv", "id,mrr,x\ng,1,50.3\nh,1,33.3\n")
    with open_snapshot(last, scheme) as a, open_snapshot(this, scheme) as b:
        got = per_customer(a, b).collect().sort("id").select("id", "delta", "movement").rows()
    # 50.3 - 50.1 is 0.19999999999999574 in floats: written 0.2; 33.3 - 33.3 = 0
    assert got == [("g", 0.2, "up"), ("h", 0.0, "same")]


@pytest.mark.parametrize("bounded", [False, True], ids=["formatted", "gathered"])
def test_drivers_rank_the_biggest_falls_and_only_falls(tmp_path, bounded):
    # Points within 0-100 have their texts gathered from texts made once; the text is
    # the one formatted row by row.
    scheme = make_scheme(tmp_path, TWO)
    last = write(
        tmp_path / "last.csv",
        "id,mrr,x,y\np,1,80,90\nq,1,60,20\nr,1,50,50\ns,1,75.5,30\n",
    )
    this = write(
        tmp_path / "this.csv",
        "id,mrr,x,y\np,1,50,40\nq,1,40,50\nr,1,70,50\ns,1,70,24.5\n",
    )
    with open_snapshot(last, scheme) as a, open_snapshot(this, scheme) as b:
        got = (
            per_customer(a, b, bounded=bounded)
            .collect()
            .sort("id")
            .select("id", "delta", "drivers")
            .rows()
        )
    assert got == [
        # score (80+90)/2 = 85 -> (50+40)/2 = 45; y fell 50, x fell 30: y first
        ("p", -40.0, "y 90 -> 40; x 80 -> 50"),
        # 40 -> 45; x fell 20, y rose 30: only the fall is a driver
        ("q", 5.0, "x 60 -> 40"),
        # 50 -> 60; x rose, y unchanged: no driver
        ("r", 10.0, ""),
        # 52.75 -> 52.8 written, 47.25 -> 47.3: delta -5.5; x and y both fell 5.5: a tie
        # keeps the scheme's order; points print without a trailing .0
        ("s", -5.5, "x 75.5 -> 70; y 30 -> 24.5"),
    ]


def test_an_extra_column_named_like_a_compared_column_is_the_comparison_s(tmp_path):
    # the snapshots carry a `movement` and a `seg` of their own; `movement` asked for (a
    # roll-up by movement) is the comparison's, not the file's: no second `movement`
    scheme = make_scheme(tmp_path)
    last = write(tmp_path / "last.csv", "id,mrr,x,movement,seg\na,1,80,old,S\nb,1,30,old,E\n")
    this = write(tmp_path / "this.csv", "id,mrr,x,movement,seg\na,1,40,old,S\nb,1,70,old,E\n")
    extra = ["movement", "seg"]
    with (
        open_snapshot(last, scheme, extra=extra) as a,
        open_snapshot(this, scheme, extra=extra) as b,
    ):
        frame = per_customer(a, b, extra).collect().sort("id")
    assert frame.columns[-2:] == ["this_value", "seg"]
    assert frame.select("id", "movement", "seg").rows() == [("a", "down", "S"), ("b", "up", "E")]


def test_loose_id_drops_leading_zeros_and_a_trailing_point_zero():
    ids = ["00789", "789.0", "789.00", "0", "000", "0.0", "007A", "10.0", "100", "1.50", "A0"]
    loosened = pl.DataFrame({"k": ids}).select(loose_id(pl.col("k")))["k"].to_list()
    # all zeros keep one; only a trailing `.0…` goes, so 1.50 stays 1.50
    assert loosened == ["789", "789", "789", "0", "0", "0", "7A", "10", "100", "1.50", "A0"]


def test_respelled_query_pairs_each_new_id_once_with_the_first_lost_spelling():
    new = pl.LazyFrame({KEY: ["00789", "123.0", "55", "x", None]})
    gone = pl.LazyFrame({KEY: ["789", "123", "00123", "0055", "y", None]})
    found = respelled_query(new, gone).collect()
    # 123.0 matches both 123 and 00123: one customer, shown with the first ("00123")
    assert found.rows() == [(3, ["00789 ~ 789", "123.0 ~ 00123", "55 ~ 0055"])]
    assert respelled_warning(found, "this.csv", "last.csv", "lost and new") == (
        "3 customers of this.csv match last.csv only without leading zeros or a trailing .0 "
        "(00789 ~ 789, 123.0 ~ 00123, 55 ~ 0055); they count as lost and new"
    )
    none = respelled_query(new.head(0), gone).collect()
    assert none.rows() == [(0, [])]
    assert respelled_warning(none, "this.csv", "last.csv", "lost and new") is None


_POINTS = st.one_of(
    st.none(),
    st.integers(0, 10_000).map(lambda h: h / 100),  # 0.00-100.00, as points are written
    st.floats(0, 100, allow_nan=False),
)


def _points_snapshot(
    path: Path, score: float, x: list[float | None], y: list[float | None]
) -> Path:
    """A scored snapshot of customers c000… with their points of signals x and y."""
    ids = [f"c{i:03d}" for i in range(len(x))]
    pl.DataFrame(
        {
            "id": ids,
            "score": [score] * len(x),
            "band": ["high"] * len(x),
            "points_x": x,
            "points_y": y,
        },
        schema_overrides={"points_x": pl.Float64, "points_y": pl.Float64},
    ).write_parquet(path)
    return path


@settings(max_examples=60, deadline=None)
@given(st.lists(st.tuples(_POINTS, _POINTS, _POINTS, _POINTS), min_size=1, max_size=30))
def test_gathered_drivers_are_the_formatted_ones(tmp_path_factory, points):
    # Any points within 0-100 (hundredths, or any float): the same rounding to one
    # decimal, the same text (`100`, `99.9`, `0.5`, `0`), the same places.
    tmp = tmp_path_factory.mktemp("drivers")
    lx, ly, tx, ty = (list(column) for column in zip(*points, strict=True))
    last = _points_snapshot(tmp / "last.parquet", 50.0, lx, ly)
    this = _points_snapshot(tmp / "this.parquet", 40.0, tx, ty)
    with (
        open_snapshot(last, None, id_column="id") as a,
        open_snapshot(this, None, id_column="id") as b,
    ):
        for s in (a, b):
            assert s.frame.select(points_bounded(["x", "y"])).collect().to_series().all()
        gathered = per_customer(a, b, bounded=True).collect().sort("id")
        formatted = per_customer(a, b).collect().sort("id")
    assert gathered["drivers"].to_list() == formatted["drivers"].to_list()


def test_points_outside_0_100_are_not_bounded(tmp_path):
    frame = pl.LazyFrame({"points_x": [0.0, 100.0, None, 120.0, -0.5, float("nan")]})
    got = frame.select(points_bounded(["x"])).collect().to_series().to_list()
    assert got == [True, True, True, False, False, False]
