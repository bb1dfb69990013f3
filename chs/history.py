"""Score history: one Parquet snapshot per date, partitioned by date, and trends from it.

Layout: DIR/as_of=YYYY-MM-DD/scores.parquet (hive style, so Polars, DuckDB or Spark
read DIR as one dataset). Writing a date replaces that date's file with an atomic
rename, so a retried cron job never duplicates a month.

Trend columns:
- change_<N>d: the score now minus the score at the snapshot nearest to N days before
  the as-of date, when one lies within N/2 days of it (monthly snapshots: change_30d is
  the change since last month, change_90d since three months ago); empty otherwise.
- snapshots_in_band: how many consecutive snapshots, this one included, the customer
  has spent in its current band.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import re
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import polars as pl

from chs.columns import KEY
from chs.errors import DataError, OptionError
from chs.exprs import band_order
from chs.snapshot import Snapshot, open_snapshot

PARTITION = re.compile(r"^as_of=(\d{4}-\d{2}-\d{2})$")
FILE = "scores.parquet"
SPARK = "▁▂▃▄▅▆▇█"


def parse_date(text: str, what: str = "--as-of") -> dt.date:
    try:
        if not re.fullmatch(r"\d{4}-\d{2}-\d{2}", text):
            raise ValueError(text)
        return dt.date.fromisoformat(text)
    except ValueError:
        raise OptionError(f"{what} must be a date written YYYY-MM-DD (got {text!r})") from None


def snapshot_path(directory: Path, as_of: dt.date) -> Path:
    return directory / f"as_of={as_of.isoformat()}" / FILE


@dataclass(frozen=True)
class Listing:
    """The snapshots found in a history folder, oldest first, and what was passed over."""

    snapshots: list[tuple[dt.date, Path]]
    warnings: list[str]


def list_snapshots(directory: Path) -> Listing:
    """Every `as_of=YYYY-MM-DD/scores.parquet`; anything else is named in a warning."""
    if directory.exists() and not directory.is_dir():
        raise DataError(f"{directory}: the history folder is a file")
    found: list[tuple[dt.date, Path]] = []
    warnings: list[str] = []
    for entry in sorted(directory.iterdir()) if directory.exists() else []:
        match = PARTITION.match(entry.name)
        if entry.name.startswith("."):
            continue
        if not match or not entry.is_dir():
            warnings.append(f"{entry}: not a snapshot (as_of=YYYY-MM-DD/{FILE}); ignored")
            continue
        try:
            date = dt.date.fromisoformat(match.group(1))
        except ValueError:
            warnings.append(f"{entry}: {match.group(1)} is not a date; ignored")
            continue
        path = entry / FILE
        if not path.exists():
            if any(p for p in entry.iterdir() if not p.name.startswith(".")):
                warnings.append(f"{entry}: has no {FILE}; ignored")
            continue
        try:
            pl.read_parquet_schema(path)
        except Exception as exc:  # a truncated or foreign file
            first = (str(exc).strip().splitlines() or [type(exc).__name__])[0]
            raise DataError(f"{path}: the history snapshot cannot be read: {first}") from None
        found.append((date, path))
    return Listing(found, warnings)


def previous_in(listing: Listing, as_of: dt.date) -> tuple[dt.date, Path] | None:
    """The latest snapshot strictly before `as_of`."""
    before = [(d, p) for d, p in listing.snapshots if d < as_of]
    return before[-1] if before else None


def nearest(dates: list[dt.date], as_of: dt.date, days: int) -> dt.date | None:
    """The snapshot date nearest to `as_of - days`, within days/2 of it (older on a tie)."""
    target = as_of - dt.timedelta(days=days)
    close = [d for d in dates if d < as_of and abs((d - target).days) <= days / 2]
    return min(close, key=lambda d: (abs((d - target).days), d)) if close else None


@contextlib.contextmanager
def open_past(
    snapshots: list[tuple[dt.date, Path]], id_column: str | None
) -> Iterator[list[tuple[dt.date, Snapshot]]]:
    with contextlib.ExitStack() as stack:
        yield [
            (
                d,
                stack.enter_context(
                    open_snapshot(p, None, id_column=id_column, role="history snapshot")
                ),
            )
            for d, p in snapshots
        ]


def _earlier(
    as_of: dt.date, past: list[tuple[dt.date, Snapshot]], previous: Snapshot | None
) -> tuple[list[dt.date], list[dt.date], bool]:
    """The past snapshots' dates, those before `as_of`, and whether the latest of these
    is the previous snapshot (already joined as previous_score/previous_band)."""
    dates = [d for d, _ in past]
    before = [d for d in dates if d < as_of]
    return (
        dates,
        before,
        previous is not None and bool(before) and dict(past)[max(before)] is previous,
    )


def trend_lookups(
    as_of: dt.date,
    past: list[tuple[dt.date, Snapshot]],
    spans: list[int],
    previous: Snapshot | None = None,
) -> tuple[list[pl.LazyFrame], dict[str, str | None]]:
    """What the trends need from earlier snapshots, per customer (KEY): the score of the
    snapshot each change_<N>d compares with (`__then_<N>`), and for the streak the band
    in the latest past snapshot (`__band0`) with how many past snapshots in a row, from
    the latest, found the customer in it (`__run0`). Returns these lookups and, per trend
    column, the snapshot date it compares with (None when there is none).

    `previous`: the snapshot joined as previous_score/previous_band; a trend that
    compares with it reads those columns instead. The lookups are joined to the rows
    before they are scored (`ScoringPlan.split`); `add_trends` then makes the columns."""
    dates, before, joined = _earlier(as_of, past, previous)
    used: dict[str, str | None] = {}
    lookups: list[pl.LazyFrame] = []
    by_date = dict(past)
    for days in spans:
        when = nearest(dates, as_of, days)
        used[f"change_{days}d"] = when.isoformat() if when else None
        if when is None or (joined and when == max(before)):
            continue
        lookups.append(by_date[when].frame.select(KEY, pl.col("score").alias(f"__then_{days}")))
    if before and not (joined and len(before) == 1):
        # The band in the latest past snapshot, then, going back one snapshot at a time,
        # how many in a row found the customer in it (an absence ends the run): a fold
        # that holds one row per customer, not every past snapshot at once.
        latest_first = sorted(before, reverse=True)
        streak = by_date[latest_first[0]].frame.select(
            KEY,
            pl.col("band").alias("__band0"),
            pl.lit(1, pl.Int32).alias("__run0"),
            pl.lit(True).alias("__alive"),
        )
        alive = pl.col("__alive") & (pl.col("__then") == pl.col("__band0")).fill_null(False)
        for d in latest_first[1:]:
            then = by_date[d].frame.select(KEY, pl.col("band").alias("__then"))
            streak = (
                streak.join(then, on=KEY, how="left")
                .with_columns(alive.alias("__alive"))
                .with_columns((pl.col("__run0") + pl.col("__alive").cast(pl.Int32)).alias("__run0"))
                .drop("__then")
            )
        lookups.append(streak.select(KEY, "__band0", "__run0"))
    return lookups, used


def add_trends(
    frame: pl.LazyFrame,
    as_of: dt.date,
    past: list[tuple[dt.date, Snapshot]],
    spans: list[int],
    previous: Snapshot | None = None,
) -> pl.LazyFrame:
    """Add change_<N>d for each span and snapshots_in_band to scored rows that carry the
    columns of `trend_lookups` (and previous_score/previous_band with `previous`)."""
    dates, before, joined = _earlier(as_of, past, previous)
    columns = []
    for days in spans:
        when = nearest(dates, as_of, days)
        if when is None:
            columns.append(pl.lit(None, pl.Float64).alias(f"change_{days}d"))
            continue
        then = "previous_score" if joined and when == max(before) else f"__then_{days}"
        change = (pl.col("score") - pl.col(then)).round(1, mode="half_away_from_zero")
        columns.append(change.alias(f"change_{days}d"))
    if not before:
        streak: pl.Expr = pl.lit(1, pl.Int32)
    elif joined and len(before) == 1:
        same = (pl.col("previous_band") == pl.col("band")).fill_null(False)
        streak = same.cast(pl.Int32) + 1
    else:
        same = (pl.col("__band0") == pl.col("band")).fill_null(False)
        streak = pl.when(same).then(pl.col("__run0")).otherwise(0).cast(pl.Int32) + 1
    internal = [
        c for c in frame.collect_schema().names() if c.startswith(("__then_", "__band0", "__run0"))
    ]
    return frame.with_columns(*columns, streak.alias("snapshots_in_band")).drop(internal)


def sparkline(scores: list[float | None]) -> str:
    """One character per snapshot, 0-100 mapped to ▁..█; a space where there is no score."""
    return "".join(
        " " if s is None else SPARK[min(int(s / 100 * len(SPARK)), len(SPARK) - 1)] for s in scores
    )


def history_report(directory: Path, ids: list[str], *, top: int = 10) -> dict[str, Any]:
    """Band counts per snapshot, and scores over time for the given customers (or, with
    none given, for those whose score fell most from the first snapshot to the last)."""
    listing = list_snapshots(directory)
    if not listing.snapshots:
        raise DataError(f"{directory}: no snapshot (as_of=YYYY-MM-DD/{FILE}) in the history folder")
    with open_past(listing.snapshots, None) as past:
        dates = [d.isoformat() for d, _ in past]
        frames = [
            s.frame.select(KEY, "score", "band", pl.lit(d.isoformat()).alias("as_of"))
            for d, s in past
        ]
        long = pl.concat(frames)
        portfolio, wide, tops = pl.collect_all(
            [
                long.group_by("as_of", "band").agg(
                    pl.len().alias("customers"), pl.col("score").mean().alias("mean")
                ),
                long.select(KEY, "as_of", "score", "band").sort(KEY, "as_of"),
                long.group_by("band").agg(pl.col("score").max()),
            ]
        )
    by_date: dict[str, dict[str, int]] = {d: {} for d in dates}
    means: dict[str, list[tuple[float, int]]] = {d: [] for d in dates}
    for r in portfolio.iter_rows(named=True):
        by_date[r["as_of"]][r["band"]] = int(r["customers"])
        means[r["as_of"]].append((r["mean"], int(r["customers"])))
    series: dict[str, dict[str, tuple[float | None, str | None]]] = {}
    for r in wide.iter_rows(named=True):
        series.setdefault(r[KEY], {})[r["as_of"]] = (r["score"], r["band"])
    known = set(series)
    missing = [i for i in ids if i not in known]
    if missing:
        import difflib

        close = difflib.get_close_matches(missing[0], sorted(known), n=3)
        hint = f"; close ids: {', '.join(close)}" if close else ""
        raise DataError(f"{directory}: customer {missing[0]!r} is in no snapshot{hint}")
    if not ids:
        first, last = dates[0], dates[-1]
        falls = [
            (points[last][0] - points[first][0], cid)
            for cid, points in series.items()
            if first in points and last in points and points[last][0] < points[first][0]
        ]
        ids = [cid for _, cid in sorted(falls)[:top]]
    customers = []
    for cid in ids:
        points = series[cid]
        scores = [points.get(d, (None, None))[0] for d in dates]
        customers.append(
            {
                "id": cid,
                "scores": scores,
                "bands": [points.get(d, (None, None))[1] for d in dates],
                "trend": sparkline(scores),
            }
        )
    return {
        "directory": str(directory),
        "bands": band_order([tops]),
        "snapshots": [
            {
                "as_of": d,
                "customers": sum(by_date[d].values()),
                "mean": round(
                    sum(m * n for m, n in means[d]) / max(sum(n for _, n in means[d]), 1), 1
                ),
                "bands": by_date[d],
            }
            for d in dates
        ],
        "customers": customers,
        "warnings": listing.warnings,
    }
