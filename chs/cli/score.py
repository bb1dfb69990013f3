"""`chs score`: score a file with a scheme."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from chs.cli.common import (
    DecimalCommaOpt,
    EncodingOpt,
    JsonOpt,
    NaOpt,
    SchemeOpt,
    SeparatorOpt,
    console,
    csv_options,
    guarded,
    print_json,
    warn,
)

HELP = """Score every customer in INPUT (CSV or Parquet) with a scheme.

Writes the input's columns plus each signal's points, group scores, score, band,
coverage, reasons, scheme name and hash to OUT (.csv, .parquet or .ndjson), and prints
customers per band and the customers most at risk.

Example: chs score customers.csv --scheme saas.yaml -o scored.parquet
"""


@guarded
def score(
    input: Annotated[
        Path, typer.Argument(metavar="INPUT", help="Customer-signal export: .csv or .parquet.")
    ],
    scheme: SchemeOpt,
    output: Annotated[
        Path | None,
        typer.Option("--output", "-o", help="Scored output: .csv, .parquet or .ndjson."),
    ] = None,
    rejects: Annotated[
        Path | None,
        typer.Option(
            "--rejects", help="Write rows that cannot be scored here, with a reason, and go on."
        ),
    ] = None,
    keep: Annotated[
        str | None,
        typer.Option(
            "--keep", help="Input columns to carry to the output, comma-separated (default: all)."
        ),
    ] = None,
    top: Annotated[int, typer.Option("--top", help="How many at-risk customers to list.")] = 10,
    json: JsonOpt = False,
    separator: SeparatorOpt = ",",
    decimal_comma: DecimalCommaOpt = False,
    encoding: EncodingOpt = "utf-8",
    na: NaOpt = None,
) -> None:
    from chs.cli import render
    from chs.scheme import load_scheme
    from chs.score import ScoreOptions, score_file

    loaded = load_scheme(scheme)
    options = ScoreOptions(
        output=output,
        rejects=rejects,
        csv=csv_options(separator, decimal_comma, encoding, na),
        keep=[c.strip() for c in keep.split(",") if c.strip()] if keep else None,
        top=top,
    )
    summary = score_file(input, loaded, options)
    warn(summary["warnings"])
    if json:
        print_json(summary)
    else:
        render.score_summary(console(), summary)
