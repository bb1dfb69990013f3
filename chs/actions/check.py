"""`chs check`: what a scheme means in numbers, and how it fares against a data file.

The rules shown come from the same `Tier.interval` the engine scores with.
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Any, NotRequired, TypedDict

import polars as pl

from chs.alerts import add_alerts
from chs.columns import OK, REASON, ROUTE, ROW, internal
from chs.description import SchemeDescription, describe
from chs.engine import ScoringPlan
from chs.engine.checks import data_check_queries, data_checks
from chs.files import CsvOptions
from chs.history import parse_date as parse_date  # for the CLI's --as-of
from chs.scheme import FlatSignal, Scheme
from chs.scheme import json_schema as json_schema  # for `chs schema`
from chs.scheme import load_scheme as load_scheme  # for `chs check`, `diff`, `explain`
from chs.sources import collect, planned
from chs.summary import REJECT_SAMPLE, reject_lines

HISTOGRAM_BINS = 10

# (definition name, signal, prefix of its working columns), for every definition
_Signals = list[tuple[str, FlatSignal, str]]


class ColumnCheck(TypedDict):
    """How one signal's input fares in the file."""

    definition: NotRequired[str]  # with segments
    signal: str
    column: str
    type: str
    missing_share: float


class BandCount(TypedDict):
    """Customers in one band."""

    band: str
    customers: int


class BinCount(TypedDict):
    """Customers in one bin of the score histogram (`0-10`)."""

    range: str
    customers: int


class CheckResult(TypedDict):
    """What `check_data` returns (`chs check --data --json` prints it beside the
    scheme's description)."""

    file: str
    rows: dict[str, int]  # read, scored, rejected
    rejected_sample: list[str]
    columns: list[ColumnCheck]
    bands: list[BandCount]
    histogram: list[BinCount]
    definitions: dict[str, int] | None  # with segments: rows routed to each
    warnings: list[str]


class SchemeCheck(SchemeDescription):
    """What `check` returns (and `chs check --json` prints): the scheme described, and
    with a data file, how the file fares (`data`)."""

    data: NotRequired[CheckResult]


def check(
    scheme: Scheme,
    data: str | Path | None = None,
    csv: CsvOptions | None = None,
    *,
    as_of: dt.date | None = None,
) -> SchemeCheck:
    """A scheme in numbers (weights, rules, bands) and, given `data`, the file scored
    without writing. Rejected rows are reported in `data`, not raised: they are the
    verdict of a check, and the caller decides what they mean. `as_of`: the run's date
    (CURRENT_DATE, `days_until`; default today)."""
    result: SchemeCheck = {**describe(scheme)}  # type: ignore[typeddict-item]
    if data is not None:
        result["data"] = check_data(scheme, data, csv, as_of=as_of)
    return result


def check_data(
    scheme: Scheme,
    path: str | Path,
    csv: CsvOptions | None = None,
    *,
    as_of: dt.date | None = None,
) -> CheckResult:
    """Score `path` without writing: columns and types, missing shares, the distribution,
    and the warnings of `chs.engine.checks` (empty columns, `other` taking many rows)."""
    source = Path(path)
    csv = csv or CsvOptions()
    with planned(source, scheme, csv, as_of) as (data, plan):
        schema = data.frame.collect_schema()
        add_alerts(plan.scored, scheme, as_of)  # an alert naming a column the rows lack is an error
        signals = [
            (dname, f, prefix)
            for dname, (d, prefix) in plan.definitions.items()
            for f in d.flat_signals()
        ]
        checks = data_check_queries(plan, plan.checked, schema)
        counts, sample, bands, hist, *found = collect(
            [*_queries(scheme, plan, signals), *checks], data, scheme=scheme
        )
        warnings = data_checks(plan, found, schema, str(source)).warnings
    head = counts.row(0, named=True)
    read, rejected = int(head["read"]), int(head["rejected"])
    per_band, per_bin = dict(bands.iter_rows()), dict(hist.iter_rows())
    width = 100 // HISTOGRAM_BINS
    segmented = scheme.segments is not None
    return {
        "file": str(source),
        "rows": {"read": read, "scored": read - rejected, "rejected": rejected},
        "rejected_sample": reject_lines({"reject_sample": sample}),
        "columns": _columns(signals, head, scheme, schema, segmented=segmented),
        "bands": [
            {"band": b.name, "customers": int(per_band.get(b.name, 0))} for b in scheme.bands
        ],
        "histogram": [
            {"range": f"{i * width}-{(i + 1) * width}", "customers": int(per_bin.get(i, 0))}
            for i in range(HISTOGRAM_BINS)
        ],
        "definitions": {d: int(head[f"routed/{d}"]) for d in plan.definitions}
        if segmented
        else None,
        "warnings": [*plan.warnings, *warnings],
    }


def _queries(scheme: Scheme, plan: ScoringPlan, signals: _Signals) -> list[pl.LazyFrame]:
    """Counts and missing shares, the rejected sample, customers per band and per bin.
    Missing shares are per definition (with segments: among the rows routed to it)."""
    bins = (pl.col("score") // (100 / HISTOGRAM_BINS)).clip(0, HISTOGRAM_BINS - 1).cast(pl.Int32)
    segmented = scheme.segments is not None
    routed = {
        dname: (pl.col(ROUTE) == dname) if segmented else pl.lit(True) for dname in plan.definitions
    }
    return [
        plan.checked.select(
            pl.len().alias("read"),
            (~pl.col(OK)).sum().alias("rejected"),
            *[
                (~pl.col(internal("has", f.name, prefix)))
                .filter(routed[dname])
                .mean()
                .alias(f"{dname}/{f.name}")
                for dname, f, prefix in signals
            ],
            *[routed[dname].sum().alias(f"routed/{dname}") for dname in plan.definitions],
        ),
        plan.rejected.head(REJECT_SAMPLE).select(
            ROW, pl.col(scheme.id).cast(pl.String).alias("id"), REASON
        ),
        plan.scored.group_by("band").agg(pl.len().alias("customers")),
        plan.scored.group_by(bins.alias("bin")).agg(pl.len().alias("customers")),
    ]


def _columns(
    signals: _Signals,
    head: dict[str, Any],
    scheme: Scheme,
    schema: pl.Schema,
    *,
    segmented: bool,
) -> list[ColumnCheck]:
    """Each signal's column, its type as read (as declared, if it is), and the share of
    rows that lack it."""
    columns: list[ColumnCheck] = []
    for dname, f, _ in signals:
        sig = f.signal
        col = sig.read_column
        declared = (scheme.columns or {}).get(col) if col is not None else None
        dtype = schema[col] if col is not None else None
        shown = declared.type if declared else str(dtype) if dtype is not None else "expression"
        columns.append(
            {
                **({"definition": dname} if segmented else {}),
                "signal": f.name,
                "column": col if col is not None else f"expr {sig.expr}",
                "type": shown,
                "missing_share": round(float(head[f"{dname}/{f.name}"] or 0.0), 4),
            }
        )
    return columns
