"""`chs check`: validate a scheme, show what it means, and try it on a file."""

from __future__ import annotations

from contextlib import nullcontext
from pathlib import Path
from typing import Annotated

import typer

from chs.cli.common import console, print_json, progress, warn
from chs.cli.errors import fail, guarded
from chs.cli.options import (
    AsOfOpt,
    DecimalCommaOpt,
    EncodingOpt,
    JsonOpt,
    NaOpt,
    SeparatorOpt,
    SheetOpt,
    csv_options,
)

HELP = """Validate a scheme and print its effective weights, rules and bands.

With --data, check the scheme's columns and types against a file and preview the score
distribution without writing anything. Exits 4 when rows of the file cannot be scored.

Example: chs check saas.yaml --data customers.csv
"""


@guarded
def check(
    scheme: Annotated[Path, typer.Argument(metavar="SCHEME", help="Scheme file (YAML).")],
    data: Annotated[
        Path | None,
        typer.Option("--data", metavar="FILE", help="A CSV or Parquet file to try it on."),
    ] = None,
    json: JsonOpt = False,
    separator: SeparatorOpt = ",",
    decimal_comma: DecimalCommaOpt = False,
    encoding: EncodingOpt = "utf-8",
    na: NaOpt = None,
    sheet: SheetOpt = None,
    as_of: AsOfOpt = None,
) -> None:
    from chs.actions import check as action
    from chs.cli import render
    from chs.errors import DataError

    csv = csv_options(action.CsvOptions, separator, decimal_comma, encoding, na, sheet)
    loaded = action.load_scheme(scheme)
    with progress(f"Checking {scheme} on {data}") if data is not None else nullcontext():
        date = action.parse_date(as_of, "--as-of") if as_of else None
        result = action.check(loaded, data, csv, as_of=date)
    warn(result["warnings"] + (result["data"]["warnings"] if data is not None else []))
    if json:
        print_json(result)
    else:
        con = console()
        render.scheme_description(con, result)
        if data is not None:
            render.data_check(con, result["data"])
    if data is not None and result["data"]["rows"]["rejected"]:
        # the report is printed: the rejected rows are the verdict, not a failure to report
        rows = result["data"]["rows"]
        fail(DataError(f"{data}: {rows['rejected']:,} of {rows['read']:,} rows cannot be scored"))
