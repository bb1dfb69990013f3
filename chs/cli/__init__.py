"""The `chs` command line: parse options, call the library, render with rich.

The console entry point answers `chs --version` before anything else is imported (typer
alone takes about 0.04 s to import); every other command line goes to the typer app,
chs/cli/app.py.
"""

from __future__ import annotations

import sys

from chs import __version__
from chs.cli.common import print_line


def main() -> None:
    """Console entry point: `chs --version` at once, else the typer app."""
    if sys.argv[1:] == ["--version"]:
        print_line(f"chs {__version__}")
        return
    from chs.cli.app import run

    run()
