"""Numbers in a scheme are finite and sane: every weight, points value, tier bound, linear
breakpoint, band threshold, fixed missing points, `reasons` and trend span. NaN and
infinity (`.nan`, `.inf`, `-.inf`) and booleans (`true`, `false`) are refused naming the
key path and line; weights are bounded so that their sums cannot overflow, tier bounds
and breakpoints so that their arithmetic stays exact; at those bounds, scores are still
right."""

from __future__ import annotations

import csv
from pathlib import Path

import pytest
from adversary import BASE
from support import invoke, write

from chs.errors import SCHEME, SchemeError
from chs.scheme import parse_scheme

GROUPS = """\
name: t
id: id
groups:
  g:
    weight: 1
    signals:
      a: {column: a, weight: 1, points: [{points: 0}]}
bands: [{name: ok, from: 0}]
"""


def error(text: str) -> str:
    """The message parse_scheme gives for `text`, checking that it is a scheme error."""
    with pytest.raises(SchemeError) as info:
        parse_scheme(text, "s.yaml")
    assert info.value.exit_code == SCHEME == 3
    return info.value.message


def signal(points: str) -> str:
    """BASE with its `points:` line (line 7) replaced."""
    return BASE.replace("    points: [{points: 0}]\n", f"    {points}\n")


NOT_FINITE = [
    pytest.param(BASE.replace("weight: 1", "weight: .inf"), "s.yaml:6: signals.a.weight: must be a finite number (got inf)", id="weight-inf"),
    pytest.param(BASE.replace("weight: 1", "weight: .nan"), "s.yaml:6: signals.a.weight: must be a finite number (got nan)", id="weight-nan"),
    pytest.param(BASE.replace("weight: 1", "weight: -.inf"), "s.yaml:6: signals.a.weight: must be a finite number (got -inf)", id="weight-minus-inf"),
    # a text is refused as such, before it could spell a number (finite or not)
    pytest.param(BASE.replace("weight: 1", "weight: 'nan'"), "s.yaml:6: signals.a.weight: must be a number, not the text 'nan'", id="weight-nan-as-text"),
    pytest.param(GROUPS.replace("weight: 1\n", "weight: .inf\n", 1), "s.yaml:5: groups.g.weight: must be a finite number (got inf)", id="group-weight-inf"),
    pytest.param(signal("points: [{at_least: .nan, points: 1}, {points: 0}]"), "s.yaml:7: signals.a.points[0].at_least: must be a finite number (got nan)", id="at_least-nan"),
    pytest.param(signal("points: [{above: .inf, points: 1}, {points: 0}]"), "s.yaml:7: signals.a.points[0].above: must be a finite number (got inf)", id="above-inf"),
    pytest.param(signal("points: [{at_most: -.inf, points: 1}, {points: 0}]"), "s.yaml:7: signals.a.points[0].at_most: must be a finite number (got -inf)", id="at_most-minus-inf"),
    pytest.param(signal("points: [{below: .nan, points: 1}, {points: 0}]"), "s.yaml:7: signals.a.points[0].below: must be a finite number (got nan)", id="below-nan"),
    pytest.param(signal("points: [{points: .inf}]"), "s.yaml:7: signals.a.points[0].points: must be a finite number (got inf)", id="tier-points-inf"),
    pytest.param(signal("linear: [[.nan, 0], [10, 100]]"), "s.yaml:7: signals.a.linear[0][0]: must be a finite number (got nan)", id="linear-value-nan"),
    pytest.param(signal("linear: [[0, 0], [10, .inf]]"), "s.yaml:7: signals.a.linear[1][1]: must be a finite number (got inf)", id="linear-points-inf"),
    pytest.param(signal("map: {x: .nan}"), "s.yaml:7: signals.a.map.x: must be a finite number (got nan)", id="map-points-nan"),
    pytest.param(signal("map: {x: 1}\n    other: .inf"), "s.yaml:8: signals.a.other: must be a finite number (got inf)", id="other-inf"),
    pytest.param(signal("map: {x: 1}\n    missing: .nan"), "s.yaml:8: signals.a.missing: must be a finite number (got nan)", id="signal-missing-nan"),
    pytest.param(BASE + "missing: -.inf\n", "s.yaml:9: missing: must be a finite number (got -inf)", id="scheme-missing-minus-inf"),
    pytest.param(BASE.replace("from: 0}", "from: .inf}"), "s.yaml:8: bands[0].from: must be a finite number (got inf)", id="band-from-inf"),
    pytest.param(BASE.replace("[{name: ok, from: 0}]", "[{name: hi, above: .nan}, {name: ok, from: 0}]"), "s.yaml:8: bands[0].above: must be a finite number (got nan)", id="band-above-nan"),
    pytest.param(BASE + "reasons: .inf\n", "s.yaml:9: reasons: must be a finite number (got inf)", id="reasons-inf"),
    pytest.param(BASE + "trends: [30, .nan]\n", "s.yaml:9: trends[1]: must be a finite number (got nan)", id="trend-span-nan"),
]  # fmt: skip


@pytest.mark.parametrize(("text", "expected"), NOT_FINITE)
def test_a_number_that_is_not_finite_is_refused(text: str, expected: str) -> None:
    assert error(text) == expected


# YAML's true and false are bools, which pydantic read as the numbers 1 and 0: `weight:
# true` weighed 1, `from: false` started a band at 0, `reasons: true` listed one reason.
NOT_A_NUMBER = [
    pytest.param(BASE.replace("weight: 1", "weight: true"), "s.yaml:6: signals.a.weight: must be a number (got true)", id="weight"),
    pytest.param(GROUPS.replace("weight: 1\n", "weight: true\n", 1), "s.yaml:5: groups.g.weight: must be a number (got true)", id="group-weight"),
    pytest.param(signal("points: [{at_least: true, points: 1}, {points: 0}]"), "s.yaml:7: signals.a.points[0].at_least: must be a number (got true)", id="at_least"),
    pytest.param(signal("points: [{below: false, points: 1}, {points: 0}]"), "s.yaml:7: signals.a.points[0].below: must be a number (got false)", id="below"),
    pytest.param(signal("points: [{points: true}]"), "s.yaml:7: signals.a.points[0].points: must be a number (got true)", id="tier-points"),
    pytest.param(signal("linear: [[false, 0], [10, 100]]"), "s.yaml:7: signals.a.linear[0][0]: must be a number (got false)", id="breakpoint-value"),
    pytest.param(signal("linear: [[0, 0], [10, true]]"), "s.yaml:7: signals.a.linear[1][1]: must be a number (got true)", id="breakpoint-points"),
    pytest.param(signal("map: {x: true}"), "s.yaml:7: signals.a.map.x: must be a number (got true)", id="map-points"),
    pytest.param(signal("map: {x: 1}\n    other: true"), "s.yaml:8: signals.a.other: must be a number (got true)", id="other"),
    pytest.param(BASE.replace("from: 0}", "from: false}"), "s.yaml:8: bands[0].from: must be a number (got false)", id="band-from"),
    pytest.param(BASE.replace("[{name: ok, from: 0}]", "[{name: hi, above: true}, {name: ok, from: 0}]"), "s.yaml:8: bands[0].above: must be a number (got true)", id="band-above"),
    pytest.param(BASE + "reasons: true\n", "s.yaml:9: reasons: must be a number (got true)", id="reasons"),
    pytest.param(BASE + "trends: [30, true]\n", "s.yaml:9: trends[1]: must be a number (got true)", id="trend-span"),
    # a number in quotes is text, which pydantic read as the number it spells
    pytest.param(BASE.replace("weight: 1", 'weight: "3"'), "s.yaml:6: signals.a.weight: must be a number, not the text '3'", id="weight-text"),
    pytest.param(signal("points: [{at_least: '1e3', points: 1}, {points: 0}]"), "s.yaml:7: signals.a.points[0].at_least: must be a number, not the text '1e3'", id="at-least-text"),
    pytest.param(signal("linear: [[0, 0], [10, '100']]"), "s.yaml:7: signals.a.linear[1][1]: must be a number, not the text '100'", id="breakpoint-text"),
    pytest.param(BASE.replace("from: 0}", "from: 'inf'}"), "s.yaml:8: bands[0].from: must be a number, not the text 'inf'", id="band-from-text"),
    # `missing` also takes a policy's name, so it says which
    pytest.param(BASE + "missing: true\n", "s.yaml:9: missing: must be one of redistribute, zero, reject or points 0-100 (got true)", id="missing"),
]  # fmt: skip


@pytest.mark.parametrize(("text", "expected"), NOT_A_NUMBER)
def test_a_boolean_is_not_a_number(text: str, expected: str) -> None:
    assert error(text) == expected


def test_a_boolean_weight_is_refused_by_chs_check(tmp_path: Path) -> None:
    scheme = write(tmp_path / "s.yaml", BASE.replace("weight: 1", "weight: true"))
    result = invoke("check", scheme)
    assert result.exit_code == 3
    assert result.stdout == ""
    assert result.stderr == f"Error: {scheme}:6: signals.a.weight: must be a number (got true)\n"


def test_an_integer_too_large_for_a_float_is_not_a_finite_number() -> None:
    text = BASE.replace("weight: 1", "weight: 1" + "0" * 400)
    assert error(text) == (
        "s.yaml:6: signals.a.weight: must be a finite number (got 100000000000000000000000000000000000000…)"
    )


def test_an_integer_of_5000_digits_is_malformed_yaml_not_a_crash() -> None:
    # Python refuses to convert it (sys.int_info.str_digits_check_threshold) with a ValueError
    text = BASE.replace("weight: 1", "weight: 1" + "0" * 5_000)
    assert error(text) == (
        "s.yaml:6: malformed YAML: '10000000000000000000000000000000000000… is not a valid int"
    )


def test_an_impossible_date_is_malformed_yaml_not_a_crash() -> None:
    assert error(BASE.replace("name: t", "name: 2024-13-45")) == (
        "s.yaml:1: malformed YAML: '2024-13-45' is not a valid timestamp"
    )


# -- bounds: weights, tier bounds and linear breakpoints --------------------------------------


def two_weights(weight: str) -> str:
    return BASE.replace(
        "    weight: 1\n    points: [{points: 0}]\n",
        f"    weight: {weight}\n    points: [{{points: 0}}]\n"
        f"  b: {{column: b, weight: {weight}, points: [{{points: 0}}]}}\n",
    )


def test_two_weights_of_1e308_are_refused() -> None:
    # Their sum overflows to inf: every share was 0 and every score NaN.
    assert error(two_weights("1.0e+308")) == (
        "s.yaml: 2 problems in the scheme\n"
        "  s.yaml:6: signals.a.weight: input should be less than or equal to 1000000 (got 1e+308)\n"
        "  s.yaml:8: signals.b.weight: input should be less than or equal to 1000000 (got 1e+308)"
    )


def test_a_weight_just_over_the_bound_is_refused() -> None:
    assert error(BASE.replace("weight: 1", "weight: 1000001")) == (
        "s.yaml:6: signals.a.weight: input should be less than or equal to 1000000 (got 1000001)"
    )


def test_a_weight_too_small_to_stay_precise_is_refused() -> None:
    assert error(BASE.replace("weight: 1", "weight: 1.0e-9")) == (
        "s.yaml:6: signals.a.weight: must be at least 0.000001 (got 1e-09)"
    )


def test_weights_at_both_bounds_load() -> None:
    shares = [f.share for f in parse_scheme(two_weights("1000000")).flat_signals()]
    assert shares == [0.5, 0.5]
    small = BASE.replace("weight: 1", "weight: 0.000001")
    assert parse_scheme(small).flat_signals()[0].signal.weight == 0.000001


def test_linear_breakpoints_of_1e308_are_refused() -> None:
    # Their distance overflows to inf: every value scored the first breakpoint's points.
    assert error(signal("linear: [[-1.0e+308, 0], [1.0e+308, 100]]")) == (
        "s.yaml: 2 problems in the scheme\n"
        "  s.yaml:7: signals.a.linear[0][0]: "
        "input should be greater than or equal to -1e+15 (got -1e+308)\n"
        "  s.yaml:7: signals.a.linear[1][0]: "
        "input should be less than or equal to 1e+15 (got 1e+308)"
    )


def test_a_tier_bound_over_1e15_is_refused() -> None:
    assert error(signal("points: [{at_least: 1.0e+16, points: 1}, {points: 0}]")) == (
        "s.yaml:7: signals.a.points[0].at_least: "
        "input should be less than or equal to 1e+15 (got 1e+16)"
    )


def test_a_tier_bound_of_1e15_loads_and_reads_in_chs_check_form() -> None:
    scheme = parse_scheme(signal("points: [{below: -1000000000000000, points: 1}, {points: 0}]"))
    tier = scheme.flat_signals()[0].signal.points[0]  # type: ignore[index]
    assert tier.interval().text() == "< -1e+15"


# -- at the bounds the scores are still right -------------------------------------------------


def scored(tmp_path: Path, scheme: str, data: str) -> list[tuple[str, str]]:
    """(id, score) of each row `chs score` writes."""
    out = tmp_path / "out.csv"
    result = invoke(
        "score",
        write(tmp_path / "in.csv", data),
        "-s",
        write(tmp_path / "s.yaml", scheme),
        "-o",
        out,
    )
    assert result.exit_code == 0, result.output
    with out.open(newline="", encoding="utf-8") as f:
        return [(row["id"], row["score"]) for row in csv.DictReader(f)]


def test_two_weights_at_the_bound_score_their_mean(tmp_path: Path) -> None:
    scheme = two_weights("1000000").replace(
        "[{points: 0}]", "[{at_least: 1, points: 100}, {points: 0}]"
    )
    # a: both 100 -> 100; b: 100 and 0 -> 50; c: both 0 -> 0
    assert scored(tmp_path, scheme, "id,a,b\na,1,1\nb,1,0\nc,0,0\n") == [
        ("a", "100.0"),
        ("b", "50.0"),
        ("c", "0.0"),
    ]


def test_linear_breakpoints_at_the_bound_interpolate(tmp_path: Path) -> None:
    scheme = signal("linear: [[-1000000000000000, 0], [1000000000000000, 100]]")
    # 0 is half way -> 50; 5e14 is three quarters -> 75; beyond both ends: clamped
    data = "id,a\nm,0\nq,500000000000000\nlo,-3e15\nhi,1e300\n"
    assert scored(tmp_path, scheme, data) == [
        ("m", "50.0"),
        ("q", "75.0"),
        ("lo", "0.0"),
        ("hi", "100.0"),
    ]
