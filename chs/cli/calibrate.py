"""`chs calibrate`: fit a scheme's weights to who churned."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from chs.cli.common import console, print_json, progress, warn
from chs.cli.errors import guarded
from chs.cli.options import JsonOpt

HELP = """Fit a scheme's signal weights to history, and write the new scheme.

The data files are raw exports with a yes/no outcome column (--outcome churned). The
weights are the non-negative coefficients of a logistic regression of churn on the
signals' points, as whole percentages summing to 100; everything else in the scheme
(tiers, bands, alerts, comments) is kept. Old and new are compared on a holdout (a
file, else one customer in five by id hash); a new scheme that ranks the holdout worse
is not written unless --force.

Example: chs calibrate schemes/saas.yaml --data train.csv --outcome churned -o saas-v2.yaml
"""


@guarded
def calibrate(
    scheme: Annotated[Path, typer.Argument(metavar="SCHEME", help="Scheme file (YAML).")],
    data: Annotated[
        list[Path], typer.Option("--data", metavar="FILE", help="A raw export with outcomes.")
    ],
    outcome: Annotated[
        str, typer.Option("--outcome", metavar="COLUMN", help="The yes/no churn column.")
    ],
    output: Annotated[
        Path, typer.Option("--output", "-o", metavar="NEW.yaml", help="Where the new scheme goes.")
    ],
    holdout: Annotated[
        Path | None,
        typer.Option(
            "--holdout", metavar="FILE", help="A separate file to compare old and new on."
        ),
    ] = None,
    force: Annotated[
        bool,
        typer.Option("--force", help="Write the new scheme even if it ranks the holdout worse."),
    ] = False,
    json: JsonOpt = False,
) -> None:
    from chs.actions.calibrate import calibrate
    from chs.cli import render

    with progress(f"Calibrating {scheme}"):
        result = calibrate(
            scheme, data, outcome=outcome, output=output, holdout=holdout, force=force
        )
    warn(result["warnings"])
    if json:
        print_json(result)
    else:
        render.calibration(console(), result)
