"""The `chs` typer app: the commands and the global options. Only typer is imported
here so that `chs --help` stays instant; each command imports its action (and with it
polars) inside its function. Shared options are chs/cli/options.py; every error leaves
through chs/cli/errors.py.
"""

from __future__ import annotations

import typer

from chs import __version__
from chs.cli import (
    backtest,
    calibrate,
    check,
    diff,
    explain,
    forecast,
    history,
    report,
    schema,
    score,
    sql,
)
from chs.cli.common import flush_stdout, state
from chs.cli.options import PlainHelp
from chs.cli.signals import TERMINATED, stop_on_signals, terminated

app = typer.Typer(
    name="chs",
    help="Customer health scores from CSV or Parquet exports and a YAML scheme.",
    epilog="Example: chs score customers.csv --scheme saas.yaml -o scored.parquet",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_show_locals=False,  # locals would print customer data
    rich_markup_mode=None,
)


def _version(value: bool) -> None:
    """--version: print and stop before any command runs (an eager option)."""
    if value:
        typer.echo(f"chs {__version__}")
        raise typer.Exit()


@app.callback()
def main_options(
    version: bool = typer.Option(
        False, "--version", callback=_version, is_eager=True, help="Print the version and exit."
    ),
    debug: bool = typer.Option(
        False, "--debug", help="Show the traceback of an error (never with local variables)."
    ),
) -> None:
    """Score customers' health from signal exports with a scheme kept in git.

    Exit codes: 0 ok, 1 internal error, 2 usage error, 3 invalid scheme,
    4 bad input data, 5 output cannot be written, 10 alerts fired (with --exit-code).
    """
    state.debug = debug


for _name, _module in (
    ("score", score),
    ("explain", explain),
    ("diff", diff),
    ("history", history),
    ("report", report),
    ("backtest", backtest),
    ("forecast", forecast),
    ("calibrate", calibrate),
    ("sql", sql),
    ("check", check),
    ("schema", schema),
):
    app.command(_name, help=_module.HELP, cls=PlainHelp)(getattr(_module, _name))


def run() -> None:
    """Run the app (the console entry point is `chs.cli.main`). A reader of stdout that
    has gone (`chs score … | head -2`) ends the printing quietly, with the run's own exit
    code (chs/cli/common.py). SIGTERM ends the run as Ctrl-C does, removing its
    temporaries, with exit 143 (chs/cli/signals.py; typer exits 130 for the
    KeyboardInterrupt)."""
    stop_on_signals()
    try:
        app()
    except SystemExit as exc:
        if exc.code == 130 and terminated():
            raise SystemExit(TERMINATED) from None
        raise
    finally:
        flush_stdout()
