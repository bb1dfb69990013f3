"""Declared column types (`columns:`), whole-file typing, dates and `days_until`, on
exports shaped like HubSpot's and a French Excel's (chs/scheme/column_types.py,
chs/scheme/kinds.py, chs/engine/parsing.py)."""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path

import polars as pl
import pytest
from support import assert_failed, invoke, write

from chs.columns import REASON, ROW
from chs.description import describe
from chs.engine import score_frame
from chs.scheme import load_scheme, parse_scheme

# The example, as written, with an id, a value, an expression and bands.
HUBSPOT = """\
name: hubspot
id: Record ID
value: MRR
columns:
  Premium Adoption: {type: number, percent: true}      # "85%" and "85 %" read as 85
  MRR: {type: number, currency: true}                  # "€1,234.50", "$2,500.00"
  Renewal Date: {type: date, format: "%d/%m/%Y"}
  Create Date: {type: date}
  zip: {type: text}
  Seats: {type: integer, na: ["-", "n/a"]}             # extra missing markers
signals:
  adoption:
    column: Premium Adoption
    weight: 10
    linear: [[0, 0], [100, 100]]
  renewal:
    days_until: Renewal Date       # days from --as-of (default today) to the date
    weight: 10
    points:
      - {at_least: 90, points: 100}
      - {at_least: 30, points: 50}
      - {points: 0}
  seats:
    column: Seats
    weight: 5
    points:
      - {at_least: 10, points: 100}
      - {points: 40}
  tenure:
    expr: 'CURRENT_DATE - "Create Date"'
    weight: 5
    points:
      - {at_least: 365, points: 100}
      - {points: 20}
bands:
  - {name: green, from: 70}
  - {name: yellow, from: 40}
  - {name: red, from: 0}
"""
AS_OF = "2026-12-01"
HEADER = "Record ID,Company,zip,Premium Adoption,MRR,Renewal Date,Create Date,Seats"
# With --as-of 2026-12-01 (weights 10, 10, 5, 5):
# 00123: adoption 85; renewal 2027-03-30 is 30 + 31 + 28 + 30 = 119 days on -> 100;
#        seats 12 -> 100; tenure 2024-05-01 to 2026-12-01 is over 365 days -> 100:
#        (850 + 1000 + 500 + 500) / 30 = 95.0
# 00456: adoption 40; renewal 2026-12-15 is 14 days on -> 0; seats '-' is missing
#        (redistributed); tenure 2026-10-01 to 2026-12-01 is 30 + 31 = 61 days -> 20:
#        (400 + 0 + 100) / 25 = 20.0
# 00789: adoption missing; renewal 2026-01-01 is past -> 0; seats 'n/a' missing;
#        tenure 2025-12-01 to 2026-12-01 is 365 days -> 100: (0 + 500) / 15 = 33.3
FIRST_ROWS = [
    '00123,Acme,01234,85%,"€1,234.50",30/03/2027,2024-05-01,12',
    '00456,"Beta, Inc.\nEMEA",SW1A 1AA,40 %,"$2,500.00",15/12/2026,2026-10-01 09:30,-',
    "00789,Gamma,75001,,€99.00,01/01/2026,2025-12-01,n/a",
]
# 10,000 rows alike: adoption 50, renewal 2027-06-01 (182 days) -> 100, seats 10 ->
# 100, tenure 334 days -> 20: (500 + 1000 + 500 + 100) / 30 = 70.0
FILLER = "F{i:05d},Filler,{i:05d},50%,€10.00,01/06/2027,2026-01-01,10"
# past the first 10,000 rows: a fractional seat count (rejected, as declared an
# integer), and a postcode in zip, carried as written
LATE_ROWS = [
    "X1,Late,SW1A 2AA,50%,€10.00,01/06/2027,2026-01-01,12.5",
    "X2,Later,EC1A 1BB,50%,€10.00,01/06/2027,2026-01-01,10",
]


def hubspot_csv(path: Path) -> Path:
    """A HubSpot-like export: UTF-8 with a BOM, CRLF line ends."""
    rows = [HEADER, *FIRST_ROWS, *(FILLER.format(i=i) for i in range(10_000)), *LATE_ROWS]
    path.write_bytes(b"\xef\xbb\xbf" + "\r\n".join([*rows, ""]).encode())
    return path


@pytest.fixture
def hubspot(tmp_path: Path) -> tuple[Path, Path]:
    return write(tmp_path / "hubspot.yaml", HUBSPOT), hubspot_csv(tmp_path / "export.csv")


def test_a_hubspot_export_scores_as_declared(tmp_path: Path, hubspot: tuple[Path, Path]) -> None:
    scheme, data = hubspot
    out, rejects = tmp_path / "out.parquet", tmp_path / "rejects.csv"
    result = invoke(
        "score", data, "-s", scheme, "-o", out, "--rejects", rejects, "--as-of", AS_OF
    )  # fmt: skip
    assert result.exit_code == 0, result.output
    assert (
        f"Rows: 10,005 read = 10,004 scored + 1 rejected (written to {rejects})"
        in result.stdout.splitlines()
    )
    scored = pl.read_parquet(out)
    assert scored.head(3).select("Record ID", "zip", "MRR", "score", "band").rows() == [
        ("00123", "01234", 1234.5, 95.0, "green"),
        ("00456", "SW1A 1AA", 2500.0, 20.0, "red"),
        ("00789", "75001", 99.0, 33.3, "red"),
    ]
    assert scored["score"][3:-1].unique().to_list() == [70.0]
    assert scored.row(-1, named=True)["zip"] == "EC1A 1BB"
    # declared columns keep their type in Parquet: dates as dates, seats as integers
    assert {c: scored.schema[c] for c in ("Renewal Date", "Create Date", "Seats")} == {
        "Renewal Date": pl.Date,
        "Create Date": pl.Date,
        "Seats": pl.Int64,
    }
    assert scored.row(1, named=True)["Create Date"] == dt.date(2026, 10, 1)
    # the company name, which the scheme does not read, is text as written (a comma
    # and a line break inside its quotes)
    assert scored["Company"].head(3).to_list() == ["Acme", "Beta, Inc.\nEMEA", "Gamma"]
    # row 10,004 (the header is not counted), with its cells as written
    assert pl.read_csv(rejects, infer_schema=False).select(ROW, REASON, "Seats", "MRR").rows() == [
        ("10004", "seats: '12.5' is not a whole number (column Seats)", "12.5", "€10.00")
    ]


def test_days_until_counts_from_the_runs_date(tmp_path: Path, hubspot: tuple[Path, Path]) -> None:
    scheme, data = hubspot
    out = tmp_path / "out.csv"
    # on 2027-03-01 the renewal of 00123 (2027-03-30) is 29 days on: 0 points, and
    # tenure is still over a year: (850 + 0 + 500 + 500) / 30 = 61.7; the renewal's
    # tiers give whole points, written as an integer
    result = invoke(
        "score", data, "-s", scheme, "-o", out, "--as-of", "2027-03-01",
        "--rejects", tmp_path / "r.csv",
    )  # fmt: skip
    assert result.exit_code == 0, result.output
    first = pl.read_csv(out, infer_schema=False).row(0, named=True)
    assert (first["points_renewal"], first["score"]) == ("0", "61.7")


def test_explain_shows_a_days_until_signal_as_of_the_date(
    tmp_path: Path, hubspot: tuple[Path, Path]
) -> None:
    scheme, data = hubspot
    result = invoke("explain", data, "00456", "-s", scheme, "--as-of", AS_OF, "--json")
    assert result.exit_code == 0, result.output
    customer = json.loads(result.stdout)["customers"][0]
    renewal = next(s for s in customer["signals"] if s["signal"] == "renewal")
    assert (renewal["source"], renewal["value"], renewal["points"]) == (
        "days_until Renewal Date",
        14.0,
        0.0,
    )
    assert customer["score"] == 20.0


FRENCH = """\
name: fr
id: Compte
value: MRR
columns:
  MRR: {type: number, currency: true}
  Adoption: {type: number, percent: true}
  Renouvellement: {type: date, format: "%d/%m/%Y"}
signals:
  adoption: {column: Adoption, weight: 1, linear: [[0, 0], [100, 100]]}
  renouvellement:
    days_until: Renouvellement
    weight: 1
    points: [{at_least: 90, points: 100}, {points: 0}]
bands:
  - {name: vert, from: 50}
  - {name: rouge, from: 0}
"""


def test_a_french_excel_export_in_cp1252(tmp_path: Path) -> None:
    # `;`, decimal commas, a no-break space and a space grouping thousands, `€` after
    text = (
        "Compte;Société;MRR;Adoption;Renouvellement\r\n"
        "A1;Crème Brûlée SA;1\u00a0234,50 €;85,5 %;01/03/2027\r\n"
        "A2;Café Noir;2 500,00 €;12 %;15/12/2026\r\n"
    )
    data = tmp_path / "export.csv"
    data.write_bytes(text.encode("cp1252"))
    scheme, out = write(tmp_path / "fr.yaml", FRENCH), tmp_path / "out.parquet"
    result = invoke(
        "score", data, "-s", scheme, "-o", out, "--separator", ";", "--decimal-comma",
        "--encoding", "cp1252", "--as-of", AS_OF,
    )  # fmt: skip
    assert result.exit_code == 0, result.output
    # A1: (85.5 + 100) / 2 = 92.75 -> 92.8 (90 days on); A2: (12 + 0) / 2 = 6.0
    assert pl.read_parquet(out).select("Compte", "Société", "MRR", "score").rows() == [
        ("A1", "Crème Brûlée SA", 1234.5, 92.8),
        ("A2", "Café Noir", 2500.0, 6.0),
    ]


# -- what a cell that does not parse says ---------------------------------------------------

PLAIN = """\
name: t
id: id
signals:
  adoption: {column: adoption, weight: 1, linear: [[0, 0], [100, 100]]}
  mrr: {column: mrr, weight: 1, linear: [[0, 0], [100, 100]]}
bands:
  - {name: high, from: 50}
  - {name: low, from: 0}
"""


def test_a_cell_that_does_not_parse_names_the_setting_that_would_read_it(tmp_path: Path) -> None:
    data = write(
        tmp_path / "d.csv",
        'id,adoption,mrr\nC1,85%,10\nC2,50,"€1,234"\nC3,1,5\nC4,n/a,2\nC5,NaN,nan\nC6,zz,3\n',
    )
    rejects = tmp_path / "r.csv"
    result = invoke("score", data, "-s", write(tmp_path / "s.yaml", PLAIN), "-o",
                    tmp_path / "o.csv", "--rejects", rejects)  # fmt: skip
    assert result.exit_code == 0, result.output
    declare = "; to read it, declare columns: "
    assert pl.read_csv(rejects, infer_schema=False).select(ROW, REASON).rows() == [
        ("1", "adoption: '85%' is not a number (column adoption)"
              + declare + "{adoption: {type: number, percent: true}}"),
        ("2", "mrr: '€1,234' is not a number (column mrr)"
              + declare + "{mrr: {type: number, currency: true}}"),
        ("4", "adoption: 'n/a' is not a number (column adoption); if it means missing, "
              "declare columns: {adoption: {type: number, na: ['n/a']}}"),
        # NaN and nan are missing: C5 has no value at all
        ("5", "no signal has a value"),
        ("6", "adoption: 'zz' is not a number (column adoption)"),
    ]  # fmt: skip


def test_a_decimal_comma_cell_names_decimal_comma(tmp_path: Path) -> None:
    frame = pl.DataFrame({"id": ["a"], "adoption": ["1,5"], "mrr": ["2"]})
    _, rejects = score_frame(frame, parse_scheme(PLAIN))
    assert rejects[REASON].to_list() == [
        "adoption: '1,5' is not a number (column adoption); to read it, declare columns: "
        "{adoption: {type: number, decimal_comma: true}}"
    ]


def test_a_currency_with_a_decimal_comma_names_decimal_comma() -> None:
    scheme = parse_scheme(PLAIN + "columns:\n  mrr: {type: number, currency: true}\n")
    frame = pl.DataFrame(
        {"id": ["a", "b"], "adoption": ["1", "1"], "mrr": ["€1,234.50", "€1.234,50"]}
    )
    scored, rejects = score_frame(frame, scheme)
    assert scored["mrr"].to_list() == [1234.5]
    assert rejects[REASON].to_list() == [
        "mrr: '€1.234,50' is not a number (column mrr); to read it, declare columns: "
        "{mrr: {type: number, currency: true, decimal_comma: true}}"
    ]


def test_a_date_in_another_format_names_format(tmp_path: Path) -> None:
    scheme = parse_scheme(
        "name: t\nid: id\nsignals:\n"
        "  r: {days_since: d, weight: 1, points: [{at_least: 30, points: 100}, {points: 0}]}\n"
        "bands:\n  - {name: a, from: 0}\n"
    )
    frame = pl.DataFrame({"id": ["a", "b"], "d": ["2026-10-01", "30/11/2026"]})
    scored, rejects = score_frame(frame, scheme, as_of=dt.date(2026, 12, 1))
    # 2026-10-01 is 30 + 31 = 61 days before 2026-12-01
    assert scored.select("id", "points_r").rows() == [("a", 100.0)]
    assert rejects[REASON].to_list() == [
        "r: '30/11/2026' is not a date (column d); to read it, declare columns: "
        "{d: {type: date, format: '%d/%m/%Y'}} (or '%m/%d/%Y')"
    ]


# -- dates in conditions --------------------------------------------------------------------


def test_segments_and_alerts_read_dates(tmp_path: Path) -> None:
    scheme = write(
        tmp_path / "s.yaml",
        "name: t\nid: id\n"
        "columns:\n  renewal: {type: date, format: '%d/%m/%Y'}\n"
        "segments:\n"
        "  - name: soon\n"
        '    when: "renewal - CURRENT_DATE < 30"\n'
        "    signals: {x: {column: x, weight: 1, linear: [[0, 0], [10, 100]]}}\n"
        "  - name: later\n"
        "    signals: {x: {column: x, weight: 1, linear: [[0, 0], [100, 100]]}}\n"
        "bands:\n  - {name: high, from: 50}\n  - {name: low, from: 0}\n"
        "alerts:\n"
        "  - {name: renews-this-year, when: \"renewal < '2027-01-01' AND score < 50\", action: call}\n",
    )
    data = write(tmp_path / "d.csv", "id,renewal,x\na,15/12/2026,4\nb,15/03/2027,4\n")
    out, alerts = tmp_path / "o.csv", tmp_path / "alerts.csv"
    result = invoke("score", data, "-s", scheme, "-o", out, "--alerts", alerts,
                    "--as-of", AS_OF)  # fmt: skip
    assert result.exit_code == 0, result.output
    # a renews in 14 days: segment soon, 4 of 10 -> 40.0; b in 104 days: later, 4.0
    rows = pl.read_csv(out, infer_schema=False).select("id", "renewal", "definition", "score")
    assert rows.rows() == [("a", "2026-12-15", "soon", "40.0"), ("b", "2027-03-15", "later", "4.0")]
    assert pl.read_csv(alerts, infer_schema=False)["id"].to_list() == ["a"]


# -- the scheme's mistakes: exit 3 with the line --------------------------------------------


@pytest.mark.parametrize(
    ("declaration", "message"),
    [
        (
            "{type: date, format: '%H:%M'}",
            "a date format takes %d %e %m %b %B %y %Y %j %a %A (got %H in '%H:%M')",
        ),
        ("{type: date, format: '%d/%m'}", "a date format names a day, a month and a year"),
        ("{type: date, percent: true}", "`percent` goes with type number or integer, not date"),
        ("{type: text, format: '%d/%m/%Y'}", "`format` goes with type date, not text"),
        ("{type: money}", "input should be 'number', 'integer', 'date', 'text' or 'boolean'"),
        ("{type: number, percnt: true}", "unknown key 'percnt'; did you mean 'percent'?"),
        ("number", "must be a mapping of keys, such as {type: number} (got 'number')"),
    ],
)
def test_a_bad_declaration_is_a_scheme_error_at_its_line(
    tmp_path: Path, declaration: str, message: str
) -> None:
    scheme = write(
        tmp_path / "s.yaml",
        f"name: t\nid: id\ncolumns:\n  d: {declaration}\n"
        "signals:\n  x: {column: x, weight: 1, linear: [[0, 0], [1, 100]]}\n"
        "bands:\n  - {name: a, from: 0}\n",
    )
    result = invoke("check", scheme)
    assert result.exit_code == 3, result.output
    assert result.stderr.startswith(f"Error: {scheme}:4: columns.d")
    assert message in result.stderr


def test_a_column_read_two_ways_must_be_declared(tmp_path: Path) -> None:
    scheme = write(
        tmp_path / "s.yaml",
        "name: t\nid: id\nsignals:\n"
        "  a: {column: plan, weight: 1, map: {pro: 100}, other: 0}\n"
        '  b: {expr: "plan / 2", weight: 1, linear: [[0, 0], [1, 100]]}\n'
        "bands:\n  - {name: a, from: 0}\n",
    )
    data = write(tmp_path / "d.csv", "id,plan\nC1,pro\n")
    out = tmp_path / "o.csv"
    result = invoke("score", data, "-s", scheme, "-o", out)
    assert_failed(
        result,
        3,
        f"Error: {scheme}:4: column 'plan' is read as text (signal a) and as number "
        "(the expression of signal b); declare how to read it: columns: {plan: {type: ...}}",
        out,
    )


def test_a_cast_that_fails_on_a_value_is_the_schemes_error(tmp_path: Path) -> None:
    scheme = write(
        tmp_path / "s.yaml",
        "name: t\nid: id\nsignals:\n"
        '  p:\n    expr: "CAST(plan AS INT) + 1"\n    weight: 1\n    points: [{points: 1}]\n'
        "bands:\n  - {name: a, from: 0}\n",
    )
    data = write(tmp_path / "d.csv", "id,plan\nC1,1\nC2,Pro\n")
    out = tmp_path / "o.csv"
    assert_failed(
        invoke("score", data, "-s", scheme, "-o", out),
        3,
        f"Error: {scheme}:5: signals.p.expr: the expression cannot be evaluated on {data}: "
        "conversion from `str` to `i32` failed in column 'plan' for 1 out of 2 values; "
        "TRY_CAST reads a value that does not convert as missing",
        out,
    )


def test_an_expression_that_cannot_be_planned_is_the_schemes_error(tmp_path: Path) -> None:
    # text times a number: no value can make it work, whatever the file holds
    scheme = write(
        tmp_path / "s.yaml",
        "name: t\nid: id\ncolumns:\n  plan: {type: text}\nsignals:\n"
        '  p:\n    expr: "plan * 2"\n    weight: 1\n    points: [{points: 1}]\n'
        "bands:\n  - {name: a, from: 0}\n",
    )
    data = write(tmp_path / "d.csv", "id,plan\nC1,pro\n")
    result = invoke("check", scheme, "--data", data)
    assert result.exit_code == 3, result.output
    assert result.stderr.startswith(
        f"Error: {scheme}:7: the expression of signal p cannot be evaluated on {data}: "
    )


def test_the_declarations_are_bounded(tmp_path: Path) -> None:
    markers = ", ".join(f"m{i}" for i in range(21))
    scheme = write(
        tmp_path / "s.yaml",
        f"name: t\nid: id\ncolumns:\n  d: {{type: number, na: [{markers}]}}\n"
        "signals:\n  x: {column: x, weight: 1, linear: [[0, 0], [1, 100]]}\n"
        "bands:\n  - {name: a, from: 0}\n",
    )
    result = invoke("check", scheme)
    assert result.exit_code == 3
    assert result.stderr.startswith(
        f"Error: {scheme}:4: columns.d.na: too many missing markers: 21; the limit is 20\n"
    )


def test_a_scheme_without_columns_keeps_its_digest() -> None:
    # `columns`, `days_until` and `days_since` are left out of the digest when unset
    plain = parse_scheme(PLAIN)
    declared = parse_scheme(PLAIN + "columns:\n  adoption: {type: number}\n")
    assert plain.digest != declared.digest
    assert plain.digest == parse_scheme(PLAIN.replace("name: t", "name: t\n")).digest


def test_check_shows_the_declared_columns(hubspot: tuple[Path, Path]) -> None:
    scheme, _ = hubspot
    result = invoke("check", scheme)
    assert result.exit_code == 0, result.output
    lines = result.stdout.splitlines()
    start = lines.index("Columns")
    assert lines[start + 2 : start + 10] == [
        "| column           | type    | reading          |",
        "|------------------+---------+------------------|",
        "| Premium Adoption | number  | percent          |",
        "| MRR              | number  | currency         |",
        "| Renewal Date     | date    | format %d/%m/%Y  |",
        "| Create Date      | date    | ISO (YYYY-MM-DD) |",
        "| zip              | text    | as written       |",
        "| Seats            | integer | na: -, n/a       |",
    ]
    assert "| renewal  | days_until Renewal Date " in result.stdout
    described = json.loads(invoke("check", scheme, "--json").stdout)
    assert described["columns"][0] == {
        "column": "Premium Adoption",
        "type": "number",
        "reading": "percent",
    }
    assert described["columns"] == describe(load_scheme(scheme))["columns"]


# -- found in review: dates, roles, previous files, Excel blank rows --------------------------


def test_an_alert_reads_a_date_column_it_alone_uses(tmp_path: Path) -> None:
    # last_login is read by the alert only: a date from its use, never a rejected row
    scheme = write(
        tmp_path / "s.yaml",
        "name: t\nid: id\nsignals:\n  s: {column: n, weight: 1, linear: [[0, 0], [100, 100]]}\n"
        "bands:\n  - {name: a, from: 0}\nalerts:\n"
        "  - {name: idle, when: 'CURRENT_DATE - last_login > 30', action: call}\n"
        "  - {name: tuesday, when: \"DATE_PART('dow', last_login) = 2\", action: call}\n",
    )
    data = write(tmp_path / "a.csv", "id,n,last_login\na,10,2026-09-15\nb,20,2026-10-06\nc,30,\n")
    out, alerts = tmp_path / "out.parquet", tmp_path / "alerts.csv"
    result = invoke("score", data, "-s", scheme, "-o", out, "--alerts", alerts,
                    "--as-of", "2026-11-01")  # fmt: skip
    assert result.exit_code == 0, result.output
    # a: 2026-09-15 is 47 days before 2026-11-01 (b's 2026-10-06, 26 days); both are
    # Tuesdays (2026-01-01 is a Thursday, and 257 and 278 days later are Tuesdays)
    fired = pl.read_csv(alerts).select("id", "alert").rows()
    assert fired == [("a", "idle"), ("a", "tuesday"), ("b", "tuesday")]
    assert pl.read_parquet(out).schema["last_login"] == pl.Date


def test_date_arithmetic_on_columns_read_as_dates_from_their_use(tmp_path: Path) -> None:
    scheme = parse_scheme(
        "name: t\nid: id\nsignals:\n"
        "  s:\n    expr: \"CASE WHEN renewal + 7 > DATE '2026-12-01' THEN 100 ELSE 0 END\"\n"
        "    weight: 1\n    points: [{at_least: 50, points: 100}, {points: 0}]\n"
        "  t:\n    expr: '(renewal + 7) - CURRENT_DATE'\n    weight: 1\n"
        "    points: [{at_least: 30, points: 100}, {points: 0}]\n"
        "bands:\n  - {name: a, from: 0}\n"
    )
    frame = pl.DataFrame({"id": ["a", "b"], "renewal": ["2026-11-28", "2026-11-20"]})
    scored, rejects = score_frame(frame, scheme, as_of=dt.date(2026, 11, 1))
    # a: 2026-12-05 > 2026-12-01, and 34 days after 2026-11-01; b: 2026-11-27, 26 days
    assert scored.select("id", "points_s", "points_t").rows() == [
        ("a", 100.0, 100.0),
        ("b", 0.0, 0.0),
    ]
    assert rejects.height == 0


@pytest.mark.parametrize(
    ("declaration", "signal", "message"),
    [
        (
            "when: {type: number}",
            "r: {days_until: when, weight: 1, points: [{points: 1}]}",
            "columns.when: declared number, but signal r reads it as date",
        ),
        (
            "n: {type: date}",
            "r: {column: n, weight: 1, linear: [[0, 0], [1, 100]]}",
            "columns.n: declared date, but signal r reads it as number (number or integer "
            "or boolean)",
        ),
    ],
)
def test_a_declaration_that_its_role_cannot_read(
    tmp_path: Path, declaration: str, signal: str, message: str
) -> None:
    scheme = write(
        tmp_path / "s.yaml",
        f"name: t\nid: id\ncolumns:\n  {declaration}\nsignals:\n  {signal}\n"
        "bands:\n  - {name: a, from: 0}\n",
    )
    assert_failed(invoke("check", scheme), 3, f"Error: {scheme}:4: {message}")


def test_check_alone_finds_a_column_read_two_ways(tmp_path: Path) -> None:
    scheme = write(
        tmp_path / "s.yaml",
        "name: t\nid: id\nsignals:\n"
        "  a: {column: plan, weight: 1, map: {pro: 100}, other: 0}\n"
        '  b: {expr: "plan / 2", weight: 1, linear: [[0, 0], [1, 100]]}\n'
        "bands:\n  - {name: a, from: 0}\n",
    )
    result = invoke("check", scheme)
    assert result.exit_code == 3
    assert result.stderr.startswith(f"Error: {scheme}:4: column 'plan' is read as text")


def test_a_raw_previous_file_is_scored_as_of_the_run(tmp_path: Path) -> None:
    scheme = write(
        tmp_path / "s.yaml",
        "name: t\nid: id\nsignals:\n  s: {column: n, weight: 1, linear: [[0, 0], [100, 100]]}\n"
        "  r: {days_until: renewal, weight: 1, points: [{at_least: 30, points: 100}, {points: 0}]}\n"
        "bands:\n  - {name: a, from: 0}\n",
    )
    data = write(tmp_path / "h.csv", "id,n,renewal\na,10,2027-01-01\nb,20,2026-12-01\n")
    out = tmp_path / "out.csv"
    result = invoke("score", data, "-s", scheme, "-o", out, "--as-of", "2026-11-01",
                    "--previous", data)  # fmt: skip
    assert result.exit_code == 0, result.output
    # the same file as of the same date: nothing moved (as of today, b's renewal would
    # be past and its previous score lower)
    assert pl.read_csv(out).select("id", "delta").rows() == [("a", 0.0), ("b", 0.0)]


def test_undeclared_columns_the_scheme_reads_keep_their_type(tmp_path: Path) -> None:
    scheme = write(
        tmp_path / "s.yaml",
        "name: t\nid: id\nsignals:\n  s: {column: n, weight: 1, linear: [[0, 0], [100, 100]]}\n"
        "  r: {days_until: renewal, weight: 1, points: [{points: 1}]}\n"
        "bands:\n  - {name: a, from: 0}\n",
    )
    # n has a bad cell: read as text, its scored rows are still numbers in the output
    data = write(tmp_path / "h.csv", "id,n,renewal\na,10,2027-01-01\nb,abc,2026-12-01\n")
    out = tmp_path / "out.parquet"
    result = invoke("score", data, "-s", scheme, "-o", out, "--rejects", tmp_path / "r.csv")
    assert result.exit_code == 0, result.output
    scored = pl.read_parquet(out)
    assert (scored.schema["n"], scored.schema["renewal"]) == (pl.Float64, pl.Date)
    assert scored.select("id", "n", "renewal").rows() == [("a", 10.0, dt.date(2027, 1, 1))]


def test_a_declared_date_format_is_not_suggested_again() -> None:
    scheme = parse_scheme(
        "name: t\nid: id\ncolumns:\n  d: {type: date, format: '%d/%m/%Y'}\nsignals:\n"
        "  r: {days_since: d, weight: 1, points: [{points: 1}]}\nbands:\n  - {name: a, from: 0}\n"
    )
    frame = pl.DataFrame({"id": ["a", "b"], "d": ["11/30/2026", "5.12.2026"]})
    _, rejects = score_frame(frame, scheme)
    declare = "; to read it, declare columns: {d: {type: date, format: "
    assert rejects[REASON].to_list() == [
        f"r: '11/30/2026' is not a date (column d){declare}'%m/%d/%Y'}}}}",
        f"r: '5.12.2026' is not a date (column d){declare}'%d.%m.%Y'}}}} (or '%m.%d.%Y')",
    ]
