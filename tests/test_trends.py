"""Trends from earlier snapshots: the nearest earlier date, the band streak, the sparkline."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import polars as pl
from months import NOV, OCT, SEP, make_scheme, run

from chs.history import snapshot_path
from chs.trends import nearest, sparkline


def by_id(path: Path, *columns: str) -> list[tuple]:
    return pl.read_parquet(path).sort("id").select("id", *columns).rows()


def test_nearest():
    # 30 days before 2026-11-01 is 2026-10-02: 10-01 is 1 day off (<= 15)
    assert nearest([SEP, OCT], NOV, 30) == OCT
    # 90 days before 2026-11-01 is 2026-08-03: 09-01 is 29 days off (<= 45), 10-01 59
    assert nearest([SEP, OCT], NOV, 90) == SEP
    # only 10-01, 59 days from 08-03 > 45: none
    assert nearest([OCT], NOV, 90) is None
    # a tie: 09-30 and 10-04 are both 2 days from 10-02: the older wins
    assert nearest([dt.date(2026, 9, 30), dt.date(2026, 10, 4)], NOV, 30) == dt.date(2026, 9, 30)
    # only dates before as_of count: 11-01 would be 2 days from 10-30, but it is as_of
    assert nearest([NOV], NOV, 2) is None


def test_snapshots_in_band_counts_consecutive_snapshots_only(tmp_path):
    # eve is high in September, absent in October, high again in November: the streak
    # was broken by the snapshot she was missing from, so November is her first.
    scheme = make_scheme(tmp_path)
    history = tmp_path / "history"
    run(tmp_path, scheme, history, SEP, "id,mrr,x\nacme,1,80\neve,1,70\n")
    run(tmp_path, scheme, history, OCT, "id,mrr,x\nacme,1,80\n")
    run(tmp_path, scheme, history, NOV, "id,mrr,x\nacme,1,80\neve,1,75\n")
    # acme: high in all three -> 3; eve: high now, absent in October -> 1
    assert by_id(snapshot_path(history, NOV), "snapshots_in_band") == [("acme", 3), ("eve", 1)]


def test_sparkline():
    # index = int(score / 100 * 8), at most 7: 0 -> 0 ▁, 12.4 -> 0.99 -> 0 ▁,
    # 12.5 -> 1.0 -> 1 ▂, 50 -> 4 ▅, 99.9 -> 7.99 -> 7 █, 100 -> 8 -> 7 █
    assert sparkline([0, 12.4, 12.5, 50, 99.9, 100]) == "▁▁▂▅██"
    assert sparkline([None, 0, None]) == " ▁ "
    assert sparkline([]) == ""
