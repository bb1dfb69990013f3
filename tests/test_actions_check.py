"""`check_data`: rows, missing shares, histogram and bands of a scheme against a data file."""

from __future__ import annotations

from pathlib import Path

import pytest

from chs.actions.check import check_data
from chs.errors import DATA, DataError
from chs.scheme import parse_scheme

# -- check_data ---------------------------------------------------------------------------

SCHEME = """\
name: t
id: cid
signals:
  logins:
    column: logins
    weight: 3
    points:
      - {at_least: 10, points: 100}
      - {at_least: 5, points: 50}
      - {points: 0}
  plan:
    column: plan
    weight: 1
    map: {pro: 100, basic: 20, starter: 10}
bands:
  - {name: good, from: 70}
  - {name: mid, from: 40}
  - {name: bad, from: 0}
"""


# score = (3 * logins points + 1 * plan points) / 4, or the present signal's points alone
# when the other is missing (policy redistribute).
CUSTOMERS = """\
cid,logins,plan
c1,12,pro
c2,5,pro
c3,0,basic
c4,,basic
c5,7,gold
c6,10,
c7,,pro
c8,5,starter
"""


# row  logins pts  plan pts        score                  band  histogram bin
# c1   12 -> 100   pro 100         (300 + 100) / 4 = 100  good  100 // 10 = 10 -> clipped 9
# c2    5 ->  50   pro 100         (150 + 100) / 4 = 62.5 mid   6
# c3    0 ->   0   basic 20        (0 + 20) / 4 = 5       bad   0
# c4    -          basic 20        20 (plan alone)        bad   2
# c5    7 ->  50   gold: rejected (not in the map, no `other`)
# c6   10 -> 100   -               100 (logins alone)     good  9
# c7    -          pro 100         100 (plan alone)       good  9
# c8    5 ->  50   starter 10      (150 + 10) / 4 = 40    mid   4 (40 is in `from: 40`)


@pytest.fixture
def checked(tmp_path: Path) -> dict:
    data = tmp_path / "customers.csv"
    data.write_text(CUSTOMERS, encoding="utf-8")
    return check_data(parse_scheme(SCHEME, "s.yaml"), data)


def test_check_data_rows(checked: dict) -> None:
    # 8 rows read, c5 rejected
    assert checked["rows"] == {"read": 8, "scored": 7, "rejected": 1}
    assert checked["warnings"] == []


def test_check_data_rejected_sample_names_the_row(checked: dict) -> None:
    assert checked["rejected_sample"] == [
        "row 5 (c5): plan: 'gold' is not in its map (pro, basic, starter) and it has no `other`"
    ]


def test_check_data_missing_shares_and_types(checked: dict) -> None:
    # logins empty in c4 and c7: 2/8 = 0.25; plan empty in c6: 1/8 = 0.125
    assert checked["columns"] == [
        {"signal": "logins", "column": "logins", "type": "Int64", "missing_share": 0.25},
        {"signal": "plan", "column": "plan", "type": "String", "missing_share": 0.125},
    ]


def test_check_data_bands(checked: dict) -> None:
    # good: c1, c6, c7; mid: c2, c8; bad: c3, c4
    assert checked["bands"] == [
        {"band": "good", "customers": 3},
        {"band": "mid", "customers": 2},
        {"band": "bad", "customers": 2},
    ]


def test_check_data_histogram(checked: dict) -> None:
    # bins of 10 points; 100 falls in the last bin (see the table above CUSTOMERS)
    expected = {0: 1, 2: 1, 4: 1, 6: 1, 9: 3}
    assert checked["histogram"] == [
        {"range": f"{i * 10}-{(i + 1) * 10}", "customers": expected.get(i, 0)} for i in range(10)
    ]
    assert sum(b["customers"] for b in checked["histogram"]) == checked["rows"]["scored"]


def test_check_data_expression_signal_and_bad_number(tmp_path: Path) -> None:
    scheme = parse_scheme(
        """\
name: t
id: cid
signals:
  usage:
    expr: a + b
    weight: 1
    linear: [[0, 0], [10, 100]]
  logins:
    column: logins
    weight: 1
    points:
      - {at_least: 1, points: 100}
      - {points: 0}
bands:
  - {name: good, above: 50}
  - {name: bad, from: 0}
""",
        "s.yaml",
    )
    data = tmp_path / "d.csv"
    data.write_text("cid,a,b,logins\nx1,1,2,abc\nx2,4,1,3\nx3,,1,0\n", encoding="utf-8")
    result = check_data(scheme, data)
    # x1: logins 'abc' is not a number -> rejected
    # x2: usage 4+1 = 5 -> 50 points; logins 3 -> 100; (50 + 100) / 2 = 75 -> good, bin 7
    # x3: a is empty so a+b is null -> usage missing; logins 0 -> 0; score 0 -> bad, bin 0
    assert result["rows"] == {"read": 3, "scored": 2, "rejected": 1}
    assert result["rejected_sample"] == [
        "row 1 (x1): logins: 'abc' is not a number (column logins)"
    ]
    # usage has no value in x3: 1/3 = 0.3333. (Whether x1's unparseable 'abc' counts as a
    # missing logins value is left open here: the row is rejected either way.)
    usage, logins = result["columns"]
    assert usage == {
        "signal": "usage",
        "column": "expr a + b",
        "type": "expression",
        "missing_share": 0.3333,
    }
    # 'abc' makes the column text when inferred
    assert (logins["column"], logins["type"]) == ("logins", "String")
    assert result["bands"] == [{"band": "good", "customers": 1}, {"band": "bad", "customers": 1}]
    assert [h["customers"] for h in result["histogram"]] == [1, 0, 0, 0, 0, 0, 0, 1, 0, 0]


def test_check_data_missing_column_suggests_the_closest(tmp_path: Path) -> None:
    data = tmp_path / "customers.csv"
    data.write_text(CUSTOMERS.replace("cid,logins,plan", "cid,login,plan"), encoding="utf-8")
    with pytest.raises(DataError) as info:
        check_data(parse_scheme(SCHEME, "s.yaml"), data)
    assert info.value.exit_code == DATA == 4
    assert info.value.message == (
        f"{data}: column 'logins' (signal logins) not found. Did you mean 'login'? "
        "Columns in the file: cid, login, plan"
    )
