"""`chs explain`: per-signal breakdown, what it takes to move up, the next band.

Expected numbers come from the schemes' tiers worked by hand (in comments); every
"what it takes" target is checked by rescoring a one-row copy of the customer with the
signal changed, through `score_frame`, not by trusting explain's own figures.
"""

from __future__ import annotations

from pathlib import Path

import polars as pl
import pytest
from explaining import ROOT, SAAS, SAMPLE, explain_one, one, rescore

from chs.actions.explain import explain
from chs.explanation import better_moves, linear_value_for, matched_rule
from chs.scheme import load_scheme, parse_scheme

CRM = load_scheme(ROOT / "schemes" / "simple-crm.yaml")


def by_signal(customer: dict) -> dict[str, dict]:
    return {s["signal"]: s for s in customer["signals"]}


# --- saas.yaml, C0001 -------------------------------------------------------------------
# logins 28 (>= 10: 50), premium_adoption 57.5 (>= 30: 50), critical_tickets 3 (<= 4: 50),
# nps 4 (>= 0: 50), usage_growth 12 (>= 0: 50): every signal at 50 points, nothing
# missing, so score = 50 and the effective weights are the nominal 30/25/20/15/10.
# contribution = weight% * points / 100; lost = weight% * (100 - points) / 100.
C0001_SAAS = {
    #  signal: (value, rule, points, effective weight, contribution, lost)
    "logins": (28.0, ">= 10", 50.0, 30.0, 15.0, 15.0),
    "premium_adoption": (57.5, ">= 30", 50.0, 25.0, 12.5, 12.5),
    "critical_tickets": (3.0, "<= 4", 50.0, 20.0, 10.0, 10.0),
    "nps": (4.0, ">= 0", 50.0, 15.0, 7.5, 7.5),
    "usage_growth": (12.0, ">= 0", 50.0, 10.0, 5.0, 5.0),
}


# The nearest better tier of each signal, and its gain = weight% * (100 - 50) / 100:
C0001_MOVES = [
    # (signal, column, text, new value, new score)
    ("logins", "logins_month", "logins 28 -> 40: +15.0", 40, 65.0),  # at_least 40
    # above 70 on a decimal value: one step of 0.01 past the bound
    (
        "premium_adoption",
        "premium_adoption_pct",
        "premium_adoption 57.5 -> 70.01: +12.5",
        70.01,
        62.5,
    ),
    ("critical_tickets", "critical_tickets_q", "critical_tickets 3 -> 1: +10.0", 1, 60.0),
    ("nps", "nps", "nps 4 -> 31: +7.5", 31, 57.5),  # above 30 on whole numbers: 31
    ("usage_growth", "usage_growth_yoy_pct", "usage_growth 12 -> 20: +5.0", 20.0, 55.0),
]


def test_saas_c0001_signals():
    c = explain_one(SAMPLE, SAAS, "C0001")
    assert c["scored"] is True
    assert c["score"] == 50.0
    assert c["band"] == "orange"  # 50 <= 50 <= 70
    assert c["coverage"] == 1.0
    assert c["groups"] is None
    assert c["other_scores"] == {}
    got = {
        s["signal"]: (
            s["value"],
            s["rule"],
            s["points"],
            s["effective_weight"],
            s["contribution"],
            s["lost"],
        )
        for s in c["signals"]
    }
    assert got == C0001_SAAS
    assert [s["signal"] for s in c["signals"]] == list(C0001_SAAS)
    assert [s["weight"] for s in c["signals"]] == [30.0, 25.0, 20.0, 15.0, 10.0]
    assert all(s["missing"] is False and s["max_points"] == 100.0 for s in c["signals"])
    assert sum(s["contribution"] for s in c["signals"]) == pytest.approx(50.0)


def test_saas_c0001_what_it_takes_verified_by_rescoring():
    c = explain_one(SAMPLE, SAAS, "C0001")
    row = one("C0001")
    assert [t["text"] for t in c["what_it_takes"]] == [m[2] for m in C0001_MOVES]
    for take, (signal, column, _, value, expected) in zip(
        c["what_it_takes"], C0001_MOVES, strict=True
    ):
        assert take["signal"] == signal
        assert take["to"] == pytest.approx(value)
        new = rescore(SAAS, row, column, value)
        assert new == expected  # computed in the comments above
        assert take["score"] == new
        assert take["gain"] == round(new - 50.0, 1)


def test_saas_c0001_no_single_move_reaches_green():
    c = explain_one(SAMPLE, SAAS, "C0001")
    assert c["next_band"] == "green"  # above 70
    assert c["to_next_band"] is None
    # Even the best value of each signal alone gives at most 50 + 15 = 65 <= 70.
    row = one("C0001")
    best = {
        "logins_month": 50,
        "premium_adoption_pct": 100.0,
        "critical_tickets_q": 0,
        "nps": 100,
        "usage_growth_yoy_pct": 50.0,
    }
    scores = {col: rescore(SAAS, row, col, v) for col, v in best.items()}
    assert scores == {
        "logins_month": 65.0,
        "premium_adoption_pct": 62.5,
        "critical_tickets_q": 60.0,
        "nps": 57.5,
        "usage_growth_yoy_pct": 55.0,
    }
    assert max(scores.values()) <= 70


# --- a missing signal (redistribute) ------------------------------------------------------
# C0016: logins 65 (>= 40: 100), premium_adoption 38.8 (>= 30: 50), critical_tickets 2
# (<= 4: 50), nps missing, usage_growth -14.2 (decline: 0). nps drops out: the other
# weights share 30 + 25 + 20 + 10 = 85.
# score = (30*100 + 25*50 + 20*50 + 10*0) / 85 = 5250 / 85 = 61.76 -> 61.8 (orange)
def test_missing_signal_redistributes_weight():
    c = explain_one(SAMPLE, SAAS, "C0016")
    assert c["score"] == 61.8
    assert c["band"] == "orange"
    assert c["coverage"] == 0.85  # 85 of the nominal 100
    sig = by_signal(c)
    # effective weights: 30/85 = 35.29 %, 25/85 = 29.41 %, 20/85 = 23.53 %, 10/85 = 11.76 %
    assert {k: v["effective_weight"] for k, v in sig.items()} == {
        "logins": 35.29,
        "premium_adoption": 29.41,
        "critical_tickets": 23.53,
        "nps": 0.0,
        "usage_growth": 11.76,
    }
    # contributions: 3000/85 = 35.29, 1250/85 = 14.71, 1000/85 = 11.76, 0, 0
    assert {k: v["contribution"] for k, v in sig.items()} == {
        "logins": 35.29,
        "premium_adoption": 14.71,
        "critical_tickets": 11.76,
        "nps": 0.0,
        "usage_growth": 0.0,
    }
    assert sum(v["contribution"] for v in sig.values()) == pytest.approx(61.8, abs=0.05)
    nps = sig["nps"]
    assert nps["value"] is None and nps["points"] is None
    assert nps["missing"] is True
    assert nps["rule"] == "no value"
    assert nps["weight"] == 15.0 and nps["lost"] == 0.0
    # No move for the missing signal; the others are rescored with nps still missing.
    assert [t["signal"] for t in c["what_it_takes"]] == [
        "premium_adoption",
        "critical_tickets",
        "usage_growth",
    ]
    row = one("C0016")
    # premium 70.01 -> 100 points: (3000+2500+1000)/85 = 76.47 -> 76.5
    # critical 1 -> 100 points: (3000+1250+2000)/85 = 73.53 -> 73.5
    # usage_growth 0 (nearest better tier, 14.2 away; 20 is 34.2 away) -> 50 points:
    #   (3000+1250+1000+500)/85 = 67.65 -> 67.6
    expected = {
        "premium_adoption": ("premium_adoption_pct", 70.01, 76.5),
        "critical_tickets": ("critical_tickets_q", 1, 73.5),
        "usage_growth": ("usage_growth_yoy_pct", 0.0, 67.6),
    }
    for take in c["what_it_takes"]:
        column, value, score = expected[take["signal"]]
        assert take["to"] == pytest.approx(value)
        new = rescore(SAAS, row, column, value)
        assert new == score
        assert take["score"] == new and take["gain"] == round(new - 61.8, 1)
    # Both premium and critical gain 50 points and reach green; the tie goes by name.
    assert c["next_band"] == "green"
    band = c["to_next_band"]
    assert (band["band"], band["signal"], band["from"], band["to"], band["score"]) == (
        "green",
        "critical_tickets",
        2.0,
        1.0,
        73.5,
    )
    assert band["text"] == "critical_tickets 2 -> 1 reaches green (73.5)"


# --- simple-crm.yaml (groups), C0001 ------------------------------------------------------
# usage (35): logins 7.4 (>= 5: 100) w40, feature_adoption 30.5 (linear 20..80:
#   (30.5-20)/60*100 = 17.5) w40, reporting yes (100) w20 -> (4000+700+2000)/100 = 67.0
# support (20): tickets 1 (100), resolution 15.8 (100), feedback positive (100) -> 100
# purchase (15): renewals 6 (100) w60, upsell 0 (50) w40 -> (6000+2000)/100 = 80.0
# marketing (15): opens 16.1 (0), clicks 11.9 (100), webinars 0 (0) -> 100/3 = 33.3
# satisfaction (15): nps_rating 5 (40) w2, negative_feedback 0 (100) w1 -> 180/3 = 60.0
# score = .35*67 + .20*100 + .15*80 + .15*33.33 + .15*60 = 23.45+20+12+5+9 = 69.45
#   -> 69.5, alert (41 <= x < 71); the next band, engaged, starts at 71.
def test_crm_c0001_groups():
    c = explain_one(SAMPLE, CRM, "C0001")
    assert c["score"] == 69.5
    assert c["band"] == "alert"
    assert c["next_band"] == "engaged"
    groups = {
        g["group"]: (g["score"], g["effective_weight"], g["contribution"], g["lost"])
        for g in c["groups"]
    }
    assert groups == {
        "usage": (67.0, 35.0, 23.45, 11.55),  # .35*67, .35*33
        "support": (100.0, 20.0, 20.0, 0.0),
        "purchase": (80.0, 15.0, 12.0, 3.0),
        "marketing": (33.3, 15.0, 5.0, 10.0),  # .15*33.33 = 5, .15*66.67 = 10
        "satisfaction": (60.0, 15.0, 9.0, 6.0),
    }
    # A signal's effective weight is group weight * its share in the group:
    # feature_adoption 35 * 40/100 = 14 %, nps_rating 15 * 2/3 = 10 %, webinars 15/3 = 5 %.
    sig = by_signal(c)
    assert sig["feature_adoption"]["effective_weight"] == 14.0
    assert sig["feature_adoption"]["points"] == pytest.approx(17.5)
    assert sig["feature_adoption"]["rule"] == "20 to 80"
    assert sig["reporting_module"]["rule"] == "= yes"
    assert sig["nps_rating"]["effective_weight"] == 10.0
    assert sig["webinars"]["effective_weight"] == 5.0
    assert sig["email_opens"]["rule"] == "any other value"


def test_crm_c0001_score_for_next_band():
    c = explain_one(SAMPLE, CRM, "C0001")
    need = {g["group"]: g["score_for_next_band"] for g in c["groups"]}
    # The score is written rounded half up, so 70.95 is the lowest score written as 71.
    # usage alone: 67 + (70.95 - 69.45) / 0.35 = 67 + 4.2857 = 71.29 -> 71.3 (one decimal
    # up). Check: .35 * 71.3 = 24.955, 69.45 - 23.45 + 24.955 = 70.955 -> 71.0 (engaged),
    # whereas .35 * 71.2 = 24.92 gives 70.92 -> 70.9 (still alert).
    assert need["usage"] == 71.3
    assert round(69.45 - 0.35 * 67 + 0.35 * 71.3 + 1e-9, 1) == 71.0
    assert round(69.45 - 0.35 * 67 + 0.35 * 71.2, 1) == 70.9
    # purchase: 80 + 1.5/.15 = 90.0; marketing: 33.33 + 10 = 43.33 -> 43.4;
    # satisfaction: 60 + 10 = 70.0; support is already at 100: nothing to gain.
    assert need == {
        "usage": 71.3,
        "support": None,
        "purchase": 90.0,
        "marketing": 43.4,
        "satisfaction": 70.0,
    }


def test_crm_c0001_to_next_band_verified_by_rescoring():
    c = explain_one(SAMPLE, CRM, "C0001")
    band = c["to_next_band"]
    assert (band["band"], band["signal"], band["from"], band["to"]) == (
        "engaged",
        "feature_adoption",
        30.5,
        36.93,
    )
    assert band["score"] == 71.0
    assert band["text"] == "feature_adoption 30.5 -> 36.93 reaches engaged (71.0)"
    row = one("C0001")
    # 36.93 -> (36.93-20)/60*100 = 28.217 points; 69.45 + .14*(28.217-17.5) = 70.950 -> 71.0
    assert rescore(CRM, row, "feature_adoption_pct", 36.93) == 71.0
    # one step less is not enough: 36.92 -> 28.2 points -> 70.948 -> 70.9
    assert rescore(CRM, row, "feature_adoption_pct", 36.92) == 70.9


def test_crm_c0001_what_it_takes_verified_by_rescoring():
    c = explain_one(SAMPLE, CRM, "C0001")
    row = one("C0001")
    # gain = effective weight * points gained:
    # feature_adoption -> 80 (breakpoint, 100 pts): .14 * 82.5 = 11.55 -> 81.0
    # upsell 0 -> 1 (100 pts): .06 * 50 = 3 -> 72.45 -> 72.5
    # email_opens 16.1 -> 20 (50 pts): .05 * 50 = 2.5 -> 71.95 -> 72.0
    # webinars 0 -> 1 (100 pts): .05 * 100 = 5 -> 74.45 -> 74.5
    # nps_rating 5 -> 7 (80 pts): .10 * 40 = 4 -> 73.45 -> 73.5
    expected = [
        ("feature_adoption 30.5 -> 80: +11.5", "feature_adoption_pct", 80.0, 81.0),
        ("upsell 0 -> 1: +3.0", "upsell_last_year", 1, 72.5),
        ("email_opens 16.1 -> 20: +2.5", "email_open_rate_pct", 20.0, 72.0),
        ("webinars 0 -> 1: +5.0", "webinars_quarter", 1, 74.5),
        ("nps_rating 5 -> 7: +4.0", "nps_rating", 7, 73.5),
    ]
    assert [t["text"] for t in c["what_it_takes"]] == [e[0] for e in expected]
    for take, (_, column, value, score) in zip(c["what_it_takes"], expected, strict=True):
        new = rescore(CRM, row, column, value)
        assert new == score
        assert take["score"] == new
    best = {g["group"]: g["best_move"] for g in c["groups"]}
    assert best == {
        "usage": "feature_adoption 30.5 -> 80: +11.5",
        "support": None,
        "purchase": "upsell 0 -> 1: +3.0",
        "marketing": "webinars 0 -> 1: +5.0",  # +5.0 beats email_opens' +2.5
        "satisfaction": "nps_rating 5 -> 7: +4.0",
    }


# --- small inline schemes ------------------------------------------------------------------
# Two equal signals with strict bounds: score = (points_x + points_y) / 2.
STRICT = """\
name: strict
id: id
signals:
  x: {column: x, weight: 1, points: [{above: 10, points: 100}, {points: 0}]}
  y: {column: y, weight: 1, points: [{above: 2.5, points: 100}, {points: 0}]}
  z: {column: z, weight: 1, points: [{below: 3, points: 100}, {points: 0}]}
bands:
  - {name: high, from: 60}
  - {name: low, from: 0}
"""


def write(tmp_path: Path, text: str, name: str = "in.csv") -> Path:
    path = tmp_path / name
    path.write_text(text)
    return path


def test_strict_bound_targets_one_step_past(tmp_path):
    scheme = parse_scheme(STRICT)
    # a: whole numbers -> x 5 -> 11 (> 10), z 7 -> 2 (< 3);
    # y's bound 2.5 is a decimal -> 1 -> 2.51. b: x 5.5 is a decimal -> 10.01.
    path = write(tmp_path, "id,x,y,z\na,5,1,7\nb,5.5,1,7\n")
    result = explain(path, scheme, ["a", "b"])
    a, b = result["customers"]
    assert a["score"] == 0.0 and a["band"] == "low"
    assert [(t["signal"], t["to"], t["rule"]) for t in a["what_it_takes"]] == [
        ("x", 11.0, "> 10"),
        ("y", 2.51, "> 2.5"),
        ("z", 2.0, "< 3"),
    ]
    assert a["what_it_takes"][0]["text"] == "x 5 -> 11: +33.3"
    assert (b["what_it_takes"][0]["signal"], b["what_it_takes"][0]["to"]) == ("x", 10.01)
    assert b["what_it_takes"][0]["text"] == "x 5.5 -> 10.01: +33.3"
    frame = pl.read_csv(path)
    row_a, row_b = frame[0:1], frame[1:2]
    # each move gives one signal 100 points: 100/3 = 33.3
    for column, value in (("x", 11), ("y", 2.51), ("z", 2)):
        assert rescore(scheme, row_a, column, value) == 33.3
    assert rescore(scheme, row_b, "x", 10.01) == 33.3
    # one step short stays at 0 points: 10 is not > 10, 2.5 not > 2.5, 3 not < 3
    for column, value in (("x", 10), ("y", 2.5), ("z", 3)):
        assert rescore(scheme, row_a, column, value) == 0.0
    # no single move reaches high (>= 60): 33.3 < 60
    assert a["next_band"] == "high" and a["to_next_band"] is None


MAP = """\
name: mapped
id: id
signals:
  tier: {column: tier, weight: 1, map: {gold: 100, silver: 70, bronze: 40}, other: 0}
bands:
  - {name: high, from: 60}
  - {name: low, from: 0}
"""


def test_map_signal_nearest_better_category(tmp_path):
    scheme = parse_scheme(MAP)
    path = write(tmp_path, "id,tier\na,bronze\nb,tin\nc,gold\n")
    a, b, c = explain(path, scheme, ["a", "b", "c"])["customers"]
    # bronze (40): silver (+30) is nearer than gold (+60)
    assert a["signals"][0]["rule"] == "= bronze"
    assert [(t["to"], t["rule"], t["text"]) for t in a["what_it_takes"]] == [
        ("silver", "= silver", "tier bronze -> silver: +30.0")
    ]
    # an unlisted category gets `other` (0): bronze (+40) is nearest
    assert b["signals"][0]["rule"] == "any other"
    assert [t["to"] for t in b["what_it_takes"]] == ["bronze"]
    # gold is the best already: nothing to take, and high is the top band
    assert c["what_it_takes"] == [] and c["next_band"] is None and c["to_next_band"] is None
    frame = pl.read_csv(path)
    assert rescore(scheme, frame[0:1], "tier", "silver") == 70.0
    assert rescore(scheme, frame[1:2], "tier", "bronze") == 40.0
    # to reach high (>= 60) from bronze the smallest gain is silver (70)
    assert a["to_next_band"]["signal"] == "tier" and a["to_next_band"]["to"] == "silver"
    assert a["to_next_band"]["score"] == 70.0
    moves = better_moves(scheme.flat_signals()[0], "bronze", 40.0)
    assert [(m.value, m.label) for m in moves] == [("silver", "= silver"), ("gold", "= gold")]


LINEAR = """\
name: lin
id: id
signals:
  x: {column: x, weight: 1, linear: [[0, 0], [50, 60], [100, 100]]}
bands:
  - {name: top, from: 90}
  - {name: mid, from: 50}
  - {name: low, from: 0}
"""


def test_linear_signal_nearest_breakpoint(tmp_path):
    scheme = parse_scheme(LINEAR)
    path = write(tmp_path, "id,x\na,20\nb,100\n")
    a, b = explain(path, scheme, ["a", "b"])["customers"]
    # 20 -> 20/50*60 = 24 points; breakpoints above 24: 50 (60) nearer than 100 (100)
    assert a["score"] == 24.0 and a["band"] == "low"
    assert a["signals"][0]["rule"] == "0 to 50"
    [take] = a["what_it_takes"]
    assert (take["to"], take["rule"], take["text"]) == (50.0, "breakpoint 50", "x 20 -> 50: +36.0")
    frame = pl.read_csv(path)
    assert rescore(scheme, frame[0:1], "x", 50.0) == 60.0
    # the next band, mid (>= 50): the exact value on the line, 50 - 0.049 -> 49.951 points
    # -> x = 49.951 * 50/60 = 41.63; rescored: 41.63 * 60/50 = 49.956 -> 50.0
    band = a["to_next_band"]
    assert (band["band"], band["to"], band["score"]) == ("mid", 41.63, 50.0)
    assert rescore(scheme, frame[0:1], "x", 41.63) == 50.0
    assert rescore(scheme, frame[0:1], "x", 41.62) == 49.9
    # already at the top: no move, no next band
    assert b["score"] == 100.0 and b["band"] == "top"
    assert b["signals"][0]["rule"] == ">= 100"
    assert b["what_it_takes"] == []
    assert b["next_band"] is None and b["to_next_band"] is None


def test_linear_helpers():
    sig = parse_scheme(LINEAR).flat_signals()[0].signal
    assert linear_value_for(sig, 30.0, 10.0) == pytest.approx(25.0)  # 30 * 50/60
    assert linear_value_for(sig, 80.0, 60.0) == pytest.approx(75.0)  # 50 + 20 * 50/40
    assert matched_rule(sig, -5.0) == "<= 0"
    assert matched_rule(sig, 70.0) == "50 to 100"
    assert matched_rule(sig, 120.0) == ">= 100"
    assert matched_rule(sig, None) is None


def test_top_band_has_no_next_band():
    c = explain_one(SAMPLE, SAAS, "C0003")
    # logins 80 (100), premium 41.6 (50), critical 0 (100), nps missing, growth 20.9 (100):
    # (3000 + 1250 + 2000 + 1000) / 85 = 85.29 -> 85.3, green: the top band
    assert c["score"] == 85.3 and c["band"] == "green"
    assert c["next_band"] is None
    assert c["to_next_band"] is None
    # premium 41.6 -> 70.01 still gains: 8500 / 85 = 100
    assert [t["text"] for t in c["what_it_takes"]] == ["premium_adoption 41.6 -> 70.01: +14.7"]
    assert rescore(SAAS, one("C0003"), "premium_adoption_pct", 70.01) == 100.0


PEAK = """\
name: peak
id: id
signals:
  x: {column: x, weight: 1, linear: [[0, 0], [50, 100], [100, 0]]}
bands:
  - {name: mid, from: 50}
  - {name: low, from: 0}
"""


def test_linear_peak_to_next_band_takes_the_nearer_side(tmp_path):
    # A peaked line (an ideal value at 50). x = 90 -> (100-90)*2 = 20 points, low.
    # mid needs a score written >= 50, i.e. 49.95+ points: on the falling side
    # x = 100 - 49.951/2 = 75.02 (a change of 14.98); on the rising side x = 24.98 (a
    # change of 65.02, across the peak). The smallest change is 75.02.
    scheme = parse_scheme(PEAK)
    path = write(tmp_path, "id,x\na,90\n")
    [c] = explain(path, scheme, ["a"])["customers"]
    assert c["score"] == 20.0
    row = pl.read_csv(path)
    assert rescore(scheme, row, "x", 75.02) == 50.0  # (100 - 75.02) * 2 = 49.96
    assert rescore(scheme, row, "x", 75.03) == 49.9  # 49.94
    band = c["to_next_band"]
    assert (band["band"], band["to"], band["score"]) == ("mid", 75.02, 50.0)
    assert band["text"] == "x 90 -> 75.02 reaches mid (50.0)"
