"""One error hierarchy: every user-facing failure is a ChsError with its exit code.

The CLI turns a ChsError into `Error: <message>` and exits with `exit_code`; anything
else is a bug and exits with INTERNAL. Codes are documented in the README.
"""

from __future__ import annotations

OK = 0
INTERNAL = 1  # an unexpected failure (a bug): please report it
USAGE = 2  # bad command-line usage (click's own code)
SCHEME = 3  # the scheme file is invalid
DATA = 4  # an input file is missing, unreadable, or has rows that cannot be scored
OUTPUT = 5  # an output cannot be written
ALERTS = 10  # with --exit-code: the run succeeded and at least one alert fired


class ChsError(Exception):
    """A user error: one clear message, no traceback."""

    exit_code = INTERNAL

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


class SchemeError(ChsError):
    """The scheme file cannot be loaded or is invalid."""

    exit_code = SCHEME


class DataError(ChsError):
    """An input file is missing, unreadable, of the wrong shape, or has unscorable rows."""

    exit_code = DATA


class OutputError(ChsError):
    """An output path is unusable (unknown extension, would overwrite an input, unwritable)."""

    exit_code = OUTPUT


class OptionError(ChsError):
    """Command-line options that parse but do not make sense together."""

    exit_code = USAGE
