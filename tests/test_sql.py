"""`chs sql` (chs/sql/, chs/actions/sql.py): the compiled query gives the Polars engine's
numbers, row by row, on DuckDB; hostile schemes cannot inject SQL; every dialect's text
parses back; dbt models."""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path

import duckdb
import polars as pl
import pytest
import sqlglot
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from support import as_json, assert_failed, invoke, write

from chs.actions.score import ScoreOptions, score
from chs.actions.sql import sql
from chs.alerts import add_alerts
from chs.engine.plan import score_frame
from chs.scheme import Scheme, load_scheme, parse_scheme
from chs.sql import DIALECTS, Target, compile_sql

ROOT = Path(__file__).resolve().parent.parent
SAMPLE = ROOT / "sample_data" / "customers.csv"
AS_OF = dt.date(2026, 11, 30)
SCHEMES = sorted(p.stem for p in (ROOT / "schemes").glob("*.yaml"))


def run_duckdb(query: str, tables: dict[str, pl.DataFrame]) -> pl.DataFrame:
    con = duckdb.connect()
    for name, frame in tables.items():
        con.register(name, frame.to_arrow())
    return con.sql(query).pl()


def assert_same_rows(got: pl.DataFrame, want: pl.DataFrame, key: str) -> None:
    """Every column of `got` equals `want`'s, row by row (sorted by the id)."""
    assert sorted(got[key].to_list()) == sorted(want[key].to_list())
    got, want = got.sort(key), want.sort(key).select(got.columns)
    for column in got.columns:
        pairs = list(zip(got[column].to_list(), want[column].to_list(), strict=True))
        wrong = [(got[key][i], a, b) for i, (a, b) in enumerate(pairs) if a != b]
        assert not wrong, f"{column}: {len(wrong)} rows differ, first {wrong[:3]}"


def shipped(tmp_path: Path, name: str) -> tuple[Scheme, pl.DataFrame, pl.DataFrame]:
    """A shipped scheme, the sample as a table holding each column as chs reads it (a
    map's 0/1 column as text), and what chs score writes for it."""
    scheme = load_scheme(ROOT / "schemes" / f"{name}.yaml")
    out = tmp_path / "scored.parquet"
    score(SAMPLE, scheme, ScoreOptions(output=out, as_of=AS_OF))
    want = pl.read_parquet(out)
    frame = pl.read_csv(SAMPLE, infer_schema_length=None)
    return scheme, frame.with_columns(pl.col(c).cast(want.schema[c]) for c in frame.columns), want


@pytest.mark.parametrize("name", SCHEMES)
def test_every_shipped_scheme_scores_the_sample_as_chs_score_does(
    tmp_path: Path, name: str
) -> None:
    scheme, frame, want = shipped(tmp_path, name)
    got = run_duckdb(
        compile_sql(scheme, Target("customers", "duckdb", AS_OF)), {"customers": frame}
    )
    assert got.height == want.height == 400
    assert_same_rows(got, want, scheme.id)
    # the carried input columns, then the columns chs score writes after them, in its order
    written = [c for c in want.columns if c not in frame.columns]
    assert [c for c in got.columns if c not in frame.columns] == written


REJECTING = """\
name: r
id: id
signals:
  x: {column: x, weight: 2, missing: reject, points: [{at_least: 10, points: 100}, {points: 0}]}
  plan: {column: plan, weight: 1, map: {gold: 100, silver: 50}}
bands: [{name: a, from: 50}, {name: b, from: 0}]
"""
REJECT_DATA = pl.DataFrame(
    {
        "id": ["c1", "c2", " ", "c4", "c4", "c6", "c7"],
        "x": [12.0, None, 3.0, 5.0, 6.0, 20.0, 10.0],
        "plan": ["gold", "gold", "gold", "silver", "silver", "bronze", " SILVER "],
    }
)


def test_rows_chs_score_rejects_are_left_out_or_listed_with_their_reason() -> None:
    scheme = parse_scheme(REJECTING)
    want, rejected = score_frame(REJECT_DATA, scheme)
    got = run_duckdb(compile_sql(scheme, Target("t")), {"t": REJECT_DATA})
    assert sorted(got["id"].to_list()) == want["id"].to_list() == ["c1", "c7"]
    assert_same_rows(got, want, "id")
    listed = run_duckdb(compile_sql(scheme, Target("t"), rejects=True), {"t": REJECT_DATA}).sort(
        "id"
    )
    # the reasons chs score gives, word for word
    assert listed.select("id", "reason").rows() == [
        (" ", "empty id"),
        ("c2", "x: no value (missing: reject)"),
        ("c4", "duplicate id 'c4'"),
        ("c4", "duplicate id 'c4'"),
        ("c6", "plan: 'bronze' is not in its map (gold, silver) and it has no `other`"),
    ]
    assert sorted(rejected.select("id", "reason").rows()) == listed.select("id", "reason").rows()
    assert rejected.height == listed.height


BOUNDS = [0.0, 10.0, 20.5, 50.0]
EDGE = st.sampled_from(["at_least", "above", "at_most", "below"])


@st.composite
def signals(draw: st.DrawFn, name: str) -> str:
    """One signal's YAML: tiers with every kind of edge, breakpoints or a map."""
    weight = draw(st.sampled_from([1, 2.5, 30, 0.1]))
    missing = draw(st.sampled_from(["zero", "redistribute", 40, "reject"]))
    kind = draw(st.sampled_from(["tiers", "linear", "map"]))
    head = f"{name}: {{weight: {weight}, missing: {missing}, "
    if kind == "tiers":
        tiers = [
            f"{{{draw(EDGE)}: {bound}, points: {draw(st.integers(0, 100))}}}"
            for bound in draw(
                st.lists(st.sampled_from(BOUNDS), min_size=1, max_size=3, unique=True)
            )
        ]
        tiers.append(f"{{points: {draw(st.integers(0, 100))}}}")
        return head + f"column: {name}, points: [{', '.join(tiers)}]}}"
    if kind == "linear":
        xs = sorted(
            draw(
                st.lists(
                    st.sampled_from([-5.0, 0.0, 10.0, 33.3, 50.0]),
                    min_size=2,
                    max_size=4,
                    unique=True,
                )
            )
        )
        knots = ", ".join(
            f"[{x}, {draw(st.floats(0, 100, allow_nan=False).map(lambda v: round(v, 3)))}]"
            for x in xs
        )
        return head + f"column: {name}, linear: [{knots}]}}"
    other = draw(st.sampled_from(["", ", other: 20"]))
    match = draw(st.sampled_from(["", ", match: exact"]))
    return head + f"column: c_{name}, map: {{a: 100, B: 55.5, c: 0}}{other}{match}}}"


@st.composite
def schemes(draw: st.DrawFn) -> str:
    names = [f"s{i}" for i in range(draw(st.integers(1, 4)))]
    body = [draw(signals(n)) for n in names]
    reasons = draw(st.integers(0, 4))
    if draw(st.booleans()) and len(names) > 1:
        cut = draw(st.integers(1, len(names) - 1))
        groups = [("g1", body[:cut]), ("g2", body[cut:])]
        text = "groups:\n" + "".join(
            f"  {g}:\n    weight: {draw(st.sampled_from([1, 3, 0.5]))}\n    signals:\n"
            + "".join(f"      {s}\n" for s in sigs)
            for g, sigs in groups
        )
    else:
        text = "signals:\n" + "".join(f"  {s}\n" for s in body)
    return f"name: h\nid: id\nreasons: {reasons}\n{text}bands: [{{name: hi, above: 60}}, {{name: mid, from: 33.3}}, {{name: lo, from: 0}}]\n"


def generated_rows(seed: int) -> pl.DataFrame:
    """Values on every tier bound and breakpoint, between, and missing; categories in
    every case, padded, empty, unknown and missing."""
    import random

    rng = random.Random(seed)
    numbers = [None, *BOUNDS, -5.0, 33.3, 7.25, 49.999, 100.0, 60.0]
    texts = [None, "", "a", "A", " b ", "B", "c", "zz"]
    rows = {"id": [f"r{i}" for i in range(80)]}
    for i in range(4):
        rows[f"s{i}"] = [rng.choice(numbers) for _ in range(80)]
        rows[f"c_s{i}"] = [rng.choice(texts) for _ in range(80)]
    return pl.DataFrame(
        rows, schema={k: pl.String if k == "id" or k.startswith("c_") else pl.Float64 for k in rows}
    )


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(schemes(), st.integers(0, 3))
def test_generated_schemes_score_alike_on_duckdb(text: str, seed: int) -> None:
    scheme = parse_scheme(text)
    frame = generated_rows(seed)
    want, rejected = score_frame(frame, scheme)
    got = run_duckdb(compile_sql(scheme, Target("t")), {"t": frame})
    assert got.height == want.height and got.height + rejected.height == frame.height
    assert_same_rows(got, want, "id")


@pytest.mark.parametrize(
    ("expr", "message"),
    [
        (
            "x; DROP TABLE t",
            "signals.s.expr: 'x; DROP TABLE t' (block) is not allowed in an expression",
        ),
        ("(SELECT max(x) FROM t)", "a query (SELECT, FROM, VALUES, a table) is not allowed"),
        (
            "exp(x)",
            "signals.s.expr: function exp() is not compiled to SQL yet; chs sql compiles abs, "
            "cast, ceil, char_length, coalesce, current_date, date_part, day, extract, floor, "
            "greatest, if, least, length, lower, lpad, ltrim, month, nullif, replace, round, "
            "rpad, rtrim, sign, sqrt, substr, substring, trim, upper, year\n",
        ),
        (
            "EXTRACT(DOW FROM CURRENT_DATE)",
            "signals.s.expr: the date part DOW is not compiled to SQL yet (engines count it "
            "differently); chs sql extracts YEAR, QUARTER, MONTH, DAY\n",
        ),
        ("trim(x)", "signals.s.expr: TRIM without characters is not compiled to SQL yet"),
        ("CAST(x AS INT)", "signals.s.expr: CAST to INT is not compiled to SQL yet"),
    ],
)
def test_an_expression_that_cannot_be_compiled_is_refused_at_its_line(
    tmp_path: Path, expr: str, message: str
) -> None:
    text = f'name: e\nid: id\nsignals:\n  s:\n    expr: "{expr}"\n    weight: 1\n    linear: [[0, 0], [10, 100]]\nbands: [{{name: a, from: 0}}]\n'
    path = write(tmp_path / "e.yaml", text)
    result = invoke("sql", path)
    assert result.exit_code == 3, result.output
    assert result.stderr.startswith(f"Error: {path}:5: ")
    assert message in result.stderr
    assert result.stdout == ""


def test_a_comment_or_a_quote_cannot_reach_the_query(tmp_path: Path) -> None:
    # a column named with quotes is one quoted identifier; a comment in an expression is
    # dropped (the tree is rebuilt node by node), so it cannot hide the rest
    scheme = parse_scheme(
        "name: q\nid: id\nsignals:\n"
        "  s: {column: 'we\"ird''col', weight: 1, linear: [[0, 0], [10, 100]]}\n"
        '  t: {expr: "x + 1 -- ) OR 1=1; DROP TABLE t", weight: 1, linear: [[0, 0], [10, 100]]}\n'
        "bands: [{name: a, from: 0}]\n"
    )
    text = compile_sql(scheme, Target("t"))
    assert "DROP" not in text and "--" not in text
    assert len(sqlglot.parse(text, read="duckdb")) == 1
    frame = pl.DataFrame({"id": ["a", "b"], "we\"ird'col": [5.0, 20.0], "x": [1.0, 9.0]})
    got = run_duckdb(text, {"t": frame}).sort("id")
    want, _ = score_frame(frame, scheme)
    assert_same_rows(got, want, "id")
    assert got["points_s"].to_list() == [50.0, 100.0] and got["points_t"].to_list() == [20.0, 100.0]


@pytest.mark.parametrize("dialect", DIALECTS)
@pytest.mark.parametrize("name", ["saas", "segments", "health-inertia"])
def test_every_dialect_gets_one_statement_that_parses_back(dialect: str, name: str) -> None:
    scheme = load_scheme(ROOT / "schemes" / f"{name}.yaml")
    text = compile_sql(scheme, Target("crm.customers", dialect, AS_OF))
    statements = sqlglot.parse(text, read=dialect)
    assert len(statements) == 1 and isinstance(statements[0], sqlglot.exp.Select)
    tables = {t.name for t in statements[0].find_all(sqlglot.exp.Table)}
    assert "customers" in tables


def test_json_is_the_librarys_result(tmp_path: Path) -> None:
    path = ROOT / "schemes" / "saas.yaml"
    printed = invoke("sql", path, "--dialect", "postgres", "--as-of", "2026-11-30", "--json")
    assert printed.exit_code == 0, printed.output
    returned = sql(path, dialect="postgres", as_of=AS_OF)
    assert json.loads(printed.stdout) == as_json(returned)
    assert returned["columns"][:2] == ["customer_id", "mrr"]
    assert returned["columns"][-4:] == ["scheme", "scheme_hash", "as_of", "alerts"]
    plain = invoke("sql", path, "--dialect", "postgres", "--as-of", "2026-11-30")
    assert plain.stdout == returned["sql"]


def test_a_dbt_model_reads_a_ref_or_a_source(tmp_path: Path) -> None:
    path, out = ROOT / "schemes" / "saas.yaml", tmp_path / "models" / "health.sql"
    out.parent.mkdir()
    result = invoke("sql", path, "--dbt", "--table", "source:crm.customers", "-o", out)
    assert result.exit_code == 0, result.output
    assert result.stdout == f"SQL for duckdb written to {out}\n"
    text = out.read_text()
    scheme = load_scheme(path)
    assert text.startswith(
        f"-- dbt model generated by chs sql from scheme saas (hash {scheme.digest}).\n"
    )
    assert "FROM {{ source('crm', 'customers') }}" in text and not text.rstrip().endswith(";")
    ref = sql(path, dbt=True, table="stg_customers", dialect="spark")["sql"]
    assert "FROM {{ ref('stg_customers') }}" in ref
    assert_failed(
        invoke("sql", path, "--dbt", "--table", "x') }}{{ run_query('drop"),
        2,
        "Error: a dbt model's ref() takes a model name (got \"x') }}{{ run_query('drop\")",
    )


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--dialect", "oracle"], "the dialect is one of duckdb, postgres, spark, bigquery, snowflake (got 'oracle')"),
        (["--table", "a; DROP TABLE b"], "the table is a name, or schema.name, of letters, digits and _ (got 'a; DROP TABLE b')"),
        (["--as-of", "30/11/2026"], "--as-of must be a date written YYYY-MM-DD (got '30/11/2026')"),
    ],
)  # fmt: skip
def test_bad_options(args: list[str], message: str) -> None:
    assert_failed(invoke("sql", ROOT / "schemes" / "saas.yaml", *args), 2, f"Error: {message}")


# -- the same numbers on real engines: DuckDB, a PostgreSQL server, Spark (local) ----------


@pytest.mark.parametrize("name", SCHEMES)
def test_every_shipped_scheme_gives_chs_scores_numbers_on_each_engine(
    tmp_path: Path, sql_engine, name: str
) -> None:
    scheme, frame, want = shipped(tmp_path, name)
    query = compile_sql(scheme, Target("customers", sql_engine.dialect, AS_OF))
    got = sql_engine.run(query, {"customers": frame})
    assert got.height == 400
    assert_same_rows(got, want, scheme.id)


@settings(
    max_examples=8,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture],
)
@given(schemes(), st.integers(0, 3))
def test_generated_schemes_score_alike_on_each_engine(sql_engine, text: str, seed: int) -> None:
    scheme = parse_scheme(text)
    frame = generated_rows(seed)
    want, _ = score_frame(frame, scheme)
    got = sql_engine.run(compile_sql(scheme, Target("t", sql_engine.dialect)), {"t": frame})
    assert_same_rows(got, want, "id")


REASONS_SCHEME = """name: r
id: id
reasons: 2
signals:
  a: {column: a, weight: 1, missing: zero, points: [{at_least: 10, points: 100}, {points: 0}]}
  b: {column: b, weight: 3, missing: redistribute, linear: [[0, 0], [100, 100]]}
bands: [{name: all, from: 0}]
"""


def test_reasons_read_the_same_on_each_engine(sql_engine) -> None:
    # a missing under `zero` costs its weighted points and says so; b missing drops out
    frame = pl.DataFrame(
        {
            "id": ["r1", "r2", "r3", "r4", "r5", "r6"],
            "a": [None, 10.0, 0.0, 10.0, 0.0, None],
            "b": [100.0, None, 96.0, 99.9, 0.0, None],
        }
    )
    scheme = parse_scheme(REASONS_SCHEME)
    got = sql_engine.run(compile_sql(scheme, Target("t", sql_engine.dialect)), {"t": frame})
    # r1: a lost 1/4 of 100; r3: a 25, b 3/4 * (100 - 96) = 3; r4: b 3/4 * 0.1 = 0.075,
    # shown (at least 0.05) as 0.1; r5: b 3/4 * 100 = 75 first; r6: a alone, all 100
    assert dict(zip(got["id"], got["reasons"], strict=True)) == {
        "r1": "a (missing) -25.0",
        "r2": "",
        "r3": "a -25.0; b -3.0",
        "r4": "b -0.1",
        "r5": "b -75.0; a -25.0",
        "r6": "a (missing) -100.0",
    }
    assert_same_rows(got, score_frame(frame, scheme)[0], "id")


def test_a_flag_is_compiled_only_for_a_signal_whose_missing_value_can_cost_points() -> None:
    def query(policy: str) -> str:
        return compile_sql(parse_scheme(REASONS_SCHEME.replace("zero", policy)), Target("t"))

    assert "(missing)" in query("zero") and "(missing)" in query("40")
    assert "(missing)" not in query("redistribute") and "(missing)" not in query("reject")


def test_a_previous_table_adds_the_movement_chs_score_previous_writes(tmp_path: Path) -> None:
    # October scored, then November with --previous October: the query over November's
    # table joined to October's scored table gives the same four columns, row by row
    scheme = load_scheme(ROOT / "schemes" / "saas.yaml")
    months = ROOT / "sample_data" / "months"
    last, this = tmp_path / "oct.parquet", tmp_path / "nov.parquet"
    score(
        months / "customers_2026-10.csv",
        scheme,
        ScoreOptions(output=last, as_of=dt.date(2026, 10, 31)),
    )
    score(
        months / "customers_2026-11.csv",
        scheme,
        ScoreOptions(output=this, as_of=AS_OF, previous=last),
    )
    want = pl.read_parquet(this)
    frame = pl.read_csv(months / "customers_2026-11.csv", infer_schema_length=None)
    frame = frame.with_columns(pl.col(c).cast(want.schema[c]) for c in frame.columns)
    query = compile_sql(scheme, Target("t", "duckdb", AS_OF, previous="crm.previous"))
    con = duckdb.connect()
    con.sql("CREATE SCHEMA crm")
    con.register("t", frame.to_arrow())
    con.register("oct", pl.read_parquet(last).to_arrow())
    con.sql("CREATE TABLE crm.previous AS SELECT * FROM oct")
    got = con.sql(query).pl()
    movement = ["previous_score", "delta", "previous_band", "movement"]
    assert got.columns[-6:] == ["as_of", *movement, "alerts"]
    assert_same_rows(got.select("customer_id", "score", "band", *movement), want, "customer_id")
    assert sorted(set(got["movement"].to_list())) == ["down", "new", "same", "up"]


def test_the_readmes_example_query_is_what_chs_sql_writes() -> None:
    got = sql(
        ROOT / "schemes" / "saas.yaml", dialect="postgres", table="crm.customers", as_of=AS_OF
    )
    shipped = (ROOT / "examples" / "saas.postgres.sql").read_text()
    assert got["sql"] == shipped
    readme = (ROOT / "README.md").read_text()
    assert "".join(shipped.splitlines(keepends=True)[:40]) in readme


EXPRESSIONS = """\
name: x
id: id
columns:
  d: {type: date}
signals:
  ratio: {expr: "a / b", weight: 1, linear: [[0, 0], [3, 100]]}
  scaled: {expr: "a * 2.5 / 4 - b", weight: 1, linear: [[-50, 0], [50, 100]]}
  cased: {expr: "CASE WHEN a > 10 THEN 1 WHEN a IS NULL THEN NULL ELSE 0 END", weight: 1, points: [{at_least: 1, points: 100}, {points: 0}]}
  picked: {expr: "CASE plan WHEN 'gold' THEN 3 WHEN 'silver' THEN 2 END", weight: 1, linear: [[0, 0], [3, 100]]}
  listed: {expr: "IF(plan IN ('gold', 'silver') AND a BETWEEN 2 AND 30, 1, 0)", weight: 1, points: [{at_least: 1, points: 100}, {points: 0}]}
  liked: {expr: "IF(plan LIKE 'g%' OR plan NOT LIKE '%r', 1, 0)", weight: 1, points: [{at_least: 1, points: 100}, {points: 0}]}
  nulls: {expr: "COALESCE(NULLIF(b, 0), a, 7)", weight: 1, linear: [[0, 0], [40, 100]]}
  bounds: {expr: "GREATEST(a, b, 5) - LEAST(a, b)", weight: 1, linear: [[0, 0], [40, 100]]}
  rounds: {expr: "ROUND(a / 3, 1) + ABS(b - 10) + CEIL(a / 4) - FLOOR(b / 3)", weight: 1, linear: [[0, 0], [40, 100]]}
  texts: {expr: "LOWER(plan)", weight: 1, map: {gold: 100, silver: 50}, other: 10}
  casts: {expr: "CAST(CAST(a AS VARCHAR) AS DOUBLE) + 1", weight: 1, linear: [[0, 0], [40, 100]]}
  roots: {expr: "SQRT(a) + SIGN(b) * 3", weight: 1, linear: [[0, 0], [10, 100]]}
  words: {expr: "LENGTH(REPLACE(SUBSTRING(LPAD(plan, 8, '*'), 2, 5), 'l', 'LL')) + LENGTH(RPAD(TRIM(BOTH 'gd' FROM plan), 3, '-'))", weight: 1, linear: [[0, 0], [12, 100]]}
  sides: {expr: "LENGTH(TRIM(LEADING 'g' FROM plan)) - LENGTH(TRIM(TRAILING 'r' FROM plan))", weight: 1, linear: [[-2, 0], [2, 100]]}
  days: {expr: "d - CURRENT_DATE", weight: 1, linear: [[-200, 0], [200, 100]]}
  parts: {expr: "YEAR(d) - 2026 + MONTH(d) * 2 + DAY(d) + EXTRACT(QUARTER FROM d) + DATE_PART('month', d)", weight: 1, linear: [[0, 0], [80, 100]]}
  shifted: {expr: "((d - b) - d) + ((d + 30) - (CURRENT_DATE - 10)) + ((d + 2.5) - d)", weight: 1, linear: [[-300, 0], [300, 100]]}
segments:
  - name: big
    when: "a >= 20 AND NOT (plan = 'bronze')"
  - name: rest
bands: [{name: hi, from: 60}, {name: lo, from: 0}]
alerts:
  - {name: low, when: "score < 40 AND band = 'lo'", action: call}
  - {name: odd, when: "points_ratio > 50 OR definition = 'big'", action: look}
  - {name: soon, when: "d < '2026-12-31' AND d + 7 >= CURRENT_DATE", action: renew}
"""


def expression_rows() -> pl.DataFrame:
    """Zeros, negatives, halves, NULLs and every plan (and none)."""
    a = [0.0, 1.0, 2.0, 2.5, 7.5, 10.0, 10.5, 19.99, 20.0, 30.0, -4.0, None, 45.0, 3.0, 12.25, 6.0]
    b = [0.0, 3.0, None, 4.0, 0.5, -2.0, 10.0, 3.0, 0.0, 7.0, 2.0, 5.0, 9.0, 30.0, 0.25, 6.0]
    plans = ["gold", "silver", "bronze", None, "Gold", "gold", "silver", "bronze"] * 2
    flags = [True, False, None, True] * 4
    # dates 37 days apart around the run's date, one of them missing
    d = [AS_OF + dt.timedelta(days=37 * k) for k in range(-7, 9)]
    return pl.DataFrame(
        {"id": [f"e{i}" for i in range(16)], "a": a, "b": b, "plan": plans, "flag": flags,
         "d": [None, *d[1:]]}
    )  # fmt: skip


def segmented(text: str) -> str:
    """The expression scheme with its signals under each segment."""
    head, rest = text.split("signals:\n", 1)
    body, tail = rest.split("segments:\n", 1)
    inner = "".join("      " + line.strip() + "\n" for line in body.splitlines())
    tail = tail.replace(
        "    when: \"a >= 20 AND NOT (plan = 'bronze')\"\n",
        "    when: \"a >= 20 AND NOT (plan = 'bronze')\"\n    signals:\n" + inner,
    )
    return (
        head
        + "segments:\n"
        + tail.replace("  - name: rest\n", "  - name: rest\n    signals:\n" + inner)
    )


def test_every_compiled_expression_gives_the_polars_numbers_on_each_engine(sql_engine) -> None:
    scheme = parse_scheme(segmented(EXPRESSIONS))
    frame = expression_rows()
    scored, rejected = score_frame(frame, scheme, as_of=AS_OF)
    want, _ = add_alerts(scored.lazy(), scheme, AS_OF)
    target = Target("t", sql_engine.dialect, AS_OF)
    got = sql_engine.run(compile_sql(scheme, target), {"t": frame}).drop("as_of")
    assert got.height == 16 and rejected.height == 0
    assert_same_rows(got, want.collect(), "id")
    assert set(got["alerts"].to_list()) == {"", "low", "odd", "odd; soon"}
    # soon: d before 2026-12-31 and at most 7 days past: e7's, the run's date, alone
    assert got.filter(pl.col("alerts").str.contains("soon"))["id"].to_list() == ["e7"]
    # e6, 2026-11-30 - 37 days, is 37 days back: 100 * (200 - 37) / 400 = 40.75 points
    assert got.filter(pl.col("id") == "e6")["points_days"].item() == 40.75
