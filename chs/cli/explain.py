"""`chs explain`: why customers have their score, and what would move them up."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from chs.cli.common import console, print_json
from chs.cli.errors import guarded
from chs.cli.options import (
    AsOfOpt,
    DecimalCommaOpt,
    EncodingOpt,
    JsonOpt,
    NaOpt,
    SchemeOpt,
    SeparatorOpt,
    SheetOpt,
    csv_options,
)

HELP = """Explain the score of the customers with these IDs in INPUT.

For each signal: its raw value, the tier or breakpoint it fell in, its points, its
effective weight after missing-value redistribution, its contribution and what it loses
against its maximum. Then what it takes: each signal's nearest better tier and the
score gain if the customer reached it, and the smallest single-signal change that
reaches the next band up (every figure rescored by the engine).

Example: chs explain customers.csv C0042 --scheme saas.yaml
"""


@guarded
def explain(
    input: Annotated[Path, typer.Argument(metavar="INPUT", help="Customer-signal export.")],
    ids: Annotated[list[str], typer.Argument(metavar="ID", help="Customer ids.")],
    scheme: SchemeOpt,
    json: JsonOpt = False,
    separator: SeparatorOpt = ",",
    decimal_comma: DecimalCommaOpt = False,
    encoding: EncodingOpt = "utf-8",
    na: NaOpt = None,
    sheet: SheetOpt = None,
    as_of: AsOfOpt = None,
) -> None:
    from chs.actions.explain import CsvOptions, explain, load_scheme, parse_date
    from chs.cli import render

    loaded = load_scheme(scheme)
    csv = csv_options(CsvOptions, separator, decimal_comma, encoding, na, sheet)
    date = parse_date(as_of, "--as-of") if as_of else None
    result = explain(input, loaded, ids, csv, as_of=date)
    if json:
        print_json(result)
    else:
        render.explanation(console(), result)
