"""Conventions a user notices (issue 11, section 4), through the command line: numbers as
people read them, --help without Python types, output files' permissions, and the
progress display (on a terminal only). In process through typer's CliRunner (see
tests/test_cli.py); the terminal display is drawn on a rich Console forced to be one.
Closed pipes need real processes: tests/test_cli_subprocess.py."""

from __future__ import annotations

import io
import logging
import os
from pathlib import Path

import polars as pl
import pytest
from rich.console import Console
from support import CLI_SCHEME, MINI_SCHEME, invoke, table_rows, write

from chs.actions.score import ScoreOptions, score
from chs.cli.common import PROGRESS_LOGGER, done_text, progress
from chs.scheme import load_scheme

COMMANDS = ["score", "explain", "diff", "history", "report", "check", "schema"]

# -- numbers: money with two decimals and separators, counts with separators ---------------

# 1,200 customers: C0000-C0999 at risk (login 0, nps 1: (0 + 10) / 4 = 2.5), mrr
# 12,345.60 each; C1000-C1199 good (login 12, nps 8: 95.0), mrr 1,000.
BIG = "id,segment,login,nps,mrr\n" + "".join(
    f"C{i:04d},{'ENT' if i % 2 else 'SMB'},{0 if i < 1000 else 12},{1 if i < 1000 else 8},"
    f"{12345.6 if i < 1000 else 1000}\n"
    for i in range(1200)
)


def test_counts_and_money_are_written_as_people_read_them(tmp_path: Path) -> None:
    scheme, data = write(tmp_path / "s.yaml", CLI_SCHEME), write(tmp_path / "big.csv", BIG)
    result = invoke("score", data, "-s", scheme, "--top", 2, "--by", "segment")
    assert result.exit_code == 0, result.output
    lines = result.stdout.splitlines()
    assert lines[1] == "Rows: 1,200 read = 1,200 scored + 0 rejected"
    # good: 200 x 1,000 = 200,000; risk: 1,000 x 12,345.60 = 12,345,600
    assert table_rows(result.stdout, "Customers per band")[1:] == [
        ["good", "200", "16.7 %", "200,000.00", "1.6 %"],
        ["watch", "0", "0.0 %", "0.00", "0.0 %"],
        ["risk", "1,000", "83.3 %", "12,345,600.00", "98.4 %"],
    ]
    # the tie at 2.5 goes to the bigger value, then the id
    assert table_rows(result.stdout, "Top 2 at risk")[1:] == [
        ["C0000", "2.5", "risk", "12,345.60", "100.0 %", "logins -75.0; nps -22.5"],
        ["C0001", "2.5", "risk", "12,345.60", "100.0 %", "logins -75.0; nps -22.5"],
    ]
    # ENT: the odd ids, 500 at risk (6,172,800.00) and 100 good (100,000.00); mean score
    # (500 x 2.5 + 100 x 95) / 600 = 17.9
    rows = table_rows(result.stdout, "By segment (at risk: risk)")
    assert rows[1] == [
        "ENT", "600", "16.7 %", "0.0 %", "83.3 %", "17.9", "6,272,800.00", "6,172,800.00"
    ]  # fmt: skip


def test_check_data_counts_have_separators(tmp_path: Path) -> None:
    scheme, data = write(tmp_path / "s.yaml", CLI_SCHEME), write(tmp_path / "big.csv", BIG)
    result = invoke("check", scheme, "--data", data)
    assert result.exit_code == 0, result.output
    lines = result.stdout.splitlines()
    assert f"Data {data}: 1,200 rows, 1,200 scorable, 0 rejected" in lines
    assert "Bands: good 200 (16.7%), watch 0 (0.0%), risk 1,000 (83.3%)" in lines
    assert ["0-10", "1,000", "#" * 40] in table_rows(result.stdout, "Score distribution")


def test_json_keeps_the_raw_numbers(tmp_path: Path) -> None:
    scheme, data = write(tmp_path / "s.yaml", CLI_SCHEME), write(tmp_path / "big.csv", BIG)
    result = invoke("score", data, "-s", scheme, "--top", 1, "--json")
    assert '"read": 1200,' in result.stdout
    assert '"value": 12345.6,' in result.stdout


# -- --help: no Python types ------------------------------------------------------------------


@pytest.mark.parametrize("command", COMMANDS)
def test_help_shows_no_python_types(command: str) -> None:
    # typer wrote `--scheme <list[Path]>`, `INPUT <path>`, `--top <int>`, `ID... <list[str]>`
    result = invoke(command, "--help")
    assert result.exit_code == 0, result.output
    for fragment in ("<", "list[", "Path]", "[str]", "[int]", "NoneType"):
        assert fragment not in result.stdout, (command, fragment)


def test_help_names_each_value_plainly() -> None:
    lines = [line.strip() for line in invoke("score", "--help").stdout.splitlines()]
    for start in (
        "INPUT  Customer-signal export",
        "-s, --scheme FILE",
        "-o, --output FILE",
        "--history DIR",
        "--as-of DATE",
        "--top N",
        "--keep COLUMNS",
        "--separator CHAR",
        "--encoding NAME",
        "--na TEXT",
    ):
        assert any(line.startswith(start) for line in lines), start
    history = invoke("history", "--help").stdout.splitlines()
    assert history[0] == "Usage: chs history [OPTIONS] {DIR} [ID]..."
    assert "  ID   Customer ids." in history


# -- output files: 0666 minus the umask, or the mode of the file they replace ---------------


def test_every_output_of_a_run_gets_the_umasks_mode(tmp_path: Path, mini_scheme: Path) -> None:
    data = write(tmp_path / "in.csv", "id,logins,nps,mrr\nC01,12,8,100\nC02,3,x,5\n")
    out, rejects, alerts = tmp_path / "o.csv", tmp_path / "r.csv", tmp_path / "a.parquet"
    history = tmp_path / "h"
    old = tmp_path / "kept.csv"
    old.write_text("last month\n")
    old.chmod(0o600)
    before = os.umask(0o027)
    try:
        result = invoke(
            "score", data, "-s", mini_scheme, "-o", out, "--rejects", rejects, "--alerts", alerts,
            "--history", history, "--as-of", "2026-11-01",
        )  # fmt: skip
        again = invoke("score", data, "-s", mini_scheme, "-o", old, "--rejects", rejects)
    finally:
        os.umask(before)
    assert (result.exit_code, again.exit_code) == (0, 0), result.output + again.output
    snapshot = history / "as_of=2026-11-01" / "scores.parquet"
    modes = [p.stat().st_mode & 0o777 for p in (out, rejects, alerts, snapshot)]
    assert modes == [0o640] * 4  # mkstemp made them 0600
    assert old.stat().st_mode & 0o777 == 0o600  # an overwritten output keeps its mode
    assert pl.read_csv(old)["id"].to_list() == ["C01"]


# -- the progress display: on a terminal only ------------------------------------------------


def test_done_text() -> None:
    assert done_text(1234567, None) == "1,234,567 rows"
    assert done_text(0, 10) == "0 rows"
    assert done_text(None, 12_345_678) == "12.3 MB written"
    assert done_text(None, None) == ""


def terminal() -> tuple[Console, io.StringIO]:
    out = io.StringIO()
    return Console(file=out, force_terminal=True, width=120, no_color=True), out


def test_on_a_terminal_the_display_shows_each_phase_and_the_rows_done(tmp_path: Path) -> None:
    scheme = load_scheme(write(tmp_path / "s.yaml", MINI_SCHEME))
    data = write(tmp_path / "in.csv", "id,logins,nps,mrr\nC01,12,8,100\nC02,3,4,5\nC03,7,6,1\n")
    con, drawn = terminal()
    with progress(f"Scoring {data.name}", err=con):
        score(data, scheme, ScoreOptions(output=tmp_path / "out.csv"))
    text = drawn.getvalue()
    assert "Scoring in.csv" in text
    assert "reading in.csv" in text
    assert "scoring" in text
    assert "writing out.csv" in text
    assert "3 rows" in text  # the output's lines less its header, counted as written
    logger = logging.getLogger(PROGRESS_LOGGER)
    assert (logger.handlers, logger.level, logger.propagate) == ([], logging.NOTSET, True)


def test_a_parquet_output_shows_the_bytes_written(tmp_path: Path) -> None:
    scheme = load_scheme(write(tmp_path / "s.yaml", MINI_SCHEME))
    data = write(tmp_path / "in.csv", "id,logins,nps,mrr\nC01,12,8,100\n")
    out = tmp_path / "out.parquet"
    con, drawn = terminal()
    with progress("Scoring", err=con):
        score(data, scheme, ScoreOptions(output=out))
    size = out.stat().st_size
    assert f"writing out.parquet {done_text(None, size)}" in drawn.getvalue()


def test_not_on_a_terminal_nothing_is_drawn(tmp_path: Path) -> None:
    out = io.StringIO()
    con = Console(file=out, force_terminal=False)
    with progress("Scoring", err=con):
        logging.getLogger(PROGRESS_LOGGER).info("reading in.csv", extra={"rows": 5})
    assert out.getvalue() == ""
    assert logging.getLogger(PROGRESS_LOGGER).handlers == []


def test_cron_sees_nothing_on_stderr(tmp_path: Path, cli_scheme: Path, cli_data: Path) -> None:
    # CliRunner's stderr is not a terminal, as in cron: not a byte of progress (chs check
    # says the scheme's weights are normalised, as it always does)
    out = tmp_path / "out.csv"
    weights = (
        f"{cli_scheme}:4: signal weights sum to 4, not 100; normalised to logins 75.0%, nps 25.0%"
    )
    for args, said in (
        (["score", cli_data, "-s", cli_scheme, "-o", out], ""),
        (["check", cli_scheme, "--data", cli_data], f"Warning: {weights}\n"),
        (["diff", cli_data, cli_data, "-s", cli_scheme], ""),
        (["report", out, "--by", "segment"], ""),
    ):
        result = invoke(*args)
        assert (result.exit_code, result.stderr) == (0, said), args
