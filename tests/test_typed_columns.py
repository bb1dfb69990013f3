"""Expressions over columns held as text (chs/engine/plan.py `typed_reading`).

The scheme's number columns are read with the type Polars finds over the whole file
(files.py `open_input(typed=...)`): a column with a bad value anywhere is text, so that
the bad value rejects one row. An expression (a signal's `expr`, a segment's `when`)
that reads such a column reads the number it holds, null where there is none: it saw
text once, and `mrr / 10` failed the whole file (`division with 'String' datatypes is
not allowed`).
"""

from __future__ import annotations

from pathlib import Path

import polars as pl
import pytest
from support import invoke, write

from chs.columns import REASON, ROW
from chs.engine import build_plan
from chs.scheme import parse_scheme

# b reads the value column through an expression, logins is read as a column:
#   score = (b points + logins points) / 2, b points = mrr / 10, logins points = 10 * logins
SCHEME = """\
name: t
id: id
value: mrr
signals:
  b: {expr: "mrr / 10", weight: 50, linear: [[0, 0], [100, 100]]}
  logins: {column: logins, weight: 50, linear: [[0, 0], [10, 100]]}
bands:
  - {name: high, from: 50}
  - {name: low, from: 0}
"""
# C1: (10 + 30) / 2 = 20.0, C2: (20 + 50) / 2 = 35.0
DATA = "id,mrr,logins\nC1,100,3\nC2,200,5\n"
INFERRED = 10_000  # rows Polars once read to infer the types (now it reads them all)


def long_data(bad_row: int, column: str, value: str) -> str:
    """10,003 rows of C<n>,100,3 (score 20.0) but `bad_row`, whose `column` is `value`:
    a row past the ones the types are inferred from."""
    rows = [{"id": f"C{n}", "mrr": "100", "logins": "3"} for n in range(1, INFERRED + 4)]
    rows[bad_row - 1][column] = value
    return "id,mrr,logins\n" + "".join(f"{r['id']},{r['mrr']},{r['logins']}\n" for r in rows)


@pytest.fixture
def scheme(tmp_path: Path) -> Path:
    return write(tmp_path / "s.yaml", SCHEME)


def test_check_data_evaluates_an_expression_over_the_value_column(
    tmp_path: Path, scheme: Path
) -> None:
    data = write(tmp_path / "d.csv", DATA)
    result = invoke("check", scheme, "--data", data)
    assert result.exit_code == 0, result.output
    assert result.stderr == ""
    lines = result.stdout.splitlines()
    assert f"Data {data}: 2 rows, 2 scorable, 0 rejected" in lines
    assert "| b      | expr mrr / 10 | expression |   0.0 % |" in lines
    assert lines[-1] == "Bands: high 0 (0.0%), low 2 (100.0%)"


def test_explain_evaluates_an_expression_over_the_value_column(
    tmp_path: Path, scheme: Path
) -> None:
    data = write(tmp_path / "d.csv", DATA)
    result = invoke("explain", data, "C2", "-s", scheme)
    assert result.exit_code == 0, result.output
    assert result.stderr == ""
    lines = result.stdout.splitlines()
    assert lines[0] == "C2: score 35.0, band low, coverage 100.0 %"
    # the expression's value is the number 200 / 10
    assert lines[6] == (
        "| b      |  20.0 | 0 to 100 |   20.0 |     50.0 |        50.0 |         10.0 | 40.0 |"
    )


def test_score_on_the_typed_path_is_unchanged(tmp_path: Path, scheme: Path) -> None:
    data = write(tmp_path / "d.csv", DATA)
    out = tmp_path / "out.csv"
    result = invoke("score", data, "-s", scheme, "-o", out)
    assert result.exit_code == 0, result.output
    assert "Rows: 2 read = 2 scored + 0 rejected" in result.stdout.splitlines()
    assert pl.read_csv(out).select("id", "mrr", "points_b", "score").rows() == [
        ("C1", 100, 10.0, 20.0),
        ("C2", 200, 20.0, 35.0),
    ]


def test_score_of_a_bad_value_past_the_first_rows_rejects_only_its_row(
    tmp_path: Path, scheme: Path
) -> None:
    # `x` in logins past the rows types were once inferred from: logins is text (the
    # whole file was read for its type), and the expression reads mrr as a number
    data = write(tmp_path / "d.csv", long_data(INFERRED + 2, "logins", "x"))
    out, rejects = tmp_path / "out.csv", tmp_path / "rej.csv"
    result = invoke("score", data, "-s", scheme, "-o", out, "--rejects", rejects)
    assert result.exit_code == 0, result.output
    lines = result.stdout.splitlines()
    assert f"Rows: 10,003 read = 10,002 scored + 1 rejected (written to {rejects})" in lines
    scored = pl.read_csv(out)
    assert scored.height == 10_002
    assert scored["score"].unique().to_list() == [20.0]
    assert scored["points_b"].unique().to_list() == [10.0]
    assert pl.read_csv(rejects).select(ROW, REASON).rows() == [
        (10_002, "logins: 'x' is not a number (column logins)")
    ]


def test_one_bad_value_in_the_first_rows_rejects_that_row(tmp_path: Path, scheme: Path) -> None:
    # `oops` makes mrr text when inferred: the value check rejects the row, and the
    # expression reads mrr as that check parses it (null there), not as text
    data = write(tmp_path / "d.csv", "id,mrr,logins\nC1,100,3\nC2,oops,5\nC3,300,1\n")
    out, rejects = tmp_path / "out.csv", tmp_path / "rej.csv"
    result = invoke("score", data, "-s", scheme, "-o", out, "--rejects", rejects)
    assert result.exit_code == 0, result.output
    lines = result.stdout.splitlines()
    assert f"Rows: 3 read = 2 scored + 1 rejected (written to {rejects})" in lines
    # C3: (30 + 10) / 2 = 20.0
    assert pl.read_csv(out).select("id", "mrr", "score").rows() == [
        ("C1", 100.0, 20.0),
        ("C3", 300.0, 20.0),
    ]
    assert pl.read_csv(rejects).select(ROW, REASON, "mrr").rows() == [
        (2, "mrr: 'oops' is not a number (the value column)", "oops")
    ]


def test_one_bad_value_past_the_first_rows_rejects_that_row(tmp_path: Path, scheme: Path) -> None:
    data = write(tmp_path / "d.csv", long_data(INFERRED + 3, "mrr", "oops"))
    out, rejects = tmp_path / "out.csv", tmp_path / "rej.csv"
    result = invoke("score", data, "-s", scheme, "-o", out, "--rejects", rejects)
    assert result.exit_code == 0, result.output
    lines = result.stdout.splitlines()
    assert f"Rows: 10,003 read = 10,002 scored + 1 rejected (written to {rejects})" in lines
    assert pl.read_csv(out)["score"].unique().to_list() == [20.0]
    assert pl.read_csv(rejects).select(ROW, REASON).rows() == [
        (10_003, "mrr: 'oops' is not a number (the value column)")
    ]


def test_check_data_counts_the_row_an_expression_cannot_read(tmp_path: Path, scheme: Path) -> None:
    data = write(tmp_path / "d.csv", "id,mrr,logins\nC1,100,3\nC2,oops,5\nC3,300,1\n")
    result = invoke("check", scheme, "--data", data)
    assert result.exit_code == 4
    lines = result.stdout.splitlines()
    start = lines.index(f"Data {data}: 3 rows, 2 scorable, 1 rejected")
    assert lines[start + 1] == "  row 2 (C2): mrr: 'oops' is not a number (the value column)"
    assert result.stderr == f"Error: {data}: 1 of 3 rows cannot be scored\n"


# -- the plan itself: the types an expression sees -----------------------------------------

SEGMENTED = """\
name: t
id: id
value: mrr
segments:
  - name: big
    when: "mrr >= 150 AND logins > 2"
    signals:
      b: {expr: "mrr / 10", weight: 1, linear: [[0, 0], [100, 100]]}
  - name: rest
    signals:
      logins: {column: logins, weight: 1, linear: [[0, 0], [10, 100]]}
bands:
  - {name: high, from: 50}
  - {name: low, from: 0}
"""


def text_frame() -> pl.LazyFrame:
    """A frame of text, as a CSV column with a bad value is read."""
    return pl.LazyFrame(
        {
            "id": ["a", "b", "c", "d"],
            "mrr": ["100", " 200", "300", "1.5"],
            "logins": ["3", "5", "x", "7"],
        }
    )


def test_an_expression_reads_a_text_column_as_the_number_it_holds() -> None:
    plan = build_plan(text_frame(), parse_scheme(SEGMENTED), source="t")
    scored, rejects = pl.collect_all([plan.scored, plan.rejects])
    # a: 100 < 150 -> rest, logins 3 -> 30; b: 200 and 5 -> big, 200 / 10 = 20;
    # d: 1.5 < 150 -> rest, logins 7 -> 70
    assert scored.select("id", "definition", "score").rows() == [
        ("a", "rest", 30.0),
        ("b", "big", 20.0),
        ("d", "rest", 70.0),
    ]
    # c: logins `x` is null for the condition (not big), and its own check rejects it
    assert rejects.select(ROW, REASON).rows() == [
        (3, "logins: 'x' is not a number (column logins)"),
    ]


def test_the_value_is_read_as_a_number_whatever_its_first_rows_hold() -> None:
    scheme = parse_scheme(
        SCHEME.replace('  b: {expr: "mrr / 10", weight: 50, linear: [[0, 0], [100, 100]]}\n', "")
    )
    plan = build_plan(text_frame(), scheme, source="t")
    scored = plan.scored.collect()
    assert scored.select("id", "mrr").rows() == [("a", 100.0), ("b", 200.0), ("d", 1.5)]


def test_a_fraction_past_the_first_rows_of_whole_numbers_is_scored(
    tmp_path: Path, scheme: Path
) -> None:
    # logins is whole numbers for 10,003 rows but 12.5 in row 10,002: read with the type
    # of the first rows, the pass fails there, and the run reads the file again with the
    # type of the whole file (a number): the row is scored, not rejected
    data = write(tmp_path / "d.csv", long_data(INFERRED + 2, "logins", "12.5"))
    out = tmp_path / "out.csv"
    result = invoke("score", data, "-s", scheme, "-o", out)
    assert result.exit_code == 0, result.output
    assert "Rows: 10,003 read = 10,003 scored + 0 rejected" in result.stdout.splitlines()
    row = pl.read_csv(out).filter(pl.col("id") == f"C{INFERRED + 2}").row(0, named=True)
    # (10 + min(10 * 12.5, 100)) / 2 = (10 + 100) / 2 = 55.0
    assert (row["logins"], row["score"]) == (12.5, 55.0)
