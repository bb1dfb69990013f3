"""One error hierarchy: every user-facing failure is a ChsError with its exit code.

The CLI turns a ChsError into `Error: <message>` and exits with `exit_code`; anything
else is a bug and exits with INTERNAL. Codes are documented in the README.

The library names no command-line flag: a message about one of its parameters writes
`{option}` where it names it, and a piece of advice that only the caller can word (which
flag, which argument) is a `hint` key. `str(exc)` reads for a Python caller ("top must be
0 or more"); the CLI words the same error with its flags ("--top must be 0 or more").
"""

from __future__ import annotations

OK = 0
INTERNAL = 1  # an unexpected failure (a bug): please report it
USAGE = 2  # bad command-line usage (click's own code)
SCHEME = 3  # the scheme file is invalid
DATA = 4  # an input file is missing, unreadable, or has rows that cannot be scored
OUTPUT = 5  # an output cannot be written
ALERTS = 10  # with --exit-code: the run succeeded and at least one alert fired

OPTION = "{option}"  # where a message names its `option`

# The hints the library gives, for the callers that word them.
HINT_SEPARATOR = "separator"  # a CSV read with the wrong separator (and decimal mark)
HINT_ENCODING = "encoding"  # a CSV that is not UTF-8
HINT_REJECTS = "rejects"  # unscorable rows, and no place to write them
HINT_SCHEME = "scheme"  # a raw export where a scored file was expected, and no scheme


class ChsError(Exception):
    """A user error: one clear message, no traceback.

    `option`: the library parameter the message is about ("top", "by", "at_risk",
    "keep"), named where the message says `{option}`. `hint`: a key for advice the
    caller words (see the HINT_ constants).
    """

    exit_code = INTERNAL

    def __init__(self, message: str, *, option: str | None = None, hint: str | None = None) -> None:
        self.template = message
        self.option = option
        self.hint = hint
        self.message = self.naming(option)
        super().__init__(self.message)

    def naming(self, option: str | None) -> str:
        """The message with the option called `option` (its parameter name, or a flag)."""
        if self.option is None or option is None:
            return self.template
        return self.template.replace(OPTION, option)


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
    """Options (arguments) that parse but do not make sense together."""

    exit_code = USAGE


def polars_gist(exc: BaseException) -> str:
    """The gist of an engine error, safe to print: its first line, with any list of
    values cut off. Polars names the values it failed on (`… for 400 out of 400 values:
    ["Acme", "Beta", …]`), which are customer data from rows the message is not about."""
    first = (str(exc).strip().splitlines() or [type(exc).__name__])[0]
    cut = first.find(": [")
    return first[:cut] if cut >= 0 else first
