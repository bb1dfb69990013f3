"""`chs report`: roll-ups over a scored file by segment, region, owner or any column."""

from __future__ import annotations

from pathlib import Path
from typing import Any, TypedDict

import polars as pl

from chs.errors import OPTION, DataError
from chs.exprs import band_order
from chs.files import PendingWrites, check_outputs, open_input
from chs.rollup import (
    build_parents,
    build_rollups,
    check_by,
    parent_query,
    rollup_queries,
    rollup_table,
)
from chs.snapshot import recorded
from chs.spreadsheet import for_excel


class RollupReport(TypedDict):
    """What `report` returns (and `chs report --json` prints)."""

    input: str
    bands: list[str]
    at_risk_bands: list[str]
    value_column: str | None
    rollups: list[dict[str, Any]]  # chs.rollup's
    parents: list[dict[str, Any]] | None
    output: str | None


def report(
    path: str | Path,
    *,
    by: list[list[str]],
    parent: str | None = None,
    at_risk: list[str] | None = None,
    value_column: str | None = None,
    output: Path | None = None,
    excel_csv: bool = False,
) -> RollupReport:
    """Roll-ups over a scored file (`chs report`); `excel_csv`: a CSV output is written
    for a comma-decimal Excel (chs.spreadsheet)."""
    source = Path(path)
    if output is not None:
        check_outputs([output], [source])
    info = recorded(source)
    with open_input(source) as data:
        columns = data.frame.collect_schema().names()
        if "score" not in columns or "band" not in columns:
            raise DataError(
                f"{source}: not a scored file (no score and band columns); run chs score first"
            )
        check_by(by + ([[parent]] if parent else []), columns, str(source))
        value = value_column or info.get("value")
        if value is not None and value not in columns:
            raise DataError(f"{source}: value column {value!r} not found")
        delta = "delta" in columns
        order, risk = _bands(source, data.frame, info, at_risk)
        queries = rollup_queries(data.frame, by, order, value, delta=delta)
        if parent:
            queries["parents"] = parent_query(data.frame, parent, order, value)
        frames = dict(zip(queries, pl.collect_all(list(queries.values())), strict=True))
    rollups = build_rollups(frames, by, order, risk, has_value=value is not None, delta=delta)
    if output is not None:
        table = rollup_table(rollups, order).lazy()
        with PendingWrites(for_excel([(table, output)], excel_csv)) as pending:
            pl.collect_all(pending.sinks)
            pending.commit()
    return {
        "input": str(source),
        "bands": order,
        "at_risk_bands": risk,
        "value_column": value,
        "rollups": rollups,
        "parents": build_parents(frames["parents"], order, has_value=value is not None)
        if parent
        else None,
        "output": str(output) if output else None,
    }


def _bands(
    source: Path, frame: pl.LazyFrame, info: dict[str, Any], at_risk: list[str] | None
) -> tuple[list[str], list[str]]:
    """The band order and the at-risk bands: what a chs Parquet file records, else
    inferred from the scores (the lowest band at risk)."""
    seen = band_order([frame.group_by("band").agg(pl.col("score").max()).collect()])
    order = info.get("bands") or seen
    risk = at_risk or info.get("at_risk") or [order[-1]]
    unknown = [b for b in risk if b not in order]
    if unknown:
        raise DataError(
            f"{source}: {OPTION} band {unknown[0]!r} is not a band of the file ({', '.join(order)})",
            option="at_risk",
        )
    return order, risk
