"""`chs backtest`: does the score predict churn? Scored snapshots against outcomes."""

from __future__ import annotations

import contextlib
import datetime as dt
from itertools import pairwise
from pathlib import Path
from typing import TypedDict

import polars as pl

from chs.backtest import (
    CHURNED,
    NO_INFORMATION,
    BandFigures,
    DecileFigures,
    SignalFigures,
    auc,
    auc_label,
    band_figures,
    counts_by,
    decile_figures,
    ks,
    signal_figures,
)
from chs.columns import KEY
from chs.errors import OPTION, DataError, OptionError
from chs.exprs import band_order
from chs.files import CsvOptions, PendingWrites, check_outputs
from chs.hints import suggest_column
from chs.history import list_snapshots, parse_date
from chs.outcomes import (
    Outcomes,
    check_yes_no,
    labelled,
    observed_until,
    read_outcomes,
    unmatched_warning,
    yes_no,
)
from chs.snapshot import Snapshot, extra_column, open_snapshot


class SnapshotUse(TypedDict):
    """One snapshot in the backtest: its figures alone, or why it was left out."""

    path: str
    as_of: str | None
    used: bool
    reason: str | None  # why it was left out
    customers: int
    churned: int
    auc: float | None


class GroupFigures(TypedDict):
    """One value of the `by` column: its rows and how well the score ranks them."""

    value: str | None
    customers: int
    churned: int
    churn_rate: float
    auc: float | None


class ByFigures(TypedDict):
    column: str
    groups: list[GroupFigures]


class BacktestResult(TypedDict):
    """What `backtest` returns (and `chs backtest --json` prints)."""

    outcome: str
    horizon_days: int | None
    observed_until: str | None
    customers: int  # rows pooled over the snapshots used
    churned: int
    churn_rate: float
    snapshots: list[SnapshotUse]
    auc: float | None
    gini: float | None
    ks: float | None
    auc_label: str | None
    bands: list[BandFigures]
    deciles: list[DecileFigures]
    signals: list[SignalFigures]
    verdict: list[str]
    warnings: list[str]
    by: ByFigures | None  # with `by`: the figures per value of that column
    output: str | None  # the tables' file, if written


def backtest(
    scored: list[str | Path] | None = None,
    *,
    history: str | Path | None = None,
    outcome: str | None = None,
    outcomes: str | Path | None = None,
    churned_on: str = "churned_on",
    outcome_id: str | None = None,
    horizon_days: int = 90,
    observed_until: dt.date | None = None,
    by: str | None = None,
    output: Path | None = None,
    csv: CsvOptions | None = None,
) -> BacktestResult:
    """Pool the snapshots (scored files, or a history folder's) with their outcomes and
    measure how well the score ranks the churners: AUC, Gini, KS, churn by band and by
    decile, each signal's AUC and information value; `by`: the same per value of a
    column of the scored files; `output`: the band, decile and signal tables, in one
    file (CSV, Parquet or NDJSON)."""
    csv = csv or CsvOptions()
    listed, folder_warnings = _listed(scored, history)
    if output is not None:
        check_outputs([output], [p for _, p in listed] + ([Path(outcomes)] if outcomes else []))
    if outcomes is None and outcome is None:
        raise OptionError(
            "give the outcome: a yes/no column of the scored file, or an outcomes file"
        )
    with contextlib.ExitStack() as stack:
        extra = _extra(outcome, outcomes) + ([by] if by else [])
        snaps = [
            (d, stack.enter_context(open_snapshot(p, None, csv, extra=extra))) for d, p in listed
        ]
        found = None
        if outcomes is not None:
            ident = outcome_id or snaps[0][1].id_column
            found = read_outcomes(
                str(outcomes), id_column=ident, outcome=outcome, churned_on=churned_on, csv=csv
            )
        until = _observed_until(observed_until, snaps, found)
        uses, frames = _labelled(snaps, outcome, found, horizon_days, until, by)
        if not frames:
            raise DataError(_nothing_left(uses))
        result = _figures(frames, uses, found, outcome or churned_on, horizon_days, until)
        unmatched = _unmatched(snaps, found)
    result["warnings"] = folder_warnings + result["warnings"] + unmatched
    result["by"] = _by_groups(frames, by) if by else None
    if output is not None:
        write_tables(result, output)
    result["output"] = str(output) if output is not None else None
    return result


def parse_days(text: str, what: str = "horizon") -> int:
    """A span of days written `90d` or `90`, at least one."""
    digits = text.strip().lower().removesuffix("d")
    if not digits.isdigit() or int(digits) < 1:
        raise OptionError(f"{what} must be a number of days such as 90d (got {text!r})")
    return int(digits)


def _listed(
    scored: list[str | Path] | None, history: str | Path | None
) -> tuple[list[tuple[dt.date | None, Path]], list[str]]:
    """The snapshots, with their dates when a history folder gives them, and the
    folder's warnings (entries that are not snapshots)."""
    if history is not None:
        if scored:
            raise OptionError("give scored files or a history folder, not both")
        listing = list_snapshots(Path(history))
        if not listing.snapshots:
            raise DataError(f"{history}: no snapshot in the history folder")
        return list(listing.snapshots), listing.warnings
    if not scored:
        raise OptionError("give at least one scored file, or a history folder")
    return [(None, Path(p)) for p in scored], []


def _extra(outcome: str | None, outcomes: str | Path | None) -> list[str]:
    """The scored files' columns to keep beside the scores: the outcome, when it is one."""
    return [outcome] if outcome is not None and outcomes is None else []


def _observed_until(
    given: dt.date | None, snaps: list[tuple[dt.date | None, Snapshot]], found: Outcomes | None
) -> dt.date | None:
    """Up to when churn was observed, from the snapshots' dates and the outcomes."""
    if found is None or not found.dated:
        return None
    dates = [d for d in (_date_of(d, s) for d, s in snaps) if d is not None]
    return observed_until(given, dates, found)


def _date_of(listed: dt.date | None, snap: Snapshot) -> dt.date | None:
    """A snapshot's date: its history folder's, else the as_of it records."""
    if listed is not None:
        return listed
    return parse_date(snap.as_of, f"{snap.path}: as_of") if snap.as_of else None


def _rows(
    snap: Snapshot,
    date: dt.date | None,
    outcome: str | None,
    found: Outcomes | None,
    horizon: int,
) -> pl.LazyFrame:
    """A snapshot's rows labelled CHURNED: by its own yes/no column, or by the outcomes."""
    if found is None:
        assert outcome is not None and snap.data is not None
        names = snap.data.frame.collect_schema().names()
        if outcome not in names:
            raise DataError(
                f"{snap.path}: column {outcome!r} (the outcome) not found."
                f"{suggest_column(outcome, names)}"
            )
        check_yes_no(snap.data.numbered(), outcome, str(snap.path))
        label = yes_no(pl.col(extra_column(outcome))).fill_null(False)
        return snap.frame.with_columns(label.alias(CHURNED))
    if found.dated and date is None:
        raise DataError(
            f"{snap.path}: the snapshot has no date (as_of), which churn dates need; score "
            "it with --as-of, or give the history folder"
        )
    return labelled(snap.frame, found, date, horizon)


def _queries(
    rows: pl.LazyFrame, snap: Snapshot, found: Outcomes | None, by: str | None
) -> dict[str, pl.LazyFrame]:
    """The counts a snapshot gives the backtest, read in one pass (and the outcomes'
    customers it has, to tell those that match none)."""
    value = "__value" if snap.value_column else None
    queries = {
        "score": counts_by(rows, pl.col("score")),
        "band": counts_by(rows, pl.col("band"), value),
        "top": rows.group_by("band").agg(pl.col("score").max()),
    }
    for signal in snap.signals:
        queries[f"signal:{signal}"] = counts_by(rows, pl.col(f"points_{signal}"))
    if by is not None:
        group = pl.col(extra_column(by)).cast(pl.String).alias("group")
        queries["by"] = rows.group_by(group, pl.col("score").alias("key")).agg(
            pl.len().alias("customers"), pl.col(CHURNED).sum().alias("churned")
        )
    return queries


def _labelled(
    snaps: list[tuple[dt.date | None, Snapshot]],
    outcome: str | None,
    found: Outcomes | None,
    horizon: int,
    until: dt.date | None,
    by: str | None,
) -> tuple[list[SnapshotUse], list[dict[str, pl.DataFrame]]]:
    """Each snapshot used (its counts) or left out (and why)."""
    uses: list[SnapshotUse] = []
    counts: list[dict[str, pl.DataFrame]] = []
    for listed, snap in snaps:
        date = _date_of(listed, snap)
        use: SnapshotUse = {
            "path": str(snap.path),
            "as_of": date.isoformat() if date else snap.as_of,
            "used": False,
            "reason": None,
            "customers": 0,
            "churned": 0,
            "auc": None,
        }
        uses.append(use)
        if until is not None and date is not None and date + dt.timedelta(days=horizon) > until:
            use["reason"] = (
                f"its {horizon}-day horizon ends after {until.isoformat()}, the last date observed"
            )
            continue
        _check_by(snap, by)
        queries = _queries(_rows(snap, date, outcome, found, horizon), snap, found, by)
        frames = dict(zip(queries, pl.collect_all(list(queries.values())), strict=True))
        area = auc(frames["score"])
        use.update(
            used=True,
            customers=int(frames["score"]["customers"].sum()),
            churned=int(frames["score"]["churned"].sum()),
            auc=round(area, 4) if area is not None else None,
        )
        counts.append(frames)
    return uses, counts


def _nothing_left(uses: list[SnapshotUse]) -> str:
    reasons = "; ".join(f"{u['path']}: {u['reason']}" for u in uses if u["reason"])
    return f"no snapshot can be used ({reasons})"


def _pooled(counts: list[dict[str, pl.DataFrame]], key: str) -> pl.DataFrame:
    """A count table summed over the snapshots that have it."""
    frames = [c[key] for c in counts if key in c]
    sums = [pl.col(c).sum() for c in frames[0].columns if c != "key"]
    return pl.concat(frames, how="diagonal_relaxed").group_by("key").agg(sums)


def _figures(
    counts: list[dict[str, pl.DataFrame]],
    uses: list[SnapshotUse],
    found: Outcomes | None,
    outcome: str,
    horizon: int,
    until: dt.date | None,
) -> BacktestResult:
    """The pooled figures, the verdict and the warnings."""
    scores = _pooled(counts, "score")
    customers, churned = int(scores["customers"].sum()), int(scores["churned"].sum())
    if not churned or churned == customers:
        which = "no customer churned" if not churned else "every customer churned"
        raise DataError(
            f"{outcome}: {which} in the {customers:,} rows used; a backtest needs both "
            "churners and customers who stayed"
        )
    rate = churned / customers
    order = band_order([c["top"] for c in counts])
    area = auc(scores)
    assert area is not None
    signals = sorted(
        {k.removeprefix("signal:") for c in counts for k in c if k.startswith("signal:")}
    )
    figures = [signal_figures(s, _pooled(counts, f"signal:{s}"), customers) for s in signals]
    bands = band_figures(_pooled(counts, "band"), order, rate)
    result: BacktestResult = {
        "outcome": outcome,
        "horizon_days": horizon if until is not None else None,
        "observed_until": until.isoformat() if until else None,
        "customers": customers,
        "churned": churned,
        "churn_rate": round(rate, 4),
        "snapshots": uses,
        "auc": round(area, 4),
        "gini": round(2 * area - 1, 4),
        "ks": round(ks(scores) or 0.0, 4),
        "auc_label": auc_label(area),
        "bands": bands,
        "deciles": decile_figures(scores, rate),
        "signals": figures,
        "verdict": [],
        "warnings": _warnings(uses),
        "by": None,
        "output": None,
    }
    result["verdict"] = verdict(result)
    return result


def _warnings(uses: list[SnapshotUse]) -> list[str]:
    """The snapshots left out, and why."""
    return [f"{u['path']} is left out: {u['reason']}" for u in uses if u["reason"]]


def _unmatched(snaps: list[tuple[dt.date | None, Snapshot]], found: Outcomes | None) -> list[str]:
    """Outcomes of customers in no snapshot read, used or left out."""
    if found is None:
        return []
    dates = [d for d in (_date_of(d, s) for d, s in snaps) if d is not None]
    seen = pl.concat([s.frame.select(KEY) for _, s in snaps])
    return unmatched_warning(found, seen, min(dates, default=None))


def verdict(result: BacktestResult) -> list[str]:
    """The backtest in sentences a CS lead reads: how well the score ranks churners,
    whether the bands are ordered by churn, the lowest band's lift, idle signals."""
    area = result["auc"] or 0.0
    lines = [
        f"AUC {area:.2f} ({result['auc_label']}): a churner scored lower than a customer "
        f"who stayed {area * 100:.0f} % of the time (0.5 is chance)."
    ]
    bands = [b for b in result["bands"] if b["customers"]]
    rates = ", ".join(f"{b['band']} {b['churn_rate'] * 100:.1f} %" for b in bands)
    ordered = all(a["churn_rate"] <= b["churn_rate"] for a, b in pairwise(bands))
    lines.append(
        f"Churn rises band by band: {rates}."
        if ordered
        else f"The bands are not ordered by churn: {rates}."
    )
    if bands and bands[-1]["lift"] is not None:
        low = bands[-1]
        lines.append(
            f"The lowest band, {low['band']}, churns {low['lift']:.1f}x the average "
            f"({result['churn_rate'] * 100:.1f} %)."
        )
    idle = [
        s["signal"] for s in result["signals"] if s["iv"] is not None and s["iv"] < NO_INFORMATION
    ]
    if idle:
        lines.append(f"No information (IV < {NO_INFORMATION}): {', '.join(idle)}.")
    if result["churned"] < SMALL_SAMPLE:
        lines.append(f"Only {result['churned']} churners: these figures are unstable.")
    return lines


SMALL_SAMPLE = 50  # fewer churners than this make the figures unstable


def _check_by(snap: Snapshot, by: str | None) -> None:
    """The `by` column is in the scored file."""
    if by is None or snap.data is None:
        return
    names = snap.data.frame.collect_schema().names()
    if by not in names:
        raise DataError(
            f"{snap.path}: column {by!r} (asked for with {OPTION}) not found."
            f"{suggest_column(by, names)}",
            option="by",
        )


def _by_groups(counts: list[dict[str, pl.DataFrame]], by: str) -> ByFigures:
    """Per value of the `by` column (the most rows first): rows, churners, AUC."""
    pooled = (
        pl.concat([c["by"] for c in counts], how="diagonal_relaxed")
        .group_by("group", "key")
        .agg(pl.col("customers").sum(), pl.col("churned").sum())
    )
    groups: list[GroupFigures] = []
    for (value,), table in pooled.group_by("group"):
        rows, churned = int(table["customers"].sum()), int(table["churned"].sum())
        area = auc(table.select("key", "customers", "churned"))
        groups.append(
            {
                "value": value,  # type: ignore[typeddict-item]
                "customers": rows,
                "churned": churned,
                "churn_rate": round(churned / rows, 4),
                "auc": round(area, 4) if area is not None else None,
            }
        )
    groups.sort(key=lambda g: (-g["customers"], str(g["value"])))
    return {"column": by, "groups": groups}


def tables(result: BacktestResult) -> pl.DataFrame:
    """The band, decile and signal tables as one, told apart by `table` and `name`."""
    parts = [
        pl.DataFrame([{"table": "bands", "name": b["band"], **b} for b in result["bands"]]),
        pl.DataFrame(
            [{"table": "deciles", "name": str(d["decile"]), **d} for d in result["deciles"]]
        ),
        pl.DataFrame([{"table": "signals", "name": s["signal"], **s} for s in result["signals"]]),
    ]
    frame = pl.concat([p for p in parts if p.height], how="diagonal_relaxed")
    return frame.drop([c for c in ("band", "decile", "signal") if c in frame.columns])


def write_tables(result: BacktestResult, output: Path) -> None:
    """The tables written to `output` as every output is (a temporary renamed)."""
    with PendingWrites([(tables(result).lazy(), output)]) as pending:
        pl.collect_all(pending.sinks)
        pending.commit()
