"""`chs explain` (chs/cli/explain.py): the customer's breakdown, what it takes, --json,
unknown ids. In process through typer's CliRunner (see tests/test_cli.py): stdout and
stderr apart, plain ASCII tables 200 columns wide, no colour. Every file is written
under tmp_path; the repository's sample data is only read.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from support import as_json, invoke, table

from chs.actions.explain import explain
from chs.scheme import load_scheme

ROOT = Path(__file__).resolve().parent.parent
SAMPLE = ROOT / "sample_data" / "customers.csv"
SCHEMES = ROOT / "schemes"
SAAS = SCHEMES / "saas.yaml"


# -- chs explain -------------------------------------------------------------------------------


def test_explain_prints_the_customer_and_what_it_takes() -> None:
    result = invoke("explain", SAMPLE, "C0001", "--scheme", SAAS)
    assert result.exit_code == 0, result.output
    assert result.stderr == ""
    lines = result.stdout.splitlines()
    # C0001: logins 28 (>= 10: 50), premium 57.5 (>= 30: 50), critical 3 (<= 4: 50),
    # nps 4 (>= 0: 50), growth 12 (>= 0: 50): every signal 50 -> 50.0, orange (>= 50).
    # Losses: 30 % x 50 = 15, 25 % x 50 = 12.5, 20 % x 50 = 10 (the top three).
    assert lines[0] == "C0001: score 50.0, band orange, coverage 100.0 %"
    assert lines[1] == "Reasons: logins -15.0; premium_adoption -12.5; critical_tickets -10.0"
    assert table(result.stdout, "Signals") == [
        ["signal", "value", "rule", "points", "weight %", "effective %", "contribution", "lost"],
        ["logins", "28.0", ">= 10", "50.0", "30.0", "30.0", "15.0", "15.0"],
        ["premium_adoption", "57.5", ">= 30", "50.0", "25.0", "25.0", "12.5", "12.5"],
        ["critical_tickets", "3.0", "<= 4", "50.0", "20.0", "20.0", "10.0", "10.0"],
        ["nps", "4.0", ">= 0", "50.0", "15.0", "15.0", "7.5", "7.5"],
        ["usage_growth", "12.0", ">= 0", "50.0", "10.0", "10.0", "5.0", "5.0"],
    ]
    start = lines.index("What it takes (nearest better tier of each signal):")
    # Each signal's next tier gives 100 instead of 50: + weight x 50.
    assert lines[start : start + 7] == [
        "What it takes (nearest better tier of each signal):",
        "  logins 28 -> 40: +15.0 (score 65.0)",
        "  premium_adoption 57.5 -> 70.01: +12.5 (score 62.5)",  # above 70: the next 0.01
        "  critical_tickets 3 -> 1: +10.0 (score 60.0)",
        "  nps 4 -> 31: +7.5 (score 57.5)",  # above 30: the next whole number
        "  usage_growth 12 -> 20: +5.0 (score 55.0)",
        # the best single move gives 65.0, and green needs more than 70
        "No single signal can lift this customer to green.",
    ]


def test_explain_json_is_explain_file() -> None:
    result = invoke("explain", SAMPLE, "C0001", "C0003", "--scheme", SAAS, "--json")
    assert result.exit_code == 0, result.output
    expected = explain(SAMPLE, load_scheme(SAAS), ["C0001", "C0003"])
    assert json.loads(result.stdout) == as_json(expected)
    assert [c["id"] for c in expected["customers"]] == ["C0001", "C0003"]
    assert expected["customers"][0]["score"] == 50.0


@pytest.mark.parametrize(
    ("ids", "message"),
    [
        (["NOPE"], "no customer 'NOPE' in customer_id"),
        (["C0001", "C9999"], "no customer 'C9999' in customer_id; close ids: C0399, C0299, C0199"),
    ],
)
def test_explain_an_unknown_id(ids: list[str], message: str) -> None:
    result = invoke("explain", SAMPLE, *ids, "--scheme", SAAS)
    assert result.exit_code == 4
    assert result.stderr == f"Error: {SAMPLE}: {message}\n"
    assert result.stdout == ""
