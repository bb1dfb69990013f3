"""Trends from earlier snapshots: the score change over N days, the band streak, and
sparklines of a customer's scores over time."""

from __future__ import annotations

import datetime as dt

import polars as pl

from chs.columns import KEY, STREAK, internal
from chs.snapshot import Lookup, Snapshot, extra_column

SPARK = "▁▂▃▄▅▆▇█"

# Lookup columns (working names): the band in the latest past snapshot, the run of
# snapshots in it, and, while the run is folded, whether it goes on and the band then.
_BAND0, _RUN0, _ALIVE, _THEN = (
    internal("band0"),
    internal("run0"),
    internal("alive"),
    internal("then"),
)


def _then(days: int) -> str:
    """The lookup column of the score `days` ago."""
    return internal("then", str(days))


def nearest(dates: list[dt.date], as_of: dt.date, days: int) -> dt.date | None:
    """The snapshot date nearest to `as_of - days`, within days/2 of it (older on a tie)."""
    target = as_of - dt.timedelta(days=days)
    close = [d for d in dates if d < as_of and abs((d - target).days) <= days / 2]
    return min(close, key=lambda d: (abs((d - target).days), d)) if close else None


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
) -> tuple[list[Lookup], dict[str, str | None]]:
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
    lookups: list[Lookup] = []
    by_date = dict(past)
    for days in spans:
        when = nearest(dates, as_of, days)
        used[f"change_{days}d"] = when.isoformat() if when else None
        if when is None or (joined and when == max(before)):
            continue
        lookups.append(Lookup(by_date[when], (pl.col("score").alias(_then(days)),)))
    if before:
        latest_first = [by_date[d] for d in sorted(before, reverse=True)]
        carried = _carried_streak(latest_first[0], joined)
        if carried is not None:
            lookups.append(carried)
        elif not (joined and len(before) == 1):  # one joined snapshot: previous_band says it
            lookups.append(Lookup(None, frame=_folded_streak(latest_first)))
    return lookups, used


def needed(before: list[dt.date], as_of: dt.date, spans: list[int]) -> list[dt.date]:
    """The earlier snapshots the trends read: the latest (the streak goes on from it) and
    each span's nearest; all of them only for a history whose latest snapshot does not
    record its streak (`carries_streak`)."""
    if not before:
        return []
    wanted = {max(before)} | {nearest(before, as_of, days) for days in spans}
    return sorted(d for d in wanted if d is not None)


def carries_streak(snapshot: Snapshot) -> bool:
    """Whether the snapshot's file records each customer's band streak."""
    return snapshot.data is not None and STREAK in snapshot.data.frame.collect_schema().names()


def _carried_streak(latest: Snapshot, joined: bool) -> Lookup | None:
    """The band in the latest past snapshot and its streak as that snapshot recorded it
    (`snapshots_in_band`): the run's streak goes on from there, whatever the history's
    depth. None for a snapshot written without the column (then `_folded_streak`).
    `joined`: the latest is the previous snapshot, whose band is previous_band."""
    carried = extra_column(STREAK)
    if not carries_streak(latest) or carried not in latest.frame.collect_schema().names():
        return None
    run = pl.col(carried).cast(pl.Int32, strict=False).fill_null(1).alias(_RUN0)
    return Lookup(latest, (run,) if joined else (pl.col("band").alias(_BAND0), run))


def _folded_streak(latest_first: list[Snapshot]) -> pl.LazyFrame:
    """The band in the latest past snapshot, then, going back one snapshot at a time,
    how many in a row found the customer in it (an absence ends the run): a fold that
    holds one row per customer, not every past snapshot at once. For a history written
    before the snapshots recorded their streak."""
    streak = latest_first[0].frame.select(
        KEY,
        pl.col("band").alias(_BAND0),
        pl.lit(1, pl.Int32).alias(_RUN0),
        pl.lit(True).alias(_ALIVE),
    )
    alive = pl.col(_ALIVE) & (pl.col(_THEN) == pl.col(_BAND0)).fill_null(False)
    for snap in latest_first[1:]:
        then = snap.frame.select(KEY, pl.col("band").alias(_THEN))
        streak = (
            streak.join(then, on=KEY, how="left")
            .with_columns(alive.alias(_ALIVE))
            .with_columns((pl.col(_RUN0) + pl.col(_ALIVE).cast(pl.Int32)).alias(_RUN0))
            .drop(_THEN)
        )
    return streak.select(KEY, _BAND0, _RUN0)


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
        then = "previous_score" if joined and when == max(before) else _then(days)
        change = (pl.col("score") - pl.col(then)).round(1, mode="half_away_from_zero")
        columns.append(change.alias(f"change_{days}d"))
    names = frame.collect_schema().names()
    if _RUN0 in names:  # the latest snapshot's band and streak (carried or folded)
        band0 = _BAND0 if _BAND0 in names else "previous_band"
        same = (pl.col(band0) == pl.col("band")).fill_null(False)
        streak: pl.Expr = pl.when(same).then(pl.col(_RUN0)).otherwise(0).cast(pl.Int32) + 1
    elif before and joined and len(before) == 1:
        same = (pl.col("previous_band") == pl.col("band")).fill_null(False)
        streak = same.cast(pl.Int32) + 1
    else:
        streak = pl.lit(1, pl.Int32)
    lookup = [c for c in names if c in (_BAND0, _RUN0) or c.startswith(f"{_THEN}_")]
    return frame.with_columns(*columns, streak.alias(STREAK)).drop(lookup)


def sparkline(scores: list[float | None]) -> str:
    """One character per snapshot, 0-100 mapped to ▁..█; a space where there is no score."""
    return "".join(
        " " if s is None else SPARK[min(int(s / 100 * len(SPARK)), len(SPARK) - 1)] for s in scores
    )
