"""The benchmark's scheme (bench/scheme.yaml) compiled by `chs sql` and run on DuckDB,
reading the same CSV as the hand-written query (bench/duckdb_score.py).

    python bench/duckdb_compiled.py customers.csv out.parquet

Benchmark-only: it measures the compiled query against the one written by hand.
"""

from __future__ import annotations

import sys
from pathlib import Path

import duckdb

from chs.scheme import load_scheme
from chs.sql import Target, compile_sql

SCHEME = Path(__file__).resolve().parent / "scheme.yaml"


def main(source: str, target: str) -> None:
    query = compile_sql(load_scheme(SCHEME), Target("customers", "duckdb")).rstrip().rstrip(";")
    con = duckdb.connect()
    path = source.replace("'", "''")
    con.sql(
        f"CREATE VIEW customers AS SELECT * FROM read_csv('{path}', types = {{'customer_id': 'VARCHAR'}})"
    )
    con.sql(f"COPY ({query}) TO '{target.replace(chr(39), chr(39) * 2)}' (FORMAT parquet)")


if __name__ == "__main__":
    main(sys.argv[1], sys.argv[2])
