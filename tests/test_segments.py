"""Segments (a definition per kind of customer, first match wins) and extra scores
(`scores:` in a scheme, or more schemes given with `more=`): validation, routing,
the shipped segments / inertia / health-inertia schemes on the sample data, the band
matrix and `chs check`'s view of them.

Expected values come from arithmetic written next to them, or from an independent
Polars computation whose tiers are written out here (not read from the schemes).
"""

from __future__ import annotations

from pathlib import Path

import polars as pl
import pytest

from chs.actions.check import check_data
from chs.actions.score import ScoreOptions, score
from chs.description import describe
from chs.engine import score_frame
from chs.errors import DataError, OptionError, SchemeError
from chs.scheme import load_scheme, parse_scheme

ROOT = Path(__file__).resolve().parent.parent
SCHEMES = ROOT / "schemes"
SAMPLE = ROOT / "sample_data" / "customers.csv"

# Three segments. Line numbers matter: the validation messages below name them.
ROUTED = """\
name: routed
id: id
reasons: 2
segments:
  - name: a
    when: "kind = 'a'"
    signals:
      x:
        column: x
        weight: 3
        missing: reject
        points:
          - {at_least: 10, points: 100}
          - {at_least: 5, points: 50}
          - {points: 0}
      y:
        column: y
        weight: 1
        linear: [[0, 0], [10, 100]]
  - name: b
    when: "region = 'EU'"
    signals:
      y:
        column: y
        weight: 1
        linear: [[0, 0], [10, 100]]
      z:
        column: z
        weight: 1
        map: {gold: 100, silver: 50}
  - name: rest
    signals:
      x:
        column: x
        weight: 1
        points:
          - {at_least: 20, points: 100}
          - {points: 20}
      z:
        column: z
        weight: 3
        map: {gold: 100, silver: 50}
        other: 0
bands:
  - {name: good, from: 70}
  - {name: watch, from: 40}
  - {name: risk, from: 0}
"""

# A main score and an extra one. `scores:` is line 8, `inertia:` line 9, its `bands:` 15.
EXTRA = """\
name: main
id: id
signals:
  x:
    column: x
    weight: 1
    linear: [[0, 0], [10, 100]]
scores:
  inertia:
    signals:
      y:
        column: y
        weight: 1
        linear: [[0, 0], [10, 100]]
    bands:
      - {name: high, from: 60}
      - {name: low, from: 0}
bands:
  - {name: ok, from: 50}
  - {name: bad, from: 0}
"""


def edit(text: str, old: str, new: str) -> str:
    """`text` with one exact edit (it must match once, so line numbers stay known)."""
    assert text.count(old) == 1, old
    return text.replace(old, new)


def scheme_error(text: str) -> str:
    with pytest.raises(SchemeError) as info:
        parse_scheme(text, "s.yaml")
    return info.value.message


# -- validation -----------------------------------------------------------------------------


def test_the_base_schemes_are_valid() -> None:
    routed = parse_scheme(ROUTED, "s.yaml")
    assert [name for name, _ in routed.definitions()] == ["a", "b", "rest"]
    assert parse_scheme(EXTRA, "s.yaml").extra_scores()[0][0] == "inertia"


def test_a_segment_without_when_must_come_last() -> None:
    text = edit(ROUTED, "    when: \"kind = 'a'\"\n", "")
    assert scheme_error(text) == (
        "s.yaml:5: segments[0]: segment 'a' has no `when`, so it takes every customer left: "
        "it must come last"
    )


def test_segment_names_must_be_unique() -> None:
    text = edit(ROUTED, "  - name: b\n", "  - name: a\n")  # line 20
    assert (
        scheme_error(text)
        == "s.yaml:20: segments[1].name: segment names must be unique ('a' repeats)"
    )


def test_signals_and_segments_together() -> None:
    text = edit(
        ROUTED,
        "reasons: 2\nsegments:\n",
        "reasons: 2\nsignals:\n  w: {column: w, weight: 1, linear: [[0, 0], [1, 100]]}\nsegments:\n",
    )  # `segments:` moves to line 6
    assert scheme_error(text) == (
        "s.yaml:6: segments: a scheme takes exactly one of `signals`, `groups` or `segments`"
    )


def test_a_segment_with_signals_and_groups() -> None:
    groups = (
        "    groups:\n"
        "      g:\n"
        "        weight: 1\n"
        "        signals:\n"
        "          w: {column: w, weight: 1, linear: [[0, 0], [1, 100]]}\n"
    )
    text = edit(ROUTED, "    when: \"region = 'EU'\"\n", "    when: \"region = 'EU'\"\n" + groups)
    # `groups:` is line 22, right after segment b's `when` (line 21)
    assert (
        scheme_error(text)
        == "s.yaml:22: segments[1].groups: takes exactly one of `signals` or `groups`"
    )


def test_invalid_sql_in_a_segment_condition() -> None:
    text = edit(ROUTED, "kind = 'a'", "kind = = 'a'")
    assert scheme_error(text) == (
        "s.yaml:6: segments[0].when: not a valid SQL expression: "
        "'=' at column 8 has nothing on its right"
    )


def test_a_subquery_in_a_segment_condition_is_refused() -> None:
    text = edit(ROUTED, "kind = 'a'", "kind IN (SELECT kind FROM t)")
    assert scheme_error(text) == (
        "s.yaml:6: segments[0].when: a query (SELECT, FROM, VALUES, a table) is not allowed in "
        "an expression"
    )


@pytest.mark.parametrize(
    ("old", "new", "expected"),
    [
        (
            "    when: \"region = 'EU'\"\n",
            "    wehn: \"region = 'EU'\"\n",
            "s.yaml:21: segments[1].wehn: unknown key 'wehn'; did you mean 'when'?",
        ),
        (
            "  - name: rest\n    signals:\n",
            "  - name: rest\n    reason: 2\n    signals:\n",
            "s.yaml:32: segments[2].reason: unknown key 'reason'; did you mean 'reasons'?",
        ),
        (
            "        map: {gold: 100, silver: 50}\n        other: 0\n",
            "        map: {gold: 100, silver: 50}\n        othr: 0\n",
            "s.yaml:43: segments[2].signals.z.othr: unknown key 'othr'; did you mean 'other'?",
        ),
    ],
)
def test_unknown_keys_inside_a_segment(old: str, new: str, expected: str) -> None:
    assert scheme_error(edit(ROUTED, old, new)) == expected


def test_an_extra_score_needs_bands() -> None:
    text = edit(
        EXTRA, "    bands:\n      - {name: high, from: 60}\n      - {name: low, from: 0}\n", ""
    )
    assert scheme_error(text) == "s.yaml:9: scores.inertia.bands: required key 'bands' is missing"


def test_an_extra_scores_bands_must_end_at_0() -> None:
    text = edit(EXTRA, "{name: low, from: 0}", "{name: low, from: 10}")
    assert scheme_error(text) == (
        "s.yaml:15: scores.inertia.bands: the last band must start at 0 (`from: 0`) so every "
        "score has a band; 'low' starts at >= 10"
    )


def test_an_extra_score_with_an_unknown_key() -> None:
    text = edit(EXTRA, "    signals:\n      y:", "    signal:\n      y:")
    assert scheme_error(text) == (
        "s.yaml:10: scores.inertia.signal: unknown key 'signal'; did you mean 'signals'?"
    )


def test_load_scheme_names_the_file(tmp_path: Path) -> None:
    path = tmp_path / "seg.yaml"
    path.write_text(edit(ROUTED, "  - name: b\n", "  - name: a\n"), encoding="utf-8")
    with pytest.raises(SchemeError) as info:
        load_scheme(path)
    assert info.value.message == (
        f"{path}:20: segments[1].name: segment names must be unique ('a' repeats)"
    )
    assert info.value.exit_code == 3


# -- routing on inline rows -------------------------------------------------------------------

# Per row: where it goes and what its own definition gives it.
#   a:    x tiers >= 10 -> 100, >= 5 -> 50, else 0 (weight 3, missing: reject); y linear 0..10 (1)
#   b:    y linear 0..10 (1); z map gold 100, silver 50, no `other` (1)
#   rest: x tiers >= 20 -> 100, else 20 (1); z map gold 100, silver 50, other 0 (3)
#   r1 a+EU: both a and b hold, a is first. x 12 -> 100, y 4 -> 40: (300 + 40) / 4 = 85.0 good;
#            losses y 1/4 * 60 = 15 (x loses 0). rest would give x 12 only 20 points.
#   r2 b:   y 8 -> 80, z silver -> 50: (80 + 50) / 2 = 65.0 watch; losses z 25, y 10.
#            x is missing and a rejects a missing x, but a does not score r2.
#   r3 rest: x 25 -> 100, z bronze -> other 0: (100 + 0) / 4 = 25.0 risk; losses z 3/4*100 = 75.
#            b has no `other` for bronze, but b does not score r3.
#   r4 b:   z bronze is not in b's map -> rejected.
#   r5 a:   x missing, a's policy is reject -> rejected.
#   r6 rest: x 5 -> 20, z missing (redistributed): 20.0 risk, coverage 1/4; loss x 80.
#   r7 rest: kind and region null (a null condition does not hold): x 20 -> 100, z gold -> 100:
#            100.0 good, nothing lost.
ROWS = pl.DataFrame(
    {
        "id": ["r1", "r2", "r3", "r4", "r5", "r6", "r7"],
        "kind": ["a", "b", "c", "c", "a", "c", None],
        "region": ["EU", "EU", "US", "EU", "US", "US", None],
        "x": [12.0, None, 25.0, None, None, 5.0, 20.0],
        "y": [4.0, 8.0, None, 2.0, 5.0, None, 10.0],
        "z": ["gold", "silver", "bronze", "bronze", "gold", None, "gold"],
    }
)


@pytest.fixture(scope="module")
def routed() -> tuple[pl.DataFrame, pl.DataFrame]:
    return score_frame(ROWS, parse_scheme(ROUTED, "s.yaml"))


def test_output_columns_are_the_union_of_every_segments_signals(routed) -> None:
    scored, _ = routed
    assert scored.columns == [
        "id", "kind", "region", "x", "y", "z",
        "points_x", "points_y", "points_z",
        "score", "band", "coverage", "reasons", "definition", "scheme", "scheme_hash",
    ]  # fmt: skip


def test_each_row_goes_to_the_first_segment_whose_condition_holds(routed) -> None:
    scored, _ = routed
    assert scored.select("id", "definition").rows() == [
        ("r1", "a"),  # kind = 'a' and region = 'EU' both hold: the first wins
        ("r2", "b"),
        ("r3", "rest"),
        ("r6", "rest"),
        ("r7", "rest"),  # null conditions do not hold: the default takes it
    ]


def test_points_are_null_for_a_signal_the_rows_segment_lacks(routed) -> None:
    scored, _ = routed
    assert scored.select("id", "points_x", "points_y", "points_z").rows() == [
        ("r1", 100.0, 40.0, None),
        ("r2", None, 80.0, 50.0),
        ("r3", 100.0, None, 0.0),
        ("r6", 20.0, None, None),  # z is rest's, but missing: redistributed
        ("r7", 100.0, None, 100.0),
    ]


def test_score_band_coverage_reasons_come_from_the_rows_own_definition(routed) -> None:
    scored, _ = routed
    assert scored.select("id", "score", "band", "coverage", "reasons").rows() == [
        ("r1", 85.0, "good", 1.0, "y -15.0"),
        ("r2", 65.0, "watch", 1.0, "z -25.0; y -10.0"),
        ("r3", 25.0, "risk", 1.0, "z -75.0"),
        ("r6", 20.0, "risk", 0.25, "x -80.0"),
        ("r7", 100.0, "good", 1.0, ""),
    ]
    assert scored["scheme"].unique().to_list() == ["routed"]


def test_a_row_is_rejected_only_by_its_own_segments_rules(routed) -> None:
    _, rejects = routed
    assert rejects.select("row", "id", "reason").rows() == [
        (4, "r4", "z: 'bronze' is not in its map (gold, silver) and it has no `other`"),
        (5, "r5", "x: no value (missing: reject)"),
    ]


def test_text_in_another_segments_signal_does_not_reject_a_csv_row(tmp_path: Path) -> None:
    data = tmp_path / "rows.csv"
    data.write_text(
        "id,kind,region,x,y,z\n"
        "s1,b,EU,abc,8,silver\n"  # b: x is not b's signal; (80 + 50) / 2 = 65.0
        "s2,c,US,abc,,gold\n",  # rest: x is rest's signal -> rejected
        encoding="utf-8",
    )
    out, bad = tmp_path / "o.csv", tmp_path / "bad.csv"
    summary = score(data, parse_scheme(ROUTED, "s.yaml"), ScoreOptions(output=out, rejects=bad))
    assert summary["rows"] == {"read": 2, "scored": 1, "rejected": 1}
    assert pl.read_csv(out).select("id", "definition", "score").rows() == [("s1", "b", 65.0)]
    assert pl.read_csv(bad).select("row", "id", "reason").rows() == [
        (2, "s2", "x: 'abc' is not a number (column x)"),
    ]


def test_without_a_default_a_row_matching_no_segment_is_rejected() -> None:
    head, tail = ROUTED.split("  - name: rest\n")
    no_default = head + "bands:" + tail.split("bands:")[1]
    scheme = parse_scheme(no_default, "s.yaml")
    assert [name for name, _ in scheme.definitions()] == ["a", "b"]
    rows = ROWS.filter(pl.col("id").is_in(["r1", "r2", "r3"]))
    scored, rejects = score_frame(rows, scheme)
    assert scored.select("id", "definition", "score").rows() == [
        ("r1", "a", 85.0),
        ("r2", "b", 65.0),
    ]
    assert rejects.select("row", "id", "reason").rows() == [
        (3, "r3", "no segment matches (give the last segment no `when`)")
    ]


# Conditions on numbers read from a CSV. The scheme reads `mrr` (its value) and `logins`
# (a signal) as text from a CSV, so that a bad value rejects a row; a condition must still
# compare them as numbers. As text, '999' > '1000' and '10' < '9'.
NUMERIC_SCHEME = """\
name: by-size
id: id
value: mrr
segments:
  - name: big
    when: "mrr > 1000"
    signals:
      logins: {column: logins, weight: 1, points: [{at_least: 50, points: 100}, {points: 0}]}
  - name: active
    when: "logins > 9"
    signals:
      logins: {column: logins, weight: 1, points: [{at_least: 20, points: 100}, {points: 40}]}
  - name: rest
    signals:
      logins: {column: logins, weight: 1, points: [{at_least: 5, points: 100}, {points: 0}]}
bands:
  - {name: ok, from: 50}
  - {name: low, from: 0}
"""
NUMERIC_CSV = """\
id,mrr,logins,seats
A,999,10,5
B,230.76,5,200
C,5000,2,7
D,50,100,1
E,10000,9,30
F,1000,3,99
"""


def test_segment_conditions_compare_csv_numbers_as_numbers(tmp_path: Path) -> None:
    data = tmp_path / "c.csv"
    data.write_text(NUMERIC_CSV, encoding="utf-8")
    out = tmp_path / "o.parquet"
    scheme = parse_scheme(NUMERIC_SCHEME, "n.yaml")
    summary = score(data, scheme, ScoreOptions(output=out))
    assert summary["rows"] == {"read": 6, "scored": 6, "rejected": 0}
    got = pl.read_parquet(out).select("id", "definition", "score").rows()
    assert got == [
        ("A", "active", 40.0),  # 999 <= 1000; 10 > 9; logins 10 < 20 -> 40
        ("B", "rest", 100.0),  # 230.76 <= 1000; 5 <= 9; logins 5 >= 5 -> 100
        ("C", "big", 0.0),  # 5000 > 1000; logins 2 < 50 -> 0
        ("D", "active", 100.0),  # 50 <= 1000; 100 > 9; logins 100 >= 20 -> 100
        ("E", "big", 0.0),  # 10000 > 1000; logins 9 < 50 -> 0
        ("F", "rest", 0.0),  # 1000 is not > 1000; 3 <= 9; logins 3 < 5 -> 0
    ]


def test_segment_condition_on_a_numeric_column_the_scheme_does_not_read(tmp_path: Path) -> None:
    data = tmp_path / "c.csv"
    data.write_text(NUMERIC_CSV, encoding="utf-8")
    out = tmp_path / "o.csv"
    text = edit(NUMERIC_SCHEME, 'when: "mrr > 1000"', 'when: "seats >= 30"')
    score(data, parse_scheme(text, "n.yaml"), ScoreOptions(output=out))
    got = pl.read_csv(out).select("id", "definition").rows()
    # seats 5, 200, 7, 1, 30, 99: B, E and F are big; of the others A and D have logins > 9
    assert got == [
        ("A", "active"), ("B", "big"), ("C", "rest"), ("D", "active"), ("E", "big"), ("F", "big"),
    ]  # fmt: skip


def test_a_segment_condition_on_an_unknown_column_is_a_data_error(tmp_path: Path) -> None:
    data = tmp_path / "c.csv"
    data.write_text(NUMERIC_CSV, encoding="utf-8")
    text = edit(NUMERIC_SCHEME, 'when: "mrr > 1000"', 'when: "seat > 10"')
    with pytest.raises(DataError) as info:
        score(data, parse_scheme(text, "n.yaml"), ScoreOptions())
    assert info.value.exit_code == 4
    assert info.value.message == (
        f"{data}: column 'seat' (used by a segment condition) not found. Did you mean 'seats'? "
        "Columns in the file: id, mrr, logins, seats"
    )


# -- independent Polars scoring ----------------------------------------------------------------


def tiers(column: str, rules: list[tuple[str, float, float]], otherwise: float) -> pl.Expr:
    """Points from (operator, bound, points) rules tried in order; null stays null."""
    v = pl.col(column).cast(pl.Float64)
    ops = {">=": v.__ge__, ">": v.__gt__, "<=": v.__le__, "<": v.__lt__}
    chain = None
    for op, bound, points in rules:
        cond = ops[op](bound)
        chain = pl.when(cond).then(points) if chain is None else chain.when(cond).then(points)
    assert chain is not None
    return pl.when(v.is_null()).then(None).otherwise(chain.otherwise(otherwise)).cast(pl.Float64)


def weighted(parts: list[tuple[pl.Expr, float]]) -> tuple[pl.Expr, pl.Expr]:
    """Weighted mean over the present points (missing ones redistributed), and the nominal
    share of the weight that had data."""
    total = sum(w for _, w in parts)
    num = pl.sum_horizontal([(p * w).fill_null(0.0) for p, w in parts])
    den = pl.sum_horizontal([pl.when(p.is_not_null()).then(w).otherwise(0.0) for p, w in parts])
    return num / den, den / total


def round_half_up(x: pl.Expr) -> pl.Expr:
    """One decimal, halves away from zero (scores are >= 0)."""
    return (((x * 10) + 0.5).floor() / 10).round(1)  # the last round() drops 57.400000000000006


def enterprise_points() -> list[tuple[pl.Expr, float]]:
    return [
        (tiers("logins_month", [(">=", 60, 100), (">=", 30, 50)], 0), 20),
        (((pl.col("premium_adoption_pct") - 20) / 60 * 100).clip(0, 100), 30),  # 20 -> 0, 80 -> 100
        (tiers("critical_tickets_q", [("<=", 1, 100), ("<=", 3, 50)], 0), 30),
        (tiers("nps", [(">", 30, 100), (">=", 0, 50)], 0), 20),
    ]


def smb_points() -> list[tuple[pl.Expr, float]]:
    g = pl.col("usage_growth_yoy_pct")
    growth = (  # -20 -> 0, 0 -> 50, 20 -> 100, clamped
        pl.when(g <= 0)
        .then(((g + 20) / 20 * 50).clip(0, 50))
        .otherwise((50 + g / 20 * 50).clip(50, 100))
    )
    plan = pl.col("plan").replace_strict(
        {"enterprise": 100.0, "pro": 70.0, "starter": 40.0}, default=0.0, return_dtype=pl.Float64
    )
    return [
        (tiers("logins_month", [(">=", 30, 100), (">=", 10, 50)], 0), 40),
        (growth, 30),
        (pl.when(pl.col("plan").is_null()).then(None).otherwise(plan), 30),
    ]


def saas_points() -> list[tuple[pl.Expr, float]]:
    return [
        (tiers("logins_month", [(">=", 40, 100), (">=", 10, 50)], 0), 30),
        (tiers("premium_adoption_pct", [(">", 70, 100), (">=", 30, 50)], 0), 25),
        (tiers("critical_tickets_q", [("<=", 1, 100), ("<=", 4, 50)], 0), 20),
        (tiers("nps", [(">", 30, 100), (">=", 0, 50)], 0), 15),
        (tiers("usage_growth_yoy_pct", [(">=", 20, 100), (">=", 0, 50)], 0), 10),
    ]


def inertia_points() -> list[tuple[pl.Expr, float]]:
    return [
        ((pl.col("integrations_active") / 8 * 100).clip(0, 100), 40),  # 0..8
        ((pl.col("customisations") / 15 * 100).clip(0, 100), 30),  # 0..15
        ((pl.col("automated_workflows") / 25 * 100).clip(0, 100), 30),  # 0..25
    ]


def health_band(score: pl.Expr) -> pl.Expr:  # green > 70, orange >= 50, red
    return (
        pl.when(score > 70)
        .then(pl.lit("green"))
        .when(score >= 50)
        .then(pl.lit("orange"))
        .otherwise(pl.lit("red"))
    )


def inertia_band(score: pl.Expr) -> pl.Expr:  # high >= 60, medium >= 30, low
    return (
        pl.when(score >= 60)
        .then(pl.lit("high"))
        .when(score >= 30)
        .then(pl.lit("medium"))
        .otherwise(pl.lit("low"))
    )


def expected_frame() -> pl.DataFrame:
    """Every sample customer scored here: segments.yaml, saas.yaml and inertia.yaml."""
    ent, ent_cov = weighted(enterprise_points())
    smb, smb_cov = weighted(smb_points())
    saas, _ = weighted(saas_points())
    inertia, _ = weighted(inertia_points())
    is_ent = pl.col("segment") == "Enterprise"
    seg_score = round_half_up(pl.when(is_ent).then(ent).otherwise(smb))
    return (
        pl.read_csv(SAMPLE)
        .with_columns(
            pl.when(is_ent)
            .then(pl.lit("enterprise"))
            .otherwise(pl.lit("smb"))
            .alias("x_definition"),
            seg_score.alias("x_seg_score"),
            pl.when(is_ent).then(ent_cov).otherwise(smb_cov).round(3).alias("x_seg_coverage"),
            round_half_up(saas).alias("x_saas_score"),
            round_half_up(inertia).alias("x_inertia_score"),
        )
        .with_columns(
            health_band(pl.col("x_seg_score")).alias("x_seg_band"),
            health_band(pl.col("x_saas_score")).alias("x_saas_band"),
            inertia_band(pl.col("x_inertia_score")).alias("x_inertia_band"),
        )
    )


@pytest.fixture(scope="module")
def expected() -> pl.DataFrame:
    return expected_frame()


# -- schemes/segments.yaml on the sample --------------------------------------------------------


@pytest.fixture(scope="module")
def segmented(tmp_path_factory) -> tuple[dict, pl.DataFrame]:
    out = tmp_path_factory.mktemp("seg") / "scored.parquet"
    summary = score(SAMPLE, load_scheme(SCHEMES / "segments.yaml"), ScoreOptions(output=out))
    return summary, pl.read_parquet(out)


def test_segments_yaml_routes_60_enterprise_and_340_smb(segmented) -> None:
    summary, scored = segmented
    assert summary["rows"] == {"read": 400, "scored": 400, "rejected": 0}
    counts = dict(scored.group_by("definition").len().iter_rows())
    assert counts == {"enterprise": 60, "smb": 340}
    assert scored.filter(pl.col("definition") == "enterprise")["segment"].unique().to_list() == [
        "Enterprise"
    ]
    assert "Enterprise" not in scored.filter(pl.col("definition") == "smb")["segment"].to_list()


def test_segments_yaml_points_columns_union(segmented) -> None:
    _, scored = segmented
    points = [c for c in scored.columns if c.startswith("points_")]
    assert points == [
        "points_logins", "points_premium_adoption", "points_critical_tickets", "points_nps",
        "points_usage_growth", "points_plan",
    ]  # fmt: skip
    ent = scored.filter(pl.col("definition") == "enterprise")
    smb = scored.filter(pl.col("definition") == "smb")
    assert ent["points_plan"].null_count() == 60 and ent["points_usage_growth"].null_count() == 60
    assert smb["points_nps"].null_count() == 340
    assert smb["points_premium_adoption"].null_count() == 340


def test_segments_yaml_hand_computed_customers(segmented) -> None:
    _, scored = segmented
    rows = {
        r["customer_id"]: r
        for r in scored.filter(pl.col("customer_id").is_in(["C0001", "C0003"])).iter_rows(
            named=True
        )
    }
    # C0003, Enterprise: logins 80 -> 100 (w20), premium 41.6 -> (41.6-20)/60*100 = 36 (w30),
    # critical 0 -> 100 (w30), nps missing (redistributed):
    # (20*100 + 30*36 + 30*100) / 80 = 6080 / 80 = 76.0 green, coverage 0.8
    c3 = rows["C0003"]
    assert (c3["definition"], c3["score"], c3["band"], c3["coverage"]) == (
        "enterprise",
        76.0,
        "green",
        0.8,
    )
    assert c3["points_premium_adoption"] == 36.0 and c3["points_nps"] is None
    # C0001, SMB: logins 28 -> 50 (w40), growth 12 -> 50 + 12/20*50 = 80 (w30), starter 40 (w30):
    # (2000 + 2400 + 1200) / 100 = 56.0 orange
    c1 = rows["C0001"]
    assert (c1["definition"], c1["score"], c1["band"], c1["coverage"]) == (
        "smb",
        56.0,
        "orange",
        1.0,
    )
    assert (c1["points_logins"], c1["points_usage_growth"], c1["points_plan"]) == (50.0, 80.0, 40.0)


def test_segments_yaml_matches_an_independent_polars_computation(segmented, expected) -> None:
    _, scored = segmented
    joined = scored.join(
        expected.select("customer_id", pl.col("^x_seg.*$"), "x_definition"), on="customer_id"
    )
    assert joined.height == 400
    assert (joined["definition"] == joined["x_definition"]).all()
    wrong = joined.filter(
        (pl.col("score") != pl.col("x_seg_score"))
        | (pl.col("band") != pl.col("x_seg_band"))
        | (pl.col("coverage") != pl.col("x_seg_coverage"))
    )
    assert wrong.select("customer_id", "score", "x_seg_score").rows() == []


# -- extra scores: inertia beside saas --------------------------------------------------------------


@pytest.fixture(scope="module")
def with_inertia(tmp_path_factory) -> tuple[dict, pl.DataFrame]:
    out = tmp_path_factory.mktemp("inertia") / "scored.parquet"
    options = ScoreOptions(output=out, more=[load_scheme(SCHEMES / "inertia.yaml")])
    summary = score(SAMPLE, load_scheme(SCHEMES / "saas.yaml"), options)
    return summary, pl.read_parquet(out)


def test_more_schemes_add_prefixed_columns(with_inertia) -> None:
    _, scored = with_inertia
    added = [c for c in scored.columns if c.startswith("inertia_")]
    assert added == [
        "inertia_points_integrations", "inertia_points_customisations", "inertia_points_workflows",
        "inertia_score", "inertia_band", "inertia_coverage", "inertia_reasons",
    ]  # fmt: skip
    # the main score's columns are unchanged and come first
    assert scored.columns.index("reasons") < scored.columns.index("inertia_points_integrations")
    assert scored.columns[-3:] == ["scheme", "scheme_hash", "alerts"]


def test_inertia_of_hand_computed_customers(with_inertia) -> None:
    _, scored = with_inertia
    rows = {r["customer_id"]: r for r in scored.head(2).iter_rows(named=True)}
    # C0001: integrations 5 -> 62.5, customisations 9 -> 60, workflows 16 -> 64:
    # 0.4*62.5 + 0.3*60 + 0.3*64 = 25 + 18 + 19.2 = 62.2 high
    c1 = rows["C0001"]
    assert (
        c1["inertia_points_integrations"],
        c1["inertia_points_customisations"],
        c1["inertia_points_workflows"],
    ) == (62.5, 60.0, 64.0)
    assert (c1["inertia_score"], c1["inertia_band"], c1["inertia_coverage"]) == (62.2, "high", 1.0)
    # losses: integrations 0.4*37.5 = 15, customisations 0.3*40 = 12, workflows 0.3*36 = 10.8
    assert c1["inertia_reasons"] == "integrations -15.0; customisations -12.0; workflows -10.8"
    # C0002: 8 -> 100, 14 -> 93.33, 24 -> 96: 40 + 28 + 28.8 = 96.8 high
    c2 = rows["C0002"]
    assert (c2["inertia_score"], c2["inertia_band"]) == (96.8, "high")
    assert c2["inertia_points_customisations"] == 93.33


def test_inertia_scores_match_an_independent_polars_computation(with_inertia, expected) -> None:
    _, scored = with_inertia
    joined = scored.join(expected, on="customer_id", suffix="_x")
    assert joined.height == 400
    wrong = joined.filter(
        (pl.col("inertia_score") != pl.col("x_inertia_score"))
        | (pl.col("inertia_band") != pl.col("x_inertia_band"))
        | (pl.col("score") != pl.col("x_saas_score"))
        | (pl.col("band") != pl.col("x_saas_band"))
    )
    assert wrong.select("customer_id", "inertia_score", "x_inertia_score").rows() == []


def test_the_summary_matrix_is_a_crosstab_of_band_and_inertia_band(with_inertia, expected) -> None:
    summary, _ = with_inertia
    (matrix,) = summary["matrices"]
    assert matrix["score"] == "inertia"
    assert matrix["rows"] == ["green", "orange", "red"]
    assert matrix["columns"] == ["high", "medium", "low"]
    cross = {
        (r["x_saas_band"], r["x_inertia_band"]): (r["n"], r["mrr"])
        for r in expected.group_by("x_saas_band", "x_inertia_band")
        .agg(pl.len().alias("n"), pl.col("mrr").sum())
        .iter_rows(named=True)
    }
    cells = {(c["band"], c["other"]): (c["customers"], c["value"]) for c in matrix["cells"]}
    assert len(matrix["cells"]) == 9
    for key, (n, value) in cells.items():
        want_n, want_value = cross.get(key, (0, 0.0))
        assert n == want_n, key
        assert value == pytest.approx(want_value, abs=0.006), key
    assert sum(n for n, _ in cells.values()) == 400


def test_more_schemes_with_a_different_id_column(tmp_path: Path) -> None:
    other = tmp_path / "other.yaml"
    other.write_text(
        (SCHEMES / "inertia.yaml").read_text().replace("id: customer_id", "id: account_id"),
        encoding="utf-8",
    )
    main = load_scheme(SCHEMES / "saas.yaml")
    out = tmp_path / "o.parquet"
    with pytest.raises(OptionError) as info:
        score(SAMPLE, main, ScoreOptions(output=out, more=[load_scheme(other)]))
    assert info.value.message == (
        f"{other}: its id column 'account_id' differs from {SCHEMES / 'saas.yaml'}'s "
        "'customer_id'; schemes scored together must share the id"
    )
    assert info.value.exit_code == 2
    assert not out.exists()


@pytest.mark.parametrize(
    ("main", "more"),
    [
        ("health-inertia.yaml", "inertia.yaml"),  # `scores: inertia` and a scheme named inertia
        ("saas.yaml", "saas.yaml"),  # a scheme beside itself
    ],
)
def test_two_scores_with_the_same_name(tmp_path: Path, main: str, more: str) -> None:
    out = tmp_path / "o.parquet"
    name = load_scheme(SCHEMES / more).name
    with pytest.raises(OptionError) as info:
        score(
            SAMPLE,
            load_scheme(SCHEMES / main),
            ScoreOptions(output=out, more=[load_scheme(SCHEMES / more)]),
        )
    assert info.value.message == (
        f"{SCHEMES / more}: two scores are named {name!r}; rename one scheme"
    )
    assert not out.exists()


def test_two_more_schemes_with_the_same_name(tmp_path: Path) -> None:
    inertia = load_scheme(SCHEMES / "inertia.yaml")
    with pytest.raises(OptionError) as info:
        score(SAMPLE, load_scheme(SCHEMES / "saas.yaml"), ScoreOptions(more=[inertia, inertia]))
    assert info.value.message == (
        f"{SCHEMES / 'inertia.yaml'}: two scores are named 'inertia'; rename one scheme"
    )


# -- health-inertia.yaml: scores: and alerts that combine the two -------------------------------


@pytest.fixture(scope="module")
def health_inertia(tmp_path_factory) -> tuple[dict, pl.DataFrame]:
    out = tmp_path_factory.mktemp("hi") / "scored.parquet"
    summary = score(SAMPLE, load_scheme(SCHEMES / "health-inertia.yaml"), ScoreOptions(output=out))
    return summary, pl.read_parquet(out)


def test_health_inertia_writes_the_inertia_columns(health_inertia, with_inertia) -> None:
    _, scored = health_inertia
    _, beside = with_inertia
    columns = [
        "customer_id",
        "score",
        "band",
        *[c for c in beside.columns if c.startswith("inertia_")],
    ]
    # `scores: inertia` in the scheme gives what `--scheme inertia.yaml` beside saas gives
    assert scored.select(columns).equals(beside.select(columns))


def test_health_inertia_alert_counts(health_inertia, expected) -> None:
    summary, scored = health_inertia
    band, inertia = pl.col("x_saas_band"), pl.col("x_inertia_band")
    want = {
        "rescue_priority": expected.filter((band == "orange") & (inertia == "low")).height,
        "urgent_rescue": expected.filter((band == "red") & (inertia != "high")).height,
        "secure_not_urgent": expected.filter((band == "orange") & (inertia == "high")).height,
    }
    assert all(want.values())  # the sample has customers in each
    assert {a["alert"]: a["customers"] for a in summary["alerts"]} == want
    assert [a["severity"] for a in summary["alerts"]] == ["high", "critical", "low"]
    fired = {
        name: scored.filter(pl.col("alerts").str.contains(name, literal=True)).height
        for name in want
    }
    assert fired == want
    # the rows that fire rescue_priority are exactly orange with low inertia
    ids = scored.filter(pl.col("alerts").str.contains("rescue_priority", literal=True))[
        "customer_id"
    ]
    want_ids = expected.filter((band == "orange") & (inertia == "low"))["customer_id"]
    assert sorted(ids.to_list()) == sorted(want_ids.to_list())


def test_health_inertia_matrix_cells_sum_to_400(health_inertia) -> None:
    summary, scored = health_inertia
    (matrix,) = summary["matrices"]
    cross = dict(
        ((r["band"], r["inertia_band"]), r["len"])
        for r in scored.group_by("band", "inertia_band").len().iter_rows(named=True)
    )
    assert {(c["band"], c["other"]): c["customers"] for c in matrix["cells"]} == {
        (b, o): cross.get((b, o), 0)
        for b in ("green", "orange", "red")
        for o in ("high", "medium", "low")
    }
    assert sum(c["customers"] for c in matrix["cells"]) == 400


# -- describe and check_data --------------------------------------------------------------------------


def test_describe_lists_segments_with_their_signals() -> None:
    d = describe(load_scheme(SCHEMES / "segments.yaml"))
    assert d["signals"] is None and d["groups"] is None
    assert [(s["name"], s["when"]) for s in d["segments"]] == [
        ("enterprise", "segment = 'Enterprise'"),
        ("smb", None),
    ]
    ent, smb = d["segments"]
    # enterprise weights 20 + 30 + 30 + 20 = 100; smb 40 + 30 + 30 = 100
    assert [(s["name"], s["share"]) for s in ent["signals"]] == [
        ("logins", 20.0), ("premium_adoption", 30.0), ("critical_tickets", 30.0), ("nps", 20.0),
    ]  # fmt: skip
    assert [(s["name"], s["share"]) for s in smb["signals"]] == [
        ("logins", 40.0), ("usage_growth", 30.0), ("plan", 30.0),
    ]  # fmt: skip
    # the same signal name means different rules in each segment
    assert ent["signals"][0]["rules"][0] == {"when": ">= 60", "points": 100.0}
    assert smb["signals"][0]["rules"][0] == {"when": ">= 30", "points": 100.0}
    assert d["scores"] == []
    assert [b["band"] for b in d["bands"]] == ["green", "orange", "red"]


def test_describe_lists_extra_scores_with_their_bands() -> None:
    d = describe(load_scheme(SCHEMES / "health-inertia.yaml"))
    assert d["segments"] is None
    (score,) = d["scores"]
    assert score["name"] == "inertia"
    assert [(s["name"], s["share"], s["kind"]) for s in score["signals"]] == [
        ("integrations", 40.0, "linear"),
        ("customisations", 30.0, "linear"),
        ("workflows", 30.0, "linear"),
    ]
    assert score["bands"] == [
        {"band": "high", "color": "blue", "range": "60 <= score <= 100"},
        {"band": "medium", "color": "cyan", "range": "30 <= score < 60"},
        {"band": "low", "color": "grey", "range": "0 <= score < 30"},
    ]
    assert [s["name"] for s in d["signals"]] == [
        "logins", "premium_adoption", "critical_tickets", "nps", "usage_growth",
    ]  # fmt: skip


def test_check_data_counts_rows_per_segment_and_missing_shares_per_definition() -> None:
    result = check_data(load_scheme(SCHEMES / "segments.yaml"), SAMPLE)
    assert result["rows"] == {"read": 400, "scored": 400, "rejected": 0}
    assert result["definitions"] == {"enterprise": 60, "smb": 340}
    raw = pl.read_csv(SAMPLE)
    ent = raw.filter(pl.col("segment") == "Enterprise")
    smb = raw.filter(pl.col("segment") != "Enterprise")
    shares = {(c["definition"], c["signal"]): c["missing_share"] for c in result["columns"]}
    assert list(shares) == [
        ("enterprise", "logins"), ("enterprise", "premium_adoption"),
        ("enterprise", "critical_tickets"), ("enterprise", "nps"),
        ("smb", "logins"), ("smb", "usage_growth"), ("smb", "plan"),
    ]  # fmt: skip
    assert shares[("enterprise", "nps")] == round(ent["nps"].null_count() / ent.height, 4)
    assert shares[("smb", "usage_growth")] == round(
        smb["usage_growth_yoy_pct"].null_count() / smb.height, 4
    )
    # 8 of the 60 enterprise rows lack an nps: 13.3 %, not the whole file's share
    assert shares[("enterprise", "nps")] == round(8 / 60, 4)
    assert shares[("enterprise", "nps")] != round(raw["nps"].null_count() / raw.height, 4)
    assert shares[("smb", "usage_growth")] != round(
        raw["usage_growth_yoy_pct"].null_count() / raw.height, 4
    )
    assert shares[("enterprise", "logins")] == round(ent["logins_month"].null_count() / 60, 4)
    per_band = dict(expected_frame().group_by("x_seg_band").len().iter_rows())
    assert result["bands"] == [
        {"band": b, "customers": per_band.get(b, 0)} for b in ("green", "orange", "red")
    ]
