"""A scheme compiled to SQL: one SELECT that computes what `chs score` computes, for
DuckDB, PostgreSQL, Spark, BigQuery and Snowflake (chs/sql/query.py)."""

from chs.sql.query import DIALECTS, Target, carried_columns, compile_scheme, compile_sql

__all__ = ["DIALECTS", "Target", "carried_columns", "compile_scheme", "compile_sql"]
