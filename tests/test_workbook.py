"""Excel inputs (chs/workbook.py): a sheet by name or number, the scheme's columns read
as text and parsed as a CSV's, the other columns with their cells' types, and rows
numbered as Excel shows them. The workbooks are written here with xlsxwriter."""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path

import polars as pl
import pytest
import xlsxwriter
from support import assert_failed, invoke, write

from chs.columns import REASON, ROW

SCHEME = """\
name: xl
id: Account
value: MRR
columns:
  Adoption: {type: number, percent: true}
  Renewal: {type: date, format: "%d/%m/%Y"}
signals:
  adoption: {column: Adoption, weight: 1, linear: [[0, 0], [100, 100]]}
  renewal:
    days_until: Renewal
    weight: 1
    points: [{at_least: 90, points: 100}, {points: 0}]
bands:
  - {name: green, from: 50}
  - {name: red, from: 0}
"""


def workbook(path: Path) -> Path:
    """Two sheets: `Notes` first, then `Accounts`, whose cells are what people type: a
    number id, an id with leading zeros as text, a real date and a date typed as text,
    a percentage typed as text, and a text cell among numbers (`n/a` in MRR)."""
    book = xlsxwriter.Workbook(path)
    book.add_worksheet("Notes").write(0, 0, "read me")
    sheet = book.add_worksheet("Accounts")
    day = book.add_format({"num_format": "dd/mm/yyyy"})
    sheet.write_row(0, 0, ["Account", "Owner", "MRR", "Adoption", "Renewal", "Seats"])
    sheet.write_row(1, 0, [1001, "Ann", 1234.5, "85%"])
    sheet.write_datetime(1, 4, dt.datetime(2027, 3, 1), day)
    sheet.write_number(1, 5, 12)
    sheet.write_row(2, 0, ["00042", "Bob", 99, "12 %", "15/12/2026", 3])
    sheet.write_row(3, 0, ["C3", "Cy", "n/a", "50%", "01/06/2027", 7])
    book.close()
    return path


@pytest.fixture
def book(tmp_path: Path) -> tuple[Path, Path]:
    return write(tmp_path / "s.yaml", SCHEME), workbook(tmp_path / "accounts.xlsx")


def test_a_sheet_scores_as_a_csv_would(tmp_path: Path, book: tuple[Path, Path]) -> None:
    scheme, data = book
    out, rejects = tmp_path / "out.parquet", tmp_path / "rejects.csv"
    result = invoke("score", data, "-s", scheme, "--sheet", "Accounts", "-o", out,
                    "--rejects", rejects, "--as-of", "2026-12-01")  # fmt: skip
    assert result.exit_code == 0, result.output
    scored = pl.read_parquet(out)
    # 1001: adoption 85, renewal 2027-03-01 is 30 + 31 + 31 + 28 = 90 days on -> 100:
    # (85 + 100) / 2 = 92.5; 00042: 12, 14 days -> 0: 6.0
    assert scored.select("Account", "MRR", "Adoption", "Renewal", "score").rows() == [
        ("1001", 1234.5, 85.0, dt.date(2027, 3, 1), 92.5),
        ("00042", 99.0, 12.0, dt.date(2026, 12, 15), 6.0),
    ]
    # a column the scheme does not read keeps its cells' type
    assert scored.schema["Seats"] == pl.Int64 and scored["Owner"].to_list() == ["Ann", "Bob"]
    # C3 is on row 4 of the sheet (the header is row 1), as Excel shows it
    assert pl.read_csv(rejects, infer_schema=False).select(ROW, REASON, "MRR").rows() == [
        ("4", "MRR: 'n/a' is not a number (the value column); if it means missing, "
              "declare columns: {MRR: {type: number, na: ['n/a']}}", "n/a"),
    ]  # fmt: skip


@pytest.mark.parametrize("sheet", ["2", "Accounts"])
def test_the_sheet_by_number_or_name(tmp_path: Path, book: tuple[Path, Path], sheet: str) -> None:
    scheme, data = book
    result = invoke("explain", data, "00042", "-s", scheme, "--sheet", sheet,
                    "--as-of", "2026-12-01", "--json")  # fmt: skip
    assert result.exit_code == 0, result.output
    assert json.loads(result.stdout)["customers"][0]["score"] == 6.0


def test_the_first_sheet_by_default(tmp_path: Path, book: tuple[Path, Path]) -> None:
    scheme, data = book
    out = tmp_path / "out.csv"
    result = invoke("score", data, "-s", scheme, "-o", out)
    assert_failed(
        result,
        4,
        f"Error: {data}: column 'Account' (the scheme's id) not found. Columns in the file: "
        "read me",
        out,
    )


@pytest.mark.parametrize(
    ("sheet", "message"),
    [
        ("3", "there is no sheet 3; the workbook has 2: 'Notes', 'Accounts'"),
        ("Acounts", "no sheet named 'Acounts'; the workbook's sheets: 'Notes', 'Accounts'"),
    ],
)
def test_a_sheet_that_is_not_there(
    tmp_path: Path, book: tuple[Path, Path], sheet: str, message: str
) -> None:
    scheme, data = book
    result = invoke("check", scheme, "--data", data, "--sheet", sheet)
    assert_failed(result, 4, f"Error: {data}: {message}")


def test_check_data_counts_the_sheets_rows(book: tuple[Path, Path]) -> None:
    scheme, data = book
    result = invoke("check", scheme, "--data", data, "--sheet", "Accounts", "--json")
    assert result.exit_code == 4
    rows = json.loads(result.stdout)["data"]["rows"]
    assert (rows["read"], rows["scored"], rows["rejected"]) == (3, 2, 1)


def test_a_blank_row_is_skipped_and_the_rows_keep_their_numbers(tmp_path: Path) -> None:
    path = tmp_path / "gap.xlsx"
    book = xlsxwriter.Workbook(path)
    sheet = book.add_worksheet()
    sheet.write_row(0, 0, ["id", "n"])
    sheet.write_row(1, 0, ["a", 10])
    sheet.write_row(3, 0, ["b", 20])  # row 3 is blank
    sheet.write_row(4, 0, ["c", "bad"])
    book.close()
    scheme = write(
        tmp_path / "g.yaml",
        "name: g\nid: id\nsignals:\n  n: {column: n, weight: 1, linear: [[0, 0], [100, 100]]}\n"
        "bands:\n  - {name: a, from: 0}\n",
    )
    rejects = tmp_path / "r.csv"
    result = invoke("score", path, "-s", scheme, "-o", tmp_path / "o.csv", "--rejects", rejects)
    assert result.exit_code == 0, result.output
    assert "Rows: 3 read = 2 scored + 1 rejected" in result.stdout
    assert pl.read_csv(rejects).select(ROW, "id").rows() == [(5, "c")]
    explained = invoke("explain", path, "b", "-s", scheme, "--json")
    assert json.loads(explained.stdout)["customers"][0]["score"] == 20.0
