"""The benchmark's scheme (bench/scheme.yaml) compiled by `chs sql` beforehand and run
on DuckDB, reading the same CSV as the hand-written query (bench/duckdb_score.py).

    chs sql bench/scheme.yaml --table customers -o compiled.sql     # once, not timed
    python bench/duckdb_compiled.py compiled.sql customers.csv out.parquet

Like the hand-written query, the timed run is DuckDB executing SQL text: compiling
(importing chs, sqlglot and pydantic: about 1.7 s) is done once, as a team does when
it puts the query in its warehouse. Benchmark-only.
"""

from __future__ import annotations

import sys
from pathlib import Path

import duckdb


def main(sql: str, source: str, target: str) -> None:
    query = Path(sql).read_text(encoding="utf-8").rstrip().rstrip(";")
    con = duckdb.connect()
    path = source.replace("'", "''")
    con.sql(
        f"CREATE VIEW customers AS SELECT * FROM read_csv('{path}', "
        "types = {'customer_id': 'VARCHAR'})"
    )
    con.sql(f"COPY ({query}) TO '{target.replace(chr(39), chr(39) * 2)}' (FORMAT parquet)")


if __name__ == "__main__":
    main(sys.argv[1], sys.argv[2], sys.argv[3])
