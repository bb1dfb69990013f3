"""`chs check`: `describe` (effective weights, rules, band ranges) and `check_data`
(rows, missing shares, histogram and bands against a data file)."""

from __future__ import annotations

from pathlib import Path

import pytest

from chs.actions.check import check_data
from chs.description import band_ranges, describe
from chs.errors import DATA, DataError
from chs.scheme import load_scheme, parse_scheme

ROOT = Path(__file__).resolve().parent.parent
SCHEMES = ROOT / "schemes"
SIMPLE_CRM = SCHEMES / "simple-crm.yaml"
SAAS = SCHEMES / "saas.yaml"
EXAMPLE = SCHEMES / "example.yaml"


# -- describe -----------------------------------------------------------------------------


@pytest.fixture(scope="module")
def crm() -> dict:
    return describe(load_scheme(SIMPLE_CRM))


def test_describe_group_shares(crm: dict) -> None:
    # group weights 35 + 20 + 15 + 15 + 15 = 100, so shares equal weights
    assert [(g["name"], g["weight"], g["share"]) for g in crm["groups"]] == [
        ("usage", 35.0, 35.0),
        ("support", 20.0, 20.0),
        ("purchase", 15.0, 15.0),
        ("marketing", 15.0, 15.0),
        ("satisfaction", 15.0, 15.0),
    ]
    assert crm["groups"][0]["label"] == "Product usage"


def test_describe_signal_shares(crm: dict) -> None:
    # share = group share x signal weight / sum of the group's signal weights
    expected = {
        "logins": 14.0,  # 35 % x 40/100
        "feature_adoption": 14.0,  # 35 % x 40/100
        "reporting_module": 7.0,  # 35 % x 20/100
        "tickets": 8.0,  # 20 % x 40/100
        "resolution": 6.0,  # 20 % x 30/100
        "feedback": 6.0,  # 20 % x 30/100
        "renewals": 9.0,  # 15 % x 60/100
        "upsell": 6.0,  # 15 % x 40/100
        "email_opens": 5.0,  # 15 % x 1/3
        "email_clicks": 5.0,  # 15 % x 1/3
        "webinars": 5.0,  # 15 % x 1/3
        "nps_rating": 10.0,  # 15 % x 2/3
        "negative_feedback": 5.0,  # 15 % x 1/3
    }
    assert {s["name"]: s["share"] for s in crm["signals"]} == expected
    assert sum(expected.values()) == 100.0
    logins = crm["signals"][0]
    assert (logins["group"], logins["source"], logins["kind"], logins["weight"]) == (
        "usage",
        "column logins_week",
        "tiers",
        40.0,
    )
    assert logins["missing"] == "redistribute"


def test_describe_rules_for_tiers_linear_and_map(crm: dict) -> None:
    rules = {s["name"]: s["rules"] for s in crm["signals"]}
    assert rules["logins"] == [
        {"when": ">= 5", "points": 100.0},
        {"when": ">= 3", "points": 75.0},
        {"when": ">= 1", "points": 40.0},
        {"when": "any other value", "points": 0.0},
    ]
    assert rules["tickets"] == [
        {"when": "<= 1", "points": 100.0},
        {"when": "<= 3", "points": 75.0},
        {"when": "<= 6", "points": 30.0},
        {"when": "any other value", "points": 0.0},
    ]
    assert rules["feature_adoption"] == [
        {"when": "<= 20", "points": 0.0},
        {"when": "20 to 80", "points": "0 to 100"},
        {"when": ">= 80", "points": 100.0},
    ]
    # no `other`: an unlisted category rejects the row
    assert rules["reporting_module"] == [
        {"when": "= yes", "points": 100.0},
        {"when": "= no", "points": 0.0},
        {"when": "any other", "points": "row rejected"},
    ]
    assert rules["upsell"] == [
        {"when": "= 1", "points": 100.0},
        {"when": "= 0", "points": 50.0},
        {"when": "any other", "points": "row rejected"},
    ]


def test_describe_rules_with_other_and_several_linear_segments() -> None:
    signals = {s["name"]: s for s in describe(load_scheme(EXAMPLE))["signals"]}
    assert signals["plan"]["rules"] == [
        {"when": "= enterprise", "points": 100.0},
        {"when": "= pro", "points": 70.0},
        {"when": "= starter", "points": 40.0},
        {"when": "any other", "points": 0.0},
    ]
    assert signals["usage_growth"]["rules"] == [
        {"when": "<= -20", "points": 0.0},
        {"when": "-20 to 0", "points": "0 to 50"},
        {"when": "0 to 20", "points": "50 to 100"},
        {"when": ">= 20", "points": 100.0},
    ]
    assert signals["usage_growth"]["source"] == "expr usage_growth_yoy_pct"
    # no groups: shares are weight / 100 for weights 30, 20, 10, 40
    assert [s["share"] for s in signals.values()] == [30.0, 20.0, 10.0, 40.0]
    assert describe(load_scheme(EXAMPLE))["groups"] is None


def test_describe_band_ranges(crm: dict) -> None:
    assert crm["bands"] == [
        {"band": "ambassador", "color": "blue", "range": "91 <= score <= 100"},
        {"band": "engaged", "color": "green", "range": "71 <= score < 91"},
        {"band": "alert", "color": "yellow", "range": "41 <= score < 71"},
        {"band": "critical", "color": "red", "range": "0 <= score < 41"},
    ]


def test_band_ranges_with_above() -> None:
    # saas: green `above: 70`, orange `from: 50`, red `from: 0`; 70 itself is orange
    assert [b["range"] for b in band_ranges(load_scheme(SAAS))] == [
        "70 < score <= 100",
        "50 <= score <= 70",
        "0 <= score < 50",
    ]


def test_describe_header_and_warnings(crm: dict) -> None:
    scheme = load_scheme(SIMPLE_CRM)
    assert crm["scheme"] == {
        "name": "simple-crm",
        "hash": scheme.digest,
        "description": "Five weighted categories (customer health score strategy article)",
        "id": "customer_id",
        "value": "mrr",
        "missing": "redistribute",
        "source": str(SIMPLE_CRM),
    }
    # notes first (marketing 1+1+1 = 3, satisfaction 2+1 = 3), then tier warnings (none)
    assert crm["warnings"] == scheme.notes + scheme.warnings
    assert len(crm["warnings"]) == 2
    assert crm["warnings"][0].endswith(
        "group 'marketing' signal weights sum to 3, not 100; "
        "normalised to email_opens 33.3%, email_clicks 33.3%, webinars 33.3%"
    )


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
