"""The scheme: loading, validation messages (file:line: key.path: problem), tier
semantics, warnings and notes, the digest, and the checked-in JSON Schema."""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import pytest
import yaml

from chs.errors import SCHEME, DataError, SchemeError
from chs.scheme import Interval, Tier, json_schema, load_scheme, parse_scheme, tier_problems
from chs.scheme.expression import FUNCTIONS

ROOT = Path(__file__).resolve().parent.parent
SCHEMES = ROOT / "schemes"
EXAMPLE = SCHEMES / "example.yaml"
SAAS = SCHEMES / "saas.yaml"
SIMPLE_CRM = SCHEMES / "simple-crm.yaml"
SCHEMA_FILE = SCHEMES / "chs-scheme.schema.json"
SHIPPED = sorted(SCHEMES.glob("*.yaml"))

COLORS = (
    "red, orange, yellow, green, blue, cyan, magenta, purple, white, grey, "
    "bright_red, bright_yellow, bright_green, bright_blue"
)


def scheme_error(text: str, path: str = "s.yaml") -> str:
    """The message of the SchemeError that `text` raises; checks its exit code."""
    with pytest.raises(SchemeError) as info:
        parse_scheme(text, path)
    assert info.value.exit_code == SCHEME == 3
    return info.value.message


# A one-signal scheme whose signal body starts on line 5:
#   1 name / 2 id / 3 signals: / 4 logins: / 5.. body / then bands.
HEAD = "name: t\nid: cid\nsignals:\n  logins:\n"
BANDS = "bands:\n  - {name: good, from: 50}\n  - {name: bad, from: 0}\n"


def one_signal(*body: str, bands: str = BANDS) -> str:
    return HEAD + "".join(f"    {line}\n" for line in body) + bands


# Standard body (lines 5-8) so that `bands:` is line 9 and its items lines 10, 11, ...
BODY = ("column: logins", "weight: 1", "points:", "  - {points: 0}")


def with_bands(*items: str) -> str:
    return one_signal(*BODY, bands="bands:\n" + "".join(f"  - {i}\n" for i in items))


# -- the shipped schemes ------------------------------------------------------------------


def test_example_scheme_loads_with_shares_and_bands() -> None:
    scheme = load_scheme(EXAMPLE)
    assert scheme.name == "saas-b2b"
    assert scheme.source == EXAMPLE
    flats = scheme.flat_signals()
    # weights 30, 20, 10, 40 sum to 100, so shares are weight / 100
    assert [f.name for f in flats] == ["logins", "critical_tickets", "usage_growth", "plan"]
    assert [f.share for f in flats] == pytest.approx([0.30, 0.20, 0.10, 0.40])
    assert [f.group for f in flats] == [None, None, None, None]
    assert [f.signal.kind for f in flats] == ["tiers", "tiers", "linear", "map"]
    assert [(b.name, b.threshold, b.strict) for b in scheme.bands] == [
        ("ambassador", 91, False),
        ("engaged", 71, False),
        ("alert", 41, False),
        ("critical", 0, False),
    ]
    assert scheme.warnings == []
    assert scheme.notes == []


@pytest.mark.parametrize("path", SHIPPED, ids=lambda p: p.name)
def test_every_shipped_scheme_loads_without_warnings(path: Path) -> None:
    scheme = load_scheme(path)
    assert scheme.warnings == []
    # in every definition (each segment, each extra score) the shares make the whole score
    for _, definition in scheme.definitions() + scheme.extra_scores():
        assert sum(f.share for f in definition.flat_signals()) == pytest.approx(1.0)


def test_saas_scheme_shares_and_above_band() -> None:
    scheme = load_scheme(SAAS)
    # weights 30, 25, 20, 15, 10 sum to 100
    assert [(f.name, round(f.share, 4)) for f in scheme.flat_signals()] == [
        ("logins", 0.30),
        ("premium_adoption", 0.25),
        ("critical_tickets", 0.20),
        ("nps", 0.15),
        ("usage_growth", 0.10),
    ]
    assert [(b.name, b.text()) for b in scheme.bands] == [
        ("green", "> 70"),
        ("orange", ">= 50"),
        ("red", ">= 0"),
    ]


def test_missing_policy_is_inherited_signal_then_group_then_scheme() -> None:
    text = """\
name: t
id: cid
missing: zero
groups:
  a:
    weight: 1
    missing: 50
    signals:
      x: {column: x, weight: 1, map: {k: 1}}
      y: {column: y, weight: 3, map: {k: 1}, missing: reject}
  b:
    weight: 3
    signals:
      z: {column: z, weight: 1, map: {k: 1}}
bands:
  - {name: all, from: 0}
"""
    flats = parse_scheme(text, "s.yaml").flat_signals()
    # shares: a = 1/4, b = 3/4; in a, x = 1/4 and y = 3/4 -> 1/16, 3/16; z = 3/4
    assert [(f.name, f.group, f.share, f.missing) for f in flats] == [
        ("x", "a", pytest.approx(1 / 16), 50.0),
        ("y", "a", pytest.approx(3 / 16), "reject"),
        ("z", "b", pytest.approx(3 / 4), "zero"),
    ]


# -- the digest ---------------------------------------------------------------------------


def test_digest_is_12_hex_and_ignores_comments_and_layout() -> None:
    original = load_scheme(EXAMPLE)
    assert re.fullmatch(r"[0-9a-f]{12}", original.digest)
    # Same content in a different layout: block style, no comments, another path.
    data = yaml.safe_load(EXAMPLE.read_text(encoding="utf-8"))
    relaid = parse_scheme(
        yaml.safe_dump(data, default_flow_style=False, sort_keys=False), "elsewhere.yaml"
    )
    assert relaid.digest == original.digest
    # Extra comments, blank lines and spacing.
    text = EXAMPLE.read_text(encoding="utf-8")
    noisy = "# a new comment\n\n" + text.replace("weight: 30", "weight:    30   # tuned")
    assert parse_scheme(noisy, "x.yaml").digest == original.digest


def test_digest_changes_when_a_weight_changes() -> None:
    text = EXAMPLE.read_text(encoding="utf-8")
    assert text.count("weight: 30") == 1
    changed = parse_scheme(text.replace("weight: 30", "weight: 31"), "x.yaml")
    assert changed.digest != load_scheme(EXAMPLE).digest
    # and the change is the weight, not the text: 30 and 30.0 are the same number
    same = parse_scheme(text.replace("weight: 30", "weight: 30.0"), "x.yaml")
    assert same.digest == load_scheme(EXAMPLE).digest


# -- invalid signals: one problem each, with file, line and key path ----------------------


@pytest.mark.parametrize(
    ("body", "expected"),
    [
        pytest.param(
            ("column: logins", "weight: 0", "points:", "  - {points: 0}"),
            "s.yaml:6: signals.logins.weight: must be greater than 0 (got 0)",
            id="weight-zero",
        ),
        pytest.param(
            ("column: logins", "weight: -5", "points:", "  - {points: 0}"),
            "s.yaml:6: signals.logins.weight: must be greater than 0 (got -5)",
            id="weight-negative",
        ),
        pytest.param(
            ("column: logins", "weight: 1", "points:", "  - {at_least: 10, points: 100}"),
            "s.yaml:4: signals.logins: the last tier must be a catch-all with no bound, "
            "such as {points: 0}, so that every value gets points",
            id="no-catch-all",
        ),
        pytest.param(
            (
                "column: logins",
                "weight: 1",
                "points:",
                "  - {at_least: 10, above: 5, points: 100}",
                "  - {points: 0}",
            ),
            "s.yaml:8: signals.logins.points[0]: "
            "a tier takes one lower bound: at_least or above, not both",
            id="at_least-and-above",
        ),
        pytest.param(
            (
                "column: logins",
                "weight: 1",
                "points:",
                "  - {points: 50}",
                "  - {at_most: 10, below: 5, points: 100}",
                "  - {points: 0}",
            ),
            "s.yaml:9: signals.logins.points[1]: "
            "a tier takes one upper bound: at_most or below, not both",
            id="at_most-and-below",
        ),
        pytest.param(
            (
                "column: logins",
                "weight: 1",
                "points:",
                "  - {at_least: 10, at_most: 5, points: 100}",
                "  - {points: 0}",
            ),
            "s.yaml:8: signals.logins.points[0]: no value can match this tier (10 <= x <= 5)",
            id="empty-interval",
        ),
        pytest.param(
            (
                "column: logins",
                "weight: 1",
                "points:",
                "  - {above: 5, at_most: 5, points: 100}",
                "  - {points: 0}",
            ),
            "s.yaml:8: signals.logins.points[0]: no value can match this tier (5 < x <= 5)",
            id="empty-point-interval",
        ),
        pytest.param(
            ("column: logins", "weight: 1", "linear: [[0, 0], [10, 50], [10, 100]]"),
            "s.yaml:4: signals.logins: linear breakpoint values must increase strictly "
            "(got [0.0, 10.0, 10.0])",
            id="linear-repeated-x",
        ),
        pytest.param(
            ("column: logins", "weight: 1", "linear: [[10, 0], [0, 100]]"),
            "s.yaml:4: signals.logins: linear breakpoint values must increase strictly "
            "(got [10.0, 0.0])",
            id="linear-decreasing-x",
        ),
        pytest.param(
            (
                "column: logins",
                "weight: 1",
                "points:",
                "  - {points: 0}",
                "linear: [[0, 0], [10, 100]]",
            ),
            "s.yaml:4: signals.logins: a signal takes exactly one of `points` (tiers), "
            "`linear` or `map` (got points, linear)",
            id="points-and-linear",
        ),
        pytest.param(
            (
                "column: logins",
                "weight: 1",
                "linear: [[0, 0], [10, 100]]",
                "map: {a: 1}",
            ),
            "s.yaml:4: signals.logins: a signal takes exactly one of `points` (tiers), "
            "`linear` or `map` (got linear, map)",
            id="linear-and-map",
        ),
        pytest.param(
            (
                "column: logins",
                "weight: 1",
                "points:",
                "  - {points: 0}",
                "linear: [[0, 0], [10, 100]]",
                "map: {a: 1}",
            ),
            "s.yaml:4: signals.logins: a signal takes exactly one of `points` (tiers), "
            "`linear` or `map` (got points, linear, map)",
            id="all-three-kinds",
        ),
        pytest.param(
            ("column: logins", "weight: 1"),
            "s.yaml:4: signals.logins: a signal takes exactly one of `points` (tiers), "
            "`linear` or `map`",
            id="no-kind",
        ),
        pytest.param(
            ("column: logins", "expr: logins * 2", "weight: 1", "map: {a: 1}"),
            "s.yaml:4: signals.logins: a signal takes exactly one of `column`, `expr`, "
            "`days_until` or `days_since` (got column, expr)",
            id="column-and-expr",
        ),
        pytest.param(
            ("weight: 1", "map: {a: 1}"),
            "s.yaml:4: signals.logins: a signal takes exactly one of `column`, `expr`, "
            "`days_until` or `days_since`",
            id="neither-column-nor-expr",
        ),
        pytest.param(
            ("column: logins", "weight: 1", "points:", "  - {points: 0}", "other: 10"),
            "s.yaml:4: signals.logins: `other` goes with `map`",
            id="other-without-map",
        ),
        pytest.param(
            ("column: logins", "weight: 1", "map: {a: 1}", "missing: skip"),
            "s.yaml:8: signals.logins.missing: "
            "must be one of redistribute, zero, reject or points 0-100 (got 'skip')",
            id="missing-unknown-policy",
        ),
        pytest.param(
            ("column: logins", "weight: 1", "map: {a: 1}", "missing: 150"),
            "s.yaml:8: signals.logins.missing: "
            "fixed points for a missing value must be 0-100 (got 150)",
            id="missing-above-100",
        ),
        pytest.param(
            ("column: logins", "weight: 1", "map: {a: 1}", "missing: -1"),
            "s.yaml:8: signals.logins.missing: "
            "fixed points for a missing value must be 0-100 (got -1)",
            id="missing-negative",
        ),
        pytest.param(
            ("expr: 'logins +* 2'", "weight: 1", "map: {a: 1}"),
            "s.yaml:5: signals.logins.expr: "
            "not a valid SQL expression: unexpected '2' at column 11",
            id="expr-invalid-sql",
        ),
        pytest.param(
            ("expr: 'logins + (SELECT 1)'", "weight: 1", "map: {a: 1}"),
            "s.yaml:5: signals.logins.expr: "
            "a query (SELECT, FROM, VALUES, a table) is not allowed in an expression",
            id="expr-subquery",
        ),
        pytest.param(
            ("expr: \"read_csv('x')\"", "weight: 1", "map: {a: 1}"),
            "s.yaml:5: signals.logins.expr: "
            "function read_csv() is not allowed in an expression; the functions are "
            + ", ".join(sorted(FUNCTIONS)),
            id="expr-reads-a-file",
        ),
    ],
)
def test_invalid_signal(body: tuple[str, ...], expected: str) -> None:
    assert scheme_error(one_signal(*body)) == expected


# Lines: 4 the signal, 5 column, 6 weight, 7 `map:`, 8 the first category, 9 the second...
@pytest.mark.parametrize(
    ("categories", "extra", "expected"),
    [
        pytest.param(
            ("Pro: 100", "starter: 50", "PRO: 70"),
            (),
            "s.yaml:10: signals.logins.map.PRO: categories 'Pro' and 'PRO' are the same "
            "ignoring case and surrounding spaces; remove one, or add `match: exact`",
            id="case",
        ),
        pytest.param(
            ("pro: 100", "'pro ': 70"),
            (),
            "s.yaml:9: signals.logins.map.pro : categories 'pro' and 'pro ' are the same "
            "ignoring case and surrounding spaces; remove one, or add `match: exact`",
            id="spaces",
        ),
        pytest.param(
            ("pro: 100", "' pro': 70"),
            ("match: exact",),
            "s.yaml:9: signals.logins.map. pro: categories 'pro' and ' pro' are the same "
            "once trimmed; remove one",
            id="exact-still-trims",
        ),
    ],
)
def test_map_categories_that_compare_equal_are_an_error_naming_both(
    categories: tuple[str, ...], extra: tuple[str, ...], expected: str
) -> None:
    body = ("column: logins", "weight: 1", "map:", *[f"  {c}" for c in categories], *extra)
    assert scheme_error(one_signal(*body)) == expected


def test_map_match_exact_allows_categories_that_differ_in_case() -> None:
    body = ("column: logins", "weight: 1", "match: exact", "map: {Pro: 100, PRO: 70}")
    signal = parse_scheme(one_signal(*body)).flat_signals()[0].signal
    assert (signal.match, signal.exact) == ("exact", True)
    assert signal.categories() == {"Pro": 100.0, "PRO": 70.0}
    assert [signal.category_of(v) for v in ("PRO", " Pro ", "pro")] == ["PRO", "Pro", None]


def test_map_categories_and_category_of_ignore_case_by_default() -> None:
    body = ("column: logins", "weight: 1", "map: {Pro: 100, ' Starter ': 50}")
    signal = parse_scheme(one_signal(*body)).flat_signals()[0].signal
    assert (signal.match, signal.exact) == (None, False)
    assert signal.categories() == {"pro": 100.0, "starter": 50.0}
    assert [signal.category_of(v) for v in ("PRO ", "starter", "gold")] == [
        "Pro",
        " Starter ",
        None,
    ]


@pytest.mark.parametrize(
    ("body", "expected"),
    [
        pytest.param(
            ("column: logins", "weight: 1", "linear: [[0, 0], [10, 100]]", "match: exact"),
            "s.yaml:4: signals.logins: `match` goes with `map`",
            id="without-map",
        ),
        pytest.param(
            ("column: logins", "weight: 1", "map: {a: 1}", "match: loose"),
            "s.yaml:8: signals.logins.match: input should be 'ignore_case' or 'exact' "
            "(got 'loose')",
            id="unknown",
        ),
    ],
)
def test_invalid_match(body: tuple[str, ...], expected: str) -> None:
    assert scheme_error(one_signal(*body)) == expected


def test_digest_of_a_scheme_without_match_is_unchanged_by_the_key() -> None:
    # `match` unset is left out of the digest: schemes written before it keep their hash
    # (a history scored with them does not warn of a changed scheme); set, it counts.
    plain = parse_scheme(one_signal("column: logins", "weight: 1", "map: {a: 1}"))
    assert plain.digest == "033639e2d72e"  # as computed before `match` existed
    explicit = parse_scheme(
        one_signal("column: logins", "weight: 1", "map: {a: 1}", "match: ignore_case")
    )
    exact = parse_scheme(one_signal("column: logins", "weight: 1", "map: {a: 1}", "match: exact"))
    assert len({plain.digest, explicit.digest, exact.digest}) == 3


def test_valid_expr_is_accepted() -> None:
    scheme = parse_scheme(one_signal("expr: logins * 2 + 1", "weight: 1", "map: {a: 1}"))
    signal = scheme.flat_signals()[0].signal
    assert (signal.column, signal.expr) == (None, "logins * 2 + 1")


# -- invalid bands ------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("items", "expected"),
    [
        pytest.param(
            ("{name: good, from: 50}", "{name: bad, from: 10}"),
            "s.yaml:9: bands: the last band must start at 0 (`from: 0`) so every score has "
            "a band; 'bad' starts at >= 10",
            id="not-starting-at-0",
        ),
        pytest.param(
            ("{name: good, from: 50}", "{name: bad, above: 0}"),
            "s.yaml:9: bands: the last band must start at 0 (`from: 0`) so every score has "
            "a band; 'bad' starts at > 0",
            id="last-band-above-0",
        ),
        pytest.param(
            ("{name: good, from: 50}", "{name: mid, from: 60}", "{name: bad, from: 0}"),
            "s.yaml:9: bands: bands must be listed highest first with decreasing thresholds "
            "(got good >= 50, mid >= 60, bad >= 0)",
            id="not-descending",
        ),
        pytest.param(
            ("{name: good, from: 50}", "{name: mid, above: 50}", "{name: bad, from: 0}"),
            "s.yaml:9: bands: bands must be listed highest first with decreasing thresholds "
            "(got good >= 50, mid > 50, bad >= 0)",
            id="above-after-same-from",
        ),
        pytest.param(
            ("{name: good, from: 50}", "{name: good, from: 0}"),
            "s.yaml:9: bands: band names must be unique (repeated: good)",
            id="duplicate-names",
        ),
        pytest.param(
            ("{name: good, from: 50, above: 50}", "{name: bad, from: 0}"),
            "s.yaml:10: bands[0]: a band takes exactly one of `from` (>=) or `above` (>)",
            id="from-and-above",
        ),
        pytest.param(
            ("{name: good, from: 50}", "{name: bad}"),
            "s.yaml:11: bands[1]: a band takes exactly one of `from` (>=) or `above` (>)",
            id="neither-from-nor-above",
        ),
        pytest.param(
            ("{name: good, from: 50, color: pink}", "{name: bad, from: 0}"),
            f"s.yaml:10: bands[0]: unknown color 'pink'; use one of {COLORS}",
            id="unknown-color",
        ),
        pytest.param(
            ('{name: "a\\tb", from: 50}', "{name: bad, from: 0}"),
            "s.yaml:10: bands[0].name: 'a\\tb' is not a valid name: no control characters "
            "(tabs, line breaks), and no space at either end",
            id="invalid-band-name",
        ),
    ],
)
def test_invalid_bands(items: tuple[str, ...], expected: str) -> None:
    assert scheme_error(with_bands(*items)) == expected


def test_above_then_from_at_the_same_threshold_is_valid() -> None:
    # `above: 50` then `from: 50`: 50 itself goes to the second band, so both are reachable.
    scheme = parse_scheme(
        with_bands("{name: a, above: 50}", "{name: b, from: 50}", "{name: c, from: 0}")
    )
    assert [b.text() for b in scheme.bands] == ["> 50", ">= 50", ">= 0"]


# -- unknown keys, YAML problems, structure -----------------------------------------------


def test_unknown_key_typo_suggests_the_right_key() -> None:
    text = one_signal("column: logins", "wieght: 1", "map: {a: 1}")
    assert scheme_error(text) == (
        "s.yaml: 2 problems in the scheme\n"
        "  s.yaml:4: signals.logins.weight: required key 'weight' is missing\n"
        "  s.yaml:6: signals.logins.wieght: unknown key 'wieght'; did you mean 'weight'?"
    )


def test_unknown_key_without_a_close_match_has_no_hint() -> None:
    text = "flavour: mint\n" + one_signal(*BODY)
    assert scheme_error(text) == "s.yaml:1: flavour: unknown key 'flavour'"


def test_unknown_band_key_suggests_from() -> None:
    text = with_bands("{name: good, form: 50, from: 60}", "{name: bad, from: 0}")
    assert (
        scheme_error(text) == "s.yaml:10: bands[0].form: unknown key 'form'; did you mean 'from'?"
    )


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        pytest.param(
            "name: t\nid: [a, b\nbands: x\n",
            "s.yaml:3: malformed YAML: expected ',' or ']', but got ':'",
            id="unclosed-flow-list",
        ),
        pytest.param(
            "name: t\n  id: x\n",
            "s.yaml:2: malformed YAML: mapping values are not allowed here",
            id="bad-indentation",
        ),
        pytest.param("", "s.yaml: the scheme is empty", id="empty-file"),
        pytest.param("# only a comment\n\n", "s.yaml: the scheme is empty", id="only-comments"),
        pytest.param(
            "- name: t\n- id: cid\n",
            "s.yaml:1: a scheme is a mapping of keys (name, id, signals, bands)",
            id="top-level-list",
        ),
        pytest.param(
            "just text\n",
            "s.yaml:1: a scheme is a mapping of keys (name, id, signals, bands)",
            id="top-level-scalar",
        ),
        pytest.param(
            "name: t\nid: cid\nname: u\n",
            "s.yaml:3: top level: key 'name' appears twice (lines 1 and 3)",
            id="duplicate-top-level-key",
        ),
        pytest.param(
            one_signal("column: logins", "weight: 1", "weight: 2", "map: {a: 1}"),
            "s.yaml:7: signals.logins: key 'weight' appears twice (lines 6 and 7)",
            id="duplicate-nested-key",
        ),
        # these four crashed with a Python TypeError, AttributeError or a raw ReaderError
        pytest.param(
            "name: t\n? [a, b]\n: 1\n",
            "s.yaml:2: a key is a name, not a list or mapping",
            id="list-as-key",
        ),
        pytest.param(
            "name: !!set [a]\n",
            "s.yaml:1: malformed YAML: expected a mapping, but found sequence",
            id="set-of-a-list",
        ),
        pytest.param(
            "name: !!timestamp soon\n",
            "s.yaml:1: malformed YAML: 'soon' is not a valid timestamp",
            id="timestamp-tag-on-text",
        ),
        pytest.param(
            "name: t\nid: a\x00b\n",
            "s.yaml:2: malformed YAML: unacceptable character #x0000: "
            "special characters are not allowed",
            id="nul-character",
        ),
    ],
)
def test_yaml_problems(text: str, expected: str) -> None:
    assert scheme_error(text) == expected


def test_signal_in_two_groups_names_line_and_key_path() -> None:
    text = """\
name: t
id: cid
groups:
  a:
    weight: 1
    signals:
      x:
        column: x
        weight: 1
        map: {k: 1}
  b:
    weight: 1
    signals:
      y: {column: y, weight: 1, map: {k: 1}}
      x:
        column: x2
        weight: 1
        map: {k: 1}
bands:
  - {name: all, from: 0}
"""
    # The second `x` (line 15, groups.b.signals.x) is the one that clashes.
    assert scheme_error(text) == (
        "s.yaml:15: groups.b.signals.x: signal 'x' is in both groups 'a' and 'b'; "
        "signal names must be unique"
    )


def test_signals_and_groups_together_names_a_line() -> None:
    text = """\
name: t
id: cid
signals:
  x: {column: x, weight: 1, map: {k: 1}}
groups:
  g:
    weight: 1
    signals:
      y: {column: y, weight: 1, map: {k: 1}}
bands:
  - {name: all, from: 0}
"""
    message = scheme_error(text)
    # `signals` is on line 3 and `groups` on line 5: the message must point at one of them
    assert re.fullmatch(
        r"s\.yaml:(3|5): (signals|groups): "
        r"a scheme takes exactly one of `signals`, `groups` or `segments`",
        message,
    ), message


def test_neither_signals_nor_groups() -> None:
    text = "name: t\nid: cid\nbands:\n  - {name: all, from: 0}\n"
    assert (
        scheme_error(text)
        == "s.yaml: a scheme takes exactly one of `signals`, `groups` or `segments`"
    )


@pytest.mark.parametrize(("name", "shown"), [('"a\\tb"', "a\tb"), ('" x"', " x")])
def test_invalid_signal_name(name: str, shown: str) -> None:
    text = (
        f"name: t\nid: cid\nsignals:\n  {name}:\n"
        + "".join(f"    {line}\n" for line in BODY)
        + BANDS
    )
    assert scheme_error(text) == (
        f"s.yaml:4: signals.{shown}: {shown!r} is not a valid name: no control characters "
        "(tabs, line breaks), and no space at either end"
    )


def test_several_problems_are_reported_together_sorted_by_line() -> None:
    # bands come before signals in the file, after them in the model: sorting by line
    # must put the band problem (line 4) first.
    text = """\
name: t
id: cid
bands:
  - {name: good, from: 50, color: pink}
  - {name: bad, from: 0}
signals:
  logins:
    column: logins
    weight: 0
    points:
      - {points: 0}
  plan:
    column: plan
    weight: 1
    map: {a: 1}
    other: 200
"""
    assert scheme_error(text) == (
        "s.yaml: 3 problems in the scheme\n"
        f"  s.yaml:4: bands[0]: unknown color 'pink'; use one of {COLORS}\n"
        "  s.yaml:9: signals.logins.weight: must be greater than 0 (got 0)\n"
        "  s.yaml:16: signals.plan.other: input should be less than or equal to 100 (got 200)"
    )


def test_missing_file(tmp_path: Path) -> None:
    path = tmp_path / "nope.yaml"
    # a missing file, as for any input: exit 4, not 3 (the scheme is not invalid)
    with pytest.raises(DataError) as info:
        load_scheme(path)
    assert info.value.exit_code == 4
    assert info.value.message == f"{path}: scheme file not found"


def test_load_scheme_names_the_file_in_messages(tmp_path: Path) -> None:
    path = tmp_path / "bad.yaml"
    path.write_text(one_signal("column: logins", "weight: -5", "map: {a: 1}"), encoding="utf-8")
    with pytest.raises(SchemeError) as info:
        load_scheme(path)
    assert info.value.message == f"{path}:6: signals.logins.weight: must be greater than 0 (got -5)"


# -- map keys stay text -------------------------------------------------------------------


def test_map_keys_yes_no_stay_text_true_false_and_numbers_become_text() -> None:
    text = """\
name: t
id: cid
signals:
  module:
    column: module
    weight: 1
    map: {yes: 100, no: 0, on: 70, off: 10}
  flag:
    column: flag
    weight: 1
    map: {true: 100, false: 0}
  upsell:
    column: upsell
    weight: 1
    map: {1: 100, 0: 50, 2.5: 20}
bands:
  - {name: all, from: 0}
"""
    signals = parse_scheme(text).signals
    assert signals is not None
    assert signals["module"].map == {"yes": 100.0, "no": 0.0, "on": 70.0, "off": 10.0}
    assert signals["flag"].map == {"true": 100.0, "false": 0.0}
    assert signals["upsell"].map == {"1": 100.0, "0": 50.0, "2.5": 20.0}


def test_map_keys_true_and_1_are_distinct_categories() -> None:
    # Keys are compared as text, so `true` and `1` are two categories. YAML loads them
    # as True and 1, which are one and the same Python dict key: one must not silently
    # overwrite the other.
    text = one_signal("column: flag", "weight: 1", "map: {true: 50, 1: 20}")
    signal = parse_scheme(text).flat_signals()[0].signal
    assert signal.map == {"true": 50.0, "1": 20.0}


# -- tier semantics -----------------------------------------------------------------------


def test_interval_bounds_inclusive_and_strict() -> None:
    at_least_40 = Tier(at_least=40, points=100).interval()
    assert at_least_40 == Interval(40, False, None, False)
    assert (at_least_40.contains(40), at_least_40.contains(39.999)) == (True, False)

    above_30 = Tier(above=30, points=100).interval()
    assert above_30 == Interval(30, True, None, False)
    assert (above_30.contains(30), above_30.contains(30.001)) == (False, True)

    at_most_1 = Tier(at_most=1, points=100).interval()
    assert at_most_1 == Interval(None, False, 1, False)
    assert (at_most_1.contains(1), at_most_1.contains(1.001)) == (True, False)

    below_5 = Tier(below=5, points=100).interval()
    assert below_5 == Interval(None, False, 5, True)
    assert (below_5.contains(5), below_5.contains(4.999)) == (False, True)

    ranged = Tier(at_least=10, below=20, points=100).interval()
    assert [ranged.contains(x) for x in (9.999, 10, 19.999, 20)] == [False, True, True, False]

    catch_all = Tier(points=0)
    assert catch_all.is_catch_all
    assert catch_all.interval() == Interval()
    assert all(catch_all.interval().contains(x) for x in (-1e9, 0, 1e9))
    assert not Tier(at_least=0, points=0).is_catch_all


@pytest.mark.parametrize(
    ("tier", "text"),
    [
        (Tier(at_least=40, points=0), ">= 40"),
        (Tier(above=30, points=0), "> 30"),
        (Tier(at_most=1, points=0), "<= 1"),
        (Tier(below=5, points=0), "< 5"),
        (Tier(at_least=10, below=20, points=0), "10 <= x < 20"),
        (Tier(above=-2.5, at_most=0.5, points=0), "-2.5 < x <= 0.5"),
        (Tier(points=0), "any other value"),
    ],
)
def test_interval_text(tier: Tier, text: str) -> None:
    assert tier.interval().text() == text


def test_interval_is_empty() -> None:
    assert Interval(10, False, 5, False).is_empty()
    assert Interval(5, True, 5, False).is_empty()
    assert Interval(5, False, 5, True).is_empty()
    assert not Interval(5, False, 5, False).is_empty()  # exactly 5
    assert not Interval(5, True, None, False).is_empty()


# -- tier problems (warnings) -------------------------------------------------------------


def tiers(*specs: dict[str, float]) -> list[Tier]:
    return [Tier(**spec) for spec in specs]


def test_tier_after_a_wider_lower_bound_is_unreachable() -> None:
    problems = tier_problems(
        tiers({"at_least": 10, "points": 50}, {"at_least": 40, "points": 100}, {"points": 0})
    )
    assert problems == [(1, "tier >= 40 is unreachable: earlier tiers match every such value")]


def test_catch_all_in_the_middle_hides_every_later_tier() -> None:
    problems = tier_problems(
        tiers(
            {"at_least": 40, "points": 100},
            {"points": 50},
            {"at_most": 3, "points": 10},
            {"points": 0},
        )
    )
    assert problems == [
        (2, "tier <= 3 is unreachable: earlier tiers match every such value"),
        (3, "tier any other value is unreachable: earlier tiers match every such value"),
    ]


def test_ranged_tier_partly_overlapping_an_earlier_one_is_warned() -> None:
    problems = tier_problems(
        tiers(
            {"at_least": 10, "at_most": 20, "points": 100},
            {"at_least": 15, "at_most": 30, "points": 50},
        )
    )
    assert problems == [
        (1, "tier 15 <= x <= 30 overlaps tier 1 (10 <= x <= 20); the earlier tier wins")
    ]


def test_ranged_tiers_touching_at_a_shared_inclusive_bound_overlap() -> None:
    # 20 matches both `10 <= x <= 20` and `20 <= x <= 30`.
    problems = tier_problems(
        tiers(
            {"at_least": 10, "at_most": 20, "points": 100},
            {"at_least": 20, "at_most": 30, "points": 50},
        )
    )
    assert problems == [
        (1, "tier 20 <= x <= 30 overlaps tier 1 (10 <= x <= 20); the earlier tier wins")
    ]


@pytest.mark.parametrize(
    "specs",
    [
        pytest.param(
            ({"at_least": 40, "points": 100}, {"at_least": 10, "points": 50}, {"points": 0}),
            id="at_least-cascade",
        ),
        pytest.param(
            ({"at_most": 1, "points": 100}, {"at_most": 4, "points": 50}, {"points": 0}),
            id="at_most-cascade",
        ),
        pytest.param(
            ({"above": 70, "points": 100}, {"at_least": 30, "points": 50}, {"points": 0}),
            id="above-then-at_least",
        ),
        pytest.param(
            (
                {"at_least": 0, "below": 10, "points": 10},
                {"at_least": 10, "below": 20, "points": 50},
            ),
            id="adjacent-half-open-ranges",
        ),
    ],
)
def test_no_warning_for_cascades_and_disjoint_ranges(specs: tuple[dict[str, float], ...]) -> None:
    assert tier_problems(tiers(*specs)) == []


def test_final_catch_all_after_ranged_tiers_is_not_warned() -> None:
    # The required last tier `{points: 0}` is "every other value": it overlaps every
    # earlier tier by design, and still catches values outside them, so it is reachable.
    problems = tier_problems(
        tiers(
            {"at_least": 10, "below": 20, "points": 100},
            {"at_least": 20, "below": 30, "points": 50},
            {"points": 0},
        )
    )
    assert problems == []


def test_tier_warnings_appear_in_scheme_warnings_with_file_and_line() -> None:
    text = """\
name: t
id: cid
signals:
  logins:
    column: logins
    weight: 1
    points:
      - {at_least: 10, points: 50}
      - {at_least: 40, points: 100}
      - {points: 0}
  tickets:
    column: tickets
    weight: 1
    points:
      - {at_most: 1, points: 100}
      - {points: 50}
      - {at_most: 3, points: 10}
      - {points: 0}
  cascade:
    column: c
    weight: 1
    points:
      - {at_least: 40, points: 100}
      - {at_least: 10, points: 50}
      - {points: 0}
bands:
  - {name: all, from: 0}
"""
    scheme = parse_scheme(text, "w.yaml")
    assert scheme.warnings == [
        "w.yaml:9: signals.logins.points[1]: "
        "tier >= 40 is unreachable: earlier tiers match every such value",
        "w.yaml:17: signals.tickets.points[2]: "
        "tier <= 3 is unreachable: earlier tiers match every such value",
        "w.yaml:18: signals.tickets.points[3]: "
        "tier any other value is unreachable: earlier tiers match every such value",
    ]


def test_tier_warnings_in_groups_use_the_group_key_path() -> None:
    text = """\
name: t
id: cid
groups:
  usage:
    weight: 1
    signals:
      logins:
        column: logins
        weight: 1
        points:
          - {at_least: 10, points: 50}
          - {at_least: 40, points: 100}
          - {points: 0}
bands:
  - {name: all, from: 0}
"""
    assert parse_scheme(text, "g.yaml").warnings == [
        "g.yaml:12: groups.usage.signals.logins.points[1]: "
        "tier >= 40 is unreachable: earlier tiers match every such value"
    ]


# -- weight notes -------------------------------------------------------------------------


def test_weight_notes_name_levels_not_summing_to_100() -> None:
    text = one_signal("column: logins", "weight: 3", "map: {a: 1}").replace(
        "bands:", "  plan:\n    column: plan\n    weight: 1\n    map: {a: 1}\nbands:"
    )
    scheme = parse_scheme(text, "s.yaml")
    # 3 + 1 = 4: logins 3/4 = 75.0 %, plan 1/4 = 25.0 %; `signals:` is line 3
    assert scheme.notes == [
        "s.yaml:3: signal weights sum to 4, not 100; normalised to logins 75.0%, plan 25.0%"
    ]
    assert scheme.warnings == []


def test_weight_notes_for_groups() -> None:
    text = """\
name: t
id: cid
groups:
  a:
    weight: 1
    signals:
      x: {column: x, weight: 60, map: {k: 1}}
      y: {column: y, weight: 40, map: {k: 1}}
  b:
    weight: 2
    signals:
      z: {column: z, weight: 1, map: {k: 1}}
bands:
  - {name: all, from: 0}
"""
    # groups: 1 + 2 = 3 -> a 33.3 %, b 66.7 % (line 3); a's signals sum to 100 (no note);
    # b's single signal weighs 1 -> 100.0 % (its `signals:` is line 11)
    assert parse_scheme(text, "s.yaml").notes == [
        "s.yaml:3: group weights sum to 3, not 100; normalised to a 33.3%, b 66.7%",
        "s.yaml:11: group 'b' signal weights sum to 1, not 100; normalised to z 100.0%",
    ]


def test_weight_notes_for_shipped_schemes() -> None:
    assert load_scheme(SAAS).notes == []
    assert load_scheme(EXAMPLE).notes == []
    # simple-crm: group weights 35+20+15+15+15 = 100; marketing 1+1+1 = 3 (1/3 = 33.3 %),
    # satisfaction 2+1 = 3 (2/3 = 66.7 %, 1/3 = 33.3 %); the others sum to 100.
    path = str(SIMPLE_CRM)
    assert load_scheme(SIMPLE_CRM).notes == [
        f"{path}:84: group 'marketing' signal weights sum to 3, not 100; "
        "normalised to email_opens 33.3%, email_clicks 33.3%, webinars 33.3%",
        f"{path}:111: group 'satisfaction' signal weights sum to 3, not 100; "
        "normalised to nps_rating 66.7%, negative_feedback 33.3%",
    ]


# -- JSON Schema --------------------------------------------------------------------------


def _walk(node: Any, keys: list[str], refs: list[str]) -> None:
    if isinstance(node, dict):
        for key, value in node.items():
            keys.append(key)
            if key == "$ref":
                refs.append(value)
            _walk(value, keys, refs)
    elif isinstance(node, list):
        for item in node:
            _walk(item, keys, refs)


def test_json_schema_matches_the_checked_in_file() -> None:
    checked_in = json.loads(SCHEMA_FILE.read_text(encoding="utf-8"))
    assert json_schema() == checked_in, (
        f"{SCHEMA_FILE.name} is out of date with chs/scheme.py: run `make schema` "
        "and commit the result"
    )


def test_json_schema_is_draft_07_without_2020_12_keywords() -> None:
    schema = json_schema()
    assert schema["$schema"] == "http://json-schema.org/draft-07/schema#"
    keys: list[str] = []
    refs: list[str] = []
    _walk(schema, keys, refs)
    assert "$defs" not in keys
    assert "prefixItems" not in keys
    assert refs, "the schema uses definitions, so it has $refs"
    for ref in refs:
        assert ref.startswith("#/definitions/"), ref
        assert ref.removeprefix("#/definitions/") in schema["definitions"], ref
    assert set(schema["definitions"]) >= {"Signal", "Group", "Tier", "Band"}


def test_json_schema_required_keys() -> None:
    schema = json_schema()
    assert schema["type"] == "object"
    assert sorted(schema["required"]) == ["bands", "id", "name"]
    assert schema["additionalProperties"] is False
    defs = schema["definitions"]
    assert defs["Signal"]["required"] == ["weight"]
    assert defs["Tier"]["required"] == ["points"]
    assert defs["Band"]["required"] == ["name"]
    assert sorted(defs["Group"]["required"]) == ["signals", "weight"]
    # a band's `from` is spelled as in YAML, not as the Python field `from_`
    assert "from" in defs["Band"]["properties"]
    assert "from_" not in defs["Band"]["properties"]
    # linear breakpoints are draft-07 tuples: items as a list, nothing more
    linear = next(
        alt for alt in defs["Signal"]["properties"]["linear"]["anyOf"] if alt.get("type") == "array"
    )
    pair = linear["items"]
    assert isinstance(pair["items"], list) and len(pair["items"]) == 2
    assert pair["additionalItems"] is False
    assert defs["Signal"]["properties"]["weight"]["exclusiveMinimum"] == 0


# A tiny draft-07 validator for the keywords the schema uses. It refuses any keyword it
# does not know, so a new keyword in the schema cannot be silently ignored.
_ANNOTATIONS = {"title", "description", "default", "examples", "$schema", "definitions"}
_TYPES = {
    "object": dict,
    "array": list,
    "string": str,
    "null": type(None),
    "boolean": bool,
}


def _is_type(value: Any, kind: str) -> bool:
    if kind == "integer":
        return isinstance(value, int) and not isinstance(value, bool)
    if kind == "number":
        return isinstance(value, int | float) and not isinstance(value, bool)
    return isinstance(value, _TYPES[kind])


def validate(value: Any, schema: dict[str, Any], root: dict[str, Any], at: str = "$") -> list[str]:
    errors: list[str] = []
    for key, rule in schema.items():
        if key in _ANNOTATIONS or key in ("additionalProperties", "additionalItems"):
            continue
        if key == "$ref":
            target = root["definitions"][rule.removeprefix("#/definitions/")]
            errors += validate(value, target, root, at)
        elif key == "type":
            if not _is_type(value, rule):
                errors.append(f"{at}: not {rule}")
        elif key == "enum":
            if value not in rule:
                errors.append(f"{at}: {value!r} not in {rule}")
        elif key == "anyOf":
            if all(validate(value, alt, root, at) for alt in rule):
                errors.append(f"{at}: matches none of anyOf")
        elif key in ("minimum", "maximum", "exclusiveMinimum", "exclusiveMaximum"):
            if _is_type(value, "number"):
                ok = {
                    "minimum": value >= rule,
                    "maximum": value <= rule,
                    "exclusiveMinimum": value > rule,
                    "exclusiveMaximum": value < rule,
                }[key]
                if not ok:
                    errors.append(f"{at}: {value} fails {key} {rule}")
        elif key == "minLength":
            if isinstance(value, str) and len(value) < rule:
                errors.append(f"{at}: shorter than {rule}")
        elif key == "maxLength":
            if isinstance(value, str) and len(value) > rule:
                errors.append(f"{at}: longer than {rule}")
        elif key == "pattern":
            if isinstance(value, str) and not re.search(rule, value):
                errors.append(f"{at}: {value!r} does not match {rule}")
        elif key in ("minItems", "maxItems"):
            if isinstance(value, list) and not (
                len(value) >= rule if key == "minItems" else len(value) <= rule
            ):
                errors.append(f"{at}: {key} {rule}")
        elif key == "minProperties":
            if isinstance(value, dict) and len(value) < rule:
                errors.append(f"{at}: fewer than {rule} properties")
        elif key == "maxProperties":
            if isinstance(value, dict) and len(value) > rule:
                errors.append(f"{at}: more than {rule} properties")
        elif key == "required":
            if isinstance(value, dict):
                errors += [f"{at}: {name!r} is required" for name in rule if name not in value]
        elif key in ("properties", "patternProperties"):
            pass  # handled with additionalProperties below
        elif key == "propertyNames":
            if isinstance(value, dict):
                for name in value:
                    errors += validate(str(name), rule, root, f"{at}.{name} (name)")
        elif key == "items":
            if isinstance(value, list):
                if isinstance(rule, list):
                    for i, (item, sub) in enumerate(zip(value, rule, strict=False)):
                        errors += validate(item, sub, root, f"{at}[{i}]")
                    if schema.get("additionalItems") is False and len(value) > len(rule):
                        errors.append(f"{at}: more than {len(rule)} items")
                else:
                    for i, item in enumerate(value):
                        errors += validate(item, rule, root, f"{at}[{i}]")
        else:
            raise AssertionError(f"the test validator does not know the keyword {key!r}")
    if isinstance(value, dict) and (
        "properties" in schema or "patternProperties" in schema or "additionalProperties" in schema
    ):
        props = schema.get("properties", {})
        patterns = schema.get("patternProperties", {})
        for name, item in value.items():
            name = str(name)
            matched = False
            if name in props:
                matched = True
                errors += validate(item, props[name], root, f"{at}.{name}")
            for pattern, sub in patterns.items():
                if re.search(pattern, name):
                    matched = True
                    errors += validate(item, sub, root, f"{at}.{name}")
            extra = schema.get("additionalProperties", True)
            if not matched and extra is False:
                errors.append(f"{at}: unknown key {name!r}")
            elif not matched and isinstance(extra, dict):
                errors += validate(item, extra, root, f"{at}.{name}")
    return errors


@pytest.mark.parametrize("path", SHIPPED, ids=lambda p: p.name)
def test_shipped_schemes_validate_against_the_json_schema(path: Path) -> None:
    schema = json_schema()
    data = yaml.safe_load(path.read_text(encoding="utf-8"))
    assert validate(data, schema, schema) == []


def _rename_weight(data: dict[str, Any]) -> None:
    data["signals"]["logins"]["wieght"] = data["signals"]["logins"].pop("weight")


def _zero_weight(data: dict[str, Any]) -> None:
    data["signals"]["logins"]["weight"] = 0


def _band_from_101(data: dict[str, Any]) -> None:
    data["bands"][0]["from"] = 101


def _no_id(data: dict[str, Any]) -> None:
    del data["id"]


@pytest.mark.parametrize(
    ("mutate", "expected"),
    [
        # a problem inside `signals` (an anyOf of object or null) surfaces as the anyOf
        (_rename_weight, ["$.signals: matches none of anyOf"]),
        (_zero_weight, ["$.signals: matches none of anyOf"]),
        (_band_from_101, ["$.bands[0].from: matches none of anyOf"]),
        (_no_id, ["$: 'id' is required"]),
    ],
)
def test_the_test_validator_catches_mistakes(mutate: Any, expected: list[str]) -> None:
    # Without this, a validator that accepts everything would make the test above useless.
    schema = json_schema()
    data = yaml.safe_load(EXAMPLE.read_text(encoding="utf-8"))
    mutate(data)
    assert validate(data, schema, schema) == expected


@pytest.mark.parametrize(
    ("signal", "expected"),
    [
        (
            {"column": "x", "wieght": 1, "map": {"a": 1}},
            ["$: 'weight' is required", "$: unknown key 'wieght'"],
        ),
        ({"column": "x", "weight": 0, "map": {"a": 1}}, ["$.weight: 0 fails exclusiveMinimum 0"]),
        (
            {"column": "x", "weight": 1, "linear": [[-20, 0, 5], [0, 100]]},
            ["$.linear: matches none of anyOf"],
        ),
        ({"column": "x", "weight": 1, "map": {"a": 101}}, ["$.map: matches none of anyOf"]),
        (
            {"column": "x", "weight": 1_000_001, "map": {"a": 1}},
            ["$.weight: 1000001 fails maximum 1000000.0"],
        ),
        (
            {"column": "x", "weight": 1, "map": {f"c{i}": 1 for i in range(1_001)}},
            ["$.map: matches none of anyOf"],
        ),
        (
            {"column": "x", "weight": 1, "points": [{"points": 0}] * 101},
            ["$.points: matches none of anyOf"],
        ),
        (
            {"column": "x", "weight": 1, "linear": [[-1e16, 0], [0, 100]]},
            ["$.linear: matches none of anyOf"],
        ),
    ],
)
def test_the_test_validator_catches_signal_mistakes(
    signal: dict[str, Any], expected: list[str]
) -> None:
    schema = json_schema()
    assert sorted(validate(signal, schema["definitions"]["Signal"], schema)) == expected


@pytest.mark.parametrize("name", ["a\tb", " x", "x" * 101])
def test_json_schema_refuses_invalid_signal_names(name: str) -> None:
    # chs refuses these names (test_invalid_signal_name); an editor using the JSON
    # Schema should flag them too. `patternProperties` alone lets any other name through:
    # it needs `additionalProperties: false` or `propertyNames`.
    schema = json_schema()
    data = yaml.safe_load(EXAMPLE.read_text(encoding="utf-8"))
    data["signals"][name] = data["signals"].pop("plan")
    assert validate(data, schema, schema) == ["$.signals: matches none of anyOf"]


@pytest.mark.parametrize("path", SHIPPED, ids=lambda p: p.name)
def test_shipped_schemes_validate_with_jsonschema(path: Path) -> None:
    jsonschema = pytest.importorskip("jsonschema")
    schema = json.loads(SCHEMA_FILE.read_text(encoding="utf-8"))
    jsonschema.Draft7Validator.check_schema(schema)
    data = yaml.safe_load(path.read_text(encoding="utf-8"))
    errors = [e.message for e in jsonschema.Draft7Validator(schema).iter_errors(data)]
    assert errors == []


def test_a_tiny_bound_is_refused() -> None:
    # found by hypothesis: a breakpoint at -2.2e-313 (a subnormal number, flushed to 0 by
    # vectorised arithmetic) made a segment of width 0 and a score of inf
    text = (
        "name: t\nid: id\nsignals:\n  a: {column: a, weight: 1, linear: [[-2.2e-313, 0], [0, 1]]}\n"
        "bands:\n  - {name: a, from: 0}\n"
    )
    with pytest.raises(SchemeError) as err:
        parse_scheme(text, "s.yaml")
    assert err.value.message == (
        "s.yaml:4: signals.a.linear[0][0]: -2.2e-313 is too small for a bound: write 0, or a "
        "number of at least 1e-12 in size"
    )
