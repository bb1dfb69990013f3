"""`chs diff`: compare two snapshots."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from chs.cli.common import (
    DecimalCommaOpt,
    EncodingOpt,
    JsonOpt,
    NaOpt,
    SeparatorOpt,
    console,
    csv_options,
    guarded,
    print_json,
    progress,
    warn,
)

HELP = """Compare two snapshots of the portfolio, LAST and THIS (scored or raw).

Prints the band-to-band transitions (customers and value), how many improved, declined,
stayed, arrived and left, the biggest drops with the signals that drove them, the
customers newly in the lowest band and those who left it, and the drift of the score
and of each signal (population stability index). Raw exports need --scheme.

Example: chs diff last.parquet this.parquet -o movement.csv
"""


@guarded
def diff(
    last: Annotated[Path, typer.Argument(metavar="LAST", help="The earlier snapshot.")],
    this: Annotated[Path, typer.Argument(metavar="THIS", help="The later snapshot.")],
    scheme: Annotated[
        Path | None, typer.Option("--scheme", "-s", help="Scheme to score raw exports with.")
    ] = None,
    output: Annotated[
        Path | None,
        typer.Option(
            "--output", "-o", help="Write one row per customer (.csv, .parquet, .ndjson)."
        ),
    ] = None,
    id_column: Annotated[
        str | None,
        typer.Option("--id", help="Id column of scored files (default: recorded, or the first)."),
    ] = None,
    value_column: Annotated[
        str | None,
        typer.Option("--value", help="Value column of scored CSV files (Parquet ones record it)."),
    ] = None,
    by: Annotated[
        str | None,
        typer.Option("--by", help="Roll up by these columns: segment,region (a+b: both at once)."),
    ] = None,
    top: Annotated[int, typer.Option("--top", help="How many customers each list shows.")] = 10,
    json: JsonOpt = False,
    separator: SeparatorOpt = ",",
    decimal_comma: DecimalCommaOpt = False,
    encoding: EncodingOpt = "utf-8",
    na: NaOpt = None,
) -> None:
    from chs.actions.diff import diff_files
    from chs.cli import render
    from chs.rollup import parse_by
    from chs.scheme import load_scheme

    with progress(f"Comparing {last} with {this}"):
        result = diff_files(
            last,
            this,
            scheme=load_scheme(scheme) if scheme else None,
            output=output,
            csv=csv_options(separator, decimal_comma, encoding, na),
            id_column=id_column,
            value_column=value_column,
            top=top,
            by=parse_by(by),
        )
    warn(result["warnings"])
    if json:
        print_json(result)
    else:
        render.diff(console(), result)
