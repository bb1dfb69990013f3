"""`chs report`: portfolio roll-ups over a scored file."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from chs.cli.common import console, print_json, progress
from chs.cli.errors import guarded
from chs.cli.options import ByOpt, ExcelCsvOpt, JsonOpt, parse_by

HELP = """Roll up a scored file by segment, region, owner or any column.

Per group: customers and their share in each band, mean score, value, value at risk
(value in the at-risk bands: --at-risk, else the lowest band) and the mean delta when
the file has one. With --parent, each parent account gets the value-weighted score of
its children and the share of their value in each band.

Example: chs report scored.parquet --by segment,owner --parent parent_id
"""


@guarded
def report(
    scored: Annotated[Path, typer.Argument(metavar="SCORED", help="A file written by chs score.")],
    by: ByOpt = None,
    parent: Annotated[
        str | None, typer.Option("--parent", metavar="COLUMN", help="Parent account column.")
    ] = None,
    at_risk: Annotated[
        str | None,
        typer.Option(
            "--at-risk", metavar="BANDS", help="Bands counted as at risk, comma-separated."
        ),
    ] = None,
    value: Annotated[
        str | None,
        typer.Option(
            "--value", metavar="COLUMN", help="Value column (Parquet files from chs record it)."
        ),
    ] = None,
    output: Annotated[
        Path | None,
        typer.Option(
            "--output", "-o", metavar="FILE", help="Write the roll-ups (.csv, .parquet, .ndjson)."
        ),
    ] = None,
    json: JsonOpt = False,
    excel_csv: ExcelCsvOpt = False,
) -> None:
    from chs.actions.report import report
    from chs.cli import render
    from chs.errors import OptionError

    groups = parse_by(by)
    if not groups and not parent:
        raise OptionError("give --by COLUMNS, --parent COLUMN, or both")
    with progress(f"Rolling up {scored}"):
        result = report(
            scored,
            by=groups,
            parent=parent,
            at_risk=[b.strip() for b in at_risk.split(",")] if at_risk else None,
            value_column=value,
            output=output,
            excel_csv=excel_csv,
        )
    if json:
        print_json(result)
    else:
        render.report(console(), result)
