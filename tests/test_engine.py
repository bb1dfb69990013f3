"""The scoring engine: golden numbers from the seed articles, the scheme semantics, and
chs.engine's own pieces (build_plan and its split, one compiled definition, top_keys)
with the when/then fold and the value column of chs.exprs."""

from __future__ import annotations

from pathlib import Path

import polars as pl
import pytest

from chs.columns import ID_HASH, KEY, OK, REASON, ROW, group_work, internal, points_column
from chs.engine import ScoringPlan, build_plan, score_frame
from chs.engine.definition import compile_definition, mapped
from chs.engine.parsing import ColumnReader
from chs.engine.reasons import top_keys
from chs.errors import DataError, SchemeError
from chs.exprs import first_match, value_or_null
from chs.scheme import load_scheme, parse_scheme

SCHEMES = Path(__file__).resolve().parent.parent / "schemes"


def one_signal(mapping: str, *, missing: str = "redistribute", bands: str = "") -> str:
    bands = bands or "bands:\n  - {name: high, from: 50}\n  - {name: low, from: 0}\n"
    return (
        f"name: t\nid: id\nmissing: {missing}\nsignals:\n  x:\n    column: x\n    weight: 1\n"
        + "".join(f"    {line}\n" for line in mapping.strip().splitlines())
        + bands
    )


def points_for(mapping: str, values: list, **kw) -> list:
    scheme = parse_scheme(one_signal(mapping, **kw))
    frame = pl.DataFrame({"id": [f"c{i}" for i in range(len(values))], "x": values}, strict=False)
    scored, _ = score_frame(frame, scheme)
    return scored["points_x"].to_list()


# -- golden numbers from the seed articles ---------------------------------------------


def test_definition_article_example_a_scores_95_not_87():
    # 50 logins -> 100, 85 % premium -> 100, 1 ticket -> 100, NPS 45 -> 100, +15 % -> 50:
    # 100*.30 + 100*.25 + 100*.20 + 100*.15 + 50*.10 = 30 + 25 + 20 + 15 + 5 = 95
    # (the article prints 87).
    scheme = load_scheme(SCHEMES / "saas.yaml")
    frame = pl.DataFrame(
        {
            "customer_id": ["A", "B"],
            "mrr": [1000.0, 500.0],
            "logins_month": [50, 8],
            "premium_adoption_pct": [85.0, 20.0],
            "critical_tickets_q": [1, 6],
            "nps": [45, -5],
            "usage_growth_yoy_pct": [15.0, -30.0],
        }
    )
    scored, rejects = score_frame(frame, scheme)
    assert rejects.height == 0
    a, b = scored.to_dicts()
    assert (a["score"], a["band"]) == (95.0, "green")
    assert [a[f"points_{s}"] for s in scheme.signals] == [100, 100, 100, 100, 50]
    assert a["reasons"] == "usage_growth -5.0"
    # Example B: 8 logins, 20 %, 6 tickets, NPS -5, -30 %: every signal 0 points.
    assert (b["score"], b["band"]) == (0.0, "red")
    assert b["reasons"] == "logins -30.0; premium_adoption -25.0; critical_tickets -20.0"


def strategy_customer() -> pl.DataFrame:
    """The strategy article's worked customer, as signals for schemes/simple-crm.yaml."""
    return pl.DataFrame(
        {
            "customer_id": ["S1"],
            "mrr": [900.0],
            "parent_id": [None],
            "logins_week": [3.0],  # "se connecte 3 fois/semaine"        -> 75
            "feature_adoption_pct": [80.0],  # "utilise 80 % des fonctionnalités" -> 100
            "reporting_module_used": ["no"],  # "a cessé ... le module de reporting" -> 0
            "tickets_month": [2],  # "2 tickets ce mois-ci"               -> 75
            "resolution_hours": [4.0],  # "résolus rapidement"            -> 100
            "support_feedback": ["positive"],  # "feedback positif"      -> 100
            "renewals_count": [3],  # "renouvelé 3 fois de suite"         -> 100
            "upsell_last_year": [0],  # "pas d'upsell"                    -> 50
            "email_open_rate_pct": [50.0],  # "ouvre la moitié des emails" -> 100
            "email_click_rate_pct": [1.0],  # "clique rarement"           -> 0
            "webinars_quarter": [1],  # "un webinaire par trimestre"      -> 100
            "nps_rating": [8],  # "score NPS de 8"                        -> 80
            "negative_feedback_count": [0],  # "aucun feedback négatif"  -> 100
        }
    )


def test_strategy_article_weighs_to_77_5_not_67():
    # Category scores: usage (75*40 + 100*40 + 0*20)/100 = 70; support (75*40 + 100*30 +
    # 100*30)/100 = 90; purchase (100*60 + 50*40)/100 = 80; marketing (100 + 0 + 100)/3 =
    # 66.67; satisfaction (80*2 + 100*1)/3 = 86.67. Weighted 35/20/15/15/15:
    # 24.5 + 18 + 12 + 10 + 13 = 77.5 -> engaged (71-90). The article's 67 is the plain
    # sum of its sub-scores 14+18+12+10+13 out of 85.
    scheme = load_scheme(SCHEMES / "simple-crm.yaml")
    scored, rejects = score_frame(strategy_customer(), scheme)
    assert rejects.height == 0
    row = scored.row(0, named=True)
    groups = [
        row[f"group_{g}"] for g in ("usage", "support", "purchase", "marketing", "satisfaction")
    ]
    assert groups == [70.0, 90.0, 80.0, 66.7, 86.7]
    assert (row["score"], row["band"]) == (77.5, "engaged")
    assert row["coverage"] == 1.0


def test_strategy_article_table_as_one_signal_per_category():
    # The article's table itself: sub-scores 14/20, 18/20, 12/15, 10/15, 13/15 weighted
    # 35/20/15/15/15 = 0.35*70 + 0.20*90 + 0.15*80 + 0.15*66.67 + 0.15*86.67 = 77.5.
    text = "name: t\nid: id\nsignals:\n"
    for name, weight, out_of in (
        ("usage", 35, 20),
        ("support", 20, 20),
        ("purchase", 15, 15),
        ("marketing", 15, 15),
        ("satisfaction", 15, 15),
    ):
        text += f"  {name}:\n    column: {name}\n    weight: {weight}\n"
        text += f"    linear: [[0, 0], [{out_of}, 100]]\n"
    text += "bands:\n  - {name: engaged, from: 71}\n  - {name: alert, from: 41}\n"
    text += "  - {name: critical, from: 0}\n"
    frame = pl.DataFrame(
        {
            "id": ["x"],
            "usage": [14],
            "support": [18],
            "purchase": [12],
            "marketing": [10],
            "satisfaction": [13],
        }
    )
    scored, _ = score_frame(frame, parse_scheme(text))
    assert scored.row(0, named=True)["score"] == 77.5
    assert scored["band"].to_list() == ["engaged"]


# -- tiers, linear, map ------------------------------------------------------------------


def test_tier_bounds_inclusive_and_strict_at_their_edges():
    tiers = "points:\n  - {above: 30, points: 100}\n  - {at_least: 0, points: 50}\n  - {points: 0}"
    assert points_for(tiers, [30.0001, 30, 0, -0.0001]) == [100, 50, 50, 0]
    tiers = "points:\n  - {at_most: 1, points: 100}\n  - {below: 5, points: 50}\n  - {points: 0}"
    assert points_for(tiers, [1, 1.0001, 4.999, 5]) == [100, 50, 50, 0]


def test_ranged_tier_needs_both_bounds():
    tiers = "points:\n  - {at_least: 10, below: 20, points: 80}\n  - {points: 10}"
    assert points_for(tiers, [9.99, 10, 19.99, 20]) == [10, 80, 80, 10]


def test_first_matching_tier_wins():
    tiers = (
        "points:\n  - {at_least: 40, points: 100}\n  - {at_least: 10, points: 50}\n  - {points: 0}"
    )
    assert points_for(tiers, [40, 39, 10, 9, 1000]) == [100, 50, 50, 0, 100]


def test_linear_interpolates_and_clamps():
    # [-20, 0] -> [0, 50] -> [20, 100]: -10 is halfway up the first segment (25), 15 is
    # three quarters along the second (50 + 0.75 * 50 = 87.5); outside the ends clamp.
    mapping = "linear: [[-20, 0], [0, 50], [20, 100]]"
    assert points_for(mapping, [-100, -20, -10, 0, 15, 20, 99]) == [0, 0, 25, 50, 87.5, 100, 100]


def test_linear_may_decrease():
    assert points_for("linear: [[0, 100], [10, 0]]", [0, 2.5, 10, 11]) == [100, 75, 0, 0]


def test_map_with_other_and_text_trimmed():
    mapping = "map: {enterprise: 100, pro: 70}\nother: 10"
    assert points_for(mapping, ["enterprise", " pro ", "free"]) == [100, 70, 10]


def test_map_without_other_rejects_unknown_category():
    scheme = parse_scheme(one_signal("map: {enterprise: 100, pro: 70}"))
    frame = pl.DataFrame({"id": ["a", "b"], "x": ["pro", "gold"]})
    scored, rejects = score_frame(frame, scheme)
    assert scored["id"].to_list() == ["a"]
    assert rejects.select("row", "reason").rows() == [
        (2, "x: 'gold' is not in its map (enterprise, pro) and it has no `other`")
    ]


def test_map_ignores_case_and_surrounding_spaces_by_default():
    # Before: `Pro`, `PRO ` and `ENTERPRISE` took `other` (10) without a word.
    mapping = "map: {enterprise: 100, Pro: 70}\nother: 10"
    values = ["Pro", "PRO ", " pro", "ENTERPRISE", "Enterprise", "pro plus"]
    assert points_for(mapping, values) == [70, 70, 70, 100, 100, 10]


def test_map_keys_are_trimmed_too():
    # a key written with spaces matches the trimmed value (before: it matched nothing)
    assert points_for('map: {" pro ": 70}\nother: 10', ["pro", "PRO", "x"]) == [70, 70, 10]


def test_map_match_exact_compares_case_as_written_and_still_trims():
    mapping = "map: {enterprise: 100, Pro: 70}\nother: 10\nmatch: exact"
    values = ["Pro", " Pro ", "PRO", "pro", "enterprise", "ENTERPRISE"]
    assert points_for(mapping, values) == [70, 70, 10, 10, 100, 10]


def test_map_without_other_rejects_a_category_in_no_case_and_names_it_as_written():
    scheme = parse_scheme(one_signal("map: {enterprise: 100, pro: 70}"))
    frame = pl.DataFrame({"id": ["a", "b", "c"], "x": ["PRO", " Gold ", "Enterprise"]})
    scored, rejects = score_frame(frame, scheme)
    assert scored.select("id", "x", "points_x").rows() == [
        ("a", "PRO", 70.0),
        ("c", "Enterprise", 100.0),
    ]
    assert rejects.select("row", "reason").rows() == [
        (2, "x: 'Gold' is not in its map (enterprise, pro) and it has no `other`")
    ]


def test_map_ignoring_case_lowers_unicode_as_the_keys_are_lowered():
    # Polars lowers the values and the keys alike (the keys through a Polars Series too)
    mapping = "map: {ÉTÉ: 100, straße: 50}\nother: 0"
    assert points_for(mapping, ["été", "Été", "STRAßE", "strasse"]) == [100, 100, 50, 0]


def test_map_on_numbers_and_booleans_compares_text():
    assert points_for('map: {"1": 100, "0": 50}', [1, 0, 1]) == [100, 50, 100]
    assert points_for("map: {true: 100, false: 0}", [True, False]) == [100, 0]


def test_expression_signal():
    text = (
        'name: t\nid: id\nsignals:\n  ratio:\n    expr: "CASE WHEN seats = 0 THEN NULL ELSE active / seats * 100 END"\n'
        "    weight: 1\n    linear: [[0, 0], [100, 100]]\n"
        "bands:\n  - {name: ok, from: 0}\n"
    )
    frame = pl.DataFrame({"id": ["a", "b", "c"], "active": [3, 5, 1], "seats": [4, 0, 10]})
    scored, _ = score_frame(frame, parse_scheme(text))
    # a: 3/4 = 75 %; b: no seats -> missing, the only signal, so rejected; c: 10 %
    assert scored.select("id", "points_ratio").rows() == [("a", 75.0), ("c", 10.0)]


def test_expression_naming_an_unknown_column_is_a_data_error():
    text = 'name: t\nid: id\nsignals:\n  r:\n    expr: "a / nope"\n    weight: 1\n    linear: [[0, 0], [1, 100]]\nbands:\n  - {name: ok, from: 0}\n'
    frame = pl.DataFrame({"id": ["a"], "a": [1], "nose": [2]})
    with pytest.raises(DataError) as err:
        score_frame(frame, parse_scheme(text))
    assert err.value.message == (
        "<frame>: column 'nope' (used by the expression of signal r) not found. "
        "Did you mean 'nose'? Columns in the file: id, a, nose"
    )


# -- missing values, weights, coverage, groups -------------------------------------------


def two_signals(policy_a: str = "", policy: str = "redistribute") -> str:
    extra = f"    missing: {policy_a}\n" if policy_a else ""
    return (
        f"name: t\nid: id\nmissing: {policy}\nsignals:\n"
        "  a:\n    column: a\n    weight: 75\n" + extra + "    linear: [[0, 0], [100, 100]]\n"
        "  b:\n    column: b\n    weight: 25\n    linear: [[0, 0], [100, 100]]\n"
        "bands:\n  - {name: ok, from: 0}\n"
    )


@pytest.mark.parametrize(
    ("policy", "expected"),
    [
        # b alone carries the weight: score = 40
        ("redistribute", 40.0),
        # a counts 0 points at 75 %: 0.75*0 + 0.25*40 = 10
        ("zero", 10.0),
        # a counts 60 points: 0.75*60 + 0.25*40 = 55
        ("60", 55.0),
    ],
)
def test_missing_policies(policy, expected):
    frame = pl.DataFrame(
        {"id": ["x"], "a": [None], "b": [40.0]}, schema_overrides={"a": pl.Float64}
    )
    scored, _ = score_frame(frame, parse_scheme(two_signals(policy_a=policy)))
    row = scored.row(0, named=True)
    assert row["score"] == expected
    assert row["coverage"] == 0.25  # only b had data


def test_missing_reject_policy_rejects_the_row():
    frame = pl.DataFrame({"id": ["x", "y"], "a": [None, 10.0], "b": [40.0, 40.0]})
    scored, rejects = score_frame(frame, parse_scheme(two_signals(policy_a="reject")))
    assert scored["id"].to_list() == ["y"]
    assert rejects.select("row", "reason").rows() == [(1, "a: no value (missing: reject)")]


def test_signal_policy_overrides_scheme_policy():
    frame = pl.DataFrame(
        {"id": ["x"], "a": [None], "b": [None]}, schema_overrides={"a": pl.Float64, "b": pl.Float64}
    )
    scored, _ = score_frame(
        frame, parse_scheme(two_signals(policy_a="redistribute", policy="zero"))
    )
    # a redistributes, b scores 0 under the scheme's `zero`: the score is b's 0 points.
    assert scored.select("score", "coverage").row(0) == (0.0, 0.0)


def test_no_signal_with_a_value_is_rejected():
    frame = pl.DataFrame(
        {"id": ["x"], "a": [None], "b": [None]}, schema_overrides={"a": pl.Float64, "b": pl.Float64}
    )
    scored, rejects = score_frame(frame, parse_scheme(two_signals()))
    assert scored.height == 0
    assert rejects["reason"].to_list() == ["no signal has a value"]


def test_relative_weights_are_normalised():
    # 75/25 and 3/1 are the same scheme: 0.75*80 + 0.25*40 = 70
    frame = pl.DataFrame({"id": ["x"], "a": [80.0], "b": [40.0]})
    text = two_signals().replace("weight: 75", "weight: 3").replace("weight: 25", "weight: 1")
    assert score_frame(frame, parse_scheme(text))[0]["score"].to_list() == [70.0]
    assert score_frame(frame, parse_scheme(two_signals()))[0]["score"].to_list() == [70.0]


GROUPS = """
name: g
id: id
groups:
  usage:
    weight: 60
    signals:
      a: {column: a, weight: 1, linear: [[0, 0], [100, 100]]}
      b: {column: b, weight: 3, linear: [[0, 0], [100, 100]]}
  support:
    weight: 40
    signals:
      c: {column: c, weight: 1, linear: [[0, 0], [100, 100]]}
bands:
  - {name: ok, from: 0}
"""


def test_group_scores_and_overall():
    # usage = (1*20 + 3*60)/4 = 50; support = 90; score = 0.6*50 + 0.4*90 = 66
    frame = pl.DataFrame({"id": ["x"], "a": [20.0], "b": [60.0], "c": [90.0]})
    row = score_frame(frame, parse_scheme(GROUPS))[0].row(0, named=True)
    assert (row["group_usage"], row["group_support"], row["score"]) == (50.0, 90.0, 66.0)
    # the biggest weighted loss: b costs 0.6 * 3/4 * 40 = 18, a 0.6 * 1/4 * 80 = 12, c 4
    assert row["reasons"] == "b -18.0; a -12.0; c -4.0"


def test_missing_group_redistributes_at_group_level():
    # support has no data: usage carries the whole score; coverage = usage's 60 %.
    frame = pl.DataFrame({"id": ["x"], "a": [20.0], "b": [60.0], "c": [None]})
    row = score_frame(frame, parse_scheme(GROUPS))[0].row(0, named=True)
    assert (row["group_support"], row["score"], row["coverage"]) == (None, 50.0, 0.6)


def test_missing_signal_redistributes_inside_its_group():
    # b missing: usage = a's 20 points; score = 0.6*20 + 0.4*90 = 48; coverage 1 - 0.45
    frame = pl.DataFrame({"id": ["x"], "a": [20.0], "b": [None], "c": [90.0]})
    row = score_frame(frame, parse_scheme(GROUPS))[0].row(0, named=True)
    assert (row["group_usage"], row["score"], row["coverage"]) == (20.0, 48.0, 0.55)


# -- score, band, reasons, output columns ------------------------------------------------


def test_band_is_taken_from_the_score_as_written():
    bands = "bands:\n  - {name: green, above: 70}\n  - {name: orange, from: 50}\n  - {name: red, from: 0}\n"
    scheme = parse_scheme(one_signal("linear: [[0, 0], [100, 100]]", bands=bands))
    frame = pl.DataFrame({"id": list("abcde"), "x": [70.04, 70.06, 70.0, 49.96, 49.94]})
    scored, _ = score_frame(frame, scheme)
    # 70.04 is written 70.0, which is not above 70; 49.96 is written 50.0, which is >= 50
    assert scored.select("score", "band").rows() == [
        (70.0, "orange"),
        (70.1, "green"),
        (70.0, "orange"),
        (50.0, "orange"),
        (49.9, "red"),
    ]


def test_reasons_order_ties_limit_and_missing_label():
    text = (
        "name: t\nid: id\nmissing: zero\nreasons: 2\nsignals:\n"
        + "".join(
            f"  {n}:\n    column: {n}\n    weight: 1\n    linear: [[0, 0], [100, 100]]\n"
            for n in "pqrs"
        )
        + "bands:\n  - {name: ok, from: 0}\n"
    )
    frame = pl.DataFrame(
        {"id": ["x"], "p": [100.0], "q": [60.0], "r": [None], "s": [60.0]},
        schema_overrides={"r": pl.Float64},
    )
    row = score_frame(frame, parse_scheme(text))[0].row(0, named=True)
    # losses: p 0, q 0.25*40 = 10, r (missing, 0 points) 25, s 10: r first, then q before
    # s (scheme order breaks the tie); only 2 reasons; p lost nothing and is never listed.
    assert row["reasons"] == "r (missing) -25.0; q -10.0"
    assert row["score"] == 55.0  # (100 + 60 + 0 + 60) / 4


def test_output_columns_and_scheme_identity():
    scheme = load_scheme(SCHEMES / "example.yaml")
    frame = pl.DataFrame(
        {
            "customer_id": ["c1"],
            "segment": ["SMB"],
            "mrr": [99.5],
            "logins_month": [12],
            "critical_tickets_q": [0],
            "usage_growth_yoy_pct": [10.0],
            "plan": ["pro"],
        }
    )
    scored, _ = score_frame(frame, scheme)
    assert scored.columns == [
        "customer_id",
        "segment",
        "mrr",
        "logins_month",
        "critical_tickets_q",
        "usage_growth_yoy_pct",
        "plan",
        "points_logins",
        "points_critical_tickets",
        "points_usage_growth",
        "points_plan",
        "score",
        "band",
        "coverage",
        "reasons",
        "scheme",
        "scheme_hash",
    ]
    row = scored.row(0, named=True)
    # 0.3*50 + 0.2*100 + 0.1*75 + 0.4*70 = 15 + 20 + 7.5 + 28 = 70.5 -> alert (41-70.9)
    assert (row["score"], row["band"]) == (70.5, "alert")
    assert (row["scheme"], row["scheme_hash"]) == ("saas-b2b", scheme.digest)


def test_keep_selects_carried_columns_but_always_id_and_value():
    scheme = load_scheme(SCHEMES / "example.yaml")
    frame = pl.DataFrame(
        {
            "customer_id": ["c1"],
            "segment": ["SMB"],
            "region": ["EMEA"],
            "mrr": [99.5],
            "logins_month": [12],
            "critical_tickets_q": [0],
            "usage_growth_yoy_pct": [10.0],
            "plan": ["pro"],
        }
    )
    scored, _ = score_frame(frame, scheme, keep=["region"])
    assert scored.columns[:3] == ["customer_id", "mrr", "region"]
    assert "segment" not in scored.columns


def test_duplicate_and_empty_ids_are_rejected_with_row_numbers():
    scheme = parse_scheme(one_signal("linear: [[0, 0], [100, 100]]"))
    frame = pl.DataFrame({"id": ["a", "b", "a", "  ", None], "x": [1.0, 2.0, 3.0, 4.0, 5.0]})
    scored, rejects = score_frame(frame, scheme)
    assert scored["id"].to_list() == ["b"]
    assert rejects.select("row", "reason").rows() == [
        (1, "duplicate id 'a'"),
        (3, "duplicate id 'a'"),
        (4, "empty id"),
        (5, "empty id"),
    ]


def test_text_numbers_parse_and_bad_text_is_rejected():
    scheme = parse_scheme(one_signal("linear: [[0, 0], [100, 100]]"))
    frame = pl.DataFrame({"id": ["a", "b", "c", "d"], "x": ["12.5", " 40 ", "n/a!", ""]})
    scored, rejects = score_frame(frame, scheme)
    assert scored.select("id", "points_x").rows() == [("a", 12.5), ("b", 40.0)]
    assert rejects.select("row", "reason").rows() == [
        (3, "x: 'n/a!' is not a number (column x)"),
        (4, "no signal has a value"),
    ]


def test_nan_counts_as_missing():
    frame = pl.DataFrame({"id": ["x"], "a": [float("nan")], "b": [40.0]})
    row = score_frame(frame, parse_scheme(two_signals()))[0].row(0, named=True)
    assert (row["score"], row["coverage"], row["points_a"]) == (40.0, 0.25, None)


def test_scored_columns_replace_clashing_input_columns():
    scheme = parse_scheme(one_signal("linear: [[0, 0], [100, 100]]"))
    frame = pl.DataFrame({"id": ["a"], "x": [30.0], "score": [99.0], "band": ["old"]})
    scored, _ = score_frame(frame, scheme)
    assert scored.columns.count("score") == 1
    assert scored.select("score", "band").row(0) == (30.0, "low")


def test_reason_amounts_round_half_up_at_one_decimal():
    # a's loss is 10 % of (100 - its points): 41.5 -> 4.15, 2.5 -> 0.25, 32.5 -> 3.25,
    # each exactly halfway, written rounded up (floating point would not always say so).
    text = (
        "name: t\nid: id\nsignals:\n"
        "  a: {column: a, weight: 10, linear: [[0, 0], [100, 100]]}\n"
        "  b: {column: b, weight: 90, linear: [[0, 0], [100, 100]]}\n"
        "bands:\n  - {name: ok, from: 0}\n"
    )
    frame = pl.DataFrame({"id": ["x", "y", "z"], "a": [58.5, 97.5, 67.5], "b": [100.0] * 3})
    scored = score_frame(frame, parse_scheme(text))[0]
    assert scored.select("score", "reasons").rows() == [
        (95.9, "a -4.2"),  # 100 - 4.15 = 95.85 -> 95.9
        (99.8, "a -0.3"),  # 100 - 0.25 = 99.75 -> 99.8
        (96.8, "a -3.3"),  # 100 - 3.25 = 96.75 -> 96.8
    ]


# -- chs.engine directly: build_plan, ScoringPlan.split, one definition, top_keys --------

VALUED = """
name: v
id: id
value: mrr
signals:
  a: {column: a, weight: 3, linear: [[0, 0], [100, 100]]}
  b: {column: b, weight: 1, linear: [[0, 0], [10, 100]]}
bands:
  - {name: high, from: 50}
  - {name: low, from: 0}
"""


def valued_frame() -> pl.DataFrame:
    return pl.DataFrame(
        {
            "id": ["a", "b", "a", " ", "c"],
            "mrr": [100.0, 200.0, 300.0, 400.0, 500.0],
            "a": [40.0, 80.0, 1.0, 1.0, None],
            "b": [10.0, 0.0, 1.0, 1.0, 5.0],
        }
    )


def test_build_plan_split_gives_output_rows_rejects_and_every_row():
    plan = build_plan(valued_frame().lazy(), parse_scheme(VALUED), source="t.csv")
    assert isinstance(plan, ScoringPlan)
    assert (plan.id_column, plan.value_column) == ("id", "mrr")
    assert (plan.signal_columns, plan.group_columns, plan.warnings) == (
        ["points_a", "points_b"],
        [],
        [],
    )
    scored, rejected, every = pl.collect_all(plan.split())
    # b: a 80 -> 80 points, b 0 -> 0 points: (3*80 + 1*0) / 4 = 60 -> high; losses
    # a 3/4 * 20 = 15, b 1/4 * 100 = 25. c: a missing, b 5 -> 50 points alone: 50 ->
    # high; b loses 100 % of 50 = 50, a (missing) loses nothing (share 0).
    assert scored.select("id", "mrr", "points_a", "points_b", "score", "band").rows() == [
        ("b", 200.0, 80.0, 0.0, 60.0, "high"),
        ("c", 500.0, None, 50.0, 50.0, "high"),
    ]
    assert scored["reasons"].to_list() == ["b -25.0; a -15.0", "b -50.0"]
    assert scored["coverage"].to_list() == [1.0, 0.25]  # c: only b, a quarter of the weight
    # the output columns, then the working columns the reasons text is made from: a
    # place for each of the two signals (of the default three), and the id's hash
    top = internal("top")
    assert scored.columns[-3:] == [f"{top}0", f"{top}1", ID_HASH]
    assert plan.working == [f"{top}0", f"{top}1", ID_HASH]
    assert rejected.columns == [ROW, REASON, "id", "mrr", "a", "b"]
    assert rejected.select(ROW, REASON).rows() == [
        (1, "duplicate id 'a'"),
        (3, "duplicate id 'a'"),
        (4, "empty id"),
    ]
    assert every.height == 5
    assert every[OK].to_list() == [False, True, False, False, True]


def test_build_plan_with_duplicates_found_beforehand_rejects_the_same_rows():
    scheme = parse_scheme(VALUED)
    given = build_plan(valued_frame().lazy(), scheme, source="t", duplicates=["a"])
    none = build_plan(valued_frame().lazy(), scheme, source="t", duplicates=[])
    assert given.rejects.collect().select(ROW, REASON).rows() == [
        (1, "duplicate id 'a'"),
        (3, "duplicate id 'a'"),
        (4, "empty id"),
    ]
    # told there are no duplicates, only the empty id is rejected
    assert none.rejects.collect()[ROW].to_list() == [4]


def test_split_joins_a_lookup_by_trimmed_id_before_the_rows_split():
    plan = build_plan(valued_frame().lazy(), parse_scheme(VALUED), source="t")
    lookup = pl.LazyFrame({KEY: ["b", "c"], "previous": [55.0, 70.0], "x": [1, 2]})
    scored, _, _ = plan.split(lookup, carry=["previous"])
    out = scored.collect()
    assert out.columns[-1] == "previous"
    assert "x" not in out.columns
    # change since the previous score: b 60 - 55 = 5, c 50 - 70 = -20
    assert out.select("id", pl.col("score") - pl.col("previous")).rows() == [
        ("b", 5.0),
        ("c", -20.0),
    ]


def test_build_plan_parses_text_values_as_declared():
    frame = pl.DataFrame(
        {
            "id": ["a", "b", "c", "d"],
            "mrr": ["1,5", "abc", " ", "2"],
            "n": ["3", "4", "1.5", "x"],
            "a": ["50", "50", "50", "50"],
            "b": ["10", "10", "10", "10"],
        }
    )
    scheme = parse_scheme(VALUED + "columns:\n  n: {type: integer}\n")
    plan = build_plan(frame.lazy(), scheme, source="t", decimal_comma=True)
    every = plan.checked.collect()
    assert plan.value is not None
    # "1,5" with a decimal comma is 1.5; an empty value is null; "abc" does not parse
    assert every.select(plan.value).to_series().to_list() == [1.5, None, None, 2.0]
    scored, rejects = pl.collect_all([plan.scored, plan.rejects])
    # a: (3*50 + 1*100) / 4 = 62.5; n is read as declared (an integer); the id stays text
    assert scored.select("id", "mrr", "n", "score").rows() == [("a", 1.5, 3, 62.5)]
    assert scored.schema["n"] == pl.Int64 and scored.schema["id"] == pl.String
    assert rejects.select(ROW, REASON).rows() == [
        (2, "mrr: 'abc' is not a number (the value column)"),
        (3, "n: '1.5' is not a whole number (as declared in columns:)"),
        (4, "n: 'x' is not a whole number (as declared in columns:)"),
    ]
    assert every[OK].to_list() == [True, False, False, False]


def test_build_plan_reads_a_declared_boolean_column():
    scheme = parse_scheme(
        one_signal("map: {'true': 100, 'false': 0}").replace("column: x", "column: active")
        + "columns:\n  active: {type: boolean}\n"
    )
    frame = pl.DataFrame({"id": ["a", "b", "c", "d"], "active": ["true", " FALSE", "yes", None]})
    plan = build_plan(frame.lazy(), scheme, source="t")
    scored, rejects = pl.collect_all([plan.scored, plan.rejects])
    # written as a boolean; the map compares the text as written, trimmed and ignoring
    # case ('yes' is true as a boolean, but not a category of the map); d has none
    assert scored.schema["active"] == pl.Boolean
    assert scored.select("id", "active", "score").rows() == [("a", True, 100.0), ("b", False, 0.0)]
    assert rejects.select(ROW, REASON).rows() == [
        (3, "x: 'yes' is not in its map (true, false) and it has no `other`"),
        (4, "no signal has a value"),
    ]


def test_build_plan_warns_of_replaced_columns_and_keeps_the_id_first():
    frame = valued_frame().with_columns(pl.lit("old").alias("band"), pl.lit(1).alias("z"))
    plan = build_plan(frame.lazy(), parse_scheme(VALUED), source="in.csv", keep=["band", "z"])
    assert plan.warnings == ["in.csv: input columns band are replaced by the scored values"]
    assert plan.value_column == "mrr"
    assert plan.scored.collect_schema().names()[:3] == ["id", "mrr", "z"]


def test_build_plan_gives_row_and_reason_to_the_rejected_rows_and_keeps_them_in_the_output():
    # an input of chs's own rejects shape: its `row` and `reason` are data in the scored
    # output, and give way to chs's row number and reason in the rejected rows
    frame = valued_frame().with_columns(
        pl.Series("row", [7, 8, 9, 10, 11]), pl.lit("old").alias("reason")
    )
    plan = build_plan(frame.lazy(), parse_scheme(VALUED), source="in.csv")
    assert plan.warnings == [
        "in.csv: input columns row, reason are replaced in the rejected rows by chs's row "
        "number and reason"
    ]
    scored, rejected = pl.collect_all([plan.scored, plan.rejects])
    assert scored.select("id", "row", "reason", "score").rows() == [
        ("b", 8, "old", 60.0),
        ("c", 11, "old", 50.0),
    ]
    assert rejected.columns == [ROW, REASON, "id", "mrr", "a", "b"]
    assert rejected.select(ROW, REASON).rows() == [
        (1, "duplicate id 'a'"),
        (3, "duplicate id 'a'"),
        (4, "empty id"),
    ]


def test_build_plan_replaces_the_columns_the_caller_adds_and_the_alerts_column():
    scheme = parse_scheme(VALUED + "alerts:\n  - {name: low, when: 'score < 10', action: call}\n")
    frame = valued_frame().with_columns(
        pl.lit("x").alias("delta"), pl.lit("y").alias("alerts"), pl.lit("z").alias("as_of")
    )
    plan = build_plan(
        frame.lazy(), scheme, source="in.csv", added=["as_of", "previous_score", "delta"]
    )
    assert plan.warnings == [
        "in.csv: input columns delta, alerts, as_of are replaced by the scored values"
    ]
    assert plan.scored.collect_schema().names()[:4] == ["id", "mrr", "a", "b"]


def test_build_plan_refuses_an_input_column_named_like_a_working_column():
    frame = valued_frame().with_columns(pl.lit(1).alias(KEY))
    with pytest.raises(DataError) as err:
        build_plan(frame.lazy(), parse_scheme(VALUED), source="in.csv")
    assert err.value.message == (
        "in.csv: column '__chs·key' is named like chs's working columns (which start with "
        "'__chs·' or '__alert_·'); rename it"
    )


def test_build_plan_keeps_columns_named_like_the_old_working_columns():
    # `__key`, `__ok`, `__score`, `__v_a`: once chs's working names, now plain data
    old = ["__key", "__ok", "__score", "__v_a", "__dup", "__id"]
    frame = valued_frame().with_columns([pl.lit(f"mine {c}").alias(c) for c in old])
    plan = build_plan(frame.lazy(), parse_scheme(VALUED), source="in.csv")
    assert plan.warnings == []
    scored = plan.scored.collect()
    assert scored.select(old).row(0) == tuple(f"mine {c}" for c in old)
    assert scored.select("id", "score").rows() == [("b", 60.0), ("c", 50.0)]


def test_build_plan_refuses_an_id_named_like_a_column_chs_writes():
    scheme = parse_scheme(VALUED.replace("id: id", "id: score"))
    frame = valued_frame().rename({"id": "score"})
    with pytest.raises(SchemeError) as err:
        build_plan(frame.lazy(), scheme, source="in.csv")
    assert err.value.message == (
        "<scheme>:3: id: the column 'score' is named like a column chs writes; rename it "
        "(in the file and the scheme)"
    )


def test_split_gives_a_lookup_column_precedence_over_an_input_column_of_its_name():
    frame = valued_frame().with_columns(pl.lit("typed in").alias("previous_score"))
    plan = build_plan(frame.lazy(), parse_scheme(VALUED), source="t")
    lookup = pl.LazyFrame({KEY: ["b", "c"], "previous_score": [55.0, 70.0]})
    scored, rejected, _ = pl.collect_all(plan.split(lookup, carry=["previous_score"]))
    assert scored.columns.count("previous_score") == 1
    assert scored.select("id", "previous_score").rows() == [("b", 55.0), ("c", 70.0)]
    # the rejected rows show the input as it was
    assert rejected["previous_score"].to_list() == ["typed in"] * 3


def test_build_plan_names_the_missing_value_column():
    frame = valued_frame().drop("mrr")
    with pytest.raises(DataError) as err:
        build_plan(frame.lazy(), parse_scheme(VALUED), source="in.csv")
    assert err.value.message == (
        "in.csv: column 'mrr' (the scheme's value) not found. Columns in the file: id, a, b"
    )


def test_compile_definition_under_a_prefix():
    scheme = parse_scheme(GROUPS)
    frame = pl.DataFrame(
        {"id": ["x", "y"], "a": [20.0, None], "b": [60.0, 100.0], "c": [90.0, 0.0]}
    )
    lf, comp = compile_definition(
        frame.lazy(), scheme, "k_", "main", frame.columns, "t", ColumnReader(), scheme
    )
    assert (comp.name, comp.prefix, [f.name for f in comp.flats]) == ("main", "k_", list("abc"))
    # group scores are working columns under the prefix, written as `k_group_<group>`
    assert comp.groups == {
        "usage": group_work("usage", "k_"),
        "support": group_work("support", "k_"),
    }
    assert comp.problems == []
    out = lf.select(
        *comp.outputs("k_"), pl.col(internal("eff", "b", "k_")), pl.col(internal("loss", "b", "k_"))
    ).collect()
    # x: usage (1*20 + 3*60)/4 = 50, support 90, score 0.6*50 + 0.4*90 = 66.
    # y: a missing, usage = b's 100; support 0; score 0.6*100 + 0.4*0 = 60;
    #    coverage 1 - 0.6 * 1/4 = 0.85; c loses 0.4 * 100 = 40, b nothing.
    assert out.select("k_group_usage", "k_group_support", "k_score", "k_coverage").rows() == [
        (50.0, 90.0, 66.0, 1.0),
        (100.0, 0.0, 60.0, 0.85),
    ]
    assert out["k_reasons"].to_list() == ["b -18.0; a -12.0; c -4.0", "c -40.0"]
    assert out["k_band"].to_list() == ["ok", "ok"]
    # b's effective weight: x 0.6 * 3/4 = 0.45, y 0.6 * 3/3 = 0.6; its loss x 0.45 * 40
    assert out[internal("eff", "b", "k_")].to_list() == pytest.approx([0.45, 0.6])
    assert out[internal("loss", "b", "k_")].to_list() == pytest.approx([18.0, 0.0])
    assert out[points_column("a", "k_")].to_list() == [20.0, None]


def test_top_keys_ranks_clips_breaks_ties_in_order_and_flags():
    lf = pl.LazyFrame(
        {"p": [10.0, 0.04], "q": [25.0, 150.0], "r": [25.0, None], "m": [True, False]}
    )
    lf, places = top_keys(
        lf,
        {"p": pl.col("p"), "q": pl.col("q"), "r": pl.col("r")},
        2,
        at_least=0.05,
        work="__w",
        flags={"r": pl.col("m")},
    )
    out = lf.select(
        [
            pl.struct(index=p.index, flag=p.flag, millionths=p.millionths, shown=p.shown).alias(
                f"place{i}"
            )
            for i, p in enumerate(places)
        ]
    ).collect()
    # row 1: q and r tie at 25 (25_000_000 millionths): q, first in the dict, wins; r is
    # second with its flag. Row 2: q clipped to 100; then p's 0.04, below 0.05, unshown
    # (r is null, counted as 0).
    assert out["place0"].to_list() == [
        {"index": 1, "flag": 0, "millionths": 25_000_000, "shown": True},
        {"index": 1, "flag": 0, "millionths": 100_000_000, "shown": True},
    ]
    assert out["place1"].to_list() == [
        {"index": 2, "flag": 1, "millionths": 25_000_000, "shown": True},
        {"index": 0, "flag": 0, "millionths": 40_000, "shown": False},
    ]
    # codes: millionths * 2n + 2 * (n - 1 - rank) + flag, with n = 3: q 25e6*6 + 2 = 150000002
    assert lf.select("__w_1").collect()["__w_1"].to_list() == [150_000_002, 600_000_002]
    assert lf.collect_schema()["__w0"] == pl.Int32  # (100e6 + 1) * 6 fits in 31 bits


def test_top_keys_widens_to_int64_and_asks_nothing_for_no_place():
    keys = {f"k{i}": pl.lit(1.0) for i in range(11)}  # (100e6 + 1) * 22 > 2**31
    lf, places = top_keys(pl.LazyFrame({"x": [0]}), keys, 1, at_least=0.0, work="__w")
    assert lf.collect_schema()["__w0"] == pl.Int64
    assert len(places) == 1
    same, none = top_keys(pl.LazyFrame({"x": [0]}), keys, 0, at_least=0.0, work="__w")
    assert (same.collect_schema().names(), none) == (["x"], [])


# -- output types: whole points as integers ------------------------------------------


@pytest.mark.parametrize(
    ("mapping", "missing", "whole"),
    [
        ("points: [{at_least: 10, points: 100}, {points: 50}]", "redistribute", True),
        ("points: [{at_least: 10, points: 100}, {points: 12.5}]", "redistribute", False),
        ("points: [{at_least: 10, points: 100}, {points: 0}]", "12.5", False),
        ("points: [{at_least: 10, points: 100}, {points: 0}]", "40", True),
        ("points: [{at_least: 10, points: 100}, {points: 0}]", "zero", True),
        ("linear: [[0, 0], [10, 100]]", "redistribute", False),
        ("linear: [[0, 60], [10, 60]]", "redistribute", True),  # flat: 60 everywhere
        ("map: {a: 100, b: 30}\nother: 0", "reject", True),
        ("map: {a: 100, b: 30}\nother: 0.5", "reject", False),
    ],
)
def test_a_signal_gives_whole_points_when_every_value_it_can_give_is_whole(
    mapping: str, missing: str, whole: bool
):
    (flat,) = parse_scheme(one_signal(mapping, missing=missing)).flat_signals()
    assert flat.whole_points is whole


def test_whole_points_are_written_as_int16_and_the_others_as_rounded_floats():
    scheme = parse_scheme(
        "name: t\nid: id\nsignals:\n"
        "  tiers: {column: a, weight: 1, points: [{at_least: 10, points: 100}, {points: 50}]}\n"
        "  line: {column: a, weight: 1, linear: [[0, 0], [30, 100]]}\n"
        "  b: {column: b, weight: 1, points: [{points: 100}]}\n"  # so that c3 is scored
        "bands:\n  - {name: high, from: 50}\n  - {name: low, from: 0}\n"
    )
    frame = pl.DataFrame({"id": ["c1", "c2", "c3"], "a": [12, 5, None], "b": [1, 1, 1]})
    scored, _ = score_frame(frame, scheme)
    assert scored.schema["points_tiers"] == pl.Int16
    assert scored.schema["points_line"] == pl.Float64
    # 12 -> 100 and 12 / 30 * 100 = 40.0; 5 -> 50 and 16.666... -> 16.67; none: empty
    assert scored["points_tiers"].to_list() == [100, 50, None]
    assert scored["points_line"].to_list() == [40.0, 16.67, None]
    assert scored.write_csv().splitlines()[1].split(",")[3:5] == ["100", "40.0"]


def test_a_segmented_signal_is_whole_only_if_it_is_whole_in_every_segment():
    segment = "    - name: {name}\n      when: \"kind = '{name}'\"\n      signals:\n        x: {{column: x, weight: 1, points: [{{at_least: 10, points: 100}}, {{points: {low}}}]}}\n"
    text = (
        "name: t\nid: id\nsegments:\n"
        + segment.format(name="a", low=0)
        + segment.format(name="b", low="{b}")
        + "    - name: c\n      when: \"kind = 'c'\"\n      signals:\n"
        "        y: {column: x, weight: 1, points: [{points: 100}]}\n"
        "bands:\n  - {name: high, from: 50}\n  - {name: low, from: 0}\n"
    )
    frame = pl.DataFrame({"id": ["1", "2", "3"], "kind": ["a", "b", "c"], "x": [1, 1, 1]})
    whole, _ = score_frame(frame, parse_scheme(text.replace("{b}", "20")))
    half, _ = score_frame(frame, parse_scheme(text.replace("{b}", "12.5")))
    # segment c has no x: empty there, which does not stop x being whole
    assert (whole.schema["points_x"], whole["points_x"].to_list()) == (pl.Int16, [0, 20, None])
    assert (half.schema["points_x"], half["points_x"].to_list()) == (pl.Float64, [0.0, 12.5, None])
    assert whole.schema["points_y"] == half.schema["points_y"] == pl.Int16


# -- chs.exprs: first_match and value_or_null --------------------------------------------


def test_first_match_takes_the_first_condition_that_holds():
    x = pl.col("x")
    frame = pl.DataFrame({"x": [1, 5, 10, None]})
    pairs = [(x < 3, pl.lit("low")), (x < 8, pl.lit("mid")), (x < 100, pl.lit("any"))]
    # 1 < 3 (and < 8) -> low; 5 -> mid; 10 -> any; null compares to null, so no match
    assert frame.select(first_match(pairs))["literal"].to_list() == ["low", "mid", "any", None]
    got = frame.select(first_match(iter(pairs[:2]), pl.lit("high")).alias("t"))
    assert got["t"].to_list() == ["low", "mid", "high", "high"]


def test_first_match_of_no_pairs_is_the_otherwise_or_null():
    frame = pl.DataFrame({"x": [1, 2]})
    assert frame.select(first_match([], pl.col("x") * 2))["x"].to_list() == [2, 4]
    assert frame.select(first_match([]).alias("n"))["n"].to_list() == [None]


def test_value_or_null():
    frame = pl.DataFrame({"mrr": [3, 4]})
    got = frame.select(value_or_null("mrr"), value_or_null(None).alias("none"))
    assert got.schema == pl.Schema({"mrr": pl.Float64, "none": pl.Float64})
    assert got.rows() == [(3.0, None), (4.0, None)]
    typed = frame.select(value_or_null("mrr", pl.Int32), value_or_null(None, pl.String).alias("s"))
    assert typed.schema == pl.Schema({"mrr": pl.Int32, "s": pl.String})


@pytest.mark.parametrize("n", [3, 16, 17, 40])
def test_a_map_finds_its_categories_by_comparison_or_lookup_alike(n: int) -> None:
    # up to 16 categories are compared one by one, more are looked up (is_in): a value
    # is mapped exactly when it is one of them, and an empty one is neither
    categories = "".join(f"c{i}: {i}, " for i in range(n))
    scheme = parse_scheme(one_signal(f"map: {{{categories}}}\nother: 0"))
    signal = scheme.signals["x"]
    values = ["c0", f"c{n - 1}", f"c{n}", "C0", "", None]
    found = pl.select(mapped(signal, pl.lit(pl.Series(values, dtype=pl.String)))).to_series()
    assert found.to_list() == [True, True, False, False, False, None]
