"""`chs history`: band counts per snapshot and scores over time from a history folder."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import TypedDict

import polars as pl

from chs.columns import KEY
from chs.errors import DataError, polars_gist
from chs.exprs import band_order, tenths
from chs.hints import close_ids
from chs.history import FILE, Listing, list_snapshots, open_past
from chs.movement import respelled_across, respelled_warning
from chs.numbers import check_count, mean_of_tenths
from chs.trends import sparkline

# per customer, per snapshot date: (score, band)
_Series = dict[str, dict[str, tuple[float | None, str | None]]]


class SnapshotCounts(TypedDict):
    """One snapshot of the portfolio: customers, mean score, customers per band."""

    as_of: str
    customers: int
    mean: float
    bands: dict[str, int]  # customers per band


class CustomerHistory(TypedDict):
    """One customer across the snapshots (None where a snapshot lacks it)."""

    id: str
    scores: list[float | None]
    bands: list[str | None]
    trend: str  # a sparkline


class HistoryReport(TypedDict):
    """What `history` returns (and `chs history --json` prints)."""

    directory: str
    bands: list[str]
    snapshots: list[SnapshotCounts]
    customers: list[CustomerHistory]
    warnings: list[str]


@dataclass(frozen=True)
class _Frames:
    """What one pass over every snapshot collected."""

    dates: list[str]  # oldest first
    portfolio: pl.DataFrame  # customers and mean score per (as_of, band)
    wide: pl.DataFrame  # KEY, as_of, score, band
    tops: pl.DataFrame  # the highest score per band, for the band order


def history(directory: Path, ids: list[str], *, top: int = 10) -> HistoryReport:
    """Band counts per snapshot, and scores over time for the given customers (or, with
    none given, for those whose score fell most from the first snapshot to the last)."""
    check_count(top, "top")
    listing = list_snapshots(directory)
    if not listing.snapshots:
        raise DataError(f"{directory}: no snapshot (as_of=YYYY-MM-DD/{FILE}) in the history folder")
    frames = _collect(directory, listing)
    series = _series(frames.wide)
    missing = [i for i in ids if i not in series]
    if missing:
        hint = close_ids(missing[0], sorted(series))
        raise DataError(f"{directory}: customer {missing[0]!r} is in no snapshot{hint}")
    shown = ids or _biggest_falls(series, frames.dates, top)
    bands = band_order([frames.tops])
    return {
        "directory": str(directory),
        "bands": bands,
        "snapshots": _snapshots(frames.dates, frames.portfolio, bands),
        "customers": [_customer(cid, series[cid], frames.dates) for cid in shown],
        "warnings": [*listing.warnings, *_respelled(directory, frames.wide)],
    }


def _respelled(directory: Path, wide: pl.DataFrame) -> list[str]:
    """A warning when one customer is written two ways across the snapshots (`789` in
    one, `00789` in the next): the history shows two customers, each with gaps."""
    found = respelled_across(wide.lazy().select(KEY, "as_of")).collect()
    text = respelled_warning(found, directory, None, "different customers")
    return [text] if text else []


def _collect(directory: Path, listing: Listing) -> _Frames:
    """Read every snapshot of the listing in one pass; a failure is the folder's."""
    with open_past(listing.snapshots, None) as past:
        dates = [d.isoformat() for d, _ in past]
        frames = [
            s.frame.select(KEY, "score", "band", pl.lit(d.isoformat()).alias("as_of"))
            for d, s in past
        ]
        long = pl.concat(frames)
        try:
            portfolio, wide, tops = pl.collect_all(
                [
                    long.group_by("as_of", "band").agg(
                        pl.len().alias("customers"),
                        tenths("score").sum().alias("tenths"),
                        pl.col("score").count().alias("scores"),
                    ),
                    long.select(KEY, "as_of", "score", "band").sort(KEY, "as_of"),
                    long.group_by("band").agg(pl.col("score").max()),
                ]
            )
        except (pl.exceptions.PolarsError, pl.exceptions.PanicException) as exc:
            raise DataError(f"{directory}: cannot read the snapshots: {_gist(exc)}") from None
    return _Frames(dates, portfolio, wide, tops)


def _gist(exc: BaseException) -> str:
    """A read failure's gist; the engine's panics (a snapshot cut short) say so."""
    if isinstance(exc, pl.exceptions.PanicException):
        return "the engine failed reading them (did one change while it was read?)"
    return polars_gist(exc)


def _snapshots(dates: list[str], portfolio: pl.DataFrame, bands: list[str]) -> list[SnapshotCounts]:
    """Per snapshot: customers, the mean score, customers per band (best band first:
    the group-by that counts them keeps no order)."""
    by_date: dict[str, dict[str, int]] = {d: {} for d in dates}
    summed = dict.fromkeys(dates, 0)  # each snapshot's scores in tenths, summed and counted
    scores = dict.fromkeys(dates, 0)
    for r in portfolio.iter_rows(named=True):
        by_date[r["as_of"]][r["band"]] = int(r["customers"])
        summed[r["as_of"]] += int(r["tenths"] or 0)
        scores[r["as_of"]] += int(r["scores"])
    return [
        {
            "as_of": d,
            "customers": sum(by_date[d].values()),
            "mean": mean_of_tenths(summed[d], scores[d]) or 0.0,
            "bands": {b: by_date[d][b] for b in bands if b in by_date[d]},
        }
        for d in dates
    ]


def _series(wide: pl.DataFrame) -> _Series:
    """Each customer's score and band per snapshot date."""
    series: _Series = {}
    for r in wide.iter_rows(named=True):
        series.setdefault(r[KEY], {})[r["as_of"]] = (r["score"], r["band"])
    return series


def _biggest_falls(series: _Series, dates: list[str], top: int) -> list[str]:
    """The `top` customers whose score fell most from the first snapshot to the last."""
    first, last = dates[0], dates[-1]
    falls = [
        (points[last][0] - points[first][0], cid)
        for cid, points in series.items()
        if first in points and last in points and points[last][0] < points[first][0]
    ]
    return [cid for _, cid in sorted(falls)[:top]]


def _customer(
    cid: str, points: dict[str, tuple[float | None, str | None]], dates: list[str]
) -> CustomerHistory:
    scores = [points.get(d, (None, None))[0] for d in dates]
    return {
        "id": cid,
        "scores": scores,
        "bands": [points.get(d, (None, None))[1] for d in dates],
        "trend": sparkline(scores),
    }
