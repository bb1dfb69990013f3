"""`chs forecast`: band transitions between a history's snapshots, and where the latest
snapshot's customers are heading, month by month; with a what-if."""

from __future__ import annotations

import contextlib
import datetime as dt
import re
import statistics
from itertools import pairwise
from pathlib import Path
from typing import TypedDict

import polars as pl

from chs.errors import OPTION, DataError, OptionError
from chs.exprs import band_order
from chs.forecast import (
    Step,
    count_matrix,
    lifetimes,
    moved,
    probabilities,
    project,
    transition_counts,
)
from chs.hints import suggest_column
from chs.history import list_snapshots, open_past
from chs.numbers import check_count, money
from chs.snapshot import extra_column, open_snapshot

MONTH_DAYS = 365.25 / 12
MAX_MONTHS = 120  # ten years: beyond, a chain fitted on a few months says nothing
GAP_TOLERANCE = 0.2  # a gap this much longer or shorter than the usual one is irregular


class WhatIf(TypedDict):
    """The simulation: `share` of `source`'s customers moved to `target` at the start."""

    source: str
    target: str
    share: float
    moved: float  # customers moved
    forecast: list[Step]
    saved: list[dict[str, float | int | None]]  # per month: customers and value saved


class GroupForecast(TypedDict):
    value: str | None
    customers: int  # in the latest snapshot
    start: dict[str, int]
    forecast: list[Step]
    lifetime: dict[str, float | None]


class ByForecast(TypedDict):
    column: str
    groups: list[GroupForecast]


class Transitions(TypedDict):
    counts: dict[str, dict[str, int]]
    probabilities: dict[str, dict[str, float]]


class ForecastResult(TypedDict):
    """What `forecast` returns (and `chs forecast --json` prints)."""

    history: str
    snapshots: list[str]
    step_days: float  # the usual gap between two snapshots: one step of the chain
    bands: list[str]
    transitions: Transitions
    start: dict[str, int]  # the latest snapshot's customers per band
    value: dict[str, float] | None  # and their value
    forecast: list[Step]
    lifetime: dict[str, float | None]  # expected steps before a band's customer is lost
    ltv: dict[str, float | None] | None  # lifetime x a customer's mean value, per band
    what_if: WhatIf | None
    by: ByForecast | None  # with `by`: each value's own matrix and projection
    warnings: list[str]


def parse_what_if(text: str) -> tuple[str, str, float]:
    """`red:green=10%`: 10 % of red's customers move to green."""
    found = re.fullmatch(r"\s*([^:=]+?)\s*:\s*([^:=]+?)\s*=\s*(\d+(?:\.\d+)?)\s*%\s*", text)
    if found is None or not 0 < float(found.group(3)) <= 100:
        raise OptionError(
            "{option} takes FROM:TO=P% with P between 0 and 100, e.g. red:green=10% "
            f"(got {text!r})",
            option="what_if",
        )
    return found.group(1), found.group(2), float(found.group(3)) / 100


def forecast(
    history: str | Path,
    *,
    months: int = 12,
    what_if: tuple[str, str, float] | None = None,
    by: str | None = None,
) -> ForecastResult:
    """The transition matrix of the history's consecutive snapshots (LOST: present in
    one, absent from the next), and the latest snapshot projected `months` steps on;
    `by`: the same per value of a column (each group with its own matrix)."""
    if check_count(months, "months", most=MAX_MONTHS) == 0:
        raise OptionError(f"{{option}} must be from 1 to {MAX_MONTHS} (got 0)", option="months")
    folder = Path(history)
    listing = list_snapshots(folder)
    if len(listing.snapshots) < 2:
        raise DataError(
            f"{folder}: a forecast needs at least two snapshots (found {len(listing.snapshots)})"
        )
    counts_frames, start_frame, top_frames, has_value = _counts(listing.snapshots)
    bands = band_order(top_frames)
    counts = count_matrix(counts_frames, bands)
    matrix = probabilities(counts)
    rows = list(start_frame.iter_rows(named=True))
    start = {b: 0 for b in bands} | {r["band"]: r["n"] for r in rows}
    value = (
        ({b: 0.0 for b in bands} | {r["band"]: r["value"] or 0.0 for r in rows})
        if has_value
        else None
    )
    dates = [d for d, _ in listing.snapshots]
    gaps = [(b - a).days for a, b in pairwise(dates)]
    usual = statistics.median(gaps)
    base = project({**start}, value, matrix, months)
    life = lifetimes(matrix)
    return {
        "history": str(folder),
        "snapshots": [d.isoformat() for d in dates],
        "step_days": usual,
        "bands": bands,
        "transitions": {
            "counts": counts,
            "probabilities": {
                s: {t: round(p, 4) for t, p in row.items()} for s, row in matrix.items()
            },
        },
        "start": start,
        "value": {b: money(v) or 0.0 for b, v in value.items()} if value is not None else None,
        "forecast": base,
        "lifetime": life,
        "ltv": _ltv(life, start, value),
        "what_if": _what_if(what_if, start, value, matrix, months, base) if what_if else None,
        "by": _by_groups(listing.snapshots, by, bands, months, has_value) if by else None,
        "warnings": listing.warnings + _gap_warnings(folder, dates, gaps, usual),
    }


def _counts(
    snapshots: list[tuple[dt.date, Path]],
) -> tuple[list[pl.DataFrame], pl.DataFrame, list[pl.DataFrame], bool]:
    """In one pass: the transition counts of each pair of consecutive snapshots, the
    latest one's customers and value per band, each one's top score per band (for the
    bands' order), and whether the latest records a value."""
    with open_past(snapshots, None) as snaps:
        frames = [s.frame for _, s in snaps]
        pairs = [transition_counts(a, b) for a, b in pairwise(frames)]
        latest = (
            frames[-1]
            .group_by("band")
            .agg(pl.len().alias("n"), pl.col("__value").sum().alias("value"))
        )
        tops = [f.group_by("band").agg(pl.col("score").max()) for f in frames]
        has_value = snaps[-1][1].value_column is not None
        done = pl.collect_all([*pairs, latest, *tops])
    return done[: len(pairs)], done[len(pairs)], done[len(pairs) + 1 :], has_value


def _ltv(
    life: dict[str, float | None], start: dict[str, int], value: dict[str, float] | None
) -> dict[str, float | None] | None:
    """Per band: the expected lifetime times a customer's mean value there."""
    if value is None:
        return None
    return {
        b: money(life[b] * value[b] / start[b]) if life[b] is not None and start[b] else None
        for b in life
    }


def _what_if(
    asked: tuple[str, str, float],
    start: dict[str, int],
    value: dict[str, float] | None,
    matrix: dict[str, dict[str, float]],
    months: int,
    base: list[Step],
) -> WhatIf:
    """The projection with the move made at the start, and what it saves."""
    source, target, share = asked
    for band in (source, target):
        if band not in matrix:
            raise OptionError(
                f"{{option}}: no band {band!r} in the history (bands: {', '.join(matrix)})",
                option="what_if",
            )
    customers = moved({b: float(n) for b, n in start.items()}, source, target, share)
    values = None
    if value is not None:
        values = moved(value, source, target, share)
    changed = project(customers, values, matrix, months)
    saved = [
        {
            "month": a["month"],
            "customers": round(a["lost"] - b["lost"], 4),
            "value": money(a["value_lost"] - b["value_lost"])
            if a["value_lost"] is not None and b["value_lost"] is not None
            else None,
        }
        for a, b in zip(base, changed, strict=True)
    ]
    return {
        "source": source,
        "target": target,
        "share": share,
        "moved": round(start[source] * share, 4),
        "forecast": changed,
        "saved": saved,
    }


def _gap_warnings(folder: Path, dates: list[dt.date], gaps: list[int], usual: float) -> list[str]:
    """Irregular gaps between snapshots, and steps that are not months."""
    out = []
    odd = [
        f"{a.isoformat()} to {b.isoformat()} ({g} days)"
        for a, b, g in zip(dates, dates[1:], gaps, strict=False)
        if abs(g - usual) > GAP_TOLERANCE * usual
    ]
    if odd:
        out.append(
            f"{folder}: irregular gaps between snapshots: {'; '.join(odd)}; each step of the "
            f"forecast is the usual gap, {usual:g} days"
        )
    if abs(usual - MONTH_DAYS) > GAP_TOLERANCE * MONTH_DAYS:
        out.append(
            f"{folder}: the snapshots are {usual:g} days apart, not a month: each step of the "
            "forecast is that long"
        )
    return out


def _by_groups(
    snapshots: list[tuple[dt.date, Path]], by: str, bands: list[str], months: int, has_value: bool
) -> ByForecast:
    """Per value of `by` (in the earlier snapshot of each pair, and the latest): its own
    transition matrix, projection and lifetimes; the most customers first."""
    with contextlib.ExitStack() as stack:
        snaps = [
            stack.enter_context(open_snapshot(p, None, extra=[by], role="history snapshot"))
            for _, p in snapshots
        ]
        latest = snaps[-1]
        assert latest.data is not None
        names = latest.data.frame.collect_schema().names()
        if by not in names:
            raise DataError(
                f"{latest.path}: column {by!r} (asked for with {OPTION}) not found."
                f"{suggest_column(by, names)}",
                option="by",
            )
        group = pl.col(extra_column(by)).cast(pl.String)
        pairs = [transition_counts(a.frame, b.frame, group) for a, b in pairwise(snaps)]
        now = latest.frame.group_by(group.alias("g"), "band").agg(
            pl.len().alias("n"), pl.col("__value").sum().alias("value")
        )
        done = pl.collect_all([*pairs, now])
    counted, start_rows = done[:-1], done[-1]
    groups: list[GroupForecast] = []
    for value in start_rows["g"].unique().to_list():
        mine = start_rows.filter(pl.col("g").eq_missing(value))
        start = {b: 0 for b in bands} | dict(zip(mine["band"], mine["n"], strict=True))
        values = dict(zip(mine["band"], mine["value"], strict=True)) if has_value else None
        frames = [f.filter(pl.col("g").eq_missing(value)).drop("g") for f in counted]
        matrix = probabilities(count_matrix(frames, bands))
        groups.append(
            {
                "value": value,
                "customers": int(sum(start.values())),
                "start": start,
                "forecast": project({**start}, values, matrix, months),
                "lifetime": lifetimes(matrix),
            }
        )
    groups.sort(key=lambda g: (-g["customers"], str(g["value"])))
    return {"column": by, "groups": groups}
