"""`chs diff`: compare two snapshots."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from chs.cli.common import console, print_json, progress, warn
from chs.cli.errors import guarded
from chs.cli.options import (
    ByOpt,
    DecimalCommaOpt,
    EncodingOpt,
    ExcelCsvOpt,
    JsonOpt,
    NaOpt,
    SeparatorOpt,
    TopOpt,
    csv_options,
    parse_by,
)

HELP = """Compare two snapshots of the portfolio, LAST and THIS (scored or raw).

Prints the band-to-band transitions (customers and value), how many improved, declined,
stayed, arrived and left, the biggest drops with the signals that drove them, the
customers newly in the lowest band and those who left it, and the drift of the score
and of each signal (population stability index). Raw exports need --scheme.

Example: chs diff last.parquet this.parquet -o movement.csv
"""

LastArg = Annotated[Path, typer.Argument(metavar="LAST", help="The earlier snapshot.")]
ThisArg = Annotated[Path, typer.Argument(metavar="THIS", help="The later snapshot.")]
RawSchemeOpt = Annotated[
    Path | None,
    typer.Option("--scheme", "-s", metavar="FILE", help="Scheme to score raw exports with."),
]
OutputOpt = Annotated[
    Path | None,
    typer.Option(
        "--output",
        "-o",
        metavar="FILE",
        help="Write one row per customer (.csv, .parquet, .ndjson).",
    ),
]
IdOpt = Annotated[
    str | None,
    typer.Option(
        "--id",
        metavar="COLUMN",
        help="Id column of scored files (default: recorded, or the first).",
    ),
]
ValueOpt = Annotated[
    str | None,
    typer.Option(
        "--value",
        metavar="COLUMN",
        help="Value column of scored CSV files (Parquet ones record it).",
    ),
]


@guarded
def diff(
    last: LastArg,
    this: ThisArg,
    scheme: RawSchemeOpt = None,
    output: OutputOpt = None,
    id_column: IdOpt = None,
    value_column: ValueOpt = None,
    by: ByOpt = None,
    top: TopOpt = 10,
    json: JsonOpt = False,
    separator: SeparatorOpt = ",",
    decimal_comma: DecimalCommaOpt = False,
    encoding: EncodingOpt = "utf-8",
    na: NaOpt = None,
    excel_csv: ExcelCsvOpt = False,
) -> None:
    from chs.actions.diff import CsvOptions, diff, load_scheme
    from chs.cli import render

    with progress(f"Comparing {last} with {this}"):
        result = diff(
            last,
            this,
            scheme=load_scheme(scheme) if scheme else None,
            output=output,
            csv=csv_options(CsvOptions, separator, decimal_comma, encoding, na),
            id_column=id_column,
            value_column=value_column,
            top=top,
            by=parse_by(by),
            excel_csv=excel_csv,
        )
    warn(result["warnings"])
    if json:
        print_json(result)
    else:
        render.diff(console(), result)
