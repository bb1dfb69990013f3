"""The one error path of the command line: a ChsError becomes `Error: …` and its exit code.

The library names parameters and gives hint keys (chs/errors.py); here they become the
flags and the advice a command-line user acts on, so every message is worded in one place.
It is also where what a message quotes from the data is made safe to print: control
characters stripped (chs/text.py), and an internal error cut to the gist of its first
line, so that an engine's list of values (customer data) never reaches the terminal.
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from typing import Any, NoReturn, TypeVar

import typer

from chs.cli.common import console, state, stdout_gone
from chs.errors import (
    HINT_ENCODING,
    HINT_REJECTS,
    HINT_SCHEME,
    HINT_SEPARATOR,
    INTERNAL,
    ChsError,
    polars_gist,
)
from chs.text import printable

F = TypeVar("F", bound=Callable[..., Any])

# A library parameter -> the flag that sets it, where the two are not spelt alike
# (`at_risk` -> `--at-risk` needs no entry).
FLAGS: dict[str, str] = {"id_column": "--id", "value_column": "--value"}

# A hint key -> the advice appended to the message.
ADVICE: dict[str, str] = {
    HINT_SEPARATOR: " (try --separator ';' and --decimal-comma)",
    HINT_ENCODING: " (the file is not UTF-8; try --encoding cp1252 or --encoding latin-1)",
    HINT_REJECTS: (
        "\nFix the data, or pass --rejects FILE to write these rows there and score the rest."
    ),
    HINT_SCHEME: "; give --scheme to score it",
}


def flag(option: str) -> str:
    """The command-line flag for a library parameter: `at_risk` -> `--at-risk`."""
    return FLAGS.get(option, "--" + option.replace("_", "-"))


def error_text(exc: ChsError) -> str:
    """The message as a command-line user reads it: flags, then the advice."""
    text = exc.naming(flag(exc.option)) if exc.option else exc.message
    return text + (ADVICE.get(exc.hint, "") if exc.hint else "")


def fail(exc: ChsError) -> NoReturn:
    """Print `Error: <message>` on stderr (a block of lines, control characters
    stripped) and exit with the error's code."""
    text = printable(f"Error: {error_text(exc)}", multiline=True)
    console(stderr=True).print(text, markup=False, soft_wrap=True)
    raise typer.Exit(exc.exit_code) from None


def guarded(fn: F) -> F:
    """Turn a ChsError into `Error: …` and its exit code; hide tracebacks unless --debug."""

    @functools.wraps(fn)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        try:
            return fn(*args, **kwargs)
        except (typer.Exit, typer.Abort, KeyboardInterrupt):
            raise
        except BrokenPipeError:  # stdout's reader has gone (`| head`): not a bug in chs
            stdout_gone()
            raise typer.Exit(0) from None
        except ChsError as exc:
            if state.debug:
                console(stderr=True).print_exception(show_locals=False)
            fail(exc)
        except Exception as exc:
            if isinstance(exc, typer.TyperException):  # usage errors: click reports them (exit 2)
                raise
            internal(exc)
        except BaseException as exc:  # an engine panic (PanicException) is a BaseException
            if type(exc).__name__ != "PanicException":
                raise
            internal(exc)

    return wrapper  # type: ignore[return-value]


def internal(exc: BaseException) -> NoReturn:
    """A bug: one line naming it (the gist of its message: no value list, no control
    character), and how to get the traceback (exit 1)."""
    err = console(stderr=True)
    if state.debug:
        err.print_exception(show_locals=False)
    err.print(
        f"Internal error: {type(exc).__name__}: {printable(polars_gist(exc))}\n"
        "This is a bug in chs; run again with --debug for the traceback and report it.",
        markup=False,
        soft_wrap=True,
    )
    raise typer.Exit(INTERNAL) from None
