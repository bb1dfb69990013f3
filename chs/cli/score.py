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
    SeparatorOpt,
    console,
    csv_options,
    guarded,
    print_json,
    progress,
    warn,
)

HELP = """Score every customer in INPUT (CSV or Parquet) with a scheme.

Writes the input's columns plus each signal's points, group scores, score, band,
coverage, reasons, scheme name and hash to OUT (.csv, .parquet or .ndjson), and prints
customers per band and the customers most at risk. With --previous or --history, each
row also gets its previous score, delta, previous band and movement, and the summary
shows the biggest drops, lost customers and fired alerts.

Example: chs score customers.csv --scheme saas.yaml -o scored.parquet
"""


@guarded
def score(
    input: Annotated[
        Path, typer.Argument(metavar="INPUT", help="Customer-signal export: .csv or .parquet.")
    ],
    scheme: Annotated[
        list[Path],
        typer.Option(
            "--scheme", "-s", help="Scheme file (YAML); repeat to score others beside the first."
        ),
    ],
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
    previous: Annotated[
        Path | None,
        typer.Option(
            "--previous", help="Last snapshot (a scored output, or a raw export scored alike)."
        ),
    ] = None,
    history: Annotated[
        Path | None,
        typer.Option("--history", help="Keep this snapshot in a history folder (Parquet by date)."),
    ] = None,
    as_of: Annotated[
        str | None,
        typer.Option("--as-of", help="This snapshot's date, YYYY-MM-DD (default: today)."),
    ] = None,
    alerts: Annotated[
        Path | None,
        typer.Option("--alerts", help="Write one line per fired alert here (.ndjson or .csv)."),
    ] = None,
    exit_code: Annotated[
        bool,
        typer.Option("--exit-code", help="Exit 10 when any alert fired (errors keep their codes)."),
    ] = False,
    keep: Annotated[
        str | None,
        typer.Option(
            "--keep", help="Input columns to carry to the output, comma-separated (default: all)."
        ),
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
    from chs.actions.score import ScoreOptions, score_file
    from chs.cli import render
    from chs.errors import ALERTS
    from chs.history import parse_date
    from chs.rollup import parse_by
    from chs.scheme import load_scheme

    loaded, *more = [load_scheme(path) for path in scheme]
    options = ScoreOptions(
        output=output,
        rejects=rejects,
        csv=csv_options(separator, decimal_comma, encoding, na),
        keep=[c.strip() for c in keep.split(",") if c.strip()] if keep else None,
        top=top,
        previous=previous,
        history=history,
        as_of=parse_date(as_of) if as_of else None,
        alerts=alerts,
        by=parse_by(by),
        more=more,
    )
    with progress(f"Scoring {input}"):
        summary = score_file(input, loaded, options)
    warn(summary["warnings"])
    if json:
        print_json(summary)
    else:
        render.score_summary(console(), summary)
    if exit_code and any(a["customers"] for a in summary["alerts"]):
        raise typer.Exit(ALERTS)
