"""`chs score`: score a file with a scheme."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from chs.cli.common import console, print_json, progress, warn
from chs.cli.errors import guarded
from chs.cli.options import (
    AsOfOpt,
    ByOpt,
    DecimalCommaOpt,
    EncodingOpt,
    ExcelCsvOpt,
    JsonOpt,
    NaOpt,
    SeparatorOpt,
    SheetOpt,
    TopOpt,
    csv_options,
    parse_by,
    parse_list,
)

HELP = """Score every customer in INPUT (CSV or Parquet) with a scheme.

Writes the input's columns plus each signal's points, group scores, score, band,
coverage, reasons, scheme name and hash to OUT (.csv, .parquet or .ndjson), and prints
customers per band and the customers most at risk. With --previous or --history, each
row also gets its previous score, delta, previous band and movement, and the summary
shows the biggest drops, lost customers and fired alerts.

Example: chs score customers.csv --scheme saas.yaml -o scored.parquet
"""

InputArg = Annotated[
    Path,
    typer.Argument(
        metavar="INPUT",
        help="Customer-signal export: .csv, .csv.gz or .parquet; - reads CSV from standard input.",
    ),
]
SchemesOpt = Annotated[
    list[Path],
    typer.Option(
        "--scheme",
        "-s",
        metavar="FILE",
        help="Scheme file (YAML); repeat to score others beside the first.",
    ),
]
OutputOpt = Annotated[
    Path | None,
    typer.Option(
        "--output", "-o", metavar="FILE", help="Scored output: .csv, .parquet or .ndjson."
    ),
]
RejectsOpt = Annotated[
    Path | None,
    typer.Option(
        "--rejects",
        metavar="FILE",
        help="Write rows that cannot be scored here, with a reason, and go on.",
    ),
]
PreviousOpt = Annotated[
    Path | None,
    typer.Option(
        "--previous",
        metavar="FILE",
        help="Last snapshot (a scored output, or a raw export scored alike).",
    ),
]
HistoryOpt = Annotated[
    Path | None,
    typer.Option(
        "--history", metavar="DIR", help="Keep this snapshot in a history folder (Parquet by date)."
    ),
]
AlertsOpt = Annotated[
    Path | None,
    typer.Option(
        "--alerts",
        metavar="FILE",
        help="Write one line per fired alert here (.ndjson, .csv or .parquet).",
    ),
]
AlertsKeepOpt = Annotated[
    str | None,
    typer.Option(
        "--alerts-keep",
        metavar="COLUMNS",
        help="Input columns to carry into the alerts file, comma-separated.",
    ),
]
ExitCodeOpt = Annotated[
    bool,
    typer.Option("--exit-code", help="Exit 10 when any alert fired (errors keep their codes)."),
]
KeepOpt = Annotated[
    str | None,
    typer.Option(
        "--keep",
        metavar="COLUMNS",
        help="Input columns to carry to the output, comma-separated (default: all).",
    ),
]
EngineOpt = Annotated[
    str,
    typer.Option(
        "--engine",
        metavar="ENGINE",
        help="What scores the rows: polars (default) or duckdb (the scheme compiled to SQL).",
    ),
]


@guarded
def score(
    input: InputArg,
    scheme: SchemesOpt,
    output: OutputOpt = None,
    rejects: RejectsOpt = None,
    previous: PreviousOpt = None,
    history: HistoryOpt = None,
    as_of: AsOfOpt = None,
    alerts: AlertsOpt = None,
    alerts_keep: AlertsKeepOpt = None,
    exit_code: ExitCodeOpt = False,
    keep: KeepOpt = None,
    by: ByOpt = None,
    top: TopOpt = 10,
    json: JsonOpt = False,
    separator: SeparatorOpt = ",",
    decimal_comma: DecimalCommaOpt = False,
    encoding: EncodingOpt = "utf-8",
    na: NaOpt = None,
    sheet: SheetOpt = None,
    excel_csv: ExcelCsvOpt = False,
    engine: EngineOpt = "polars",
) -> None:
    from chs.actions.score import CsvOptions, ScoreOptions, load_scheme, parse_date, score
    from chs.cli import render
    from chs.errors import ALERTS

    loaded, *more = [load_scheme(path) for path in scheme]
    options = ScoreOptions(
        output=output,
        rejects=rejects,
        csv=csv_options(CsvOptions, separator, decimal_comma, encoding, na, sheet),
        keep=parse_list(keep),
        top=top,
        previous=previous,
        history=history,
        as_of=parse_date(as_of, "--as-of") if as_of else None,
        alerts=alerts,
        by=parse_by(by),
        more=more,
        excel_csv=excel_csv,
        alerts_keep=parse_list(alerts_keep),
        engine=engine,
    )
    with progress(f"Scoring {input}"):
        summary = score(input, loaded, options)
    warn(summary["warnings"])
    if json:
        print_json(summary)
    else:
        render.score_summary(console(), summary)
    if exit_code and any(a["customers"] for a in summary["alerts"]):
        raise typer.Exit(ALERTS)
