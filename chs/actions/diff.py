"""Comparing two snapshots: per-customer movement, band transitions, drivers, drift.

`compare` returns plain data (like csv-diff's `compare`); the CLI renders it. The
per-customer frame stays lazy so `chs diff -o` streams. Movement is the sign of the
score delta as written (one decimal): up, down or same; `new` and `left` for customers
in only one snapshot.
"""

from __future__ import annotations

import contextlib
import tempfile
from pathlib import Path
from typing import Any

import polars as pl

from chs.columns import KEY
from chs.drift import psi, psi_label, score_bins
from chs.errors import DataError, OptionError
from chs.exprs import band_order
from chs.files import CsvOptions, PendingWrites, check_outputs, open_input, output_format
from chs.movement import band_moves, per_customer
from chs.numbers import money
from chs.rollup import build_rollups, check_by, rollup_queries
from chs.scheme import Scheme
from chs.snapshot import (
    Snapshot,
    one_row_per_customer,
    open_snapshot,
    recorded,
    recorded_value,
    scheme_mismatch,
)


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
) -> tuple[dict[str, Any], pl.LazyFrame]:
    """The diff summary (plain data) and the lazy per-customer frame. `by`: roll-ups of
    this snapshot's customers with their mean delta; `at_risk`: the bands counted in
    value at risk (default: the lowest)."""
    by = by or []
    # one pass over each file's ids: no customer twice, and whether they are in order
    ordered = all([one_row_per_customer(last), one_row_per_customer(this)])
    joined = per_customer(last, this, [c for spec in by for c in spec], ordered=ordered)
    if store is not None or work is not None:
        # stream the joined rows to a file once (`store`, else one in `work`); every query
        # below then reads it
        store = store or (work / "rows.parquet")  # type: ignore[operator]
        joined.sink_parquet(store, engine="streaming")
        rows = pl.scan_parquet(store)
    else:
        rows = joined.collect().lazy()
    common = [s for s in this.signals if s in last.signals]
    value = pl.coalesce("this_value", "last_value")
    queries = {
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
        "bands_last": last.frame.group_by("band").agg(pl.col("score").max()),
        "bands_this": this.frame.group_by("band").agg(pl.col("score").max()),
        "score_last": last.frame.group_by(score_bins(pl.col("score")).alias("bin")).agg(pl.len()),
        "score_this": this.frame.group_by(score_bins(pl.col("score")).alias("bin")).agg(pl.len()),
    }
    present = rows.filter(pl.col("this_score").is_not_null()).select(
        pl.all(), pl.col("this_score").alias("score"), pl.col("this_band").alias("band")
    )
    for s in common:
        queries[f"sig_last_{s}"] = last.frame.group_by(
            score_bins(pl.col(f"points_{s}")).alias("bin")
        ).agg(pl.len())
        queries[f"sig_this_{s}"] = this.frame.group_by(
            score_bins(pl.col(f"points_{s}")).alias("bin")
        ).agg(pl.len())
    try:
        frames = dict(zip(queries, pl.collect_all(list(queries.values())), strict=True))
    except pl.exceptions.PolarsError as exc:
        raise DataError(f"{this.path}: cannot compare with {last.path}: {exc}") from None
    counts = frames["counts"].row(0, named=True)
    if counts["last"] and counts["this"] and not counts["common"]:
        raise DataError(
            f"{this.path} and {last.path} have no customer in common: "
            f"ids look like {_sample_ids(this)} and {_sample_ids(last)}; "
            "are they the same portfolio, with the same id column?"
        )
    order = bands or band_order([frames["bands_this"], frames["bands_last"]])
    lowest = order[-1] if order else None
    moved = {r["movement"]: r for r in frames["movement"].iter_rows(named=True)}
    transitions = [
        {
            "from": r["last_band"],
            "to": r["this_band"],
            "customers": int(r["customers"]),
            "value": money(r["value"]),
        }
        for r in frames["transitions"].iter_rows(named=True)
    ]
    rank = {b: i for i, b in enumerate(order)}
    transitions.sort(key=lambda t: (rank.get(t["from"], len(rank)), rank.get(t["to"], len(rank))))

    def count(kind: str) -> int:
        return int(moved.get(kind, {}).get("customers", 0))

    def listed(frame: pl.DataFrame) -> list[dict[str, Any]]:
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

    newly, recovered = band_moves(rows, lowest, top)
    rollups = []
    if by:
        risk = at_risk or ([lowest] if lowest else [])
        value_col = "this_value"
        rq = rollup_queries(present, by, order, value_col, delta=True)
        rframes = dict(zip(rq, pl.collect_all(list(rq.values())), strict=True))
        rollups = build_rollups(rframes, by, order, risk, has_value=True, delta=True)
    score_psi = psi(dict(frames["score_last"].iter_rows()), dict(frames["score_this"].iter_rows()))
    signal_psi = {
        s: psi(dict(frames[f"sig_last_{s}"].iter_rows()), dict(frames[f"sig_this_{s}"].iter_rows()))
        for s in common
    }
    warning = scheme_mismatch(last, this)
    result = {
        "last": _describe(last),
        "this": _describe(this),
        "rows": {
            "last": int(counts["last"]),
            "this": int(counts["this"]),
            "common": int(counts["common"]),
        },
        "movement": {
            "improved": count("up"),
            "declined": count("down"),
            "stayed": count("same"),
            "arrived": count("new"),
            "left": count("left"),
        },
        "bands": order,
        "lowest_band": lowest,
        "transitions": transitions,
        "biggest_drops": listed(frames["drops"]),
        "newly_at_risk": newly,
        "recovered": recovered,
        "drift": {
            "score": {"psi": score_psi, "label": psi_label(score_psi)},
            "signals": {s: {"psi": v, "label": psi_label(v)} for s, v in signal_psi.items()},
        },
        "rollups": rollups,
        "warnings": [warning] if warning else [],
    }
    return result, rows.select(pl.exclude([c for spec in by for c in spec]))


def _describe(s: Snapshot) -> dict[str, Any]:
    return {
        "path": str(s.path),
        "scheme": s.scheme_name,
        "hash": s.scheme_hash,
        "as_of": s.as_of,
        "rescored": s.rescored,
        "rejected": s.rejected,
    }


def _sample_ids(s: Snapshot) -> str:
    ids = s.frame.select(pl.col(KEY).drop_nulls().head(3)).collect()[KEY].to_list()
    return ", ".join(repr(i) for i in ids) or "(none)"


def diff_files(
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
) -> dict[str, Any]:
    """Compare two snapshot files (scored, or raw with a scheme); optionally write the
    per-customer comparison. Returns the summary.

    A scored CSV records nothing about itself: its value column is taken from
    `value_column`, else from what the other file (a chs Parquet) records."""
    last, this = Path(last), Path(this)
    if top < 0:
        raise OptionError("--top must be 0 or more")
    if output is not None:
        check_outputs([output], [last, this])
    extra = [c for spec in by or [] for c in spec]
    _check_extra(extra, [last, this], csv)
    borrowed = None if value_column else (recorded_value(this) or recorded_value(last))
    value_a = value_column or _if_in(borrowed, last, csv)
    value_b = value_column or _if_in(borrowed, this, csv)
    with contextlib.ExitStack() as stack:
        a = stack.enter_context(
            open_snapshot(
                last,
                scheme,
                csv,
                id_column=id_column,
                value_column=value_a,
                role="last snapshot",
                extra=extra,
            )
        )
        b = stack.enter_context(
            open_snapshot(
                this,
                scheme,
                csv,
                id_column=id_column,
                value_column=value_b,
                role="this snapshot",
                extra=extra,
            )
        )
        # Without a scheme, a chs Parquet file's recorded bands and at-risk bands serve.
        info = recorded(this) or recorded(last)
        bands = [band.name for band in scheme.bands] if scheme else info.get("bands")
        risk = scheme.at_risk_bands() if scheme else info.get("at_risk")
        work = Path(stack.enter_context(tempfile.TemporaryDirectory(prefix="chs-")))
        if output is not None and output_format(output) == "parquet" and not by:
            # the joined rows are the output: written once, to its temporary file
            with PendingWrites([]) as pending:
                store = pending.reserve(output)
                result, _ = compare(a, b, top=top, bands=bands, at_risk=risk, store=store)
                pending.commit()
        else:
            result, rows = compare(a, b, top=top, bands=bands, by=by, at_risk=risk, work=work)
            if output is not None:
                with PendingWrites([(rows, output)]) as pending:
                    pl.collect_all(pending.sinks)
                    pending.commit()
    for s in (a, b):
        if s.rejected:
            result["warnings"].append(
                f"{s.path}: {s.rejected} rows cannot be scored; they count as absent"
            )
    return {**result, "output": str(output) if output else None}


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
