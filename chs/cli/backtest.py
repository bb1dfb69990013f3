"""`chs backtest`: does the score predict churn?"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from chs.cli.common import console, print_json, progress, warn
from chs.cli.errors import guarded
from chs.cli.options import (
    ChurnedOnOpt,
    HistoryOpt,
    HorizonOpt,
    JsonOpt,
    ObservedOpt,
    OutcomeIdOpt,
    OutcomeOpt,
    OutcomesOpt,
)

HELP = """Measure how well scored snapshots predicted churn.

Give scored files with a yes/no outcome column (--outcome churned), or scored files or
a history folder with an outcomes file (--outcomes churn.csv: a churn date per customer,
--churned-on, or a yes/no column, --outcome). With churn dates, a snapshot taken on t
counts the customers still there on t and labels churned those who left within the
horizon after t; a snapshot whose horizon is not yet observed is left out.

Prints AUC, Gini and KS with a plain verdict, churn by band and by score decile, and
each signal's AUC and information value.

Example: chs backtest --history history/ --outcomes churn.csv --horizon 90d
"""


ScoredArg = Annotated[
    list[Path] | None,
    typer.Argument(metavar="SCORED", help="Files written by chs score.", show_default=False),
]
ByColumnOpt = Annotated[
    str | None,
    typer.Option("--by", metavar="COLUMN", help="The figures per value of this column too."),
]
OutputOpt = Annotated[
    Path | None,
    typer.Option(
        "--output",
        "-o",
        metavar="FILE",
        help="Write the band, decile and signal tables (.csv, .parquet, .ndjson).",
    ),
]


@guarded
def backtest(
    scored: ScoredArg = None,
    history: HistoryOpt = None,
    outcomes: OutcomesOpt = None,
    outcome: OutcomeOpt = None,
    churned_on: ChurnedOnOpt = "churned_on",
    outcome_id: OutcomeIdOpt = None,
    horizon: HorizonOpt = "90d",
    observed_until: ObservedOpt = None,
    by: ByColumnOpt = None,
    output: OutputOpt = None,
    json: JsonOpt = False,
) -> None:
    from chs.actions.backtest import backtest, parse_date, parse_days
    from chs.cli import render

    until = parse_date(observed_until, "--observed-until") if observed_until else None
    with progress("Backtesting"):
        result = backtest(
            scored,
            history=history,
            outcome=outcome,
            outcomes=outcomes,
            churned_on=churned_on,
            outcome_id=outcome_id,
            horizon_days=parse_days(horizon, "--horizon"),
            observed_until=until,
            by=by,
            output=output,
        )
    warn(result["warnings"])
    if json:
        print_json(result)
    else:
        render.backtest(console(), result)
