"""What every command shares: the --debug state, consoles, JSON, warnings, a progress display.

The error guard is chs/cli/errors.py; the shared options are chs/cli/options.py.
"""

from __future__ import annotations

import contextlib
import json
import logging
import os
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

from chs.text import json_safe, printable


@dataclass
class State:
    """What the app's options set for every command: --debug shows tracebacks."""

    debug: bool = False


state = State()


def stdout_gone() -> None:
    """The reader of stdout has gone (`chs score … | head -2`): point stdout at /dev/null,
    as the Python documentation advises, so that neither what is still to be printed nor
    Python's last flush fails. The run itself stands, and keeps its exit code."""
    try:
        fd = sys.stdout.fileno()
    except (AttributeError, OSError, ValueError):  # not a file (typer's CliRunner)
        return
    devnull = os.open(os.devnull, os.O_WRONLY)
    try:
        os.dup2(devnull, fd)
    finally:
        os.close(devnull)


class _Stdout:
    """sys.stdout, quiet once its reader has gone: a closed pipe (BrokenPipeError, EPIPE)
    is the reader having seen enough, not a bug in chs."""

    def __init__(self, stream: Any) -> None:
        self._stream = stream

    def write(self, text: str) -> int:
        try:
            return int(self._stream.write(text))
        except BrokenPipeError:
            stdout_gone()
            return len(text)

    def flush(self) -> None:
        try:
            self._stream.flush()
        except BrokenPipeError:
            stdout_gone()

    def __getattr__(self, name: str) -> Any:  # isatty, fileno, encoding: the stream's
        return getattr(self._stream, name)


def print_line(text: str) -> None:
    """`text` and a newline on stdout, flushed; quiet if its reader has gone."""
    out = _Stdout(sys.stdout)
    out.write(text + "\n")
    out.flush()


def flush_stdout() -> None:
    """Flush stdout before Python does at exit, where a closed pipe would print
    `Exception ignored … BrokenPipeError` and exit 120."""
    _Stdout(sys.stdout).flush()


def console(stderr: bool = False) -> Any:
    """A rich console: colours only on a terminal (rich honours NO_COLOR), wide when piped.
    Printing to a stdout whose reader has gone stops quietly (see `_Stdout`)."""
    from rich.console import Console

    stream = sys.stderr if stderr else _Stdout(sys.stdout)
    terminal = stream.isatty()
    return Console(
        file=stream,
        width=None if terminal else 200,
        no_color=not terminal or "NO_COLOR" in os.environ,
        highlight=False,
        soft_wrap=not terminal,
    )


def print_json(data: Any) -> None:
    """The result as indented JSON, non-ASCII kept (names, ids) for people and jq alike;
    control characters escaped (`\u001b`: json.dumps escapes C0, `json_safe` the rest)."""
    out = _Stdout(sys.stdout)
    out.write(json_safe(json.dumps(data, indent=2, ensure_ascii=False)) + "\n")
    out.flush()


def warn(messages: list[str]) -> None:
    """`Warning: …` lines on stderr, so that stdout stays the result (and valid JSON);
    control characters stripped (a warning quotes file and column names)."""
    if messages:
        err = console(stderr=True)
        for message in messages:
            text = printable(f"Warning: {message}", multiline=True)
            err.print(text, markup=False, soft_wrap=True)


# What a long run reports (chs/files.py `progress`): the logger a display listens to.
PROGRESS_LOGGER = "chs.progress"


def done_text(rows: int | None, written: int | None) -> str:
    """What a phase has done: `1,234,567 rows`, else `12.3 MB written`, else nothing."""
    if rows is not None:
        return f"{rows:,} rows"
    if written is not None:
        return f"{written / 1e6:,.1f} MB written"
    return ""


class _Display(logging.Handler):
    """The run's reports as lines of a rich Progress: one per phase (reading the input,
    scoring, writing each output), each with what it has done."""

    def __init__(self, bar: Any) -> None:
        super().__init__(logging.INFO)
        self.bar = bar
        self.tasks: dict[str, Any] = {}

    def emit(self, record: logging.LogRecord) -> None:
        phase = printable(record.getMessage())  # it names files
        done = done_text(getattr(record, "rows", None), getattr(record, "written", None))
        task = self.tasks.get(phase)
        if task is None:
            self.tasks[phase] = self.bar.add_task(f"  {phase}", total=None, done=done)
        else:
            self.bar.update(task, done=done)


@contextlib.contextmanager
def progress(message: str, err: Any = None) -> Iterator[None]:
    """On a terminal, a progress display on stderr while a long run works: the run
    (`message`) with its elapsed time, and under it each phase the library reports with
    the rows done or the bytes written. Not a terminal (cron, pipes): nothing at all.
    `err`: the console to draw on (stderr's by default)."""
    err = err or console(stderr=True)
    if not err.is_terminal:
        yield
        return
    from rich.progress import Progress, SpinnerColumn, TextColumn, TimeElapsedColumn

    logger = logging.getLogger(PROGRESS_LOGGER)
    with Progress(
        SpinnerColumn(),
        TextColumn("{task.description}", markup=False),
        TextColumn("{task.fields[done]}", markup=False),
        TimeElapsedColumn(),
        console=err,
        transient=True,
    ) as bar:
        bar.add_task(printable(message), total=None, done="")  # it names the input file
        display = _Display(bar)
        level, propagate = logger.level, logger.propagate
        logger.addHandler(display)
        logger.setLevel(logging.INFO)
        logger.propagate = False  # shown here, not also by the caller's logging
        try:
            yield
        finally:
            logger.removeHandler(display)
            logger.setLevel(level)
            logger.propagate = propagate
