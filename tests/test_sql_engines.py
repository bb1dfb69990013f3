"""The SQL engines of sql_engines.py, which the SQL compiler's equivalence tests run on.

Each test asking for `sql_engine` runs on DuckDB, PostgreSQL and Spark. First that the
engines themselves are faithful: a frame of every supported type loads and reads back
unchanged, tables last one call, quoted names. Then what each engine gives where they
differ, written down for the compiler: integer division, division by zero, ROUND of ties
(of doubles and of decimals), casts of doubles to integers, the order of NULLs, the types
of aggregates, unquoted names. Where SQL is written once for all three, `in_dialect`
translates it from DuckDB's with sqlglot.
"""

from __future__ import annotations

import math
from datetime import date, datetime
from decimal import Decimal

import polars as pl
import pytest
from polars.testing import assert_frame_equal
from sql_engines import (
    Engine,
    engines_required,
    in_dialect,
    normalised,
    postgres_type,
    unavailable,
)

# every dtype the engines load, with nulls, and values a text or float path would change:
# the shortest float forms, a subnormal, infinities, 2**62 + 1 (not a double), the empty
# string beside NULL, a string that reads "NULL" or \N, quotes, commas and newlines
MIXED = pl.DataFrame(
    {
        "id": [3, 1, 6, 2, 5, 4],
        "n": [2**62 + 1, 0, None, -(2**62), 42, -1],
        "x": [0.1 + 0.2, 1 / 3, None, 5e-324, math.inf, -1e300],
        "s": ['a "quoted", comma\nand newline', "plain", None, "", "\\N", "NULL é ✓"],
        "b": [True, False, None, True, False, True],
        "d": [
            date(2026, 2, 28),
            date(1970, 1, 1),
            None,
            date(1900, 1, 1),
            date(2099, 12, 31),
            date(2000, 2, 29),
        ],
        "ts": [
            datetime(2026, 11, 1, 6, 30),
            datetime(1969, 12, 31, 23, 59, 59, 999999),
            None,
            datetime(2000, 2, 29, 12, 0, 0, 1),
            datetime(1900, 1, 1),
            datetime(2038, 1, 19, 3, 14, 8),
        ],
    },
    schema={
        "id": pl.Int64,
        "n": pl.Int64,
        "x": pl.Float64,
        "s": pl.String,
        "b": pl.Boolean,
        "d": pl.Date,
        "ts": pl.Datetime("us"),
    },
)
PAIRS = pl.DataFrame({"id": [1, 2, 3, 4], "a": [7, -7, 1, 10], "b": [2, 2, 3, 4]})
IDS = [1, 2, 3, 4]
# ties in decimal; 2.675 and 1.005 are ties only in decimal: as doubles they are
# 2.67499999999999982236431605997495353221893310546875 and 1.00499999999999989341858963598497211933135986328125
HALVES = pl.DataFrame({"id": [1, 2, 3, 4, 5, 6], "x": [2.5, -2.5, 0.125, 0.5, 2.675, 1.005]})


def frame(**columns: list[object]) -> pl.DataFrame:
    return pl.DataFrame(columns)


def run(engine: Engine, duckdb_sql: str, table: pl.DataFrame) -> pl.DataFrame:
    """`duckdb_sql` translated for the engine, run on `table` as t."""
    return engine.run(in_dialect(duckdb_sql, engine.dialect), {"t": table})


# -- the engines are faithful ------------------------------------------------------------------


def test_a_frame_of_every_type_reads_back_unchanged(sql_engine: Engine) -> None:
    result = sql_engine.run("SELECT * FROM t", {"t": MIXED})
    assert result.schema == MIXED.schema
    assert result.sort("id").rows() == MIXED.sort("id").rows()


def test_an_empty_frame_keeps_its_columns(sql_engine: Engine) -> None:
    result = sql_engine.run("SELECT * FROM t", {"t": MIXED.head(0)})
    assert result.schema == MIXED.schema
    assert result.height == 0


def test_tables_last_one_call_and_a_refused_statement_leaves_the_engine_usable(
    sql_engine: Engine,
) -> None:
    assert sql_engine.run("SELECT COUNT(*) AS n FROM t", {"t": PAIRS}).rows() == [(4,)]
    with pytest.raises(sql_engine.error, match=r"does not exist|cannot be found"):
        sql_engine.run("SELECT COUNT(*) AS n FROM t", {"u": HALVES})
    both = {"t": PAIRS, "u": HALVES}
    query = "SELECT (SELECT COUNT(*) FROM t) AS n, (SELECT COUNT(*) FROM u) AS m"
    assert sql_engine.run(query, both).rows() == [(4, 6)]


def test_names_are_made_as_given_and_reached_quoted(sql_engine: Engine) -> None:
    accounts = pl.DataFrame({"Account ID": ["a", "b"], "MRR": [10.5, 20.0]})
    sql = in_dialect(
        'SELECT "Account ID", "MRR" * 2 AS "Double MRR" FROM "Accounts"', sql_engine.dialect
    )
    result = sql_engine.run(sql, {"Accounts": accounts})
    assert result.rows() == [("a", 21.0), ("b", 40.0)]
    assert result.columns == ["Account ID", "Double MRR"]


def test_an_unquoted_mixed_case_name_is_folded_by_postgresql_alone(sql_engine: Engine) -> None:
    accounts = pl.DataFrame({"MRR": [10.5]})
    sql = in_dialect("SELECT MRR FROM Accounts", sql_engine.dialect)
    if sql_engine.name == "postgres":
        # PostgreSQL reads MRR as mrr and Accounts as accounts: the compiler must quote
        with pytest.raises(sql_engine.error, match='relation "accounts" does not exist'):
            sql_engine.run(sql, {"Accounts": accounts})
    else:
        assert sql_engine.run(sql, {"Accounts": accounts}).rows() == [(10.5,)]


# -- arithmetic: the same values everywhere when written for each dialect -------------------------


def test_arithmetic_written_for_each_dialect_is_exact(sql_engine: Engine) -> None:
    sql = "SELECT id, CAST(a AS DOUBLE) / b AS ratio, a * 3 - b AS lin, a % b AS rem, a + 0.5 AS half FROM t ORDER BY id"
    expected = frame(
        id=IDS,
        # IEEE division is correctly rounded: each engine's double is Python's
        ratio=[7 / 2, -7 / 2, 1 / 3, 10 / 4],
        lin=[7 * 3 - 2, -7 * 3 - 2, 1 * 3 - 3, 10 * 3 - 4],
        rem=[1, -1, 1, 2],  # the sign of the dividend: -7 % 2 is -1 (Python's is 1)
        half=[7.5, -6.5, 1.5, 10.5],  # bigint + a decimal literal: a decimal
    )
    assert_frame_equal(run(sql_engine, sql, PAIRS), expected, check_exact=True)


def test_integer_division_as_written_truncates_in_postgresql_alone(sql_engine: Engine) -> None:
    # the same text on every engine, not translated
    result = sql_engine.run("SELECT id, a / b AS q FROM t ORDER BY id", {"t": PAIRS})
    if sql_engine.name == "postgres":
        expected = frame(id=IDS, q=[3, -3, 0, 2])  # integer / integer: toward zero
    else:
        expected = frame(id=IDS, q=[3.5, -3.5, 1 / 3, 2.5])  # DuckDB and Spark: a double
    assert_frame_equal(result, expected, check_exact=True)
    # sqlglot writes DuckDB's meaning for PostgreSQL: CAST(a AS DOUBLE PRECISION) / b
    translated = run(sql_engine, "SELECT id, a / b AS q FROM t ORDER BY id", PAIRS)
    assert_frame_equal(translated, frame(id=IDS, q=[3.5, -3.5, 1 / 3, 2.5]), check_exact=True)


def test_integer_division_operator_truncates_toward_zero(sql_engine: Engine) -> None:
    # DuckDB's a // b; sqlglot writes DIV(a, b) for PostgreSQL, a DIV b for Spark
    result = run(sql_engine, "SELECT id, a // b AS q FROM t ORDER BY id", PAIRS)
    if sql_engine.name == "postgres":
        expected = frame(id=IDS, q=[3.0, -3.0, 0.0, 2.0])  # DIV gives a NUMERIC
    else:
        expected = frame(id=IDS, q=[3, -3, 0, 2])
    assert_frame_equal(result, expected, check_exact=True)


def test_division_by_zero_is_an_error_but_in_duckdb(sql_engine: Engine) -> None:
    zeros = frame(id=IDS, a=[7, -7, 0, 6], b=[0, 0, 0, 3])
    sql = "SELECT id, CAST(a AS DOUBLE) / b AS q FROM t ORDER BY id"
    if sql_engine.name == "duckdb":
        result = run(sql_engine, sql, zeros)
        assert_frame_equal(result, frame(id=IDS, q=[math.inf, -math.inf, math.nan, 2.0]))
    else:  # Spark's ANSI mode (its default) agrees with PostgreSQL
        message = {"postgres": "division by zero", "spark": "DIVIDE_BY_ZERO"}[sql_engine.name]
        with pytest.raises(sql_engine.error, match=message):
            run(sql_engine, sql, zeros)
    guarded = "SELECT id, CAST(a AS DOUBLE) / NULLIF(b, 0) AS q FROM t ORDER BY id"
    result = run(sql_engine, guarded, zeros)
    assert_frame_equal(result, frame(id=IDS, q=[None, None, None, 2.0]))


# -- rounding --------------------------------------------------------------------------------------


def test_round_of_a_double_breaks_ties_to_even_in_postgresql_alone(sql_engine: Engine) -> None:
    result = run(sql_engine, "SELECT id, ROUND(x) AS r FROM t ORDER BY id", HALVES)
    if sql_engine.name == "postgres":
        # round(double precision) is rint(): 2.5 -> 2, -2.5 -> -2, 0.5 -> 0
        r = [2.0, -2.0, 0.0, 0.0, 3.0, 1.0]
    else:
        r = [3.0, -3.0, 0.0, 1.0, 3.0, 1.0]  # ties away from zero
    assert_frame_equal(result, frame(id=HALVES["id"].to_list(), r=r), check_exact=True)


def test_round_of_a_double_to_two_places_differs_on_every_engine(sql_engine: Engine) -> None:
    sql = in_dialect("SELECT id, ROUND(x, 2) AS r FROM t ORDER BY id", sql_engine.dialect)
    ids = HALVES["id"].to_list()
    if sql_engine.name == "postgres":
        # there is round(numeric, int) but no round(double precision, int)
        with pytest.raises(
            sql_engine.error, match=r"round\(double precision, integer\) does not exist"
        ):
            sql_engine.run(sql, {"t": HALVES})
        return
    result = sql_engine.run(sql, {"t": HALVES})
    if sql_engine.name == "duckdb":
        # the double's exact value, ties away from zero: 2.675 and 1.005 fall just below
        r = [2.5, -2.5, 0.13, 0.5, 2.67, 1.0]
    else:
        # Spark rounds the double's shortest decimal form (2.675, 1.005) half up
        r = [2.5, -2.5, 0.13, 0.5, 2.68, 1.01]
    assert_frame_equal(result, frame(id=ids, r=r), check_exact=True)
    exact = [float(Decimal(x).quantize(Decimal("0.01"), "ROUND_HALF_UP")) for x in HALVES["x"]]
    shortest = [
        float(Decimal(repr(x)).quantize(Decimal("0.01"), "ROUND_HALF_UP")) for x in HALVES["x"]
    ]
    assert r == (exact if sql_engine.name == "duckdb" else shortest)


def test_round_of_a_decimal_is_the_same_everywhere(sql_engine: Engine) -> None:
    sql = "SELECT id, ROUND(CAST(x AS DECIMAL(38, 10)), 2) AS r FROM t ORDER BY id"
    # the double to 10 places is its shortest form here, then ties away from zero
    r = [2.5, -2.5, 0.13, 0.5, 2.68, 1.01]
    assert_frame_equal(
        run(sql_engine, sql, HALVES), frame(id=HALVES["id"].to_list(), r=r), check_exact=True
    )
    literals = "SELECT ROUND(2.5) AS a, ROUND(-2.5) AS b, ROUND(0.125, 2) AS c"
    assert run(sql_engine, literals, PAIRS).rows() == [(3.0, -3.0, 0.13)]  # decimal literals


def test_numeric_without_precision_is_an_integer_in_spark(sql_engine: Engine) -> None:
    # as written, untranslated: NUMERIC is DECIMAL(18,3) in DuckDB, unbounded in
    # PostgreSQL, DECIMAL(10,0) in Spark (sqlglot writes DuckDB's DECIMAL(18, 3) for it)
    sql = "SELECT id, ROUND(CAST(x AS NUMERIC), 2) AS r FROM t ORDER BY id"
    result = sql_engine.run(sql, {"t": HALVES})
    if sql_engine.name == "spark":
        r = [3.0, -3.0, 0.0, 1.0, 3.0, 1.0]
    else:
        r = [2.5, -2.5, 0.13, 0.5, 2.68, 1.01]
    assert_frame_equal(result, frame(id=HALVES["id"].to_list(), r=r), check_exact=True)


def test_cast_of_a_double_to_an_integer_truncates_in_spark_alone(sql_engine: Engine) -> None:
    fractions = frame(id=[1, 2, 3, 4, 5, 6], x=[2.7, -2.7, 2.5, -2.5, 3.5, 0.5])
    sql = "SELECT id, CAST(x AS BIGINT) AS i, FLOOR(x) AS f FROM t ORDER BY id"
    result = run(sql_engine, sql, fractions)
    floors = [2, -3, 2, -3, 3, 0]
    if sql_engine.name == "spark":
        # toward zero; FLOOR of a double is a BIGINT
        expected = frame(id=fractions["id"].to_list(), i=[2, -2, 2, -2, 3, 0], f=floors)
    else:
        # to the nearest, ties to even; FLOOR of a double is a double
        expected = frame(
            id=fractions["id"].to_list(), i=[3, -3, 2, -2, 4, 0], f=[float(f) for f in floors]
        )
    assert_frame_equal(result, expected, check_exact=True)


# -- NULLs in ORDER BY, aggregates ---------------------------------------------------------------


GAPS = frame(id=IDS, v=[2, None, 1, None])


@pytest.mark.parametrize(
    ("order", "nulls_last_engines", "nulls_last", "nulls_first"),
    [
        ("v, id", {"duckdb", "postgres"}, [3, 1, 2, 4], [2, 4, 3, 1]),
        ("v DESC, id", {"duckdb", "spark"}, [1, 3, 2, 4], [2, 4, 1, 3]),
    ],
)
def test_where_nulls_sort_by_default(
    sql_engine: Engine,
    order: str,
    nulls_last_engines: set[str],
    nulls_last: list[int],
    nulls_first: list[int],
) -> None:
    # DuckDB: NULLs last both ways; PostgreSQL: NULL is the largest (last ascending, first
    # descending); Spark: NULL is the smallest (first ascending, last descending)
    as_written = sql_engine.run(f"SELECT id FROM t ORDER BY {order}", {"t": GAPS})
    expected = nulls_last if sql_engine.name in nulls_last_engines else nulls_first
    assert as_written["id"].to_list() == expected
    # translated, DuckDB's NULLS LAST is written out where it is not the default
    translated = run(sql_engine, f"SELECT id FROM t ORDER BY {order}", GAPS)
    assert translated["id"].to_list() == nulls_last


def test_aggregate_types(sql_engine: Engine) -> None:
    sql = "SELECT COUNT(*) AS n, SUM(a) AS total, AVG(a) AS mean, MIN(a) AS low FROM t"
    result = run(sql_engine, sql, PAIRS)
    # SUM of BIGINTs: HUGEINT in DuckDB and NUMERIC in PostgreSQL (both Float64 here),
    # BIGINT in Spark
    total = 11 if sql_engine.name == "spark" else 11.0
    assert_frame_equal(result, frame(n=[4], total=[total], mean=[2.75], low=[-7]), check_exact=True)


# -- the helpers, without an engine ----------------------------------------------------------------


def test_a_missing_engine_skips_locally_and_fails_in_ci(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("CI", raising=False)
    monkeypatch.delenv("CHS_REQUIRE_ENGINES", raising=False)
    assert not engines_required()
    with pytest.raises(pytest.skip.Exception, match="no server"):
        unavailable("no server")
    for variable, value in [("CI", "1"), ("CI", "true"), ("CHS_REQUIRE_ENGINES", "1")]:
        with monkeypatch.context() as env:
            env.setenv(variable, value)
            assert engines_required()
            with pytest.raises(pytest.fail.Exception, match=r"no server .*engines are required"):
                unavailable("no server")
    monkeypatch.setenv("CI", "0")
    assert not engines_required()


def test_results_get_one_dtype_per_kind() -> None:
    raw = pl.DataFrame(
        {
            "i": pl.Series([1, None], dtype=pl.Int32),
            "u": pl.Series([255, 0], dtype=pl.UInt8),
            "f": pl.Series([0.5, None], dtype=pl.Float32),
            "d": pl.Series([Decimal("2.68"), None], dtype=pl.Decimal(38, 10)),
            "t": pl.Series(
                [datetime(2026, 7, 1, 14, 0), None], dtype=pl.Datetime("ns")
            ).dt.replace_time_zone("Europe/Paris"),
            "s": ["x", None],
        }
    )
    result = normalised(raw)
    assert dict(result.schema) == {
        "i": pl.Int64,
        "u": pl.Int64,
        "f": pl.Float64,
        "d": pl.Float64,
        "t": pl.Datetime("us"),
        "s": pl.String,
    }
    # 14:00 in Paris in July (UTC+2) is 12:00 UTC
    assert result.rows() == [
        (1, 255, 0.5, 2.68, datetime(2026, 7, 1, 12, 0), "x"),
        (None, 0, None, None, None, None),
    ]


def test_a_dtype_postgresql_cannot_hold_is_named() -> None:
    assert postgres_type("n", pl.Int64()) == "BIGINT"
    with pytest.raises(TypeError, match="column 'tags': no PostgreSQL type for Polars List"):
        postgres_type("tags", pl.List(pl.String))
