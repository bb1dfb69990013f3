"""The `chs` app (chs/cli/app.py): --version, the command list and each command's help
example; in process through typer's CliRunner. Each command has its own test_cli_<command>.py.

typer 0.29's CliRunner keeps the streams apart: `result.stdout` is what the command
printed to stdout, `result.stderr` what went to stderr (errors, warnings), and
`result.output` both interleaved. Under the runner neither stream is a terminal, so
chs prints plain ASCII tables, 200 columns wide, with no colour.

Every file is written under tmp_path; the repository's sample data is only read.
"""

from __future__ import annotations

import pytest
from support import invoke

import chs

# -- version and help ----------------------------------------------------------------------


def test_version() -> None:
    result = invoke("--version")
    assert result.exit_code == 0
    assert result.stdout == f"chs {chs.__version__}\n"
    assert result.stderr == ""


def test_main_help_lists_the_commands() -> None:
    result = invoke("--help")
    assert result.exit_code == 0
    lines = result.stdout.splitlines()
    after = lines[lines.index("Commands:") + 1 :]
    commands = after[: after.index("")] if "" in after else after
    assert [line.split()[0] for line in commands] == [
        "score",
        "explain",
        "diff",
        "history",
        "report",
        "backtest",
        "forecast",
        "calibrate",
        "sql",
        "check",
        "schema",
    ]
    assert "Example: chs score customers.csv --scheme saas.yaml -o scored.parquet" in [
        line.strip() for line in lines
    ]


@pytest.mark.parametrize(
    ("command", "example"),
    [
        ("score", "Example: chs score customers.csv --scheme saas.yaml -o scored.parquet"),
        ("check", "Example: chs check saas.yaml --data customers.csv"),
        ("schema", "Example: chs schema > chs-scheme.schema.json"),
        ("explain", "Example: chs explain customers.csv C0042 --scheme saas.yaml"),
        ("report", "Example: chs report scored.parquet --by segment,owner --parent parent_id"),
    ],
)
def test_help_has_an_example(command: str, example: str) -> None:
    # The example is one line, to copy and paste: click rewraps help paragraphs to 80
    # columns at most, so an example longer than that is split in two.
    result = invoke(command, "--help")
    assert result.exit_code == 0
    assert example in [line.strip() for line in result.stdout.splitlines()]
