"""`chs history`: scores over time from a history folder."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from chs.cli.common import console, print_json, warn
from chs.cli.errors import guarded
from chs.cli.options import JsonOpt

HELP = """Show a history folder: band counts per snapshot, and scores over time.

With IDs, shows those customers' scores at every snapshot with a compact trend; without,
the customers whose score fell most from the first snapshot to the last.

Example: chs history history/ C0042 C0107
"""


@guarded
def history(
    directory: Annotated[Path, typer.Argument(metavar="DIR", help="The --history folder.")],
    ids: Annotated[list[str] | None, typer.Argument(metavar="ID", help="Customer ids.")] = None,
    top: Annotated[
        int, typer.Option("--top", metavar="N", help="How many customers to show without IDs.")
    ] = 10,
    json: JsonOpt = False,
) -> None:
    from chs.actions.history import history
    from chs.cli import render

    result = history(directory, ids or [], top=top)
    warn(result["warnings"])
    if json:
        print_json(result)
    else:
        render.history(console(), result)
