"""`chs forecast`: where the customers are heading, from a history's transitions."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from chs.cli.common import console, print_json, progress, warn
from chs.cli.errors import guarded
from chs.cli.options import JsonOpt

HELP = """Project the latest snapshot of a history folder, month by month.

From consecutive snapshots, the band transition matrix with an absorbing `lost` state
(a customer present in one snapshot and absent from the next); the latest snapshot's
customers are moved through it step by step: expected customers per band, customers
and value lost. --what-if FROM:TO=P% moves P% of a band's customers to another at the
start and reports what that saves. Also the expected lifetime per band.

Example: chs forecast --history history/ --months 12 --what-if red:green=10%
"""


@guarded
def forecast(
    history: Annotated[
        Path,
        typer.Option("--history", metavar="DIR", help="A history folder written by chs score."),
    ],
    months: Annotated[
        int, typer.Option("--months", metavar="N", help="How many months to project.")
    ] = 12,
    what_if: Annotated[
        str | None,
        typer.Option(
            "--what-if",
            metavar="FROM:TO=P%",
            help="Move P% of band FROM to band TO at the start, e.g. red:green=10%.",
        ),
    ] = None,
    by: Annotated[
        str | None,
        typer.Option("--by", metavar="COLUMN", help="A forecast per value of this column too."),
    ] = None,
    json: JsonOpt = False,
) -> None:
    from chs.actions.forecast import forecast, parse_what_if
    from chs.cli import render

    asked = parse_what_if(what_if) if what_if is not None else None
    with progress(f"Forecasting {history}"):
        result = forecast(history, months=months, what_if=asked, by=by)
    warn(result["warnings"])
    if json:
        print_json(result)
    else:
        render.forecast(console(), result)
