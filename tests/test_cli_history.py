"""`chs history` (chs/cli/history.py): the portfolio per snapshot, customers over time,
--json, errors. In process through typer's CliRunner (see tests/test_cli.py): stdout and
stderr apart, plain ASCII tables 200 columns wide, no colour. Every file is written
under tmp_path; the repository's sample data is only read.
"""

from __future__ import annotations

import io
import json
from pathlib import Path

import pytest
from rich.console import Console
from support import assert_failed, invoke, table_rows

from chs.actions import history as history_action
from chs.cli import render

# -- chs history -------------------------------------------------------------------------------


@pytest.fixture
def history(tmp_path: Path, mini_scheme: Path, last_csv: Path, this_csv: Path) -> Path:
    directory = tmp_path / "h"
    for data, as_of in ((last_csv, "2026-10-01"), (this_csv, "2026-11-01")):
        result = invoke("score", data, "-s", mini_scheme, "--history", directory, "--as-of", as_of)
        assert result.exit_code == 0, result.output
    return directory


PORTFOLIO_TITLE = "Portfolio per snapshot ({})"


# October: 95 + 52.5 + 10 + 80 + 37.5 = 275 / 5 = 55.0; good 2, watch 1, risk 2.
# November: 95 + 90 + 47.5 + 5 + 62.5 = 300 / 5 = 60.0; good 2, watch 2, risk 1.
PORTFOLIO = [
    ["as of", "customers", "mean score", "good", "watch", "risk"],
    ["2026-10-01", "5", "55.0", "2", "1", "2"],
    ["2026-11-01", "5", "60.0", "2", "2", "1"],
]


def test_history_portfolio_and_biggest_falls(history: Path) -> None:
    result = invoke("history", history)
    assert result.exit_code == 0, result.output
    assert result.stderr == ""
    assert table_rows(result.stdout, PORTFOLIO_TITLE.format(history)) == PORTFOLIO
    # Customers in both snapshots: C04 -75, C01 0, C02 +37.5, C03 +37.5; only a fall is
    # listed, so C04 alone. Piped, no sparkline: the output is plain ASCII.
    assert table_rows(result.stdout, "Scores over time") == [
        ["id", "2026-10-01", "2026-11-01", "band now"],
        ["C04", "80.0", "5.0", "risk"],
    ]
    assert result.stdout.isascii()


def test_history_on_a_terminal_draws_a_sparkline(history: Path) -> None:
    # Trend: one of ▁▂▃▄▅▆▇█ per score, index int(score / 100 * 8): 80 -> 6 ▇, 5 -> 0 ▁.
    out = io.StringIO()
    con = Console(file=out, force_terminal=True, no_color=True, width=120)
    render.history(con, history_action.history(history, [], top=1))
    assert "│ C04 │ ▇▁    │       80.0 │        5.0 │ risk     │" in out.getvalue().splitlines()


def test_history_of_given_customers(history: Path) -> None:
    result = invoke("history", history, "C06", "C05")
    assert result.exit_code == 0, result.output
    assert table_rows(result.stdout, PORTFOLIO_TITLE.format(history)) == PORTFOLIO
    # C06 arrived in November; C05 left after October.
    assert table_rows(result.stdout, "Scores over time") == [
        ["id", "2026-10-01", "2026-11-01", "band now"],
        ["C06", "", "62.5", "watch"],
        ["C05", "37.5", "", ""],
    ]
    lines = result.stdout.splitlines()
    assert "| C06 |            |       62.5 | watch    |" in lines
    # on a terminal: 62.5 -> index 5 ▆, a blank where there is no score; 37.5 -> 3 ▄
    out = io.StringIO()
    con = Console(file=out, force_terminal=True, no_color=True, width=120)
    render.history(con, history_action.history(history, ["C06", "C05"]))
    assert "│ C06 │  ▆    │            │       62.5 │ watch    │" in out.getvalue().splitlines()
    assert "│ C05 │ ▄     │       37.5 │            │          │" in out.getvalue().splitlines()


def test_history_unknown_id_suggests_close_ids(history: Path) -> None:
    result = invoke("history", history, "C01", "c04")
    assert_failed(result, 4, f"Error: {history}: customer 'c04' is in no snapshot; close ids: C04")


def test_history_of_an_empty_folder(tmp_path: Path) -> None:
    empty = tmp_path / "empty"
    empty.mkdir()
    result = invoke("history", empty)
    assert_failed(
        result,
        4,
        f"Error: {empty}: no snapshot (as_of=YYYY-MM-DD/scores.parquet) in the history folder",
    )


def test_history_json_equals_the_library(history: Path) -> None:
    result = invoke("history", history, "C01", "C06", "--json")
    assert result.exit_code == 0, result.output
    assert result.stderr == ""
    cli = json.loads(result.stdout)
    assert cli == history_action.history(history, ["C01", "C06"])
    assert [(s["as_of"], s["customers"], s["mean"]) for s in cli["snapshots"]] == [
        ("2026-10-01", 5, 55.0),
        ("2026-11-01", 5, 60.0),
    ]
    assert [s["bands"] for s in cli["snapshots"]] == [
        {"good": 2, "watch": 1, "risk": 2},
        {"good": 2, "watch": 2, "risk": 1},
    ]
    assert cli["bands"] == ["good", "watch", "risk"]
    assert [(c["id"], c["scores"], c["bands"]) for c in cli["customers"]] == [
        ("C01", [95.0, 95.0], ["good", "good"]),
        ("C06", [None, 62.5], [None, "watch"]),
    ]


def test_history_refuses_a_negative_top(history: Path) -> None:
    # as score and diff do: a negative count of customers is a usage error (exit 2)
    message = "Error: --top must be from 0 to 1,000,000 (got -1)"
    assert_failed(invoke("history", history, "--top", "-1"), 2, message)


def test_history_refuses_a_top_too_large(history: Path) -> None:
    # it was `Internal error: OverflowError` (exit 1)
    message = "Error: --top must be from 0 to 1,000,000 (got 99999999999999999999)"
    assert_failed(invoke("history", history, "--top", "99999999999999999999"), 2, message)
