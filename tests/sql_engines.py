"""The SQL engines that compiled scoring SQL must agree on: DuckDB, PostgreSQL and Spark.

Each engine has `run(sql, tables)`: it loads every Polars frame of `tables` as a table of
that name (created with the name and column names exactly as given, quoted: SQL reaching a
mixed-case name must quote it, or PostgreSQL folds it to lower case), runs the one
statement `sql` written in the engine's `dialect` (a sqlglot dialect name; `in_dialect`
translates from DuckDB's), and returns the result as a Polars frame with the engine's
column names, in the engine's row order, with one dtype per kind of value (`normalised`):
every integer Int64, every float and decimal Float64, text String, Date, naive
Datetime("us") (a time zone's value converted to UTC), NULL as null. Tables live for one
call only.

conftest.py makes a session-scoped fixture of each (`duckdb_engine`, `postgres_engine`,
`spark_engine`) and `sql_engine`, parametrised over the three. PostgreSQL runs on the
server named by CHS_TEST_POSTGRES (`.ci/postgres.sh start` prints it); Spark in local mode
(it needs Java 17+). An engine that cannot run skips its tests, unless CI or
CHS_REQUIRE_ENGINES is set (.ci/run sets it): then it fails them, so that CI cannot pass
without the proof.

The drivers are imported when an engine starts: a module that imports this one pays nothing
for the engines it does not use.
"""

from __future__ import annotations

import contextlib
import itertools
import logging
import os
import shutil
import warnings
from collections.abc import Iterator, Mapping
from datetime import UTC, datetime
from decimal import Decimal
from pathlib import Path
from typing import TYPE_CHECKING, Any, NoReturn, Protocol

import polars as pl
import pytest
import sqlglot

if TYPE_CHECKING:
    import psycopg
    from pyspark.sql import SparkSession
    from pyspark.sql.types import StructType

REQUIRE_VARIABLES = ("CI", "CHS_REQUIRE_ENGINES")
POSTGRES_VARIABLE = "CHS_TEST_POSTGRES"
ENGINE_NAMES = ("duckdb", "postgres", "spark")


class Engine(Protocol):
    name: str
    dialect: str
    error: type[Exception]  # what the driver raises for a statement the engine refuses

    def run(self, sql: str, tables: Mapping[str, pl.DataFrame]) -> pl.DataFrame: ...


def engines_required() -> bool:
    """CI=1 (or true) or CHS_REQUIRE_ENGINES=1: a missing engine is a failure, not a skip."""
    return any(
        os.environ.get(v, "").strip().lower() in ("1", "true", "yes") for v in REQUIRE_VARIABLES
    )


def unavailable(reason: str) -> NoReturn:
    """Skip the tests that need this engine, or fail them when engines are required."""
    if engines_required():
        pytest.fail(f"{reason} (CI or CHS_REQUIRE_ENGINES is set: engines are required)", False)
    pytest.skip(reason)


def in_dialect(sql: str, dialect: str) -> str:
    """One statement written for DuckDB, as sqlglot writes it for `dialect`."""
    (statement,) = sqlglot.transpile(sql, read="duckdb", write=dialect)
    return statement


def quoted(name: str) -> str:
    """An identifier in double quotes (DuckDB and PostgreSQL)."""
    return '"' + name.replace('"', '""') + '"'


def normalised(frame: pl.DataFrame) -> pl.DataFrame:
    """The engine's result with one dtype per kind of value: integers of any width Int64,
    floats and decimals Float64, datetimes naive microseconds (UTC); the rest as it came."""
    columns = []
    for name, dtype in frame.schema.items():
        column = pl.col(name)
        if dtype.is_integer():
            column = column.cast(pl.Int64)
        elif dtype.is_float() or dtype.is_decimal():
            column = column.cast(pl.Float64)
        elif isinstance(dtype, pl.Datetime):
            if dtype.time_zone is not None:
                column = column.dt.convert_time_zone("UTC").dt.replace_time_zone(None)
            column = column.dt.cast_time_unit("us")
        columns.append(column)
    return frame.select(columns)


def arrow_of(frame: pl.DataFrame) -> Any:
    """The frame as a pyarrow Table of the classic types (large_string, not string_view),
    which every engine's Arrow reader knows."""
    return frame.to_arrow(compat_level=pl.CompatLevel.oldest())


# -- DuckDB: a new in-memory database per call ------------------------------------------------


class DuckDBEngine:
    name = "duckdb"
    dialect = "duckdb"

    def __init__(self) -> None:
        try:
            import duckdb
        except ImportError as error:
            unavailable(f"DuckDB is not installed ({error}): pip install -e '.[dev,bench]'")
        self._duckdb = duckdb
        self.error: type[Exception] = duckdb.Error

    def run(self, sql: str, tables: Mapping[str, pl.DataFrame]) -> pl.DataFrame:
        """Each frame copied into a real table (CREATE TABLE ... AS from its Arrow view)."""
        with self._duckdb.connect(":memory:") as con:
            con.sql("SET TimeZone = 'UTC'")
            for name, frame in tables.items():
                con.register("chs_arrow_source", arrow_of(frame))
                con.sql(f"CREATE TABLE {quoted(name)} AS SELECT * FROM chs_arrow_source")
                con.unregister("chs_arrow_source")
            relation = con.sql(sql)
            if relation is None:
                raise ValueError(f"DuckDB: the statement returned no rows: {sql}")
            return normalised(pl.from_arrow(relation.to_arrow_table()))


# -- PostgreSQL: one connection; each call in a new schema, rolled back -----------------------

# Polars dtype -> the PostgreSQL column type a frame's column is created with
POSTGRES_TYPES: dict[pl.DataType | type[pl.DataType], str] = {
    pl.Int8: "SMALLINT",
    pl.Int16: "SMALLINT",
    pl.Int32: "INTEGER",
    pl.Int64: "BIGINT",
    pl.Float32: "REAL",
    pl.Float64: "DOUBLE PRECISION",
    pl.String: "TEXT",
    pl.Boolean: "BOOLEAN",
    pl.Date: "DATE",
    pl.Datetime("us"): "TIMESTAMP",
    pl.Null: "TEXT",
}
# a result column's PostgreSQL type name -> its Polars dtype (any other: Polars infers it)
POSTGRES_RESULT_TYPES: dict[str, pl.DataType] = {
    **dict.fromkeys(("int2", "int4", "int8", "oid"), pl.Int64()),
    **dict.fromkeys(("float4", "float8", "numeric"), pl.Float64()),
    **dict.fromkeys(("text", "varchar", "bpchar", "name", "unknown"), pl.String()),
    "bool": pl.Boolean(),
    "date": pl.Date(),
    "timestamp": pl.Datetime("us"),
    "timestamptz": pl.Datetime("us"),
}


def postgres_type(column: str, dtype: pl.DataType) -> str:
    try:
        return POSTGRES_TYPES[dtype]
    except KeyError:
        raise TypeError(f"column {column!r}: no PostgreSQL type for Polars {dtype}") from None


def python_value(value: Any) -> Any:
    """A driver value as the Polars column takes it: NUMERIC as a float, a timestamptz as
    naive UTC."""
    if isinstance(value, Decimal):
        return float(value)
    if isinstance(value, datetime) and value.tzinfo is not None:
        return value.astimezone(UTC).replace(tzinfo=None)
    return value


class PostgresEngine:
    name = "postgres"
    dialect = "postgres"

    def __init__(self, url: str) -> None:
        try:
            import psycopg
        except ImportError as error:
            unavailable(f"psycopg is not installed ({error}): pip install -e '.[dev,bench]'")
        try:
            # TimeZone UTC, as the Spark session's; a transaction per call, rolled back
            self.connection: psycopg.Connection = psycopg.connect(
                url, options="-c TimeZone=UTC", connect_timeout=10
            )
        except psycopg.Error as error:
            unavailable(f"PostgreSQL at {POSTGRES_VARIABLE}={url} refused: {error}".strip())
        self._schemas = itertools.count(1)
        self.error: type[Exception] = psycopg.Error

    def close(self) -> None:
        self.connection.close()

    def run(self, sql: str, tables: Mapping[str, pl.DataFrame]) -> pl.DataFrame:
        """Tables made and the query run in a new schema, first on the search path, inside
        one transaction that is then rolled back: nothing stays, and a failed statement
        leaves the connection usable."""
        from psycopg import sql as pgsql

        schema = pgsql.Identifier(f"chs_test_{os.getpid()}_{next(self._schemas)}")
        try:
            with self.connection.cursor() as cursor:
                cursor.execute(pgsql.SQL("CREATE SCHEMA {}").format(schema))
                cursor.execute(pgsql.SQL("SET LOCAL search_path TO {}").format(schema))
                for name, frame in tables.items():
                    self._load(
                        cursor, pgsql.SQL("{}.{}").format(schema, pgsql.Identifier(name)), frame
                    )
                cursor.execute(sql.encode())  # as written: no parameters, `%` is modulo
                return self._frame(cursor)
        finally:
            self.connection.rollback()

    @staticmethod
    def _load(cursor: psycopg.Cursor, table: Any, frame: pl.DataFrame) -> None:
        """CREATE TABLE with the mapped types, then one COPY of the frame as CSV: strings
        quoted (so "" is the empty string), NULL unquoted and empty; floats written by
        Polars in their shortest form that reads back to the same double."""
        from psycopg import sql as pgsql

        columns = pgsql.SQL(", ").join(
            pgsql.SQL("{} {}").format(pgsql.Identifier(c), pgsql.SQL(postgres_type(c, t)))
            for c, t in frame.schema.items()
        )
        cursor.execute(pgsql.SQL("CREATE TABLE {} ({})").format(table, columns))
        if frame.height:
            text = frame.write_csv(include_header=False, quote_style="non_numeric")
            with cursor.copy(pgsql.SQL("COPY {} FROM STDIN (FORMAT csv)").format(table)) as copy:
                copy.write(text.encode())

    def _frame(self, cursor: psycopg.Cursor) -> pl.DataFrame:
        if cursor.description is None:
            raise ValueError("PostgreSQL: the statement returned no rows")
        names = [c.name for c in cursor.description]
        if len(set(names)) < len(names):
            raise ValueError(f"PostgreSQL: duplicate result column names {names}")
        rows = cursor.fetchall()
        series = []
        for index, column in enumerate(cursor.description):
            info = self.connection.adapters.types.get(column.type_code)
            dtype = POSTGRES_RESULT_TYPES.get(info.name if info else "")
            values = [python_value(row[index]) for row in rows]
            series.append(pl.Series(column.name, values, dtype=dtype, strict=dtype is None))
        return normalised(pl.DataFrame(series))


# -- Spark: one local session for the test session ---------------------------------------------


def spark_schema(frame: pl.DataFrame) -> StructType:
    """The frame's explicit Spark schema (naive datetimes: TimestampType, read in the
    session time zone, UTC)."""
    from pyspark.sql import types as st

    types: dict[pl.DataType | type[pl.DataType], st.DataType] = {
        pl.Int8: st.ByteType(),
        pl.Int16: st.ShortType(),
        pl.Int32: st.IntegerType(),
        pl.Int64: st.LongType(),
        pl.Float32: st.FloatType(),
        pl.Float64: st.DoubleType(),
        pl.String: st.StringType(),
        pl.Boolean: st.BooleanType(),
        pl.Date: st.DateType(),
        pl.Datetime("us"): st.TimestampType(),
        pl.Null: st.NullType(),
    }
    fields = []
    for name, dtype in frame.schema.items():
        if dtype not in types:
            raise TypeError(f"column {name!r}: no Spark type for Polars {dtype}")
        fields.append(st.StructField(name, types[dtype], nullable=True))
    return st.StructType(fields)


@contextlib.contextmanager
def output_to(path: Path) -> Iterator[None]:
    """File descriptors 1 and 2 sent to `path` for a while: the JVM started meanwhile
    inherits them and writes its log there, not into pytest's capture files."""
    saved = [os.dup(1), os.dup(2)]
    with path.open("ab") as log:
        os.dup2(log.fileno(), 1)
        os.dup2(log.fileno(), 2)
    try:
        yield
    finally:
        for fd, copy in zip((1, 2), saved, strict=True):
            os.dup2(copy, fd)
            os.close(copy)


@contextlib.contextmanager
def no_pandas_warning() -> Iterator[None]:
    """pyspark 4.3 warns that it does not fully support pandas 3 when it first looks for
    pandas; these engines load and read through Arrow, never pandas."""
    with warnings.catch_warnings():
        warnings.filterwarnings(
            "ignore", "PySpark does not yet fully support pandas", FutureWarning
        )
        yield


def start_spark(folder: Path) -> SparkSession:
    """A local[2] session, quiet (log level ERROR, the JVM's output in folder/spark.log),
    without UI, two shuffle partitions, time zone UTC, scratch files under `folder`.
    spark.sql.ansi.enabled stays at its default: true since Spark 4.0 (pyspark 4.3 here),
    so an overflow, a bad cast or a division by zero is an error, as in PostgreSQL."""
    try:
        with no_pandas_warning():
            from pyspark.sql import SparkSession
    except ImportError as error:
        unavailable(f"pyspark is not installed ({error}): pip install -e '.[dev,bench]'")
    if shutil.which("java") is None and not os.environ.get("JAVA_HOME"):
        unavailable("Spark needs Java 17 or later: no java on PATH and no JAVA_HOME")
    (folder / "log4j2.properties").write_text("rootLogger.level = error\n")
    os.environ.setdefault("SPARK_LOCAL_IP", "127.0.0.1")
    log = folder / "spark.log"
    builder = (
        SparkSession.builder.master("local[2]")
        .appName("chs-tests")
        .config("spark.ui.enabled", "false")
        .config("spark.sql.shuffle.partitions", "2")
        .config("spark.sql.session.timeZone", "UTC")
        .config("spark.driver.bindAddress", "127.0.0.1")
        .config("spark.driver.host", "127.0.0.1")
        .config("spark.local.dir", str(folder))
        .config("spark.sql.warehouse.dir", str(folder / "warehouse"))
        .config(
            "spark.driver.extraJavaOptions",
            f"-Dlog4j2.configurationFile=file:{folder / 'log4j2.properties'}",
        )
    )
    try:
        with output_to(log), no_pandas_warning():
            session = builder.getOrCreate()
    except Exception as error:
        unavailable(f"Spark did not start ({type(error).__name__}: {error}); see {log}")
    session.sparkContext.setLogLevel("ERROR")
    # pyspark logs every failed statement with the JVM's stack trace; the exception it
    # raises carries the same message
    for name in ("SQLQueryContextLogger", "DataFrameQueryContextLogger"):
        logging.getLogger(name).setLevel(logging.CRITICAL)
    return session


class SparkEngine:
    name = "spark"
    dialect = "spark"

    def __init__(self, session: SparkSession) -> None:
        from pyspark.errors import PySparkException

        self.session = session
        self.error: type[Exception] = PySparkException

    def run(self, sql: str, tables: Mapping[str, pl.DataFrame]) -> pl.DataFrame:
        """Each frame a temporary view (from Arrow, with its explicit schema), dropped after
        the query."""
        try:
            with no_pandas_warning():
                for name, frame in tables.items():
                    data = self.session.createDataFrame(arrow_of(frame), schema=spark_schema(frame))
                    data.createOrReplaceTempView(name)
                return normalised(pl.from_arrow(self.session.sql(sql).toArrow()))
        finally:
            for name in tables:
                self.session.catalog.dropTempView(name)
