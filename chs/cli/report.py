"""`chs report`: portfolio roll-ups over a scored file."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from chs.cli.common import console, print_json, progress, warn
from chs.cli.errors import guarded
from chs.cli.options import (
    ByOpt,
    ChurnedOnOpt,
    ExcelCsvOpt,
    HistoryOpt,
    HorizonOpt,
    JsonOpt,
    OutcomeOpt,
    OutcomesOpt,
    TopOpt,
    parse_by,
)

HELP = """Roll up a scored file by segment, region, owner or any column.

Per group: customers and their share in each band, mean score, value, value at risk
(value in the at-risk bands: --at-risk, else the lowest band) and the mean delta when
the file has one. With --parent, each parent account gets the value-weighted score of
its children and the share of their value in each band.

With --html FILE, the portfolio's report as one self-contained HTML file instead (no
server, no internet; it prints to PDF a section a page): the headline, the score
distribution, the movement since --previous LAST or the history's previous snapshot
(--history DIR, which also gives the trend), the risk map of each --by column and pair,
the at-risk list and, with --outcomes FILE, churn by band and decile and the AUC.

Example: chs report scored.parquet --by segment,owner --parent parent_id
Example: chs report scored.parquet --html report.html --history history/ --by segment,region
"""

ScoredArg = Annotated[Path, typer.Argument(metavar="SCORED", help="A file written by chs score.")]
ParentOpt = Annotated[
    str | None, typer.Option("--parent", metavar="COLUMN", help="Parent account column.")
]
AtRiskOpt = Annotated[
    str | None,
    typer.Option("--at-risk", metavar="BANDS", help="Bands counted as at risk, comma-separated."),
]
ValueOpt = Annotated[
    str | None,
    typer.Option(
        "--value", metavar="COLUMN", help="Value column (Parquet files from chs record it)."
    ),
]
OutputOpt = Annotated[
    Path | None,
    typer.Option(
        "--output", "-o", metavar="FILE", help="Write the roll-ups (.csv, .parquet, .ndjson)."
    ),
]
HtmlOpt = Annotated[
    Path | None,
    typer.Option("--html", metavar="FILE", help="Write the HTML report here (one file, offline)."),
]
PreviousOpt = Annotated[
    Path | None,
    typer.Option("--previous", metavar="FILE", help="With --html: the previous scored snapshot."),
]
TitleOpt = Annotated[
    str | None, typer.Option("--title", metavar="TEXT", help="With --html: the page's title.")
]
OwnerOpt = Annotated[
    str,
    typer.Option("--owner", metavar="COLUMN", help="With --html: the at-risk list's owner column."),
]


@guarded
def report(
    scored: ScoredArg,
    by: ByOpt = None,
    parent: ParentOpt = None,
    at_risk: AtRiskOpt = None,
    value: ValueOpt = None,
    output: OutputOpt = None,
    json: JsonOpt = False,
    excel_csv: ExcelCsvOpt = False,
    html: HtmlOpt = None,
    previous: PreviousOpt = None,
    history: HistoryOpt = None,
    outcomes: OutcomesOpt = None,
    outcome: OutcomeOpt = None,
    churned_on: ChurnedOnOpt = "churned_on",
    horizon: HorizonOpt = "90d",
    title: TitleOpt = None,
    top: TopOpt = 10,
    owner: OwnerOpt = "owner",
) -> None:
    from chs.actions.report import report
    from chs.cli import render
    from chs.errors import OptionError

    groups = parse_by(by)
    if html is not None:
        page = (previous, history, outcomes, outcome, churned_on, horizon, title, top, owner)
        _html(scored, html, groups, page, json)
        return
    given = [k for k, v in (("--previous", previous), ("--history", history),
                            ("--outcomes", outcomes), ("--title", title)) if v is not None]  # fmt: skip
    if given:
        raise OptionError(f"{given[0]} goes with --html FILE (the HTML report)")
    if not groups and not parent:
        raise OptionError("give --by COLUMNS, --parent COLUMN, or both (or --html FILE)")
    with progress(f"Rolling up {scored}"):
        result = report(
            scored,
            by=groups,
            parent=parent,
            at_risk=[b.strip() for b in at_risk.split(",")] if at_risk else None,
            value_column=value,
            output=output,
            excel_csv=excel_csv,
        )
    if json:
        print_json(result)
    else:
        render.report(console(), result)


def _html(scored: Path, html: Path, by: list[list[str]], page: tuple, json: bool) -> None:
    """`chs report --html`: the page written, what it shows printed."""
    from chs.actions.backtest import parse_days
    from chs.actions.report import PageRequest, report
    from chs.cli import render

    previous, history, outcomes, outcome, churned_on, horizon, title, top, owner = page
    request = PageRequest(
        scored, by, previous, history, outcomes, outcome, churned_on,
        parse_days(horizon, "--horizon"), title, top, owner,
    )  # fmt: skip
    with progress(f"Writing the report of {scored}"):
        result = report(scored, html=html, page=request)
    warn(result["warnings"])  # type: ignore[typeddict-item]
    if json:
        print_json(result)
    else:
        render.html_report(console(), dict(result))
