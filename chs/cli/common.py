"""What every command shares: the error guard, consoles, and the CSV reading options."""

from __future__ import annotations

import contextlib
import functools
import json
import os
import sys
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Annotated, Any, TypeVar

import typer

from chs.errors import INTERNAL, ChsError


@dataclass
class State:
    debug: bool = False


state = State()
F = TypeVar("F", bound=Callable[..., Any])


def console(stderr: bool = False) -> Any:
    """A rich console: colours only on a terminal (rich honours NO_COLOR), wide when piped."""
    from rich.console import Console

    stream = sys.stderr if stderr else sys.stdout
    terminal = stream.isatty()
    return Console(
        file=stream,
        width=None if terminal else 200,
        no_color=not terminal or "NO_COLOR" in os.environ,
        highlight=False,
        soft_wrap=not terminal,
    )


def guarded(fn: F) -> F:
    """Turn a ChsError into `Error: …` and its exit code; hide tracebacks unless --debug."""

    @functools.wraps(fn)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        try:
            return fn(*args, **kwargs)
        except (typer.Exit, typer.Abort, KeyboardInterrupt):
            raise
        except ChsError as exc:
            err = console(stderr=True)
            if state.debug:
                err.print_exception(show_locals=False)
            err.print(f"Error: {exc.message}", markup=False, soft_wrap=True)
            raise typer.Exit(exc.exit_code) from None
        except Exception as exc:
            if isinstance(exc, typer.TyperException):  # usage errors: click reports them (exit 2)
                raise
            err = console(stderr=True)
            if state.debug:
                err.print_exception(show_locals=False)
            err.print(
                f"Internal error: {type(exc).__name__}: {exc}\n"
                "This is a bug in chs; run again with --debug for the traceback and report it.",
                markup=False,
                soft_wrap=True,
            )
            raise typer.Exit(INTERNAL) from None

    return wrapper  # type: ignore[return-value]


def print_json(data: Any) -> None:
    typer.echo(json.dumps(data, indent=2, ensure_ascii=False))


def warn(messages: list[str]) -> None:
    if messages:
        err = console(stderr=True)
        for message in messages:
            err.print(f"Warning: {message}", markup=False, soft_wrap=True)


SchemeOpt = Annotated[Path, typer.Option("--scheme", "-s", help="Scheme file (YAML).")]
JsonOpt = Annotated[
    bool, typer.Option("--json", help="Print the result as JSON instead of tables.")
]
SeparatorOpt = Annotated[str, typer.Option("--separator", help="CSV field separator, e.g. ';'.")]
DecimalCommaOpt = Annotated[
    bool, typer.Option("--decimal-comma", help="CSV numbers use a decimal comma (0,85).")
]
EncodingOpt = Annotated[
    str, typer.Option("--encoding", help="CSV encoding, e.g. utf-8, cp1252, latin-1.")
]
NaOpt = Annotated[
    list[str] | None,
    typer.Option("--na", help="Text read as missing in a CSV (repeatable; replaces the defaults)."),
]


def csv_options(separator: str, decimal_comma: bool, encoding: str, na: list[str] | None) -> Any:
    from chs.errors import OptionError
    from chs.files import DEFAULT_NULLS, CsvOptions

    if len(separator.encode()) != 1:
        raise OptionError(f"--separator must be one character (got {separator!r})")
    return CsvOptions(
        separator=separator,
        decimal_comma=decimal_comma,
        encoding=encoding,
        null_values=tuple(na) if na else DEFAULT_NULLS,
    )


@contextlib.contextmanager
def progress(message: str) -> Iterator[None]:
    """A spinner with the elapsed time while a long run works, on a terminal only: cron
    and pipes stay silent."""
    err = console(stderr=True)
    if not err.is_terminal:
        yield
        return
    from rich.progress import Progress, SpinnerColumn, TextColumn, TimeElapsedColumn

    with Progress(
        SpinnerColumn(),
        TextColumn("{task.description}"),
        TimeElapsedColumn(),
        console=err,
        transient=True,
    ) as bar:
        bar.add_task(message, total=None)
        yield
