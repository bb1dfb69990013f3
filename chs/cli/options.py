"""The options several commands share, declared once, and the parsing of their text.

Each is a typer annotation: a command declares `top: TopOpt = 10`, and its `--help`
reads the same everywhere.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Annotated, Any, TypeVar

import typer
from typer.core import TyperCommand

T = TypeVar("T")

SchemeOpt = Annotated[
    Path, typer.Option("--scheme", "-s", metavar="FILE", help="Scheme file (YAML).")
]
JsonOpt = Annotated[
    bool, typer.Option("--json", help="Print the result as JSON instead of tables.")
]
ByOpt = Annotated[
    list[str] | None,
    typer.Option(
        "--by",
        metavar="COLUMNS",
        help="Roll up by these columns: segment,region (a+b: both at once); repeatable.",
    ),
]
TopOpt = Annotated[
    int, typer.Option("--top", metavar="N", help="How many customers each list shows.")
]
SeparatorOpt = Annotated[
    str,
    typer.Option("--separator", metavar="CHAR", help="CSV field separator, e.g. ';' or tab."),
]
DecimalCommaOpt = Annotated[
    bool, typer.Option("--decimal-comma", help="CSV numbers use a decimal comma (0,85).")
]
EncodingOpt = Annotated[
    str,
    typer.Option("--encoding", metavar="NAME", help="CSV encoding, e.g. utf-8, cp1252, latin-1."),
]
NaOpt = Annotated[
    list[str] | None,
    typer.Option(
        "--na",
        metavar="TEXT",
        help="Text read as missing in a CSV (repeatable; replaces the defaults).",
    ),
]
SheetOpt = Annotated[
    str | None,
    typer.Option(
        "--sheet",
        metavar="NAME|N",
        help="An Excel input's sheet: its name, or its number from 1 (default: the first).",
    ),
]
ExcelCsvOpt = Annotated[
    bool,
    typer.Option(
        "--excel-csv",
        help="Write CSV outputs for a French (comma-decimal) Excel: BOM, ';', 66,25.",
    ),
]


class PlainHelp(TyperCommand):
    """A command whose --help names each argument by its metavar alone: typer writes a
    Python type beside it (`INPUT <path>`, `ID <list[str]>`), which tells a user nothing.
    Options show their metavar (`--top N`), which each option sets."""

    def format_options(self, ctx: Any, formatter: Any) -> None:  # click's (typer vendors it)
        arguments, options = [], []
        for param in self.get_params(ctx):
            record = param.get_help_record(ctx)
            if record is None:
                continue
            if param.param_type_name == "argument":
                arguments.append((param.metavar or param.human_readable_name, record[1]))
            else:
                options.append(record)
        for title, rows in (("Arguments", arguments), ("Options", options)):
            if rows:
                with formatter.section(title):
                    formatter.write_dl(rows)


def parse_by(given: list[str] | str | None) -> list[list[str]]:
    """`segment,region` -> one roll-up per column; `segment+region` -> one over both;
    `--by segment --by region` is `--by segment,region`."""
    text = ",".join(given) if isinstance(given, list) else given
    if not text:
        return []
    return [
        [c.strip() for c in spec.split("+") if c.strip()]
        for spec in text.split(",")
        if spec.strip()
    ]


def parse_list(text: str | None) -> list[str] | None:
    """`a, b,,c` -> ['a', 'b', 'c'] (for --keep); no text -> None (the default)."""
    return [c.strip() for c in text.split(",") if c.strip()] if text else None


def csv_options(
    make: Callable[..., T],
    separator: str,
    decimal_comma: bool,
    encoding: str,
    na: list[str] | None,
    sheet: str | None = None,
) -> T:
    """The reading options checked and built with `make`, the action's CsvOptions (the
    CLI imports no library module but its actions), which checks the separator and the
    encoding; without --na, its default missing texts."""
    nulls: dict[str, Any] = {"null_values": tuple(na)} if na else {}
    return make(
        separator=parse_separator(separator),
        decimal_comma=decimal_comma,
        encoding=encoding,
        sheet=sheet,
        **nulls,
    )


def parse_separator(text: str) -> str:
    """`\\t` (as a shell passes '\\t') and `tab` are the tab character; any other text is
    passed on as written, to be checked by the library."""
    return "\t" if text == "\\t" or text.lower() == "tab" else text


AsOfOpt = Annotated[
    str | None,
    typer.Option(
        "--as-of",
        metavar="DATE",
        help="The run's date, YYYY-MM-DD (default: today): the snapshot's date, "
        "CURRENT_DATE and days_until/days_since.",
    ),
]


# Outcomes: who churned (chs backtest, chs calibrate)
HistoryOpt = Annotated[
    Path | None,
    typer.Option("--history", metavar="DIR", help="A history folder written by chs score."),
]
OutcomesOpt = Annotated[
    Path | None,
    typer.Option("--outcomes", metavar="FILE", help="Who churned: a CSV or Parquet file."),
]
OutcomeOpt = Annotated[
    str | None, typer.Option("--outcome", metavar="COLUMN", help="A yes/no churn column.")
]
ChurnedOnOpt = Annotated[
    str, typer.Option("--churned-on", metavar="COLUMN", help="The outcomes file's churn dates.")
]
OutcomeIdOpt = Annotated[
    str | None,
    typer.Option(
        "--outcome-id", metavar="COLUMN", help="The outcomes file's id (default: the scores')."
    ),
]
HorizonOpt = Annotated[
    str,
    typer.Option("--horizon", metavar="DAYS", help="How long after a snapshot churn counts: 90d."),
]
ObservedOpt = Annotated[
    str | None,
    typer.Option(
        "--observed-until",
        metavar="DATE",
        help="Churn is known up to this date (default: the latest snapshot or churn date).",
    ),
]
