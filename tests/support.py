"""What the CLI test modules share: a CliRunner with a plain environment, file helpers,
the ASCII-table reader and the failure check (exact stderr, nothing left behind)."""

from __future__ import annotations

from pathlib import Path

from typer.testing import CliRunner

from chs.cli import app

runner = CliRunner()
# Environment variables that would make rich colour a pipe; removed for every run.
PLAIN_ENV: dict[str, str | None] = {"NO_COLOR": None, "FORCE_COLOR": None, "TTY_COMPATIBLE": None}


def invoke(*args: object, env: dict[str, str | None] | None = None):
    return runner.invoke(app, [str(a) for a in args], env={**PLAIN_ENV, **(env or {})})


def write(path: Path, text: str) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, encoding="utf-8")
    return path


def leftovers(directory: Path) -> list[str]:
    """Temporary files an output writer could leave behind (`.<name>.<random>.tmp`)."""
    return sorted(p.name for p in directory.rglob("*") if p.name.endswith(".tmp"))


def cells(line: str) -> list[str]:
    """The cells of one ASCII table row, `| a | b |` -> ['a', 'b']."""
    assert line.startswith("|") and line.endswith("|"), line
    return [c.strip() for c in line[1:-1].split("|")]


def table_rows(stdout: str, title: str) -> list[list[str]]:
    """Header and body rows of the ASCII table printed under `title`."""
    lines = stdout.splitlines()
    start = lines.index(title)
    assert lines[start + 1].startswith("+-"), lines[start + 1]
    rows = []
    for line in lines[start + 2 :]:
        if line.startswith("+-"):
            break
        if line.startswith("|-"):
            continue
        rows.append(cells(line))
    return rows


def assert_failed(result, code: int, message: str, *outputs: Path) -> None:
    """Exit code, the exact stderr, nothing on stdout, and no output file or temp file."""
    assert result.exit_code == code, result.output
    assert result.stderr == message + "\n"
    assert result.stdout == ""
    for path in outputs:
        assert not path.exists(), path
        if path.parent.exists():
            assert leftovers(path.parent) == []
