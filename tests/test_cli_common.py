"""What every command shares (chs/cli/common.py, chs/cli/errors.py): the error guard and
--debug, plain output when not a terminal. In process through typer's CliRunner (see tests/test_cli.py):
stdout and stderr apart, plain ASCII tables 200 columns wide, no colour. Every file is
written under tmp_path; the repository's sample data is only read.
"""

from __future__ import annotations

from pathlib import Path

import polars as pl
from support import CLI_SCHEME, PLAIN_ENV, cli_variant, invoke, write
from typer.testing import CliRunner

from chs.actions import check as action
from chs.cli.app import app


def test_debug_shows_the_traceback(tmp_path: Path, cli_data: Path, out: Path) -> None:
    scheme = write(tmp_path / "scheme.yaml", cli_variant("weight: 3\n", "weight: 0\n"))
    message = f"Error: {scheme}:7: signals.logins.weight: must be greater than 0 (got 0)"
    result = invoke("--debug", "score", cli_data, "-s", scheme, "-o", out)
    assert result.exit_code == 3
    assert "Traceback" in result.stderr
    assert result.stderr.splitlines()[-1] == message
    assert not out.exists()

    result = invoke("score", cli_data, "-s", scheme, "-o", out)
    assert result.exit_code == 3
    assert "Traceback" not in result.output
    assert result.stderr == message + "\n"


def test_plain_output_when_not_a_terminal(
    runner: CliRunner, cli_scheme: Path, cli_data: Path
) -> None:
    # The scheme colours its bands; a pipe still gets no escape codes (NO_COLOR is unset).
    assert "color: green" in CLI_SCHEME
    for args in (["score", cli_data, "-s", cli_scheme], ["check", cli_scheme, "--data", cli_data]):
        result = runner.invoke(app, [str(a) for a in args], env=PLAIN_ENV, color=True)
        assert result.exit_code == 0, result.output
        assert "\x1b" not in result.stdout
        assert "\x1b" not in result.stderr
        assert "+---" in result.stdout  # ASCII table borders, not box-drawing characters


def test_an_engine_panic_is_an_internal_error_without_a_traceback(
    monkeypatch, cli_scheme: Path
) -> None:
    """Polars raises a panic as PanicException, a BaseException that `except Exception`
    misses: the guard reports it as a bug, in one line, like any other."""

    def panics(*_: object, **__: object) -> None:
        raise pl.exceptions.PanicException("assertion failed: range.end <= self.size")

    monkeypatch.setattr(action, "check", panics)
    result = invoke("check", cli_scheme)
    assert result.exit_code == 1
    assert result.stderr == (
        "Internal error: PanicException: assertion failed: range.end <= self.size\n"
        "This is a bug in chs; run again with --debug for the traceback and report it.\n"
    )
