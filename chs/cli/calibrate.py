"""`chs calibrate`: fit a scheme to who churned."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
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

HELP = """Fit a scheme's weights (and its tiers' points) to history; write the new scheme.

The data is raw exports with a yes/no outcome column (--data train.csv --outcome
churned), or a history folder with an outcomes file (--history history/ --outcomes
churn.csv), labelled without leakage as chs backtest does. The weights are the
non-negative coefficients of a logistic regression of churn on the signals' points, as
whole percentages summing to 100 at each level; --fit points also sets each tier's
points from its churn rate (monotone where the tiers are ordered). Everything else in
the scheme (tiers' edges, bands, alerts, comments) is kept. Old and new are compared on
a holdout: a file, the snapshots after a date, else the latest snapshot, else 5-fold
cross-validation. A new scheme that ranks the holdout worse is not written unless
--force.

Example: chs calibrate schemes/saas.yaml --data train.csv --outcome churned -o saas-v2.yaml
"""


FitOpt = Annotated[
    str,
    typer.Option(
        "--fit", metavar="WHAT", help="weights, or points: the tiers' points and the weights."
    ),
]
HoldoutOpt = Annotated[
    Path | None,
    typer.Option("--holdout", metavar="FILE", help="A separate file to compare old and new on."),
]
HoldoutAfterOpt = Annotated[
    str | None,
    typer.Option("--holdout-after", metavar="DATE", help="Hold out the snapshots after this date."),
]
ForceOpt = Annotated[
    bool, typer.Option("--force", help="Write the new scheme even if it ranks the holdout worse.")
]


@guarded
def calibrate(
    scheme: Annotated[Path, typer.Argument(metavar="SCHEME", help="Scheme file (YAML).")],
    output: Annotated[
        Path, typer.Option("--output", "-o", metavar="NEW.yaml", help="Where the new scheme goes.")
    ],
    data: Annotated[
        list[Path] | None,
        typer.Option("--data", metavar="FILE", help="A raw export with outcomes (repeatable)."),
    ] = None,
    history: HistoryOpt = None,
    outcomes: OutcomesOpt = None,
    outcome: OutcomeOpt = None,
    churned_on: ChurnedOnOpt = "churned_on",
    outcome_id: OutcomeIdOpt = None,
    horizon: HorizonOpt = "90d",
    observed_until: ObservedOpt = None,
    fit: FitOpt = "weights",
    holdout: HoldoutOpt = None,
    holdout_after: HoldoutAfterOpt = None,
    force: ForceOpt = False,
    json: JsonOpt = False,
) -> None:
    from chs.actions.backtest import parse_date, parse_days
    from chs.actions.calibrate import calibrate
    from chs.cli import render
    from chs.errors import OptionError

    if fit not in ("weights", "points"):
        raise OptionError(f"--fit is weights or points (got {fit!r})")
    with progress(f"Calibrating {scheme}"):
        result = calibrate(
            scheme,
            data,
            output=output,
            history=history,
            outcome=outcome,
            outcomes=outcomes,
            churned_on=churned_on,
            outcome_id=outcome_id,
            horizon_days=parse_days(horizon, "--horizon"),
            observed_until=_date(parse_date, observed_until, "--observed-until"),
            fit="points" if fit == "points" else "weights",
            holdout=holdout,
            holdout_after=_date(parse_date, holdout_after, "--holdout-after"),
            force=force,
        )
    warn(result["warnings"])
    if json:
        print_json(result)
    else:
        render.calibration(console(), result)


def _date(parse: Callable[[str, str], dt.date], text: str | None, option: str) -> dt.date | None:
    return parse(text, option) if text is not None else None
