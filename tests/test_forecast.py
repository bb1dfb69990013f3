"""`chs forecast` (chs/forecast.py, chs/actions/forecast.py): a 3-band transition matrix
and its projection computed by hand, lifetimes, the what-if, and bad input."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from support import as_json, assert_failed, invoke, write

from chs.actions.forecast import forecast
from chs.forecast import lifetimes, probabilities, project

SCHEME = """\
name: f
id: id
value: mrr
signals:
  x: {column: x, weight: 1, linear: [[0, 0], [100, 100]]}
bands:
  - {name: g, from: 70}
  - {name: o, from: 40}
  - {name: r, from: 0}
"""
# September: g A B C D, o E F, r G H. October: A B stay g, C drops to o, D is lost;
# E rises to g, F drops to r; G stays r, H is lost; I is new (g). Every mrr is 100.
SEGMENT = {"A": "x", "B": "x", "C": "x", "D": "y", "E": "y", "F": "y", "G": "y", "H": "x", "I": "x"}
SEPTEMBER = {"A": 90, "B": 90, "C": 90, "D": 90, "E": 60, "F": 60, "G": 20, "H": 20}
OCTOBER = {"A": 90, "B": 90, "C": 60, "E": 90, "F": 20, "G": 20, "I": 90}


def csv(scores: dict[str, int]) -> str:
    return "id,x,mrr,segment\n" + "".join(f"{k},{v},100,{SEGMENT[k]}\n" for k, v in scores.items())


@pytest.fixture
def history(tmp_path: Path) -> Path:
    scheme = write(tmp_path / "f.yaml", SCHEME)
    folder = tmp_path / "history"
    for as_of, scores in (("2026-09-01", SEPTEMBER), ("2026-10-01", OCTOBER)):
        data = write(tmp_path / f"{as_of}.csv", csv(scores))
        result = invoke("score", data, "-s", scheme, "--history", folder, "--as-of", as_of)
        assert result.exit_code == 0, result.output
    return folder


def test_the_transitions_and_the_projection_by_hand(history: Path) -> None:
    result = invoke("forecast", "--history", history, "--months", "2", "--json")
    assert result.exit_code == 0, result.output
    out = json.loads(result.stdout)
    assert out == as_json(forecast(history, months=2))
    # g: 2 stay, 1 to o, 1 lost; o: 1 to g, 1 to r; r: 1 stays, 1 lost
    assert out["transitions"]["counts"] == {
        "g": {"g": 2, "o": 1, "r": 0, "lost": 1},
        "o": {"g": 1, "o": 0, "r": 1, "lost": 0},
        "r": {"g": 0, "o": 0, "r": 1, "lost": 1},
    }
    assert out["transitions"]["probabilities"]["g"] == {"g": 0.5, "o": 0.25, "r": 0.0, "lost": 0.25}
    # October: g A B E I (4), o C (1), r F G (2). One month on:
    #   g = 4 x .5 + 1 x .5 = 2.5; o = 4 x .25 = 1; r = 1 x .5 + 2 x .5 = 1.5;
    #   lost = 4 x .25 + 2 x .5 = 2 (value 2 x 100).
    # Two months: g = 2.5 x .5 + 1 x .5 = 1.75; o = 2.5 x .25 = .625;
    #   r = 1 x .5 + 1.5 x .5 = 1.25; lost = 2 + 2.5 x .25 + 1.5 x .5 = 3.375
    assert out["start"] == {"g": 4, "o": 1, "r": 2}
    assert out["forecast"] == [
        {"month": 1, "bands": {"g": 2.5, "o": 1.0, "r": 1.5}, "lost": 2.0, "value_lost": 200.0},
        {"month": 2, "bands": {"g": 1.75, "o": 0.625, "r": 1.25}, "lost": 3.375,
         "value_lost": 337.5},
    ]  # fmt: skip
    # t_r = 1 + .5 t_r = 2; t_o = 1 + .5 t_g + .5 t_r; t_g = 1 + .5 t_g + .25 t_o:
    # t_g = 4, t_o = 4; a customer's value is 100, so LTV = 100 x lifetime
    assert out["lifetime"] == {"g": 4.0, "o": 4.0, "r": 2.0}
    assert out["ltv"] == {"g": 400.0, "o": 400.0, "r": 200.0}
    assert out["what_if"] is None


def test_what_if_some_of_a_band_became_another(history: Path) -> None:
    out = forecast(history, months=2, what_if=("r", "g", 0.5))
    # half of r (1 customer) moves to g: g 5, o 1, r 1. Month 1 lost: 5 x .25 + 1 x .5
    # = 1.75, 0.25 fewer than 2. Month 2: g = 3, o = 1.25, r = 1 after one month, so
    # lost = 1.75 + 3 x .25 + 1 x .5 = 3.0, 0.375 fewer than 3.375
    what = out["what_if"]
    assert what is not None
    assert (what["moved"], what["forecast"][1]["lost"]) == (1.0, 3.0)
    assert what["saved"] == [
        {"month": 1, "customers": 0.25, "value": 25.0},
        {"month": 2, "customers": 0.375, "value": 37.5},
    ]


def test_the_table_view(history: Path) -> None:
    result = invoke("forecast", "--history", history, "--months", "1", "--what-if", "r:g=50%")
    assert result.exit_code == 0, result.output
    lines = result.stdout.splitlines()
    assert lines[0] == (
        f"Forecast from 2 snapshots of {history} (2026-09-01 to 2026-10-01, one step = 30 days)"
    )
    assert "| g    | 50.0 % | 25.0 % |  0.0 % | 25.0 % |" in lines
    assert "What if 50 % of r (1.0 customers) became g" in lines
    start = lines.index("Expected customers (from the latest snapshot)")
    assert lines[start + 4] == "|     1 | 2.5 | 1.0 | 1.5 |  2.0 |     200.00 |"


def test_lifetime_of_a_band_never_lost() -> None:
    matrix = probabilities({"a": {"a": 1, "b": 1, "lost": 0}, "b": {"a": 0, "b": 3, "lost": 0}})
    assert lifetimes(matrix) == {"a": None, "b": None}
    steps = project({"a": 2.0, "b": 0.0}, None, matrix, 1)
    assert steps == [{"month": 1, "bands": {"a": 1.0, "b": 1.0}, "lost": 0.0, "value_lost": None}]


def test_one_snapshot_is_not_enough(tmp_path: Path, history: Path) -> None:
    (history / "as_of=2026-10-01" / "scores.parquet").unlink()
    (history / "as_of=2026-10-01").rmdir()
    assert_failed(
        invoke("forecast", "--history", history),
        4,
        f"Error: {history}: a forecast needs at least two snapshots (found 1)",
    )


@pytest.mark.parametrize(
    ("what_if", "message"),
    [
        ("red-green", "--what-if takes FROM:TO=P% with P between 0 and 100, e.g. "
                      "red:green=10% (got 'red-green')"),
        ("r:blue=10%", "--what-if: no band 'blue' in the history (bands: g, o, r)"),
    ],
)  # fmt: skip
def test_a_bad_what_if(history: Path, what_if: str, message: str) -> None:
    assert_failed(
        invoke("forecast", "--history", history, "--what-if", what_if), 2, f"Error: {message}"
    )


@pytest.mark.parametrize("months", ["0", "121"])
def test_months_are_bounded(history: Path, months: str) -> None:
    message = "from 1 to 120 (got 0)" if months == "0" else "from 0 to 120 (got 121)"
    assert_failed(
        invoke("forecast", "--history", history, "--months", months),
        2,
        f"Error: --months must be {message}",
    )


def test_by_a_column_each_group_has_its_own_matrix(history: Path) -> None:
    out = forecast(history, months=1, by="segment")
    assert out["by"] is not None
    groups = {g["value"]: g for g in out["by"]["groups"]}
    # x: September g A B C, r H; October A B g, C o, H lost, I new (g): g 3, o 1.
    #    g: 2 stay, 1 to o (no loss); r: 1 lost. One month on: g 3 x 2/3 + o's 1 stays
    #    (no o row in x's history: it stays where it is) -> g 2, o 1 + 1 = 2, lost 0.
    # y: September g D, o E F, r G; October E g, F r, G r, D lost: g 1, r 2.
    #    g: D lost (1 of 1); o: 1 to g, 1 to r; r: 1 stays. One month on: g 0, lost 1.
    assert groups["x"]["start"] == {"g": 3, "o": 1, "r": 0}
    assert groups["x"]["forecast"][0]["bands"] == {"g": 2.0, "o": 2.0, "r": 0.0}
    assert groups["x"]["forecast"][0]["lost"] == 0.0
    assert groups["y"]["start"] == {"g": 1, "o": 0, "r": 2}
    assert groups["y"]["forecast"][0]["lost"] == 1.0
    assert [g["value"] for g in out["by"]["groups"]] == ["x", "y"]


def test_by_a_column_that_is_not_there(history: Path) -> None:
    result = invoke("forecast", "--history", history, "--by", "region")
    assert result.exit_code == 4
    assert "column 'region' (asked for with --by) not found" in result.stderr
