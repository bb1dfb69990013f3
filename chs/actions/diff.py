"""Comparing two snapshots: per-customer movement, band transitions, drivers, drift.

`compare` returns plain data (like csv-diff's `compare`); the CLI renders it. The
per-customer frame stays lazy so `chs diff -o` streams. The words of the movement and
of the summary groups are chs.movement's.
"""

from __future__ import annotations

import contextlib
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any, TypedDict

import polars as pl

from chs.columns import KEY
from chs.drift import bin_counts, psi, psi_label, score_bins
from chs.errors import DataError, polars_gist
from chs.exprs import band_order
from chs.files import (
    CsvOptions,
    PendingWrites,
    WorkFolder,
    check_outputs,
    open_input,
    output_format,
    write_parquet,
)
from chs.movement import (
    BIGGEST_DROPS,
    COMPARED,
    DIFF_COUNTS,
    NEWLY_AT_RISK,
    RECOVERED,
    BandMove,
    band_move_queries,
    band_moves,
    per_customer,
    points_bounded,
    respelled_query,
    respelled_warning,
)
from chs.numbers import check_count, money
from chs.rollup import build_rollups, check_by, rollup_queries
from chs.scheme import Scheme
from chs.scheme import load_scheme as load_scheme  # for `chs diff`
from chs.snapshot import (
    Snapshot,
    non_number,
    one_row_per_customer,
    open_snapshot,
    recorded,
    recorded_value,
    scheme_mismatch,
)
from chs.spreadsheet import for_excel


class SnapshotInfo(TypedDict):
    """Where a snapshot came from and how it was scored."""

    path: str
    scheme: str | None
    hash: str | None
    as_of: str | None
    rescored: bool
    rejected: int


class RowCounts(TypedDict):
    """Customers in the last snapshot, in this one, and in both."""

    last: int
    this: int
    common: int


# `from` is a keyword, hence the functional form.
Transition = TypedDict(
    "Transition",
    {"from": str | None, "to": str | None, "customers": int, "value": float | None},
)


class Drop(TypedDict):
    """One of the biggest drops."""

    id: str
    last_score: float | None
    this_score: float | None
    delta: float | None
    last_band: str | None
    this_band: str | None
    value: float | None
    drivers: str | None


class Psi(TypedDict):
    """A population stability index and its reading (`chs.drift`)."""

    psi: float
    label: str


class Drift(TypedDict):
    """How far the score and each signal's points moved as distributions."""

    score: Psi
    signals: dict[str, Psi]  # per signal both snapshots score


class Comparison(TypedDict):
    """What `compare` returns; the keys of `movement` are DIFF_COUNTS's."""

    last: SnapshotInfo
    this: SnapshotInfo
    rows: RowCounts
    movement: dict[str, int]
    bands: list[str]
    lowest_band: str | None
    transitions: list[Transition]
    biggest_drops: list[Drop]
    newly_at_risk: BandMove
    recovered: BandMove
    drift: Drift
    rollups: list[dict[str, Any]]  # chs.rollup's
    warnings: list[str]


class DiffSummary(Comparison):
    """What `diff` returns (and `chs diff --json` prints)."""

    output: str | None


def compare(
    last: Snapshot,
    this: Snapshot,
    *,
    top: int = 10,
    bands: list[str] | None = None,
    by: list[list[str]] | None = None,
    at_risk: list[str] | None = None,
    work: Path | None = None,
    store: Path | None = None,
) -> tuple[Comparison, pl.LazyFrame]:
    """The diff summary (plain data) and the lazy per-customer frame. `by`: roll-ups of
    this snapshot's customers with their mean delta; `at_risk`: the bands counted in
    value at risk (default: the lowest). `store` (else a file in `work`, else memory):
    where the joined rows are written once, for every query to read."""
    by = by or []
    extra = [c for spec in by for c in spec]
    common = [s for s in this.signals if s in last.signals]
    order = bands or band_order(list(_collect(_band_queries(last, this), last, this).values()))
    lowest = order[-1] if order else None
    rows, frames = _joined(
        last, this, extra, store or (work / "rows.parquet" if work else None), common, top, lowest
    )
    counts = frames["counts"].row(0, named=True)
    _check_common(counts, last, this)
    moved = {r["movement"]: int(r["customers"]) for r in frames["movement"].iter_rows(named=True)}
    newly, recovered = band_moves(frames)
    risk = at_risk or ([lowest] if lowest else [])
    warnings = [scheme_mismatch(last, this)]
    respelled = _respelled(frames)
    warnings.append(respelled_warning(respelled, this.path, last.path, "left and arrived"))
    result: Comparison = {
        "last": _describe(last),
        "this": _describe(this),
        "rows": {
            "last": int(counts["last"]),
            "this": int(counts["this"]),
            "common": int(counts["common"]),
        },
        "movement": {name: moved.get(kind, 0) for name, kind in DIFF_COUNTS.items()},
        "bands": order,
        "lowest_band": lowest,
        "transitions": _transitions(frames["transitions"], order),
        BIGGEST_DROPS: _drops(frames["drops"]),
        NEWLY_AT_RISK: newly,
        RECOVERED: recovered,
        "drift": _drift(frames, common),
        "rollups": _rollups(rows, by, order, risk, has_value=this.value_column is not None)
        if by
        else [],
        "warnings": [w for w in warnings if w is not None],
    }
    return result, rows.select(pl.exclude([c for c in extra if c not in COMPARED]))


def _joined(
    last: Snapshot,
    this: Snapshot,
    extra: list[str],
    store: Path | None,
    common: list[str],
    top: int,
    lowest: str | None,
) -> tuple[pl.LazyFrame, dict[str, pl.DataFrame]]:
    """The per-customer rows, and the summary's aggregates over them. Written to
    `store`, the rows are joined once, in the pass that also computes the aggregates
    that read each row as it streams (reading the written file back for them took 4 s
    of 17 at 10 million customers); the biggest drops are then found in the file. The
    drift is counted in the first read of the snapshots. Without a store, the rows are
    held in memory."""
    ordered, bounded, bins = _first_read(last, this, common)
    joined = per_customer(last, this, extra, ordered=ordered, bounded=bounded)
    if store is None:
        rows = joined.collect().lazy()
        queries = _pass_queries(rows, top, lowest) | _later_queries(rows, top)
        return rows, _collect(queries, last, this) | bins
    cached = joined.cache()
    queries = _pass_queries(cached, top, lowest)
    try:  # a failed write names the output (or TMPDIR)
        frames = write_parquet(cached, store, also=list(queries.values()))
    except (pl.exceptions.PolarsError, pl.exceptions.PanicException) as exc:
        raise _compare_error(exc, last, this) from None
    rows = pl.scan_parquet(store)
    later = _collect(_later_queries(rows, top), last, this)
    return rows, dict(zip(queries, frames, strict=True)) | later | bins


_BOUNDED = "bounded"
_BINS = "bins_"


def _first_read(
    last: Snapshot, this: Snapshot, common: list[str]
) -> tuple[bool, bool, dict[str, pl.DataFrame]]:
    """One read of each file: whether its ids are in order (none twice, else an error),
    whether its points lie within 0-100 (`per_customer`'s `bounded`), and the drift's
    customers per bin. What it read is let go before the pass that joins the rows."""
    read = _collect({"last": _keys(last, common), "this": _keys(this, common)}, last, this)
    ordered = all(
        [
            one_row_per_customer(last, read["last"][KEY]),
            one_row_per_customer(this, read["this"][KEY]),
        ]
    )
    bounded = all(bool(read[side][_BOUNDED].all()) for side in read)
    bins = {
        f"{_BINS}{side}:{column}": bin_counts(read[side][f"{_BINS}{column}"])
        for side in read
        for column in _binned(common)
    }
    return ordered, bounded, bins


def _keys(snapshot: Snapshot, common: list[str]) -> pl.LazyFrame:
    """A snapshot's KEY, per row whether its points lie within 0-100, and the PSI bin of
    its score and of every common signal's points (`_binned`, counted in memory for
    the drift): one read of the file, where a group-by per column read it again (0.6 s
    of a 10 million customer diff). The points are read in the file's own type (whole
    points as integers, binned 10 times faster than as floats)."""
    rows = snapshot.keyed if snapshot.keyed is not None else snapshot.frame
    types = rows.collect_schema()
    bins = [score_bins(pl.col(c), types[c]).alias(f"{_BINS}{c}") for c in _binned(common)]
    return rows.select(KEY, points_bounded(common).alias(_BOUNDED), *bins)


def _binned(common: list[str]) -> list[str]:
    """The columns whose drift a diff shows: the score, then each common signal's points."""
    return ["score", *[f"points_{s}" for s in common]]


def _band_queries(last: Snapshot, this: Snapshot) -> dict[str, pl.LazyFrame]:
    """Each snapshot's bands and their highest score, to order the bands by."""
    return {
        "bands_this": this.frame.group_by("band").agg(pl.col("score").max()),
        "bands_last": last.frame.group_by("band").agg(pl.col("score").max()),
    }


def _pass_queries(rows: pl.LazyFrame, top: int, lowest: str | None) -> dict[str, pl.LazyFrame]:
    """The summary's aggregates computed in the pass that writes the per-customer rows:
    those that keep a few of them. Others (the counts and group-bys by movement and
    band, the sort of every falling customer, the snapshots' bins) made Polars hold the
    rows the pass wrote (2.2 to 3.2 GB at 10 million customers): they read the file."""
    queries = {
        # the customers who arrived and those who left, for RESPELLED (see `_respelled`)
        _ARRIVED: _only(rows, "this_score", "last_score"),
        _LEFT: _only(rows, "last_score", "this_score"),
    }
    return queries | band_move_queries(rows, lowest, top)


def _later_queries(rows: pl.LazyFrame, top: int) -> dict[str, pl.LazyFrame]:
    """The counts, movement and band transitions of the per-customer rows, and the
    biggest drops among them."""
    value = pl.coalesce("this_value", "last_value")
    return {
        "counts": rows.select(
            pl.col("last_score").is_not_null().sum().alias("last"),
            pl.col("this_score").is_not_null().sum().alias("this"),
            (pl.col("last_score").is_not_null() & pl.col("this_score").is_not_null())
            .sum()
            .alias("common"),
        ),
        "movement": rows.group_by("movement").agg(
            pl.len().alias("customers"), value.sum().alias("value")
        ),
        "transitions": rows.group_by("last_band", "this_band").agg(
            pl.len().alias("customers"), value.sum().alias("value")
        ),
        "drops": rows.filter(pl.col("delta") < 0)
        .sort(["delta", "this_value"], descending=[False, True], nulls_last=True)
        .head(top),
    }


_ARRIVED, _LEFT = "arrived", "left"


def _respelled(frames: dict[str, pl.DataFrame]) -> pl.DataFrame:
    """RESPELLED, over the customers who arrived and those who left, collected with the
    other aggregates (a few per cent of the rows). Joined there, the two sides of one
    stream made Polars hold every row the pass wrote (3.2 GB at 10 million customers)."""
    return respelled_query(frames[_ARRIVED].lazy(), frames[_LEFT].lazy()).collect()


def _only(rows: pl.LazyFrame, present: str, absent: str) -> pl.LazyFrame:
    """The customers (KEY) with a `present` score and no `absent` one."""
    both = pl.col(present).is_not_null() & pl.col(absent).is_null()
    return rows.filter(both).select(pl.col("id").alias(KEY))


def _collect(
    queries: dict[str, pl.LazyFrame], last: Snapshot, this: Snapshot
) -> dict[str, pl.DataFrame]:
    try:
        frames = pl.collect_all(list(queries.values()), engine="streaming")
    except (pl.exceptions.PolarsError, pl.exceptions.PanicException) as exc:
        raise _compare_error(exc, last, this) from None
    return dict(zip(queries, frames, strict=True))


def _compare_error(exc: BaseException, last: Snapshot, this: Snapshot) -> DataError:
    """A failed read of the two snapshots while they are compared."""
    if isinstance(exc, pl.exceptions.PanicException):  # the engine's own: a file cut short?
        return DataError(
            f"{this.path}: cannot compare with {last.path}: the engine failed reading them "
            "(did one change while it was read?)"
        )
    return (
        non_number(last)
        or non_number(this)
        or DataError(f"{this.path}: cannot compare with {last.path}: {polars_gist(exc)}")
    )


def _check_common(counts: dict[str, Any], last: Snapshot, this: Snapshot) -> None:
    """Two snapshots with customers but none in common are two portfolios, or two ids."""
    if counts["last"] and counts["this"] and not counts["common"]:
        raise DataError(
            f"{this.path} and {last.path} have no customer in common: "
            f"ids look like {_sample_ids(this)} and {_sample_ids(last)}; "
            "are they the same portfolio, with the same id column?"
        )


def _transitions(frame: pl.DataFrame, order: list[str]) -> list[Transition]:
    """Customers and value per (last band, this band), in band order (absent last)."""
    transitions: list[Transition] = [
        {
            "from": r["last_band"],
            "to": r["this_band"],
            "customers": int(r["customers"]),
            "value": money(r["value"]),
        }
        for r in frame.iter_rows(named=True)
    ]
    rank = {b: i for i, b in enumerate(order)}
    transitions.sort(key=lambda t: (rank.get(t["from"], len(rank)), rank.get(t["to"], len(rank))))
    return transitions


def _drops(frame: pl.DataFrame) -> list[Drop]:
    """BIGGEST_DROPS: the value is this snapshot's, else the last one's."""
    return [
        {
            "id": r["id"],
            "last_score": r["last_score"],
            "this_score": r["this_score"],
            "delta": r["delta"],
            "last_band": r["last_band"],
            "this_band": r["this_band"],
            "value": money(r["this_value"] if r["this_value"] is not None else r["last_value"]),
            "drivers": r["drivers"],
        }
        for r in frame.iter_rows(named=True)
    ]


def _drift(frames: dict[str, pl.DataFrame], common: list[str]) -> Drift:
    """The PSI of the score and of each common signal's points, with its reading."""

    def reading(column: str) -> Psi:
        before, after = frames[f"{_BINS}last:{column}"], frames[f"{_BINS}this:{column}"]
        value = psi(dict(before.iter_rows()), dict(after.iter_rows()))
        return {"psi": value, "label": psi_label(value)}

    return {
        "score": reading("score"),
        "signals": {s: reading(f"points_{s}") for s in common},
    }


def _rollups(
    rows: pl.LazyFrame, by: list[list[str]], order: list[str], risk: list[str], *, has_value: bool
) -> list[dict[str, Any]]:
    """Roll-ups of this snapshot's customers, with their mean delta; value figures only
    when this snapshot has a value column (else they would all read 0.00)."""
    present = rows.filter(pl.col("this_score").is_not_null()).select(
        pl.all(), pl.col("this_score").alias("score"), pl.col("this_band").alias("band")
    )
    queries = rollup_queries(present, by, order, "this_value", delta=True)
    frames = dict(zip(queries, pl.collect_all(list(queries.values())), strict=True))
    return build_rollups(frames, by, order, risk, has_value=has_value, delta=True)


def _describe(s: Snapshot) -> SnapshotInfo:
    return {
        "path": str(s.path),
        "scheme": s.scheme_name,
        "hash": s.scheme_hash,
        "as_of": s.as_of,
        "rescored": s.rescored,
        "rejected": s.rejected,
    }


def _sample_ids(s: Snapshot) -> str:
    """A few ids of a snapshot, to show two files that do not match."""
    ids = s.frame.select(pl.col(KEY).drop_nulls().head(3)).collect()[KEY].to_list()
    return ", ".join(repr(i) for i in ids) or "(none)"


@dataclass(frozen=True)
class _Request:
    """A `chs diff` request, checked before either snapshot is opened."""

    last: Path
    this: Path
    scheme: Scheme | None
    csv: CsvOptions | None
    id_column: str | None
    values: tuple[str | None, str | None]  # the value column of last and of this
    output: Path | None
    top: int
    by: list[list[str]]
    excel_csv: bool = False  # a CSV output for a comma-decimal Excel (chs.spreadsheet)

    @property
    def extra(self) -> list[str]:
        """The --by columns, kept from both snapshots."""
        return [c for spec in self.by for c in spec]


def diff(
    last: str | Path,
    this: str | Path,
    *,
    scheme: Scheme | None = None,
    output: Path | None = None,
    csv: CsvOptions | None = None,
    id_column: str | None = None,
    value_column: str | None = None,
    top: int = 10,
    by: list[list[str]] | None = None,
    excel_csv: bool = False,
) -> DiffSummary:
    """Compare two snapshot files (scored, or raw with a scheme); optionally write the
    per-customer comparison. Returns the summary.

    A scored CSV records nothing about itself: its value column is taken from
    `value_column`, else from what the other file (a chs Parquet) records. `excel_csv`:
    a CSV output is written for a comma-decimal Excel (chs.spreadsheet)."""
    request = _request(
        Path(last), Path(this), scheme, output, csv, id_column, value_column, top, by or []
    )
    request = replace(request, excel_csv=excel_csv)
    with contextlib.ExitStack() as stack:
        a = stack.enter_context(_open(request, request.last, request.values[0], "last snapshot"))
        b = stack.enter_context(_open(request, request.this, request.values[1], "this snapshot"))
        work = stack.enter_context(WorkFolder()).path
        result = _compare_and_write(request, a, b, work)
    for s in (a, b):
        if s.rejected:
            result["warnings"].append(
                f"{s.path}: {s.rejected} rows cannot be scored; they count as absent"
            )
    return {**result, "output": str(output) if output else None}


def _request(
    last: Path,
    this: Path,
    scheme: Scheme | None,
    output: Path | None,
    csv: CsvOptions | None,
    id_column: str | None,
    value_column: str | None,
    top: int,
    by: list[list[str]],
) -> _Request:
    """Check the options against the files, and find each file's value column."""
    check_count(top, "top")
    if output is not None:
        check_outputs([output], [last, this])
    _check_extra([c for spec in by for c in spec], [last, this], csv)
    borrowed = None if value_column else (recorded_value(this) or recorded_value(last))
    values = (
        value_column or _if_in(borrowed, last, csv),
        value_column or _if_in(borrowed, this, csv),
    )
    return _Request(last, this, scheme, csv, id_column, values, output, top, by)


def _open(
    request: _Request, path: Path, value_column: str | None, role: str
) -> contextlib.AbstractContextManager[Snapshot]:
    return open_snapshot(
        path,
        request.scheme,
        request.csv,
        id_column=request.id_column,
        value_column=value_column,
        role=role,
        extra=request.extra,
    )


def _compare_and_write(request: _Request, a: Snapshot, b: Snapshot, work: Path) -> Comparison:
    """Compare, and write the per-customer rows to the output if one is asked for."""
    # Without a scheme, a chs Parquet file's recorded bands and at-risk bands serve.
    scheme, output, top, by = request.scheme, request.output, request.top, request.by
    info = recorded(request.this) or recorded(request.last)
    bands = [band.name for band in scheme.bands] if scheme else info.get("bands")
    risk = scheme.at_risk_bands() if scheme else info.get("at_risk")
    if output is not None and output_format(output) == "parquet" and not by:
        # the joined rows are the output: written once, to its temporary file
        with PendingWrites([]) as pending:
            store = pending.reserve(output)
            result, _ = compare(a, b, top=top, bands=bands, at_risk=risk, store=store)
            pending.commit()
        return result
    result, rows = compare(a, b, top=top, bands=bands, by=by, at_risk=risk, work=work)
    if output is not None:
        with PendingWrites(for_excel([(rows, output)], request.excel_csv)) as pending:
            pl.collect_all(pending.sinks)
            pending.commit()
    return result


def _if_in(column: str | None, path: Path, csv: CsvOptions | None) -> str | None:
    """The column if the file has it (a value column borrowed from the other snapshot)."""
    if column is None:
        return None
    with open_input(path, csv or CsvOptions()) as data:
        return column if column in data.frame.collect_schema().names() else None


def _check_extra(columns: list[str], paths: list[Path], csv: CsvOptions | None) -> None:
    """A --by column must be in at least one of the two files."""
    if not columns:
        return
    seen: set[str] = set()
    names: list[str] = []
    for path in paths:
        with open_input(path, csv or CsvOptions()) as data:
            names = data.frame.collect_schema().names()
            seen |= set(names)
    check_by([[c for c in columns if c not in seen]], sorted(seen), f"{paths[0]} and {paths[1]}")
