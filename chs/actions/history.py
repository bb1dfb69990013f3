"""`chs history`: band counts per snapshot and scores over time from a history folder."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import polars as pl

from chs.columns import KEY
from chs.errors import DataError
from chs.exprs import band_order
from chs.history import FILE, list_snapshots, open_past
from chs.trends import sparkline


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
