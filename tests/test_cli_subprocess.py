"""The installed `chs` console script, run as a real process.

These check what the in-process CliRunner cannot: the entry point, real pipes and a real
terminal, and that importing the CLI does not pull in the heavy libraries.
"""

from __future__ import annotations

import os
import re
import shlex
import subprocess
import sys
from pathlib import Path

import polars as pl
import pytest

import chs
from chs.scheme import load_scheme

REPO = Path(__file__).resolve().parents[1]
CHS = Path(sys.executable).parent / "chs"
CUSTOMERS = REPO / "sample_data" / "customers.csv"
SAAS = REPO / "schemes" / "saas.yaml"
HEAVY = ("polars", "pydantic", "yaml")
# SGR parameters that set a colour: 30-38 and 40-48 (foreground, background), 90-107 (bright).
COLOUR_SGR = re.compile(r"\x1b\[(?:[0-9;]*;)?(?:3[0-8]|4[0-8]|9[0-7]|10[0-7])(?:;[0-9;]*)?m")


def env(**extra: str) -> dict[str, str]:
    base = {k: v for k, v in os.environ.items() if k not in ("NO_COLOR", "FORCE_COLOR")}
    return {**base, **extra}


def run(*args: object, **kwargs) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [str(a) for a in args], capture_output=True, text=True, timeout=60, check=False, **kwargs
    )


def test_console_script_is_installed() -> None:
    assert CHS.is_file()
    result = run(CHS, "--version", env=env())
    assert result.returncode == 0
    assert result.stdout == f"chs {chs.__version__}\n"


def test_score_sample_data(tmp_path: Path) -> None:
    out = tmp_path / "out.parquet"
    result = run(CHS, "score", CUSTOMERS, "--scheme", SAAS, "-o", out, env=env(NO_COLOR="1"))
    assert result.returncode == 0, result.stderr
    assert result.stderr == ""
    lines = result.stdout.splitlines()
    assert lines[1] == "Rows: 400 read = 400 scored + 0 rejected"
    assert lines[2] == f"Output: {out}"
    assert "\x1b" not in result.stdout
    frame = pl.read_parquet(out)
    assert frame.height == 400
    assert frame["customer_id"].n_unique() == 400
    assert frame["band"].null_count() == 0
    assert sorted(p.name for p in tmp_path.iterdir()) == ["out.parquet"]


def test_error_exit_code_and_message(tmp_path: Path) -> None:
    missing = tmp_path / "nope.csv"
    out = tmp_path / "out.parquet"
    result = run(CHS, "score", missing, "--scheme", SAAS, "-o", out, env=env())
    assert result.returncode == 4
    assert result.stdout == ""
    assert result.stderr == f"Error: {missing}: file not found\n"
    assert not out.exists()


def test_help_lists_the_commands() -> None:
    result = run(CHS, "--help", env=env())
    assert result.returncode == 0
    assert result.stderr == ""
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


def test_importing_the_cli_does_not_import_heavy_libraries() -> None:
    # `-X importtime` writes one line per module to stderr:
    #   import time: self [us] | cumulative | imported package
    result = run(sys.executable, "-X", "importtime", "-c", "import chs.cli.app")
    assert result.returncode == 0, result.stderr
    modules = {
        line.rsplit("|", 1)[1].strip()
        for line in result.stderr.splitlines()
        if line.startswith("import time:") and "|" in line
    }
    assert "chs.cli.app" in modules
    assert "typer" in modules
    heavy = sorted(m for m in modules if m.split(".")[0] in HEAVY)
    assert heavy == []


def test_version_is_answered_before_typer_is_imported() -> None:
    # `chs --version` alone: the entry point prints it and imports nothing else; with
    # another option it goes through the app and says the same
    result = run(sys.executable, "-X", "importtime", "-m", "chs", "--version")
    assert result.returncode == 0, result.stderr
    assert result.stdout == f"chs {chs.__version__}\n"
    modules = {
        line.rsplit("|", 1)[1].strip()
        for line in result.stderr.splitlines()
        if line.startswith("import time:") and "|" in line
    }
    assert "chs.cli" in modules
    assert "typer" not in modules and "chs.cli.app" not in modules
    both = run(CHS, "--debug", "--version", env=env())
    assert (both.returncode, both.stdout) == (0, f"chs {chs.__version__}\n")
    # a reader that has gone before the line is printed: quiet, as for any command
    gone = subprocess.Popen(
        [str(CHS), "--version"], stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=env()
    )
    assert gone.stdout is not None and gone.stderr is not None
    gone.stdout.close()
    assert (gone.wait(timeout=60), gone.stderr.read()) == (0, b"")


@pytest.mark.skipif(sys.platform == "win32", reason="needs a pseudo-terminal")
@pytest.mark.parametrize("no_color", [False, True], ids=["colour", "NO_COLOR"])
def test_terminal_colours_follow_no_color(tmp_path: Path, no_color: bool) -> None:
    # On a real terminal the band rows are coloured, unless NO_COLOR is set. (NO_COLOR
    # forbids colour, not bold or italics, so only colour codes are looked for.)
    import pty

    extra = {"TERM": "xterm-256color", "COLUMNS": "120", "LINES": "50", "PYTHONIOENCODING": "utf-8"}
    if no_color:
        extra["NO_COLOR"] = "1"
    main, secondary = pty.openpty()
    try:
        proc = subprocess.Popen(
            [str(CHS), "score", str(CUSTOMERS), "--scheme", str(SAAS), "--top", "3"],
            stdout=secondary,
            stderr=secondary,
            env=env(**extra),
        )
    finally:
        os.close(secondary)
    chunks = []
    while True:
        try:
            chunk = os.read(main, 65536)
        except OSError:  # EIO: the child closed the terminal
            break
        if not chunk:
            break
        chunks.append(chunk)
    os.close(main)
    assert proc.wait(timeout=60) == 0
    text = b"".join(chunks).decode("utf-8")
    assert "Rows: 400 read = 400 scored + 0 rejected" in text
    assert "╭" in text  # a terminal gets box-drawing tables
    colours = COLOUR_SGR.findall(text)
    if no_color:
        assert colours == []
    else:
        assert colours != []


# -- a reader of stdout that goes away: `chs score … | head -1` ------------------------------

# One signal; every customer scores under 50 and is at risk, so `--top 3000` prints a table
# of 3,000 rows (about 250 KB): far more than a pipe holds, so chs is still writing when
# the reader leaves.
PIPE_SCHEME = """\
name: pipe
id: id
value: mrr
signals:
  x: {column: x, weight: 100, linear: [[0, 0], [100, 100]]}
bands:
  - {name: high, from: 50}
  - {name: low, from: 0}
alerts:
  - {name: low, when: "score < 50", action: Call}
"""


@pytest.fixture
def many(tmp_path: Path) -> tuple[Path, Path]:
    """3,000 customers, all at risk, and the scheme that scores them."""
    rows = "".join(f"C{i:05d},{i % 50},{1000 + i}.5\n" for i in range(3000))
    data = tmp_path / "many.csv"
    data.write_text("id,x,mrr\n" + rows, encoding="utf-8")
    scheme = tmp_path / "pipe.yaml"
    scheme.write_text(PIPE_SCHEME, encoding="utf-8")
    return data, scheme


def read_one_line_and_leave(args: list[object], stderr: Path) -> tuple[str, int]:
    """Run chs with stdout to a pipe, read its first line, close the pipe while chs is
    still writing: the line and chs's exit code."""
    with stderr.open("w") as err:
        proc = subprocess.Popen(
            [str(a) for a in args], stdout=subprocess.PIPE, stderr=err, env=env()
        )
        assert proc.stdout is not None
        line = proc.stdout.readline().decode()
        proc.stdout.close()
        return line, proc.wait(timeout=60)


def test_a_reader_that_leaves_ends_the_run_quietly(tmp_path: Path, many) -> None:
    # it was exit 1: a closed pipe is the reader having seen enough, not a bug in chs
    data, scheme = many
    err, out = tmp_path / "stderr.txt", tmp_path / "scored.csv"
    args = [CHS, "score", data, "-s", scheme, "--top", 3000, "-o", out]
    line, code = read_one_line_and_leave(args, err)
    digest = load_scheme(scheme).digest
    assert (line, code, err.read_text()) == (f"Scored {data} with scheme pipe ({digest})\n", 0, "")
    assert pl.read_csv(out).height == 3000  # the run itself stands


@pytest.mark.parametrize(
    ("option", "first"), [((), "Scored "), (("--json",), "{")], ids=["tables", "json"]
)
def test_head_ends_chs_score_quietly_in_a_shell_pipeline(many, option, first) -> None:
    data, scheme = many
    command = [str(CHS), "score", str(data), "-s", str(scheme), "--top", "3000", *option]
    pipeline = "set -o pipefail; " + " ".join(shlex.quote(a) for a in command) + " | head -1"
    result = run("bash", "-c", pipeline, env=env())
    assert (result.returncode, result.stderr) == (0, "")
    assert len(result.stdout.splitlines()) == 1
    assert result.stdout.startswith(first)


def test_a_closed_stdout_keeps_the_runs_own_exit_code(tmp_path: Path, many) -> None:
    # stdout closed before chs writes a byte: every write fails with EPIPE
    data, scheme = many
    read, write = os.pipe()
    os.close(read)
    try:
        alerts = subprocess.run(
            [str(CHS), "score", str(data), "-s", str(scheme), "--exit-code"],
            stdout=write, stderr=subprocess.PIPE, text=True, timeout=60, env=env(), check=False,
        )  # fmt: skip
        rejected = tmp_path / "bad.csv"
        rejected.write_text("id,x,mrr\nA,1,2\nB,oops,3\n", encoding="utf-8")
        check = subprocess.run(
            [str(CHS), "check", str(scheme), "--data", str(rejected)],
            stdout=write, stderr=subprocess.PIPE, text=True, timeout=60, env=env(), check=False,
        )  # fmt: skip
    finally:
        os.close(write)
    # alerts fired: 10, as with a reader; rejected rows: 4 and the message
    assert (alerts.returncode, alerts.stderr) == (10, "")
    assert (check.returncode, check.stderr) == (
        4,
        f"Error: {rejected}: 1 of 2 rows cannot be scored\n",
    )
