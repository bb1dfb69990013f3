"""`chs check`: `describe` (effective weights, rules, band ranges) and `check_data`
(rows, missing shares, histogram and bands against a data file)."""

from __future__ import annotations

from pathlib import Path

import pytest

from chs.description import band_ranges, describe
from chs.scheme import load_scheme

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
