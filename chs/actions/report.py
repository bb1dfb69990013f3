"""`chs report`: roll-ups over a scored file by segment, region, owner or any column,
or (`html`) the portfolio's report as one self-contained HTML file."""

from __future__ import annotations

import dataclasses
import html as html_text
import re
from pathlib import Path
from typing import Any, TypedDict

import polars as pl

from chs.errors import OPTION, DataError, OutputError
from chs.exprs import band_order
from chs.files import PendingWrites, check_outputs, open_input
from chs.htmlreport.build import PageRequest, build_page
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

__all__ = ["HtmlReport", "PageRequest", "RollupReport", "report"]


class RollupReport(TypedDict):
    """What `report` returns (and `chs report --json` prints)."""

    input: str
    bands: list[str]
    at_risk_bands: list[str]
    value_column: str | None
    rollups: list[dict[str, Any]]  # chs.rollup's
    parents: list[dict[str, Any]] | None
    output: str | None


class HtmlReport(TypedDict):
    """What `report` returns with `html` (and `chs report --html … --json` prints): the
    page's numbers, section by section, and the page itself (`html=True`) or where it
    was written."""

    input: str
    title: str
    scheme: dict[str, str | None]
    as_of: str | None
    value_column: str | None
    previous: str | None
    history: str | None
    outcomes: str | None
    sections: list[str]  # the page's sections (their ids), in order
    page: dict[str, Any]  # chs.htmlreport.numbers.page_numbers
    html_file: str | None
    html: str | None  # the page, when asked for as text
    warnings: list[str]


def report(
    path: str | Path,
    *,
    by: list[list[str]] | None = None,
    parent: str | None = None,
    at_risk: list[str] | None = None,
    value_column: str | None = None,
    output: Path | None = None,
    excel_csv: bool = False,
    html: Path | bool | None = None,
    page: PageRequest | None = None,
) -> RollupReport | HtmlReport:
    """Roll-ups over a scored file (`chs report`); `excel_csv`: a CSV output is written
    for a comma-decimal Excel (chs.spreadsheet). With `html`, the portfolio's HTML
    report instead (`page` says what goes in it): written to that file, or with
    `html=True` returned as text (`result["html"]`), for a notebook."""
    if html is not None and html is not False:
        return _html_report(Path(path), html, page or PageRequest(Path(path), by or []))
    return _rollups(Path(path), by or [], parent, at_risk, value_column, output, excel_csv)


def _rollups(
    source: Path,
    by: list[list[str]],
    parent: str | None,
    at_risk: list[str] | None,
    value_column: str | None,
    output: Path | None,
    excel_csv: bool,
) -> RollupReport:
    """`chs report`'s roll-ups."""
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


def _html_report(source: Path, html: Path | bool, request: PageRequest) -> HtmlReport:
    """The page, built whole before anything is written: a failure leaves no file."""
    target = html if isinstance(html, Path) else None
    if target is not None:
        inputs = [source, *[p for p in (request.previous, request.outcomes) if p is not None]]
        check_outputs([target], inputs, page=True)
    built = build_page(dataclasses.replace(request, scored=source))
    if target is not None:
        with PendingWrites([]) as pending:
            temporary = pending.reserve(target)
            try:
                temporary.write_text(built.html, encoding="utf-8")
            except OSError as exc:
                raise OutputError(f"{target}: cannot write: {exc.strerror or exc}") from None
            pending.commit()
    shown = [html_text.unescape(s) for s in re.findall(r'<section id="([^"]+)"', built.html)]
    return {
        "input": str(source),
        "title": built.meta["title"],
        "scheme": built.meta["scheme"],
        "as_of": built.meta["as_of"],
        "value_column": built.meta["value_column"],
        "previous": str(request.previous) if request.previous else None,
        "history": str(request.history) if request.history else None,
        "outcomes": str(request.outcomes) if request.outcomes else None,
        "sections": shown,
        "page": built.numbers,
        "html_file": str(target) if target is not None else None,
        "html": built.html if target is None else None,
        "warnings": built.warnings,
    }
