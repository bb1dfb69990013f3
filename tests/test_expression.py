"""chs.scheme.expression: what an expression computes (SQL's semantics, pinned where
engines differ) and what it refuses, by name. The hostile cases, run through the CLI with
a listening server and a FIFO, are in tests/adversarial/test_hostile_expressions.py."""

from __future__ import annotations

import datetime as dt

import polars as pl
import pytest

from chs.scheme.expression import FUNCTIONS, ExpressionError, check_expression, parse_sql_expr
from chs.scheme.limits import (
    MAX_EXPANDED_NODES,
    MAX_EXPRESSION_CHARS,
    MAX_EXPRESSION_DEPTH,
    MAX_EXPRESSION_NODES,
    MAX_PAD_LENGTH,
    MAX_TEXT_CHARS,
    MAX_TEXT_TIMES,
)

FRAME = pl.DataFrame(
    {
        "a": [7, -7, None, 0],
        "b": [2, 2, 2, 0],
        "s": ["ab", "Cd", None, "x_y"],
        "f": [2.5, -2.5, 0.5, None],
        "d": ["2026-01-31", "2026-05-01 10:00:00", None, "2025-12-31"],
    }
)


def values(text: str) -> list[object]:
    return FRAME.select(parse_sql_expr(text).alias("v"))["v"].to_list()


def refusal(text: str) -> str:
    with pytest.raises(ExpressionError) as info:
        parse_sql_expr(text)
    return str(info.value)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        # true division; 7/2 = 3.5, -7/2 = -3.5; NULL propagates; 0/0 is NULL, not NaN
        ("a / b", [3.5, -3.5, None, None]),
        # the remainder takes the dividend's sign (SQL), not the divisor's (Polars: -7 % 2 = 1)
        ("a % b", [1, -1, None, None]),
        # half away from zero: 2.5 -> 3, -2.5 -> -3, 0.5 -> 1 (half-to-even would give 2, -2, 0)
        ("round(f)", [3.0, -3.0, 1.0, None]),
        ("round(f * 10, 1)", [25.0, -25.0, 5.0, None]),
        ("a * b + 1", [15, -13, None, 1]),
        ("-a", [-7, 7, None, 0]),
        ("a IN (7, 0)", [True, False, None, True]),
        ("a NOT IN (7)", [False, True, None, True]),
        ("a IN (-7)", [False, True, None, False]),
        ("f BETWEEN 0 AND 2.5", [True, False, True, None]),
        ("a > 0 AND b > 0", [True, False, None, False]),
        ("a > 0 OR b > 1", [True, True, True, False]),  # NULL OR TRUE is TRUE
        ("NOT (a > 0)", [False, True, None, True]),
        ("a IS NULL", [False, False, True, False]),
        ("a IS NOT NULL", [True, True, False, True]),
        ("a IS NOT DISTINCT FROM b", [False, False, False, True]),
        ("a <> 7", [False, True, None, True]),
        ("CASE WHEN a > 0 THEN 'up' WHEN a < 0 THEN 'down' END", ["up", "down", None, None]),
        ("CASE a WHEN 7 THEN 1 ELSE 0 END", [1, 0, 0, 0]),  # NULL = 7 is not true: ELSE
        ("IF(a > 0, 1, 2)", [1, 2, 2, 2]),
        ("coalesce(a, 99)", [7, -7, 99, 0]),
        ("nullif(a, 0)", [7, -7, None, None]),
        ("greatest(a, b)", [7, 2, 2, 0]),  # NULLs are skipped
        ("least(a, b)", [2, -7, 2, 0]),
        ("abs(a)", [7, 7, None, 0]),
        ("sign(a)", [1, -1, None, 0]),
        ("sqrt(b * 8)", [4.0, 4.0, 4.0, 0.0]),
        ("sqrt(a)", [7**0.5, None, None, 0.0]),  # no square root below zero: NULL
        ("ln(b)", [0.6931471805599453] * 3 + [None]),  # ln 0 is NULL, not -inf
        ("log10(b * 50)", [2.0, 2.0, 2.0, None]),
        ("power(b, 3)", [8.0, 8.0, 8.0, 0.0]),
        ("ceil(f)", [3.0, -2.0, 1.0, None]),
        ("floor(f)", [2.0, -3.0, 0.0, None]),
        ("CAST(a AS DOUBLE) / 4", [1.75, -1.75, None, 0.0]),
        ("TRY_CAST(s AS INT)", [None, None, None, None]),
        ("upper(s) || '!'", ["AB!", "CD!", None, "X_Y!"]),  # || is NULL if a side is
        ("concat(s, a)", ["ab7", "Cd-7", "", "x_y0"]),  # CONCAT skips NULLs
        ("lower(s)", ["ab", "cd", None, "x_y"]),
        ("length(s)", [2, 2, None, 3]),
        ("substring(s, 2, 1)", ["b", "d", None, "_"]),
        ("substring(s, 2)", ["b", "d", None, "_y"]),
        ("replace(s, 'a', 'A')", ["Ab", "Cd", None, "x_y"]),
        ("trim(both 'x' from s)", ["ab", "Cd", None, "_y"]),
        ("lpad(s, 4, '*')", ["**ab", "**Cd", None, "*x_y"]),
        ("rpad(s, 1, '*')", ["a", "C", None, "x"]),  # longer text is cut, as SQL does
        ("s LIKE 'a%'", [True, False, None, False]),
        ("s LIKE 'x_y'", [False, False, None, True]),  # _ is one character
        ("s LIKE '.b'", [False, False, None, False]),  # a dot is a dot, not a pattern
        ("s NOT LIKE 'a%'", [False, True, None, True]),
        ("s ILIKE 'c%'", [False, True, None, False]),
        ("year(CAST(d AS DATE))", [2026, 2026, None, 2025]),
        ("EXTRACT(MONTH FROM CAST(d AS DATE))", [1, 5, None, 12]),
        ("day(CAST(d AS DATE))", [31, 1, None, 31]),
        ("CAST(d AS DATE) > DATE '2026-01-01'", [True, True, None, False]),
    ],
)
def test_what_an_expression_computes(text: str, expected: list[object]) -> None:
    assert values(text) == expected


def test_a_date_literal_is_a_date() -> None:
    assert pl.select(parse_sql_expr("DATE '2026-02-28'")).item() == dt.date(2026, 2, 28)


def test_the_columns_an_expression_reads() -> None:
    names = parse_sql_expr("CASE WHEN seats = 0 THEN NULL ELSE active / seats END")
    assert sorted(set(names.meta.root_names())) == ["active", "seats"]
    assert parse_sql_expr('"monthly logins" * 2').meta.root_names() == ["monthly logins"]


@pytest.mark.parametrize(
    ("text", "message"),
    [
        (
            "logins_month IN (FROM read_csv('http://127.0.0.1:8765/x.csv'))",
            "a query (SELECT, FROM, VALUES, a table) is not allowed in an expression",
        ),
        (
            "logins + (SELECT 1)",
            "a query (SELECT, FROM, VALUES, a table) is not allowed in an expression",
        ),
        (
            "EXISTS (SELECT 1)",
            "a query (SELECT, FROM, VALUES, a table) is not allowed in an expression",
        ),
        ("x IN (VALUES (1))", "IN takes literal values (got 'VALUES (1)')"),
        ("x IN (y)", "IN takes literal values (got 'y')"),
        ("x IN (1, NULL)", "IN takes literal values (got 'NULL')"),
        ("a = ANY(SELECT 1)", "'ANY (SELECT 1)' (any) is not allowed in an expression"),
        ("a; DROP TABLE t", "'a; DROP TABLE t' (block) is not allowed in an expression"),
        ("t.x > 1", "'t.x': a column is named alone (no table, no *), e.g. logins_month"),
        ("*", "'*' (star) is not allowed in an expression"),
        ('"*" > 1', "'*' is not a column name (Polars would read it as a pattern)"),
        ('"^a.*$" > 1', "'^a.*$' is not a column name (Polars would read it as a pattern)"),
        (
            "read_parquet('x')",
            "function read_parquet() is not allowed in an expression; "
            "the functions are " + ", ".join(sorted(FUNCTIONS)),
        ),
        ("lowr(s)", "function lowr() is not allowed in an expression; did you mean lower()?"),
        (
            "repeat(s, 3)",
            "function repeat() is not allowed in an expression; did you mean replace()?",
        ),
        (
            "lpad(name, 100000000, 'x')",
            f"LPAD and RPAD take a length from 0 to {MAX_PAD_LENGTH:,} (got 100000000)",
        ),
        ("lpad(name, n, 'x')", "LPAD's length takes literal values (got 'n')"),
        ("lpad(name, 3, 'xy')", "LPAD and RPAD take a fill of one character"),
        ("log(a)", "use LN(x) or LOG10(x): LOG(x) means either, depending on the SQL"),
        (
            "CAST(a AS DECIMAL(10, 2))",
            "CAST to DECIMAL(10, 2) is not allowed; the types are "
            "INT, SMALLINT, BIGINT, REAL, DOUBLE, VARCHAR, TEXT, BOOLEAN, DATE",
        ),
        (
            "a::json",
            "CAST to JSON is not allowed; the types are "
            "INT, SMALLINT, BIGINT, REAL, DOUBLE, VARCHAR, TEXT, BOOLEAN, DATE",
        ),
        ("DATE '2026-02-30'", "'2026-02-30' is not a date written YYYY-MM-DD"),
        ("round(f, 20)", "ROUND takes a whole number of decimals from 0 to 15"),
        ("x LIKE y", "LIKE takes literal values (got 'y')"),
        ("a > 1e400", "the number 1e400 is too large"),
        ("a > 99999999999999999999", "the number 99999999999999999999 is too large"),
        (
            "logins +* 2",
            "not a valid SQL expression: unexpected '2' at column 11",
        ),
        (
            "score <",
            "not a valid SQL expression: '<' at column 7 has nothing on its right",
        ),
    ],
)
def test_what_an_expression_refuses(text: str, message: str) -> None:
    assert refusal(text) == message


@pytest.mark.parametrize("name", ["read_csv", "read_json", "glob", "getenv", "random", "now"])
def test_functions_that_read_or_vary_are_refused(name: str) -> None:
    """Whatever sqlglot makes of them (a known function or a parse error), never a value."""
    with pytest.raises(ExpressionError, match=r"not allowed in an expression|not a valid SQL"):
        parse_sql_expr(f"{name}('/etc/passwd')")


def test_the_length_limit() -> None:
    text = "a + " * (MAX_EXPRESSION_CHARS // 4) + "a"
    assert refusal(text) == (
        f"the expression is {len(text):,} characters long; the limit is {MAX_EXPRESSION_CHARS:,}"
    )


def test_the_part_limit() -> None:
    # n terms make n columns, n identifiers and n - 1 additions: 3n - 1 parts
    terms = (MAX_EXPRESSION_NODES + 1) // 3 + 1
    text = " + ".join(["a"] * terms)
    assert refusal(text) == (
        f"the expression has {3 * terms - 1:,} parts; the limit is {MAX_EXPRESSION_NODES:,}"
    )


def test_the_nesting_limit_is_checked_before_parsing() -> None:
    deep = MAX_EXPRESSION_DEPTH + 1
    assert refusal("(" * deep + "a" + ")" * deep) == (
        f"the expression is nested {deep} levels deep; the limit is {MAX_EXPRESSION_DEPTH}"
    )


def test_a_tree_within_the_limits_is_returned_unplanned() -> None:
    tree = check_expression("CASE WHEN a > 1 THEN b ELSE 0 END")
    assert tree.sql() == "CASE WHEN a > 1 THEN b ELSE 0 END"


def test_every_listed_function_is_translated() -> None:
    """FUNCTIONS is what the README lists: each one parses and translates."""
    calls = {
        "abs": "abs(a)",
        "ceil": "ceil(f)",
        "ceiling": "ceiling(f)",
        "floor": "floor(f)",
        "round": "round(f)",
        "sqrt": "sqrt(b)",
        "exp": "exp(b)",
        "ln": "ln(b)",
        "log10": "log10(b)",
        "power": "power(b, 2)",
        "sign": "sign(a)",
        "greatest": "greatest(a, b)",
        "least": "least(a, b)",
        "coalesce": "coalesce(a, b)",
        "nullif": "nullif(a, b)",
        "if": "if(a > 0, 1, 0)",
        "lower": "lower(s)",
        "upper": "upper(s)",
        "trim": "trim(s)",
        "ltrim": "ltrim(s)",
        "rtrim": "rtrim(s)",
        "length": "length(s)",
        "char_length": "char_length(s)",
        "substring": "substring(s, 1, 1)",
        "substr": "substr(s, 1, 1)",
        "replace": "replace(s, 'a', 'b')",
        "lpad": "lpad(s, 3, 'x')",
        "rpad": "rpad(s, 3, 'x')",
        "concat": "concat(s, s)",
        "year": "year(CAST(d AS DATE))",
        "month": "month(CAST(d AS DATE))",
        "day": "day(CAST(d AS DATE))",
        "extract": "extract(year FROM CAST(d AS DATE))",
        "date_part": "date_part('dow', CAST(d AS DATE))",
        "current_date": "CAST(d AS DATE) - CURRENT_DATE",
        "cast": "cast(a AS BIGINT)",
        "try_cast": "try_cast(s AS DOUBLE)",
    }
    assert sorted(calls) == sorted(FUNCTIONS)
    for call in calls.values():
        assert len(values(call)) == FRAME.height, call


DATES = pl.DataFrame(
    {
        "renewal": [dt.date(2026, 12, 31), dt.date(2026, 11, 29), None],
        "created": [dt.date(2026, 1, 1), dt.date(2026, 12, 6), dt.date(2024, 2, 29)],
    }
)
AS_OF = dt.date(2026, 12, 1)


def dated(text: str) -> list[object]:
    expr = parse_sql_expr(text, dates=["renewal", "created"], today=AS_OF)
    return DATES.select(expr.alias("v"))["v"].to_list()


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        # 2026-12-31 is 30 days after 2026-12-01; 2026-11-29 two days before it
        ("renewal - CURRENT_DATE", [30, -2, None]),
        ("CURRENT_DATE - renewal", [-30, 2, None]),
        # 2026-01-01 to 2026-12-31: 364 days (2026 is not a leap year)
        ("renewal - created", [364, -7, None]),
        ("renewal - CURRENT_DATE < 30", [False, True, None]),
        ("renewal < '2026-12-01'", [False, True, None]),
        ("renewal - DATE '2026-12-25'", [6, -26, None]),
        ("renewal + 1", [dt.date(2027, 1, 1), dt.date(2026, 11, 30), None]),
        ("7 + created", [dt.date(2026, 1, 8), dt.date(2026, 12, 13), dt.date(2024, 3, 7)]),
        # 30 days before the run's date: 30 days more than from the date itself
        ("renewal - (CURRENT_DATE - 30)", [60, 28, None]),
        # 2026-01-01 is a Thursday, 2026-12-06 a Sunday, 2024-02-29 a Thursday
        ("DATE_PART('dow', created)", [4, 0, 4]),
        ("DATE_PART('isodow', created)", [4, 7, 4]),
        ("EXTRACT(DOW FROM created)", [4, 0, 4]),
        # day of the year: 1; 334 + 6 = 340; 31 + 29 = 60
        ("DATE_PART('doy', created)", [1, 340, 60]),
        # ISO weeks: 2026-01-01 is in week 1, 2026-12-06 in week 49, 2024-02-29 in week 9
        ("DATE_PART('week', created)", [1, 49, 9]),
        ("DATE_PART('year', created)", [2026, 2026, 2024]),
    ],
)
def test_dates_in_expressions(text: str, expected: list[object]) -> None:
    assert dated(text) == expected


def test_current_date_is_the_runs_date() -> None:
    later = parse_sql_expr("renewal - CURRENT_DATE", dates=["renewal"], today=dt.date(2026, 12, 31))
    assert DATES.select(later.alias("v"))["v"].to_list() == [0, -32, None]


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("5 - renewal", "'5 - renewal': a number minus a date has no meaning"),
        ("renewal + created", "'renewal + created': two dates cannot be added"),
        (
            "DATE_PART('hour', created)",
            "DATE_PART takes year, quarter, month, day, dow, isodow, doy, week (got 'HOUR')",
        ),
        ("DATE_PART(created)", "DATE_PART takes a unit in quotes and a date: DATE_PART('dow', d)"),
    ],
)
def test_date_arithmetic_that_has_no_meaning_is_refused(text: str, message: str) -> None:
    with pytest.raises(ExpressionError) as info:
        parse_sql_expr(text, dates=["renewal", "created"])
    assert str(info.value) == message


def test_a_product_does_not_wrap_round() -> None:
    """Integers would overflow silently (7 * 2**62 wraps to a negative number): `*`
    computes in floating point, so the product is the number it should be."""
    assert values("a * 4611686018427387904") == [7 * 2.0**62, -7 * 2.0**62, None, 0.0]
    assert values("a * b") == [14.0, -14.0, None, 0.0]


def test_text_in_a_product_still_fails_when_the_plan_is_typed() -> None:
    with pytest.raises(pl.exceptions.InvalidOperationError):
        FRAME.lazy().select(parse_sql_expr("s * 2")).collect_schema()


def test_in_takes_values_of_one_kind() -> None:
    assert refusal("a IN (1, 2, 'x')") == "IN takes values of one kind (got number and text)"


def test_a_long_run_of_not_is_refused_as_too_deep() -> None:
    deep = MAX_EXPRESSION_DEPTH + 20
    assert refusal("NOT " * deep + "a > 1") == (
        f"the expression is nested {deep} levels deep; the limit is {MAX_EXPRESSION_DEPTH}"
    )


def test_nested_operators_that_repeat_their_operand_are_bounded() -> None:
    """`CASE x WHEN` reads x once per branch, NULLIF its value twice: nested, each level
    doubles the plan (20 levels took longer than 30 s and 5 GB). The translation counts
    what it makes."""
    case = "a"
    for _ in range(20):
        case = f"CASE {case} WHEN 1 THEN 2 WHEN 3 THEN 4 END"
    nullif = "a"
    for _ in range(20):
        nullif = f"nullif({nullif}, 1)"
    message = (
        f"the expression expands to more than {MAX_EXPANDED_NODES:,} parts once translated "
        "(each nested `%`, NULLIF or `CASE x WHEN` repeats what it is given); the limit is "
        f"{MAX_EXPANDED_NODES:,}"
    )
    assert refusal(case) == message
    assert refusal(nullif) == message
    # a few levels stay allowed, and compute what they say: 7 -> 0 (ELSE NULL) ...
    assert values("CASE CASE a WHEN 7 THEN 1 END WHEN 1 THEN 9 END") == [9, None, None, None]
    assert values("nullif(nullif(a, 7), -7)") == [None, None, None, 0]


def test_text_an_expression_can_make_is_bounded() -> None:
    """REPLACE by a longer text multiplies, CONCAT adds: 262 characters once made 2.6 GB
    of text per three rows."""
    grow = "replace(replace(lpad(s, 1000, 'x'), 'x', 'xxxxxxxxxx'), 'x', 'xx')"
    assert refusal(f"length({grow}) > 0") == (
        f"the expression can make text of 20,000 characters; the limit is {MAX_TEXT_CHARS:,}"
    )
    pads = " || ".join(["lpad(s, 1000, 'x')"] * 11)
    assert refusal(pads) == (
        f"the expression can make text of 11,000 characters; the limit is {MAX_TEXT_CHARS:,}"
    )
    times = "replace(replace(s, 'a', 'aaaaaaaa'), 'a', 'aaaaaaaa')"  # 8 x 8 = 64 times
    assert refusal(times) == (
        "the expression can make text 64 times as long as the cells it reads; the limit is "
        f"{MAX_TEXT_TIMES} times"
    )
    assert values("replace(s, 'a', 'aa')") == ["aab", "Cd", None, "x_y"]


def test_a_column_can_be_read_through_a_mapping() -> None:
    """A column the run reads as text is read by its expressions cast back to its type."""
    text = pl.DataFrame({"m": ["10", "oops", None]})
    typed = {"m": pl.col("m").cast(pl.Int64, strict=False)}
    assert text.select(parse_sql_expr("m / 4", typed))["m"].to_list() == [2.5, None, None]


def test_length_is_a_signed_integer() -> None:
    # Polars' len_chars is a UInt32: LENGTH('old') - LENGTH('gold') wrapped round to
    # 4294967295 until LENGTH was cast to Int64 (found comparing with the compiled SQL)
    frame = pl.DataFrame({"a": ["old"], "b": ["gold"]})
    assert frame.select(parse_sql_expr("LENGTH(a) - LENGTH(b)")).item() == -1
