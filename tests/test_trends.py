"""Trends from earlier snapshots: the nearest earlier date, the band streak, the sparkline."""

from __future__ import annotations

import datetime as dt
import re
import shutil
from pathlib import Path

import polars as pl
from months import NOV, OCT, SEP, make_scheme, run
from support import TINY_SCHEME, write

from chs.actions.score import ScoreOptions, score
from chs.history import list_snapshots, open_past, snapshot_path
from chs.scheme import load_scheme
from chs.snapshot import gather_lookups
from chs.trends import nearest, sparkline, trend_lookups


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


def test_a_long_streak_goes_on_without_trend_columns(tmp_path):
    """A scheme without `trends:` reads only the latest snapshot, whose recorded streak
    goes on: six months high is 6, not 2 (what comparing with the previous band alone
    would give)."""
    scheme = load_scheme(write(tmp_path / "plain.yaml", TINY_SCHEME))
    assert scheme.trend_spans() == []
    history = tmp_path / "history"
    for month in range(1, 7):
        run(tmp_path, scheme, history, dt.date(2026, month, 1), "id,mrr,x\nacme,1,80\n")
    assert by_id(snapshot_path(history, dt.date(2026, 6, 1)), "snapshots_in_band") == [("acme", 6)]


def test_sparkline():
    # index = int(score / 100 * 8), at most 7: 0 -> 0 ▁, 12.4 -> 0.99 -> 0 ▁,
    # 12.5 -> 1.0 -> 1 ▂, 50 -> 4 ▅, 99.9 -> 7.99 -> 7 █, 100 -> 8 -> 7 █
    assert sparkline([0, 12.4, 12.5, 50, 99.9, 100]) == "▁▁▂▅██"
    assert sparkline([None, 0, None]) == " ▁ "
    assert sparkline([]) == ""


# -- the band streak goes on from the latest snapshot's, whatever the history's depth --------

SHIPPED = Path(__file__).resolve().parent.parent / "sample_data" / "history"


def rescore_latest(tmp_path: Path, history: Path) -> pl.DataFrame:
    """The shipped history's last month scored again a month on, into a copy of `history`."""
    folder = tmp_path / history.name
    shutil.copytree(history, folder)
    saas = load_scheme(Path(__file__).resolve().parent.parent / "schemes" / "saas.yaml")
    score(SHIPPED / "as_of=2026-11-01" / "scores.parquet", saas,
          ScoreOptions(history=folder, as_of=dt.date(2026, 12, 1)))  # fmt: skip
    return pl.read_parquet(snapshot_path(folder, dt.date(2026, 12, 1))).sort("customer_id")


def test_the_streak_carried_from_the_latest_snapshot_is_the_folded_one(tmp_path: Path) -> None:
    """A history whose snapshots do not record their streak (as an older chs wrote them)
    is folded over every snapshot; the shipped one, which records it, starts from the
    latest's: the same streaks, customer by customer."""
    old = tmp_path / "written-by-an-older-chs" / "history"
    for part in SHIPPED.iterdir():
        (old / part.name).mkdir(parents=True)
        frame = pl.read_parquet(part / "scores.parquet").drop("snapshots_in_band")
        frame.write_parquet(old / part.name / "scores.parquet")
    carried = rescore_latest(tmp_path / "new", SHIPPED)
    folded = rescore_latest(tmp_path / "old", old)
    assert carried["snapshots_in_band"].to_list() == folded["snapshots_in_band"].to_list()
    # the streaks run up to the nine snapshots there are, and some are long
    assert carried["snapshots_in_band"].max() == 9
    assert (carried["snapshots_in_band"] >= 5).sum() > 100


def test_the_streak_reads_one_earlier_snapshot(tmp_path: Path) -> None:
    """The streak's lookup reads the latest past snapshot alone: the run's cost does not
    grow with the history's depth."""
    listing = list_snapshots(SHIPPED)
    with open_past(listing.snapshots, None) as past:
        lookups, _ = trend_lookups(dt.date(2026, 12, 1), past, [])
        plan = gather_lookups(lookups)[-1].explain()
    read = set(re.findall(r"as_of=(\d{4}-\d\d-\d\d)", plan))
    assert read == {"2026-11-01"}
